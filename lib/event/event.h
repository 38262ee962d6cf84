/*
 * event: the agent's events, JSON objects with Elastic Common Schema field
 * names (docs/events.md): `@timestamp`, `event.*`, `host.*`, `agent.*`,
 * `file.*`, `process.*`, `rule.*`, and `ward.*` for what ECS has no field
 * for.  Fields are nested objects, as ECS documents are.
 */
#ifndef WARD_EVENT_EVENT_H
#define WARD_EVENT_EVENT_H

#include <jansson.h>
#include <stdint.h>

/* ECS event.kind values used by ward. */
#define EVENT_KIND_EVENT "event"
#define EVENT_KIND_ALERT "alert"

/*
 * A new event: @timestamp (now, UTC, milliseconds), event.kind, one
 * event.category and one event.type (ECS allowed values), event.action
 * (ward's name for what happened, e.g. "content-activated"),
 * event.outcome ("success", "failure" or NULL for none), host.hostname,
 * agent.type and agent.version.  NULL when out of memory.
 */
json_t *event_new(const char *kind, const char *category, const char *type, const char *action,
		  const char *outcome);

/*
 * Sets the field at a dotted path ("file.hash.sha256"), creating the
 * objects on the way; takes the reference to value.  0 or -1.
 */
int event_set(json_t *ev, const char *path, json_t *value);

/*
 * A string value for s, which may be any bytes (a file's name is): s
 * itself when it is UTF-8, else s with each byte at or above 0x80, each
 * control character and the backslash written as \xHH — so that a name
 * that is not UTF-8 is shown, never dropped (JSON carries only UTF-8).
 * NULL only when out of memory.
 */
json_t *event_str(const char *s);

/* event_set of event_str(s); s NULL sets nothing. */
int event_set_str(json_t *ev, const char *path, const char *s);
int event_set_int(json_t *ev, const char *path, int64_t v);

/* Compact JSON text of ev (free with free()); NULL when out of memory. */
char *event_text(const json_t *ev);

#endif
