/*
 * valmsg: the messages between the worker and its validator child
 * (agent/validator.c) on an ipc channel (lib/util/ipc.h).
 *
 *   worker -> validator   request   u64 bundle size; beside it the bundle
 *                                   in a sealed memory file of that size
 *   validator -> worker   ok        u64 image size; beside it the compiled
 *                                   rule image in a sealed memory file
 *                         refused   u16 cause (enum valmsg_cause), then a
 *                                   u32 length and that many bytes of
 *                                   reason (no control characters)
 *
 * Each decode function reads only through rbuf, checks every value
 * against its range and that nothing is left over, and fails with
 * WARD_EPROTO (the caller treats it as an attack) — never a partial decode.
 */
#ifndef WARD_CONTENT_VALMSG_H
#define WARD_CONTENT_VALMSG_H

#include <stdint.h>

#include "util/buf.h"
#include "util/ipc.h"

enum valmsg_type {
	VALMSG_REQUEST = 1,
	VALMSG_OK = 2,
	VALMSG_REFUSED = 3,
};

/* Which step of the validator refused. */
enum valmsg_cause {
	VALMSG_CAUSE_SANDBOX = 1, /* the sandbox could not be set up */
	VALMSG_CAUSE_BUNDLE = 2,  /* the bundle does not parse */
	VALMSG_CAUSE_COMPILE = 3, /* its content does not compile */
	VALMSG_CAUSE_TEST = 4,	  /* its own tests fail */
	VALMSG_CAUSE_IMAGE = 5,	  /* the compiled content cannot be serialized */
	VALMSG_CAUSE_MEMORY = 6,  /* an allocation failed: the memory limit, not the content */
};
#define VALMSG_CAUSE_MAX VALMSG_CAUSE_MEMORY

/* Bytes of a refusal's reason: a diagnostic and its file name. */
#define VALMSG_MAX_REASON 1200

/* What the validator may receive, and what the worker may receive. */
extern const struct ipc_proto valmsg_to_validator;
extern const struct ipc_proto valmsg_to_worker;

struct valmsg_request {
	uint64_t size; /* bytes of the bundle's memory file */
};

struct valmsg_ok {
	uint64_t size; /* bytes of the image's memory file */
};

struct valmsg_refused {
	enum valmsg_cause cause;
	char reason[VALMSG_MAX_REASON + 1]; /* NUL-terminated */
};

/*
 * Encoders: append the payload to w (its sticky error says whether it
 * worked).  The refusal's reason is cut at VALMSG_MAX_REASON bytes and its
 * control characters become '?', so a reason always decodes.
 */
void valmsg_request_encode(struct wbuf *w, const struct valmsg_request *m);
void valmsg_ok_encode(struct wbuf *w, const struct valmsg_ok *m);
void valmsg_refused_encode(struct wbuf *w, enum valmsg_cause cause, const char *reason);

/*
 * Decoders of a frame ipc_recv (or ipc_frame_decode) returned: 0 with *out
 * filled, or WARD_EPROTO with d saying why (*out cleared).  For a request
 * and an ok, the size must be the memory file's (m->fd_size).
 */
int valmsg_request_decode(const struct ipc_msg *m, struct valmsg_request *out, struct ward_diag *d);
int valmsg_ok_decode(const struct ipc_msg *m, struct valmsg_ok *out, struct ward_diag *d);
int valmsg_refused_decode(const struct ipc_msg *m, struct valmsg_refused *out, struct ward_diag *d);

/* A static English name of a cause ("compile"); "?" when out of range. */
const char *valmsg_cause_name(enum valmsg_cause c);

#endif
