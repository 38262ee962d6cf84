/*
 * mod_pe_tab: the schema of YARA 4.2.3's `pe` module: the signatures of
 * its values and functions, its names (as libyara/modules/pe/pe.c
 * declares them), and its constants (pe.MACHINE_I386, pe.SECTION_CNT_CODE,
 * pe.RESOURCE_TYPE_VERSION ...), names and values as pe.c sets them in
 * module_load, in its order.  The constants are defined for every file,
 * PE or not, as in YARA.
 */
#include "modules/mod_pe_int.h"

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

const struct mod_sig mod_pe_values[NVALUES] = {
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
    [V_DD_COUNT... V_IMP_COUNT] = I0,
    [V_IMP_FN_COUNT] = I1,
    [V_DIMP_COUNT] = I0,
    [V_DIMP_FN_COUNT] = I1,
    [V_EXP_COUNT... V_VI_COUNT] = I0,
    [V_VI_KEY_AT] = S1,
    [V_VIL_COUNT... V_SIG_COUNT] = I0,
};

const struct mod_sig mod_pe_funcs[NFUNCS] = {
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
#define ARRAY(n, f, len)                                                                           \
	{                                                                                          \
		.name = n, .kind = MOD_ARRAY, .elem = MOD_STRUCT, .fields = f, .len_id = len       \
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
    ARRAY("functions", imp_functions, V_IMP_FN_COUNT),
    {.name = NULL},
};
/* YARA 4.2.3 spells this one "number_of_function". */
static const struct mod_member dimp_functions[] = {
    STR("name", V_DIMP_FN_NAME), INT("ordinal", V_DIMP_FN_ORDINAL), {.name = NULL}};
static const struct mod_member delay_import_details[] = {
    STR("library_name", V_DIMP_LIBRARY_NAME),
    INT("number_of_function", V_DIMP_NUMBER_OF_FUNCTION),
    ARRAY("functions", dimp_functions, V_DIMP_FN_COUNT),
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
const struct mod_member mod_pe_fields[] = {
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
    {.name = "version_info",
     .kind = MOD_DICT,
     .elem = MOD_STR,
     .id = V_VERSION_INFO,
     .len_id = V_VI_COUNT,
     .key_id = V_VI_KEY_AT},
    ARRAY("version_info_list", version_info_list, V_VIL_COUNT),
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
    ARRAY("data_directories", data_directories, V_DD_COUNT),
    ARRAY("sections", sections, V_SEC_COUNT),
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
    ARRAY("export_details", export_details, V_EXP_COUNT),
    ARRAY("import_details", import_details, V_IMP_COUNT),
    ARRAY("delay_import_details", delay_import_details, V_DIMP_COUNT),
    INT("resource_timestamp", V_RESOURCE_TIMESTAMP),
    STRUCT("resource_version", resource_version),
    ARRAY("resources", resources, V_RES_COUNT),
    INT("number_of_resources", V_NUMBER_OF_RESOURCES),
    STR("pdb_path", V_PDB_PATH),
    ARRAY("signatures", signatures, V_SIG_COUNT),
    INT("number_of_signatures", V_NUMBER_OF_SIGNATURES),
    FUNC("rva_to_offset", rva_to_offset_f),
};

const size_t mod_pe_nfields = sizeof(mod_pe_fields) / sizeof(mod_pe_fields[0]);

const struct mod_member mod_pe_constants[] = {
    {.name = "IMPORT_DELAYED", .kind = MOD_CONST, .value = 2},
    {.name = "IMPORT_STANDARD", .kind = MOD_CONST, .value = 1},
    {.name = "IMPORT_ANY", .kind = MOD_CONST, .value = -1},
    {.name = "MACHINE_UNKNOWN", .kind = MOD_CONST, .value = 0},
    {.name = "MACHINE_AM33", .kind = MOD_CONST, .value = 467},
    {.name = "MACHINE_AMD64", .kind = MOD_CONST, .value = 34404},
    {.name = "MACHINE_ARM", .kind = MOD_CONST, .value = 448},
    {.name = "MACHINE_ARMNT", .kind = MOD_CONST, .value = 452},
    {.name = "MACHINE_ARM64", .kind = MOD_CONST, .value = 43620},
    {.name = "MACHINE_EBC", .kind = MOD_CONST, .value = 3772},
    {.name = "MACHINE_I386", .kind = MOD_CONST, .value = 332},
    {.name = "MACHINE_IA64", .kind = MOD_CONST, .value = 512},
    {.name = "MACHINE_M32R", .kind = MOD_CONST, .value = 36929},
    {.name = "MACHINE_MIPS16", .kind = MOD_CONST, .value = 614},
    {.name = "MACHINE_MIPSFPU", .kind = MOD_CONST, .value = 870},
    {.name = "MACHINE_MIPSFPU16", .kind = MOD_CONST, .value = 1126},
    {.name = "MACHINE_POWERPC", .kind = MOD_CONST, .value = 496},
    {.name = "MACHINE_POWERPCFP", .kind = MOD_CONST, .value = 497},
    {.name = "MACHINE_R4000", .kind = MOD_CONST, .value = 358},
    {.name = "MACHINE_SH3", .kind = MOD_CONST, .value = 418},
    {.name = "MACHINE_SH3DSP", .kind = MOD_CONST, .value = 419},
    {.name = "MACHINE_SH4", .kind = MOD_CONST, .value = 422},
    {.name = "MACHINE_SH5", .kind = MOD_CONST, .value = 424},
    {.name = "MACHINE_THUMB", .kind = MOD_CONST, .value = 450},
    {.name = "MACHINE_WCEMIPSV2", .kind = MOD_CONST, .value = 361},
    {.name = "MACHINE_TARGET_HOST", .kind = MOD_CONST, .value = 1},
    {.name = "MACHINE_R3000", .kind = MOD_CONST, .value = 354},
    {.name = "MACHINE_R10000", .kind = MOD_CONST, .value = 360},
    {.name = "MACHINE_ALPHA", .kind = MOD_CONST, .value = 388},
    {.name = "MACHINE_SH3E", .kind = MOD_CONST, .value = 420},
    {.name = "MACHINE_ALPHA64", .kind = MOD_CONST, .value = 644},
    {.name = "MACHINE_AXP64", .kind = MOD_CONST, .value = 644},
    {.name = "MACHINE_TRICORE", .kind = MOD_CONST, .value = 1312},
    {.name = "MACHINE_CEF", .kind = MOD_CONST, .value = 3311},
    {.name = "MACHINE_CEE", .kind = MOD_CONST, .value = 49390},
    {.name = "SUBSYSTEM_UNKNOWN", .kind = MOD_CONST, .value = 0},
    {.name = "SUBSYSTEM_NATIVE", .kind = MOD_CONST, .value = 1},
    {.name = "SUBSYSTEM_WINDOWS_GUI", .kind = MOD_CONST, .value = 2},
    {.name = "SUBSYSTEM_WINDOWS_CUI", .kind = MOD_CONST, .value = 3},
    {.name = "SUBSYSTEM_OS2_CUI", .kind = MOD_CONST, .value = 5},
    {.name = "SUBSYSTEM_POSIX_CUI", .kind = MOD_CONST, .value = 7},
    {.name = "SUBSYSTEM_NATIVE_WINDOWS", .kind = MOD_CONST, .value = 8},
    {.name = "SUBSYSTEM_WINDOWS_CE_GUI", .kind = MOD_CONST, .value = 9},
    {.name = "SUBSYSTEM_EFI_APPLICATION", .kind = MOD_CONST, .value = 10},
    {.name = "SUBSYSTEM_EFI_BOOT_SERVICE_DRIVER", .kind = MOD_CONST, .value = 11},
    {.name = "SUBSYSTEM_EFI_RUNTIME_DRIVER", .kind = MOD_CONST, .value = 12},
    {.name = "SUBSYSTEM_EFI_ROM_IMAGE", .kind = MOD_CONST, .value = 13},
    {.name = "SUBSYSTEM_XBOX", .kind = MOD_CONST, .value = 14},
    {.name = "SUBSYSTEM_WINDOWS_BOOT_APPLICATION", .kind = MOD_CONST, .value = 16},
    {.name = "HIGH_ENTROPY_VA", .kind = MOD_CONST, .value = 32},
    {.name = "DYNAMIC_BASE", .kind = MOD_CONST, .value = 64},
    {.name = "FORCE_INTEGRITY", .kind = MOD_CONST, .value = 128},
    {.name = "NX_COMPAT", .kind = MOD_CONST, .value = 256},
    {.name = "NO_ISOLATION", .kind = MOD_CONST, .value = 512},
    {.name = "NO_SEH", .kind = MOD_CONST, .value = 1024},
    {.name = "NO_BIND", .kind = MOD_CONST, .value = 2048},
    {.name = "APPCONTAINER", .kind = MOD_CONST, .value = 4096},
    {.name = "WDM_DRIVER", .kind = MOD_CONST, .value = 8192},
    {.name = "GUARD_CF", .kind = MOD_CONST, .value = 16384},
    {.name = "TERMINAL_SERVER_AWARE", .kind = MOD_CONST, .value = 32768},
    {.name = "RELOCS_STRIPPED", .kind = MOD_CONST, .value = 1},
    {.name = "EXECUTABLE_IMAGE", .kind = MOD_CONST, .value = 2},
    {.name = "LINE_NUMS_STRIPPED", .kind = MOD_CONST, .value = 4},
    {.name = "LOCAL_SYMS_STRIPPED", .kind = MOD_CONST, .value = 8},
    {.name = "AGGRESIVE_WS_TRIM", .kind = MOD_CONST, .value = 16},
    {.name = "LARGE_ADDRESS_AWARE", .kind = MOD_CONST, .value = 32},
    {.name = "BYTES_REVERSED_LO", .kind = MOD_CONST, .value = 128},
    {.name = "MACHINE_32BIT", .kind = MOD_CONST, .value = 256},
    {.name = "DEBUG_STRIPPED", .kind = MOD_CONST, .value = 512},
    {.name = "REMOVABLE_RUN_FROM_SWAP", .kind = MOD_CONST, .value = 1024},
    {.name = "NET_RUN_FROM_SWAP", .kind = MOD_CONST, .value = 2048},
    {.name = "SYSTEM", .kind = MOD_CONST, .value = 4096},
    {.name = "DLL", .kind = MOD_CONST, .value = 8192},
    {.name = "UP_SYSTEM_ONLY", .kind = MOD_CONST, .value = 16384},
    {.name = "BYTES_REVERSED_HI", .kind = MOD_CONST, .value = 32768},
    {.name = "IMAGE_DIRECTORY_ENTRY_EXPORT", .kind = MOD_CONST, .value = 0},
    {.name = "IMAGE_DIRECTORY_ENTRY_IMPORT", .kind = MOD_CONST, .value = 1},
    {.name = "IMAGE_DIRECTORY_ENTRY_RESOURCE", .kind = MOD_CONST, .value = 2},
    {.name = "IMAGE_DIRECTORY_ENTRY_EXCEPTION", .kind = MOD_CONST, .value = 3},
    {.name = "IMAGE_DIRECTORY_ENTRY_SECURITY", .kind = MOD_CONST, .value = 4},
    {.name = "IMAGE_DIRECTORY_ENTRY_BASERELOC", .kind = MOD_CONST, .value = 5},
    {.name = "IMAGE_DIRECTORY_ENTRY_DEBUG", .kind = MOD_CONST, .value = 6},
    {.name = "IMAGE_DIRECTORY_ENTRY_ARCHITECTURE", .kind = MOD_CONST, .value = 7},
    {.name = "IMAGE_DIRECTORY_ENTRY_COPYRIGHT", .kind = MOD_CONST, .value = 7},
    {.name = "IMAGE_DIRECTORY_ENTRY_GLOBALPTR", .kind = MOD_CONST, .value = 8},
    {.name = "IMAGE_DIRECTORY_ENTRY_TLS", .kind = MOD_CONST, .value = 9},
    {.name = "IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG", .kind = MOD_CONST, .value = 10},
    {.name = "IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT", .kind = MOD_CONST, .value = 11},
    {.name = "IMAGE_DIRECTORY_ENTRY_IAT", .kind = MOD_CONST, .value = 12},
    {.name = "IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT", .kind = MOD_CONST, .value = 13},
    {.name = "IMAGE_DIRECTORY_ENTRY_COM_DESCRIPTOR", .kind = MOD_CONST, .value = 14},
    {.name = "IMAGE_NT_OPTIONAL_HDR32_MAGIC", .kind = MOD_CONST, .value = 267},
    {.name = "IMAGE_NT_OPTIONAL_HDR64_MAGIC", .kind = MOD_CONST, .value = 523},
    {.name = "IMAGE_ROM_OPTIONAL_HDR_MAGIC", .kind = MOD_CONST, .value = 263},
    {.name = "SECTION_NO_PAD", .kind = MOD_CONST, .value = 8},
    {.name = "SECTION_CNT_CODE", .kind = MOD_CONST, .value = 32},
    {.name = "SECTION_CNT_INITIALIZED_DATA", .kind = MOD_CONST, .value = 64},
    {.name = "SECTION_CNT_UNINITIALIZED_DATA", .kind = MOD_CONST, .value = 128},
    {.name = "SECTION_LNK_OTHER", .kind = MOD_CONST, .value = 256},
    {.name = "SECTION_LNK_INFO", .kind = MOD_CONST, .value = 512},
    {.name = "SECTION_LNK_REMOVE", .kind = MOD_CONST, .value = 2048},
    {.name = "SECTION_LNK_COMDAT", .kind = MOD_CONST, .value = 4096},
    {.name = "SECTION_NO_DEFER_SPEC_EXC", .kind = MOD_CONST, .value = 16384},
    {.name = "SECTION_GPREL", .kind = MOD_CONST, .value = 32768},
    {.name = "SECTION_MEM_FARDATA", .kind = MOD_CONST, .value = 32768},
    {.name = "SECTION_MEM_PURGEABLE", .kind = MOD_CONST, .value = 131072},
    {.name = "SECTION_MEM_16BIT", .kind = MOD_CONST, .value = 131072},
    {.name = "SECTION_MEM_LOCKED", .kind = MOD_CONST, .value = 262144},
    {.name = "SECTION_MEM_PRELOAD", .kind = MOD_CONST, .value = 524288},
    {.name = "SECTION_ALIGN_1BYTES", .kind = MOD_CONST, .value = 1048576},
    {.name = "SECTION_ALIGN_2BYTES", .kind = MOD_CONST, .value = 2097152},
    {.name = "SECTION_ALIGN_4BYTES", .kind = MOD_CONST, .value = 3145728},
    {.name = "SECTION_ALIGN_8BYTES", .kind = MOD_CONST, .value = 4194304},
    {.name = "SECTION_ALIGN_16BYTES", .kind = MOD_CONST, .value = 5242880},
    {.name = "SECTION_ALIGN_32BYTES", .kind = MOD_CONST, .value = 6291456},
    {.name = "SECTION_ALIGN_64BYTES", .kind = MOD_CONST, .value = 7340032},
    {.name = "SECTION_ALIGN_128BYTES", .kind = MOD_CONST, .value = 8388608},
    {.name = "SECTION_ALIGN_256BYTES", .kind = MOD_CONST, .value = 9437184},
    {.name = "SECTION_ALIGN_512BYTES", .kind = MOD_CONST, .value = 10485760},
    {.name = "SECTION_ALIGN_1024BYTES", .kind = MOD_CONST, .value = 11534336},
    {.name = "SECTION_ALIGN_2048BYTES", .kind = MOD_CONST, .value = 12582912},
    {.name = "SECTION_ALIGN_4096BYTES", .kind = MOD_CONST, .value = 13631488},
    {.name = "SECTION_ALIGN_8192BYTES", .kind = MOD_CONST, .value = 14680064},
    {.name = "SECTION_ALIGN_MASK", .kind = MOD_CONST, .value = 15728640},
    {.name = "SECTION_LNK_NRELOC_OVFL", .kind = MOD_CONST, .value = 16777216},
    {.name = "SECTION_MEM_DISCARDABLE", .kind = MOD_CONST, .value = 33554432},
    {.name = "SECTION_MEM_NOT_CACHED", .kind = MOD_CONST, .value = 67108864},
    {.name = "SECTION_MEM_NOT_PAGED", .kind = MOD_CONST, .value = 134217728},
    {.name = "SECTION_MEM_SHARED", .kind = MOD_CONST, .value = 268435456},
    {.name = "SECTION_MEM_EXECUTE", .kind = MOD_CONST, .value = 536870912},
    {.name = "SECTION_MEM_READ", .kind = MOD_CONST, .value = 1073741824},
    {.name = "SECTION_MEM_WRITE", .kind = MOD_CONST, .value = 2147483648},
    {.name = "SECTION_SCALE_INDEX", .kind = MOD_CONST, .value = 1},
    {.name = "RESOURCE_TYPE_CURSOR", .kind = MOD_CONST, .value = 1},
    {.name = "RESOURCE_TYPE_BITMAP", .kind = MOD_CONST, .value = 2},
    {.name = "RESOURCE_TYPE_ICON", .kind = MOD_CONST, .value = 3},
    {.name = "RESOURCE_TYPE_MENU", .kind = MOD_CONST, .value = 4},
    {.name = "RESOURCE_TYPE_DIALOG", .kind = MOD_CONST, .value = 5},
    {.name = "RESOURCE_TYPE_STRING", .kind = MOD_CONST, .value = 6},
    {.name = "RESOURCE_TYPE_FONTDIR", .kind = MOD_CONST, .value = 7},
    {.name = "RESOURCE_TYPE_FONT", .kind = MOD_CONST, .value = 8},
    {.name = "RESOURCE_TYPE_ACCELERATOR", .kind = MOD_CONST, .value = 9},
    {.name = "RESOURCE_TYPE_RCDATA", .kind = MOD_CONST, .value = 10},
    {.name = "RESOURCE_TYPE_MESSAGETABLE", .kind = MOD_CONST, .value = 11},
    {.name = "RESOURCE_TYPE_GROUP_CURSOR", .kind = MOD_CONST, .value = 12},
    {.name = "RESOURCE_TYPE_GROUP_ICON", .kind = MOD_CONST, .value = 14},
    {.name = "RESOURCE_TYPE_VERSION", .kind = MOD_CONST, .value = 16},
    {.name = "RESOURCE_TYPE_DLGINCLUDE", .kind = MOD_CONST, .value = 17},
    {.name = "RESOURCE_TYPE_PLUGPLAY", .kind = MOD_CONST, .value = 19},
    {.name = "RESOURCE_TYPE_VXD", .kind = MOD_CONST, .value = 20},
    {.name = "RESOURCE_TYPE_ANICURSOR", .kind = MOD_CONST, .value = 21},
    {.name = "RESOURCE_TYPE_ANIICON", .kind = MOD_CONST, .value = 22},
    {.name = "RESOURCE_TYPE_HTML", .kind = MOD_CONST, .value = 23},
    {.name = "RESOURCE_TYPE_MANIFEST", .kind = MOD_CONST, .value = 24},
    {.name = "IMAGE_DEBUG_TYPE_UNKNOWN", .kind = MOD_CONST, .value = 0},
    {.name = "IMAGE_DEBUG_TYPE_COFF", .kind = MOD_CONST, .value = 1},
    {.name = "IMAGE_DEBUG_TYPE_CODEVIEW", .kind = MOD_CONST, .value = 2},
    {.name = "IMAGE_DEBUG_TYPE_FPO", .kind = MOD_CONST, .value = 3},
    {.name = "IMAGE_DEBUG_TYPE_MISC", .kind = MOD_CONST, .value = 4},
    {.name = "IMAGE_DEBUG_TYPE_EXCEPTION", .kind = MOD_CONST, .value = 5},
    {.name = "IMAGE_DEBUG_TYPE_FIXUP", .kind = MOD_CONST, .value = 6},
    {.name = "IMAGE_DEBUG_TYPE_OMAP_TO_SRC", .kind = MOD_CONST, .value = 7},
    {.name = "IMAGE_DEBUG_TYPE_OMAP_FROM_SRC", .kind = MOD_CONST, .value = 8},
    {.name = "IMAGE_DEBUG_TYPE_BORLAND", .kind = MOD_CONST, .value = 9},
    {.name = "IMAGE_DEBUG_TYPE_RESERVED10", .kind = MOD_CONST, .value = 10},
    {.name = "IMAGE_DEBUG_TYPE_CLSID", .kind = MOD_CONST, .value = 11},
    {.name = "IMAGE_DEBUG_TYPE_VC_FEATURE", .kind = MOD_CONST, .value = 12},
    {.name = "IMAGE_DEBUG_TYPE_POGO", .kind = MOD_CONST, .value = 13},
    {.name = "IMAGE_DEBUG_TYPE_ILTCG", .kind = MOD_CONST, .value = 14},
    {.name = "IMAGE_DEBUG_TYPE_MPX", .kind = MOD_CONST, .value = 15},
    {.name = "IMAGE_DEBUG_TYPE_REPRO", .kind = MOD_CONST, .value = 16},
    {.name = NULL},
};
