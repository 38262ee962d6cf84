/*
 * download: what an agent accepts from its fleet server about content to
 * fetch — the check-in's "desired" object, and the HTTP answer to a bundle
 * download (status line, Content-Range, Content-Length, body size).
 *
 * The fleet server is not trusted: a "desired" object is used only after
 * download_target_parse has accepted every field of it, and a download
 * answer's bytes reach the part file only while download_answer_body says
 * they fit what was asked and what was announced.  Both are pure functions
 * of their input (no I/O), so that they can be unit-tested and fuzzed; the
 * agent does the file and network work around them (agent/uplink_fetch.c).
 */
#ifndef WARD_CONTENT_DOWNLOAD_H
#define WARD_CONTENT_DOWNLOAD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* The only path a bundle is fetched from: DOWNLOAD_URL_PREFIX + sha256. */
#define DOWNLOAD_URL_PREFIX "/api/v1/bundles/"

/* A validated "desired" object. */
struct download_target {
	int64_t rollback_from; /* 0: no rollback asked */
	int64_t version;       /* 0: no content offered (and the fields below are empty) */
	uint64_t size;	       /* 1 .. BUNDLE_MAX_SIZE */
	char sha256[65];       /* exactly 64 lowercase hex digits */
	char url[sizeof(DOWNLOAD_URL_PREFIX) + 64];
};

/* 1 if s is exactly 64 lowercase hexadecimal digits (and nothing else),
 * the only form in which a digest may name a file; 0 otherwise. */
int download_sha_ok(const char *s);

/*
 * Validates a check-in's "desired" object into *t (cleared on entry):
 * "rollback_from", if present, an integer in 1..BUNDLE_MAX_VERSION;
 * "version", if present, the same, and then "sha256" (64 lowercase hex
 * digits), "size" (an integer in 1..BUNDLE_MAX_SIZE) and "url" (exactly
 * DOWNLOAD_URL_PREFIX followed by that sha256) must be there too.  Other
 * keys are ignored.  Returns 0, or WARD_EFORMAT with d naming the field
 * (quoting at most a short, printable excerpt of a bad value); *t is then
 * all zero and nothing of desired may be used.
 */
int download_target_parse(const json_t *desired, struct download_target *t, struct ward_diag *d);

/* What to do with the part file, as the answer unfolds and at its end. */
enum download_plan {
	DOWNLOAD_PENDING = 0, /* the answer's head is not complete yet */
	DOWNLOAD_APPEND,      /* a 206 for exactly the range asked: append the body */
	DOWNLOAD_RESTART,     /* a 200: the whole bundle; empty the part, then write */
	DOWNLOAD_KEEP,	      /* no use of this answer: keep the part, try again later */
	DOWNLOAD_DISCARD,     /* the part is useless (or the answer lied): remove it */
	DOWNLOAD_COMPLETE,    /* (at the end) the part holds the announced size: verify it */
};

/* The state of one download answer; fields are read-only to callers. */
struct download_answer {
	uint64_t have; /* bytes in the part file when the request was made */
	uint64_t size; /* the size the server announced */
	uint64_t head; /* bytes of head lines seen (bounded) */
	uint64_t body; /* body bytes accepted for the part (APPEND, RESTART) */
	uint64_t junk; /* body bytes of an answer not stored (bounded) */
	int status;    /* of the last status line; 0 before one */
	int in_head;   /* a status line was seen and its blank line not yet */
	int bad;       /* a malformed status line or Content-Range/-Length */
	int last_ours; /* the last header line was Content-Range/-Length */
	int nrange, nlength;
	uint64_t first, last, total; /* Content-Range: bytes first-last/total */
	uint64_t length;	     /* Content-Length */
	enum download_plan plan;
	char why[160]; /* set with DOWNLOAD_KEEP and DOWNLOAD_DISCARD */
};

/* Starts an answer to a request made with have bytes of size in the part
 * (a Range request "bytes=have-" when have > 0).  have < size. */
void download_answer_init(struct download_answer *a, uint64_t have, uint64_t size);

/*
 * One head line as libcurl's header callback gives it (status lines,
 * header lines, the blank line that ends a head, trailers; the line end
 * included or not).  When the final head ends, a->plan becomes APPEND,
 * RESTART, KEEP or DISCARD.  Returns 0, or WARD_ELIMIT when the head
 * passes WARD_MAX_DOWNLOAD_HEAD and the transfer must stop.
 */
int download_answer_line(struct download_answer *a, const void *line, size_t len);

/*
 * n body bytes arrived.  Returns 1 if they are to be written to the part
 * (plan APPEND or RESTART, and they fit), 0 if they are to be dropped (the
 * body of an answer not used, up to WARD_MAX_DOWNLOAD_JUNK bytes), or a
 * negative error when the transfer must stop: WARD_ELIMIT past the
 * announced size (the plan is then DISCARD) or past the junk bound,
 * WARD_EFORMAT for a body before a complete head (plan KEEP).
 */
int download_answer_body(struct download_answer *a, size_t n);

/*
 * The transfer ended (transfer_ok: without a transport error).  Returns
 * the final plan: COMPLETE if the part now holds exactly the announced
 * size, DISCARD, or KEEP (an error answer, or a body cut short: what was
 * written is a prefix the next request resumes from); a->why says why
 * for the last two.
 */
enum download_plan download_answer_end(struct download_answer *a, int transfer_ok);

#endif
