/*
 * mod_hash: YARA's `hash` module — md5, sha1, sha256, checksum32 and crc32
 * of a range of the file or of a string, with YARA 4.2.3's results
 * (lib/modules/hashfn), and ward's own `hash.sm3` beside them.
 */
#ifndef WARD_MODULES_MOD_HASH_H
#define WARD_MODULES_MOD_HASH_H

#include "modules/module.h"

extern const struct module mod_hash;

#endif
