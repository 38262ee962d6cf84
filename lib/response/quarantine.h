/*
 * quarantine: moving detected files into a root-only store, encrypted at
 * rest, and putting them back byte for byte.
 *
 * STATE_DIR/quarantine (mode 0700) holds `key` (32 random bytes, 0600, made
 * on first use) and per entry ID (16 hex digits): `ID.wq`, the content
 * encrypted with AES-256-GCM (12-byte random nonce, then the ciphertext,
 * then the 16-byte tag), and `ID.json`, what is needed to put it back:
 * original path, owner, group, mode, size, mtime, SHA-256, the rule that
 * matched, when.
 *
 * What must hold: no data is lost — the encrypted copy and its record are
 * on disk (synced) before the original is removed, and a restore writes a
 * temporary file, checks its SHA-256 against the record, then links it
 * into place without replacing anything.  The agent is root and the files
 * it handles sit in directories that other users can write, so it never
 * acts on a path twice: the directory is opened once without following
 * any symbolic link on its path (openat2 RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS, or, on kernels without openat2, one component at
 * a time with O_NOFOLLOW), and everything after that is relative to that
 * descriptor (fstatat, openat, unlinkat, renameat2).  The content is read
 * from the descriptor of the scanned file, and the name removed is checked
 * to be that file (device and inode) just before, in that directory,
 * which must also still be the one at the recorded path.  A restore goes
 * only into a directory owned by root or by the file's owner and writable
 * by no one else (a symbolic link on the way, or a directory of someone
 * else, is refused, with the reason and "--to DIR" as the way out).
 *
 * Limits that remain, by design:
 *   - Linux has no "remove this name if it is still this inode": in the
 *     instant between the last check and unlinkat(), a user who can write
 *     the directory can put another file under the name, and that name is
 *     removed instead.  It is a name in the same directory, never a path
 *     elsewhere, and one that user could remove themselves: a file of
 *     theirs, or a hard link whose data stays under its other names (in a
 *     sticky directory such as /tmp nobody can move another user's file
 *     onto the name in the first place);
 *   - the owner of the directory a file is restored into can move the
 *     temporary file away or take the name first: the restore then fails
 *     and replaces nothing.  They gain nothing they could not do there
 *     already: the file is theirs (a directory of anyone else but root is
 *     refused);
 *   - a write that lands after the last check, through a descriptor
 *     opened before, goes with the name (the writer still holds the file
 *     and its data); a write before it makes the quarantine fail and the
 *     file stay;
 *   - a file with other hard links keeps its content under those names.
 */
#ifndef WARD_RESPONSE_QUARANTINE_H
#define WARD_RESPONSE_QUARANTINE_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

#define QUARANTINE_ID_LEN 16
#define QUARANTINE_MAX_FILE ((uint64_t)4 << 30)

struct quarantine_entry {
	char id[QUARANTINE_ID_LEN + 1];
	char path[4096];
	uid_t uid;
	gid_t gid;
	mode_t mode;
	uint64_t size;
	int64_t mtime;
	char sha256[65];
	char rule[256];
	int64_t at;
};

/* A quarantine under way: stored, the original not yet removed. */
struct quarantine_op;

/*
 * First half of a quarantine: checks that path (absolute, no symbolic link
 * on it, no "." or ".." in it) names the file fd refers to (fd: an open
 * descriptor of the detected file, e.g. from fanotify, borrowed; -1 to
 * open the name itself), reads the content from that descriptor and
 * stores it encrypted with its record, synced.  The original is left
 * alone.  On success *op (owned by the caller) goes to quarantine_commit
 * or quarantine_abort.  WARD_EIO, WARD_EINVAL, WARD_ELIMIT with d saying
 * which step failed; nothing is stored then.
 */
int quarantine_begin(const char *state_dir, const char *path, int fd, const char *rule,
		     struct quarantine_op **op, struct ward_diag *d);

/*
 * Second half: removes the original if its name still refers to the stored
 * file, unchanged, in the same directory, and that directory is still the
 * one at its path.  Fills *e.  Otherwise the original is left in place,
 * the stored copy is dropped, and WARD_EIO with d saying what changed.
 * Frees op either way.
 */
int quarantine_commit(struct quarantine_op *op, struct quarantine_entry *e, struct ward_diag *d);

/* Drops the stored copy and frees op (NULL: no-op); the original stays. */
void quarantine_abort(struct quarantine_op *op);

/* quarantine_begin then quarantine_commit. */
int quarantine_file(const char *state_dir, const char *path, int fd, const char *rule,
		    struct quarantine_entry *e, struct ward_diag *d);

/*
 * Puts entry id back at its original path, or, with to_dir (absolute, no
 * symbolic link on it), under its original name in to_dir; with its owner,
 * group, mode and mtime, after checking its SHA-256; then removes the
 * entry.  Refused (WARD_EINVAL, d says why and what to do) if something
 * exists at that name, if the directory does not exist, has a symbolic
 * link on its path, is writable by its group or others, or belongs to
 * someone other than root or the file's owner.  Fills *e; on success
 * e->path is where the file now is.  The entry stays on any failure.
 */
int quarantine_restore(const char *state_dir, const char *id, const char *to_dir,
		       struct quarantine_entry *e, struct ward_diag *d);

/* Removes entry id for good. */
int quarantine_delete(const char *state_dir, const char *id, struct ward_diag *d);

/* e as a JSON object (the record's fields and "id"); a new reference. */
json_t *quarantine_entry_json(const struct quarantine_entry *e);

/* Calls fn for each entry (in no particular order). */
typedef void (*quarantine_list_fn)(void *arg, const struct quarantine_entry *e);
int quarantine_list(const char *state_dir, quarantine_list_fn fn, void *arg, struct ward_diag *d);

#endif
