/*
 * scan_priv: `ward scan`'s root process.  See scan_priv.h.
 *
 * Why fork, not fork and exec: the scanner needs the compiled rules, which
 * are in this process's memory once loaded (the Vectorscan database, the
 * condition code its verifier passed); a fork hands them over as they are,
 * where an exec would have the scanner parse a serialised image from its
 * less trusted side, and pay for it at every restart.  The fork is made
 * while this process has one thread, before the walk or between its
 * files; the memory the scanner inherits holds nothing secret (the rules,
 * from the administrator's own files, and the command line); and the
 * scanner closes every descriptor but the channel and stdio before it
 * reads its first frame.
 *
 * Must hold: this process never waits for room on the channel without
 * also reading it (a full socket and a scanner waiting to acknowledge
 * would wait for each other), and never waits for a scanner that is gone
 * (a closed channel is seen by poll; the exit is reaped with a bound, then
 * killed); what the scanner sends is decoded only through walkmsg and
 * checked against the ids sent to that scanner — a frame that breaks the
 * protocol gets it killed as taken over; every file is acknowledged,
 * sent again to the next scanner, or reported as not scanned.
 */
#include "scan_priv.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scan/walkmsg.h"
#include "scan_child.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/ipc.h"
#include "util/sandbox.h"

/* The user the scanner runs as. */
#define PRIV_USER "nobody"
/* Frames sent with one system call, and how long a file may wait for the
 * rest of its batch: the scanner reads a batch with one call too. */
#define PRIV_BATCH 16
#define PRIV_BATCH_S 0.005
/* How often a wait looks at the stop flag. */
#define PRIV_POLL_MS 100
/* How long a scanner whose channel closed has to exit before it is killed. */
#define PRIV_REAP_S 2.0
/* Descriptors the walker may keep open beside the window's files. */
#define PRIV_WALK_FDS 256

/* A file or a note handed to the scanner, until it is acknowledged. */
struct slot {
	uint64_t id;	   /* 0: free */
	int fd;		   /* a file's, kept to be sent again; -1 for a note */
	unsigned depth;	   /* 0: a PATH given */
	char *path;	   /* ward_malloc'd */
	char *note;	   /* a note's message (ward_malloc'd), or NULL for a file */
	struct wbuf frame; /* its payload */
	unsigned gen;	   /* the scanner it was sent to (0: none yet) */
};

struct priv {
	const struct scan_cfg *cfg;
	uid_t uid;
	gid_t gid;
	unsigned window; /* slots */
	struct slot *slot;
	uint64_t next_id, low; /* ids given out; [low, next_id) may be in use */
	unsigned inflight;     /* slots in use */
	/* The scanner of the moment. */
	pid_t pid;
	struct ipc *ch;
	unsigned gen;
	int ready, stop_said, end_sent;
	/* The ids to send to it, in order: a ring of window entries. */
	uint64_t *q;
	unsigned qhead, qlen;
	double q_since; /* when the oldest waiting id came */
	/* Files a scanner died holding, sent again one at a time. */
	uint64_t *probe;
	unsigned nprobe, probe_at;
	uint64_t probing; /* the one sent, or 0 */
	/* What the scanners acknowledged (for the next one), what the walk
	 * skipped (for the end), and how many died. */
	struct scanrun_totals totals;
	uint64_t skipped[OUT_SKIP_COUNT];
	unsigned crashes;
	struct filevars_scratch *owners; /* when the rules read owner */
	int final;			 /* the status is decided */
	int status;
	int sigpipe; /* the scanner's stdout or stderr reader went away */
};

static struct slot *
slot_of(struct priv *p, uint64_t id)
{
	return &p->slot[(id - 1) % p->window];
}

static void
slot_free(struct priv *p, struct slot *s)
{
	if (s->fd >= 0)
		close(s->fd);
	ward_free(s->path);
	ward_free(s->note);
	wbuf_free(&s->frame);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	p->inflight--;
	while (p->low < p->next_id && slot_of(p, p->low)->id != p->low)
		p->low++;
}

static void
push(struct priv *p, uint64_t id)
{
	if (p->qlen == 0)
		p->q_since = clock_mono();
	p->q[(p->qhead + p->qlen) % p->window] = id;
	p->qlen++;
}

/* The ids the scanner of the moment has not had, in order: notes always,
 * files unless some are being sent again one at a time. */
static void
queue_rebuild(struct priv *p)
{
	uint64_t id;
	struct slot *s;

	p->qhead = 0;
	p->qlen = 0;
	for (id = p->low; id < p->next_id; id++) {
		s = slot_of(p, id);
		if (s->id == id && s->gen != p->gen && (s->note != NULL || p->nprobe == 0))
			push(p, id);
	}
}

/* The wait status of the scanner, whose channel closed: reaped within
 * PRIV_REAP_S, or killed. */
static int
reap(struct priv *p)
{
	double until = clock_mono() + PRIV_REAP_S;
	struct timespec nap = {0, 50 * 1000};
	int st = 0;
	pid_t w;

	for (;;) {
		w = waitpid(p->pid, &st, WNOHANG);
		if (w == p->pid || (w < 0 && errno != EINTR))
			break;
		if (clock_mono() > until) {
			kill(p->pid, SIGKILL);
			while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
				;
			break;
		}
		/* Its channel closes as it exits: it is gone within a moment,
		 * so the naps start short (50 µs, doubling to 10 ms). */
		(void)nanosleep(&nap, NULL);
		if (nap.tv_nsec < 10 * 1000 * 1000)
			nap.tv_nsec *= 2;
	}
	p->pid = -1;
	return st;
}

/* Forks a scanner, with what the ones before it did. */
static void
start_scanner(struct priv *p)
{
	struct scanchild_args a;
	int sv[2];
	pid_t pid;

	if (ipc_pair(sv) != 0) {
		fprintf(stderr, "ward: cannot make the scanner's channel: %s\n", strerror(errno));
		goto fail;
	}
	/* Nothing of this process's stdio buffers may be written twice. */
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		memset(&a, 0, sizeof(a));
		a.cfg = p->cfg;
		a.chan = sv[1];
		a.uid = p->uid;
		a.gid = p->gid;
		a.window = p->window;
		a.seed = p->totals;
		a.crashes = p->crashes;
		scanchild_main(&a);
	}
	close(sv[1]);
	if (pid < 0) {
		fprintf(stderr, "ward: cannot start the scanning process: %s\n", strerror(errno));
		close(sv[0]);
		goto fail;
	}
	p->pid = pid;
	p->gen++;
	p->ready = 0;
	p->stop_said = 0;
	p->end_sent = 0;
	if (ipc_new(sv[0], &walkmsg_to_walker, &walkmsg_to_scanner, &p->ch) != 0 ||
	    ipc_set_readahead(p->ch, IPC_MAX_READAHEAD) != 0) {
		fprintf(stderr, "ward: out of memory\n");
		kill(pid, SIGKILL);
		(void)reap(p);
		goto fail;
	}
	queue_rebuild(p);
	return;
fail:
	p->final = 1;
	p->status = EXIT_ERROR;
}

/* What an acknowledged record counts, for the scanners to come. */
static void
account(struct priv *p, const struct slot *s, const struct walkmsg_done_rec *x)
{
	struct scanrun_totals *t = &p->totals;

	t->matches += x->matches;
	switch (x->outcome) {
	case WALKMSG_SCANNED:
		t->files++;
		t->bytes += x->bytes;
		break;
	case WALKMSG_SKIP_SPECIAL:
		t->skipped[OUT_SKIP_SPECIAL]++;
		break;
	case WALKMSG_SKIP_TOO_LARGE:
		t->skipped[OUT_SKIP_TOO_LARGE]++;
		break;
	case WALKMSG_ERROR:
	case WALKMSG_NOTED:
		if (s->depth == 0)
			t->path_errors++;
		else
			t->file_errors++;
		break;
	case WALKMSG_STOPPED:
		break;
	}
}

/* One frame of the scanner's: 0 or WARD_EPROTO (d says why). */
static int
take_frame(struct priv *p, const struct ipc_msg *m, struct ward_diag *d)
{
	struct walkmsg_done done;
	struct slot *s;
	unsigned k;
	int r;

	if (m->type == WALKMSG_READY || m->type == WALKMSG_STOP) {
		if ((r = walkmsg_empty_decode(m, m->type, d)) != 0)
			return r;
		/* Each once, and ready first. */
		if (m->type == WALKMSG_READY ? p->ready : (!p->ready || p->stop_said))
			return diag_set(d, WARD_EPROTO, "scan", 0, 0, "a %s out of turn",
					m->def->name);
		if (m->type == WALKMSG_READY)
			p->ready = 1;
		else
			p->stop_said = *p->cfg->stop = 1;
		return 0;
	}
	if ((r = walkmsg_done_decode(m, &done, d)) != 0)
		return r;
	if (!p->ready)
		return diag_set(d, WARD_EPROTO, "scan", 0, 0, "a done frame before ready");
	for (k = 0; k < done.n; k++) {
		const struct walkmsg_done_rec *x = &done.rec[k];

		s = slot_of(p, x->id);
		if (x->id >= p->next_id || s->id != x->id || s->gen != p->gen ||
		    (s->note != NULL) != (x->outcome == WALKMSG_NOTED))
			return diag_set(d, WARD_EPROTO, "scan", 0, 0,
					"an acknowledgement of %s %llu, which it does not hold",
					x->outcome == WALKMSG_NOTED ? "note" : "file",
					(unsigned long long)x->id);
		if (x->id == p->probing) {
			p->probing = 0;
			p->probe_at++;
		}
		account(p, s, x);
		slot_free(p, s);
	}
	return 0;
}

/* Every frame waiting: 0 when none is left, or the channel's end
 * (WARD_ECLOSED, WARD_EIO) or WARD_EPROTO, d saying why. */
static int
take_frames(struct priv *p, struct ward_diag *d)
{
	struct ipc_msg m;
	int n, r;

	for (;;) {
		if ((n = ipc_read_ahead(p->ch, d)) <= 0)
			return n;
		while (ipc_pending(p->ch) > 0) {
			if ((r = ipc_recv(p->ch, IPC_FOREVER, &m, d)) != 0)
				return r;
			r = take_frame(p, &m, d);
			ipc_msg_close(&m);
			if (r != 0)
				return r;
		}
	}
}

/* What became of a scanner that died, for messages. */
static void
death_text(int st, int attack, char *out, size_t n)
{
	int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;

	if (attack)
		snprintf(out, n, "killed as taken over (it broke its channel's protocol)");
	else if (sig == SIGSYS)
		snprintf(out, n, "killed by signal %d (%s: a system call its sandbox forbids)", sig,
			 strsignal(sig));
	else
		snprintf(out, n, "killed by signal %d (%s)", sig, strsignal(sig));
}

/* The file s, held by a scanner that died of it, becomes a note saying so. */
static void
blame(struct priv *p, struct slot *s, const char *why)
{
	char msg[WALKMSG_MAX_NOTE];

	snprintf(msg, sizeof(msg), "not scanned: the sandboxed scanner was %s while scanning it",
		 why);
	close(s->fd);
	s->fd = -1;
	wbuf_free(&s->frame);
	wbuf_init(&s->frame);
	s->note = ward_strdup(msg);
	walkmsg_note_encode(&s->frame, s->id, s->depth, s->path, msg);
	s->gen = 0;
	if (s->note == NULL || s->frame.err != 0) {
		fprintf(stderr, "ward: %s: %s\n", s->path, msg);
		p->final = 1;
		p->status = EXIT_ERROR;
	}
}

/*
 * The scanner is gone: r is how that showed (WARD_ECLOSED: its channel
 * closed; WARD_EPROTO: it broke the protocol, as d says; else the channel
 * failed).  Takes what it sent before it went, reaps it, and either ends
 * the scan (it exited by itself, or the scan was stopped, or it died
 * before it was confined, or too often) or starts the next scanner, with
 * the files it held sent again: the only one, or one at a time.
 */
static void
death(struct priv *p, int r, struct ward_diag *d)
{
	struct slot *s;
	uint64_t id, first = 0;
	char why[160], msg[700];
	unsigned nsus = 0, i;
	int st, e, attack = r == WARD_EPROTO;

	/* Its acknowledgements before it went still count: read up to its
	 * end (a send may fail first, with frames of its still waiting). */
	for (i = 0; r == WARD_ECLOSED && i < 100; i++) {
		struct pollfd pf = {ipc_fd(p->ch), POLLIN, 0};

		if ((e = take_frames(p, d)) != 0) {
			attack = e == WARD_EPROTO;
			break;
		}
		(void)poll(&pf, 1, 20);
	}
	if (attack) {
		kill(p->pid, SIGKILL);
		ipc_attack_text(d, msg, sizeof(msg));
		fprintf(stderr, "ward: %s\n", msg);
	} else if (r != WARD_ECLOSED) {
		kill(p->pid, SIGKILL); /* a channel that failed otherwise: no trust left */
	}
	ipc_free(p->ch);
	p->ch = NULL;
	st = reap(p);
	if (!attack && WIFEXITED(st)) {
		/* It ended by itself, and said why: its status is the scan's
		 * (an end before the walker's is never a success). */
		p->final = 1;
		p->status = WEXITSTATUS(st);
		if (p->status == 0 && !p->end_sent) {
			fprintf(stderr, "ward: the sandboxed scanner ended before the scan did\n");
			p->status = EXIT_ERROR;
		}
		return;
	}
	if (!attack && WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE) {
		/* Its reader is gone (`ward scan ... | head`): the scan ends
		 * as it does in one process, by the same signal, quietly. */
		p->final = 1;
		p->sigpipe = 1;
		return;
	}
	death_text(st, attack, why, sizeof(why));
	p->crashes++;
	if (*p->cfg->stop || !p->ready || p->crashes > WARD_MAX_SCAN_CRASHES) {
		fprintf(stderr, "ward: the sandboxed scanner was %s%s\n", why,
			*p->cfg->stop ? "; the scan was stopped"
			: !p->ready   ? " before it could confine itself"
				      : "; it died too often: giving up");
		p->final = 1;
		p->status = *p->cfg->stop ? EXIT_INTR : EXIT_ERROR;
		return;
	}
	/* The files it held: sent to it, not acknowledged. */
	for (id = p->low; id < p->next_id; id++) {
		s = slot_of(p, id);
		if (s->id == id && s->gen == p->gen && s->note == NULL && nsus++ == 0)
			first = id;
	}
	if (p->nprobe > 0) {
		/* Sent again one at a time: the one it held did it. */
		if (nsus == 1 && first == p->probing) {
			blame(p, slot_of(p, first), why);
			p->probe_at++;
		}
		p->probing = 0;
	} else if (nsus == 1) {
		blame(p, slot_of(p, first), why);
	} else if (nsus > 1) {
		fprintf(stderr,
			"ward: the sandboxed scanner was %s with %u files in hand: scanning them "
			"again one at a time, to find the one that did it\n",
			why, nsus);
		for (id = p->low; id < p->next_id; id++) {
			s = slot_of(p, id);
			if (s->id == id && s->gen == p->gen && s->note == NULL)
				p->probe[p->nprobe++] = id;
		}
		p->probe_at = 0;
		p->probing = 0;
	} else {
		fprintf(stderr, "ward: the sandboxed scanner was %s %s: starting another\n", why,
			p->end_sent ? "after its last file" : "between files");
	}
	if (!p->final)
		start_scanner(p);
}

/* Sends the ids waiting, as far as the socket takes them; a batch smaller
 * than PRIV_BATCH waits for more unless force or it waited long enough.
 * 0, or the channel's failure. */
static int
send_queue(struct priv *p, int force, struct ward_diag *d)
{
	struct ipc_out f[PRIV_BATCH];
	struct slot *s;
	unsigned n, i, sent;
	int r;

	while (p->qlen > 0) {
		if (!force && p->qlen < PRIV_BATCH && clock_mono() - p->q_since < PRIV_BATCH_S)
			return 0;
		n = p->qlen < PRIV_BATCH ? p->qlen : PRIV_BATCH;
		for (i = 0; i < n; i++) {
			s = slot_of(p, p->q[(p->qhead + i) % p->window]);
			f[i].type = s->note != NULL ? WALKMSG_NOTE : WALKMSG_FILE;
			f[i].p = s->frame.p;
			f[i].len = s->frame.len;
			f[i].fd = s->fd;
		}
		r = ipc_send_many(p->ch, f, n, IPC_NOWAIT, &sent, d);
		for (i = 0; i < sent; i++) {
			slot_of(p, p->q[p->qhead])->gen = p->gen;
			p->qhead = (p->qhead + 1) % p->window;
			p->qlen--;
		}
		p->q_since = clock_mono();
		if (r != 0 || sent < n)
			return r;
	}
	return 0;
}

/* The next file of those sent again one at a time, once the last is
 * acknowledged; when none is left, the others follow. */
static void
probe_next(struct priv *p)
{
	struct slot *s;

	while (p->probing == 0 && p->probe_at < p->nprobe) {
		s = slot_of(p, p->probe[p->probe_at]);
		if (s->id == p->probe[p->probe_at] && s->note == NULL) {
			p->probing = s->id;
			push(p, s->id);
			return;
		}
		p->probe_at++;
	}
	if (p->probing == 0 && p->nprobe > 0) {
		p->nprobe = 0;
		p->probe_at = 0;
		queue_rebuild(p);
	}
}

/*
 * One round with the scanner: when wait, first waits (at most
 * PRIV_POLL_MS) for room to send or a frame to read; then sends what
 * waits to be sent and takes every frame waiting.  A death is handled
 * here.
 */
static void
pump(struct priv *p, int wait)
{
	struct ward_diag d;
	unsigned qlen;
	int r;

	if (p->final || p->ch == NULL)
		return;
	diag_clear(&d);
	if (p->nprobe > 0)
		probe_next(p);
	if (wait) {
		struct pollfd pf = {ipc_fd(p->ch), POLLIN | (p->qlen > 0 ? POLLOUT : 0), 0};

		(void)poll(&pf, 1, PRIV_POLL_MS);
	}
	qlen = p->qlen;
	if ((r = send_queue(p, wait || p->nprobe > 0, &d)) != 0) {
		death(p, r, &d);
		return;
	}
	/* Frames are read when waiting, and after each batch sent: not
	 * after each file, at a system call each. */
	if ((wait || p->qlen != qlen) && (r = take_frames(p, &d)) != 0)
		death(p, r, &d);
}

/* A free slot for the next id (waiting for one while the window is
 * full), or NULL when the scan is stopped or ended. */
static struct slot *
take_slot(struct priv *p)
{
	struct slot *s;

	for (;;) {
		if (p->final || *p->cfg->stop)
			return NULL;
		s = slot_of(p, p->next_id);
		if (s->id == 0)
			break;
		pump(p, 1);
	}
	s->id = p->next_id++;
	s->fd = -1;
	s->gen = 0;
	wbuf_init(&s->frame);
	p->inflight++;
	return s;
}

/* Queues s, filled, to be sent. */
static int
queue_slot(struct priv *p, struct slot *s)
{
	if (s->path == NULL || s->frame.err != 0) {
		slot_free(p, s);
		return WARD_ENOMEM;
	}
	if (s->note != NULL || p->nprobe == 0)
		push(p, s->id);
	pump(p, 0);
	return 0;
}

static void
priv_error(void *ctx, const char *path, const char *msg, unsigned depth)
{
	struct priv *p = ctx;
	struct slot *s = take_slot(p);

	if (s == NULL)
		return; /* stopped or ended: not to be reported any more */
	s->depth = depth;
	s->path = ward_strdup(path);
	s->note = ward_strdup(msg);
	if (s->note == NULL) {
		ward_free(s->path);
		s->path = NULL;
	}
	if (s->path != NULL)
		walkmsg_note_encode(&s->frame, s->id, depth, path, msg);
	(void)queue_slot(p, s);
}

static int
priv_file(void *ctx, int fd, const struct walker_entry *e)
{
	struct priv *p = ctx;
	const char *owner = NULL;
	struct slot *s;

	if (!walkmsg_path_fits(e->path)) {
		close(fd);
		priv_error(p, e->path, "not scanned: its path is longer than the scanner takes",
			   e->depth);
		return 0;
	}
	/* The user database is read here: the scanner cannot. */
	if (p->owners != NULL)
		owner = filevars_owner(p->owners, e->st->st_uid);
	if ((s = take_slot(p)) == NULL) {
		close(fd);
		return WARD_EINTR;
	}
	s->fd = fd;
	s->depth = e->depth;
	s->path = ward_strdup(e->path);
	if (s->path != NULL)
		walkmsg_file_encode(&s->frame, s->id, e->depth, e->path, owner);
	return queue_slot(p, s);
}

static void
priv_skip(void *ctx, enum out_skip why)
{
	struct priv *p = ctx;

	if ((unsigned)why < OUT_SKIP_COUNT)
		p->skipped[why]++;
}

/* Sends the end: what the walk skipped, whether it was stopped, its error. */
static void
send_end(struct priv *p, int walk_err)
{
	struct walkmsg_end e;
	struct ipc_out f;
	struct ward_diag d;
	struct wbuf w;
	unsigned sent = 0;
	int r, k;

	memset(&e, 0, sizeof(e));
	e.stopped = *p->cfg->stop != 0;
	e.error = walk_err;
	for (k = 0; k < OUT_SKIP_COUNT; k++)
		e.skipped[k] = p->skipped[k];
	wbuf_init(&w);
	walkmsg_end_encode(&w, &e);
	f.type = WALKMSG_END;
	f.p = w.p;
	f.len = w.len;
	f.fd = -1;
	diag_clear(&d);
	r = w.err != 0 ? WARD_ENOMEM : ipc_send_many(p->ch, &f, 1, IPC_NOWAIT, &sent, &d);
	wbuf_free(&w);
	if (r == WARD_ENOMEM) {
		fprintf(stderr, "ward: out of memory\n");
		p->final = 1;
		p->status = EXIT_ERROR;
	} else if (r != 0) {
		death(p, r, &d);
	} else if (sent == 1) {
		p->end_sent = 1;
	} else {
		pump(p, 1); /* no room: read while waiting for some */
	}
}

/*
 * After the walk: every file acknowledged (unless stopped), then the end,
 * then the scanner's exit, whose status is the scan's — with a scanner
 * dying on the way replaced, and its files sent again.
 */
static void
finish(struct priv *p, int walk_err)
{
	struct ward_diag d;
	int r;

	while (!p->final) {
		if (p->inflight > 0 && !*p->cfg->stop) {
			pump(p, 1);
		} else if (!p->end_sent) {
			send_end(p, walk_err);
		} else {
			struct pollfd pf = {ipc_fd(p->ch), POLLIN, 0};

			diag_clear(&d);
			(void)poll(&pf, 1, PRIV_POLL_MS);
			if ((r = take_frames(p, &d)) != 0)
				death(p, r, &d);
		}
	}
}

/* Files sent ahead for threads scanning threads: enough to keep each busy,
 * within this process's descriptors (raised when it may). */
static unsigned
window_for(unsigned threads)
{
	unsigned w = threads * 4 + 256;
	struct rlimit rl;

	if (w > WARD_MAX_SCAN_WINDOW)
		w = WARD_MAX_SCAN_WINDOW;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)w + PRIV_WALK_FDS) {
		rl.rlim_cur = rl.rlim_max >= (rlim_t)w + PRIV_WALK_FDS ? (rlim_t)w + PRIV_WALK_FDS
								       : rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)w + PRIV_WALK_FDS)
			w = rl.rlim_cur > PRIV_WALK_FDS + 64 ? (unsigned)rl.rlim_cur - PRIV_WALK_FDS
							     : 64;
	}
	return w;
}

int
scanpriv_run(const struct scan_cfg *cfg)
{
	struct priv p;
	struct scan_sink sink = {priv_file, priv_error, priv_skip, &p};
	unsigned i;
	int r;

	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.pid = -1;
	p.status = EXIT_ERROR;
	p.next_id = p.low = 1;
	/* Looked up here: the scanner reads no user database. */
	if (sandbox_user(PRIV_USER, &p.uid, &p.gid) != 0) {
		fprintf(stderr,
			"ward: no user '%s' to scan as: ward scan run as root parses files as that "
			"user, confined (--no-sandbox scans as root, unconfined)\n",
			PRIV_USER);
		return EXIT_ERROR;
	}
	p.window = window_for(cfg->threads);
	p.slot = ward_calloc(p.window, sizeof(*p.slot));
	p.q = ward_calloc(p.window, sizeof(*p.q));
	p.probe = ward_calloc(p.window, sizeof(*p.probe));
	if (p.slot == NULL || p.q == NULL || p.probe == NULL ||
	    (filevars_sets(cfg->fv, FILEVARS_OWNER) &&
	     filevars_scratch_new(cfg->fv, &p.owners) != 0)) {
		fprintf(stderr, "ward: out of memory\n");
		goto out;
	}
	for (i = 0; i < p.window; i++)
		p.slot[i].fd = -1;
	start_scanner(&p);
	r = p.final ? 0 : scan_walk(cfg, &sink);
	finish(&p, r == WARD_EINTR ? 0 : r);
out:
	if (p.ch != NULL) {
		ipc_free(p.ch);
		if (p.pid > 0)
			(void)reap(&p);
	}
	for (i = 0; p.slot != NULL && i < p.window; i++)
		if (p.slot[i].id != 0)
			slot_free(&p, &p.slot[i]);
	ward_free(p.slot);
	ward_free(p.q);
	ward_free(p.probe);
	filevars_scratch_free(p.owners);
	if (p.sigpipe) {
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	return p.status;
}
