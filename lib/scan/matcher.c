/*
 * matcher: Vectorscan candidates + exact verification + conditions.
 *
 * What must always hold:
 *   - every string match that YARA would report is recorded: each variant's
 *     expression reports an end E for every true match (of the whole
 *     string or of its anchor, pattern_hs), and every start in
 *     [E - end_max, E - end_min] not yet examined is verified exactly;
 *   - each start offset is examined at most once per expression and file
 *     (a cursor per expression), so the work per file is bounded by
 *     (file size x expressions) even for the worst patterns;
 *   - a file is read in windows of m->window bytes plus an overlap as
 *     long as the longest possible match, and a window only records matches
 *     that start in its own part, so no match is lost or counted twice;
 *   - per-file state is reset only where it was touched, so the cost of a
 *     small file does not grow with the size of the rule set;
 *   - expressions that are the same for several strings are given to
 *     Vectorscan once (group_exprs), and each hit is handled for each of
 *     them; which run each string looks for (pattern_choose_anchors)
 *     depends only on the rule set, so a loaded database matches it;
 *   - the expressions of xor strings (pattern_hs.xor_delta) are in a
 *     second database, scanned over the XOR of neighbouring bytes of the
 *     same block; their ends are shifted by one and handled like the
 *     others.
 */
#include "scan/matcher.h"
#include "scan/matcher_int.h"

#include <errno.h>
#include <fcntl.h>
#include <hs/hs.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/digest.h"
#include "modules/module.h"
#include "rules/cond.h"
#include "util/alloc.h"
#include "util/limits.h"

/*
 * Bytes scanned at once: bounds memory per thread for files of any size.
 * Small enough that a window just read is still in the CPU cache when
 * Vectorscan scans it (1 MiB scans about 10% faster than 16 MiB), and at
 * least four times the overlap, so that rules with long strings do not
 * make every byte be read twice.
 */
#define WINDOW_MIN ((size_t)1024 * 1024)
#define WINDOW_MAX ((size_t)64 * 1024 * 1024)
/* Bytes kept before a window so fullword and \b can look one character back. */
#define LOOKBEHIND 16

struct matcher_scratch {
	const struct matcher *m;
	hs_scratch_t *hs;
	struct rs_matches *lists; /* per string */
	uint32_t nlists;	  /* (the matcher may be gone when s is freed) */
	uint32_t *touched;	  /* strings with matches in this file */
	uint32_t ntouched;
	uint8_t *is_touched;
	uint64_t *cursor; /* per expression: first start not yet examined */
	/* per expression with twins: its matches from the hit being handled
	 * are lists[its string].m[added_from .. added_to) */
	uint32_t *added_from, *added_to;
	uint32_t *epoch; /* per expression: file the cursor belongs to */
	uint32_t file_epoch;
	uint8_t *results; /* per rule */
	uint32_t *which;  /* rules evaluated for this file, increasing */
	uint32_t *extra;  /* quiet rules whose strings matched in this file */
	uint8_t *marked;  /* per rule: in extra */
	uint8_t *buf;
	size_t bufcap;
	struct pattern_vm *vm; /* the exact verifier's */
	hs_scratch_t *dhs;     /* for m->ddb */
	uint8_t *dbuf;	       /* the deltas of the block */
	size_t dbufcap;
	/* The block being scanned. */
	const uint8_t *blk;
	size_t blklen;
	uint64_t blkbase;
	uint64_t own_lo, own_hi;
	int at_eof;
	int err;
	/* Condition reads. */
	int fd;
	uint64_t size;
	const uint8_t *whole;	       /* the file in memory, when it is */
	const struct rs_external *ext; /* the externals' values, or NULL: the rule set's */
	/* What the modules parsed of the file (only when the rules use one),
	 * with its read window. */
	struct mod_file *mf;
	uint8_t *mfwin;
};

void
matcher_scratch_externals(struct matcher_scratch *s, const struct rs_external *ext)
{
	s->ext = ext;
}

size_t
matcher_window_size(const struct matcher *m)
{
	return m->window;
}

static int
matcher_alloc(const struct ruleset *rs, const struct hashsig_set *hs, struct matcher **out)
{
	struct matcher *m;
	uint32_t i, n = 0;
	int r = 0;

	*out = NULL;
	m = ward_calloc(1, sizeof(*m));
	if (m == NULL)
		return WARD_ENOMEM;
	m->rs = rs;
	m->hs = hs;
	if (rs != NULL) {
		for (i = 0; i < rs->nstrings; i++)
			n += (uint32_t)pattern_nvariants(rs->strings[i].pat);
	}
	if (n > 0 && (m->expr = ward_calloc(n, sizeof(*m->expr))) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	for (i = 0; rs != NULL && i < rs->nstrings; i++) {
		size_t v, nv = pattern_nvariants(rs->strings[i].pat);

		for (v = 0; v < nv; v++) {
			struct expr_info *e = &m->expr[m->nexpr++];
			struct pattern_hs ph;

			pattern_expr(rs->strings[i].pat, v, &ph);
			e->str = i;
			e->variant = (uint32_t)v;
			e->minlen = ph.minlen;
			e->maxlen = ph.maxlen;
			e->end_min = ph.end_min;
			e->end_max = ph.end_max;
			e->exact = ph.exact;
			e->delta = ph.xor_delta;
			e->ctx = ph.ctx;
			e->nctx = ph.nctx;
			/* Unbounded patterns (chained hex jumps) do not widen the
			 * overlap: their rare matches longer than the overlap are
			 * only found inside one window of a large file. */
			if (e->maxlen != UINT32_MAX && e->maxlen > m->overlap)
				m->overlap = e->maxlen;
		}
	}
	if ((r = matcher_exprs_plan(m)) != 0)
		goto out;
	m->overlap += LOOKBEHIND;
	m->window = WINDOW_MIN;
	if (m->window < (size_t)m->overlap * 4)
		m->window =
		    (size_t)m->overlap * 4 < WINDOW_MAX ? (size_t)m->overlap * 4 : WINDOW_MAX;
	if (rs != NULL && rs->nrules > 0) {
		if ((m->quiet = ward_calloc(rs->nrules, 1)) == NULL) {
			r = WARD_ENOMEM;
			goto out;
		}
		if ((m->always = ward_calloc(rs->nrules, sizeof(*m->always))) == NULL) {
			r = WARD_ENOMEM;
			goto out;
		}
		for (i = 0; i < rs->nrules; i++) {
			int yes = 0;

			if (!(rs->rules[i].flags & RS_RULE_GLOBAL) &&
			    cond_false_without_matches(rs, i, &yes) == 0)
				m->quiet[i] = (uint8_t)yes;
			if (!m->quiet[i])
				m->always[m->nalways++] = i;
		}
		for (i = 0; i < rs->nrules && !m->uses_modules; i++) {
			uint8_t used[MOD_ID_MAX_] = {0};
			struct ward_diag vd;
			unsigned k;

			if (cond_modules_used(rs, i, used, &vd) == 0)
				for (k = 0; k < MOD_ID_MAX_; k++)
					m->uses_modules |= used[k];
		}
	}
out:
	if (r != 0)
		matcher_free(m);
	else
		*out = m;
	return r;
}

int
matcher_new(const struct ruleset *rs, const struct hashsig_set *hs, struct matcher **out,
	    struct ward_diag *d)
{
	struct matcher *m = NULL;
	int r;

	*out = NULL;
	if ((r = matcher_alloc(rs, hs, &m)) != 0)
		return r;
	if ((r = matcher_compile_db(m, d)) != 0) {
		matcher_free(m);
		return r;
	}
	*out = m;
	return 0;
}

int
matcher_new_with_db(const struct ruleset *rs, const struct hashsig_set *hs, const uint8_t *db,
		    size_t dblen, struct matcher **out, int *rebuilt, struct ward_diag *d)
{
	struct matcher *m = NULL;
	int r;

	*out = NULL;
	*rebuilt = 0;
	if ((r = matcher_alloc(rs, hs, &m)) != 0)
		return r;
	if (m->nexpr > 0 && matcher_load_dbs(m, db, dblen) != 0) {
		if (m->db != NULL)
			hs_free_database(m->db);
		if (m->ddb != NULL)
			hs_free_database(m->ddb);
		m->db = m->ddb = NULL;
		*rebuilt = 1;
		r = matcher_compile_db(m, d);
	}
	if (r != 0)
		matcher_free(m);
	else
		*out = m;
	return r;
}

void
matcher_free(struct matcher *m)
{
	if (m == NULL)
		return;
	if (m->db != NULL)
		hs_free_database(m->db);
	if (m->ddb != NULL)
		hs_free_database(m->ddb);
	ward_free(m->expr);
	ward_free(m->first);
	ward_free(m->quiet);
	ward_free(m->always);
	ward_free(m);
}

int
matcher_scratch_new(const struct matcher *m, struct matcher_scratch **out)
{
	struct matcher_scratch *s;
	uint32_t nstr = m->rs != NULL ? m->rs->nstrings : 0;
	uint32_t nrules = m->rs != NULL ? m->rs->nrules : 0;
	int r = 0;

	*out = NULL;
	s = ward_calloc(1, sizeof(*s));
	if (s == NULL)
		return WARD_ENOMEM;
	s->m = m;
	s->fd = -1;
	s->lists = ward_calloc(nstr, sizeof(*s->lists));
	s->nlists = s->lists != NULL ? nstr : 0;
	s->touched = ward_calloc(nstr, sizeof(*s->touched));
	s->is_touched = ward_calloc(nstr, 1);
	s->cursor = ward_calloc(m->nexpr, sizeof(*s->cursor));
	s->epoch = ward_calloc(m->nexpr, sizeof(*s->epoch));
	s->added_from = ward_calloc(m->nexpr, sizeof(*s->added_from));
	s->added_to = ward_calloc(m->nexpr, sizeof(*s->added_to));
	s->results = ward_calloc(nrules, 1);
	s->which = ward_calloc(nrules, sizeof(*s->which));
	s->extra = ward_calloc(nrules, sizeof(*s->extra));
	s->marked = ward_calloc(nrules, 1);
	s->vm = m->nexpr > 0 ? pattern_vm_new() : NULL;
	if (s->lists == NULL || s->touched == NULL || s->is_touched == NULL || s->cursor == NULL ||
	    s->epoch == NULL || s->added_from == NULL || s->added_to == NULL ||
	    s->results == NULL || s->which == NULL || s->extra == NULL || s->marked == NULL ||
	    (m->nexpr > 0 && s->vm == NULL)) {
		r = WARD_ENOMEM;
		goto out;
	}
	if ((m->db != NULL && hs_alloc_scratch(m->db, &s->hs) != HS_SUCCESS) ||
	    (m->ddb != NULL && hs_alloc_scratch(m->ddb, &s->dhs) != HS_SUCCESS)) {
		r = WARD_ENOMEM;
		goto out;
	}
	if (m->uses_modules && ((s->mf = ward_calloc(1, sizeof(*s->mf))) == NULL ||
				(s->mfwin = ward_malloc(FREADER_WINDOW)) == NULL)) {
		r = WARD_ENOMEM;
		goto out;
	}
out:
	if (r != 0)
		matcher_scratch_free(s);
	else
		*out = s;
	return r;
}

void
matcher_scratch_free(struct matcher_scratch *s)
{
	uint32_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nlists; i++)
		ward_free(s->lists[i].m);
	if (s->hs != NULL)
		hs_free_scratch(s->hs);
	ward_free(s->mf);
	ward_free(s->mfwin);
	pattern_vm_free(s->vm);
	if (s->dhs != NULL)
		hs_free_scratch(s->dhs);
	ward_free(s->dbuf);
	ward_free(s->lists);
	ward_free(s->touched);
	ward_free(s->is_touched);
	ward_free(s->cursor);
	ward_free(s->epoch);
	ward_free(s->added_from);
	ward_free(s->added_to);
	ward_free(s->results);
	ward_free(s->which);
	ward_free(s->extra);
	ward_free(s->marked);
	ward_free(s->buf);
	ward_free(s);
}

const struct rs_matches *
matcher_matches(const struct matcher_scratch *s, uint32_t str)
{
	return &s->lists[str];
}

static void
scratch_add(struct matcher_scratch *s, uint32_t str, uint64_t off, uint32_t len)
{
	struct rs_matches *l = &s->lists[str];
	size_t cap = l->cap;

	if (l->n >= WARD_MAX_STRING_MATCHES)
		return;
	if (l->n == l->cap) {
		if (ward_grow(&l->m, &cap, (size_t)l->n + 1, sizeof(*l->m)) != 0) {
			s->err = WARD_ENOMEM;
			return;
		}
		l->cap = (uint32_t)cap;
	}
	l->m[l->n].off = off;
	l->m[l->n].len = len;
	l->n++;
	if (!s->is_touched[str]) {
		s->is_touched[str] = 1;
		s->touched[s->ntouched++] = str;
	}
}

/* Do the neighbours of the anchor that ends at to pass expression e's
 * checks?  One outside the block cannot be told, and passes. */
static int
ctx_ok(const struct matcher_scratch *s, const struct expr_info *e, unsigned long long to)
{
	uint32_t k;

	for (k = 0; k < e->nctx; k++) {
		long long at = (long long)to + e->ctx[k].off;

		if (at >= 0 && (unsigned long long)at < s->blklen &&
		    (s->blk[at] & e->ctx[k].mask) != e->ctx[k].val)
			return 0;
	}
	return 1;
}

/* An end of expression id at to (in the block): its matches. */
static void
on_end(struct matcher_scratch *s, uint32_t id, unsigned long long to)
{
	const struct expr_info *e = &s->m->expr[id];
	const struct pattern *pat = s->m->rs->strings[e->str].pat;
	const uint8_t *first = e->first != NO_EXPR ? s->m->first[e->first] : NULL;
	uint64_t lo, hi, st;

	if (e->exact) {
		if (to < e->minlen)
			return;
		st = s->blkbase + to - e->minlen;
		if (st >= s->own_lo && st < s->own_hi)
			scratch_add(s, e->str, st, e->minlen);
		return;
	}
	if (to < e->end_min || !ctx_ok(s, e, to))
		return;
	lo = s->blkbase + (to > e->end_max ? to - e->end_max : 0);
	hi = s->blkbase + to - e->end_min;
	if (s->epoch[id] != s->file_epoch) {
		s->epoch[id] = s->file_epoch;
		s->cursor[id] = 0;
	}
	if (lo < s->cursor[id])
		lo = s->cursor[id];
	if (lo < s->own_lo)
		lo = s->own_lo;
	if (hi >= s->own_hi)
		hi = s->own_hi - 1;
	for (st = lo; st <= hi && st >= lo; st++) {
		size_t at = (size_t)(st - s->blkbase);
		uint32_t len;

		if (first != NULL && !((first[s->blk[at] >> 3] >> (s->blk[at] & 7)) & 1))
			continue;
		len = pattern_match_at(pat, s->vm, e->variant, s->blk, s->blklen, at, s->blkbase,
				       s->at_eof);
		if (len > 0)
			scratch_add(s, e->str, st, len);
	}
	if (hi + 1 > s->cursor[id])
		s->cursor[id] = hi + 1;
}

/* The matches e's twin found at the hit being handled are e's too. */
static void
copy_twin(struct matcher_scratch *s, const struct expr_info *e)
{
	const struct rs_matches *l = &s->lists[s->m->expr[e->twin].str];
	uint32_t k;

	for (k = s->added_from[e->twin]; k < s->added_to[e->twin] && k < l->n; k++)
		scratch_add(s, e->str, l->m[k].off, l->m[k].len);
}

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	 void *ctx)
{
	struct matcher_scratch *s = ctx;
	uint32_t i;

	(void)from;
	(void)flags;
	for (i = id; i != NO_EXPR && s->err == 0; i = s->m->expr[i].next_same) {
		const struct expr_info *e = &s->m->expr[i];

		if (e->twin != NO_EXPR) {
			copy_twin(s, e);
		} else if (e->has_twins) {
			s->added_from[i] = s->lists[e->str].n;
			on_end(s, i, to);
			s->added_to[i] = s->lists[e->str].n;
		} else {
			on_end(s, i, to);
		}
	}
	return s->err != 0;
}

/* A match in the delta domain: D[i] covers data[i] and data[i + 1]. */
static int
on_delta_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	       void *ctx)
{
	return on_match(id, from, to + 1, flags, ctx);
}

/* Scans the XOR of neighbouring bytes of the block with the delta database. */
static int
scan_deltas(const struct matcher *m, struct matcher_scratch *s, const uint8_t *p, size_t len)
{
	hs_error_t e;
	uint8_t *nb;
	size_t i;

	if (len < 2)
		return 0;
	if (len - 1 > s->dbufcap) {
		if ((nb = ward_realloc(s->dbuf, len - 1)) == NULL)
			return WARD_ENOMEM;
		s->dbuf = nb;
		s->dbufcap = len - 1;
	}
	/* eight bytes at a time: byte by byte, this loop cost as much as
	 * Vectorscan's scan of the deltas */
	for (i = 0; i + 9 <= len; i += 8) {
		uint64_t a, b;

		memcpy(&a, p + i, 8);
		memcpy(&b, p + i + 1, 8);
		a ^= b;
		memcpy(s->dbuf + i, &a, 8);
	}
	for (; i + 1 < len; i++)
		s->dbuf[i] = p[i] ^ p[i + 1];
	e = hs_scan(m->ddb, (const char *)s->dbuf, (unsigned)(len - 1), 0, s->dhs, on_delta_match,
		    s);
	if (s->err != 0)
		return s->err;
	if (e != HS_SUCCESS && e != HS_SCAN_TERMINATED)
		return WARD_EENGINE;
	return 0;
}

static int
scan_block(const struct matcher *m, struct matcher_scratch *s, const uint8_t *p, size_t len,
	   uint64_t base, uint64_t own_lo, uint64_t own_hi, int at_eof)
{
	hs_error_t e;

	if ((m->db == NULL && m->ddb == NULL) || len == 0)
		return 0;
	s->blk = p;
	s->blklen = len;
	s->blkbase = base;
	pattern_vm_new_data(s->vm); /* the buffer holds other bytes now */
	s->own_lo = own_lo;
	s->own_hi = own_hi;
	s->at_eof = at_eof;
	if (len > UINT32_MAX)
		return WARD_EINVAL;
	if (m->db != NULL) {
		e = hs_scan(m->db, (const char *)p, (unsigned)len, 0, s->hs, on_match, s);
		if (s->err != 0)
			return s->err;
		if (e != HS_SUCCESS && e != HS_SCAN_TERMINATED)
			return WARD_EENGINE;
	}
	return m->ddb != NULL ? scan_deltas(m, s, p, len) : 0;
}

static int
match_cmp(const void *a, const void *b)
{
	const struct rs_match *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Sorts each touched list by offset and keeps one match per offset. */
static void
scratch_normalize(struct matcher_scratch *s)
{
	uint32_t i, j, k;

	for (i = 0; i < s->ntouched; i++) {
		struct rs_matches *l = &s->lists[s->touched[i]];
		int sorted = 1;

		for (j = 1; j < l->n && sorted; j++)
			sorted = l->m[j - 1].off < l->m[j].off;
		if (sorted)
			continue;
		qsort(l->m, l->n, sizeof(*l->m), match_cmp);
		for (j = 1, k = 1; j < l->n; j++)
			if (l->m[j].off != l->m[k - 1].off)
				l->m[k++] = l->m[j];
		l->n = k;
	}
}

static void
scratch_reset(struct matcher_scratch *s)
{
	uint32_t i;

	for (i = 0; i < s->ntouched; i++) {
		s->lists[s->touched[i]].n = 0;
		s->is_touched[s->touched[i]] = 0;
	}
	s->ntouched = 0;
	s->err = 0;
	s->file_epoch++;
	if (s->file_epoch == 0) {
		memset(s->epoch, 0, s->m->nexpr * sizeof(*s->epoch));
		s->file_epoch = 1;
	}
}

static int
env_read(void *arg, uint64_t off, void *buf, size_t n)
{
	struct matcher_scratch *s = arg;
	ssize_t got;

	if (off > s->size || n > s->size - off)
		return -1;
	if (s->whole != NULL) {
		memcpy(buf, s->whole + off, n);
		return 0;
	}
	if (s->fd < 0)
		return -1;
	got = pread(s->fd, buf, n, (off_t)off);
	return got == (ssize_t)n ? 0 : -1;
}

struct hash_state {
	struct digest_ctx *ctx[DIGEST_NALGS];
	unsigned mask;
};

static int
hash_begin(const struct matcher *m, uint64_t size, struct hash_state *h)
{
	int a;

	memset(h, 0, sizeof(*h));
	if (m->hs == NULL || !hashsig_wants_size(m->hs, size, &h->mask))
		return 0;
	for (a = 0; a < DIGEST_NALGS; a++) {
		if (!(h->mask & (1u << a)))
			continue;
		if (digest_new((enum digest_alg)a, &h->ctx[a]) != 0)
			return WARD_ENOMEM;
	}
	return 0;
}

static void
hash_update(struct hash_state *h, const uint8_t *p, size_t n)
{
	int a;

	for (a = 0; a < DIGEST_NALGS; a++)
		if (h->ctx[a] != NULL)
			digest_update(h->ctx[a], p, n);
}

static void
hash_free(struct hash_state *h)
{
	int a;

	for (a = 0; a < DIGEST_NALGS; a++)
		digest_free(h->ctx[a]);
	memset(h, 0, sizeof(*h));
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Fills s->which with the rules to evaluate for this file, in increasing
 * order: those evaluated always, and the quiet rules whose strings matched
 * (every other rule is false here).  Returns how many.
 */
static uint32_t
select_rules(const struct matcher *m, struct matcher_scratch *s)
{
	uint32_t i, a = 0, e = 0, n = 0, nextra = 0;

	for (i = 0; i < s->ntouched; i++) {
		uint32_t rule = m->rs->strings[s->touched[i]].rule;

		if (m->quiet[rule] && !s->marked[rule]) {
			s->marked[rule] = 1;
			s->extra[nextra++] = rule;
		}
	}
	if (nextra > 1)
		qsort(s->extra, nextra, sizeof(*s->extra), u32_cmp);
	while (a < m->nalways || e < nextra) {
		if (e == nextra || (a < m->nalways && m->always[a] < s->extra[e]))
			s->which[n++] = m->always[a++];
		else
			s->which[n++] = s->extra[e++];
	}
	for (i = 0; i < nextra; i++)
		s->marked[s->extra[i]] = 0;
	return n;
}

/* Evaluates the rules and reports what matched. */
static int
finish_file(const struct matcher *m, struct matcher_scratch *s, struct hash_state *h, uint64_t size,
	    matcher_report_fn report, void *arg)
{
	struct rs_scan_env env;
	uint32_t i, k, n;
	int r = 0, a;

	scratch_normalize(s);
	if (m->rs != NULL && m->rs->nrules > 0) {
		env.matches = s->lists;
		env.filesize = size;
		env.read = env_read;
		env.read_arg = s;
		env.ext = s->ext;
		env.mods = s->mf;
		if (s->mf != NULL)
			mod_file_init(s->mf, s->whole, size, s->whole != NULL ? NULL : env_read, s,
				      s->mfwin);
		n = select_rules(m, s);
		memset(s->results, 0, m->rs->nrules);
		r = ruleset_eval_some(m->rs, &env, s->results, s->which, n);
		if (s->mf != NULL)
			mod_file_done(s->mf);
		if (r != 0)
			goto out;
		for (k = 0; k < n; k++) {
			i = s->which[k];
			if (!s->results[i] || (m->rs->rules[i].flags & RS_RULE_PRIVATE))
				continue;
			if (report != NULL && report(arg, s, i, NULL) != 0)
				goto out;
		}
	}
	for (a = 0; a < DIGEST_NALGS; a++) {
		uint8_t md[DIGEST_MAX_SIZE];
		const char *names[3];
		size_t nn, j;

		if (h->ctx[a] == NULL)
			continue;
		if (digest_final(h->ctx[a], md, sizeof(md)) != 0) {
			r = WARD_ENOMEM;
			goto out;
		}
		/* sized and `*` signatures of one hash: both named, as ClamAV */
		nn = hashsig_lookup_all(m->hs, (enum digest_alg)a, md, size, names);
		for (j = 0; j < nn; j++)
			if (report != NULL && report(arg, s, UINT32_MAX, names[j]) != 0)
				goto out;
	}
out:
	return r;
}

int
matcher_scan_buf(const struct matcher *m, struct matcher_scratch *s, const uint8_t *data,
		 size_t len, matcher_report_fn report, void *arg)
{
	struct hash_state h;
	int r;

	scratch_reset(s);
	s->whole = data;
	s->size = len;
	s->fd = -1;
	if ((r = hash_begin(m, len, &h)) != 0)
		goto out;
	hash_update(&h, data, len);
	if ((r = scan_block(m, s, data, len, 0, 0, len, 1)) != 0)
		goto out;
	r = finish_file(m, s, &h, len, report, arg);
out:
	hash_free(&h);
	s->whole = NULL;
	return r;
}

/* Reads exactly n bytes at off unless the file ends first; *got says how many. */
static int
read_at(int fd, uint8_t *p, size_t n, uint64_t off, size_t *got)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = pread(fd, p + done, n - done, (off_t)(off + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return WARD_EIO;
		if (k == 0)
			break;
		done += (size_t)k;
	}
	*got = done;
	return 0;
}

int
matcher_scan_fd(const struct matcher *m, struct matcher_scratch *s, int fd, uint64_t size,
		matcher_report_fn report, void *arg, const volatile sig_atomic_t *cancel)
{
	struct hash_state h;
	uint64_t own_lo = 0;
	size_t need = (size < m->window ? (size_t)size : m->window + m->overlap + LOOKBEHIND);
	int r;

	scratch_reset(s);
	s->whole = NULL;
	s->fd = fd;
	memset(&h, 0, sizeof(h));
	/* An empty file as the scratch's first: a buffer all the same, so
	 * that the loop below never offsets a null pointer. */
	if (need == 0)
		need = 1;
	if (need > s->bufcap) {
		uint8_t *nb = ward_realloc(s->buf, need);

		if (nb == NULL) {
			r = WARD_ENOMEM;
			goto out;
		}
		s->buf = nb;
		s->bufcap = need;
	}
	if ((r = hash_begin(m, size, &h)) != 0)
		goto out;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	do {
		uint64_t own_hi = own_lo + m->window < size ? own_lo + m->window : size;
		uint64_t lo = own_lo > LOOKBEHIND ? own_lo - LOOKBEHIND : 0;
		uint64_t hi = own_hi + m->overlap < size ? own_hi + m->overlap : size;
		size_t got = 0;

		if (cancel != NULL && *cancel) {
			r = WARD_EINTR;
			goto out;
		}
		if ((r = read_at(fd, s->buf, (size_t)(hi - lo), lo, &got)) != 0)
			goto out;
		if (got < hi - lo) { /* the file shrank: scan what there is */
			size = lo + got;
			hi = size;
			if (own_hi > size)
				own_hi = size;
		}
		hash_update(&h, s->buf + (own_lo - lo), own_hi > own_lo ? own_hi - own_lo : 0);
		if (own_hi > own_lo && (r = scan_block(m, s, s->buf, (size_t)(hi - lo), lo, own_lo,
						       own_hi, hi == size)) != 0)
			goto out;
		own_lo = own_hi;
	} while (own_lo < size);
	s->size = size;
	if (size <= m->window)
		s->whole = s->buf;
	r = finish_file(m, s, &h, size, report, arg);
out:
	hash_free(&h);
	s->whole = NULL;
	s->fd = -1;
	return r;
}
