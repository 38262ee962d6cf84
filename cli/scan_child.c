/*
 * scan_child: `ward scan`'s sandboxed scanner.  See scan_child.h.
 *
 * Must hold: the confinement is in place, on every thread, before the
 * first frame is read; every file received is acknowledged once what is
 * reported for it is written (stdout flushed first), so that the walker
 * knows what a scanner that died held; the walker's frames are decoded
 * only through walkmsg, and one that breaks the protocol ends the scan.
 */
#include "scan_child.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan/walkmsg.h"
#include "util/alloc.h"
#include "util/ipc.h"
#include "util/sandbox.h"

/* How often the scanner, waiting for frames, looks at its stop flag. */
#define CHILD_POLL_MS 100

/* Nothing: the end of the channel that receives, or sends, only. */
static const struct ipc_proto nothing = {"scan", NULL, 0};

/*
 * Acknowledgements held back, to go to the walker in one frame: a walker
 * waiting for room in its window wakes once for many files.  They go when
 * the frame is full, when a scanning thread has nothing left to do, and
 * before the main thread waits for frames.
 */
struct acks {
	pthread_mutex_t lock;
	struct ipc *tx; /* the channel's sending end: only with lock held */
	struct out *o;
	struct walkmsg_done d;
	int broken;    /* a send failed: the walker is gone */
	int pipe_gone; /* stdout's reader went away (its SIGPIPE was a thread's, blocked) */
};

/* With lock held. */
static void
acks_flush_locked(struct acks *a)
{
	struct wbuf w;

	if (a->d.n == 0)
		return;
	/* What the files reported is written before they are acknowledged:
	 * a scanner that dies later loses nothing the walker will not send
	 * again (at worst, a file is reported twice). */
	pthread_mutex_lock(&a->o->lock);
	if (fflush(stdout) == EOF && errno == EPIPE)
		a->pipe_gone = 1;
	pthread_mutex_unlock(&a->o->lock);
	wbuf_init(&w);
	walkmsg_done_encode(&w, &a->d);
	/* Once the walker is gone, nobody waits for them: dropped. */
	if (!a->broken &&
	    (w.err != 0 || ipc_send(a->tx, WALKMSG_DONE, w.p, w.len, -1, IPC_FOREVER, NULL) != 0))
		a->broken = 1;
	wbuf_free(&w);
	a->d.n = 0;
}

static void
acks_add(void *arg, uint64_t id, enum walkmsg_outcome what, uint32_t matches, uint64_t bytes)
{
	struct acks *a = arg;
	struct walkmsg_done_rec *x;

	pthread_mutex_lock(&a->lock);
	x = &a->d.rec[a->d.n++];
	x->id = id;
	x->outcome = what;
	/* Only what the protocol lets each outcome carry. */
	x->matches = what == WALKMSG_SCANNED || what == WALKMSG_ERROR ? matches : 0;
	x->bytes = what == WALKMSG_SCANNED ? bytes : 0;
	if (a->d.n == WALKMSG_MAX_DONE)
		acks_flush_locked(a);
	pthread_mutex_unlock(&a->lock);
}

static void
acks_flush(void *arg)
{
	struct acks *a = arg;

	pthread_mutex_lock(&a->lock);
	acks_flush_locked(a);
	pthread_mutex_unlock(&a->lock);
}

/* A frame without payload (ready, stop), in the acknowledgements' turn. */
static void
acks_say(struct acks *a, enum walkmsg_type type)
{
	pthread_mutex_lock(&a->lock);
	if (!a->broken && ipc_send(a->tx, (uint16_t)type, NULL, 0, -1, IPC_FOREVER, NULL) != 0)
		a->broken = 1;
	pthread_mutex_unlock(&a->lock);
}

/*
 * Confines the scanner, its threads started: limits, then the user,
 * no_new_privs, not dumpable and the filter on every thread.  The list is
 * what the scanning threads, the progress line and this loop call once
 * confined; anything else (open, exec, socket, clone, ...) kills it, but
 * open and openat, which libraries use to probe for configuration files,
 * fail with EACCES.
 */
static int
confine(const struct scanchild_args *a)
{
	/* the files it was given, its channel */
	static const int allowed[] = {SANDBOX_SCANNER_CALLS};
	/* Output: stdout and stderr, which the user chose. */
	static const int out_fds[] = {STDOUT_FILENO, STDERR_FILENO};
	struct sandbox_spec spec = {
	    .uid = a->uid,
	    .gid = a->gid,
	    .allowed = allowed,
	    .n = sizeof(allowed) / sizeof(allowed[0]),
	    .write_fds = out_fds,
	    .nwrite_fds = 2,
	    .all_threads = 1,
	};
	struct stat st;
	int r, regular = 0, k;
	/* The memory files of archive members grow to the member limit (a
	 * write past it is refused by the container walk first). */
	rlim_t fsize = a->cfg->archives ? (rlim_t)a->cfg->limits.member : 0;

	for (k = STDOUT_FILENO; k <= STDERR_FILENO; k++)
		regular |= fstat(k, &st) == 0 && S_ISREG(st.st_mode);
	/* No process (nor thread) more: its threads run already.  Its
	 * descriptors: stdio, the channel's two ends, and the files of the
	 * walker's window.  No file grows — except stdout or stderr when the
	 * user sent them to a file (a limit would end the scan at its first
	 * line); the filter lets it write nowhere else. */
	if ((r = sandbox_limit(RLIMIT_NPROC, 0)) != 0 ||
	    (r = sandbox_limit(RLIMIT_NOFILE, (rlim_t)a->window + 16)) != 0 ||
	    (r = sandbox_limit(RLIMIT_CORE, 0)) != 0 ||
	    (!regular && (r = sandbox_limit(RLIMIT_FSIZE, fsize)) != 0))
		return r;
	return sandbox_enter_spec(&spec);
}

/* The walker's frames until its end: 0 with *end, or a WARD_E* value
 * (WARD_ECLOSED: the walker is gone). */
static int
child_loop(const struct scanchild_args *a, struct ipc *rx, struct acks *ak, struct scanrun *run,
	   struct walkmsg_end *end)
{
	volatile sig_atomic_t *stop = a->cfg->stop;
	struct scanrun_item it;
	struct walkmsg_file f;
	struct walkmsg_note n;
	struct ipc_msg m;
	struct ward_diag d;
	char msg[700];
	int r, stop_said = 0;

	for (;;) {
		diag_clear(&d);
		if (*stop && !stop_said) {
			/* A signal of its own (the walker may not have had
			 * one): the walker stops its walk, and ends. */
			acks_say(ak, WALKMSG_STOP);
			stop_said = 1;
		}
		if (ipc_pending(rx) == 0) {
			struct pollfd pf = {ipc_fd(rx), POLLIN, 0};

			acks_flush(ak);
			if (poll(&pf, 1, CHILD_POLL_MS) <= 0)
				continue; /* time to look at the stop flag again */
		}
		if ((r = ipc_recv(rx, IPC_FOREVER, &m, &d)) != 0)
			break;
		if (m.type == WALKMSG_FILE) {
			if ((r = walkmsg_file_decode(&m, &f, &d)) != 0)
				break;
			memset(&it, 0, sizeof(it));
			it.id = f.id;
			it.fd = ipc_msg_take_fd(&m);
			it.path = f.path;
			it.depth = f.depth;
			it.sized = 1;
			it.size = m.fd_size;
			if (f.owner[0] != '\0' && (it.owner = ward_strdup(f.owner)) == NULL) {
				close(it.fd);
				ward_free(it.path);
				r = WARD_ENOMEM;
				break;
			}
			(void)scanrun_submit(run, &it); /* stopped: dropped, no answer due */
		} else if (m.type == WALKMSG_NOTE) {
			if ((r = walkmsg_note_decode(&m, &n, &d)) != 0)
				break;
			out_error(ak->o, n.path, n.msg, n.depth == 0);
			ward_free(n.path);
			acks_add(ak, n.id, WALKMSG_NOTED, 0, 0);
		} else {
			r = walkmsg_end_decode(&m, end, &d);
			break;
		}
		ipc_msg_close(&m);
	}
	ipc_msg_close(&m);
	if (r == WARD_EPROTO) {
		ipc_attack_text(&d, msg, sizeof(msg));
		fprintf(stderr, "ward: %s\n", msg);
	} else if (r == WARD_ENOMEM) {
		fprintf(stderr, "ward: out of memory\n");
	}
	return r;
}

void
scanchild_main(const struct scanchild_args *a)
{
	const struct scan_cfg *cfg = a->cfg;
	struct scanrun_opts ro;
	struct scanrun *run = NULL;
	struct walkmsg_end end;
	struct acks ak;
	struct ipc *rx = NULL;
	struct out o;
	char *outbuf;
	int r, k, txfd, status = EXIT_ERROR;

	memset(&ak, 0, sizeof(ak));
	memset(&end, 0, sizeof(end));
	pthread_mutex_init(&ak.lock, NULL);
	/* Nothing of the walker's but the channel: no directory, no file of
	 * its window, no descriptor the shell left open. */
	if (a->chan != 3 && dup2(a->chan, 3) != 3)
		goto out;
	if (close_range(4, ~0U, 0) != 0 || (txfd = dup(3)) < 0)
		goto out;
	scan_out_init(cfg, &o);
	scanrun_totals_add(&o, &a->seed);
	ak.o = &o;
	if (ipc_new(3, &walkmsg_to_scanner, &nothing, &rx) != 0 ||
	    ipc_new(txfd, &nothing, &walkmsg_to_walker, &ak.tx) != 0 ||
	    ipc_set_readahead(rx, WALKMSG_MAX_DONE) != 0) {
		fprintf(stderr, "ward: out of memory\n");
		goto out_fini;
	}
	memset(&ro, 0, sizeof(ro));
	ro.l = cfg->l;
	ro.fv = cfg->fv;
	ro.threads = cfg->threads;
	ro.queue = a->window;
	ro.max_filesize = cfg->max_filesize;
	ro.archives = cfg->archives;
	ro.limits = &cfg->limits;
	ro.locale = cfg->locale;
	ro.stop = cfg->stop;
	ro.done = acks_add;
	ro.idle = acks_flush;
	ro.arg = &ak;
	if ((status = scanrun_new(&ro, &o, &run)) != 0)
		goto out_fini;
	status = EXIT_ERROR;
	/* What libraries would do at their first use, which the filter would
	 * forbid then: stdio asks whether stdout is a terminal (an ioctl) to
	 * choose its buffering, decided here as it would be (with a buffer of
	 * its own, which lives until _exit); jansson seeds its hash tables
	 * from /dev/urandom. */
	if ((outbuf = malloc(BUFSIZ)) == NULL ||
	    setvbuf(stdout, outbuf, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, BUFSIZ) != 0) {
		fprintf(stderr, "ward: out of memory\n");
		goto out_fini;
	}
	json_object_seed(0);
	if ((r = confine(a)) != 0) {
		fprintf(stderr,
			"ward: cannot confine the scanning process: %s (--no-sandbox scans "
			"without it, as root)\n",
			strerror(-r));
		goto out_fini;
	}
	acks_say(&ak, WALKMSG_READY);
	r = child_loop(a, rx, &ak, run, &end);
	if (r != 0) {
		/* The walker is gone (or broke the protocol): nobody to
		 * report to; stop at once. */
		*cfg->stop = 1;
		scanrun_finish(run);
		goto out_fini;
	}
	if (end.stopped)
		*cfg->stop = 1;
	if (end.error != 0)
		fprintf(stderr, "ward: scan stopped: %s\n", ward_strerror(end.error));
	scanrun_finish(run);
	for (k = 0; k < OUT_SKIP_COUNT; k++)
		atomic_fetch_add(&o.skipped[k], end.skipped[k]);
	status = scanrun_status(&o, *cfg->stop != 0, end.error, cfg->strict, a->crashes);
	/* The scan in one process dies of SIGPIPE at its last flush when
	 * stdout's reader went away (`ward scan ... | head`); so does this one,
	 * whose flushes were the scanning threads'. */
	if (ak.pipe_gone) {
		fflush(stdout);
		raise(SIGPIPE);
	}
out_fini:
	scanrun_free(run);
	ipc_free(rx);
	ipc_free(ak.tx);
	out_fini(&o);
out:
	fflush(stdout);
	fflush(stderr);
	_exit(status);
}
