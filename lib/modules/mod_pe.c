/*
 * mod_pe: the `pe` module.  See mod_pe.h; what each value means, and
 * YARA's quirks kept on purpose, are in pe.h.
 *
 * Value and function ids (mod_pe_int.h) are compiled content: append only.
 *
 * Must hold: is_pe and the constants are defined for every file (YARA sets
 * them before looking at the bytes), so load always gives data, with a
 * NULL parse for a file that is not a PE; every other value is then
 * undefined, and an index below 0 or past what the parse holds is
 * undefined too.
 */
#include "modules/mod_pe.h"
#include "modules/mod_pe_int.h"
#include "modules/pe.h"
#include "pattern/pattern.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/limits.h"

#include <pthread.h>
#include <string.h>

/* Bytes kept of a string argument, with its NUL: longer ones are cut to
 * one byte more than the longest name the parse keeps (WARD_MAX_PE_NAME,
 * which bounds DLL, function, section and version-info names), so that
 * the cut string, like the whole one, equals none of them. */
#define PE_ARG_MAX (WARD_MAX_PE_NAME + 2)

/* Room for YARA's constants (171 in 4.2.3) and the end. */
#define NTOP 320

static struct mod_member top[NTOP];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
build(void)
{
	size_t n = 0, i;

	for (i = 0; i < mod_pe_nfields && n < NTOP - 1; i++)
		top[n++] = mod_pe_fields[i];
	for (i = 0; mod_pe_constants[i].name != NULL && n < NTOP - 1; i++)
		top[n++] = mod_pe_constants[i];
	top[n].name = NULL;
}

void
mod_pe_init(void)
{
	pthread_once(&once, build);
}

/* What load keeps: the parse, NULL for a file that is not a PE (is_pe is
 * still defined then, so the data itself is never NULL). */
struct pe_mod {
	struct pe_info *pe;
	/* Functions of the whole file that many rules of a set call (one
	 * imphash comparison per rule): computed at the first call for the
	 * file.  0: not yet; 1: done; -1: undefined. */
	int imphash_state;
	char imphash[33];
	int checksum_state;
	int64_t checksum;
};

static int
pe_load(struct freader *f, void **data)
{
	struct pe_mod *m;
	int r;

	*data = NULL;
	if ((m = ward_calloc(1, sizeof(*m))) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	if ((r = pe_parse(f, &m->pe)) != 0) {
		ward_free(m);
		goto out;
	}
	*data = m;
out:
	return r;
}

static void
pe_unload(void *data)
{
	struct pe_mod *m = data;

	if (m == NULL)
		return;
	pe_free(m->pe);
	ward_free(m);
}

static void
set_int(struct mod_value *out, int64_t v)
{
	out->defined = 1;
	out->i = v;
}

static void
set_str(struct mod_value *out, const struct pe_str *s)
{
	if (s->p == NULL || s->len > UINT32_MAX)
		return;
	out->defined = 1;
	out->s = (const uint8_t *)s->p;
	out->slen = (uint32_t)s->len;
}

/* A query's answer: PE_UNDEFINED leaves out undefined. */
static void
set_query(struct mod_value *out, int64_t v)
{
	if (v != PE_UNDEFINED)
		set_int(out, v);
}

/* An index into n items, or -1 when out of range. */
static int64_t
index_of(const struct mod_arg *a, size_t n)
{
	return a->i >= 0 && (uint64_t)a->i < n ? a->i : -1;
}

static void
header_value(const struct pe_header *h, uint16_t id, struct mod_value *out)
{
	/* One row per id from V_MACHINE to V_OVERLAY_SIZE. */
	const int64_t v[] = {
	    [V_MACHINE] = h->machine,
	    [V_NUMBER_OF_SECTIONS] = h->number_of_sections,
	    [V_TIMESTAMP] = h->timestamp,
	    [V_POINTER_TO_SYMBOL_TABLE] = h->pointer_to_symbol_table,
	    [V_NUMBER_OF_SYMBOLS] = h->number_of_symbols,
	    [V_SIZE_OF_OPTIONAL_HEADER] = h->size_of_optional_header,
	    [V_CHARACTERISTICS] = h->characteristics,
	    [V_ENTRY_POINT] = h->entry_point,
	    [V_ENTRY_POINT_RAW] = h->entry_point_raw,
	    [V_IMAGE_BASE] = (int64_t)h->image_base,
	    [V_NUMBER_OF_RVA_AND_SIZES] = h->number_of_rva_and_sizes,
	    [V_OPTHDR_MAGIC] = h->opthdr_magic,
	    [V_LINKER_MAJOR] = h->linker_version_major,
	    [V_LINKER_MINOR] = h->linker_version_minor,
	    [V_SIZE_OF_CODE] = h->size_of_code,
	    [V_SIZE_OF_INITIALIZED_DATA] = h->size_of_initialized_data,
	    [V_SIZE_OF_UNINITIALIZED_DATA] = h->size_of_uninitialized_data,
	    [V_BASE_OF_CODE] = h->base_of_code,
	    [V_BASE_OF_DATA] = h->base_of_data,
	    [V_SECTION_ALIGNMENT] = h->section_alignment,
	    [V_FILE_ALIGNMENT] = h->file_alignment,
	    [V_OS_MAJOR] = h->os_version_major,
	    [V_OS_MINOR] = h->os_version_minor,
	    [V_IMAGE_MAJOR] = h->image_version_major,
	    [V_IMAGE_MINOR] = h->image_version_minor,
	    [V_SUBSYSTEM_MAJOR] = h->subsystem_version_major,
	    [V_SUBSYSTEM_MINOR] = h->subsystem_version_minor,
	    [V_WIN32_VERSION_VALUE] = h->win32_version_value,
	    [V_SIZE_OF_IMAGE] = h->size_of_image,
	    [V_SIZE_OF_HEADERS] = h->size_of_headers,
	    [V_CHECKSUM] = h->checksum,
	    [V_SUBSYSTEM] = h->subsystem,
	    [V_DLL_CHARACTERISTICS] = h->dll_characteristics,
	    [V_SIZE_OF_STACK_RESERVE] = (int64_t)h->size_of_stack_reserve,
	    [V_SIZE_OF_STACK_COMMIT] = (int64_t)h->size_of_stack_commit,
	    [V_SIZE_OF_HEAP_RESERVE] = (int64_t)h->size_of_heap_reserve,
	    [V_SIZE_OF_HEAP_COMMIT] = (int64_t)h->size_of_heap_commit,
	    [V_LOADER_FLAGS] = h->loader_flags,
	    [V_OVERLAY_OFFSET] = (int64_t)h->overlay_offset,
	    [V_OVERLAY_SIZE] = (int64_t)h->overlay_size,
	};

	if (id == V_BASE_OF_DATA && !h->has_base_of_data)
		return;
	set_int(out, v[id]);
}

static void
section_value(const struct pe_section *s, uint16_t id, struct mod_value *out)
{
	switch (id) {
	case V_SEC_NAME:
		set_str(out, &s->name);
		break;
	case V_SEC_FULL_NAME:
		set_str(out, &s->full_name);
		break;
	case V_SEC_CHARACTERISTICS:
		set_int(out, s->characteristics);
		break;
	case V_SEC_VIRTUAL_ADDRESS:
		set_int(out, s->virtual_address);
		break;
	case V_SEC_VIRTUAL_SIZE:
		set_int(out, s->virtual_size);
		break;
	case V_SEC_RAW_DATA_OFFSET:
		set_int(out, s->raw_data_offset);
		break;
	case V_SEC_RAW_DATA_SIZE:
		set_int(out, s->raw_data_size);
		break;
	case V_SEC_POINTER_TO_RELOCATIONS:
		set_int(out, s->pointer_to_relocations);
		break;
	case V_SEC_POINTER_TO_LINE_NUMBERS:
		set_int(out, s->pointer_to_line_numbers);
		break;
	case V_SEC_NUMBER_OF_RELOCATIONS:
		set_int(out, s->number_of_relocations);
		break;
	case V_SEC_NUMBER_OF_LINE_NUMBERS:
		set_int(out, s->number_of_line_numbers);
		break;
	}
}

/* import_details[i] and its functions[j], numbered as YARA does (pe.h). */
static void
import_value(const struct pe_info *p, uint16_t id, const struct mod_arg *idx, struct mod_value *out)
{
	const struct pe_import_dll *d;
	const struct pe_import_fn *fn;
	int64_t i = index_of(&idx[0], pe_import_dll_count(p, 0)), j;

	if (i < 0)
		return;
	d = pe_import_dll(p, 0, (size_t)i);
	if (id == V_IMP_LIBRARY_NAME) {
		set_str(out, &d->name);
		return;
	}
	if (id == V_IMP_NUMBER_OF_FUNCTIONS) {
		set_int(out, (int64_t)(d->yara_first + d->nfn));
		return;
	}
	if (idx[1].i < 0 || (uint64_t)idx[1].i < d->yara_first)
		return;
	j = idx[1].i - (int64_t)d->yara_first;
	if ((uint64_t)j >= d->nfn)
		return;
	fn = &d->fn[j];
	if (id == V_IMP_FN_NAME)
		set_str(out, &fn->name);
	else if (fn->has_ordinal)
		set_int(out, fn->ordinal);
}

static void
export_value(const struct pe_info *p, uint16_t id, const struct mod_arg *idx, struct mod_value *out)
{
	const struct pe_export *e;
	int64_t i = index_of(&idx[0], pe_export_count(p));

	if (i < 0)
		return;
	e = pe_export(p, (size_t)i);
	if (id == V_EXP_OFFSET && e->has_offset)
		set_int(out, e->offset);
	else if (id == V_EXP_NAME)
		set_str(out, &e->name);
	else if (id == V_EXP_FORWARD_NAME)
		set_str(out, &e->forward_name);
	else if (id == V_EXP_ORDINAL)
		set_int(out, e->ordinal);
}

static void
resource_value(const struct pe_resource *r, uint16_t id, struct mod_value *out)
{
	switch (id) {
	case V_RES_RVA:
		set_int(out, r->rva);
		break;
	case V_RES_OFFSET:
		if (r->has_offset)
			set_int(out, r->offset);
		break;
	case V_RES_LENGTH:
		set_int(out, r->length);
		break;
	case V_RES_TYPE:
		if (r->has_type)
			set_int(out, r->type);
		break;
	case V_RES_ID:
		if (r->has_id)
			set_int(out, r->id);
		break;
	case V_RES_LANGUAGE:
		if (r->has_language)
			set_int(out, r->language);
		break;
	case V_RES_TYPE_STRING:
		set_str(out, &r->type_string);
		break;
	case V_RES_NAME_STRING:
		set_str(out, &r->name_string);
		break;
	case V_RES_LANGUAGE_STRING:
		set_str(out, &r->language_string);
		break;
	}
}

static void
signature_value(const struct pe_signature *g, uint16_t id, struct mod_value *out)
{
	switch (id) {
	case V_SIG_THUMBPRINT:
		set_str(out, &g->thumbprint);
		break;
	case V_SIG_ISSUER:
		set_str(out, &g->issuer);
		break;
	case V_SIG_SUBJECT:
		set_str(out, &g->subject);
		break;
	case V_SIG_VERSION:
		set_int(out, g->version);
		break;
	case V_SIG_ALGORITHM:
		set_str(out, &g->algorithm);
		break;
	case V_SIG_ALGORITHM_OID:
		set_str(out, &g->algorithm_oid);
		break;
	case V_SIG_SERIAL:
		set_str(out, &g->serial);
		break;
	case V_SIG_NOT_BEFORE:
		set_int(out, g->not_before);
		break;
	case V_SIG_NOT_AFTER:
		set_int(out, g->not_after);
		break;
	}
}

/* A string argument as the C string YARA's functions see (cut at a NUL);
 * buf holds PE_ARG_MAX bytes. */
static const char *
cstr(const struct mod_arg *a, char *buf)
{
	size_t n = a->s != NULL ? strnlen((const char *)a->s, a->slen) : 0;

	if (n >= PE_ARG_MAX)
		n = PE_ARG_MAX - 1;
	if (n > 0)
		memcpy(buf, a->s, n);
	buf[n] = '\0';
	return buf;
}

static void
rest_value(const struct pe_info *p, uint16_t id, const struct mod_arg *idx, struct mod_value *out)
{
	const struct pe_rich *rich = pe_rich_signature(p);
	const struct pe_version_entry *ve;
	const struct pe_signature *g;
	struct pe_str s;
	uint16_t major, minor;
	char key[PE_ARG_MAX];
	int def;
	int64_t i;
	uint32_t t;

	switch (id) {
	case V_RICH_OFFSET:
		if (rich != NULL)
			set_int(out, (int64_t)rich->offset);
		break;
	case V_RICH_LENGTH:
		if (rich != NULL)
			set_int(out, (int64_t)rich->length);
		break;
	case V_RICH_KEY:
		if (rich != NULL)
			set_int(out, rich->key);
		break;
	case V_RICH_RAW_DATA:
		if (rich != NULL)
			set_str(out, &rich->raw_data);
		break;
	case V_RICH_CLEAR_DATA:
		if (rich != NULL)
			set_str(out, &rich->clear_data);
		break;
	case V_PDB_PATH:
		s = pe_pdb_path(p);
		set_str(out, &s);
		break;
	case V_NUMBER_OF_RESOURCES:
		set_int(out, (int64_t)pe_resource_count(p));
		break;
	case V_RESOURCE_TIMESTAMP:
		t = pe_resource_timestamp(p, &def);
		if (def)
			set_int(out, t);
		break;
	case V_RESOURCE_MAJOR:
	case V_RESOURCE_MINOR:
		pe_resource_version(p, &major, &minor, &def);
		if (def)
			set_int(out, id == V_RESOURCE_MAJOR ? major : minor);
		break;
	case V_NUMBER_OF_VERSION_INFOS:
		set_int(out, (int64_t)pe_version_info_count(p));
		break;
	case V_VERSION_INFO:
		/* YARA's dictionary keys are C strings: "a\0b" finds "a". */
		s = pe_version_info_lookup(p, cstr(&idx[0], key));
		set_str(out, &s);
		break;
	case V_VI_KEY:
	case V_VI_VALUE:
		if ((i = index_of(&idx[0], pe_version_info_count(p))) < 0)
			break;
		ve = pe_version_info(p, (size_t)i);
		set_str(out, id == V_VI_KEY ? &ve->key : &ve->value);
		break;
	case V_NUMBER_OF_SIGNATURES:
		set_query(out, pe_number_of_signatures(p));
		break;
	default:
		if (id >= V_SIG_THUMBPRINT && id <= V_SIG_NOT_AFTER && idx[0].i >= 0 &&
		    (g = pe_signature(p, (size_t)idx[0].i)) != NULL)
			signature_value(g, id, out);
		break;
	}
}

/* The number of items of an array (or of the version_info dictionary) as
 * YARA counts them — the highest index set plus one — and the dictionary's
 * keys by position: what `for ... in` loops walk. */
static void
count_value(const struct pe_info *p, uint16_t id, const struct mod_arg *idx, struct mod_value *out)
{
	const struct pe_import_dll *d;
	const struct pe_str *key;
	int64_t i;

	switch (id) {
	case V_DD_COUNT:
		set_int(out, (int64_t)pe_data_directory_count(p));
		break;
	case V_SEC_COUNT:
		set_int(out, (int64_t)pe_section_count(p));
		break;
	case V_IMP_COUNT:
		set_int(out, (int64_t)pe_import_dll_count(p, 0));
		break;
	case V_IMP_FN_COUNT:
		/* Numbered across DLLs (pe.h): the items below yara_first are
		 * holes, undefined in a loop as in YARA. */
		if ((i = index_of(&idx[0], pe_import_dll_count(p, 0))) >= 0) {
			d = pe_import_dll(p, 0, (size_t)i);
			set_int(out, (int64_t)(d->yara_first + d->nfn));
		}
		break;
	case V_DIMP_COUNT:
		/* Empty in YARA 4.2.3 (pe.h); its functions have no count. */
		set_int(out, 0);
		break;
	case V_EXP_COUNT:
		set_int(out, (int64_t)pe_export_count(p));
		break;
	case V_RES_COUNT:
		set_int(out, (int64_t)pe_resource_count(p));
		break;
	case V_VI_COUNT:
		set_int(out, (int64_t)pe_version_dict_count(p));
		break;
	case V_VI_KEY_AT:
		if (idx[0].i >= 0 && (key = pe_version_dict_key(p, (size_t)idx[0].i)) != NULL)
			set_str(out, key);
		break;
	case V_VIL_COUNT:
		set_int(out, (int64_t)pe_version_info_count(p));
		break;
	case V_SIG_COUNT:
		set_int(out, (int64_t)pe_signature_count(p));
		break;
	}
}

static void
pe_value(void *data, uint16_t id, const struct mod_arg *idx, struct mod_value *out)
{
	struct pe_mod *m = data;
	const struct pe_info *p = m->pe;
	struct pe_str s;
	int64_t i;
	uint32_t t;
	int def;

	out->defined = 0;
	if (id == V_IS_PE) {
		set_int(out, p != NULL);
		return;
	}
	if (p == NULL || id >= NVALUES)
		return;
	if (id <= V_OVERLAY_SIZE) {
		header_value(pe_header(p), id, out);
	} else if (id == V_DD_VIRTUAL_ADDRESS || id == V_DD_SIZE) {
		if ((i = index_of(&idx[0], pe_data_directory_count(p))) >= 0)
			set_int(out, id == V_DD_SIZE
					 ? pe_data_directory(p, (size_t)i)->size
					 : pe_data_directory(p, (size_t)i)->virtual_address);
	} else if (id >= V_SEC_NAME && id <= V_SEC_NUMBER_OF_LINE_NUMBERS) {
		if ((i = index_of(&idx[0], pe_section_count(p))) >= 0)
			section_value(pe_section(p, (size_t)i), id, out);
	} else if (id >= V_NUMBER_OF_IMPORTS && id <= V_NUMBER_OF_DELAYED_IMPORTED_FUNCTIONS) {
		int delayed = id >= V_NUMBER_OF_DELAYED_IMPORTS;

		if (id == V_NUMBER_OF_IMPORTS || id == V_NUMBER_OF_DELAYED_IMPORTS)
			set_int(out, pe_number_of_imports(p, delayed));
		else
			set_int(out, pe_number_of_imported_functions(p, delayed));
	} else if (id >= V_IMP_LIBRARY_NAME && id <= V_IMP_FN_ORDINAL) {
		import_value(p, id, idx, out);
	} else if (id >= V_DIMP_LIBRARY_NAME && id <= V_DIMP_FN_ORDINAL) {
		/* Empty in YARA 4.2.3: see pe.h. */
	} else if (id == V_NUMBER_OF_EXPORTS) {
		set_int(out, (int64_t)pe_export_count(p));
	} else if (id == V_DLL_NAME) {
		s = pe_export_dll_name(p);
		set_str(out, &s);
	} else if (id == V_EXPORT_TIMESTAMP) {
		t = pe_export_timestamp(p, &def);
		if (def)
			set_int(out, t);
	} else if (id >= V_EXP_OFFSET && id <= V_EXP_ORDINAL) {
		export_value(p, id, idx, out);
	} else if (id >= V_RES_RVA && id <= V_RES_LANGUAGE_STRING) {
		if ((i = index_of(&idx[0], pe_resource_count(p))) >= 0)
			resource_value(pe_resource(p, (size_t)i), id, out);
	} else if (id >= V_DD_COUNT) {
		count_value(p, id, idx, out);
	} else {
		rest_value(p, id, idx, out);
	}
}

/* pe_match_fn over a compiled regular expression: pattern_search gives
 * yr_re_match's answer, where the last match ended (0 for an empty match
 * at the start of s), or -1. */
static int
re_match(void *arg, const char *s, size_t len)
{
	const struct pattern *re = arg;

	return re != NULL ? pattern_search(re, (const uint8_t *)s, len) : -1;
}

/* A regular-expression argument as pe_match_fn's argument. */
#define RE(arg) ((void *)(uintptr_t)(arg).re)

static void
pe_call(void *data, struct freader *f, uint16_t id, const struct mod_arg *a, struct mod_value *out)
{
	struct pe_mod *m = data;
	const struct pe_info *p = m->pe;
	const struct pe_signature *g;
	char b0[PE_ARG_MAX], b1[PE_ARG_MAX];

	out->defined = 0;
	switch (id) {
	case F_CALCULATE_CHECKSUM:
		if (m->checksum_state == 0) {
			m->checksum = pe_calculate_checksum(p, f);
			m->checksum_state = 1;
		}
		set_query(out, m->checksum);
		break;
	case F_IS_DLL:
		set_query(out, pe_is_dll(p));
		break;
	case F_IS_32BIT:
		set_query(out, pe_is_32bit(p));
		break;
	case F_IS_64BIT:
		set_query(out, pe_is_64bit(p));
		break;
	case F_RVA_TO_OFFSET:
		set_query(out, pe_rva_to_offset(p, (uint64_t)a[0].i));
		break;
	case F_SECTION_INDEX_S:
		set_query(out, pe_section_index_name(p, cstr(&a[0], b0)));
		break;
	case F_SECTION_INDEX_I:
		set_query(out, pe_section_index_offset(p, a[0].i));
		break;
	case F_IMPORTS_SS:
		set_query(out,
			  pe_imports_fn(p, PE_IMPORT_STANDARD, cstr(&a[0], b0), cstr(&a[1], b1)));
		break;
	case F_IMPORTS_SI:
		set_query(out, pe_imports_ordinal(p, PE_IMPORT_STANDARD, cstr(&a[0], b0), a[1].i));
		break;
	case F_IMPORTS_S:
		set_query(out, pe_imports_dll(p, PE_IMPORT_STANDARD, cstr(&a[0], b0)));
		break;
	case F_IMPORTS_RR:
		set_query(out, pe_imports_regex(p, PE_IMPORT_STANDARD, re_match, RE(a[0]), re_match,
						RE(a[1])));
		break;
	case F_IMPORTS_ISS:
		set_query(out, pe_imports_fn(p, a[0].i, cstr(&a[1], b0), cstr(&a[2], b1)));
		break;
	case F_IMPORTS_ISI:
		set_query(out, pe_imports_ordinal(p, a[0].i, cstr(&a[1], b0), a[2].i));
		break;
	case F_IMPORTS_IS:
		set_query(out, pe_imports_dll(p, a[0].i, cstr(&a[1], b0)));
		break;
	case F_IMPORTS_IRR:
		set_query(out, pe_imports_regex(p, a[0].i, re_match, RE(a[1]), re_match, RE(a[2])));
		break;
	case F_IMPHASH:
		if (m->imphash_state == 0)
			m->imphash_state = pe_imphash(p, m->imphash) == 0 ? 1 : -1;
		if (m->imphash_state == 1) {
			memcpy(out->buf, m->imphash, 32);
			out->defined = 1;
			out->s = out->buf;
			out->slen = 32;
		}
		break;
	case F_EXPORTS_S:
	case F_EXPORTS_INDEX_S:
		set_query(out, pe_exports_name(p, (const char *)a[0].s, a[0].slen,
					       id == F_EXPORTS_INDEX_S));
		break;
	case F_EXPORTS_R:
	case F_EXPORTS_INDEX_R:
		set_query(out, pe_exports_regex(p, re_match, RE(a[0]), id == F_EXPORTS_INDEX_R));
		break;
	case F_EXPORTS_I:
	case F_EXPORTS_INDEX_I:
		set_query(out, pe_exports_ordinal(p, a[0].i, id == F_EXPORTS_INDEX_I));
		break;
	case F_RICH_VERSION:
		set_query(out, pe_rich_version(p, a[0].i, PE_UNDEFINED));
		break;
	case F_RICH_VERSION_TOOLID:
		set_query(out, pe_rich_version(p, a[0].i, a[1].i));
		break;
	case F_RICH_TOOLID:
		set_query(out, pe_rich_version(p, PE_UNDEFINED, a[0].i));
		break;
	case F_RICH_TOOLID_VERSION:
		set_query(out, pe_rich_version(p, a[1].i, a[0].i));
		break;
	case F_LOCALE:
		set_query(out, pe_locale(p, (uint64_t)a[0].i));
		break;
	case F_LANGUAGE:
		set_query(out, pe_language(p, (uint64_t)a[0].i));
		break;
	case F_SIG_VALID_ON:
		if (p != NULL && a[0].i >= 0 && (g = pe_signature(p, (size_t)a[0].i)) != NULL)
			set_query(out, pe_signature_valid_on(g, a[1].i));
		break;
	}
}

const struct module mod_pe = {
    .id = MOD_ID_PE,
    .name = "pe",
    .members = top,
    .values = mod_pe_values,
    .nvalues = NVALUES,
    .funcs = mod_pe_funcs,
    .nfuncs = NFUNCS,
    .load = pe_load,
    .unload = pe_unload,
    .value = pe_value,
    .call = pe_call,
};
