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
#include "util/buf.h"
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

/*
 * The compiled form of w, as the agent's validator hands it to the worker
 * (no JSON): a u32 count and the strings of paths, then of exclusions.
 * Appends to out; returns out->err.
 */
int fim_watch_encode(const struct fim_watch *w, struct wbuf *out);

/*
 * Reads the compiled form from b into *w (cleared on entry): every count
 * bounded by FIM_MAX_PATHS, every string length-checked, NUL-free and
 * checked as fim_watch_add_path / fim_watch_add_exclude check a policy's
 * text.  0, or WARD_EFORMAT / WARD_ELIMIT / WARD_EINVAL / WARD_ENOMEM
 * with d saying why and *w empty.
 */
int fim_watch_decode(struct rbuf *b, struct fim_watch *w, struct ward_diag *d);

#endif
