/*
 * pidlock: one wardd per state directory and per run directory.
 *
 * The supervisor takes an exclusive flock(2) on STATE_DIR/wardd.lock and
 * RUN_DIR/wardd.lock before it starts anything, holds it for its whole
 * life and writes its pid in the files for whoever finds them locked.  The
 * worker it forks shares the lock (the same open file), so a second wardd
 * cannot start while either lives; a validator, which execs, does not get
 * it (O_CLOEXEC).  The kernel drops the lock when its last holder exits,
 * kill -9 included: there is never a stale lock to clean up, and the files
 * stay in place (removing a lock file would race with the next taker).
 */
#ifndef WARD_AGENT_PIDLOCK_H
#define WARD_AGENT_PIDLOCK_H

#include <sys/types.h>

#include "util/err.h"

#define PIDLOCK_NAME "wardd.lock"

/*
 * Takes the lock on the file name (one path component) in the directory
 * dfd (borrowed; a directory checked with file_dir_open), created mode
 * 0600 if missing, never through a symbolic link, and only if it is a
 * regular file.  Returns 0 with *fd (the lock lasts until every copy of
 * the descriptor is closed; O_CLOEXEC), 1 when another process holds it
 * (then *holder is the pid written in the file, 0 when none is yet), or
 * WARD_EIO with d saying why.
 */
int pidlock_take(int dfd, const char *name, int *fd, pid_t *holder, struct ward_diag *d);

/* Writes pid in the lock file fd (replacing what it held).  0 or WARD_EIO. */
int pidlock_write(int fd, pid_t pid);

#endif
