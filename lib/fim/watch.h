/*
 * watch: what real-time file integrity monitoring watches — absolute
 * paths (trees or single files) and exclusion globs — from the agent's
 * configuration and from content bundles (member type "fim", a JSON
 * object):
 *
 *   {"paths": ["/etc", "/usr/bin", "/root/.ssh/authorized_keys"],
 *    "exclude": ["*.swp", "/etc/mtab"]}
 *
 * Both keys are optional; no other key is accepted.  Paths are absolute,
 * without "." or ".." components, at most FIM_MAX_PATHS of each in all.
 */
#ifndef WARD_FIM_WATCH_H
#define WARD_FIM_WATCH_H

#include <stddef.h>

#include "fim/fim.h"
#include "util/err.h"

struct fim_watch {
	char *paths[FIM_MAX_PATHS];
	unsigned npaths;
	char *excludes[FIM_MAX_PATHS];
	unsigned nexcludes;
};

/* Adds a path or a glob (copied; duplicates are kept once).  0, or
 * WARD_ELIMIT / WARD_EINVAL / WARD_ENOMEM with d filled in. */
int fim_watch_add_path(struct fim_watch *w, const char *path, struct ward_diag *d);
int fim_watch_add_exclude(struct fim_watch *w, const char *glob, struct ward_diag *d);

/* Adds the policy in text[0..len), a "fim" member named name. */
int fim_watch_add_json(struct fim_watch *w, const char *name, const char *text, size_t len,
		       struct ward_diag *d);

/* 1 if path is under one of w's paths (or is one) and not excluded. */
int fim_watch_covers(const struct fim_watch *w, const char *path);

/* 1 if path matches an exclusion glob (fnmatch, '*' also matches '/'). */
int fim_watch_excluded(const struct fim_watch *w, const char *path);

void fim_watch_free(struct fim_watch *w);

#endif
