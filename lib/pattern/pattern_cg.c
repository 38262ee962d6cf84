/*
 * pattern_cg: the code generator of lib/pattern.  Turns the tree of a hex
 * string or regexp (ptree) into the Pike-VM program that pattern_exec.c
 * runs, and fills in the pattern's variants (lengths, Vectorscan
 * expressions).  For regexps it reproduces where YARA 4.2's own code
 * enters and loops (see cg_forced) and which part of a regexp YARA runs
 * backwards from an atom (see set_regions), since both change what YARA
 * reports.
 *
 * Must hold:
 *   - every true match of a variant ends where its expression can match
 *     (expressions may accept more, never less: assertions are dropped,
 *     big repeats become unbounded);
 *   - a program never exceeds WARD_MAX_PATTERN_PROG instructions, every
 *     jump target and class index in it is in range, and every piece ends
 *     in MATCH: the verifier relies on it without checking.
 */
#include "pattern/atoms.h"
#include "pattern/hex.h"
#include "pattern/pattern.h"
#include "pattern/pattern_impl.h"
#include "pattern/ptree.h"
#include "util/alloc.h"
#include "util/limits.h"

#include <hs/hs.h>
#include <string.h>

/* Characters of a wide literal that fit in one YARA atom (4 bytes). */
#define PATTERN_ATOM_CHARS 2

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
	int nomark;	    /* emitting a copy where YARA finds no atom */
	struct atoms_atom atom[ATOMS_MAX];
	size_t natom;
	int atoms_ok;
	uint8_t *atom_of; /* tree node -> 1 + its atom's index, 0 when none */
	/*
	 * YARA's split ids: a SPLIT's key is the node it is emitted for, a tag
	 * and the copy it is in (ctx); the first SPLIT with a key gives its pc
	 * as the sid of all (open addressing, nkey slots, a power of two).
	 */
	uint64_t ctx;
	uint64_t *key;
	uint16_t *key_sid;
	size_t nkey, nused;
	size_t prog_cap, cls_cap;
};

/* The tags of a SPLIT's key besides an alternative's index. */
#define SPLIT_TAG_OPT 0x10000u	/* an optional copy of a repeat, + its index */
#define SPLIT_TAG_LOOP 0x20000u /* the loop of x* or x+ */
/* The copy kinds of a repeat's body, as YARA emits x{n,m}: the prolog
 * (the first copy), the repeated middle (one piece of code for all its
 * iterations), the epilog (the last copy). */
#define COPY_PROLOG 1u
#define COPY_MIDDLE 2u
#define COPY_EPILOG 3u
#define COPY_OWN 0x100u /* + the index: a copy of its own */

static uint64_t
mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* The context of a copy of node n's body. */
static uint64_t
cg_ctx(const struct cg *g, uint32_t n, uint32_t kind)
{
	return mix64(g->ctx ^ mix64(((uint64_t)n << 32) | kind));
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
	p->prog[p->nprog].atom = 0;
	p->prog[p->nprog].sid = (uint16_t)p->nprog;
	p->prog[p->nprog].x = x;
	p->prog[p->nprog].y = y;
	if (pc != NULL)
		*pc = p->nprog;
	p->nprog++;
out:
	return r;
}

/* A SPLIT (targets patched by the caller) for node n with tag. */
static int
cg_split(struct cg *g, uint32_t n, uint32_t tag, uint32_t *pc)
{
	struct pattern *p = g->p;
	uint64_t k;
	size_t i;
	int r;

	r = cg_emit1(g, POP_SPLIT, 0, 0, pc);
	if (r != 0 || 2 * (g->nused + 1) > g->nkey)
		goto out; /* no table, or full: the split keeps an id of its own */
	k = mix64(g->ctx ^ mix64(((uint64_t)n << 32) | tag)) | 1u; /* 0: empty slot */
	for (i = k & (g->nkey - 1); g->key[i] != 0 && g->key[i] != k; i = (i + 1) & (g->nkey - 1))
		;
	if (g->key[i] == 0) {
		g->key[i] = k;
		g->key_sid[i] = (uint16_t)*pc;
		g->nused++;
	} else {
		p->prog[*pc].sid = g->key_sid[i];
		p->shared_sid = 1;
	}
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
	if (r == 0 && g->atom_of != NULL && g->atom_of[n] && !g->quiet && !g->nomark)
		p->prog[p->nprog - 1].atom = g->atom_of[n];
	return r;
}

static int cg_node(struct cg *g, uint32_t n);

/*
 * The kind of copy i (0 the first) of the body of node n, a PT_REPEAT, in
 * YARA's code: x+ and x* have one piece of code; x{n,m} a prolog when
 * n > 0, then a loop when m > n + 1 or m > 2, then an epilog when m > n or
 * m > 1 (re.c, _yr_re_emit).  YARA finds an atom in the first copy only,
 * except in x+, where its code is the same for all.
 */
static uint32_t
copy_kind(const struct ptree_node *nd, uint32_t i)
{
	uint32_t n = nd->min, m = nd->max;

	if (nd->quant != '{')
		return COPY_MIDDLE;
	if (n > 0 && i == 0)
		return COPY_PROLOG;
	if (m != PTREE_INF && (m > n || m > 1) && i + 1 == m)
		return COPY_EPILOG;
	return COPY_MIDDLE;
}

/*
 * Copy i of node n's body, in the context of its kind (own: a context of
 * its own).  Split ids matter only where a thread can run through a whole
 * copy without reading (a body that can be empty): elsewhere every copy
 * has its own, which spares the verifier their bookkeeping.
 */
static uint64_t
copy_ctx(const struct cg *g, uint32_t n, uint32_t i, int own)
{
	const struct ptree_node *nd = &g->t->n[n];
	uint64_t mn, mx;

	pattern_tree_len(g->t, nd->child, &mn, &mx);
	return cg_ctx(g, n, own || mn > 0 ? COPY_OWN + i : copy_kind(nd, i));
}

static int
cg_copy(struct cg *g, uint32_t n, uint32_t i, int own)
{
	const struct ptree_node *nd = &g->t->n[n];
	uint64_t ctx = g->ctx;
	int nomark = g->nomark, r;

	g->ctx = copy_ctx(g, n, i, own);
	if (nd->quant != '+' && i > 0)
		g->nomark = 1;
	r = cg_node(g, nd->child);
	g->ctx = ctx;
	g->nomark = nomark;
	return r;
}

/*
 * Node n, a PT_REPEAT, emitted as its child repeated mn..mx times; first:
 * the index of the first copy in the whole repeat, -1 for copies that
 * share no split ids.
 */
static int
cg_repeat(struct cg *g, uint32_t n, uint32_t mn, uint32_t mx, int first)
{
	const struct ptree_node *nd = &g->t->n[n];
	struct pattern *p = g->p;
	uint32_t i, s, loop, body, base = first < 0 ? 0 : (uint32_t)first;
	int r = 0, own = first < 0;

	for (i = 0; i < mn && r == 0; i++)
		r = cg_copy(g, n, base + i, own);
	if (r != 0)
		goto out;
	if (mx == PTREE_INF) {
		r = cg_split(g, n, SPLIT_TAG_LOOP, &loop);
		if (r == 0)
			r = cg_copy(g, n, base + mn, own);
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
			r = cg_split(g, n, SPLIT_TAG_OPT + base + i, &body);
			if (r == 0)
				r = cg_copy(g, n, base + i, own);
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
	uint64_t ctx = g->ctx;
	uint32_t loop;
	int r;

	g->quiet++;
	r = cg_split(g, n, SPLIT_TAG_LOOP + 1 + dir, &loop);
	/* YARA loops back into the code of x: its splits are x's */
	g->ctx = copy_ctx(g, n, 1 + dir, 0);
	if (r == 0)
		r = cg_forced(g, nd->child, dir);
	g->ctx = ctx;
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
		r = cg_copy(g, n, 0, 0);
	if (r == 0 && rg != RG_BEFORE)
		r = cg_loop(g, n, DIR_FWD);
	return r;
}

/* Node n entered at YARA's entry point in direction dir. */
static int
cg_forced(struct cg *g, uint32_t n, enum cg_dir dir)
{
	const struct ptree_node *nd = &g->t->n[n];
	uint64_t ctx = g->ctx;
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
		g->ctx = copy_ctx(g, n, 0, 0);
		r = cg_forced(g, nd->child, dir);
		g->ctx = ctx;
		goto out;
	}
	/* x+ or x{n,m} with n > 0: one copy of x entered, the rest as usual
	 * (x+ loops back to the entry of x); backwards the copies are in
	 * the reverse order of YARA's, so they share no split ids */
	mx = nd->max == PTREE_INF ? PTREE_INF : nd->max - 1;
	if (dir == DIR_BACK)
		r = nd->quant == '+' ? cg_loop(g, n, dir) : cg_repeat(g, n, nd->min - 1, mx, -1);
	if (r == 0) {
		g->ctx = copy_ctx(g, n, 0, 0);
		r = cg_forced(g, nd->child, dir);
		g->ctx = ctx;
	}
	if (r == 0 && dir == DIR_FWD)
		r = nd->quant == '+' ? cg_loop(g, n, dir) : cg_repeat(g, n, nd->min - 1, mx, 1);
out:
	return r;
}

static int
cg_node(struct cg *g, uint32_t n)
{
	const struct ptree_node *nd = &g->t->n[n];
	struct pattern *p = g->p;
	uint32_t c, s, k = 0, first = 0, j, a = 0;
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
				r = cg_split(g, n, a++, &s);
				if (r == 0) {
					p->prog[s].x = s + 1;
					r = cg_node(g, c);
				}
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
			r = cg_repeat(g, n, nd->min, nd->max, 0);
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
		rs = pattern_sat_add(rs, pattern_tree_size(t, c));
	for (c = t->n[alt].child; c != PTREE_NONE; c = t->n[c].next) {
		size = pattern_sat_add(size, pattern_sat_add(pattern_tree_size(t, c), rs + 1));
		k++;
	}
	if (k < 2 || k > PATTERN_MAX_PIECES || size > WARD_MAX_PATTERN_PROG)
		goto out; /* too big to duplicate: the whole program decides */
	g->nomark++;
	for (c = t->n[alt].child; c != PTREE_NONE && r == 0; c = t->n[c].next) {
		g->ctx = cg_ctx(g, alt, COPY_OWN + g->p->nbranch);
		g->p->branch[g->p->nbranch++] = g->p->nprog;
		r = cg_node(g, c);
		for (r2 = rest; r2 != PTREE_NONE && r == 0; r2 = t->n[r2].next)
			r = cg_node(g, r2);
		if (r == 0)
			r = cg_emit1(g, POP_MATCH, 0, 0, NULL);
	}
	g->nomark--;
	g->ctx = 0;
out:
	return r;
}

/*
 * Where YARA starts verifying a regexp (see atoms.h): the first
 * instruction of each atom's first node in the main program.
 */
static void
set_atoms(struct cg *g)
{
	struct pattern *p = g->p;
	size_t k;

	p->natom = 0;
	if (!g->atoms_ok || p->npieces > 1)
		return; /* a chain: each piece verified from its start */
	for (k = 0; k < g->natom; k++) {
		if (g->node_pc[g->atom[k].node] == 0)
			return; /* not emitted: keep verifying from the start */
		p->atom[k].pc = g->node_pc[g->atom[k].node] - 1;
		p->atom[k].len = g->atom[k].len;
		memcpy(p->atom[k].byte, g->atom[k].byte, ATOMS_LEN);
		memcpy(p->atom[k].mask, g->atom[k].mask, ATOMS_LEN);
	}
	/* a single atom at the very start is the same as none */
	if (!(g->natom == 1 && p->atom[0].pc == p->piece[0].pc))
		p->natom = (uint32_t)g->natom;
}

/*
 * pre_atom: the instructions from which an atom's start can be reached
 * without reading past it (a fixed point over the program's edges).
 */
static int
set_pre_atom(struct pattern *p)
{
	const struct pattern_insn *in;
	uint32_t pc;
	int changed = 1, b, r = 0;

	p->pre_atom = ward_calloc((p->nprog + 7) / 8, 1);
	if (p->pre_atom == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	while (changed) {
		changed = 0;
		for (pc = p->nprog; pc-- > 0;) {
			in = &p->prog[pc];
			if ((p->pre_atom[pc >> 3] >> (pc & 7)) & 1)
				continue;
			switch (in->op) {
			case POP_MATCH:
				b = 0;
				break;
			case POP_JMP:
				b = (p->pre_atom[in->x >> 3] >> (in->x & 7)) & 1;
				break;
			case POP_SPLIT:
				b = ((p->pre_atom[in->x >> 3] >> (in->x & 7)) & 1) ||
				    ((p->pre_atom[in->y >> 3] >> (in->y & 7)) & 1);
				break;
			default:
				b = in->atom != 0 ||
				    (pc + 1 < p->nprog &&
				     ((p->pre_atom[(pc + 1) >> 3] >> ((pc + 1) & 7)) & 1));
				break;
			}
			if (b) {
				p->pre_atom[pc >> 3] |= (uint8_t)(1u << (pc & 7));
				changed = 1;
			}
		}
	}
out:
	return r;
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
	for (k = 0; k < g->natom; k++) {
		g->region[g->atom[k].node] = RG_HOLDS;
		g->atom_of[g->atom[k].node] = (uint8_t)(k + 1);
	}
	rg_holds(g, t->root);
	rg_assign(g, t->root, RG_AFTER);
	g->force_root = g->natom == 0 && atoms_literal_len(t) == 0;
}

int
pattern_compile_tree(struct pattern *p, const struct ptree *t, struct ward_diag *d)
{
	struct cg g;
	const struct ptree_node *root = &t->n[t->root];
	uint32_t c, from, prev_gap_min = 0, prev_gap_max = 0, cs;
	uint64_t mn, mx, tmin = 0, tmax = 0, lim;
	struct wbuf w;
	size_t v, n;
	int r = 0, nullable;

	memset(&g, 0, sizeof(g));
	g.p = p;
	g.t = t;
	if (pattern_prog_size(p, t) + PATTERN_MAX_PIECES > WARD_MAX_PATTERN_PROG) {
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
	g.atom_of = ward_calloc(t->nn, sizeof(*g.atom_of));
	for (g.nkey = 64; g.nkey < 2 * (pattern_prog_size(p, t) + PATTERN_MAX_PIECES); g.nkey *= 2)
		;
	g.key = ward_calloc(g.nkey, sizeof(*g.key));
	g.key_sid = ward_calloc(g.nkey, sizeof(*g.key_sid));
	if (g.region == NULL || g.atom_of == NULL || g.key == NULL || g.key_sid == NULL) {
		r = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	/* a condition's regexp is run forwards from its start (re.c,
	 * yr_re_compile), with YARA's entry points */
	if (p->ekind == PATTERN_REGEX && (p->flags & PATTERN_SEARCH))
		g.yara_entry = 1;
	else if (p->ekind == PATTERN_REGEX)
		set_regions(&g);
	p->mode = (p->ekind == PATTERN_HEX && !t->has_alt) ? PMODE_SHORTEST : PMODE_PRIORITY;
	/* Pieces: a hex string or a regexp is cut at its long top-level jumps */
	from = root->type == PT_CAT ? root->child : t->root;
	if (pattern_cuts_chains(p, t)) {
		for (c = root->child; c != PTREE_NONE; c = t->n[c].next) {
			if (!pattern_is_chain_jump(&t->n[c]))
				continue;
			if (p->npieces + 1 >= PATTERN_MAX_PIECES) {
				r = diag_set(d, WARD_ELIMIT, NULL, 0, (int)t->n[c].col,
					     "too many long jumps in one string");
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
			if (prev_gap_max == PTREE_INF && p->ekind == PATTERN_REGEX)
				prev_gap_max = WARD_MAX_REPEAT; /* YARA's RE_MAX_RANGE */
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
	if (p->kind == PATTERN_REGEX && !(p->flags & PATTERN_SEARCH)) {
		set_atoms(&g);
		if (p->natom > 0)
			r = set_pre_atom(p);
		if (r != 0)
			goto fail;
		n = atoms_literal_len(t);
		p->whole_atom = p->nvar == 2 && n > 0 && n <= PATTERN_ATOM_CHARS;
	}
	/* hex strings and base64: a program per leading alternative (a regexp
	 * is verified from its atoms, as YARA does) */
	if (p->npieces == 1 && p->kind != PATTERN_REGEX) {
		r = cg_branches(&g);
		if (r != 0)
			goto fail;
	}
	if (p->npieces == 1)
		pattern_tree_len(t, t->root, &tmin, &tmax);
	else
		pattern_chain_len(p, t, 1, &tmin, &tmax);
	nullable = tmin == 0;
	for (v = 0; v < p->nvar; v++) {
		cs = p->var[v].wide ? 2 : 1;
		lim = WARD_RE_SCAN_LIMIT - WARD_RE_SCAN_LIMIT % cs;
		mn = pattern_sat_mul(tmin == 0 ? 1 : tmin, cs);
		mx = pattern_sat_mul(tmax, cs);
		if (p->npieces > 1)
			pattern_chain_len(p, t, cs, &mn, &mx);
		/* YARA runs at most the scan limit forwards; a regexp with atoms
		 * also at most the scan limit backwards from its atom */
		if (p->npieces == 1 && mx > (p->natom > 0 ? 2 * lim : lim))
			mx = p->natom > 0 ? 2 * lim : lim;
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
	ward_free(g.atom_of);
	ward_free(g.key);
	ward_free(g.key_sid);
	return r;
}
