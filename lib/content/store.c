/*
 * store: the agent's content store.  See store.h.
 *
 * Must hold: state.json is replaced only after the files it names are on
 * disk; a damaged state.json is reported, never half-trusted; every list
 * kept in it is bounded.
 */
#include "content/store.h"
#include "util/utf8.h"
#include "content/bundle.h"
#include "util/alloc.h"
#include "util/file.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_MAX_SIZE (1u << 20)

void
store_path(const char *state_dir, int64_t version, const char *kind, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/content/v%lld.%s", state_dir, (long long)version, kind);
}

static void
state_file(const char *state_dir, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/content/state.json", state_dir);
}

json_t *
store_entry_json(const struct store_entry *e)
{
	char at[21], ex[21];

	if (!e->present)
		return json_null();
	bundle_format_time(e->activated_at, at);
	bundle_format_time(e->expires, ex);
	return json_pack("{s:s, s:I, s:s, s:s}", "name", e->name, "version", (json_int_t)e->version,
			 "activated_at", at, "expires", ex);
}

static int
entry_from(json_t *j, struct store_entry *e)
{
	const char *name, *at, *ex;
	json_int_t v;

	memset(e, 0, sizeof(*e));
	if (j == NULL || json_is_null(j))
		return 0;
	if (json_unpack(j, "{s:s, s:I, s:s, s:s}", "name", &name, "version", &v, "activated_at",
			&at, "expires", &ex) != 0 ||
	    strlen(name) >= sizeof(e->name) || v < 1 ||
	    bundle_parse_time(at, &e->activated_at) != 0 || bundle_parse_time(ex, &e->expires) != 0)
		return -1;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->version = v;
	e->present = 1;
	return 0;
}

int
store_open(const char *state_dir, struct store_state *st, struct ward_diag *d)
{
	char path[4096];
	uint8_t *buf = NULL;
	size_t len = 0, i;
	json_error_t je;
	json_t *root = NULL, *arr, *v;
	json_int_t hi = 0;
	int r;

	memset(st, 0, sizeof(*st));
	diag_clear(d);
	snprintf(path, sizeof(path), "%s/content", state_dir);
	if (mkdir(state_dir, 0700) != 0 && errno != EEXIST)
		return diag_set(d, WARD_EIO, state_dir, 0, 0, "cannot create: %s", strerror(errno));
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return diag_set(d, WARD_EIO, path, 0, 0, "cannot create: %s", strerror(errno));
	state_file(state_dir, path, sizeof(path));
	if (access(path, F_OK) != 0)
		return 0; /* a new, empty store */
	if ((r = file_read_all(path, STATE_MAX_SIZE, &buf, &len, d)) != 0)
		return r;
	root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
	ward_free(buf);
	if (root == NULL || json_unpack(root, "{s:I}", "highest_version", &hi) != 0 || hi < 0 ||
	    entry_from(json_object_get(root, "current"), &st->current) != 0 ||
	    entry_from(json_object_get(root, "last_known_good"), &st->lkg) != 0) {
		json_decref(root);
		memset(st, 0, sizeof(*st));
		return diag_set(d, WARD_EFORMAT, path, 0, 0, "damaged content state");
	}
	st->highest = hi;
	arr = json_object_get(root, "rejected");
	json_array_foreach(arr, i, v)
	{
		const char *reason, *at;
		json_int_t ver;
		struct store_reject *rj;
		json_t *cause;

		if (st->nrejected == STORE_MAX_REJECTED)
			break;
		if (json_unpack(v, "{s:I, s:s, s:s}", "version", &ver, "reason", &reason, "at",
				&at) != 0)
			continue;
		rj = &st->rejected[st->nrejected];
		rj->version = ver;
		snprintf(rj->reason, sizeof(rj->reason), "%s", reason);
		utf8_cut(rj->reason); /* else the state could not be saved with it */
		/* Records from before causes have none: a plain refusal (the
		 * reason's words are not read for one). */
		cause = json_object_get(v, "cause");
		rj->cause = json_is_string(cause) ? cause_from_name(json_string_value(cause),
								    json_string_length(cause))
						  : CAUSE_REFUSED;
		if (bundle_parse_time(at, &rj->at) == 0)
			st->nrejected++;
	}
	arr = json_object_get(root, "crashes");
	json_array_foreach(arr, i, v)
	{
		json_int_t ver, at;

		if (st->ncrashes == STORE_MAX_CRASHES)
			break;
		if (json_unpack(v, "{s:I, s:I}", "version", &ver, "at", &at) != 0)
			continue;
		st->crashes[st->ncrashes].version = ver;
		st->crashes[st->ncrashes].at = at;
		st->ncrashes++;
	}
	v = json_object_get(root, "safe_mode");
	if (json_is_string(v)) {
		st->safe = 1;
		snprintf(st->safe_reason, sizeof(st->safe_reason), "%s", json_string_value(v));
	}
	json_decref(root);
	return 0;
}

int
store_save(const char *state_dir, const struct store_state *st, struct ward_diag *d)
{
	json_t *root, *arr;
	char path[4096], at[21], *text;
	unsigned i;
	int r;

	root = json_object();
	json_object_set_new(root, "highest_version", json_integer(st->highest));
	json_object_set_new(root, "current", store_entry_json(&st->current));
	json_object_set_new(root, "last_known_good", store_entry_json(&st->lkg));
	arr = json_array();
	for (i = 0; i < st->nrejected; i++) {
		bundle_format_time(st->rejected[i].at, at);
		json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s}", "version",
						     (json_int_t)st->rejected[i].version, "cause",
						     cause_name(st->rejected[i].cause), "reason",
						     st->rejected[i].reason, "at", at));
	}
	json_object_set_new(root, "rejected", arr);
	arr = json_array();
	for (i = 0; i < st->ncrashes; i++)
		json_array_append_new(arr, json_pack("{s:I, s:I}", "version",
						     (json_int_t)st->crashes[i].version, "at",
						     (json_int_t)st->crashes[i].at));
	json_object_set_new(root, "crashes", arr);
	json_object_set_new(root, "safe_mode",
			    st->safe ? json_string(st->safe_reason) : json_null());
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (text == NULL)
		return diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
	state_file(state_dir, path, sizeof(path));
	r = file_replace(path, text, strlen(text), 0600, d);
	free(text);
	return r;
}

void
store_reject(struct store_state *st, int64_t version, enum refusal_cause cause, const char *reason,
	     int64_t now)
{
	struct store_reject *rj;

	if (st->nrejected == STORE_MAX_REJECTED) {
		memmove(&st->rejected[0], &st->rejected[1],
			(STORE_MAX_REJECTED - 1) * sizeof(st->rejected[0]));
		st->nrejected--;
	}
	rj = &st->rejected[st->nrejected++];
	rj->version = version;
	rj->at = now;
	rj->cause = cause;
	snprintf(rj->reason, sizeof(rj->reason), "%s", reason);
	utf8_cut(rj->reason); /* else the state could not be saved with it */
}

void
store_crash(struct store_state *st, int64_t version, int64_t now)
{
	if (st->ncrashes == STORE_MAX_CRASHES) {
		memmove(&st->crashes[0], &st->crashes[1],
			(STORE_MAX_CRASHES - 1) * sizeof(st->crashes[0]));
		st->ncrashes--;
	}
	st->crashes[st->ncrashes].version = version;
	st->crashes[st->ncrashes].at = now;
	st->ncrashes++;
}

unsigned
store_crashes_since(const struct store_state *st, int64_t version, int64_t since)
{
	unsigned i, n = 0;

	for (i = 0; i < st->ncrashes; i++)
		n += st->crashes[i].version == version && st->crashes[i].at >= since;
	return n;
}

void
store_gc(const char *state_dir, const struct store_state *st)
{
	char dir[4096], path[4096 + 300];
	struct dirent *de;
	long long v;
	char kind[16];
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/content", state_dir);
	dp = opendir(dir);
	if (dp == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		int n = 0;

		if (sscanf(de->d_name, "v%lld.%15[a-z]%n", &v, kind, &n) == 2 &&
		    de->d_name[n] == '\0' &&
		    (strcmp(kind, "wbundle") == 0 || strcmp(kind, "wrs") == 0)) {
			if ((st->current.present && st->current.version == v) ||
			    (st->lkg.present && st->lkg.version == v))
				continue;
		} else if (strstr(de->d_name, ".tmp.") == NULL) {
			continue; /* not ours */
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		(void)unlink(path);
	}
	closedir(dp);
}

int
store_install(const char *state_dir, struct store_state *st, const char *name, int64_t version,
	      int64_t expires, const uint8_t *bundle, size_t bundle_len, const uint8_t *compiled,
	      size_t compiled_len, int64_t now, store_step_fn step, struct ward_diag *d)
{
	struct store_state next = *st;
	char path[4096];
	int r;

	store_path(state_dir, version, "wbundle", path, sizeof(path));
	if ((r = file_replace(path, bundle, bundle_len, 0600, d)) != 0)
		return r;
	store_path(state_dir, version, "wrs", path, sizeof(path));
	if ((r = file_replace(path, compiled, compiled_len, 0600, d)) != 0)
		return r;
	if (step != NULL)
		step("files-written");
	if (next.current.present)
		next.lkg = next.current;
	memset(&next.current, 0, sizeof(next.current));
	next.current.present = 1;
	snprintf(next.current.name, sizeof(next.current.name), "%s", name);
	next.current.version = version;
	next.current.activated_at = now;
	next.current.expires = expires;
	if (version > next.highest)
		next.highest = version;
	next.safe = 0;
	next.safe_reason[0] = '\0';
	if ((r = store_save(state_dir, &next, d)) != 0)
		return r;
	if (step != NULL)
		step("state-written");
	*st = next;
	store_gc(state_dir, st);
	return 0;
}

int
store_rollback(const char *state_dir, struct store_state *st, enum refusal_cause cause,
	       const char *reason, int64_t now, struct ward_diag *d)
{
	struct store_state next = *st;
	int r;

	if (!st->lkg.present)
		return diag_set(d, WARD_EINVAL, NULL, 0, 0, "there is no last-known-good content");
	if (next.current.present)
		store_reject(&next, next.current.version, cause, reason, now);
	next.current = next.lkg;
	next.current.activated_at = now;
	memset(&next.lkg, 0, sizeof(next.lkg));
	if ((r = store_save(state_dir, &next, d)) != 0)
		return r;
	*st = next;
	store_gc(state_dir, st);
	return 0;
}
