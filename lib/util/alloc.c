/*
 * alloc: counted allocation with a failure hook for tests.  The counters are
 * thread-local so that concurrent scans do not disturb a test's sweep.
 */
#include "util/alloc.h"
#include "util/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local unsigned long alloc_count;
static _Thread_local unsigned long alloc_fail_at;

static int
alloc_should_fail(void)
{
	alloc_count++;
	return alloc_fail_at != 0 && alloc_count == alloc_fail_at;
}

unsigned long
alloc_fail_after(unsigned long nth)
{
	unsigned long n = alloc_count;

	alloc_count = 0;
	alloc_fail_at = nth;
	return n;
}

void *
ward_malloc(size_t n)
{
	if (alloc_should_fail())
		return NULL;
	return malloc(n == 0 ? 1 : n);
}

void *
ward_calloc(size_t nmemb, size_t size)
{
	if (alloc_should_fail())
		return NULL;
	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	return calloc(nmemb, size);
}

void *
ward_realloc(void *p, size_t n)
{
	if (alloc_should_fail())
		return NULL;
	return realloc(p, n == 0 ? 1 : n);
}

void
ward_free(void *p)
{
	free(p);
}

char *
ward_strndup(const char *s, size_t n)
{
	char *d = ward_malloc(n + 1);

	if (d == NULL)
		return NULL;
	if (n > 0)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *
ward_strdup(const char *s)
{
	return ward_strndup(s, strlen(s));
}

void *
ward_memdup(const void *p, size_t n)
{
	void *d = ward_malloc(n);

	if (d != NULL && n > 0)
		memcpy(d, p, n);
	return d;
}

int
ward_grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	void **ap = arr;
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap < 8 ? 8 : *cap;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elem)
			return WARD_ENOMEM;
		ncap *= 2;
	}
	np = ward_realloc(*ap, ncap * elem);
	if (np == NULL)
		return WARD_ENOMEM;
	*ap = np;
	*cap = ncap;
	return 0;
}
