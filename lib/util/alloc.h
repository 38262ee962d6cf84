/*
 * alloc: libward's allocator, with a hook that tests use to fail the Nth
 * allocation (STYLE 13).  All of libward allocates through these calls.
 */
#ifndef WARD_UTIL_ALLOC_H
#define WARD_UTIL_ALLOC_H

#include <stddef.h>

/* Like malloc/calloc/realloc/free/strdup; return NULL on failure. */
void *ward_malloc(size_t n);
void *ward_calloc(size_t nmemb, size_t size);
void *ward_realloc(void *p, size_t n);
void ward_free(void *p);
char *ward_strdup(const char *s);
char *ward_strndup(const char *s, size_t n);
void *ward_memdup(const void *p, size_t n);

/*
 * Grows *arr (element size elem) so it can hold at least need elements;
 * *cap is updated.  Returns 0 or WARD_ENOMEM (the array is left intact).
 */
int ward_grow(void *arr, size_t *cap, size_t need, size_t elem);

/*
 * Test hook: make the nth allocation from now fail (1 = the next one);
 * 0 disables.  Returns how many allocations happened since the last call to
 * alloc_fail_after, so a sweep can learn how many there are to fail.
 */
unsigned long alloc_fail_after(unsigned long nth);

#endif
