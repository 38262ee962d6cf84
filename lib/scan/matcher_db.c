/*
 * matcher_db: the Vectorscan side of the matcher — which expression each
 * string variant gives Vectorscan (its anchor, chosen across the rule
 * set), the expressions given once for several strings, and the databases
 * compiled, saved and loaded.  See matcher.c for what must hold.
 */
#include "scan/matcher.h"
#include "scan/matcher_int.h"

#include <stdlib.h>
#include <string.h>

#include "pattern/pattern.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/strmap.h"

/* A serialized pair of databases starts with this (a single one is saved
 * as Vectorscan writes it, as before xor strings existed). */
static const uint8_t DB_PAIR_MAGIC[4] = {'W', 'X', 'D', '1'};

/* Expression i as Vectorscan gets it, and its flags. */
static const char *
expr_of(const struct matcher *m, uint32_t i, unsigned *flags)
{
	const struct expr_info *e = &m->expr[i];
	struct pattern_hs ph;

	pattern_expr_anchor(m->rs->strings[e->str].pat, e->variant, e->anchor, &ph);
	*flags = ph.hs_flags | (e->end_min == 0 ? HS_FLAG_ALLOWEMPTY : 0);
	return ph.expr;
}

/*
 * Links the expressions that Vectorscan would be given twice (a third of
 * signature-base's: the same text in many rules, the same anchor in many
 * hex strings): the first is compiled, and its hits are handled for each
 * of them.  A third less to compile, and the same work per hit.
 */
static int
group_exprs(struct matcher *m)
{
	struct strmap *t = NULL;
	uint32_t *last = NULL, i, *lead;
	unsigned fi, fl;
	int fresh, r;

	for (i = 0; i < m->nexpr; i++) {
		m->expr[i].lead = 1;
		m->expr[i].next_same = NO_EXPR;
	}
	if ((r = strmap_new(m->nexpr, &t)) != 0 ||
	    (last = ward_calloc(m->nexpr, sizeof(*last))) == NULL) {
		r = r != 0 ? r : WARD_ENOMEM;
		goto out;
	}
	for (i = 0; i < m->nexpr; i++) {
		const char *x = expr_of(m, i, &fi);

		lead = strmap_slot(t, x, i, &fresh);
		last[i] = i;
		if (lead == NULL || fresh)
			continue;
		(void)expr_of(m, *lead, &fl);
		if (fl != fi || m->expr[*lead].delta != m->expr[i].delta)
			continue;
		m->expr[last[*lead]].next_same = i;
		last[*lead] = i;
		m->expr[i].lead = 0;
	}
out:
	strmap_free(t);
	ward_free(last);
	return r;
}

/*
 * A hit of an anchor preceded by jumps leaves dozens of starts to verify
 * (signature-base's { 89 [1-16] FF 15 [4-16] 89 ... } was verified at 11
 * million starts in 340 MiB of libraries): the ones whose byte cannot begin
 * a match are skipped before the verifier runs.
 */
static int
set_first_chars(struct matcher *m)
{
	uint8_t set[32];
	uint32_t i, n = 0;
	int r = 0;

	for (i = 0; i < m->nexpr; i++) {
		m->expr[i].first = NO_EXPR;
		n += !m->expr[i].exact && m->expr[i].end_max > m->expr[i].end_min;
	}
	if (n == 0)
		goto out;
	if ((m->first = ward_calloc(n, sizeof(*m->first))) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	for (i = 0; i < m->nexpr; i++) {
		struct expr_info *e = &m->expr[i];

		if (e->exact || e->end_max <= e->end_min ||
		    !pattern_first_chars(m->rs->strings[e->str].pat, set))
			continue;
		memcpy(m->first[m->nfirst], set, sizeof(set));
		e->first = m->nfirst++;
	}
out:
	return r;
}

/* Compiles the expressions in (delta) or out of the delta domain into *db
 * (left NULL when there are none). */
static int
compile_one(struct matcher *m, int delta, hs_database_t **db, struct ward_diag *d)
{
	const char **exprs = NULL;
	unsigned *flags = NULL, *ids = NULL;
	hs_compile_error_t *cerr = NULL;
	uint32_t i, n = 0;
	int r = 0;

	*db = NULL;
	exprs = ward_calloc(m->nexpr + 1, sizeof(*exprs));
	flags = ward_calloc(m->nexpr + 1, sizeof(*flags));
	ids = ward_calloc(m->nexpr + 1, sizeof(*ids));
	if (exprs == NULL || flags == NULL || ids == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	for (i = 0; i < m->nexpr; i++) {
		const struct expr_info *e = &m->expr[i];

		if (e->delta != delta || !e->lead)
			continue;
		exprs[n] = expr_of(m, i, &flags[n]);
		ids[n] = i;
		n++;
	}
	if (n == 0)
		goto out;
	if (hs_compile_multi(exprs, flags, ids, n, HS_MODE_BLOCK, NULL, db, &cerr) != HS_SUCCESS) {
		if (cerr != NULL && cerr->expression >= 0 && (uint32_t)cerr->expression < n) {
			const struct expr_info *e = &m->expr[ids[cerr->expression]];
			const struct rs_string *st = &m->rs->strings[e->str];

			r = diag_set(d, WARD_EENGINE, NULL, 0, 0,
				     "string %s of rule \"%s\": Vectorscan refused /%s/: %s",
				     st->id, m->rs->rules[st->rule].name, exprs[cerr->expression],
				     cerr->message);
		} else {
			r = diag_set(d, WARD_EENGINE, NULL, 0, 0, "Vectorscan: %s",
				     cerr != NULL ? cerr->message : "compile failed");
		}
		*db = NULL;
	}
out:
	if (cerr != NULL)
		hs_free_compile_error(cerr);
	ward_free(exprs);
	ward_free(flags);
	ward_free(ids);
	return r;
}

int
matcher_compile_db(struct matcher *m, struct ward_diag *d)
{
	int r = 0;

	if (m->nexpr == 0)
		goto out;
	r = compile_one(m, 0, &m->db, d);
	if (r == 0)
		r = compile_one(m, 1, &m->ddb, d);
out:
	return r;
}

/* Which run each expression looks for, and the ends that follow. */
static int
choose_anchors(struct matcher *m)
{
	const struct pattern **pats = NULL;
	uint32_t *vars = NULL, *choice = NULL, i;
	int r = 0;

	if (m->nexpr == 0)
		goto out;
	pats = ward_calloc(m->nexpr, sizeof(*pats));
	vars = ward_calloc(m->nexpr, sizeof(*vars));
	choice = ward_calloc(m->nexpr, sizeof(*choice));
	if (pats == NULL || vars == NULL || choice == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	for (i = 0; i < m->nexpr; i++) {
		pats[i] = m->rs->strings[m->expr[i].str].pat;
		vars[i] = m->expr[i].variant;
	}
	if ((r = pattern_choose_anchors(pats, vars, m->nexpr, choice)) != 0)
		goto out;
	for (i = 0; i < m->nexpr; i++) {
		struct expr_info *e = &m->expr[i];
		struct pattern_hs ph;

		if (choice[i] == 0)
			continue;
		pattern_expr_anchor(pats[i], e->variant, choice[i], &ph);
		e->anchor = choice[i];
		e->end_min = ph.end_min;
		e->end_max = ph.end_max;
		e->ctx = ph.ctx;
		e->nctx = ph.nctx;
	}
out:
	ward_free(pats);
	ward_free(vars);
	ward_free(choice);
	return r;
}

/* Earlier expressions of a group that find_twins compares with. */
#define TWIN_LOOK 16

/*
 * Links the expressions whose strings are the same string in other rules
 * (signature-base has the same hex strings in Loader_Win_Generic_17 and
 * _18, the same URL prefix in three Sliver rules): a hit is verified for
 * the first, and its matches are copied to the others.
 */
static void
find_twins(struct matcher *m)
{
	uint32_t i, j, k, seen;

	for (i = 0; i < m->nexpr; i++) {
		m->expr[i].twin = NO_EXPR;
		m->expr[i].has_twins = 0;
	}
	for (i = 0; i < m->nexpr; i++) {
		if (!m->expr[i].lead)
			continue;
		for (j = m->expr[i].next_same; j != NO_EXPR; j = m->expr[j].next_same) {
			struct expr_info *e = &m->expr[j];

			if (e->exact)
				continue;
			for (k = i, seen = 0; k != j && seen < TWIN_LOOK; k = m->expr[k].next_same) {
				const struct expr_info *t = &m->expr[k];

				if (t->twin != NO_EXPR || t->exact)
					continue;
				seen++;
				if (t->variant == e->variant && t->anchor == e->anchor &&
				    pattern_same(m->rs->strings[t->str].pat,
						 m->rs->strings[e->str].pat)) {
					e->twin = k;
					m->expr[k].has_twins = 1;
					break;
				}
			}
		}
	}
}

int
matcher_exprs_plan(struct matcher *m)
{
	int r;

	if ((r = choose_anchors(m)) == 0 && (r = group_exprs(m)) == 0)
		r = set_first_chars(m);
	if (r == 0)
		find_twins(m);
	return r;
}

/* Deserializes one database of n bytes at p into *db; 0 or -1. */
static int
load_one(const uint8_t *p, size_t n, hs_database_t **db)
{
	size_t size = 0;

	if (n == 0 || hs_deserialize_database((const char *)p, n, db) != HS_SUCCESS)
		return -1;
	return hs_database_size(*db, &size) == HS_SUCCESS ? 0 : -1;
}

/*
 * The databases saved by matcher_db_save: one, or (when m has delta
 * expressions) the pair MAGIC, u32 length of the first, first, second.
 * Whether it describes m's expressions is checked by who saved it; here
 * any mismatch of shape is -1, and the caller compiles instead.
 */
int
matcher_load_dbs(struct matcher *m, const uint8_t *db, size_t dblen)
{
	int has_delta = 0, r = -1;
	const uint8_t *magic, *a;
	struct rbuf b;
	uint32_t alen;
	uint32_t i;

	for (i = 0; i < m->nexpr; i++)
		has_delta |= m->expr[i].delta;
	if (!has_delta) {
		r = load_one(db, dblen, &m->db);
		goto out;
	}
	rbuf_init(&b, db, dblen);
	if (rbuf_bytes(&b, sizeof(DB_PAIR_MAGIC), &magic) != 0 ||
	    memcmp(magic, DB_PAIR_MAGIC, sizeof(DB_PAIR_MAGIC)) != 0 || rbuf_u32(&b, &alen) != 0 ||
	    rbuf_bytes(&b, alen, &a) != 0)
		goto out;
	if ((alen > 0 && load_one(a, alen, &m->db) != 0) ||
	    load_one(b.p + b.off, rbuf_left(&b), &m->ddb) != 0)
		goto out;
	r = 0;
out:
	return r;
}

void
matcher_db_save(const struct matcher *m, struct wbuf *w)
{
	char *bytes = NULL, *dbytes = NULL;
	size_t len = 0, dlen = 0;
	struct wbuf pair;

	if (m->db == NULL && m->ddb == NULL) {
		wbuf_lenbytes(w, NULL, 0);
		return;
	}
	if ((m->db != NULL && hs_serialize_database(m->db, &bytes, &len) != HS_SUCCESS) ||
	    (m->ddb != NULL && hs_serialize_database(m->ddb, &dbytes, &dlen) != HS_SUCCESS)) {
		w->err = WARD_EENGINE;
		goto out;
	}
	if (m->ddb == NULL) {
		wbuf_lenbytes(w, bytes, len);
		goto out;
	}
	wbuf_init(&pair);
	wbuf_put(&pair, DB_PAIR_MAGIC, sizeof(DB_PAIR_MAGIC));
	wbuf_u32(&pair, len > UINT32_MAX ? 0 : (uint32_t)len);
	if (len > UINT32_MAX)
		pair.err = WARD_ELIMIT;
	wbuf_put(&pair, bytes, len);
	wbuf_put(&pair, dbytes, dlen);
	if (pair.err != 0)
		w->err = pair.err;
	else
		wbuf_lenbytes(w, pair.p, pair.len);
	wbuf_free(&pair);
out:
	free(bytes);
	free(dbytes);
}
