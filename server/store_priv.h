/*
 * store_priv: what the files of the store (store.c, store_admin.c,
 * store_except.c, store_rollout.c) share and nobody else uses.  Not part
 * of store.h's contract.
 */
#ifndef WARD_SERVER_STORE_PRIV_H
#define WARD_SERVER_STORE_PRIV_H

#include <stdio.h>

/* Writes v in decimal: query parameters are text. */
static inline void
store_lltoa(long long v, char out[24])
{
	snprintf(out, 24, "%lld", v);
}

/* Writes the SHA-256 of the NUL-terminated s as 64 hex digits and a NUL:
 * secrets and tokens are stored only as this. */
void store_sha256_hex(const char *s, char out[65]);

#endif
