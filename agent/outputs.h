/*
 * outputs: copies of the journal's events for other tools — an NDJSON file
 * (one event per line, rotated by size) and syslog (RFC 5424 over
 * /dev/log).  Each output reads the journal from its own cursor
 * (STATE_DIR/outputs/NAME.seq, advanced after the write), so an output that
 * is slow or briefly unavailable catches up instead of losing events, and
 * a restart neither repeats nor skips any (at most the last one, if the
 * agent dies between a write and saving the cursor).  A cursor beyond the
 * journal's end (the journal was lost or restored from a backup) is
 * logged and moved back to it, so that the output delivers again.
 */
#ifndef WARD_AGENT_OUTPUTS_H
#define WARD_AGENT_OUTPUTS_H

#include "agent/config.h"

#include <stdint.h>

struct journal;

/* Starts the configured outputs over j.  0, or -1 with why. */
int outputs_start(const struct agent_config *c, struct journal *j, char *why, size_t whylen);

/* A reload: the outputs c asks for from now on, each going on from its
 * cursor (an NDJSON file moved to another path continues there).  0, or
 * -1 with why (that output is off; the others run). */
int outputs_reconfigure(const struct agent_config *c, char *why, size_t whylen);

/* Wakes the outputs (called after an append). */
void outputs_kick(void);

/* The highest sequence number every output has delivered (UINT64_MAX
 * when there are no outputs): the journal may drop records up to it. */
uint64_t outputs_delivered(void);

/* Delivers what is left, saves the cursors and stops (at shutdown). */
void outputs_stop(void);

#endif
