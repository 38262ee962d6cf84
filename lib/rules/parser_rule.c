/*
 * parser_rule: the structure of a rule file — include, import, rule
 * headers, tags, meta, strings with their modifiers — around the
 * conditions parsed by parser.c.
 *
 * What must hold: a rule is handed to the compiler only when it is complete
 * (through its closing brace) and before any token after it is read, so
 * that includes and rules reach the compiler in source order; modifiers are
 * validated as yara does (duplicates, only `private` on hex strings, xor
 * and base64 only on text strings, their arguments' ranges and the one
 * base64 alphabet; the combinations are checked by pattern_compile_mods)
 * and imports are refused, never ignored.  When the
 * caller asks to recover (cb->unsupported), a rule that uses such a
 * construct is still parsed to its closing brace by yara's grammar and
 * handed to cb->unsupported instead of cb->rule, whole: a syntax error
 * anywhere in it is still an error.
 */
#include "rules/parser_int.h"
#include "modules/module.h"
#include "util/alloc.h"
#include "util/limits.h"

#include <string.h>

static int
parser_meta(struct parser *p, struct prule *rl)
{
	size_t cap = 0;
	struct rs_meta *m;
	int r = 0, neg;

	while (p->tok.type == TOK_IDENT) {
		if (rl->nmeta >= WARD_MAX_META) {
			r = diag_set(p->d, WARD_ELIMIT, p->file, p->tok.line, p->tok.col,
				     "too many metadata entries (limit WARD_MAX_META = %d)",
				     WARD_MAX_META);
			goto out;
		}
		if (ward_grow(&rl->meta, &cap, rl->nmeta + 1, sizeof(*rl->meta)) != 0) {
			r = parser_nomem(p);
			goto out;
		}
		m = &rl->meta[rl->nmeta];
		memset(m, 0, sizeof(*m));
		if ((m->key = parser_tokstr(&p->tok)) == NULL) {
			r = parser_nomem(p);
			goto out;
		}
		rl->nmeta++;
		if ((r = parser_next(p)) != 0 || (r = parser_expect(p, TOK_ASSIGN)) != 0)
			goto out;
		neg = 0;
		if (p->tok.type == TOK_MINUS) {
			neg = 1;
			if ((r = parser_next(p)) != 0)
				goto out;
			if (p->tok.type != TOK_INT) {
				r = parser_unexpected(p);
				goto out;
			}
		}
		switch (p->tok.type) {
		case TOK_TEXT:
			m->type = RS_STR;
			if ((m->s = ward_strndup((const char *)p->tok.buf, p->tok.blen)) == NULL) {
				r = parser_nomem(p);
				goto out;
			}
			break;
		case TOK_INT:
			m->type = RS_INT;
			m->i = neg ? -p->tok.ival : p->tok.ival;
			break;
		case TOK_TRUE:
		case TOK_FALSE:
			m->type = RS_BOOL;
			m->i = p->tok.type == TOK_TRUE;
			break;
		default:
			r = parser_unexpected(p);
			goto out;
		}
		if ((r = parser_next(p)) != 0)
			goto out;
	}
out:
	return r;
}

static unsigned
parser_modflag(enum tok_type t)
{
	switch (t) {
	case TOK_NOCASE:
		return PATTERN_NOCASE;
	case TOK_WIDE:
		return PATTERN_WIDE;
	case TOK_ASCII:
		return PATTERN_ASCII;
	case TOK_FULLWORD:
		return PATTERN_FULLWORD;
	case TOK_PRIVATE:
		return PATTERN_PRIVATE;
	case TOK_XOR:
		return PATTERN_XOR;
	case TOK_BASE64:
		return PATTERN_BASE64;
	case TOK_BASE64WIDE:
		return PATTERN_BASE64WIDE;
	default:
		return 0;
	}
}

/* The range of xor(N) or xor(N-M), from its '(' on, with YARA's errors
 * (line, col: where the modifier is). */
static int
parser_xor_range(struct parser *p, int line, int col, int64_t *lo, int64_t *hi)
{
	int r;

	if ((r = parser_next(p)) != 0)
		goto out;
	if (p->tok.type != TOK_INT) {
		r = parser_unexpected(p);
		goto out;
	}
	*lo = *hi = p->tok.ival;
	if ((r = parser_next(p)) != 0)
		goto out;
	if (p->tok.type == TOK_MINUS) {
		if ((r = parser_next(p)) != 0)
			goto out;
		if (p->tok.type != TOK_INT) {
			r = parser_unexpected(p);
			goto out;
		}
		*hi = p->tok.ival;
		if ((r = parser_next(p)) != 0)
			goto out;
		if (*hi > 255)
			r = diag_set(p->d, WARD_ESYNTAX, p->file, line, col,
				     "upper bound for xor range exceeded (max: 255)");
		else if (*lo > *hi)
			r = diag_set(p->d, WARD_ESYNTAX, p->file, line, col,
				     "xor lower bound exceeds upper bound");
	} else if (*lo > 255) {
		r = diag_set(p->d, WARD_ESYNTAX, p->file, line, col, "invalid xor range");
	}
	if (r == 0)
		r = parser_expect(p, TOK_RPAREN);
out:
	return r;
}

/* The arguments of xor: none (keys 0-255), (N) or (N-M). */
static int
parser_xor_args(struct parser *p, struct pstring *s)
{
	int64_t lo = 0, hi = 255;
	int line = p->tok.line, col = p->tok.col, r;

	if ((r = parser_next(p)) != 0)
		goto out;
	if (p->tok.type == TOK_LPAREN && (r = parser_xor_range(p, line, col, &lo, &hi)) != 0)
		goto out;
	s->xor_min = (uint8_t)lo;
	s->xor_max = (uint8_t)hi;
out:
	return r;
}

/*
 * The argument of base64/base64wide: none (the standard alphabet) or
 * ("64 characters").  Both modifiers share one alphabet, as in YARA: a
 * second one that differs (the standard one included) is an error.
 */
static int
parser_b64_args(struct parser *p, struct pstring *s, int first)
{
	static const char std[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *abc = (const uint8_t *)std;
	int line = p->tok.line, col = p->tok.col, r;

	if ((r = parser_next(p)) != 0)
		goto out;
	if (p->tok.type == TOK_LPAREN) {
		if ((r = parser_next(p)) != 0)
			goto out;
		if (p->tok.type != TOK_TEXT) {
			r = parser_unexpected(p);
			goto out;
		}
		if (p->tok.blen != 64) {
			r = diag_set(p->d, WARD_ESYNTAX, p->file, p->tok.line, p->tok.col,
				     "length of base64 alphabet must be 64");
			goto out;
		}
		abc = p->tok.buf;
	}
	if (first) {
		if (abc != (const uint8_t *)std && (s->alphabet = ward_memdup(abc, 64)) == NULL) {
			r = parser_nomem(p);
			goto out;
		}
	} else if (memcmp(s->alphabet != NULL ? s->alphabet : (const uint8_t *)std, abc, 64) != 0) {
		r = diag_set(p->d, WARD_ESYNTAX, p->file, line, col,
			     "can not specify multiple alphabets");
		goto out;
	}
	if (abc != (const uint8_t *)std) {
		if ((r = parser_next(p)) != 0)
			goto out;
		r = parser_expect(p, TOK_RPAREN);
	}
out:
	return r;
}

static int
parser_modifiers(struct parser *p, struct pstring *s)
{
	unsigned f;
	int r = 0;

	for (;;) {
		enum tok_type t = p->tok.type;

		if ((f = parser_modflag(t)) == 0)
			break;
		if (s->flags & f) {
			r = diag_set(p->d, WARD_ESYNTAX, p->file, p->tok.line, p->tok.col,
				     "duplicated modifier");
			goto out;
		}
		if ((s->kind == PATTERN_HEX && f != PATTERN_PRIVATE) ||
		    (s->kind == PATTERN_REGEX &&
		     (f & (PATTERN_XOR | PATTERN_BASE64 | PATTERN_BASE64WIDE)))) {
			r = diag_set(p->d, WARD_ESYNTAX, p->file, p->tok.line, p->tok.col,
				     "syntax error, unexpected keyword \"%s\" (only \"private\" is "
				     "allowed on hex strings, and xor and base64 only on text "
				     "strings)",
				     lexer_tokname(t));
			goto out;
		}
		if (f == PATTERN_XOR)
			r = parser_xor_args(p, s);
		else if (f & (PATTERN_BASE64 | PATTERN_BASE64WIDE))
			r = parser_b64_args(p, s,
					    !(s->flags & (PATTERN_BASE64 | PATTERN_BASE64WIDE)));
		else
			r = parser_next(p);
		s->flags |= f;
		if (r != 0)
			goto out;
	}
out:
	return r;
}

static int
parser_strings(struct parser *p, struct prule *rl)
{
	size_t cap = 0;
	struct pstring *s;
	int r = 0;

	if (p->tok.type != TOK_STRID) {
		r = parser_unexpected(p);
		goto out;
	}
	while (p->tok.type == TOK_STRID) {
		if (rl->nstrings >= WARD_MAX_STRINGS_PER_RULE) {
			r = diag_set(
			    p->d, WARD_ELIMIT, p->file, p->tok.line, p->tok.col,
			    "too many strings in rule (limit WARD_MAX_STRINGS_PER_RULE = %d)",
			    WARD_MAX_STRINGS_PER_RULE);
			goto out;
		}
		if (p->tok.text[p->tok.len - 1] == '*') {
			r = parser_unexpected(p);
			goto out;
		}
		if (ward_grow(&rl->strings, &cap, rl->nstrings + 1, sizeof(*rl->strings)) != 0) {
			r = parser_nomem(p);
			goto out;
		}
		s = &rl->strings[rl->nstrings];
		memset(s, 0, sizeof(*s));
		s->line = p->tok.line;
		s->col = p->tok.col;
		if ((s->id = parser_tokstr(&p->tok)) == NULL) {
			r = parser_nomem(p);
			goto out;
		}
		rl->nstrings++;
		if ((r = parser_next(p)) != 0)
			goto out;
		if (p->tok.type != TOK_ASSIGN) {
			r = parser_expect(p, TOK_ASSIGN);
			goto out;
		}
		if ((r = parser_next(p)) != 0)
			goto out;
		switch (p->tok.type) {
		case TOK_TEXT:
			s->kind = PATTERN_TEXT;
			break;
		case TOK_HEX:
			s->kind = PATTERN_HEX;
			break;
		case TOK_REGEX:
			s->kind = PATTERN_REGEX;
			s->flags = ((p->tok.ival & LEXER_RE_NOCASE) ? PATTERN_NOCASE : 0) |
				   ((p->tok.ival & LEXER_RE_DOTALL) ? PATTERN_DOTALL : 0);
			break;
		default:
			r = parser_unexpected(p);
			goto out;
		}
		if (s->kind == PATTERN_TEXT && p->tok.blen == 0) {
			r = diag_set(p->d, WARD_ESYNTAX, p->file, s->line, s->col,
				     "empty string \"%s\"", s->id);
			goto out;
		}
		s->len = p->tok.blen;
		s->src_off = p->tok.body_off;
		if ((s->src = ward_memdup(p->tok.buf, p->tok.blen)) == NULL) {
			r = parser_nomem(p);
			goto out;
		}
		if ((r = parser_next(p)) != 0)
			goto out;
		/* The regexp flag /i is a modifier too: `nocase` after /i is allowed. */
		if (s->kind == PATTERN_REGEX) {
			unsigned keep = s->flags;

			s->flags = 0;
			r = parser_modifiers(p, s);
			s->flags |= keep;
		} else {
			r = parser_modifiers(p, s);
		}
		if (r != 0)
			goto out;
	}
out:
	return r;
}

static int
parser_tags(struct parser *p, struct prule *rl)
{
	size_t cap = 0;
	uint32_t i;
	int r = 0;

	if (p->tok.type != TOK_IDENT) {
		r = parser_unexpected(p);
		goto out;
	}
	while (p->tok.type == TOK_IDENT) {
		for (i = 0; i < rl->ntags; i++) {
			if (strlen(rl->tags[i]) == p->tok.len &&
			    memcmp(rl->tags[i], p->tok.text, p->tok.len) == 0) {
				r = diag_set(p->d, WARD_EDUPLICATE, p->file, p->tok.line,
					     p->tok.col, "duplicated tag identifier \"%.*s\"",
					     (int)p->tok.len, p->tok.text);
				goto out;
			}
		}
		if (rl->ntags >= WARD_MAX_TAGS) {
			r = diag_set(p->d, WARD_ELIMIT, p->file, p->tok.line, p->tok.col,
				     "too many tags (limit WARD_MAX_TAGS = %d)", WARD_MAX_TAGS);
			goto out;
		}
		if (ward_grow(&rl->tags, &cap, rl->ntags + 1, sizeof(*rl->tags)) != 0 ||
		    (rl->tags[rl->ntags] = parser_tokstr(&p->tok)) == NULL) {
			r = parser_nomem(p);
			goto out;
		}
		rl->ntags++;
		if ((r = parser_next(p)) != 0)
			goto out;
	}
out:
	return r;
}

static int
parser_rule(struct parser *p)
{
	struct prule *rl;
	int r;

	if ((rl = ward_calloc(1, sizeof(*rl))) == NULL)
		return parser_nomem(p);
	rl->line = p->tok.line;
	rl->col = p->tok.col;
	rl->off = p->tok.off;
	p->has_why = 0;
	while (p->tok.type == TOK_PRIVATE || p->tok.type == TOK_GLOBAL) {
		uint32_t f = p->tok.type == TOK_PRIVATE ? RS_RULE_PRIVATE : RS_RULE_GLOBAL;

		if (rl->flags & f) {
			r = parser_unexpected(p);
			goto out;
		}
		rl->flags |= f;
		if ((r = parser_next(p)) != 0)
			goto out;
	}
	if ((r = parser_expect(p, TOK_RULE)) != 0)
		goto out;
	if (p->tok.type != TOK_IDENT) {
		r = parser_unexpected(p);
		goto out;
	}
	rl->line = p->tok.line;
	rl->col = p->tok.col;
	if ((rl->name = parser_tokstr(&p->tok)) == NULL) {
		r = parser_nomem(p);
		goto out;
	}
	if ((r = parser_next(p)) != 0)
		goto out;
	if (p->tok.type == TOK_COLON) {
		if ((r = parser_next(p)) != 0 || (r = parser_tags(p, rl)) != 0)
			goto out;
	}
	if ((r = parser_expect(p, TOK_LBRACE)) != 0)
		goto out;
	if (p->tok.type == TOK_META) {
		if ((r = parser_next(p)) != 0 || (r = parser_expect(p, TOK_COLON)) != 0 ||
		    (r = parser_meta(p, rl)) != 0)
			goto out;
	}
	if (p->tok.type == TOK_STRINGS) {
		if ((r = parser_next(p)) != 0 || (r = parser_expect(p, TOK_COLON)) != 0 ||
		    (r = parser_strings(p, rl)) != 0)
			goto out;
	}
	if ((r = parser_expect(p, TOK_CONDITION)) != 0 || (r = parser_expect(p, TOK_COLON)) != 0)
		goto out;
	if ((r = parser_or(p, &rl->cond)) != 0)
		goto out;
	if (p->tok.type != TOK_RBRACE) {
		r = parser_unexpected(p);
		goto out;
	}
	rl->end = p->tok.off + 1;
	/* The rule is complete: hand it over before reading past its '}'. */
	if (p->has_why) {
		struct parser_skip sk = {rl, NULL, rl->off, rl->end, &p->why};

		r = p->cb->unsupported(p->cb->arg, &sk, p->d);
	} else {
		r = p->cb->rule(p->cb->arg, rl, p->lx, p->d);
	}
	if (r != 0)
		goto out;
	r = parser_next(p);
out:
	prule_free(rl);
	return r;
}

/* `import "name"` (the name is the current token): a module ward
 * implements is the compiler's to note; another is unsupported. */
static int
parser_import(struct parser *p, int line, int col, size_t off)
{
	struct parser_skip sk;
	char *name = NULL;
	int r;

	if ((name = ward_strndup((const char *)p->tok.buf, p->tok.blen)) == NULL) {
		r = parser_nomem(p);
		goto out;
	}
	if (strlen(name) == p->tok.blen && mod_find(name) != NULL) {
		if (p->cb->import != NULL &&
		    (r = p->cb->import(p->cb->arg, name, line, col, p->d)) != 0)
			goto out;
		r = parser_next(p);
		goto out;
	}
	p->has_why = 0;
	if ((r = parser_unsupported(p, line, col, "\"%s\" module is not supported by ward",
				    name)) != 0)
		goto out;
	memset(&sk, 0, sizeof(sk));
	sk.module = name;
	sk.off = off;
	sk.end = p->tok.off + p->tok.len;
	sk.why = &p->why;
	if ((r = p->cb->unsupported(p->cb->arg, &sk, p->d)) != 0)
		goto out;
	r = parser_next(p);
out:
	ward_free(name);
	return r;
}

int
parser_parse(const char *file, const char *src, size_t len, const struct parser_cb *cb,
	     struct ward_diag *d)
{
	struct parser p;
	char *path = NULL;
	size_t off;
	int r, line, col;

	memset(&p, 0, sizeof(p));
	p.cb = cb;
	p.d = d;
	p.file = file != NULL ? file : "";
	p.recover = cb->unsupported != NULL;
	if ((r = lexer_new(p.file, src, len, &p.lx)) != 0) {
		r = diag_set(d, r, p.file, 0, 0, "out of memory");
		goto out;
	}
	if ((r = parser_next(&p)) != 0)
		goto out;
	while (p.tok.type != TOK_EOF) {
		if (p.tok.type == TOK_IMPORT || p.tok.type == TOK_INCLUDE) {
			enum tok_type kw = p.tok.type;

			line = p.tok.line;
			col = p.tok.col;
			off = p.tok.off;
			if ((r = parser_next(&p)) != 0)
				goto out;
			if (p.tok.type != TOK_TEXT) {
				r = parser_unexpected(&p);
				goto out;
			}
			if (kw == TOK_IMPORT) {
				if ((r = parser_import(&p, line, col, off)) != 0)
					goto out;
				continue;
			}
			if (memchr(p.tok.buf, '\0', p.tok.blen) != NULL) {
				r = diag_set(d, WARD_ESYNTAX, p.file, p.tok.line, p.tok.col,
					     "invalid include file name");
				goto out;
			}
			if ((path = ward_strndup((const char *)p.tok.buf, p.tok.blen)) == NULL) {
				r = parser_nomem(&p);
				goto out;
			}
			if ((r = cb->include(cb->arg, path, line, col, d)) != 0)
				goto out;
			ward_free(path);
			path = NULL;
			if ((r = parser_next(&p)) != 0)
				goto out;
			continue;
		}
		if ((r = parser_rule(&p)) != 0)
			goto out;
	}
out:
	ward_free(path);
	lexer_free(p.lx);
	return r;
}
