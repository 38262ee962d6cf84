/*
 * poison: the list of files that crashed a scanner.  See poison.h.
 *
 * Must hold: the list never holds more than POISON_MAX entries; a line of
 * the file is taken only whole and in range; a path is written so that it
 * reads back the same and cannot break a line.
 */
#include "agent/poison.h"
#include "crypto/digest.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/file.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
same_file(const struct poison_entry *a, uint64_t dev, uint64_t ino, uint64_t size, int64_t mtime_ns)
{
	return a->dev == dev && a->ino == ino && a->size == size && a->mtime_ns == mtime_ns;
}

void
poison_record(struct poison_list *l, const struct poison_entry *e)
{
	unsigned i, oldest = 0;

	for (i = 0; i < l->n; i++)
		if (same_file(&l->e[i], e->dev, e->ino, e->size, e->mtime_ns) &&
		    strcmp(l->e[i].sha256, e->sha256) == 0) {
			l->e[i] = *e;
			return;
		}
	if (l->n < POISON_MAX) {
		l->e[l->n++] = *e;
		return;
	}
	for (i = 1; i < l->n; i++)
		if (l->e[i].when < l->e[oldest].when)
			oldest = i;
	l->e[oldest] = *e;
}

int
poison_maybe(const struct poison_list *l, uint64_t dev, uint64_t ino, uint64_t size,
	     int64_t mtime_ns)
{
	unsigned i;

	for (i = 0; i < l->n; i++)
		if (same_file(&l->e[i], dev, ino, size, mtime_ns))
			return 1;
	return 0;
}

const struct poison_entry *
poison_find(const struct poison_list *l, uint64_t dev, uint64_t ino, uint64_t size,
	    int64_t mtime_ns, const char *sha256)
{
	unsigned i;

	for (i = 0; i < l->n; i++)
		if (same_file(&l->e[i], dev, ino, size, mtime_ns) &&
		    strcmp(l->e[i].sha256, sha256) == 0)
			return &l->e[i];
	return NULL;
}

int
poison_content_at_fault(const struct poison_list *l, int64_t version, int64_t now,
			unsigned window_s, unsigned k)
{
	unsigned i, j, n = 0;

	if (version <= 0 || k == 0)
		return 0;
	for (i = 0; i < l->n; i++) {
		const struct poison_entry *a = &l->e[i];
		int seen = 0;

		if (a->version != version || a->when < now - (int64_t)window_s || a->when > now)
			continue;
		/* A different file: not the same bytes under another name. */
		for (j = 0; j < i && !seen; j++)
			seen = l->e[j].version == version &&
			       l->e[j].when >= now - (int64_t)window_s && l->e[j].when <= now &&
			       strcmp(l->e[j].sha256, a->sha256) == 0;
		n += !seen;
	}
	return n >= k;
}

/* A path with every byte outside printable ASCII, and the backslash, as
 * \xHH: it reads back the same and never breaks a line. */
static void
put_path(struct wbuf *w, const char *p)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)p;

	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s > 0x7e || *s == '\\') {
			char e[4] = {'\\', 'x', hex[*s >> 4], hex[*s & 15]};

			wbuf_put(w, e, 4);
		} else {
			wbuf_put(w, s, 1);
		}
	}
}

int
poison_format(const struct poison_list *l, char **out, size_t *len)
{
	struct wbuf w;
	char line[256];
	unsigned i;
	int n;

	*out = NULL;
	*len = 0;
	wbuf_init(&w);
	for (i = 0; i < l->n; i++) {
		const struct poison_entry *e = &l->e[i];

		n = snprintf(line, sizeof(line),
			     "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %s %" PRId64
			     " %" PRId64 " ",
			     e->dev, e->ino, e->size, e->mtime_ns, e->sha256, e->when, e->version);
		wbuf_put(&w, line, (size_t)n);
		put_path(&w, e->path);
		wbuf_put(&w, "\n", 1);
	}
	if (w.err != 0) {
		wbuf_free(&w);
		return WARD_ENOMEM;
	}
	*len = w.len;
	*out = (char *)w.p; /* the caller frees it with ward_free */
	return 0;
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One decimal field of at most 20 digits (an optional '-' with sign). */
static int
num_field(const char **p, const char *end, int sign, uint64_t *u, int64_t *s)
{
	const char *q = *p;
	int neg = 0, digits = 0;
	uint64_t v = 0;

	if (sign && q < end && *q == '-') {
		neg = 1;
		q++;
	}
	while (q < end && *q >= '0' && *q <= '9' && digits < 20) {
		uint64_t nv = v * 10 + (uint64_t)(*q - '0');

		if (nv / 10 != v)
			return -1;
		v = nv;
		q++;
		digits++;
	}
	if (digits == 0 || q >= end || *q != ' ')
		return -1;
	if (sign) {
		if (v > (uint64_t)INT64_MAX)
			return -1;
		*s = neg ? -(int64_t)v : (int64_t)v;
	} else {
		if (neg)
			return -1;
		*u = v;
	}
	*p = q + 1;
	return 0;
}

/* One line p[0..n) (without its newline) into *e: 0 or -1. */
static int
parse_line(const char *p, size_t n, struct poison_entry *e)
{
	const char *end = p + n;
	size_t k = 0;
	int i;

	memset(e, 0, sizeof(*e));
	if (num_field(&p, end, 0, &e->dev, NULL) != 0 ||
	    num_field(&p, end, 0, &e->ino, NULL) != 0 ||
	    num_field(&p, end, 0, &e->size, NULL) != 0 ||
	    num_field(&p, end, 1, NULL, &e->mtime_ns) != 0)
		return -1;
	if (end - p < 65 || p[64] != ' ')
		return -1;
	for (i = 0; i < 64; i++)
		if (hexval(p[i]) < 0)
			return -1;
	memcpy(e->sha256, p, 64);
	p += 65;
	if (num_field(&p, end, 1, NULL, &e->when) != 0 ||
	    num_field(&p, end, 1, NULL, &e->version) != 0)
		return -1;
	while (p < end) {
		char c = *p++;

		if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7e)
			return -1;
		if (c == '\\') {
			if (end - p < 3 || p[0] != 'x' || hexval(p[1]) < 0 || hexval(p[2]) < 0)
				return -1;
			c = (char)(hexval(p[1]) << 4 | hexval(p[2]));
			if (c == '\0')
				return -1;
			p += 3;
		}
		if (k + 1 >= sizeof(e->path))
			return -1;
		e->path[k++] = c;
	}
	e->path[k] = '\0';
	return 0;
}

void
poison_parse(const char *p, size_t n, struct poison_list *l)
{
	const char *end = p + n, *nl;
	struct poison_entry e;

	memset(l, 0, sizeof(*l));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break; /* a line without its end was cut: not whole */
		if (parse_line(p, (size_t)(nl - p), &e) == 0) {
			if (l->n == POISON_MAX) {
				memmove(&l->e[0], &l->e[1], sizeof(l->e[0]) * (POISON_MAX - 1));
				l->n--;
			}
			l->e[l->n++] = e;
		}
		p = nl + 1;
	}
}

/* Its longest text form: every path byte escaped, and the numbers. */
#define POISON_FILE_MAX (POISON_MAX * (POISON_PATH_MAX * 4 + 256))

int
poison_load(const char *state_dir, struct poison_list *l, struct ward_diag *d)
{
	char path[4200];
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	memset(l, 0, sizeof(*l));
	snprintf(path, sizeof(path), "%s/%s", state_dir, POISON_FILE);
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	r = file_read_all(path, POISON_FILE_MAX, &buf, &len, d);
	if (r == 0)
		poison_parse((const char *)buf, len, l);
	ward_free(buf);
	return r;
}

int
poison_save(const char *state_dir, const struct poison_list *l, struct ward_diag *d)
{
	char path[4200], *text = NULL;
	size_t len = 0;
	int r;

	snprintf(path, sizeof(path), "%s/%s", state_dir, POISON_FILE);
	if ((r = poison_format(l, &text, &len)) != 0)
		return diag_set(d, r, path, 0, 0, "out of memory");
	r = file_replace(path, text, len, 0600, d);
	ward_free(text);
	return r;
}

int
poison_hash_fd(int fd, char sha256[65])
{
	static const size_t chunk = 1u << 16;
	struct digest_ctx *c = NULL;
	uint8_t *buf = NULL, md[32];
	uint64_t off = 0;
	ssize_t k;
	int r;

	sha256[0] = '\0';
	if ((r = digest_new(DIGEST_SHA256, &c)) != 0)
		return r;
	if ((buf = ward_malloc(chunk)) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	while (off < POISON_HASH_MAX) {
		k = pread(fd, buf, chunk, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = WARD_EIO;
			goto out;
		}
		if (k == 0)
			break;
		if ((r = digest_update(c, buf, (size_t)k)) != 0)
			goto out;
		off += (uint64_t)k;
	}
	if ((r = digest_final(c, md, sizeof(md))) == 0)
		r = digest_to_hex(md, sizeof(md), sha256, 65);
out:
	digest_free(c);
	ward_free(buf);
	return r;
}
