/*
 * clamd: the clamd-compatible socket's connections and commands (the
 * listeners are clamd_listen.c, the path commands clamd_path.c).  See
 * clamd.h and docs/clamd.md.
 *
 * Must hold:
 *   - a client's bytes are read through lib/proto/clamdproto (rbuf, named
 *     limits) into a bounded buffer; the bytes of a file to scan only ever
 *     reach a memfd (INSTREAM, at most clamd.stream_max_length) and the
 *     confined scanner processes (agent/scanpool.h), never a parser here;
 *   - at most clamd.max_connections connections (the others are closed at
 *     once) and clamd.max_threads scans at a time; every wait for a client
 *     ends after clamd.read_timeout_s, every answer is sent within it: a
 *     slow, silent or vanished client holds only its own thread;
 *   - answers are clamd 1.4's, byte for byte (clamd/session.c,
 *     clamd/server-th.c, clamd/scanner.c); where ward has no clamd
 *     equivalent the message says what happened in clamd's form
 *     "NAME: MESSAGE ERROR";
 *   - SHUTDOWN and QUIT are refused with clamd's "COMMAND UNAVAILABLE".
 */
#include "agent/clamd_int.h"
#include "agent/exceptions.h"
#include "agent/scanpool.h"
#include "agent/worker.h"
#include "content/store.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/magic.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

/* Bytes read from a client at a time: a command (WARD_MAX_CLAMD_COMMAND)
 * fits, and stream data goes on to the memfd in pieces this size. */
#define CLAMD_BUF (256u * 1024)
/* Descriptors one message may carry (FILDES takes one; the others are
 * closed). */
#define CLAMD_MAX_PASSED 4
/* Answers held for a client before they are sent while its command goes
 * on: a directory walk answers every entry it cannot open, and a tree of
 * 100 000 such entries with 4 KiB names would otherwise pile up in the
 * worker's memory until the walk ends. */
#define CLAMD_OUT_FLUSH (64u * 1024)

struct clamd_conn {
	struct clamd_srv *s;
	int fd;
	struct clamd_peer peer;
	uint8_t *buf;
	size_t len;    /* bytes in buf, not yet taken */
	int passed;    /* a descriptor that came with the bytes, or -1 */
	int timed_out; /* the client sent nothing for read_timeout_s */
	int session;   /* inside IDSESSION */
	int broken;    /* an answer could not be sent: the command ends */
	/* CLOCK_MONOTONIC: the command (its line, its stream) ends by then. */
	double deadline;
	unsigned id; /* the request number (answers carry it in a session) */
	char term;
	struct wbuf out;
	/* The command's argument, copied out of buf before the command
	 * reads on (INSTREAM, FILDES move buf's bytes). */
	uint8_t arg[WARD_MAX_CLAMD_COMMAND];
};

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The current command has read_timeout_s from now. */
static void
deadline_start(struct clamd_conn *c)
{
	c->deadline = now() + (double)c->s->cfg->clamd_read_timeout_s;
}

const struct clamd_peer *
clamd_conn_peer(const struct clamd_conn *c)
{
	return &c->peer;
}

static int flush(struct clamd_conn *c);

void
clamd_reply(struct clamd_conn *c, const char *path, size_t pathlen, const char *msg,
	    const char *status)
{
	char safe[PATH_MAX + 1];

	if (c->broken)
		return;
	/* A name holding a newline (a directory entry's: anyone's to choose)
	 * would forge answer lines where answers end in one: it is answered
	 * with '?' for each newline, as an error, whatever its verdict (clamd
	 * writes it raw). */
	if (c->term == '\n' && path != NULL && pathlen <= PATH_MAX &&
	    memchr(path, '\n', pathlen) != NULL) {
		size_t i;

		for (i = 0; i < pathlen; i++)
			safe[i] = path[i] == '\n' ? '?' : path[i];
		path = safe;
		msg = "Not supported file name";
		status = "ERROR";
	}
	clamdproto_answer(&c->out, c->session ? c->id : 0, (const uint8_t *)path, pathlen, msg,
			  status, c->term);
	if (c->out.len > CLAMD_OUT_FLUSH && flush(c) != 0)
		c->broken = 1;
}

int
clamd_conn_broken(const struct clamd_conn *c)
{
	return c->broken;
}

/* Sends what is waiting in c->out.  0, or -1 (the client is gone or too
 * slow: the connection ends). */
static int
flush(struct clamd_conn *c)
{
	size_t off = 0;
	int r = 0;

	double end = now() + (double)c->s->cfg->clamd_read_timeout_s;

	if (c->out.err != 0)
		r = -1;
	/* Each send waits at most read_timeout_s (SO_SNDTIMEO); all of them
	 * together about as long: a byte taken now and then keeps nothing. */
	while (r == 0 && off < c->out.len) {
		if (now() > end) {
			r = -1;
			break;
		}
		ssize_t k = send(c->fd, c->out.p + off, c->out.len - off, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			r = -1;
		else
			off += (size_t)k;
	}
	c->out.len = 0;
	return r;
}

/* Takes n bytes off the front of c->buf. */
static void
consume(struct clamd_conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Reads more from the client (and a descriptor beside it).  1 with bytes
 * added, 0 at its end, -1 on an error or after read_timeout_s of silence
 * (c->timed_out). */
static int
fill(struct clamd_conn *c)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * CLAMD_MAX_PASSED)];
	} cm;
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *h;
	ssize_t k;
	int pr;

	if (c->len >= CLAMD_BUF)
		return -1;
	/* read_timeout_s bounds the whole command line and the whole
	 * INSTREAM, not each read: one byte a minute would keep it for ever. */
	do {
		double left = c->deadline - now();

		pr = left <= 0 ? 0 : poll(&pfd, 1, (int)(left * 1000) + 1);
	} while (pr < 0 && errno == EINTR);
	if (pr == 0)
		c->timed_out = 1;
	if (pr <= 0)
		return -1;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = c->buf + c->len;
	iov.iov_len = CLAMD_BUF - c->len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	do
		k = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	while (k < 0 && errno == EINTR);
	for (h = k >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; h != NULL; h = CMSG_NXTHDR(&mh, h)) {
		size_t i, n;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (c->passed < 0)
				c->passed = fd;
			else
				close(fd);
		}
	}
	if (k <= 0)
		return k == 0 ? 0 : -1;
	c->len += (size_t)k;
	return 1;
}

/* Waits for one of max_threads scan slots. */
static void
slot_take(struct clamd_srv *s)
{
	pthread_mutex_lock(&s->lock);
	while (s->scans >= s->cfg->clamd_max_threads)
		pthread_cond_wait(&s->slot, &s->lock);
	s->scans++;
	pthread_mutex_unlock(&s->lock);
}

static void
slot_give(struct clamd_srv *s, int found)
{
	pthread_mutex_lock(&s->lock);
	s->scans--;
	s->nfound += found > 0;
	pthread_cond_signal(&s->slot);
	pthread_mutex_unlock(&s->lock);
}

/* Why a scan gave no verdict on the bytes, in cl_strerror's words where
 * clamd has them. */
static const char *
scan_error_text(int r, const struct scanmsg_verdict *v)
{
	if (r == SCANPOOL_POISON)
		return "File crashed a scanner before";
	if (r == SCANPOOL_CRASHED)
		return "File crashed the scanner";
	if (r != 0)
		return "No scanner available";
	switch (v->error) {
	case SCANMSG_ERR_READ:
		return "Can't read file";
	case SCANMSG_ERR_LIMIT:
		return "Exceeded scan limits";
	case SCANMSG_ERR_MEMORY:
		return "Can't allocate memory";
	case SCANMSG_ERR_NOCONTENT:
		return "No content is active";
	default:
		return "Internal error";
	}
}

/* Answers one verdict (sr: scanpool's result) as clamd does; returns as
 * clamd_scan_files sets result. */
static int
answer(struct clamd_conn *c, struct active *a, struct exceptions_applied *ap, int sr,
       const struct scanmsg_verdict *v, const struct clamd_file *f, int all)
{
	/* Exceptions by path name a file the client named; a stream or a
	 * passed descriptor has no path. */
	const char *xpath = f->name[0] == '/' ? f->name : NULL;
	unsigned i, shown = 0, stand[SCANMSG_MAX_HITS], n = 0;
	char sha[65];

	if (sr == 0 && v->result == SCANMSG_MATCH) {
		for (i = 0; i < v->nrules && i < SCANMSG_MAX_HITS; i++)
			if (!exceptions_hit(worker_exceptions(), worker_content_exceptions(a),
					    xpath, v->rule[i], ap))
				stand[n++] = i;
		/* What stands, unless the file's bytes are excepted (as ward
		 * agent scan decides). */
		if (n > 0 &&
		    exceptions_have_sha256(worker_exceptions(), worker_content_exceptions(a)) &&
		    exceptions_by_hash(worker_exceptions(), worker_content_exceptions(a), f->fd,
				       sha, ap))
			n = 0;
		for (i = 0; i < n && (all || shown == 0); i++) {
			clamd_reply(c, f->name, f->namelen, v->rule[stand[i]], "FOUND");
			shown++;
		}
		return shown > 0;
	}
	if (sr == 0 && v->result == SCANMSG_CLEAN)
		return 0;
	clamd_reply(c, f->name, f->namelen, scan_error_text(sr, v), "ERROR");
	return -1;
}

void
clamd_scan_files(struct clamd_conn *c, struct clamd_file *f, unsigned n, int all)
{
	struct scanmsg_verdict *v = ward_malloc(SCANPOOL_BATCH * sizeof(*v));
	struct scanpool_file pf[SCANPOOL_BATCH];
	struct active *a = worker_content_get();
	struct exceptions_applied *ap = ward_malloc(sizeof(*ap));
	unsigned i, m = 0, found = 0, idx[SCANPOOL_BATCH];

	for (i = 0; i < n; i++)
		f[i].result = -1;
	if (v == NULL || ap == NULL || a == NULL || n > SCANPOOL_BATCH) {
		for (i = 0; i < n; i++)
			clamd_reply(c, f[i].name, f[i].namelen,
				    a == NULL ? "No content is active" : "Can't allocate memory",
				    "ERROR");
		goto out;
	}
	/* A file over clamd.max_filesize is not sent to a scanner and is
	 * answered OK, as clamd answers one over MaxFileSize without
	 * AlertExceedsMax: a client names the size (a sparse file, a memfd
	 * ftruncate'd to 2^56 bytes costs it nothing), and a scanner reading
	 * holes for hours would be one fewer for on-access, then a "crash". */
	for (i = 0; i < n; i++) {
		const char *xpath = f[i].name[0] == '/' ? f[i].name : NULL;

		if ((uint64_t)f[i].st->st_size > c->s->cfg->clamd_max_filesize) {
			f[i].result = 0;
			continue;
		}
		idx[m] = i;
		pf[m++] =
		    (struct scanpool_file){.fd = f[i].fd, .st = f[i].st, .path = xpath, .v = &v[i]};
	}
	if (m == 0)
		goto out;
	slot_take(c->s);
	if (m == 1)
		pf[0].result = scanpool_scan(a, pf[0].fd, pf[0].st, pf[0].path, pf[0].v);
	else
		scanpool_scan_batch(a, pf, m);
	for (i = 0; i < m; i++) {
		f[idx[i]].result = answer(c, a, ap, pf[i].result, &v[idx[i]], &f[idx[i]], all);
		found += f[idx[i]].result > 0;
	}
	slot_give(c->s, (int)found);
out:
	worker_content_put(a);
	ward_free(ap);
	ward_free(v);
}

int
clamd_scan_fd(struct clamd_conn *c, int fd, const struct stat *st, const char *name, size_t namelen,
	      int all)
{
	struct clamd_file f = {.fd = fd, .st = st, .name = name, .namelen = namelen};

	clamd_scan_files(c, &f, 1, all);
	return f.result;
}

int
clamd_fs_refused(int fd)
{
	struct statfs fs;

	if (fstatfs(fd, &fs) != 0)
		return 1;
	/* A FUSE file system is any user's to make: a read that never ends
	 * there would run out a scanner's time bound, which counts as a
	 * crash, and enough of those blame the content (scanpool.h).  procfs
	 * and sysfs hold files that block or change as they are read; clamd
	 * skips /proc too. */
	return fs.f_type == FUSE_SUPER_MAGIC || fs.f_type == PROC_SUPER_MAGIC ||
	       fs.f_type == SYSFS_MAGIC;
}

/* The descriptor fd (taken), named name: INSTREAM's memfd ("stream") or a
 * FILDES descriptor ("fd[N]"); "NAME: OK" when nothing is found. */
static void
scan_one(struct clamd_conn *c, int fd, const char *name)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		clamd_reply(c, name, strlen(name), "Not a regular file", "ERROR");
	else if (clamd_fs_refused(fd))
		clamd_reply(c, name, strlen(name), CLAMD_FS_REFUSED, "ERROR");
	else if (clamd_scan_fd(c, fd, &st, name, strlen(name), 0) == 0)
		clamd_reply(c, name, strlen(name), NULL, "OK");
	close(fd);
}

/* Writes p[0..n) to the memfd.  0 or -1. */
static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* INSTREAM: chunks into a memfd, then a scan.  0 to go on, -1 to close. */
static int
do_instream(struct clamd_conn *c)
{
	uint64_t quota = c->s->cfg->clamd_stream_max_length;
	uint32_t chunk = 0, left = 0;
	struct rbuf b;
	int fd = memfd_create("ward-clamd-stream", MFD_CLOEXEC | MFD_ALLOW_SEALING), r = -1;

	if (fd < 0) {
		clamd_reply(c, NULL, 0, "Can't create temporary file", "ERROR");
		goto out;
	}
	for (;;) {
		if (left == 0) {
			rbuf_init(&b, c->buf, c->len);
			if (clamdproto_chunk(&b, &chunk) != 0) {
				if (fill(c) <= 0)
					goto out; /* gone mid-stream: nothing to answer */
				continue;
			}
			consume(c, 4);
			if (chunk == 0)
				break;
			if (chunk > quota) {
				clamd_reply(c, NULL, 0, "INSTREAM size limit exceeded.", "ERROR");
				goto out;
			}
			quota -= chunk;
			left = chunk;
		}
		if (c->len == 0 && fill(c) <= 0)
			goto out;
		{
			size_t n = c->len < left ? c->len : left;

			if (write_all(fd, c->buf, n) != 0) {
				clamd_reply(c, NULL, 0, "Error writing to temporary file", "ERROR");
				goto out;
			}
			consume(c, n);
			left -= (uint32_t)n;
		}
	}
	/* What the scanner reads is what the client sent, and stays so. */
	(void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	scan_one(c, fd, "stream");
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/* FILDES: the descriptor came with the byte after the command. */
static int
do_fildes(struct clamd_conn *c)
{
	char name[32];
	int fd;

	/* clamdscan sends the descriptor with one byte of its own. */
	while (c->len == 0)
		if (fill(c) <= 0)
			return -1;
	consume(c, 1);
	if (c->passed < 0) {
		clamd_reply(c, NULL, 0, "No file descriptor received.", "ERROR");
		return -1;
	}
	fd = c->passed;
	c->passed = -1;
	snprintf(name, sizeof(name), "fd[%d]", fd);
	scan_one(c, fd, name);
	return 0;
}

/* VERSION: clamd's "ClamAV ENGINE/DBVERSION/DBDATE" with ward's own
 * version as the engine and the active content's version and activation
 * time as the database's (docs/clamd.md says why). */
static void
version_text(char *out, size_t outlen)
{
	struct store_state *st = ward_malloc(sizeof(*st));
	const char *mode;
	char when[32] = "";
	time_t t;
	struct tm tm;

	if (st == NULL) {
		snprintf(out, outlen, "ClamAV ward-%s", WARD_VERSION);
		return;
	}
	worker_content_state(st, &mode);
	if (!st->current.present) {
		snprintf(out, outlen, "ClamAV ward-%s", WARD_VERSION);
	} else {
		t = (time_t)st->current.activated_at;
		if (localtime_r(&t, &tm) != NULL)
			strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm);
		snprintf(out, outlen, "ClamAV ward-%s/%lld/%s", WARD_VERSION,
			 (long long)st->current.version, when);
	}
	ward_free(st);
}

static void
stats_text(struct clamd_conn *c)
{
	struct clamd_srv *s = c->s;
	char text[600];
	unsigned live, max = s->cfg->clamd_max_threads;

	pthread_mutex_lock(&s->lock);
	live = s->scans;
	pthread_mutex_unlock(&s->lock);
	/* clamd's layout (clamd/thrmgr.c thrmgr_printstats): monitoring
	 * plugins read THREADS and QUEUE. */
	snprintf(text, sizeof(text),
		 "POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live %u  idle %u max %u "
		 "idle-timeout %u\nQUEUE: 0 items\n\nMEMSTATS: heap N/A mmap N/A used N/A free "
		 "N/A releasable N/A pools 1 pools_used N/A pools_total N/A\nEND",
		 live, max - live, max, s->cfg->clamd_read_timeout_s);
	clamd_reply(c, NULL, 0, NULL, text);
}

/* Whether cmd may come inside an IDSESSION (clamd's list). */
static int
session_ok(enum clamdproto_cmd cmd)
{
	switch (cmd) {
	case CLAMDPROTO_FILDES:
	case CLAMDPROTO_SCAN:
	case CLAMDPROTO_END:
	case CLAMDPROTO_INSTREAM:
	case CLAMDPROTO_VERSION:
	case CLAMDPROTO_PING:
	case CLAMDPROTO_STATS:
	case CLAMDPROTO_VERSIONCOMMANDS:
		return 1;
	default:
		return 0;
	}
}

/* One command.  0 to read the next (inside a session), 1 to close. */
static int
command(struct clamd_conn *c, const struct clamdproto_req *q)
{
	char text[300];
	int r = c->session ? 0 : 1;

	c->term = q->term;
	if (c->session && !session_ok(q->cmd)) {
		clamd_reply(c, NULL, 0, "Command invalid inside IDSESSION.", "ERROR");
		return 1;
	}
	switch (q->cmd) {
	case CLAMDPROTO_PING:
		clamd_reply(c, NULL, 0, NULL, "PONG");
		break;
	case CLAMDPROTO_VERSION:
		version_text(text, sizeof(text));
		clamd_reply(c, NULL, 0, NULL, text);
		break;
	case CLAMDPROTO_VERSIONCOMMANDS: {
		char list[400];

		version_text(text, sizeof(text));
		snprintf(list, sizeof(list), "%s| COMMANDS:%s", text, clamdproto_command_list());
		clamd_reply(c, NULL, 0, NULL, list);
		break;
	}
	case CLAMDPROTO_RELOAD:
		/* Content is signed and activated by the agent itself (ward
		 * agent apply, the fleet server): there is nothing to reload
		 * from here, and each scan already takes the active content. */
		clamd_reply(c, NULL, 0, NULL, "RELOADING");
		r = 1;
		break;
	case CLAMDPROTO_SHUTDOWN:
	case CLAMDPROTO_QUIT:
		clamd_reply(c, NULL, 0, NULL, "COMMAND UNAVAILABLE");
		r = 1;
		break;
	case CLAMDPROTO_DETSTATS:
	case CLAMDPROTO_DETSTATSCLEAR:
		r = 1; /* clamd closes these without an answer */
		break;
	case CLAMDPROTO_STATS:
		stats_text(c);
		break;
	case CLAMDPROTO_IDSESSION:
		c->session = 1;
		r = 0;
		break;
	case CLAMDPROTO_END:
		if (!c->session)
			clamd_reply(c, NULL, 0, NULL, "UNKNOWN COMMAND");
		r = 1;
		break;
	case CLAMDPROTO_INSTREAM:
		if (do_instream(c) != 0)
			r = 1;
		break;
	case CLAMDPROTO_FILDES:
		if (do_fildes(c) != 0)
			r = 1;
		break;
	case CLAMDPROTO_SCAN:
	case CLAMDPROTO_CONTSCAN:
	case CLAMDPROTO_MULTISCAN:
	case CLAMDPROTO_ALLMATCHSCAN:
		clamd_path_command(c, q->cmd, q->arg, q->arglen);
		break;
	case CLAMDPROTO_UNKNOWN:
	default:
		clamd_reply(c, NULL, 0, NULL, "UNKNOWN COMMAND");
		r = 1;
		break;
	}
	if (r == 0 && c->passed >= 0 && q->cmd != CLAMDPROTO_FILDES) {
		close(c->passed);
		c->passed = -1;
		clamd_reply(c, NULL, 0, "PROTOCOL ERROR: ancillary data sent without FILDES.",
			    "ERROR");
		r = 1;
	}
	return r;
}

static void
serve(struct clamd_conn *c)
{
	struct clamdproto_req q;
	struct rbuf b;
	int first = 1, r;

	deadline_start(c);
	for (;;) {
		rbuf_init(&b, c->buf, c->len);
		r = clamdproto_next(&b, 1, &q);
		if (r == 1) {
			if (fill(c) <= 0) {
				if (c->timed_out) {
					static const char msg[] = "COMMAND READ TIMED OUT\n";

					(void)wbuf_put(&c->out, msg, sizeof(msg) - 1);
				}
				break;
			}
			continue;
		}
		if (r != 0) { /* a command longer than any clamd takes */
			clamd_reply(c, NULL, 0, NULL, "UNKNOWN COMMAND");
			break;
		}
		if (q.arg != NULL) {
			memcpy(c->arg, q.arg, q.arglen);
			q.arg = c->arg;
		}
		consume(c, b.off);
		__atomic_add_fetch(&c->s->ncommands, 1, __ATOMIC_RELAXED);
		if (q.oldstyle && !first) {
			c->term = '\n';
			if (c->session)
				clamd_reply(
				    c, NULL, 0,
				    "Only nCMDS\\n and zCMDS\\0 are accepted inside IDSESSION.",
				    "ERROR");
			else
				clamd_reply(c, NULL, 0, NULL, "UNKNOWN COMMAND");
			break;
		}
		first = 0;
		deadline_start(c); /* for INSTREAM's data, FILDES' byte */
		r = command(c, &q);
		if (c->broken || flush(c) != 0 || r != 0)
			break;
		c->id++;
		deadline_start(c);
	}
	if (!c->broken)
		(void)flush(c);
}

/* The connections one local user may hold: clamd.max_connections_per_user,
 * or a quarter of max_connections (at least 1).  Root is not counted (the
 * agent's own and the administrator's), nor TCP (no uid). */
static unsigned
uid_cap(const struct clamd_srv *s)
{
	unsigned m = s->cfg->clamd_max_connections_per_user;

	if (m == 0)
		m = s->cfg->clamd_max_connections / 4;
	return m > 0 ? m : 1;
}

/* Counts a connection of peer's uid (s->lock held).  0, or -1 when the
 * uid holds its share already. */
static int
uid_take(struct clamd_srv *s, const struct clamd_peer *peer)
{
	unsigned i;

	if (!peer->local || peer->uid == 0)
		return 0;
	for (i = 0; i < s->nbyuid && s->byuid[i].uid != peer->uid; i++)
		;
	if (i == s->nbyuid) {
		/* At most conns < max_connections uids are counted. */
		s->byuid[s->nbyuid++] = (struct clamd_uidcount){.uid = peer->uid, .n = 0};
	}
	if (s->byuid[i].n >= uid_cap(s))
		return -1;
	s->byuid[i].n++;
	return 0;
}

/* Uncounts a connection uid_take counted (s->lock held). */
static void
uid_give(struct clamd_srv *s, const struct clamd_peer *peer)
{
	unsigned i;

	if (!peer->local || peer->uid == 0)
		return;
	for (i = 0; i < s->nbyuid && s->byuid[i].uid != peer->uid; i++)
		;
	if (i == s->nbyuid)
		return;
	if (--s->byuid[i].n == 0)
		s->byuid[i] = s->byuid[--s->nbyuid];
}

static void *
conn_thread(void *arg)
{
	struct clamd_conn *c = arg;
	struct clamd_srv *s = c->s;
	struct clamd_peer peer = c->peer;

	serve(c);
	if (c->passed >= 0)
		close(c->passed);
	close(c->fd);
	wbuf_free(&c->out);
	ward_free(c->buf);
	ward_free(c);
	pthread_mutex_lock(&s->lock);
	s->conns--;
	uid_give(s, &peer);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int
clamd_conn_start(struct clamd_srv *s, int fd, const struct clamd_peer *peer)
{
	struct clamd_conn *c = NULL;
	struct timeval tv;
	pthread_t t;
	int r = -1;

	pthread_mutex_lock(&s->lock);
	if (s->conns >= s->cfg->clamd_max_connections || uid_take(s, peer) != 0) {
		pthread_mutex_unlock(&s->lock);
		goto out;
	}
	s->conns++;
	s->nconns++;
	pthread_mutex_unlock(&s->lock);
	/* An answer the client does not take within the read timeout ends
	 * the connection. */
	tv.tv_sec = s->cfg->clamd_read_timeout_s;
	tv.tv_usec = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c = ward_malloc(sizeof(*c));
	if (c != NULL) {
		memset(c, 0, sizeof(*c));
		c->buf = ward_malloc(CLAMD_BUF);
	}
	if (c != NULL && c->buf != NULL) {
		c->s = s;
		c->fd = fd;
		c->passed = -1;
		c->term = '\n';
		c->peer = *peer;
		wbuf_init(&c->out);
		if (pthread_create(&t, NULL, conn_thread, c) == 0) {
			pthread_detach(t);
			c = NULL;
			r = 0;
		}
	}
	if (r != 0) {
		pthread_mutex_lock(&s->lock);
		s->conns--;
		uid_give(s, peer);
		pthread_mutex_unlock(&s->lock);
	}
out:
	if (c != NULL) {
		ward_free(c->buf);
		ward_free(c);
	}
	if (r != 0)
		close(fd);
	return r;
}
