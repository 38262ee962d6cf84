/*
 * worker: content, control socket, activation.  See worker.h.
 *
 * Must hold:
 *   - content is activated only after content_admit (lib/content/admit.h)
 *     admitted it, in order: the bundle validator, the signature
 *     threshold, anti-rollback (version above every version ever active),
 *     expiry, min_agent_version, the sandboxed validator, and verification
 *     of the compiled result it returned;
 *   - every refusal is recorded in the store with its reason, and the
 *     content in use stays in use;
 *   - a scan holds a reference to the content it started with: a hot swap
 *     never interrupts it, the old content is freed when its last scan ends;
 *   - one activation or rollback runs at a time.
 */
#include "agent/worker.h"
#include "agent/worker_content.h"
#include "agent/clamd.h"
#include "agent/control.h"
#include "agent/exceptions.h"
#include "util/log.h"
#include "agent/uplink.h"
#include "agent/uplink_call.h"
#include "agent/reload.h"
#include "agent/fimmon.h"
#include "agent/onaccess.h"
#include "agent/procmon.h"
#include "agent/sensors.h"
#include "agent/outputs.h"
#include "agent/validator.h"
#include "agent/scanpool.h"
#include "util/ipc.h"
#include "content/admit.h"
#include "content/bundle.h"
#include "content/content.h"
#include "content/image.h"
#include "content/store.h"
#include "event/event.h"
#include "event/journal.h"
#include "response/quarantine.h"
#include "crypto/digest.h"
#include "crypto/sign.h"
#include "scan/matcher.h"
#include "scan/rulefile.h"
#include "scan/walker.h"
#include "proto/jcheck.h"
#include "util/alloc.h"
#include "util/file.h"
#include "util/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct {
	/* The configuration the worker started with: what is read only at
	 * start (state_dir, run_dir, journal, server) is read here, forever. */
	const struct agent_config *cfg;
	const char *config_path;
	/* The configuration in force (each reload replaces it): swapped
	 * holding both locks, read holding either. */
	struct agent_config *live;
	time_t live_at;				   /* when it was loaded */
	struct sign_key *trusted[CONFIG_MAX_KEYS]; /* live's keys; apply_lock */
	unsigned ntrusted;
	pthread_mutex_t lock;	    /* cur, st, safe, live */
	pthread_mutex_t apply_lock; /* one activation at a time; trusted, live */
	struct active *cur;
	struct store_state st;
	int safe;
	char safe_reason[STORE_MAX_REASON];
	time_t started;
	struct journal *journal;
	struct exceptions *exc; /* local, wardd.yaml's and the fleet's */
	/* The sensors, and what they reach the worker through. */
	struct sensor_host host;
	struct sensor_set sensors;
	/* Each sensor's state; they live as long as the process (their
	 * threads are never joined). */
	struct onaccess *onaccess;
	struct fimmon_ctx *fim;
	struct procmon *procmon; /* the exec sensor, which FIM asks for who-data */
} W = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .apply_lock = PTHREAD_MUTEX_INITIALIZER,
};

#define logmsg worker_log

void
worker_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline((long)getpid(), NULL, fmt, ap);
	va_end(ap);
}

/* Appends ev to the journal (taking the reference). */
static void emit(json_t *ev);

void
worker_emit(json_t *ev)
{
	emit(ev);
}

static void
emit(json_t *ev)
{
	uint64_t seq;
	char *text;

	if (ev == NULL)
		return;
	text = event_text(ev);
	if (text != NULL && W.journal != NULL &&
	    journal_append(W.journal, text, strlen(text), &seq) != 0)
		logmsg("cannot write to the journal: %s", strerror(errno));
	outputs_kick();
	uplink_kick();
	free(text);
	json_decref(ev);
}

/* --- what the sensors reach --------------------------------------------- */

static void
host_emit(void *arg, json_t *ev)
{
	(void)arg;
	emit(ev);
}

static void
host_log(void *arg, const char *msg)
{
	(void)arg;
	logmsg("%s", msg);
}

static struct active *active_get(void);
static void active_put(struct active *a);

static struct active *
host_content_get(void *arg)
{
	(void)arg;
	return active_get();
}

static void
host_content_put(void *arg, struct active *a)
{
	(void)arg;
	active_put(a);
}

static struct exceptions *
host_exceptions(void *arg)
{
	(void)arg;
	return W.exc;
}

static int
host_recent_exec(void *arg, pid_t pid, char *exe, size_t exelen, char *comm, size_t commlen,
		 pid_t *ppid)
{
	(void)arg;
	return procmon_recent(W.procmon, pid, exe, exelen, comm, commlen, ppid);
}

/* The exceptions in force changed: the sensors are told as of new
 * content, so that no verdict decided under the old ones (on-access's
 * cache, the kernel's ignore marks) is used again.  arg: the set. */
static void
exceptions_changed(void *arg)
{
	sensor_set_content_changed(arg);
}

/* The worker's sensors, in the order they start: on-access first, so
 * that blocking is on before anything else is watched. */
static int
wire_sensors(void)
{
	W.host.emit = host_emit;
	W.host.log = host_log;
	W.host.content_get = host_content_get;
	W.host.content_put = host_content_put;
	W.host.exceptions = host_exceptions;
	W.host.recent_exec = host_recent_exec;
	sensor_set_init(&W.sensors, &W.host);
	if ((W.onaccess = onaccess_new()) == NULL || (W.fim = fimmon_new()) == NULL ||
	    (W.procmon = procmon_new()) == NULL)
		return -1;
	(void)sensor_set_add(&W.sensors, &sensors_onaccess, W.onaccess);
	(void)sensor_set_add(&W.sensors, &sensors_fim, W.fim);
	(void)sensor_set_add(&W.sensors, &sensors_procmon, W.procmon);
	return 0;
}

/* An event about content: action, outcome, version, name, message. */
static void
emit_content(const char *kind, const char *type, const char *action, const char *outcome,
	     const char *name, int64_t version, const char *message)
{
	json_t *ev = event_new(kind, "configuration", type, action, outcome);

	if (ev == NULL)
		return;
	if (version > 0)
		event_set_int(ev, "ward.content.version", version);
	event_set_str(ev, "ward.content.name", name);
	event_set_str(ev, "message", message);
	emit(ev);
}

/* --- active content ---------------------------------------------------- */

static struct active *
active_get(void)
{
	struct active *a;

	pthread_mutex_lock(&W.lock);
	a = W.cur;
	if (a != NULL)
		a->refs++;
	pthread_mutex_unlock(&W.lock);
	return a;
}

static void
active_put(struct active *a)
{
	int last;

	if (a == NULL)
		return;
	pthread_mutex_lock(&W.lock);
	last = --a->refs == 0;
	pthread_mutex_unlock(&W.lock);
	if (last)
		worker_content_free(a);
}

struct active *
worker_content_get(void)
{
	return active_get();
}

void
worker_content_put(struct active *a)
{
	active_put(a);
}

struct exceptions *
worker_exceptions(void)
{
	return W.exc;
}

int
worker_safe_mode(void)
{
	int safe;

	pthread_mutex_lock(&W.lock);
	safe = W.safe;
	pthread_mutex_unlock(&W.lock);
	return safe;
}

/* Makes a the content in use; the old one goes when its scans end.  With
 * journal, the exceptions the change brings and takes away are journaled
 * (at start, the content in use is no change). */
static void
active_swap(struct active *a, int journal)
{
	struct active *old;

	pthread_mutex_lock(&W.lock);
	old = W.cur;
	W.cur = a;
	pthread_mutex_unlock(&W.lock);
	exceptions_content_changed(W.exc, old != NULL ? &old->exc : NULL, &a->exc, journal);
	sensor_set_content_changed(&W.sensors);
	active_put(old);
}

/* --- activation -------------------------------------------------------- */

static int64_t
now_unix(void)
{
	return (int64_t)time(NULL);
}

/* Records a refusal of version (0 if unknown), for cause, with its message. */
static void
record_refusal(int64_t version, enum refusal_cause cause, const char *reason)
{
	struct ward_diag d;
	char safe[WARD_MAX_REPORT_REASON * 4 + 8];

	/* The reason can quote the refused bundle (a member's name): one log
	 * line, whatever bytes it holds. */
	jcheck_escape(reason, safe, sizeof(safe));
	logmsg("content version %lld refused: %s", (long long)version, safe);
	emit_content(EVENT_KIND_ALERT, "change", "content-refused", "failure", NULL, version,
		     reason);
	pthread_mutex_lock(&W.lock);
	store_reject(&W.st, version, cause, reason, now_unix());
	if (store_save(W.cfg->state_dir, &W.st, &d) != 0)
		logmsg("cannot save the content state: %s", d.msg);
	pthread_mutex_unlock(&W.lock);
}

static void
diag_text(const struct ward_diag *d, char *out, size_t outlen)
{
	diag_format(d, out, outlen);
}

#ifdef WARD_FAULT_INJECTION
static void
install_step(const char *step)
{
	worker_fault_point(step);
}
#define INSTALL_STEP install_step
#else
#define INSTALL_STEP NULL
#endif

/* The worker's compile hook: the sandboxed validator compiles and tests,
 * and what it returns is verified before anything uses it. */
struct sandbox_compile {
	struct active *a; /* the verified result (owned until taken) */
	char why[1300];	  /* the refusal in full (a diag holds 512 bytes) */
	int validator_r;  /* the validator's typed result, when it refused */
};

static int
compile_in_sandbox(void *arg, const struct admit_policy *p, const struct bundle *b,
		   struct admit_verdict *v, struct ward_diag *d)
{
	struct sandbox_compile *sc = arg;
	char why[1200];
	int r;

	(void)p;
	v->check = "compile";
	if ((r = validator_run(W.live, b->raw, b->rawlen, &v->image, why, sizeof(why))) != 0) {
		snprintf(sc->why, sizeof(sc->why), "validation failed: %s", why);
		sc->validator_r = r;
		goto out;
	}
	if ((r = worker_content_from_image(v->image.p, v->image.len, b->name, b->version, &sc->a,
					   d)) != 0) {
		diag_text(d, why, sizeof(why));
		snprintf(sc->why, sizeof(sc->why),
			 "the validator's compiled content was refused: %s", why);
		goto out;
	}
out:
	if (r != 0)
		diag_set(d, r, NULL, 0, 0, "%s", sc->why);
	return r;
}

/*
 * Installed content whose compiled image another ward wrote (an upgrade
 * changed the image's format or the ward version): compiled again from
 * the bundle the store keeps beside it, through the whole admission as at
 * activation (signatures, format, the sandboxed validator) but for the
 * version, which is the installed one; the image is replaced.  Without
 * this, an upgraded agent would start with no content at all.
 */
static int
recompile_stored(const struct store_entry *e, struct active **out, struct ward_diag *d)
{
	char path[CONFIG_MAX_PATH + 64];
	struct admit_policy pol;
	struct admit_verdict v;
	struct sandbox_compile sc;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	memset(&sc, 0, sizeof(sc));
	memset(&v, 0, sizeof(v));
	store_path(W.cfg->state_dir, e->version, "wbundle", path, sizeof(path));
	if ((r = file_read_all(path, WARD_MAX_COMPILED_SIZE, &buf, &len, d)) != 0)
		goto out;
	memset(&pol, 0, sizeof(pol));
	pol.trusted = W.trusted;
	pol.ntrusted = W.ntrusted;
	pol.threshold = W.live->signature_threshold;
	pol.newer_than = e->version - 1;
	pol.now = now_unix();
	pol.agent_version = WARD_VERSION;
	pol.compile = compile_in_sandbox;
	pol.compile_arg = &sc;
	if ((r = content_admit(buf, len, &pol, &v)) != 0) {
		char why[1400];

		worker_refusal_text(&v, sc.why, why, sizeof(why));
		diag_set(d, r, path, 0, 0, "compiling it again failed: %s", why);
		goto out;
	}
	store_path(W.cfg->state_dir, e->version, "wrs", path, sizeof(path));
	if (file_replace(path, v.image.p, v.image.len, 0600, d) != 0)
		logmsg("content version %lld compiled again, but its image cannot be saved: %s",
		       (long long)e->version, d->msg);
	*out = sc.a;
	sc.a = NULL;
out:
	admit_verdict_free(&v);
	worker_content_free(sc.a);
	ward_free(buf);
	return r;
}

/* Installed content e, from its compiled image, or compiled again when
 * another ward wrote the image (recompile_stored). */
static int
content_load(const struct store_entry *e, struct active **out, struct ward_diag *d)
{
	int r = worker_content_from_store(W.cfg->state_dir, e, out, d);

	if (r == WARD_EVERSION) {
		logmsg("content version %lld was compiled by another ward (%s): compiling it "
		       "again",
		       (long long)e->version, d->msg);
		r = recompile_stored(e, out, d);
		if (r == 0)
			logmsg("content version %lld compiled again", (long long)e->version);
	}
	return r;
}

/*
 * The activation pipeline for the bundle bytes p[0..n): admission
 * (content_admit, with the validator as the place to compile), then
 * install and swap.  Returns 0 with *version set, or WARD_EVERIFY etc.
 * with reason filled in.
 */
int
worker_activate(const unsigned char *p, size_t n, long long *version, double *ms, char *reason,
		size_t rlen)
{
	struct admit_policy pol;
	struct admit_verdict v;
	struct sandbox_compile sc;
	const struct bundle *b;
	struct active *a = NULL;
	struct ward_diag d;
	struct timespec t0, t1;
	enum refusal_cause cause = CAUSE_FORMAT;
	long long expect;
	int64_t now = now_unix(), highest, cur_version;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect = *version;
	*version = 0;
	reason[0] = '\0';
	memset(&sc, 0, sizeof(sc));
	diag_clear(&d);
	pthread_mutex_lock(&W.apply_lock);
	pthread_mutex_lock(&W.lock);
	highest = W.st.highest;
	cur_version = W.st.current.present ? W.st.current.version : 0;
	pthread_mutex_unlock(&W.lock);
	memset(&pol, 0, sizeof(pol));
	pol.trusted = W.trusted;
	pol.ntrusted = W.ntrusted;
	pol.threshold = W.live->signature_threshold;
	pol.newer_than = highest > cur_version ? highest : cur_version;
	pol.now = now;
	pol.agent_version = WARD_VERSION;
	pol.compile = compile_in_sandbox;
	pol.compile_arg = &sc;
	pol.run_tests = 1;
	if ((r = content_admit(p, n, &pol, &v)) != 0) {
		if (v.bundle != NULL)
			*version = v.bundle->version;
		worker_refusal_text(&v, sc.why, reason, rlen);
		cause = worker_refusal_cause(v.cause, sc.validator_r);
		goto refused;
	}
	b = v.bundle;
	*version = b->version;
	a = sc.a;
	sc.a = NULL;
	/* Install atomically, then swap. */
	cause = CAUSE_INSTALL;
	worker_fault_point("before-install");
	pthread_mutex_lock(&W.lock);
	r = store_install(W.cfg->state_dir, &W.st, b->name, b->version, b->expires, p, n, v.image.p,
			  v.image.len, now, INSTALL_STEP, &d);
	if (r == 0) {
		W.safe = 0;
		W.safe_reason[0] = '\0';
	}
	pthread_mutex_unlock(&W.lock);
	if (r != 0) {
		snprintf(reason, rlen, "cannot install: %s", d.msg);
		worker_content_free(a);
		goto refused;
	}
	wbuf_free(&v.image); /* on disk now; not needed during the swap */
	worker_fault_point("before-swap");
	active_swap(a, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	logmsg("content %s version %lld active (%u signature%s, %.0f ms)", b->name,
	       (long long)b->version, v.valid, v.valid == 1 ? "" : "s", *ms);
	{
		json_t *ev = event_new(EVENT_KIND_EVENT, "configuration", "change",
				       "content-activated", "success");

		if (ev != NULL) {
			event_set_str(ev, "ward.content.name", b->name);
			event_set_int(ev, "ward.content.version", b->version);
			if (cur_version > 0)
				event_set_int(ev, "ward.content.previous_version", cur_version);
			event_set_int(ev, "ward.content.activation_ms", (int64_t)*ms);
			event_set_int(ev, "ward.content.signatures", v.valid);
			emit(ev);
		}
	}
	worker_fault_content(a);
	admit_verdict_free(&v);
	pthread_mutex_unlock(&W.apply_lock);
	return 0;
refused:
	if (*version == 0 && expect > 0)
		*version = expect;
	record_refusal(*version, cause, reason);
	admit_verdict_free(&v);
	worker_content_free(sc.a);
	pthread_mutex_unlock(&W.apply_lock);
	return r != 0 ? r : WARD_EVERIFY;
}

int
worker_rollback(enum refusal_cause cause, const char *reason, char *msg, size_t mlen)
{
	struct active *a = NULL;
	struct ward_diag d;
	int r;

	pthread_mutex_lock(&W.apply_lock);
	pthread_mutex_lock(&W.lock);
	if (!W.st.lkg.present) {
		pthread_mutex_unlock(&W.lock);
		snprintf(msg, mlen, "there is no last-known-good content to roll back to");
		r = WARD_EINVAL;
		goto out;
	}
	r = content_load(&W.st.lkg, &a, &d);
	if (r == 0)
		r = store_rollback(W.cfg->state_dir, &W.st, cause, reason, now_unix(), &d);
	pthread_mutex_unlock(&W.lock);
	if (r != 0) {
		worker_content_free(a);
		snprintf(msg, mlen, "rollback failed: %.300s", d.msg);
		goto out;
	}
	active_swap(a, 1);
	snprintf(msg, mlen, "rolled back to version %lld", (long long)a->version);
	logmsg("%s (%s)", msg, reason);
	emit_content(EVENT_KIND_EVENT, "change", "content-rolled-back", "success", a->name,
		     a->version, reason);
out:
	pthread_mutex_unlock(&W.apply_lock);
	return r;
}

/* --- control requests -------------------------------------------------- */

/*
 * What the agent does now: "safe" (safe mode: no content, by the crash
 * guard), "waiting" (no content yet: nothing to detect with), or
 * "protecting" (content in use).
 */
static const char *
mode_locked(void)
{
	return W.safe ? "safe" : W.cur == NULL ? "waiting" : "protecting";
}

static const char *
mode_name(void)
{
	const char *m;

	pthread_mutex_lock(&W.lock);
	m = mode_locked();
	pthread_mutex_unlock(&W.lock);
	return m;
}

void
worker_content_state(struct store_state *st, const char **mode)
{
	pthread_mutex_lock(&W.lock);
	*st = W.st;
	*mode = mode_locked();
	pthread_mutex_unlock(&W.lock);
}

json_t *
worker_status_json(void)
{
	json_t *o, *content, *arr, *warn = json_array();
	char at[21];
	unsigned i;
	int64_t now = now_unix();

	pthread_mutex_lock(&W.lock);
	content = json_pack("{s:o, s:o}", "current", store_entry_json(&W.st.current),
			    "last_known_good", store_entry_json(&W.st.lkg));
	arr = json_array();
	for (i = 0; i < W.st.nrejected; i++) {
		bundle_format_time(W.st.rejected[i].at, at);
		json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s}", "version",
						     (json_int_t)W.st.rejected[i].version, "cause",
						     cause_name(W.st.rejected[i].cause), "reason",
						     W.st.rejected[i].reason, "at", at));
	}
	json_object_set_new(content, "rejected", arr);
	arr = json_array();
	for (i = 0; i < W.st.ncrashes; i++) {
		bundle_format_time(W.st.crashes[i].at, at);
		json_array_append_new(arr,
				      json_pack("{s:I, s:s}", "version",
						(json_int_t)W.st.crashes[i].version, "at", at));
	}
	if (W.st.current.present && W.st.current.expires <= now) {
		char msg[200];

		bundle_format_time(W.st.current.expires, at);
		snprintf(msg, sizeof(msg),
			 "content version %lld expired at %s; it keeps protecting until newer "
			 "content arrives",
			 (long long)W.st.current.version, at);
		json_array_append_new(warn, json_string(msg));
	}
	if (!W.st.current.present && !W.safe)
		json_array_append_new(warn, json_string("no content installed"));
	if (uplink_token_unneeded())
		json_array_append_new(
		    warn, json_string("server.enroll_token is no longer needed: this agent is "
				      "enrolled; remove it from wardd.yaml"));
	bundle_format_time(W.live_at, at);
	o = json_pack("{s:s, s:o, s:o, s:I, s:I, s:I, s:s, s:o, s:{s:s, s:s}}", "mode",
		      mode_locked(), "content", content, "crashes", arr, "pid",
		      (json_int_t)getpid(), "supervisor_pid", (json_int_t)getppid(), "uptime_s",
		      (json_int_t)(now - W.started), "agent_version", WARD_VERSION, "warnings",
		      warn, "config", "file", W.config_path, "loaded_at", at);
	if (W.safe)
		json_object_set_new(o, "safe_reason", json_string(W.safe_reason));
	pthread_mutex_unlock(&W.lock);
	{
		json_t *up = uplink_status();

		if (up != NULL)
			json_object_set_new(o, "uplink", up);
	}
	if (W.exc != NULL) { /* counts by source, the fleet's revision */
		struct active *a = active_get();

		json_object_set_new(o, "exceptions",
				    exceptions_status(W.exc, a != NULL ? &a->exc : NULL));
		active_put(a);
	}
	{
		json_t *conf = json_array(), *cpaths = json_array();
		json_t *sensors = sensor_set_status(&W.sensors);
		struct active *a = active_get();
		int on;

		pthread_mutex_lock(&W.lock);
		for (i = 0; i < W.live->fim_npaths; i++)
			json_array_append_new(conf, json_string(W.live->fim_paths[i]));
		on = W.live->fim_content_paths;
		pthread_mutex_unlock(&W.lock);
		for (i = 0; a != NULL && i < a->fim.npaths; i++)
			json_array_append_new(cpaths, json_string(a->fim.paths[i]));
		active_put(a);
		sensors_fim_paths(json_object_get(sensors, "fim"), conf, cpaths, on);
		json_object_set_new(o, "sensors", sensors);
	}
	json_object_set_new(o, "scanners", scanpool_status_json());
	return o;
}

/* Logs, once per version, that the current content has expired (it
 * keeps protecting until newer content arrives). */
static void
check_expiry(void)
{
	static int64_t warned;
	char at[21];

	pthread_mutex_lock(&W.lock);
	if (W.st.current.present && W.st.current.expires <= now_unix() &&
	    warned != W.st.current.version) {
		warned = W.st.current.version;
		bundle_format_time(W.st.current.expires, at);
		logmsg("warning: content version %lld expired at %s; it keeps protecting until "
		       "newer content arrives",
		       (long long)W.st.current.version, at);
		{
			char msg[200];

			snprintf(msg, sizeof(msg),
				 "content expired at %s; it keeps protecting until newer content "
				 "arrives",
				 at);
			emit_content(EVENT_KIND_ALERT, "info", "content-expired", NULL,
				     W.st.current.name, W.st.current.version, msg);
		}
	}
	pthread_mutex_unlock(&W.lock);
}

static void *
heartbeat_thread(void *arg)
{
	struct ipc *hb = arg;

	for (;;) {
		if (hb != NULL && reload_heartbeat(hb) != 0)
			hb = NULL; /* closed: the supervisor will see the silence */
		check_expiry();
		scanpool_tick();
		uplink_call_tick();
		sleep(1);
	}
	return NULL;
}

/* --- startup ----------------------------------------------------------- */

/* Reads c's trusted keys into keys[] (*n of them).  0, or -1 (logged;
 * none kept). */
static int
load_keys(const struct agent_config *c, struct sign_key **keys, unsigned *n)
{
	unsigned i;

	*n = 0;
	for (i = 0; i < c->ntrusted; i++) {
		uint8_t *buf = NULL;
		size_t len = 0;
		struct ward_diag d;

		if (file_read_all(c->trusted_keys[i], SIGN_MAX_PEM, &buf, &len, &d) != 0 ||
		    sign_key_from_pem((const char *)buf, len, 0, &keys[i]) != 0) {
			logmsg("%s: not a readable Ed25519 or SM2 public key", c->trusted_keys[i]);
			ward_free(buf);
			while (*n > 0)
				sign_key_free(keys[--*n]);
			return -1;
		}
		ward_free(buf);
		(*n)++;
	}
	return 0;
}

/* Loads the store's current content; falls back to last-known-good. */
static void
load_current(void)
{
	struct active *a = NULL;
	struct ward_diag d;
	char why[1100];

	store_gc(W.cfg->state_dir, &W.st); /* leftovers of an interrupted install */
	if (W.st.safe) {
		W.safe = 1;
		snprintf(W.safe_reason, sizeof(W.safe_reason), "%s", W.st.safe_reason);
		logmsg("safe mode: %s", W.safe_reason);
		return;
	}
	if (!W.st.current.present)
		return;
	if (content_load(&W.st.current, &a, &d) == 0) {
		active_swap(a, 0);
		logmsg("content %s version %lld loaded", a->name, (long long)a->version);
		worker_fault_content(a);
		return;
	}
	diag_format(&d, why, sizeof(why));
	logmsg("the installed content version %lld cannot be loaded: %s",
	       (long long)W.st.current.version, why);
	if (W.st.lkg.present && content_load(&W.st.lkg, &a, &d) == 0 &&
	    store_rollback(W.cfg->state_dir, &W.st, CAUSE_DAMAGED,
			   "the installed files were damaged", now_unix(), &d) == 0) {
		active_swap(a, 1);
		logmsg("rolled back to version %lld", (long long)a->version);
	}
}

/*
 * Applies a reloaded configuration (next, taken; groups: what changed).
 * Holds apply_lock throughout, so that no activation runs with half of
 * it, and the on-access marks move under it as they do for new content.
 */
static void
reconfigure(struct agent_config *next, unsigned groups)
{
	struct sign_key *keys[CONFIG_MAX_KEYS];
	struct agent_config *old;
	unsigned n = 0, i;
	char why[1024];
	int safe;

	pthread_mutex_lock(&W.apply_lock);
	if ((groups & CONFIG_CONTENT) && load_keys(next, keys, &n) != 0) {
		/* Read by the supervisor a moment ago: gone since.  The keys in
		 * use stay, with their threshold. */
		logmsg("reload: the trusted keys cannot be read now; the previous ones stay");
		memcpy(next->trusted_keys, W.live->trusted_keys, sizeof(next->trusted_keys));
		next->ntrusted = W.live->ntrusted;
		next->signature_threshold = W.live->signature_threshold;
		groups &= ~CONFIG_CONTENT;
	}
	if (groups & CONFIG_CONTENT) {
		for (i = 0; i < W.ntrusted; i++)
			sign_key_free(W.trusted[i]);
		memcpy(W.trusted, keys, sizeof(keys[0]) * n);
		W.ntrusted = n;
	}
	pthread_mutex_lock(&W.lock);
	old = W.live;
	W.live = next;
	W.live_at = time(NULL);
	safe = W.safe;
	pthread_mutex_unlock(&W.lock);
	if (groups & CONFIG_SCAN)
		control_set_max_filesize(next->max_filesize);
	if (groups & CONFIG_EXCEPTIONS)
		exceptions_reconfigure(W.exc, next);
	if ((groups & CONFIG_OUTPUTS) && outputs_reconfigure(next, why, sizeof(why)) != 0)
		logmsg("reload: outputs are off: %s", why);
	sensor_set_reconfigure(&W.sensors, next, groups, safe);
	pthread_mutex_unlock(&W.apply_lock);
	ward_free(old);
	logmsg("reload: the new configuration is in force");
}

/*
 * The worker holds a descriptor for each file in flight: fanotify events,
 * the files of ward agent scan and of the clamd socket's walks.  A worker
 * out of descriptors would have the kernel deny the fanotify permission
 * events it can no longer take, so every open on a watched mount would
 * fail: its soft limit goes up to the hard one (systemd's is 524288), at
 * most WARD_WORKER_NOFILE.  Its helpers set their own (proctab.c).
 */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur >= WARD_WORKER_NOFILE || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max < WARD_WORKER_NOFILE ? rl.rlim_max : WARD_WORKER_NOFILE;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		logmsg("cannot raise the descriptor limit to %llu: %s",
		       (unsigned long long)rl.rlim_cur, strerror(errno));
}

int
worker_main(const struct agent_config *c, const char *config_path, struct ipc *heartbeat,
	    struct ipc *cfg)
{
	struct ward_diag d;
	sigset_t set;
	pthread_t t;
	uint8_t md[32];
	int sfd;

	/* Before any thread exists, so that every one inherits it: signals
	 * are taken by the main thread only, through sfd. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGPIPE); /* blocked, so that a write gets EPIPE; not waited for */
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	raise_nofile();
	W.cfg = c;
	W.config_path = config_path;
	W.started = time(NULL);
	W.live = ward_malloc(sizeof(*W.live));
	if (sfd < 0 || W.live == NULL || wire_sensors() != 0) {
		logmsg("cannot start: %s", sfd < 0 ? strerror(errno) : "out of memory");
		return WORKER_EXIT_CONFIG;
	}
	memcpy(W.live, c, sizeof(*W.live));
	W.live_at = W.started;
	/* Warm OpenSSL's provider caches before any thread needs them. */
	(void)digest_buf(DIGEST_SHA256, "", 0, md, sizeof(md));
	if (load_keys(c, W.trusted, &W.ntrusted) != 0)
		return WORKER_EXIT_CONFIG;
	switch (store_open(c->state_dir, &W.st, &d)) {
	case 0:
		break;
	case WARD_EFORMAT: /* never half-trusted: start empty, say so */
		logmsg("content store: %s: %s; starting without content", d.file, d.msg);
		break;
	default:
		logmsg("content store: %s: %s", d.file, d.msg);
		return WORKER_EXIT_CONFIG;
	}
	{
		struct journal_opts jo;
		char jdir[CONFIG_MAX_PATH + 16];

		journal_defaults(&jo);
		jo.max_bytes = (uint64_t)c->journal_max_mb << 20;
		jo.fsync = (enum journal_fsync)c->journal_fsync;
		snprintf(jdir, sizeof(jdir), "%s/journal", c->state_dir);
		if (journal_open(jdir, &jo, &W.journal, &d) != 0) {
			logmsg("journal: %s: %s", d.file, d.msg);
			return WORKER_EXIT_CONFIG;
		}
	}
	if (exceptions_new(c, &W.exc) != 0) {
		logmsg("out of memory");
		return WORKER_EXIT_CONFIG;
	}
	exceptions_on_change(W.exc, exceptions_changed, &W.sensors);
	{
		char why[700];

		if (outputs_start(c, W.journal, why, sizeof(why)) != 0)
			logmsg("outputs are off: %s", why);
		if (uplink_start(c, W.journal, why, sizeof(why)) != 0)
			logmsg("the uplink to the server is off: %s", why);
	}
	scanpool_start(c);
	load_current();
	{
		json_t *ev =
		    event_new(EVENT_KIND_EVENT, "process", "start", "agent-started", "success");

		if (ev != NULL) {
			event_set_str(ev, "ward.mode", mode_name());
			if (W.safe)
				event_set_str(ev, "message", W.safe_reason);
			if (W.st.current.present && !W.safe)
				event_set_int(ev, "ward.content.version", W.st.current.version);
			{ /* the exceptions in force, by source */
				struct active *a = active_get();

				event_set(ev, "ward.exceptions",
					  exceptions_status(W.exc, a != NULL ? &a->exc : NULL));
				active_put(a);
			}
			emit(ev);
		}
	}
	sensor_set_start(&W.sensors, c, W.safe);
	if (control_start(c) != 0)
		return WORKER_EXIT_CONFIG;
	/* The clamd socket is a service beside protection: if it cannot
	 * listen, the agent runs on without it (said in the log). */
	if (c->clamd_enabled)
		(void)clamd_start(c);
	if (!W.st.current.present && !W.safe && c->initial_content[0] != '\0') {
		json_t *r = control_apply(c->initial_content);

		json_decref(r);
	}
	if (pthread_create(&t, NULL, heartbeat_thread, heartbeat) == 0)
		pthread_detach(t);
	{
		const char *mode = mode_name();

		logmsg("ready: %s (%s)", control_socket_path(),
		       strcmp(mode, "safe") == 0      ? "safe mode"
		       : strcmp(mode, "waiting") == 0 ? "waiting for content"
						      : mode);
	}
	reload_serve(sfd, cfg, reconfigure);
	logmsg("stopping");
	control_stop();
	clamd_stop();
	sensor_set_stop(&W.sensors);
	scanpool_stop();
	emit(event_new(EVENT_KIND_EVENT, "process", "end", "agent-stopped", "success"));
	outputs_stop();
	journal_close(W.journal);
	return 0;
}
