/*
 * walkmsg: the messages between the two parts of `ward scan` run as root
 * (cli/scan_priv.c, cli/scan_child.c) on an ipc channel (lib/util/ipc.h):
 * the walker, root, hands each file it opened to the sandboxed scanner,
 * which reports it and acknowledges it.
 *
 *   walker -> scanner  file   u64 id, u32 depth, path (u32 length, 1 to
 *                             WALKMSG_MAX_PATH bytes, no NUL), owner (u32
 *                             length, 0 to WALKMSG_MAX_OWNER bytes, no NUL;
 *                             empty: the rules do not read it); beside it
 *                             the file, open read-only
 *                      note   u64 id, u32 depth, path, then a message (u32
 *                             length, 1 to WALKMSG_MAX_NOTE bytes, no
 *                             control characters): an error to report for
 *                             path (the walk's, or the scanner's death)
 *                      end    u8 stopped (0 or 1), u32 the walk's error (0,
 *                             or a WARD_E* value negated), then
 *                             WALKMSG_NSKIP u64 counts of what the walk
 *                             skipped, by kind (in cli/output.h's order)
 *   scanner -> walker  ready  nothing: the scanner is confined, and takes
 *                             files (what it held before cannot be blamed
 *                             on a file)
 *                      done   u32 count (1 to WALKMSG_MAX_DONE), then as
 *                             many records: u64 id, u8 outcome (enum
 *                             walkmsg_outcome), u32 matches reported, u64
 *                             bytes scanned (0 unless scanned)
 *                      stop   nothing: the scanner was told to stop (a
 *                             signal), and the walker should stop too
 *
 * Ids are the walker's (nonzero, one per file or note); the scanner
 * acknowledges each, in any order, once what it reports for it is
 * written, so the walker knows which files a scanner that died held, and
 * what the ones it finished counted.  The walker reads nothing else from
 * the sandboxed side: a done frame is of exact size for its count, and
 * each record is checked by the walker against the ids it sent.
 *
 * Each decode function reads only through rbuf, checks every value
 * against its range and that nothing is left over, and fails with
 * WARD_EPROTO (the caller treats it as an attack) — never a partial
 * decode.
 */
#ifndef WARD_SCAN_WALKMSG_H
#define WARD_SCAN_WALKMSG_H

#include <stdint.h>

#include "scan/filevars.h"
#include "util/buf.h"
#include "util/ipc.h"
#include "util/limits.h"

enum walkmsg_type {
	WALKMSG_FILE = 1,
	WALKMSG_NOTE = 2,
	WALKMSG_END = 3,
	WALKMSG_DONE = 4,
	WALKMSG_STOP = 5,
	WALKMSG_READY = 6,
};

/* What became of one file or note, as the summary counts it. */
enum walkmsg_outcome {
	WALKMSG_SCANNED = 1,	    /* scanned (matches says how many reported) */
	WALKMSG_SKIP_SPECIAL = 2,   /* not a regular file once opened */
	WALKMSG_SKIP_TOO_LARGE = 3, /* larger than --max-filesize once opened */
	WALKMSG_ERROR = 4,	    /* could not be read: reported as an error */
	WALKMSG_STOPPED = 5,	    /* not scanned: the scan was stopped */
	WALKMSG_NOTED = 6,	    /* a note, reported as an error */
};
#define WALKMSG_OUTCOME_MAX WALKMSG_NOTED

/* Kinds of what the walk skipped (cli/output.h's enum out_skip). */
#define WALKMSG_NSKIP 8
/* Bytes of a path: a frame holds it whole (a walk can go deeper: such a
 * path is reported, cut, in a note). */
#define WALKMSG_MAX_PATH (60u * 1024)
/* Bytes of an owner's name, as filevars keeps it. */
#define WALKMSG_MAX_OWNER (FILEVARS_OWNER_MAX - 1)
/* Bytes of a note's message. */
#define WALKMSG_MAX_NOTE 1024
/* Records of one done frame: a scanner acknowledges in batches. */
#define WALKMSG_MAX_DONE 16
/* Bytes of one done record. */
#define WALKMSG_DONE_RECORD (8 + 1 + 4 + 8)

extern const struct ipc_proto walkmsg_to_scanner;
extern const struct ipc_proto walkmsg_to_walker;

/* A file (its descriptor beside the frame). */
struct walkmsg_file {
	uint64_t id;
	uint32_t depth;			   /* 0: a PATH given */
	char *path;			   /* NUL-terminated; ward_malloc'd, the caller's */
	char owner[WALKMSG_MAX_OWNER + 1]; /* "" when not sent */
};

struct walkmsg_note {
	uint64_t id;
	uint32_t depth;
	char *path; /* NUL-terminated; ward_malloc'd, the caller's */
	char msg[WALKMSG_MAX_NOTE + 1];
};

struct walkmsg_end {
	int stopped;
	int error; /* 0 or a WARD_E* value */
	uint64_t skipped[WALKMSG_NSKIP];
};

struct walkmsg_done_rec {
	uint64_t id;
	enum walkmsg_outcome outcome;
	uint32_t matches;
	uint64_t bytes;
};

struct walkmsg_done {
	unsigned n; /* 1 .. WALKMSG_MAX_DONE */
	struct walkmsg_done_rec rec[WALKMSG_MAX_DONE];
};

/*
 * Encoders: append the payload to w (its sticky error says whether it
 * worked).  A path longer than WALKMSG_MAX_PATH, an owner longer than
 * WALKMSG_MAX_OWNER, a note longer than WALKMSG_MAX_NOTE is cut (the
 * walker sends a longer path in a note, cut: walkmsg_path_fits), and a
 * note's control characters become '?', so that what is encoded always
 * decodes; an empty path or note goes as "?".
 */
void walkmsg_file_encode(struct wbuf *w, uint64_t id, uint32_t depth, const char *path,
			 const char *owner);
void walkmsg_note_encode(struct wbuf *w, uint64_t id, uint32_t depth, const char *path,
			 const char *msg);
void walkmsg_end_encode(struct wbuf *w, const struct walkmsg_end *m);
void walkmsg_done_encode(struct wbuf *w, const struct walkmsg_done *m);

/* Whether path goes whole in a file frame. */
int walkmsg_path_fits(const char *path);

/*
 * Decoders of a frame ipc_recv (or ipc_frame_decode) returned: 0 with *out
 * filled, WARD_EPROTO with d saying why, or WARD_ENOMEM (a path not
 * copied); *out cleared on failure (no path left to free).
 */
int walkmsg_file_decode(const struct ipc_msg *m, struct walkmsg_file *out, struct ward_diag *d);
int walkmsg_note_decode(const struct ipc_msg *m, struct walkmsg_note *out, struct ward_diag *d);
int walkmsg_end_decode(const struct ipc_msg *m, struct walkmsg_end *out, struct ward_diag *d);
int walkmsg_done_decode(const struct ipc_msg *m, struct walkmsg_done *out, struct ward_diag *d);
/* A frame without payload (WALKMSG_STOP, WALKMSG_READY) of type: 0 or
 * WARD_EPROTO. */
int walkmsg_empty_decode(const struct ipc_msg *m, enum walkmsg_type type, struct ward_diag *d);

#endif
