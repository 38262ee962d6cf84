/*
 * conf: table-driven YAML configuration files.  See conf.h.
 *
 * Must hold: every key is in the caller's table (with its type, size and
 * range); the file is a mapping of scalars, lists of scalars, and
 * mappings of those up to two levels deep (`crash_guard.max_crashes`,
 * `outputs.ndjson.path`); anything else is an error naming the line.
 */
#include "util/conf.h"
#include "util/size.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct cparse {
	yaml_parser_t p;
	const char *path;
	const struct conf_key *keys;
	size_t nkeys;
	char *base;
	struct ward_diag *d;
};

static int perr(struct cparse *cp, const yaml_event_t *ev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
perr(struct cparse *cp, const yaml_event_t *ev, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return diag_set(cp->d, WARD_EINVAL, cp->path, ev != NULL ? (int)ev->start_mark.line + 1 : 0,
			ev != NULL ? (int)ev->start_mark.column + 1 : 0, "%s", msg);
}

static int
next(struct cparse *cp, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&cp->p, ev))
		return diag_set(cp->d, WARD_ESYNTAX, cp->path, (int)cp->p.problem_mark.line + 1,
				(int)cp->p.problem_mark.column + 1, "%s",
				cp->p.problem != NULL ? cp->p.problem : "YAML syntax error");
	return 0;
}

static const struct conf_key *
find_key(const struct cparse *cp, const char *name)
{
	size_t i;

	for (i = 0; i < cp->nkeys; i++)
		if (strcmp(cp->keys[i].name, name) == 0)
			return &cp->keys[i];
	return NULL;
}

/* Stores scalar value v (at event ev) into key k. */
static int
set_scalar(struct cparse *cp, const struct conf_key *k, const char *v, const yaml_event_t *ev)
{
	char *base = cp->base + k->off;
	uint64_t n;

	switch (k->type) {
	case CONF_PATH:
		if (v[0] != '/' || strlen(v) >= k->size)
			return perr(cp, ev, "%s must be an absolute path", k->name);
		snprintf(base, k->size, "%s", v);
		return 0;
	case CONF_NAME:
		if (v[0] == '\0' || strlen(v) >= k->size)
			return perr(cp, ev, "%s must be a name of at most %zu characters", k->name,
				    k->size - 1);
		snprintf(base, k->size, "%s", v);
		return 0;
	case CONF_UINT:
	case CONF_SIZE:
		if (size_parse(v, &n) != 0 || (k->type == CONF_UINT && strspn(v, "0123456789") !=
									  strlen(v)))
			return perr(cp, ev, "%s must be a number from %llu to %llu%s", k->name,
				    (unsigned long long)k->min, (unsigned long long)k->max,
				    k->type == CONF_SIZE ? " (bytes, or with K, M or G)" : "");
		/* The range is the setting's contract (docs): past it a value
		 * would overflow where it is used (a time, a byte count). */
		if (n < k->min || n > k->max)
			return perr(cp, ev, "%s is out of range: it must be from %llu to %llu",
				    k->name, (unsigned long long)k->min,
				    (unsigned long long)k->max);
		if (k->type == CONF_UINT)
			*(unsigned *)(void *)base = (unsigned)n;
		else
			*(uint64_t *)(void *)base = n;
		return 0;
	case CONF_CHOICE: {
		char all[200] = "";
		int i;

		for (i = 0; k->words[i] != NULL; i++) {
			if (strcmp(v, k->words[i]) == 0) {
				*(int *)(void *)base = i;
				return 0;
			}
			snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s",
				 i == 0 ? "" : k->words[i + 1] == NULL ? " or " : ", ", k->words[i]);
		}
		return perr(cp, ev, "%s must be %s", k->name, all);
	}
	case CONF_BOOL:
		if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0)
			*(int *)(void *)base = 1;
		else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0)
			*(int *)(void *)base = 0;
		else
			return perr(cp, ev, "%s must be true or false", k->name);
		return 0;
	case CONF_LIST:
	case CONF_GLOBS:
		break;
	}
	return perr(cp, ev, "%s must be a list", k->name);
}

static int
set_list(struct cparse *cp, const struct conf_key *k)
{
	char *list = cp->base + k->off;
	unsigned *n = (unsigned *)(void *)(cp->base + k->count_off);
	yaml_event_t ev;
	int r;

	*n = 0;
	for (;;) {
		if ((r = next(cp, &ev)) != 0)
			return r;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			r = perr(cp, &ev, "%s must be a list of paths", k->name);
			yaml_event_delete(&ev);
			return r;
		}
		if (*n == k->max) {
			r = perr(cp, &ev, "%s: too many entries", k->name);
		} else if (k->type == CONF_LIST && ((const char *)ev.data.scalar.value)[0] != '/') {
			r = perr(cp, &ev, "%s must be a list of absolute paths", k->name);
		} else if (ev.data.scalar.length >= k->size) {
			r = perr(cp, &ev, "%s: an entry longer than %zu characters", k->name,
				 k->size - 1);
		} else {
			snprintf(list + (size_t)(*n)++ * k->size, k->size, "%s",
				 (const char *)ev.data.scalar.value);
			r = 0;
		}
		yaml_event_delete(&ev);
		if (r != 0)
			return r;
	}
}

/* Reads a mapping's pairs until its end; prefix is "" or "section.". */
static int
mapping(struct cparse *cp, const char *prefix, int depth)
{
	yaml_event_t kev, vev;
	char name[128];
	const struct conf_key *k;
	int r;

	for (;;) {
		if ((r = next(cp, &kev)) != 0)
			return r;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			return 0;
		}
		if (kev.type != YAML_SCALAR_EVENT) {
			r = perr(cp, &kev, "expected a key");
			yaml_event_delete(&kev);
			return r;
		}
		snprintf(name, sizeof(name), "%s%s", prefix, (const char *)kev.data.scalar.value);
		if ((r = next(cp, &vev)) != 0) {
			yaml_event_delete(&kev);
			return r;
		}
		k = find_key(cp, name);
		if (vev.type == YAML_MAPPING_START_EVENT && depth < 2 && k == NULL) {
			char sub[130];

			snprintf(sub, sizeof(sub), "%s.", name);
			r = mapping(cp, sub, depth + 1);
		} else if (k == NULL) {
			r = perr(cp, &kev, "unknown key \"%s\"", name);
		} else if (vev.type == YAML_SEQUENCE_START_EVENT &&
			   (k->type == CONF_LIST || k->type == CONF_GLOBS)) {
			r = set_list(cp, k);
		} else if (vev.type == YAML_SCALAR_EVENT && k->type != CONF_LIST && k->type != CONF_GLOBS) {
			r = set_scalar(cp, k, (const char *)vev.data.scalar.value, &vev);
		} else {
			r = perr(cp, &vev, "%s has the wrong kind of value", name);
		}
		yaml_event_delete(&kev);
		yaml_event_delete(&vev);
		if (r != 0)
			return r;
	}
}

int
conf_load(const char *path, const struct conf_key *keys, size_t nkeys, void *base,
	  struct ward_diag *d)
{
	struct cparse cp;
	yaml_event_t ev;
	FILE *f;
	int r, started = 0;

	diag_clear(d);
	f = fopen(path, "rb");
	if (f == NULL)
		return diag_set(d, WARD_EIO, path, 0, 0, "%s", strerror(errno));
	memset(&cp, 0, sizeof(cp));
	cp.path = path;
	cp.keys = keys;
	cp.nkeys = nkeys;
	cp.base = base;
	cp.d = d;
	if (!yaml_parser_initialize(&cp.p)) {
		fclose(f);
		return diag_set(d, WARD_ENOMEM, path, 0, 0, "out of memory");
	}
	yaml_parser_set_input_file(&cp.p, f);
	for (;;) {
		if ((r = next(&cp, &ev)) != 0)
			break;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_MAPPING_START_EVENT && !started) {
			started = 1;
			yaml_event_delete(&ev);
			if ((r = mapping(&cp, "", 0)) != 0)
				break;
			continue;
		}
		if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SCALAR_EVENT ||
		    ev.type == YAML_SEQUENCE_START_EVENT) {
			r = perr(&cp, &ev, "the file must be one mapping of keys");
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&cp.p);
	fclose(f);
	return r;
}
