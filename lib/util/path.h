/*
 * path: opening a directory named by an absolute path so that nobody but
 * root can send the opener elsewhere.  A user who can write a directory on
 * the way could otherwise put a symbolic link in place of a component
 * between a check and a use, and make root act in a directory of root's.
 * So no symbolic link on the way is followed — or, with PATH_ROOT_LINKS,
 * only a link that root owns in a directory that only root can change
 * (root's own /bin -> usr/bin, /var/run -> /run), which nobody else can
 * plant or replace.  What is opened is a descriptor: work relative to it
 * (openat, fstatat, unlinkat), never by the path again.
 */
#ifndef WARD_UTIL_PATH_H
#define WARD_UTIL_PATH_H

#include <stddef.h>

enum path_flags {
	/* Follow symbolic links owned by root in directories owned by root
	 * that neither group nor others may write. */
	PATH_ROOT_LINKS = 1,
};

/*
 * Opens the directory at the absolute path (O_RDONLY | O_DIRECTORY |
 * O_CLOEXEC) with flags from enum path_flags.  Returns the descriptor
 * (the caller closes it), or -1 with errno: ELOOP when a symbolic link on
 * the way may not be followed (or there are too many), ENOENT, ENOTDIR,
 * EACCES, EINVAL for a relative path, ENAMETOOLONG.
 */
int path_open_dir(const char *path, unsigned flags);

/*
 * Opens the directory that holds the last component of the absolute path,
 * as path_open_dir does, and copies that component to name (namelen bytes,
 * at least NAME_MAX + 1).  The last component itself is not looked at.
 * For "/" the directory is "/" and the name ".".  Trailing slashes are
 * ignored.  Returns the descriptor or -1 with errno.
 */
int path_open_parent(const char *path, unsigned flags, char *name, size_t namelen);

#endif
