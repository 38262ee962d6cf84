/*
 * ward-sim: a fleet of simulated agents in one process, for rehearsing
 * releases and measuring the server (docs/server.md, "Fleet simulator").
 *
 * Each simulated agent enrolls, checks in, downloads the content the
 * server wants it to run and checks its signatures against the pinned
 * keys — over real HTTPS — and behaves like a healthy wardd, except on
 * the faulty version: `crash` (its crash guard rolls back, reported),
 * `reject` (its validation refuses it), `silent` (it stops calling in),
 * `alert-storm` (it runs it and sends a flood of alerts).  It does not
 * scan.
 *
 * Must hold: nothing here trusts the server more than wardd does (a
 * bundle with a bad signature is refused and reported); the simulation
 * stops by itself (--duration, or the end of the release it follows).
 */
#include "server/sim_local.h"
#include "content/bundle.h"
#include "proto/cause.h"
#include "proto/checkin.h"
#include "proto/report.h"
#include "content/download.h"
#include "crypto/digest.h"
#include "crypto/sign.h"
#include "util/alloc.h"
#include "util/answer.h"
#include "util/file.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_REJECTED 8
#define MAX_ANSWER (64u << 20)

enum fault { FAULT_NONE, FAULT_CRASH, FAULT_REJECT, FAULT_SILENT, FAULT_STORM };

struct sagent {
	char id[40], secret[128], journal[40]; /* secret: "ID:SECRET" */
	long long current, lkg;
	long long rejected[MAX_REJECTED], crashed[MAX_REJECTED];
	enum refusal_cause cause[MAX_REJECTED]; /* of each rejected version, as wardd records it */
	unsigned nrejected, ncrashed;
	int silent, enrolled, activated_faulty;
	long long seq; /* events sent */
	double next;   /* monotonic time of the next check-in */
};

static struct {
	const char *server, *ca, *token, *admin;
	unsigned nagents, nthreads;
	double interval, duration, ingest_s;
	long long faulty;
	enum fault fault;
	int json;
	struct sign_key *keys[8];
	unsigned nkeys;
	struct sagent *a;
	volatile int stop;
	pthread_mutex_t lock; /* lat, counters */
	double *lat;
	size_t nlat, caplat;
	long long events_committed, errors, downloads;
	long long late;	 /* check-ins made more than an interval after they were due */
	double max_late; /* seconds */
	double t0;
} S = {.interval = 30, .lock = PTHREAD_MUTEX_INITIALIZER};

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One HTTPS call; *out is the answer's bytes (free). Returns the status. */
static long
http(CURL *c, const char *method, const char *path, const char *auth, const char *body,
     size_t bodylen, struct answer *out)
{
	struct curl_slist *h = NULL;
	char url[1024], bearer[256];
	long code = 0;

	out->p = NULL;
	out->n = 0;
	out->max = MAX_ANSWER;
	snprintf(url, sizeof(url), "%s%s", S.server, path);
	h = curl_slist_append(h, "Content-Type: application/json");
	if (auth != NULL) {
		snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", auth);
		h = curl_slist_append(h, bearer);
		OPENSSL_cleanse(bearer, sizeof(bearer));
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bodylen);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, answer_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	for (struct curl_slist *e = h; e != NULL; e = e->next) /* the credential's copy */
		OPENSSL_cleanse(e->data, strlen(e->data));
	curl_slist_free_all(h);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	return code;
}

static json_t *
call_json(CURL *c, const char *method, const char *path, const char *auth, json_t *body, long *code)
{
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	struct answer a;
	json_t *j;

	*code = http(c, method, path, auth, text != NULL ? text : "{}",
		     text != NULL ? strlen(text) : 2, &a);
	free(text);
	j = a.p != NULL ? json_loads(a.p, 0, NULL) : NULL;
	free(a.p);
	return j;
}

static CURL *
new_curl(void)
{
	CURL *c = curl_easy_init();

	if (c == NULL)
		return NULL;
	if (S.ca != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, S.ca);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	return c;
}

/* --- one simulated agent ----------------------------------------------- */

static int
enroll(CURL *c, struct sagent *a, unsigned i)
{
	char machine[64], hw[64];
	json_t *body, *ans;
	long code;
	int ok;

	snprintf(machine, sizeof(machine), "sim-machine-%u-%ld", i, (long)getpid());
	snprintf(hw, sizeof(hw), "sim-hw-%u-%ld", i, (long)getpid());
	body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "token", S.token, "machine_id", machine,
			 "hw_id", hw, "hostname", machine, "version", WARD_VERSION);
	ans = call_json(c, "POST", "/api/v1/enroll", NULL, body, &code);
	json_decref(body);
	ok = code == 200 && json_is_string(json_object_get(ans, "agent_id")) &&
	     json_is_string(json_object_get(ans, "secret"));
	if (ok) {
		snprintf(a->id, sizeof(a->id), "%s",
			 json_string_value(json_object_get(ans, "agent_id")));
		snprintf(a->secret, sizeof(a->secret), "%s:%s", a->id,
			 json_string_value(json_object_get(ans, "secret")));
		snprintf(a->journal, sizeof(a->journal), "sim%08x", (unsigned)rand());
		/* First check-ins spread over one interval, as a fleet's are. */
		a->next = now_mono() + S.interval * rand() / (double)RAND_MAX;
		a->enrolled = 1;
	}
	json_decref(ans);
	return ok ? 0 : -1;
}

/* The check-in report, built as wardd builds its own: the typed struct
 * report encoded by report_encode, so that ward-sim speaks the protocol the
 * server parses rather than a copy of it.  NULL when out of memory. */
static json_t *
report(const struct sagent *a)
{
	struct report *r = calloc(1, sizeof(*r)); /* some 20 KiB: not on a thread's stack */
	json_t *o = NULL;
	unsigned i;

	if (r == NULL)
		return NULL;
	snprintf(r->mode, sizeof(r->mode), "protecting");
	snprintf(r->journal_id, sizeof(r->journal_id), "%s", a->journal);
	r->current = a->current;
	r->lkg = a->lkg;
	/* As wardd: the typed cause is what the gate counts; the reason is
	 * for people. */
	for (i = 0; i < a->nrejected && i < WARD_MAX_REPORT_REFUSALS; i++) {
		r->refusals[i].version = a->rejected[i];
		r->refusals[i].cause = a->cause[i];
		snprintf(r->refusals[i].reason, sizeof(r->refusals[i].reason),
			 "simulated by ward-sim");
		r->nrefusals++;
	}
	for (i = 0; i < a->ncrashed && i < WARD_MAX_REPORT_CRASHES; i++)
		r->crashes[r->ncrashes++].version = a->crashed[i];
	o = report_encode(r);
	if (o != NULL &&
	    json_object_set_new(o, "resources",
				json_pack("{s:f, s:i}", "cpu_pct", 0.01, "rss_kb", 15000)) != 0) {
		json_decref(o);
		o = NULL;
	}
	free(r);
	return o;
}

static void
reject(struct sagent *a, long long v, enum refusal_cause cause)
{
	if (a->nrejected < MAX_REJECTED) {
		a->cause[a->nrejected] = cause;
		a->rejected[a->nrejected++] = v;
	}
	if (cause == CAUSE_CRASH_GUARD && a->ncrashed < MAX_REJECTED)
		a->crashed[a->ncrashed++] = v;
}

static int
was_rejected(const struct sagent *a, long long v)
{
	unsigned i;

	for (i = 0; i < a->nrejected; i++)
		if (a->rejected[i] == v)
			return 1;
	return 0;
}

/* Downloads and verifies the bundle, then "activates" it. */
static void
follow(CURL *c, struct sagent *a, const struct checkin_answer *ca)
{
	const struct download_target t = ca->desired;
	long long want, back;
	struct answer ans;
	struct bundle *b = NULL;
	struct ward_diag d;
	enum refusal_cause cause;
	unsigned valid = 0;
	long code;

	/* As wardd: the server's answer is used only once every field of it
	 * is checked (the url is exactly the bundle's path: the simulated
	 * agent's credential goes nowhere else): checkin_answer_check did. */
	if (ca->desired_state != CHECKIN_DESIRED_OK) {
		pthread_mutex_lock(&S.lock);
		S.errors++;
		pthread_mutex_unlock(&S.lock);
		return;
	}
	want = (long long)t.version;
	back = (long long)t.rollback_from;
	if (back > 0 && back == a->current && a->lkg > 0) {
		/* The fleet's halt: recorded as wardd does, and not counted. */
		reject(a, a->current, CAUSE_FLEET_ROLLBACK);
		a->current = a->lkg;
		return;
	}
	if (want == 0 || want <= a->current || was_rejected(a, want))
		return;
	code = http(c, "GET", t.url, a->secret, NULL, 0, &ans);
	pthread_mutex_lock(&S.lock);
	S.downloads++;
	pthread_mutex_unlock(&S.lock);
	/* A bundle we cannot trust is refused, as wardd would, for the check
	 * that failed. */
	cause = CAUSE_FORMAT;
	if (code == 200 && bundle_parse((const uint8_t *)ans.p, ans.n, &b, &d) == 0)
		cause = bundle_verify(b, S.keys, S.nkeys, 1, &valid, &d) != 0 ? CAUSE_SIGNATURE
			: b->version != want				      ? CAUSE_FORMAT
									      : CAUSE_REFUSED;
	if (cause != CAUSE_REFUSED) {
		reject(a, want, cause);
		bundle_free(b);
		free(ans.p);
		return;
	}
	bundle_free(b);
	free(ans.p);
	if (want == S.faulty) {
		switch (S.fault) {
		case FAULT_CRASH: /* activated, crashed three times, rolled back */
			a->activated_faulty = 1;
			reject(a, want, CAUSE_CRASH_GUARD);
			return;
		case FAULT_REJECT:
			reject(a, want, CAUSE_VALIDATION);
			return;
		case FAULT_SILENT:
			a->activated_faulty = 1;
			a->lkg = a->current;
			a->current = want;
			a->silent = 1;
			return;
		case FAULT_STORM:
			a->activated_faulty = 1;
			break;
		case FAULT_NONE:
			break;
		}
	}
	a->lkg = a->current;
	a->current = want;
}

static void
send_events(CURL *c, struct sagent *a, unsigned n, const char *kind)
{
	json_t *evs = json_array(), *body, *ans;
	unsigned i;
	long code;

	for (i = 0; i < n; i++)
		json_array_append_new(
		    evs,
		    json_pack("{s:I, s:{s:s, s:{s:s, s:[s], s:[s], s:s}, s:{s:s}}}", "seq",
			      (json_int_t)(a->seq + i + 1), "event", "@timestamp",
			      "2026-11-22T00:00:00.000Z", "event", "kind", kind, "category", "file",
			      "type", "info", "action", "sim-event", "host", "hostname", a->id));
	body = json_pack("{s:s, s:o}", "journal_id", a->journal, "events", evs);
	ans = call_json(c, "POST", "/api/v1/events", a->secret, body, &code);
	json_decref(body);
	if (code == 200) {
		a->seq += n;
		pthread_mutex_lock(&S.lock);
		S.events_committed += n;
		pthread_mutex_unlock(&S.lock);
	}
	json_decref(ans);
}

static void
checkin(CURL *c, struct sagent *a)
{
	json_t *body = report(a), *ans;
	struct checkin_answer ca;
	struct ward_diag d;
	double t0 = now_mono(), dt;
	long code;

	ans = call_json(c, "POST", "/api/v1/checkin", a->secret, body, &code);
	dt = now_mono() - t0;
	json_decref(body);
	pthread_mutex_lock(&S.lock);
	if (code == 200 && ward_grow(&S.lat, &S.caplat, S.nlat + 1, sizeof(*S.lat)) == 0)
		S.lat[S.nlat++] = dt;
	if (code != 200) {
		S.errors++;
		if (getenv("WARD_SIM_DEBUG") != NULL)
			fprintf(stderr, "ward-sim: check-in: HTTP %ld\n", code);
	}
	pthread_mutex_unlock(&S.lock);
	if (code == 200 && checkin_answer_check(ans, &ca, &d) != 0) {
		pthread_mutex_lock(&S.lock); /* an answer outside the protocol */
		S.errors++;
		pthread_mutex_unlock(&S.lock);
		if (getenv("WARD_SIM_DEBUG") != NULL)
			fprintf(stderr, "ward-sim: check-in answer: %s\n", d.msg);
		a->next = now_mono() + 1;
	} else if (code == 200) {
		double next = (double)ca.next_checkin_s;

		a->next = now_mono() + (S.interval < next ? S.interval : next) *
					   (0.8 + 0.4 * rand() / (double)RAND_MAX);
		if (ca.desired_state != CHECKIN_DESIRED_NONE)
			follow(c, a, &ca);
		if (S.fault == FAULT_STORM && a->current == S.faulty)
			send_events(c, a, 200, "alert");
		checkin_answer_free(&ca);
	} else {
		a->next = now_mono() + 1;
	}
	json_decref(ans);
}

struct slice {
	unsigned from, to;
};

static void *
worker(void *arg)
{
	struct slice *sl = arg;
	CURL *c = new_curl();
	unsigned i;

	if (c == NULL)
		return NULL;
	for (i = sl->from; i < sl->to && !S.stop; i++)
		if (enroll(c, &S.a[i], i) != 0) {
			pthread_mutex_lock(&S.lock);
			S.errors++;
			pthread_mutex_unlock(&S.lock);
		}
	while (!S.stop) {
		double now = now_mono(), soonest = now + 1;

		for (i = sl->from; i < sl->to && !S.stop; i++) {
			struct sagent *a = &S.a[i];

			if (!a->enrolled || a->silent)
				continue;
			if (S.ingest_s > 0) {
				send_events(c, a, 1000, "event");
				continue;
			}
			if (a->next <= now) {
				/* The simulator itself fell behind: the gate may see this
				 * agent as silent when it is only the simulator that is
				 * slow (said in the results). */
				if (a->next > 0 && now - a->next > S.interval) {
					pthread_mutex_lock(&S.lock);
					S.late++;
					if (now - a->next > S.max_late)
						S.max_late = now - a->next;
					pthread_mutex_unlock(&S.lock);
				}
				checkin(c, a);
			}
			if (a->next < soonest)
				soonest = a->next;
		}
		if (S.ingest_s <= 0 && soonest > now_mono())
			usleep((useconds_t)((soonest - now_mono()) * 1e6) + 1000);
	}
	curl_easy_cleanup(c);
	return NULL;
}

/* --- the release being followed ---------------------------------------------- */

static json_t *
release_json(CURL *c, long long id)
{
	char path[64];
	long code;
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/releases/%lld", id);
	j = call_json(c, "GET", path, S.admin, NULL, &code);
	if (code != 200) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static long long
newest_release(CURL *c)
{
	long code;
	json_t *j = call_json(c, "GET", "/api/v1/releases", S.admin, NULL, &code);
	long long id = json_integer_value(
	    json_object_get(json_array_get(json_object_get(j, "releases"), 0), "id"));

	json_decref(j);
	return id;
}

/* Follows release id to its end, printing each change; fills the result. */
static void
follow_release(CURL *c, long long id, double deadline, json_t *result)
{
	char last[200] = "";
	double start = now_mono(), halted_at = -1, first_seen = -1;
	json_t *r = NULL;
	const char *state = "unknown";

	while (now_mono() < deadline) {
		char line[200];
		long long ring;

		json_decref(r);
		r = release_json(c, id);
		if (r == NULL) {
			usleep(500000);
			continue;
		}
		state = json_string_value(json_object_get(r, "state"));
		ring = json_integer_value(json_object_get(r, "ring"));
		snprintf(line, sizeof(line), "%s ring %lld", state, ring);
		if (strcmp(line, last) != 0) {
			json_t *rg =
			    json_array_get(json_object_get(json_object_get(r, "plan"), "rings"),
					   (size_t)(ring < 0 ? 0 : ring));

			if (!S.json && ring < 0)
				printf("%7.1fs  release %lld: published, no ring started yet\n",
				       now_mono() - start, id);
			else if (!S.json)
				printf("%7.1fs  release %lld: %s, ring %lld (%s), %lld agents\n",
				       now_mono() - start, id, state, ring,
				       json_string_value(json_object_get(rg, "name")),
				       (long long)json_integer_value(json_object_get(
					   json_object_get(rg, "agents"), "assigned")));
			fflush(stdout);
			snprintf(last, sizeof(last), "%s", line);
		}
		if (first_seen < 0)
			first_seen = now_mono();
		if (strcmp(state, "halted") == 0 || strcmp(state, "aborted") == 0) {
			halted_at = now_mono();
			break;
		}
		if (strcmp(state, "completed") == 0)
			break;
		usleep(250000);
	}
	if (r != NULL) {
		const char *why = json_string_value(json_object_get(r, "reason"));

		if (why != NULL && why[0] != '\0' && !S.json)
			printf("          %s: %s\n", state, why);
		json_object_set_new(result, "reason", json_string(why != NULL ? why : ""));
		json_object_set_new(result, "release", json_integer(id));
		json_object_set_new(result, "state", json_string(state));
		json_object_set_new(
		    result, "ring0_size",
		    json_integer(json_integer_value(json_object_get(
			json_object_get(
			    json_array_get(json_object_get(json_object_get(r, "plan"), "rings"), 0),
			    "agents"),
			"assigned"))));
		json_object_set(result, "incidents", json_object_get(r, "incidents"));
	}
	json_object_set_new(result, "halted", json_boolean(halted_at >= 0));
	json_object_set_new(result, "seconds_to_halt",
			    halted_at >= 0 ? json_real(halted_at - start) : json_null());
	json_object_set_new(result, "seconds_followed", json_real(now_mono() - start));
	json_decref(r);
}

/* --- self-contained rehearsal -------------------------------------------------- */

/* --- self-contained rehearsal (its server: sim_local.c) ---------------------- */

static struct sim_local L;

static long long
publish(CURL *c, const char *path, json_t *plan)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct ward_diag d;
	struct answer a;
	json_t *ans, *body;
	char sha[65];
	long code;
	long long id;

	if (file_read_all(path, 1 << 26, &buf, &len, &d) != 0)
		return -1;
	code = http(c, "POST", "/api/v1/bundles", S.admin, (const char *)buf, len, &a);
	ward_free(buf);
	ans = a.p != NULL ? json_loads(a.p, 0, NULL) : NULL;
	free(a.p);
	if (code != 200) {
		fprintf(stderr, "ward-sim: publishing %s: %s\n", path,
			json_string_value(json_object_get(ans, "error")));
		json_decref(ans);
		return -1;
	}
	snprintf(sha, sizeof(sha), "%s", json_string_value(json_object_get(ans, "sha256")));
	json_decref(ans);
	body = json_pack("{s:s, s:O}", "bundle", sha, "plan", plan);
	ans = call_json(c, "POST", "/api/v1/releases", S.admin, body, &code);
	json_decref(body);
	id = code == 200 ? (long long)json_integer_value(json_object_get(ans, "release")) : -1;
	if (code != 200)
		fprintf(stderr, "ward-sim: release: %s\n",
			json_string_value(json_object_get(ans, "error")));
	json_decref(ans);
	return id;
}

static int
start_server(const char *self, int interval)
{
	struct ward_diag d;
	uint8_t *buf = NULL;
	size_t len = 0;
	json_t *body, *ans;
	long code;
	CURL *c;
	int i;

	if (sim_local_start(self, interval, &L) != 0)
		return -1;
	S.server = L.url;
	S.ca = L.ca;
	S.admin = L.admin;
	c = new_curl();
	for (i = 0; i < 100; i++) {
		struct answer a;

		code = http(c, "GET", "/api/v1/health", NULL, NULL, 0, &a);
		free(a.p);
		if (code == 200)
			break;
		usleep(100000);
	}
	body = json_pack("{s:i, s:i}", "uses", 0, "expires_s", 86400);
	ans = call_json(c, "POST", "/api/v1/tokens", S.admin, body, &code);
	json_decref(body); /* (one token for the whole simulated fleet) */
	S.token = code == 200 ? strdup(json_string_value(json_object_get(ans, "token"))) : NULL;
	json_decref(ans);
	curl_easy_cleanup(c);
	if (S.token == NULL || file_read_all(L.pub, SIGN_MAX_PEM, &buf, &len, &d) != 0 ||
	    sign_key_from_pem((char *)buf, len, 0, &S.keys[0]) != 0)
		return -1;
	ward_free(buf);
	S.nkeys = 1;
	return 0;
}

/* --- main ------------------------------------------------------------------------ */

static void
usage(FILE *f)
{
	fprintf(
	    f, "usage: ward-sim --server URL --ca FILE --token TOKEN --key PUB [--admin-token T]\n"
	       "                --agents N [--interval S] [--threads K] [--duration S]\n"
	       "                [--faulty-version V --fault crash|reject|silent|alert-storm]\n"
	       "                [--ingest S] [--json]\n"
	       "       ward-sim --self-contained [--agents N] [--fault KIND] [--soak S] [--json]\n"
	       "\n"
	       "N simulated agents in one process: real HTTPS, real enrollment (with TOKEN),\n"
	       "real check-ins every S seconds (default 30, jittered), real bundle downloads and\n"
	       "signature checks (against PUB); healthy, except on version V with the fault.\n"
	       "With --admin-token the newest release is followed and its timeline printed.\n"
	       "--threads K: the threads that serve the simulated agents in turn (default one\n"
	       "per 32 agents, 8 to 32); when they fall behind, the results count the late\n"
	       "check-ins (late_checkins): silence the gate saw may then be the simulator's.\n"
	       "--ingest S: every agent uploads events as fast as the server takes them, for S\n"
	       "seconds (measures ingestion).  --self-contained starts its own ward-server on\n"
	       "loopback with a fresh SQLite database, rolls a good version 1 out to every agent,\n"
	       "then publishes version 2 with the fault (default crash) under the default plan\n"
	       "shape with soaks of --soak seconds (default 5), and follows it to its end.\n"
	       "\n"
	       "--json prints one object at the end: agents, ring0_size, activated_faulty,\n"
	       "halted, seconds_to_halt, ended_on_good, checkin_p50_ms, checkin_p99_ms, ...\n"
	       "Exit status: 0 done, 1 the rehearsal failed, 2 usage.\n");
}

static void
on_stop(int sig)
{
	(void)sig;
	S.stop = 1; /* ends the run: the summary is still printed */
}

static int
parse_fault(const char *s)
{
	return strcmp(s, "crash") == 0	       ? FAULT_CRASH
	       : strcmp(s, "reject") == 0      ? FAULT_REJECT
	       : strcmp(s, "silent") == 0      ? FAULT_SILENT
	       : strcmp(s, "alert-storm") == 0 ? FAULT_STORM
					       : -1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
all_on(long long v)
{
	unsigned i;

	for (i = 0; i < S.nagents; i++)
		if (!S.a[i].enrolled || S.a[i].current != v)
			return 0;
	return 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"server", required_argument, NULL, 's'},
	    {"ca", required_argument, NULL, 'c'},
	    {"token", required_argument, NULL, 't'},
	    {"key", required_argument, NULL, 'k'},
	    {"admin-token", required_argument, NULL, 'A'},
	    {"agents", required_argument, NULL, 'n'},
	    {"interval", required_argument, NULL, 'i'},
	    {"threads", required_argument, NULL, 'T'},
	    {"duration", required_argument, NULL, 'd'},
	    {"faulty-version", required_argument, NULL, 'v'},
	    {"fault", required_argument, NULL, 'f'},
	    {"ingest", required_argument, NULL, 'I'},
	    {"json", no_argument, NULL, 'j'},
	    {"self-contained", no_argument, NULL, 'S'},
	    {"soak", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	pthread_t *threads;
	struct slice *slices;
	json_t *result = json_object();
	int ch, self_contained = 0, rc = 0;
	double soak = 5;
	unsigned i;
	CURL *c;

	S.nagents = 100;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			S.server = optarg;
			break;
		case 'c':
			S.ca = optarg;
			break;
		case 't':
			S.token = optarg;
			break;
		case 'A':
			S.admin = optarg;
			break;
		case 'k': {
			uint8_t *buf = NULL;
			size_t len = 0;
			struct ward_diag d;

			if (S.nkeys == 8 ||
			    file_read_all(optarg, SIGN_MAX_PEM, &buf, &len, &d) != 0 ||
			    sign_key_from_pem((char *)buf, len, 0, &S.keys[S.nkeys]) != 0) {
				fprintf(stderr, "ward-sim: %s: not a public key\n", optarg);
				return 2;
			}
			ward_free(buf);
			S.nkeys++;
			break;
		}
		case 'n':
			S.nagents = (unsigned)atoi(optarg);
			break;
		case 'i':
			S.interval = atof(optarg);
			break;
		case 'T':
			S.nthreads = (unsigned)atoi(optarg);
			break;
		case 'd':
			S.duration = atof(optarg);
			break;
		case 'v':
			S.faulty = atoll(optarg);
			break;
		case 'f':
			if (parse_fault(optarg) < 0) {
				fprintf(
				    stderr,
				    "ward-sim: --fault is crash, reject, silent or alert-storm\n");
				return 2;
			}
			S.fault = (enum fault)parse_fault(optarg);
			break;
		case 'I':
			S.ingest_s = atof(optarg);
			break;
		case 'j':
			S.json = 1;
			break;
		case 'S':
			self_contained = 1;
			break;
		case 'o':
			soak = atof(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (S.nagents == 0 || S.interval <= 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	if (self_contained) {
		if (S.fault == FAULT_NONE)
			S.fault = FAULT_CRASH;
		S.faulty = 2;
		if (S.interval == 30)
			S.interval = 2;
		if (start_server(argv[0], (int)ceil(S.interval)) != 0) {
			fprintf(stderr, "ward-sim: cannot start a ward-server (%s)\n", L.dir);
			sim_local_stop(&L);
			return 1;
		}
	} else if (S.server == NULL || S.token == NULL || S.nkeys == 0) {
		fprintf(stderr,
			"ward-sim: --server, --token and --key are needed (or --self-contained)\n");
		return 2;
	}
	if (S.nthreads == 0) /* one thread per 32 agents: each serves its agents in turn */
		S.nthreads = S.nagents / 32 < 8 ? 8 : S.nagents / 32 > 32 ? 32 : S.nagents / 32;
	if (S.nthreads > S.nagents)
		S.nthreads = S.nagents;
	S.a = ward_calloc(S.nagents, sizeof(*S.a));
	threads = ward_calloc(S.nthreads, sizeof(*threads));
	slices = ward_calloc(S.nthreads, sizeof(*slices));
	if (S.a == NULL || threads == NULL || slices == NULL)
		return 1;
	S.t0 = now_mono();
	for (i = 0; i < S.nthreads; i++) {
		slices[i].from = (unsigned)((unsigned long long)S.nagents * i / S.nthreads);
		slices[i].to = (unsigned)((unsigned long long)S.nagents * (i + 1) / S.nthreads);
		pthread_create(&threads[i], NULL, worker, &slices[i]);
	}
	c = new_curl();
	if (self_contained) {
		char path[600];
		json_t *plan = sim_local_plan(soak), *good = json_object(), *bad = json_object();
		long long id;
		double deadline;

		while (now_mono() - S.t0 < 120) { /* every agent enrolled */
			unsigned n = 0;

			for (i = 0; i < S.nagents; i++)
				n += S.a[i].enrolled;
			if (n == S.nagents)
				break;
			usleep(200000);
		}
		if (!S.json)
			printf("ward-sim: %u agents enrolled with %s\n", S.nagents, S.server);
		if (sim_local_bundle(&L, 1, path, sizeof(path)) != 0 ||
		    (id = publish(c, path, plan)) < 0) {
			rc = 1;
			goto done;
		}
		if (!S.json)
			printf("ward-sim: rolling out good version 1\n");
		follow_release(c, id, now_mono() + 600, good);
		json_object_set(result, "good_release_seconds",
				json_object_get(good, "seconds_followed"));
		json_object_set(result, "good_release_state", json_object_get(good, "state"));
		json_object_set(result, "good_release_reason", json_object_get(good, "reason"));
		deadline = now_mono() + 120;
		while (!all_on(1) && now_mono() < deadline)
			usleep(200000);
		if (!all_on(1)) {
			fprintf(stderr, "ward-sim: not every agent reached version 1\n");
			rc = 1;
			goto done;
		}
		if (sim_local_bundle(&L, 2, path, sizeof(path)) != 0 ||
		    (id = publish(c, path, plan)) < 0) {
			rc = 1;
			goto done;
		}
		if (!S.json)
			printf("ward-sim: publishing version 2 with the fault \"%s\"\n",
			       S.fault == FAULT_CRASH	 ? "crash"
			       : S.fault == FAULT_REJECT ? "reject"
			       : S.fault == FAULT_SILENT ? "silent"
							 : "alert-storm");
		follow_release(c, id, now_mono() + 900, bad);
		/* Let the agents hear of the halt and go back. */
		deadline = now_mono() + 4 * S.interval + 2;
		while (now_mono() < deadline) {
			unsigned on_bad = 0;

			for (i = 0; i < S.nagents; i++)
				on_bad += S.a[i].current == S.faulty && !S.a[i].silent;
			if (on_bad == 0)
				break;
			usleep(200000);
		}
		json_object_update(result, bad);
		json_decref(good);
		json_decref(bad);
		json_decref(plan);
	} else if (S.ingest_s > 0) {
		usleep((useconds_t)(S.ingest_s * 1e6));
	} else if (S.admin != NULL && S.duration <= 0) {
		long long id = 0;
		double deadline = now_mono() + 3600;

		while (id <= 0 && now_mono() < deadline) {
			id = newest_release(c);
			usleep(500000);
		}
		follow_release(c, id, deadline, result);
	} else {
		double end = now_mono() + (S.duration > 0 ? S.duration : 60);

		while (!S.stop && now_mono() < end)
			usleep(100000);
	}
done:
	S.stop = 1;
	for (i = 0; i < S.nthreads; i++)
		pthread_join(threads[i], NULL);
	{
		unsigned act = 0, good = 0;
		double el = now_mono() - S.t0;

		for (i = 0; i < S.nagents; i++) {
			act += S.a[i].activated_faulty;
			good += S.faulty == 0 || (S.a[i].current != S.faulty && S.a[i].current > 0);
		}
		qsort(S.lat, S.nlat, sizeof(*S.lat), cmp_double);
		json_object_set_new(result, "agents", json_integer(S.nagents));
		json_object_set_new(result, "activated_faulty", json_integer(act));
		json_object_set_new(result, "ended_on_good", json_integer(good));
		json_object_set_new(result, "checkins", json_integer((json_int_t)S.nlat));
		json_object_set_new(result, "checkin_p50_ms",
				    json_real(S.nlat ? S.lat[S.nlat / 2] * 1000 : 0));
		json_object_set_new(result, "checkin_p99_ms",
				    json_real(S.nlat ? S.lat[(size_t)(S.nlat * 0.99)] * 1000 : 0));
		json_object_set_new(result, "errors", json_integer(S.errors));
		json_object_set_new(result, "downloads", json_integer(S.downloads));
		json_object_set_new(result, "events_committed", json_integer(S.events_committed));
		json_object_set_new(
		    result, "events_per_s",
		    json_real(S.ingest_s > 0 ? S.events_committed / S.ingest_s : 0));
		json_object_set_new(result, "seconds", json_real(el));
		json_object_set_new(result, "late_checkins", json_integer(S.late));
		json_object_set_new(result, "max_late_s", json_real(S.max_late));
		if (S.late > 0)
			fprintf(
			    stderr,
			    "ward-sim: %lld check-in(s) were made more than an interval after they "
			    "were due (up to %.1f s): the simulator could not keep up, and silence "
			    "the gate saw may be its own (fewer agents, more --threads, or a less "
			    "busy machine)\n",
			    S.late, S.max_late);
		if (!json_object_get(result, "halted"))
			json_object_set_new(result, "halted", json_false());
		if (!json_object_get(result, "ring0_size"))
			json_object_set_new(result, "ring0_size", json_integer(0));
		if (!json_object_get(result, "seconds_to_halt"))
			json_object_set_new(result, "seconds_to_halt", json_null());
		if (S.json) {
			char *text = json_dumps(result, JSON_COMPACT);

			printf("%s\n", text);
			free(text);
		} else {
			printf(
			    "blast radius: %u of %u agents ever activated the faulty version; ring "
			    "0 "
			    "had %lld\n",
			    act, S.nagents,
			    (long long)json_integer_value(json_object_get(result, "ring0_size")));
			if (json_is_true(json_object_get(result, "halted")))
				printf("halted after %.1f s; %u of %u agents on good content\n",
				       json_real_value(json_object_get(result, "seconds_to_halt")),
				       good, S.nagents);
			printf("check-ins: %zu, p50 %.1f ms, p99 %.1f ms, %lld errors\n", S.nlat,
			       S.nlat ? S.lat[S.nlat / 2] * 1000 : 0,
			       S.nlat ? S.lat[(size_t)(S.nlat * 0.99)] * 1000 : 0, S.errors);
		}
	}
	curl_easy_cleanup(c);
	if (self_contained)
		sim_local_stop(&L);
	json_decref(result);
	return rc;
}
