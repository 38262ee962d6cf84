/*
 * ruleset: ownership, externals, the compiled-file format and evaluation.
 *
 * What must hold: ruleset_load treats its input as hostile — the header
 * (magic, format version, ward version, CPU family) and a CRC-32 of the
 * payload are checked first, then every count against limits.h, every
 * length against what remains, every name for embedded NULs, the string
 * ranges of the rules for consistency, every pattern through pattern_load
 * and every rule's bytecode through cond_verify; only then is the rule set
 * returned.  ruleset_eval keeps no state outside its arguments.
 *
 * File layout (little-endian): "WARDRSET", u32 format, lenbytes ward
 * version, lenbytes CPU family, u64 payload length, payload, u32 CRC-32 of
 * the payload.  The payload holds the externals, the `matches` regexps, the
 * strings (id, rule, pattern) and the rules (name, namespace, flags, tags,
 * meta, string range, bytecode).
 */
#include "rules/ruleset.h"
#include "rules/compile.h"
#include "rules/cond.h"
#include "util/alloc.h"
#include "util/limits.h"

#include <string.h>

#ifndef WARD_VERSION
#define WARD_VERSION "0"
#endif

#define RS_MAGIC "WARDRSET"
/* The format of the file and of the bytecode in it.  Opcodes and module
 * value ids are only ever appended, so a newer ward reads what an older one
 * wrote; the number goes up with what an older ward cannot run: 2 added
 * COND_LOOP_ITEMS and the modules' item counts and dictionary keys
 * (`for ... in` loops over module arrays and dictionaries), and made the
 * `matches` regexps PATTERN_SEARCH patterns (a file of format 1 would run
 * them as strings). */
#define RS_FORMAT 2u

#if defined(__x86_64__)
#define RS_CPU "x86_64"
#elif defined(__aarch64__)
#define RS_CPU "aarch64"
#elif defined(__powerpc64__)
#define RS_CPU "ppc64"
#elif defined(__i386__)
#define RS_CPU "i386"
#elif defined(__arm__)
#define RS_CPU "arm"
#else
#define RS_CPU "unknown"
#endif

const char *
ruleset_report_name(const struct rs_rule *r)
{
	const char *name = r->name;
	uint32_t i;

	for (i = 0; i < r->nmeta && r->meta != NULL; i++)
		if (r->meta[i].type == RS_STR && r->meta[i].s != NULL && r->meta[i].s[0] != '\0' &&
		    strcmp(r->meta[i].key, RS_REPORT_NAME_KEY) == 0)
			name = r->meta[i].s;
	return name;
}

void
ruleset_rule_clear(struct rs_rule *r)
{
	uint32_t i;

	if (r == NULL)
		return;
	ward_free(r->name);
	ward_free(r->ns);
	for (i = 0; i < r->ntags && r->tags != NULL; i++)
		ward_free(r->tags[i]);
	ward_free(r->tags);
	for (i = 0; i < r->nmeta && r->meta != NULL; i++) {
		ward_free(r->meta[i].key);
		ward_free(r->meta[i].s);
	}
	ward_free(r->meta);
	ward_free(r->code);
	memset(r, 0, sizeof(*r));
}

void
ruleset_external_clear(struct rs_external *e)
{
	if (e == NULL)
		return;
	ward_free(e->name);
	ward_free(e->s);
	memset(e, 0, sizeof(*e));
}

void
ruleset_free(struct ruleset *rs)
{
	uint32_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->nrules; i++)
		ruleset_rule_clear(&rs->rules[i]);
	ward_free(rs->rules);
	for (i = 0; i < rs->nstrings; i++) {
		ward_free(rs->strings[i].id);
		pattern_free(rs->strings[i].pat);
	}
	ward_free(rs->strings);
	for (i = 0; i < rs->next; i++)
		ruleset_external_clear(&rs->ext[i]);
	ward_free(rs->ext);
	for (i = 0; i < rs->nregexes; i++)
		pattern_free(rs->regexes[i]);
	ward_free(rs->regexes);
	ward_free(rs);
}

int
ruleset_set_external(struct ruleset *rs, const char *def, struct ward_diag *d)
{
	struct rs_external e;
	uint32_t i;
	int r;

	if ((r = rules_parse_define(def, &e, d)) != 0)
		goto out;
	for (i = 0; i < rs->next; i++) {
		if (strcmp(rs->ext[i].name, e.name) != 0)
			continue;
		if (rs->ext[i].type != e.type) {
			r = diag_set(d, WARD_ESEMANTIC, NULL, 0, 0,
				     "external variable \"%s\" has another type in the rule set",
				     e.name);
			goto out;
		}
		ruleset_external_clear(&rs->ext[i]);
		rs->ext[i] = e;
		memset(&e, 0, sizeof(e));
		goto out;
	}
	r = diag_set(d, WARD_EUNDEFINED, NULL, 0, 0,
		     "external variable \"%s\" is not used by the rule set", e.name);
out:
	ruleset_external_clear(&e);
	return r;
}

static uint32_t
rs_crc32(const uint8_t *p, size_t n)
{
	uint32_t table[256], c, crc = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	for (i = 0; i < n; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}

static void
rs_put_str(struct wbuf *w, const char *s)
{
	wbuf_lenbytes(w, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

void
ruleset_save(const struct ruleset *rs, struct wbuf *w)
{
	size_t lenoff, start;
	uint32_t i, k;

	wbuf_put(w, RS_MAGIC, 8);
	wbuf_u32(w, RS_FORMAT);
	rs_put_str(w, WARD_VERSION);
	rs_put_str(w, RS_CPU);
	lenoff = w->len;
	wbuf_u64(w, 0);
	start = w->len;
	wbuf_u32(w, rs->next);
	for (i = 0; i < rs->next; i++) {
		rs_put_str(w, rs->ext[i].name);
		wbuf_u8(w, (uint8_t)rs->ext[i].type);
		wbuf_i64(w, rs->ext[i].i);
		wbuf_lenbytes(w, rs->ext[i].s != NULL ? rs->ext[i].s : "", rs->ext[i].slen);
	}
	wbuf_u32(w, rs->nregexes);
	for (i = 0; i < rs->nregexes; i++)
		pattern_save(rs->regexes[i], w);
	wbuf_u32(w, rs->nstrings);
	for (i = 0; i < rs->nstrings; i++) {
		rs_put_str(w, rs->strings[i].id);
		wbuf_u32(w, rs->strings[i].rule);
		pattern_save(rs->strings[i].pat, w);
	}
	wbuf_u32(w, rs->nrules);
	for (i = 0; i < rs->nrules; i++) {
		const struct rs_rule *r = &rs->rules[i];

		rs_put_str(w, r->name);
		rs_put_str(w, r->ns);
		wbuf_u32(w, r->flags);
		wbuf_u32(w, r->ntags);
		for (k = 0; k < r->ntags; k++)
			rs_put_str(w, r->tags[k]);
		wbuf_u32(w, r->nmeta);
		for (k = 0; k < r->nmeta; k++) {
			rs_put_str(w, r->meta[k].key);
			wbuf_u8(w, (uint8_t)r->meta[k].type);
			wbuf_i64(w, r->meta[k].i);
			rs_put_str(w, r->meta[k].type == RS_STR ? r->meta[k].s : NULL);
		}
		wbuf_u32(w, r->str_first);
		wbuf_u32(w, r->str_count);
		wbuf_lenbytes(w, r->code, r->code_len);
	}
	if (w->err != 0)
		return;
	/* The payload length, then the checksum over the payload. */
	{
		uint64_t plen = w->len - start;
		size_t i8;

		for (i8 = 0; i8 < 8; i8++)
			w->p[lenoff + i8] = (uint8_t)(plen >> (8 * i8));
		wbuf_u32(w, rs_crc32(w->p + start, (size_t)plen));
	}
}

/* A NUL-free string of at most max bytes, copied. */
static int
rs_get_str(struct rbuf *b, size_t max, char **out, size_t *lenp)
{
	const uint8_t *p;
	size_t n;

	*out = NULL;
	if (rbuf_lenbytes(b, max, &p, &n) != 0)
		return WARD_EFORMAT;
	if (n > 0 && memchr(p, '\0', n) != NULL)
		return WARD_EFORMAT;
	if ((*out = ward_strndup((const char *)p, n)) == NULL)
		return WARD_ENOMEM;
	if (lenp != NULL)
		*lenp = n;
	return 0;
}

static int
rs_fmt(struct ward_diag *d, int r, const char *what)
{
	if (r == WARD_ENOMEM)
		return diag_set(d, r, NULL, 0, 0, "out of memory");
	return diag_set(d, r, NULL, 0, 0, "damaged compiled rule set: bad %s", what);
}

static int
rs_load_rule(struct rbuf *b, struct rs_rule *rl)
{
	const uint8_t *code;
	size_t n;
	uint32_t k;
	uint8_t t;
	int r;

	if ((r = rs_get_str(b, WARD_MAX_IDENTIFIER, &rl->name, NULL)) != 0 ||
	    (r = rs_get_str(b, WARD_MAX_IDENTIFIER, &rl->ns, NULL)) != 0)
		return r;
	if (rbuf_u32(b, &rl->flags) != 0 || (rl->flags & ~(RS_RULE_PRIVATE | RS_RULE_GLOBAL)))
		return WARD_EFORMAT;
	if (rbuf_u32(b, &k) != 0 || k > WARD_MAX_TAGS)
		return WARD_EFORMAT;
	if ((rl->tags = ward_calloc(k, sizeof(*rl->tags))) == NULL)
		return WARD_ENOMEM;
	for (; rl->ntags < k; rl->ntags++)
		if ((r = rs_get_str(b, WARD_MAX_IDENTIFIER, &rl->tags[rl->ntags], NULL)) != 0)
			return r;
	if (rbuf_u32(b, &k) != 0 || k > WARD_MAX_META)
		return WARD_EFORMAT;
	if ((rl->meta = ward_calloc(k, sizeof(*rl->meta))) == NULL)
		return WARD_ENOMEM;
	for (; rl->nmeta < k; rl->nmeta++) {
		struct rs_meta *m = &rl->meta[rl->nmeta];

		if ((r = rs_get_str(b, WARD_MAX_IDENTIFIER, &m->key, NULL)) != 0)
			return r;
		if (rbuf_u8(b, &t) != 0 || t < RS_INT || t > RS_STR || rbuf_i64(b, &m->i) != 0)
			return WARD_EFORMAT;
		m->type = (enum rs_value_type)t;
		if ((r = rs_get_str(b, WARD_MAX_STRING_BYTES, &m->s, NULL)) != 0)
			return r;
		if (m->type != RS_STR) {
			ward_free(m->s);
			m->s = NULL;
		}
	}
	if (rbuf_u32(b, &rl->str_first) != 0 || rbuf_u32(b, &rl->str_count) != 0)
		return WARD_EFORMAT;
	if (rbuf_lenbytes(b, WARD_MAX_CODE_BYTES, &code, &n) != 0 || n == 0)
		return WARD_EFORMAT;
	if ((rl->code = ward_memdup(code, n)) == NULL)
		return WARD_ENOMEM;
	rl->code_len = (uint32_t)n;
	return 0;
}

static int
rs_load_payload(struct rbuf *b, struct ruleset *rs, struct ward_diag *d)
{
	uint32_t n, i, s, expect = 0;
	uint8_t t;
	int r = 0, needs;

	if (rbuf_u32(b, &n) != 0 || n > WARD_MAX_EXTERNALS)
		return rs_fmt(d, WARD_EFORMAT, "external count");
	if ((rs->ext = ward_calloc(n, sizeof(*rs->ext))) == NULL)
		return rs_fmt(d, WARD_ENOMEM, "");
	for (; rs->next < n; rs->next++) {
		struct rs_external *e = &rs->ext[rs->next];

		if ((r = rs_get_str(b, WARD_MAX_IDENTIFIER, &e->name, NULL)) != 0)
			return rs_fmt(d, r, "external name");
		if (rbuf_u8(b, &t) != 0 || t < RS_INT || t > RS_STR || rbuf_i64(b, &e->i) != 0)
			return rs_fmt(d, WARD_EFORMAT, "external");
		e->type = (enum rs_value_type)t;
		if ((r = rs_get_str(b, WARD_MAX_EXTERNAL_STRING, &e->s, &e->slen)) != 0)
			return rs_fmt(d, r, "external value");
	}
	if (rbuf_u32(b, &n) != 0 || n > WARD_MAX_STRINGS)
		return rs_fmt(d, WARD_EFORMAT, "regexp count");
	if ((rs->regexes = ward_calloc(n, sizeof(*rs->regexes))) == NULL)
		return rs_fmt(d, WARD_ENOMEM, "");
	for (; rs->nregexes < n; rs->nregexes++)
		if ((r = pattern_load(b, &rs->regexes[rs->nregexes])) != 0)
			return rs_fmt(d, r, "regexp");
	if (rbuf_u32(b, &n) != 0 || n > WARD_MAX_STRINGS || n > rbuf_left(b) / 8)
		return rs_fmt(d, WARD_EFORMAT, "string count");
	if ((rs->strings = ward_calloc(n, sizeof(*rs->strings))) == NULL)
		return rs_fmt(d, WARD_ENOMEM, "");
	while (rs->nstrings < n) {
		/* Owned by rs from here on, even half-read (ruleset_free). */
		struct rs_string *st = &rs->strings[rs->nstrings++];

		if ((r = rs_get_str(b, WARD_MAX_IDENTIFIER + 1, &st->id, NULL)) != 0)
			return rs_fmt(d, r, "string identifier");
		if (st->id[0] != '$' || rbuf_u32(b, &st->rule) != 0)
			return rs_fmt(d, WARD_EFORMAT, "string");
		if ((r = pattern_load(b, &st->pat)) != 0)
			return rs_fmt(d, r, "pattern");
	}
	if (rbuf_u32(b, &n) != 0 || n > WARD_MAX_RULES || n > rbuf_left(b) / 8)
		return rs_fmt(d, WARD_EFORMAT, "rule count");
	if ((rs->rules = ward_calloc(n, sizeof(*rs->rules))) == NULL)
		return rs_fmt(d, WARD_ENOMEM, "");
	for (; rs->nrules < n;) {
		r = rs_load_rule(b, &rs->rules[rs->nrules]);
		rs->nrules++; /* owned by rs from here on, even half-read */
		if (r != 0)
			return rs_fmt(d, r, "rule");
	}
	if (rbuf_left(b) != 0)
		return rs_fmt(d, WARD_EFORMAT, "trailing data");
	/* Strings are contiguous per rule, in rule order, and name their rule. */
	for (i = 0; i < rs->nrules; i++) {
		const struct rs_rule *rl = &rs->rules[i];

		if (rl->str_first != expect || rl->str_count > rs->nstrings - expect ||
		    rl->str_count > WARD_MAX_STRINGS_PER_RULE)
			return rs_fmt(d, WARD_EFORMAT, "string range of a rule");
		for (s = rl->str_first; s < rl->str_first + rl->str_count; s++)
			if (rs->strings[s].rule != i)
				return rs_fmt(d, WARD_EFORMAT, "string owner");
		expect += rl->str_count;
	}
	if (expect != rs->nstrings)
		return rs_fmt(d, WARD_EFORMAT, "strings without a rule");
	for (i = 0; i < rs->nrules; i++) {
		if ((r = cond_verify_ex(rs, i, &needs, d)) != 0)
			return r;
		rs->rules[i].needs_strings = needs;
	}
	return 0;
}

int
ruleset_load(struct rbuf *r, struct ruleset **out, struct ward_diag *d)
{
	struct ruleset *rs = NULL;
	const uint8_t *magic, *ver, *cpu, *payload;
	size_t vlen, clen;
	uint64_t plen;
	uint32_t fmt, crc;
	struct rbuf pb;
	int rc;

	*out = NULL;
	if (rbuf_bytes(r, 8, &magic) != 0 || memcmp(magic, RS_MAGIC, 8) != 0) {
		rc = diag_set(d, WARD_EFORMAT, NULL, 0, 0, "not a ward compiled rule set");
		goto out;
	}
	if (rbuf_u32(r, &fmt) != 0 || rbuf_lenbytes(r, 64, &ver, &vlen) != 0 ||
	    rbuf_lenbytes(r, 64, &cpu, &clen) != 0) {
		rc = diag_set(d, WARD_EFORMAT, NULL, 0, 0, "damaged compiled rule set header");
		goto out;
	}
	if (fmt != RS_FORMAT || vlen != strlen(WARD_VERSION) ||
	    memcmp(ver, WARD_VERSION, vlen) != 0) {
		rc = diag_set(d, WARD_EVERSION, NULL, 0, 0,
			      "compiled rule set was built by ward %.*s (format %u); this is ward "
			      "%s (format %u): recompile the rules",
			      (int)vlen, (const char *)ver, fmt, WARD_VERSION, RS_FORMAT);
		goto out;
	}
	if (clen != strlen(RS_CPU) || memcmp(cpu, RS_CPU, clen) != 0) {
		rc = diag_set(d, WARD_EVERSION, NULL, 0, 0,
			      "compiled rule set was built for %.*s, this machine is %s: recompile "
			      "the rules",
			      (int)clen, (const char *)cpu, RS_CPU);
		goto out;
	}
	if (rbuf_u64(r, &plen) != 0 || plen > WARD_MAX_COMPILED_SIZE || plen + 4 > rbuf_left(r)) {
		rc = diag_set(d, WARD_ECHECKSUM, NULL, 0, 0,
			      "compiled rule set is truncated or damaged");
		goto out;
	}
	if (rbuf_bytes(r, (size_t)plen, &payload) != 0 || rbuf_u32(r, &crc) != 0 ||
	    rs_crc32(payload, (size_t)plen) != crc) {
		rc = diag_set(d, WARD_ECHECKSUM, NULL, 0, 0,
			      "compiled rule set is damaged (checksum mismatch)");
		goto out;
	}
	if ((rs = ward_calloc(1, sizeof(*rs))) == NULL) {
		rc = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	rbuf_init(&pb, payload, (size_t)plen);
	if ((rc = rs_load_payload(&pb, rs, d)) != 0)
		goto out;
	*out = rs;
	rs = NULL;
out:
	ruleset_free(rs);
	return rc;
}

int
ruleset_externals_used(const struct ruleset *rs, uint8_t *used)
{
	struct ward_diag d;
	uint32_t i;
	int r = 0;

	if (rs->next > 0)
		memset(used, 0, rs->next);
	for (i = 0; i < rs->nrules && r == 0; i++)
		r = cond_externals_used(rs, i, used, &d);
	return r;
}

int
ruleset_eval_some(const struct ruleset *rs, const struct rs_scan_env *env, uint8_t *results,
		  const uint32_t *which, uint32_t n)
{
	const char *false_ns[8];
	uint32_t i, j, k, nfalse = 0;
	uint64_t steps;
	int r = 0, rc, res, overflow = 0;

	for (k = 0; k < n; k++) {
		i = which != NULL ? which[k] : k;
		if (i >= rs->nrules)
			return WARD_EINVAL;
		steps = 0;
		rc = cond_eval(rs, i, env, results, &steps, &res);
		if (rc != 0) {
			res = 0;
			if (r == 0)
				r = rc;
		}
		results[i] = (uint8_t)res;
	}
	/* A false global rule makes every rule of its namespace false.  Every
	 * global rule is among those evaluated (see ruleset.h). */
	for (k = 0; k < n; k++) {
		const char *ns;

		i = which != NULL ? which[k] : k;
		ns = rs->rules[i].ns;

		if (!(rs->rules[i].flags & RS_RULE_GLOBAL) || results[i] != 0 || ns == NULL)
			continue;
		for (j = 0; j < nfalse && strcmp(false_ns[j], ns) != 0; j++)
			;
		if (j < nfalse)
			continue;
		if (nfalse == sizeof(false_ns) / sizeof(false_ns[0])) {
			overflow = 1;
			break;
		}
		false_ns[nfalse++] = ns;
	}
	for (i = 0; nfalse > 0 && i < rs->nrules; i++) {
		const char *ns = rs->rules[i].ns;

		if (ns == NULL)
			continue;
		for (k = 0; k < nfalse && strcmp(false_ns[k], ns) != 0; k++)
			;
		if (k < nfalse)
			results[i] = 0;
	}
	/* More namespaces with false global rules than fit: the slow way. */
	for (i = 0; overflow && i < rs->nrules; i++) {
		if (!(rs->rules[i].flags & RS_RULE_GLOBAL) || results[i] != 0 ||
		    rs->rules[i].ns == NULL)
			continue;
		for (k = 0; k < rs->nrules; k++)
			if (rs->rules[k].ns != NULL &&
			    strcmp(rs->rules[k].ns, rs->rules[i].ns) == 0)
				results[k] = 0;
	}
	return r;
}

int
ruleset_eval(const struct ruleset *rs, const struct rs_scan_env *env, uint8_t *results)
{
	return ruleset_eval_some(rs, env, results, NULL, rs->nrules);
}
