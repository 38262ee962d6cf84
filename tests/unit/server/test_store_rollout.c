/*
 * Unit tests of server/store_rollout on SQLite (in memory, and a temp
 * file for two connections): a release's life through typed rows (facts,
 * insert, states, promote, waiting, complete, list newest first), rings
 * (candidates skip assigned, revoked and pinned agents; an agent keeps its
 * first ring), faults (the first report of a kind decides whether it
 * counts; causes come back typed), a halt that is all or nothing, the
 * timeline, what agents are told (pin, assignment, current, delivered
 * once), settings, hostile text (quotes stored verbatim, long text cut to
 * the field, never inside a UTF-8 character) and two connections deciding one after the other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/store.h"
#include "proto/cause.h"
#include "server/store_rollout.h"
#include "util/alloc.h"

#define NOW 1700000000

struct fx {
	struct db *db;
	char ids[8][STORE_ID_LEN + 1];
	int n;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ward_diag d;

	if (f == NULL)
		return -1;
	if (db_open("sqlite::memory:", &f->db, &d) != 0 || store_migrate(f->db, &d) != 0) {
		db_close(f->db);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	db_close(f->db);
	free(f);
	return 0;
}

static void
enroll(struct fx *f, const char *group, int n)
{
	char t[STORE_SECRET_LEN + 1];
	struct enroll_res res;
	struct ward_diag d;
	int i;

	assert_int_equal(store_token_create(f->db, group, 0, 0, NOW - 100, t, &d), 0);
	for (i = 0; i < n; i++) {
		struct enroll_msg q;

		assert_true(f->n < 8);
		memset(&q, 0, sizeof(q));
		snprintf(q.token, sizeof(q.token), "%s", t);
		snprintf(q.machine_id, sizeof(q.machine_id), "machine-%d", f->n);
		snprintf(q.hw_id, sizeof(q.hw_id), "hw-%d", f->n);
		snprintf(q.hostname, sizeof(q.hostname), "host-%d", f->n);
		snprintf(q.version, sizeof(q.version), "0.1.0");
		assert_int_equal(store_enroll(f->db, &q, "-", NOW - 100, &res, &d), 0);
		snprintf(f->ids[f->n++], sizeof(f->ids[0]), "%s", res.agent_id);
	}
}

static void
bundle(struct db *db, long long v, char sha[65])
{
	unsigned char bytes[4] = {'W', (unsigned char)v, 0, 1};
	struct ward_diag d;

	snprintf(sha, 65, "%064llx", 0xc0000 + v);
	assert_int_equal(store_bundle_put(db, sha, "default", v, bytes, sizeof(bytes), NOW, &d), 0);
}

static long long
release_new(struct db *db, long long v, int64_t now)
{
	char sha[65];
	struct ward_diag d;
	long long id = -1;

	bundle(db, v, sha);
	assert_int_equal(store_release_insert(db, sha, v, "{\"rings\":[]}", now, &id, &d), 0);
	return id;
}

static void
test_release_life(void **state)
{
	struct fx *f = *state;
	struct store_release_facts fa;
	struct store_release r, *list = NULL;
	struct ward_diag d;
	char sha[65];
	size_t n = 0;
	int found = -1;
	long long id;

	/* no bundle: the facts say so */
	assert_int_equal(store_release_facts(f->db, "00", &fa, &d), 0);
	assert_false(fa.bundle_found);
	assert_false(fa.top_found);
	assert_int_equal(store_release_get(f->db, 1, &r, &found, &d), 0);
	assert_false(found);
	assert_int_equal(store_release_running(f->db, &r, &found, &d), 0);
	assert_false(found);

	bundle(f->db, 7, sha);
	assert_int_equal(store_release_insert(f->db, sha, 7, "{\"rings\":[1]}", NOW, &id, &d), 0);
	assert_int_equal(id, 1);
	assert_int_equal(store_release_facts(f->db, sha, &fa, &d), 0);
	assert_true(fa.bundle_found);
	assert_int_equal(fa.version, 7);
	assert_int_equal(fa.active, 1);
	assert_false(fa.top_found);

	assert_int_equal(store_release_get(f->db, id, &r, &found, &d), 0);
	assert_true(found);
	assert_string_equal(r.state, "running");
	assert_string_equal(r.bundle, sha);
	assert_string_equal(r.plan, "{\"rings\":[1]}");
	assert_int_equal(r.ring, -1);
	assert_int_equal(r.created, NOW);
	store_release_free(&r);

	assert_int_equal(store_release_start_ring(f->db, id, 0, NOW + 5, &d), 0);
	assert_int_equal(store_release_promote(f->db, id, NOW + 6, &d), 0);
	assert_int_equal(store_release_set_waiting(f->db, id, "two agents silent", &d), 0);
	assert_int_equal(store_release_running(f->db, &r, &found, &d), 0);
	assert_true(found);
	assert_int_equal(r.ring, 0);
	assert_int_equal(r.ring_started, NOW + 5);
	assert_int_equal(r.promote, 1);
	assert_int_equal(r.updated, NOW + 6);
	assert_string_equal(r.waiting, "two agents silent");
	store_release_free(&r);

	/* a new ring forgets the promotion and the wait */
	assert_int_equal(store_release_start_ring(f->db, id, 1, NOW + 7, &d), 0);
	assert_int_equal(store_release_get(f->db, id, &r, &found, &d), 0);
	assert_int_equal(r.promote, 0);
	assert_string_equal(r.waiting, "");
	store_release_free(&r);

	/* paused: no longer the running one, still active */
	assert_int_equal(store_release_set_state(f->db, id, "paused", NULL, NOW + 8, &d), 0);
	assert_int_equal(store_release_running(f->db, &r, &found, &d), 0);
	assert_false(found);
	assert_int_equal(store_release_facts(f->db, sha, &fa, &d), 0);
	assert_int_equal(fa.active, 1);
	assert_int_equal(store_release_set_state(f->db, id, "running", NULL, NOW + 9, &d), 0);
	assert_int_equal(store_release_set_waiting(f->db, id, "x", &d), 0);
	assert_int_equal(store_release_complete(f->db, id, NOW + 10, &d), 0);
	assert_int_equal(store_release_get(f->db, id, &r, &found, &d), 0);
	assert_string_equal(r.state, "completed");
	assert_string_equal(r.waiting, "");
	assert_string_equal(r.reason, "");
	store_release_free(&r);
	assert_int_equal(store_release_facts(f->db, sha, &fa, &d), 0);
	assert_int_equal(fa.active, 0);
	assert_true(fa.top_found);
	assert_int_equal(fa.top, 7);

	id = release_new(f->db, 8, NOW + 20);
	assert_int_equal(id, 2);
	assert_int_equal(
	    store_release_set_state(f->db, id, "aborted", "aborted by ops", NOW + 21, &d), 0);
	/* a state change without a reason keeps the reason */
	assert_int_equal(store_release_set_state(f->db, id, "aborted", NULL, NOW + 22, &d), 0);
	assert_int_equal(store_release_list(f->db, &list, &n, &d), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, 2); /* newest first */
	assert_string_equal(list[0].state, "aborted");
	assert_string_equal(list[0].reason, "aborted by ops");
	assert_int_equal(list[1].id, 1);
	store_releases_free(list, n);
}

static void
test_rings(void **state)
{
	struct fx *f = *state;
	struct store_candidate *c = NULL;
	struct gate_member *m = NULL;
	struct ward_diag d;
	char sha[65];
	size_t n = 0, i;
	long long id;

	enroll(f, "web", 2);
	enroll(f, "db", 2);
	id = release_new(f->db, 3, NOW);
	assert_int_equal(store_release_candidates(f->db, id, &c, &n, &d), 0);
	assert_int_equal(n, 4);
	ward_free(c);

	assert_int_equal(store_release_assign(f->db, id, f->ids[0], 0, NOW, 1234, &d), 0);
	/* assigned again (another ring): it keeps its first ring */
	assert_int_equal(store_release_assign(f->db, id, f->ids[0], 1, NOW + 1, 5678, &d), 0);
	assert_int_equal(store_release_candidates(f->db, id, &c, &n, &d), 0);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++)
		assert_string_not_equal(c[i].agent_id, f->ids[0]);
	ward_free(c);

	/* a pinned group is never a candidate; a revoked agent neither */
	bundle(f->db, 2, sha);
	assert_int_equal(store_pin_set(f->db, "db", sha, NOW, &d), 0);
	assert_int_equal(store_agent_revoke(f->db, f->ids[1], NOW, 1, &d), 0);
	assert_int_equal(store_release_candidates(f->db, id, &c, &n, &d), 0);
	assert_int_equal(n, 0);
	ward_free(c);
	assert_int_equal(store_pin_clear(f->db, "db", &d), 0);
	assert_int_equal(store_release_candidates(f->db, id, &c, &n, &d), 0);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++)
		assert_string_equal(c[i].group, "db");
	ward_free(c);

	assert_int_equal(store_release_assign(f->db, id, f->ids[1], 0, NOW, 99, &d), 0);
	assert_int_equal(store_ring_members(f->db, id, &m, &n, &d), 0);
	assert_int_equal(n, 1); /* the revoked one is not a member */
	assert_string_equal(m[0].agent_id, f->ids[0]);
	assert_int_equal(m[0].ring, 0);
	assert_int_equal(m[0].assigned_ms, 1234);
	assert_int_equal(m[0].delivered_ms, 0);
	assert_string_equal(m[0].hostname, "host-0");
	ward_free(m);

	/* delivered: the first time only */
	assert_int_equal(store_assignment_delivered(f->db, id, f->ids[0], 2000, &d), 0);
	assert_int_equal(store_assignment_delivered(f->db, id, f->ids[0], 3000, &d), 0);
	assert_int_equal(store_ring_members(f->db, id, &m, &n, &d), 0);
	assert_int_equal(m[0].delivered_ms, 2000);
	ward_free(m);
}

static void
test_faults(void **state)
{
	struct fx *f = *state;
	struct gate_fault *fl = NULL;
	struct ward_diag d;
	size_t nf = 0, cap = 0, i;
	long long id;

	enroll(f, "", 2);
	id = release_new(f->db, 4, NOW);
	/* claimed before delivery: never counts, whatever comes later */
	assert_int_equal(store_fault_add(f->db, id, f->ids[0], "crash", 0, 10, "early", &d), 0);
	assert_int_equal(store_fault_add(f->db, id, f->ids[0], "crash", 1, 20, "later", &d), 0);
	assert_int_equal(store_fault_add(f->db, id, f->ids[1], cause_name(CAUSE_FORMAT), 1, 30,
					 "it's '; DROP TABLE agent_faults; --", &d),
			 0);
	/* another release's fault is not this one's */
	assert_int_equal(store_fault_add(f->db, id + 1, f->ids[1], "crash", 1, 40, "x", &d), 0);

	/* appended after what the caller holds */
	assert_int_equal(ward_grow(&fl, &cap, 1, sizeof(*fl)), 0);
	memset(fl, 0, sizeof(*fl));
	snprintf(fl[0].agent_id, sizeof(fl[0].agent_id), "held");
	nf = 1;
	assert_int_equal(store_release_faults(f->db, id, &fl, &nf, &cap, &d), 0);
	assert_int_equal(nf, 3);
	assert_string_equal(fl[0].agent_id, "held");
	for (i = 1; i < nf; i++) {
		if (strcmp(fl[i].agent_id, f->ids[0]) == 0) {
			assert_int_equal(fl[i].kind, GATE_CRASH);
			assert_false(fl[i].counted);
			assert_int_equal(fl[i].reported_ms, 10);
			assert_string_equal(fl[i].detail, "early");
		} else {
			assert_int_equal(fl[i].kind, GATE_REFUSED);
			assert_int_equal(fl[i].cause, CAUSE_FORMAT);
			assert_true(fl[i].counted);
			assert_string_equal(fl[i].detail, "it's '; DROP TABLE agent_faults; --");
		}
	}
	ward_free(fl);
}

static long long
count(struct db *db, const char *sql)
{
	char v[24];
	struct ward_diag d;

	assert_int_equal(db_scalar(db, sql, NULL, 0, v, sizeof(v), &d), 0);
	return atoll(v);
}

static void
test_halt_all_or_nothing(void **state)
{
	struct fx *f = *state;
	struct store_incident *in = NULL;
	struct store_release r;
	struct ward_diag d;
	size_t n = 0;
	int found;
	long long id = release_new(f->db, 5, NOW);

	assert_int_equal(store_release_start_ring(f->db, id, 0, NOW, &d), 0);
	/* rolled back: neither state, incident nor audit line stays */
	assert_int_equal(store_rollout_begin(f->db, &d), 0);
	assert_int_equal(
	    store_release_halt(f->db, id, 0, "3 crashes", "{\"a\":1}", "{}", NOW + 1, &d), 0);
	store_rollout_rollback(f->db);
	assert_int_equal(store_release_get(f->db, id, &r, &found, &d), 0);
	assert_string_equal(r.state, "running");
	store_release_free(&r);
	assert_int_equal(count(f->db, "SELECT count(*) FROM incidents"), 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM audit WHERE action = 'release-halted'"),
			 0);

	assert_int_equal(store_rollout_begin(f->db, &d), 0);
	assert_int_equal(store_release_halt(f->db, id, 0, "3 crashes", "{\"a\":1}",
					    "{\"release\":1}", NOW + 2, &d),
			 0);
	assert_int_equal(store_rollout_commit(f->db, &d), 0);
	assert_int_equal(store_release_get(f->db, id, &r, &found, &d), 0);
	assert_string_equal(r.state, "halted");
	assert_string_equal(r.reason, "3 crashes");
	store_release_free(&r);
	assert_int_equal(count(f->db, "SELECT count(*) FROM audit WHERE action = 'release-halted'"),
			 1);
	assert_int_equal(store_incidents(f->db, id, &in, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_int_equal(in[0].ts, NOW + 2);
	assert_string_equal(in[0].reason, "3 crashes");
	assert_string_equal(in[0].evidence, "{\"a\":1}");
	store_incidents_free(in, n);
}

static void
test_timeline(void **state)
{
	struct fx *f = *state;
	struct store_timeline_line *l = NULL;
	struct ward_diag d;
	size_t n = 0;
	long long a = release_new(f->db, 1, NOW), b;

	assert_int_equal(store_release_complete(f->db, a, NOW, &d), 0);
	b = release_new(f->db, 2, NOW);
	assert_int_equal(store_timeline_add(f->db, b, -1, NOW, "published", &d), 0);
	assert_int_equal(store_timeline_add(f->db, b, 0, NOW + 1, "ring 0 started", &d), 0);
	/* only running or paused releases hear a fleet-wide line */
	assert_int_equal(store_timeline_add_active(f->db, NOW + 2, "frozen", &d), 0);
	assert_int_equal(store_timeline(f->db, a, &l, &n, &d), 0);
	assert_int_equal(n, 0);
	ward_free(l);
	assert_int_equal(store_timeline(f->db, b, &l, &n, &d), 0);
	assert_int_equal(n, 3);
	assert_string_equal(l[0].text, "published");
	assert_int_equal(l[0].ring, -1);
	assert_string_equal(l[1].text, "ring 0 started");
	assert_string_equal(l[2].text, "frozen");
	assert_int_equal(l[2].ts, NOW + 2);
	ward_free(l);
}

static void
test_targets(void **state)
{
	struct fx *f = *state;
	struct store_target t;
	struct store_pin *p = NULL;
	struct ward_diag d;
	char sha[65], got[65];
	size_t n = 0;
	int found;
	long long a, b;

	enroll(f, "web", 1);
	assert_int_equal(store_current_target(f->db, &t, &found, &d), 0);
	assert_false(found);
	a = release_new(f->db, 1, NOW);
	assert_int_equal(store_release_complete(f->db, a, NOW, &d), 0);
	b = release_new(f->db, 2, NOW);
	assert_int_equal(store_release_assign(f->db, b, f->ids[0], 0, NOW, 5, &d), 0);

	assert_int_equal(store_current_target(f->db, &t, &found, &d), 0);
	assert_true(found);
	assert_int_equal(t.version, 1);
	assert_int_equal(t.size, 4);
	assert_int_equal(store_assignment_latest(f->db, f->ids[0], &t, &found, &d), 0);
	assert_true(found);
	assert_int_equal(t.release_id, b);
	assert_int_equal(t.version, 2);
	assert_string_equal(t.state, "running");
	assert_int_equal(store_assignment_active(f->db, f->ids[0], &t, &found, &d), 0);
	assert_true(found);
	assert_int_equal(t.release_id, b);
	assert_int_equal(store_release_set_state(f->db, b, "aborted", "x", NOW, &d), 0);
	assert_int_equal(store_assignment_active(f->db, f->ids[0], &t, &found, &d), 0);
	assert_false(found);
	assert_int_equal(store_assignment_latest(f->db, f->ids[0], &t, &found, &d), 0);
	assert_true(found);
	assert_string_equal(t.state, "aborted");

	assert_int_equal(store_bundle_by_version(f->db, 9, got, &found, &d), 0);
	assert_false(found);
	assert_int_equal(store_bundle_by_version(f->db, 1, got, &found, &d), 0);
	assert_true(found);
	snprintf(sha, sizeof(sha), "%s", got);
	/* a group name with quotes is a value, stored as it is */
	assert_int_equal(store_pin_set(f->db, "o'hara\"; --", sha, NOW, &d), 0);
	assert_int_equal(store_pin_set(f->db, "o'hara\"; --", sha, NOW + 3, &d), 0);
	assert_int_equal(store_pin_target(f->db, "o'hara\"; --", &t, &found, &d), 0);
	assert_true(found);
	assert_int_equal(t.version, 1);
	assert_int_equal(store_pin_target(f->db, "web", &t, &found, &d), 0);
	assert_false(found);
	assert_int_equal(store_pin_list(f->db, &p, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_string_equal(p[0].group, "o'hara\"; --");
	assert_int_equal(p[0].since, NOW + 3);
	ward_free(p);
}

static void
test_settings(void **state)
{
	struct fx *f = *state;
	struct ward_diag d;
	long long g;
	int on;

	assert_int_equal(store_generation(f->db, &g, &d), 0);
	assert_int_equal(g, 0);
	assert_int_equal(store_generation_bump(f->db, &d), 0);
	assert_int_equal(store_generation_bump(f->db, &d), 0);
	assert_int_equal(store_generation(f->db, &g, &d), 0);
	assert_int_equal(g, 2);
	assert_int_equal(store_freeze_get(f->db, &on, &d), 0);
	assert_false(on);
	assert_int_equal(store_freeze_set(f->db, 1, &d), 0);
	assert_int_equal(store_freeze_get(f->db, &on, &d), 0);
	assert_true(on);
	assert_int_equal(store_freeze_set(f->db, 0, &d), 0);
	assert_int_equal(store_freeze_get(f->db, &on, &d), 0);
	assert_false(on);
}

/* Text longer than a field is cut to it, never past it. */
static void
test_long_text_cut(void **state)
{
	struct fx *f = *state;
	struct store_release r;
	struct ward_diag d;
	char big[4000];
	int found;
	long long id = release_new(f->db, 6, NOW);

	memset(big, 'w', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(store_release_set_waiting(f->db, id, big, &d), 0);
	assert_int_equal(store_release_set_state(f->db, id, "halted", big, NOW, &d), 0);
	assert_int_equal(store_release_get(f->db, id, &r, &found, &d), 0);
	assert_int_equal(strlen(r.waiting), sizeof(r.waiting) - 1);
	assert_int_equal(strlen(r.reason), sizeof(r.reason) - 1);
	store_release_free(&r);

	/* cut inside a two-byte character: the partial character goes */
	memset(big, 'w', sizeof(r.waiting) - 2);
	memcpy(big + sizeof(r.waiting) - 2, "\xc3\xa9", 3);
	assert_int_equal(store_release_set_waiting(f->db, id, big, &d), 0);
	assert_int_equal(store_release_get(f->db, id, &r, &found, &d), 0);
	assert_int_equal(strlen(r.waiting), sizeof(r.waiting) - 2);
	store_release_free(&r);
	/* one that fits is kept whole */
	memcpy(big + sizeof(r.waiting) - 3, "\xc3\xa9", 3);
	assert_int_equal(store_release_set_waiting(f->db, id, big, &d), 0);
	assert_int_equal(store_release_get(f->db, id, &r, &found, &d), 0);
	assert_int_equal(strlen(r.waiting), sizeof(r.waiting) - 1);
	assert_memory_equal(r.waiting + sizeof(r.waiting) - 3, "\xc3\xa9", 2);
	store_release_free(&r);
}

/* Two connections (two server threads, or two servers) deciding on one
 * release: the second one's decision waits for the first and reads what
 * it wrote. */
struct second {
	const char *url;
	char waiting[600];
	int r;
};

static void *
second_decider(void *arg)
{
	struct second *s = arg;
	struct store_release r;
	struct ward_diag d;
	struct db *db = NULL;
	int found = 0;

	s->r = -1;
	if (db_open(s->url, &db, &d) != 0)
		return NULL;
	if (store_rollout_begin(db, &d) == 0) {
		if (store_release_running(db, &r, &found, &d) == 0 && found) {
			snprintf(s->waiting, sizeof(s->waiting), "%s", r.waiting);
			store_release_free(&r);
			s->r = store_release_set_waiting(db, 1, "second", &d);
		}
		if (store_rollout_commit(db, &d) != 0)
			s->r = -1;
	}
	db_close(db);
	return NULL;
}

static void
test_two_deciders(void **state)
{
	char dir[] = "/tmp/ward-store-rollout-XXXXXX", path[128], url[160];
	struct store_release r;
	struct second s;
	struct ward_diag d;
	struct db *a = NULL;
	pthread_t th;
	int found;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ward.db", dir);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	assert_int_equal(db_open(url, &a, &d), 0);
	assert_int_equal(store_migrate(a, &d), 0);
	(void)release_new(a, 1, NOW);

	assert_int_equal(store_rollout_begin(a, &d), 0);
	memset(&s, 0, sizeof(s));
	s.url = url;
	assert_int_equal(pthread_create(&th, NULL, second_decider, &s), 0);
	usleep(200 * 1000); /* the second one is waiting for the first by now */
	assert_int_equal(store_release_set_waiting(a, 1, "first", &d), 0);
	assert_int_equal(store_rollout_commit(a, &d), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(s.r, 0);
	assert_string_equal(s.waiting, "first");
	assert_int_equal(store_release_get(a, 1, &r, &found, &d), 0);
	assert_string_equal(r.waiting, "second");
	store_release_free(&r);
	db_close(a);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ward.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ward.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_release_life, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_halt_all_or_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_targets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_text_cut, setup, teardown),
	    cmocka_unit_test(test_two_deciders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
