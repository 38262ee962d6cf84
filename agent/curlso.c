/*
 * curlso: libcurl at run time.  See curlso.h.
 *
 * Must hold: the table is filled whole or not at all; every symbol is
 * looked up in the one library opened (RTLD_LOCAL), never in whatever
 * else the process has loaded.
 */
#include "agent/curlso.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* The soname of libcurl's ABI 4, which curl/curl.h describes. */
#define CURLSO_NAME "libcurl.so.4"

struct curlso curlso;

int
curlso_open(char *why, size_t whylen)
{
	static const char *const names[] = {
	    "curl_global_init",	 "curl_easy_init",     "curl_easy_setopt",  "curl_easy_perform",
	    "curl_easy_getinfo", "curl_easy_strerror", "curl_slist_append", "curl_slist_free_all",
	};
	void *sym[sizeof(names) / sizeof(names[0])];
	struct curlso t;
	void *h;
	size_t i;

	if (curlso.easy_init != NULL)
		return 0;
	if ((h = dlopen(CURLSO_NAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(why, whylen, "cannot open %s: %s", CURLSO_NAME, dlerror());
		return -1;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((sym[i] = dlsym(h, names[i])) == NULL) {
			snprintf(why, whylen, "%s has no %s", CURLSO_NAME, names[i]);
			dlclose(h);
			return -1;
		}
	/* Object to function pointers through memcpy: what POSIX's dlsym
	 * promises, without a cast ISO C does not define. */
	memcpy(&t.global_init, &sym[0], sizeof(t.global_init));
	memcpy(&t.easy_init, &sym[1], sizeof(t.easy_init));
	memcpy(&t.easy_setopt, &sym[2], sizeof(t.easy_setopt));
	memcpy(&t.easy_perform, &sym[3], sizeof(t.easy_perform));
	memcpy(&t.easy_getinfo, &sym[4], sizeof(t.easy_getinfo));
	memcpy(&t.easy_strerror, &sym[5], sizeof(t.easy_strerror));
	memcpy(&t.slist_append, &sym[6], sizeof(t.slist_append));
	memcpy(&t.slist_free_all, &sym[7], sizeof(t.slist_free_all));
	curlso = t;
	return 0;
}
