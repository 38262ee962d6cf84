/*
 * poison: the files that crashed a scanner process (agent/scanpool.c),
 * kept so that they are not scanned again.
 *
 * A file that kills the scanner each time it is read would otherwise cost
 * a scanner per access, forever.  Each entry names the file by what makes
 * it that file's bytes: device, inode, size, modification time (ns) and
 * the SHA-256 of what could be read of it (at most POISON_HASH_MAX bytes,
 * hashed by the worker from the descriptor it holds); the path is for
 * people only.  A later scan of a file equal in all five is answered
 * without a scanner; a change to the file (its mtime, size or bytes)
 * makes it an ordinary file again.
 *
 * The list is bounded (POISON_MAX entries: the oldest goes first) and
 * kept in STATE_DIR/poison, a text file written atomically, one entry a
 * line: "DEV INO SIZE MTIME_NS SHA256 WHEN VERSION PATH" (PATH with
 * escapes for bytes outside printable ASCII, a backslash and spaces kept
 * as they are at the end of the line).  A line that does not parse is
 * skipped: the list only ever saves a scan.
 *
 * The crash rule: scanner crashes are the files' doing, and do not count
 * against the content — unless scanners crashed on at least K different
 * files with the same content version within T seconds: then the content
 * is at fault (poison_content_at_fault).
 */
#ifndef WARD_AGENT_POISON_H
#define WARD_AGENT_POISON_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define POISON_MAX 64
#define POISON_PATH_MAX 256
/* Bytes of a file hashed for its entry: enough to tell two files apart,
 * bounded so that a huge file costs the worker little. */
#define POISON_HASH_MAX (64u << 20)
#define POISON_FILE "poison"

struct poison_entry {
	uint64_t dev, ino, size;
	int64_t mtime_ns;
	char sha256[65];
	int64_t when;	 /* unix time of the crash */
	int64_t version; /* the content version the scanner had */
	char path[POISON_PATH_MAX];
};

struct poison_list {
	struct poison_entry e[POISON_MAX];
	unsigned n;
};

/* Adds e, replacing an entry of the same file (dev, ino, size, mtime,
 * sha); when full, the oldest entry goes. */
void poison_record(struct poison_list *l, const struct poison_entry *e);

/* Whether an entry has this dev/ino/size/mtime: only then is the file's
 * hash worth computing. */
int poison_maybe(const struct poison_list *l, uint64_t dev, uint64_t ino, uint64_t size,
		 int64_t mtime_ns);

/* The entry of this file, or NULL. */
const struct poison_entry *poison_find(const struct poison_list *l, uint64_t dev, uint64_t ino,
				       uint64_t size, int64_t mtime_ns, const char *sha256);

/*
 * The crash rule: 1 when entries of at least k different files were
 * recorded with content version within window_s seconds before now.
 */
int poison_content_at_fault(const struct poison_list *l, int64_t version, int64_t now,
			    unsigned window_s, unsigned k);

/* The text form of l, and back.  poison_parse skips lines that do not
 * parse and keeps the last POISON_MAX good ones. */
int poison_format(const struct poison_list *l, char **out, size_t *len);
void poison_parse(const char *p, size_t n, struct poison_list *l);

/* STATE_DIR/poison: read (a missing file is an empty list), written
 * atomically.  0 or WARD_EIO / WARD_ENOMEM with d. */
int poison_load(const char *state_dir, struct poison_list *l, struct ward_diag *d);
int poison_save(const char *state_dir, const struct poison_list *l, struct ward_diag *d);

/* The SHA-256 (hex) of the first POISON_HASH_MAX bytes of fd, read with
 * pread (the offset is left alone).  0 or WARD_EIO / WARD_ENOMEM. */
int poison_hash_fd(int fd, char sha256[65]);

#endif
