/*
 * pe_imports: the import and delay-load import directories of a PE file
 * as YARA 4.2.3 lists them, imphash, and the imports() queries.
 *
 * Must hold: the functions kept over all DLLs of one list stay within
 * WARD_MAX_PE_IMPORTS, and so do the descriptors walked; names are read
 * through the freader with a named maximum length.
 */
#include "modules/pe_int.h"
#include "crypto/digest.h"
#include "util/alloc.h"
#include "util/err.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define IMPORT_DESC_SIZE 20
#define DELAY_DESC_SIZE 32
#define ORD_FLAG32 0x80000000u
#define ORD_FLAG64 0x8000000000000000ull

void
pe_import_list_free(struct pe_import_list *l)
{
	size_t i, j;

	for (i = 0; i < l->ndll; i++) {
		for (j = 0; j < l->dll[i].nfn; j++)
			pe_str_free(&l->dll[i].fn[j].name);
		ward_free(l->dll[i].fn);
		pe_str_free(&l->dll[i].name);
	}
	ward_free(l->dll);
	memset(l, 0, sizeof(*l));
}

/* Appends a function to d (its array grown by *cap). */
static int
add_fn(struct pe_import_dll *d, size_t *cap, struct pe_import_fn *fn)
{
	if (ward_grow(&d->fn, cap, d->nfn + 1, sizeof(*d->fn)) != 0)
		return WARD_ENOMEM;
	d->fn[d->nfn++] = *fn;
	memset(fn, 0, sizeof(*fn));
	return 0;
}

/* The function an import by ordinal names: YARA's name and the ordinal. */
static int
ordinal_fn(const char *dll, uint16_t ord, struct pe_import_fn *fn)
{
	char name[64];

	pe_ordinal_name(dll, ord, name, sizeof(name));
	fn->has_ordinal = 1;
	fn->ordinal = ord;
	return pe_str_set(&fn->name, name, strlen(name));
}

/* The thunks of one import descriptor at desc into d; *total counts the
 * thunks over all DLLs (YARA's number_of_imported_functions). */
static int
parse_thunks(struct pe_info *p, struct freader *f, uint64_t desc, struct pe_import_dll *d,
	     int64_t *total)
{
	struct pe_import_fn fn = {{NULL, 0}, 0, 0};
	uint32_t oft, ft;
	uint64_t th, v, step = p->h.is_64bit ? 8 : 4;
	size_t cap = 0;
	int64_t off, noff;
	int r = 0;

	if (freader_u32(f, desc, &oft) != 0 || freader_u32(f, desc + 16, &ft) != 0)
		goto out;
	/* Some linkers leave OriginalFirstThunk zero: then FirstThunk. */
	off = pe_rva_offset(p, oft);
	if (off <= 0)
		off = pe_rva_offset(p, ft);
	if (off < 0)
		goto out;
	for (th = (uint64_t)off; *total < WARD_MAX_PE_IMPORTS; th += step) {
		if (p->h.is_64bit) {
			if (freader_u64(f, th, &v) != 0)
				break;
		} else {
			uint32_t v32;

			if (freader_u32(f, th, &v32) != 0)
				break;
			v = v32;
		}
		if (v == 0)
			break;
		if (v & (p->h.is_64bit ? ORD_FLAG64 : ORD_FLAG32)) {
			if ((r = ordinal_fn(d->name.p, (uint16_t)(v & 0xffff), &fn)) != 0)
				goto out;
		} else {
			/* IMAGE_IMPORT_BY_NAME: a hint, then the name (YARA
			 * wants 4 bytes of it in the file). */
			noff = pe_rva_offset(p, v & (p->h.is_64bit ? ~0ull : 0xffffffffull));
			if (noff >= 0 && freader_has(f, (uint64_t)noff, 4) &&
			    (r = pe_read_cstr(f, (uint64_t)noff + 2, WARD_MAX_PE_FN_NAME,
					      &fn.name)) != 0)
				goto out;
		}
		if (fn.name.p != NULL && (r = add_fn(d, &cap, &fn)) != 0)
			goto out;
		(*total)++;
	}
out:
	pe_str_free(&fn.name);
	return r;
}

/* Gives l room for one more DLL. */
static int
grow_list(struct pe_import_list *l)
{
	if (ward_grow(&l->dll, &l->cap, l->ndll + 1, sizeof(*l->dll)) != 0)
		return WARD_ENOMEM;
	memset(&l->dll[l->ndll], 0, sizeof(l->dll[0]));
	return 0;
}

/* Numbers the functions as YARA does: across the DLLs of the list. */
static void
number_functions(struct pe_import_list *l)
{
	size_t i, k = 0;

	for (i = 0; i < l->ndll; i++) {
		l->dll[i].yara_first = k;
		k += l->dll[i].nfn;
	}
}

int
pe_parse_imports(struct pe_info *p, struct freader *f)
{
	struct pe_import_list *l = &p->imp;
	uint32_t va, size, name;
	uint64_t desc;
	int64_t off, noff;
	size_t len;
	int r = 0;

	if (pe_dir_entry(p, f, PE_DIR_IMPORT, &va, &size) != 0 || va == 0)
		goto out;
	if ((off = pe_rva_offset(p, va)) < 0)
		goto out;
	for (desc = (uint64_t)off; l->number_of_imports < WARD_MAX_PE_IMPORTS;
	     desc += IMPORT_DESC_SIZE) {
		if (!freader_has(f, desc, IMPORT_DESC_SIZE) ||
		    freader_u32(f, desc + 12, &name) != 0 || name == 0)
			break;
		noff = pe_rva_offset(p, name);
		if (noff >= 0) {
			struct pe_import_dll *d;

			/* A name Windows could never load is skipped and
			 * not counted. */
			if (!pe_valid_dll_name(f, (uint64_t)noff, &len))
				continue;
			if ((r = grow_list(l)) != 0)
				goto out;
			d = &l->dll[l->ndll];
			if ((r = pe_read_cstr(f, (uint64_t)noff, len, &d->name)) != 0)
				goto out;
			l->ndll++;
			if ((r = parse_thunks(p, f, desc, d, &l->number_of_functions)) != 0)
				goto out;
			/* A DLL none of whose functions could be read is
			 * counted but not listed. */
			if (d->nfn == 0) {
				pe_str_free(&d->name);
				ward_free(d->fn);
				d->fn = NULL;
				l->ndll--;
			}
		}
		l->number_of_imports++;
	}
out:
	number_functions(l);
	return r;
}

/* A VA in an old (Visual C++ 6) delay descriptor made an RVA. */
static uint64_t
delay_rva(uint64_t image_base, uint64_t va)
{
	return va != 0 && va > image_base ? va - image_base : va;
}

/* A pointer-sized value at rva, or 0 with *ok 0 when it is not in the file. */
static uint64_t
delay_pointer(struct pe_info *p, struct freader *f, uint64_t rva, int *ok)
{
	int64_t off = pe_rva_offset(p, rva);
	uint64_t v = 0;
	uint32_t v32;

	*ok = 0;
	if (off < 0)
		return 0;
	if (p->h.is_64bit)
		*ok = freader_u64(f, (uint64_t)off, &v) == 0;
	else if (freader_u32(f, (uint64_t)off, &v32) == 0) {
		*ok = 1;
		v = v32;
	}
	return v;
}

/* The functions of one delay-load DLL, from its name and address tables. */
static int
parse_delay_thunks(struct pe_info *p, struct freader *f, uint32_t attrs, uint64_t name_rva,
		   uint64_t func_rva, struct pe_import_dll *d)
{
	struct pe_import_fn fn = {{NULL, 0}, 0, 0};
	uint64_t step = p->h.is_64bit ? 8 : 4, na, fa;
	uint64_t mask = p->h.is_64bit ? ORD_FLAG64 : ORD_FLAG32;
	size_t cap = 0;
	int64_t off;
	int ok1, ok2, r = 0;

	while (p->delay.number_of_functions < WARD_MAX_PE_IMPORTS) {
		na = delay_pointer(p, f, name_rva, &ok1);
		fa = delay_pointer(p, f, func_rva, &ok2);
		if (!ok1 || !ok2 || na == 0 || fa == 0)
			break;
		if (!(na & mask)) {
			if (!attrs)
				na = delay_rva(p->h.image_base, na);
			/* Past the hint; outside the file YARA gets "". */
			off = pe_rva_offset(p, na + 2);
			if ((r = pe_read_cstr(f, off < 0 ? UINT64_MAX : (uint64_t)off,
					      WARD_MAX_PE_FN_NAME, &fn.name)) != 0)
				goto out;
		} else if ((r = ordinal_fn(d->name.p, (uint16_t)(na & 0xffff), &fn)) != 0) {
			goto out;
		}
		if ((r = add_fn(d, &cap, &fn)) != 0)
			goto out;
		p->delay.number_of_functions++;
		name_rva += step;
		func_rva += step;
	}
out:
	pe_str_free(&fn.name);
	return r;
}

int
pe_parse_delayed_imports(struct pe_info *p, struct freader *f)
{
	struct pe_import_list *l = &p->delay;
	uint32_t va, size, v[8], k;
	uint64_t desc, image_base = p->h.image_base;
	int64_t off, noff;
	size_t len;
	int r = 0;

	if (pe_dir_entry(p, f, PE_DIR_DELAY_IMPORT, &va, &size) != 0 || va == 0)
		goto out;
	if ((off = pe_rva_offset(p, va)) < 0)
		goto out;
	for (desc = (uint64_t)off; l->ndll < WARD_MAX_PE_IMPORTS; desc += DELAY_DESC_SIZE) {
		/* Attributes, DllName, ModuleHandle, IAT, INT, BoundIAT,
		 * UnloadInfo, TimeDateStamp. */
		for (k = 0; k < 8; k++)
			if (freader_u32(f, desc + 4 * k, &v[k]) != 0)
				goto out;
		if ((v[0] | v[1] | v[2] | v[3] | v[4] | v[5] | v[6] | v[7]) == 0)
			break;
		if (v[0] > 1)
			break;
		if (!p->h.is_64bit && v[0] == 0)
			for (k = 1; k < 7; k++)
				v[k] = (uint32_t)delay_rva(image_base, v[k]);
		/* Blatantly invalid entries end the list (PELIB). */
		if (v[4] >= p->h.size_of_image || v[3] >= p->h.size_of_image ||
		    v[1] < PE_DOS_HEADER_SIZE || v[4] < PE_DOS_HEADER_SIZE)
			break;
		noff = pe_rva_offset(p, v[1]);
		if (noff < 0 || !pe_valid_dll_name(f, (uint64_t)noff, &len))
			continue;
		if ((r = grow_list(l)) != 0)
			goto out;
		if ((r = pe_read_cstr(f, (uint64_t)noff, len, &l->dll[l->ndll].name)) != 0)
			goto out;
		l->ndll++;
		if ((r = parse_delay_thunks(p, f, v[0], v[4], v[3], &l->dll[l->ndll - 1])) != 0)
			goto out;
		l->number_of_imports++;
	}
out:
	number_functions(l);
	return r;
}

int64_t
pe_number_of_imports(const struct pe_info *p, int delayed)
{
	return p == NULL ? PE_UNDEFINED
	       : delayed ? p->delay.number_of_imports
			 : p->imp.number_of_imports;
}

int64_t
pe_number_of_imported_functions(const struct pe_info *p, int delayed)
{
	return p == NULL ? PE_UNDEFINED
	       : delayed ? p->delay.number_of_functions
			 : p->imp.number_of_functions;
}

size_t
pe_import_dll_count(const struct pe_info *p, int delayed)
{
	return p == NULL ? 0 : delayed ? p->delay.ndll : p->imp.ndll;
}

const struct pe_import_dll *
pe_import_dll(const struct pe_info *p, int delayed, size_t i)
{
	const struct pe_import_list *l;

	if (p == NULL)
		return NULL;
	l = delayed ? &p->delay : &p->imp;
	return i < l->ndll ? &l->dll[i] : NULL;
}

/* Feeds s[0..n) lower-cased to the digest. */
static int
update_lower(struct digest_ctx *c, const char *s, size_t n)
{
	char buf[256];
	size_t i, k;
	int r = 0;

	for (i = 0; i < n && r == 0; i += k) {
		k = n - i < sizeof(buf) ? n - i : sizeof(buf);
		for (size_t j = 0; j < k; j++)
			buf[j] = (char)tolower((unsigned char)s[i + j]);
		r = digest_update(c, buf, k);
	}
	return r;
}

int
pe_imphash(const struct pe_info *p, char out[33])
{
	struct digest_ctx *c = NULL;
	uint8_t md[16];
	size_t i, j, dlen;
	int first = 1, r;

	out[0] = '\0';
	if (p == NULL)
		return WARD_EINVAL;
	if ((r = digest_new(DIGEST_MD5, &c)) != 0)
		goto out;
	for (i = 0; i < p->imp.ndll; i++) {
		const struct pe_import_dll *d = &p->imp.dll[i];
		/* From the first dot: ".dll", ".ocx", ".sys" (as a prefix of
		 * what follows) is cut; YARA looks no further. */
		const char *dot = strchr(d->name.p, '.');

		dlen = d->name.len;
		if (dot != NULL &&
		    (strncasecmp(dot, ".ocx", 4) == 0 || strncasecmp(dot, ".sys", 4) == 0 ||
		     strncasecmp(dot, ".dll", 4) == 0))
			dlen = (size_t)(dot - d->name.p);
		for (j = 0; j < d->nfn; j++) {
			const struct pe_str *fn = &d->fn[j].name;

			/* "dll.fn" joined by commas; YARA hashes the C
			 * string (up to a NUL). */
			if ((!first && (r = digest_update(c, ",", 1)) != 0) ||
			    (r = update_lower(c, d->name.p, dlen)) != 0 ||
			    (r = digest_update(c, ".", 1)) != 0 ||
			    (r = update_lower(c, fn->p, strlen(fn->p))) != 0)
				goto out;
			first = 0;
		}
	}
	if ((r = digest_final(c, md, sizeof(md))) != 0 ||
	    (r = digest_to_hex(md, sizeof(md), out, 33)) != 0)
		goto out;
out:
	digest_free(c);
	return r;
}

/*
 * What one of YARA's imports() forms asks: which DLLs (by name without
 * case, or by a regular expression matching at least one byte of the C
 * string), and of their functions which (by name without case, by
 * ordinal, by regular expression, or every one: fn NULL).
 */
struct imp_query {
	int (*dll)(const struct imp_query *q, const struct pe_import_dll *d);
	int (*fn)(const struct imp_query *q, const struct pe_import_fn *f);
	const char *dll_name, *fn_name;
	int64_t ordinal;
	pe_match_fn dll_re, fn_re;
	void *dll_arg, *fn_arg;
};

static int
dll_by_name(const struct imp_query *q, const struct pe_import_dll *d)
{
	return strcasecmp(d->name.p, q->dll_name) == 0;
}

static int
dll_by_re(const struct imp_query *q, const struct pe_import_dll *d)
{
	return q->dll_re(q->dll_arg, d->name.p, strlen(d->name.p)) > 0;
}

static int
fn_by_name(const struct imp_query *q, const struct pe_import_fn *f)
{
	return strcasecmp(f->name.p, q->fn_name) == 0;
}

static int
fn_by_ordinal(const struct imp_query *q, const struct pe_import_fn *f)
{
	return f->has_ordinal && (uint64_t)f->ordinal == (uint64_t)q->ordinal;
}

static int
fn_by_re(const struct imp_query *q, const struct pe_import_fn *f)
{
	return q->fn_re(q->fn_arg, f->name.p, strlen(f->name.p)) > 0;
}

/* How many functions of the lists flags names (standard, delay-load) the
 * query takes, or PE_UNDEFINED for a file that is not a PE.  first: stop at
 * the first (the forms that answer 1 or 0). */
static int64_t
imports_walk(const struct pe_info *p, int64_t flags, const struct imp_query *q, int first)
{
	int64_t n = 0;
	size_t i, j;
	int del;

	if (p == NULL) {
		n = PE_UNDEFINED;
		goto out;
	}
	for (del = 0; del < 2; del++) {
		const struct pe_import_list *l = del ? &p->delay : &p->imp;

		if ((flags & (del ? PE_IMPORT_DELAYED : PE_IMPORT_STANDARD)) == 0)
			continue;
		for (i = 0; i < l->ndll; i++) {
			const struct pe_import_dll *d = &l->dll[i];

			if (!q->dll(q, d))
				continue;
			if (q->fn == NULL) {
				n += (int64_t)d->nfn;
				continue;
			}
			for (j = 0; j < d->nfn; j++) {
				if (!q->fn(q, &d->fn[j]))
					continue;
				n++;
				if (first)
					goto out;
			}
		}
	}
out:
	return n;
}

int64_t
pe_imports_fn(const struct pe_info *p, int64_t flags, const char *dll, const char *fn)
{
	const struct imp_query q = {
	    .dll = dll_by_name, .fn = fn_by_name, .dll_name = dll, .fn_name = fn};

	return imports_walk(p, flags, &q, 1);
}

int64_t
pe_imports_ordinal(const struct pe_info *p, int64_t flags, const char *dll, int64_t ordinal)
{
	const struct imp_query q = {
	    .dll = dll_by_name, .fn = fn_by_ordinal, .dll_name = dll, .ordinal = ordinal};

	return imports_walk(p, flags, &q, 1);
}

int64_t
pe_imports_dll(const struct pe_info *p, int64_t flags, const char *dll)
{
	const struct imp_query q = {.dll = dll_by_name, .dll_name = dll};

	return imports_walk(p, flags, &q, 0);
}

int64_t
pe_imports_regex(const struct pe_info *p, int64_t flags, pe_match_fn dll_re, void *dll_arg,
		 pe_match_fn fn_re, void *fn_arg)
{
	/* YARA matches the C strings and counts only a match of at least one
	 * byte. */
	const struct imp_query q = {.dll = dll_by_re,
				    .fn = fn_by_re,
				    .dll_re = dll_re,
				    .fn_re = fn_re,
				    .dll_arg = dll_arg,
				    .fn_arg = fn_arg};

	return imports_walk(p, flags, &q, 0);
}
