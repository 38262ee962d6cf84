/*
 * Unit tests of server/db on SQLite (an in-memory database, and a file):
 * $N parameters bound by name whatever the order they are used in (and
 * however many: the multi-row INSERTs of store.c use hundreds), NULL
 * parameters and NULL columns, db_scalar, db_changes, a row callback
 * that stops the rows, transactions (a rolled-back insert is gone),
 * bad URLs and bad statements refused with the backend's message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/db.h"

/* The rows of a result, as "a|b|NULL" lines. */
struct rows {
	char text[512];
	int n, stop_after;
};

static int
collect(void *arg, int ncols, const char *const *vals)
{
	struct rows *rs = arg;
	size_t len = strlen(rs->text);
	int i;

	for (i = 0; i < ncols; i++) {
		snprintf(rs->text + len, sizeof(rs->text) - len, "%s%s", i ? "|" : "",
			 vals[i] != NULL ? vals[i] : "NULL");
		len = strlen(rs->text);
	}
	snprintf(rs->text + len, sizeof(rs->text) - len, "\n");
	rs->n++;
	return rs->stop_after != 0 && rs->n == rs->stop_after ? 42 : 0;
}

static int
setup(void **state)
{
	struct db *db = NULL;
	struct ward_diag d;

	if (db_open("sqlite::memory:", &db, &d) != 0)
		return -1;
	*state = db;
	return 0;
}

static int
teardown(void **state)
{
	db_close(*state);
	return 0;
}

static void
exec_ok(struct db *db, const char *sql, const char *const *p, int n)
{
	struct ward_diag d;

	if (db_exec(db, sql, p, n, NULL, NULL, &d) != 0)
		fail_msg("%s: %s", sql, d.msg);
}

static void
test_open_memory(void **state)
{
	struct db *db = *state;
	char v[32];
	struct ward_diag d;

	assert_int_equal(db_kind(db), DB_SQLITE);
	assert_int_equal(db_scalar(db, "SELECT 1 + 1", NULL, 0, v, sizeof(v), &d), 0);
	assert_string_equal(v, "2");
	/* Foreign keys are on. */
	assert_int_equal(db_scalar(db, "PRAGMA foreign_keys", NULL, 0, v, sizeof(v), &d), 0);
	assert_string_equal(v, "1");
	db_lock(db);
	db_unlock(db);
	db_close(NULL);
}

static void
test_params_by_name(void **state)
{
	struct db *db = *state;
	const char *p[3] = {"one", "two", "three"};
	struct rows rs;
	struct ward_diag d;

	memset(&rs, 0, sizeof(rs));
	assert_int_equal(db_exec(db, "SELECT $2, $1", p, 2, collect, &rs, &d), 0);
	assert_string_equal(rs.text, "two|one\n");

	/* Used twice, and some not at all: $N is always p[N - 1]. */
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(db_exec(db, "SELECT $3 || '-' || $3, $1", p, 3, collect, &rs, &d), 0);
	assert_string_equal(rs.text, "three-three|one\n");
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(db_exec(db, "SELECT $2", p, 3, collect, &rs, &d), 0);
	assert_string_equal(rs.text, "two\n");

	/* Values are bound, never pasted into the SQL. */
	exec_ok(db, "CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT)", NULL, 0);
	{
		const char *q[2] = {"x'); DROP TABLE t; --", "7"};

		exec_ok(db, "INSERT INTO t (v, k) VALUES ($2, $1)", q, 2);
	}
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(db_exec(db, "SELECT k, v + 1 FROM t", NULL, 0, collect, &rs, &d), 0);
	assert_string_equal(rs.text, "x'); DROP TABLE t; --|8\n");
}

/* Many parameters, in order, reversed and mixed: each $N gets p[N - 1]
 * whether it sits at its own place in the statement or not. */
static void
test_many_params(void **state)
{
	struct db *db = *state;
	char vals[70][8], sql[2048], want[1024];
	const char *p[70];
	struct rows rs;
	struct ward_diag d;
	int i;

	for (i = 0; i < 70; i++) {
		snprintf(vals[i], sizeof(vals[i]), "v%d", i + 1);
		p[i] = vals[i];
	}
	/* $70 || ',' || $69 ... || $1 */
	snprintf(sql, sizeof(sql), "SELECT ");
	want[0] = '\0';
	for (i = 70; i >= 1; i--) {
		snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "%s$%d",
			 i == 70 ? "" : " || ',' || ", i);
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%sv%d",
			 i == 70 ? "" : ",", i);
	}
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(db_exec(db, sql, p, 70, collect, &rs, &d), 0);
	assert_int_equal(rs.n, 1);
	assert_int_equal(strncmp(rs.text, want, strlen(want)), 0);

	memset(&rs, 0, sizeof(rs));
	assert_int_equal(db_exec(db, "SELECT $1, $3, $2, $4, $1, $10", p, 10, collect, &rs, &d), 0);
	assert_string_equal(rs.text, "v1|v3|v2|v4|v1|v10\n");

	/* A multi-row INSERT of the shape store_events_commit uses. */
	exec_ok(db, "CREATE TABLE e (a TEXT, b TEXT, seq BIGINT, t TEXT, body TEXT)", NULL, 0);
	exec_ok(db,
		"INSERT INTO e (a, b, seq, t, body) VALUES ($1, $2, $4, $3, $5),"
		" ($1, $2, $6, $3, $7), ($1, $2, $8, $3, $9)",
		p, 9);
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(
	    db_exec(db, "SELECT a, b, seq, t, body FROM e ORDER BY seq", NULL, 0, collect, &rs, &d),
	    0);
	assert_string_equal(rs.text, "v1|v2|v4|v3|v5\nv1|v2|v6|v3|v7\nv1|v2|v8|v3|v9\n");
}

static void
test_null(void **state)
{
	struct db *db = *state;
	const char *p[2] = {"a", NULL};
	struct rows rs;
	char v[32];
	struct ward_diag d;

	exec_ok(db, "CREATE TABLE t (k TEXT, v TEXT)", NULL, 0);
	exec_ok(db, "INSERT INTO t (k, v) VALUES ($1, $2)", p, 2);
	assert_int_equal(
	    db_scalar(db, "SELECT count(*) FROM t WHERE v IS NULL", NULL, 0, v, sizeof(v), &d), 0);
	assert_string_equal(v, "1");
	/* A NULL column comes to the callback as NULL. */
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(db_exec(db, "SELECT k, v FROM t", NULL, 0, collect, &rs, &d), 0);
	assert_string_equal(rs.text, "a|NULL\n");
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(db_exec(db, "SELECT $1 IS NULL, $2 IS NULL", p, 2, collect, &rs, &d), 0);
	assert_string_equal(rs.text, "0|1\n");
	/* db_scalar gives "" for NULL. */
	strcpy(v, "junk");
	assert_int_equal(db_scalar(db, "SELECT v FROM t", NULL, 0, v, sizeof(v), &d), 0);
	assert_string_equal(v, "");
}

static void
test_scalar_and_changes(void **state)
{
	struct db *db = *state;
	const char *p[1] = {"2"};
	char v[8];
	struct ward_diag d;
	struct rows rs;

	exec_ok(db, "CREATE TABLE t (n BIGINT)", NULL, 0);
	exec_ok(db, "INSERT INTO t (n) VALUES (1), (2), (3), (4)", NULL, 0);
	assert_int_equal(db_changes(db), 4);
	exec_ok(db, "UPDATE t SET n = n + 10 WHERE n > $1", p, 1);
	assert_int_equal(db_changes(db), 2);
	exec_ok(db, "DELETE FROM t WHERE n = 100", NULL, 0);
	assert_int_equal(db_changes(db), 0);
	exec_ok(db, "DELETE FROM t WHERE n < $1", p, 1);
	assert_int_equal(db_changes(db), 1);

	/* The first column of the first row. */
	assert_int_equal(
	    db_scalar(db, "SELECT n, 'x' FROM t ORDER BY n", NULL, 0, v, sizeof(v), &d), 0);
	assert_string_equal(v, "2");
	/* No row: "". */
	strcpy(v, "junk");
	assert_int_equal(db_scalar(db, "SELECT n FROM t WHERE n > 1000", NULL, 0, v, sizeof(v), &d),
			 0);
	assert_string_equal(v, "");
	/* Cut to the buffer. */
	assert_int_equal(db_scalar(db, "SELECT 'abcdefghijkl'", NULL, 0, v, sizeof(v), &d), 0);
	assert_string_equal(v, "abcdefg");

	/* A callback's nonzero return stops the rows and is returned. */
	memset(&rs, 0, sizeof(rs));
	rs.stop_after = 2;
	assert_int_equal(db_exec(db, "SELECT n FROM t ORDER BY n", NULL, 0, collect, &rs, &d), 42);
	assert_int_equal(rs.n, 2);
	assert_string_equal(rs.text, "2\n13\n");
}

static void
test_transactions(void **state)
{
	struct db *db = *state;
	const char *p[1];
	char v[32];
	struct ward_diag d;

	exec_ok(db, "CREATE TABLE t (k TEXT PRIMARY KEY)", NULL, 0);

	/* Rolled back: gone. */
	assert_int_equal(db_begin_write(db, &d), 0);
	assert_int_equal(db_xact_lock(db, 1234, &d), 0);
	p[0] = "gone";
	exec_ok(db, "INSERT INTO t (k) VALUES ($1)", p, 1);
	assert_int_equal(db_scalar(db, "SELECT count(*) FROM t", NULL, 0, v, sizeof(v), &d), 0);
	assert_string_equal(v, "1");
	db_rollback(db);
	assert_int_equal(db_scalar(db, "SELECT count(*) FROM t", NULL, 0, v, sizeof(v), &d), 0);
	assert_string_equal(v, "0");

	/* Committed: kept. */
	assert_int_equal(db_begin_write(db, &d), 0);
	p[0] = "kept";
	exec_ok(db, "INSERT INTO t (k) VALUES ($1)", p, 1);
	assert_int_equal(db_commit(db, &d), 0);
	assert_int_equal(db_scalar(db, "SELECT k FROM t", NULL, 0, v, sizeof(v), &d), 0);
	assert_string_equal(v, "kept");

	/* A failed statement inside a transaction, then the rollback. */
	assert_int_equal(db_begin_write(db, &d), 0);
	p[0] = "second";
	exec_ok(db, "INSERT INTO t (k) VALUES ($1)", p, 1);
	p[0] = "kept";
	assert_int_equal(db_exec(db, "INSERT INTO t (k) VALUES ($1)", p, 1, NULL, NULL, &d),
			 WARD_EIO);
	assert_non_null(strstr(d.msg, "UNIQUE"));
	db_rollback(db);
	assert_int_equal(db_scalar(db, "SELECT count(*) FROM t", NULL, 0, v, sizeof(v), &d), 0);
	assert_string_equal(v, "1");

	/* COMMIT with no transaction is the database's error, not a crash. */
	assert_int_equal(db_commit(db, &d), WARD_EIO);
	assert_true(d.msg[0] != '\0');
	db_rollback(db); /* harmless */
}

static void
test_bad_statement(void **state)
{
	struct db *db = *state;
	struct ward_diag d;
	char v[8];

	diag_clear(&d);
	assert_int_equal(db_exec(db, "SELEC 1", NULL, 0, NULL, NULL, &d), WARD_EIO);
	assert_non_null(strstr(d.msg, "syntax error"));
	diag_clear(&d);
	assert_int_equal(db_exec(db, "SELECT * FROM nowhere", NULL, 0, NULL, NULL, &d), WARD_EIO);
	assert_non_null(strstr(d.msg, "no such table: nowhere"));
	diag_clear(&d);
	assert_int_equal(db_scalar(db, "SELECT missing_col", NULL, 0, v, sizeof(v), &d), WARD_EIO);
	assert_non_null(strstr(d.msg, "no such column: missing_col"));
	/* The connection is still fine. */
	assert_int_equal(db_scalar(db, "SELECT 5", NULL, 0, v, sizeof(v), &d), 0);
	assert_string_equal(v, "5");
}

static void
test_bad_url(void **state)
{
	static const char *const urls[] = {"mysql://ward@db/ward", "sqlite", "/var/lib/ward.db", "",
					   "postgres:/x"};
	struct db *db = (struct db *)1;
	struct ward_diag d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		diag_clear(&d);
		assert_int_equal(db_open(urls[i], &db, &d), WARD_EINVAL);
		assert_null(db);
		assert_non_null(strstr(d.msg, "sqlite:/PATH or postgresql://"));
	}
	/* A file that cannot be created. */
	diag_clear(&d);
	assert_int_equal(db_open("sqlite:/nonexistent-ward-dir/x/ward.db", &db, &d), WARD_EIO);
	assert_null(db);
	assert_true(d.msg[0] != '\0');
}

static void
test_file(void **state)
{
	char dir[] = "/tmp/ward-test-db-XXXXXX", url[128], path[128];
	const char *p[1] = {"persisted"};
	struct db *db = NULL;
	struct ward_diag d;
	char v[32];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "sqlite:%s/ward.db", dir);
	assert_int_equal(db_open(url, &db, &d), 0);
	/* WAL with full synchronous commits. */
	assert_int_equal(db_scalar(db, "PRAGMA journal_mode", NULL, 0, v, sizeof(v), &d), 0);
	assert_string_equal(v, "wal");
	assert_int_equal(db_scalar(db, "PRAGMA synchronous", NULL, 0, v, sizeof(v), &d), 0);
	assert_string_equal(v, "2");
	exec_ok(db, "CREATE TABLE t (k TEXT)", NULL, 0);
	assert_int_equal(db_begin_write(db, &d), 0);
	exec_ok(db, "INSERT INTO t (k) VALUES ($1)", p, 1);
	assert_int_equal(db_commit(db, &d), 0);
	db_close(db);

	assert_int_equal(db_open(url, &db, &d), 0);
	assert_int_equal(db_scalar(db, "SELECT k FROM t", NULL, 0, v, sizeof(v), &d), 0);
	assert_string_equal(v, "persisted");
	db_close(db);

	snprintf(path, sizeof(path), "%s/ward.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ward.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ward.db-shm", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_memory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_params_by_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_params, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_null, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scalar_and_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_statement, setup, teardown),
	    cmocka_unit_test(test_bad_url),
	    cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
