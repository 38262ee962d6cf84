/*
 * event: ECS-shaped JSON events.  See event.h and docs/events.md.
 */
#include "event/event.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void
timestamp(char out[32])
{
	struct timespec ts;
	struct tm tm;
	char base[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%.20s.%03dZ", base, (int)(ts.tv_nsec / 1000000) % 1000);
}

json_t *
event_new(const char *kind, const char *category, const char *type, const char *action,
	  const char *outcome)
{
	char ts[32], host[256];
	json_t *ev, *e;

	timestamp(ts);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	e = json_pack("{s:s, s:[s], s:[s], s:s}", "kind", kind, "category", category, "type", type,
		      "action", action);
	if (e != NULL && outcome != NULL)
		json_object_set_new(e, "outcome", json_string(outcome));
	ev = json_pack("{s:s, s:o, s:{s:s}, s:{s:s, s:s}}", "@timestamp", ts, "event", e, "host",
		       "hostname", host, "agent", "type", "ward", "version", WARD_VERSION);
	return ev;
}

int
event_set(json_t *ev, const char *path, json_t *value)
{
	char part[128];
	const char *p = path, *dot;
	json_t *o = ev, *next;

	if (value == NULL)
		return -1;
	while ((dot = strchr(p, '.')) != NULL) {
		size_t n = (size_t)(dot - p);

		if (n == 0 || n >= sizeof(part))
			goto fail;
		memcpy(part, p, n);
		part[n] = '\0';
		next = json_object_get(o, part);
		if (next == NULL) {
			next = json_object();
			if (next == NULL || json_object_set_new(o, part, next) != 0)
				goto fail;
		} else if (!json_is_object(next)) {
			goto fail;
		}
		o = next;
		p = dot + 1;
	}
	if (*p == '\0' || json_object_set_new(o, p, value) != 0)
		return -1;
	return 0;
fail:
	json_decref(value);
	return -1;
}

json_t *
event_str(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	json_t *j = json_string(s);
	struct wbuf w;

	if (j != NULL)
		return j;
	wbuf_init(&w);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p >= 0x80 || *p < 0x20 || *p == '\\') {
			char e[4] = {'\\', 'x', hex[*p >> 4], hex[*p & 15]};

			wbuf_put(&w, e, 4);
		} else {
			wbuf_put(&w, p, 1);
		}
	}
	j = w.err == 0 ? json_stringn(w.len > 0 ? (const char *)w.p : "", w.len) : NULL;
	wbuf_free(&w);
	return j;
}

int
event_set_str(json_t *ev, const char *path, const char *s)
{
	return s != NULL ? event_set(ev, path, event_str(s)) : 0;
}

int
event_set_int(json_t *ev, const char *path, int64_t v)
{
	return event_set(ev, path, json_integer((json_int_t)v));
}

char *
event_text(const json_t *ev)
{
	return json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
}
