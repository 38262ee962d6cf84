/*
 * hex: hexadecimal digits, the one place that reads and writes them (rule
 * texts, hash lists, regular expressions, digests and identifiers all come
 * here).
 */
#ifndef WARD_UTIL_HEX_H
#define WARD_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of hexadecimal digit c (either case), or -1. */
int hex_digit(int c);

/*
 * Writes the n bytes of d as 2n lowercase digits and a NUL into out
 * (outlen bytes).  0, or WARD_EINVAL when out is too small (out untouched).
 */
int hex_encode(const uint8_t *d, size_t n, char *out, size_t outlen);

/*
 * Reads hexlen digits (even, either case) into out (outlen bytes) and sets
 * *n to the bytes written.  0, or WARD_EINVAL for an odd length, a
 * non-digit or too small an out (*n is then 0).
 */
int hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t outlen, size_t *n);

#endif
