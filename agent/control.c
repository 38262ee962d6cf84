/*
 * control: the agent's control socket.  See control.h.
 *
 * Must hold:
 *   - only root (or the agent's own user) is served, checked by the
 *     peer's credentials; the socket is created 0600;
 *   - at most MAX_CLIENTS requests run at once, the others get "busy";
 *   - a request is one typed frame (lib/proto/ctlmsg.h), decoded through
 *     rbuf; one that breaks the channel is logged as an attack and the
 *     connection closed without an answer.
 */
#include "agent/control.h"
#include "agent/exceptions.h"
#include "agent/worker.h"
#include "content/bundle.h"
#include "event/event.h"
#include "response/quarantine.h"
#include "rules/ruleset.h"
#include "agent/scanpool.h"
#include "scan/scanmsg.h"
#include "scan/walker.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/ipc.h"
#include "proto/ctlmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CLIENTS 16
/* A client has this long to send its one request ... */
#define REQUEST_TIMEOUT_S 10.0
/* ... and to take its answer. */
#define ANSWER_TIMEOUT_S 30.0
#define MAX_LISTED_MATCHES 10000

static struct {
	const struct agent_config *cfg;
	pthread_mutex_t lock; /* clients */
	unsigned clients;
	uint64_t max_filesize; /* atomic: a reload changes it */
	char sock_path[CONFIG_MAX_PATH + 32];
} C = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

/* Files opened by the walk, waiting for a scanner: as many as the
 * scanners can take next, so that none waits for the walk. */
#define SCAN_QUEUE_MAX 64

struct scan_job {
	struct scan_job *next;
	int fd;
	struct stat st;
	char path[]; /* NUL-terminated */
};

/*
 * A ward agent scan: the walk opens the files and queues them; one thread
 * per scanner process takes them, has them scanned, and decides on the
 * verdict holding lock (everything below it but the queue's own fields).
 */
struct scan_req {
	struct active *a;
	pthread_mutex_t lock;
	pthread_cond_t more, room;
	struct scan_job *head, *tail;
	unsigned queued;
	unsigned idle;	  /* scanning threads waiting for a file */
	int walk_waiting; /* the walk waits for room in the queue */
	int walk_done;
	struct exceptions *x;
	const struct except_list *content;
	json_t *matches, *excepted;
	json_t *poison;	  /* files that crashed a scanner, now or before */
	json_t *hits;	  /* of the file being scanned: rule names that stand */
	uint64_t nhits;	  /* ... and how many (the list is bounded) */
	const char *path; /* of the file being decided on */
	int quarantine;	  /* move what is found (and not excepted) into the quarantine */
	uint64_t files, errors, nmatches, nexcepted, nquarantined;
};

/* A match an exception suppressed: listed, and journaled with it. */
static void
add_excepted(struct scan_req *q, const char *rule, const struct exceptions_applied *ap,
	     const char *sha)
{
	json_t *ev;

	q->nexcepted++;
	if (json_array_size(q->excepted) < MAX_LISTED_MATCHES)
		json_array_append_new(q->excepted,
				      json_pack("{s:o, s:s, s:{s:s, s:I, s:s, s:s}}", "path",
						event_str(q->path), "rule", rule, "exception",
						"source", ap->source, "id", (json_int_t)ap->id,
						"match", ap->match, "reason", ap->reason));
	ev =
	    exceptions_event(q->x, ap, q->path, rule, q->quarantine ? "quarantine" : "report", sha);
	if (ev != NULL) {
		event_set_str(ev, "ward.scan", "agent-scan");
		event_set_int(ev, "ward.content.version", worker_content_version(q->a));
		worker_emit(ev);
	}
}

/* One rule the scanner found matching. */
static void
scan_report(struct scan_req *q, const char *name)
{
	struct exceptions_applied ap;

	if (exceptions_hit(q->x, q->content, q->path, name, &ap))
		add_excepted(q, name, &ap, NULL);
	else if (q->nhits++ < MAX_LISTED_MATCHES)
		json_array_append_new(q->hits, json_string(name));
}

/* --quarantine: moves the file away (by its descriptor: the name is
 * removed only if it is still that file), journaled as on-write does. */
static json_t *
quarantine_found(struct scan_req *q, int fd, const char *rule)
{
	struct quarantine_entry e;
	struct ward_diag d;
	char msg[1200];
	json_t *ev, *res;
	int r;

	diag_clear(&d);
	r = quarantine_file(C.cfg->state_dir, q->path, fd, rule, &e, &d);
	ev = event_new(EVENT_KIND_EVENT, "malware", r == 0 ? "deletion" : "info",
		       r == 0 ? "file-quarantined" : "file-quarantine-failed",
		       r == 0 ? "success" : "failure");
	if (ev != NULL) {
		event_set_str(ev, "file.path", q->path);
		event_set_str(ev, "rule.name", rule);
		event_set_str(ev, "ward.scan", "agent-scan");
	}
	if (r == 0) {
		q->nquarantined++;
		res = json_pack("{s:s, s:s}", "id", e.id, "sha256", e.sha256);
		if (ev != NULL) {
			event_set_str(ev, "ward.quarantine.id", e.id);
			event_set_str(ev, "file.hash.sha256", e.sha256);
			event_set_int(ev, "file.size", (int64_t)e.size);
		}
	} else {
		diag_format(&d, msg, sizeof(msg));
		res = json_pack("{s:s}", "error", msg);
		if (ev != NULL)
			event_set_str(ev, "message", msg);
	}
	worker_emit(ev);
	return res;
}

/* Decides on one file: exceptions, quarantine, the result lists.  Holds
 * q->lock. */
static void
scan_job_decide(struct scan_req *q, struct scan_job *job, struct scanmsg_verdict *v, int r)
{
	struct exceptions_applied ap;
	char sha[65];
	json_t *qr = NULL, *rule;
	size_t i;
	int fd = job->fd;

	q->path = job->path;
	json_array_clear(q->hits);
	q->nhits = 0;
	if (r == SCANPOOL_POISON || r == SCANPOOL_CRASHED) {
		if (json_array_size(q->poison) < MAX_LISTED_MATCHES)
			json_array_append_new(q->poison,
					      json_pack("{s:o, s:b}", "path", event_str(q->path),
							"crashed_now", r == SCANPOOL_CRASHED));
	} else if (r == 0 && v->result == SCANMSG_ERROR) {
		r = WARD_EIO;
	}
	for (i = 0; r == 0 && i < v->nrules; i++)
		scan_report(q, v->rule[i]);
	if (r != 0)
		q->errors++;
	q->files++;
	if (r == 0 && json_array_size(q->hits) > 0) {
		/* What stands, unless the file's bytes are excepted. */
		if (exceptions_by_hash(q->x, q->content, fd, sha, &ap)) {
			json_array_foreach(q->hits, i, rule)
			    add_excepted(q, json_string_value(rule), &ap, sha);
		} else {
			const char *first = json_string_value(json_array_get(q->hits, 0));

			if (q->quarantine)
				qr = quarantine_found(q, fd, first);
			q->nmatches += q->nhits;
			json_array_foreach(q->hits, i, rule)
			{
				json_t *m = json_pack("{s:o, s:s}", "path", event_str(q->path),
						      "rule", json_string_value(rule));

				if (m != NULL && qr != NULL && i == 0)
					json_object_set(m,
							json_object_get(qr, "error") != NULL
							    ? "quarantine_failed"
							    : "quarantined",
							qr);
				if (json_array_size(q->matches) < MAX_LISTED_MATCHES)
					json_array_append_new(q->matches, m);
				else
					json_decref(m);
			}
			json_decref(qr);
		}
	}
	q->path = NULL;
}

/* One scanning thread: jobs until the walk is done and the queue empty,
 * taken as many at a time as are queued (up to a batch): read and matched
 * in a scanner process, which a file that crashes it is listed for (and
 * recorded as poison), not scanned again. */
static void *
scan_thread(void *arg)
{
	struct scan_req *q = arg;
	struct scanmsg_verdict *v = ward_malloc(SCANPOOL_BATCH * sizeof(*v));
	struct scanpool_file f[SCANPOOL_BATCH];
	struct scan_job *job[SCANPOOL_BATCH];
	unsigned n, i;

	for (;;) {
		pthread_mutex_lock(&q->lock);
		while (q->head == NULL && !q->walk_done) {
			q->idle++;
			pthread_cond_wait(&q->more, &q->lock);
			q->idle--;
		}
		for (n = 0; n < SCANPOOL_BATCH && q->head != NULL; n++) {
			job[n] = q->head;
			q->head = job[n]->next;
			q->queued--;
		}
		if (q->head == NULL)
			q->tail = NULL;
		/* The walk goes on when half the queue is free: one wake-up
		 * per many files, not one per file. */
		if (q->walk_waiting && q->queued <= SCAN_QUEUE_MAX / 2)
			pthread_cond_signal(&q->room);
		if (v == NULL)
			q->errors += n;
		pthread_mutex_unlock(&q->lock);
		if (n == 0)
			break;
		for (i = 0; v != NULL && i < n; i++)
			f[i] = (struct scanpool_file){
			    .fd = job[i]->fd, .st = &job[i]->st, .path = job[i]->path, .v = &v[i]};
		if (v != NULL)
			scanpool_scan_batch(q->a, f, n);
		pthread_mutex_lock(&q->lock);
		for (i = 0; v != NULL && i < n; i++)
			scan_job_decide(q, job[i], &v[i], f[i].result);
		pthread_mutex_unlock(&q->lock);
		for (i = 0; i < n; i++) {
			close(job[i]->fd);
			ward_free(job[i]);
		}
	}
	ward_free(v);
	return NULL;
}

/* The walk's file callback: opens the file and queues it. */
static int
scan_file(void *ctx, const struct walker_entry *e)
{
	struct scan_req *q = ctx;
	uint64_t max = __atomic_load_n(&C.max_filesize, __ATOMIC_RELAXED);
	struct scan_job *job;
	int fd;

	if (max > 0 && (uint64_t)e->st->st_size > max)
		return 0;
	/* Root opens it for a user: the file the walk examined, never a link
	 * or a file swapped in since (that could be one only root may read). */
	fd = walker_open(e, 0);
	job = fd >= 0 ? ward_malloc(sizeof(*job) + e->path_len + 1) : NULL;
	if (job == NULL) {
		if (fd >= 0)
			close(fd);
		pthread_mutex_lock(&q->lock);
		q->errors++;
		pthread_mutex_unlock(&q->lock);
		return 0;
	}
	job->next = NULL;
	job->fd = fd;
	job->st = *e->st;
	memcpy(job->path, e->path, e->path_len);
	job->path[e->path_len] = '\0';
	pthread_mutex_lock(&q->lock);
	while (q->queued >= SCAN_QUEUE_MAX) {
		q->walk_waiting = 1;
		pthread_cond_wait(&q->room, &q->lock);
		q->walk_waiting = 0;
	}
	if (q->tail != NULL)
		q->tail->next = job;
	else
		q->head = job;
	q->tail = job;
	q->queued++;
	/* An idle thread is woken for a batch, not for each file (the end
	 * of the walk wakes them all for what is left). */
	if (q->idle > 0 && q->queued >= SCANPOOL_BATCH)
		pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

/* Results in path order, whichever scanner finished first. */
static int
by_path(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t i = json_integer_value(json_object_get(x, "_i")),
		   j = json_integer_value(json_object_get(y, "_i"));
	int c = strcmp(json_string_value(json_object_get(x, "path")),
		       json_string_value(json_object_get(y, "path")));

	return c != 0 ? c : (i > j) - (i < j);
}

static json_t *
sorted(json_t *arr)
{
	size_t n = json_array_size(arr), i;
	json_t **v, *out;

	if (n < 2 || (v = ward_malloc(n * sizeof(*v))) == NULL)
		return json_incref(arr);
	for (i = 0; i < n; i++)
		v[i] = json_array_get(arr, i);
	/* A stable order within one path: the rules as the scanner named them. */
	for (i = 0; i < n; i++)
		json_object_set_new(v[i], "_i", json_integer((json_int_t)i));
	qsort(v, n, sizeof(*v), by_path);
	out = json_array();
	for (i = 0; out != NULL && i < n; i++) {
		json_object_del(v[i], "_i");
		json_array_append(out, v[i]);
	}
	ward_free(v);
	return out != NULL ? out : json_incref(arr);
}

static void
scan_error(void *ctx, const char *path, const char *what, int errnum, unsigned depth)
{
	struct scan_req *q = ctx;

	(void)path;
	(void)what;
	(void)errnum;
	(void)depth;
	pthread_mutex_lock(&q->lock);
	q->errors++;
	pthread_mutex_unlock(&q->lock);
}

static json_t *
do_scan(const char *path, int quarantine)
{
	struct scan_req q;
	struct walker_opts wo;
	const char *paths[1] = {path};
	pthread_t threads[SCANPOOL_MAX_PROCS];
	unsigned nthreads, i;
	json_t *o;
	int r;

	memset(&q, 0, sizeof(q));
	q.a = worker_content_get();
	if (q.a == NULL)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
				 worker_safe_mode() ? "safe mode: no content is active"
						    : "no content installed");
	q.x = worker_exceptions();
	q.content = worker_content_exceptions(q.a);
	q.quarantine = quarantine;
	pthread_mutex_init(&q.lock, NULL);
	pthread_cond_init(&q.more, NULL);
	pthread_cond_init(&q.room, NULL);
	q.matches = json_array();
	q.excepted = json_array();
	q.hits = json_array();
	q.poison = json_array();
	memset(&wo, 0, sizeof(wo));
	wo.file = scan_file;
	wo.error = scan_error;
	wo.ctx = &q;
	for (nthreads = 0; nthreads < C.cfg->scan_processes && nthreads < SCANPOOL_MAX_PROCS;
	     nthreads++)
		if (pthread_create(&threads[nthreads], NULL, scan_thread, &q) != 0)
			break;
	if (nthreads == 0) {
		/* No thread: the walk would wait on a queue no one empties. */
		q.errors++;
		r = WARD_ENOMEM;
	} else {
		r = walker_run(&wo, paths, 1, NULL);
	}
	pthread_mutex_lock(&q.lock);
	q.walk_done = 1;
	pthread_cond_broadcast(&q.more);
	pthread_mutex_unlock(&q.lock);
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	{
		json_t *m = sorted(q.matches), *x = sorted(q.excepted), *p = sorted(q.poison);

		json_decref(q.matches);
		json_decref(q.excepted);
		json_decref(q.poison);
		q.matches = m;
		q.excepted = x;
		q.poison = p;
	}
	o = json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:o, s:I, s:o}", "ok", r == 0, "content",
		      worker_content_name(q.a), "version", (json_int_t)worker_content_version(q.a),
		      "files", (json_int_t)q.files, "errors", (json_int_t)q.errors, "match_count",
		      (json_int_t)q.nmatches, "matches", q.matches, "excepted_count",
		      (json_int_t)q.nexcepted, "excepted", q.excepted);
	if (o != NULL)
		json_object_set(o, "poison", q.poison);
	if (o != NULL && quarantine)
		json_object_set_new(o, "quarantined_count",
				    json_integer((json_int_t)q.nquarantined));
	json_decref(q.hits);
	json_decref(q.poison);
	pthread_cond_destroy(&q.more);
	pthread_cond_destroy(&q.room);
	pthread_mutex_destroy(&q.lock);
	worker_content_put(q.a);
	return o;
}

json_t *
control_apply(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct ward_diag d;
	char reason[1500];
	long long version = 0;
	double ms = 0;
	int r;

	diag_clear(&d);
	if ((r = file_read_all(path, (size_t)BUNDLE_MAX_SIZE, &buf, &len, &d)) != 0) {
		char msg[1100];

		diag_format(&d, msg, sizeof(msg));
		return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
	}
	r = worker_activate(buf, len, &version, &ms, reason, sizeof(reason));
	ward_free(buf);
	if (r != 0)
		return json_pack("{s:b, s:I, s:s}", "ok", 0, "version", (json_int_t)version,
				 "error", reason);
	return json_pack("{s:b, s:I, s:f}", "ok", 1, "version", (json_int_t)version, "ms", ms);
}

static void
q_add(void *arg, const struct quarantine_entry *e)
{
	json_array_append_new((json_t *)arg, quarantine_entry_json(e));
}

/* quarantine-list / -restore / -delete, done by the agent itself so that
 * its own writes never trigger its sensors.  to: restore into that
 * directory instead of the original one (NULL: the original). */
static json_t *
do_quarantine(const char *cmd, const char *id, const char *to)
{
	struct quarantine_entry e;
	struct ward_diag d;
	char msg[1200];
	json_t *arr, *ev;
	int r;

	diag_clear(&d);
	if (strcmp(cmd, "quarantine-list") == 0) {
		arr = json_array();
		r = quarantine_list(C.cfg->state_dir, q_add, arr, &d);
		return json_pack("{s:b, s:o}", "ok", r == 0, "entries", arr);
	}
	if (id == NULL)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "no id");
	r = strcmp(cmd, "quarantine-restore") == 0
		? quarantine_restore(C.cfg->state_dir, id, to, &e, &d)
		: quarantine_delete(C.cfg->state_dir, id, &d);
	if (r != 0) {
		diag_format(&d, msg, sizeof(msg));
		return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
	}
	ev = event_new(EVENT_KIND_EVENT, "file",
		       strcmp(cmd, "quarantine-restore") == 0 ? "creation" : "deletion",
		       strcmp(cmd, "quarantine-restore") == 0 ? "file-restored"
							      : "quarantine-deleted",
		       "success");
	if (ev != NULL) {
		event_set_str(ev, "ward.quarantine.id", id);
		if (strcmp(cmd, "quarantine-restore") == 0) {
			event_set_str(ev, "file.path", e.path);
			event_set_str(ev, "file.hash.sha256", e.sha256);
		}
		worker_emit(ev);
	}
	if (strcmp(cmd, "quarantine-restore") == 0) /* what an exception for it needs */
		return json_pack("{s:b, s:s, s:s, s:s, s:s}", "ok", 1, "path", e.path, "id", id,
				 "sha256", e.sha256, "rule", e.rule);
	return json_pack("{s:b, s:s}", "ok", 1, "path", "");
}

static json_t *
handle(const struct ctlmsg_req *req)
{
	char msg[400];

	switch (req->type) {
	case CTLMSG_STATUS:
		return worker_status_json();
	case CTLMSG_APPLY:
		return control_apply(req->a);
	case CTLMSG_SCAN:
		return do_scan(req->a, (req->flags & CTLMSG_F_QUARANTINE) != 0);
	case CTLMSG_EXCEPT_ADD: {
		/* exceptions_add checks every field of what it is given. */
		json_t *spec = json_loads(req->a, JSON_REJECT_DUPLICATES, NULL);
		json_t *o = spec != NULL ? exceptions_add(worker_exceptions(), spec)
					 : json_pack("{s:b, s:s}", "ok", 0, "error",
						     "the exception is not a JSON object");

		json_decref(spec);
		return o;
	}
	case CTLMSG_EXCEPT_REMOVE:
		return exceptions_remove(worker_exceptions(), req->a);
	case CTLMSG_EXCEPT_LIST: {
		struct active *a = worker_content_get();
		json_t *o = exceptions_list(worker_exceptions(),
					    a != NULL ? worker_content_exceptions(a) : NULL);

		worker_content_put(a);
		return o;
	}
	case CTLMSG_QUARANTINE_LIST:
	case CTLMSG_QUARANTINE_RESTORE:
	case CTLMSG_QUARANTINE_DELETE:
		return do_quarantine(ctlmsg_name(req->type), req->a[0] != '\0' ? req->a : NULL,
				     req->b[0] != '\0' ? req->b : NULL);
	case CTLMSG_ROLLBACK: {
		int r = worker_rollback(CAUSE_OPERATOR_ROLLBACK, "rolled back by the operator", msg,
					sizeof(msg));

		return json_pack("{s:b, s:s}", "ok", r == 0, r == 0 ? "message" : "error", msg);
	}
	case CTLMSG_ANSWER:
	case CTLMSG_ANSWER_FILE:
		break;
	}
	return json_pack("{s:b, s:s}", "ok", 0, "error", "unknown command");
}

/* Sends the answer resp: in the frame if it fits, else in a sealed memory
 * file beside it (a scan's list of matches). */
static void
send_answer(struct ipc *c, json_t *resp)
{
	char *text = json_dumps(resp, JSON_COMPACT);
	struct ward_diag d;
	struct wbuf w;
	size_t n;
	int mfd = -1;

	wbuf_init(&w);
	if (text == NULL)
		goto out;
	n = strlen(text);
	if (n <= WARD_MAX_IPC_PAYLOAD) {
		(void)ipc_send(c, CTLMSG_ANSWER, text, n, -1, clock_mono() + ANSWER_TIMEOUT_S, &d);
		goto out;
	}
	if (n > CTLMSG_MAX_ANSWER || ipc_memfd_new("ward-answer", text, n, &mfd) != 0) {
		static const char busy[] = "{\"ok\":false,\"error\":\"the answer is too large\"}";

		(void)ipc_send(c, CTLMSG_ANSWER, busy, sizeof(busy) - 1, -1,
			       clock_mono() + ANSWER_TIMEOUT_S, &d);
		goto out;
	}
	ctlmsg_answer_file_encode(&w, n);
	if (w.err == 0)
		(void)ipc_send(c, CTLMSG_ANSWER_FILE, w.p, w.len, mfd,
			       clock_mono() + ANSWER_TIMEOUT_S, &d);
out:
	if (mfd >= 0)
		close(mfd);
	wbuf_free(&w);
	free(text);
}

/* Logs a request that broke the channel: the client is root or the
 * agent's own user, so this is a broken or subverted tool. */
static void
log_attack(const struct ward_diag *d)
{
	char line[600];

	ipc_attack_text(d, line, sizeof(line));
	worker_log("%s", line);
}

static void *
client_thread(void *arg)
{
	struct ipc *c = arg;
	struct ctlmsg_req *req = ward_malloc(sizeof(*req));
	struct ipc_msg m;
	struct ward_diag d;
	json_t *resp;
	int r;

	memset(&d, 0, sizeof(d));
	if (req == NULL)
		goto out;
	r = ipc_recv(c, clock_mono() + REQUEST_TIMEOUT_S, &m, &d);
	if (r == 0)
		r = ctlmsg_req_decode(&m, req, &d);
	ipc_msg_close(&m);
	if (r == WARD_EPROTO) {
		/* Refused: no answer, the channel is closed. */
		log_attack(&d);
		goto out;
	}
	if (r != 0)
		goto out;
	resp = handle(req);
	if (resp != NULL)
		send_answer(c, resp);
	json_decref(resp);
out:
	ward_free(req);
	ipc_free(c);
	pthread_mutex_lock(&C.lock);
	C.clients--;
	pthread_mutex_unlock(&C.lock);
	return NULL;
}

static int
listen_socket(void)
{
	struct sockaddr_un sa;
	int fd;

	if (mkdir(C.cfg->run_dir, 0700) != 0 && errno != EEXIST) {
		worker_log("cannot create %s: %s", C.cfg->run_dir, strerror(errno));
		return -1;
	}
	snprintf(C.sock_path, sizeof(C.sock_path), "%s/control.sock", C.cfg->run_dir);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(C.sock_path) >= sizeof(sa.sun_path)) {
		worker_log("%s: path too long for a socket", C.sock_path);
		return -1;
	}
	memcpy(sa.sun_path, C.sock_path, strlen(C.sock_path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)unlink(C.sock_path);
	/* Root only: created 0600 (umask) and checked. */
	{
		mode_t old = umask(0177);
		int b = bind(fd, (struct sockaddr *)&sa, sizeof(sa));

		umask(old);
		if (b != 0 || chmod(C.sock_path, 0600) != 0 || listen(fd, 64) != 0) {
			worker_log("cannot listen on %s: %s", C.sock_path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

int
control_accept(int lfd, const char *what)
{
	unsigned short_of = 0; /* accepts failed in a row for want of resources */

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0)
			return fd;
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
			/* Out of descriptors or memory for now (a flood of
			 * events, say): the socket serves again once there
			 * are, instead of never. */
			if (!short_of++)
				worker_log("%s: cannot accept a connection (%s): trying again",
					   what, strerror(errno));
			usleep(100000);
			continue;
		}
		worker_log("%s: accept: %s: no more connections are served", what, strerror(errno));
		return -1;
	}
}

static void *
accept_thread(void *arg)
{
	int lfd = (int)(intptr_t)arg;

	for (;;) {
		struct ucred cr;
		socklen_t crl = sizeof(cr);
		struct ipc *c = NULL;
		pthread_t t;
		int fd = control_accept(lfd, "control socket");

		if (fd < 0)
			break;
		/* Only root (or the agent's own user) may talk to the agent. */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) != 0 ||
		    (cr.uid != 0 && cr.uid != geteuid())) {
			close(fd);
			continue;
		}
		if (ipc_new(fd, &ctlmsg_to_agent, &ctlmsg_to_client, &c) != 0)
			continue;
		pthread_mutex_lock(&C.lock);
		if (C.clients >= MAX_CLIENTS) {
			static const char busy[] = "{\"ok\":false,\"error\":\"busy\"}";

			pthread_mutex_unlock(&C.lock);
			(void)ipc_send(c, CTLMSG_ANSWER, busy, sizeof(busy) - 1, -1,
				       clock_mono() + 1.0, NULL);
			ipc_free(c);
			continue;
		}
		C.clients++;
		pthread_mutex_unlock(&C.lock);
		if (pthread_create(&t, NULL, client_thread, c) != 0) {
			ipc_free(c);
			pthread_mutex_lock(&C.lock);
			C.clients--;
			pthread_mutex_unlock(&C.lock);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

int
control_start(const struct agent_config *c)
{
	pthread_t t;
	int lfd;

	C.cfg = c;
	control_set_max_filesize(c->max_filesize);
	lfd = listen_socket();
	if (lfd < 0)
		return -1;
	if (pthread_create(&t, NULL, accept_thread, (void *)(intptr_t)lfd) != 0) {
		close(lfd);
		return -1;
	}
	pthread_detach(t);
	return 0;
}

void
control_set_max_filesize(uint64_t max)
{
	__atomic_store_n(&C.max_filesize, max, __ATOMIC_RELAXED);
}

const char *
control_socket_path(void)
{
	return C.sock_path;
}

void
control_stop(void)
{
	if (C.sock_path[0] != '\0')
		(void)unlink(C.sock_path);
}
