/*
 * ctlmsg: the control socket's messages.  See ctlmsg.h.
 *
 * Must hold: a request is decoded whole or not at all; its type is one of
 * the table's; each command's strings are present exactly when it takes
 * them, and flags only where defined; the tables below are the only
 * statement of what each side may receive.
 */
#include "proto/ctlmsg.h"
#include "util/limits.h"

#include <string.h>

/* Every request: u8 flags, two u32-length strings. */
#define REQ_MIN (1 + 4 + 4)
#define REQ_MAX (REQ_MIN + 2 * CTLMSG_MAX_ARG)

static const struct ipc_msgdef to_agent[] = {
    {CTLMSG_STATUS, "status", REQ_MIN, REQ_MAX, IPC_FD_NONE, 0},
    {CTLMSG_APPLY, "apply", REQ_MIN, REQ_MAX, IPC_FD_NONE, 0},
    {CTLMSG_ROLLBACK, "rollback", REQ_MIN, REQ_MAX, IPC_FD_NONE, 0},
    {CTLMSG_SCAN, "scan", REQ_MIN, REQ_MAX, IPC_FD_NONE, 0},
    {CTLMSG_QUARANTINE_LIST, "quarantine-list", REQ_MIN, REQ_MAX, IPC_FD_NONE, 0},
    {CTLMSG_QUARANTINE_RESTORE, "quarantine-restore", REQ_MIN, REQ_MAX, IPC_FD_NONE, 0},
    {CTLMSG_QUARANTINE_DELETE, "quarantine-delete", REQ_MIN, REQ_MAX, IPC_FD_NONE, 0},
    {CTLMSG_EXCEPT_ADD, "except-add", REQ_MIN, REQ_MAX, IPC_FD_NONE, 0},
    {CTLMSG_EXCEPT_REMOVE, "except-remove", REQ_MIN, REQ_MAX, IPC_FD_NONE, 0},
    {CTLMSG_EXCEPT_LIST, "except-list", REQ_MIN, REQ_MAX, IPC_FD_NONE, 0},
};

static const struct ipc_msgdef to_client[] = {
    {CTLMSG_ANSWER, "answer", 1, WARD_MAX_IPC_PAYLOAD, IPC_FD_NONE, 0},
    {CTLMSG_ANSWER_FILE, "answer-file", 8, 8, IPC_FD_MEMFD, CTLMSG_MAX_ANSWER},
};

const struct ipc_proto ctlmsg_to_agent = {"control", to_agent,
					  sizeof(to_agent) / sizeof(to_agent[0])};
const struct ipc_proto ctlmsg_to_client = {"control", to_client,
					   sizeof(to_client) / sizeof(to_client[0])};

/* What each command takes: string a (required), string b (optional),
 * which flags. */
struct shape {
	int a, b;
	uint8_t flags;
};

static int
shape_of(enum ctlmsg_type t, struct shape *s)
{
	memset(s, 0, sizeof(*s));
	switch (t) {
	case CTLMSG_STATUS:
	case CTLMSG_ROLLBACK:
	case CTLMSG_QUARANTINE_LIST:
	case CTLMSG_EXCEPT_LIST:
		return 0;
	case CTLMSG_SCAN:
		s->flags = CTLMSG_F_QUARANTINE;
		s->a = 1;
		return 0;
	case CTLMSG_QUARANTINE_RESTORE:
		s->b = 1;
		s->a = 1;
		return 0;
	case CTLMSG_APPLY:
	case CTLMSG_QUARANTINE_DELETE:
	case CTLMSG_EXCEPT_ADD:
	case CTLMSG_EXCEPT_REMOVE:
		s->a = 1;
		return 0;
	case CTLMSG_ANSWER:
	case CTLMSG_ANSWER_FILE:
		break;
	}
	return -1;
}

static const char *const names[] = {
    [CTLMSG_STATUS] = "status",
    [CTLMSG_APPLY] = "apply",
    [CTLMSG_ROLLBACK] = "rollback",
    [CTLMSG_SCAN] = "scan",
    [CTLMSG_QUARANTINE_LIST] = "quarantine-list",
    [CTLMSG_QUARANTINE_RESTORE] = "quarantine-restore",
    [CTLMSG_QUARANTINE_DELETE] = "quarantine-delete",
    [CTLMSG_EXCEPT_ADD] = "except-add",
    [CTLMSG_EXCEPT_REMOVE] = "except-remove",
    [CTLMSG_EXCEPT_LIST] = "except-list",
};

enum ctlmsg_type
ctlmsg_type_of(const char *cmd)
{
	unsigned t;

	for (t = CTLMSG_REQUEST_MIN; cmd != NULL && t <= CTLMSG_REQUEST_MAX; t++)
		if (strcmp(names[t], cmd) == 0)
			return (enum ctlmsg_type)t;
	return (enum ctlmsg_type)0;
}

const char *
ctlmsg_name(enum ctlmsg_type t)
{
	if ((unsigned)t < CTLMSG_REQUEST_MIN || (unsigned)t > CTLMSG_REQUEST_MAX)
		return "?";
	return names[t];
}

int
ctlmsg_req_encode(struct wbuf *w, const struct ctlmsg_req *m)
{
	struct shape s;
	size_t na = strnlen(m->a, sizeof(m->a)), nb = strnlen(m->b, sizeof(m->b));

	if (shape_of(m->type, &s) != 0 || na > CTLMSG_MAX_ARG || nb > CTLMSG_MAX_ARG ||
	    (s.a && na == 0) || (!s.a && na != 0) || (!s.b && nb != 0) || (m->flags & ~s.flags))
		return WARD_EINVAL;
	wbuf_u8(w, m->flags);
	wbuf_lenbytes(w, m->a, na);
	wbuf_lenbytes(w, m->b, nb);
	return 0;
}

/* One string: at most CTLMSG_MAX_ARG bytes, none NUL. */
static int
decode_str(struct rbuf *b, char *out)
{
	const uint8_t *p = NULL;
	size_t n = 0;

	if (rbuf_lenbytes(b, CTLMSG_MAX_ARG, &p, &n) != 0 || memchr(p, '\0', n) != NULL)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int
ctlmsg_req_decode(const struct ipc_msg *m, struct ctlmsg_req *out, struct ward_diag *d)
{
	struct shape s;
	struct rbuf b;
	int r = WARD_EPROTO;

	memset(out, 0, sizeof(*out));
	if (m->def == NULL || shape_of((enum ctlmsg_type)m->type, &s) != 0) {
		diag_set(d, r, "control", 0, 0, "message type %u is not a request", m->type);
		goto out;
	}
	rbuf_init(&b, m->p, m->len);
	if (rbuf_u8(&b, &out->flags) != 0 || (out->flags & ~s.flags) != 0) {
		diag_set(d, r, "control", 0, 0, "%s: flags %#x not defined for it", m->def->name,
			 out->flags);
		goto out;
	}
	if (decode_str(&b, out->a) != 0 || decode_str(&b, out->b) != 0 || rbuf_left(&b) != 0) {
		diag_set(d, r, "control", 0, 0,
			 "%s: a string not of its length, with a NUL, or bytes left over",
			 m->def->name);
		goto out;
	}
	if ((s.a && out->a[0] == '\0') || (!s.a && out->a[0] != '\0') ||
	    (!s.b && out->b[0] != '\0')) {
		diag_set(d, r, "control", 0, 0, "%s: arguments it does not take, or none",
			 m->def->name);
		goto out;
	}
	out->type = (enum ctlmsg_type)m->type;
	r = 0;
out:
	if (r != 0)
		memset(out, 0, sizeof(*out));
	return r;
}

void
ctlmsg_answer_file_encode(struct wbuf *w, uint64_t size)
{
	wbuf_u64(w, size);
}

int
ctlmsg_answer_file_decode(const struct ipc_msg *m, uint64_t *size, struct ward_diag *d)
{
	struct rbuf b;

	*size = 0;
	if (m->def == NULL || m->type != CTLMSG_ANSWER_FILE)
		return diag_set(d, WARD_EPROTO, "control", 0, 0,
				"message type %u decoded as answer-file", m->type);
	rbuf_init(&b, m->p, m->len);
	if (rbuf_u64(&b, size) != 0 || rbuf_left(&b) != 0 || *size != m->fd_size || *size == 0) {
		*size = 0;
		return diag_set(d, WARD_EPROTO, "control", 0, 0,
				"answer-file: the size does not match its memory file");
	}
	return 0;
}
