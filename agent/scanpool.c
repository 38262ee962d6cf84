/*
 * scanpool: the worker's scanner processes.  See scanpool.h.
 *
 * Must hold: a scanner's channel is used by the one thread that took the
 * scanner (busy) until it gives it back; a scanner that died or broke its
 * protocol is killed and reaped before it is started again; a verdict is
 * taken only for the request it answers (its id); the poison list is
 * read and written holding P.lock, and saved after each change.
 */
#include "agent/scanpool.h"
#include "agent/proctab.h"
#include "agent/poison.h"
#include "agent/procfs.h"
#include "agent/worker.h"
#include "event/event.h"
#include "util/clock.h"
#include "util/ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SCANPOOL_MAX SCANPOOL_MAX_PROCS
/* A scan's time bound: long enough for a large file on a slow disk, so
 * that a scanner that takes longer is stuck (and its file poison). */
#define SCAN_TIME_BASE_S 30.0
#define SCAN_BYTES_PER_S (16.0 * 1024 * 1024)
/* The longest bound of one file: a day (well within uint32_t ms). */
#define SCAN_TIME_MAX_S (24.0 * 3600)
/* A scanner restarting after a death: 0.1 s, doubling, at most 5 s. */
#define BACKOFF_MIN_S 0.1
#define BACKOFF_MAX_S 5.0
/* A scanner beyond the first that has been idle this long is ended: an
 * agent at rest keeps one warm (the next on-access scan needs no start),
 * not scan.processes of them, each some 13 MiB. */
#define SCANNER_IDLE_S 60.0

struct proc {
	pid_t pid; /* 0: not running */
	struct ipc *ch;
	unsigned long long serial; /* the content it holds (0: none) */
	uint64_t next_id;
	int busy;
	unsigned fails; /* deaths since its last verdict */
	double next_start;
	double last_used; /* clock_mono() when it was last given back */
};

static struct {
	const struct agent_config *cfg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct proc p[SCANPOOL_MAX];
	unsigned n;
	struct poison_list poison;
	uint64_t scans, crashes, poison_skipped, restarts, retired;
	int stopping; /* scanpool_stop: a scanner's end is no crash */
} P = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

int
scanpool_start(const struct agent_config *c)
{
	pthread_condattr_t ca;
	struct ward_diag d;

	P.cfg = c;
	P.n = c->scan_processes < 1		 ? 1
	      : c->scan_processes > SCANPOOL_MAX ? SCANPOOL_MAX
						 : c->scan_processes;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&P.cond, &ca);
	pthread_condattr_destroy(&ca);
	if (poison_load(c->state_dir, &P.poison, &d) != 0)
		worker_log("cannot read the poison-file list (starting empty): %s", d.msg);
	return 0;
}

/* Starts the scanner of p (not running).  0 or WARD_EIO. */
static int
proc_start(struct proc *p)
{
	char mem[16];
	const char *args[] = {"--scan-user", P.cfg->scan_user, "--validator-memory-mb", mem, NULL};
	int sv[2];
	pid_t pid;

	snprintf(mem, sizeof(mem), "%u", P.cfg->validator_memory_mb);
	if (ipc_pair(sv) != 0)
		return WARD_EIO;
	if (ipc_new(sv[0], &scanmsg_to_worker, &scanmsg_to_scanner, &p->ch) != 0) {
		close(sv[1]);
		return WARD_EIO;
	}
	/* No PR_SET_PDEATHSIG: it fires when the forking *thread* ends (a ward
	 * agent scan's), and the scanner's setuid clears it anyway.  A scanner
	 * outlives the worker only until its channel closes, or its scan's
	 * alarm (scanner.c) fires. */
	if (proctab_spawn(PROC_SCANNER, args, &sv[1], 1, PROCTAB_F_UNBLOCK, &pid) != 0) {
		close(sv[1]);
		ipc_free(p->ch);
		p->ch = NULL;
		return WARD_EIO;
	}
	close(sv[1]);
	p->pid = pid;
	p->serial = 0;
	p->next_id = 0;
	return 0;
}

/* Ends p's scanner (killed unless it exited) and reaps it; *status its
 * wait status.  The next start waits out a backoff. */
static void
proc_end(struct proc *p, int *status)
{
	double backoff;

	*status = 0;
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, status, 0) < 0 && errno == EINTR)
			;
	}
	ipc_free(p->ch);
	p->ch = NULL;
	p->pid = 0;
	p->serial = 0;
	backoff = BACKOFF_MIN_S * (double)(1u << (p->fails < 6 ? p->fails : 6));
	p->next_start = clock_mono() + (backoff < BACKOFF_MAX_S ? backoff : BACKOFF_MAX_S);
	p->fails++;
}

/* Takes an idle scanner by deadline (preferring a running one that holds
 * serial), or NULL. */
static struct proc *
take(unsigned long long serial, double deadline)
{
	struct proc *best = NULL;
	struct timespec ts;
	unsigned i;

	pthread_mutex_lock(&P.lock);
	for (;;) {
		for (i = 0; i < P.n; i++) {
			struct proc *p = &P.p[i];

			if (p->busy)
				continue;
			if (best == NULL || (p->pid > 0 && best->pid == 0) ||
			    (p->serial == serial && best->serial != serial) ||
			    (p->pid == 0 && best->pid == 0 && p->next_start < best->next_start))
				best = p;
		}
		if (best != NULL || clock_mono() >= deadline)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1; /* re-check the deadline each second */
		pthread_cond_timedwait(&P.cond, &P.lock, &ts);
	}
	if (best != NULL)
		best->busy = 1;
	pthread_mutex_unlock(&P.lock);
	return best;
}

static void
give_back(struct proc *p)
{
	pthread_mutex_lock(&P.lock);
	p->busy = 0;
	p->last_used = clock_mono();
	pthread_cond_signal(&P.cond);
	pthread_mutex_unlock(&P.lock);
}

/* A scanner that broke the channel's protocol: an attack from a process
 * that reads hostile files. */
static void
log_attack(const struct ward_diag *d)
{
	char msg[700];

	ipc_attack_text(d, msg, sizeof(msg));
	worker_log("%s", msg);
}

/* Gives p the content a holds.  0, or WARD_E* (p must end). */
static int
give_content(struct proc *p, struct active *a, double deadline)
{
	struct scanmsg_content c;
	struct scanmsg_refused *no = NULL;
	struct scanmsg_content_ok ok;
	struct ipc_msg m = {.fd = -1};
	struct ward_diag d;
	struct wbuf w;
	uint64_t size;
	int fd, r;

	worker_content_image(a, &fd, &size);
	if (fd < 0)
		return WARD_EINVAL;
	c.size = size;
	wbuf_init(&w);
	scanmsg_content_encode(&w, &c);
	diag_clear(&d);
	r = w.err != 0 ? WARD_ENOMEM
		       : ipc_send(p->ch, SCANMSG_CONTENT, w.p, w.len, fd, deadline, &d);
	wbuf_free(&w);
	if (r == 0)
		r = ipc_recv(p->ch, deadline, &m, &d);
	if (r == 0 && m.type == SCANMSG_CONTENT_OK &&
	    (r = scanmsg_content_ok_decode(&m, &ok, &d)) == 0)
		p->serial = worker_content_serial(a);
	else if (r == 0 && (no = malloc(sizeof(*no))) != NULL) {
		if ((r = scanmsg_refused_decode(&m, no, &d)) == 0) {
			worker_log("a scanner refused content version %lld: %s",
				   worker_content_version(a), no->reason);
			r = WARD_EVERIFY;
		}
	} else if (r == 0) {
		r = WARD_ENOMEM;
	}
	if (r == WARD_EPROTO)
		log_attack(&d);
	free(no);
	ipc_msg_close(&m);
	return r;
}

/* The path of fd, for people. */
static void
fd_path(int fd, const char *path, char *out, size_t n)
{
	char what[32];

	if (path != NULL) {
		snprintf(out, n, "%s", path);
		return;
	}
	snprintf(what, sizeof(what), "fd/%d", fd);
	if (procfs_link(0, what, out, n) != 0)
		snprintf(out, n, "?");
}

/* The file fd crashed a scanner: recorded, journaled; the crash rule. */
static void
record_crash(int fd, const struct stat *st, const char *path, long long version, const char *how)
{
	struct poison_entry e;
	struct ward_diag d;
	json_t *ev;
	char msg[600];
	int at_fault, stopping;

	pthread_mutex_lock(&P.lock);
	stopping = P.stopping;
	pthread_mutex_unlock(&P.lock);
	if (stopping)
		return; /* ended by the agent's stop, not by its file */

	memset(&e, 0, sizeof(e));
	e.dev = (uint64_t)st->st_dev;
	e.ino = (uint64_t)st->st_ino;
	e.size = (uint64_t)st->st_size;
	e.mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	if (poison_hash_fd(fd, e.sha256) != 0)
		memset(e.sha256, '0', 64); /* unreadable: known by its inode alone */
	e.when = (int64_t)time(NULL);
	e.version = version;
	fd_path(fd, path, e.path, sizeof(e.path));
	snprintf(msg, sizeof(msg),
		 "a scanner process %s while scanning this file; it is not scanned again until "
		 "it changes",
		 how);
	worker_log("scanner %s while scanning %s (sha256 %s): recorded as a poison file", how,
		   e.path, e.sha256);
	pthread_mutex_lock(&P.lock);
	P.crashes++;
	poison_record(&P.poison, &e);
	if (poison_save(P.cfg->state_dir, &P.poison, &d) != 0)
		worker_log("cannot save the poison-file list: %s", d.msg);
	at_fault = poison_content_at_fault(&P.poison, version, e.when, P.cfg->crash_window_s,
					   P.cfg->scan_crash_files);
	pthread_mutex_unlock(&P.lock);
	ev = event_new(EVENT_KIND_ALERT, "malware", "info", "scan-crashed", "failure");
	if (ev != NULL) {
		event_set_str(ev, "file.path", e.path);
		event_set_str(ev, "file.hash.sha256", e.sha256);
		event_set_int(ev, "file.size", (int64_t)e.size);
		event_set_int(ev, "ward.content.version", version);
		event_set_str(ev, "message", msg);
		worker_emit(ev);
	}
	if (at_fault) {
		/* Many different files crash the scanners with this content:
		 * the content is at fault, and the crash guard decides. */
		worker_log("scanners crashed on %u different files within %u s with content "
			   "version %lld: the content is at fault",
			   P.cfg->scan_crash_files, P.cfg->crash_window_s, version);
		_exit(WORKER_EXIT_CONTENT_FAULT);
	}
}

/* How a scanner died, from its wait status. */
static void
death_text(int status, int r, char *out, size_t n)
{
	if (r == WARD_ETIMEDOUT)
		snprintf(out, n, "took longer than its time bound");
	else if (r == WARD_EPROTO)
		snprintf(out, n, "broke its channel's protocol");
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		snprintf(out, n, "made a system call its sandbox forbids");
	else if (WIFSIGNALED(status))
		snprintf(out, n, "was killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(out, n, "exited (status %d)",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Whether fd is a known poison file. */
static int
is_poison(int fd, const struct stat *st)
{
	int64_t mt = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	char sha[65];
	int maybe, hit = 0;

	pthread_mutex_lock(&P.lock);
	maybe = poison_maybe(&P.poison, st->st_dev, st->st_ino, (uint64_t)st->st_size, mt);
	pthread_mutex_unlock(&P.lock);
	if (!maybe)
		return 0;
	if (poison_hash_fd(fd, sha) != 0)
		memset(sha, '0', 64), sha[64] = '\0';
	pthread_mutex_lock(&P.lock);
	hit =
	    poison_find(&P.poison, st->st_dev, st->st_ino, (uint64_t)st->st_size, mt, sha) != NULL;
	P.poison_skipped += hit;
	pthread_mutex_unlock(&P.lock);
	return hit;
}

/*
 * Starts p's scanner again after a death, with content a, so that the
 * next file does not wait for a start (an on-access deadline is short):
 * only when its backoff is short; else the next scan starts it.
 */
static void
warm(struct proc *p, struct active *a)
{
	double wait = p->next_start - clock_mono();
	int status;

	if (wait > 1.0)
		return;
	if (wait > 0)
		usleep((useconds_t)(wait * 1e6));
	if (proc_start(p) != 0) {
		proc_end(p, &status);
		return;
	}
	pthread_mutex_lock(&P.lock);
	P.restarts++;
	pthread_mutex_unlock(&P.lock);
	if (give_content(p, a, clock_mono() + SCAN_TIME_BASE_S) != 0)
		proc_end(p, &status);
}

/* How long a scanner may take over one file. */
static double
scan_bound(const struct stat *st)
{
	double b = SCAN_TIME_BASE_S + (double)st->st_size / SCAN_BYTES_PER_S;

	/* The size is the file owner's to choose (a sparse file of 2^56
	 * bytes costs nothing): past SCAN_TIME_MAX_S the bound would not fit
	 * the request's uint32_t milliseconds (and wrap to seconds). */
	return b < SCAN_TIME_MAX_S ? b : SCAN_TIME_MAX_S;
}

/* The time bound of the n files f[idx[0..n)] scanned one after another. */
static double
window_bound(struct scanpool_file *f, const unsigned *idx, unsigned n)
{
	double t = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		t += scan_bound(f[idx[i]].st);
	return t;
}

/*
 * Sends the scan requests for the files f[idx[0..n)] on p's channel with
 * one system call, as requests p->next_id + 1, ...; *sent says how many
 * went (p->next_id counts them).
 */
static int
send_scans(struct proc *p, struct scanpool_file *f, const unsigned *idx, unsigned n,
	   double deadline, unsigned *sent, struct ward_diag *d)
{
	struct ipc_out out[SCANPOOL_BATCH];
	size_t off[SCANPOOL_BATCH + 1];
	struct scanmsg_scan q;
	struct wbuf w;
	unsigned i;
	int r;

	*sent = 0;
	wbuf_init(&w);
	for (i = 0; i < n; i++) {
		const struct stat *st = f[idx[i]].st;

		q.id = p->next_id + 1 + i;
		q.size = (uint64_t)st->st_size;
		q.max_bytes = (uint64_t)st->st_size;
		q.max_ms = (uint32_t)(scan_bound(st) * 1000);
		off[i] = w.len;
		scanmsg_scan_encode(&w, &q);
	}
	off[n] = w.len;
	/* The buffer is complete (it moves while it grows): now point in. */
	for (i = 0; w.err == 0 && i < n; i++)
		out[i] = (struct ipc_out){.type = SCANMSG_SCAN,
					  .p = w.p + off[i],
					  .len = off[i + 1] - off[i],
					  .fd = f[idx[i]].fd};
	r = w.err != 0 ? WARD_ENOMEM : ipc_send_many(p->ch, out, n, deadline, sent, d);
	p->next_id += *sent;
	wbuf_free(&w);
	return r;
}

/*
 * Receives the next verdicts by deadline: a verdict, or a frame of them,
 * for the files f[idx[0..n)], requests want.. (want + n - 1 the last in
 * flight).  *got says how many, from the first, have theirs.
 */
static int
recv_verdicts(struct proc *p, struct scanpool_file *f, const unsigned *idx, unsigned n,
	      uint64_t want, double deadline, unsigned *got, struct ward_diag *d)
{
	struct scanmsg_verdict *out[SCANPOOL_BATCH];
	struct ipc_msg m = {.fd = -1};
	unsigned i, k = 0;
	int r;

	*got = 0;
	for (i = 0; i < n; i++)
		out[i] = f[idx[i]].v;
	r = ipc_recv(p->ch, deadline, &m, d);
	if (r == 0 && m.type == SCANMSG_VERDICTS)
		r = scanmsg_verdicts_decode(&m, out, n, &k, d);
	else if (r == 0 && (r = scanmsg_verdict_decode(&m, out[0], d)) == 0)
		k = 1;
	for (i = 0; r == 0 && i < k; i++)
		r = scanmsg_verdict_check(out[i], want + i, want + n - 1, d);
	if (r == 0)
		*got = k;
	ipc_msg_close(&m);
	return r;
}

/* Sets the answer of the files f[idx[0..n)] to r. */
static void
answer_all(struct scanpool_file *f, const unsigned *idx, unsigned n, int r)
{
	unsigned i;

	for (i = 0; i < n; i++)
		f[idx[i]].result = r;
}

/*
 * Has one scanner scan the files f[idx[0..n)]: every request is sent
 * before the first verdict is read, so that the scanner goes from one
 * file to the next without waiting for the worker (each wake-up of a
 * sleeping process costs more than the scan of a small file), and the
 * scanner holds its verdicts back to send them together.  It answers in
 * order; when it dies with one file without a verdict, that file killed
 * it; with several, any of them may have (their verdicts died with it),
 * and *unsure says how many, from the one returned, are to be sent again
 * alone, so that the next death names its file (0 otherwise).  Returns
 * how many files, from the first, have their answer (0: not even the
 * first could be sent); the others are to be sent again.
 */
static unsigned
scan_some(struct active *a, struct scanpool_file *f, const unsigned *idx, unsigned n,
	  unsigned *unsure)
{
	struct ward_diag d;
	struct proc *p;
	uint64_t first;
	enum scanmsg_blame blame;
	unsigned sent, k, got, j;
	double t;
	char how[160];
	int r = 0, status;

	t = clock_mono();
	if ((p = take(worker_content_serial(a), t + scan_bound(f[idx[0]].st))) == NULL) {
		answer_all(f, idx, n, WARD_ETIMEDOUT);
		return n;
	}
	if (p->pid == 0) {
		double wait = p->next_start - clock_mono();

		if (wait > 0)
			usleep((useconds_t)(wait * 1e6));
		if (proc_start(p) != 0) {
			worker_log("cannot start a scanner process: %s", strerror(errno));
			proc_end(p, &status);
			give_back(p);
			answer_all(f, idx, n, WARD_EIO);
			return n;
		}
		pthread_mutex_lock(&P.lock);
		P.restarts++;
		pthread_mutex_unlock(&P.lock);
	}
	diag_clear(&d);
	if (p->serial != worker_content_serial(a) &&
	    give_content(p, a, clock_mono() + scan_bound(f[idx[0]].st)) != 0) {
		/* Content that does not load, or a scanner gone before it read
		 * a file: the files are not at fault. */
		proc_end(p, &status);
		give_back(p);
		answer_all(f, idx, n, WARD_EIO);
		return n;
	}
	first = p->next_id + 1;
	r = send_scans(p, f, idx, n, clock_mono() + scan_bound(f[idx[0]].st), &sent, &d);
	for (k = 0; k < sent; k += got) {
		/* The scanner holds verdicts back: the next frame may come
		 * only once every file in hand is scanned, so it may take as
		 * long as all of them together. */
		r = recv_verdicts(p, f, idx + k, sent - k, first + k,
				  clock_mono() + window_bound(f, idx + k, sent - k), &got, &d);
		if (r != 0)
			break;
		for (j = 0; j < got; j++)
			f[idx[k + j]].result = 0;
	}
	if (k == sent && r == 0) {
		/* Every file sent has its verdict (the rest, if the send fell
		 * short, go in the next window). */
		p->fails = 0;
		pthread_mutex_lock(&P.lock);
		P.scans += k;
		pthread_mutex_unlock(&P.lock);
		give_back(p);
		return k;
	}
	if (r == WARD_EPROTO)
		log_attack(&d);
	memset(f[idx[k]].v, 0, sizeof(*f[idx[k]].v));
	proc_end(p, &status);
	blame = scanmsg_blame(k, sent);
	if (blame == SCANMSG_BLAME_NONE) {
		/* Every file sent has its verdict; the next could not be sent:
		 * the scanner went away while it had no file (killed from
		 * outside, say), which is no file's fault.  Sent again. */
		warm(p, a);
		give_back(p);
		return k;
	}
	if (blame == SCANMSG_BLAME_UNSURE) {
		/* It died, hung or broke the protocol with files k..sent-1
		 * in hand and their verdicts held back: no innocent file
		 * takes the blame — each is sent again alone. */
		*unsure = sent - k;
		warm(p, a);
		give_back(p);
		return k;
	}
	/* It died or hung on file k, the one file without a verdict, or it
	 * broke the protocol in answering file k. */
	death_text(status, r, how, sizeof(how));
	record_crash(f[idx[k]].fd, f[idx[k]].st, f[idx[k]].path, worker_content_version(a), how);
	f[idx[k]].result = SCANPOOL_CRASHED;
	warm(p, a);
	give_back(p);
	return k + 1;
}

void
scanpool_scan_batch(struct active *a, struct scanpool_file *f, unsigned n)
{
	unsigned idx[SCANPOOL_BATCH], i, nt = 0, done, fails, alone, unsure;

	for (i = 0; i < n && i < SCANPOOL_BATCH; i++) {
		memset(f[i].v, 0, sizeof(*f[i].v));
		f[i].result = WARD_EIO;
		if (is_poison(f[i].fd, f[i].st))
			f[i].result = SCANPOOL_POISON;
		else
			idx[nt++] = i;
	}
	for (i = 0, fails = 0, alone = 0; i < nt; i += done) {
		unsure = 0;
		done = scan_some(a, f, idx + i, alone > 0 ? 1 : nt - i, &unsure);
		/* After a death with several files in hand, those files go
		 * one at a time: the next death then names its file. */
		if (unsure > 0)
			alone = unsure;
		else
			alone -= done < alone ? done : alone;
		/* A scanner that could not take even the first file, twice:
		 * that file gets an error, not the blame. */
		if (done == 0 && ++fails >= 2) {
			f[idx[i]].result = WARD_EIO;
			done = 1;
		}
		if (done > 0 || unsure > 0)
			fails = 0;
	}
}

int
scanpool_scan(struct active *a, int fd, const struct stat *st, const char *path,
	      struct scanmsg_verdict *v)
{
	struct scanpool_file f = {.fd = fd, .st = st, .path = path, .v = v};

	scanpool_scan_batch(a, &f, 1);
	return f.result;
}

json_t *
scanpool_status_json(void)
{
	json_t *o, *pids = json_array(), *files = json_array();
	unsigned i;

	pthread_mutex_lock(&P.lock);
	for (i = 0; i < P.n; i++)
		if (P.p[i].pid > 0)
			json_array_append_new(pids, json_integer(P.p[i].pid));
	for (i = 0; i < P.poison.n; i++) {
		const struct poison_entry *e = &P.poison.e[i];

		json_array_append_new(
		    files, json_pack("{s:o, s:s, s:I, s:I, s:I}", "path", event_str(e->path),
				     "sha256", e->sha256, "size", (json_int_t)e->size, "version",
				     (json_int_t)e->version, "at", (json_int_t)e->when));
	}
	o = json_pack("{s:I, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:o}", "processes", (json_int_t)P.n,
		      "user", P.cfg != NULL ? P.cfg->scan_user : "", "pids", pids, "scans",
		      (json_int_t)P.scans, "crashes", (json_int_t)P.crashes, "restarts",
		      (json_int_t)P.restarts, "retired_idle", (json_int_t)P.retired,
		      "poison_skipped", (json_int_t)P.poison_skipped, "poison_files", files);
	pthread_mutex_unlock(&P.lock);
	return o;
}

void
scanpool_stop(void)
{
	unsigned i;
	int status;

	pthread_mutex_lock(&P.lock);
	P.stopping = 1;
	for (i = 0; i < P.n; i++)
		if (P.p[i].pid > 0)
			kill(P.p[i].pid, SIGKILL);
	/* The idle ones are reaped here; a busy one by the scan that holds it. */
	for (i = 0; i < P.n; i++) {
		struct proc *p = &P.p[i];

		if (p->pid <= 0 || p->busy)
			continue;
		while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
			;
		ipc_free(p->ch);
		p->ch = NULL;
		p->pid = 0;
	}
	pthread_mutex_unlock(&P.lock);
}

void
scanpool_tick(void)
{
	double now = clock_mono(), idle_s = SCANNER_IDLE_S;
	unsigned i, running = 0;
	int status;

#ifdef WARD_FAULT_INJECTION
	/* Test builds only: WARD_FAULT_SCANNER_IDLE_S=N retires after N s. */
	if (getenv("WARD_FAULT_SCANNER_IDLE_S") != NULL)
		idle_s = atof(getenv("WARD_FAULT_SCANNER_IDLE_S"));
#endif
	pthread_mutex_lock(&P.lock);
	for (i = 0; i < P.n; i++)
		running += P.p[i].pid > 0;
	/* The last one started goes first; the first stays warm. */
	for (i = P.n; i-- > 0 && running > 1;) {
		struct proc *p = &P.p[i];

		if (p->pid <= 0 || p->busy || now - p->last_used < idle_s)
			continue;
		/* Idle, holding no file: nothing to blame, no backoff. */
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
			;
		ipc_free(p->ch);
		p->ch = NULL;
		p->pid = 0;
		p->serial = 0;
		p->next_start = 0;
		P.retired++;
		running--;
	}
	pthread_mutex_unlock(&P.lock);
}
