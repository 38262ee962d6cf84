/*
 * sensors: on-access, FIM and process monitoring behind sensor_ops.  See
 * sensors.h.
 *
 * Must hold: a sensor that is off says why (never an empty reason: its
 * usual one when the set has none); the lists of paths are the ones the
 * sensors use now, after any reload.  The JSON of each is what
 * `ward agent status --json` and the check-in report carry.
 */
#include "agent/sensors.h"
#include "agent/config.h"
#include "agent/fimmon.h"
#include "agent/onaccess.h"
#include "agent/procmon.h"

#include <jansson.h>

/* --- on-access ------------------------------------------------------------ */

static int
onaccess_wanted(const struct agent_config *c)
{
	return c->onaccess_npaths > 0 || c->onaccess_nblock_open > 0;
}

static int
onaccess_op_start(void *ctx, const struct sensor_host *h, const struct agent_config *c, char *why,
		  size_t whylen)
{
	return onaccess_start(ctx, h, c, why, whylen);
}

static int
onaccess_op_reconfigure(void *ctx, const struct sensor_host *h, const struct agent_config *c,
			char *why, size_t whylen)
{
	return onaccess_reconfigure(ctx, h, c, why, whylen);
}

static void
onaccess_op_content_changed(void *ctx)
{
	onaccess_content_changed(ctx);
}

static json_t *
onaccess_op_stats(void *ctx, const char *off)
{
	struct onaccess_stats os;
	char partial[1024];
	json_t *o;

	onaccess_get_stats(ctx, &os, partial, sizeof(partial));
	if (!onaccess_running(ctx))
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
	if (o != NULL && partial[0] != '\0')
		json_object_set_new(o, "partial", json_string(partial));
	return o;
}

/* ctx: the sensor's struct onaccess (onaccess_new). */
const struct sensor_ops sensors_onaccess = {
    .name = "onaccess",
    .what = "on-access scanning",
    .reload = CONFIG_ONACCESS,
    .wanted = onaccess_wanted,
    .start = onaccess_op_start,
    .reconfigure = onaccess_op_reconfigure,
    .content_changed = onaccess_op_content_changed,
    .stats = onaccess_op_stats,
};

/* --- FIM ------------------------------------------------------------------- */

static int
fim_wanted(const struct agent_config *c)
{
	return c->fim_realtime;
}

static int
fim_op_start(void *ctx, const struct sensor_host *h, const struct agent_config *c, char *why,
	     size_t whylen)
{
	return fimmon_start(ctx, h, c, why, whylen);
}

static int
fim_op_reconfigure(void *ctx, const struct sensor_host *h, const struct agent_config *c, char *why,
		   size_t whylen)
{
	return fimmon_reconfigure(ctx, h, c, why, whylen);
}

static void
fim_op_content_changed(void *ctx)
{
	fimmon_content_changed(ctx);
}

/* The catch-up's state as the status says it. */
static const char *
catchup_name(enum fimmon_catchup_state s)
{
	switch (s) {
	case FIMMON_CATCHUP_RUNNING:
		return "running";
	case FIMMON_CATCHUP_DONE:
		return "done";
	case FIMMON_CATCHUP_IDLE:
		break;
	}
	return "idle";
}

static json_t *
fim_op_stats(void *ctx, const char *off)
{
	struct fimmon_stats fs;
	struct fimmon_catchup cu;
	char partial[300];
	json_t *o;

	if (!fimmon_running(ctx))
		return json_pack("{s:s, s:s}", "state", "off", "reason",
				 off[0] ? off : "fim.realtime is false");
	fimmon_get_stats(ctx, &fs, &cu, partial, sizeof(partial));
	o = json_pack("{s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I}}", "state", "on", "counters", "dirs",
		      (json_int_t)fs.dirs, "events", (json_int_t)fs.events, "reported",
		      (json_int_t)fs.reported, "suppressed", (json_int_t)fs.suppressed,
		      "package_manager", (json_int_t)fs.package_manager, "lost",
		      (json_int_t)fs.lost);
	/* What the start found changed while no worker ran. */
	if (o != NULL)
		json_object_set_new(o, "catch_up",
				    json_pack("{s:s, s:b, s:I, s:I, s:I, s:I}", "state",
					      catchup_name(cu.state), "previous", cu.previous,
					      "known", (json_int_t)cu.known, "checked",
					      (json_int_t)cu.checked, "reported",
					      (json_int_t)cu.reported, "ms", (json_int_t)cu.ms));
	if (o != NULL && partial[0] != '\0')
		json_object_set_new(o, "partial", json_string(partial));
	return o;
}

/* ctx: the sensor's struct fimmon_ctx (fimmon_new). */
const struct sensor_ops sensors_fim = {
    .name = "fim",
    .what = "real-time file integrity monitoring",
    .reload = CONFIG_FIM,
    .wanted = fim_wanted,
    .start = fim_op_start,
    .reconfigure = fim_op_reconfigure,
    .content_changed = fim_op_content_changed,
    .stats = fim_op_stats,
};

void
sensors_fim_paths(json_t *fim, json_t *config, json_t *content, int content_paths)
{
	/* The content turns on paths the operator never wrote: which are whose. */
	if (fim == NULL) {
		json_decref(config);
		json_decref(content);
		return;
	}
	json_object_set_new(fim, "paths",
			    json_pack("{s:o, s:o}", "config", config, "content", content));
	json_object_set_new(fim, "content_paths", json_boolean(content_paths));
}

/* --- process monitoring ------------------------------------------------- */

static int
procmon_op_start(void *ctx, const struct sensor_host *h, const struct agent_config *c, char *why,
		 size_t whylen)
{
	(void)c;
	return procmon_start(ctx, h, why, whylen);
}

static json_t *
procmon_op_stats(void *ctx, const char *off)
{
	struct procmon_stats ps;

	procmon_get_stats(ctx, &ps);
	if (!procmon_running(ctx))
		return json_pack("{s:s, s:s}", "state", "off", "reason", off[0] ? off : "disabled");
	return json_pack("{s:s, s:{s:I, s:I, s:I, s:I, s:I}}", "state", "on", "counters", "execs",
			 (json_int_t)ps.execs, "matches", (json_int_t)ps.matches, "killed",
			 (json_int_t)ps.killed, "partial", (json_int_t)ps.partial, "lost",
			 (json_int_t)ps.lost);
}

/* ctx: the sensor's struct procmon (procmon_new). */
const struct sensor_ops sensors_procmon = {
    .name = "procmon",
    .what = "process monitoring",
    .start = procmon_op_start,
    .stats = procmon_op_stats,
};
