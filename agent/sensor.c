/*
 * sensor: the set of the agent's sensors.  See sensor.h.
 *
 * Must hold: a sensor that is off says why (its reason, or its own usual
 * one); one sensor failing leaves the others running; the order of stop
 * is the reverse of start; no sensor is started in safe mode.  The set
 * knows sensors only by their ops.
 */
#include "agent/sensor.h"
#include "event/event.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

void
sensor_set_init(struct sensor_set *set, const struct sensor_host *host)
{
	memset(set, 0, sizeof(*set));
	set->host = host;
	pthread_mutex_init(&set->lock, NULL);
}

void
sensor_set_fini(struct sensor_set *set)
{
	pthread_mutex_destroy(&set->lock);
}

int
sensor_set_add(struct sensor_set *set, const struct sensor_ops *ops, void *ctx)
{
	if (set->n >= SENSOR_MAX)
		return -1;
	memset(&set->s[set->n], 0, sizeof(set->s[set->n]));
	set->s[set->n].ops = ops;
	set->s[set->n].ctx = ctx;
	set->n++;
	return 0;
}

static void
set_off(struct sensor_set *set, struct sensor *s, const char *why)
{
	pthread_mutex_lock(&set->lock);
	snprintf(s->off, sizeof(s->off), "%s", why);
	pthread_mutex_unlock(&set->lock);
}

/* A sensor could not start: said in the log and as an alert (and in the
 * status, from its off reason). */
static void
report_off(struct sensor_set *set, const struct sensor *s, const char *why)
{
	const struct sensor_host *h = set->host;
	json_t *ev = event_new(EVENT_KIND_ALERT, "host", "info", "sensor-off", "failure");
	char line[SENSOR_WHY_MAX + 128];

	snprintf(line, sizeof(line), "%s is OFF: %s", s->ops->what, why);
	h->log(h->arg, line);
	if (ev != NULL) {
		event_set_str(ev, "ward.sensor", s->ops->name);
		event_set_str(ev, "message", why);
	}
	h->emit(h->arg, ev);
}

unsigned
sensor_set_start(struct sensor_set *set, const struct agent_config *c, int safe)
{
	char why[SENSOR_WHY_MAX];
	unsigned i, failed = 0;

	for (i = 0; i < set->n; i++) {
		struct sensor *s = &set->s[i];

		if (safe) {
			set_off(set, s, "safe mode");
			continue;
		}
		set_off(set, s, "");
		if (s->ops->wanted != NULL && !s->ops->wanted(c))
			continue;
		why[0] = '\0';
		if (s->ops->start(s->ctx, set->host, c, why, sizeof(why)) != 0) {
			if (why[0] == '\0')
				snprintf(why, sizeof(why), "it could not start");
			set_off(set, s, why);
			report_off(set, s, why);
			failed++;
			continue;
		}
		s->started = 1;
	}
	return failed;
}

void
sensor_set_reconfigure(struct sensor_set *set, const struct agent_config *c, unsigned groups,
		       int safe)
{
	char why[SENSOR_WHY_MAX];
	unsigned i;

	/* The sensors stay off in safe mode; a worker started later with
	 * content starts them with this configuration. */
	for (i = 0; i < set->n && !safe; i++) {
		struct sensor *s = &set->s[i];
		int r;

		if (s->ops->reconfigure == NULL || (s->ops->reload & groups) == 0)
			continue;
		why[0] = '\0';
		r = s->ops->reconfigure(s->ctx, set->host, c, why, sizeof(why));
		if (r != 0 && why[0] == '\0')
			snprintf(why, sizeof(why), "it could not be reconfigured");
		set_off(set, s, r != 0 ? why : "");
		if (r != 0)
			report_off(set, s, why);
		else /* a reload may turn it on, or off (fim.realtime false) */
			s->started = s->ops->wanted == NULL || s->ops->wanted(c);
	}
}

void
sensor_set_content_changed(struct sensor_set *set)
{
	unsigned i;

	for (i = 0; i < set->n; i++)
		if (set->s[i].ops->content_changed != NULL)
			set->s[i].ops->content_changed(set->s[i].ctx);
}

void
sensor_set_stop(struct sensor_set *set)
{
	unsigned i;

	for (i = set->n; i-- > 0;) {
		struct sensor *s = &set->s[i];

		if (s->started && s->ops->stop != NULL)
			s->ops->stop(s->ctx);
		s->started = 0;
	}
}

json_t *
sensor_set_status(struct sensor_set *set)
{
	char off[SENSOR_WHY_MAX];
	json_t *o = json_object();
	unsigned i;

	for (i = 0; o != NULL && i < set->n; i++) {
		pthread_mutex_lock(&set->lock);
		memcpy(off, set->s[i].off, sizeof(off));
		pthread_mutex_unlock(&set->lock);
		json_object_set_new(o, set->s[i].ops->name,
				    set->s[i].ops->stats(set->s[i].ctx, off));
	}
	return o;
}

int
sensor_set_off(struct sensor_set *set, const char *name, char *why, size_t whylen)
{
	unsigned i;
	int r = -1;

	for (i = 0; i < set->n; i++) {
		if (strcmp(set->s[i].ops->name, name) != 0)
			continue;
		pthread_mutex_lock(&set->lock);
		snprintf(why, whylen, "%s", set->s[i].off);
		pthread_mutex_unlock(&set->lock);
		r = 0;
		break;
	}
	return r;
}
