/*
 * exceptions: the exceptions to verdicts in force on this agent (see
 * scan/except.h for what one is), from four sources:
 *
 *   config   `exceptions:` in wardd.yaml, read at start and at a reload;
 *   local    `ward agent except add|remove` (control socket, root only),
 *            kept in STATE_DIR/exceptions.json;
 *   content  the `exceptions` members of the active content: they come and
 *            go with the content (the caller passes that list in);
 *   fleet    the fleet server's list for this agent, from check-in
 *            answers, kept in STATE_DIR/exceptions-fleet.json; of it the
 *            agent takes only the kinds server.exceptions allows.
 *
 * They apply to scan verdicts (on-access deny, on-write quarantine or
 * alert, `ward agent scan`), never to process rules.  Every change is
 * journaled (exception-added, exception-removed, and alerts for what is
 * refused), and so is every verdict an exception suppressed
 * (detection-excepted, with the exception that applied).
 */
#ifndef WARD_AGENT_EXCEPTIONS_H
#define WARD_AGENT_EXCEPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "agent/config.h"
#include "scan/except.h"

struct exceptions;
struct json_t;

/*
 * Reads the sources kept on disk (wardd.yaml's list was checked by
 * config_load).  A damaged STATE_DIR/exceptions.json is said in the log
 * and in the status, and leaves the local list empty and unchangeable
 * until it is mended or removed (never overwritten); a damaged fleet
 * file is dropped (the server sends the list again).  0 with *out, or
 * WARD_ENOMEM.
 */
int exceptions_new(const struct agent_config *c, struct exceptions **out);
void exceptions_free(struct exceptions *x);

/*
 * fn(arg) is called after every change of the exceptions in force (an
 * add, a remove, a reload, a fleet list), outside the list's lock, so that
 * what was decided under the old ones is forgotten: the worker passes
 * its sensors' (the on-access verdict cache).  Exceptions know no sensor.
 * Set once, before x is shared; fn NULL: nothing is called.
 */
void exceptions_on_change(struct exceptions *x, void (*fn)(void *arg), void *arg);

/* An exception that applied, copied out for the event that says so. */
struct exceptions_applied {
	const char *source; /* static: "config", "local", "content", "fleet" */
	long long id;
	char match[WARD_MAX_EXCEPT_TEXT];
	char reason[WARD_MAX_EXCEPT_REASON + 1];
};

/*
 * In a scan's match callback: 1 (and *ap filled) if a detection by rule of
 * the file at path (NULL: unknown) is excepted by path or rule (content:
 * the active content's list, may be NULL); 0 if it stands.
 */
int exceptions_hit(struct exceptions *x, const struct except_list *content, const char *path,
		   const char *rule, struct exceptions_applied *ap);

/* 1 if any source holds an exception by SHA-256 (then a detected file is
 * hashed to look it up). */
int exceptions_have_sha256(struct exceptions *x, const struct except_list *content);

/*
 * After a detection that stands: hashes the file (fd, borrowed, read with
 * pread from 0) and returns 1 (*ap filled) if its SHA-256 is excepted.
 * sha_hex gets the digest ("" when it could not be read: then 0).
 */
int exceptions_by_hash(struct exceptions *x, const struct except_list *content, int fd,
		       char sha_hex[65], struct exceptions_applied *ap);

/* Changes whenever the exceptions in force change (content's aside: they
 * change with the content version). */
unsigned long long exceptions_generation(struct exceptions *x);

/*
 * The detection-excepted event for a suppressed verdict (counted): file
 * path, rule, what would have been done (would: "deny-execution",
 * "deny-open", "quarantine", "alert", "report"), the SHA-256 when known.
 * The caller adds its own fields and journals it.  NULL when out of memory.
 */
struct json_t *exceptions_event(struct exceptions *x, const struct exceptions_applied *ap,
				const char *path, const char *rule, const char *would,
				const char *sha_hex);

/* Control requests: except-add ({"exception": {...}}), except-remove
 * ({"id": "N" or "local:N"}), except-list.  Each returns the answer. */
struct json_t *exceptions_add(struct exceptions *x, const struct json_t *spec);
struct json_t *exceptions_remove(struct exceptions *x, const char *id);
struct json_t *exceptions_list(struct exceptions *x, const struct except_list *content);

/* The "exceptions" object of the status (and of check-in reports):
 * counts by source, the fleet revision taken or refused, suppressions. */
struct json_t *exceptions_status(struct exceptions *x, const struct except_list *content);
/* The fleet list's revision in force and the last one refused (0: none),
 * for the check-in report's typed fields. */
void exceptions_fleet_revisions(struct exceptions *x, int64_t *taken, int64_t *refused);

/*
 * A check-in answer's "exceptions", as the uplink process read them
 * (except_fleet_parse) and the worker decoded them (upmsg): revision R
 * (-1: none could be read) and the list (not NULL; taken: *list is empty
 * after), or refused with why (printable ASCII, escaped by the uplink).  Taken whole or not at all: a refused list
 * leaves the list in force, and the refusal is journaled and reported
 * with its revision so that the server need not send it again; of a good
 * one, the kinds server.exceptions does not allow are left out and
 * journaled.
 */
void exceptions_fleet_list(struct exceptions *x, int64_t revision, struct except_list *list,
			   const char *refused);

/* The content in use changed from old to new (either may be NULL):
 * journals what exceptions it added and removed when journal is set. */
/* A reloaded wardd.yaml: its exceptions and server.exceptions (the
 * fleet's list taken again from the one kept); the changes journaled. */
void exceptions_reconfigure(struct exceptions *x, const struct agent_config *next);

void exceptions_content_changed(struct exceptions *x, const struct except_list *old,
				const struct except_list *new, int journal);

#endif
