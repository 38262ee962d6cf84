/*
 * lexer: turns YARA rule source into tokens.
 *
 * What must hold: every read of the source is checked against its length
 * (the source is untrusted and need not be NUL-terminated); positions are
 * 1-based lines and columns counted in bytes; text strings are unescaped
 * exactly as YARA does (\n \t \r \" \\ \xHH, anything else is an illegal
 * escape sequence); a '{' right after '=' starts a hex string and a '/'
 * that does not start a comment starts a regexp (YARA has no '/' operator).
 */
#include "rules/lexer.h"
#include "util/alloc.h"
#include "util/limits.h"
#include "util/hex.h"

#include <ctype.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

struct lexer {
	const char *file;
	const char *src;
	size_t len;
	size_t pos;
	int line, col;
	enum tok_type prev;
	uint8_t *buf;
	size_t blen, bcap;
};

static const struct {
	const char *kw;
	enum tok_type t;
} lexer_keywords[] = {
    {"all", TOK_ALL},
    {"and", TOK_AND},
    {"any", TOK_ANY},
    {"ascii", TOK_ASCII},
    {"at", TOK_AT},
    {"base64", TOK_BASE64},
    {"base64wide", TOK_BASE64WIDE},
    {"condition", TOK_CONDITION},
    {"contains", TOK_CONTAINS},
    {"defined", TOK_DEFINED},
    {"endswith", TOK_ENDSWITH},
    {"entrypoint", TOK_ENTRYPOINT},
    {"false", TOK_FALSE},
    {"filesize", TOK_FILESIZE},
    {"for", TOK_FOR},
    {"fullword", TOK_FULLWORD},
    {"global", TOK_GLOBAL},
    {"icontains", TOK_ICONTAINS},
    {"iendswith", TOK_IENDSWITH},
    {"iequals", TOK_IEQUALS},
    {"import", TOK_IMPORT},
    {"in", TOK_IN},
    {"include", TOK_INCLUDE},
    {"int8", TOK_INT8},
    {"int16", TOK_INT16},
    {"int32", TOK_INT32},
    {"int8be", TOK_INT8BE},
    {"int16be", TOK_INT16BE},
    {"int32be", TOK_INT32BE},
    {"istartswith", TOK_ISTARTSWITH},
    {"matches", TOK_MATCHES},
    {"meta", TOK_META},
    {"nocase", TOK_NOCASE},
    {"none", TOK_NONE},
    {"not", TOK_NOT},
    {"of", TOK_OF},
    {"or", TOK_OR},
    {"private", TOK_PRIVATE},
    {"rule", TOK_RULE},
    {"startswith", TOK_STARTSWITH},
    {"strings", TOK_STRINGS},
    {"them", TOK_THEM},
    {"true", TOK_TRUE},
    {"uint8", TOK_UINT8},
    {"uint16", TOK_UINT16},
    {"uint32", TOK_UINT32},
    {"uint8be", TOK_UINT8BE},
    {"uint16be", TOK_UINT16BE},
    {"uint32be", TOK_UINT32BE},
    {"wide", TOK_WIDE},
    {"xor", TOK_XOR},
};

int
lexer_new(const char *file, const char *src, size_t len, struct lexer **out)
{
	struct lexer *lx;
	int r = 0;

	*out = NULL;
	lx = ward_calloc(1, sizeof(*lx));
	if (lx == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	lx->file = file != NULL ? file : "";
	lx->src = src;
	lx->len = src != NULL ? len : 0;
	lx->line = 1;
	lx->col = 1;
	lx->prev = TOK_EOF;
	*out = lx;
out:
	return r;
}

void
lexer_free(struct lexer *lx)
{
	if (lx == NULL)
		return;
	ward_free(lx->buf);
	ward_free(lx);
}

const char *
lexer_file(const struct lexer *lx)
{
	return lx->file;
}

void
lexer_linecol(const struct lexer *lx, size_t off, int *line, int *col)
{
	size_t i;
	int l = 1, c = 1;

	for (i = 0; i < off && i < lx->len; i++) {
		if (lx->src[i] == '\n') {
			l++;
			c = 1;
		} else {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static int
lexer_peek(const struct lexer *lx, size_t ahead)
{
	if (lx->pos + ahead >= lx->len)
		return -1;
	return (unsigned char)lx->src[lx->pos + ahead];
}

static void
lexer_adv(struct lexer *lx)
{
	if (lx->pos >= lx->len)
		return;
	if (lx->src[lx->pos] == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->pos++;
}

static int
lexer_putc(struct lexer *lx, uint8_t c)
{
	if (lx->blen >= WARD_MAX_PATTERN_SOURCE)
		return WARD_ELIMIT;
	if (ward_grow(&lx->buf, &lx->bcap, lx->blen + 1, 1) != 0)
		return WARD_ENOMEM;
	lx->buf[lx->blen++] = c;
	return 0;
}

static int
lexer_err(struct lexer *lx, struct ward_diag *d, int err, int line, int col, const char *msg)
{
	return diag_set(d, err, lx->file, line, col, "%s", msg);
}

/* Skips blanks and comments; fails on an unterminated comment. */
static int
lexer_skip(struct lexer *lx, struct ward_diag *d)
{
	int c, line, col;

	for (;;) {
		c = lexer_peek(lx, 0);
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
			lexer_adv(lx);
		} else if (c == '/' && lexer_peek(lx, 1) == '/') {
			while ((c = lexer_peek(lx, 0)) != -1 && c != '\n')
				lexer_adv(lx);
		} else if (c == '/' && lexer_peek(lx, 1) == '*') {
			line = lx->line;
			col = lx->col;
			lexer_adv(lx);
			lexer_adv(lx);
			for (;;) {
				c = lexer_peek(lx, 0);
				if (c == -1)
					return lexer_err(lx, d, WARD_ESYNTAX, line, col,
							 "unterminated comment");
				if (c == '*' && lexer_peek(lx, 1) == '/') {
					lexer_adv(lx);
					lexer_adv(lx);
					break;
				}
				lexer_adv(lx);
			}
		} else {
			return 0;
		}
	}
}

static int
lexer_text(struct lexer *lx, struct token *t, struct ward_diag *d)
{
	int c, h1, h2, r = 0;
	int eline, ecol;

	lexer_adv(lx); /* opening quote */
	for (;;) {
		c = lexer_peek(lx, 0);
		if (c == -1 || c == '\n') {
			r = lexer_err(lx, d, WARD_ESYNTAX, t->line, t->col, "unterminated string");
			goto out;
		}
		if (c == '"') {
			lexer_adv(lx);
			break;
		}
		if (c != '\\') {
			if ((r = lexer_putc(lx, (uint8_t)c)) != 0)
				goto lim;
			lexer_adv(lx);
			continue;
		}
		eline = lx->line;
		ecol = lx->col;
		c = lexer_peek(lx, 1);
		switch (c) {
		case 'n':
			r = lexer_putc(lx, '\n');
			break;
		case 't':
			r = lexer_putc(lx, '\t');
			break;
		case 'r':
			r = lexer_putc(lx, '\r');
			break;
		case '"':
			r = lexer_putc(lx, '"');
			break;
		case '\\':
			r = lexer_putc(lx, '\\');
			break;
		case 'x':
			h1 = hex_digit(lexer_peek(lx, 2));
			h2 = hex_digit(lexer_peek(lx, 3));
			if (h1 < 0 || h2 < 0) {
				r = lexer_err(lx, d, WARD_ESYNTAX, eline, ecol,
					      "illegal escape sequence");
				goto out;
			}
			r = lexer_putc(lx, (uint8_t)(h1 * 16 + h2));
			lexer_adv(lx);
			lexer_adv(lx);
			break;
		default:
			r = lexer_err(lx, d, WARD_ESYNTAX, eline, ecol, "illegal escape sequence");
			goto out;
		}
		if (r != 0)
			goto lim;
		lexer_adv(lx);
		lexer_adv(lx);
	}
	if (lx->blen > WARD_MAX_STRING_BYTES) {
		r = WARD_ELIMIT;
		goto lim;
	}
	t->type = TOK_TEXT;
	goto out;
lim:
	if (r == WARD_ELIMIT)
		r = diag_set(d, r, lx->file, t->line, t->col,
			     "string too long (limit WARD_MAX_STRING_BYTES = %u bytes)",
			     (unsigned)WARD_MAX_STRING_BYTES);
out:
	return r;
}

/*
 * A hex string runs to the first '}' outside a comment: the comments stay in
 * the body (the pattern parser skips them), so a '}' inside one, as in
 * `5f // pop edi {__saved_edi}`, does not end the string.
 */
static int
lexer_hex(struct lexer *lx, struct token *t, struct ward_diag *d)
{
	int c, r = 0, comment = 0; /* 1: // to end of line, 2: slash-star */

	lexer_adv(lx); /* { */
	t->body_off = lx->pos;
	for (;;) {
		c = lexer_peek(lx, 0);
		if (c == -1) {
			r = lexer_err(lx, d, WARD_ESYNTAX, t->line, t->col,
				      "unterminated hex string");
			goto out;
		}
		if (comment == 0 && c == '/' && lexer_peek(lx, 1) == '/')
			comment = 1;
		else if (comment == 0 && c == '/' && lexer_peek(lx, 1) == '*')
			comment = 2;
		else if (comment == 1 && c == '\n')
			comment = 0;
		else if (comment == 2 && c == '*' && lexer_peek(lx, 1) == '/')
			comment = 3; /* ends after the '/' */
		else if (comment == 3)
			comment = 0;
		if (c == '}' && comment == 0) {
			lexer_adv(lx);
			break;
		}
		if ((r = lexer_putc(lx, (uint8_t)c)) != 0) {
			r = diag_set(d, r, lx->file, t->line, t->col,
				     r == WARD_ELIMIT ? "hex string too long (limit "
							"WARD_MAX_PATTERN_SOURCE)"
						      : "out of memory");
			goto out;
		}
		lexer_adv(lx);
	}
	t->type = TOK_HEX;
out:
	return r;
}

static int
lexer_regex(struct lexer *lx, struct token *t, struct ward_diag *d)
{
	int c, r = 0;

	lexer_adv(lx); /* / */
	t->body_off = lx->pos;
	for (;;) {
		c = lexer_peek(lx, 0);
		if (c == -1 || c == '\n') {
			r = lexer_err(lx, d, WARD_ESYNTAX, t->line, t->col,
				      "unterminated regular expression");
			goto out;
		}
		if (c == '/') {
			lexer_adv(lx);
			break;
		}
		if (c == '\\' && lexer_peek(lx, 1) == '/') {
			r = lexer_putc(lx, '/');
			lexer_adv(lx);
			lexer_adv(lx);
		} else if (c == '\\' && lexer_peek(lx, 1) != -1 && lexer_peek(lx, 1) != '\n') {
			r = lexer_putc(lx, '\\');
			if (r == 0)
				r = lexer_putc(lx, (uint8_t)lexer_peek(lx, 1));
			lexer_adv(lx);
			lexer_adv(lx);
		} else {
			r = lexer_putc(lx, (uint8_t)c);
			lexer_adv(lx);
		}
		if (r != 0) {
			r = diag_set(d, r, lx->file, t->line, t->col,
				     r == WARD_ELIMIT ? "regular expression too long (limit "
							"WARD_MAX_PATTERN_SOURCE)"
						      : "out of memory");
			goto out;
		}
	}
	t->ival = 0;
	for (;;) {
		c = lexer_peek(lx, 0);
		if (c == 'i' && !(t->ival & LEXER_RE_NOCASE))
			t->ival |= LEXER_RE_NOCASE;
		else if (c == 's' && !(t->ival & LEXER_RE_DOTALL))
			t->ival |= LEXER_RE_DOTALL;
		else
			break;
		lexer_adv(lx);
	}
	if (c != -1 && (isalnum(c) || c == '_')) {
		r = lexer_err(lx, d, WARD_ESYNTAX, lx->line, lx->col,
			      "invalid regular expression modifier");
		goto out;
	}
	t->type = TOK_REGEX;
out:
	return r;
}

static int
lexer_isident(int c)
{
	return c != -1 && (isalnum(c) || c == '_');
}

/* The value of the digits, a '.' and digits at p (n bytes), as yara's
 * strtod reads them; never locale-dependent (the lexer saw the '.'). */
static double
lexer_double(const char *p, size_t n)
{
	char small[64], *buf = small, *dot;
	double v;

	if (n >= sizeof(small) && (buf = ward_malloc(n + 1)) == NULL)
		return 0; /* out of memory: the compile fails on the next token */
	memcpy(buf, p, n);
	buf[n] = '\0';
	/* strtod reads the locale's decimal point; make the text use it. */
	dot = strchr(buf, '.');
	if (dot != NULL)
		*dot = *localeconv()->decimal_point;
	v = strtod(buf, NULL);
	if (buf != small)
		ward_free(buf);
	return v;
}

static int
lexer_number(struct lexer *lx, struct token *t, struct ward_diag *d)
{
	uint64_t v = 0, lim = INT64_MAX;
	int c, base = 10, dig, r = 0, ovf = 0;
	size_t start = lx->pos;

	if (lexer_peek(lx, 0) == '0' && (lexer_peek(lx, 1) == 'x' || lexer_peek(lx, 1) == 'X')) {
		base = 16;
		lexer_adv(lx);
		lexer_adv(lx);
	} else if (lexer_peek(lx, 0) == '0' && lexer_peek(lx, 1) == 'o') {
		base = 8;
		lexer_adv(lx);
		lexer_adv(lx);
	}
	for (;;) {
		c = lexer_peek(lx, 0);
		dig = hex_digit(c);
		if (dig < 0 || dig >= base)
			break;
		if (v > (lim - (uint64_t)dig) / (uint64_t)base)
			ovf = 1;
		else
			v = v * (uint64_t)base + (uint64_t)dig;
		lexer_adv(lx);
	}
	if (lx->pos == start + (base == 10 ? 0 : 2)) {
		r = lexer_err(lx, d, WARD_ESYNTAX, t->line, t->col, "invalid number");
		goto out;
	}
	if (base == 10 && c == '.' && lexer_peek(lx, 1) >= '0' && lexer_peek(lx, 1) <= '9') {
		lexer_adv(lx);
		while ((c = lexer_peek(lx, 0)) >= '0' && c <= '9')
			lexer_adv(lx);
		t->type = TOK_DOUBLE;
		t->dval = lexer_double(lx->src + start, lx->pos - start);
		goto out;
	}
	if ((c == 'K' || c == 'M') && lexer_peek(lx, 1) == 'B') {
		uint64_t m = c == 'K' ? 1024 : 1024 * 1024;

		if (v > lim / m)
			ovf = 1;
		else
			v *= m;
		lexer_adv(lx);
		lexer_adv(lx);
		c = lexer_peek(lx, 0);
	}
	if (lexer_isident(c)) {
		r = lexer_err(lx, d, WARD_ESYNTAX, t->line, t->col, "invalid number");
		goto out;
	}
	if (ovf) {
		r = diag_set(d, WARD_ESYNTAX, lx->file, t->line, t->col,
			     "integer overflow in \"%.*s\"", (int)(lx->pos - start),
			     lx->src + start);
		goto out;
	}
	t->type = TOK_INT;
	t->ival = (int64_t)v;
out:
	return r;
}

static int
lexer_ident(struct lexer *lx, struct token *t, struct ward_diag *d)
{
	size_t i, start = lx->pos;
	int r = 0;

	while (lexer_isident(lexer_peek(lx, 0)))
		lexer_adv(lx);
	t->text = lx->src + start;
	t->len = lx->pos - start;
	t->type = TOK_IDENT;
	for (i = 0; i < sizeof(lexer_keywords) / sizeof(lexer_keywords[0]); i++) {
		if (strlen(lexer_keywords[i].kw) == t->len &&
		    memcmp(lexer_keywords[i].kw, t->text, t->len) == 0) {
			t->type = lexer_keywords[i].t;
			goto out;
		}
	}
	if (t->len > WARD_MAX_IDENTIFIER)
		r = diag_set(d, WARD_ELIMIT, lx->file, t->line, t->col,
			     "identifier too long (limit WARD_MAX_IDENTIFIER = %d)",
			     WARD_MAX_IDENTIFIER);
out:
	return r;
}

/* $name[*], #name, @name, !name (the sigil already seen). */
static void
lexer_strref(struct lexer *lx, struct token *t, enum tok_type type)
{
	size_t start = lx->pos;

	lexer_adv(lx);
	while (lexer_isident(lexer_peek(lx, 0)))
		lexer_adv(lx);
	if (type == TOK_STRID && lexer_peek(lx, 0) == '*')
		lexer_adv(lx);
	t->type = type;
	t->text = lx->src + start;
	t->len = lx->pos - start;
}

static int
lexer_punct(struct lexer *lx, struct token *t)
{
	int c = lexer_peek(lx, 0), n = lexer_peek(lx, 1), two = 0;

	switch (c) {
	case '{':
		t->type = TOK_LBRACE;
		break;
	case '}':
		t->type = TOK_RBRACE;
		break;
	case '(':
		t->type = TOK_LPAREN;
		break;
	case ')':
		t->type = TOK_RPAREN;
		break;
	case '[':
		t->type = TOK_LBRACK;
		break;
	case ']':
		t->type = TOK_RBRACK;
		break;
	case ':':
		t->type = TOK_COLON;
		break;
	case ',':
		t->type = TOK_COMMA;
		break;
	case '.':
		t->type = n == '.' ? TOK_DOTDOT : TOK_DOT;
		two = n == '.';
		break;
	case '+':
		t->type = TOK_PLUS;
		break;
	case '-':
		t->type = TOK_MINUS;
		break;
	case '*':
		t->type = TOK_STAR;
		break;
	case '\\':
		t->type = TOK_BSLASH;
		break;
	case '%':
		t->type = TOK_PERCENT;
		break;
	case '&':
		t->type = TOK_AMP;
		break;
	case '|':
		t->type = TOK_PIPE;
		break;
	case '^':
		t->type = TOK_CARET;
		break;
	case '~':
		t->type = TOK_TILDE;
		break;
	case '<':
		t->type = n == '<' ? TOK_SHL : n == '=' ? TOK_LE : TOK_LT;
		two = n == '<' || n == '=';
		break;
	case '>':
		t->type = n == '>' ? TOK_SHR : n == '=' ? TOK_GE : TOK_GT;
		two = n == '>' || n == '=';
		break;
	case '=':
		t->type = n == '=' ? TOK_EQ : TOK_ASSIGN;
		two = n == '=';
		break;
	default:
		return -1;
	}
	lexer_adv(lx);
	if (two)
		lexer_adv(lx);
	return 0;
}

int
lexer_next(struct lexer *lx, struct token *t, struct ward_diag *d)
{
	int c, r;

	memset(t, 0, sizeof(*t));
	if ((r = lexer_skip(lx, d)) != 0)
		goto out;
	t->line = lx->line;
	t->col = lx->col;
	t->off = lx->pos;
	lx->blen = 0;
	c = lexer_peek(lx, 0);
	if (c == -1) {
		t->type = TOK_EOF;
	} else if (c == '"') {
		r = lexer_text(lx, t, d);
	} else if (c == '{' && lx->prev == TOK_ASSIGN) {
		r = lexer_hex(lx, t, d);
	} else if (c == '/') {
		r = lexer_regex(lx, t, d);
	} else if (c >= '0' && c <= '9') {
		r = lexer_number(lx, t, d);
	} else if (isalpha(c) || c == '_') {
		r = lexer_ident(lx, t, d);
	} else if (c == '$') {
		lexer_strref(lx, t, TOK_STRID);
	} else if (c == '#') {
		lexer_strref(lx, t, TOK_STRCOUNT);
	} else if (c == '@') {
		lexer_strref(lx, t, TOK_STROFF);
	} else if (c == '!' && lexer_peek(lx, 1) == '=') {
		t->type = TOK_NEQ;
		lexer_adv(lx);
		lexer_adv(lx);
	} else if (c == '!') {
		lexer_strref(lx, t, TOK_STRLEN);
	} else if (lexer_punct(lx, t) != 0) {
		if (c >= 0x20 && c < 0x7f)
			r = diag_set(d, WARD_ESYNTAX, lx->file, t->line, t->col,
				     "syntax error, unexpected character '%c'", c);
		else
			r = diag_set(d, WARD_ESYNTAX, lx->file, t->line, t->col,
				     "syntax error, unexpected byte 0x%02x", (unsigned)c);
	}
	if (r == 0 && (t->type == TOK_TEXT || t->type == TOK_HEX || t->type == TOK_REGEX)) {
		t->buf = lx->buf != NULL ? lx->buf : (const uint8_t *)"";
		t->blen = lx->blen;
	}
	if (r == 0 && t->type != TOK_IDENT && t->type < TOK_ALL && t->text == NULL) {
		t->text = lx->src + t->off;
		t->len = lx->pos - t->off;
	}
	lx->prev = t->type;
out:
	return r;
}

const char *
lexer_tokname(enum tok_type t)
{
	static const char *const names[] = {
	    [TOK_EOF] = "end of file",
	    [TOK_IDENT] = "identifier",
	    [TOK_STRID] = "string identifier",
	    [TOK_STRCOUNT] = "string count",
	    [TOK_STROFF] = "string offset",
	    [TOK_STRLEN] = "string length",
	    [TOK_INT] = "integer number",
	    [TOK_DOUBLE] = "floating point number",
	    [TOK_TEXT] = "text string",
	    [TOK_HEX] = "hex string",
	    [TOK_REGEX] = "regular expression",
	    [TOK_LBRACE] = "'{'",
	    [TOK_RBRACE] = "'}'",
	    [TOK_LPAREN] = "'('",
	    [TOK_RPAREN] = "')'",
	    [TOK_LBRACK] = "'['",
	    [TOK_RBRACK] = "']'",
	    [TOK_COLON] = "':'",
	    [TOK_ASSIGN] = "'='",
	    [TOK_COMMA] = "','",
	    [TOK_DOT] = "'.'",
	    [TOK_DOTDOT] = "'..'",
	    [TOK_PLUS] = "'+'",
	    [TOK_MINUS] = "'-'",
	    [TOK_STAR] = "'*'",
	    [TOK_BSLASH] = "'\\'",
	    [TOK_PERCENT] = "'%'",
	    [TOK_AMP] = "'&'",
	    [TOK_PIPE] = "'|'",
	    [TOK_CARET] = "'^'",
	    [TOK_TILDE] = "'~'",
	    [TOK_SHL] = "'<<'",
	    [TOK_SHR] = "'>>'",
	    [TOK_LT] = "'<'",
	    [TOK_LE] = "'<='",
	    [TOK_GT] = "'>'",
	    [TOK_GE] = "'>='",
	    [TOK_EQ] = "'=='",
	    [TOK_NEQ] = "'!='",
	};
	size_t i;

	if ((size_t)t < sizeof(names) / sizeof(names[0]) && names[t] != NULL)
		return names[t];
	for (i = 0; i < sizeof(lexer_keywords) / sizeof(lexer_keywords[0]); i++)
		if (lexer_keywords[i].t == t)
			return lexer_keywords[i].kw;
	return "token";
}
