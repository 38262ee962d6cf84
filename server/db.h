/*
 * db: the two storage backends behind one small interface — SQLite
 * (embedded, the default) and PostgreSQL (libpq).  SQL is written once
 * for both: parameters are $1, $2, ... (each one used: PostgreSQL must
 * infer its type), values travel as text (NULL for SQL NULL), types are TEXT and BIGINT, and
 * upserts use ON CONFLICT, which both understand.
 *
 * A struct db is one connection used by one thread at a time: callers
 * that share one hold db_lock around a transaction.
 */
#ifndef WARD_SERVER_DB_H
#define WARD_SERVER_DB_H

#include <stddef.h>

#include "util/err.h"

struct db;

enum db_kind { DB_SQLITE, DB_POSTGRES };

/*
 * Opens url: "sqlite:/path/to/file.db" (created if missing, WAL, full
 * synchronous commits) or "postgresql://..." / "postgres://..." (a libpq
 * connection URI).  0, or an error with d saying why.
 */
int db_open(const char *url, struct db **out, struct ward_diag *d);
void db_close(struct db *db);
enum db_kind db_kind(const struct db *db);

void db_lock(struct db *db);
void db_unlock(struct db *db);

/* Called per result row with its columns as text (NULL for SQL NULL);
 * a nonzero return stops the rows and is returned by db_exec. */
typedef int (*db_row_fn)(void *arg, int ncols, const char *const *vals);

/*
 * Runs one statement with nparams text parameters.  0 (or fn's nonzero
 * return), or WARD_EIO with d holding the database's message.
 */
int db_exec(struct db *db, const char *sql, const char *const *params, int nparams, db_row_fn fn,
	    void *arg, struct ward_diag *d);

/* Transactions.  db_begin_write takes the write lock at once (SQLite:
 * BEGIN IMMEDIATE), so that a read-modify-write cannot lose an update. */
int db_begin_write(struct db *db, struct ward_diag *d);
int db_commit(struct db *db, struct ward_diag *d);
void db_rollback(struct db *db);

/*
 * Serialises a decision across every server on the database (PostgreSQL:
 * a transaction-scoped advisory lock on key; SQLite: the write lock the
 * transaction already holds).  Inside a db_begin_write transaction.
 */
int db_xact_lock(struct db *db, long long key, struct ward_diag *d);

/* The first column of the first row into out ("" if no row).  0 or error. */
int db_scalar(struct db *db, const char *sql, const char *const *params, int nparams, char *out,
	      size_t outlen, struct ward_diag *d);

/* Rows changed by the last statement. */
long long db_changes(const struct db *db);

#endif
