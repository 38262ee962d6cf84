/*
 * cond_eval: the condition interpreter, with YARA 4.2's undefined values.
 *
 * What must hold: the interpreter never reads outside the code (operands
 * come through an rbuf), the stack (every push and pop is checked), the
 * match lists or the rule set's tables, whatever the code — the verifier is
 * the first line, this is the second.  It allocates nothing itself and keeps
 * no state outside its frame and the file's module state (env->mods: what a
 * module parsed of the file, strings it made), so rule sets are evaluated by
 * many threads at once, each with its own env.
 *
 * Semantics, checked against yara 4.2.3 on this machine:
 *   - arithmetic and comparisons with an undefined operand are undefined;
 *     \ and % by zero are undefined; shifts by a negative count are
 *     undefined and by >= 64 give 0;
 *   - `a and b` is false if either is undefined; `a or b` ignores an
 *     undefined side, and is false (defined) when both are, so that
 *     `not (uint32(100) or uint32(104))` is true on a short file; `not undefined` is undefined;
 * `defined x` is true iff x is defined; a condition that ends undefined is false;
 *   - floats: an int beside a float is converted; == and != compare
 *     within DBL_EPSILON (so a NaN is neither equal nor unequal); \ by
 *     zero is an infinity or a NaN;
 *   - `N of`: N undefined means all, N == 0 means none, else found >= N;
 *   - for loops: an undefined body counts as false; an undefined N means
 *     all; a range loop with no iteration (empty or undefined bounds) is
 *     false whatever its quantifier, and so is a loop over a module's
 *     array or dictionary that is empty or undefined; otherwise
 *     all/any/none/N as written.
 */
#include "rules/cond.h"
#include "modules/module.h"
#include "util/limits.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

struct ev_val {
	int64_t i;
	const uint8_t *s;
	uint32_t slen;
	uint8_t is_str;
	uint8_t undef;
	uint8_t unk; /* cond_false_without_matches: depends on the file */
	uint8_t is_flt;
	double d; /* is_flt */
};

struct ev {
	const struct ruleset *rs;
	const struct rs_rule *r;
	const struct rs_scan_env *env;
	const uint8_t *results;
	uint64_t *steps;
	struct rbuf b;
	int sp;
	int64_t vars[WARD_MAX_LOOP_DEPTH];
	uint32_t cur_str;
	int nloops;
	int abstract; /* cond_false_without_matches is running */
	struct ev_val st[WARD_MAX_STACK]; /* last: ev_init leaves it */
};

/* Clears e but for its value stack. */
static void
ev_init(struct ev *e)
{
	memset(e, 0, offsetof(struct ev, st));
}

static int
ev_push(struct ev *e, struct ev_val v)
{
	if (e->sp >= WARD_MAX_STACK)
		return WARD_EVERIFY;
	e->st[e->sp++] = v;
	return 0;
}

static int
ev_pop(struct ev *e, int base, struct ev_val *v)
{
	if (e->sp <= base)
		return WARD_EVERIFY;
	*v = e->st[--e->sp];
	return 0;
}

static struct ev_val
ev_int(int64_t i)
{
	struct ev_val v = {i, NULL, 0, 0, 0, 0, 0, 0};

	return v;
}

static struct ev_val
ev_flt(double d)
{
	struct ev_val v = {0, NULL, 0, 0, 0, 0, 1, d};

	return v;
}

static struct ev_val
ev_undef(void)
{
	struct ev_val v = {0, NULL, 0, 0, 1, 0, 0, 0};

	return v;
}

/* The matches of a string operand (checked again here, cheaply). */
static const struct rs_matches *
ev_matches(struct ev *e, uint32_t s)
{
	static const struct rs_matches none = {NULL, 0, 0};

	if (s == COND_STR_CURRENT)
		s = e->cur_str;
	if (s < e->r->str_first || s - e->r->str_first >= e->r->str_count || s >= e->rs->nstrings ||
	    e->env->matches == NULL)
		return &none;
	return &e->env->matches[s];
}

/* First match with off >= lo (binary search). */
static uint32_t
ev_lower(const struct rs_matches *m, uint64_t lo)
{
	uint32_t a = 0, b = m->n, mid;

	while (a < b) {
		mid = a + (b - a) / 2;
		if (m->m[mid].off < lo)
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

static struct ev_val
ev_read(struct ev *e, uint8_t kind, struct ev_val off)
{
	static const uint8_t sizes[] = {1, 2, 4, 1, 2, 4};
	uint8_t buf[4];
	uint64_t x = 0;
	size_t n, i;
	int be = kind >= COND_RD_UINT8BE, sgn;

	if (off.undef || off.i < 0 || kind >= COND_RD_MAX_ || e->env->read == NULL)
		return ev_undef();
	n = sizes[kind % 6];
	sgn = (kind % 6) >= 3;
	if ((uint64_t)off.i > e->env->filesize || e->env->filesize - (uint64_t)off.i < n)
		return ev_undef();
	if (e->env->read(e->env->read_arg, (uint64_t)off.i, buf, n) != 0)
		return ev_undef();
	for (i = 0; i < n; i++)
		x |= (uint64_t)buf[be ? i : n - 1 - i] << (8 * (n - 1 - i));
	if (sgn) {
		if (n == 1)
			return ev_int((int8_t)x);
		if (n == 2)
			return ev_int((int16_t)x);
		return ev_int((int32_t)x);
	}
	return ev_int((int64_t)x);
}

static int
ev_lower_ascii(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
ev_memeq(const uint8_t *a, const uint8_t *b, size_t n, int icase)
{
	size_t i;

	if (!icase)
		return memcmp(a, b, n) == 0;
	for (i = 0; i < n; i++)
		if (ev_lower_ascii(a[i]) != ev_lower_ascii(b[i]))
			return 0;
	return 1;
}

static int64_t
ev_strop(uint8_t op, const struct ev_val *a, const struct ev_val *b)
{
	size_t i, m;
	int c;

	switch (op) {
	case COND_CONTAINS:
	case COND_ICONTAINS:
		if (b->slen > a->slen)
			return 0;
		for (i = 0; i + b->slen <= a->slen; i++)
			if (ev_memeq(a->s + i, b->s, b->slen, op == COND_ICONTAINS))
				return 1;
		return 0;
	case COND_STARTSWITH:
	case COND_ISTARTSWITH:
		return b->slen <= a->slen && ev_memeq(a->s, b->s, b->slen, op == COND_ISTARTSWITH);
	case COND_ENDSWITH:
	case COND_IENDSWITH:
		return b->slen <= a->slen &&
		       ev_memeq(a->s + (a->slen - b->slen), b->s, b->slen, op == COND_IENDSWITH);
	case COND_IEQUALS:
		return a->slen == b->slen && ev_memeq(a->s, b->s, a->slen, 1);
	default:
		break;
	}
	m = a->slen < b->slen ? a->slen : b->slen;
	c = m > 0 ? memcmp(a->s, b->s, m) : 0;
	if (c == 0)
		c = a->slen < b->slen ? -1 : a->slen > b->slen ? 1 : 0;
	switch (op) {
	case COND_SEQ:
		return c == 0;
	case COND_SNE:
		return c != 0;
	case COND_SLT:
		return c < 0;
	case COND_SLE:
		return c <= 0;
	case COND_SGT:
		return c > 0;
	default:
		return c >= 0;
	}
}

static struct ev_val
ev_arith(uint8_t op, struct ev_val a, struct ev_val b)
{
	uint64_t x = (uint64_t)a.i, y = (uint64_t)b.i;

	if (a.undef || b.undef || a.is_str || b.is_str)
		return ev_undef();
	switch (op) {
	case COND_ADD:
		return ev_int((int64_t)(x + y));
	case COND_SUB:
		return ev_int((int64_t)(x - y));
	case COND_MUL:
		return ev_int((int64_t)(x * y));
	case COND_DIV:
		if (b.i == 0)
			return ev_undef();
		if (a.i == INT64_MIN && b.i == -1)
			return ev_int(INT64_MIN);
		return ev_int(a.i / b.i);
	case COND_MOD:
		if (b.i == 0)
			return ev_undef();
		if (b.i == -1)
			return ev_int(0);
		return ev_int(a.i % b.i);
	case COND_BAND:
		return ev_int(a.i & b.i);
	case COND_BOR:
		return ev_int(a.i | b.i);
	case COND_BXOR:
		return ev_int(a.i ^ b.i);
	case COND_SHL:
		if (b.i < 0)
			return ev_undef();
		return ev_int(b.i >= 64 ? 0 : (int64_t)(x << b.i));
	case COND_SHR:
		if (b.i < 0)
			return ev_undef();
		return ev_int(b.i >= 64 ? 0 : a.i >> b.i);
	case COND_LT:
		return ev_int(a.i < b.i);
	case COND_LE:
		return ev_int(a.i <= b.i);
	case COND_GT:
		return ev_int(a.i > b.i);
	case COND_GE:
		return ev_int(a.i >= b.i);
	case COND_EQ:
		return ev_int(a.i == b.i);
	default:
		return ev_int(a.i != b.i);
	}
}

/* Float arithmetic and comparisons (the compiler converted the ints). */
static struct ev_val
ev_farith(uint8_t op, struct ev_val a, struct ev_val b)
{
	if (a.undef || b.undef || !a.is_flt || !b.is_flt)
		return ev_undef();
	switch (op) {
	case COND_F_ADD:
		return ev_flt(a.d + b.d);
	case COND_F_SUB:
		return ev_flt(a.d - b.d);
	case COND_F_MUL:
		return ev_flt(a.d * b.d);
	case COND_F_DIV:
		return ev_flt(a.d / b.d);
	case COND_F_LT:
		return ev_int(a.d < b.d);
	case COND_F_LE:
		return ev_int(a.d <= b.d);
	case COND_F_GT:
		return ev_int(a.d > b.d);
	case COND_F_GE:
		return ev_int(a.d >= b.d);
	case COND_F_EQ: /* yara: closer than DBL_EPSILON (0.1 + 0.2 == 0.3) */
		return ev_int(fabs(a.d - b.d) < DBL_EPSILON);
	default:
		return ev_int(fabs(a.d - b.d) >= DBL_EPSILON);
	}
}

/* The result of a quantified loop or of `of`. */
static int64_t
ev_quant(uint8_t q, struct ev_val n, uint64_t found, uint64_t total, int is_of)
{
	if (q == COND_Q_EXPR && n.undef)
		q = COND_Q_ALL;
	switch (q) {
	case COND_Q_ALL:
		return found == total;
	case COND_Q_ANY:
		return found >= 1;
	case COND_Q_NONE:
		return found == 0;
	default:
		if (is_of && n.i == 0)
			return found == 0;
		if (n.i <= 0)
			return 1;
		return found >= (uint64_t)n.i;
	}
}

static int ev_range(struct ev *e, size_t start, size_t end);

/* The signature of COND_MOD_VALUE / COND_MOD_CALL's operands, read: the
 * module, its signature and the letters of what it pops (idx, then args;
 * *nl of them), or NULL. */
static const struct module *
ev_modsig(struct ev *e, uint8_t op, uint16_t *id, char *letters, size_t len, size_t *nl, char *ret)
{
	const struct module *m;
	const struct mod_sig *sig;
	const char *args;
	size_t ni, na;
	uint8_t mid;

	if (rbuf_u8(&e->b, &mid) != 0 || rbuf_u16(&e->b, id) != 0 || (m = mod_get(mid)) == NULL)
		return NULL;
	if (op == COND_MOD_VALUE ? *id == 0 || *id >= m->nvalues : *id == 0 || *id >= m->nfuncs)
		return NULL;
	sig = op == COND_MOD_VALUE ? &m->values[*id] : &m->funcs[*id];
	/* Not snprintf: this runs for every module value a loop reads. */
	args = op == COND_MOD_CALL && sig->args != NULL ? sig->args : "";
	ni = sig->idx != NULL ? strlen(sig->idx) : 0;
	na = strlen(args);
	if (ni + na >= len)
		return NULL;
	memcpy(letters, sig->idx != NULL ? sig->idx : "", ni);
	memcpy(letters + ni, args, na + 1);
	*nl = ni + na;
	*ret = sig->ret;
	return m;
}

/* A module's value or function for this file (undefined if an index or
 * argument is, or if the file is not the module's format). */
static int
ev_module(struct ev *e, uint8_t op, int base)
{
	struct mod_arg args[2 * MOD_MAX_ARGS];
	struct mod_file *mf = e->env->mods;
	char letters[2 * MOD_MAX_ARGS + 1], ret = 0;
	const struct module *m;
	struct mod_value out;
	struct ev_val a, res;
	void *data = NULL;
	uint16_t id;
	size_t n, k;
	int r, undef = 0;

	if ((m = ev_modsig(e, op, &id, letters, sizeof(letters), &n, &ret)) == NULL)
		return WARD_EVERIFY;
	memset(args, 0, sizeof(args));
	for (k = n; k-- > 0;) {
		if ((r = ev_pop(e, base, &a)) != 0)
			return r;
		undef |= a.undef;
		args[k].i = a.i;
		args[k].d = a.d;
		args[k].s = a.s;
		args[k].slen = a.slen;
		if (letters[k] == 'r')
			args[k].re = a.i >= 0 && (uint64_t)a.i < e->rs->nregexes
					 ? e->rs->regexes[a.i]
					 : NULL;
	}
	res = ret == 'f' ? ev_flt(0) : ev_int(0);
	res.undef = 1;
	if (ret == 's') {
		res.is_str = 1;
		res.s = (const uint8_t *)"";
	}
	if (undef || mf == NULL || e->sp >= WARD_MAX_STACK)
		return ev_push(e, res);
	if (m->load != NULL && (data = mod_file_data(mf, m)) == NULL)
		return ev_push(e, res);
	memset(&out, 0, sizeof(out));
	out.buf = mf->sbuf[e->sp]; /* the slot the value goes to */
	if (op == COND_MOD_VALUE && m->value != NULL)
		m->value(data, id, args, &out);
	else if (op == COND_MOD_CALL && m->call != NULL)
		m->call(data, &mf->f, id, args, &out);
	if (!out.defined)
		return ev_push(e, res);
	res.undef = 0;
	res.i = out.i;
	res.d = out.d;
	if (ret == 's') {
		res.s = out.s != NULL ? out.s : (const uint8_t *)"";
		res.slen = out.s != NULL ? out.slen : 0;
	}
	return ev_push(e, res);
}

/* Runs a loop body once; *truth = the body is defined and true. */
static int
ev_body(struct ev *e, size_t start, size_t end, int *truth)
{
	struct ev_val v;
	int base = e->sp, r;

	if ((r = ev_range(e, start, end)) != 0)
		return r;
	if ((r = ev_pop(e, base, &v)) != 0)
		return r;
	*truth = !v.undef && (v.is_str ? v.slen > 0 : v.i != 0);
	return 0;
}

static int
ev_set(struct ev *e, uint8_t *q, uint32_t *n, size_t *set_off)
{
	if (rbuf_u8(&e->b, q) != 0 || rbuf_u32(&e->b, n) != 0)
		return WARD_EVERIFY;
	*set_off = e->b.off;
	if (*n > rbuf_left(&e->b) / 4)
		return WARD_EVERIFY;
	e->b.off += (size_t)*n * 4;
	return 0;
}

static uint32_t
ev_set_item(const struct ev *e, size_t set_off, uint32_t i)
{
	struct rbuf b = e->b;
	uint32_t s = COND_STR_CURRENT;

	b.off = set_off + (size_t)i * 4;
	if (rbuf_u32(&b, &s) != 0)
		return COND_STR_CURRENT - 1;
	return s;
}

static int
ev_loop(struct ev *e, uint8_t op, int base, size_t end)
{
	struct ev_val n = ev_undef(), lo = ev_undef(), hi = ev_undef();
	uint64_t found = 0, total = 0;
	uint32_t cnt = 0, len, i;
	size_t set_off = 0, body;
	uint8_t q, slot = 0;
	int64_t k;
	int r = 0, truth, decided = -1;

	if (op == COND_LOOP_OF) {
		if ((r = ev_set(e, &q, &cnt, &set_off)) != 0)
			return r;
		if (q == COND_Q_EXPR && (r = ev_pop(e, base, &n)) != 0)
			return r;
	} else {
		if (rbuf_u8(&e->b, &q) != 0 || rbuf_u8(&e->b, &slot) != 0)
			return WARD_EVERIFY;
		if ((r = ev_pop(e, base, &hi)) != 0 ||
		    (op == COND_LOOP_RANGE && (r = ev_pop(e, base, &lo)) != 0))
			return r;
		if (q == COND_Q_EXPR && (r = ev_pop(e, base, &n)) != 0)
			return r;
		if (op == COND_LOOP_ITEMS) {
			/* Positions 0 .. count - 1; no item for an undefined count
			 * (YARA: an undefined array iterates as an empty one). */
			lo = ev_int(0);
			if (hi.undef || hi.is_str || hi.i <= 0)
				hi = ev_undef();
			else
				hi.i =
				    (hi.i > WARD_MAX_LOOP_ITEMS ? WARD_MAX_LOOP_ITEMS : hi.i) - 1;
		}
	}
	if (rbuf_u32(&e->b, &len) != 0 || len > end - e->b.off)
		return WARD_EVERIFY;
	if (e->nloops >= WARD_MAX_LOOP_DEPTH || slot >= WARD_MAX_LOOP_DEPTH)
		return WARD_EVERIFY;
	body = e->b.off;
	e->nloops++;
	if (op == COND_LOOP_OF) {
		uint32_t saved = e->cur_str;

		for (i = 0; i < cnt; i++) {
			e->cur_str = ev_set_item(e, set_off, i);
			if ((r = ev_body(e, body, body + len, &truth)) != 0)
				break;
			found += (uint64_t)truth;
			total++;
		}
		e->cur_str = saved;
	} else if (!lo.undef && !hi.undef && !lo.is_str && !hi.is_str && lo.i <= hi.i) {
		for (k = lo.i;; k++) {
			e->vars[slot] = k;
			if ((r = ev_body(e, body, body + len, &truth)) != 0)
				break;
			found += (uint64_t)truth;
			total++;
			/* Stop early once the answer can't change, as yara does. */
			if ((q == COND_Q_ANY && truth) || (q == COND_Q_ALL && !truth) ||
			    (q == COND_Q_NONE && truth)) {
				decided = q == COND_Q_ANY;
				break;
			}
			if (k == hi.i)
				break;
		}
	}
	e->nloops--;
	if (r != 0)
		return r;
	e->b.len = end;
	e->b.off = body + len;
	if (decided >= 0)
		return ev_push(e, ev_int(decided));
	if (op != COND_LOOP_OF && total == 0)
		return ev_push(e, ev_int(0));
	return ev_push(e, ev_int(ev_quant(q, n, found, total, 0)));
}

static int
ev_strinsn(struct ev *e, uint8_t op, int base)
{
	const struct rs_matches *m;
	struct ev_val a, b;
	uint32_t s, j;
	int r;

	if (rbuf_u32(&e->b, &s) != 0)
		return WARD_EVERIFY;
	m = ev_matches(e, s);
	switch (op) {
	case COND_FOUND:
		return ev_push(e, ev_int(m->n > 0));
	case COND_COUNT:
		return ev_push(e, ev_int(m->n));
	case COND_AT:
		if ((r = ev_pop(e, base, &a)) != 0)
			return r;
		if (a.undef || a.i < 0)
			return ev_push(e, ev_int(0));
		j = ev_lower(m, (uint64_t)a.i);
		return ev_push(e, ev_int(j < m->n && m->m[j].off == (uint64_t)a.i));
	case COND_IN:
	case COND_COUNT_IN:
		if ((r = ev_pop(e, base, &b)) != 0 || (r = ev_pop(e, base, &a)) != 0)
			return r;
		if (a.undef || b.undef)
			return ev_push(e, ev_undef());
		if (b.i < 0 || b.i < a.i)
			return ev_push(e, ev_int(0));
		j = ev_lower(m, a.i < 0 ? 0 : (uint64_t)a.i);
		if (op == COND_IN)
			return ev_push(e, ev_int(j < m->n && m->m[j].off <= (uint64_t)b.i));
		s = j;
		while (s < m->n && m->m[s].off <= (uint64_t)b.i)
			s++;
		return ev_push(e, ev_int(s - j));
	default: /* OFFSET, LENGTH */
		if ((r = ev_pop(e, base, &a)) != 0)
			return r;
		if (a.undef || a.i < 1 || (uint64_t)a.i > m->n)
			return ev_push(e, ev_undef());
		if (op == COND_OFFSET)
			return ev_push(e, ev_int((int64_t)m->m[a.i - 1].off));
		return ev_push(e, ev_int(m->m[a.i - 1].len));
	}
}

static int
ev_of(struct ev *e, int base)
{
	struct ev_val n = ev_undef();
	uint64_t found = 0;
	uint32_t cnt, i;
	size_t set_off;
	uint8_t q;
	int r;

	if ((r = ev_set(e, &q, &cnt, &set_off)) != 0)
		return r;
	if (q == COND_Q_EXPR && (r = ev_pop(e, base, &n)) != 0)
		return r;
	for (i = 0; i < cnt; i++)
		found += ev_matches(e, ev_set_item(e, set_off, i))->n > 0;
	return ev_push(e, ev_int(ev_quant(q, n, found, cnt, 1)));
}

/*
 * cond_false_without_matches runs the code with no string matches and
 * everything else about the file unknown.  What depends on the file pushes
 * an unknown value, and a loop is unknown as a whole (its body is skipped).
 * Returns 0 when it handled op, 1 when the ordinary interpreter should run
 * it, or a negative WARD_E*.
 */
static int
ev_abstract_insn(struct ev *e, uint8_t op, int base, size_t end)
{
	struct ev_val v = ev_int(0), t;
	uint32_t u, cnt, len;
	size_t set_off;
	uint8_t q, k;
	int r;

	v.unk = 1;
	switch (op) {
	case COND_PUSH_EXT:
		if (rbuf_u32(&e->b, &u) != 0 || u >= e->rs->next)
			return WARD_EVERIFY;
		if (e->rs->ext[u].type == RS_STR) {
			v.is_str = 1;
			v.s = (const uint8_t *)"";
		}
		return ev_push(e, v);
	case COND_PUSH_RULE:
		return rbuf_u32(&e->b, &u) != 0 ? WARD_EVERIFY : ev_push(e, v);
	case COND_PUSH_VAR:
		return rbuf_u8(&e->b, &k) != 0 ? WARD_EVERIFY : ev_push(e, v);
	case COND_FILESIZE:
		return ev_push(e, v);
	case COND_READ:
		if (rbuf_u8(&e->b, &k) != 0 || (r = ev_pop(e, base, &t)) != 0)
			return WARD_EVERIFY;
		return ev_push(e, v);
	case COND_MOD_VALUE:
	case COND_MOD_CALL: {
		/* A module's value depends on the file: unknown, of its type. */
		char letters[2 * MOD_MAX_ARGS + 1], ret = 0;
		uint16_t id;
		size_t n;

		if (ev_modsig(e, op, &id, letters, sizeof(letters), &n, &ret) == NULL)
			return WARD_EVERIFY;
		for (; n > 0; n--)
			if ((r = ev_pop(e, base, &t)) != 0)
				return r;
		v.is_flt = ret == 'f';
		if (ret == 's') {
			v.is_str = 1;
			v.s = (const uint8_t *)"";
		}
		return ev_push(e, v);
	}
	case COND_LOOP_OF:
	case COND_LOOP_RANGE:
	case COND_LOOP_ITEMS:
		if (op == COND_LOOP_OF) {
			if ((r = ev_set(e, &q, &cnt, &set_off)) != 0)
				return r;
		} else if (rbuf_u8(&e->b, &q) != 0 || rbuf_u8(&e->b, &k) != 0 ||
			   (r = ev_pop(e, base, &t)) != 0 ||
			   (op == COND_LOOP_RANGE && (r = ev_pop(e, base, &t)) != 0)) {
			return WARD_EVERIFY;
		}
		if (q == COND_Q_EXPR && (r = ev_pop(e, base, &t)) != 0)
			return r;
		if (rbuf_u32(&e->b, &len) != 0 || len > end - e->b.off)
			return WARD_EVERIFY;
		e->b.off += len;
		return ev_push(e, v);
	default:
		return 1;
	}
}

/* The result of op in abstract mode, given which operands were unknown. */
static void
ev_abstract_result(struct ev *e, uint8_t op, const struct ev_val *ops, int nops)
{
	struct ev_val *res = &e->st[e->sp - 1];
	int i, any_unk = 0;

	for (i = 0; i < nops; i++)
		any_unk |= ops[i].unk;
	if (!any_unk)
		return;
	switch (op) {
	case COND_AT:	  /* no match is at any offset */
	case COND_OFFSET: /* @a[i] of a string without matches is undefined */
	case COND_LENGTH:
		return;
	case COND_AND: /* false as soon as one side is known false or undefined */
		for (i = 0; i < nops; i++)
			if (!ops[i].unk && (ops[i].undef || ops[i].i == 0))
				return;
		break;
	case COND_OR: /* true as soon as one side is known true */
		for (i = 0; i < nops; i++)
			if (!ops[i].unk && !ops[i].undef && ops[i].i != 0)
				return;
		break;
	default:
		break;
	}
	*res = ev_int(0);
	res->unk = 1;
}

static int
ev_insn(struct ev *e, uint8_t op, int base, size_t end)
{
	const struct rs_external *x;
	struct ev_val a, b;
	const uint8_t *p;
	size_t n;
	uint32_t u;
	uint8_t k;
	int64_t i;
	int r;

	if (e->abstract && (r = ev_abstract_insn(e, op, base, end)) <= 0)
		return r;
	switch (op) {
	case COND_PUSH_INT:
		if (rbuf_i64(&e->b, &i) != 0)
			return WARD_EVERIFY;
		return ev_push(e, ev_int(i));
	case COND_PUSH_UNDEF:
		return ev_push(e, ev_undef());
	case COND_PUSH_STR:
		if (rbuf_lenbytes(&e->b, WARD_MAX_STRING_BYTES, &p, &n) != 0)
			return WARD_EVERIFY;
		a = ev_int(0);
		a.is_str = 1;
		a.s = p;
		a.slen = (uint32_t)n;
		return ev_push(e, a);
	case COND_PUSH_EXT:
		if (rbuf_u32(&e->b, &u) != 0 || u >= e->rs->next)
			return WARD_EVERIFY;
		x = e->env->ext != NULL ? &e->env->ext[u] : &e->rs->ext[u];
		a = ev_int(x->i);
		if (x->type == RS_STR) {
			a.is_str = 1;
			a.s = (const uint8_t *)(x->s != NULL ? x->s : "");
			a.slen = x->s != NULL ? (uint32_t)x->slen : 0;
		}
		return ev_push(e, a);
	case COND_PUSH_RULE:
		if (rbuf_u32(&e->b, &u) != 0 || u >= e->rs->nrules)
			return WARD_EVERIFY;
		return ev_push(e, ev_int(e->results[u] != 0));
	case COND_PUSH_VAR:
		if (rbuf_u8(&e->b, &k) != 0 || k >= WARD_MAX_LOOP_DEPTH)
			return WARD_EVERIFY;
		return ev_push(e, ev_int(e->vars[k]));
	case COND_FILESIZE:
		return ev_push(e, ev_int((int64_t)e->env->filesize));
	case COND_READ:
		if (rbuf_u8(&e->b, &k) != 0 || (r = ev_pop(e, base, &a)) != 0)
			return WARD_EVERIFY;
		return ev_push(e, ev_read(e, k, a));
	case COND_FOUND:
	case COND_COUNT:
	case COND_COUNT_IN:
	case COND_AT:
	case COND_IN:
	case COND_OFFSET:
	case COND_LENGTH:
		return ev_strinsn(e, op, base);
	case COND_OF:
		return ev_of(e, base);
	case COND_LOOP_OF:
	case COND_LOOP_RANGE:
	case COND_LOOP_ITEMS:
		return ev_loop(e, op, base, end);
	case COND_NEG:
	case COND_BNOT:
		if ((r = ev_pop(e, base, &a)) != 0)
			return r;
		if (a.undef || a.is_str)
			return ev_push(e, ev_undef());
		return ev_push(e, ev_int(op == COND_NEG ? (int64_t)(0 - (uint64_t)a.i) : ~a.i));
	case COND_NOT:
		if ((r = ev_pop(e, base, &a)) != 0)
			return r;
		if (a.undef)
			return ev_push(e, a);
		return ev_push(e, ev_int(a.is_str ? a.slen == 0 : a.i == 0));
	case COND_DEFINED:
		if ((r = ev_pop(e, base, &a)) != 0)
			return r;
		return ev_push(e, ev_int(!a.undef));
	case COND_STR_TO_BOOL:
		if ((r = ev_pop(e, base, &a)) != 0)
			return r;
		if (a.undef)
			return ev_push(e, a);
		return ev_push(e, ev_int(a.is_str ? a.slen > 0 : a.i != 0));
	case COND_PUSH_FLOAT:
		if (rbuf_i64(&e->b, &i) != 0)
			return WARD_EVERIFY;
		a = ev_flt(0);
		memcpy(&a.d, &i, sizeof(a.d));
		return ev_push(e, a);
	case COND_ITOF:
	case COND_F_NEG:
	case COND_F_TO_BOOL:
		if ((r = ev_pop(e, base, &a)) != 0)
			return r;
		if (a.undef || a.is_str || (op != COND_ITOF && !a.is_flt))
			return ev_push(e, ev_undef());
		if (op == COND_ITOF)
			return ev_push(e, ev_flt((double)a.i));
		return ev_push(e, op == COND_F_NEG ? ev_flt(-a.d) : ev_int(a.d != 0));
	case COND_PUSH_REGEX:
		if (rbuf_u32(&e->b, &u) != 0 || u >= e->rs->nregexes)
			return WARD_EVERIFY;
		return ev_push(e, ev_int(u));
	case COND_MOD_VALUE:
	case COND_MOD_CALL:
		return ev_module(e, op, base);
	case COND_MATCHES:
		if (rbuf_u32(&e->b, &u) != 0 || u >= e->rs->nregexes ||
		    (r = ev_pop(e, base, &a)) != 0)
			return WARD_EVERIFY;
		if (a.undef || !a.is_str || a.slen == 0 || e->rs->regexes[u] == NULL)
			return ev_push(e, ev_int(0));
		/* any match counts, an empty one too (exec.c, OP_MATCHES) */
		return ev_push(e, ev_int(pattern_search(e->rs->regexes[u], a.s, a.slen) >= 0));
	default:
		break;
	}
	if (op >= COND_ADD && op <= COND_IEQUALS) {
		if ((r = ev_pop(e, base, &b)) != 0 || (r = ev_pop(e, base, &a)) != 0)
			return r;
		if (op >= COND_SEQ) {
			if (a.undef || b.undef || !a.is_str || !b.is_str)
				return ev_push(e, ev_undef());
			return ev_push(e, ev_int(ev_strop(op, &a, &b)));
		}
		return ev_push(e, ev_arith(op, a, b));
	}
	if (op >= COND_F_ADD && op <= COND_F_NE) {
		if ((r = ev_pop(e, base, &b)) != 0 || (r = ev_pop(e, base, &a)) != 0)
			return r;
		return ev_push(e, ev_farith(op, a, b));
	}
	if (op == COND_AND || op == COND_OR) {
		if ((r = ev_pop(e, base, &b)) != 0 || (r = ev_pop(e, base, &a)) != 0)
			return r;
		if (op == COND_AND)
			return ev_push(e, ev_int(!a.undef && !b.undef && a.i != 0 && b.i != 0));
		if (a.undef && b.undef) /* yara 4.2.3: both taken as false */
			return ev_push(e, ev_int(0));
		if (a.undef)
			return ev_push(e, b);
		if (b.undef)
			return ev_push(e, a);
		return ev_push(e, ev_int(a.i != 0 || b.i != 0));
	}
	return WARD_EVERIFY;
}

static int
ev_range(struct ev *e, size_t start, size_t end)
{
	int base = e->sp, r = 0;
	uint32_t off;
	uint8_t op;

	e->b.len = end;
	e->b.off = start;
	while (e->b.off < end) {
		if (++*e->steps > WARD_MAX_EVAL_STEPS)
			return WARD_ELIMIT;
		if (rbuf_u8(&e->b, &op) != 0)
			return WARD_EVERIFY;
		if (op == COND_JFALSE || op == COND_JTRUE) {
			if (rbuf_u32(&e->b, &off) != 0 || e->sp <= base || off > end - e->b.off)
				return WARD_EVERIFY;
			const struct ev_val *t = &e->st[e->sp - 1];
			int tv = !t->undef && (t->is_str ? t->slen > 0 : t->i != 0);

			/* Unknown: fall through; the AND/OR below decides. */
			if (!t->undef && !t->unk &&
			    ((op == COND_JFALSE && !tv) || (op == COND_JTRUE && tv)))
				e->b.off += off;
			continue;
		}
		if (e->abstract) {
			struct ev_val ops[2];
			int sp0 = e->sp, nops = sp0 < 2 ? sp0 : 2;

			memcpy(ops, &e->st[sp0 - nops], (size_t)nops * sizeof(ops[0]));
			if ((r = ev_insn(e, op, base, end)) != 0)
				return r;
			/* Every instruction pushes one value; those it popped were
			 * the top sp0 - (sp - 1) values before it. */
			if (e->sp >= 1 && sp0 - (e->sp - 1) <= nops && sp0 - (e->sp - 1) > 0)
				ev_abstract_result(e, op, ops + nops - (sp0 - (e->sp - 1)),
						   sp0 - (e->sp - 1));
			e->b.len = end;
			continue;
		}
		if ((r = ev_insn(e, op, base, end)) != 0)
			return r;
		e->b.len = end;
	}
	if (e->sp != base + 1)
		return WARD_EVERIFY;
	return r;
}

int
cond_eval(const struct ruleset *rs, uint32_t rule, const struct rs_scan_env *env,
	  const uint8_t *results, uint64_t *steps, int *result)
{
	struct ev e;
	const struct ev_val *v;
	int r;

	*result = 0;
	if (rs == NULL || rule >= rs->nrules || env == NULL)
		return WARD_EINVAL;
	/* Not the value stack: a value is always pushed before it is read
	 * (8 KiB cleared for each rule and file was a tenth of a scan). */
	ev_init(&e);
	e.rs = rs;
	e.r = &rs->rules[rule];
	e.env = env;
	e.results = results;
	e.steps = steps;
	e.cur_str = COND_STR_CURRENT;
	rbuf_init(&e.b, e.r->code, e.r->code_len);
	if ((r = ev_range(&e, 0, e.r->code_len)) != 0)
		return r;
	v = &e.st[0];
	*result = !v->undef && (v->is_str ? v->slen > 0 : v->i != 0);
	return 0;
}

int
cond_false_without_matches(const struct ruleset *rs, uint32_t rule, int *yes)
{
	static const struct rs_scan_env none = {NULL, 0, NULL, NULL, NULL, NULL};
	struct ev e;
	const struct ev_val *v;
	uint64_t steps = 0;
	int r;

	*yes = 0;
	if (rs == NULL || rule >= rs->nrules)
		return WARD_EINVAL;
	ev_init(&e);
	e.rs = rs;
	e.r = &rs->rules[rule];
	e.env = &none;
	e.results = NULL;
	e.steps = &steps;
	e.cur_str = COND_STR_CURRENT;
	e.abstract = 1;
	rbuf_init(&e.b, e.r->code, e.r->code_len);
	if ((r = ev_range(&e, 0, e.r->code_len)) != 0)
		return r;
	v = &e.st[0];
	*yes = !v->unk && (v->undef || (v->is_str ? v->slen == 0 : v->i == 0));
	return 0;
}
