/*
 * pattern_exec: the exact verifier.  A Pike VM (Thompson NFA simulation
 * with thread priorities) runs a pattern's program from one start offset,
 * reproducing YARA 4.2's yr_re_exec: threads advance in lock step, a
 * thread reaching MATCH records the match length and cuts every thread of
 * lower priority, the last recorded length wins (PMODE_PRIORITY); hex
 * strings without alternatives take the shortest match (yr_re_fast_exec,
 * PMODE_SHORTEST).  A regexp with atoms is verified from each place
 * where an atom is found, as YARA does (atoms_match).  A run extends at
 * most WARD_RE_SCAN_LIMIT bytes (from the start, or on each side of an
 * atom); chained strings apply it to each piece.
 *
 * Must hold: no allocation while verifying (the scratch, with its memo,
 * is the calling thread's pattern_vm, or on the stack; bounded by
 * WARD_MAX_PATTERN_PROG), no read outside data[0..data_len), time
 * O(steps x program size) per run and at most HITS_MAX runs from atoms per
 * start, no shared mutable state (thread-safe with a scratch per thread).
 */
#include "pattern/pattern.h"
#include "pattern/pattern_impl.h"
#include "util/alloc.h"
#include "util/limits.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* One verification from an atom's place (see struct pattern_memo). */
struct memo_slot {
	size_t pos;   /* the place */
	int32_t len;  /* the match's length from the place, -1 none */
	uint32_t gen; /* the memo's generation it belongs to, else empty */
	uint8_t k;    /* the atom */
	uint8_t wide; /* the wide form matched */
};

struct pattern_memo {
	uint32_t gen;
	/* the data the slots are about */
	const struct pattern *p;
	const uint8_t *data;
	size_t len;
	uint64_t base;
	int at_eof;
	struct memo_slot slot[PATTERN_MEMO_SLOTS];
};

struct vm {
	const struct pattern *p;
	struct pattern_memo *memo; /* NULL: none */
	const uint8_t *data;
	size_t len;
	uint64_t base;
	int at_eof;
	unsigned cs;  /* character size: 1, or 2 for wide */
	size_t start; /* where the current run started */
	int prune;    /* keep only threads that can still reach an atom */
	/* mark[pc] == gen: pc is already on the list being built.  gen only
	 * grows, so marks left by earlier runs (of any pattern) never equal
	 * it and need no clearing; when it wraps, every mark is cleared. */
	uint32_t gen;
	uint32_t mark[WARD_MAX_PATTERN_PROG];
	uint16_t l1[WARD_MAX_PATTERN_PROG], l2[WARD_MAX_PATTERN_PROG];
	uint16_t stk[2 * WARD_MAX_PATTERN_PROG + 2];
	/* YARA's split ids (p->shared_sid only): smark[sid] == the sync's
	 * generation when a thread of the sync took that split */
	uint16_t sgen;
	uint16_t smark[WARD_MAX_PATTERN_PROG];
	uint16_t stkg[2 * WARD_MAX_PATTERN_PROG + 2];
};

static int
is_word(int c)
{
	return isalnum(c) || c == '_';
}

/* Is the character at offset i (cs bytes) inside data and a word char? */
static int
vm_word_at(const struct vm *m, size_t i)
{
	if (i + m->cs > m->len)
		return 0;
	if (m->cs == 2 && m->data[i + 1] != 0)
		return 0;
	return is_word(m->data[i]);
}

/*
 * YARA's \b holds, whatever the characters, where its run cannot look on
 * (re.c, RE_OPCODE_WORD_BOUNDARY): at the start of the file, at its end,
 * and at the scan limit of the run; \B never holds there.
 */
static int
vm_edge(const struct vm *m, size_t i)
{
	size_t lim = WARD_RE_SCAN_LIMIT - WARD_RE_SCAN_LIMIT % m->cs;

	return m->base + i < m->cs || (m->at_eof && m->len - i < m->cs) || i - m->start >= lim;
}

static int
vm_assert(const struct vm *m, uint8_t op, size_t i)
{
	int prev, cur, b;

	switch (op) {
	case POP_BOL:
		return m->base + i == 0;
	case POP_EOL:
		return m->at_eof && i == m->len;
	default:
		if (vm_edge(m, i)) {
			b = 1;
		} else {
			prev = i >= m->cs ? vm_word_at(m, i - m->cs) : 0;
			cur = vm_word_at(m, i);
			b = prev != cur;
		}
		return op == POP_WORDB ? b : !b;
	}
}

/*
 * A new generation of split ids for a sync (a thread's closure after it
 * read a character, or after an assertion: YARA syncs again then).
 */
static uint16_t
vm_newsync(struct vm *m, int top)
{
	/* one closure takes at most nprog + 1 generations */
	if (top && m->sgen >= UINT16_MAX - m->p->nprog - 2) {
		/* all of them: the scratch is kept from pattern to pattern */
		memset(m->smark, 0, sizeof(m->smark));
		m->sgen = 0;
	}
	return ++m->sgen;
}

static int
pre_atom(const struct pattern *p, uint32_t pc)
{
	return (p->pre_atom[pc >> 3] >> (pc & 7)) & 1;
}

/*
 * Adds pc and its epsilon closure at offset i to list l (n entries), in
 * priority order.  A pc already reached at this offset is not reached
 * again; where the program has shared split ids, a thread that meets a
 * split it took since it last read a character dies, as in YARA's
 * _yr_re_fiber_sync (so x{3} cannot match three empty x at once).
 */
static void
vm_add(struct vm *m, uint16_t *l, size_t *n, uint32_t pc0, size_t i)
{
	const struct pattern_insn *prog = m->p->prog;
	int shared = m->p->shared_sid;
	size_t sp = 0;
	uint32_t pc;
	uint16_t g = 0;

	if (shared)
		g = vm_newsync(m, 1);
	m->stkg[sp] = g;
	m->stk[sp++] = (uint16_t)pc0;
	while (sp > 0) {
		pc = m->stk[--sp];
		g = m->stkg[sp];
		if (m->mark[pc] == m->gen)
			continue;
		if (shared && prog[pc].op == POP_SPLIT) {
			if (m->smark[prog[pc].sid] == g)
				continue; /* killed, but another thread may take pc */
			m->smark[prog[pc].sid] = g;
		}
		m->mark[pc] = m->gen;
		switch (prog[pc].op) {
		case POP_JMP:
			m->stkg[sp] = g;
			m->stk[sp++] = (uint16_t)prog[pc].x;
			break;
		case POP_SPLIT:
			m->stkg[sp] = g;
			m->stk[sp++] = (uint16_t)prog[pc].y;
			m->stkg[sp] = g;
			m->stk[sp++] = (uint16_t)prog[pc].x;
			break;
		case POP_BOL:
		case POP_EOL:
		case POP_WORDB:
		case POP_NWORDB:
			if (vm_assert(m, prog[pc].op, i)) {
				m->stkg[sp] = shared ? vm_newsync(m, 0) : g;
				m->stk[sp++] = (uint16_t)(pc + 1);
			}
			break;
		default:
			if (!m->prune || pre_atom(m->p, pc))
				l[(*n)++] = (uint16_t)pc;
			break;
		}
	}
}

static int
vm_consume(const struct vm *m, const struct pattern_insn *in, size_t i)
{
	uint8_t c = m->data[i];

	if (m->cs == 2 && m->data[i + 1] != 0)
		return 0;
	switch (in->op) {
	case POP_BYTE:
		return c == in->x;
	case POP_CLASS:
		return (m->p->cls[in->x][c >> 3] >> (c & 7)) & 1;
	case POP_ANY:
		return 1;
	default:
		return 0;
	}
}

static void
vm_newgen(struct vm *m)
{
	if (++m->gen == 0) {
		memset(m->mark, 0, sizeof(m->mark));
		m->gen = 1;
	}
}

/*
 * Runs the program from pc at offset start; returns the match length, or
 * -1 when there is none (0 is an empty match).
 */
static long
vm_run(struct vm *m, uint32_t pc, size_t start)
{
	const struct pattern_insn *prog = m->p->prog;
	uint16_t *cl = m->l1, *nl = m->l2, *tmp;
	size_t ncl = 0, nnl, k, i = start, maxb;
	long best = -1;

	maxb = m->len - start;
	if (maxb > WARD_RE_SCAN_LIMIT)
		maxb = WARD_RE_SCAN_LIMIT;
	maxb -= maxb % m->cs;
	m->start = start;
	vm_newgen(m);
	vm_add(m, cl, &ncl, pc, i);
	while (ncl > 0) {
		vm_newgen(m);
		nnl = 0;
		for (k = 0; k < ncl; k++) {
			const struct pattern_insn *in = &prog[cl[k]];

			if (in->op == POP_MATCH) {
				best = (long)(i - start);
				if (m->p->mode == PMODE_SHORTEST && best > 0)
					goto out;
				break; /* cut the threads of lower priority */
			}
			if (i - start < maxb && vm_consume(m, in, i))
				vm_add(m, nl, &nnl, cl[k] + 1, i + m->cs);
		}
		tmp = cl;
		cl = nl;
		nl = tmp;
		ncl = nnl;
		i += m->cs;
	}
out:
	return best;
}

static int
fullword_ok(const struct vm *m, size_t s, size_t e)
{
	const uint8_t *d = m->data;

	if (m->cs == 1) {
		if (s >= 1 && isalnum(d[s - 1]))
			return 0;
		if (e < m->len && isalnum(d[e]))
			return 0;
	} else {
		if (s >= 2 && d[s - 1] == 0 && isalnum(d[s - 2]))
			return 0;
		if (e + 1 < m->len && d[e + 1] == 0 && isalnum(d[e]))
			return 0;
	}
	return 1;
}

static uint32_t
text_match(const struct pattern *p, const struct vm *m, size_t pos)
{
	size_t n = p->srclen, k;
	const uint8_t *d = m->data + pos;
	uint32_t r = 0;

	if (m->len - pos < n * m->cs)
		goto out;
	for (k = 0; k < n; k++) {
		uint8_t a = d[k * m->cs], b = p->src[k];

		if (a != b && !((p->flags & PATTERN_NOCASE) && tolower(a) == tolower(b) &&
				a < 128 && b < 128))
			goto out;
		if (m->cs == 2 && d[k * 2 + 1] != 0)
			goto out;
	}
	r = (uint32_t)(n * m->cs);
out:
	return r;
}

/* Interval set of candidate starts for the next piece of a chain. */
struct ivset {
	size_t lo[PATTERN_MAX_PIECES], hi[PATTERN_MAX_PIECES]; /* inclusive */
	size_t n;
};

static void
iv_add(struct ivset *s, size_t lo, size_t hi)
{
	size_t k, best = 0, gap, bestgap = SIZE_MAX;

	for (k = 0; k < s->n; k++) {
		if (lo <= s->hi[k] + 1 && hi + 1 >= s->lo[k]) {
			s->lo[k] = lo < s->lo[k] ? lo : s->lo[k];
			s->hi[k] = hi > s->hi[k] ? hi : s->hi[k];
			return;
		}
	}
	if (s->n < PATTERN_MAX_PIECES) {
		s->lo[s->n] = lo;
		s->hi[s->n] = hi;
		s->n++;
		return;
	}
	/* Full: widen the nearest interval (a superset of starts; the pieces
	 * are still verified at each start, only the chain links loosen). */
	for (k = 0; k < s->n; k++) {
		gap = lo > s->hi[k] ? lo - s->hi[k] : s->lo[k] - hi;
		if (gap < bestgap) {
			bestgap = gap;
			best = k;
		}
	}
	s->lo[best] = lo < s->lo[best] ? lo : s->lo[best];
	s->hi[best] = hi > s->hi[best] ? hi : s->hi[best];
}

static void
iv_window(struct ivset *s, size_t end, const struct pattern_piece *pc, size_t len)
{
	size_t lo = end + pc->gap_min, hi;

	if (pc->gap_min > len || lo >= len)
		return;
	hi = pc->gap_max == UINT32_MAX || pc->gap_max > len - end ? len - 1 : end + pc->gap_max;
	if (hi >= len)
		hi = len - 1;
	iv_add(s, lo, hi);
}

/* A piece of a chain at t: its length, -1 if none; YARA checks fullword
 * on each piece (scan.c, _yr_scan_match_callback), not on the chain. */
static long
piece_match(struct vm *m, uint32_t q, size_t t)
{
	long l = vm_run(m, m->p->piece[q].pc, t);

	if (l > 0 && (m->p->flags & PATTERN_FULLWORD) && !fullword_ok(m, t, t + (size_t)l))
		l = -1;
	return l;
}

/*
 * A chained hex string or regexp: piece 0 at pos, then each next piece at
 * any start within the gap after an end of the previous one; the match
 * ends where the earliest-starting match of the last piece ends (YARA
 * keeps the first match it finds at an offset).
 */
static long
chain_match(struct vm *m, size_t pos)
{
	const struct pattern *p = m->p;
	struct ivset cur, next;
	size_t k, t, j;
	long l, res = -1;
	uint32_t q;

	l = piece_match(m, 0, pos);
	if (l <= 0)
		goto out;
	memset(&cur, 0, sizeof(cur));
	iv_window(&cur, pos + (size_t)l, &p->piece[1], m->len);
	for (q = 1; q < p->npieces && cur.n > 0; q++) {
		memset(&next, 0, sizeof(next));
		/* visit starts in increasing order */
		for (;;) {
			size_t lo = SIZE_MAX;

			for (k = 0; k < cur.n; k++)
				if (cur.lo[k] <= cur.hi[k] && cur.lo[k] < lo) {
					lo = cur.lo[k];
					j = k;
				}
			if (lo == SIZE_MAX)
				break;
			t = lo;
			cur.lo[j] = t + 1;
			if (cur.hi[j] == SIZE_MAX || t + 1 > cur.hi[j])
				cur.hi[j] = t; /* emptied: lo > hi */
			l = piece_match(m, q, t);
			if (l <= 0)
				continue;
			if (q + 1 == p->npieces) {
				res = (long)(t + (size_t)l - pos);
				goto out;
			}
			iv_window(&next, t + (size_t)l, &p->piece[q + 1], m->len);
		}
		cur = next;
	}
out:
	return res;
}

/* A hex or base64 string's leading alternation: the shortest non-empty
 * match (base64: the one YARA finds first). */
static long
branch_match(struct vm *m, size_t pos)
{
	const struct pattern *p = m->p;
	long l, best = -1;
	uint32_t k, bk = 0;

	for (k = 0; k < p->nbranch; k++) {
		l = vm_run(m, p->branch[k], pos);
		if (l <= 0)
			continue;
		if (p->nb64 > 0) {
			/* base64: the alternative YARA finds first */
			if (best < 0 || p->b64_found[k] < p->b64_found[bk]) {
				best = l;
				bk = k;
			}
			continue;
		}
		if (best < 0 || (p->greedy ? l > best : l < best))
			best = l;
	}
	return best;
}

/*
 * YARA verifies a regexp with atoms from each place where an atom is
 * found, in the order the places are found (by the end of the atom, the
 * longer atom first, then as the atoms' list orders them: see hit_add):
 * the rest of the
 * regexp from the atom gives the length (the ascii form first, the wide
 * one only if that does not match), and the part before the atom, run
 * backwards, gives every start from which it leads to the atom.  Each
 * start and length passing fullword is a match; at a start already
 * matched, the first one stays, except that a greedy regexp takes the
 * last one (scan.c, _yr_scan_add_match_to_list).
 *
 * For one start, the places are those where a thread run forwards from
 * the start reaches an atom's first instruction (the program before an
 * atom is laid out as YARA's backward code runs: pattern_cg.c).
 */
/* Places kept for one start: the nearest ones (past them, a greedy
 * regexp could keep an earlier verification than YARA). */
#define HITS_MAX 512

struct hit {
	uint32_t key;	/* where the atom's bytes end, from the start */
	uint32_t at;	/* where the atom is, from the start */
	uint32_t order; /* among equal atoms found at one place */
	uint8_t k;	/* the atom */
	uint8_t wide;	/* found by the wide run */
};

struct hits {
	struct hit h[HITS_MAX];
	size_t n;
};

/*
 * Do the bytes of atom k match at d (avail bytes)?  Wide (cs 2): YARA's
 * wide atom, the first characters each followed by 0x00, ATOMS_LEN bytes
 * at most.  *exact: as written, not another case of them (nocase).
 */
static int
atom_at(const struct pattern *p, uint32_t k, const uint8_t *d, size_t avail, unsigned cs,
	int *exact)
{
	const struct pattern_atom *a = &p->atom[k];
	size_t j, n = cs == 1 || a->len * 2 <= ATOMS_LEN ? a->len : ATOMS_LEN / 2;
	uint8_t x, y;

	*exact = 1;
	if (avail < n * cs)
		return 0;
	for (j = 0; j < n; j++) {
		if (cs == 2 && d[j * 2 + 1] != 0)
			return 0;
		if (a->mask[j] == 0)
			continue;
		x = d[j * cs];
		y = a->byte[j];
		if (x == y)
			continue;
		if (!(p->flags & PATTERN_NOCASE) || x >= 128 || y >= 128 ||
		    tolower(x) != tolower(y))
			return 0;
		*exact = 0;
	}
	return 1;
}

/*
 * Atom k reached at offset at from the start.  A wide place is found by
 * the wide atom (cut to ATOMS_LEN bytes), or earlier by the ascii one
 * where its bytes match too.  Equal atoms found at one place (the
 * alternatives of (abcdefgh|abcdef)) are verified in the order of YARA's
 * list of atoms (atoms.c, yr_atoms_extract_from_re; ahocorasick.c puts
 * the last one added first): the other cases of an atom (nocase) before
 * the atoms as written; among those as written, the regexp's order for
 * ascii and the reverse for wide, and the other way round among the
 * other cases.
 */
static void
hit_add(const struct vm *m, struct hits *h, uint32_t k, size_t at)
{
	const struct pattern *p = m->p;
	const uint8_t *d = m->data + m->start + at;
	size_t avail = m->len - m->start - at;
	unsigned len = p->atom[k].len, wlen = 2 * len > ATOMS_LEN ? ATOMS_LEN : 2 * len;
	int exact, ascii_too, dummy;
	struct hit *e;

	/* YARA finds only the atom's bytes: a thread reaching the atom where
	 * they are not is no place */
	if (h->n == HITS_MAX || !atom_at(p, k, d, avail, m->cs, &exact))
		return;
	e = &h->h[h->n++];
	e->k = (uint8_t)k;
	e->at = (uint32_t)at;
	e->wide = m->cs == 2;
	e->order = exact ? ATOMS_MAX : 0;
	ascii_too = m->cs == 2 && p->nvar == 2 && atom_at(p, k, d, avail, 1, &dummy);
	e->key = (uint32_t)(at + (m->cs == 1 || ascii_too ? len : wlen));
	e->order += (exact == !e->wide) ? k : ATOMS_MAX - 1 - k;
}

/* The places reached from pos in the current character size, into h. */
static void
vm_reach(struct vm *m, size_t pos, struct hits *h)
{
	const struct pattern_insn *prog = m->p->prog;
	uint16_t *cl = m->l1, *nl = m->l2, *tmp;
	size_t ncl = 0, nnl, k, i = pos, maxb;

	maxb = m->len - pos;
	if (maxb > WARD_RE_SCAN_LIMIT)
		maxb = WARD_RE_SCAN_LIMIT;
	maxb -= maxb % m->cs;
	m->start = pos;
	m->prune = 1;
	vm_newgen(m);
	vm_add(m, cl, &ncl, m->p->piece[0].pc, i);
	while (ncl > 0) {
		vm_newgen(m);
		nnl = 0;
		for (k = 0; k < ncl; k++) {
			if (prog[cl[k]].atom != 0)
				hit_add(m, h, prog[cl[k]].atom - 1u, i - pos);
			if (i - pos < maxb && vm_consume(m, &prog[cl[k]], i))
				vm_add(m, nl, &nnl, cl[k] + 1, i + m->cs);
		}
		tmp = cl;
		cl = nl;
		nl = tmp;
		ncl = nnl;
		i += m->cs;
	}
	m->prune = 0;
	m->start = pos;
}

static int
hit_cmp(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return (int)x->wide - (int)y->wide;
}

/* The ascii and wide forms a variant set of p has. */
static int
has_ascii(const struct pattern *p)
{
	return !p->var[0].wide;
}

static int
has_wide(const struct pattern *p)
{
	return p->var[p->nvar - 1].wide;
}

/* Forgets what memo holds. */
static void
memo_reset(struct pattern_memo *memo)
{
	if (++memo->gen == 0) {
		memset(memo->slot, 0, sizeof(memo->slot));
		memo->gen = 1;
	}
	memo->p = NULL;
}

/*
 * YARA's verification from atom k at place at: the rest of the regexp in
 * the ascii form, else in the wide one.  Returns its length (-1: none) and
 * in *wide the form; through the memo when there is one.
 */
static long
verify_at(struct vm *m, uint32_t k, size_t at, int *wide)
{
	const struct pattern *p = m->p;
	struct memo_slot *sl = NULL;
	long f = -1;

	if (m->memo != NULL) {
		sl = &m->memo->slot[(at * 31u + k) % PATTERN_MEMO_SLOTS];
		if (sl->gen == m->memo->gen && sl->pos == at && sl->k == k) {
			*wide = sl->wide;
			f = sl->len;
			goto out;
		}
	}
	*wide = 0;
	if (has_ascii(p)) {
		m->cs = 1;
		f = vm_run(m, p->atom[k].pc, at);
	}
	if (f < 0 && has_wide(p)) {
		m->cs = 2;
		*wide = 1;
		f = vm_run(m, p->atom[k].pc, at);
	}
	if (sl != NULL) {
		sl->gen = m->memo->gen;
		sl->pos = at;
		sl->k = (uint8_t)k;
		sl->wide = (uint8_t)*wide;
		sl->len = (int32_t)f;
	}
out:
	m->cs = *wide ? 2 : 1;
	return f;
}

/* Can a match at pos pass fullword on its start side, in any form? */
static int
fullword_start(struct vm *m, size_t pos)
{
	const struct pattern *p = m->p;
	int ok = 0;

	if (has_ascii(p)) {
		m->cs = 1;
		ok |= fullword_ok(m, pos, m->len);
	}
	if (has_wide(p)) {
		m->cs = 2;
		ok |= fullword_ok(m, pos, m->len);
	}
	return ok;
}

/*
 * The match at pos of a regexp with atoms, and in *wide whether the wide
 * run found it; -1 if none.
 */
static long
atoms_match(struct vm *m, size_t pos, int *wide)
{
	const struct pattern *p = m->p;
	struct hits h;
	const struct hit *e;
	size_t j, idx;
	long f, res = -1;
	int w;

	h.n = 0;
	/* where a match cannot start for fullword, no verification will do */
	if ((p->flags & PATTERN_FULLWORD) && !fullword_start(m, pos))
		goto out;
	if (has_ascii(p)) {
		m->cs = 1;
		vm_reach(m, pos, &h);
	}
	if (has_wide(p)) {
		m->cs = 2;
		vm_reach(m, pos, &h);
	}
	qsort(h.h, h.n, sizeof(h.h[0]), hit_cmp);
	for (j = 0; j < h.n && res < 0; j++) {
		idx = p->greedy ? h.n - 1 - j : j;
		e = &h.h[idx];
		f = verify_at(m, e->k, pos + e->at, &w);
		/* the start is reached backwards only in the form that matched */
		if (f < 0 || w != e->wide)
			continue;
		if ((p->flags & PATTERN_FULLWORD) && !fullword_ok(m, pos, pos + e->at + (size_t)f))
			continue;
		res = (long)e->at + f;
		*wide = w;
	}
out:
	return res;
}

/*
 * The match length at pos in the current character size before fullword,
 * -1 if none (0: an empty match).
 */
static long
pm_raw(const struct pattern *p, struct vm *m, size_t pos)
{
	long l;
	uint32_t t;

	if (p->ekind == PATTERN_TEXT) {
		t = (p->flags & PATTERN_XOR)
			? pattern_xor_match(p, m->data + pos, m->len - pos, m->cs)
			: text_match(p, m, pos);
		return t > 0 ? (long)t : -1;
	}
	if (p->npieces > 1) {
		l = chain_match(m, pos);
	} else if (p->nbranch > 1) {
		l = branch_match(m, pos);
	} else {
		l = vm_run(m, p->piece[0].pc, pos);
	}
	return l;
}

/* The memo for a verification of p in data (forgotten if it was about
 * other data), or NULL when p has no atoms. */
static struct pattern_memo *
memo_for(struct pattern_memo *memo, const struct pattern *p, const uint8_t *data, size_t len,
	 uint64_t base, int at_eof)
{
	if (memo == NULL || p->natom == 0)
		return NULL;
	if (memo->p != p || memo->data != data || memo->len != len || memo->base != base ||
	    memo->at_eof != at_eof) {
		memo_reset(memo);
		memo->p = p;
		memo->data = data;
		memo->len = len;
		memo->base = base;
		memo->at_eof = at_eof;
	}
	return memo;
}

/* pattern_match_at with the scratch m (its marks older than its gen) and
 * the memo memo (NULL: none). */
static uint32_t
match_at(struct vm *m, struct pattern_memo *memo, const struct pattern *p, size_t v,
	 const uint8_t *data, size_t data_len, size_t pos, uint64_t base, int at_eof)
{
	uint32_t r = 0;
	long l = -1;
	int wide = 0;

	m->p = p;
	m->memo = memo_for(memo, p, data, data_len, base, at_eof);
	m->data = data;
	m->len = data_len;
	m->base = base;
	m->at_eof = at_eof;
	m->prune = 0;
	m->start = pos;
	if (p->natom > 0) {
		l = atoms_match(m, pos, &wide);
		if (l > 0 && wide == p->var[v].wide)
			r = (uint32_t)l;
		goto out;
	}
	/*
	 * Verified from its start (YARA's zero-length atom, a text string, a
	 * hex string): YARA tries the ascii form first and the wide form only
	 * when the ascii one does not match (before fullword is checked), so
	 * a wide match at an offset where the ascii form matches is never
	 * reported.  A literal that fits in an atom is the exception: each
	 * form is found on its own, and the ascii match, found first, wins if
	 * it is reported.
	 */
	if (p->var[v].wide && p->nvar == 2) {
		m->cs = 1;
		l = pm_raw(p, m, pos);
		if (l >= 0 && (!p->whole_atom || !(p->flags & PATTERN_FULLWORD) ||
			       fullword_ok(m, pos, pos + (size_t)l)))
			goto out;
	}
	m->cs = p->var[v].wide ? 2 : 1;
	l = pm_raw(p, m, pos);
	/* an empty match is never reported; a chain checked fullword already */
	if (l > 0 && (!(p->flags & PATTERN_FULLWORD) || p->npieces > 1 ||
		      fullword_ok(m, pos, pos + (size_t)l)))
		r = (uint32_t)l;
out:
	return r;
}

struct pattern_vm {
	struct vm m;
	struct pattern_memo memo;
};

struct pattern_vm *
pattern_vm_new(void)
{
	struct pattern_vm *vm = ward_calloc(1, sizeof(*vm));

	if (vm != NULL)
		vm->memo.gen = 1; /* the empty slots' 0 is no generation */
	return vm;
}

void
pattern_vm_free(struct pattern_vm *vm)
{
	ward_free(vm);
}

void
pattern_vm_new_data(struct pattern_vm *vm)
{
	if (vm != NULL)
		memo_reset(&vm->memo);
}

uint32_t
pattern_match_at(const struct pattern *p, struct pattern_vm *vm, size_t v, const uint8_t *data,
		 size_t data_len, size_t pos, uint64_t base, int at_eof)
{
	struct vm local;
	uint32_t r = 0;

	if (p == NULL || v >= p->nvar || data == NULL || pos >= data_len)
		goto out;
	if (vm != NULL) {
		r = match_at(&vm->m, &vm->memo, p, v, data, data_len, pos, base, at_eof);
	} else {
		local.gen = 0;
		local.sgen = 0;
		memset(local.mark, 0, sizeof(local.mark[0]) * p->nprog);
		if (p->shared_sid)
			memset(local.smark, 0, sizeof(local.smark[0]) * p->nprog);
		r = match_at(&local, NULL, p, v, data, data_len, pos, base, at_eof);
	}
out:
	return r;
}

/*
 * YARA's `matches`: yr_re_exec with RE_FLAGS_SCAN (see pattern.h).  The
 * offsets count from s for every thread, as YARA's bytes_matched does.
 */
int
pattern_search(const struct pattern *p, const uint8_t *s, size_t len)
{
	struct vm m;
	uint16_t *cl, *nl, *tmp;
	size_t ncl = 0, nnl, k, i = 0, maxb, n;
	int r = -1;

	if (p == NULL || (s == NULL && len > 0))
		goto out;
	maxb = len > WARD_RE_SCAN_LIMIT ? WARD_RE_SCAN_LIMIT : len;
	if (p->ekind == PATTERN_TEXT) {
		n = p->srclen;
		for (i = 0; i + n <= len && i < maxb; i++) {
			if (memcmp(s + i, p->src, n) == 0)
				r = (int)(i + n);
		}
		goto out;
	}
	m.p = p;
	m.memo = NULL;
	m.data = s != NULL ? s : (const uint8_t *)"";
	m.len = len;
	m.base = 0;
	m.at_eof = 1;
	m.cs = 1;
	m.start = 0;
	m.prune = 0;
	m.gen = 0;
	m.sgen = 0;
	memset(m.mark, 0, sizeof(m.mark[0]) * p->nprog);
	if (p->shared_sid)
		memset(m.smark, 0, sizeof(m.smark[0]) * p->nprog);
	cl = m.l1;
	nl = m.l2;
	vm_newgen(&m);
	vm_add(&m, cl, &ncl, p->piece[0].pc, 0);
	while (ncl > 0) {
		vm_newgen(&m);
		nnl = 0;
		for (k = 0; k < ncl; k++) {
			const struct pattern_insn *in = &p->prog[cl[k]];

			if (in->op == POP_MATCH) {
				r = (int)i;
				break; /* cut the threads of lower priority */
			}
			if (i < maxb && vm_consume(&m, in, i))
				vm_add(&m, nl, &nnl, cl[k] + 1, i + 1);
		}
		i++;
		if (i < maxb)
			vm_add(&m, nl, &nnl, p->piece[0].pc, i);
		tmp = cl;
		cl = nl;
		nl = tmp;
		ncl = nnl;
	}
out:
	return r;
}
