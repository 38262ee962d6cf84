/*
 * valmsg: the validator channel's messages.  See valmsg.h.
 *
 * Must hold: a decoder fills its struct only when the whole payload was
 * read, every value is in range and nothing is left over; the tables
 * below are the only statement of what each side may receive.
 */
#include "content/valmsg.h"
#include "content/bundle.h"
#include "util/ipcmsg.h"
#include "util/limits.h"

#include <string.h>

static const struct ipc_msgdef to_validator[] = {
    {VALMSG_REQUEST, "request", 8, 8, IPC_FD_MEMFD, BUNDLE_MAX_SIZE},
};

static const struct ipc_msgdef to_worker[] = {
    {VALMSG_OK, "answer-ok", 8, 8, IPC_FD_MEMFD, WARD_MAX_COMPILED_SIZE},
    {VALMSG_REFUSED, "answer-refused", 2 + 4, 2 + 4 + VALMSG_MAX_REASON, IPC_FD_NONE, 0},
};

const struct ipc_proto valmsg_to_validator = {"validator", to_validator,
					      IPCMSG_COUNT(to_validator)};
const struct ipc_proto valmsg_to_worker = {"validator", to_worker, IPCMSG_COUNT(to_worker)};

void
valmsg_request_encode(struct wbuf *w, const struct valmsg_request *m)
{
	wbuf_u64(w, m->size);
}

void
valmsg_ok_encode(struct wbuf *w, const struct valmsg_ok *m)
{
	wbuf_u64(w, m->size);
}

void
valmsg_refused_encode(struct wbuf *w, enum valmsg_cause cause, const char *reason)
{
	ipcmsg_refusal_encode(w, (uint16_t)cause, reason, VALMSG_MAX_REASON);
}

/* A u64 size that must be the memory file's. */
static int
decode_size(const struct ipc_msg *m, uint16_t type, uint64_t *size, struct ward_diag *d)
{
	struct rbuf b;
	int r;

	*size = 0;
	if ((r = ipcmsg_start(m, "validator", type, &b, d)) != 0)
		return r;
	if (rbuf_u64(&b, size) != 0 || rbuf_left(&b) != 0 || *size != m->fd_size) {
		*size = 0;
		return diag_set(d, WARD_EPROTO, "validator", 0, 0,
				"%s: the size does not match its memory file (%llu bytes)",
				m->def->name, (unsigned long long)m->fd_size);
	}
	return 0;
}

int
valmsg_request_decode(const struct ipc_msg *m, struct valmsg_request *out, struct ward_diag *d)
{
	return decode_size(m, VALMSG_REQUEST, &out->size, d);
}

int
valmsg_ok_decode(const struct ipc_msg *m, struct valmsg_ok *out, struct ward_diag *d)
{
	return decode_size(m, VALMSG_OK, &out->size, d);
}

int
valmsg_refused_decode(const struct ipc_msg *m, struct valmsg_refused *out, struct ward_diag *d)
{
	uint16_t cause = 0;
	int r;

	memset(out, 0, sizeof(*out));
	r = ipcmsg_refusal_decode(m, "validator", VALMSG_REFUSED, VALMSG_CAUSE_SANDBOX,
				  VALMSG_CAUSE_MAX, VALMSG_MAX_REASON, &cause, out->reason, d);
	out->cause = (enum valmsg_cause)cause;
	return r;
}

const char *
valmsg_cause_name(enum valmsg_cause c)
{
	switch (c) {
	case VALMSG_CAUSE_SANDBOX:
		return "sandbox";
	case VALMSG_CAUSE_BUNDLE:
		return "bundle";
	case VALMSG_CAUSE_COMPILE:
		return "compile";
	case VALMSG_CAUSE_TEST:
		return "test";
	case VALMSG_CAUSE_IMAGE:
		return "image";
	case VALMSG_CAUSE_MEMORY:
		return "memory";
	}
	return "?";
}
