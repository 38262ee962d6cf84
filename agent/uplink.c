/*
 * uplink: enrollment, check-in and event upload.  See uplink.h.
 *
 * Must hold: a record leaves the journal only after the server said it
 * committed it (and the local outputs delivered it); a failed or refused
 * call changes nothing locally and is retried with backoff; the secret is
 * never logged; a revoked agent stops calling and says so.
 */
#include "agent/uplink.h"
#include "agent/exceptions.h"
#include "agent/outputs.h"
#include "agent/uplink_call.h"
#include "agent/uplink_net.h"
#include "agent/uplink_report.h"
#include "agent/worker.h"
#include "crypto/digest.h"
#include "event/journal.h"
#include "content/bundle.h"
#include "content/download.h"
#include "content/store.h"
#include "util/alloc.h"
#include "util/file.h"
#include "proto/checkin.h"
#include "proto/jcheck.h"

#include <openssl/crypto.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH_BYTES (4u << 20)
#define BACKOFF_MAX_S 60
#define REFUSALS_PER_MINUTE 10

static struct {
	const struct agent_config *cfg;
	struct journal *j;
	char state_path[CONFIG_MAX_PATH + 32];
	char agent_id[64], secret[96], journal_id[40];
	char prev_id[64], prev_secret[96]; /* an identity the server no longer took */
	pthread_mutex_t lock;		   /* everything below */
	pthread_cond_t cond;
	int kicked, running, synced, revoked;
	unsigned server_batch_max; /* from the server's check-in answer */
	char state[24];		   /* enrolling, enrolled, pending-approval, refused, revoked */
	char error[300];
	char refused[600];    /* the last reason for not taking content */
	time_t refused_since; /* the minute refused_lines counts in */
	unsigned refused_lines, refused_quiet;
	long long acked;
	/* The highest sequence number of the journal (journal_id) that the
	 * server can have from this agent: what the journal held at start (a
	 * run before may have sent it), then what was sent since.  The server
	 * saying it has more means that it saw another journal under this id. */
	uint64_t sent_max;
	time_t last_checkin, last_upload;
	/* the server's latest answer of what to run, not yet followed (its
	 * desired part only); owned */
	struct checkin_answer *desired;
} U = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void
set_state(const char *state, const char *error)
{
	pthread_mutex_lock(&U.lock);
	if (state != NULL)
		snprintf(U.state, sizeof(U.state), "%s", state);
	snprintf(U.error, sizeof(U.error), "%.299s", error != NULL ? error : "");
	pthread_mutex_unlock(&U.lock);
}

void
uplink_kick(void)
{
	pthread_mutex_lock(&U.lock);
	U.kicked = 1;
	pthread_cond_signal(&U.cond);
	pthread_mutex_unlock(&U.lock);
}

json_t *
uplink_status(void)
{
	json_t *o;

	pthread_mutex_lock(&U.lock);
	if (!U.running) {
		pthread_mutex_unlock(&U.lock);
		return NULL;
	}
	o = json_pack("{s:s, s:s, s:s, s:I}", "server", U.cfg->server_url, "state", U.state,
		      "agent_id", U.agent_id, "events_acked", (json_int_t)U.acked);
	if (U.last_checkin > 0) {
		char at[21];

		bundle_format_time((int64_t)U.last_checkin, at);
		json_object_set_new(o, "last_checkin", json_string(at));
	} else {
		json_object_set_new(o, "last_checkin", json_null());
	}
	if (U.error[0] != '\0')
		json_object_set_new(o, "error", json_string(U.error));
	pthread_mutex_unlock(&U.lock);
	{ /* the process that talks to the server, and how often it started */
		unsigned starts;
		long pid;

		uplink_call_proc(&pid, &starts);
		json_object_set_new(
		    o, "process",
		    json_pack("{s:I, s:I}", "pid", (json_int_t)pid, "starts", (json_int_t)starts));
	}
	return o;
}

int
uplink_token_unneeded(void)
{
	int r;

	pthread_mutex_lock(&U.lock);
	r = U.running && U.cfg->server_enroll_token[0] != '\0' && U.agent_id[0] != '\0' &&
	    strcmp(U.state, "enrolled") == 0;
	pthread_mutex_unlock(&U.lock);
	return r;
}

/* --- identity ------------------------------------------------------------ */

static void
read_line(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "re");

	out[0] = '\0';
	if (f == NULL)
		return;
	if (fgets(out, (int)outlen, f) == NULL)
		out[0] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	fclose(f);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* Hardware hints: the DMI product UUID and the MAC addresses of physical
 * interfaces, hashed — stable across a reinstall, different on a clone. */
static void
hardware_id(char out[65])
{
	char text[4096], macs[16][32], path[512];
	unsigned n = 0, i;
	uint8_t md[32];
	DIR *dir;
	struct dirent *de;

	if (U.cfg->server_hw_file[0] != '\0') {
		read_line(U.cfg->server_hw_file, text, sizeof(text));
	} else {
		read_line("/sys/class/dmi/id/product_uuid", text, sizeof(text));
		if ((dir = opendir("/sys/class/net")) != NULL) {
			while ((de = readdir(dir)) != NULL && n < 16) {
				snprintf(path, sizeof(path), "/sys/class/net/%s/device",
					 de->d_name);
				if (de->d_name[0] == '.' || access(path, F_OK) != 0)
					continue; /* virtual interfaces change */
				snprintf(path, sizeof(path), "/sys/class/net/%s/address",
					 de->d_name);
				read_line(path, macs[n], sizeof(macs[n]));
				n++;
			}
			closedir(dir);
		}
		qsort(macs, n, sizeof(macs[0]), cmp_str);
		for (i = 0; i < n; i++)
			snprintf(text + strlen(text), sizeof(text) - strlen(text), " %s", macs[i]);
	}
	(void)digest_buf(DIGEST_SHA256, text, strlen(text), md, sizeof(md));
	(void)digest_to_hex(md, sizeof(md), out, 65);
}

/* --- calls ------------------------------------------------------------------ */

/* The credential ("ID:SECRET") for a call; the caller wipes out after use. */
static void
credential(char *out, size_t outlen)
{
	pthread_mutex_lock(&U.lock); /* the enrolling thread may change them */
	snprintf(out, outlen, "%s:%s", U.agent_id, U.secret);
	pthread_mutex_unlock(&U.lock);
}

/* body as compact JSON text (wiped and freed by the caller with
 * free_text); NULL when out of memory. */
static char *
text_of(json_t *body)
{
	return json_dumps(body, JSON_COMPACT);
}

static void
free_text(char *text)
{
	if (text != NULL)
		OPENSSL_cleanse(text, strlen(text));
	free(text);
}

/* --- enrollment ------------------------------------------------------------ */

static int
load_state(void)
{
	json_t *o = json_load_file(U.state_path, 0, NULL);
	const char *id = json_string_value(json_object_get(o, "agent_id")),
		   *sec = json_string_value(json_object_get(o, "secret")),
		   *jid = json_string_value(json_object_get(o, "journal_id")),
		   *url = json_string_value(json_object_get(o, "server"));
	int ok = jcheck_hex(id, 32) && jcheck_hex(sec, 64) && jcheck_hex(jid, 32) && url != NULL &&
		 strcmp(url, U.cfg->server_url) == 0;

	if (ok) {
		snprintf(U.agent_id, sizeof(U.agent_id), "%s", id);
		snprintf(U.secret, sizeof(U.secret), "%s", sec);
		snprintf(U.journal_id, sizeof(U.journal_id), "%s", jid);
	}
	json_decref(o);
	return ok ? 0 : -1;
}

/* A new random journal id (32 hex digits) in out.  0 or -1. */
static int
new_journal_id(char out[33])
{
	uint8_t rnd[16];
	FILE *f = fopen("/dev/urandom", "re");
	int ok = f != NULL && fread(rnd, 1, sizeof(rnd), f) == sizeof(rnd);

	if (f != NULL)
		fclose(f);
	if (!ok)
		return -1;
	(void)digest_to_hex(rnd, sizeof(rnd), out, 33);
	return 0;
}

static int
save_state(void)
{
	json_t *o;
	char *text;
	struct ward_diag d;
	int r;

	pthread_mutex_lock(&U.lock);
	o = json_pack("{s:s, s:s, s:s, s:s}", "server", U.cfg->server_url, "agent_id", U.agent_id,
		      "secret", U.secret, "journal_id", U.journal_id);
	pthread_mutex_unlock(&U.lock);
	text = json_dumps(o, JSON_INDENT(1));
	r = text != NULL ? file_replace(U.state_path, text, strlen(text), 0600, &d) : -1;
	if (text != NULL)
		OPENSSL_cleanse(text, strlen(text));
	free(text);
	json_decref(o);
	return r;
}

/*
 * The server says it has the events of journal jid up to acked, more than
 * this agent can have sent of it: the journal was lost or restored from a
 * backup, or two agents wrote it before the state directory was locked.
 * The events written since carry sequence numbers the server has already
 * (and drops as duplicates), and nothing newer would be sent until the
 * journal caught up.  So they go under a new journal id, from the
 * journal's oldest record still kept: some may reach the server twice,
 * none is lost.  (Compared with what was sent, not with the journal's
 * end: events written before the first check-in answers — a burst of FIM
 * events — must not hide the mismatch.)  Returns 1 if it switched (or jid
 * is no longer the current one).
 */
static int
journal_behind(long long acked, const char *jid)
{
	struct journal_stats js;
	uint64_t sent;
	char id[33];
	int stale;

	journal_stats(U.j, &js);
	pthread_mutex_lock(&U.lock);
	stale = strcmp(U.journal_id, jid) != 0;
	sent = U.sent_max;
	pthread_mutex_unlock(&U.lock);
	if (stale)
		return 1;
	if (acked <= 0 || (uint64_t)acked <= sent || new_journal_id(id) != 0)
		return 0;
	pthread_mutex_lock(&U.lock);
	snprintf(U.journal_id, sizeof(U.journal_id), "%s", id);
	U.acked = 0;
	U.sent_max = 0;
	U.synced = 1;
	pthread_mutex_unlock(&U.lock);
	if (save_state() != 0)
		worker_log("uplink: cannot save %s", U.state_path);
	worker_log("uplink: the server has the events of journal %s up to %lld, beyond what this "
		   "journal held of it (up to %llu; its next event is %llu): recovered, events go "
		   "to the server under the new journal %s from event %llu on",
		   jid, acked, (unsigned long long)sent, (unsigned long long)js.next_seq, id,
		   (unsigned long long)(js.first_seq > 0 ? js.first_seq : js.next_seq));
	return 1;
}

/*
 * Enrolls with the token (and, when the server stopped knowing the
 * identity this agent held, the proof of it).  0 enrolled, 1 enrolled but
 * waiting for an operator's approval (this host's identity was already
 * enrolled), -2 refused, -1 failed (err says why).
 */
static int
enroll(char *err, size_t errlen)
{
	char machine[128], hw[65], host[256] = "", *text;
	struct upmsg_enrolled e;
	json_t *body;
	long code;
	int r;

	if (U.cfg->server_enroll_token[0] == '\0') {
		snprintf(err, errlen, "not enrolled, and no server.enroll_token to enroll with");
		return -1;
	}
	read_line(U.cfg->server_machine_id_file, machine, sizeof(machine));
	hardware_id(hw);
	(void)gethostname(host, sizeof(host) - 1);
	body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "token", U.cfg->server_enroll_token,
			 "machine_id", machine, "hw_id", hw, "hostname", host, "version",
			 WARD_VERSION);
	pthread_mutex_lock(&U.lock);
	if (U.prev_id[0] != '\0') { /* proves the identity: the same agent, at once */
		json_object_set_new(body, "agent_id", json_string(U.prev_id));
		json_object_set_new(body, "secret", json_string(U.prev_secret));
	}
	pthread_mutex_unlock(&U.lock);
	text = text_of(body);
	json_decref(body);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* The uplink process checked the answer's formats, and its decoder
	 * here again (hex, of their lengths): they go into a header line and
	 * the log. */
	code = uplink_call_enroll(text, strlen(text), &e, err, errlen);
	free_text(text);
	if (code != 200 && code != 202)
		return code == 403 || code == 400 ? -2 : -1;
	err[0] = '\0';
	pthread_mutex_lock(&U.lock);
	snprintf(U.agent_id, sizeof(U.agent_id), "%s", e.agent_id);
	snprintf(U.secret, sizeof(U.secret), "%s", e.secret);
	OPENSSL_cleanse(U.prev_id, sizeof(U.prev_id));
	OPENSSL_cleanse(U.prev_secret, sizeof(U.prev_secret));
	pthread_mutex_unlock(&U.lock);
	OPENSSL_cleanse(e.secret, sizeof(e.secret));
	{
		char jid[33];

		if (new_journal_id(jid) != 0) {
			snprintf(err, errlen, "no randomness");
			return -1;
		}
		pthread_mutex_lock(&U.lock);
		snprintf(U.journal_id, sizeof(U.journal_id), "%s", jid);
		pthread_mutex_unlock(&U.lock);
	}
	r = code == 202 ? 1 : 0;
	if (r == 1)
		snprintf(err, errlen,
			 "enrolled as agent %s, waiting for an operator's approval (ward fleet "
			 "approve %s): this host's identity was enrolled already",
			 U.agent_id, U.agent_id);
	worker_log("enrolled with %s as agent %s (%s)", U.cfg->server_url, U.agent_id, e.how);
	if (save_state() != 0) {
		snprintf(err, errlen, "cannot save %.500s", U.state_path);
		return -1;
	}
	return r;
}

/* --- check-in and events ------------------------------------------------------ */

/* CPU % of this process since the last call, and its resident memory. */
static void
resources(double *cpu_pct, long long *rss_kb)
{
	static double last_cpu, last_wall;
	struct timespec ts;
	char buf[1024], *p;
	unsigned long ut = 0, st = 0;
	long pages = 0;
	double cpu, wall;
	FILE *f;

	*cpu_pct = 0;
	*rss_kb = 0;
	if ((f = fopen("/proc/self/stat", "re")) != NULL) {
		if (fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) != NULL)
			(void)sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				     &ut, &st);
		fclose(f);
	}
	if ((f = fopen("/proc/self/statm", "re")) != NULL) {
		if (fscanf(f, "%*d %ld", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	cpu = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	wall = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	if (last_wall > 0 && wall > last_wall)
		*cpu_pct = (cpu - last_cpu) / (wall - last_wall) * 100;
	last_cpu = cpu;
	last_wall = wall;
	*rss_kb = pages * (sysconf(_SC_PAGESIZE) / 1024);
}

/* --- desired content ------------------------------------------------------- */

/* Says why the server's content was not taken: in the status, and in the
 * log when the reason changes — at most REFUSALS_PER_MINUTE lines a
 * minute, so that a server cycling through bad answers at every check-in
 * cannot fill the disk with our log. */
static void
refuse(const char *why)
{
	time_t now = time(NULL);
	unsigned quiet = 0;
	int say = 0;

	set_state(NULL, why);
	pthread_mutex_lock(&U.lock);
	if (now - U.refused_since >= 60 || now < U.refused_since) {
		quiet = U.refused_quiet;
		U.refused_since = now;
		U.refused_lines = U.refused_quiet = 0;
	}
	if (strcmp(U.refused, why) != 0) {
		snprintf(U.refused, sizeof(U.refused), "%s", why);
		if (U.refused_lines < REFUSALS_PER_MINUTE) {
			U.refused_lines++;
			say = 1;
		} else {
			U.refused_quiet++;
		}
	}
	pthread_mutex_unlock(&U.lock);
	if (quiet > 0)
		worker_log("uplink: %u more reasons to refuse the server's content not logged",
			   quiet);
	if (say)
		worker_log("uplink: %s", why);
}

/* Acts on what the server wants this agent to run: roll back from a
 * stopped release, or fetch and activate newer content — through the same
 * checks as any other bundle (the server is not trusted with more).  Every
 * field of desired was validated (checkin_answer_check) before any is used;
 * what the agent runs and refused is st, the worker's typed state. */
static void
follow(const struct checkin_answer *want, const struct store_state *st)
{
	long long have = st->current.present ? (long long)st->current.version : 0;
	char msg[1500], err[600], cred[200];
	const struct download_target t = want->desired;
	const uint8_t *buf = NULL;
	double ms;
	long long got;
	unsigned i;
	long code;

	if (want->desired_state != CHECKIN_DESIRED_OK) {
		snprintf(msg, sizeof(msg), "refused the fleet server's desired content: %s",
			 want->desired_why);
		refuse(msg);
		return;
	}
	if (t.rollback_from > 0 && t.rollback_from == have) {
		snprintf(msg, sizeof(msg), "the fleet server stopped the release of version %lld",
			 (long long)t.rollback_from);
		if (worker_rollback(CAUSE_FLEET_ROLLBACK, msg, err, sizeof(err)) == 0)
			worker_log("%s: %s", msg, err);
		return;
	}
	if (t.version <= have)
		return;
	for (i = 0; i < st->nrejected; i++)
		if (st->rejected[i].version == t.version)
			return; /* refused here already: the server sees it in our report */
	/* The uplink process downloads it; what it hands over is taken only
	 * with the size and SHA-256 announced (uplink_call_fetch), and then
	 * goes through every check any bundle does. */
	credential(cred, sizeof(cred));
	code = uplink_call_fetch(cred, &t, &buf, err, sizeof(err));
	OPENSSL_cleanse(cred, sizeof(cred));
	if (code != 200 || buf == NULL) {
		refuse(err);
		return;
	}
	pthread_mutex_lock(&U.lock);
	U.refused[0] = '\0'; /* the next problem is news again */
	pthread_mutex_unlock(&U.lock);
	got = t.version;
	if (worker_activate(buf, (size_t)t.size, &got, &ms, msg, sizeof(msg)) != 0)
		worker_log("content version %lld from the fleet server refused: %s",
			   (long long)t.version, msg);
	uplink_call_unmap(buf, t.size);
}

/* Checks in; *next is when to check in again (seconds), *acked what the
 * server has committed of the journal jid (the one this check-in named).
 * The report is the fleet protocol's (report_encode), built from the
 * worker's typed state: wardd, ward-sim and the server share its one
 * definition. */
static long
checkin(int *next, long long *acked, char jid[40], char *err, size_t errlen)
{
	struct store_state *st = malloc(sizeof(*st)); /* some 10 KiB: not on the stack */
	struct uplink_report_in in;
	json_t *body = NULL, *status = NULL;
	struct checkin_answer ans, *want;
	struct upmsg_exceptions exc;
	struct exceptions *x;
	char cred[200], *text = NULL;
	long code = 0;

	memset(&in, 0, sizeof(in));

	if (st == NULL || (status = worker_status_json()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	worker_content_state(st, &in.mode);
	in.st = st;
	if ((x = worker_exceptions()) != NULL) {
		in.exceptions = 1;
		exceptions_fleet_revisions(x, &in.exceptions_revision, &in.exceptions_refused);
	}
	pthread_mutex_lock(&U.lock);
	snprintf(jid, 40, "%s", U.journal_id);
	pthread_mutex_unlock(&U.lock);
	in.journal_id = jid;
	/* A long poll: the server answers when there is something to do, or
	 * after at most its check-in interval. */
	in.wait_s = UPLINK_LONG_POLL_S;
	in.status = status;
	resources(&in.cpu_pct, &in.rss_kb);
	if ((body = uplink_report_encode(&in)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((text = text_of(body)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* The uplink process checked the server's answer against the
	 * protocol (an answer outside it is a failed check-in, 502), and its
	 * decoder here again, field by field. */
	credential(cred, sizeof(cred));
	code = uplink_call_checkin(cred, text, strlen(text), &ans, &exc, err, errlen);
	OPENSSL_cleanse(cred, sizeof(cred));
	if (code == 200) {
		*next = (int)ans.next_checkin_s;
		*acked = (long long)ans.events_acked;
		pthread_mutex_lock(&U.lock);
		/* what the server takes per upload (it refuses larger batches) */
		U.server_batch_max = (unsigned)ans.events_batch_max;
		U.last_checkin = time(NULL);
		pthread_mutex_unlock(&U.lock);
		/* The fleet's exceptions, when the server sends a new list:
		 * checked whole, and taken only as server.exceptions allows. */
		if (exc.state != UPMSG_EXC_NONE)
			exceptions_fleet_list(worker_exceptions(), exc.revision, &exc.list,
					      exc.state == UPMSG_EXC_REFUSED ? exc.reason : NULL);
		upmsg_exceptions_free(&exc);
		/* Followed by the uplink thread: a download and an activation
		 * (up to validator.timeout_s) must not stop the check-ins, or
		 * the gate would take a slow activation for an agent gone
		 * silent and halt a good release. */
		if (ans.desired_state != CHECKIN_DESIRED_NONE &&
		    (want = malloc(sizeof(*want))) != NULL) {
			*want = ans;
			pthread_mutex_lock(&U.lock);
			free(U.desired);
			U.desired = want;
			pthread_mutex_unlock(&U.lock);
			uplink_kick();
		}
	}
out:
	free(text);
	json_decref(body);
	json_decref(status);
	free(st);
	return code;
}

struct batch {
	json_t *events;
	size_t bytes;
	unsigned max;
	uint64_t last; /* sequence number of the last event in it */
};

static int
add_record(void *arg, uint64_t seq, const uint8_t *p, size_t n)
{
	struct batch *b = arg;
	json_t *ev = json_loadb((const char *)p, n, 0, NULL);

	if (ev == NULL) /* not JSON: cannot be an event; skip it */
		return 0;
	json_array_append_new(b->events,
			      json_pack("{s:I, s:o}", "seq", (json_int_t)seq, "event", ev));
	b->bytes += n;
	b->last = seq;
	return json_array_size(b->events) >= b->max || b->bytes >= BATCH_BYTES;
}

/* Uploads one batch of the journal jid after *acked.  1 if there may be
 * more, 0 if none left, -1 on failure (with err). */
static int
upload(long long *acked, const char *jid, char *err, size_t errlen)
{
	struct journal_stats js;
	struct batch b = {json_array(), 0, U.cfg->server_batch_max, 0};
	json_t *body;
	uint64_t from = (uint64_t)*acked + 1, keep;
	char cred[200], *text;
	int64_t got = 0;
	long code;
	int more;

	pthread_mutex_lock(&U.lock);
	if (U.server_batch_max > 0 && U.server_batch_max < b.max)
		b.max = U.server_batch_max;
	pthread_mutex_unlock(&U.lock);
	journal_stats(U.j, &js);
	if (from < js.first_seq)
		from = js.first_seq; /* dropped by the cap: counted in a journal-dropped event */
	if (js.next_seq == 0 || from >= js.next_seq) {
		json_decref(b.events);
		return 0;
	}
	(void)journal_read(U.j, from, add_record, &b, NULL);
	if (json_array_size(b.events) == 0) {
		json_decref(b.events);
		return 0;
	}
	more = json_array_size(b.events) >= b.max || b.bytes >= BATCH_BYTES;
	/* Before it is sent: an answer that counts it must not look like
	 * more than was sent. */
	pthread_mutex_lock(&U.lock);
	if (strcmp(U.journal_id, jid) == 0 && b.last > U.sent_max)
		U.sent_max = b.last;
	pthread_mutex_unlock(&U.lock);
	body = json_pack("{s:s, s:o}", "journal_id", jid, "events", b.events);
	text = text_of(body);
	json_decref(body);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	credential(cred, sizeof(cred));
	code = uplink_call_events(cred, text, strlen(text), &got, err, errlen);
	OPENSSL_cleanse(cred, sizeof(cred));
	free(text);
	if (code != 200)
		return -1;
	*acked = (long long)got;
	if (journal_behind(*acked, jid))
		return 1; /* again, under the journal id in force */
	/* Drop only what the server has and every local output delivered. */
	keep = outputs_delivered();
	(void)journal_ack(U.j, (uint64_t)*acked < keep ? (uint64_t)*acked : keep);
	pthread_mutex_lock(&U.lock);
	U.acked = *acked;
	U.last_upload = time(NULL);
	pthread_mutex_unlock(&U.lock);
	return more;
}

/* Sleeps up to s seconds, or until new events when events is set. */
static void
wait_for(double s, int events)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)s;
	until.tv_nsec += (long)((s - (double)(time_t)s) * 1e9);
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&U.lock);
	while (!(events && U.kicked))
		if (pthread_cond_timedwait(&U.cond, &U.lock, &until) != 0)
			break;
	U.kicked = 0;
	pthread_mutex_unlock(&U.lock);
}

static int
enrolled(void)
{
	int r;

	pthread_mutex_lock(&U.lock);
	r = U.agent_id[0] != '\0' && !U.revoked;
	pthread_mutex_unlock(&U.lock);
	return r;
}

/*
 * Check-ins, on a connection of their own: the server holds each one
 * until there is something to do (a long poll), so that a release or a
 * halt reaches the agent at once, while events go out on the other.
 */
static void *
poll_thread(void *arg)
{
	char err[600], jid[40];
	double backoff = 1;
	long long server_acked = 0;
	int next = 0;
	long code;

	(void)arg;

	for (;;) {
		if (!enrolled()) {
			pthread_mutex_lock(&U.lock);
			if (U.revoked) {
				pthread_mutex_unlock(&U.lock);
				return NULL;
			}
			pthread_mutex_unlock(&U.lock);
			sleep(1);
			continue;
		}
		err[0] = '\0';
		code = checkin(&next, &server_acked, jid, err, sizeof(err));
		if (code == 403) { /* revoked: say so, stop calling */
			set_state("revoked", err);
			worker_log("uplink: %s; no further calls", err);
			pthread_mutex_lock(&U.lock);
			U.revoked = 1;
			pthread_mutex_unlock(&U.lock);
			return NULL;
		}
		if (code == 401) { /* the server does not know us: enroll again, with
				    * the proof of who we were */
			pthread_mutex_lock(&U.lock);
			snprintf(U.prev_id, sizeof(U.prev_id), "%s", U.agent_id);
			snprintf(U.prev_secret, sizeof(U.prev_secret), "%s", U.secret);
			U.agent_id[0] = '\0';
			pthread_mutex_unlock(&U.lock);
			set_state("enrolling", err);
			uplink_kick();
			continue;
		}
		if (code == 409) { /* our enrollment waits for an operator */
			set_state("pending-approval", err);
			sleep(BACKOFF_MAX_S / 2);
			continue;
		}
		if (code != 200) {
			set_state(NULL, err);
			sleep((unsigned)backoff);
			backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : backoff * 2;
			continue;
		}
		backoff = 1;
		/* Resume after what the server has committed of this journal
		 * (after a restart, or if it lost some) — unless it has more than
		 * the journal holds. */
		if (journal_behind(server_acked, jid))
			server_acked = -1; /* under another journal id now */
		pthread_mutex_lock(&U.lock);
		if (strcmp(U.state, "pending-approval") == 0) { /* approved */
			snprintf(U.state, sizeof(U.state), "enrolled");
			U.error[0] = '\0';
		}
		if (server_acked >= 0) {
			U.acked = server_acked;
			U.synced = 1;
		}
		pthread_mutex_unlock(&U.lock);
		uplink_kick();
		if (next > 0)
			sleep((unsigned)next);
		else
			usleep(200000); /* a long poll answered: call again */
	}
	return NULL;
}

/* Follows what the last check-in said the agent should run, judged by
 * what it runs now (content may have been applied since). */
static void
follow_desired(void)
{
	struct checkin_answer *want;
	struct store_state *st;
	const char *mode;

	pthread_mutex_lock(&U.lock);
	want = U.desired;
	U.desired = NULL;
	pthread_mutex_unlock(&U.lock);
	if (want == NULL)
		return;
	if ((st = malloc(sizeof(*st))) != NULL) {
		worker_content_state(st, &mode);
		follow(want, st);
	}
	free(st);
	free(want);
}

/* Enrollment, following the server's desired content, event uploads. */
static void *
uplink_thread(void *arg)
{
	char err[600];
	double backoff = 1;
	int polling = 0;

	(void)arg;
	for (;;) {
		long long acked;
		char jid[40];
		int r;

		err[0] = '\0';
		pthread_mutex_lock(&U.lock);
		r = U.revoked;
		pthread_mutex_unlock(&U.lock);
		if (r)
			return NULL;
		if (!enrolled()) {
			r = enroll(err, sizeof(err));
			if (r < 0) {
				set_state(r == -2 ? "refused" : "enrolling", err);
				worker_log("uplink: %s", err);
				wait_for(r == -2 ? BACKOFF_MAX_S : backoff, 0);
				backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : backoff * 2;
				continue;
			}
			set_state(r == 1 ? "pending-approval" : "enrolled", r == 1 ? err : NULL);
			if (r == 1)
				worker_log("uplink: %s", err);
		}
		if (!polling) {
			pthread_t t;

			if (pthread_create(&t, NULL, poll_thread, NULL) == 0) {
				pthread_detach(t);
				polling = 1;
			}
		}
		follow_desired();
		pthread_mutex_lock(&U.lock);
		acked = U.acked;
		snprintf(jid, sizeof(jid), "%s", U.journal_id);
		r = U.synced;
		pthread_mutex_unlock(&U.lock);
		if (!r) { /* not before the server said what it has */
			wait_for(0.2, 1);
			continue;
		}
		r = upload(&acked, jid, err, sizeof(err));
		if (r < 0) {
			set_state(NULL, err);
			wait_for(backoff, 0);
			backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : backoff * 2;
			continue;
		}
		set_state("enrolled", NULL);
		backoff = 1;
		if (r > 0)
			continue; /* more to send */
		wait_for(30, 1);
		wait_for(0.2, 0); /* let a burst of events gather */
	}
	return NULL;
}

int
uplink_start(const struct agent_config *c, struct journal *j, char *why, size_t whylen)
{
	pthread_t t;

	why[0] = '\0';
	if (c->server_url[0] == '\0')
		return 0;
	U.cfg = c;
	U.j = j;
	{ /* before anything new is journaled: a run before may have sent it */
		struct journal_stats js;

		journal_stats(j, &js);
		U.sent_max = js.next_seq - 1;
	}
	snprintf(U.state_path, sizeof(U.state_path), "%s/uplink.json", c->state_dir);
	/* TLS, HTTP and JSON of the server: in the uplink process. */
	if (uplink_call_init(c, why, whylen) != 0)
		return -1;
	snprintf(U.state, sizeof(U.state), "enrolling");
	if (load_state() == 0)
		snprintf(U.state, sizeof(U.state), "enrolled");
	if (pthread_create(&t, NULL, uplink_thread, NULL) != 0) {
		snprintf(why, whylen, "cannot start a thread");
		return -1;
	}
	pthread_detach(t);
	pthread_mutex_lock(&U.lock);
	U.running = 1;
	pthread_mutex_unlock(&U.lock);
	return 0;
}
