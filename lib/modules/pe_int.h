/*
 * pe_int: what the files of the pe module (pe.c, pe_imports.c,
 * pe_exports.c, pe_resources.c, pe_ordinals.c) share; not for the glue.
 */
#ifndef WARD_MODULES_PE_INT_H
#define WARD_MODULES_PE_INT_H

#include "modules/pe.h"
#include "util/limits.h"

/* Sizes of the structures as YARA's pe.h packs them. */
#define PE_DOS_HEADER_SIZE 64
#define PE_FILE_HEADER_SIZE 20
#define PE_OPT32_SIZE 224
#define PE_OPT64_SIZE 240
#define PE_SECTION_HEADER_SIZE 40
#define PE_SYMBOL_SIZE 18
#define PE_DATA_DIRS 16
#define PE_DIR_EXPORT 0
#define PE_DIR_IMPORT 1
#define PE_DIR_RESOURCE 2
#define PE_DIR_DEBUG 6
#define PE_DIR_DELAY_IMPORT 13
#define PE_DIR_COM_DESCRIPTOR 14

struct pe_import_list {
	int64_t number_of_imports;
	int64_t number_of_functions;
	size_t ndll, cap;
	struct pe_import_dll *dll;
};

struct pe_info {
	struct pe_header h;
	uint64_t file_size;
	uint64_t nt_off;    /* the "PE\0\0" signature */
	uint64_t opt_off;   /* the optional header */
	int sections_short; /* a section header (within the cap) is not in the file */

	size_t nsec;
	struct pe_section sec[WARD_MAX_PE_SECTIONS];
	size_t ndir;
	struct pe_data_directory dir[PE_DATA_DIRS];

	int has_rich;
	struct pe_rich rich;
	struct pe_str pdb_path;

	struct pe_import_list imp, delay;

	size_t nexp;
	struct pe_export *exp;
	struct pe_str exp_dll_name;
	int has_exp_timestamp;
	uint32_t exp_timestamp;

	size_t nres, rescap;
	struct pe_resource *res;
	int has_res_dir;
	uint32_t res_timestamp;
	uint16_t res_major, res_minor;

	int has_signatures;
	size_t nsig, sigcap;
	struct pe_signature *sig;

	size_t nver, vercap;
	struct pe_version_entry *ver;
	/* version_info as YARA's dictionary: the entries of ver where each
	 * key was first set, in file order. */
	size_t *vdict, nvdict;
	uint64_t ver_steps; /* version-info records walked, all resources */
};

/* YARA's pe_rva_to_offset: the file offset of rva, or -1. */
int64_t pe_rva_offset(const struct pe_info *p, uint64_t rva);

/* The file offset of data directory entry i if YARA would read it (its
 * pe_get_directory_entry): 0 and *va, *size set, or -1. */
int pe_dir_entry(struct pe_info *p, struct freader *f, int i, uint32_t *va, uint32_t *size);

/* The NUL-terminated string at off, at most max bytes of it (YARA's
 * strndup(s, min(space, max))): 0 and *s set (owned), or WARD_ENOMEM.
 * An offset outside the file gives "". */
int pe_read_cstr(struct freader *f, uint64_t off, size_t max, struct pe_str *s);

/* A copy of n bytes as a pe_str (terminated); 0 or WARD_ENOMEM. */
int pe_str_set(struct pe_str *s, const void *bytes, size_t n);
void pe_str_free(struct pe_str *s);

/* YARA's pe_valid_dll_name over the bytes at off, looking at most
 * WARD_MAX_PE_NAME of them: 1 and *len when the name is valid. */
int pe_valid_dll_name(struct freader *f, uint64_t off, size_t *len);

/* YARA's name for an import by ordinal from dll: ws2_32/wsock32 and
 * oleaut32 names, otherwise "ordN". */
void pe_ordinal_name(const char *dll, uint16_t ord, char *out, size_t outlen);

int pe_parse_imports(struct pe_info *p, struct freader *f);
int pe_parse_delayed_imports(struct pe_info *p, struct freader *f);
void pe_import_list_free(struct pe_import_list *l);
int pe_parse_exports(struct pe_info *p, struct freader *f);
int pe_parse_resources(struct pe_info *p, struct freader *f);
void pe_resources_free(struct pe_info *p);
int pe_parse_signatures(struct pe_info *p, struct freader *f);
void pe_signatures_free(struct pe_info *p);

#endif
