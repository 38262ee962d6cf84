/*
 * config: wardd's YAML configuration.  See config.h and docs/agent.md.
 *
 * Must hold: every key is in the table below (with its type and range);
 * the file is a mapping of scalars, lists of scalars, and mappings of
 * those up to two levels deep (`crash_guard.max_crashes`,
 * `outputs.ndjson.path`); anything else is an error naming the line.
 */
#include "agent/config.h"
#include "event/journal.h"
#include "util/size.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

enum ctype { CT_PATH, CT_UINT, CT_SIZE, CT_LIST, CT_GLOBS, CT_NAME, CT_BOOL, CT_CHOICE };

/* CT_CHOICE: the index of the word is stored (an int). */
static const char *const fsync_words[] = {"always", "interval", "never", NULL};
static const char *const on_write_words[] = {"alert", "quarantine", NULL};
static const char *const pkg_words[] = {"alert", "info", "ignore", NULL};

struct ckey {
	const char *name;
	enum ctype type;
	size_t off;
	uint64_t min, max;
	size_t count_off; /* CT_LIST: where the number of entries goes */
	const char *const *words; /* CT_CHOICE */
};

#define OFF(f) offsetof(struct agent_config, f)

static const struct ckey keys[] = {
    {"state_dir", CT_PATH, OFF(state_dir), 0, 0, 0, NULL},
    {"run_dir", CT_PATH, OFF(run_dir), 0, 0, 0, NULL},
    {"trusted_keys", CT_LIST, OFF(trusted_keys), 0, 0, OFF(ntrusted), NULL},
    {"signature_threshold", CT_UINT, OFF(signature_threshold), 1, CONFIG_MAX_KEYS, 0, NULL},
    {"initial_content", CT_PATH, OFF(initial_content), 0, 0, 0, NULL},
    {"crash_guard.max_crashes", CT_UINT, OFF(crash_max), 1, 100, 0, NULL},
    {"crash_guard.window_s", CT_UINT, OFF(crash_window_s), 1, 86400 * 7, 0, NULL},
    {"restart_backoff_max_s", CT_UINT, OFF(restart_backoff_max_s), 1, 3600, 0, NULL},
    {"validator.user", CT_NAME, OFF(validator_user), 0, 0, 0, NULL},
    {"validator.cpu_s", CT_UINT, OFF(validator_cpu_s), 1, 3600, 0, NULL},
    {"validator.memory_mb", CT_UINT, OFF(validator_memory_mb), 64, 1 << 20, 0, NULL},
    {"validator.timeout_s", CT_UINT, OFF(validator_timeout_s), 1, 7200, 0, NULL},
    {"scan.max_filesize", CT_SIZE, OFF(max_filesize), 0, UINT64_MAX, 0, NULL},
    {"journal.max_mb", CT_UINT, OFF(journal_max_mb), 1, 1 << 20, 0, NULL},
    {"fim.paths", CT_LIST, OFF(fim_paths), 0, 0, OFF(fim_npaths), NULL},
    {"fim.exclude", CT_GLOBS, OFF(fim_excludes), 0, 0, OFF(fim_nexcludes), NULL},
    {"fim.hash", CT_NAME, OFF(fim_hash), 0, 0, 0, NULL},
    {"fim.realtime", CT_BOOL, OFF(fim_realtime), 0, 0, 0, NULL},
    {"fim.package_manager", CT_CHOICE, OFF(fim_package_manager), 0, 0, 0, pkg_words},
    {"fim.rate_limit", CT_UINT, OFF(fim_rate_limit), 0, 1000000, 0, NULL},
    {"fim.max_dirs", CT_UINT, OFF(fim_max_dirs), 1, 1u << 22, 0, NULL},
    {"outputs.ndjson.path", CT_PATH, OFF(ndjson_path), 0, 0, 0, NULL},
    {"outputs.ndjson.max_mb", CT_UINT, OFF(ndjson_max_mb), 1, 1 << 20, 0, NULL},
    {"outputs.syslog", CT_BOOL, OFF(syslog), 0, 0, 0, NULL},
    {"outputs.syslog_socket", CT_PATH, OFF(syslog_socket), 0, 0, 0, NULL},
    {"onaccess.paths", CT_LIST, OFF(onaccess_paths), 0, 0, OFF(onaccess_npaths), NULL},
    {"onaccess.block_open", CT_LIST, OFF(onaccess_block_open), 0, 0, OFF(onaccess_nblock_open),
     NULL},
    {"onaccess.deadline_ms", CT_UINT, OFF(onaccess_deadline_ms), 1, 60000, 0, NULL},
    {"onaccess.fail_closed", CT_BOOL, OFF(onaccess_fail_closed), 0, 0, 0, NULL},
    {"onaccess.cache_entries", CT_UINT, OFF(onaccess_cache_entries), 1024, 1u << 24, 0, NULL},
    {"onaccess.threads", CT_UINT, OFF(onaccess_threads), 1, 64, 0, NULL},
    {"onaccess.on_write", CT_CHOICE, OFF(onaccess_quarantine), 0, 0, 0, on_write_words},
    {"journal.fsync", CT_CHOICE, OFF(journal_fsync), 0, 0, 0, fsync_words},
};

void
config_defaults(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/ward");
	snprintf(c->run_dir, sizeof(c->run_dir), "/run/ward");
	c->signature_threshold = 1;
	c->crash_max = 3;
	c->crash_window_s = 600;
	c->restart_backoff_max_s = 60;
	snprintf(c->validator_user, sizeof(c->validator_user), "nobody");
	c->validator_cpu_s = 120;
	c->validator_memory_mb = 4096;
	c->validator_timeout_s = 300;
	c->max_filesize = 0;
	c->journal_max_mb = 256;
	c->ndjson_max_mb = 100;
	snprintf(c->fim_hash, sizeof(c->fim_hash), "sha256");
	c->fim_realtime = 1;
	c->fim_package_manager = CONFIG_PKG_INFO;
	c->fim_rate_limit = 10;
	c->fim_max_dirs = 100000;
	snprintf(c->syslog_socket, sizeof(c->syslog_socket), "/dev/log");
	c->onaccess_deadline_ms = 250;
	c->onaccess_cache_entries = 65536;
	c->onaccess_threads = 2;
	c->journal_fsync = JOURNAL_FSYNC_INTERVAL;
}


struct cparse {
	yaml_parser_t p;
	const char *path;
	struct agent_config *c;
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

static const struct ckey *
find_key(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Stores scalar value v (at event ev) into key k. */
static int
set_scalar(struct cparse *cp, const struct ckey *k, const char *v, const yaml_event_t *ev)
{
	char *base = (char *)cp->c + k->off;
	uint64_t n;

	switch (k->type) {
	case CT_PATH:
		if (v[0] != '/' || strlen(v) >= CONFIG_MAX_PATH)
			return perr(cp, ev, "%s must be an absolute path", k->name);
		snprintf(base, CONFIG_MAX_PATH, "%s", v);
		return 0;
	case CT_NAME:
		if (v[0] == '\0' || strlen(v) >= 64)
			return perr(cp, ev, "%s must be a user name", k->name);
		snprintf(base, 64, "%s", v);
		return 0;
	case CT_UINT:
	case CT_SIZE:
		if (size_parse(v, &n) != 0 || (k->type == CT_UINT && strspn(v, "0123456789") !=
									  strlen(v)))
			return perr(cp, ev, "%s must be a number", k->name);
		if (n < k->min || n > k->max)
			return perr(cp, ev, "%s is out of range", k->name);
		if (k->type == CT_UINT)
			*(unsigned *)(void *)base = (unsigned)n;
		else
			*(uint64_t *)(void *)base = n;
		return 0;
	case CT_CHOICE: {
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
	case CT_BOOL:
		if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0)
			*(int *)(void *)base = 1;
		else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0)
			*(int *)(void *)base = 0;
		else
			return perr(cp, ev, "%s must be true or false", k->name);
		return 0;
	case CT_LIST:
	case CT_GLOBS:
		break;
	}
	return perr(cp, ev, "%s must be a list", k->name);
}

static int
set_list(struct cparse *cp, const struct ckey *k)
{
	char (*list)[CONFIG_MAX_PATH] = (void *)((char *)cp->c + k->off);
	unsigned *n = (unsigned *)(void *)((char *)cp->c + k->count_off);
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
		if (*n == CONFIG_MAX_KEYS) {
			r = perr(cp, &ev, "%s: too many entries", k->name);
		} else if ((k->type == CT_LIST && ((const char *)ev.data.scalar.value)[0] != '/') ||
			   ev.data.scalar.length >= CONFIG_MAX_PATH) {
			r = perr(cp, &ev, "%s must be a list of absolute paths", k->name);
		} else {
			snprintf(list[(*n)++], CONFIG_MAX_PATH, "%s",
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
	const struct ckey *k;
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
		k = find_key(name);
		if (vev.type == YAML_MAPPING_START_EVENT && depth < 2 && k == NULL) {
			char sub[130];

			snprintf(sub, sizeof(sub), "%s.", name);
			r = mapping(cp, sub, depth + 1);
		} else if (k == NULL) {
			r = perr(cp, &kev, "unknown key \"%s\"", name);
		} else if (vev.type == YAML_SEQUENCE_START_EVENT &&
			   (k->type == CT_LIST || k->type == CT_GLOBS)) {
			r = set_list(cp, k);
		} else if (vev.type == YAML_SCALAR_EVENT && k->type != CT_LIST && k->type != CT_GLOBS) {
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
config_load(const char *path, struct agent_config *c, struct ward_diag *d)
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
	cp.c = c;
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
	if (r == 0 && strcmp(c->fim_hash, "sha256") != 0 && strcmp(c->fim_hash, "sm3") != 0)
		r = diag_set(d, WARD_EINVAL, path, 0, 0, "fim.hash must be sha256 or sm3");
	if (r == 0 && strlen(c->syslog_socket) >= 100)
		r = diag_set(d, WARD_EINVAL, path, 0, 0, "outputs.syslog_socket: path too long for a socket");
	if (r == 0 && c->ntrusted == 0)
		r = diag_set(d, WARD_EINVAL, path, 0, 0,
			     "trusted_keys is required: the public keys whose signatures "
			     "content must carry");
	if (r == 0 && c->signature_threshold > c->ntrusted)
		r = diag_set(d, WARD_EINVAL, path, 0, 0,
			     "signature_threshold (%u) is larger than the number of trusted keys (%u)",
			     c->signature_threshold, c->ntrusted);
	return r;
}
