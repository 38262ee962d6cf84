/*
 * err: libward's one error space and the diagnostic that carries context.
 *
 * Every libward function that can fail returns 0 on success or a negative
 * WARD_E* value.  Functions that read user input (rule files, compiled rule
 * sets, hash lists) also fill a struct ward_diag so that the program can say
 * FILE:LINE:COL: message.  The library never prints.
 */
#ifndef WARD_UTIL_ERR_H
#define WARD_UTIL_ERR_H

#include <stddef.h>

enum ward_err {
	WARD_OK = 0,
	WARD_ENOMEM = -1,      /* an allocation failed */
	WARD_EINVAL = -2,      /* a caller passed a bad argument */
	WARD_EIO = -3,         /* a system call failed; errno-level detail in diag */
	WARD_ESYNTAX = -4,     /* input does not follow the grammar */
	WARD_EUNSUPPORTED = -5, /* valid YARA that ward refuses (modules, ...) */
	WARD_ELIMIT = -6,      /* a named limit of limits.h was exceeded */
	WARD_EFORMAT = -7,     /* a binary format is malformed */
	WARD_EVERSION = -8,    /* built by another ward version or CPU family */
	WARD_ECHECKSUM = -9,   /* stored checksum does not match the content */
	WARD_EVERIFY = -10,    /* bytecode or data failed verification */
	WARD_EUNDEFINED = -11, /* an identifier is not defined */
	WARD_EDUPLICATE = -12, /* a name is defined twice */
	WARD_ESEMANTIC = -13,  /* well-formed but meaningless (type errors, ...) */
	WARD_EENGINE = -14,    /* the pattern engine (Vectorscan) refused */
	WARD_EINTR = -15,      /* interrupted on request */
	WARD_EPROTO = -16,     /* a peer process broke its channel's protocol (lib/util/ipc.h) */
	WARD_ETIMEDOUT = -17,  /* a peer process did not answer by the deadline */
	WARD_ECLOSED = -18,    /* the channel to a peer process is closed */
};
/* The last value of enum ward_err: a code read from a peer is in range. */
#define WARD_ELAST WARD_ECLOSED

/* Returns a static English description of err; never NULL. */
const char *ward_strerror(int err);

/*
 * Where an error happened and what it was.  file may be empty when the input
 * has no name; line and col are 1-based, 0 when unknown.
 */
struct ward_diag {
	char file[512];
	int line;
	int col;
	char msg[512];
};

/* Clears d (no-op on NULL). */
void diag_clear(struct ward_diag *d);

/*
 * Records an error in d (which may be NULL) and returns err, so callers can
 * write `r = diag_set(d, WARD_ESYNTAX, file, line, col, "...")`.
 */
int diag_set(struct ward_diag *d, int err, const char *file, int line, int col, const char *fmt,
	     ...) __attribute__((format(printf, 6, 7)));

/* Formats d as "FILE:LINE:COL: message" (omitting absent parts) into out. */
void diag_format(const struct ward_diag *d, char *out, size_t outlen);

#endif
