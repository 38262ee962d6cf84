/*
 * err: error strings and diagnostics.  See err.h.
 */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
ward_strerror(int err)
{
	switch (err) {
	case WARD_OK:
		return "success";
	case WARD_ENOMEM:
		return "out of memory";
	case WARD_EINVAL:
		return "invalid argument";
	case WARD_EIO:
		return "input/output error";
	case WARD_ESYNTAX:
		return "syntax error";
	case WARD_EUNSUPPORTED:
		return "not supported";
	case WARD_ELIMIT:
		return "limit exceeded";
	case WARD_EFORMAT:
		return "malformed data";
	case WARD_EVERSION:
		return "incompatible version";
	case WARD_ECHECKSUM:
		return "checksum mismatch";
	case WARD_EVERIFY:
		return "verification failed";
	case WARD_EUNDEFINED:
		return "undefined identifier";
	case WARD_EDUPLICATE:
		return "duplicate definition";
	case WARD_ESEMANTIC:
		return "invalid expression";
	case WARD_EENGINE:
		return "pattern engine error";
	case WARD_EINTR:
		return "interrupted";
	case WARD_EPROTO:
		return "protocol violation by a peer process";
	case WARD_ETIMEDOUT:
		return "timed out";
	case WARD_ECLOSED:
		return "channel closed";
	}
	return "unknown error";
}

void
diag_clear(struct ward_diag *d)
{
	if (d == NULL)
		return;
	memset(d, 0, sizeof(*d));
}

int
diag_set(struct ward_diag *d, int err, const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;

	if (d == NULL)
		return err;
	snprintf(d->file, sizeof(d->file), "%s", file != NULL ? file : "");
	d->line = line;
	d->col = col;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return err;
}

void
diag_format(const struct ward_diag *d, char *out, size_t outlen)
{
	if (outlen == 0)
		return;
	if (d->file[0] != '\0' && d->line > 0 && d->col > 0)
		snprintf(out, outlen, "%s:%d:%d: %s", d->file, d->line, d->col, d->msg);
	else if (d->file[0] != '\0' && d->line > 0)
		snprintf(out, outlen, "%s:%d: %s", d->file, d->line, d->msg);
	else if (d->file[0] != '\0')
		snprintf(out, outlen, "%s: %s", d->file, d->msg);
	else
		snprintf(out, outlen, "%s", d->msg);
}
