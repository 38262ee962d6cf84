/*
 * Helpers shared by the lib/pattern unit tests (header-only, static).
 */
#ifndef WARD_TEST_PATTERN_HELPERS_H
#define WARD_TEST_PATTERN_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pattern/pattern.h"
#include "util/err.h"

static struct pattern *
th_compile(enum pattern_kind k, const char *src, unsigned flags)
{
	struct pattern *p = NULL;
	struct ward_diag d;
	int r;

	memset(&d, 0, sizeof(d));
	r = pattern_compile(k, (const uint8_t *)src, strlen(src), flags, &p, &d);
	if (r != 0)
		fprintf(stderr, "compile %s failed: %d col %d %s\n", src, r, d.col, d.msg);
	assert_int_equal(r, 0);
	assert_non_null(p);
	return p;
}

/* Expects an error: returns the code; *col gets the column. */
static int
th_error(enum pattern_kind k, const char *src, unsigned flags, int *col, char *msg, size_t msglen)
{
	struct pattern *p = (struct pattern *)1;
	struct ward_diag d;
	int r;

	memset(&d, 0, sizeof(d));
	r = pattern_compile(k, (const uint8_t *)src, strlen(src), flags, &p, &d);
	assert_true(r < 0);
	assert_null(p);
	if (col != NULL)
		*col = d.col;
	if (msg != NULL)
		snprintf(msg, msglen, "%s", d.msg);
	assert_true(d.msg[0] != 0);
	return r;
}

/*
 * Formats the matches of p over data like `yara -s` offsets: "off:len,..."
 * (the first variant that matches at an offset wins).
 */
static void
th_matches(const struct pattern *p, const void *data, size_t n, char *out, size_t outlen)
{
	size_t i, v, o = 0;
	uint32_t l;

	out[0] = 0;
	for (i = 0; i < n; i++) {
		for (v = 0; v < pattern_nvariants(p); v++) {
			l = pattern_match_at(p, NULL, v, data, n, i, 0, 1);
			if (l > 0) {
				o += (size_t)snprintf(out + o, outlen - o, "%s%zu:%u", o ? "," : "",
						      i, l);
				break;
			}
		}
		if (o >= outlen)
			break;
	}
}

static void
th_check(enum pattern_kind k, const char *src, unsigned flags, const void *data, size_t n,
	 const char *want)
{
	struct pattern *p = th_compile(k, src, flags);
	char got[4096];

	th_matches(p, data, n, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fprintf(stderr, "pattern %s: got \"%s\" want \"%s\"\n", src, got, want);
	assert_string_equal(got, want);
	pattern_free(p);
}

#define TH_STR(s) (s), (sizeof(s) - 1)

#endif
