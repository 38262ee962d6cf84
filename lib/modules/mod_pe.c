/*
 * mod_pe: the `pe` module.  See mod_pe.h; what each value means, and
 * YARA's quirks kept on purpose, are in pe.h.
 *
 * Value and function ids below are compiled content: append only.
 *
 * Must hold: is_pe and the constants are defined for every file (YARA sets
 * them before looking at the bytes), so load always gives data, with a
 * NULL parse for a file that is not a PE; every other value is then
 * undefined, and an index below 0 or past what the parse holds is
 * undefined too.
 */
#include "modules/mod_pe.h"
#include "modules/pe.h"
#include "pattern/pattern.h"
#include "util/alloc.h"
#include "util/err.h"

#include <pthread.h>
#include <string.h>

/* The longest string argument looked for among import names (longer ones
 * are cut, as none of the names they would match is kept longer). */
#define PE_ARG_MAX 1024

enum {
	/* header integers, in pe_header order */
	V_IS_PE = 1,
	V_MACHINE,
	V_NUMBER_OF_SECTIONS,
	V_TIMESTAMP,
	V_POINTER_TO_SYMBOL_TABLE,
	V_NUMBER_OF_SYMBOLS,
	V_SIZE_OF_OPTIONAL_HEADER,
	V_CHARACTERISTICS,
	V_ENTRY_POINT,
	V_ENTRY_POINT_RAW,
	V_IMAGE_BASE,
	V_NUMBER_OF_RVA_AND_SIZES,
	V_OPTHDR_MAGIC,
	V_LINKER_MAJOR,
	V_LINKER_MINOR,
	V_SIZE_OF_CODE,
	V_SIZE_OF_INITIALIZED_DATA,
	V_SIZE_OF_UNINITIALIZED_DATA,
	V_BASE_OF_CODE,
	V_BASE_OF_DATA,
	V_SECTION_ALIGNMENT,
	V_FILE_ALIGNMENT,
	V_OS_MAJOR,
	V_OS_MINOR,
	V_IMAGE_MAJOR,
	V_IMAGE_MINOR,
	V_SUBSYSTEM_MAJOR,
	V_SUBSYSTEM_MINOR,
	V_WIN32_VERSION_VALUE,
	V_SIZE_OF_IMAGE,
	V_SIZE_OF_HEADERS,
	V_CHECKSUM,
	V_SUBSYSTEM,
	V_DLL_CHARACTERISTICS,
	V_SIZE_OF_STACK_RESERVE,
	V_SIZE_OF_STACK_COMMIT,
	V_SIZE_OF_HEAP_RESERVE,
	V_SIZE_OF_HEAP_COMMIT,
	V_LOADER_FLAGS,
	V_OVERLAY_OFFSET,
	V_OVERLAY_SIZE,
	/* data_directories[i] */
	V_DD_VIRTUAL_ADDRESS,
	V_DD_SIZE,
	/* sections[i] */
	V_SEC_NAME,
	V_SEC_FULL_NAME,
	V_SEC_CHARACTERISTICS,
	V_SEC_VIRTUAL_ADDRESS,
	V_SEC_VIRTUAL_SIZE,
	V_SEC_RAW_DATA_OFFSET,
	V_SEC_RAW_DATA_SIZE,
	V_SEC_POINTER_TO_RELOCATIONS,
	V_SEC_POINTER_TO_LINE_NUMBERS,
	V_SEC_NUMBER_OF_RELOCATIONS,
	V_SEC_NUMBER_OF_LINE_NUMBERS,
	/* imports */
	V_NUMBER_OF_IMPORTS,
	V_NUMBER_OF_IMPORTED_FUNCTIONS,
	V_NUMBER_OF_DELAYED_IMPORTS,
	V_NUMBER_OF_DELAYED_IMPORTED_FUNCTIONS,
	V_IMP_LIBRARY_NAME,
	V_IMP_NUMBER_OF_FUNCTIONS,
	V_IMP_FN_NAME,
	V_IMP_FN_ORDINAL,
	V_DIMP_LIBRARY_NAME,
	V_DIMP_NUMBER_OF_FUNCTION,
	V_DIMP_FN_NAME,
	V_DIMP_FN_ORDINAL,
	/* exports */
	V_NUMBER_OF_EXPORTS,
	V_DLL_NAME,
	V_EXPORT_TIMESTAMP,
	V_EXP_OFFSET,
	V_EXP_NAME,
	V_EXP_FORWARD_NAME,
	V_EXP_ORDINAL,
	/* rich signature, debug */
	V_RICH_OFFSET,
	V_RICH_LENGTH,
	V_RICH_KEY,
	V_RICH_RAW_DATA,
	V_RICH_CLEAR_DATA,
	V_PDB_PATH,
	/* resources, version info */
	V_NUMBER_OF_RESOURCES,
	V_RESOURCE_TIMESTAMP,
	V_RESOURCE_MAJOR,
	V_RESOURCE_MINOR,
	V_RES_RVA,
	V_RES_OFFSET,
	V_RES_LENGTH,
	V_RES_TYPE,
	V_RES_ID,
	V_RES_LANGUAGE,
	V_RES_TYPE_STRING,
	V_RES_NAME_STRING,
	V_RES_LANGUAGE_STRING,
	V_NUMBER_OF_VERSION_INFOS,
	V_VERSION_INFO,
	V_VI_KEY,
	V_VI_VALUE,
	/* signatures */
	V_NUMBER_OF_SIGNATURES,
	V_SIG_THUMBPRINT,
	V_SIG_ISSUER,
	V_SIG_SUBJECT,
	V_SIG_VERSION,
	V_SIG_ALGORITHM,
	V_SIG_ALGORITHM_OID,
	V_SIG_SERIAL,
	V_SIG_NOT_BEFORE,
	V_SIG_NOT_AFTER,
	NVALUES
};

enum {
	F_CALCULATE_CHECKSUM = 1,
	F_IS_DLL,
	F_IS_32BIT,
	F_IS_64BIT,
	F_RVA_TO_OFFSET,
	F_SECTION_INDEX_S,
	F_SECTION_INDEX_I,
	F_IMPORTS_SS,
	F_IMPORTS_SI,
	F_IMPORTS_S,
	F_IMPORTS_RR,
	F_IMPORTS_ISS,
	F_IMPORTS_ISI,
	F_IMPORTS_IS,
	F_IMPORTS_IRR,
	F_IMPHASH,
	F_EXPORTS_S,
	F_EXPORTS_R,
	F_EXPORTS_I,
	F_EXPORTS_INDEX_S,
	F_EXPORTS_INDEX_I,
	F_EXPORTS_INDEX_R,
	F_RICH_VERSION,
	F_RICH_VERSION_TOOLID,
	F_RICH_TOOLID,
	F_RICH_TOOLID_VERSION,
	F_LOCALE,
	F_LANGUAGE,
	F_SIG_VALID_ON,
	NFUNCS
};

#define I0                                                                                         \
	{                                                                                          \
		'i', "", NULL                                                                      \
	}
#define I1                                                                                         \
	{                                                                                          \
		'i', "i", NULL                                                                     \
	}
#define S1                                                                                         \
	{                                                                                          \
		's', "i", NULL                                                                     \
	}

static const struct mod_sig values[NVALUES] = {
    [V_IS_PE... V_OVERLAY_SIZE] = I0,
    [V_DD_VIRTUAL_ADDRESS... V_DD_SIZE] = I1,
    [V_SEC_NAME... V_SEC_FULL_NAME] = S1,
    [V_SEC_CHARACTERISTICS... V_SEC_NUMBER_OF_LINE_NUMBERS] = I1,
    [V_NUMBER_OF_IMPORTS... V_NUMBER_OF_DELAYED_IMPORTED_FUNCTIONS] = I0,
    [V_IMP_LIBRARY_NAME] = S1,
    [V_IMP_NUMBER_OF_FUNCTIONS] = I1,
    [V_IMP_FN_NAME] = {'s', "ii", NULL},
    [V_IMP_FN_ORDINAL] = {'i', "ii", NULL},
    [V_DIMP_LIBRARY_NAME] = S1,
    [V_DIMP_NUMBER_OF_FUNCTION] = I1,
    [V_DIMP_FN_NAME] = {'s', "ii", NULL},
    [V_DIMP_FN_ORDINAL] = {'i', "ii", NULL},
    [V_NUMBER_OF_EXPORTS] = I0,
    [V_DLL_NAME] = {'s', "", NULL},
    [V_EXPORT_TIMESTAMP] = I0,
    [V_EXP_OFFSET] = I1,
    [V_EXP_NAME... V_EXP_FORWARD_NAME] = S1,
    [V_EXP_ORDINAL] = I1,
    [V_RICH_OFFSET... V_RICH_KEY] = I0,
    [V_RICH_RAW_DATA... V_PDB_PATH] = {'s', "", NULL},
    [V_NUMBER_OF_RESOURCES... V_RESOURCE_MINOR] = I0,
    [V_RES_RVA... V_RES_LANGUAGE] = I1,
    [V_RES_TYPE_STRING... V_RES_LANGUAGE_STRING] = S1,
    [V_NUMBER_OF_VERSION_INFOS] = I0,
    [V_VERSION_INFO] = {'s', "s", NULL},
    [V_VI_KEY... V_VI_VALUE] = S1,
    [V_NUMBER_OF_SIGNATURES] = I0,
    [V_SIG_THUMBPRINT... V_SIG_SUBJECT] = S1,
    [V_SIG_VERSION] = I1,
    [V_SIG_ALGORITHM... V_SIG_SERIAL] = S1,
    [V_SIG_NOT_BEFORE... V_SIG_NOT_AFTER] = I1,
};

static const struct mod_sig funcs[NFUNCS] = {
    [F_CALCULATE_CHECKSUM] = {'i', "", ""},
    [F_IS_DLL] = {'i', "", ""},
    [F_IS_32BIT] = {'i', "", ""},
    [F_IS_64BIT] = {'i', "", ""},
    [F_RVA_TO_OFFSET] = {'i', "", "i"},
    [F_SECTION_INDEX_S] = {'i', "", "s"},
    [F_SECTION_INDEX_I] = {'i', "", "i"},
    [F_IMPORTS_SS] = {'i', "", "ss"},
    [F_IMPORTS_SI] = {'i', "", "si"},
    [F_IMPORTS_S] = {'i', "", "s"},
    [F_IMPORTS_RR] = {'i', "", "rr"},
    [F_IMPORTS_ISS] = {'i', "", "iss"},
    [F_IMPORTS_ISI] = {'i', "", "isi"},
    [F_IMPORTS_IS] = {'i', "", "is"},
    [F_IMPORTS_IRR] = {'i', "", "irr"},
    [F_IMPHASH] = {'s', "", ""},
    [F_EXPORTS_S] = {'i', "", "s"},
    [F_EXPORTS_R] = {'i', "", "r"},
    [F_EXPORTS_I] = {'i', "", "i"},
    [F_EXPORTS_INDEX_S] = {'i', "", "s"},
    [F_EXPORTS_INDEX_I] = {'i', "", "i"},
    [F_EXPORTS_INDEX_R] = {'i', "", "r"},
    [F_RICH_VERSION] = {'i', "", "i"},
    [F_RICH_VERSION_TOOLID] = {'i', "", "ii"},
    [F_RICH_TOOLID] = {'i', "", "i"},
    [F_RICH_TOOLID_VERSION] = {'i', "", "ii"},
    [F_LOCALE] = {'i', "", "i"},
    [F_LANGUAGE] = {'i', "", "i"},
    [F_SIG_VALID_ON] = {'i', "i", "i"},
};

#define INT(n, v)                                                                                  \
	{                                                                                          \
		.name = n, .kind = MOD_INT, .id = v                                                \
	}
#define STR(n, v)                                                                                  \
	{                                                                                          \
		.name = n, .kind = MOD_STR, .id = v                                                \
	}
#define FUNC(n, f)                                                                                 \
	{                                                                                          \
		.name = n, .kind = MOD_FUNC, .funcs = f                                            \
	}
#define STRUCT(n, f)                                                                               \
	{                                                                                          \
		.name = n, .kind = MOD_STRUCT, .fields = f                                         \
	}
#define ARRAY(n, f)                                                                                \
	{                                                                                          \
		.name = n, .kind = MOD_ARRAY, .elem = MOD_STRUCT, .fields = f                      \
	}

static const struct mod_member linker_version[] = {
    INT("major", V_LINKER_MAJOR), INT("minor", V_LINKER_MINOR), {.name = NULL}};
static const struct mod_member os_version[] = {
    INT("major", V_OS_MAJOR), INT("minor", V_OS_MINOR), {.name = NULL}};
static const struct mod_member image_version[] = {
    INT("major", V_IMAGE_MAJOR), INT("minor", V_IMAGE_MINOR), {.name = NULL}};
static const struct mod_member subsystem_version[] = {
    INT("major", V_SUBSYSTEM_MAJOR), INT("minor", V_SUBSYSTEM_MINOR), {.name = NULL}};
static const struct mod_member resource_version[] = {
    INT("major", V_RESOURCE_MAJOR), INT("minor", V_RESOURCE_MINOR), {.name = NULL}};
static const struct mod_member overlay[] = {
    INT("offset", V_OVERLAY_OFFSET), INT("size", V_OVERLAY_SIZE), {.name = NULL}};
static const struct mod_member data_directories[] = {
    INT("virtual_address", V_DD_VIRTUAL_ADDRESS), INT("size", V_DD_SIZE), {.name = NULL}};

static const struct mod_member sections[] = {
    STR("name", V_SEC_NAME),
    STR("full_name", V_SEC_FULL_NAME),
    INT("characteristics", V_SEC_CHARACTERISTICS),
    INT("virtual_address", V_SEC_VIRTUAL_ADDRESS),
    INT("virtual_size", V_SEC_VIRTUAL_SIZE),
    INT("raw_data_offset", V_SEC_RAW_DATA_OFFSET),
    INT("raw_data_size", V_SEC_RAW_DATA_SIZE),
    INT("pointer_to_relocations", V_SEC_POINTER_TO_RELOCATIONS),
    INT("pointer_to_line_numbers", V_SEC_POINTER_TO_LINE_NUMBERS),
    INT("number_of_relocations", V_SEC_NUMBER_OF_RELOCATIONS),
    INT("number_of_line_numbers", V_SEC_NUMBER_OF_LINE_NUMBERS),
    {.name = NULL},
};

static const struct mod_member imp_functions[] = {
    STR("name", V_IMP_FN_NAME), INT("ordinal", V_IMP_FN_ORDINAL), {.name = NULL}};
static const struct mod_member import_details[] = {
    STR("library_name", V_IMP_LIBRARY_NAME),
    INT("number_of_functions", V_IMP_NUMBER_OF_FUNCTIONS),
    ARRAY("functions", imp_functions),
    {.name = NULL},
};
/* YARA 4.2.3 spells this one "number_of_function". */
static const struct mod_member dimp_functions[] = {
    STR("name", V_DIMP_FN_NAME), INT("ordinal", V_DIMP_FN_ORDINAL), {.name = NULL}};
static const struct mod_member delay_import_details[] = {
    STR("library_name", V_DIMP_LIBRARY_NAME),
    INT("number_of_function", V_DIMP_NUMBER_OF_FUNCTION),
    ARRAY("functions", dimp_functions),
    {.name = NULL},
};

static const struct mod_member export_details[] = {
    INT("offset", V_EXP_OFFSET),   STR("name", V_EXP_NAME), STR("forward_name", V_EXP_FORWARD_NAME),
    INT("ordinal", V_EXP_ORDINAL), {.name = NULL},
};

static const uint16_t rich_version_f[] = {F_RICH_VERSION, F_RICH_VERSION_TOOLID, 0};
static const uint16_t rich_toolid_f[] = {F_RICH_TOOLID, F_RICH_TOOLID_VERSION, 0};
static const struct mod_member rich_signature[] = {
    INT("offset", V_RICH_OFFSET),
    INT("length", V_RICH_LENGTH),
    INT("key", V_RICH_KEY),
    STR("raw_data", V_RICH_RAW_DATA),
    STR("clear_data", V_RICH_CLEAR_DATA),
    FUNC("version", rich_version_f),
    FUNC("toolid", rich_toolid_f),
    {.name = NULL},
};

static const struct mod_member resources[] = {
    INT("rva", V_RES_RVA),
    INT("offset", V_RES_OFFSET),
    INT("length", V_RES_LENGTH),
    INT("type", V_RES_TYPE),
    INT("id", V_RES_ID),
    INT("language", V_RES_LANGUAGE),
    STR("type_string", V_RES_TYPE_STRING),
    STR("name_string", V_RES_NAME_STRING),
    STR("language_string", V_RES_LANGUAGE_STRING),
    {.name = NULL},
};

static const struct mod_member version_info_list[] = {
    STR("key", V_VI_KEY), STR("value", V_VI_VALUE), {.name = NULL}};

static const uint16_t valid_on_f[] = {F_SIG_VALID_ON, 0};
static const struct mod_member signatures[] = {
    STR("thumbprint", V_SIG_THUMBPRINT),
    STR("issuer", V_SIG_ISSUER),
    STR("subject", V_SIG_SUBJECT),
    INT("version", V_SIG_VERSION),
    STR("algorithm", V_SIG_ALGORITHM),
    STR("algorithm_oid", V_SIG_ALGORITHM_OID),
    STR("serial", V_SIG_SERIAL),
    INT("not_before", V_SIG_NOT_BEFORE),
    INT("not_after", V_SIG_NOT_AFTER),
    FUNC("valid_on", valid_on_f),
    {.name = NULL},
};

static const uint16_t calculate_checksum_f[] = {F_CALCULATE_CHECKSUM, 0};
static const uint16_t is_dll_f[] = {F_IS_DLL, 0};
static const uint16_t is_32bit_f[] = {F_IS_32BIT, 0};
static const uint16_t is_64bit_f[] = {F_IS_64BIT, 0};
static const uint16_t rva_to_offset_f[] = {F_RVA_TO_OFFSET, 0};
static const uint16_t section_index_f[] = {F_SECTION_INDEX_S, F_SECTION_INDEX_I, 0};
static const uint16_t imports_f[] = {F_IMPORTS_SS, F_IMPORTS_SI,  F_IMPORTS_S,
				     F_IMPORTS_RR, F_IMPORTS_ISS, F_IMPORTS_ISI,
				     F_IMPORTS_IS, F_IMPORTS_IRR, 0};
static const uint16_t imphash_f[] = {F_IMPHASH, 0};
static const uint16_t exports_f[] = {F_EXPORTS_S, F_EXPORTS_R, F_EXPORTS_I, 0};
static const uint16_t exports_index_f[] = {F_EXPORTS_INDEX_S, F_EXPORTS_INDEX_I, F_EXPORTS_INDEX_R,
					   0};
static const uint16_t locale_f[] = {F_LOCALE, 0};
static const uint16_t language_f[] = {F_LANGUAGE, 0};

/* The names at the top other than the constants, in YARA's order. */
static const struct mod_member fields[] = {
    INT("is_pe", V_IS_PE),
    INT("machine", V_MACHINE),
    INT("number_of_sections", V_NUMBER_OF_SECTIONS),
    INT("timestamp", V_TIMESTAMP),
    INT("pointer_to_symbol_table", V_POINTER_TO_SYMBOL_TABLE),
    INT("number_of_symbols", V_NUMBER_OF_SYMBOLS),
    INT("size_of_optional_header", V_SIZE_OF_OPTIONAL_HEADER),
    INT("characteristics", V_CHARACTERISTICS),
    INT("entry_point", V_ENTRY_POINT),
    INT("entry_point_raw", V_ENTRY_POINT_RAW),
    INT("image_base", V_IMAGE_BASE),
    INT("number_of_rva_and_sizes", V_NUMBER_OF_RVA_AND_SIZES),
    INT("number_of_version_infos", V_NUMBER_OF_VERSION_INFOS),
    {.name = "version_info", .kind = MOD_DICT, .elem = MOD_STR, .id = V_VERSION_INFO},
    ARRAY("version_info_list", version_info_list),
    INT("opthdr_magic", V_OPTHDR_MAGIC),
    INT("size_of_code", V_SIZE_OF_CODE),
    INT("size_of_initialized_data", V_SIZE_OF_INITIALIZED_DATA),
    INT("size_of_uninitialized_data", V_SIZE_OF_UNINITIALIZED_DATA),
    INT("base_of_code", V_BASE_OF_CODE),
    INT("base_of_data", V_BASE_OF_DATA),
    INT("section_alignment", V_SECTION_ALIGNMENT),
    INT("file_alignment", V_FILE_ALIGNMENT),
    STRUCT("linker_version", linker_version),
    STRUCT("os_version", os_version),
    STRUCT("image_version", image_version),
    STRUCT("subsystem_version", subsystem_version),
    INT("win32_version_value", V_WIN32_VERSION_VALUE),
    INT("size_of_image", V_SIZE_OF_IMAGE),
    INT("size_of_headers", V_SIZE_OF_HEADERS),
    INT("checksum", V_CHECKSUM),
    FUNC("calculate_checksum", calculate_checksum_f),
    INT("subsystem", V_SUBSYSTEM),
    INT("dll_characteristics", V_DLL_CHARACTERISTICS),
    INT("size_of_stack_reserve", V_SIZE_OF_STACK_RESERVE),
    INT("size_of_stack_commit", V_SIZE_OF_STACK_COMMIT),
    INT("size_of_heap_reserve", V_SIZE_OF_HEAP_RESERVE),
    INT("size_of_heap_commit", V_SIZE_OF_HEAP_COMMIT),
    INT("loader_flags", V_LOADER_FLAGS),
    ARRAY("data_directories", data_directories),
    ARRAY("sections", sections),
    STRUCT("overlay", overlay),
    STRUCT("rich_signature", rich_signature),
    FUNC("imphash", imphash_f),
    FUNC("section_index", section_index_f),
    FUNC("exports", exports_f),
    FUNC("exports_index", exports_index_f),
    FUNC("imports", imports_f),
    FUNC("locale", locale_f),
    FUNC("language", language_f),
    FUNC("is_dll", is_dll_f),
    FUNC("is_32bit", is_32bit_f),
    FUNC("is_64bit", is_64bit_f),
    INT("number_of_imports", V_NUMBER_OF_IMPORTS),
    INT("number_of_imported_functions", V_NUMBER_OF_IMPORTED_FUNCTIONS),
    INT("number_of_delayed_imports", V_NUMBER_OF_DELAYED_IMPORTS),
    INT("number_of_delayed_imported_functions", V_NUMBER_OF_DELAYED_IMPORTED_FUNCTIONS),
    INT("number_of_exports", V_NUMBER_OF_EXPORTS),
    STR("dll_name", V_DLL_NAME),
    INT("export_timestamp", V_EXPORT_TIMESTAMP),
    ARRAY("export_details", export_details),
    ARRAY("import_details", import_details),
    ARRAY("delay_import_details", delay_import_details),
    INT("resource_timestamp", V_RESOURCE_TIMESTAMP),
    STRUCT("resource_version", resource_version),
    ARRAY("resources", resources),
    INT("number_of_resources", V_NUMBER_OF_RESOURCES),
    STR("pdb_path", V_PDB_PATH),
    ARRAY("signatures", signatures),
    INT("number_of_signatures", V_NUMBER_OF_SIGNATURES),
    FUNC("rva_to_offset", rva_to_offset_f),
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))
/* Room for YARA's constants (171 in 4.2.3) and the end. */
#define NTOP (NFIELDS + 192 + 1)

static struct mod_member top[NTOP];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
build(void)
{
	size_t n = 0, i;

	for (i = 0; i < NFIELDS; i++)
		top[n++] = fields[i];
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

static void
pe_value(void *data, uint16_t id, const struct mod_arg *idx, struct mod_value *out)
{
	const struct pe_info *p = ((struct pe_mod *)data)->pe;
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
	} else {
		rest_value(p, id, idx, out);
	}
}

/* pe_match_fn over a compiled regular expression.  pattern_search tells
 * only whether there is a match, so a match counts as length 1: YARA's
 * imports(/dll/, /fn/) would not count a match that is empty at the
 * first position where the expression matches. */
static int
re_match(void *arg, const char *s, size_t len)
{
	const struct pattern *re = arg;

	return re != NULL && pattern_search(re, (const uint8_t *)s, len) == 1 ? 1 : -1;
}

/* A regular-expression argument as pe_match_fn's argument. */
#define RE(arg) ((void *)(uintptr_t)(arg).re)

static void
pe_call(void *data, struct freader *f, uint16_t id, const struct mod_arg *a, struct mod_value *out)
{
	const struct pe_info *p = ((struct pe_mod *)data)->pe;
	const struct pe_signature *g;
	char b0[PE_ARG_MAX], b1[PE_ARG_MAX], hash[33];

	out->defined = 0;
	switch (id) {
	case F_CALCULATE_CHECKSUM:
		set_query(out, pe_calculate_checksum(p, f));
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
		if (pe_imphash(p, hash) == 0) {
			memcpy(out->buf, hash, 32);
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
    .values = values,
    .nvalues = NVALUES,
    .funcs = funcs,
    .nfuncs = NFUNCS,
    .load = pe_load,
    .unload = pe_unload,
    .value = pe_value,
    .call = pe_call,
};
