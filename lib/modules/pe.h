/*
 * pe: the parser behind YARA 4.2's `pe` module.  pe_parse reads a Windows
 * PE file through a freader once and keeps what the module exposes; the
 * glue between the rule engine and this parser reads the views below and
 * calls the queries (imports(), exports(), rich_signature.version() ...).
 *
 * YARA 4.2.3 is the oracle: every value is the one `yara -D` shows, and a
 * value YARA leaves unset (YR_UNDEFINED) is marked undefined here (a NULL
 * string, a has_ flag of 0, or a query's PE_UNDEFINED).  The file is
 * hostile: a malformed or truncated structure only leaves fields undefined
 * or lists short, never an error.  Lists are capped by the named limits of
 * util/limits.h ("Rule modules"); YARA's own caps (96 sections, 16384
 * imported functions, 8192 exports, 65537 resources, 16 signatures) are
 * kept exactly, and where YARA reads without a bound (DLL names, resource
 * walks, version-info strings, delay-load imports) ours differ from it
 * only on files built to exceed them.
 *
 * A struct pe_info is read-only after pe_parse: several threads may query
 * it at once.  pe_calculate_checksum reads the file again through a
 * freader, which belongs to one thread.
 *
 * YARA quirks kept on purpose (the glue must expose them as they are):
 * - entry_point is pe_rva_to_offset(AddressOfEntryPoint): -1 when the RVA
 *   maps nowhere in the file, and that -1 is a defined value;
 * - export_details[i].offset likewise may be -1 (defined);
 * - import_details[i].functions[j] are numbered across all DLLs: DLL i's
 *   first function has index yara_first, and its number_of_functions is
 *   yara_first + nfn (see struct pe_import_dll);
 * - YARA 4.2.3 declares delay_import_details but writes its entries under
 *   another name, so they never show: the delay-load DLLs count in
 *   number_of_delayed_imports / _imported_functions and answer
 *   pe.imports(PE_IMPORT_DELAYED, ...), and delay_import_details stays
 *   empty (pe_import_dll(p, 1, i) is there for the queries and for later).
 */
#ifndef WARD_MODULES_PE_H
#define WARD_MODULES_PE_H

#include <stddef.h>
#include <stdint.h>

#include "modules/freader.h"

/* What a query answers when YARA answers YR_UNDEFINED. */
#define PE_UNDEFINED INT64_MIN

/* The flags of pe.imports(flags, ...): pe.IMPORT_STANDARD ... */
#define PE_IMPORT_STANDARD 1
#define PE_IMPORT_DELAYED 2
#define PE_IMPORT_ANY (~0)

/* Bytes with a length, or undefined when p is NULL.  May hold NULs (a
 * resource name is UTF-16LE, the rich signature binary); p[len] is 0. */
struct pe_str {
	char *p;
	size_t len;
};

struct pe_info;

/* The fixed header fields, all defined for a PE except base_of_data. */
struct pe_header {
	int is_64bit; /* opthdr_magic is 0x20b */
	uint16_t machine;
	uint16_t number_of_sections; /* as the header says (sections may be fewer) */
	uint32_t timestamp;
	uint32_t pointer_to_symbol_table;
	uint32_t number_of_symbols;
	uint16_t size_of_optional_header;
	uint16_t characteristics;
	int64_t entry_point; /* file offset, or -1 (defined): see above */
	uint32_t entry_point_raw;
	uint64_t image_base;
	uint32_t number_of_rva_and_sizes;
	uint16_t opthdr_magic;
	uint8_t linker_version_major, linker_version_minor;
	uint32_t size_of_code, size_of_initialized_data, size_of_uninitialized_data;
	uint32_t base_of_code;
	int has_base_of_data; /* only 32-bit files have it */
	uint32_t base_of_data;
	uint32_t section_alignment, file_alignment;
	uint16_t os_version_major, os_version_minor;
	uint16_t image_version_major, image_version_minor;
	uint16_t subsystem_version_major, subsystem_version_minor;
	uint32_t win32_version_value, size_of_image, size_of_headers, checksum;
	uint16_t subsystem, dll_characteristics;
	uint64_t size_of_stack_reserve, size_of_stack_commit;
	uint64_t size_of_heap_reserve, size_of_heap_commit;
	uint32_t loader_flags;
	uint64_t overlay_offset, overlay_size; /* 0, 0 without an overlay */
};

struct pe_section {
	struct pe_str name;	 /* the 8 bytes, trailing NULs cut (may be "") */
	struct pe_str full_name; /* "/N" resolved in the COFF string table */
	uint32_t characteristics, virtual_address, virtual_size;
	uint32_t raw_data_offset, raw_data_size;
	uint32_t pointer_to_relocations, pointer_to_line_numbers;
	uint16_t number_of_relocations, number_of_line_numbers;
};

struct pe_data_directory {
	uint32_t virtual_address, size;
};

struct pe_rich {
	uint64_t offset;
	uint64_t length;
	uint32_t key;
	struct pe_str raw_data, clear_data; /* length bytes each */
};

struct pe_import_fn {
	struct pe_str name; /* an ordinal-only import gets YARA's name for it */
	int has_ordinal;
	uint16_t ordinal;
};

struct pe_import_dll {
	struct pe_str name;
	size_t nfn;
	struct pe_import_fn *fn;
	/* YARA's numbering: this DLL's functions are functions[yara_first ..
	 * yara_first + nfn - 1] and its number_of_functions is yara_first + nfn. */
	size_t yara_first;
};

struct pe_export {
	int64_t ordinal;
	struct pe_str name;	    /* undefined for an export by ordinal only */
	struct pe_str forward_name; /* defined for a forwarder ... */
	int has_offset;		    /* ... which then has no offset */
	int64_t offset;		    /* may be -1 (defined) */
};

struct pe_resource {
	uint32_t rva;
	int has_offset;
	int64_t offset;
	uint32_t length;
	/* Each level is either an integer (has_ set) or a name string. */
	int has_type, has_id, has_language;
	int64_t type, id, language;
	struct pe_str type_string, name_string, language_string; /* UTF-16LE */
};

struct pe_version_entry {
	struct pe_str key, value;
};

/* One signer certificate (signatures[i]); strings as YARA prints them. */
struct pe_signature {
	struct pe_str thumbprint;      /* SHA-1 of the DER, lower-case hex */
	struct pe_str issuer, subject; /* X509_NAME_oneline, cut to 255 bytes */
	struct pe_str algorithm;       /* OpenSSL's long name */
	struct pe_str algorithm_oid;   /* dotted */
	struct pe_str serial;	       /* "01:ab:...", undefined past 20 bytes */
	int64_t version;	       /* 1-based */
	int64_t not_before, not_after; /* seconds since the epoch, UTC */
};

/*
 * Parses the file f reads (borrowed for this call only).  0 and *out set
 * (owned by the caller, free with pe_free) for a PE file; 0 and *out NULL
 * when the file is not a PE (YARA: is_pe is 0, every other field
 * undefined); WARD_ENOMEM.  A malformed PE is not an error.
 */
int pe_parse(struct freader *f, struct pe_info **out);

/* Frees p; NULL is a no-op. */
void pe_free(struct pe_info *p);

/* The views below live as long as p. */
const struct pe_header *pe_header(const struct pe_info *p);

/* Sections whose headers are in the file (at most WARD_MAX_PE_SECTIONS). */
size_t pe_section_count(const struct pe_info *p);
const struct pe_section *pe_section(const struct pe_info *p, size_t i);

/* data_directories[i] for i < pe_data_directory_count (at most 16). */
size_t pe_data_directory_count(const struct pe_info *p);
const struct pe_data_directory *pe_data_directory(const struct pe_info *p, size_t i);

/* The rich signature, NULL when undefined. */
const struct pe_rich *pe_rich_signature(const struct pe_info *p);

/* pdb_path (undefined: p NULL). */
struct pe_str pe_pdb_path(const struct pe_info *p);

/* number_of_imports and number_of_imported_functions (YARA's counts, which
 * include descriptors and thunks that gave no entry); the DLLs listed in
 * import_details.  delayed: the same for the delay-load imports. */
int64_t pe_number_of_imports(const struct pe_info *p, int delayed);
int64_t pe_number_of_imported_functions(const struct pe_info *p, int delayed);
size_t pe_import_dll_count(const struct pe_info *p, int delayed);
const struct pe_import_dll *pe_import_dll(const struct pe_info *p, int delayed, size_t i);

/* number_of_exports, export_details[i]; dll_name and export_timestamp
 * (undefined: p NULL / *defined 0). */
size_t pe_export_count(const struct pe_info *p);
const struct pe_export *pe_export(const struct pe_info *p, size_t i);
struct pe_str pe_export_dll_name(const struct pe_info *p);
uint32_t pe_export_timestamp(const struct pe_info *p, int *defined);

/* number_of_resources, resources[i]; resource_timestamp and
 * resource_version (*defined 0 when the resource directory is absent). */
size_t pe_resource_count(const struct pe_info *p);
const struct pe_resource *pe_resource(const struct pe_info *p, size_t i);
uint32_t pe_resource_timestamp(const struct pe_info *p, int *defined);
void pe_resource_version(const struct pe_info *p, uint16_t *major, uint16_t *minor, int *defined);

/* version_info_list (in file order, number_of_version_infos of them) and
 * version_info[key] (the last value set for key; NULL p when absent). */
size_t pe_version_info_count(const struct pe_info *p);
const struct pe_version_entry *pe_version_info(const struct pe_info *p, size_t i);
struct pe_str pe_version_info_lookup(const struct pe_info *p, const char *key);
/* version_info as YARA's dictionary keeps it, for `for k, v in
 * pe.version_info`: its keys each once, where each was first set; the key
 * at position i (NULL past the end). */
size_t pe_version_dict_count(const struct pe_info *p);
const struct pe_str *pe_version_dict_key(const struct pe_info *p, size_t i);

/* number_of_signatures (PE_UNDEFINED when the file has no security
 * directory entry) and signatures[i]; signatures[i].valid_on(ts). */
int64_t pe_number_of_signatures(const struct pe_info *p);
const struct pe_signature *pe_signature(const struct pe_info *p, size_t i);
/* How many signatures[] lists (0 when number_of_signatures is undefined). */
size_t pe_signature_count(const struct pe_info *p);
int64_t pe_signature_valid_on(const struct pe_signature *s, int64_t timestamp);

/* --- Queries (YARA's module functions); PE_UNDEFINED as YARA. --- */

/* pe.rva_to_offset(rva): the file offset, or PE_UNDEFINED. */
int64_t pe_rva_to_offset(const struct pe_info *p, uint64_t rva);

/* pe.calculate_checksum(), reading the file again through f (the same
 * file p was parsed from). */
int64_t pe_calculate_checksum(const struct pe_info *p, struct freader *f);

/* pe.is_dll(), pe.is_32bit(), pe.is_64bit(). */
int64_t pe_is_dll(const struct pe_info *p);
int64_t pe_is_32bit(const struct pe_info *p);
int64_t pe_is_64bit(const struct pe_info *p);

/* pe.rich_signature.version(v[, t]) and .toolid(t[, v]): the summed times
 * of the entries that match; pass PE_UNDEFINED for an absent argument. */
int64_t pe_rich_version(const struct pe_info *p, int64_t version, int64_t toolid);

/* pe.imphash() as 32 lower-case hex digits and a NUL in out (33 bytes).
 * 0, WARD_EINVAL (p NULL: undefined), WARD_ENOMEM. */
int pe_imphash(const struct pe_info *p, char out[33]);

/* pe.imports(flags, dll, fn) (1/0), pe.imports(flags, dll, ordinal) (1/0),
 * pe.imports(flags, dll) (how many functions).  dll and fn compare without
 * case; pe.imports(dll, fn) is flags PE_IMPORT_STANDARD. */
int64_t pe_imports_fn(const struct pe_info *p, int64_t flags, const char *dll, const char *fn);
int64_t pe_imports_ordinal(const struct pe_info *p, int64_t flags, const char *dll,
			   int64_t ordinal);
int64_t pe_imports_dll(const struct pe_info *p, int64_t flags, const char *dll);

/*
 * A regular expression from the glue, answering as YARA's yr_re_match: it
 * scans s[0..len) (a C string) with a thread starting at each position and
 * gives the offset in s where the last match it found ended (so 0 for an
 * empty match at the start, and a name of one character matched by x*
 * gives 0), or -1 for none.  YARA's imports(/dll/, /fn/) counts only
 * answers above 0; exports(/re/) any answer but -1.
 */
typedef int (*pe_match_fn)(void *arg, const char *s, size_t len);

/* pe.imports(flags, /dll/, /fn/): how many functions match both. */
int64_t pe_imports_regex(const struct pe_info *p, int64_t flags, pe_match_fn dll_re, void *dll_arg,
			 pe_match_fn fn_re, void *fn_arg);

/* pe.exports(name) / (ordinal) / (/re/): 1/0; pe.exports_index(...): the
 * index, or PE_UNDEFINED. */
int64_t pe_exports_name(const struct pe_info *p, const char *name, size_t len, int index);
int64_t pe_exports_ordinal(const struct pe_info *p, int64_t ordinal, int index);
int64_t pe_exports_regex(const struct pe_info *p, pe_match_fn re, void *arg, int index);

/* pe.locale(l) and pe.language(l): 1/0, PE_UNDEFINED for p NULL. */
int64_t pe_locale(const struct pe_info *p, uint64_t locale);
int64_t pe_language(const struct pe_info *p, uint64_t language);

/* pe.section_index(name) / (offset): the index, or PE_UNDEFINED. */
int64_t pe_section_index_name(const struct pe_info *p, const char *name);
int64_t pe_section_index_offset(const struct pe_info *p, int64_t offset);

#endif
