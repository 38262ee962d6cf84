/*
 * clamdb: ClamAV databases -> ward rules and hash lines.  See clamdb.h.
 *
 * Must hold: every byte of a database is read through an rbuf, a line at a
 * time, each at most WARD_MAX_CLAMDB_LINE; every signature read is either
 * converted exactly, or left out with a reason in the skipped list, or
 * dropped by an .ign2 name (counted): never lost silently.  A malformed
 * line refuses its whole database, as ClamAV's loader does.  The rule
 * names are ours (c<N>_...: ClamAV names are not identifiers); the ClamAV
 * name is the report name (RS_REPORT_NAME_KEY), written exactly.
 */
#include "clamav/clamdb.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clamav/clamdb_int.h"
#include "rules/compile.h"
#include "rules/ruleset.h"
#include "util/alloc.h"
#include "util/limits.h"

static const struct {
	const char *ext;
	enum clamdb_kind kind;
} kinds[] = {
    {".hdb", CLAMDB_HDB},   {".hsb", CLAMDB_HSB}, {".mdb", CLAMDB_MDB}, {".msb", CLAMDB_MSB},
    {".ndb", CLAMDB_NDB},   {".ldb", CLAMDB_LDB}, {".fp", CLAMDB_FP},	{".sfp", CLAMDB_SFP},
    {".ign2", CLAMDB_IGN2}, {".cvd", CLAMDB_CVD}, {".cld", CLAMDB_CVD}, {".cud", CLAMDB_CVD},
};

int
clamdb_kind_of(const char *name, enum clamdb_kind *kind)
{
	size_t n = strlen(name), i, k;

	*kind = CLAMDB_HDB;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		k = strlen(kinds[i].ext);
		if (n > k && strcmp(name + n - k, kinds[i].ext) == 0) {
			*kind = kinds[i].kind;
			return 0;
		}
	}
	return WARD_EINVAL;
}

int
clamdb_new(struct clamdb **out)
{
	struct clamdb *c = ward_calloc(1, sizeof(*c));

	*out = c;
	if (c == NULL)
		return WARD_ENOMEM;
	wbuf_init(&c->rules);
	wbuf_init(&c->hashes);
	wbuf_init(&c->allow);
	clamdb_puts(&c->allow, "{\"exceptions\": [");
	return 0;
}

void
clamdb_free(struct clamdb *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nrecs; i++) {
		ward_free(c->recs[i].name);
		ward_free(c->recs[i].file);
		ward_free(c->recs[i].text);
	}
	ward_free(c->recs);
	for (i = 0; i < c->nskips; i++) {
		ward_free(c->skips[i].name);
		ward_free(c->skips[i].file);
		ward_free(c->skips[i].why);
	}
	ward_free(c->skips);
	for (i = 0; i < c->nign; i++)
		ward_free(c->ign[i]);
	ward_free(c->ign);
	wbuf_free(&c->rules);
	wbuf_free(&c->hashes);
	wbuf_free(&c->allow);
	ward_free(c);
}

/* --- records ----------------------------------------------------------- */

int
clamdb_skip_add(struct clamdb *c, const char *name, size_t nlen, const char *file, int line,
		const char *why)
{
	struct clamdb_skip *s;

	if (ward_grow(&c->skips, &c->capskips, c->nskips + 1, sizeof(*c->skips)) != 0)
		return WARD_ENOMEM;
	s = &c->skips[c->nskips];
	s->name = ward_strndup(name, nlen);
	s->file = ward_strdup(file);
	s->why = ward_strdup(why);
	s->line = line;
	if (s->name == NULL || s->file == NULL || s->why == NULL) {
		ward_free(s->name);
		ward_free(s->file);
		ward_free(s->why);
		return WARD_ENOMEM;
	}
	c->nskips++;
	c->st.skipped++;
	return 0;
}

/* Takes text (ward_malloc'd) into a new record. */
int
clamdb_rec_add(struct clamdb *c, enum rec_kind kind, const char *name, size_t nlen,
	       const char *file, int line, char *text)
{
	struct rec *r;
	size_t len = text != NULL ? strlen(text) : 0;

	/* A few bytes of a database can say what takes many of rule text (a
	 * boundary anchor is an alternative of some 200 bytes): one
	 * signature's text is bounded, and so is all of it, so that a hostile
	 * database cannot make an import take the host's memory. */
	if (len > WARD_MAX_CLAMDB_SIG_TEXT) {
		ward_free(text);
		return clamdb_skip_add(c, name, nlen, file, line,
				       "its rule would be larger than WARD_MAX_CLAMDB_SIG_TEXT");
	}
	if (c->text + len > WARD_MAX_CLAMDB_TEXT) {
		ward_free(text);
		return WARD_ELIMIT;
	}
	if (ward_grow(&c->recs, &c->caprecs, c->nrecs + 1, sizeof(*c->recs)) != 0) {
		ward_free(text);
		return WARD_ENOMEM;
	}
	r = &c->recs[c->nrecs];
	r->kind = kind;
	r->text = text;
	r->line = line;
	r->name = ward_strndup(name, nlen);
	r->file = ward_strdup(file);
	if (r->name == NULL || r->file == NULL) {
		ward_free(r->name);
		ward_free(r->file);
		ward_free(text);
		return WARD_ENOMEM;
	}
	c->nrecs++;
	c->text += len;
	return 0;
}

/* Takes w's bytes as a NUL-terminated string (w is emptied). */
char *
clamdb_take_str(struct wbuf *w)
{
	char *s;

	wbuf_u8(w, 0);
	if (w->err != 0) {
		wbuf_free(w);
		return NULL;
	}
	s = (char *)w->p;
	w->p = NULL;
	w->len = w->cap = 0;
	return s;
}

/* --- fields ------------------------------------------------------------ */

/* Splits line into at most max fields at sep; returns how many (the last
 * keeps any further separators when there are more than max). */
size_t
clamdb_split(const uint8_t *p, size_t n, uint8_t sep, struct clamdb_fld *f, size_t max)
{
	struct rbuf b;
	size_t k = 0;

	rbuf_init(&b, p, n);
	while (k < max) {
		const uint8_t *q;
		size_t m;
		int r;

		if (k == max - 1) {
			f[k].p = p + b.off;
			f[k].n = rbuf_left(&b);
			k++;
			break;
		}
		r = rbuf_until(&b, sep, n, &q, &m);
		if (r < 0) {
			/* Nothing remains: the line ended with sep. */
			f[k].p = p + n;
			f[k].n = 0;
			k++;
			break;
		}
		f[k].p = q;
		f[k].n = m;
		k++;
		if (r == 1)
			break;
	}
	return k;
}

int
clamdb_fld_eq(const struct clamdb_fld *f, const char *s)
{
	return f->n == strlen(s) && memcmp(f->p, s, f->n) == 0;
}

/* A decimal number of 1 to 9 digits. */
int
clamdb_fld_num(const struct clamdb_fld *f, uint32_t *v)
{
	size_t i;

	*v = 0;
	if (f->n == 0 || f->n > 9)
		return -1;
	for (i = 0; i < f->n; i++) {
		if (f->p[i] < '0' || f->p[i] > '9')
			return -1;
		*v = *v * 10 + (uint32_t)(f->p[i] - '0');
	}
	return 0;
}

/* A signature name ward can report: printable ASCII, not starting with a
 * space, 1 to WARD_MAX_SIG_NAME bytes (what a verdict carries). */
int
clamdb_name_ok(const struct clamdb_fld *f)
{
	size_t i;

	if (f->n == 0 || f->n > WARD_MAX_SIG_NAME || f->p[0] == ' ')
		return 0;
	for (i = 0; i < f->n; i++)
		if (f->p[i] < 0x20 || f->p[i] > 0x7e)
			return 0;
	return 1;
}

/*
 * Is the signature for ward's functionality level?  min (and max) are
 * optional fields; 1 yes, 0 no (then why says so), -1 malformed.
 */
int
clamdb_flevel_ok(const struct clamdb_fld *min, const struct clamdb_fld *max, char *why,
		 size_t whylen)
{
	uint32_t lo = 0, hi = UINT32_MAX;

	if (min != NULL && min->n > 0 && clamdb_fld_num(min, &lo) != 0)
		return -1;
	if (max != NULL && max->n > 0 && clamdb_fld_num(max, &hi) != 0)
		return -1;
	if (lo > WARD_CLAMDB_FLEVEL || hi < WARD_CLAMDB_FLEVEL) {
		snprintf(why, whylen,
			 "functionality level %u..%u does not include ward's (%u, ClamAV 1.4)", lo,
			 hi == UINT32_MAX ? 0 : hi, WARD_CLAMDB_FLEVEL);
		return 0;
	}
	return 1;
}

/* --- rule text --------------------------------------------------------- */

/* Starts a rule: imports, a unique identifier made from the name, and the
 * report name as meta. */
void
clamdb_rule_begin(struct clamdb *c, struct wbuf *w, const struct clamdb_fld *name, int pe, int elf,
		  int hash)
{
	size_t i, k = 0;

	if (pe)
		clamdb_puts(w, "import \"pe\"\n");
	if (elf)
		clamdb_puts(w, "import \"elf\"\n");
	if (hash)
		clamdb_puts(w, "import \"hash\"\n");
	clamdb_printf(w, "rule c%llu_", (unsigned long long)++c->seq);
	for (i = 0; i < name->n && k < 64; i++, k++) {
		uint8_t ch = name->p[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			 (ch >= '0' && ch <= '9');

		wbuf_u8(w, ok ? ch : '_');
	}
	clamdb_puts(w, "\n{\n\tmeta:\n\t\t" RS_REPORT_NAME_KEY " = \"");
	for (i = 0; i < name->n; i++) {
		if (name->p[i] == '"' || name->p[i] == '\\')
			wbuf_u8(w, '\\');
		wbuf_u8(w, name->p[i]);
	}
	clamdb_puts(w, "\"\n");
}

/* The condition that the file is of ClamAV target type t, or NULL when ward
 * cannot tell it as ClamAV does (why says so).  Every one holds only above
 * 5 bytes: ClamAV never scans a smaller file (cli_magic_scan). */
const char *
clamdb_target_cond(uint32_t t, char *why, size_t whylen)
{
	switch (t) {
	case 0:
		return "filesize > 5";
	case 1:
		/* ClamAV types a file as MSEXE by its "MZ" (filetypes). */
		return "filesize > 5 and uint16(0) == 0x5A4D";
	case 6:
		return "filesize > 5 and uint32(0) == 0x464C457F";
	case 9:
		return "filesize > 5 and (uint32(0) == 0xFEEDFACE or uint32(0) == 0xCEFAEDFE or "
		       "uint32(0) == 0xFEEDFACF or uint32(0) == 0xCFFAEDFE)";
	case 3:
	case 4:
	case 7:
		snprintf(why, whylen,
			 "target type %u: ClamAV matches it on normalised text (HTML, mail, "
			 "ASCII), not on the file's bytes",
			 t);
		return NULL;
	default:
		snprintf(why, whylen,
			 "target type %u: ClamAV matches it on content it extracts or decodes "
			 "(OLE2, graphics, PDF, Flash, Java, ...)",
			 t);
		return NULL;
	}
}

/* --- hash lists -------------------------------------------------------- */

static const char *
hash_alg(size_t hexlen)
{
	return hexlen == 32 ? "md5" : hexlen == 40 ? "sha1" : hexlen == 64 ? "sha256" : NULL;
}

static int
hex_ok(const struct clamdb_fld *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		uint8_t ch = f->p[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		      (ch >= 'A' && ch <= 'F')))
			return 0;
	}
	return 1;
}

/* .hdb/.hsb: HASH:SIZE:NAME[:min_fl[:max_fl]]; .mdb/.msb: SIZE:HASH:NAME[...]. */
static int
add_hash(struct clamdb *c, enum clamdb_kind kind, const char *file, int line, const uint8_t *p,
	 size_t n, struct ward_diag *d)
{
	struct clamdb_fld f[6];
	const struct clamdb_fld *hash, *size;
	size_t k = clamdb_split(p, n, ':', f, 6);
	const char *alg;
	char why[256];
	struct wbuf w;
	uint32_t sz = 0;
	int section = kind == CLAMDB_MDB || kind == CLAMDB_MSB, ok, r = 0;

	wbuf_init(&w);
	if (k < 3 || k > 5)
		return diag_set(d, WARD_ESYNTAX, file, line, 0,
				"expected %s:%s:NAME[:MIN_FLEVEL[:MAX_FLEVEL]]",
				section ? "SIZE" : "HASH", section ? "HASH" : "SIZE");
	hash = section ? &f[1] : &f[0];
	size = section ? &f[0] : &f[1];
	if ((alg = hash_alg(hash->n)) == NULL || !hex_ok(hash))
		return diag_set(d, WARD_ESYNTAX, file, line, 0,
				"the hash must be 32, 40 or 64 hex digits (MD5, SHA-1, SHA-256)");
	if (!clamdb_fld_eq(size, "*") && clamdb_fld_num(size, &sz) != 0)
		return diag_set(d, WARD_ESYNTAX, file, line, 0, "invalid size");
	if ((ok = clamdb_flevel_ok(k > 3 ? &f[3] : NULL, k > 4 ? &f[4] : NULL, why, sizeof(why))) <
	    0)
		return diag_set(d, WARD_ESYNTAX, file, line, 0, "invalid functionality level");
	/* libclamav's cli_loadhash: a `*` size needs a minimum level of 73. */
	if (clamdb_fld_eq(size, "*") && (k < 4 || clamdb_fld_num(&f[3], &sz) != 0 || sz < 73))
		return diag_set(d, WARD_ESYNTAX, file, line, 0,
				"a `*` size needs a minimum functionality level of at least 73");
	sz = 0;
	if (!clamdb_fld_eq(size, "*"))
		clamdb_fld_num(size, &sz);
	c->st.read++;
	if (!clamdb_name_ok(&f[2]))
		return clamdb_skip_add(c, (const char *)f[2].p, f[2].n, file, line,
				       "the name is not 1 to 256 printable ASCII characters");
	if (!ok) {
		c->st.flevel++;
		return clamdb_skip_add(c, (const char *)f[2].p, f[2].n, file, line, why);
	}
	/* ClamAV never scans a file of 5 bytes or less (cli_magic_scan):
	 * such a hash never matches there, and a `*` one matches only
	 * above that size (`>5` in ward's hash lists). */
	if (!section && !clamdb_fld_eq(size, "*") && sz <= 5)
		return clamdb_skip_add(c, (const char *)f[2].p, f[2].n, file, line,
				       "a file of 5 bytes or less: ClamAV never scans one");
	if (!section) {
		clamdb_printf(&w, "%s:%.*s:", alg, (int)hash->n, (const char *)hash->p);
		if (clamdb_fld_eq(size, "*"))
			clamdb_puts(&w, ">5");
		else
			wbuf_put(&w, size->p, size->n);
		clamdb_puts(&w, ":");
		wbuf_put(&w, f[2].p, f[2].n);
		r = clamdb_rec_add(c, REC_HASH, (const char *)f[2].p, f[2].n, file, line,
				   clamdb_take_str(&w));
		goto out;
	}
	/* A PE section of that raw size whose hash is this one. */
	clamdb_rule_begin(c, &w, &f[2], 1, 0, 1);
	clamdb_puts(&w, "\tcondition:\n\t\tfilesize > 5 and for any i in (0 .. "
			"pe.number_of_sections - 1) : (");
	if (clamdb_fld_eq(size, "*"))
		clamdb_printf(&w,
			      "hash.%s(pe.sections[i].raw_data_offset, "
			      "pe.sections[i].raw_data_size) == \"",
			      alg);
	else
		clamdb_printf(&w,
			      "pe.sections[i].raw_data_size == %u and "
			      "hash.%s(pe.sections[i].raw_data_offset, %u) == \"",
			      sz, alg, sz);
	for (k = 0; k < hash->n; k++)
		wbuf_u8(&w, (uint8_t)(hash->p[k] | 0x20)); /* YARA's hash is lower-case */
	clamdb_puts(&w, "\")\n}\n");
	r = clamdb_rec_add(c, REC_RULE, (const char *)f[2].p, f[2].n, file, line,
			   clamdb_take_str(&w));
out:
	wbuf_free(&w);
	return r;
}

/* --- .ndb -------------------------------------------------------------- */

static int
add_ndb(struct clamdb *c, const char *file, int line, const uint8_t *p, size_t n,
	struct ward_diag *d)
{
	struct clamdb_fld f[7];
	size_t k = clamdb_split(p, n, ':', f, 7);
	char why[256];
	struct wbuf s, sz, o, w;
	struct clamdb_hexinfo hi;
	const char *tc;
	uint32_t target;
	int ok, pe = 0, elf = 0, r = 0;

	wbuf_init(&s);
	wbuf_init(&sz);
	wbuf_init(&o);
	wbuf_init(&w);
	if (k < 4 || k > 6) {
		r = diag_set(d, WARD_ESYNTAX, file, line, 0,
			     "expected NAME:TARGET:OFFSET:HEXSIG[:MIN_FLEVEL[:MAX_FLEVEL]]");
		goto out;
	}
	if (clamdb_fld_num(&f[1], &target) != 0) {
		r = diag_set(d, WARD_ESYNTAX, file, line, 0, "invalid target type");
		goto out;
	}
	if ((ok = clamdb_flevel_ok(k > 4 ? &f[4] : NULL, k > 5 ? &f[5] : NULL, why, sizeof(why))) <
	    0) {
		r = diag_set(d, WARD_ESYNTAX, file, line, 0, "invalid functionality level");
		goto out;
	}
	c->st.read++;
	if (!ok) {
		c->st.flevel++;
		r = clamdb_skip_add(c, (const char *)f[0].p, f[0].n, file, line, why);
		goto out;
	}
	/* A malformed signature refuses the database whatever its target. */
	r = clamdb_hex_convert(f[3].p, f[3].n, 0, &s, &sz, &hi, why, sizeof(why));
	if (r == 0)
		r = clamdb_match_cond(f[2].p, f[2].n, "a", target, &hi, &o, &pe, &elf, why,
				      sizeof(why));
	if (r == WARD_ESYNTAX || r == WARD_ELIMIT) {
		r = diag_set(d, r, file, line, 0, "%.*s: %s", (int)(f[0].n > 256 ? 256 : f[0].n),
			     (const char *)f[0].p, why);
		goto out;
	}
	if (r == 0 && !clamdb_name_ok(&f[0])) {
		r = WARD_EUNSUPPORTED;
		snprintf(why, sizeof(why), "the name is not 1 to 256 printable ASCII characters");
	}
	if (r == 0 && (tc = clamdb_target_cond(target, why, sizeof(why))) == NULL)
		r = WARD_EUNSUPPORTED;
	if (r == WARD_EUNSUPPORTED) {
		r = clamdb_skip_add(c, (const char *)f[0].p, f[0].n, file, line, why);
		goto out;
	}
	if (r != 0)
		goto out;
	clamdb_rule_begin(c, &w, &f[0], pe, elf, 0);
	clamdb_puts(&w, "\tstrings:\n\t\t$a = ");
	wbuf_put(&w, s.p, s.len);
	if (hi.eof) {
		clamdb_puts(&w, "\n\t\t$az = ");
		wbuf_put(&w, sz.p, sz.len);
	}
	clamdb_printf(&w, "\n\tcondition:\n\t\t%s and ", tc);
	wbuf_put(&w, o.p, o.len);
	clamdb_puts(&w, "\n}\n");
	r = clamdb_rec_add(c, REC_RULE, (const char *)f[0].p, f[0].n, file, line,
			   clamdb_take_str(&w));
out:
	wbuf_free(&s);
	wbuf_free(&sz);
	wbuf_free(&o);
	wbuf_free(&w);
	return r;
}

/* --- .ign2, .fp ------------------------------------------------------- */

static int
add_ign(struct clamdb *c, const uint8_t *p, size_t n)
{
	struct clamdb_fld f[2];
	size_t k = clamdb_split(p, n, ':', f, 2);
	char *s;

	/* A name, or (the old .ign form) NAME:MD5 of its line: the name counts. */
	(void)k;
	if (ward_grow(&c->ign, &c->capign, c->nign + 1, sizeof(*c->ign)) != 0)
		return WARD_ENOMEM;
	if ((s = ward_strndup((const char *)f[0].p, f[0].n)) == NULL)
		return WARD_ENOMEM;
	c->ign[c->nign++] = s;
	return 0;
}

/*
 * .fp/.sfp: HASH:SIZE:NAME (MD5, SHA-1 or SHA-256; SIZE a number or `*`)
 * of a file that no ClamAV signature may report (libclamav checks a
 * detected file's hashes against them).  Kept as "alg:hex:size" and turned
 * at clamdb_finish into a condition of every rule converted from ClamAV,
 * so that ward's own rules are not concerned.
 */
static int
add_fp(struct clamdb *c, const char *file, int line, const uint8_t *p, size_t n,
       struct ward_diag *d)
{
	struct clamdb_fld f[6];
	size_t k = clamdb_split(p, n, ':', f, 6), i;
	char why[256];
	uint32_t sz;
	struct wbuf w;
	int ok;

	if (k < 3 || k > 5 || clamdb_fld_eq(&f[0], "") || !hex_ok(&f[0]) ||
	    hash_alg(f[0].n) == NULL ||
	    (!clamdb_fld_eq(&f[1], "*") && clamdb_fld_num(&f[1], &sz) != 0))
		return diag_set(d, WARD_ESYNTAX, file, line, 0,
				"expected HASH:SIZE:NAME[:MIN_FLEVEL[:MAX_FLEVEL]] with a 32, 40 "
				"or 64 digit hash");
	if ((ok = clamdb_flevel_ok(k > 3 ? &f[3] : NULL, k > 4 ? &f[4] : NULL, why, sizeof(why))) <
	    0)
		return diag_set(d, WARD_ESYNTAX, file, line, 0, "invalid functionality level");
	c->st.read++;
	if (!ok) {
		c->st.flevel++;
		return clamdb_skip_add(c, (const char *)f[2].p, f[2].n, file, line, why);
	}
	if (!clamdb_name_ok(&f[2]))
		return clamdb_skip_add(c, (const char *)f[2].p, f[2].n, file, line,
				       "the name is not 1 to 256 printable ASCII characters");
	wbuf_init(&w);
	clamdb_printf(&w, "%s:", hash_alg(f[0].n));
	for (i = 0; i < f[0].n; i++)
		wbuf_u8(&w, (uint8_t)(f[0].p[i] | 0x20));
	wbuf_u8(&w, ':');
	wbuf_put(&w, f[1].p, f[1].n);
	return clamdb_rec_add(c, REC_ALLOW, (const char *)f[2].p, f[2].n, file, line,
			      clamdb_take_str(&w));
}

int
clamdb_add(struct clamdb *c, enum clamdb_kind kind, const char *file, const uint8_t *p, size_t n,
	   struct ward_diag *d)
{
	struct rbuf b;
	const uint8_t *q;
	size_t m;
	int line = 0, r = 0, e;

	if (c->finished)
		return WARD_EINVAL;
	if (n > WARD_MAX_CLAMDB_FILE)
		return diag_set(d, WARD_ELIMIT, file, 0, 0,
				"database larger than WARD_MAX_CLAMDB_FILE");
	rbuf_init(&b, p, n);
	while (r == 0 && rbuf_left(&b) > 0) {
		e = rbuf_until(&b, '\n', WARD_MAX_CLAMDB_LINE, &q, &m);
		line++;
		if (e == WARD_ELIMIT) {
			r = diag_set(d, WARD_ELIMIT, file, line, 0,
				     "line longer than WARD_MAX_CLAMDB_LINE (%u bytes)",
				     WARD_MAX_CLAMDB_LINE);
			break;
		}
		if (m > 0 && q[m - 1] == '\r')
			m--;
		/* ClamAV's loaders skip empty lines and comments. */
		if (m == 0 || q[0] == '#')
			continue;
		if (c->st.read >= WARD_MAX_CLAMDB_SIGS) {
			r = diag_set(d, WARD_ELIMIT, file, line, 0,
				     "more than WARD_MAX_CLAMDB_SIGS signatures");
			break;
		}
		switch (kind) {
		case CLAMDB_HDB:
		case CLAMDB_HSB:
		case CLAMDB_MDB:
		case CLAMDB_MSB:
			r = add_hash(c, kind, file, line, q, m, d);
			break;
		case CLAMDB_NDB:
			r = add_ndb(c, file, line, q, m, d);
			break;
		case CLAMDB_LDB:
			r = clamdb_ldb_add(c, file, line, q, m, d);
			break;
		case CLAMDB_FP:
		case CLAMDB_SFP:
			r = add_fp(c, file, line, q, m, d);
			break;
		case CLAMDB_IGN2:
			r = add_ign(c, q, m);
			break;
		default:
			r = diag_set(d, WARD_EINVAL, file, 0, 0, "not a loose database");
			break;
		}
	}
	if (r == WARD_ENOMEM && d != NULL && d->msg[0] == '\0')
		diag_set(d, r, file, line, 0, "out of memory");
	if (r == WARD_ELIMIT && d != NULL && d->msg[0] == '\0')
		diag_set(d, r, file, line, 0,
			 "the converted rules are larger than WARD_MAX_CLAMDB_TEXT");
	return r;
}

/* --- finishing ---------------------------------------------------------- */

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
ignored(const struct clamdb *c, const char *name)
{
	return c->nign > 0 && bsearch(&name, c->ign, c->nign, sizeof(*c->ign), str_cmp) != NULL;
}

/* Is some false positive (not dropped by .ign2) of c the file of hash line
 * text ("alg:hex:size:name")?  Same algorithm and digest, and a size that
 * agrees (`*` on either side). */
static int
fp_lists(const struct clamdb *c, const char *text)
{
	const char *hs = strchr(strchr(text, ':') + 1, ':') + 1;
	size_t i, hn = (size_t)(hs - text);

	for (i = 0; i < c->nrecs; i++) {
		const struct rec *fp = &c->recs[i];
		const char *fs;

		if (fp->kind != REC_ALLOW || ignored(c, fp->name) ||
		    strncmp(fp->text, text, hn) != 0)
			continue;
		fs = fp->text + hn;
		if (strcmp(fs, "*") == 0 || strncmp(hs, ">5:", 3) == 0 ||
		    (strncmp(hs, fs, strlen(fs)) == 0 && hs[strlen(fs)] == ':'))
			return 1;
	}
	return 0;
}

/* The name of the private rule that holds the false positives. */
#define FP_RULE "c0_clamav_false_positives"

/*
 * With false positives, a private rule FP_RULE true of a file listed
 * there, compiled with rc ahead of the rules that name it and put first in
 * the rules text; c->nfp counts its entries.
 */
static int
fp_rule(struct clamdb *c, struct rules_compiler *rc)
{
	struct ward_diag d;
	struct wbuf w;
	size_t i;
	int r = 0;

	wbuf_init(&w);
	clamdb_puts(&w, "import \"hash\"\nprivate rule " FP_RULE "\n{\n\tcondition:\n\t\tfalse");
	for (i = 0; i < c->nrecs; i++) {
		const struct rec *fp = &c->recs[i];
		const char *hex, *size;

		if (fp->kind != REC_ALLOW || ignored(c, fp->name))
			continue;
		hex = strchr(fp->text, ':') + 1;
		size = strchr(hex, ':') + 1;
		clamdb_puts(&w, " or\n\t\t(");
		if (strcmp(size, "*") != 0)
			clamdb_printf(&w, "filesize == %s and ", size);
		clamdb_printf(&w, "hash.%.*s(0, filesize) == \"%.*s\")", (int)(hex - fp->text - 1),
			      fp->text, (int)(size - hex - 1), hex);
		c->nfp++;
	}
	clamdb_puts(&w, "\n}\n");
	wbuf_u8(&w, 0);
	if (w.err != 0) {
		r = WARD_ENOMEM;
		goto out;
	}
	if (c->nfp == 0)
		goto out;
	diag_clear(&d);
	if ((r = rules_compiler_add_string(rc, "clamav-false-positives", (const char *)w.p,
					   w.len - 1, &d)) != 0)
		goto out;
	clamdb_puts(&c->rules, (const char *)w.p);
out:
	wbuf_free(&w);
	return r;
}

/* Compiles one rule with rc; 1 taken, 0 refused (recorded), <0 error.
 * With false positives, its condition also needs the file not to be one. */
static int
finish_rule(struct clamdb *c, struct rules_compiler *rc, struct rec *rec)
{
	const struct rules_skipped *sk;
	struct ward_diag d;
	size_t before, after;
	int e;

	if (c->nfp > 0) {
		static const char cond[] = "\tcondition:\n\t\t";
		char *at = strstr(rec->text, cond), *end, *t;
		struct wbuf w;

		end = rec->text + strlen(rec->text) - 3; /* "\n}\n" */
		if (at == NULL || end < at || strcmp(end, "\n}\n") != 0)
			return WARD_EINVAL;
		at += sizeof(cond) - 1;
		wbuf_init(&w);
		wbuf_put(&w, rec->text, (size_t)(at - rec->text));
		clamdb_puts(&w, "(");
		wbuf_put(&w, at, (size_t)(end - at));
		clamdb_puts(&w, ") and not " FP_RULE "\n}\n");
		if ((t = clamdb_take_str(&w)) == NULL) {
			wbuf_free(&w);
			return WARD_ENOMEM;
		}
		wbuf_free(&w);
		ward_free(rec->text);
		rec->text = t;
	}
	diag_clear(&d);
	rules_compiler_skipped(rc, &before);
	e = rules_compiler_add_string(rc, rec->file, rec->text, strlen(rec->text), &d);
	sk = rules_compiler_skipped(rc, &after);
	if (e == WARD_ENOMEM)
		return e;
	if (e == 0 && after == before)
		return 1;
	e = clamdb_skip_add(c, rec->name, strlen(rec->name), rec->file, rec->line,
			    after > before     ? sk[after - 1].why.msg
			    : d.msg[0] != '\0' ? d.msg
					       : ward_strerror(e));
	return e < 0 ? e : 0;
}

int
clamdb_finish(struct clamdb *c, struct rules_compiler *rc)
{
	struct rules_compiler *own = NULL;
	size_t i;
	int r = 0, e;

	if (c->finished)
		return WARD_EINVAL;
	c->finished = 1;
	if (rc == NULL) {
		if ((r = rules_compiler_new(&own)) != 0)
			goto out;
		rules_compiler_skip_unsupported(own);
		rc = own;
	}
	if (c->nign > 1)
		qsort(c->ign, c->nign, sizeof(*c->ign), str_cmp);
	if ((r = fp_rule(c, rc)) != 0)
		goto out;
	for (i = 0; i < c->nrecs; i++) {
		struct rec *rec = &c->recs[i];

		if (ignored(c, rec->name)) {
			c->st.ignored++;
			continue;
		}
		if (rec->kind == REC_ALLOW) {
			c->st.converted++;
			continue;
		}
		if (rec->kind == REC_HASH) {
			if (fp_lists(c, rec->text)) {
				if ((e = clamdb_skip_add(c, rec->name, strlen(rec->name), rec->file,
							 rec->line,
							 "its hash is listed as a false positive "
							 "(.fp/.sfp)")) != 0) {
					r = e;
					goto out;
				}
				continue;
			}
			clamdb_puts(&c->hashes, rec->text);
			wbuf_u8(&c->hashes, '\n');
			c->st.converted++;
			continue;
		}
		if ((e = finish_rule(c, rc, rec)) < 0) {
			r = e;
			goto out;
		}
		if (e == 1) {
			clamdb_puts(&c->rules, rec->text);
			c->st.converted++;
		}
	}
	if (c->nallow > 0)
		clamdb_puts(&c->allow, "\n]}\n");
	wbuf_u8(&c->rules, 0);
	wbuf_u8(&c->hashes, 0);
	wbuf_u8(&c->allow, 0);
	if (c->rules.err != 0 || c->hashes.err != 0 || c->allow.err != 0)
		r = WARD_ENOMEM;
out:
	rules_compiler_free(own);
	return r;
}

const char *
clamdb_rules(const struct clamdb *c, size_t *len)
{
	*len = c->rules.len > 0 ? c->rules.len - 1 : 0;
	return c->rules.len > 0 ? (const char *)c->rules.p : "";
}

const char *
clamdb_hashes(const struct clamdb *c, size_t *len)
{
	*len = c->hashes.len > 0 ? c->hashes.len - 1 : 0;
	return c->hashes.len > 0 ? (const char *)c->hashes.p : "";
}

const char *
clamdb_allow(const struct clamdb *c, size_t *count)
{
	*count = c->nfp;
	return "";
}

const struct clamdb_skip *
clamdb_skipped(const struct clamdb *c, size_t *n)
{
	*n = c->nskips;
	return c->skips;
}

void
clamdb_get_stats(const struct clamdb *c, struct clamdb_stats *st)
{
	*st = c->st;
}
