/*
 * db: SQLite and PostgreSQL behind one interface.  See db.h.
 *
 * Must hold: values are always bound as parameters, never pasted into
 * SQL; a statement's error is reported with the backend's own message;
 * SQLite commits are durable before they are acknowledged (WAL with
 * synchronous=FULL) and waits for a busy database instead of failing.
 */
#include "server/db.h"
#include "util/alloc.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db {
	enum db_kind kind;
	sqlite3 *lite;
	PGconn *pg;
	int in_tx; /* between db_begin_write and commit/rollback */
	long long changes;
	pthread_mutex_t lock;
};

static int
lite_err(struct db *db, const char *what, struct ward_diag *d)
{
	return diag_set(d, WARD_EIO, NULL, 0, 0, "%s: %s", what, sqlite3_errmsg(db->lite));
}

int
db_open(const char *url, struct db **out, struct ward_diag *d)
{
	struct db *db = ward_calloc(1, sizeof(*db));

	*out = NULL;
	if (db == NULL)
		return diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
	pthread_mutex_init(&db->lock, NULL);
	if (strncmp(url, "sqlite:", 7) == 0) {
		db->kind = DB_SQLITE;
		if (sqlite3_open_v2(url + 7, &db->lite,
				    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				    NULL) != SQLITE_OK) {
			diag_set(d, WARD_EIO, url + 7, 0, 0, "%s",
				 db->lite ? sqlite3_errmsg(db->lite) : "cannot open");
			db_close(db);
			return WARD_EIO;
		}
		sqlite3_busy_timeout(db->lite, 30000);
		if (sqlite3_exec(db->lite,
				 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
				 "PRAGMA foreign_keys=ON;",
				 NULL, NULL, NULL) != SQLITE_OK) {
			lite_err(db, url + 7, d);
			db_close(db);
			return WARD_EIO;
		}
	} else if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
		db->kind = DB_POSTGRES;
		db->pg = PQconnectdb(url);
		if (db->pg == NULL || PQstatus(db->pg) != CONNECTION_OK) {
			diag_set(d, WARD_EIO, NULL, 0, 0, "PostgreSQL: %s",
				 db->pg ? PQerrorMessage(db->pg) : "out of memory");
			db_close(db);
			return WARD_EIO;
		}
		PQclear(PQexec(db->pg, "SET client_min_messages TO warning"));
	} else {
		db_close(db);
		return diag_set(d, WARD_EINVAL, NULL, 0, 0,
				"database must be sqlite:/PATH or postgresql://...");
	}
	*out = db;
	return 0;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (db->lite != NULL)
		sqlite3_close(db->lite);
	if (db->pg != NULL)
		PQfinish(db->pg);
	pthread_mutex_destroy(&db->lock);
	ward_free(db);
}

enum db_kind
db_kind(const struct db *db)
{
	return db->kind;
}

void
db_lock(struct db *db)
{
	pthread_mutex_lock(&db->lock);
}

void
db_unlock(struct db *db)
{
	pthread_mutex_unlock(&db->lock);
}

static int
exec_lite(struct db *db, const char *sql, const char *const *params, int nparams, db_row_fn fn,
	  void *arg, struct ward_diag *d)
{
	sqlite3_stmt *st = NULL;
	const char *vals[64];
	int i, rc, r = 0;

	if (sqlite3_prepare_v2(db->lite, sql, -1, &st, NULL) != SQLITE_OK)
		return lite_err(db, "SQL", d);
	for (i = 0; i < nparams; i++) {
		/* SQLite takes "$1" as a name: bind by it, whatever the order of use. */
		char name[16];
		int at;

		snprintf(name, sizeof(name), "$%d", i + 1);
		at = i + 1; /* usually where it is; else look it up */
		if (at > sqlite3_bind_parameter_count(st) ||
		    sqlite3_bind_parameter_name(st, at) == NULL ||
		    strcmp(sqlite3_bind_parameter_name(st, at), name) != 0)
			at = sqlite3_bind_parameter_index(st, name);
		if (at == 0)
			continue;
		rc = params[i] == NULL ? sqlite3_bind_null(st, at)
				       : sqlite3_bind_text(st, at, params[i], -1, SQLITE_STATIC);
		if (rc != SQLITE_OK) {
			r = lite_err(db, "SQL parameter", d);
			goto out;
		}
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int n = sqlite3_column_count(st);

		if (n > 64)
			n = 64;
		for (i = 0; i < n; i++)
			vals[i] = (const char *)sqlite3_column_text(st, i);
		if (fn != NULL && (r = fn(arg, n, vals)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = lite_err(db, "SQL", d);
	db->changes = sqlite3_changes(db->lite);
out:
	sqlite3_finalize(st);
	return r;
}

static int
exec_pg(struct db *db, const char *sql, const char *const *params, int nparams, db_row_fn fn,
	void *arg, struct ward_diag *d)
{
	PGresult *res;

	/* A lost connection (the database restarted) is made again — but
	 * never in the middle of a transaction, whose start it would lose:
	 * that one fails, and is retried by its caller's next call. */
	if (PQstatus(db->pg) == CONNECTION_BAD) {
		if (db->in_tx)
			return diag_set(d, WARD_EIO, NULL, 0, 0,
					"PostgreSQL: the connection was lost in a transaction");
		PQreset(db->pg);
		if (PQstatus(db->pg) != CONNECTION_OK)
			return diag_set(d, WARD_EIO, NULL, 0, 0, "PostgreSQL: %s",
					PQerrorMessage(db->pg));
		PQclear(PQexec(db->pg, "SET client_min_messages TO warning"));
	}
	res = PQexecParams(db->pg, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQstatus(db->pg) == CONNECTION_BAD && !db->in_tx) {
		/* It went away under this statement (outside a transaction, so
		 * it did not happen): connect again and run it once more. */
		PQclear(res);
		PQreset(db->pg);
		if (PQstatus(db->pg) == CONNECTION_OK)
			PQclear(PQexec(db->pg, "SET client_min_messages TO warning"));
		res = PQexecParams(db->pg, sql, nparams, NULL, params, NULL, NULL, 0);
	}
	const char *vals[64];
	int st = PQresultStatus(res), rows, cols, i, j, r = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		r = diag_set(d, WARD_EIO, NULL, 0, 0, "PostgreSQL: %s", PQerrorMessage(db->pg));
		PQclear(res);
		return r;
	}
	db->changes = atoll(PQcmdTuples(res));
	rows = PQntuples(res);
	cols = PQnfields(res) > 64 ? 64 : PQnfields(res);
	for (i = 0; i < rows && r == 0; i++) {
		for (j = 0; j < cols; j++)
			vals[j] = PQgetisnull(res, i, j) ? NULL : PQgetvalue(res, i, j);
		if (fn != NULL)
			r = fn(arg, cols, vals);
	}
	PQclear(res);
	return r;
}

int
db_exec(struct db *db, const char *sql, const char *const *params, int nparams, db_row_fn fn,
	void *arg, struct ward_diag *d)
{
	return db->kind == DB_SQLITE ? exec_lite(db, sql, params, nparams, fn, arg, d)
				     : exec_pg(db, sql, params, nparams, fn, arg, d);
}

int
db_begin_write(struct db *db, struct ward_diag *d)
{
	int r = db_exec(db, db->kind == DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN", NULL, 0, NULL,
			NULL, d);

	db->in_tx = r == 0;
	return r;
}

int
db_commit(struct db *db, struct ward_diag *d)
{
	int r = db_exec(db, "COMMIT", NULL, 0, NULL, NULL, d);

	db->in_tx = 0;
	return r;
}

void
db_rollback(struct db *db)
{
	struct ward_diag d;

	db->in_tx = 0;
	if (db->kind == DB_POSTGRES && PQstatus(db->pg) == CONNECTION_BAD)
		return; /* nothing to roll back: the server dropped it */
	(void)db_exec(db, "ROLLBACK", NULL, 0, NULL, NULL, &d);
}

int
db_xact_lock(struct db *db, long long key, struct ward_diag *d)
{
	char k[32];
	const char *p[1] = {k};

	if (db->kind == DB_SQLITE)
		return 0; /* BEGIN IMMEDIATE already excludes every other writer */
	snprintf(k, sizeof(k), "%lld", key);
	return db_exec(db, "SELECT pg_advisory_xact_lock($1::bigint)", p, 1, NULL, NULL, d);
}

struct scalar {
	char *out;
	size_t len;
	int got;
};

static int
first_value(void *arg, int ncols, const char *const *vals)
{
	struct scalar *s = arg;

	if (!s->got && ncols > 0)
		snprintf(s->out, s->len, "%s", vals[0] != NULL ? vals[0] : "");
	s->got = 1;
	return 0;
}

int
db_scalar(struct db *db, const char *sql, const char *const *params, int nparams, char *out,
	  size_t outlen, struct ward_diag *d)
{
	struct scalar s = {out, outlen, 0};

	out[0] = '\0';
	return db_exec(db, sql, params, nparams, first_value, &s, d);
}

long long
db_changes(const struct db *db)
{
	return db->changes;
}
