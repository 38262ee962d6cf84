/*
 * container: scans a file and, when it is an archive or a compressed
 * stream, every member inside it, recursively, with libarchive.
 *
 * Formats: zip (zip64, encrypted entries reported), tar, cpio, ar (and
 * .deb), rpm, 7z, cab, iso9660, rar (4 and 5, as far as libarchive reads
 * them), and single streams of gzip, bzip2, xz, lzma, zstd, lz4 and
 * compress (.Z).  A cheap look at the first bytes (and at "ustar" at 257,
 * "CD001" at 32769) decides whether libarchive is asked at all, so that
 * ordinary files cost one small read more.
 *
 * Each member is extracted into a memory file (memfd, never a disk file),
 * counted against struct container_limits as its bytes come, then scanned
 * with matcher_scan_fd as a file of its own (hash signatures, modules and
 * conditions see it whole), then walked in turn when it is a container.
 * A limit reached, an encrypted member or a damaged container is reported
 * through container_note_fn as a typed value with the member chain; the
 * walk never fails because of what a container holds.
 */
#ifndef WARD_SCAN_CONTAINER_H
#define WARD_SCAN_CONTAINER_H

#include <locale.h>
#include <signal.h>
#include <stdint.h>

#include "scan/matcher.h"

/* What stopped or skipped part of a container; each has a fixed word. */
enum container_note {
	CONTAINER_TOTAL,     /* bytes extracted from the file on disk: walk ends */
	CONTAINER_MEMBER,    /* one member larger than allowed: member not scanned */
	CONTAINER_FILES,     /* members of the file on disk: walk ends */
	CONTAINER_RATIO,     /* extracted / read of one container: walk ends */
	CONTAINER_DEPTH,     /* a container deeper than allowed: not opened */
	CONTAINER_TIME,	     /* time for the file on disk: walk ends */
	CONTAINER_MEMORY,    /* the decompressor could not have its memory: container ends */
	CONTAINER_ENCRYPTED, /* an encrypted member (or archive): not scanned */
	CONTAINER_DAMAGED,   /* a container that cannot be read further: container ends */
	CONTAINER_NOTE_COUNT
};
/* The first CONTAINER_NLIMITS notes are limits; the rest are not. */
#define CONTAINER_NLIMITS (CONTAINER_MEMORY + 1)

/* A fixed lower-case word for n ("total", "member", ..., "damaged"); static. */
const char *container_note_word(enum container_note n);
/* clamscan's name for n's heuristic: "Heuristics.Limits.Exceeded.MaxScanSize",
 * ..., for CONTAINER_ENCRYPTED "Heuristics.Encrypted.<format>" with format
 * as container_note_fn has it; NULL for CONTAINER_DAMAGED.  Static. */
const char *container_note_heuristic(enum container_note n, const char *format);

struct container_limits {
	uint64_t total;	  /* bytes extracted per file on disk */
	uint64_t member;  /* bytes of one member */
	unsigned files;	  /* members per file on disk */
	unsigned ratio;	  /* extracted / read per container (past WARD_CONTAINER_RATIO_FLOOR;
			   * 0: none) */
	unsigned depth;	  /* nesting: containers at depth >= depth are not opened (<=
			   * WARD_CONTAINER_MAX_DEPTH) */
	unsigned time_ms; /* per file on disk */
};

/* `ward scan`'s defaults and the agent's (lib/util/limits.h). */
void container_limits_scan(struct container_limits *l);
void container_limits_agent(struct container_limits *l);

/*
 * Where in a walk: chain[0..n-1] are the member names from the file on
 * disk down (n == 0: the file itself); borrowed for the call.
 */
struct container_where {
	const char *const *chain;
	unsigned n;
};

/* A match in the file (where->n == 0) or in a member; as matcher_report_fn. */
typedef int (*container_report_fn)(void *arg, const struct matcher_scratch *s, uint32_t rule,
				   const char *hash_name, const struct container_where *where);
/* A note: where names the member (or the container, for a container-wide
 * note); format is libarchive's short name of the container ("Zip", "7z",
 * "RAR", "TAR", ...; static). */
typedef void (*container_note_fn)(void *arg, enum container_note n,
				  const struct container_where *where, const char *format);
/* Called before a member is scanned: fd is its memory file of size bytes
 * (borrowed for the call), for the caller to set the member's externals
 * with matcher_scratch_externals.  May be NULL. */
typedef void (*container_member_fn)(void *arg, const struct container_where *where, int fd,
				    uint64_t size);

struct container_opts {
	const struct container_limits *limits; /* borrowed; NULL: container_limits_scan's */
	int archives;			       /* 0: scan the file alone, as matcher_scan_fd */
	const char *name;		       /* the file's own name, for the single
						* member of a compressed stream (may be NULL) */
	container_report_fn report;
	container_note_fn note; /* may be NULL */
	container_member_fn member;
	void *arg;
	const volatile sig_atomic_t *cancel; /* may be NULL */
	/* The locale the walk's thread uses while libarchive decodes member
	 * names (uselocale), or (locale_t)0 for the thread's own: a UTF-8 one
	 * (container_locale) keeps names outside ASCII, which the C locale
	 * cannot hold. */
	locale_t locale;
};

/* A UTF-8 LC_CTYPE locale for container_opts.locale, or (locale_t)0 when
 * the system has none; made before a sandbox forbids reading its files.
 * Lives until freelocale (a program keeps it to its end). */
locale_t container_locale(void);

/*
 * Scans the open file fd of size bytes with m and s, then its members.
 * Returns what matcher_scan_fd returned for the file itself (0, WARD_EIO,
 * WARD_EINTR, ...), else WARD_EINTR when *cancel was set during the walk,
 * WARD_ENOMEM or WARD_EIO (no memory file could be made) — never an error
 * for what the members hold.  fd's offset is not used.
 */
int container_scan_fd(const struct matcher *m, struct matcher_scratch *s, int fd, uint64_t size,
		      const struct container_opts *o);

/* Whether the n bytes head (the file's first bytes) and tail (5 bytes at
 * 32769, or NULL) look like a container libarchive is asked about. */
int container_sniff(const uint8_t *head, size_t n, const uint8_t *iso);

#endif
