/*
 * http: libmicrohttpd glue.  See http.h.
 *
 * Must hold: no byte of a body is read before its request is admitted
 * (route, credentials, size); a body is never buffered past its admitted
 * size nor past the server's buffer budget; every request gets exactly one
 * response; handlers see only complete bodies; a connection that is not
 * answering or held is cut once its request's time is up.
 */
#include "server/http.h"
#include "util/log.h"
#include "proto/jcheck.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/file.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* One TCP connection (libmicrohttpd's socket context). */
struct conninfo {
	int fd;
	char peer[64];
	double deadline; /* its current request must have arrived by then */
	int exempt;	 /* answering, or held: not waiting for the client */
	int cut;
	struct conninfo *prev, *next;
};

struct reqstate {
	char *buf;
	size_t len, cap, max;
	size_t reserved; /* of the buffer budget */
	void *call;
	struct conninfo *ci;
	double t0;
	/* While held (H.lock). */
	struct MHD_Connection *conn;
	int held, was_held;
	double deadline;
	struct reqstate *prev, *next;
};

static struct {
	pthread_mutex_t lock; /* held, conns, buffered */
	struct reqstate *held;
	struct conninfo *conns;
	size_t buffered, budget;
	double request_s;
	struct MHD_Daemon *d;
	http_admit admit;
	http_handler handler;
	void *ctx;
	char *cert, *key;
	int stopping;
} H = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void
unhold_locked(struct reqstate *s)
{
	if (!s->held)
		return;
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		H.held = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	s->held = 0;
}

void
http_wake(int all)
{
	double now = clock_mono();
	struct MHD_Connection **conns = NULL;
	size_t n = 0, cap = 0, i;
	struct reqstate *s, *next;

	/* Collected under the lock, resumed outside it (MHD has locks of its
	 * own, taken around our callbacks). */
	pthread_mutex_lock(&H.lock);
	for (s = H.held; s != NULL; s = next) {
		next = s->next;
		if ((all || now >= s->deadline) &&
		    ward_grow(&conns, &cap, n + 1, sizeof(*conns)) == 0) {
			unhold_locked(s);
			conns[n++] = s->conn;
		}
	}
	pthread_mutex_unlock(&H.lock);
	for (i = 0; i < n; i++)
		MHD_resume_connection(conns[i]);
	ward_free(conns);
}

void
http_error(struct http_resp *r, int status, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(r->json);
	r->status = status;
	r->json = json_pack("{s:s}", "error", msg);
}

const char *
http_arg(const struct http_req *q, const char *name)
{
	if (q->conn == NULL) /* a request made up by a test */
		return NULL;
	return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* libmicrohttpd's own messages (MHD_OPTION_EXTERNAL_LOGGER). */
static void
log_mhd(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	log_vline(0, NULL, fmt, ap);
}

static void
log_request(const char *method, const char *url, int status, double ms, const char *who,
	    const char *peer)
{
	char ts[LOG_STAMP_SIZE], m[40], path[600];
	json_t *o;
	char *text;

	log_stamp(ts);
	jcheck_escape(method, m, sizeof(m));
	jcheck_escape(url, path, sizeof(path));
	o = json_pack("{s:s, s:s, s:s, s:i, s:f, s:s, s:s}", "@timestamp", ts, "method", m, "path",
		      path, "status", status, "ms", ms, "who", who, "peer", peer);
	text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	if (text != NULL)
		fprintf(stderr, "%s\n", text);
	free(text);
	json_decref(o);
}

static enum MHD_Result
respond(struct MHD_Connection *conn, struct http_resp *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ok;

	if (r->fd >= 0) {
		resp = MHD_create_response_from_fd_at_offset64(r->len, r->fd, (int64_t)r->off);
		if (resp != NULL) {
			MHD_add_response_header(resp, "Content-Type", "application/octet-stream");
			MHD_add_response_header(resp, "Accept-Ranges", "bytes");
			if (r->status == MHD_HTTP_PARTIAL_CONTENT) {
				char cr[96];

				snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
					 (unsigned long long)r->off,
					 (unsigned long long)(r->off + r->len - 1),
					 (unsigned long long)r->total);
				MHD_add_response_header(resp, "Content-Range", cr);
			}
		} else {
			close(r->fd);
		}
	} else {
		char *text = r->json != NULL ? json_dumps(r->json, JSON_COMPACT) : NULL;

		if (text == NULL)
			text = strdup("{}");
		resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
		if (resp != NULL)
			MHD_add_response_header(resp, "Content-Type", "application/json");
		else
			free(text);
		if (resp != NULL && r->retry_after_s > 0) {
			char ra[16];

			snprintf(ra, sizeof(ra), "%d", r->retry_after_s);
			MHD_add_response_header(resp, "Retry-After", ra);
		}
	}
	json_decref(r->json);
	r->json = NULL;
	if (resp == NULL)
		return MHD_NO;
	ok = MHD_queue_response(conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ok;
}

static struct conninfo *
conninfo_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

/* The body size the client announced: -1 if none (chunked), -2 if the
 * header is malformed. */
static long long
content_length(struct MHD_Connection *conn)
{
	const char *v =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n = 0;
	size_t i;

	if (v == NULL)
		return MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						   MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL
			   ? -1
			   : 0;
	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] < '0' || v[i] > '9' || n > (1ull << 50))
			return -2;
		n = n * 10 + (unsigned)(v[i] - '0');
	}
	return i > 0 ? (long long)n : -2;
}

static void
fill_req(struct http_req *q, struct MHD_Connection *conn, const char *method, const char *url,
	 const struct reqstate *s)
{
	memset(q, 0, sizeof(*q));
	q->method = method;
	q->path = url;
	q->peer = s->ci != NULL ? s->ci->peer : "-";
	q->authorization =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	q->range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
	q->conn = conn;
	q->call = s->call;
}

/* The answer goes out now: the connection waits for no client bytes. */
static enum MHD_Result
answer(struct MHD_Connection *conn, struct reqstate *s, const char *method, const char *url,
       struct http_resp *r)
{
	if (s->ci != NULL) {
		pthread_mutex_lock(&H.lock);
		s->ci->exempt = 1;
		pthread_mutex_unlock(&H.lock);
	}
	log_request(method, url, r->status, (clock_mono() - s->t0) * 1000, r->who[0] ? r->who : "-",
		    s->ci != NULL ? s->ci->peer : "-");
	return respond(conn, r);
}

/* The first call, with the headers: admit the request or answer now. */
static enum MHD_Result
admit(struct MHD_Connection *conn, struct reqstate *s, const char *method, const char *url)
{
	long long clen = content_length(conn);
	struct http_req q;
	struct http_resp r;
	size_t max, want;

	memset(&r, 0, sizeof(r));
	r.fd = -1;
	fill_req(&q, conn, method, url, s);
	if (clen == -2) {
		http_error(&r, 400, "malformed Content-Length");
		return answer(conn, s, method, url, &r);
	}
	max = H.admit(H.ctx, &q, clen, &r, &s->call);
	if (r.status == 0 && clen > 0 && (unsigned long long)clen > max)
		http_error(&r, 413,
			   "the request body is larger than %zu bytes (the limit of this call)",
			   max);
	if (r.status != 0)
		return answer(conn, s, method, url, &r);
	want = clen >= 0 ? (size_t)clen : max;
	pthread_mutex_lock(&H.lock);
	if (want > 0 && H.buffered + want > H.budget) {
		pthread_mutex_unlock(&H.lock);
		http_error(&r, 503, "the server is busy reading other requests: try again shortly");
		r.retry_after_s = 5;
		return answer(conn, s, method, url, &r);
	}
	H.buffered += want;
	s->reserved = want;
	if (s->ci != NULL) /* a large body gets the time to arrive at a fair rate */
		s->ci->deadline += (double)want / HTTP_MIN_UPLOAD_BPS;
	pthread_mutex_unlock(&H.lock);
	s->max = max;
	return MHD_YES;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct reqstate *s = *con_cls;
	struct http_req q;
	struct http_resp r;

	(void)cls;
	(void)version;
	if (s == NULL) {
		s = ward_calloc(1, sizeof(*s));
		if (s == NULL)
			return MHD_NO;
		s->t0 = clock_mono();
		s->ci = conninfo_of(conn);
		*con_cls = s;
		return admit(conn, s, method, url);
	}
	if (*upload_size != 0) {
		if (s->len + *upload_size > s->max) {
			/* More than was announced and admitted: no answer, the
			 * connection closes. */
			log_request(method, url, 413, (clock_mono() - s->t0) * 1000, "-",
				    s->ci != NULL ? s->ci->peer : "-");
			return MHD_NO;
		}
		if (ward_grow(&s->buf, &s->cap, s->len + *upload_size + 1, 1) != 0)
			return MHD_NO;
		memcpy(s->buf + s->len, upload, *upload_size);
		s->len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&r, 0, sizeof(r));
	r.fd = -1;
	r.status = 200;
	fill_req(&q, conn, method, url, s);
	q.body = s->buf != NULL ? s->buf : "";
	if (s->buf != NULL)
		s->buf[s->len] = '\0';
	q.len = s->len;
	q.resumed = s->was_held;
	q.remaining_ms = s->was_held ? (long long)((s->deadline - clock_mono()) * 1000) : 0;
	if (q.remaining_ms < 0)
		q.remaining_ms = 0;
	H.handler(H.ctx, &q, &r);
	if (r.hold_ms > 0 && r.json == NULL && r.fd < 0 &&
	    __atomic_load_n(&H.stopping, __ATOMIC_ACQUIRE)) {
		/* MHD must not stop with a request set aside: come back later. */
		http_error(&r, 503, "the server is stopping");
	} else if (r.hold_ms > 0 && r.json == NULL && r.fd < 0) {
		/* Suspended before the waker can see it: it is resumed once. */
		MHD_suspend_connection(conn);
		pthread_mutex_lock(&H.lock);
		if (!s->was_held)
			s->deadline = clock_mono() + (double)r.hold_ms / 1000;
		s->was_held = 1;
		s->held = 1;
		s->conn = conn;
		s->prev = NULL;
		s->next = H.held;
		if (H.held != NULL)
			H.held->prev = s;
		H.held = s;
		if (s->ci != NULL)
			s->ci->exempt = 1;
		pthread_mutex_unlock(&H.lock);
		return MHD_YES;
	}
	return answer(conn, s, method, url, &r);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct reqstate *s = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (s != NULL) {
		pthread_mutex_lock(&H.lock);
		unhold_locked(s);
		H.buffered -= s->reserved;
		if (s->ci != NULL) { /* the next request's time starts now */
			s->ci->exempt = 0;
			s->ci->deadline = clock_mono() + H.request_s;
		}
		pthread_mutex_unlock(&H.lock);
		ward_free(s->buf);
		ward_free(s->call);
		ward_free(s);
	}
	*con_cls = NULL;
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
	      enum MHD_ConnectionNotificationCode toe)
{
	struct conninfo *ci = *socket_context;

	(void)cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *addr =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

		if ((ci = ward_calloc(1, sizeof(*ci))) == NULL)
			return;
		ci->fd = fd != NULL ? fd->connect_fd : -1;
		snprintf(ci->peer, sizeof(ci->peer), "-");
		if (addr != NULL && addr->client_addr != NULL) {
			const struct sockaddr *sa = addr->client_addr;

			if (sa->sa_family == AF_INET)
				inet_ntop(AF_INET,
					  &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
					  ci->peer, sizeof(ci->peer));
			else if (sa->sa_family == AF_INET6)
				inet_ntop(
				    AF_INET6,
				    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
				    ci->peer, sizeof(ci->peer));
		}
		pthread_mutex_lock(&H.lock);
		ci->deadline = clock_mono() + H.request_s;
		ci->next = H.conns;
		if (H.conns != NULL)
			H.conns->prev = ci;
		H.conns = ci;
		pthread_mutex_unlock(&H.lock);
		*socket_context = ci;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && ci != NULL) {
		/* (MHD closes the socket after this: the reaper, holding the
		 * lock, never sees a reused descriptor.) */
		pthread_mutex_lock(&H.lock);
		if (ci->prev != NULL)
			ci->prev->next = ci->next;
		else
			H.conns = ci->next;
		if (ci->next != NULL)
			ci->next->prev = ci->prev;
		pthread_mutex_unlock(&H.lock);
		ward_free(ci);
		*socket_context = NULL;
	}
}

void
http_reap(void)
{
	double now = clock_mono();
	struct conninfo *ci;

	pthread_mutex_lock(&H.lock);
	for (ci = H.conns; ci != NULL; ci = ci->next) {
		if (ci->exempt || ci->cut || ci->fd < 0 || now < ci->deadline)
			continue;
		ci->cut = 1;
		(void)shutdown(ci->fd, SHUT_RDWR); /* MHD sees the end and closes it */
		log_info("cut off a slow client at %s: its request did not arrive within "
			 "limits.request_s (slow-client-cut)",
			 ci->peer);
	}
	pthread_mutex_unlock(&H.lock);
}

static int
parse_listen(const char *listen, struct sockaddr_storage *ss, struct ward_diag *d)
{
	char host[128];
	const char *colon = strrchr(listen, ':');
	long port;
	char *end;

	if (colon == NULL || (size_t)(colon - listen) >= sizeof(host))
		return diag_set(d, WARD_EINVAL, NULL, 0, 0, "listen must be ADDRESS:PORT");
	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return diag_set(d, WARD_EINVAL, NULL, 0, 0, "listen: bad port in %s", listen);
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *s6 = (void *)ss;

		host[strlen(host) - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return diag_set(d, WARD_EINVAL, NULL, 0, 0, "listen: bad address %s", host);
	} else {
		struct sockaddr_in *s4 = (void *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return diag_set(d, WARD_EINVAL, NULL, 0, 0,
					"listen: bad address %s (an IP address, or [IPv6])", host);
	}
	return 0;
}

static char *
read_text(const char *path, struct ward_diag *d)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char *s;

	if (file_read_all(path, 1 << 20, &buf, &len, d) != 0)
		return NULL;
	s = ward_malloc(len + 1);
	if (s != NULL) {
		memcpy(s, buf, len);
		s[len] = '\0';
	}
	ward_free(buf);
	return s;
}

int
http_start(const struct server_config *c, http_admit admitfn, http_handler handler, void *ctx,
	   struct ward_diag *d)
{
	struct sockaddr_storage ss;
	int r;

	if ((r = parse_listen(c->listen, &ss, d)) != 0)
		return r;
	H.admit = admitfn;
	H.handler = handler;
	H.ctx = ctx;
	H.budget = (size_t)c->buffer_mb << 20;
	H.request_s = (double)c->request_s;
	if ((H.cert = read_text(c->tls_cert, d)) == NULL ||
	    (H.key = read_text(c->tls_key, d)) == NULL)
		return WARD_EIO;
	{ /* A bind that fails says why (MHD only says it failed). */
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;

		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (fd >= 0 && bind(fd, (struct sockaddr *)&ss,
				    ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							     : sizeof(struct sockaddr_in)) != 0) {
			int e = errno;

			close(fd);
			return diag_set(d, WARD_EIO, NULL, 0, 0, "cannot listen on %s: %s",
					c->listen, strerror(e));
		}
		if (fd >= 0)
			close(fd);
	}
	H.d = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS | MHD_USE_ERROR_LOG |
		MHD_ALLOW_SUSPEND_RESUME | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	    0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_HTTPS_MEM_CERT, H.cert, MHD_OPTION_HTTPS_MEM_KEY, H.key,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)c->threads, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)c->timeout_s, MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)c->per_ip_connections,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, NULL, MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL, MHD_OPTION_END);
	if (H.d == NULL)
		return diag_set(d, WARD_EIO, NULL, 0, 0,
				"cannot serve on %s (in use? a bad certificate or key?)",
				c->listen);
	return 0;
}

void
http_reconfigure(const struct server_config *c)
{
	pthread_mutex_lock(&H.lock);
	H.budget = (size_t)c->buffer_mb << 20;
	H.request_s = (double)c->request_s;
	pthread_mutex_unlock(&H.lock);
}

void
http_stop(void)
{
	if (H.d != NULL) {
		__atomic_store_n(&H.stopping, 1, __ATOMIC_RELEASE);
		http_wake(1); /* MHD must not stop with requests set aside */
		usleep(200000);
		MHD_stop_daemon(H.d);
	}
	H.d = NULL;
	ward_free(H.cert);
	ward_free(H.key);
	H.cert = H.key = NULL;
}
