/*
 * uplink_call: the worker's side of the uplink process.  See uplink_call.h.
 *
 * Must hold: nothing the uplink sends is used before its decoder (upmsg)
 * passed it, and a bundle before its size and SHA-256 are the ones the
 * worker asked for; a message outside the protocol, a wrong answer to a
 * request or a silence past the call's time ends the process (logged as
 * an attack where it is one) and the next call starts a new one; a
 * channel is used by one call at a time; the process never holds a
 * descriptor of the worker's but its channels and the downloads
 * directory.
 */
#include "agent/uplink_call.h"
#include "agent/uplink_fetch.h"
#include "agent/proctab.h"
#include "agent/uplink_net.h"
#include "agent/worker.h"
#include "crypto/digest.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Beyond the call's own bound (UPLINK_CALL_TIMEOUT_S): the time to copy a
 * large bundle into its memory file. */
#define CALL_SLACK_S 30
/* A process that ends within this many seconds of its start died young. */
#define YOUNG_S 10
#define RESTART_MAX_S 60
/* Calls in a row that fail before the process is retired, and its age. */
#define RETIRE_FAILS 20
#define RETIRE_AGE_S 86400

enum { CH_POLL, CH_CALLS, NCH };

struct chan {
	pthread_mutex_t lock; /* one call at a time; ch and gen */
	struct ipc *ch;
	unsigned gen; /* the process ch belongs to */
};

static struct {
	const struct agent_config *cfg;
	pthread_mutex_t lock; /* pid, gen, fresh, starts, next_start, fails */
	pid_t pid;
	unsigned gen, starts;
	struct ipc *fresh[NCH];	    /* the running process's channels, not yet taken */
	double started, next_start; /* clock_mono() */
	unsigned fails;		    /* processes in a row that died young */
	unsigned failed_calls;	    /* calls in a row that failed */
	struct chan ch[NCH];
} P = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .ch = {{.lock = PTHREAD_MUTEX_INITIALIZER}, {.lock = PTHREAD_MUTEX_INITIALIZER}},
};

int
uplink_call_init(const struct agent_config *c, char *why, size_t whylen)
{
	struct passwd *pw;

	P.cfg = c;
	pw = getpwnam(c->server_user);
	if (pw == NULL || pw->pw_uid == 0) {
		snprintf(why, whylen, "server.user %s: %s", c->server_user,
			 pw == NULL ? "no such user" : "must not be root");
		return -1;
	}
	return 0;
}

/* --- the process ------------------------------------------------------------- */

/* Sends the new process its setup: the server and the CA certificates. */
static int
send_setup(struct ipc *ch, char *err, size_t errlen)
{
	struct upmsg_setup s;
	struct ward_diag d;
	struct wbuf w;
	uint8_t *ca = NULL;
	size_t calen = 0;
	int fd = -1, r;

	memset(&s, 0, sizeof(s));
	snprintf(s.url, sizeof(s.url), "%s", P.cfg->server_url);
	if (P.cfg->server_ca[0] != '\0' &&
	    file_read_all(P.cfg->server_ca, UPMSG_MAX_CA, &ca, &calen, &d) != 0) {
		snprintf(err, errlen, "server.ca: %s", d.msg);
		return -1;
	}
	r = ipc_memfd_new("ward-ca", ca, calen, &fd);
	free(ca);
	if (r != 0) {
		snprintf(err, errlen, "cannot make a memory file: %s", strerror(errno));
		return -1;
	}
	wbuf_init(&w);
	upmsg_setup_encode(&w, &s);
	r = w.err ? WARD_ENOMEM : ipc_send(ch, UPMSG_SETUP, w.p, w.len, fd, IPC_FOREVER, &d);
	wbuf_free(&w);
	close(fd);
	if (r != 0)
		snprintf(err, errlen, "the uplink process took no setup: %s", d.msg);
	return r == 0 ? 0 : -1;
}

/* Starts the uplink process (P.lock held): 0, or -1 with err. */
static int
start(char *err, size_t errlen)
{
	const char *args[] = {"--uplink-user", P.cfg->server_user, NULL};
	int sv[NCH][2], fds[NCH], i, n = 0;
	double now = clock_mono();
	pid_t pid;

	if (now < P.next_start) {
		snprintf(err, errlen, "the uplink process died young; the next starts in %.0f s",
			 P.next_start - now + 0.5);
		return -1;
	}
	for (i = 0; i < NCH; i++) {
		if (ipc_pair(sv[n]) != 0)
			goto fail;
		n++;
		if (ipc_new(sv[i][0], &upmsg_to_worker, &upmsg_to_uplink, &P.fresh[i]) != 0) {
			sv[i][0] = -1;
			goto fail;
		}
		sv[i][0] = -1; /* the channel owns it */
		fds[i] = sv[i][1];
	}
	if (proctab_spawn(PROC_UPLINK, args, fds, NCH, PROCTAB_F_UNBLOCK, &pid) != 0)
		goto fail;
	for (i = 0; i < NCH; i++)
		close(sv[i][1]);
	P.pid = pid;
	P.gen++;
	P.starts++;
	P.started = now;
	if (send_setup(P.fresh[CH_POLL], err, errlen) != 0)
		return -1; /* the caller ends it */
	return 0;
fail:
	snprintf(err, errlen, "cannot start the uplink process: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		if (sv[i][0] >= 0)
			close(sv[i][0]);
		close(sv[i][1]);
	}
	for (i = 0; i < NCH; i++) {
		ipc_free(P.fresh[i]);
		P.fresh[i] = NULL;
	}
	return -1;
}

/* Ends the process (P.lock held) and says why, unless planned: an end
 * the worker chose (see retire).  reaped: it is gone already and status
 * says how (uplink_call_tick reaped it); the pid is never signalled then,
 * as it may be another process's by now. */
static void
finish_process(const char *why, int planned, int reaped, int status)
{
	double now = clock_mono(), backoff;
	int i;

	if (P.pid > 0) {
		/* One that dies young again and again (a seccomp kill at each
		 * call, a server that crashes it) is not restarted at every
		 * call: 1 s, 2 s, ... up to a minute.  An end the worker chose
		 * is no death. */
		if (!planned) {
			P.fails = now - P.started < YOUNG_S ? P.fails + 1 : 0;
			backoff =
			    P.fails == 0 ? 0 : (double)(1u << (P.fails < 7 ? P.fails - 1 : 6));
			P.next_start = now + (backoff < RESTART_MAX_S ? backoff : RESTART_MAX_S);
		}
		if (!reaped) {
			kill(P.pid, SIGKILL);
			while (waitpid(P.pid, &status, 0) < 0 && errno == EINTR)
				;
		}
		if (planned)
			; /* said by the caller, when worth saying */
		else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
			worker_log("uplink: the uplink process (pid %ld) was killed by signal %d "
				   "(%s); a new one starts at the next call",
				   (long)P.pid, WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			worker_log("uplink: the uplink process (pid %ld) ended: %s; a new one "
				   "starts at the next call",
				   (long)P.pid, why);
	}
	P.pid = 0;
	for (i = 0; i < NCH; i++) {
		ipc_free(P.fresh[i]);
		P.fresh[i] = NULL;
	}
}

static void
end_process(const char *why, int planned)
{
	finish_process(why, planned, 0, 0);
}

void
uplink_call_tick(void)
{
	int status = 0;
	char why[64];

	pthread_mutex_lock(&P.lock);
	if (P.pid > 0 && waitpid(P.pid, &status, WNOHANG) == P.pid) {
		if (WIFEXITED(status))
			snprintf(why, sizeof(why), "it exited with status %d", WEXITSTATUS(status));
		else
			snprintf(why, sizeof(why), "killed by signal %d",
				 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		finish_process(why, 0, 1, status);
	}
	pthread_mutex_unlock(&P.lock);
}

/*
 * Ends a process that did nothing wrong, so that nothing it may hold
 * outlives the reason: after a download (it held a writable descriptor of
 * the part file, which an uplink taken over could keep and fill), after
 * RETIRE_FAILS calls in a row failed (an uplink taken over that answers
 * every call with a failure keeps no foothold), and once a day.  No
 * backoff: the next call starts a new one at once.
 */
static void
retire(unsigned gen, const char *why)
{
	pthread_mutex_lock(&P.lock);
	if (gen == P.gen && P.pid > 0)
		end_process(why, 1);
	pthread_mutex_unlock(&P.lock);
}

/* Ends the process of generation gen, unless another call did already. */
static void
broken(unsigned gen, const char *why)
{
	pthread_mutex_lock(&P.lock);
	if (gen == P.gen && P.pid > 0)
		end_process(why, 0);
	pthread_mutex_unlock(&P.lock);
}

/* Channel i, locked, of a running process; NULL (unlocked) with err. */
static struct chan *
take(int i, char *err, size_t errlen)
{
	struct chan *c = &P.ch[i];

	int ok;

	pthread_mutex_lock(&c->lock);
	pthread_mutex_lock(&P.lock);
	if (P.pid > 0 && clock_mono() - P.started > RETIRE_AGE_S)
		end_process("a day old", 1);
	if (P.pid <= 0 && start(err, errlen) != 0)
		end_process(err, 0);
	if (P.pid > 0 && c->gen != P.gen) {
		ipc_free(c->ch);
		c->ch = P.fresh[i];
		P.fresh[i] = NULL;
		c->gen = P.gen;
	}
	ok = P.pid > 0 && c->ch != NULL && c->gen == P.gen;
	pthread_mutex_unlock(&P.lock);
	if (!ok) {
		pthread_mutex_unlock(&c->lock);
		return NULL;
	}
	return c;
}

void
uplink_call_proc(long *pid, unsigned *starts)
{
	pthread_mutex_lock(&P.lock);
	*pid = (long)P.pid;
	*starts = P.starts;
	pthread_mutex_unlock(&P.lock);
}

/* --- one call ------------------------------------------------------------------ */

/*
 * Sends request type (payload w, freed here; fd beside it or -1) on
 * channel c and receives the answer in *m: 0 when it is want (the caller
 * decodes it, c still locked), 1 when it is a failure (decoded here:
 * *status and err), -1 when the process broke (ended here; err says why).
 */
static int
exchange(struct chan *c, enum upmsg_type type, struct wbuf *w, int fd, enum upmsg_type want,
	 struct ipc_msg *m, long *status, char *err, size_t errlen)
{
	struct upmsg_failed f;
	struct ward_diag d;
	char msg[700];
	int r;

	*status = 0;
	diag_clear(&d);
	r = w->err ? WARD_ENOMEM : ipc_send(c->ch, type, w->p, w->len, fd, IPC_FOREVER, &d);
	if (w->p != NULL) /* a request holds the credential */
		explicit_bzero(w->p, w->len);
	wbuf_free(w);
	if (r == 0)
		r = ipc_recv(c->ch, clock_mono() + UPLINK_CALL_TIMEOUT_S + CALL_SLACK_S, m, &d);
	if (r == 0 && m->type == UPMSG_FAILED) {
		r = upmsg_failed_decode(m, &f, &d);
		ipc_msg_close(m);
		if (r == 0) {
			*status = (long)f.status;
			snprintf(err, errlen, "%s", f.error);
			return 1;
		}
	} else if (r == 0 && m->type != want) {
		ipc_msg_close(m);
		r = diag_set(&d, WARD_EPROTO, "uplink", 0, 0, "request %u answered with a %s",
			     (unsigned)type, m->def->name);
	}
	if (r == 0)
		return 0;
	if (r == WARD_EPROTO) {
		ipc_attack_text(&d, msg, sizeof(msg));
		worker_log("uplink: %s", msg);
	}
	snprintf(err, errlen, "the uplink process: %s", d.msg);
	broken(c->gen, d.msg);
	return -1;
}

/* The request's body in a sealed memory file: its fd, or -1 with err. */
static int
body_memfd(const char *body, size_t len, char *err, size_t errlen)
{
	int fd = -1;

	if (ipc_memfd_new("ward-request", body, len, &fd) != 0)
		snprintf(err, errlen, "cannot make a memory file: %s", strerror(errno));
	return fd;
}

/* Decodes an answer m into out: 0, or WARD_EPROTO (an attack) with d. */
typedef int (*answer_fn)(const struct ipc_msg *m, void *out, struct ward_diag *d);

/*
 * One call on channel i: the request type (rq's fields, unless an
 * enrollment; beside it body in a memory file, or without a body the
 * file, borrowed, or nothing when -1), its answer of type want
 * decoded by decode into out.  200 when it was; else the status of the
 * failure the uplink reported (*reported 1, when not NULL), or 0 (the
 * uplink failed, was ended, or its answer was refused as an attack:
 * *reported 0; not even sent: -1), with err.
 */
static long
call(int i, enum upmsg_type type, const struct upmsg_call *rq, const char *body, size_t len,
     int file, enum upmsg_type want, answer_fn decode, void *out, int *reported, char *err,
     size_t errlen)
{
	struct ward_diag d;
	struct ipc_msg m;
	struct chan *c;
	struct wbuf w;
	char msg[700];
	long st = 0;
	unsigned gen, fails;
	int fd = -1, r;

	if (reported != NULL)
		*reported = -1; /* not sent */
	if ((c = take(i, err, errlen)) == NULL)
		return 0;
	if (body != NULL && (fd = body_memfd(body, len, err, errlen)) < 0)
		goto out;
	if (body == NULL)
		fd = file;
	wbuf_init(&w);
	if (type != UPMSG_ENROLL)
		upmsg_call_encode(&w, type, rq);
	if (reported != NULL)
		*reported = 0;
	if ((r = exchange(c, type, &w, fd, want, &m, &st, err, errlen)) != 0) {
		if (r == 1 && reported != NULL)
			*reported = 1;
		goto out;
	}
	if (decode(&m, out, &d) != 0) { /* the uplink lied: an attack */
		ipc_attack_text(&d, msg, sizeof(msg));
		worker_log("uplink: %s", msg);
		snprintf(err, errlen, "the uplink process: %s", d.msg);
		broken(c->gen, d.msg);
	} else {
		st = 200;
	}
	ipc_msg_close(&m);
out:
	if (fd >= 0 && fd != file)
		close(fd);
	gen = c->gen;
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_lock(&P.lock);
	P.failed_calls = st == 200 || st == 202 ? 0 : P.failed_calls + 1;
	fails = P.failed_calls;
	pthread_mutex_unlock(&P.lock);
	if (fails >= RETIRE_FAILS) {
		retire(gen, "calls in a row failed");
		pthread_mutex_lock(&P.lock);
		P.failed_calls = 0;
		pthread_mutex_unlock(&P.lock);
	}
	return st;
}

/* A request of cred, wiped by the caller. */
static void
request(struct upmsg_call *rq, const char *cred)
{
	memset(rq, 0, sizeof(*rq));
	snprintf(rq->cred, sizeof(rq->cred), "%s", cred);
}

static int
enrolled_fn(const struct ipc_msg *m, void *out, struct ward_diag *d)
{
	int r = upmsg_enrolled_decode(m, out, d);

	ipc_msg_wipe((struct ipc_msg *)m); /* the secret: in out now, or refused */
	return r;
}

long
uplink_call_enroll(const char *body, size_t len, struct upmsg_enrolled *out, char *err,
		   size_t errlen)
{
	long st = call(CH_CALLS, UPMSG_ENROLL, NULL, body, len, -1, UPMSG_ENROLLED, enrolled_fn,
		       out, NULL, err, errlen);

	return st == 200 ? (long)out->status : st;
}

/* An answer and the fleet's exceptions beside it. */
struct answered {
	struct checkin_answer *a;
	struct upmsg_exceptions *exc;
};

static int
answer_fn_(const struct ipc_msg *m, void *out, struct ward_diag *d)
{
	struct answered *x = out;
	const uint8_t *p = NULL;
	int r;

	if ((r = upmsg_answer_decode(m, x->a, d)) != 0)
		return r;
	if (ipc_memfd_map(m->fd, (size_t)m->fd_size, &p) != 0)
		return diag_set(d, WARD_EPROTO, "uplink", 0, 0, "unreadable fleet exceptions");
	r = upmsg_exceptions_decode(p, (size_t)m->fd_size, x->exc, d);
	ipc_memfd_unmap(p, (size_t)m->fd_size);
	if (r != 0)
		memset(x->a, 0, sizeof(*x->a));
	return r;
}

long
uplink_call_checkin(const char *cred, const char *body, size_t len, struct checkin_answer *ans,
		    struct upmsg_exceptions *exc, char *err, size_t errlen)
{
	struct answered x = {ans, exc};
	struct upmsg_call rq;
	long st;

	memset(ans, 0, sizeof(*ans));
	memset(exc, 0, sizeof(*exc));
	request(&rq, cred);
	st = call(CH_POLL, UPMSG_CHECKIN, &rq, body, len, -1, UPMSG_ANSWER, answer_fn_, &x, NULL,
		  err, errlen);
	explicit_bzero(&rq, sizeof(rq));
	return st;
}

static int
acked_fn(const struct ipc_msg *m, void *out, struct ward_diag *d)
{
	return upmsg_acked_decode(m, out, d);
}

long
uplink_call_events(const char *cred, const char *body, size_t len, int64_t *acked, char *err,
		   size_t errlen)
{
	struct upmsg_call rq;
	long st;

	*acked = 0;
	request(&rq, cred);
	st = call(CH_CALLS, UPMSG_EVENTS, &rq, body, len, -1, UPMSG_ACKED, acked_fn, acked, NULL,
		  err, errlen);
	explicit_bzero(&rq, sizeof(rq));
	return st;
}

/* What a fetch asked for, and where its bundle goes. */
struct fetched {
	const struct download_target *t;
	const uint8_t *p;
};

/* The bundle beside m: exactly the size and SHA-256 asked for (the
 * worker computes it), mapped. */
static int
bundle_fn(const struct ipc_msg *m, void *out, struct ward_diag *d)
{
	struct fetched *f = out;
	const struct download_target *t = f->t;
	struct upmsg_bundle b;
	uint8_t md[32];
	char hex[65];
	int r;

	f->p = NULL;
	if ((r = upmsg_bundle_decode(m, &b, d)) != 0)
		return r;
	if (b.size != t->size || strcmp(b.sha256, t->sha256) != 0)
		return diag_set(d, WARD_EPROTO, "uplink", 0, 0,
				"a bundle of %llu bytes named %.16s... for the %llu bytes of "
				"%.16s... asked for",
				(unsigned long long)b.size, b.sha256, (unsigned long long)t->size,
				t->sha256);
	if (ipc_memfd_map(m->fd, (size_t)b.size, &f->p) != 0)
		return diag_set(d, WARD_EPROTO, "uplink", 0, 0, "an unreadable bundle");
	if (digest_buf(DIGEST_SHA256, f->p, (size_t)b.size, md, sizeof(md)) != 0 ||
	    digest_to_hex(md, sizeof(md), hex, sizeof(hex)) != 0)
		snprintf(hex, sizeof(hex), "(not computed)");
	if (strcmp(hex, t->sha256) != 0) {
		ipc_memfd_unmap(f->p, (size_t)b.size);
		f->p = NULL;
		return diag_set(d, WARD_EPROTO, "uplink", 0, 0,
				"a bundle whose SHA-256 is %.16s..., not the %.16s... announced",
				hex, t->sha256);
	}
	return 0;
}

long
uplink_call_fetch(const char *cred, const struct download_target *t, const uint8_t **p, char *err,
		  size_t errlen)
{
	struct fetched f = {t, NULL};
	struct upmsg_call rq;
	long st;

	int part, reported = 0;

	*p = NULL;
	/* The part file is the worker's: the uplink writes only through the
	 * descriptor beside the request, and has no file system to fill. */
	if (uplink_part_open(P.cfg->state_dir, t, &part, err, errlen) != 0)
		return 0;
	request(&rq, cred);
	rq.target = *t;
	st = call(CH_CALLS, UPMSG_FETCH, &rq, NULL, 0, part, UPMSG_BUNDLE, bundle_fn, &f, &reported,
		  err, errlen);
	explicit_bzero(&rq, sizeof(rq));
	/* Kept for a later request when the uplink said the server failed
	 * (it empties a part of no use) or never had it; a part an uplink
	 * that broke or lied wrote into is not resumed. */
	uplink_part_done(P.cfg->state_dir, t, part, reported == 0);
	/* Whatever it answered, it held the part: it goes with it. */
	if (reported != -1) {
		unsigned gen;

		pthread_mutex_lock(&P.ch[CH_CALLS].lock);
		gen = P.ch[CH_CALLS].gen; /* the fetch's: calls on it are serialised */
		pthread_mutex_unlock(&P.ch[CH_CALLS].lock);
		retire(gen, "a download is done");
	}
	*p = f.p;
	return st;
}

void
uplink_call_unmap(const uint8_t *p, uint64_t size)
{
	if (p != NULL)
		ipc_memfd_unmap(p, (size_t)size);
}
