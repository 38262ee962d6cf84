/*
 * download: the fleet server's "desired" object and the answer to a bundle
 * download, judged before the agent acts on either.  See download.h.
 *
 * Must hold: a digest names a file only when it is 64 lowercase hex digits
 * (a length check let "../../x" padded to 64 characters through, and the
 * agent runs as root); a body byte is stored only inside the range the
 * agent asked for and never past the size the server announced, whatever
 * the answer's framing (chunked answers have no Content-Length for libcurl
 * to check); an answer that does not fit the request makes the part file
 * useless rather than being appended to it.  Head lines are read through
 * an rbuf, one byte at a time, with a one-byte lookahead.
 */
#include "content/download.h"
#include "content/bundle.h"
#include "util/buf.h"
#include "util/limits.h"

#include <stdio.h>
#include <string.h>

#define DERR(d, err, ...) diag_set((d), (err), "desired", 0, 0, __VA_ARGS__)

/* --- desired --------------------------------------------------------------- */

int
download_sha_ok(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0; /* also the NUL of a shorter string */
	return s[64] == '\0';
}

/* A printable excerpt of a string from the server, for a message: at most
 * 40 bytes, anything but printable ASCII shown as '?'. */
static void
excerpt(const json_t *v, char *out, size_t outlen)
{
	const char *s = json_string_value(v);
	size_t i, n = json_string_length(v), k = 0;

	for (i = 0; s != NULL && i < n && i < 40 && k + 1 < outlen; i++)
		out[k++] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\' ? s[i] : '?';
	if (s != NULL && n > 40 && k + 4 < outlen) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
}

static int
get_int(const json_t *o, const char *key, int64_t lo, int64_t hi, int64_t *out, struct ward_diag *d)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return DERR(d, WARD_EFORMAT, "\"%s\" must be an integer in %lld..%lld", key,
			    (long long)lo, (long long)hi);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

int
download_target_parse(const json_t *desired, struct download_target *t, struct ward_diag *d)
{
	const json_t *sha = json_object_get(desired, "sha256"),
		     *url = json_object_get(desired, "url");
	char ex[48];
	int64_t size = 0;
	int r = 0;

	memset(t, 0, sizeof(*t));
	diag_clear(d);
	if (!json_is_object(desired)) {
		r = DERR(d, WARD_EFORMAT, "must be a JSON object");
		goto out;
	}
	if (json_object_get(desired, "rollback_from") != NULL &&
	    (r = get_int(desired, "rollback_from", 1, BUNDLE_MAX_VERSION, &t->rollback_from, d)) !=
		0)
		goto out;
	if (json_object_get(desired, "version") == NULL)
		goto out; /* nothing offered: only a rollback, or nothing at all */
	if ((r = get_int(desired, "version", 1, BUNDLE_MAX_VERSION, &t->version, d)) != 0)
		goto out;
	/* json_string_length, not strlen: a NUL inside would cut a check short. */
	if (!json_is_string(sha) || json_string_length(sha) != 64 ||
	    !download_sha_ok(json_string_value(sha))) {
		excerpt(sha, ex, sizeof(ex));
		r = DERR(d, WARD_EFORMAT, "\"sha256\" must be 64 lowercase hex digits, not \"%s\"",
			 ex);
		goto out;
	}
	memcpy(t->sha256, json_string_value(sha), 65);
	if ((r = get_int(desired, "size", 1, (int64_t)BUNDLE_MAX_SIZE, &size, d)) != 0)
		goto out;
	t->size = (uint64_t)size;
	/* The one path the server serves bundles at: anything else (another
	 * path, "..", a query, a host) is refused, not normalised. */
	snprintf(t->url, sizeof(t->url), "%s%s", DOWNLOAD_URL_PREFIX, t->sha256);
	if (!json_is_string(url) || json_string_length(url) != strlen(t->url) ||
	    strcmp(json_string_value(url), t->url) != 0) {
		excerpt(url, ex, sizeof(ex));
		r = DERR(d, WARD_EFORMAT, "\"url\" must be \"%s<sha256>\", not \"%s\"",
			 DOWNLOAD_URL_PREFIX, ex);
		goto out;
	}
out:
	if (r != 0)
		memset(t, 0, sizeof(*t));
	return r;
}

/* --- the answer's head ------------------------------------------------------ */

/* End of line, and a byte no grammar accepts (a CR or LF inside a line). */
#define LX_END (-1)
#define LX_BAD 0x100

/* A line cursor with one byte of lookahead: c is the current byte. */
struct lx {
	struct rbuf b;
	int c;
};

static void
lx_next(struct lx *x)
{
	uint8_t v;

	if (rbuf_u8(&x->b, &v) != 0) {
		x->c = LX_END;
		return;
	}
	x->c = v;
	if (v != '\r' && v != '\n')
		return;
	/* A line end is only one at the end of the line. */
	while (rbuf_u8(&x->b, &v) == 0)
		if (v != '\r' && v != '\n') {
			x->c = LX_BAD;
			return;
		}
	x->c = LX_END;
}

static void
lx_init(struct lx *x, const void *p, size_t n)
{
	rbuf_init(&x->b, p, n);
	lx_next(x);
}

static void
lx_ows(struct lx *x)
{
	while (x->c == ' ' || x->c == '\t')
		lx_next(x);
}

/* A decimal number without sign or leading spaces; 0, or -1 if there are
 * no digits or it does not fit in 63 bits. */
static int
lx_num(struct lx *x, uint64_t *v)
{
	int digits = 0;

	*v = 0;
	while (x->c >= '0' && x->c <= '9') {
		if (*v > ((uint64_t)INT64_MAX - 9) / 10)
			return -1;
		*v = *v * 10 + (uint64_t)(x->c - '0');
		digits++;
		lx_next(x);
	}
	return digits > 0 ? 0 : -1;
}

/* Consumes the letters of word, case-insensitively; 0 if they were there. */
static int
lx_word(struct lx *x, const char *word)
{
	for (; *word != '\0'; word++) {
		if (x->c < 0 || x->c >= 0x80 || (x->c | 0x20) != *word)
			return -1;
		lx_next(x);
	}
	return 0;
}

static void
set_plan(struct download_answer *a, enum download_plan p, const char *why)
{
	a->plan = p;
	snprintf(a->why, sizeof(a->why), "%s", why);
}

void
download_answer_init(struct download_answer *a, uint64_t have, uint64_t size)
{
	memset(a, 0, sizeof(*a));
	a->have = have;
	a->size = size;
}

/* "HTTP/" version SP 3DIGIT [SP reason]: 0 and the status, or -1. */
static int
status_line(struct lx *x, int *status)
{
	int n = 0;
	uint64_t v;

	if (lx_word(x, "http/") != 0)
		return -1;
	while ((x->c >= '0' && x->c <= '9') || x->c == '.') {
		if (++n > 3)
			return -1;
		lx_next(x);
	}
	if (n == 0 || x->c != ' ')
		return -1;
	lx_next(x);
	if (!(x->c >= '1' && x->c <= '5') || lx_num(x, &v) != 0 || v < 100 || v > 599 ||
	    (x->c != ' ' && x->c != LX_END))
		return -1;
	*status = (int)v;
	return 0;
}

/* "bytes" SP first "-" last "/" total: the only form a 206 of ours has. */
static int
content_range(struct lx *x, struct download_answer *a)
{
	if (lx_word(x, "bytes") != 0 || x->c != ' ')
		return -1;
	lx_ows(x);
	if (lx_num(x, &a->first) != 0 || x->c != '-')
		return -1;
	lx_next(x);
	if (lx_num(x, &a->last) != 0 || x->c != '/')
		return -1;
	lx_next(x);
	if (lx_num(x, &a->total) != 0) /* "*" (unknown total) is no answer to us */
		return -1;
	lx_ows(x);
	return x->c == LX_END && a->first <= a->last && a->last < a->total ? 0 : -1;
}

/* A header line inside a head: Content-Range and Content-Length are
 * checked; any other header is not ours to judge. */
static void
header_line(struct lx *x, struct download_answer *a)
{
	char name[16];
	size_t n = 0;
	int range, length;

	if (x->c == ' ' || x->c == '\t') { /* obsolete folding */
		if (a->last_ours)
			a->bad = 1; /* a value we checked would go on here */
		return;
	}
	while (x->c != ':' && x->c != LX_END) {
		if (x->c <= ' ' || x->c >= 0x7f)
			n = sizeof(name); /* a control byte or space: no name of ours */
		else if (n + 1 < sizeof(name))
			name[n] = x->c >= 'A' && x->c <= 'Z' ? (char)(x->c | 0x20) : (char)x->c;
		n++;
		lx_next(x);
	}
	if (n >= sizeof(name))
		n = 0; /* too long, or odd: not one of ours */
	name[n] = '\0';
	range = strcmp(name, "content-range") == 0;
	length = strcmp(name, "content-length") == 0;
	a->last_ours = range || length;
	if (!a->last_ours)
		return;
	if (x->c != ':') { /* "Content-Length" with no colon */
		a->bad = 1;
		return;
	}
	lx_next(x);
	lx_ows(x);
	if (range) {
		if (a->nrange++ > 0 || content_range(x, a) != 0)
			a->bad = 1;
	} else {
		if (a->nlength++ > 0 || lx_num(x, &a->length) != 0)
			a->bad = 1;
		lx_ows(x);
		if (x->c != LX_END)
			a->bad = 1;
	}
}

/* The final head ended: what its status and headers mean for the part. */
static void
decide(struct download_answer *a)
{
	char why[160];

	switch (a->status) {
	case 200:
		if (a->bad)
			set_plan(a, DOWNLOAD_DISCARD, "the server's answer has a malformed header");
		else if (a->nlength > 0 && a->length != a->size) {
			snprintf(why, sizeof(why),
				 "the server's answer is %llu bytes long, not the %llu announced",
				 (unsigned long long)a->length, (unsigned long long)a->size);
			set_plan(a, DOWNLOAD_DISCARD, why);
		} else {
			set_plan(a, DOWNLOAD_RESTART, "");
		}
		break;
	case 206:
		if (a->bad || a->nrange != 1) {
			set_plan(a, DOWNLOAD_DISCARD,
				 "the server's partial answer has no valid Content-Range");
		} else if (a->first != a->have || a->last + 1 != a->size || a->total != a->size ||
			   (a->nlength > 0 && a->length != a->last - a->first + 1)) {
			snprintf(why, sizeof(why),
				 "the server answered bytes %llu-%llu/%llu to a request for "
				 "%llu-%llu/%llu",
				 (unsigned long long)a->first, (unsigned long long)a->last,
				 (unsigned long long)a->total, (unsigned long long)a->have,
				 (unsigned long long)(a->size - 1), (unsigned long long)a->size);
			set_plan(a, DOWNLOAD_DISCARD, why);
		} else {
			set_plan(a, DOWNLOAD_APPEND, "");
		}
		break;
	case 404: /* it has no such bundle (any more): the part is of no use */
	case 416: /* the part is not a prefix it can extend */
		snprintf(why, sizeof(why), "the server answered %d", a->status);
		set_plan(a, DOWNLOAD_DISCARD, why);
		break;
	default:
		snprintf(why, sizeof(why), "the server answered %d", a->status);
		set_plan(a, DOWNLOAD_KEEP, why);
		break;
	}
}

static int
blank(const void *line, size_t len)
{
	struct lx x;

	lx_init(&x, line, len);
	return x.c == LX_END;
}

int
download_answer_line(struct download_answer *a, const void *line, size_t len)
{
	struct lx x;
	int status;

	if (len > WARD_MAX_DOWNLOAD_HEAD || a->head + len > WARD_MAX_DOWNLOAD_HEAD) {
		if (a->plan == DOWNLOAD_PENDING)
			set_plan(a, DOWNLOAD_KEEP, "the server's answer head is too long");
		return WARD_ELIMIT;
	}
	a->head += len;
	if (a->plan != DOWNLOAD_PENDING)
		return 0; /* trailers after a chunked body: nothing of ours */
	if (blank(line, len)) {
		if (!a->in_head)
			a->bad = 1; /* a blank line with no status line before it */
		a->in_head = 0;
		if (a->status >= 200 || a->bad) {
			if (a->status == 0 || (a->bad && a->status != 200 && a->status != 206))
				set_plan(a, DOWNLOAD_KEEP, "the server's answer is malformed");
			else
				decide(a);
		}
		/* else an interim 1xx head: the real one follows */
		return 0;
	}
	lx_init(&x, line, len);
	if (!a->in_head) { /* a head starts with its status line */
		a->in_head = 1;
		a->nrange = a->nlength = a->last_ours = a->bad = 0;
		if (status_line(&x, &status) != 0) {
			a->status = 0;
			a->bad = 1;
		} else {
			a->status = status;
		}
		return 0;
	}
	header_line(&x, a);
	return 0;
}

/* --- the body ---------------------------------------------------------------- */

int
download_answer_body(struct download_answer *a, size_t n)
{
	/* Where the part ends: at most size (decide() accepted only a range
	 * that starts at have < size, and every store below stays in size). */
	uint64_t at = (a->plan == DOWNLOAD_APPEND ? a->have : 0) + a->body;
	char why[160];

	switch (a->plan) {
	case DOWNLOAD_APPEND:
	case DOWNLOAD_RESTART:
		/* Both bounds, so that neither rests on the other's check. */
		if ((uint64_t)n > a->size - at || at + (uint64_t)n > BUNDLE_MAX_SIZE) {
			snprintf(why, sizeof(why),
				 "the server sent more than the %llu bytes it announced",
				 (unsigned long long)a->size);
			set_plan(a, DOWNLOAD_DISCARD, why);
			return WARD_ELIMIT;
		}
		a->body += n;
		return 1;
	case DOWNLOAD_KEEP:
	case DOWNLOAD_DISCARD:
		if ((uint64_t)n > WARD_MAX_DOWNLOAD_JUNK - a->junk)
			return WARD_ELIMIT;
		a->junk += n;
		return 0;
	default:
		set_plan(a, DOWNLOAD_KEEP, "the server's answer has a body before its head");
		return WARD_EFORMAT;
	}
}

enum download_plan
download_answer_end(struct download_answer *a, int transfer_ok)
{
	uint64_t got = (a->plan == DOWNLOAD_APPEND ? a->have : 0) + a->body;
	char why[160];

	switch (a->plan) {
	case DOWNLOAD_APPEND:
	case DOWNLOAD_RESTART:
		if (got == a->size)
			return DOWNLOAD_COMPLETE;
		snprintf(why, sizeof(why), "the download %s after %llu of %llu bytes",
			 transfer_ok ? "ended" : "broke off", (unsigned long long)got,
			 (unsigned long long)a->size);
		set_plan(a, DOWNLOAD_KEEP, why);
		return DOWNLOAD_KEEP;
	case DOWNLOAD_PENDING:
		set_plan(a, DOWNLOAD_KEEP,
			 transfer_ok ? "the server's answer has no head"
				     : "the download failed before an answer");
		return DOWNLOAD_KEEP;
	default:
		return a->plan;
	}
}
