/*
 * sensor_event: the sensors' events from typed values.  See
 * sensor_event.h.
 *
 * Must hold: a field the sensor does not know is left out, never written
 * empty; an enum out of range builds no event (never an index past a
 * table); the words of an event are chosen here from the typed values,
 * so that no caller passes a message it made up.
 */
#include "agent/sensor_event.h"
#include "agent/config.h"
#include "event/event.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void
set_opt(json_t *ev, const char *field, const char *s)
{
	if (s != NULL && s[0] != '\0')
		event_set_str(ev, field, s);
}

/* --- on-access ----------------------------------------------------------- */

json_t *
sensor_event_onaccess(const struct sensor_oa_detection *d)
{
	static const char *const actions[SENSOR_OA_N] = {
	    "file-written-detected", "file-execution-denied", "file-execution-allowed-late",
	    "file-open-denied", "file-open-allowed-late"};
	static const char *const messages[SENSOR_OA_N] = {
	    "a detected file was written", "execution of a detected file was denied",
	    "a detected file was executed: its verdict came after the response deadline",
	    "opening a detected file was denied",
	    "a detected file was opened: its verdict came after the response deadline"};
	int denied;
	json_t *ev = NULL;

	if ((unsigned)d->what >= SENSOR_OA_N)
		goto out;
	denied = d->what == SENSOR_OA_EXEC_DENIED || d->what == SENSOR_OA_OPEN_DENIED;
	/* Only an execution let through late failed; an open let through
	 * late has no outcome (a read is not a run). */
	ev = event_new(EVENT_KIND_ALERT, "malware", denied ? "denied" : "info", actions[d->what],
		       denied				? "success"
		       : d->what == SENSOR_OA_EXEC_LATE ? "failure"
							: NULL);
	if (ev == NULL)
		goto out;
	event_set_str(ev, "file.path", d->path != NULL ? d->path : "");
	event_set_int(ev, "file.size", d->size);
	event_set_int(ev, "file.inode", d->inode);
	event_set_int(ev, "process.pid", d->pid);
	set_opt(ev, "process.executable", d->exe);
	event_set_str(ev, "rule.name", d->rule != NULL ? d->rule : "");
	event_set_int(ev, "ward.content.version", d->version);
	event_set_str(ev, "message", messages[d->what]);
out:
	return ev;
}

/* --- FIM ----------------------------------------------------------------- */

static const char *const fim_actions[SENSOR_FIM_N] = {
    "file-created", "file-modified", "file-attributes-changed", "file-renamed", "file-deleted"};

const char *
sensor_fim_action_name(enum sensor_fim_action a)
{
	return (unsigned)a < SENSOR_FIM_N ? fim_actions[a] : NULL;
}

int
sensor_fim_looks(enum sensor_fim_action a)
{
	return a != SENSOR_FIM_DELETED;
}

int
sensor_fim_hashes(enum sensor_fim_action a)
{
	return a == SENSOR_FIM_CREATED || a == SENSOR_FIM_MODIFIED;
}

const char *
sensor_fim_kind(int by_pkg, int pkg_policy)
{
	if (!by_pkg || pkg_policy == CONFIG_PKG_ALERT)
		return EVENT_KIND_ALERT;
	if (pkg_policy == CONFIG_PKG_INFO)
		return EVENT_KIND_EVENT;
	return NULL; /* CONFIG_PKG_IGNORE, and a policy unknown: not reported */
}

static const char *
file_type(mode_t m)
{
	return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "symlink" : "other";
}

/* The metadata st (and hash, if any) of a file in an event. */
static void
set_meta(json_t *ev, const struct sensor_fim_change *c)
{
	const struct stat *st = c->st;
	char s[64];
	struct tm tm;

	event_set_str(ev, "file.type", file_type(st->st_mode));
	snprintf(s, sizeof(s), "%04o", (unsigned)(st->st_mode & 07777));
	event_set_str(ev, "file.mode", s);
	snprintf(s, sizeof(s), "%u", (unsigned)st->st_uid);
	event_set_str(ev, "file.uid", s);
	snprintf(s, sizeof(s), "%u", (unsigned)st->st_gid);
	event_set_str(ev, "file.gid", s);
	set_opt(ev, "file.owner", c->owner);
	event_set_int(ev, "file.inode", (int64_t)st->st_ino);
	if (!S_ISDIR(st->st_mode))
		event_set_int(ev, "file.size", (int64_t)st->st_size);
	if (gmtime_r(&st->st_mtim.tv_sec, &tm) != NULL &&
	    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
		event_set_str(ev, "file.mtime", s);
	if (c->hash_field != NULL)
		set_opt(ev, c->hash_field, c->hash);
}

json_t *
sensor_event_fim(const struct sensor_fim_change *c)
{
	const char *action = sensor_fim_action_name(c->action);
	const char *type;
	json_t *ev = NULL;

	if (action == NULL || c->kind == NULL)
		goto out;
	type = c->action == SENSOR_FIM_CREATED	 ? "creation"
	       : c->action == SENSOR_FIM_DELETED ? "deletion"
						 : "change";
	if ((ev = event_new(c->kind, "file", type, action, NULL)) == NULL)
		goto out;
	event_set_str(ev, "file.path", c->path != NULL ? c->path : "");
	if (c->st != NULL)
		set_meta(ev, c);
	if (c->previous != NULL)
		event_set_str(ev, "ward.fim.previous_path", c->previous);
	if (c->who != NULL && c->who->pid > 0) {
		event_set_int(ev, "process.pid", c->who->pid);
		set_opt(ev, "process.executable", c->who->exe);
		set_opt(ev, "process.name", c->who->name);
		if (c->who->partial)
			event_set(ev, "ward.process.partial", json_true());
	}
	if (c->who != NULL)
		set_opt(ev, "ward.fim.package_manager", c->who->pkg);
	if (c->suppressed > 0)
		event_set_int(ev, "ward.fim.suppressed", c->suppressed);
out:
	return ev;
}

/* --- process monitoring ---------------------------------------------------- */

static void
set_process(json_t *ev, const struct sensor_proc *p)
{
	event_set_int(ev, "process.pid", p->pid);
	set_opt(ev, "process.executable", p->exe);
	set_opt(ev, "process.command_line", p->cmdline);
	set_opt(ev, "process.working_directory", p->cwd);
	set_opt(ev, "user.name", p->user);
	if (p->uid >= 0)
		event_set_int(ev, "user.id", p->uid);
	if (p->ppid > 0)
		event_set_int(ev, "process.parent.pid", p->ppid);
	set_opt(ev, "process.parent.executable", p->pexe);
	set_opt(ev, "process.parent.command_line", p->pcmdline);
	if (p->partial)
		event_set(ev, "ward.process.partial", json_true());
}

json_t *
sensor_event_proc_match(const struct sensor_proc *p, const char *title, const char *id,
			const char *level, int kill, long long version)
{
	json_t *ev = event_new(EVENT_KIND_ALERT, "process", "start", "process-rule-matched", NULL);

	if (ev == NULL)
		goto out;
	set_process(ev, p);
	event_set_str(ev, "rule.name", title != NULL ? title : "");
	set_opt(ev, "rule.id", id);
	set_opt(ev, "ward.rule.level", level);
	event_set_str(ev, "ward.rule.action", kill ? "kill" : "alert");
	event_set_int(ev, "ward.content.version", version);
out:
	return ev;
}

json_t *
sensor_event_proc_killed(const struct sensor_proc *p, const char *title, int ok, const char *err)
{
	json_t *ev = event_new(EVENT_KIND_EVENT, "process", "end", "process-killed",
			       ok ? "success" : "failure");

	if (ev == NULL)
		goto out;
	set_process(ev, p);
	event_set_str(ev, "rule.name", title != NULL ? title : "");
	if (!ok)
		set_opt(ev, "message", err);
out:
	return ev;
}
