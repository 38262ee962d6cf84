/*
 * outputs: NDJSON file and syslog copies of the journal.  See outputs.h.
 *
 * Must hold: one pump thread reads the journal and writes; the outputs it
 * serves (Q.out) change only while it is stopped, and under Q.lock, so
 * that outputs_delivered() never sees half a set; a cursor never stays
 * beyond the journal's end (it would never deliver again).
 */
#include "agent/outputs.h"
#include "agent/worker.h"
#include "event/journal.h"
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define KEEP_ROTATED 5

struct output {
	const char *name; /* "ndjson", "syslog" */
	char cursor_path[CONFIG_MAX_PATH + 64];
	uint64_t next; /* first sequence not yet delivered */
	int (*deliver)(struct output *o, const uint8_t *p, size_t n);
	/* ndjson: the file is base in the directory dir (checked at start:
	 * only root can change what it holds), reached only by descriptor */
	int fd, dir;
	char base[CONFIG_MAX_PATH];
	uint64_t size;
	/* syslog */
	int sock;
};

static struct {
	const struct agent_config *cfg; /* state_dir (never reloaded) */
	unsigned ndjson_max_mb;		/* of the configuration in force */
	char syslog_socket[CONFIG_MAX_PATH];
	struct journal *j;
	struct output out[2];
	unsigned nout;
	pthread_mutex_t lock; /* kicked, stopping; out and nout while the pump is stopped */
	pthread_cond_t cond;
	int kicked;
	int stopping;
	int started;
	pthread_t thread;
} Q = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

void
outputs_kick(void)
{
	pthread_mutex_lock(&Q.lock);
	Q.kicked = 1;
	pthread_cond_signal(&Q.cond);
	pthread_mutex_unlock(&Q.lock);
}

uint64_t
outputs_delivered(void)
{
	uint64_t min = UINT64_MAX;
	unsigned i;

	pthread_mutex_lock(&Q.lock);
	for (i = 0; i < Q.nout; i++) { /* next is the pump's: read it whole */
		uint64_t next = __atomic_load_n(&Q.out[i].next, __ATOMIC_RELAXED);

		if (next - 1 < min)
			min = next - 1;
	}
	pthread_mutex_unlock(&Q.lock);
	return min;
}

static void
save_cursor(struct output *o)
{
	char text[32];

	snprintf(text, sizeof(text), "%" PRIu64 "\n", o->next);
	(void)file_replace(o->cursor_path, text, strlen(text), 0600, NULL);
}

/* --- NDJSON file ---------------------------------------------------------- */

static int
ndjson_open(struct output *o)
{
	struct stat st;

	/* Root appends here: never through a symbolic link or into a FIFO or
	 * device someone put in the file's place. */
	o->fd = openat(o->dir, o->base,
		       O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (o->fd < 0)
		return -1;
	if (fstat(o->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(o->fd);
		o->fd = -1;
		return -1;
	}
	o->size = (uint64_t)st.st_size;
	return 0;
}

/* path -> path.1 -> ... -> path.KEEP_ROTATED (the oldest goes). */
static void
ndjson_rotate(struct output *o)
{
	char from[CONFIG_MAX_PATH + 16], to[CONFIG_MAX_PATH + 16];
	int i;

	close(o->fd);
	o->fd = -1;
	for (i = KEEP_ROTATED - 1; i >= 1; i--) {
		snprintf(from, sizeof(from), "%s.%d", o->base, i);
		snprintf(to, sizeof(to), "%s.%d", o->base, i + 1);
		(void)renameat(o->dir, from, o->dir, to);
	}
	snprintf(to, sizeof(to), "%s.1", o->base);
	(void)renameat(o->dir, o->base, o->dir, to);
	(void)ndjson_open(o);
}

static int
ndjson_deliver(struct output *o, const uint8_t *p, size_t n)
{
	if (o->fd < 0 && ndjson_open(o) != 0)
		return -1;
	if (o->size > 0 && o->size + n + 1 > (uint64_t)Q.ndjson_max_mb << 20) {
		ndjson_rotate(o);
		if (o->fd < 0)
			return -1;
	}
	/* One write per line, so a reader never sees half an event. */
	{
		char *line = malloc(n + 1);
		int r;

		if (line == NULL)
			return -1;
		memcpy(line, p, n);
		line[n] = '\n';
		r = file_write_all(o->fd, line, n + 1);
		free(line);
		if (r != 0)
			return -1;
	}
	o->size += n + 1;
	return 0;
}

/* --- syslog (RFC 5424 over /dev/log) ------------------------------------------ */

static int
syslog_deliver(struct output *o, const uint8_t *p, size_t n)
{
	char host[256], ts[40], action[64] = "event", head[512];
	struct sockaddr_un sa;
	struct timespec now;
	struct tm tm;
	json_t *ev = json_loadb((const char *)p, n, 0, NULL);
	int pri = 14; /* user.info */
	struct iovec iov[2];
	struct msghdr mh;

	if (ev != NULL) {
		json_t *e = json_object_get(ev, "event");
		const char *a = json_string_value(json_object_get(e, "action"));
		const char *k = json_string_value(json_object_get(e, "kind"));

		if (a != NULL)
			snprintf(action, sizeof(action), "%.60s", a);
		if (k != NULL && strcmp(k, "alert") == 0)
			pri = 12; /* user.warning */
		json_decref(ev);
	}
	if (o->sock < 0) {
		o->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (o->sock < 0)
			return -1;
	}
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "-");
	host[sizeof(host) - 1] = '\0';
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(head, sizeof(head), "<%d>1 %s.%03dZ %.200s wardd %ld %s - ", pri, ts,
		 (int)(now.tv_nsec / 1000000), host, (long)getpid(), action);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", Q.syslog_socket);
	iov[0].iov_base = head;
	iov[0].iov_len = strlen(head);
	iov[1].iov_base = (void *)p;
	iov[1].iov_len = n;
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &sa;
	mh.msg_namelen = sizeof(sa);
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	return sendmsg(o->sock, &mh, MSG_NOSIGNAL) >= 0 ? 0 : -1;
}

/* --- the pump ------------------------------------------------------------ */

static int
pump_one(void *arg, uint64_t seq, const uint8_t *p, size_t n)
{
	struct output *o = arg;

	if (o->deliver(o, p, n) != 0)
		return 1; /* try again later from here */
	__atomic_store_n(&o->next, seq + 1, __ATOMIC_RELAXED);
	return 0;
}

static void *
pump(void *arg)
{
	(void)arg;
	for (;;) {
		struct journal_stats st;
		struct timespec until;
		unsigned i;

		for (i = 0; i < Q.nout; i++) {
			struct output *o = &Q.out[i];
			uint64_t before = o->next;

			journal_stats(Q.j, &st);
			if (o->next < st.first_seq) /* dropped by the cap: nothing to send */
				__atomic_store_n(&o->next, st.first_seq, __ATOMIC_RELAXED);
			if (o->next < st.next_seq)
				(void)journal_read(Q.j, o->next, pump_one, o, NULL);
			if (o->next != before)
				save_cursor(o);
		}
		pthread_mutex_lock(&Q.lock);
		if (Q.stopping) {
			pthread_mutex_unlock(&Q.lock);
			break; /* that was the last pass */
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		while (!Q.kicked && !Q.stopping &&
		       pthread_cond_timedwait(&Q.cond, &Q.lock, &until) != ETIMEDOUT)
			;
		Q.kicked = 0;
		pthread_mutex_unlock(&Q.lock);
	}
	return NULL;
}

static void
add_output(const char *name, int (*deliver)(struct output *, const uint8_t *, size_t))
{
	struct output *o = &Q.out[Q.nout++];
	char dir[CONFIG_MAX_PATH + 16];
	struct journal_stats st;
	FILE *f;

	memset(o, 0, sizeof(*o));
	o->name = name;
	o->deliver = deliver;
	o->fd = -1;
	o->dir = -1;
	o->sock = -1;
	o->next = 1;
	snprintf(dir, sizeof(dir), "%s/outputs", Q.cfg->state_dir);
	(void)mkdir(dir, 0700);
	snprintf(o->cursor_path, sizeof(o->cursor_path), "%s/%s.seq", dir, name);
	f = fopen(o->cursor_path, "re");
	if (f != NULL) {
		unsigned long long v;

		if (fscanf(f, "%llu", &v) == 1 && v > 0)
			o->next = v;
		fclose(f);
	}
	/* Before anything new is journaled: the journal holds less than the
	 * cursor says was delivered (it was lost or restored from a backup,
	 * or two agents wrote it before the lock), and waiting for it to
	 * catch up would deliver nothing for as long.  Go on from its end. */
	journal_stats(Q.j, &st);
	if (o->next > st.next_seq) {
		worker_log("outputs: %s: the cursor %s was at event %llu, beyond the journal's end "
			   "(its next event is %llu): recovered, delivering from event %llu on",
			   name, o->cursor_path, (unsigned long long)o->next,
			   (unsigned long long)st.next_seq, (unsigned long long)st.next_seq);
		o->next = st.next_seq;
		save_cursor(o);
	}
}

/* Closes what the outputs hold (the pump is stopped). */
static void
close_outputs(void)
{
	unsigned i;

	for (i = 0; i < Q.nout; i++) {
		struct output *o = &Q.out[i];

		if (o->fd >= 0)
			close(o->fd);
		if (o->dir >= 0)
			close(o->dir);
		if (o->sock >= 0)
			close(o->sock);
	}
	Q.nout = 0;
}

/* Sets up the outputs c asks for and starts the pump (none: no pump). */
static int
start(const struct agent_config *c, char *why, size_t whylen)
{
	pthread_t t;
	int r = 0;

	why[0] = '\0';
	pthread_mutex_lock(&Q.lock);
	Q.ndjson_max_mb = c->ndjson_max_mb;
	snprintf(Q.syslog_socket, sizeof(Q.syslog_socket), "%s", c->syslog_socket);
	Q.stopping = 0;
	if (c->ndjson_path[0] != '\0') {
		/* Root writes and renames in that directory: only if no one
		 * else can change what it holds. */
		char dir[CONFIG_MAX_PATH];
		const char *slash = strrchr(c->ndjson_path, '/');
		struct ward_diag d;
		int dfd;

		if (slash == NULL || slash[1] == '\0') {
			snprintf(why, whylen, "outputs.ndjson.path must be an absolute file path");
			r = -1;
		} else {
			snprintf(dir, sizeof(dir), "%.*s",
				 slash == c->ndjson_path ? 1 : (int)(slash - c->ndjson_path),
				 c->ndjson_path);
			if (file_dir_open(dir, 0, geteuid(), &dfd, &d) != 0) {
				snprintf(why, whylen, "outputs.ndjson.path: %s", d.msg);
				r = -1;
			} else {
				add_output("ndjson", ndjson_deliver);
				Q.out[Q.nout - 1].dir = dfd;
				snprintf(Q.out[Q.nout - 1].base, sizeof(Q.out[0].base), "%s",
					 slash + 1);
			}
		}
	}
	if (c->syslog)
		add_output("syslog", syslog_deliver);
	pthread_mutex_unlock(&Q.lock);
	if (Q.nout == 0)
		return r;
	if (pthread_create(&t, NULL, pump, NULL) != 0) {
		snprintf(why, whylen, "cannot start the output thread");
		pthread_mutex_lock(&Q.lock);
		close_outputs();
		pthread_mutex_unlock(&Q.lock);
		return -1;
	}
	Q.thread = t;
	Q.started = 1;
	return r;
}

int
outputs_start(const struct agent_config *c, struct journal *j, char *why, size_t whylen)
{
	Q.cfg = c;
	Q.j = j;
	return start(c, why, whylen);
}

int
outputs_reconfigure(const struct agent_config *c, char *why, size_t whylen)
{
	outputs_stop(); /* after its last pass: every cursor saved */
	pthread_mutex_lock(&Q.lock);
	close_outputs();
	pthread_mutex_unlock(&Q.lock);
	return start(c, why, whylen);
}

void
outputs_stop(void)
{
	if (!Q.started)
		return;
	pthread_mutex_lock(&Q.lock);
	Q.stopping = 1;
	pthread_cond_signal(&Q.cond);
	pthread_mutex_unlock(&Q.lock);
	pthread_join(Q.thread, NULL); /* after one last pass: cursors saved */
	Q.started = 0;
}
