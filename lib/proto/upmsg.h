/*
 * upmsg: the messages between wardd's root worker and its uplink process
 * (agent/uplink_net.c), which speaks TLS, HTTP and JSON with the fleet
 * server as an unprivileged user, on ipc channels (lib/util/ipc.h).
 *
 * The worker asks; the uplink makes one call to the server per request
 * and answers with one typed message: what the server's JSON said,
 * already checked by the uplink (checkin_answer_check, the enrollment
 * answer's formats) and checked again here, field by field, by the
 * worker's decoders — a subverted uplink can send nothing the server
 * could not have, and never bytes the worker would parse as JSON: even
 * the fleet's exception list arrives parsed (except_fleet_parse in the
 * uplink) and compiled (except_list_encode), and is decoded as strictly
 * as content's exceptions are (except_list_decode).
 *
 *   worker -> uplink  setup     text server URL; beside it the CA
 *                               certificates (PEM) in a sealed memory
 *                               file, empty for the system's store
 *                     enroll    beside it the request's JSON
 *                     checkin   text credential; beside it the report
 *                     events    text credential; beside it the batch
 *                     fetch     text credential, i64 version, u64 size,
 *                               64 bytes SHA-256 (lowercase hex); beside
 *                               it the part file to download into (the
 *                               worker's, open read-write)
 *   uplink -> worker  failed    u16 HTTP status (0: not reached, else
 *                               300..599: never a success), text error
 *                               (printable ASCII)
 *                     enrolled  u16 HTTP status (200, or 202: waits for
 *                               approval), 32 bytes agent id and 64 bytes
 *                               secret (lowercase hex), text how
 *                               (printable)
 *                     answer    i64 next check-in (s), i64 events acked,
 *                               i64 check-in interval, i64 batch max,
 *                               u8 desired state, i64 rollback from,
 *                               i64 version, u64 size, 64 bytes SHA-256
 *                               (hex, or zeros with no version), text why
 *                               the desired content was refused (printable
 *                               ASCII); beside
 *                               it the fleet's exceptions as the
 *                               uplink read them (upmsg_exceptions) in a
 *                               sealed memory file, empty when none came
 *                     acked     i64 the last event the server holds
 *                     bundle    u64 size, 64 bytes SHA-256; beside it the
 *                               bundle in a sealed memory file
 *
 * Text is a u32 length and its bytes.  Each decoder reads only through
 * rbuf, checks every value against the range the fleet protocol gives it
 * (lib/proto/checkin.h, lib/content/download.h) and that nothing is left
 * over, and fails with WARD_EPROTO — never a partial decode.
 */
#ifndef WARD_PROTO_UPMSG_H
#define WARD_PROTO_UPMSG_H

#include <stdint.h>

#include "content/download.h"
#include "scan/except.h"
#include "proto/checkin.h"
#include "util/buf.h"
#include "util/ipc.h"
#include "util/limits.h"

enum upmsg_type {
	UPMSG_SETUP = 1,
	UPMSG_ENROLL = 2,
	UPMSG_CHECKIN = 3,
	UPMSG_EVENTS = 4,
	UPMSG_FETCH = 5,
	UPMSG_FAILED = 10,
	UPMSG_ENROLLED = 11,
	UPMSG_ANSWER = 12,
	UPMSG_ACKED = 13,
	UPMSG_BUNDLE = 14,
};

#define UPMSG_MAX_URL 1024	  /* server.url */
#define UPMSG_MAX_CA (1u << 20)	  /* PEM certificates */
#define UPMSG_MAX_CRED 128	  /* "AGENT_ID:SECRET" */
#define UPMSG_MAX_BODY (8u << 20) /* a request's JSON (an events batch: 4 MiB) */
#define UPMSG_MAX_ERROR 600	  /* why a call failed */
#define UPMSG_MAX_HOW 32	  /* how the server enrolled the agent */
/* The fleet's exceptions beside an answer: never more than the answer
 * they came in (an uplink takes answers of at most this size). */
#define UPMSG_MAX_EXCEPTIONS (4u << 20)
#define UPMSG_ID_LEN 32	    /* agent ids: hex */
#define UPMSG_SECRET_LEN 64 /* agent secrets: hex */

extern const struct ipc_proto upmsg_to_uplink;
extern const struct ipc_proto upmsg_to_worker;

struct upmsg_setup {
	char url[UPMSG_MAX_URL + 1];
};

/* checkin, events, fetch: who calls. */
struct upmsg_call {
	char cred[UPMSG_MAX_CRED + 1];
	struct download_target target; /* fetch only (the url made from sha256) */
};

struct upmsg_failed {
	unsigned status; /* 0: the server was not reached; else 300..599 */
	char error[UPMSG_MAX_ERROR + 1];
};

struct upmsg_enrolled {
	unsigned status; /* 200, or 202: waiting for an operator's approval */
	char agent_id[UPMSG_ID_LEN + 1];
	char secret[UPMSG_SECRET_LEN + 1];
	char how[UPMSG_MAX_HOW + 1];
};

/* The fleet's exceptions of an answer, as the uplink read them
 * (except_fleet_parse), in the memory file beside it: nothing when none
 * came; else u8 state, i64 revision (-1: none could be read), then the
 * list in its compiled form (except_list_encode) or the refusal's reason
 * (text, printable). */
enum upmsg_exc_state {
	UPMSG_EXC_NONE = 0,
	UPMSG_EXC_LIST = 1,
	UPMSG_EXC_REFUSED = 2,
};
#define UPMSG_MAX_REASON 512

struct upmsg_exceptions {
	enum upmsg_exc_state state;
	int64_t revision;		   /* -1 .. EXCEPT_MAX_REVISION */
	struct except_list list;	   /* UPMSG_EXC_LIST; owned */
	char reason[UPMSG_MAX_REASON + 1]; /* UPMSG_EXC_REFUSED */
};

struct upmsg_bundle {
	uint64_t size;
	char sha256[65];
};

/* 1 if status may be a failure's: 0, or 300..599. */
int upmsg_failure_status(unsigned status);

/* Encoders: append the payload to w.  Text is cut at its maximum and any
 * byte outside its alphabet becomes '?', so that it always decodes. */
void upmsg_setup_encode(struct wbuf *w, const struct upmsg_setup *m);
void upmsg_call_encode(struct wbuf *w, enum upmsg_type type, const struct upmsg_call *m);
void upmsg_failed_encode(struct wbuf *w, const struct upmsg_failed *m);
void upmsg_enrolled_encode(struct wbuf *w, const struct upmsg_enrolled *m);
/* The answer's fields but its exceptions (they go beside it). */
void upmsg_answer_encode(struct wbuf *w, const struct checkin_answer *a);
void upmsg_acked_encode(struct wbuf *w, int64_t acked);
void upmsg_bundle_encode(struct wbuf *w, const struct upmsg_bundle *m);
/* The exceptions' memory file (nothing for UPMSG_EXC_NONE). */
void upmsg_exceptions_encode(struct wbuf *w, const struct upmsg_exceptions *e);

/*
 * Decoders: 0 with *out filled, or WARD_EPROTO with d saying why and *out
 * all zero.  upmsg_call_decode takes checkin, events and fetch (type says
 * which it was); a fetch's target passes the checks of
 * download_target_parse (url made from sha256).  upmsg_answer_decode
 * fills a's fields but exceptions (NULL): the caller reads the memory
 * file beside it.
 */
int upmsg_setup_decode(const struct ipc_msg *m, struct upmsg_setup *out, struct ward_diag *d);
int upmsg_call_decode(const struct ipc_msg *m, struct upmsg_call *out, struct ward_diag *d);
int upmsg_failed_decode(const struct ipc_msg *m, struct upmsg_failed *out, struct ward_diag *d);
int upmsg_enrolled_decode(const struct ipc_msg *m, struct upmsg_enrolled *out, struct ward_diag *d);
int upmsg_answer_decode(const struct ipc_msg *m, struct checkin_answer *a, struct ward_diag *d);
int upmsg_acked_decode(const struct ipc_msg *m, int64_t *acked, struct ward_diag *d);
int upmsg_bundle_decode(const struct ipc_msg *m, struct upmsg_bundle *out, struct ward_diag *d);

/*
 * The exceptions' memory file p[0..n) into *out (cleared on entry; n 0 is
 * none): the list read by except_list_decode (every entry checked as its
 * JSON would be), a revision in range, a reason of printable ASCII, no
 * byte left over.  0, or WARD_EPROTO with d saying why and *out empty.
 * upmsg_exceptions_free frees what it holds.
 */
int upmsg_exceptions_decode(const uint8_t *p, size_t n, struct upmsg_exceptions *out,
			    struct ward_diag *d);
void upmsg_exceptions_free(struct upmsg_exceptions *e);

#endif
