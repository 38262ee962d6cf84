/*
 * api_except: the fleet's exceptions to verdicts (ward fleet except) —
 * list (viewer), add and remove (operator), each change audited.  What
 * an agent gets of them goes in its check-in answer (api_agent.c).
 *
 * Must hold: an exception is stored only after the exceptions parser the
 * agents use took it (scan/except.c), in its canonical form; what the
 * agents will be sent is only what they accept (who added it is made
 * printable and bounded).
 */
#include "server/api_int.h"
#include "proto/jcheck.h"
#include "scan/except.h"
#include "util/limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
api_except_list(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	struct ward_diag d;
	json_t *out = NULL;
	struct db *db;
	long long rev;
	int rc;

	(void)q;
	(void)c;
	db = api_reader(a);
	rev = store_except_revision(db);
	rc = store_except_list(db, &out, &d);
	api_reader_done(a, db);
	api_reply(r, rc, &d,
		  rc == 0 ? json_pack("{s:o, s:I}", "exceptions", out, "revision", (json_int_t)rev)
			  : NULL);
}

/* POST /api/v1/exceptions {"exception": {...}, "group": "G"} */
void
api_except_add(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	char spec[WARD_MAX_EXCEPT_TEXT], by[WARD_MAX_EXCEPT_BY + 1];
	struct ward_diag d;
	struct except e;
	const char *group;
	json_t *b, *entry = NULL;
	char *text = NULL;
	long long id = 0;
	int rc;

	memset(&e, 0, sizeof(e));
	if ((b = api_body_json(q, r)) == NULL)
		return;
	group = json_object_get(b, "group") != NULL ? api_field(b, "group", 63) : "";
	diag_clear(&d);
	if (group == NULL || json_object_size(b) != 1u + (json_object_get(b, "group") != NULL)) {
		http_error(r, 400,
			   "exceptions: {\"exception\": {...}, \"group\": \"G\" (optional)}");
		goto out;
	}
	if (except_from_json(json_object_get(b, "exception"), 0, &e, &d) != 0) {
		http_error(r, 400, "exception: %s", d.msg);
		goto out;
	}
	except_format(&e, spec, sizeof(spec));
	entry = except_to_json(&e, 0);
	text = entry != NULL ? json_dumps(entry, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (text == NULL) {
		http_error(r, 500, "out of memory");
		goto out;
	}
	/* Who, as agents take it: printable, bounded. */
	jcheck_escape(c->who.name, by, sizeof(by));
	db_lock(a->db);
	rc = store_except_add(a->db, group, spec, text, by, api_now(), &id, &d);
	if (rc == 0)
		api_audit(a, &c->who, "exception-added",
			  json_pack("{s:I, s:s, s:s, s:O}", "id", (json_int_t)id, "group", group,
				    "match", spec, "exception", entry));
	db_unlock(a->db);
	if (rc == WARD_ELIMIT)
		rc = WARD_EINVAL; /* a refusal (409), not a failure */
	api_reply(r, rc, &d,
		  rc == 0 ? json_pack("{s:I, s:s, s:s, s:I}", "id", (json_int_t)id, "group", group,
				      "match", spec, "revision", (json_int_t)id)
			  : NULL);
out:
	except_clear(&e);
	json_decref(entry);
	free(text);
	json_decref(b); /* group points into it */
}

/* POST /api/v1/exceptions/N/remove */
void
api_except_remove(struct api *a, const struct http_req *q, struct http_resp *r,
		  const struct call *c)
{
	struct ward_diag d;
	json_t *removed = NULL;
	long long id = atoll(c->arg);
	int rc;

	(void)q;
	db_lock(a->db);
	rc = store_except_remove(a->db, id, &removed, &d);
	if (rc == 0)
		api_audit(a, &c->who, "exception-removed",
			  json_pack("{s:I, s:O}", "id", (json_int_t)id, "exception", removed));
	db_unlock(a->db);
	api_reply(r, rc, &d,
		  rc == 0 ? json_pack("{s:I, s:o}", "id", (json_int_t)id, "removed", removed)
			  : NULL);
	if (rc != 0)
		json_decref(removed);
}
