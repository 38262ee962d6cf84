/*
 * ctlmsg: the messages of wardd's control socket (run_dir/control.sock),
 * an ipc channel (lib/util/ipc.h) between `ward agent` / `ward quarantine`
 * (the client) and the agent.
 *
 *   client -> agent   one request; the frame's type is the command (enum
 *                     ctlmsg_type) and every request has the same payload:
 *                     u8 flags (CTLMSG_F_*), then two strings a and b, each
 *                     a u32 length and that many bytes (no NUL, at most
 *                     CTLMSG_MAX_ARG).  Per command:
 *                       status, rollback, quarantine-list, except-list
 *                                       a and b empty, no flags
 *                       apply           a: the bundle's absolute path
 *                       scan            a: an absolute path; flag
 *                                       CTLMSG_F_QUARANTINE
 *                       quarantine-restore  a: the id; b: where to (or empty)
 *                       quarantine-delete   a: the id
 *                       except-add      a: the exception, a JSON object
 *                       except-remove   a: the id
 *   agent -> client   answer        the answer, JSON text (1 byte to the
 *                                   frame's limit)
 *                     answer-file   u64 size; beside it the answer in a
 *                                   sealed memory file (a large scan result)
 *
 * One request per connection, one answer.  The decoder reads only through
 * rbuf and checks that each command carries exactly the strings and flags
 * it takes: anything else is WARD_EPROTO, which the agent logs as an
 * attack and answers by closing the connection.
 */
#ifndef WARD_PROTO_CTLMSG_H
#define WARD_PROTO_CTLMSG_H

#include <stdint.h>

#include "util/buf.h"
#include "util/ipc.h"

enum ctlmsg_type {
	CTLMSG_STATUS = 1,
	CTLMSG_APPLY = 2,
	CTLMSG_ROLLBACK = 3,
	CTLMSG_SCAN = 4,
	CTLMSG_QUARANTINE_LIST = 5,
	CTLMSG_QUARANTINE_RESTORE = 6,
	CTLMSG_QUARANTINE_DELETE = 7,
	CTLMSG_EXCEPT_ADD = 8,
	CTLMSG_EXCEPT_REMOVE = 9,
	CTLMSG_EXCEPT_LIST = 10,
	CTLMSG_ANSWER = 64,
	CTLMSG_ANSWER_FILE = 65,
};
#define CTLMSG_REQUEST_MIN CTLMSG_STATUS
#define CTLMSG_REQUEST_MAX CTLMSG_EXCEPT_LIST

/* scan: move what is found into the quarantine. */
#define CTLMSG_F_QUARANTINE 0x01

/* The longest string a request carries: a path (PATH_MAX is 4096) or an
 * exception's JSON object, whose fields are paths, hashes and a reason. */
#define CTLMSG_MAX_ARG 8192
/* The largest answer: a scan of a whole disk lists at most 10 000 matches
 * and as many exceptions, each a path and a rule. */
#define CTLMSG_MAX_ANSWER (64u << 20)

extern const struct ipc_proto ctlmsg_to_agent;
extern const struct ipc_proto ctlmsg_to_client;

struct ctlmsg_req {
	enum ctlmsg_type type;
	uint8_t flags;
	char a[CTLMSG_MAX_ARG + 1]; /* NUL-terminated */
	char b[CTLMSG_MAX_ARG + 1];
};

/*
 * The command named cmd ("status", "quarantine-restore", ...): its type,
 * or 0 for a name that is not a command.  ctlmsg_name: the reverse, "?"
 * for a type that is not a request.
 */
enum ctlmsg_type ctlmsg_type_of(const char *cmd);
const char *ctlmsg_name(enum ctlmsg_type t);

/*
 * Appends m's payload to w (its sticky error says whether it worked);
 * the frame's type is m->type.  WARD_EINVAL (nothing appended) for a
 * request the decoder would refuse: a string too long or missing.
 */
int ctlmsg_req_encode(struct wbuf *w, const struct ctlmsg_req *m);

/*
 * Decodes a request frame ipc_recv (or ipc_frame_decode) returned: 0 with
 * *out filled, or WARD_EPROTO with d saying why (*out cleared).
 */
int ctlmsg_req_decode(const struct ipc_msg *m, struct ctlmsg_req *out, struct ward_diag *d);

/* answer-file's payload: the size, which must be its memory file's. */
void ctlmsg_answer_file_encode(struct wbuf *w, uint64_t size);
int ctlmsg_answer_file_decode(const struct ipc_msg *m, uint64_t *size, struct ward_diag *d);

#endif
