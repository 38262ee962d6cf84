/*
 * journal: the agent's append-only event journal (STATE_DIR/journal).
 *
 * Records go into segment files named by the sequence number of their
 * first record (`00000000000000000001.wjl`).  Each record is
 *
 *   u32 length | u32 CRC32C of the payload | u64 sequence | payload
 *
 * (little-endian).  Sequence numbers start at 1 and grow by one per record
 * across segments, restarts and drops, so a reader (the uplink, an output)
 * can say exactly what it has consumed.
 *
 * What must hold: a record is visible to readers only once it is complete
 * on disk per the fsync policy; on open, every complete record is kept and
 * only a torn or corrupt tail of the newest segment is cut off (the state
 * after kill -9 or power loss); when the journal outgrows its cap, the
 * oldest segment goes and the number of records lost is written as a
 * record of its own, so a drop is never silent.
 */
#ifndef WARD_EVENT_JOURNAL_H
#define WARD_EVENT_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define JOURNAL_MAX_RECORD (1u << 20) /* one record's payload, bytes */
#define JOURNAL_RECORD_HEADER 16

enum journal_fsync {
	JOURNAL_FSYNC_ALWAYS = 0,   /* fsync after every record */
	JOURNAL_FSYNC_INTERVAL = 1, /* at most every interval_ms (journal_flush) */
	JOURNAL_FSYNC_NEVER = 2,    /* leave it to the kernel */
};

struct journal_opts {
	uint64_t segment_bytes; /* roll to a new segment past this (default 4 MiB) */
	uint64_t max_bytes;	/* cap of all segments (default 256 MiB) */
	enum journal_fsync fsync;
	unsigned interval_ms; /* JOURNAL_FSYNC_INTERVAL: default 1000 */
};

struct journal_stats {
	uint64_t first_seq; /* oldest record still kept (0: none) */
	uint64_t next_seq;  /* what the next append gets */
	uint64_t bytes;	    /* on disk, all segments */
	unsigned segments;
	uint64_t dropped;   /* records dropped by the cap since the journal began */
	uint64_t recovered_bytes; /* torn tail cut off at the last open */
};

struct journal;

/* Fills o with the defaults. */
void journal_defaults(struct journal_opts *o);

/*
 * Opens (creating, mode 0700) the journal in dir, recovering from a crash:
 * the newest segment is read to its last complete record and cut there.
 */
int journal_open(const char *dir, const struct journal_opts *o, struct journal **out,
		 struct ward_diag *d);

/*
 * Appends p[0..n) (1 ≤ n ≤ JOURNAL_MAX_RECORD) and returns its sequence
 * number in *seq.  Thread-safe.
 */
int journal_append(struct journal *j, const void *p, size_t n, uint64_t *seq);

/* Makes everything appended so far durable (fsync), whatever the policy. */
int journal_flush(struct journal *j);

/*
 * Calls fn for every record with sequence >= from, in order, until fn
 * returns nonzero (then returns that value).  Records appended meanwhile
 * may or may not be seen.  A record that fails its CRC (damage after it
 * was written) is skipped and counted in *damaged (may be NULL).
 */
typedef int (*journal_read_fn)(void *arg, uint64_t seq, const uint8_t *p, size_t n);
int journal_read(struct journal *j, uint64_t from, journal_read_fn fn, void *arg,
		 uint64_t *damaged);

/*
 * Says that every record up to and including seq has been delivered
 * (acknowledged by the server): segments made only of such records are
 * deleted.
 */
int journal_ack(struct journal *j, uint64_t seq);

void journal_stats(struct journal *j, struct journal_stats *st);

void journal_close(struct journal *j);

/* CRC32C (Castagnoli) of p[0..n), as used by the records. */
uint32_t journal_crc32c(const void *p, size_t n);

#endif
