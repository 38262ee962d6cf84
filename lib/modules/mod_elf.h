/*
 * mod_elf: YARA's `elf` module over lib/modules/elf: the header's fields,
 * sections[], segments[], dynamic[], symtab[] and dynsym[], and the
 * module's constants (elf.ET_EXEC, elf.SHT_SYMTAB, ...).
 */
#ifndef WARD_MODULES_MOD_ELF_H
#define WARD_MODULES_MOD_ELF_H

#include "modules/module.h"

extern const struct module mod_elf;

/* Builds the module's names from elf's tables (once; thread-safe). */
void mod_elf_init(void);

#endif
