/*
 * elf: the ELF parser behind the rule module `elf`, with the fields and the
 * semantics of YARA 4.2's elf module (for files, not process memory).
 *
 * The scanned file is hostile: it is read only through a freader, and a
 * malformed file gives a parse whose fields are undefined where YARA's
 * would be, never an error.  The parse is done once per file and is then
 * read by the condition's glue through the getters below, by field enum;
 * the tables at the end map YARA's names to those enums and give the
 * module's constants (elf.ET_EXEC, elf.SHT_SYMTAB, ...).
 *
 * Values are YARA integers: 64-bit signed, a file's unsigned 64-bit value
 * taken modulo 2^64 as YARA does.
 */
#ifndef WARD_MODULES_ELF_H
#define WARD_MODULES_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "modules/freader.h"

/* The module's integers outside any array. */
enum elf_field {
	ELF_TYPE,
	ELF_MACHINE,
	ELF_ENTRY_POINT, /* a file offset (YARA's), undefined when not mapped */
	ELF_NUMBER_OF_SECTIONS,
	ELF_SH_OFFSET,
	ELF_SH_ENTRY_SIZE,
	ELF_NUMBER_OF_SEGMENTS,
	ELF_PH_OFFSET,
	ELF_PH_ENTRY_SIZE,
	ELF_DYNAMIC_SECTION_ENTRIES,
	ELF_SYMTAB_ENTRIES,
	ELF_DYNSYM_ENTRIES,
	ELF_NFIELDS
};

/* The module's arrays of structures. */
enum elf_array { ELF_SECTIONS, ELF_SEGMENTS, ELF_DYNAMIC, ELF_SYMTAB, ELF_DYNSYM, ELF_NARRAYS };

/* The fields of an array's items; each belongs to one kind of array
 * (ELF_SYM_* to both symbol tables). */
enum elf_item_field {
	ELF_SEC_TYPE,
	ELF_SEC_FLAGS,
	ELF_SEC_ADDRESS,
	ELF_SEC_SIZE,
	ELF_SEC_OFFSET,
	ELF_SEC_NAME, /* string */
	ELF_SEG_TYPE,
	ELF_SEG_FLAGS,
	ELF_SEG_OFFSET,
	ELF_SEG_VIRTUAL_ADDRESS,
	ELF_SEG_PHYSICAL_ADDRESS,
	ELF_SEG_FILE_SIZE,
	ELF_SEG_MEMORY_SIZE,
	ELF_SEG_ALIGNMENT,
	ELF_DYN_TYPE,
	ELF_DYN_VAL,
	ELF_SYM_NAME, /* string */
	ELF_SYM_VALUE,
	ELF_SYM_SIZE,
	ELF_SYM_TYPE,
	ELF_SYM_BIND,
	ELF_SYM_SHNDX,
	ELF_NITEM_FIELDS
};

struct elf_info;

/*
 * Parses the file behind f (borrowed, used only during the call).  Returns
 * 0 and sets *out (owned by the caller, free with elf_free) — NULL when the
 * file is not an ELF file YARA would parse (then every field is undefined);
 * WARD_ENOMEM.  A malformed ELF file is not an error: what YARA leaves
 * undefined is undefined.
 */
int elf_parse(struct freader *f, struct elf_info **out);

/* Frees e; NULL is a no-op. */
void elf_free(struct elf_info *e);

/* 1 and *v when field fld is defined in e (NULL: nothing is), else 0. */
int elf_get(const struct elf_info *e, enum elf_field fld, int64_t *v);

/* How many items of array a are held; items at larger indices are
 * undefined (items below may be too, as in YARA). */
size_t elf_items(const struct elf_info *e, enum elf_array a);

/* 1 and *v when integer field fld of item i of array a is defined, else 0
 * (also for a string field or a field of another kind of array). */
int elf_item(const struct elf_info *e, enum elf_array a, size_t i, enum elf_item_field fld,
	     int64_t *v);

/* The string field fld (ELF_SEC_NAME, ELF_SYM_NAME) of item i of array a,
 * NUL-terminated and *len bytes long, valid until elf_free(e); NULL when
 * undefined. */
const char *elf_item_str(const struct elf_info *e, enum elf_array a, size_t i,
			 enum elf_item_field fld, size_t *len);

/* 1 when a limit of limits.h cut what e holds (a table longer than
 * WARD_MAX_ELF_SYMBOLS, a name longer than WARD_MAX_ELF_NAME, ...): then
 * some items YARA would define are undefined here. */
int elf_truncated(const struct elf_info *e);

/* YARA's names, for the glue. */
struct elf_name {
	const char *name;
	int id; /* an elf_field, elf_array or elf_item_field */
};
extern const struct elf_name elf_field_names[]; /* ELF_NFIELDS of them */
extern const struct elf_name elf_array_names[]; /* ELF_NARRAYS */
extern const struct elf_name elf_item_names[];	/* ELF_NITEM_FIELDS */

/* The kind of array an item field belongs to (ELF_SYMTAB for ELF_SYM_*). */
enum elf_array elf_item_array(enum elf_item_field fld);

/* The module's constants (elf.ET_EXEC, ...), elf_nconstants of them. */
struct elf_constant {
	const char *name;
	int64_t value;
};
extern const struct elf_constant elf_constants[];
extern const size_t elf_nconstants;

#endif
