/*
 * scanmsg: the messages between the worker and its scanner processes
 * (agent/scanner.c) on an ipc channel (lib/util/ipc.h).
 *
 *   worker -> scanner   content    u64 image size; beside it the compiled
 *                                  rule image in a sealed memory file
 *                       scan       u64 id, u64 file size, u64 byte bound,
 *                                  u32 time bound (ms); beside it the file,
 *                                  open read-only
 *   scanner -> worker   content-ok u32 rules loaded
 *                       refused    u16 cause (enum scanmsg_cause), then a
 *                                  u32 length and that many bytes of
 *                                  reason (no control characters)
 *                       verdict    u64 id, u8 result (enum scanmsg_result),
 *                                  u16 error (enum scanmsg_error, 0 unless
 *                                  an error), u16 count of rule names (1 to
 *                                  SCANMSG_MAX_HITS for a match, else 0),
 *                                  each a u32 length and that many bytes
 *                                  (printable ASCII, 1 to WARD_MAX_SIG_NAME)
 *                       verdicts   u32 count (2 to SCANMSG_WINDOW), then
 *                                  that many verdicts' payloads, in order
 *                                  (a window's verdicts, held back and sent
 *                                  as one frame: one wake-up of the worker)
 *
 * The worker may send a scanner up to SCANMSG_WINDOW scan requests ahead of
 * their verdicts (ids one more each time, from 1 in each scanner's life);
 * the scanner answers them in order, so a verdict must carry the id of
 * the oldest request without one (scanmsg_verdict_check) — and the file a
 * scanner dies on is the first without a verdict.
 *
 * A match names every rule that matched, in the matcher's order, up to
 * SCANMSG_MAX_HITS: the worker applies exceptions per rule name, and an
 * excepted first match must not hide a second one.
 *
 * Each decode function reads only through rbuf, checks every value
 * against its range and that nothing is left over, and fails with
 * WARD_EPROTO (the caller treats it as an attack) — never a partial decode.
 */
#ifndef WARD_SCAN_SCANMSG_H
#define WARD_SCAN_SCANMSG_H

#include <stdint.h>

#include "util/buf.h"
#include "util/ipc.h"
#include "util/limits.h"

enum scanmsg_type {
	SCANMSG_CONTENT = 1,
	SCANMSG_SCAN = 2,
	SCANMSG_CONTENT_OK = 3,
	SCANMSG_REFUSED = 4,
	SCANMSG_VERDICT = 5,
	SCANMSG_VERDICTS = 6,
};

/* Why a scanner refused content. */
enum scanmsg_cause {
	SCANMSG_CAUSE_IMAGE = 1,  /* the image does not load */
	SCANMSG_CAUSE_MEMORY = 2, /* out of memory */
};
#define SCANMSG_CAUSE_MAX SCANMSG_CAUSE_MEMORY

enum scanmsg_result {
	SCANMSG_CLEAN = 1,
	SCANMSG_MATCH = 2,
	SCANMSG_ERROR = 3,
};

/* Why a scan ended without a verdict on the bytes. */
enum scanmsg_error {
	SCANMSG_ERR_NONE = 0,
	SCANMSG_ERR_READ = 1,	   /* the file could not be read */
	SCANMSG_ERR_LIMIT = 2,	   /* the byte or time bound was reached */
	SCANMSG_ERR_MEMORY = 3,	   /* out of memory */
	SCANMSG_ERR_NOCONTENT = 4, /* no content loaded yet */
	SCANMSG_ERR_INTERNAL = 5,  /* the matcher failed otherwise */
};
#define SCANMSG_ERR_MAX SCANMSG_ERR_INTERNAL

/* Bytes of a refusal's reason. */
#define SCANMSG_MAX_REASON 512
/* The longest rule name a verdict names: a hash signature's name is the
 * longest name the content has. */
#define SCANMSG_MAX_RULE WARD_MAX_SIG_NAME
/* Rule names one verdict carries: more matches on one file than this add
 * nothing to the decision (each file is blocked or quarantined once). */
#define SCANMSG_MAX_HITS 32
/* Scan requests one scanner has in hand, sent ahead of their verdicts:
 * it reads them with one system call and goes from file to file without
 * waiting for the worker (each wake-up costs more than a small file's
 * scan); its descriptor limit (agent/proctab.c) has room for them. */
#define SCANMSG_WINDOW 16
/* Payload bytes of the largest verdict, and of a verdicts frame: a
 * scanner sends what it holds before a verdict would not fit. */
#define SCANMSG_VERDICT_MAX (8 + 1 + 2 + 2 + SCANMSG_MAX_HITS * (4 + SCANMSG_MAX_RULE))
#define SCANMSG_VERDICTS_MAX WARD_MAX_IPC_PAYLOAD
/* Bytes of a verdicts payload before its first verdict: the count. */
#define SCANMSG_VERDICTS_HEAD 4

extern const struct ipc_proto scanmsg_to_scanner;
extern const struct ipc_proto scanmsg_to_worker;

struct scanmsg_content {
	uint64_t size; /* bytes of the image's memory file */
};

struct scanmsg_scan {
	uint64_t id;
	uint64_t size;	    /* the file's size when the worker looked */
	uint64_t max_bytes; /* read at most this many (0: size) */
	uint32_t max_ms;    /* give up after this long (0: no bound) */
};

struct scanmsg_content_ok {
	uint32_t nrules;
};

struct scanmsg_refused {
	enum scanmsg_cause cause;
	char reason[SCANMSG_MAX_REASON + 1]; /* NUL-terminated */
};

struct scanmsg_verdict {
	uint64_t id;
	enum scanmsg_result result;
	enum scanmsg_error error;
	unsigned nrules;				   /* a match: 1.. SCANMSG_MAX_HITS */
	char rule[SCANMSG_MAX_HITS][SCANMSG_MAX_RULE + 1]; /* NUL-terminated */
};

/*
 * Encoders: append the payload to w (its sticky error says whether it
 * worked).  A reason is cut at SCANMSG_MAX_REASON bytes and its control
 * characters become '?'; a verdict's names beyond SCANMSG_MAX_HITS are
 * left out, an empty one becomes "?"; a rule name is cut at SCANMSG_MAX_RULE bytes and
 * any byte outside printable ASCII becomes '?', so both always decode.
 */
void scanmsg_content_encode(struct wbuf *w, const struct scanmsg_content *m);
void scanmsg_scan_encode(struct wbuf *w, const struct scanmsg_scan *m);
void scanmsg_content_ok_encode(struct wbuf *w, const struct scanmsg_content_ok *m);
void scanmsg_refused_encode(struct wbuf *w, enum scanmsg_cause cause, const char *reason);
void scanmsg_verdict_encode(struct wbuf *w, const struct scanmsg_verdict *m);

/*
 * A verdicts frame in w (empty): scanmsg_verdicts_begin, then
 * scanmsg_verdict_encode for each (2 to SCANMSG_WINDOW, at most
 * SCANMSG_VERDICTS_MAX bytes in all), then scanmsg_verdicts_end with
 * their count.
 */
void scanmsg_verdicts_begin(struct wbuf *w);
void scanmsg_verdicts_end(struct wbuf *w, unsigned n);

/*
 * Decoders of a frame ipc_recv (or ipc_frame_decode) returned: 0 with *out
 * filled, or WARD_EPROTO with d saying why (*out cleared).  The content's
 * size must be its memory file's.
 */
int scanmsg_content_decode(const struct ipc_msg *m, struct scanmsg_content *out,
			   struct ward_diag *d);
int scanmsg_scan_decode(const struct ipc_msg *m, struct scanmsg_scan *out, struct ward_diag *d);
int scanmsg_content_ok_decode(const struct ipc_msg *m, struct scanmsg_content_ok *out,
			      struct ward_diag *d);
int scanmsg_refused_decode(const struct ipc_msg *m, struct scanmsg_refused *out,
			   struct ward_diag *d);
int scanmsg_verdict_decode(const struct ipc_msg *m, struct scanmsg_verdict *out,
			   struct ward_diag *d);
/*
 * A verdicts frame into *out[0..*n), in order, for a worker that awaits
 * at most max: all of them or none (WARD_EPROTO, each *out[i] cleared; a
 * count above max is refused).  A verdict's rule names beyond its nrules
 * are left as they were.
 */
int scanmsg_verdicts_decode(const struct ipc_msg *m, struct scanmsg_verdict *const *out,
			    unsigned max, unsigned *n, struct ward_diag *d);

/*
 * Whether verdict v answers want, the oldest of the requests want..last
 * sent and not yet answered: a scanner answers in order, so any other id
 * (one never sent, one answered already, a later one) breaks the
 * protocol.  0, or WARD_EPROTO with d saying which (the caller closes the
 * channel and logs an attack).
 */
int scanmsg_verdict_check(const struct scanmsg_verdict *v, uint64_t want, uint64_t last,
			  struct ward_diag *d);

/* Who is to blame when a scanner's window ends early (scanmsg_blame). */
enum scanmsg_blame {
	SCANMSG_BLAME_NONE = 0,	  /* every file sent has its verdict */
	SCANMSG_BLAME_FIRST = 1,  /* the first file without a verdict */
	SCANMSG_BLAME_UNSURE = 2, /* any of the files without one: each again alone */
};

/*
 * Whom a scanner's end blames: of sent requests, answered had their
 * verdicts before the scanner died, hung or broke the protocol.  A
 * scanner holds verdicts back (agent/scanner.c), so an end with several
 * files in hand names none of them — a breach neither: the file that took
 * the scanner over may be any of them, and the frame it sends first says
 * nothing of which (blaming the oldest would let one hostile file have
 * its innocent neighbours recorded as poison, one per retry, until the
 * crash guard counts them against the content).
 */
enum scanmsg_blame scanmsg_blame(unsigned answered, unsigned sent);

/* A static English name of an error ("read"); "?" when out of range. */
const char *scanmsg_error_name(enum scanmsg_error e);

#endif
