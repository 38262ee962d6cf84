/*
 * hashsig: hash signature lists, their binary form, and the lookups the
 * scanner makes for every file.  See hashsig.h for the line format.
 *
 * Must hold:
 *   - the line parser is a pure function of (pointer, length) that reads the
 *     line only through an rbuf, so it can be fuzzed on its own;
 *   - after hashsig_finish, each algorithm's table is sorted by
 *     (digest, size, order of addition) and `sizes` holds every distinct
 *     non-`*` size once, sorted, with the mask of algorithms that list it:
 *     the per-file size check is one binary search, a lookup two;
 *   - hashsig_load accepts only what hashsig_save can write: names that the
 *     parser would accept, sizes <= INT64_MAX or `*`, tables in order, the
 *     signature limit; it allocates only after checking that the bytes for
 *     the announced entries are present.
 */
#include "scan/hashsig.h"
#include "util/alloc.h"
#include "util/limits.h"
#include "util/hex.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HS_MAGIC 0x31534857u /* "WHS1" */
#define HS_VERSION 1u
/* Bytes read at a time from a hash list file. */
#define HS_READ_CHUNK 65536

struct hs_ent {
	uint8_t digest[DIGEST_MAX_SIZE]; /* zero past digest_size(alg) */
	uint64_t size;			 /* HASHSIG_ANY_SIZE for `*` */
	size_t name;			 /* offset in names; also the order of addition */
};

struct hs_table {
	struct hs_ent *ents;
	size_t n, cap;
};

struct hashsig_set {
	struct hs_table tab[DIGEST_NALGS];
	char *names; /* NUL-terminated names, back to back */
	size_t names_len, names_cap;
	size_t count;
	int finished;
	/* index built by hashsig_finish */
	uint64_t *sizes;
	uint8_t *size_masks;
	size_t nsizes;
	unsigned any_mask;  /* algorithms with a `*` signature */
	unsigned any5_mask; /* algorithms with a `>5` signature */
};

/* ---- line parser ---- */

static int
hs_peek(const struct rbuf *b)
{
	struct rbuf t = *b;
	uint8_t c;

	return rbuf_u8(&t, &c) == 0 ? c : -1;
}

static int
hs_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Column (1-based) of b's cursor. */
static int
hs_col(const struct rbuf *b)
{
	return (int)b->off + 1;
}

/*
 * Reads a field up to ':' or the end of b into *f (borrowed from b) and
 * *flen; *colon is 1 if a ':' ended it (then it is consumed too).
 */
static void
hs_field(struct rbuf *b, const uint8_t **f, size_t *flen, int *colon)
{
	size_t start = b->off;
	int c;
	uint8_t u;

	*colon = 0;
	while ((c = hs_peek(b)) >= 0 && c != ':')
		(void)rbuf_u8(b, &u);
	*flen = b->off - start;
	b->off = start;
	(void)rbuf_bytes(b, *flen, f); /* the bytes just walked over */
	if (c == ':') {
		(void)rbuf_u8(b, &u);
		*colon = 1;
	}
}

/* Checks a name's bytes; returns the index of the first bad one or n. */
static size_t
hs_name_bad(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e || (i == 0 && p[i] == ' '))
			break;
	return i;
}

static int
hs_parse_alg(struct rbuf *b, struct hashsig_sig *sig, const char *file, int lineno,
	     struct ward_diag *diag)
{
	size_t start = b->off, flen;
	const uint8_t *f;
	int colon, r = 0;

	hs_field(b, &f, &flen, &colon);
	if (flen == 0) {
		r = diag_set(diag, WARD_ESYNTAX, file, lineno, (int)start + 1,
			     "missing hash algorithm (expected sha256, sha1, md5 or sm3)");
		goto out;
	}
	if (digest_from_name((const char *)f, flen, &sig->alg) != 0) {
		if (hs_name_bad(f, flen) == flen && flen <= 16)
			r = diag_set(
			    diag, WARD_ESYNTAX, file, lineno, (int)start + 1,
			    "unknown hash algorithm '%.*s' (expected sha256, sha1, md5 or sm3)",
			    (int)flen, (const char *)f);
		else
			r = diag_set(diag, WARD_ESYNTAX, file, lineno, (int)start + 1,
				     "unknown hash algorithm (expected sha256, sha1, md5 or sm3)");
		goto out;
	}
	if (!colon)
		r = diag_set(diag, WARD_ESYNTAX, file, lineno, hs_col(b),
			     "expected ':' after hash algorithm");
out:
	return r;
}

static int
hs_parse_hex(struct rbuf *b, struct hashsig_sig *sig, const char *file, int lineno,
	     struct ward_diag *diag)
{
	size_t want = 2 * digest_size(sig->alg), n = 0, start = b->off;
	int c, r = 0;
	uint8_t u;

	while ((c = hs_peek(b)) >= 0 && c != ':') {
		int v = hex_digit(c);

		if (v < 0) {
			if (c > 0x20 && c < 0x7f)
				r = diag_set(diag, WARD_ESYNTAX, file, lineno, hs_col(b),
					     "invalid hex digit '%c' in hash", c);
			else
				r = diag_set(diag, WARD_ESYNTAX, file, lineno, hs_col(b),
					     "invalid character 0x%02x in hash", (unsigned)c);
			goto out;
		}
		if (n < want)
			sig->digest[n / 2] |= (uint8_t)(n % 2 == 0 ? v << 4 : v);
		n++;
		(void)rbuf_u8(b, &u);
	}
	if (n == 0) {
		r = diag_set(diag, WARD_ESYNTAX, file, lineno, (int)start + 1, "missing hash");
		goto out;
	}
	if (n != want) {
		r = diag_set(diag, WARD_ESYNTAX, file, lineno, (int)start + 1,
			     "%s hash must have %zu hex digits, not %zu", digest_name(sig->alg),
			     want, n);
		goto out;
	}
	if (rbuf_u8(b, &u) != 0)
		r = diag_set(diag, WARD_ESYNTAX, file, lineno, hs_col(b),
			     "expected ':' after hash");
out:
	return r;
}

static int
hs_parse_size(struct rbuf *b, struct hashsig_sig *sig, const char *file, int lineno,
	      struct ward_diag *diag)
{
	size_t start = b->off, n = 0;
	uint64_t v = 0;
	int c, r = 0, big = 0;
	uint8_t u;

	sig->size = 0;
	if (hs_peek(b) == '*' || hs_peek(b) == '>') {
		(void)rbuf_u8(b, &u);
		sig->size = u == '*' ? HASHSIG_ANY_SIZE : HASHSIG_ANY_ABOVE_5;
		n = 1;
		if (u == '>' && (hs_peek(b) != '5' || rbuf_u8(b, &u) != 0))
			c = 'x';
		else
			c = hs_peek(b);
		if (c >= 0 && c != ':') {
			r = diag_set(diag, WARD_ESYNTAX, file, lineno, hs_col(b),
				     "invalid size: expected a decimal byte count, '*' or '>5'");
			goto out;
		}
	}
	while (sig->size == 0 && (c = hs_peek(b)) >= 0 && c != ':') {
		if (c < '0' || c > '9') {
			r = diag_set(diag, WARD_ESYNTAX, file, lineno, hs_col(b),
				     "invalid size: expected a decimal byte count or '*'");
			goto out;
		}
		if (v > ((uint64_t)INT64_MAX - (uint64_t)(c - '0')) / 10)
			big = 1;
		else
			v = v * 10 + (uint64_t)(c - '0');
		n++;
		(void)rbuf_u8(b, &u);
	}
	if (n == 0) {
		r = diag_set(diag, WARD_ESYNTAX, file, lineno, (int)start + 1,
			     "missing size: expected a decimal byte count or '*'");
		goto out;
	}
	if (big) {
		r = diag_set(diag, WARD_ESYNTAX, file, lineno, (int)start + 1,
			     "size is too large (more than %lld bytes)", (long long)INT64_MAX);
		goto out;
	}
	if (sig->size == 0)
		sig->size = v;
	if (rbuf_u8(b, &u) != 0)
		r = diag_set(diag, WARD_ESYNTAX, file, lineno, hs_col(b),
			     "expected ':' after size");
out:
	return r;
}

static int
hs_parse_name(struct rbuf *b, struct hashsig_sig *sig, const char *file, int lineno,
	      struct ward_diag *diag)
{
	size_t start = b->off, n = rbuf_left(b), bad;
	const uint8_t *p;
	int r = 0;

	if (n == 0) {
		r = diag_set(diag, WARD_ESYNTAX, file, lineno, hs_col(b), "missing signature name");
		goto out;
	}
	if (n > WARD_MAX_SIG_NAME) {
		r = diag_set(diag, WARD_ELIMIT, file, lineno, (int)start + 1,
			     "signature name is longer than %u bytes (WARD_MAX_SIG_NAME)",
			     (unsigned)WARD_MAX_SIG_NAME);
		goto out;
	}
	(void)rbuf_bytes(b, n, &p);
	if ((bad = hs_name_bad(p, n)) < n) {
		if (p[bad] == ' ')
			r = diag_set(diag, WARD_ESYNTAX, file, lineno, (int)(start + bad) + 1,
				     "signature name must not start with a space");
		else
			r = diag_set(diag, WARD_ESYNTAX, file, lineno, (int)(start + bad) + 1,
				     "invalid character 0x%02x in signature name",
				     (unsigned)p[bad]);
		goto out;
	}
	sig->name = (const char *)p;
	sig->name_len = n;
out:
	return r;
}

int
hashsig_parse_line(const char *line, size_t len, struct hashsig_sig *sig, int *is_sig,
		   const char *file, int lineno, struct ward_diag *diag)
{
	struct rbuf b;
	size_t end = 0;
	uint8_t c;
	int r = 0, first;

	memset(sig, 0, sizeof(*sig));
	*is_sig = 0;
	if (len > WARD_MAX_HASH_LINE) {
		r = diag_set(diag, WARD_ELIMIT, file, lineno, WARD_MAX_HASH_LINE + 1,
			     "line is longer than %u bytes (WARD_MAX_HASH_LINE)",
			     (unsigned)WARD_MAX_HASH_LINE);
		goto out;
	}
	/* find the end of the line without trailing blanks */
	rbuf_init(&b, line, len);
	while (rbuf_u8(&b, &c) == 0)
		if (!hs_blank(c))
			end = b.off;
	rbuf_init(&b, line, end);
	while ((first = hs_peek(&b)) >= 0 && hs_blank(first))
		(void)rbuf_u8(&b, &c);
	if (first < 0 || first == '#')
		goto out;
	if ((r = hs_parse_alg(&b, sig, file, lineno, diag)) != 0)
		goto out;
	if ((r = hs_parse_hex(&b, sig, file, lineno, diag)) != 0)
		goto out;
	if ((r = hs_parse_size(&b, sig, file, lineno, diag)) != 0)
		goto out;
	if ((r = hs_parse_name(&b, sig, file, lineno, diag)) != 0)
		goto out;
	*is_sig = 1;
out:
	if (r != 0)
		memset(sig, 0, sizeof(*sig));
	return r;
}

/* ---- the set ---- */

int
hashsig_new(struct hashsig_set **out)
{
	*out = ward_calloc(1, sizeof(**out));
	return *out != NULL ? 0 : WARD_ENOMEM;
}

static void
hs_unindex(struct hashsig_set *s)
{
	ward_free(s->sizes);
	ward_free(s->size_masks);
	s->sizes = NULL;
	s->size_masks = NULL;
	s->nsizes = 0;
	s->any_mask = 0;
	s->any5_mask = 0;
	s->finished = 0;
}

void
hashsig_free(struct hashsig_set *s)
{
	unsigned i;

	if (s == NULL)
		return;
	for (i = 0; i < DIGEST_NALGS; i++)
		ward_free(s->tab[i].ents);
	ward_free(s->names);
	hs_unindex(s);
	ward_free(s);
}

/* Adds one signature whose fields are already valid. */
static int
hs_add(struct hashsig_set *s, enum digest_alg alg, const uint8_t *digest, uint64_t size,
       const char *name, size_t name_len)
{
	struct hs_table *t = &s->tab[alg];
	struct hs_ent *e;
	int r;

	if (s->count >= WARD_MAX_HASH_SIGS) {
		r = WARD_ELIMIT;
		goto out;
	}
	if ((r = ward_grow(&t->ents, &t->cap, t->n + 1, sizeof(*t->ents))) != 0)
		goto out;
	if ((r = ward_grow(&s->names, &s->names_cap, s->names_len + name_len + 1, 1)) != 0)
		goto out;
	hs_unindex(s);
	e = &t->ents[t->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->digest, digest, digest_size(alg));
	e->size = size;
	e->name = s->names_len;
	memcpy(s->names + s->names_len, name, name_len);
	s->names[s->names_len + name_len] = '\0';
	s->names_len += name_len + 1;
	s->count++;
out:
	return r;
}

int
hashsig_add_line(struct hashsig_set *s, const char *file, int lineno, const char *line, size_t len,
		 struct ward_diag *diag)
{
	struct hashsig_sig sig;
	int r, is_sig;

	if ((r = hashsig_parse_line(line, len, &sig, &is_sig, file, lineno, diag)) != 0)
		goto out;
	if (!is_sig)
		goto out;
	r = hs_add(s, sig.alg, sig.digest, sig.size, sig.name, sig.name_len);
	if (r == WARD_ELIMIT)
		diag_set(diag, r, file, lineno, 1,
			 "more than %u hash signatures (WARD_MAX_HASH_SIGS)",
			 (unsigned)WARD_MAX_HASH_SIGS);
	else if (r != 0)
		diag_set(diag, r, file, lineno, 0, "%s", ward_strerror(r));
out:
	return r;
}

/*
 * Feeds the bytes of one read to the line splitter.  line holds the current
 * partial line (at most WARD_MAX_HASH_LINE + 1 bytes are kept: one more than
 * the limit is enough for the parser to refuse it).
 */
static int
hs_feed(struct hashsig_set *s, const char *path, const char *p, size_t n, char *line, size_t *llen,
	int *lineno, struct ward_diag *diag)
{
	int r = 0;

	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl != NULL ? (size_t)(nl - p) : n;
		size_t room = WARD_MAX_HASH_LINE + 1 - *llen;

		memcpy(line + *llen, p, take < room ? take : room);
		*llen += take < room ? take : room;
		if (nl == NULL)
			break;
		(*lineno)++;
		if ((r = hashsig_add_line(s, path, *lineno, line, *llen, diag)) != 0)
			goto out;
		*llen = 0;
		p = nl + 1;
		n -= take + 1;
	}
out:
	return r;
}

int
hashsig_add_file(struct hashsig_set *s, const char *path, struct ward_diag *diag)
{
	char *chunk = NULL, *line = NULL;
	size_t llen = 0;
	int fd = -1, r, lineno = 0;
	ssize_t got;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		r = diag_set(diag, WARD_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
		goto out;
	}
	chunk = ward_malloc(HS_READ_CHUNK);
	line = ward_malloc(WARD_MAX_HASH_LINE + 1);
	if (chunk == NULL || line == NULL) {
		r = diag_set(diag, WARD_ENOMEM, path, 0, 0, "%s", ward_strerror(WARD_ENOMEM));
		goto out;
	}
	for (;;) {
		got = read(fd, chunk, HS_READ_CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = diag_set(diag, WARD_EIO, path, lineno + 1, 0, "cannot read: %s",
				     strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		if ((r = hs_feed(s, path, chunk, (size_t)got, line, &llen, &lineno, diag)) != 0)
			goto out;
	}
	r = 0;
	if (llen > 0) /* last line without a newline */
		r = hashsig_add_line(s, path, lineno + 1, line, llen, diag);
out:
	if (fd >= 0)
		close(fd);
	ward_free(chunk);
	ward_free(line);
	return r;
}

static int
hs_ent_cmp(const void *a, const void *b)
{
	const struct hs_ent *x = a, *y = b;
	int c = memcmp(x->digest, y->digest, DIGEST_MAX_SIZE);

	if (c != 0)
		return c;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	if (x->name != y->name)
		return x->name < y->name ? -1 : 1;
	return 0;
}

struct hs_sizemask {
	uint64_t size;
	unsigned mask;
};

static int
hs_size_cmp(const void *a, const void *b)
{
	const struct hs_sizemask *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return 0;
}

/* Builds the size index of s, whose tables are sorted. */
static int
hs_index(struct hashsig_set *s)
{
	struct hs_sizemask *tmp = NULL;
	size_t n = 0, i, k;
	unsigned a;
	int r = 0;

	hs_unindex(s);
	if ((tmp = ward_calloc(s->count, sizeof(*tmp))) == NULL ||
	    (s->sizes = ward_calloc(s->count, sizeof(*s->sizes))) == NULL ||
	    (s->size_masks = ward_calloc(s->count, 1)) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	for (a = 0; a < DIGEST_NALGS; a++) {
		for (i = 0; i < s->tab[a].n; i++) {
			if (s->tab[a].ents[i].size == HASHSIG_ANY_SIZE) {
				s->any_mask |= DIGEST_BIT(a);
				continue;
			}
			if (s->tab[a].ents[i].size == HASHSIG_ANY_ABOVE_5) {
				s->any5_mask |= DIGEST_BIT(a);
				continue;
			}
			tmp[n].size = s->tab[a].ents[i].size;
			tmp[n].mask = DIGEST_BIT(a);
			n++;
		}
	}
	if (n > 1)
		qsort(tmp, n, sizeof(*tmp), hs_size_cmp);
	for (i = 0, k = 0; i < n; i++) {
		if (k > 0 && s->sizes[k - 1] == tmp[i].size) {
			s->size_masks[k - 1] |= (uint8_t)tmp[i].mask;
			continue;
		}
		s->sizes[k] = tmp[i].size;
		s->size_masks[k] = (uint8_t)tmp[i].mask;
		k++;
	}
	s->nsizes = k;
	s->finished = 1;
out:
	if (r != 0)
		hs_unindex(s);
	ward_free(tmp);
	return r;
}

int
hashsig_finish(struct hashsig_set *s)
{
	unsigned a;

	if (s->finished)
		return 0;
	for (a = 0; a < DIGEST_NALGS; a++)
		if (s->tab[a].n > 1)
			qsort(s->tab[a].ents, s->tab[a].n, sizeof(struct hs_ent), hs_ent_cmp);
	return hs_index(s);
}

size_t
hashsig_count(const struct hashsig_set *s)
{
	return s->count;
}

unsigned
hashsig_algs(const struct hashsig_set *s)
{
	unsigned a, m = 0;

	for (a = 0; a < DIGEST_NALGS; a++)
		if (s->tab[a].n > 0)
			m |= DIGEST_BIT(a);
	return m;
}

int
hashsig_wants_size(const struct hashsig_set *s, uint64_t size, unsigned *algs_mask)
{
	size_t lo = 0, hi;
	unsigned m = 0;

	if (!s->finished)
		goto out;
	m = s->any_mask | (size > 5 ? s->any5_mask : 0);
	hi = s->nsizes;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->sizes[mid] < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->nsizes && s->sizes[lo] == size)
		m |= s->size_masks[lo];
out:
	*algs_mask = m;
	return m != 0;
}

/* Index of the first entry of t not less than (digest, size). */
static size_t
hs_lower(const struct hs_table *t, const uint8_t *digest, uint64_t size)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct hs_ent *e = &t->ents[mid];
		int c = memcmp(e->digest, digest, DIGEST_MAX_SIZE);

		if (c < 0 || (c == 0 && e->size < size))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const char *
hashsig_lookup(const struct hashsig_set *s, enum digest_alg alg, const uint8_t *digest,
	       uint64_t size)
{
	uint8_t key[DIGEST_MAX_SIZE] = {0};
	const struct hs_table *t;
	const char *name = NULL;
	size_t i;

	if (!s->finished || (unsigned)alg >= DIGEST_NALGS)
		goto out;
	t = &s->tab[alg];
	memcpy(key, digest, digest_size(alg));
	i = hs_lower(t, key, size);
	if (i < t->n && t->ents[i].size == size &&
	    memcmp(t->ents[i].digest, key, sizeof(key)) == 0) {
		name = s->names + t->ents[i].name;
		goto out;
	}
	i = hs_lower(t, key, HASHSIG_ANY_SIZE);
	if (i < t->n && t->ents[i].size == HASHSIG_ANY_SIZE &&
	    memcmp(t->ents[i].digest, key, sizeof(key)) == 0)
		name = s->names + t->ents[i].name;
out:
	return name;
}

size_t
hashsig_lookup_all(const struct hashsig_set *s, enum digest_alg alg, const uint8_t *digest,
		   uint64_t size, const char *names[3])
{
	uint8_t key[DIGEST_MAX_SIZE] = {0};
	const uint64_t want[3] = {size, HASHSIG_ANY_SIZE, HASHSIG_ANY_ABOVE_5};
	const struct hs_table *t;
	size_t i, k, n = 0;

	if (!s->finished || (unsigned)alg >= DIGEST_NALGS)
		goto out;
	t = &s->tab[alg];
	memcpy(key, digest, digest_size(alg));
	for (k = 0; k < 3; k++) {
		if ((k == 2 && size <= 5) || (k > 0 && want[k] == size))
			continue;
		i = hs_lower(t, key, want[k]);
		if (i < t->n && t->ents[i].size == want[k] &&
		    memcmp(t->ents[i].digest, key, sizeof(key)) == 0)
			names[n++] = s->names + t->ents[i].name;
	}
out:
	return n;
}

/* ---- binary form ----
 *
 *   u32 magic "WHS1", u32 version
 *   for each algorithm in enum order:
 *     u32 count
 *     count x { digest[digest_size], u64 size (UINT64_MAX = `*`), u32 len, name[len] }
 *   entries in the order of hashsig_finish.
 */

int
hashsig_save(const struct hashsig_set *s, struct wbuf *w)
{
	unsigned a;
	size_t i;
	int r = 0;

	if (!s->finished) {
		r = WARD_EINVAL;
		goto out;
	}
	wbuf_u32(w, HS_MAGIC);
	wbuf_u32(w, HS_VERSION);
	for (a = 0; a < DIGEST_NALGS; a++) {
		const struct hs_table *t = &s->tab[a];

		wbuf_u32(w, (uint32_t)t->n);
		for (i = 0; i < t->n; i++) {
			const char *name = s->names + t->ents[i].name;

			wbuf_put(w, t->ents[i].digest, digest_size((enum digest_alg)a));
			wbuf_u64(w, t->ents[i].size);
			wbuf_lenbytes(w, name, strlen(name));
		}
	}
	r = w->err;
out:
	return r;
}

static int
hs_load_table(struct rbuf *b, struct hashsig_set *s, enum digest_alg alg)
{
	size_t ds = digest_size(alg), i;
	const struct hs_table *t = &s->tab[alg];
	const uint8_t *d, *name;
	size_t name_len;
	uint32_t count;
	uint64_t size;
	int r;

	if ((r = rbuf_u32(b, &count)) != 0)
		goto out;
	if (count > WARD_MAX_HASH_SIGS - s->count) {
		r = WARD_ELIMIT;
		goto out;
	}
	/* each entry takes at least ds + 8 + 4 + 1 bytes: refuse a count the
	 * buffer cannot hold before allocating for it */
	if (count > rbuf_left(b) / (ds + 13)) {
		r = WARD_EFORMAT;
		goto out;
	}
	for (i = 0; i < count; i++) {
		if ((r = rbuf_bytes(b, ds, &d)) != 0 || (r = rbuf_u64(b, &size)) != 0 ||
		    (r = rbuf_lenbytes(b, WARD_MAX_SIG_NAME, &name, &name_len)) != 0)
			goto out;
		if (name_len == 0 || hs_name_bad(name, name_len) != name_len ||
		    (size > (uint64_t)INT64_MAX && size != HASHSIG_ANY_SIZE &&
		     size != HASHSIG_ANY_ABOVE_5)) {
			r = WARD_EFORMAT;
			goto out;
		}
		if ((r = hs_add(s, alg, d, size, (const char *)name, name_len)) != 0)
			goto out;
		if (t->n > 1 && hs_ent_cmp(&t->ents[t->n - 2], &t->ents[t->n - 1]) > 0) {
			r = WARD_EFORMAT;
			goto out;
		}
	}
out:
	return r;
}

int
hashsig_load(struct rbuf *b, struct hashsig_set **out)
{
	struct hashsig_set *s = NULL;
	size_t save = b->off;
	uint32_t magic, version;
	unsigned a;
	int r;

	*out = NULL;
	if ((r = rbuf_u32(b, &magic)) != 0 || (r = rbuf_u32(b, &version)) != 0)
		goto out;
	if (magic != HS_MAGIC) {
		r = WARD_EFORMAT;
		goto out;
	}
	if (version != HS_VERSION) {
		r = WARD_EVERSION;
		goto out;
	}
	if ((r = hashsig_new(&s)) != 0)
		goto out;
	for (a = 0; a < DIGEST_NALGS; a++)
		if ((r = hs_load_table(b, s, (enum digest_alg)a)) != 0)
			goto out;
	if ((r = hs_index(s)) != 0)
		goto out;
	*out = s;
	s = NULL;
out:
	if (r != 0)
		b->off = save;
	hashsig_free(s);
	return r;
}
