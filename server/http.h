/*
 * http: ward-server's HTTP/1.1 over TLS (libmicrohttpd).
 *
 * A request is admitted before a byte of its body is read: once its
 * headers are in, the admit callback routes and authenticates it and says
 * how large its body may be; a refused request (unknown call, no or wrong
 * credentials, Content-Length over the call's limit) is answered at once
 * and its body never read.  Admitted bodies are read whole, up to their
 * limit, within a budget of limits.buffer_mb for all requests together
 * (past it: 503, try again).  Connections are limited in all
 * (limits.max_connections) and per client address
 * (limits.per_ip_connections); a request must arrive whole — TLS
 * handshake, headers and body — within limits.request_s of its
 * connection opening or of the previous answer (plus time for a large
 * admitted body at HTTP_MIN_UPLOAD_BPS), or its connection is cut: a client
 * trickling bytes cannot hold a connection for long.  Requests run on
 * limits.threads threads, and every request is one JSON line on stderr
 * (time, method, path, status, duration, who, peer), its path escaped.
 */
#ifndef WARD_SERVER_HTTP_H
#define WARD_SERVER_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "server/config.h"
#include "util/err.h"

struct MHD_Connection;

/* Bodies admitted as large as this get this much more time to arrive
 * per byte: an upload must go at least this fast. */
#define HTTP_MIN_UPLOAD_BPS (64 * 1024)

struct http_req {
	const char *method;
	const char *path;
	const char *peer; /* the client's address, as text */
	const char *body; /* NUL-terminated copy; len bytes */
	size_t len;
	const char *authorization; /* header value or NULL */
	const char *range;	   /* header value or NULL */
	struct MHD_Connection *conn;
	int resumed;		   /* called again after a hold */
	long long remaining_ms;	   /* of the first hold's time (when resumed) */
	void *call;		   /* what admit made of the request, or NULL */
};

struct http_resp {
	int status;
	json_t *json; /* body (taken), or */
	int fd;	      /* a file's bytes [off, off + len) of total (fd taken), -1 if none */
	uint64_t off, len, total;
	char who[80]; /* for the log line: agent id or token name */
	int retry_after_s; /* with 503 and 429: a Retry-After header */
	/* Or: answer later.  The request is held (its connection set
	 * aside, no thread kept) for up to hold_ms, then the handler is
	 * called again with resumed set — sooner if http_wake() says so. */
	long long hold_ms;
};

/*
 * Admission, with the request's headers (q->body is NULL): content_length
 * is the announced body size (-1: not announced, chunked).  Returns the
 * most bytes the body may have, having set *call (ward_malloc'd, freed by
 * http when the request ends; it reaches the handler as q->call); or
 * refuses the request by setting r->status (and r->json) — then no byte
 * of the body is read.
 */
typedef size_t (*http_admit)(void *ctx, const struct http_req *q, long long content_length,
			     struct http_resp *r, void **call);
/* The answer, with the whole body. */
typedef void (*http_handler)(void *ctx, const struct http_req *q, struct http_resp *r);

/* Starts serving c->listen with c's certificate.  0, or an error with d. */
int http_start(const struct server_config *c, http_admit admit, http_handler handler, void *ctx,
	       struct ward_diag *d);
void http_stop(void);

/* Takes the settings of c that can change while serving (limits.request_s,
 * limits.buffer_mb). */
void http_reconfigure(const struct server_config *c);

/* Cuts the connections of clients too slow to send a request (see the
 * top); called about every second. */
void http_reap(void);

/* in with bytes other than printable ASCII written as \xHH, and cut to
 * fit out (outlen > 4): for log lines and the audit log. */
void http_escape(const char *in, char *out, size_t outlen);

/* Hands held requests back to their handler: all of them (something
 * they wait for may have changed), or only those whose time is up. */
void http_wake(int all);

/* A query argument of q, or NULL. */
const char *http_arg(const struct http_req *q, const char *name);

/* Sets r to status with {"error": msg}. */
void http_error(struct http_resp *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
