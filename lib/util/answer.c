/*
 * answer: a bounded response body.  See answer.h.
 */
#include "util/answer.h"

#include <stdlib.h>
#include <string.h>

size_t
answer_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct answer *a = arg;
	size_t n = size * nmemb;
	char *q;

	if (nmemb != 0 && n / nmemb != size)
		return 0;
	if (n > a->max || a->n > a->max - n || (q = realloc(a->p, a->n + n + 1)) == NULL)
		return 0;
	a->p = q;
	memcpy(a->p + a->n, p, n);
	a->n += n;
	a->p[a->n] = '\0';
	return n;
}

void
answer_free(struct answer *a)
{
	free(a->p);
	a->p = NULL;
	a->n = 0;
}
