/*
 * curlso: libcurl, opened at run time by the one wardd process that uses
 * it — the uplink (agent/uplink_net.c).
 *
 * Linked into wardd, libcurl and the libraries it pulls in (TLS, Kerberos,
 * LDAP, HTTP/2, IDN ...) would be mapped and relocated in every wardd
 * process — the supervisor, the worker, each scanner — some 3 MiB of
 * memory each for code only the uplink runs, and their constructors would
 * run in processes that never talk to a network.  The uplink opens it
 * (dlopen of its soname, libcurl.so.4) before it enters its sandbox and
 * calls it through this table.
 */
#ifndef WARD_AGENT_CURLSO_H
#define WARD_AGENT_CURLSO_H

#include <curl/curl.h>
#include <stddef.h>

/* The functions of libcurl wardd calls, by their names without curl_. */
struct curlso {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption option, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode code);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* The table; all NULL until curlso_open succeeded. */
extern struct curlso curlso;

/*
 * Opens libcurl and fills the table (once; later calls return at once).
 * 0, or -1 with why (the library or one of its functions is missing).
 */
int curlso_open(char *why, size_t whylen);

#endif
