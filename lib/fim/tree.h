/*
 * tree: the directories the real-time FIM watches, reached by descriptor
 * and by file handle, never by a path used twice.
 *
 * The sensor runs as root over trees where users own directories.  A path
 * checked and then used again can be changed in between by such a user
 * (a directory renamed away, a symbolic link to a directory of root's put
 * in its place), and root would then mark, walk and hash what the user
 * could not read.  So:
 *
 *   - a directory is known by its identity (struct fim_tree_id): the fsid
 *     of its filesystem and its file handle, as fanotify reports them;
 *   - the walk opens each subdirectory relative to its parent's descriptor
 *     without following a symbolic link, hands it to the caller open (to
 *     mark it), and reads it later by reopening the same identity: a
 *     directory renamed or replaced meanwhile cannot send the walk
 *     elsewhere — it goes on with the directory it found, under the path
 *     it found it at;
 *   - to open an identity the kernel needs a descriptor of its filesystem:
 *     the tree keeps, per filesystem met, the path of the first directory
 *     met there (reopened with path_open_dir and PATH_ROOT_LINKS, and
 *     accepted only if it is still on that filesystem) and a descriptor
 *     of it, kept until fim_tree_idle so that an idle sensor keeps no
 *     filesystem busy (umount);
 *   - the directories watched are a map from identity to the path they
 *     were found at, which is what events are said under.
 *
 * Not thread-safe: one thread owns a tree.
 */
#ifndef WARD_FIM_TREE_H
#define WARD_FIM_TREE_H

#include <stddef.h>

/* fsid (8 bytes), handle type and size (4 + 4), MAX_HANDLE_SZ (128) bytes. */
#define FIM_TREE_ID_MAX (16 + 128)

struct fim_tree_id {
	unsigned len; /* bytes used in b */
	unsigned char b[FIM_TREE_ID_MAX];
};

struct file_handle;
struct fim_tree;

/* The identity made of a fanotify record's fsid (8 bytes) and handle.
 * 0, or -1 when the handle is larger than any handle can be. */
int fim_tree_id_make(const void *fsid, const struct file_handle *fh, struct fim_tree_id *id);

/* The identity of the directory fd.  0, or -1 with errno (EOPNOTSUPP: its
 * filesystem has no file handles). */
int fim_tree_id_of(int fd, struct fim_tree_id *id);

/* A new, empty tree in *t (freed with fim_tree_free).  0 or WARD_ENOMEM. */
int fim_tree_new(struct fim_tree **t);

/* Closes what t keeps.  NULL is a no-op. */
void fim_tree_free(struct fim_tree *t);

/* Remembers the filesystem of id as reachable at path, where fd (borrowed)
 * is open, when t does not know it yet or cannot reach it any more. */
void fim_tree_note(struct fim_tree *t, const struct fim_tree_id *id, const char *path, int fd);

/*
 * Opens the directory id names (O_RDONLY | O_DIRECTORY | O_CLOEXEC) on a
 * filesystem t met before; the caller closes it.  -1 with errno: ENODEV
 * when the filesystem is unknown or cannot be reached, ESTALE when the
 * directory is gone, ENOTDIR when id is not a directory's.
 */
int fim_tree_open(struct fim_tree *t, const struct fim_tree_id *id);

/*
 * The same, as a descriptor that t keeps (the caller does not close it)
 * until the next call of fim_tree_dir, fim_tree_idle or fim_tree_reset:
 * events come in runs in one directory, and its reopening is then saved.
 */
int fim_tree_dir(struct fim_tree *t, const struct fim_tree_id *id);

/* Closes the descriptors kept since the last call (reopened when needed). */
void fim_tree_idle(struct fim_tree *t);

/* Forgets every directory and filesystem (what is watched changed). */
void fim_tree_reset(struct fim_tree *t);

/* Remembers that the directory id is watched, found at path (copied).
 * 1 if it is new, 0 if it was known (its path is updated), or WARD_ENOMEM. */
int fim_tree_put(struct fim_tree *t, const struct fim_tree_id *id, const char *path);

/* The path of the watched directory id, or NULL; valid until t changes. */
const char *fim_tree_path(struct fim_tree *t, const struct fim_tree_id *id);

/* Forgets the directory id.  1 if it was watched, else 0. */
int fim_tree_del(struct fim_tree *t, const struct fim_tree_id *id);

/* Forgets the directories at path and under it, each given to fn first
 * (fn may call fim_tree_open, nothing that changes t).  Returns how many. */
size_t fim_tree_del_under(struct fim_tree *t, const char *path,
			  void (*fn)(void *arg, const struct fim_tree_id *id), void *arg);

struct fim_tree_ops {
	/*
	 * A directory found, open as fd (borrowed, for the call only), at
	 * path, with its identity (NULL when its filesystem has no file
	 * handles: then it is not read).  Return 1 to have its entries read,
	 * 0 to leave it.
	 */
	int (*dir)(void *arg, int fd, const char *path, const struct fim_tree_id *id);
	/*
	 * An entry name of the directory dirfd (borrowed, for the call only),
	 * whose path is path.  Return 1 to go into it if it is a directory.
	 */
	int (*entry)(void *arg, int dirfd, const char *path, const char *name);
};

/*
 * Walks the tree of the directory fd (taken: the walk closes it) found at
 * path: ops->dir for it and for each subdirectory (opened without
 * following a symbolic link), ops->entry for each entry of a directory
 * read.  Paths longer than PATH_MAX are left out.  0, or WARD_ENOMEM (the
 * walk stopped).
 */
int fim_tree_walk(struct fim_tree *t, int fd, const char *path, const struct fim_tree_ops *ops,
		  void *arg);

#endif
