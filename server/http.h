/*
 * http: ward-server's HTTP/1.1 over TLS (libmicrohttpd).  Bodies are read
 * whole up to limits.max_body_kb (larger ones get 413 without reaching a
 * handler), idle connections close after limits.timeout_s, requests run
 * on limits.threads threads, and every request is one JSON line on
 * stderr (time, method, path, status, duration, who).
 */
#ifndef WARD_SERVER_HTTP_H
#define WARD_SERVER_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "server/config.h"
#include "util/err.h"

struct MHD_Connection;

struct http_req {
	const char *method;
	const char *path;
	const char *body; /* NUL-terminated copy; len bytes */
	size_t len;
	const char *authorization; /* header value or NULL */
	const char *range;	   /* header value or NULL */
	struct MHD_Connection *conn;
	int resumed;		   /* called again after a hold */
	long long remaining_ms;	   /* of the first hold's time (when resumed) */
};

struct http_resp {
	int status;
	json_t *json; /* body (taken), or */
	int fd;	      /* a file's bytes [off, off + len) of total (fd taken), -1 if none */
	uint64_t off, len, total;
	char who[80]; /* for the log line: agent id or token name */
	/* Or: answer later.  The request is held (its connection set
	 * aside, no thread kept) for up to hold_ms, then the handler is
	 * called again with resumed set — sooner if http_wake() says so. */
	long long hold_ms;
};

typedef void (*http_handler)(void *ctx, const struct http_req *q, struct http_resp *r);

/* Starts serving c->listen with c's certificate; handler gets every
 * request.  0, or an error with d. */
int http_start(const struct server_config *c, http_handler handler, void *ctx,
	       struct ward_diag *d);
void http_stop(void);

/* Hands held requests back to their handler: all of them (something
 * they wait for may have changed), or only those whose time is up. */
void http_wake(int all);

/* A query argument of q, or NULL. */
const char *http_arg(const struct http_req *q, const char *name);

/* Sets r to status with {"error": msg}. */
void http_error(struct http_resp *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
