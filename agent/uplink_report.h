/*
 * uplink_report: wardd's check-in report, written through the fleet
 * protocol (lib/proto/report.h: report_encode) that the server parses and
 * ward-sim writes too.  Everything the server decides on — versions,
 * refusals with their typed causes, crashes, the fleet exceptions'
 * revisions — comes from the worker's typed state; beside it go the
 * display-only parts of the worker's status that the server keeps for
 * people (report_display_key).
 */
#ifndef WARD_AGENT_UPLINK_REPORT_H
#define WARD_AGENT_UPLINK_REPORT_H

#include <jansson.h>
#include <stdint.h>

struct store_state;

struct uplink_report_in {
	const struct store_state *st; /* the worker's content state (borrowed) */
	const char *mode;	      /* "protecting", "waiting", "safe" */
	int exceptions;		      /* takes the fleet's exceptions: the revisions */
	int64_t exceptions_revision, exceptions_refused; /* run, refused; 0: none */
	const char *journal_id;
	int64_t wait_s; /* a long poll of this many seconds; 0: none */
	/* The worker's status (worker_status_json), for its display-only
	 * parts (its FIM path lists go as counts); borrowed, not changed. */
	json_t *status;
	double cpu_pct; /* of the process, and its resident memory */
	long long rss_kb;
};

/*
 * The report's JSON, as report_parse takes it: a new object, or NULL when
 * out of memory.  A refusal recorded under no trusted version (0) is left
 * out; a refusal's reason that holds control characters or is not UTF-8
 * goes escaped; what the report cannot carry of the content entries (a
 * name no bundle has, a time outside 1970..9999) is left out.
 */
json_t *uplink_report_encode(const struct uplink_report_in *in);

#endif
