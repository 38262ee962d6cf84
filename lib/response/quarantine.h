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
 * temporary file, checks its SHA-256 against the record, then renames it
 * into place; the file removed is the file that was scanned (same device
 * and inode), not whatever the path names by then.
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

/*
 * Quarantines the file at path, which must still be the file fd refers to
 * (fd: an open descriptor of the detected file, e.g. from fanotify; -1 to
 * open path itself).  Fills *e.  WARD_EIO etc. with d saying which step
 * failed; the original is left in place on any failure.
 */
int quarantine_file(const char *state_dir, const char *path, int fd, const char *rule,
		    struct quarantine_entry *e, struct ward_diag *d);

/*
 * Puts entry id back at its original path (refused if something exists
 * there), with its owner, group, mode and mtime, after checking its
 * SHA-256; then removes the entry.
 */
int quarantine_restore(const char *state_dir, const char *id, struct quarantine_entry *e,
		       struct ward_diag *d);

/* Removes entry id for good. */
int quarantine_delete(const char *state_dir, const char *id, struct ward_diag *d);

/* e as a JSON object (the record's fields and "id"); a new reference. */
json_t *quarantine_entry_json(const struct quarantine_entry *e);

/* Calls fn for each entry (in no particular order). */
typedef void (*quarantine_list_fn)(void *arg, const struct quarantine_entry *e);
int quarantine_list(const char *state_dir, quarantine_list_fn fn, void *arg, struct ward_diag *d);

#endif
