/*
 * answer: the body of an HTTP response, collected by a client's write
 * callback (libcurl's CURLOPT_WRITEFUNCTION, whose signature it has) into
 * a NUL-terminated buffer of at most max bytes — a larger answer fails
 * the transfer instead of growing without bound.
 */
#ifndef WARD_UTIL_ANSWER_H
#define WARD_UTIL_ANSWER_H

#include <stddef.h>

struct answer {
	char *p; /* malloc'd, NUL-terminated; NULL while empty */
	size_t n;
	size_t max;
};

/* Appends size * nmemb bytes to arg (a struct answer); returns them, or 0
 * when the answer would pass max or memory runs out. */
size_t answer_write(char *p, size_t size, size_t nmemb, void *arg);

void answer_free(struct answer *a);

#endif
