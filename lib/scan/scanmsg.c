/*
 * scanmsg: the scanner channel's messages.  See scanmsg.h.
 *
 * Must hold: a decoder fills its struct only when the whole payload was
 * read, every value is in range and nothing is left over; the tables
 * below are the only statement of what each side may receive.
 */
#include "scan/scanmsg.h"
#include "util/ipcmsg.h"

#include <stddef.h>
#include <string.h>

static const struct ipc_msgdef to_scanner[] = {
    {SCANMSG_CONTENT, "content", 8, 8, IPC_FD_MEMFD, WARD_MAX_COMPILED_SIZE},
    {SCANMSG_SCAN, "scan", 28, 28, IPC_FD_FILE, 0},
};

static const struct ipc_msgdef to_worker[] = {
    {SCANMSG_CONTENT_OK, "content-ok", 4, 4, IPC_FD_NONE, 0},
    {SCANMSG_REFUSED, "content-refused", 2 + 4, 2 + 4 + SCANMSG_MAX_REASON, IPC_FD_NONE, 0},
    {SCANMSG_VERDICT, "verdict", 8 + 1 + 2 + 2, SCANMSG_VERDICT_MAX, IPC_FD_NONE, 0},
    {SCANMSG_VERDICTS, "verdicts", SCANMSG_VERDICTS_HEAD + 2 * (8 + 1 + 2 + 2),
     SCANMSG_VERDICTS_MAX, IPC_FD_NONE, 0},
};

const struct ipc_proto scanmsg_to_scanner = {"scanner", to_scanner, IPCMSG_COUNT(to_scanner)};
const struct ipc_proto scanmsg_to_worker = {"scanner", to_worker, IPCMSG_COUNT(to_worker)};

void
scanmsg_content_encode(struct wbuf *w, const struct scanmsg_content *m)
{
	wbuf_u64(w, m->size);
}

void
scanmsg_scan_encode(struct wbuf *w, const struct scanmsg_scan *m)
{
	wbuf_u64(w, m->id);
	wbuf_u64(w, m->size);
	wbuf_u64(w, m->max_bytes);
	wbuf_u32(w, m->max_ms);
}

void
scanmsg_content_ok_encode(struct wbuf *w, const struct scanmsg_content_ok *m)
{
	wbuf_u32(w, m->nrules);
}

void
scanmsg_refused_encode(struct wbuf *w, enum scanmsg_cause cause, const char *reason)
{
	ipcmsg_refusal_encode(w, (uint16_t)cause, reason, SCANMSG_MAX_REASON);
}

void
scanmsg_verdict_encode(struct wbuf *w, const struct scanmsg_verdict *m)
{
	unsigned k, nr = 0;

	if (m->result == SCANMSG_MATCH)
		nr = m->nrules == 0		    ? 1
		     : m->nrules > SCANMSG_MAX_HITS ? SCANMSG_MAX_HITS
						    : m->nrules;
	wbuf_u64(w, m->id);
	wbuf_u8(w, (uint8_t)m->result);
	wbuf_u16(w, (uint16_t)m->error);
	wbuf_u16(w, (uint16_t)nr);
	/* a match names at least one rule, and no name is empty */
	for (k = 0; k < nr; k++)
		ipcmsg_text_put(w, m->nrules == 0 || m->rule[k][0] == '\0' ? "?" : m->rule[k],
				SCANMSG_MAX_RULE, IPCMSG_TEXT_PRINTABLE);
}

/* m is of type, else WARD_EPROTO; b reads its payload. */
static int
start(const struct ipc_msg *m, uint16_t type, struct rbuf *b, struct ward_diag *d)
{
	return ipcmsg_start(m, "scanner", type, b, d);
}

int
scanmsg_content_decode(const struct ipc_msg *m, struct scanmsg_content *out, struct ward_diag *d)
{
	struct rbuf b;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = start(m, SCANMSG_CONTENT, &b, d)) != 0)
		return r;
	if (rbuf_u64(&b, &out->size) != 0 || rbuf_left(&b) != 0 || out->size != m->fd_size ||
	    out->size == 0) {
		out->size = 0;
		return diag_set(d, WARD_EPROTO, "scanner", 0, 0,
				"content: the size does not match its memory file (%llu bytes)",
				(unsigned long long)m->fd_size);
	}
	return 0;
}

int
scanmsg_scan_decode(const struct ipc_msg *m, struct scanmsg_scan *out, struct ward_diag *d)
{
	struct rbuf b;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = start(m, SCANMSG_SCAN, &b, d)) != 0)
		return r;
	if (rbuf_u64(&b, &out->id) != 0 || rbuf_u64(&b, &out->size) != 0 ||
	    rbuf_u64(&b, &out->max_bytes) != 0 || rbuf_u32(&b, &out->max_ms) != 0 ||
	    rbuf_left(&b) != 0 || out->id == 0) {
		memset(out, 0, sizeof(*out));
		return diag_set(d, WARD_EPROTO, "scanner", 0, 0, "a scan request without an id");
	}
	return 0;
}

int
scanmsg_content_ok_decode(const struct ipc_msg *m, struct scanmsg_content_ok *out,
			  struct ward_diag *d)
{
	struct rbuf b;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = start(m, SCANMSG_CONTENT_OK, &b, d)) != 0)
		return r;
	if (rbuf_u32(&b, &out->nrules) != 0 || rbuf_left(&b) != 0) {
		out->nrules = 0;
		return diag_set(d, WARD_EPROTO, "scanner", 0, 0, "a malformed content-ok");
	}
	return 0;
}

int
scanmsg_refused_decode(const struct ipc_msg *m, struct scanmsg_refused *out, struct ward_diag *d)
{
	uint16_t cause = 0;
	int r;

	memset(out, 0, sizeof(*out));
	r = ipcmsg_refusal_decode(m, "scanner", SCANMSG_REFUSED, SCANMSG_CAUSE_IMAGE,
				  SCANMSG_CAUSE_MAX, SCANMSG_MAX_REASON, &cause, out->reason, d);
	out->cause = (enum scanmsg_cause)cause;
	return r;
}

/* Reads one verdict from b into *out (cleared first; left cleared on
 * failure).  0 or WARD_EPROTO. */
static int
verdict_read(struct rbuf *b, struct scanmsg_verdict *out, struct ward_diag *d)
{
	const uint8_t *p = NULL;
	uint64_t id = 0;
	uint16_t err = 0, nr = 0;
	uint8_t res = 0;
	size_t n = 0, i;
	unsigned k;

	memset(out, 0, offsetof(struct scanmsg_verdict, rule));
	if (rbuf_u64(b, &id) != 0 || rbuf_u8(b, &res) != 0 || rbuf_u16(b, &err) != 0 ||
	    rbuf_u16(b, &nr) != 0 || id == 0)
		return diag_set(d, WARD_EPROTO, "scanner", 0, 0, "a malformed verdict");
	/* Each result with exactly what belongs to it: an error code with an
	 * error only, rule names with a match only. */
	if (res < SCANMSG_CLEAN || res > SCANMSG_ERROR || err > SCANMSG_ERR_MAX ||
	    (res == SCANMSG_ERROR) != (err != SCANMSG_ERR_NONE) ||
	    (res == SCANMSG_MATCH) != (nr > 0) || nr > SCANMSG_MAX_HITS)
		return diag_set(d, WARD_EPROTO, "scanner", 0, 0,
				"a verdict of result %u, error %u and %u rule names", res, err, nr);
	for (k = 0; k < nr; k++) {
		if (rbuf_lenbytes(b, SCANMSG_MAX_RULE, &p, &n) != 0 || n == 0) {
			memset(out, 0, sizeof(*out));
			return diag_set(d, WARD_EPROTO, "scanner", 0, 0,
					"a verdict whose rule name %u is not of its length", k);
		}
		if ((i = ipcmsg_text_bad(p, n, IPCMSG_TEXT_PRINTABLE)) < n) {
			memset(out, 0, sizeof(*out));
			return diag_set(d, WARD_EPROTO, "scanner", 0, 0,
					"a rule name with byte %#x at %zu", p[i], i);
		}
		memcpy(out->rule[k], p, n);
		out->rule[k][n] = '\0';
	}
	out->id = id;
	out->result = (enum scanmsg_result)res;
	out->error = (enum scanmsg_error)err;
	out->nrules = nr;
	return 0;
}

int
scanmsg_verdict_decode(const struct ipc_msg *m, struct scanmsg_verdict *out, struct ward_diag *d)
{
	struct rbuf b;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = start(m, SCANMSG_VERDICT, &b, d)) != 0 || (r = verdict_read(&b, out, d)) != 0)
		return r;
	if (rbuf_left(&b) != 0) {
		memset(out, 0, sizeof(*out));
		return diag_set(d, WARD_EPROTO, "scanner", 0, 0, "bytes after a verdict");
	}
	return 0;
}

void
scanmsg_verdicts_begin(struct wbuf *w)
{
	wbuf_u32(w, 0);
}

void
scanmsg_verdicts_end(struct wbuf *w, unsigned n)
{
	wbuf_patch_u32(w, 0, n);
}

int
scanmsg_verdicts_decode(const struct ipc_msg *m, struct scanmsg_verdict *const *out, unsigned max,
			unsigned *n, struct ward_diag *d)
{
	struct rbuf b;
	uint32_t count = 0, k;
	int r;

	*n = 0;
	if ((r = start(m, SCANMSG_VERDICTS, &b, d)) != 0)
		return r;
	if (rbuf_u32(&b, &count) != 0 || count < 2 || count > SCANMSG_WINDOW || count > max)
		return diag_set(d, WARD_EPROTO, "scanner", 0, 0,
				"%u verdicts in one frame (2 to %u expected)", count,
				max < SCANMSG_WINDOW ? max : SCANMSG_WINDOW);
	for (k = 0; k < count; k++) {
		if ((r = verdict_read(&b, out[k], d)) != 0)
			break;
	}
	if (r == 0 && rbuf_left(&b) != 0)
		r = diag_set(d, WARD_EPROTO, "scanner", 0, 0, "bytes after %u verdicts", count);
	if (r != 0) {
		/* All or nothing: what was read before the fault is undone. */
		for (k = 0; k < count; k++)
			memset(out[k], 0, sizeof(*out[k]));
		return r;
	}
	*n = count;
	return 0;
}

int
scanmsg_verdict_check(const struct scanmsg_verdict *v, uint64_t want, uint64_t last,
		      struct ward_diag *d)
{
	if (v->id == want && want <= last)
		return 0;
	if (v->id > last || want > last)
		return diag_set(d, WARD_EPROTO, "scanner", 0, 0,
				"a verdict for request %llu, which was not sent (%llu to %llu in "
				"flight)",
				(unsigned long long)v->id, (unsigned long long)want,
				(unsigned long long)last);
	if (v->id < want)
		return diag_set(d, WARD_EPROTO, "scanner", 0, 0,
				"a verdict for request %llu, answered already (%llu was due)",
				(unsigned long long)v->id, (unsigned long long)want);
	return diag_set(d, WARD_EPROTO, "scanner", 0, 0,
			"a verdict for request %llu out of order (%llu was due)",
			(unsigned long long)v->id, (unsigned long long)want);
}

enum scanmsg_blame
scanmsg_blame(unsigned answered, unsigned sent)
{
	if (answered >= sent)
		return SCANMSG_BLAME_NONE;
	if (sent - answered == 1)
		return SCANMSG_BLAME_FIRST;
	return SCANMSG_BLAME_UNSURE;
}

const char *
scanmsg_error_name(enum scanmsg_error e)
{
	switch (e) {
	case SCANMSG_ERR_NONE:
		return "none";
	case SCANMSG_ERR_READ:
		return "read";
	case SCANMSG_ERR_LIMIT:
		return "limit";
	case SCANMSG_ERR_MEMORY:
		return "memory";
	case SCANMSG_ERR_NOCONTENT:
		return "no-content";
	case SCANMSG_ERR_INTERNAL:
		return "internal";
	}
	return "?";
}
