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
#include "agent/proctab.h"
#include "agent/uplink_net.h"
#include "agent/worker.h"
#include "crypto/digest.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/ipc.h"

#include <dirent.h>
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

#define DOWNLOADS "downloads"
/* Beyond the call's own bound (UPLINK_CALL_TIMEOUT_S): the time to copy a
 * large bundle into its memory file. */
#define CALL_SLACK_S 30

enum { CH_POLL, CH_CALLS, NCH };

struct chan {
	pthread_mutex_t lock; /* one call at a time; ch and gen */
	struct ipc *ch;
	unsigned gen; /* the process ch belongs to */
};

static struct {
	const struct agent_config *cfg;
	uid_t uid; /* server.user */
	gid_t gid;
	pthread_mutex_t lock; /* ddir, pid, gen, fresh, starts */
	int ddir;	      /* the downloads directory the process was given */
	pid_t pid;
	unsigned gen, starts;
	struct ipc *fresh[NCH]; /* the running process's channels, not yet taken */
	struct chan ch[NCH];
} P = {
    .ddir = -1,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .ch = {{.lock = PTHREAD_MUTEX_INITIALIZER}, {.lock = PTHREAD_MUTEX_INITIALIZER}},
};

static void end(const char *why);

/* --- the downloads directory ------------------------------------------------ */

/*
 * STATE_DIR/downloads, made or taken over for uid:gid with mode 0700.
 * Anything in it that is not a plain file of uid's goes: a part file of
 * a download begun when the agent downloaded as root, or a link planted
 * there — nothing in it is ever chowned, so no link can make root give
 * away a file of its own.
 */
static int
downloads_dir(const char *state_dir, uid_t uid, gid_t gid, char *why, size_t whylen)
{
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int sfd, dfd = -1, fd;

	if ((sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(why, whylen, "cannot open %.300s: %s", state_dir, strerror(errno));
		return -1;
	}
	if (mkdirat(sfd, DOWNLOADS, 0700) != 0 && errno != EEXIST)
		snprintf(why, whylen, "cannot create %.300s/" DOWNLOADS ": %s", state_dir,
			 strerror(errno));
	else if ((dfd = openat(sfd, DOWNLOADS, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
		 0)
		snprintf(why, whylen, "refusing %.300s/" DOWNLOADS ": %s", state_dir,
			 errno == ELOOP || errno == ENOTDIR ? "not a directory (a symlink?)"
							    : strerror(errno));
	close(sfd);
	if (dfd < 0)
		return -1;
	if (fchown(dfd, uid, gid) != 0 || fchmod(dfd, 0700) != 0) {
		snprintf(why, whylen, "cannot give %.300s/" DOWNLOADS " to uid %ld: %s", state_dir,
			 (long)uid, strerror(errno));
		close(dfd);
		return -1;
	}
	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0 &&
	    (dir = fdopendir(fd)) != NULL) {
		while ((de = readdir(dir)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
			    !S_ISREG(st.st_mode) || st.st_uid != uid)
				(void)unlinkat(dfd, de->d_name,
					       S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
		}
		closedir(dir);
	} else if (fd >= 0) {
		close(fd);
	}
	return dfd;
}

/*
 * Before a download: the downloads directory as it is now.  When it is no
 * longer the one the running process was given (removed, replaced), that
 * process ends and the next starts with this one.  0, or -1 with err.
 */
static int
downloads_refresh(char *err, size_t errlen)
{
	struct stat a, b;
	int fd = downloads_dir(P.cfg->state_dir, P.uid, P.gid, err, errlen);

	if (fd < 0)
		return -1;
	pthread_mutex_lock(&P.lock);
	if (P.ddir >= 0 && fstat(fd, &a) == 0 && fstat(P.ddir, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino) {
		close(fd);
	} else {
		if (P.pid > 0)
			end("its downloads directory was replaced");
		if (P.ddir >= 0)
			close(P.ddir);
		P.ddir = fd;
	}
	pthread_mutex_unlock(&P.lock);
	return 0;
}

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
	P.uid = pw->pw_uid;
	P.gid = pw->pw_gid;
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
	int sv[NCH][2], fds[NCH + 1], i, n = 0, r;
	pid_t pid;

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
	/* Until a download made the directory: a descriptor the uplink
	 * refuses as one. */
	if ((fds[NCH] = P.ddir >= 0 ? P.ddir : open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		goto fail;
	r = proctab_spawn(PROC_UPLINK, args, fds, NCH + 1, PROCTAB_F_UNBLOCK, &pid);
	if (fds[NCH] != P.ddir)
		close(fds[NCH]);
	if (r != 0)
		goto fail;
	for (i = 0; i < NCH; i++)
		close(sv[i][1]);
	P.pid = pid;
	P.gen++;
	P.starts++;
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

/* Ends the process (P.lock held) and says why. */
static void
end(const char *why)
{
	int status = 0, i;

	if (P.pid > 0) {
		kill(P.pid, SIGKILL);
		while (waitpid(P.pid, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
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

/* Ends the process of generation gen, unless another call did already. */
static void
broken(unsigned gen, const char *why)
{
	pthread_mutex_lock(&P.lock);
	if (gen == P.gen && P.pid > 0)
		end(why);
	pthread_mutex_unlock(&P.lock);
}

/* Channel i, locked, of a running process; NULL (unlocked) with err. */
static struct chan *
take(int i, char *err, size_t errlen)
{
	struct chan *c = &P.ch[i];

	pthread_mutex_lock(&c->lock);
	pthread_mutex_lock(&P.lock);
	if (P.pid <= 0 && start(err, errlen) != 0)
		end(err);
	if (P.pid > 0 && c->gen != P.gen) {
		ipc_free(c->ch);
		c->ch = P.fresh[i];
		P.fresh[i] = NULL;
		c->gen = P.gen;
	}
	pthread_mutex_unlock(&P.lock);
	if (c->ch == NULL || c->gen != P.gen) {
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

/* A decoder refused the answer m of c's process: an attack. */
static void
refused(struct chan *c, struct ipc_msg *m, const struct ward_diag *d, char *err, size_t errlen)
{
	char msg[700];

	ipc_msg_close(m);
	ipc_attack_text(d, msg, sizeof(msg));
	worker_log("uplink: %s", msg);
	snprintf(err, errlen, "the uplink process: %s", d->msg);
	broken(c->gen, d->msg);
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

/* A call of type with the credential cred and body beside it; 0 with *m
 * (want, c locked until give), else the status with err. */
static long
call(int i, enum upmsg_type type, const char *cred, const char *body, size_t len,
     enum upmsg_type want, struct chan **cp, struct ipc_msg *m, char *err, size_t errlen)
{
	struct upmsg_call rq;
	struct chan *c;
	struct wbuf w;
	long status = 0;
	int fd = -1, r;

	*cp = NULL;
	if ((c = take(i, err, errlen)) == NULL)
		return 0;
	if (body != NULL && (fd = body_memfd(body, len, err, errlen)) < 0) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	memset(&rq, 0, sizeof(rq));
	snprintf(rq.cred, sizeof(rq.cred), "%s", cred);
	wbuf_init(&w);
	if (type != UPMSG_ENROLL)
		upmsg_call_encode(&w, type, &rq);
	explicit_bzero(&rq, sizeof(rq));
	r = exchange(c, type, &w, fd, want, m, &status, err, errlen);
	if (fd >= 0)
		close(fd);
	if (r != 0) {
		pthread_mutex_unlock(&c->lock);
		return status;
	}
	*cp = c;
	return 0;
}

long
uplink_call_enroll(const char *body, size_t len, struct upmsg_enrolled *out, char *err,
		   size_t errlen)
{
	struct ward_diag d;
	struct ipc_msg m;
	struct chan *c;
	long st;

	memset(out, 0, sizeof(*out));
	st = call(CH_CALLS, UPMSG_ENROLL, "", body, len, UPMSG_ENROLLED, &c, &m, err, errlen);
	if (c == NULL)
		return st;
	if (upmsg_enrolled_decode(&m, out, &d) != 0) {
		refused(c, &m, &d, err, errlen);
		st = 0;
	} else {
		ipc_msg_close(&m);
		st = (long)out->status;
	}
	pthread_mutex_unlock(&c->lock);
	return st;
}

/* The fleet's exceptions beside an answer: NULL when none came (empty),
 * else a JSON object, or -1 (an attack: not what the uplink can send). */
static int
answer_exceptions(const struct ipc_msg *m, json_t **out, struct ward_diag *d)
{
	const uint8_t *p = NULL;

	*out = NULL;
	if (m->fd_size == 0)
		return 0;
	if (ipc_memfd_map(m->fd, (size_t)m->fd_size, &p) != 0)
		return diag_set(d, WARD_EPROTO, "uplink", 0, 0, "an unreadable exception list");
	*out = json_loadb((const char *)p, (size_t)m->fd_size, JSON_REJECT_DUPLICATES, NULL);
	ipc_memfd_unmap(p, (size_t)m->fd_size);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return diag_set(d, WARD_EPROTO, "uplink", 0, 0,
				"an exception list that is not a JSON object");
	}
	return 0;
}

long
uplink_call_checkin(const char *cred, const char *body, size_t len, struct checkin_answer *ans,
		    char *err, size_t errlen)
{
	struct ward_diag d;
	struct ipc_msg m;
	struct chan *c;
	long st;

	memset(ans, 0, sizeof(*ans));
	st = call(CH_POLL, UPMSG_CHECKIN, cred, body, len, UPMSG_ANSWER, &c, &m, err, errlen);
	if (c == NULL)
		return st;
	if (upmsg_answer_decode(&m, ans, &d) != 0 ||
	    answer_exceptions(&m, &ans->exceptions, &d) != 0) {
		refused(c, &m, &d, err, errlen);
		checkin_answer_free(ans);
		memset(ans, 0, sizeof(*ans));
		st = 0;
	} else {
		ipc_msg_close(&m);
		st = 200;
	}
	pthread_mutex_unlock(&c->lock);
	return st;
}

long
uplink_call_events(const char *cred, const char *body, size_t len, int64_t *acked, char *err,
		   size_t errlen)
{
	struct ward_diag d;
	struct ipc_msg m;
	struct chan *c;
	long st;

	*acked = 0;
	st = call(CH_CALLS, UPMSG_EVENTS, cred, body, len, UPMSG_ACKED, &c, &m, err, errlen);
	if (c == NULL)
		return st;
	if (upmsg_acked_decode(&m, acked, &d) != 0) {
		refused(c, &m, &d, err, errlen);
		st = 0;
	} else {
		ipc_msg_close(&m);
		st = 200;
	}
	pthread_mutex_unlock(&c->lock);
	return st;
}

/* The bundle beside m: exactly t's size and SHA-256, mapped into *p. */
static int
bundle_check(const struct ipc_msg *m, const struct download_target *t, const uint8_t **p,
	     struct ward_diag *d)
{
	struct upmsg_bundle b;
	uint8_t md[32];
	char hex[65];
	int r;

	*p = NULL;
	if ((r = upmsg_bundle_decode(m, &b, d)) != 0)
		return r;
	if (b.size != t->size || strcmp(b.sha256, t->sha256) != 0)
		return diag_set(d, WARD_EPROTO, "uplink", 0, 0,
				"a bundle of %llu bytes named %.16s... for the %llu bytes of "
				"%.16s... asked for",
				(unsigned long long)b.size, b.sha256, (unsigned long long)t->size,
				t->sha256);
	if (ipc_memfd_map(m->fd, (size_t)b.size, p) != 0)
		return diag_set(d, WARD_EPROTO, "uplink", 0, 0, "an unreadable bundle");
	(void)digest_buf(DIGEST_SHA256, *p, (size_t)b.size, md, sizeof(md));
	(void)digest_to_hex(md, sizeof(md), hex, sizeof(hex));
	if (strcmp(hex, t->sha256) != 0) {
		ipc_memfd_unmap(*p, (size_t)b.size);
		*p = NULL;
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
	struct upmsg_call rq;
	struct ward_diag d;
	struct ipc_msg m;
	struct chan *c;
	struct wbuf w;
	long st = 0;
	int r;

	*p = NULL;
	if (downloads_refresh(err, errlen) != 0 || (c = take(CH_CALLS, err, errlen)) == NULL)
		return 0;
	memset(&rq, 0, sizeof(rq));
	snprintf(rq.cred, sizeof(rq.cred), "%s", cred);
	rq.target = *t;
	wbuf_init(&w);
	upmsg_call_encode(&w, UPMSG_FETCH, &rq);
	explicit_bzero(&rq, sizeof(rq));
	r = exchange(c, UPMSG_FETCH, &w, -1, UPMSG_BUNDLE, &m, &st, err, errlen);
	if (r == 0) {
		if (bundle_check(&m, t, p, &d) != 0) {
			refused(c, &m, &d, err, errlen);
		} else {
			ipc_msg_close(&m);
			st = 200;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return st;
}

void
uplink_call_unmap(const uint8_t *p, uint64_t size)
{
	if (p != NULL)
		ipc_memfd_unmap(p, (size_t)size);
}
