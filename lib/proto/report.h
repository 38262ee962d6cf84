/*
 * report: an agent's check-in report, as the fleet server takes it.
 *
 * The report comes from an agent, which the server does not trust: the
 * text is at most WARD_MAX_CHECKIN_BYTES; report_parse checks every field
 * it keeps for type, range, size and characters, drops keys it does not
 * know (a newer agent may send more), and bounds the free-form parts kept
 * only for display (sensor counters, warnings, the uplink's state).  What
 * the health gate counts — the versions an agent refused or crashed on,
 * and why — comes out as typed values (enum refusal_cause, by the name the
 * agent sends in "cause"): no decision is made on the text of a message.
 */
#ifndef WARD_PROTO_REPORT_H
#define WARD_PROTO_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "content/bundle.h"
#include "proto/cause.h"
#include "util/err.h"
#include "util/limits.h"

struct report_refusal {
	int64_t version;
	enum refusal_cause cause; /* "cause": absent or unknown, CAUSE_REFUSED */
	char reason[WARD_MAX_REPORT_REASON + 1];
	char at[32]; /* the agent's own clock: shown, never trusted */
};

/* What an agent shows of a content version it holds, for people: the
 * bundle's name ("" when not sent) and, in Unix seconds on the agent's own
 * clock, when it was activated and when it expires (0 when not sent; the
 * agent's clock is shown, never trusted: nothing is decided on these). */
struct report_content {
	char name[BUNDLE_MAX_NAME + 1]; /* [A-Za-z0-9._-], as bundle names are */
	int64_t activated_at, expires;	/* 1970 .. 9999 (clock_utc_parse) */
};

struct report_crash {
	int64_t version; /* 0: no content */
	char at[32];
};

struct report {
	char mode[17];					/* "protecting", "safe" */
	int64_t current, lkg;				/* content versions; 0: none */
	struct report_content current_shown, lkg_shown; /* left empty when 0 */
	char journal_id[WARD_MAX_JOURNAL_ID + 1];
	int64_t wait_s; /* a long poll of this many seconds; 0: none */
	struct report_refusal refusals[WARD_MAX_REPORT_REFUSALS];
	unsigned nrefusals;
	struct report_crash crashes[WARD_MAX_REPORT_CRASHES];
	unsigned ncrashes;
	/* The fleet's exceptions: whether the agent takes them (it reports an
	 * "exceptions" object), the revision it runs and the one it refused
	 * (0: none). */
	int exceptions;
	int64_t exceptions_revision, exceptions_refused;
	json_t *normal; /* what is kept: only checked fields; owned */
};

/*
 * Parses and checks the report text (len bytes).  0 with *r filled (free
 * with report_free), or WARD_ELIMIT / WARD_EFORMAT / WARD_ESYNTAX with d
 * naming the field; *r is then empty.
 */
int report_parse(const char *text, size_t len, struct report *r, struct ward_diag *d);

/*
 * The report text's JSON for r's typed fields (mode, content versions with
 * their names and times, refusals with their causes, crashes, journal id, long poll, the fleet's
 * exceptions), as report_parse takes it: report_parse(encode(r)) gives back
 * the same typed fields.  r->normal is not read; a caller adds the
 * display-only keys (report_display_key) to the object itself.  Empty
 * strings, zero times and zero versions are left out or null, as an agent
 * sends them; a content entry is written only with its version (> 0).
 * A new object, or NULL when out of memory.
 */
json_t *report_encode(const struct report *r);

/*
 * 1 if key is one of the report's display-only parts (pid, uptime_s,
 * agent_version, warnings, safe_reason, uplink, sensors, resources,
 * exceptions' counts): what report_parse keeps, bounded, for people and
 * what an agent adds to report_encode's object; 0 otherwise.
 */
int report_display_key(const char *key);

/* Frees what r owns; r may be all zeros. */
void report_free(struct report *r);

#endif
