/*
 * store_except: the fleet's exceptions to verdicts.  See store.h.
 *
 * Must hold: every change is one transaction, serialised across servers,
 * that also raises the revision and the rollout generation (so held
 * check-ins are looked at again, on every server of the database); ids
 * are revisions, never reused; what is stored was checked by the exceptions parser (the API
 * does it), and what an agent is sent it checks again.
 */
#include "server/store.h"
#include "server/store_priv.h"
#include "util/limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One change at a time across the servers of a database (PostgreSQL):
 * the count and the duplicate check hold until the insert. */
#define LOCK_EXCEPT 0x65786365LL /* "exce" */

/* The rollout engine's generation (rollout.c): held check-ins are woken
 * when it changes. */
#define BUMP(name)                                                                                 \
	"INSERT INTO settings (name, value) VALUES ('" name "', '1')"                              \
	" ON CONFLICT (name) DO UPDATE SET"                                                        \
	" value = CAST(CAST(settings.value AS BIGINT) + 1 AS TEXT)"

/* Raises the revision (into *rev) and wakes held check-ins. */
static int
bump(struct db *db, long long *rev, struct ward_diag *d)
{
	char v[24];
	int r;

	if ((r = db_exec(db, BUMP("exceptions_revision"), NULL, 0, NULL, NULL, d)) != 0 ||
	    (r = db_exec(db, BUMP("generation"), NULL, 0, NULL, NULL, d)) != 0 ||
	    (r = db_scalar(db, "SELECT value FROM settings WHERE name = 'exceptions_revision'",
			   NULL, 0, v, sizeof(v), d)) != 0)
		return r;
	*rev = atoll(v);
	return 0;
}

int
store_except_add(struct db *db, const char *group, const char *spec, const char *entry,
		 const char *who, int64_t now, long long *id, struct ward_diag *d)
{
	char n[24], v[24], t[24];
	const char *p2[2] = {group, spec};
	const char *p6[6] = {v, group, spec, entry, t, who};
	int r;

	*id = 0;
	if ((r = db_begin_write(db, d)) != 0)
		return r;
	if ((r = db_xact_lock(db, LOCK_EXCEPT, d)) != 0)
		goto fail;
	if ((r = db_scalar(db, "SELECT id FROM exceptions WHERE grp = $1 AND spec = $2", p2, 2, v,
			   sizeof(v), d)) != 0)
		goto fail;
	if (v[0] != '\0') {
		r = diag_set(d, WARD_EDUPLICATE, NULL, 0, 0, "already excepted: fleet exception %s",
			     v);
		goto fail;
	}
	if ((r = db_scalar(db, "SELECT count(*) FROM exceptions", NULL, 0, n, sizeof(n), d)) != 0)
		goto fail;
	if (atoll(n) >= WARD_MAX_EXCEPTIONS) {
		r = diag_set(d, WARD_ELIMIT, NULL, 0, 0,
			     "the fleet has %d exceptions, the most an agent takes: remove some "
			     "first",
			     WARD_MAX_EXCEPTIONS);
		goto fail;
	}
	if ((r = bump(db, id, d)) != 0)
		goto fail;
	store_lltoa(*id, v);
	store_lltoa(now, t);
	if ((r = db_exec(db,
			 "INSERT INTO exceptions (id, grp, spec, entry, created, who)"
			 " VALUES ($1, $2, $3, $4, $5, $6)",
			 p6, 6, NULL, NULL, d)) != 0)
		goto fail;
	return db_commit(db, d);
fail:
	db_rollback(db);
	*id = 0;
	return r;
}

/* A row as an agent gets it: the entry, with its id, when and by whom. */
static json_t *
row_json(const char *id, const char *entry, const char *created, const char *who)
{
	json_t *o = json_loads(entry, 0, NULL);

	if (!json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "id", json_integer(atoll(id)));
	json_object_set_new(o, "added", json_integer(atoll(created)));
	json_object_set_new(o, "by", json_string(who));
	return o;
}

static int
on_row(void *arg, int ncols, const char *const *v)
{
	json_t *o = row_json(v[0], v[3], v[4], v[5]);

	(void)ncols;
	if (o == NULL)
		return 0; /* not ours: never sent */
	json_object_set_new(o, "group", json_string(v[1]));
	json_object_set_new(o, "match", json_string(v[2]));
	json_array_append_new((json_t *)arg, o);
	return 0;
}

int
store_except_remove(struct db *db, long long id, json_t **removed, struct ward_diag *d)
{
	char n[24];
	const char *p[1] = {n};
	long long rev;
	int r;

	*removed = json_array();
	store_lltoa(id, n);
	if ((r = db_begin_write(db, d)) != 0)
		goto out;
	if ((r = db_exec(db,
			 "SELECT id, grp, spec, entry, created, who FROM exceptions"
			 " WHERE id = CAST($1 AS BIGINT)",
			 p, 1, on_row, *removed, d)) != 0)
		goto fail;
	if (json_array_size(*removed) == 0) {
		r = diag_set(d, WARD_EUNDEFINED, NULL, 0, 0, "no fleet exception %lld", id);
		goto fail;
	}
	if ((r = db_exec(db, "DELETE FROM exceptions WHERE id = CAST($1 AS BIGINT)", p, 1, NULL,
			 NULL, d)) != 0 ||
	    (r = bump(db, &rev, d)) != 0)
		goto fail;
	r = db_commit(db, d);
	goto out;
fail:
	db_rollback(db);
out:
	if (r == 0) {
		json_t *one = json_incref(json_array_get(*removed, 0));

		json_decref(*removed);
		*removed = one;
	} else {
		json_decref(*removed);
		*removed = NULL;
	}
	return r;
}

int
store_except_list(struct db *db, json_t **out, struct ward_diag *d)
{
	int r;

	*out = json_array();
	r = db_exec(db, "SELECT id, grp, spec, entry, created, who FROM exceptions ORDER BY id",
		    NULL, 0, on_row, *out, d);
	if (r != 0) {
		json_decref(*out);
		*out = NULL;
	}
	return r;
}

long long
store_except_revision(struct db *db)
{
	struct ward_diag d;
	char v[24];

	if (db_scalar(db, "SELECT value FROM settings WHERE name = 'exceptions_revision'", NULL, 0,
		      v, sizeof(v), &d) != 0)
		return -1;
	return atoll(v);
}

static int
on_agent_row(void *arg, int ncols, const char *const *v)
{
	json_t *o = row_json(v[0], v[1], v[2], v[3]);

	(void)ncols;
	if (o != NULL)
		json_array_append_new((json_t *)arg, o);
	return 0;
}

int
store_except_for(struct db *db, const char *group, long long *revision, json_t **list,
		 struct ward_diag *d)
{
	const char *p[1] = {group};
	int r;

	*list = NULL;
	if ((*revision = store_except_revision(db)) < 0)
		return diag_set(d, WARD_EIO, NULL, 0, 0, "cannot read the exceptions' revision");
	*list = json_array();
	r = db_exec(db,
		    "SELECT id, entry, created, who FROM exceptions WHERE grp = '' OR grp = $1"
		    " ORDER BY id",
		    p, 1, on_agent_row, *list, d);
	if (r != 0) {
		json_decref(*list);
		*list = NULL;
	}
	return r;
}
