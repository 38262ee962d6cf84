/*
 * mod_hash: the `hash` module.  See mod_hash.h.
 *
 * Must hold: a file's range is digested once per file and algorithm
 * however many rules compare it (rule sets list hundreds of
 * `hash.md5(0, filesize) == "..."`), as yara caches it; a range outside
 * the file is undefined.
 */
#include "modules/mod_hash.h"
#include "modules/hashfn.h"
#include "util/alloc.h"
#include "util/err.h"

#include <string.h>

/* Digests of ranges kept per file (most rules digest the whole file). */
#define HASH_CACHE 8

enum {
	F_MD5 = 1,
	F_MD5_S,
	F_SHA1,
	F_SHA1_S,
	F_SHA256,
	F_SHA256_S,
	F_CHECKSUM32,
	F_CHECKSUM32_S,
	F_CRC32,
	F_CRC32_S,
	F_SM3,
	F_SM3_S,
	NFUNCS
};

static const struct mod_sig funcs[NFUNCS] = {
    [F_MD5] = {'s', "", "ii"},	      [F_MD5_S] = {'s', "", "s"},
    [F_SHA1] = {'s', "", "ii"},	      [F_SHA1_S] = {'s', "", "s"},
    [F_SHA256] = {'s', "", "ii"},     [F_SHA256_S] = {'s', "", "s"},
    [F_CHECKSUM32] = {'i', "", "ii"}, [F_CHECKSUM32_S] = {'i', "", "s"},
    [F_CRC32] = {'i', "", "ii"},      [F_CRC32_S] = {'i', "", "s"},
    [F_SM3] = {'s', "", "ii"},	      [F_SM3_S] = {'s', "", "s"},
};

static const uint16_t md5_f[] = {F_MD5, F_MD5_S, 0};
static const uint16_t sha1_f[] = {F_SHA1, F_SHA1_S, 0};
static const uint16_t sha256_f[] = {F_SHA256, F_SHA256_S, 0};
static const uint16_t checksum32_f[] = {F_CHECKSUM32, F_CHECKSUM32_S, 0};
static const uint16_t crc32_f[] = {F_CRC32, F_CRC32_S, 0};
static const uint16_t sm3_f[] = {F_SM3, F_SM3_S, 0};

static const struct mod_member members[] = {
    {.name = "md5", .kind = MOD_FUNC, .funcs = md5_f},
    {.name = "sha1", .kind = MOD_FUNC, .funcs = sha1_f},
    {.name = "sha256", .kind = MOD_FUNC, .funcs = sha256_f},
    {.name = "checksum32", .kind = MOD_FUNC, .funcs = checksum32_f},
    {.name = "crc32", .kind = MOD_FUNC, .funcs = crc32_f},
    {.name = "sm3", .kind = MOD_FUNC, .funcs = sm3_f},
    {.name = NULL},
};

struct hash_entry {
	int used;
	enum hashfn_alg alg;
	int64_t off, len;
	char hex[HASHFN_HEX_MAX];
};

struct hash_cache {
	struct hash_entry e[HASH_CACHE];
	unsigned next; /* the entry to replace when all are used */
};

static int
hash_load(struct freader *f, void **data)
{
	(void)f;
	*data = ward_calloc(1, sizeof(struct hash_cache));
	return *data != NULL ? 0 : WARD_ENOMEM;
}

static void
hash_unload(void *data)
{
	ward_free(data);
}

/* The digest of (off, len) with alg: from the cache, or computed and
 * kept (out->s points into the cache: it lives as long as the file). */
static void
digest(struct hash_cache *c, struct freader *f, enum hashfn_alg alg, int64_t off, int64_t len,
       struct mod_value *out)
{
	struct hash_entry *e;
	unsigned i;

	for (i = 0; i < HASH_CACHE; i++) {
		e = &c->e[i];
		if (e->used && e->alg == alg && e->off == off && e->len == len)
			goto found;
	}
	e = &c->e[c->next];
	c->next = (c->next + 1) % HASH_CACHE;
	e->used = 0;
	if (hashfn_digest(f, alg, off, len, e->hex, sizeof(e->hex)) != 1)
		return; /* undefined (or out of memory): not kept */
	e->used = 1;
	e->alg = alg;
	e->off = off;
	e->len = len;
found:
	out->defined = 1;
	out->s = (const uint8_t *)e->hex;
	out->slen = (uint32_t)strlen(e->hex);
}

static void
digest_str(enum hashfn_alg alg, const struct mod_arg *a, struct mod_value *out)
{
	if (hashfn_digest_str(alg, a->s, a->slen, (char *)out->buf, MOD_STR_BUF) != 1)
		return;
	out->defined = 1;
	out->s = out->buf;
	out->slen = (uint32_t)strlen((const char *)out->buf);
}

static void
hash_call(void *data, struct freader *f, uint16_t id, const struct mod_arg *a,
	  struct mod_value *out)
{
	static const enum hashfn_alg algs[NFUNCS] = {
	    [F_MD5] = HASHFN_MD5,     [F_MD5_S] = HASHFN_MD5,	  [F_SHA1] = HASHFN_SHA1,
	    [F_SHA1_S] = HASHFN_SHA1, [F_SHA256] = HASHFN_SHA256, [F_SHA256_S] = HASHFN_SHA256,
	    [F_SM3] = HASHFN_SM3,     [F_SM3_S] = HASHFN_SM3,
	};

	out->defined = 0;
	switch (id) {
	case F_MD5:
	case F_SHA1:
	case F_SHA256:
	case F_SM3:
		digest(data, f, algs[id], a[0].i, a[1].i, out);
		break;
	case F_MD5_S:
	case F_SHA1_S:
	case F_SHA256_S:
	case F_SM3_S:
		digest_str(algs[id], &a[0], out);
		break;
	case F_CHECKSUM32:
		out->defined = hashfn_checksum32(f, a[0].i, a[1].i, &out->i) == 1;
		break;
	case F_CHECKSUM32_S:
		out->defined = 1;
		out->i = hashfn_checksum32_str(a[0].s, a[0].slen);
		break;
	case F_CRC32:
		out->defined = hashfn_crc32(f, a[0].i, a[1].i, &out->i) == 1;
		break;
	case F_CRC32_S:
		out->defined = 1;
		out->i = hashfn_crc32_str(a[0].s, a[0].slen);
		break;
	default:
		break;
	}
}

const struct module mod_hash = {
    .id = MOD_ID_HASH,
    .name = "hash",
    .members = members,
    .funcs = funcs,
    .nfuncs = NFUNCS,
    .load = hash_load,
    .unload = hash_unload,
    .call = hash_call,
};
