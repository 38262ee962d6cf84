/*
 * status: the sensors' part of the agent's status.  See status.h.
 *
 * Must hold: a sensor that is off says why (never an empty reason); the
 * lists of paths are the ones the sensors use now, after any reload.
 */
#include "agent/status.h"
#include "agent/fimmon.h"
#include "agent/onaccess.h"
#include "agent/procmon.h"

#include <jansson.h>

static json_t *
onaccess_status(const char *off)
{
	struct onaccess_stats os;
	char partial[1024];
	json_t *o;

	onaccess_get_stats(&os, partial, sizeof(partial));
	if (!onaccess_running())
		return json_pack("{s:s, s:s}", "state", "off", "reason",
				 off[0] ? off : "no onaccess.paths configured");
	o = json_pack("{s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}", "state",
		      "on", "counters", "events", (json_int_t)os.events, "allowed",
		      (json_int_t)os.allowed, "denied", (json_int_t)os.denied, "cache_hits",
		      (json_int_t)os.cache_hits, "late", (json_int_t)os.late, "overflow",
		      (json_int_t)os.overflow, "written", (json_int_t)os.written, "detections",
		      (json_int_t)os.detections, "ignored", (json_int_t)os.ignored, "excepted",
		      (json_int_t)os.excepted, "poison", (json_int_t)os.poison);
	/* The configured paths it does not watch, and why. */
	if (partial[0] != '\0')
		json_object_set_new(o, "partial", json_string(partial));
	return o;
}

static json_t *
procmon_status(const char *off)
{
	struct procmon_stats ps;

	procmon_get_stats(&ps);
	if (!procmon_running())
		return json_pack("{s:s, s:s}", "state", "off", "reason", off[0] ? off : "disabled");
	return json_pack("{s:s, s:{s:I, s:I, s:I, s:I, s:I}}", "state", "on", "counters", "execs",
			 (json_int_t)ps.execs, "matches", (json_int_t)ps.matches, "killed",
			 (json_int_t)ps.killed, "partial", (json_int_t)ps.partial, "lost",
			 (json_int_t)ps.lost);
}

static json_t *
fim_status(const char *off, json_t *config, json_t *content, int content_paths)
{
	struct fimmon_stats fs;
	char partial[300];
	json_t *o;

	if (!fimmon_running()) {
		o = json_pack("{s:s, s:s}", "state", "off", "reason",
			      off[0] ? off : "fim.realtime is false");
	} else {
		fimmon_get_stats(&fs, partial, sizeof(partial));
		o = json_pack("{s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I}}", "state", "on", "counters",
			      "dirs", (json_int_t)fs.dirs, "events", (json_int_t)fs.events,
			      "reported", (json_int_t)fs.reported, "suppressed",
			      (json_int_t)fs.suppressed, "package_manager",
			      (json_int_t)fs.package_manager, "lost", (json_int_t)fs.lost);
		if (partial[0] != '\0')
			json_object_set_new(o, "partial", json_string(partial));
	}
	/* The content turns on paths the operator never wrote: which are whose. */
	json_object_set_new(o, "paths",
			    json_pack("{s:o, s:o}", "config", config, "content", content));
	json_object_set_new(o, "content_paths", json_boolean(content_paths));
	return o;
}

json_t *
status_sensors(const struct status_off *off, json_t *fim_config, json_t *fim_content,
	       int content_paths)
{
	return json_pack("{s:o, s:o, s:o}", "onaccess", onaccess_status(off->onaccess), "procmon",
			 procmon_status(off->procmon), "fim",
			 fim_status(off->fim, fim_config, fim_content, content_paths));
}
