/*
 * fimwho: who made a change, and per-path event budgets.  See fimwho.h.
 */
#include "agent/fimwho.h"

#include <stdio.h>
#include <string.h>

/* Process names (comm, at most 15 characters) of package managers. */
static const char *const package_managers[] = {
    "dpkg",	"rpm",	  "apt", "apt-get", "aptitude",	       "yum",
    "dnf",	"zypper", "apk", "pacman",  "unattended-upgr", "packagekitd",
    "microdnf", "tdnf",	  NULL,
};

int
fimwho_is_package_manager(const char *comm)
{
	size_t i;

	for (i = 0; package_managers[i] != NULL; i++)
		if (strcmp(comm, package_managers[i]) == 0)
			return 1;
	return 0;
}

void
fimwho_ancestry(pid_t pid, fimwho_lookup_fn lookup, void *arg, char *name, size_t namelen,
		char *pkg, size_t pkglen)
{
	pid_t p = pid, pp;
	char comm[32];
	unsigned depth;

	name[0] = '\0';
	pkg[0] = '\0';
	for (depth = 0; depth < FIMWHO_ANCESTRY_MAX && p > 1; depth++) {
		if (lookup(arg, p, &pp, comm, sizeof(comm)) != 0)
			break;
		if (depth == 0)
			snprintf(name, namelen, "%s", comm);
		if (fimwho_is_package_manager(comm)) {
			snprintf(pkg, pkglen, "%s", comm);
			return;
		}
		if (pp == p) /* a loop in what the lookup says: stop */
			break;
		p = pp;
	}
}

/* FNV-1a: spreads paths over the slots. */
static uint64_t
hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	while (n-- > 0)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

int
fimwho_rate_ok(struct fimwho_rate *t, const char *path, int64_t now, unsigned limit,
	       int64_t window_s, unsigned *suppressed)
{
	uint64_t h = hash_bytes(path, strlen(path));
	struct fimwho_rate_slot *r = &t->slot[h % FIMWHO_RATE_SLOTS];

	*suppressed = 0;
	if (limit == 0)
		return 1;
	/* A window per path from its first event (not aligned on the clock,
	 * where a burst across a minute's boundary would get twice the limit). */
	if (r->h != h || now - r->window >= window_s) {
		if (r->h == h)
			*suppressed = r->suppressed;
		r->h = h;
		r->window = now;
		r->count = 0;
		r->suppressed = 0;
	}
	if (r->count >= limit) {
		r->suppressed++;
		return 0;
	}
	r->count++;
	return 1;
}
