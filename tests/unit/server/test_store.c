/*
 * Unit tests of server/store on an in-memory SQLite database: migrations
 * (idempotent; a newer schema refused), enrollment tokens (uses counted,
 * expiry, unknown tokens), host identity (re-enrolled, reinstalled,
 * clone), agent credentials and revocation, idempotent event commits and
 * what is acknowledged per journal, check-ins, bundles (arbitrary bytes
 * round-trip), admin tokens and the audit log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/store.h"
#include "util/clock.h"
#include "util/alloc.h"

#define NOW 1700000000

static int
setup(void **state)
{
	struct db *db = NULL;
	struct ward_diag d;

	if (db_open("sqlite::memory:", &db, &d) != 0)
		return -1;
	if (store_migrate(db, &d) != 0) {
		db_close(db);
		return -1;
	}
	*state = db;
	return 0;
}

static int
teardown(void **state)
{
	db_close(*state);
	return 0;
}

static long long
count(struct db *db, const char *sql)
{
	char v[32];
	struct ward_diag d;

	if (db_scalar(db, sql, NULL, 0, v, sizeof(v), &d) != 0)
		fail_msg("%s: %s", sql, d.msg);
	return atoll(v);
}

static void
token(struct db *db, const char *group, long long uses, int64_t expires,
      char t[STORE_SECRET_LEN + 1])
{
	struct ward_diag d;

	assert_int_equal(store_token_create(db, group, uses, expires, NOW, t, &d), 0);
	assert_int_equal(strlen(t), STORE_SECRET_LEN);
	assert_int_equal(strspn(t, "0123456789abcdef"), STORE_SECRET_LEN);
}

/* Enrolls with a proof of a previous identity when proof is given. */
static int
enroll_as(struct db *db, const char *tok, const char *machine, const char *hw,
	  const struct enroll_res *proof, int64_t now, struct enroll_res *res, struct ward_diag *d)
{
	struct enroll_msg q;

	memset(&q, 0, sizeof(q));
	snprintf(q.token, sizeof(q.token), "%s", tok);
	snprintf(q.machine_id, sizeof(q.machine_id), "%s", machine);
	snprintf(q.hw_id, sizeof(q.hw_id), "%s", hw);
	snprintf(q.hostname, sizeof(q.hostname), "host.example.org");
	snprintf(q.version, sizeof(q.version), "0.1.0");
	if (proof != NULL) {
		snprintf(q.agent_id, sizeof(q.agent_id), "%s", proof->agent_id);
		snprintf(q.secret, sizeof(q.secret), "%s", proof->secret);
	}
	return store_enroll(db, &q, "192.0.2.1", now, res, d);
}

static int
enroll(struct db *db, const char *tok, const char *machine, const char *hw, int64_t now,
       struct enroll_res *res, struct ward_diag *d)
{
	return enroll_as(db, tok, machine, hw, NULL, now, res, d);
}

static void
test_migrate(void **state)
{
	struct db *db = *state;
	struct ward_diag d;

	/* setup ran it once: again changes nothing. */
	assert_int_equal(store_migrate(db, &d), 0);
	assert_int_equal(store_migrate(db, &d), 0);
	assert_int_equal(count(db, "SELECT max(version) FROM schema_version"),
			 STORE_SCHEMA_VERSION);
	assert_int_equal(count(db, "SELECT count(*) FROM schema_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(count(db, "SELECT count(*) FROM agents"), 0);

	/* A database from a newer ward-server is refused, and left alone. */
	assert_int_equal(db_exec(db, "INSERT INTO schema_version (version) VALUES (99)", NULL, 0,
				 NULL, NULL, &d),
			 0);
	assert_int_equal(store_migrate(db, &d), WARD_EVERSION);
	assert_non_null(strstr(d.msg, "schema version 99"));
	assert_int_equal(count(db, "SELECT max(version) FROM schema_version"), 99);
}

static void
test_token_uses(void **state)
{
	struct db *db = *state;
	char one[STORE_SECRET_LEN + 1], two[STORE_SECRET_LEN + 1], any[STORE_SECRET_LEN + 1];
	struct enroll_res res;
	struct ward_diag d;
	int i;

	token(db, "web", 1, 0, one);
	token(db, "", 2, 0, two);
	token(db, "db", 0, 0, any);
	assert_string_not_equal(one, two);

	/* Only the hash is stored. */
	assert_int_equal(count(db, "SELECT count(*) FROM enroll_tokens WHERE length(hash) = 64"),
			 3);
	{
		const char *p[1] = {one};
		char v[8];

		assert_int_equal(db_scalar(db, "SELECT count(*) FROM enroll_tokens WHERE hash = $1",
					   p, 1, v, sizeof(v), &d),
				 0);
		assert_string_equal(v, "0");
	}

	/* A one-use token works once. */
	assert_int_equal(enroll(db, one, "m1", "h1", NOW, &res, &d), 0);
	assert_string_equal(res.group, "web");
	assert_string_equal(res.how, "new");
	assert_int_equal(enroll(db, one, "m2", "h2", NOW, &res, &d), WARD_EVERIFY);
	assert_non_null(strstr(d.msg, "used up"));
	assert_string_equal(res.agent_id, "");
	/* ... even for the host that used it. */
	assert_int_equal(enroll(db, one, "m1", "h1", NOW, &res, &d), WARD_EVERIFY);

	/* Two uses: twice; a refusal takes no use. */
	assert_int_equal(enroll(db, two, "m2", "h2", NOW, &res, &d), 0);
	assert_string_equal(res.group, "");
	assert_int_equal(enroll(db, two, "m3", "h3", NOW, &res, &d), 0);
	assert_int_equal(enroll(db, two, "m4", "h4", NOW, &res, &d), WARD_EVERIFY);
	assert_int_equal(enroll(db, two, "m4", "h4", NOW, &res, &d), WARD_EVERIFY);
	assert_int_equal(count(db, "SELECT count(*) FROM agents"), 3);

	/* 0 uses: unlimited. */
	for (i = 0; i < 5; i++) {
		char m[16], h[16];

		snprintf(m, sizeof(m), "any-m%d", i);
		snprintf(h, sizeof(h), "any-h%d", i);
		assert_int_equal(enroll(db, any, m, h, NOW, &res, &d), 0);
		assert_string_equal(res.group, "db");
	}
	assert_int_equal(count(db, "SELECT count(*) FROM agents"), 8);
}

static void
test_token_expiry(void **state)
{
	struct db *db = *state;
	char soon[STORE_SECRET_LEN + 1], never[STORE_SECRET_LEN + 1];
	struct enroll_res res;
	struct ward_diag d;

	token(db, "", 0, NOW + 10, soon);
	token(db, "", 0, 0, never);
	assert_int_equal(enroll(db, soon, "m1", "h1", NOW + 9, &res, &d), 0);
	assert_int_equal(enroll(db, soon, "m2", "h2", NOW + 10, &res, &d), WARD_EVERIFY);
	assert_non_null(strstr(d.msg, "expired"));
	assert_int_equal(enroll(db, soon, "m2", "h2", NOW + 3600, &res, &d), WARD_EVERIFY);
	assert_int_equal(enroll(db, never, "m2", "h2", NOW + 100LL * 365 * 86400, &res, &d), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM agents"), 2);
}

static void
test_token_unknown(void **state)
{
	struct db *db = *state;
	char real[STORE_SECRET_LEN + 1], fake[STORE_SECRET_LEN + 1];
	struct enroll_res res;
	struct ward_diag d;

	token(db, "", 0, 0, real);
	assert_int_equal(store_random_hex(fake, STORE_SECRET_LEN / 2), 0);
	assert_int_equal(enroll(db, fake, "m1", "h1", NOW, &res, &d), WARD_EVERIFY);
	assert_non_null(strstr(d.msg, "unknown enrollment token"));
	assert_int_equal(enroll(db, "", "m1", "h1", NOW, &res, &d), WARD_EVERIFY);
	/* The token's hash is no token. */
	assert_int_equal(enroll(db,
				"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
				"m1", "h1", NOW, &res, &d),
			 WARD_EVERIFY);
	assert_int_equal(count(db, "SELECT count(*) FROM agents"), 0);
}

static void
test_identity(void **state)
{
	struct db *db = *state;
	char t[STORE_SECRET_LEN + 1], lab[STORE_SECRET_LEN + 1], group[64];
	struct enroll_res first, again, claim, reinst, clone, clone2, wrong;
	struct ward_diag d;
	int why;
	json_t *agents, *pending;

	token(db, "web", 0, 0, t);
	token(db, "lab", 0, 0, lab);
	assert_int_equal(enroll(db, t, "machine-1", "hw-1", NOW, &first, &d), 0);
	assert_string_equal(first.how, "new");
	assert_string_equal(first.clone_of, "");
	assert_int_equal(strlen(first.agent_id), STORE_ID_LEN);
	assert_int_equal(strlen(first.secret), STORE_SECRET_LEN);

	/* The same agent proving its identity: the same agent, a new secret,
	 * the old one gone. */
	assert_int_equal(enroll_as(db, t, "machine-1", "hw-1", &first, NOW + 1, &again, &d), 0);
	assert_string_equal(again.agent_id, first.agent_id);
	assert_string_equal(again.how, "re-enrolled");
	assert_string_not_equal(again.secret, first.secret);
	assert_int_equal(store_agent_auth(db, first.agent_id, first.secret, &why, group, &d),
			 WARD_EVERIFY);
	assert_int_equal(store_agent_auth(db, first.agent_id, again.secret, &why, group, &d), 0);

	/* Someone else claiming its identity (same machine and hardware,
	 * another group's token, no secret): nothing is taken over.  The
	 * claim waits for an operator; the agent keeps working. */
	assert_int_equal(enroll(db, lab, "machine-1", "hw-1", NOW + 2, &claim, &d), 0);
	assert_string_equal(claim.how, "pending");
	assert_string_equal(claim.agent_id, first.agent_id);
	assert_int_equal(store_agent_auth(db, first.agent_id, again.secret, &why, group, &d), 0);
	assert_string_equal(group, "web");
	assert_int_equal(store_agent_auth(db, first.agent_id, claim.secret, &why, group, &d),
			 WARD_EVERIFY);
	assert_int_equal(why, STORE_AUTH_PENDING);
	assert_non_null(strstr(d.msg, "approve"));
	/* A wrong proof proves nothing: another pending claim. */
	wrong = first;
	assert_int_equal(enroll_as(db, lab, "machine-1", "hw-1", &wrong, NOW + 3, &claim, &d), 0);
	assert_string_equal(claim.how, "pending");
	/* The operator sees the claim, and denies it. */
	assert_int_equal(store_agents(db, NOW + 3, &agents, &d), 0);
	pending = json_object_get(json_array_get(agents, 0), "pending");
	assert_non_null(pending);
	assert_string_equal(json_string_value(json_object_get(pending, "token_group")), "lab");
	assert_string_equal(json_string_value(json_object_get(pending, "peer")), "192.0.2.1");
	json_decref(agents);
	assert_int_equal(store_agent_approve(db, first.agent_id, 0, &d), 0);
	assert_int_equal(store_agent_auth(db, first.agent_id, claim.secret, &why, group, &d),
			 WARD_EVERIFY);
	assert_int_equal(why, STORE_AUTH_UNKNOWN);
	assert_int_equal(store_agent_approve(db, first.agent_id, 1, &d), WARD_EUNDEFINED);

	/* Reinstalled (new machine id, same hardware), approved by the
	 * operator: the same agent with the new secret; the old one goes. */
	assert_int_equal(enroll(db, t, "machine-2", "hw-1", NOW + 4, &reinst, &d), 0);
	assert_string_equal(reinst.agent_id, first.agent_id);
	assert_string_equal(reinst.how, "pending");
	assert_int_equal(store_agent_approve(db, first.agent_id, 1, &d), 0);
	assert_int_equal(store_agent_auth(db, first.agent_id, reinst.secret, &why, group, &d), 0);
	assert_int_equal(store_agent_auth(db, first.agent_id, again.secret, &why, group, &d),
			 WARD_EVERIFY);
	assert_int_equal(count(db, "SELECT count(*) FROM agents"), 1);

	/* A clone: the same machine id on other hardware: a new agent, noted. */
	assert_int_equal(count(db, "SELECT count(*) FROM agents WHERE machine_id = 'machine-2'"),
			 1); /* the approved enrollment's machine id */
	assert_int_equal(enroll(db, t, "machine-2", "hw-2", NOW + 5, &clone, &d), 0);
	assert_string_not_equal(clone.agent_id, first.agent_id);
	assert_string_equal(clone.how, "clone");
	assert_string_equal(clone.clone_of, first.agent_id);
	assert_string_equal(clone.group, "web");
	assert_int_equal(store_agent_auth(db, clone.agent_id, clone.secret, &why, group, &d), 0);
	assert_int_equal(store_agent_auth(db, clone.agent_id, reinst.secret, &why, group, &d),
			 WARD_EVERIFY);
	/* The clone proving itself is itself. */
	assert_int_equal(enroll_as(db, t, "machine-2", "hw-2", &clone, NOW + 6, &clone2, &d), 0);
	assert_string_equal(clone2.agent_id, clone.agent_id);
	assert_string_equal(clone2.how, "re-enrolled");

	assert_int_equal(store_agents(db, NOW + 3, &agents, &d), 0);
	assert_int_equal(json_array_size(agents), 2);
	assert_null(json_object_get(json_array_get(agents, 0), "clone_of"));
	assert_null(json_object_get(json_array_get(agents, 0), "pending"));
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(agents, 1), "clone_of")),
	    first.agent_id);
	json_decref(agents);
}

/* A revoked host stays revoked: enrolling again (with or without its
 * secret, with any token) is refused until an operator lifts it. */
static void
test_revoked_stays_revoked(void **state)
{
	struct db *db = *state;
	char t[STORE_SECRET_LEN + 1], group[64];
	struct enroll_res a, again;
	struct ward_diag d;
	int why;

	token(db, "", 0, 0, t);
	assert_int_equal(enroll(db, t, "m1", "h1", NOW, &a, &d), 0);
	assert_int_equal(store_agent_revoke(db, a.agent_id, NOW + 1, 1, &d), 0);
	assert_int_equal(enroll(db, t, "m1", "h1", NOW + 2, &again, &d), WARD_EVERIFY);
	assert_non_null(strstr(d.msg, "unrevoke"));
	assert_int_equal(enroll(db, t, "m9", "h1", NOW + 2, &again, &d), WARD_EVERIFY);
	assert_int_equal(enroll_as(db, t, "m1", "h1", &a, NOW + 2, &again, &d), WARD_EVERIFY);
	assert_int_equal(count(db, "SELECT count(*) FROM agents"), 1);
	/* Lifted: the agent's own secret works again. */
	assert_int_equal(store_agent_revoke(db, a.agent_id, NOW + 3, 0, &d), 0);
	assert_int_equal(store_agent_auth(db, a.agent_id, a.secret, &why, group, &d), 0);
	assert_int_equal(store_agent_revoke(db, a.agent_id, NOW + 3, 0, &d), WARD_EUNDEFINED);
}

static void
test_agent_auth(void **state)
{
	struct db *db = *state;
	char t[STORE_SECRET_LEN + 1], group[64];
	struct enroll_res a, b;
	struct ward_diag d;
	int why;
	json_t *agents;

	token(db, "canary", 0, 0, t);
	assert_int_equal(enroll(db, t, "m1", "h1", NOW, &a, &d), 0);
	assert_int_equal(enroll(db, t, "m2", "h2", NOW, &b, &d), 0);

	strcpy(group, "junk");
	why = 5;
	assert_int_equal(store_agent_auth(db, a.agent_id, a.secret, &why, group, &d), 0);
	assert_int_equal(why, STORE_AUTH_OK);
	assert_string_equal(group, "canary");
	/* Another agent's secret, a near miss, no secret, no such agent. */
	assert_int_equal(store_agent_auth(db, a.agent_id, b.secret, &why, group, &d), WARD_EVERIFY);
	assert_int_equal(why, STORE_AUTH_UNKNOWN);
	{
		char near[STORE_SECRET_LEN + 1];

		memcpy(near, a.secret, sizeof(near));
		near[STORE_SECRET_LEN - 1] = near[STORE_SECRET_LEN - 1] == '0' ? '1' : '0';
		assert_int_equal(store_agent_auth(db, a.agent_id, near, &why, group, &d),
				 WARD_EVERIFY);
	}
	assert_int_equal(store_agent_auth(db, a.agent_id, "", &why, group, &d), WARD_EVERIFY);
	assert_int_equal(
	    store_agent_auth(db, "0123456789abcdef0123456789abcdef", a.secret, &why, group, &d),
	    WARD_EVERIFY);
	assert_int_equal(why, STORE_AUTH_UNKNOWN);

	/* Revoked: refused, and *why says so. */
	assert_int_equal(store_agent_revoke(db, a.agent_id, NOW + 5, 1, &d), 0);
	assert_int_equal(store_agent_auth(db, a.agent_id, a.secret, &why, group, &d), WARD_EVERIFY);
	assert_int_equal(why, STORE_AUTH_REVOKED);
	assert_non_null(strstr(d.msg, "revoked"));
	/* With a wrong secret it is just refused. */
	assert_int_equal(store_agent_auth(db, a.agent_id, b.secret, &why, group, &d), WARD_EVERIFY);
	assert_int_equal(why, STORE_AUTH_UNKNOWN);
	/* b is untouched. */
	assert_int_equal(store_agent_auth(db, b.agent_id, b.secret, &why, group, &d), 0);
	/* Revoking twice, or no such agent. */
	assert_int_equal(store_agent_revoke(db, a.agent_id, NOW + 6, 1, &d), WARD_EUNDEFINED);
	assert_int_equal(store_agent_revoke(db, "nobody", NOW + 6, 1, &d), WARD_EUNDEFINED);

	assert_int_equal(store_agents(db, NOW + 3, &agents, &d), 0);
	assert_int_equal(json_array_size(agents), 2);
	assert_true(json_is_true(json_object_get(json_array_get(agents, 0), "revoked")) !=
		    json_is_true(json_object_get(json_array_get(agents, 1), "revoked")));
	json_decref(agents);
}

static void
commit(struct db *db, const char *agent, const char *journal, const long long *seqs, size_t n,
       long long *acked)
{
	const char *bodies[8], *kinds[8];
	char text[8][64];
	struct ward_diag d;
	size_t i;

	assert_true(n <= 8);
	for (i = 0; i < n; i++) {
		snprintf(text[i], sizeof(text[i]), "{\"journal\": \"%s\", \"seq\": %lld}", journal,
			 seqs[i]);
		bodies[i] = text[i];
		kinds[i] = i % 2 ? "alert" : "process";
	}
	*acked = -1;
	if (store_events_commit(db, agent, journal, seqs, bodies, kinds, n, NOW, acked, &d) != 0)
		fail_msg("store_events_commit: %s", d.msg);
}

static void
test_events(void **state)
{
	struct db *db = *state;
	static const long long s123[] = {1, 2, 3}, s345[] = {3, 4, 5}, s12[] = {1, 2}, s1[] = {1},
			       s21[] = {2, 1};
	char t[STORE_SECRET_LEN + 1];
	struct enroll_res a, b;
	struct ward_diag d;
	long long acked;
	json_t *evs;

	token(db, "", 0, 0, t);
	assert_int_equal(enroll(db, t, "m1", "h1", NOW, &a, &d), 0);
	assert_int_equal(enroll(db, t, "m2", "h2", NOW, &b, &d), 0);

	commit(db, a.agent_id, "journal-A", s123, 3, &acked);
	assert_int_equal(acked, 3);
	/* The same batch again (a retry): stored once. */
	commit(db, a.agent_id, "journal-A", s123, 3, &acked);
	assert_int_equal(acked, 3);
	assert_int_equal(count(db, "SELECT count(*) FROM events"), 3);
	/* Overlapping: only the new ones. */
	commit(db, a.agent_id, "journal-A", s345, 3, &acked);
	assert_int_equal(acked, 5);
	assert_int_equal(count(db, "SELECT count(*) FROM events"), 5);
	/* An old batch does not take acked back. */
	commit(db, a.agent_id, "journal-A", s1, 1, &acked);
	assert_int_equal(acked, 5);
	/* An empty batch tells what is committed. */
	commit(db, a.agent_id, "journal-A", s1, 0, &acked);
	assert_int_equal(acked, 5);

	/* Another agent counts on its own. */
	commit(db, b.agent_id, "journal-B", s21, 2, &acked);
	assert_int_equal(acked, 2);

	/* A new journal (the agent lost its state): acked restarts from
	 * the batch, and its seqs 1, 2 are new events. */
	commit(db, a.agent_id, "journal-A2", s12, 2, &acked);
	assert_int_equal(acked, 2);
	assert_int_equal(count(db, "SELECT count(*) FROM events"), 9);
	commit(db, a.agent_id, "journal-A2", s12, 2, &acked);
	assert_int_equal(acked, 2);
	assert_int_equal(count(db, "SELECT count(*) FROM events"), 9);

	/* The events of a, seq > 1, oldest first. */
	assert_int_equal(store_events(db, a.agent_id, 1, 100, &evs, &d), 0);
	assert_int_equal(json_array_size(evs), 5); /* A: 2..5, A2: 2 */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(evs, 0), "seq")), 2);
	assert_true(json_is_object(json_object_get(json_array_get(evs, 0), "event")));
	json_decref(evs);
	assert_int_equal(store_events(db, NULL, 0, 4, &evs, &d), 0);
	assert_int_equal(json_array_size(evs), 4);
	json_decref(evs);
}

/* Batches larger than one INSERT statement: every event lands with its
 * own body and kind, a retry or an overlap adds nothing, a seq twice in
 * one batch is stored once. */
static void
test_events_large_batch(void **state)
{
	struct db *db = *state;
	enum { N = 1000 };
	char t[STORE_SECRET_LEN + 1], (*text)[32] = calloc(N + 200, sizeof(*text));
	const char **bodies = calloc(N + 200, sizeof(*bodies)),
		   **kinds = calloc(N + 200, sizeof(*kinds));
	long long *seqs = calloc(N + 200, sizeof(*seqs)), acked;
	struct enroll_res a;
	struct ward_diag d;
	size_t i, n;

	assert_non_null(text);
	assert_non_null(bodies);
	assert_non_null(kinds);
	assert_non_null(seqs);
	token(db, "", 0, 0, t);
	assert_int_equal(enroll(db, t, "m1", "h1", NOW, &a, &d), 0);
	/* seqs N..1 (backwards), then seq 500 again. */
	for (i = 0; i < N; i++)
		seqs[i] = (long long)(N - i);
	seqs[N] = 500;
	n = N + 1;
	for (i = 0; i < n; i++) {
		snprintf(text[i], sizeof(text[i]), "{\"seq\":%lld}", seqs[i]);
		bodies[i] = text[i];
		kinds[i] = seqs[i] % 3 == 0 ? "alert" : "process";
	}
	assert_int_equal(
	    store_events_commit(db, a.agent_id, "J", seqs, bodies, kinds, n, NOW, &acked, &d), 0);
	assert_int_equal(acked, N);
	assert_int_equal(count(db, "SELECT count(*) FROM events"), N);
	assert_int_equal(
	    count(db, "SELECT count(*) FROM events WHERE body <> '{\"seq\":' || seq || '}'"), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM events WHERE kind <>"
				   " CASE WHEN seq % 3 = 0 THEN 'alert' ELSE 'process' END"),
			 0);
	assert_int_equal(count(db, "SELECT count(*) FROM events WHERE received <> 1700000000"), 0);

	/* The retry. */
	assert_int_equal(
	    store_events_commit(db, a.agent_id, "J", seqs, bodies, kinds, n, NOW, &acked, &d), 0);
	assert_int_equal(acked, N);
	assert_int_equal(count(db, "SELECT count(*) FROM events"), N);

	/* Overlapping: 901..1100. */
	for (i = 0; i < 200; i++) {
		seqs[i] = (long long)(N - 99 + i);
		snprintf(text[i], sizeof(text[i]), "{\"seq\":%lld}", seqs[i]);
		bodies[i] = text[i];
		kinds[i] = seqs[i] % 3 == 0 ? "alert" : "process";
	}
	assert_int_equal(
	    store_events_commit(db, a.agent_id, "J", seqs, bodies, kinds, 200, NOW, &acked, &d), 0);
	assert_int_equal(acked, N + 100);
	assert_int_equal(count(db, "SELECT count(*) FROM events"), N + 100);
	assert_int_equal(
	    count(db, "SELECT count(*) FROM events WHERE body <> '{\"seq\":' || seq || '}'"), 0);
	free(text);
	free(bodies);
	free(kinds);
	free(seqs);
}

static void
test_checkin(void **state)
{
	struct db *db = *state;
	static const long long seqs[] = {1, 2, 3, 7};
	char t[STORE_SECRET_LEN + 1];
	struct enroll_res a;
	struct ward_diag d;
	long long acked;
	json_t *agents, *ag;

	token(db, "", 0, 0, t);
	assert_int_equal(enroll(db, t, "m1", "h1", NOW, &a, &d), 0);

	/* Nothing committed yet. */
	acked = -1;
	assert_int_equal(store_checkin(db, a.agent_id, NOW + 1, "{\"mode\": \"protect\"}", 3,
				       "protect", "journal-A", 0, &acked, &d),
			 0);
	assert_int_equal(acked, 0);

	commit(db, a.agent_id, "journal-A", seqs, 4, &acked);
	assert_int_equal(acked, 7);
	acked = -1;
	assert_int_equal(store_checkin(db, a.agent_id, NOW + 2, "{\"mode\": \"protect\"}", 4,
				       "protect", "journal-A", 0, &acked, &d),
			 0);
	assert_int_equal(acked, 7);
	/* Another journal: nothing of it is committed. */
	acked = -1;
	assert_int_equal(store_checkin(db, a.agent_id, NOW + 3, "{\"mode\": \"detect\"}", 4,
				       "detect", "journal-B", 30, &acked, &d),
			 0);
	assert_int_equal(acked, 0);

	assert_int_equal(store_agents(db, NOW + 3, &agents, &d), 0);
	ag = json_array_get(agents, 0);
	assert_int_equal(json_integer_value(json_object_get(ag, "checkins")), 3);
	{
		char at[21];

		clock_utc(NOW + 3, at);
		assert_string_equal(json_string_value(json_object_get(ag, "last_seen")), at);
	}
	/* A long poll of 30 s: connected until then. */
	assert_true(json_is_true(json_object_get(ag, "connected")));
	json_decref(agents);
	assert_int_equal(store_agents(db, NOW + 34, &agents, &d), 0);
	ag = json_array_get(agents, 0);
	assert_true(json_is_false(json_object_get(ag, "connected")));
	assert_int_equal(json_integer_value(json_object_get(ag, "content_version")), 4);
	assert_string_equal(json_string_value(json_object_get(ag, "mode")), "detect");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(ag, "report"), "mode")), "detect");
	assert_int_equal(json_integer_value(json_object_get(ag, "acked_seq")), 7);
	json_decref(agents);
}

/* A held check-in that wakes learns a revocation made meanwhile, and
 * what of its journal is committed. */
static void
test_agent_held(void **state)
{
	struct db *db = *state;
	static const long long seqs[] = {1, 2, 5};
	char t[STORE_SECRET_LEN + 1];
	struct enroll_res a;
	struct ward_diag d;
	long long acked;
	int revoked;

	token(db, "", 0, 0, t);
	assert_int_equal(enroll(db, t, "m1", "h1", NOW, &a, &d), 0);
	assert_int_equal(
	    store_checkin(db, a.agent_id, NOW + 1, "{}", 3, "protect", "journal-A", 30, &acked, &d),
	    0);
	commit(db, a.agent_id, "journal-A", seqs, 3, &acked);
	assert_int_equal(acked, 5);
	revoked = -1;
	acked = -1;
	assert_int_equal(store_agent_held(db, a.agent_id, "journal-A", &revoked, &acked, &d), 0);
	assert_int_equal(revoked, 0);
	assert_int_equal(acked, 5);
	assert_int_equal(store_agent_held(db, a.agent_id, "journal-B", &revoked, &acked, &d), 0);
	assert_int_equal(acked, 0); /* another journal: nothing of it */
	assert_int_equal(store_agent_revoke(db, a.agent_id, NOW + 2, 1, &d), 0);
	assert_int_equal(store_agent_held(db, a.agent_id, "journal-A", &revoked, &acked, &d), 0);
	assert_int_equal(revoked, 1);
	assert_int_equal(acked, 0);
}

static void
test_bundles(void **state)
{
	struct db *db = *state;
	static const size_t sizes[] = {0, 1, 2, 3, 4, 5, 6, 7, 64, 1000, 1001, 1002, 65537};
	uint8_t *buf = ward_malloc(65537);
	struct ward_diag d;
	size_t i, k, len;
	char sha[65];
	void *out;

	assert_non_null(buf);
	for (k = 0; k < 65537; k++)
		buf[k] =
		    (uint8_t)(k % 3 == 0 ? 0 : (k * 131 + 7) & 0xff); /* NULs, and every byte */
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(sha, sizeof(sha), "%064zx", sizes[i] + 1);
		assert_int_equal(
		    store_bundle_put(db, sha, "default", (long long)i + 1, buf, sizes[i], NOW, &d),
		    0);
		out = NULL;
		len = 12345;
		assert_int_equal(store_bundle_get(db, sha, &out, &len, &d), 0);
		assert_int_equal(len, sizes[i]);
		assert_non_null(out);
		if (len > 0)
			assert_memory_equal(out, buf, len);
		ward_free(out);
	}
	/* Idempotent by sha256: the first bytes stay. */
	snprintf(sha, sizeof(sha), "%064zx", sizes[4] + 1);
	assert_int_equal(store_bundle_put(db, sha, "other", 99, "xyz", 3, NOW, &d), 0);
	assert_int_equal(store_bundle_get(db, sha, &out, &len, &d), 0);
	assert_int_equal(len, sizes[4]);
	assert_memory_equal(out, buf, sizes[4]);
	ward_free(out);
	assert_int_equal(count(db, "SELECT count(*) FROM bundles"),
			 sizeof(sizes) / sizeof(sizes[0]));

	/* None stored under that sha256. */
	out = (void *)buf;
	len = 7;
	assert_int_equal(store_bundle_get(db, "ffff", &out, &len, &d), WARD_EUNDEFINED);
	assert_null(out);
	assert_int_equal(len, 0);
	ward_free(buf);
}

static void
test_admin_tokens(void **state)
{
	struct db *db = *state;
	char v[STORE_SECRET_LEN + 1], o[STORE_SECRET_LEN + 1], role[16], name[64];
	struct ward_diag d;

	assert_int_equal(store_admin_token_create(db, "root", "superuser", NOW, v, &d),
			 WARD_EINVAL);
	assert_non_null(strstr(d.msg, "viewer, operator or admin"));
	assert_int_equal(store_admin_token_create(db, "root", "", NOW, v, &d), WARD_EINVAL);
	assert_int_equal(store_admin_token_create(db, "root", "Admin", NOW, v, &d), WARD_EINVAL);
	assert_int_equal(count(db, "SELECT count(*) FROM admin_tokens"), 0);

	assert_int_equal(store_admin_token_create(db, "dash", "viewer", NOW, v, &d), 0);
	assert_int_equal(store_admin_token_create(db, "ci", "operator", NOW, o, &d), 0);
	assert_int_equal(strlen(v), STORE_SECRET_LEN);
	assert_string_not_equal(v, o);
	assert_int_equal(store_admin_auth(db, v, role, name, &d), 0);
	assert_string_equal(role, "viewer");
	assert_string_equal(name, "dash");
	assert_int_equal(store_admin_auth(db, o, role, name, &d), 0);
	assert_string_equal(role, "operator");
	assert_string_equal(name, "ci");
	assert_int_equal(store_admin_auth(db, "not-a-token", role, name, &d), WARD_EVERIFY);
	assert_int_equal(store_admin_auth(db, "", role, name, &d), WARD_EVERIFY);
}

static void
test_audit(void **state)
{
	struct db *db = *state;
	struct ward_diag d;
	json_t *list, *e;

	assert_int_equal(
	    store_audit(db, "token:root", "token.create", "{\"group\": \"web\"}", NOW, &d), 0);
	assert_int_equal(
	    store_audit(db, "token:ci", "agent.revoke", "{\"agent_id\": \"abc\"}", NOW + 10, &d),
	    0);
	assert_int_equal(store_audit(db, "token:ci", "freeze", "not json", NOW + 20, &d), 0);

	assert_int_equal(store_audit_list(db, 100, &list, &d), 0);
	assert_int_equal(json_array_size(list), 3);
	/* Newest first. */
	e = json_array_get(list, 1);
	{
		char t[21];

		clock_utc(NOW + 10, t);
		assert_string_equal(json_string_value(json_object_get(e, "at")), t);
	}
	assert_string_equal(json_string_value(json_object_get(e, "who")), "token:ci");
	assert_string_equal(json_string_value(json_object_get(e, "action")), "agent.revoke");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(e, "detail"), "agent_id")), "abc");
	/* A detail that is not JSON shows as {}. */
	e = json_array_get(list, 0);
	assert_string_equal(json_string_value(json_object_get(e, "action")), "freeze");
	assert_true(json_is_object(json_object_get(e, "detail")));
	json_decref(list);

	assert_int_equal(store_audit_list(db, 2, &list, &d), 0);
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "who")),
			    "token:ci");
	json_decref(list);
}

/* Retention: events and audit entries older than their days go, in
 * batches; newer ones and 0 (keep) stay. */
static void
test_purge(void **state)
{
	struct db *db = *state;
	char t[STORE_SECRET_LEN + 1];
	struct enroll_res a;
	struct ward_diag d;
	long long seqs[3] = {1, 2, 3}, acked, n;
	const char *bodies[3] = {"{}", "{}", "{}"}, *kinds[3] = {"", "", ""};

	token(db, "", 0, 0, t);
	assert_int_equal(enroll(db, t, "m1", "h1", NOW, &a, &d), 0);
	assert_int_equal(store_events_commit(db, a.agent_id, "j", seqs, bodies, kinds, 2,
					     NOW - 10 * 86400, &acked, &d),
			 0);
	assert_int_equal(
	    store_events_commit(db, a.agent_id, "j", seqs + 2, bodies, kinds, 1, NOW, &acked, &d),
	    0);
	assert_int_equal(store_audit(db, "x", "old", "{}", NOW - 400 * 86400, &d), 0);
	assert_int_equal(store_audit(db, "x", "new", "{}", NOW, &d), 0);
	/* 0: keep for ever. */
	assert_int_equal(store_purge(db, NOW, 0, 0, &n, &d), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_purge(db, NOW, 7, 365, &n, &d), 0);
	assert_int_equal(n, 3);
	assert_int_equal(count(db, "SELECT count(*) FROM events"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM events WHERE seq = 3"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM audit"), 1);
	assert_int_equal(store_purge(db, NOW, 7, 365, &n, &d), 0);
	assert_int_equal(n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_token_uses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_token_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_token_unknown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revoked_stays_revoked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_agent_auth, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_events_large_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checkin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_agent_held, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bundles, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_admin_tokens, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
