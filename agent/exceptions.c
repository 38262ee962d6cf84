/*
 * exceptions: the agent's exceptions to verdicts.  See exceptions.h.
 *
 * Must hold:
 *   - every exception, whatever its source, went through the one parser
 *     of scan/except.c (and the fleet's also through server.exceptions);
 *   - a change is kept on disk (atomically: a new file, fsync, rename)
 *     before it is in force, and a change that cannot be kept is refused;
 *     a state file that cannot be read is never overwritten;
 *   - every change and every refusal is journaled, and so is every
 *     verdict an exception suppressed (by the caller, with the event made
 *     here); events are journaled after the lock is let go;
 *   - the generation changes with every change in force, so that no
 *     verdict cached under other exceptions is used.
 */
#include "agent/exceptions.h"
#include "agent/worker.h"
#include "crypto/digest.h"
#include "event/event.h"
#include "proto/jcheck.h"
#include "util/alloc.h"
#include "util/file.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Largest revision or id a file or a server may give: exact in JSON. */
#define NUM_MAX ((int64_t)1 << 53)
/* Alerts about the fleet's lists journaled a minute at most: a server that
 * changes its list at every check-in cannot fill the journal (the others
 * are counted in the next one, and the status says what is in force). */
#define ALERTS_PER_MINUTE 10

struct exceptions {
	pthread_mutex_t lock; /* everything below */
	int policy;	      /* server.exceptions: enum config_server_exceptions */
	struct except_list config, local, fleet;
	int64_t next_id; /* of the next local exception */
	/* Strings of the status stay under WARD_MAX_REPORT_REASON (the server
	 * refuses a report with a longer one). */
	char local_error[480];	/* exceptions.json could not be read: the list is fixed */
	int64_t fleet_revision; /* of the fleet list in force */
	int64_t fleet_refused_revision;
	char fleet_refused[480]; /* why the last fleet list was refused */
	unsigned fleet_not_taken;
	time_t alerts_since; /* the minute alerts counts in */
	unsigned alerts, alerts_quiet;
	unsigned long long gen;
	uint64_t suppressed;
	char local_path[CONFIG_MAX_PATH + 32];
	char fleet_path[CONFIG_MAX_PATH + 32];
	void (*on_change)(void *arg); /* exceptions_on_change: set before x is shared */
	void *on_change_arg;
};

static const char *const server_takes[] = {"none", "sha256", "all"};

/* --- events ---------------------------------------------------------------- */

static void
set_exception(json_t *ev, const char *source, const struct except *e)
{
	char text[WARD_MAX_EXCEPT_TEXT];

	except_format(e, text, sizeof(text));
	event_set_str(ev, "ward.exception.source", source);
	event_set_int(ev, "ward.exception.id", e->id);
	event_set_str(ev, "ward.exception.kind", except_kind_name(e->kind));
	event_set_str(ev, "ward.exception.match", text);
	if (e->reason != NULL)
		event_set_str(ev, "ward.exception.reason", e->reason);
	if (e->by != NULL)
		event_set_str(ev, "ward.exception.by", e->by);
}

/* exception-added / exception-removed, appended to evs. */
static void
change_event(json_t *evs, int added, const char *source, const struct except *e)
{
	json_t *ev = event_new(EVENT_KIND_EVENT, "configuration", added ? "creation" : "deletion",
			       added ? "exception-added" : "exception-removed", "success");

	if (ev == NULL)
		return;
	set_exception(ev, source, e);
	json_array_append_new(evs, ev);
}

/* The events of what went from old to new (same id and same match). */
static void
diff_events(json_t *evs, const char *source, const struct except_list *old,
	    const struct except_list *new)
{
	const struct except_list *a[2] = {old, new};
	unsigned k, i;
	int j;

	for (k = 0; k < 2; k++) {
		if (a[k] == NULL)
			continue;
		for (i = 0; i < a[k]->n; i++) {
			const struct except_list *other = a[k ^ 1];

			j = other != NULL ? except_list_find_id(other, a[k]->v[i].id) : -1;
			if (j < 0 || except_list_find(other, &a[k]->v[i]) != j)
				change_event(evs, k == 1, source, &a[k]->v[i]);
		}
	}
}

/* An alert about the fleet's list into evs, within ALERTS_PER_MINUTE
 * (x->lock held). */
static void
alert_locked(struct exceptions *x, json_t *evs, const char *action, const char *message,
	     const struct except *e, int64_t revision)
{
	time_t now = time(NULL);
	json_t *ev;

	if (now - x->alerts_since >= 60 || now < x->alerts_since) {
		x->alerts_since = now;
		x->alerts = 0;
	}
	if (x->alerts >= ALERTS_PER_MINUTE) {
		x->alerts_quiet++;
		return;
	}
	x->alerts++;
	ev = event_new(EVENT_KIND_ALERT, "configuration", "info", action, "failure");
	if (ev == NULL)
		return;
	if (x->alerts_quiet > 0) {
		event_set_int(ev, "ward.exception.unjournaled", x->alerts_quiet);
		x->alerts_quiet = 0;
	}
	if (e != NULL)
		set_exception(ev, "fleet", e);
	else
		event_set_str(ev, "ward.exception.source", "fleet");
	if (revision >= 0)
		event_set_int(ev, "ward.exception.revision", revision);
	event_set_str(ev, "message", message);
	json_array_append_new(evs, ev);
}

/* Journals evs (taking it) — never under x->lock. */
static void
emit_all(json_t *evs)
{
	size_t i;

	for (i = 0; i < json_array_size(evs); i++)
		worker_emit(json_incref(json_array_get(evs, i)));
	json_decref(evs);
}

/* --- the files ------------------------------------------------------------- */

/* The JSON object in path: NULL with *absent (no file) or why. */
static json_t *
read_json(const char *path, int *absent, char *why, size_t whylen)
{
	struct ward_diag d;
	json_error_t je;
	uint8_t *buf = NULL;
	struct stat st;
	size_t len = 0;
	json_t *o;

	*absent = 0;
	if (lstat(path, &st) != 0 && errno == ENOENT) {
		*absent = 1;
		return NULL;
	}
	if (file_read_all(path, WARD_MAX_EXCEPT_JSON, &buf, &len, &d) != 0) {
		snprintf(why, whylen, "%s: %.300s", path, d.msg);
		return NULL;
	}
	o = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
	ward_free(buf);
	if (o == NULL || !json_is_object(o))
		snprintf(why, whylen, "%s:%d: %s", path, o == NULL ? je.line : 1,
			 o == NULL ? je.text : "not a JSON object");
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

static int
write_json(const char *path, json_t *o, char *why, size_t whylen)
{
	struct ward_diag d;
	char *text = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	int r;

	if (text == NULL) {
		snprintf(why, whylen, "out of memory");
		return WARD_ENOMEM;
	}
	r = file_replace(path, text, strlen(text), 0600, &d);
	free(text);
	if (r != 0)
		snprintf(why, whylen, "cannot keep %s: %s", path, d.msg);
	return r;
}

/* An object with exactly the keys of keys (NULL-terminated), all there. */
static int
only_keys(const json_t *o, const char *const *keys, struct ward_diag *d)
{
	const char *key;
	json_t *v;
	size_t i;

	for (i = 0; keys[i] != NULL; i++)
		if (json_object_get(o, keys[i]) == NULL)
			return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "\"%s\" is missing", keys[i]);
	json_object_foreach((json_t *)o, key, v)
	{
		(void)v;
		for (i = 0; keys[i] != NULL && strcmp(keys[i], key) != 0; i++)
			;
		if (keys[i] == NULL) {
			char safe[64];

			jcheck_escape(key, safe, sizeof(safe));
			return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "unknown key \"%s\"", safe);
		}
	}
	return 0;
}

static int
num(const json_t *o, const char *key, int64_t lo, int64_t *out, struct ward_diag *d)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > NUM_MAX)
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
				"\"%s\" is an integer from %lld to %lld", key, (long long)lo,
				(long long)NUM_MAX);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

/* STATE_DIR/exceptions.json: {"next_id": N, "exceptions": [...]}. */
static int
local_parse(const json_t *o, struct except_list *l, int64_t *next_id, struct ward_diag *d)
{
	static const char *const keys[] = {"next_id", "exceptions", NULL};
	unsigned i;
	int r;

	if ((r = only_keys(o, keys, d)) != 0 || (r = num(o, "next_id", 1, next_id, d)) != 0 ||
	    (r = except_list_from_json(l, json_object_get(o, "exceptions"), EXCEPT_IDS, d)) != 0)
		return r;
	for (i = 0; i < l->n; i++)
		if (l->v[i].id >= *next_id) {
			except_list_free(l);
			return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
					"exception %lld is not below next_id",
					(long long)l->v[i].id);
		}
	return 0;
}

static int
local_save(struct exceptions *x, const struct except_list *l, int64_t next_id, char *why,
	   size_t whylen)
{
	json_t *o = json_pack("{s:I, s:o}", "next_id", (json_int_t)next_id, "exceptions",
			      except_list_to_json(l, EXCEPT_IDS));
	int r;

	if (o == NULL) {
		snprintf(why, whylen, "out of memory");
		return WARD_ENOMEM;
	}
	r = write_json(x->local_path, o, why, whylen);
	json_decref(o);
	return r;
}

/* The fleet's list, as a check-in answer and STATE_DIR/exceptions-fleet.json
 * hold it (except_fleet_parse). */
static int
fleet_parse(const json_t *o, int64_t *revision, struct except_list *all, struct ward_diag *d)
{
	return except_fleet_parse(o, revision, all, d);
}

/* What of all the agent takes (server.exceptions), into taken; the others
 * are counted. */
static int
fleet_take(const struct exceptions *x, const struct except_list *all, struct except_list *taken,
	   unsigned *not_taken)
{
	int policy = x->policy;
	struct except e;
	unsigned i;

	*not_taken = 0;
	for (i = 0; i < all->n; i++) {
		const struct except *a = &all->v[i];

		if (policy == CONFIG_SRVEXC_ALL ||
		    (policy == CONFIG_SRVEXC_SHA256 && a->kind == EXCEPT_SHA256)) {
			if (except_copy(&e, a) != 0 || except_list_add(taken, &e, NULL) != 0)
				return WARD_ENOMEM;
			continue;
		}
		(*not_taken)++;
	}
	return 0;
}

static void
fleet_save(struct exceptions *x, int64_t revision, const struct except_list *all)
{
	json_t *o = json_pack("{s:I, s:o}", "revision", (json_int_t)revision, "list",
			      except_list_to_json(all, EXCEPT_IDS));
	char why[700];

	if (o == NULL || write_json(x->fleet_path, o, why, sizeof(why)) != 0)
		worker_log("exceptions: the fleet's list is in force but %s",
			   o == NULL ? "out of memory" : why);
	json_decref(o);
}

/* The exceptions of wardd.yaml (checked by config_load) into l. */
static void
config_list(const struct agent_config *c, struct except_list *l)
{
	struct ward_diag d;
	struct except e;
	unsigned i;

	for (i = 0; i < c->nexceptions; i++)
		if (except_parse_text(c->exceptions[i], &e, &d) == 0) {
			e.id = (int64_t)i + 1;
			(void)except_list_add(l, &e, &d);
		}
}

/* The fleet's list kept on disk, of which what the policy takes, into
 * x->fleet; dropped (the server sends it again) when it cannot be read. */
static void
fleet_load(struct exceptions *x)
{
	struct except_list all;
	struct ward_diag d;
	char why[500] = "";
	json_t *o;
	int absent;

	memset(&all, 0, sizeof(all));
	o = read_json(x->fleet_path, &absent, why, sizeof(why));
	if (o != NULL && fleet_parse(o, &x->fleet_revision, &all, &d) != 0)
		snprintf(why, sizeof(why), "%.490s", d.msg);
	else if (o != NULL && fleet_take(x, &all, &x->fleet, &x->fleet_not_taken) != 0)
		snprintf(why, sizeof(why), "out of memory");
	if (why[0] != '\0') {
		worker_log("exceptions: %s is dropped (%s): the server sends the list again",
			   x->fleet_path, why);
		except_list_free(&x->fleet);
		x->fleet_revision = 0;
		x->fleet_not_taken = 0;
	}
	json_decref(o);
	except_list_free(&all);
}

static void
load(struct exceptions *x, const struct agent_config *c)
{
	struct ward_diag d;
	char why[500] = "";
	json_t *o;
	int absent;

	diag_clear(&d);
	config_list(c, &x->config);
	x->next_id = 1;
	o = read_json(x->local_path, &absent, why, sizeof(why));
	if (o != NULL && local_parse(o, &x->local, &x->next_id, &d) != 0)
		snprintf(why, sizeof(why), "%.200s: %.290s", x->local_path, d.msg);
	else if (o != NULL)
		why[0] = '\0';
	if (why[0] != '\0') {
		except_list_free(&x->local);
		snprintf(x->local_error, sizeof(x->local_error),
			 "%.390s; the local exceptions are off until it is mended or removed", why);
		worker_log("exceptions: %s", x->local_error);
	}
	json_decref(o);
	fleet_load(x);
}

int
exceptions_new(const struct agent_config *c, struct exceptions **out)
{
	struct exceptions *x = ward_calloc(1, sizeof(*x));

	*out = NULL;
	if (x == NULL)
		return WARD_ENOMEM;
	x->policy = c->server_exceptions;
	pthread_mutex_init(&x->lock, NULL);
	snprintf(x->local_path, sizeof(x->local_path), "%s/exceptions.json", c->state_dir);
	snprintf(x->fleet_path, sizeof(x->fleet_path), "%s/exceptions-fleet.json", c->state_dir);
	x->gen = 1;
	load(x, c);
	*out = x;
	return 0;
}

void
exceptions_free(struct exceptions *x)
{
	if (x == NULL)
		return;
	except_list_free(&x->config);
	except_list_free(&x->local);
	except_list_free(&x->fleet);
	pthread_mutex_destroy(&x->lock);
	ward_free(x);
}

/* --- verdicts -------------------------------------------------------------- */

static void
applied(struct exceptions_applied *ap, const char *source, const struct except *e)
{
	ap->source = source;
	ap->id = (long long)e->id;
	except_format(e, ap->match, sizeof(ap->match));
	snprintf(ap->reason, sizeof(ap->reason), "%s", e->reason != NULL ? e->reason : "");
}

/* The first exception of the four sources that applies (x->lock held). */
static int
find_locked(struct exceptions *x, const struct except_list *content, const char *path,
	    const char *rule, const uint8_t *sha, struct exceptions_applied *ap)
{
	const struct except_list *lists[4] = {&x->config, &x->local, content, &x->fleet};
	static const char *const names[4] = {"config", "local", "content", "fleet"};
	const struct except *e;
	unsigned i;

	for (i = 0; i < 4; i++) {
		if (lists[i] == NULL)
			continue;
		if ((e = except_match(lists[i], path, rule, sha)) != NULL) {
			applied(ap, names[i], e);
			return 1;
		}
	}
	return 0;
}

int
exceptions_hit(struct exceptions *x, const struct except_list *content, const char *path,
	       const char *rule, struct exceptions_applied *ap)
{
	int r;

	pthread_mutex_lock(&x->lock);
	r = find_locked(x, content, path, rule, NULL, ap);
	pthread_mutex_unlock(&x->lock);
	return r;
}

int
exceptions_have_sha256(struct exceptions *x, const struct except_list *content)
{
	int r;

	pthread_mutex_lock(&x->lock);
	r = except_list_has_sha256(&x->config) || except_list_has_sha256(&x->local) ||
	    (content != NULL && except_list_has_sha256(content)) ||
	    except_list_has_sha256(&x->fleet);
	pthread_mutex_unlock(&x->lock);
	return r;
}

/* The SHA-256 of the file fd, read from its start.  0 or -1. */
static int
hash_fd(int fd, uint8_t md[32])
{
	struct digest_ctx *c = NULL;
	uint8_t *buf = ward_malloc(1 << 16);
	off_t off = 0;
	ssize_t k;
	int r = -1;

	if (buf == NULL || digest_new(DIGEST_SHA256, &c) != 0)
		goto out;
	for (;;) {
		k = pread(fd, buf, 1 << 16, off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			goto out;
		if (k == 0)
			break;
		if (digest_update(c, buf, (size_t)k) != 0)
			goto out;
		off += k;
	}
	r = digest_final(c, md, 32) == 0 ? 0 : -1;
out:
	digest_free(c);
	ward_free(buf);
	return r;
}

int
exceptions_by_hash(struct exceptions *x, const struct except_list *content, int fd,
		   char sha_hex[65], struct exceptions_applied *ap)
{
	uint8_t md[32];
	int r;

	sha_hex[0] = '\0';
	if (!exceptions_have_sha256(x, content) || hash_fd(fd, md) != 0)
		return 0;
	(void)digest_to_hex(md, sizeof(md), sha_hex, 65);
	pthread_mutex_lock(&x->lock);
	r = find_locked(x, content, NULL, NULL, md, ap);
	pthread_mutex_unlock(&x->lock);
	return r;
}

unsigned long long
exceptions_generation(struct exceptions *x)
{
	unsigned long long g;

	pthread_mutex_lock(&x->lock);
	g = x->gen;
	pthread_mutex_unlock(&x->lock);
	return g;
}

json_t *
exceptions_event(struct exceptions *x, const struct exceptions_applied *ap, const char *path,
		 const char *rule, const char *would, const char *sha_hex)
{
	json_t *ev =
	    event_new(EVENT_KIND_EVENT, "malware", "allowed", "detection-excepted", "success");
	char msg[WARD_MAX_EXCEPT_TEXT + 200];

	pthread_mutex_lock(&x->lock);
	x->suppressed++;
	pthread_mutex_unlock(&x->lock);
	if (ev == NULL)
		return NULL;
	if (path != NULL && path[0] != '\0')
		event_set_str(ev, "file.path", path);
	if (sha_hex != NULL && sha_hex[0] != '\0')
		event_set_str(ev, "file.hash.sha256", sha_hex);
	event_set_str(ev, "rule.name", rule);
	event_set_str(ev, "ward.exception.source", ap->source);
	event_set_int(ev, "ward.exception.id", ap->id);
	event_set_str(ev, "ward.exception.match", ap->match);
	if (ap->reason[0] != '\0')
		event_set_str(ev, "ward.exception.reason", ap->reason);
	event_set_str(ev, "ward.exception.suppressed", would);
	snprintf(msg, sizeof(msg),
		 "a detection was not acted on (%s): exception %s:%lld (%s) applies", would,
		 ap->source, ap->id, ap->match);
	event_set_str(ev, "message", msg);
	return ev;
}

/* --- changes --------------------------------------------------------------- */

/* Something in force changed: whoever decided under the old exceptions
 * (the on-access sensor, its verdict cache and the kernel's ignore marks)
 * is told, through the worker. */
static void
changed(const struct exceptions *x)
{
	if (x->on_change != NULL)
		x->on_change(x->on_change_arg);
}

void
exceptions_on_change(struct exceptions *x, void (*fn)(void *arg), void *arg)
{
	x->on_change = fn;
	x->on_change_arg = arg;
}

static json_t *refusal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *
refusal(const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *
entry_json(const char *source, const struct except *e)
{
	json_t *o = except_to_json(e, EXCEPT_IDS);
	char text[WARD_MAX_EXCEPT_TEXT];

	if (o == NULL)
		return NULL;
	except_format(e, text, sizeof(text));
	json_object_set_new(o, "source", json_string(source));
	json_object_set_new(o, "match", json_string(text));
	return o;
}

json_t *
exceptions_add(struct exceptions *x, const json_t *spec)
{
	struct except_list next;
	struct except e;
	struct ward_diag d;
	char why[700];
	json_t *evs = json_array(), *ans;
	int k;

	memset(&next, 0, sizeof(next));
	diag_clear(&d);
	if (except_from_json(spec, 0, &e, &d) != 0) {
		json_decref(evs);
		return refusal("not an exception: %s", d.msg);
	}
	pthread_mutex_lock(&x->lock);
	if (x->local_error[0] != '\0') {
		ans = refusal("%s", x->local_error);
		goto out;
	}
	if ((k = except_list_find(&x->local, &e)) >= 0) {
		ans = refusal("already excepted: local:%lld", (long long)x->local.v[k].id);
		goto out;
	}
	e.id = x->next_id;
	e.added = (int64_t)time(NULL);
	if (except_list_copy(&next, &x->local) != 0 || except_list_add(&next, &e, &d) != 0) {
		ans = refusal("%s", d.msg[0] ? d.msg : "out of memory");
		goto out;
	}
	if (local_save(x, &next, x->next_id + 1, why, sizeof(why)) != 0) {
		ans = refusal("%s", why);
		goto out;
	}
	except_list_free(&x->local);
	x->local = next;
	memset(&next, 0, sizeof(next));
	x->next_id++;
	x->gen++;
	change_event(evs, 1, "local", &x->local.v[x->local.n - 1]);
	ans = json_pack("{s:b, s:o}", "ok", 1, "exception",
			entry_json("local", &x->local.v[x->local.n - 1]));
out:
	pthread_mutex_unlock(&x->lock);
	except_clear(&e);
	except_list_free(&next);
	if (json_array_size(evs) > 0)
		changed(x);
	emit_all(evs);
	return ans;
}

json_t *
exceptions_remove(struct exceptions *x, const char *id)
{
	struct except_list next;
	char why[700], *end;
	json_t *evs = json_array(), *ans;
	long long n;
	int k;

	memset(&next, 0, sizeof(next));
	if (id == NULL)
		id = "";
	if (strncmp(id, "config:", 7) == 0) {
		json_decref(evs);
		return refusal("exception %s is in wardd.yaml: take it out there and restart wardd",
			       id);
	}
	if (strncmp(id, "content:", 8) == 0) {
		json_decref(evs);
		return refusal("exception %s comes with the content: it goes with a new content "
			       "version",
			       id);
	}
	if (strncmp(id, "fleet:", 6) == 0) {
		json_decref(evs);
		return refusal("exception %s comes from the fleet server: ward fleet except remove "
			       "%s",
			       id, id + 6);
	}
	if (strncmp(id, "local:", 6) == 0)
		id += 6;
	n = strtoll(id, &end, 10);
	if (id[0] < '0' || id[0] > '9' || *end != '\0' || n <= 0) {
		json_decref(evs);
		return refusal("which exception? its number, as ward agent except list shows it");
	}
	pthread_mutex_lock(&x->lock);
	if (x->local_error[0] != '\0') {
		ans = refusal("%s", x->local_error);
		goto out;
	}
	if ((k = except_list_find_id(&x->local, n)) < 0) {
		ans = refusal("there is no local exception %lld (ward agent except list)", n);
		goto out;
	}
	if (except_list_copy(&next, &x->local) != 0) {
		ans = refusal("out of memory");
		goto out;
	}
	except_list_remove(&next, (unsigned)k);
	if (local_save(x, &next, x->next_id, why, sizeof(why)) != 0) {
		ans = refusal("%s", why);
		goto out;
	}
	change_event(evs, 0, "local", &x->local.v[k]);
	ans = json_pack("{s:b, s:o}", "ok", 1, "exception", entry_json("local", &x->local.v[k]));
	except_list_free(&x->local);
	x->local = next;
	memset(&next, 0, sizeof(next));
	x->gen++;
out:
	pthread_mutex_unlock(&x->lock);
	except_list_free(&next);
	if (json_array_size(evs) > 0)
		changed(x);
	emit_all(evs);
	return ans;
}

json_t *
exceptions_list(struct exceptions *x, const struct except_list *content)
{
	const struct except_list *lists[4] = {&x->config, &x->local, content, &x->fleet};
	static const char *const names[4] = {"config", "local", "content", "fleet"};
	json_t *arr = json_array(), *o;
	unsigned i, k;

	pthread_mutex_lock(&x->lock);
	for (k = 0; k < 4; k++)
		for (i = 0; lists[k] != NULL && i < lists[k]->n; i++)
			json_array_append_new(arr, entry_json(names[k], &lists[k]->v[i]));
	pthread_mutex_unlock(&x->lock);
	o = json_pack("{s:b, s:o}", "ok", 1, "exceptions", arr);
	if (o != NULL)
		json_object_set_new(o, "status", exceptions_status(x, content));
	return o;
}

void
exceptions_fleet_revisions(struct exceptions *x, int64_t *taken, int64_t *refused)
{
	pthread_mutex_lock(&x->lock);
	*taken = x->fleet_revision;
	*refused = x->fleet_refused_revision;
	pthread_mutex_unlock(&x->lock);
}

json_t *
exceptions_status(struct exceptions *x, const struct except_list *content)
{
	json_t *o;

	pthread_mutex_lock(&x->lock);
	o = json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:s, s:I}", "config", (json_int_t)x->config.n, "local",
	    (json_int_t)x->local.n, "content", (json_int_t)(content != NULL ? content->n : 0),
	    "fleet", (json_int_t)x->fleet.n, "fleet_revision", (json_int_t)x->fleet_revision,
	    "server_takes", server_takes[x->policy], "suppressed", (json_int_t)x->suppressed);
	if (o != NULL && x->fleet_not_taken > 0)
		json_object_set_new(o, "fleet_not_taken", json_integer(x->fleet_not_taken));
	if (o != NULL && x->fleet_refused_revision > 0)
		json_object_set_new(o, "fleet_refused_revision",
				    json_integer((json_int_t)x->fleet_refused_revision));
	if (o != NULL && x->fleet_refused[0] != '\0')
		json_object_set_new(o, "fleet_refused", json_string(x->fleet_refused));
	if (o != NULL && x->local_error[0] != '\0')
		json_object_set_new(o, "local_error", json_string(x->local_error));
	pthread_mutex_unlock(&x->lock);
	return o;
}

/* 1 if a and b hold the same exceptions (ids and matches) in order. */
static int
same_list(const struct except_list *a, const struct except_list *b)
{
	unsigned i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (a->v[i].id != b->v[i].id || except_list_find(b, &a->v[i]) < 0)
			return 0;
	return 1;
}

void
exceptions_fleet_list(struct exceptions *x, int64_t revision, struct except_list *list,
		      const char *refused)
{
	struct except_list all = *list, taken;
	unsigned not_taken = 0, i;
	json_t *evs = json_array();
	char msg[WARD_MAX_EXCEPT_TEXT + 200], safe[400];
	int differ = 0;

	memset(list, 0, sizeof(*list));
	memset(&taken, 0, sizeof(taken));
	pthread_mutex_lock(&x->lock);
	if (refused != NULL) {
		snprintf(safe, sizeof(safe), "%s", refused); /* printable already */
		snprintf(msg, sizeof(msg), "refused the fleet server's exceptions%s: %s",
			 revision >= 0 ? "" : " (no revision)", safe);
		/* Said when it is news: the server stops sending a revision we
		 * report refused; one that sends none is said again only when
		 * its reason changes (and at most ALERTS_PER_MINUTE). */
		if (strncmp(x->fleet_refused, msg, sizeof(x->fleet_refused) - 1) != 0 ||
		    (revision > 0 && revision != x->fleet_refused_revision)) {
			alert_locked(x, evs, "exceptions-refused", msg, NULL, revision);
			worker_log("uplink: %s", msg);
		}
		snprintf(x->fleet_refused, sizeof(x->fleet_refused), "%.470s", msg);
		if (revision > 0)
			x->fleet_refused_revision = revision;
		goto out;
	}
	if (fleet_take(x, &all, &taken, &not_taken) != 0) {
		worker_log("uplink: the fleet server's exceptions: out of memory");
		goto out;
	}
	differ = !same_list(&taken, &x->fleet);
	if (!differ && revision == x->fleet_revision && not_taken == x->fleet_not_taken &&
	    x->fleet_refused[0] == '\0')
		goto out; /* the list in force, again: nothing to say or keep */
	if (differ)
		diff_events(evs, "fleet", &x->fleet, &taken);
	for (i = 0; i < all.n; i++)
		if (except_list_find_id(&taken, all.v[i].id) < 0) {
			snprintf(msg, sizeof(msg),
				 "a %s exception from the fleet server is not taken: "
				 "server.exceptions is %s",
				 except_kind_name(all.v[i].kind), server_takes[x->policy]);
			alert_locked(x, evs, "exception-not-taken", msg, &all.v[i], revision);
		}
	fleet_save(x, revision, &all);
	except_list_free(&x->fleet);
	x->fleet = taken;
	memset(&taken, 0, sizeof(taken));
	x->fleet_revision = revision;
	x->fleet_not_taken = not_taken;
	x->fleet_refused[0] = '\0';
	x->fleet_refused_revision = 0;
	if (differ)
		x->gen++;
out:
	pthread_mutex_unlock(&x->lock);
	except_list_free(&all);
	except_list_free(&taken);
	if (differ)
		changed(x);
	emit_all(evs);
}

void
exceptions_content_changed(struct exceptions *x, const struct except_list *old,
			   const struct except_list *new, int journal)
{
	json_t *evs;

	(void)x;
	if (!journal)
		return;
	evs = json_array();
	diff_events(evs, "content", old, new);
	emit_all(evs);
}

void
exceptions_reconfigure(struct exceptions *x, const struct agent_config *next)
{
	struct except_list cfg, fleet_old;
	json_t *evs = json_array();
	int differ;

	memset(&cfg, 0, sizeof(cfg));
	config_list(next, &cfg);
	pthread_mutex_lock(&x->lock);
	differ = !same_list(&cfg, &x->config);
	if (differ) {
		diff_events(evs, "config", &x->config, &cfg);
		except_list_free(&x->config);
		x->config = cfg;
		memset(&cfg, 0, sizeof(cfg));
	}
	if (next->server_exceptions != x->policy) {
		/* Taken again from the fleet's whole list, kept on disk. */
		fleet_old = x->fleet;
		memset(&x->fleet, 0, sizeof(x->fleet));
		x->policy = next->server_exceptions;
		fleet_load(x);
		if (!same_list(&x->fleet, &fleet_old)) {
			diff_events(evs, "fleet", &fleet_old, &x->fleet);
			differ = 1;
		}
		except_list_free(&fleet_old);
	}
	if (differ)
		x->gen++;
	pthread_mutex_unlock(&x->lock);
	except_list_free(&cfg);
	if (differ)
		changed(x);
	emit_all(evs);
}
