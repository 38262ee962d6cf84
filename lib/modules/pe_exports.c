/*
 * pe_exports: the export directory of a PE file as YARA 4.2.3 lists it
 * (export_details, dll_name, export_timestamp) and the exports() queries.
 *
 * Must hold: at most WARD_MAX_PE_EXPORTS exports; the name, ordinal and
 * address tables are checked to be in the file before any entry is used.
 */
#include "modules/pe_int.h"
#include "util/alloc.h"
#include "util/err.h"

#include <string.h>

#define EXPORT_DIR_SIZE 40

int
pe_parse_exports(struct pe_info *p, struct freader *f)
{
	uint32_t va, size, d[10], nfun, nnames, i, j, rva;
	uint64_t names_off = 0, ord_off, fun_off, start;
	int64_t off;
	uint32_t *first = NULL; /* the first name slot of each export index */
	uint16_t ord;
	int r = 0;

	if (pe_dir_entry(p, f, PE_DIR_EXPORT, &va, &size) != 0 || va == 0)
		goto out;
	if ((off = pe_rva_offset(p, va)) < 0)
		goto out;
	start = (uint64_t)off;
	if (!freader_has(f, start, EXPORT_DIR_SIZE))
		goto out;
	/* Characteristics, TimeDateStamp, Major/MinorVersion, Name, Base,
	 * NumberOfFunctions, NumberOfNames, AddressOfFunctions,
	 * AddressOfNames, AddressOfNameOrdinals. */
	for (i = 0; i < 10; i++)
		if (freader_u32(f, start + 4 * (uint64_t)i, &d[i]) != 0)
			goto out;
	nfun = d[5] < WARD_MAX_PE_EXPORTS ? d[5] : WARD_MAX_PE_EXPORTS;
	p->has_exp_timestamp = 1;
	p->exp_timestamp = d[1];
	off = pe_rva_offset(p, d[3]);
	if (off > 0 &&
	    (r = pe_read_cstr(f, (uint64_t)off, WARD_MAX_PE_NAME, &p->exp_dll_name)) != 0)
		goto out;
	/* YARA checks the address table's size against the space after the
	 * DLL name (or the whole file when there is none): kept. */
	if ((uint64_t)nfun * 4 > p->file_size - (uint64_t)off)
		goto out;
	if (d[6] > 0) {
		if ((off = pe_rva_offset(p, d[8])) < 0)
			goto out;
		if ((uint64_t)d[6] * 4 > p->file_size - (uint64_t)off)
			goto out;
		names_off = (uint64_t)off;
	}
	if ((off = pe_rva_offset(p, d[9])) < 0 ||
	    !freader_has(f, (uint64_t)off, (uint64_t)nfun * 2))
		goto out;
	ord_off = (uint64_t)off;
	if ((off = pe_rva_offset(p, d[7])) < 0 ||
	    !freader_has(f, (uint64_t)off, (uint64_t)nfun * 4))
		goto out;
	fun_off = (uint64_t)off;
	nnames = d[6] < nfun ? d[6] : nfun;
	if (nfun == 0)
		goto out;
	if ((p->exp = ward_calloc(nfun, sizeof(*p->exp))) == NULL ||
	    (first = ward_malloc((size_t)nfun * sizeof(*first))) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	/* YARA looks, for export i, for the first name slot j whose ordinal
	 * is i: one pass over the slots gives the same answer. */
	for (i = 0; i < nfun; i++)
		first[i] = UINT32_MAX;
	for (j = 0; d[6] > 0 && j < nnames; j++)
		if (freader_u16(f, ord_off + 2 * (uint64_t)j, &ord) == 0 && ord < nfun &&
		    first[ord] == UINT32_MAX)
			first[ord] = j;
	for (i = 0; i < nfun; i++) {
		struct pe_export *e = &p->exp[i];

		p->nexp = i + 1;
		e->ordinal = (int64_t)d[4] + i;
		if (freader_u32(f, fun_off + 4 * (uint64_t)i, &rva) != 0)
			break;
		off = pe_rva_offset(p, rva);
		/* An address inside the export directory is a forwarder's
		 * "dll.function" string. */
		if (off > (int64_t)start && (uint64_t)off < start + size) {
			if ((r = pe_read_cstr(f, (uint64_t)off, WARD_MAX_PE_FN_NAME,
					      &e->forward_name)) != 0)
				goto out;
		} else {
			e->has_offset = 1;
			e->offset = off;
		}
		if (first[i] == UINT32_MAX)
			continue;
		if (freader_u32(f, names_off + 4 * (uint64_t)first[i], &rva) != 0)
			continue;
		off = pe_rva_offset(p, rva);
		if (off > 0 &&
		    (r = pe_read_cstr(f, (uint64_t)off, WARD_MAX_PE_FN_NAME, &e->name)) != 0)
			goto out;
	}
out:
	ward_free(first);
	return r;
}

size_t
pe_export_count(const struct pe_info *p)
{
	return p != NULL ? p->nexp : 0;
}

const struct pe_export *
pe_export(const struct pe_info *p, size_t i)
{
	return p != NULL && i < p->nexp ? &p->exp[i] : NULL;
}

struct pe_str
pe_export_dll_name(const struct pe_info *p)
{
	struct pe_str none = {NULL, 0};

	return p != NULL ? p->exp_dll_name : none;
}

uint32_t
pe_export_timestamp(const struct pe_info *p, int *defined)
{
	*defined = p != NULL && p->has_exp_timestamp;
	return *defined ? p->exp_timestamp : 0;
}

/* 1 when a equals the name b (blen bytes) but for ASCII case (YARA's
 * ss_icompare over the sized strings). */
static int
iequal(const struct pe_str *a, const char *b, size_t blen)
{
	size_t i;

	if (a->len != blen)
		return 0;
	for (i = 0; i < blen; i++) {
		int x = (unsigned char)a->p[i], y = (unsigned char)b[i];

		x = x >= 'A' && x <= 'Z' ? x + 32 : x;
		y = y >= 'A' && y <= 'Z' ? y + 32 : y;
		if (x != y)
			return 0;
	}
	return 1;
}

int64_t
pe_exports_name(const struct pe_info *p, const char *name, size_t len, int index)
{
	size_t i;

	if (p == NULL)
		return PE_UNDEFINED;
	for (i = 0; i < p->nexp; i++)
		if (p->exp[i].name.p != NULL && iequal(&p->exp[i].name, name, len))
			return index ? (int64_t)i : 1;
	return index ? PE_UNDEFINED : 0;
}

int64_t
pe_exports_ordinal(const struct pe_info *p, int64_t ordinal, int index)
{
	size_t i;

	if (p == NULL)
		return PE_UNDEFINED;
	/* YARA answers no for 0 and for an ordinal above the number of
	 * exports, whatever the ordinal base. */
	if (ordinal == 0 || ordinal > (int64_t)p->nexp)
		return index ? PE_UNDEFINED : 0;
	for (i = 0; i < p->nexp; i++)
		if (p->exp[i].ordinal == ordinal)
			return index ? (int64_t)i : 1;
	return index ? PE_UNDEFINED : 0;
}

int64_t
pe_exports_regex(const struct pe_info *p, pe_match_fn re, void *arg, int index)
{
	size_t i;

	if (p == NULL)
		return PE_UNDEFINED;
	for (i = 0; i < p->nexp; i++)
		if (p->exp[i].name.p != NULL &&
		    re(arg, p->exp[i].name.p, strlen(p->exp[i].name.p)) != -1)
			return index ? (int64_t)i : 1;
	return index ? PE_UNDEFINED : 0;
}
