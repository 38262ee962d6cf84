/*
 * hex: hexadecimal digits.  See hex.h.
 */

#include "util/hex.h"
#include "util/err.h"

#include <stdint.h>

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_encode(const uint8_t *d, size_t n, char *out, size_t outlen)
{
	static const char digits[] = "0123456789abcdef";
	int r = 0;
	size_t i;

	if (n > (SIZE_MAX - 1) / 2 || outlen < 2 * n + 1) {
		r = WARD_EINVAL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 0xf];
	}
	out[2 * n] = '\0';
out:
	return r;
}

int
hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t outlen, size_t *n)
{
	int r = 0;
	size_t i;

	*n = 0;
	if (hexlen % 2 != 0 || hexlen / 2 > outlen) {
		r = WARD_EINVAL;
		goto out;
	}
	for (i = 0; i < hexlen; i += 2) {
		int hi = hex_digit((unsigned char)hex[i]);
		int lo = hex_digit((unsigned char)hex[i + 1]);

		if (hi < 0 || lo < 0) {
			r = WARD_EINVAL;
			goto out;
		}
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*n = hexlen / 2;
out:
	return r;
}
