/*
 * pattern: compiles one YARA string (text, hex or regexp) into Vectorscan
 * expressions (one per variant: ascii, wide) and a Pike-VM program for the
 * exact verifier in pattern_exec.c; saves and loads compiled patterns.
 *
 * Must hold:
 *   - every true match of a variant ends where its expression can match
 *     (expressions may accept more, never less: assertions are dropped,
 *     big repeats become unbounded);
 *   - a program never exceeds WARD_MAX_PATTERN_PROG instructions, every
 *     jump target and class index in it is in range, and every piece ends
 *     in MATCH: the verifier relies on it without checking;
 *   - pattern_load trusts nothing: it recompiles the saved source with
 *     pattern_compile, so a loaded pattern is exactly as safe as a
 *     compiled one.
 */
#include "pattern/pattern.h"
#include "pattern/hex.h"
#include "pattern/pattern_impl.h"
#include "pattern/ptree.h"
#include "pattern/regex.h"
#include "util/alloc.h"
#include "util/limits.h"

#include <hs/hs.h>
#include <stdio.h>
#include <string.h>

/* Version 2 adds the xor keys and the base64 alphabet; version 1 is still
 * read (a pattern without them). */
#define PATTERN_FORMAT_VERSION 2
#define PATTERN_ALL_FLAGS                                                                          \
	(PATTERN_NOCASE | PATTERN_WIDE | PATTERN_ASCII | PATTERN_FULLWORD | PATTERN_PRIVATE |      \
	 PATTERN_DOTALL | PATTERN_XOR | PATTERN_BASE64 | PATTERN_BASE64WIDE)

/* Characters of a wide literal that fit in one YARA atom (4 bytes). */
#define PATTERN_ATOM_CHARS 2
/* Bytes of a base64 alphabet. */
#define PATTERN_B64_ALPHABET 64

/* Which of YARA's two code streams runs a node (see cg_plus). */
enum cg_region {
	RG_AFTER = 0,  /* forward code: after the atom, or no atom */
	RG_BEFORE = 1, /* backward code: before the atom */
	RG_HOLDS = 2,  /* holds an atom: both */
};

/* The direction in which YARA enters a node at its entry point. */
enum cg_dir {
	DIR_FWD = 0,
	DIR_BACK = 1,
};

struct cg {
	struct pattern *p;
	const struct ptree *t;
	uint32_t *node_cls; /* tree node -> class index + 1, 0 when not assigned */
	uint32_t *node_pc;  /* tree node -> its first instruction + 1, 0 when none */
	uint8_t *region;    /* tree node -> enum cg_region (regexps only) */
	int yara_entry;	    /* reproduce YARA's entry points (regexps) */
	int force_root;	    /* YARA's zero-length atom: the root is entered */
	int quiet;	    /* emitting a loop copy: leave node_pc alone */
	uint32_t atom[ATOMS_MAX];
	size_t natom;
	int atoms_ok;
	size_t prog_cap, cls_cap;
};

uint64_t
pattern_sat_add(uint64_t a, uint64_t b)
{
	return a + b > PATTERN_SIZE_CAP ? PATTERN_SIZE_CAP : a + b;
}

static uint64_t
sat_mul(uint64_t a, uint64_t b)
{
	if (a != 0 && b > PATTERN_SIZE_CAP / a)
		return PATTERN_SIZE_CAP;
	return a * b;
}

/* Instructions node n compiles to (saturating). */
static uint64_t
cg_size(const struct ptree *t, uint32_t n)
{
	const struct ptree_node *nd = &t->n[n];
	uint64_t s = 0, sc, k = 0;
	uint32_t c;

	switch (nd->type) {
	case PT_CLASS:
	case PT_BOL:
	case PT_EOL:
	case PT_WORDB:
	case PT_NWORDB:
		s = 1;
		break;
	case PT_CAT:
	case PT_ALT:
		for (c = nd->child; c != PTREE_NONE; c = t->n[c].next) {
			s = pattern_sat_add(s, cg_size(t, c));
			k++;
		}
		if (nd->type == PT_ALT && k > 1)
			s = pattern_sat_add(s, 2 * (k - 1));
		break;
	case PT_REPEAT:
		sc = cg_size(t, nd->child);
		s = sat_mul(nd->min, sc);
		if (nd->max == PTREE_INF)
			s = pattern_sat_add(s, sc + 2);
		else
			s = pattern_sat_add(s, sat_mul(nd->max - nd->min, sc + 1));
		break;
	default:
		break;
	}
	return s;
}

/* Shortest and longest match of node n in characters (longest saturates). */
void
pattern_cg_len(const struct ptree *t, uint32_t n, uint64_t *mn, uint64_t *mx)
{
	const struct ptree_node *nd = &t->n[n];
	uint64_t a, b, smin = 0, smax = 0;
	uint32_t c;
	int first = 1;

	switch (nd->type) {
	case PT_CLASS:
		smin = smax = 1;
		break;
	case PT_CAT:
		for (c = nd->child; c != PTREE_NONE; c = t->n[c].next) {
			pattern_cg_len(t, c, &a, &b);
			smin = pattern_sat_add(smin, a);
			smax = pattern_sat_add(smax, b);
		}
		break;
	case PT_ALT:
		for (c = nd->child; c != PTREE_NONE; c = t->n[c].next) {
			pattern_cg_len(t, c, &a, &b);
			if (first || a < smin)
				smin = a;
			if (first || b > smax)
				smax = b;
			first = 0;
		}
		break;
	case PT_REPEAT:
		pattern_cg_len(t, nd->child, &a, &b);
		smin = sat_mul(nd->min, a);
		smax = nd->max == PTREE_INF ? (b == 0 ? 0 : PATTERN_SIZE_CAP) : sat_mul(nd->max, b);
		break;
	default:
		break;
	}
	*mn = smin;
	*mx = smax;
}

static int
cg_emit1(struct cg *g, uint8_t op, uint32_t x, uint32_t y, uint32_t *pc)
{
	struct pattern *p = g->p;
	int r;

	if (p->nprog >= WARD_MAX_PATTERN_PROG) {
		r = WARD_ELIMIT;
		goto out;
	}
	r = ward_grow(&p->prog, &g->prog_cap, (size_t)p->nprog + 1, sizeof(*p->prog));
	if (r != 0)
		goto out;
	p->prog[p->nprog].op = op;
	p->prog[p->nprog].x = x;
	p->prog[p->nprog].y = y;
	if (pc != NULL)
		*pc = p->nprog;
	p->nprog++;
out:
	return r;
}

static int
cg_class(struct cg *g, uint32_t n)
{
	const uint8_t *bm = g->t->n[n].bm;
	unsigned cnt = ptree_bm_count(bm), c;
	struct pattern *p = g->p;
	int r;

	if (g->node_pc[n] == 0 && !g->quiet)
		g->node_pc[n] = p->nprog + 1;
	if (cnt == 256) {
		r = cg_emit1(g, POP_ANY, 0, 0, NULL);
		goto out;
	}
	if (cnt == 1) {
		c = (unsigned)ptree_bm_first(bm);
		r = cg_emit1(g, POP_BYTE, c, 0, NULL);
		goto out;
	}
	if (g->node_cls[n] == 0) {
		r = ward_grow(&p->cls, &g->cls_cap, (size_t)p->ncls + 1, sizeof(*p->cls));
		if (r != 0)
			goto out;
		memcpy(p->cls[p->ncls], bm, 32);
		g->node_cls[n] = ++p->ncls;
	}
	r = cg_emit1(g, POP_CLASS, g->node_cls[n] - 1, 0, NULL);
out:
	return r;
}

static int cg_node(struct cg *g, uint32_t n);

/* Node n, a PT_REPEAT, emitted as its child repeated mn..mx times. */
static int
cg_repeat(struct cg *g, uint32_t n, uint32_t mn, uint32_t mx)
{
	const struct ptree_node *nd = &g->t->n[n];
	struct pattern *p = g->p;
	uint32_t i, s, loop, body;
	int r = 0;

	for (i = 0; i < mn && r == 0; i++)
		r = cg_node(g, nd->child);
	if (r != 0)
		goto out;
	if (mx == PTREE_INF) {
		r = cg_emit1(g, POP_SPLIT, 0, 0, &loop);
		if (r == 0)
			r = cg_node(g, nd->child);
		if (r == 0)
			r = cg_emit1(g, POP_JMP, loop, 0, NULL);
		if (r != 0)
			goto out;
		body = loop + 1;
		p->prog[loop].x = nd->greedy ? body : p->nprog;
		p->prog[loop].y = nd->greedy ? p->nprog : body;
	} else if (mx > mn) {
		s = p->nprog;
		for (i = mn; i < mx && r == 0; i++) {
			r = cg_emit1(g, POP_SPLIT, 0, 0, NULL);
			if (r == 0)
				r = cg_node(g, nd->child);
		}
		if (r != 0)
			goto out;
		/* each optional copy: SPLIT (copy | end) */
		for (i = s; i < p->nprog; i++) {
			if (p->prog[i].op == POP_SPLIT && p->prog[i].x == 0 && p->prog[i].y == 0) {
				p->prog[i].x = nd->greedy ? i + 1 : p->nprog;
				p->prog[i].y = nd->greedy ? p->nprog : i + 1;
			}
		}
	}
out:
	return r;
}

/*
 * YARA's entry points.  YARA 4.2 compiles a regexp to code and enters a
 * node at the address its code generator reports for it, which is not
 * always the node's first instruction: for x? and x{0,1} (x not `.`) it
 * is x's own entry, past the SPLIT that makes x optional, and for x+,
 * x{n,m} (n > 0) and a sequence it is the entry of x or of the first
 * item.  Two jumps use entry points: the verification of a regexp without
 * atoms starts at the root's, and the loop of x+ jumps back to x's.  So
 * /b?[lm]/ without atoms needs the `b`, and (b?[cd])+ needs a `b` in every
 * iteration but the first.  Before an atom YARA runs the code backwards
 * and the entry is at the end instead: in ([cd]b?)+ before an atom every
 * iteration but the last needs its `b`.
 *
 * lead_opt: whether entering node n in direction dir skips an optional
 * part, i.e. whether cg_forced emits something else than cg_node.
 */
static int
is_opt1(const struct ptree *t, uint32_t n)
{
	const struct ptree_node *nd = &t->n[n];
	const struct ptree_node *ch;

	if (nd->type != PT_REPEAT || nd->min != 0 || nd->max != 1)
		return 0;
	ch = &t->n[nd->child];
	return !(ch->type == PT_CLASS && ch->lit == PL_ANY); /* .? is one instruction */
}

static int
lead_opt(const struct ptree *t, uint32_t n, enum cg_dir dir)
{
	const struct ptree_node *nd = &t->n[n];
	int r = 0;

	if (nd->type == PT_CAT && nd->child != PTREE_NONE)
		r = lead_opt(t, dir == DIR_FWD ? nd->child : nd->last, dir);
	else if (is_opt1(t, n))
		r = 1;
	else if (nd->type == PT_REPEAT && nd->min > 0)
		r = lead_opt(t, nd->child, dir);
	return r;
}

static int cg_forced(struct cg *g, uint32_t n, enum cg_dir dir);

/* The loop of x+ (node n): SPLIT; x entered in direction dir; JMP. */
static int
cg_loop(struct cg *g, uint32_t n, enum cg_dir dir)
{
	const struct ptree_node *nd = &g->t->n[n];
	struct pattern *p = g->p;
	uint32_t loop;
	int r;

	g->quiet++;
	r = cg_emit1(g, POP_SPLIT, 0, 0, &loop);
	if (r == 0)
		r = cg_forced(g, nd->child, dir);
	if (r == 0)
		r = cg_emit1(g, POP_JMP, loop, 0, NULL);
	g->quiet--;
	if (r == 0) {
		p->prog[loop].x = nd->greedy ? loop + 1 : p->nprog;
		p->prog[loop].y = nd->greedy ? p->nprog : loop + 1;
	}
	return r;
}

/* Whether x+ (node n) loops differently in YARA than x x*. */
static int
plus_differs(const struct cg *g, uint32_t n)
{
	uint32_t c = g->t->n[n].child;

	switch (g->region[n]) {
	case RG_BEFORE:
		return lead_opt(g->t, c, DIR_BACK);
	case RG_HOLDS:
		return lead_opt(g->t, c, DIR_BACK) || lead_opt(g->t, c, DIR_FWD);
	default:
		return lead_opt(g->t, c, DIR_FWD);
	}
}

/*
 * x+ as YARA runs it: after the atom x, then x entered forwards, any number
 * of times; before the atom x entered backwards any number of times, then
 * x; around the atom both loops.
 */
static int
cg_plus(struct cg *g, uint32_t n)
{
	uint8_t rg = g->region[n];
	int r = 0;

	if (rg != RG_AFTER)
		r = cg_loop(g, n, DIR_BACK);
	if (r == 0)
		r = cg_node(g, g->t->n[n].child);
	if (r == 0 && rg != RG_BEFORE)
		r = cg_loop(g, n, DIR_FWD);
	return r;
}

/* Node n entered at YARA's entry point in direction dir. */
static int
cg_forced(struct cg *g, uint32_t n, enum cg_dir dir)
{
	const struct ptree_node *nd = &g->t->n[n];
	uint32_t c, mx;
	int r = 0;

	if (!lead_opt(g->t, n, dir)) {
		r = cg_node(g, n);
		goto out;
	}
	if (nd->type == PT_CAT) {
		for (c = nd->child; c != PTREE_NONE && r == 0; c = g->t->n[c].next) {
			if (c == (dir == DIR_FWD ? nd->child : nd->last))
				r = cg_forced(g, c, dir);
			else
				r = cg_node(g, c);
		}
		goto out;
	}
	if (is_opt1(g->t, n)) {
		r = cg_forced(g, nd->child, dir);
		goto out;
	}
	/* x+ or x{n,m} with n > 0: one copy of x entered, the rest as usual
	 * (x+ loops back to the entry of x) */
	mx = nd->max == PTREE_INF ? PTREE_INF : nd->max - 1;
	if (dir == DIR_BACK)
		r = nd->quant == '+' ? cg_loop(g, n, dir) : cg_repeat(g, n, nd->min - 1, mx);
	if (r == 0)
		r = cg_forced(g, nd->child, dir);
	if (r == 0 && dir == DIR_FWD)
		r = nd->quant == '+' ? cg_loop(g, n, dir) : cg_repeat(g, n, nd->min - 1, mx);
out:
	return r;
}

static int
cg_node(struct cg *g, uint32_t n)
{
	const struct ptree_node *nd = &g->t->n[n];
	struct pattern *p = g->p;
	uint32_t c, s, k = 0, first = 0, j;
	int r = 0;

	switch (nd->type) {
	case PT_CLASS:
		r = cg_class(g, n);
		break;
	case PT_BOL:
		r = cg_emit1(g, POP_BOL, 0, 0, NULL);
		break;
	case PT_EOL:
		r = cg_emit1(g, POP_EOL, 0, 0, NULL);
		break;
	case PT_WORDB:
		r = cg_emit1(g, POP_WORDB, 0, 0, NULL);
		break;
	case PT_NWORDB:
		r = cg_emit1(g, POP_NWORDB, 0, 0, NULL);
		break;
	case PT_CAT:
		for (c = nd->child; c != PTREE_NONE && r == 0; c = g->t->n[c].next)
			r = cg_node(g, c);
		break;
	case PT_ALT:
		/* SPLIT next_alt; alt; JMP end (chained through y until patched) */
		for (c = nd->child; c != PTREE_NONE; c = g->t->n[c].next) {
			if (g->t->n[c].next != PTREE_NONE) {
				r = cg_emit1(g, POP_SPLIT, p->nprog + 1, 0, &s);
				if (r == 0)
					r = cg_node(g, c);
				if (r == 0)
					r = cg_emit1(g, POP_JMP, k ? first : PTREE_NONE, 0, &j);
				if (r != 0)
					goto out;
				first = j;
				k = 1;
				p->prog[s].y = p->nprog;
			} else {
				r = cg_node(g, c);
				if (r != 0)
					goto out;
			}
		}
		/* patch the JMP chain to the end */
		while (k) {
			j = p->prog[first].x;
			p->prog[first].x = p->nprog;
			if (j == PTREE_NONE)
				break;
			first = j;
		}
		break;
	case PT_REPEAT:
		if (g->yara_entry && nd->quant == '+' && plus_differs(g, n))
			r = cg_plus(g, n);
		else
			r = cg_repeat(g, n, nd->min, nd->max);
		break;
	default:
		break;
	}
out:
	return r;
}

/* Emits the children [from, to) of the root CAT (or the root) + MATCH. */
static int
cg_piece(struct cg *g, uint32_t from, uint32_t to)
{
	uint32_t c;
	int r = 0;

	for (c = from; c != to && r == 0; c = g->t->n[c].next) {
		if (g->force_root && c == from)
			r = cg_forced(g, c, DIR_FWD); /* YARA's zero-length atom */
		else
			r = cg_node(g, c);
	}
	if (r == 0)
		r = cg_emit1(g, POP_MATCH, 0, 0, NULL);
	return r;
}

/*
 * The alternation a pattern starts with (the root, or the first item of the
 * root sequence), PTREE_NONE if there is none.
 */
static uint32_t
lead_alt(const struct ptree *t, uint32_t *rest)
{
	const struct ptree_node *root = &t->n[t->root];

	*rest = PTREE_NONE;
	if (root->type == PT_ALT)
		return t->root;
	if (root->type == PT_CAT && root->child != PTREE_NONE && t->n[root->child].type == PT_ALT) {
		*rest = t->n[root->child].next;
		return root->child;
	}
	return PTREE_NONE;
}

/* One program per alternative of the leading alternation, when it fits. */
static int
cg_branches(struct cg *g)
{
	const struct ptree *t = g->t;
	uint32_t alt, rest, c, k = 0, r2;
	uint64_t size = g->p->nprog, rs = 0;
	int r = 0;

	alt = lead_alt(t, &rest);
	if (alt == PTREE_NONE)
		goto out;
	for (c = rest; c != PTREE_NONE; c = t->n[c].next)
		rs = pattern_sat_add(rs, cg_size(t, c));
	for (c = t->n[alt].child; c != PTREE_NONE; c = t->n[c].next) {
		size = pattern_sat_add(size, pattern_sat_add(cg_size(t, c), rs + 1));
		k++;
	}
	if (k < 2 || k > PATTERN_MAX_PIECES || size > WARD_MAX_PATTERN_PROG)
		goto out; /* too big to duplicate: the whole program decides */
	for (c = t->n[alt].child; c != PTREE_NONE && r == 0; c = t->n[c].next) {
		g->p->branch[g->p->nbranch++] = g->p->nprog;
		r = cg_node(g, c);
		for (r2 = rest; r2 != PTREE_NONE && r == 0; r2 = t->n[r2].next)
			r = cg_node(g, r2);
		if (r == 0)
			r = cg_emit1(g, POP_MATCH, 0, 0, NULL);
	}
out:
	return r;
}

/*
 * Where YARA starts verifying an `ascii wide` regexp (see atoms.h): the
 * first instruction of each atom's first node in the main program.
 */
static void
set_atoms(struct cg *g)
{
	struct pattern *p = g->p;
	size_t k;

	p->natom = 0;
	if (!g->atoms_ok)
		return;
	for (k = 0; k < g->natom; k++) {
		if (g->node_pc[g->atom[k]] == 0)
			return; /* not emitted: keep verifying from the start */
		p->atom_pc[k] = g->node_pc[g->atom[k]] - 1;
	}
	/* a single atom at the very start is the same as none */
	if (!(g->natom == 1 && p->atom_pc[0] == p->piece[0].pc))
		p->natom = (uint32_t)g->natom;
}

/* Marks the nodes that hold an atom (RG_HOLDS); returns whether n does. */
static int
rg_holds(struct cg *g, uint32_t n)
{
	const struct ptree_node *nd = &g->t->n[n];
	uint32_t c;
	int h = g->region[n] == RG_HOLDS;

	if (nd->type == PT_CAT || nd->type == PT_ALT || nd->type == PT_REPEAT) {
		for (c = nd->child; c != PTREE_NONE; c = g->t->n[c].next)
			h |= rg_holds(g, c);
	}
	if (h)
		g->region[n] = RG_HOLDS;
	return h;
}

/* Gives the nodes that hold no atom the region of the code that runs them. */
static void
rg_assign(struct cg *g, uint32_t n, uint8_t rg)
{
	const struct ptree_node *nd = &g->t->n[n];
	uint32_t c;
	int holds = g->region[n] == RG_HOLDS, seen = 0;

	if (!holds)
		g->region[n] = rg;
	if (nd->type != PT_CAT && nd->type != PT_ALT && nd->type != PT_REPEAT)
		return;
	for (c = nd->child; c != PTREE_NONE; c = g->t->n[c].next) {
		if (!holds) {
			rg_assign(g, c, rg);
		} else if (g->region[c] == RG_HOLDS) {
			seen = 1;
			rg_assign(g, c, RG_HOLDS);
		} else {
			rg_assign(g, c, nd->type == PT_CAT && !seen ? RG_BEFORE : RG_AFTER);
		}
	}
}

/* A regexp: YARA's atoms, and where its code runs forwards or backwards. */
static void
set_regions(struct cg *g)
{
	const struct ptree *t = g->t;
	size_t k;

	g->yara_entry = 1;
	g->atoms_ok = atoms_choose(t, g->atom, &g->natom) == 0;
	if (!g->atoms_ok)
		return; /* too complex to tell: all forwards */
	for (k = 0; k < g->natom; k++)
		g->region[g->atom[k]] = RG_HOLDS;
	rg_holds(g, t->root);
	rg_assign(g, t->root, RG_AFTER);
	g->force_root = g->natom == 0 && atoms_literal_len(t) == 0;
}

static int
is_chain_jump(const struct ptree_node *nd)
{
	return nd->type == PT_REPEAT && nd->jump &&
	       (nd->min > HEX_CHAIN_THRESHOLD || nd->max > HEX_CHAIN_THRESHOLD);
}

/* --- compile --------------------------------------------------------- */

static void
pattern_set_variants(struct pattern *p)
{
	p->nvar = 0;
	if (p->flags & (PATTERN_BASE64 | PATTERN_BASE64WIDE)) {
		p->var[p->nvar++].wide = 0; /* the encodings are searched as they are */
		return;
	}
	if (!(p->flags & PATTERN_WIDE) || (p->flags & PATTERN_ASCII))
		p->var[p->nvar++].wide = 0;
	if (p->flags & PATTERN_WIDE)
		p->var[p->nvar++].wide = 1;
}

int
pattern_compile_tree(struct pattern *p, const struct ptree *t, struct ward_diag *d)
{
	struct cg g;
	const struct ptree_node *root = &t->n[t->root];
	uint32_t c, from, prev_gap_min = 0, prev_gap_max = 0, cs;
	uint64_t mn, mx, tmin = 0, tmax = 0, pmin, pmax, lim;
	struct wbuf w;
	size_t v, n;
	int r = 0, nullable;

	memset(&g, 0, sizeof(g));
	g.p = p;
	g.t = t;
	if (cg_size(t, t->root) + PATTERN_MAX_PIECES > WARD_MAX_PATTERN_PROG) {
		r = diag_set(d, WARD_ELIMIT, NULL, 0, 0,
			     "pattern too large once repeats are expanded (WARD_MAX_PATTERN_PROG)");
		goto out;
	}
	g.node_cls = ward_calloc(2 * t->nn, sizeof(*g.node_cls));
	if (g.node_cls == NULL) {
		r = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	g.node_pc = g.node_cls + t->nn;
	g.region = ward_calloc(t->nn, sizeof(*g.region));
	if (g.region == NULL) {
		r = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	if (p->ekind == PATTERN_REGEX)
		set_regions(&g);
	p->mode = (p->ekind == PATTERN_HEX && !t->has_alt) ? PMODE_SHORTEST : PMODE_PRIORITY;
	/* Pieces: a hex string is cut at its long top-level jumps. */
	from = root->type == PT_CAT ? root->child : t->root;
	if (p->ekind == PATTERN_HEX && root->type == PT_CAT) {
		for (c = root->child; c != PTREE_NONE; c = t->n[c].next) {
			if (!is_chain_jump(&t->n[c]))
				continue;
			if (p->npieces + 1 >= PATTERN_MAX_PIECES) {
				r = diag_set(d, WARD_ELIMIT, NULL, 0, (int)t->n[c].col,
					     "too many long jumps in one hex string");
				goto out;
			}
			p->piece[p->npieces].pc = p->nprog;
			p->piece[p->npieces].gap_min = prev_gap_min;
			p->piece[p->npieces].gap_max = prev_gap_max;
			p->npieces++;
			r = cg_piece(&g, from, c);
			if (r != 0)
				goto fail;
			from = t->n[c].next;
			prev_gap_min = t->n[c].min;
			prev_gap_max = t->n[c].max;
		}
	}
	p->piece[p->npieces].pc = p->nprog;
	p->piece[p->npieces].gap_min = prev_gap_min;
	p->piece[p->npieces].gap_max = prev_gap_max;
	p->npieces++;
	r = from == t->root ? cg_piece(&g, t->root, PTREE_NONE) : cg_piece(&g, from, PTREE_NONE);
	if (r != 0)
		goto fail;
	p->greedy = t->has_greedy;
	if (p->ekind == PATTERN_REGEX && p->nvar == 2) {
		set_atoms(&g);
		n = atoms_literal_len(t);
		p->whole_atom = n > 0 && n <= PATTERN_ATOM_CHARS;
	}
	if (p->npieces == 1) {
		r = cg_branches(&g);
		if (r != 0)
			goto fail;
	}
	/* Lengths: pieces are limited to the scan limit each; gaps add up. */
	if (p->ekind == PATTERN_HEX && root->type == PT_CAT) {
		pmin = pmax = 0;
		for (c = root->child; c != PTREE_NONE; c = t->n[c].next) {
			if (is_chain_jump(&t->n[c])) {
				tmin = pattern_sat_add(tmin, pattern_sat_add(pmin, t->n[c].min));
				tmax = pattern_sat_add(
				    tmax, (pmax > WARD_RE_SCAN_LIMIT ? WARD_RE_SCAN_LIMIT : pmax));
				tmax = pattern_sat_add(tmax, t->n[c].max == PTREE_INF
								 ? PATTERN_SIZE_CAP
								 : t->n[c].max);
				pmin = pmax = 0;
				continue;
			}
			pattern_cg_len(t, c, &mn, &mx);
			pmin = pattern_sat_add(pmin, mn);
			pmax = pattern_sat_add(pmax, mx);
		}
		tmin = pattern_sat_add(tmin, pmin);
		tmax = pattern_sat_add(tmax, pmax > WARD_RE_SCAN_LIMIT ? WARD_RE_SCAN_LIMIT : pmax);
	} else {
		pattern_cg_len(t, t->root, &tmin, &tmax);
	}
	nullable = tmin == 0;
	for (v = 0; v < p->nvar; v++) {
		cs = p->var[v].wide ? 2 : 1;
		lim = WARD_RE_SCAN_LIMIT - WARD_RE_SCAN_LIMIT % cs;
		mn = sat_mul(tmin == 0 ? 1 : tmin, cs);
		mx = sat_mul(tmax, cs);
		if (p->npieces == 1 && mx > lim)
			mx = lim;
		if (mn > mx)
			mn = mx; /* nothing can match (e.g. {4097}): keep minlen <= maxlen */
		p->var[v].minlen = mn > UINT32_MAX ? UINT32_MAX : (uint32_t)mn;
		p->var[v].maxlen =
		    mx >= PATTERN_SIZE_CAP || mx > UINT32_MAX ? UINT32_MAX : (uint32_t)mx;
		p->var[v].hs_flags = HS_FLAG_DOTALL | (nullable ? HS_FLAG_ALLOWEMPTY : 0);
		p->var[v].exact = 0;
		p->var[v].end_min = p->var[v].minlen;
		p->var[v].end_max = p->var[v].maxlen;
		wbuf_init(&w);
		pattern_ex_node(&w, t, t->root, p->var[v].wide);
		r = pattern_ex_finish(&w, &p->var[v]);
		if (r == 0)
			r = pattern_use_anchor(p, t, v);
		if (r != 0)
			goto fail;
	}
fail:
	if (r == WARD_ELIMIT)
		r = diag_set(d, r, NULL, 0, 0,
			     "pattern too large once repeats are expanded (WARD_MAX_PATTERN_PROG)");
	else if (r != 0)
		r = diag_set(d, r, NULL, 0, 0, "out of memory");
out:
	ward_free(g.node_cls);
	ward_free(g.region);
	return r;
}

/* Cuts the piece, branch and atom arrays to their used length. */
static void
pattern_shrink(struct pattern *p)
{
	void *n;

	if ((n = ward_realloc(p->piece, (p->npieces ? p->npieces : 1) * sizeof(*p->piece))) != NULL)
		p->piece = n;
	if ((n = ward_realloc(p->branch, (p->nbranch ? p->nbranch : 1) * sizeof(*p->branch))) !=
	    NULL)
		p->branch = n;
	if ((n = ward_realloc(p->atom_pc, (p->natom ? p->natom : 1) * sizeof(*p->atom_pc))) != NULL)
		p->atom_pc = n;
}

int
pattern_compile(enum pattern_kind kind, const uint8_t *src, size_t len, unsigned flags,
		struct pattern **out, struct ward_diag *d)
{
	struct pattern_mods m = {flags, 0, 255, NULL};

	return pattern_compile_mods(kind, src, len, &m, out, d);
}

int
pattern_compile_mods(enum pattern_kind kind, const uint8_t *src, size_t len,
		     const struct pattern_mods *m, struct pattern **out, struct ward_diag *d)
{
	struct pattern *p = NULL;
	struct ptree t;
	unsigned flags = m != NULL ? m->flags : 0;
	int r;

	ptree_init(&t);
	if (out != NULL)
		*out = NULL;
	if (out == NULL || m == NULL || (src == NULL && len > 0) ||
	    (kind != PATTERN_TEXT && kind != PATTERN_HEX && kind != PATTERN_REGEX) ||
	    (flags & ~PATTERN_ALL_FLAGS) != 0) {
		r = diag_set(d, WARD_EINVAL, NULL, 0, 0, "invalid arguments to pattern_compile");
		goto out;
	}
	if (len > WARD_MAX_PATTERN_SOURCE) {
		r = diag_set(d, WARD_ELIMIT, NULL, 0, 0,
			     "pattern source too long (WARD_MAX_PATTERN_SOURCE)");
		goto out;
	}
	if ((r = pattern_check_mods(kind, m, d)) != 0)
		goto out;
	if (kind == PATTERN_HEX && (flags & ~(PATTERN_PRIVATE | PATTERN_ASCII)) != 0) {
		r = diag_set(d, WARD_ESYNTAX, NULL, 0, 0,
			     "hex strings accept only the private modifier (not %s)",
			     (flags & PATTERN_NOCASE)	  ? "nocase"
			     : (flags & PATTERN_WIDE)	  ? "wide"
			     : (flags & PATTERN_FULLWORD) ? "fullword"
							  : "/s");
		goto out;
	}
	p = ward_calloc(1, sizeof(*p));
	/* Room for the most pieces, branches and atoms while compiling; cut to
	 * what the pattern uses afterwards (10 000 patterns would otherwise
	 * keep 12 MiB of empty slots). */
	if (p == NULL || (p->src = ward_malloc(len + 1)) == NULL ||
	    (p->piece = ward_calloc(PATTERN_MAX_PIECES, sizeof(*p->piece))) == NULL ||
	    (p->branch = ward_calloc(PATTERN_MAX_PIECES, sizeof(*p->branch))) == NULL ||
	    (p->atom_pc = ward_calloc(ATOMS_MAX, sizeof(*p->atom_pc))) == NULL) {
		r = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	if (len > 0)
		memcpy(p->src, src, len);
	p->src[len] = 0;
	p->srclen = len;
	p->kind = p->ekind = kind;
	p->flags = flags;
	if (flags & PATTERN_XOR) {
		p->xor_min = m->xor_min;
		p->xor_max = m->xor_max;
	}
	if ((flags & (PATTERN_BASE64 | PATTERN_BASE64WIDE)) && m->alphabet != NULL) {
		p->has_alphabet = 1;
		memcpy(p->alphabet, m->alphabet, PATTERN_B64_ALPHABET);
	}
	pattern_set_variants(p);
	if (kind == PATTERN_TEXT && (flags & (PATTERN_BASE64 | PATTERN_BASE64WIDE))) {
		r = pattern_compile_b64(p, &t, d);
		goto out;
	}
	if (kind == PATTERN_TEXT) {
		r = pattern_compile_text(p, d);
		goto out;
	}
	if (kind == PATTERN_HEX)
		r = hex_parse(src, len, &t, d);
	else
		r = regex_parse(src, len, flags, &t, d);
	if (r != 0)
		goto out;
	r = pattern_compile_tree(p, &t, d);
out:
	ptree_fini(&t);
	if (r == 0)
		pattern_shrink(p);
	if (r == 0)
		*out = p;
	else
		pattern_free(p);
	return r;
}

void
pattern_free(struct pattern *p)
{
	size_t v, a;

	if (p == NULL)
		return;
	for (v = 0; v < 2; v++) {
		ward_free(p->var[v].expr);
		for (a = 0; a < p->var[v].nalt; a++)
			ward_free(p->var[v].alt[a].expr);
	}
	ward_free(p->src);
	ward_free(p->prog);
	ward_free(p->cls);
	ward_free(p->piece);
	ward_free(p->branch);
	ward_free(p->atom_pc);
	ward_free(p);
}

unsigned
pattern_flags(const struct pattern *p)
{
	return p->flags;
}

size_t
pattern_nvariants(const struct pattern *p)
{
	return p->nvar;
}

void
pattern_expr(const struct pattern *p, size_t v, struct pattern_hs *out)
{
	const struct pattern_variant *pv;

	if (v >= p->nvar)
		v = 0;
	pv = &p->var[v];
	out->expr = pv->expr;
	out->hs_flags = pv->hs_flags;
	out->minlen = pv->minlen;
	out->maxlen = pv->maxlen;
	out->end_min = pv->end_min;
	out->end_max = pv->end_max;
	out->exact = pv->exact;
	out->xor_delta = pv->xor_delta;
}

void
pattern_save(const struct pattern *p, struct wbuf *w)
{
	wbuf_u8(w, PATTERN_FORMAT_VERSION);
	wbuf_u8(w, (uint8_t)p->kind);
	wbuf_u32(w, p->flags);
	wbuf_lenbytes(w, p->src, p->srclen);
	wbuf_u8(w, p->xor_min);
	wbuf_u8(w, p->xor_max);
	wbuf_u8(w, (uint8_t)p->has_alphabet);
	if (p->has_alphabet)
		wbuf_put(w, p->alphabet, PATTERN_B64_ALPHABET);
}

int
pattern_load(struct rbuf *r, struct pattern **out)
{
	struct pattern_mods m = {0, 0, 255, NULL};
	uint8_t ver, kind, has_abc = 0;
	uint32_t flags;
	const uint8_t *src;
	size_t n;
	int e;

	*out = NULL;
	e = rbuf_u8(r, &ver);
	if (e == 0)
		e = rbuf_u8(r, &kind);
	if (e == 0)
		e = rbuf_u32(r, &flags);
	if (e == 0)
		e = rbuf_lenbytes(r, WARD_MAX_PATTERN_SOURCE, &src, &n);
	if (e == 0 && ver == PATTERN_FORMAT_VERSION) {
		e = rbuf_u8(r, &m.xor_min);
		if (e == 0)
			e = rbuf_u8(r, &m.xor_max);
		if (e == 0)
			e = rbuf_u8(r, &has_abc);
		if (e == 0 && has_abc == 1)
			e = rbuf_bytes(r, PATTERN_B64_ALPHABET, &m.alphabet);
		if (e == 0 && has_abc > 1)
			e = WARD_EFORMAT;
	} else if (e == 0 && ver == 1 &&
		   (flags & (PATTERN_XOR | PATTERN_BASE64 | PATTERN_BASE64WIDE))) {
		e = WARD_EFORMAT; /* version 1 had no such flags */
	}
	if (e != 0 || ver < 1 || ver > PATTERN_FORMAT_VERSION) {
		e = WARD_EFORMAT;
		goto out;
	}
	/* pattern_compile_mods checks the flags, the key range and the
	 * combinations: what it would refuse from a rule file is refused here */
	m.flags = flags;
	e = pattern_compile_mods((enum pattern_kind)kind, src, n, &m, out, NULL);
	if (e != 0 && e != WARD_ENOMEM)
		e = WARD_EFORMAT;
out:
	return e;
}
