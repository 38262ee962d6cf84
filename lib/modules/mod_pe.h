/*
 * mod_pe: YARA 4.2.3's `pe` module over lib/modules/pe: the headers,
 * sections[], data_directories[], imports, exports, resources, version
 * info, the rich signature, Authenticode signatures, the module's
 * functions (imports(), exports(), imphash() ...) and its constants.
 */
#ifndef WARD_MODULES_MOD_PE_H
#define WARD_MODULES_MOD_PE_H

#include "modules/module.h"

extern const struct module mod_pe;

/* The module's constants, NULL-name-terminated (mod_pe_tab.c). */
extern const struct mod_member mod_pe_constants[];

/* Builds the module's top-level names (once; thread-safe). */
void mod_pe_init(void);

#endif
