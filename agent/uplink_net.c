/*
 * uplink_net: the uplink process.  See uplink_net.h.
 *
 * Must hold: it is confined before it reads its first byte (even the
 * worker's); every answer of the server is checked here as the fleet
 * protocol says (checkin_answer_check, the enrollment's formats) before
 * it becomes a typed message, and the worker checks it again; the
 * credential it is given for a call is wiped after the call; a message
 * from the worker outside the protocol ends the process.
 */
#include "agent/uplink_net.h"
#include "agent/config.h"
#include "agent/curlso.h"
#include "agent/proctab.h"
#include "util/sandbox.h"
#include "agent/uplink_fetch.h"
#include "proto/checkin.h"
#include "proto/jcheck.h"
#include "proto/upmsg.h"
#include "scan/except.h"
#include "util/answer.h"
#include "util/ipc.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_ANSWER UPMSG_MAX_EXCEPTIONS
#define NOCRED ""

/* One channel and the connection that serves it. */
struct conn {
	struct ipc *ch;
	CURL *curl;
	const char *url; /* server.url */
};

#ifdef WARD_FAULT_INJECTION
/* Test builds only: WARD_FAULT_UPLINK=answer-range makes the uplink answer
 * a check-in with a number out of the protocol's range, =bundle-swap hand
 * over a bundle whose last byte is not the server's, =enrolled-bad an
 * enrollment whose secret is not hex, =failed-200 every request with a
 * "failure" of status 200, =write-outside:PATH try to create PATH at its
 * first request — as an uplink taken over through a TLS or JSON bug
 * would. */
static const char *fault;

static int
fault_is(const char *what)
{
	return fault != NULL && strcmp(fault, what) == 0;
}
#endif

static int
confine(const char *user)
{
	static const int allowed[] = {
	    /* its channels, the sockets to the server, the resolver */
	    SCMP_SYS(read),
	    SCMP_SYS(write),
	    SCMP_SYS(readv),
	    SCMP_SYS(writev),
	    SCMP_SYS(close),
	    SCMP_SYS(recvmsg),
	    SCMP_SYS(sendmsg),
	    SCMP_SYS(recvfrom),
	    SCMP_SYS(sendto),
	    SCMP_SYS(sendmmsg),
	    SCMP_SYS(recvmmsg),
	    SCMP_SYS(connect),
	    SCMP_SYS(bind),
	    SCMP_SYS(shutdown),
	    SCMP_SYS(socketpair),
	    SCMP_SYS(pipe2),
	    SCMP_SYS(eventfd2),
	    SCMP_SYS(getsockopt),
	    SCMP_SYS(setsockopt),
	    SCMP_SYS(getsockname),
	    SCMP_SYS(getpeername),
	    SCMP_SYS(poll),
	    SCMP_SYS(ppoll),
	    SCMP_SYS(uname),
	    /* files: the resolver's and the CA store's (read-only), the part
	     * file the worker hands over, the bundle's memory file */
	    SCMP_SYS(fstat),
	    SCMP_SYS(newfstatat),
	    SCMP_SYS(statx),
	    SCMP_SYS(lseek),
	    SCMP_SYS(pread64),
	    SCMP_SYS(ftruncate),
	    SCMP_SYS(memfd_create),
	    SCMP_SYS(faccessat),
	    SCMP_SYS(faccessat2),
	    SCMP_SYS(access),
	    /* sleeping (its threads), who it is (libc asks) */
	    SCMP_SYS(clock_getres),
	    SCMP_SYS(clock_nanosleep),
	    SCMP_SYS(nanosleep),
	    SCMP_SYS(getuid),
	    SCMP_SYS(geteuid),
	    SCMP_SYS(getgid),
	    SCMP_SYS(getegid),
	};
	static const int fcntls[] = {F_GETFL,	      F_SETFL,	   F_GETFD,    F_SETFD,
				     F_DUPFD_CLOEXEC, F_ADD_SEALS, F_GET_SEALS};
	static const unsigned long ioctls[] = {FIONREAD};
	/* the server (IPv4, IPv6), the resolver's route lookup (netlink) and
	 * local name services (nscd, systemd-resolved: Unix sockets) */
	static const int domains[] = {AF_INET, AF_INET6, AF_NETLINK, AF_UNIX};
	const struct sandbox_extra x = {
	    .threads = 1,
	    .open_read = 1,
	    .fcntl = fcntls,
	    .nfcntl = sizeof(fcntls) / sizeof(fcntls[0]),
	    .ioctl = ioctls,
	    .nioctl = sizeof(ioctls) / sizeof(ioctls[0]),
	    .domains = domains,
	    .ndomains = sizeof(domains) / sizeof(domains[0]),
	};
	struct agent_config c;
	int r;

	/* Its row's limits: no core of a process that held a credential, few
	 * descriptors, no file larger than a bundle. */
	config_defaults(&c);
	if ((r = proctab_apply_limits(PROC_UPLINK, &c)) != 0)
		return r;
	return sandbox_enter_extra(user, allowed, sizeof(allowed) / sizeof(allowed[0]), &x);
}

/* --- answers to the worker ------------------------------------------------- */

/* Sends a message of type with w's payload and fd beside it (-1: none);
 * 0, or -1 when the worker is gone. */
static int
reply(struct conn *c, enum upmsg_type type, struct wbuf *w, int fd)
{
	struct ward_diag d;
	int r = w->err ? WARD_ENOMEM : ipc_send(c->ch, type, w->p, w->len, fd, IPC_FOREVER, &d);

	if (w->p != NULL) /* an enrollment's holds the secret */
		OPENSSL_cleanse(w->p, w->len);
	wbuf_free(w);
	return r == 0 ? 0 : -1;
}

static int
reply_failed(struct conn *c, long status, const char *error)
{
	struct upmsg_failed f;
	struct wbuf w;

	memset(&f, 0, sizeof(f));
	f.status = status > 0 && upmsg_failure_status((unsigned)status) ? (unsigned)status : 0;
	snprintf(f.error, sizeof(f.error), "%s", error[0] != '\0' ? error : "no answer");
	wbuf_init(&w);
	upmsg_failed_encode(&w, &f);
	return reply(c, UPMSG_FAILED, &w, -1);
}

/* --- calls to the server --------------------------------------------------- */

/*
 * POSTs body[0..len) to the server's path, with the credential cred ("":
 * none).  Returns the HTTP status (0 when the server could not be
 * reached), *resp its JSON answer or NULL, and err why it failed (the
 * server's words escaped).
 */
static long
post(struct conn *c, const char *path, const uint8_t *body, size_t len, const char *cred,
     json_t **resp, char *err, size_t errlen)
{
	struct curl_slist *h = NULL, *i;
	struct answer a = {NULL, 0, MAX_ANSWER};
	char url[UPMSG_MAX_URL + 64], bearer[UPMSG_MAX_CRED + 40], cerr[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode rc;

	*resp = NULL;
	err[0] = '\0';
	snprintf(url, sizeof(url), "%s%s", c->url, path);
	h = curlso.slist_append(h, "Content-Type: application/json");
	if (cred[0] != '\0') {
		snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", cred);
		h = curlso.slist_append(h, bearer);
		OPENSSL_cleanse(bearer, sizeof(bearer));
	}
	curlso.easy_setopt(c->curl, CURLOPT_URL, url);
	curlso.easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	curlso.easy_setopt(c->curl, CURLOPT_POSTFIELDS, (const char *)body);
	curlso.easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)len);
	curlso.easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, answer_write);
	curlso.easy_setopt(c->curl, CURLOPT_WRITEDATA, &a);
	curlso.easy_setopt(c->curl, CURLOPT_ERRORBUFFER, cerr);
	rc = curlso.easy_perform(c->curl);
	if (rc == CURLE_OK)
		curlso.easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	else
		snprintf(err, errlen, "%s: %s", c->url, cerr[0] ? cerr : curlso.easy_strerror(rc));
	if (a.p != NULL)
		*resp = json_loads(a.p, 0, NULL);
	if (code != 0 && code != 200) { /* the server's words, made safe to log and show */
		const char *e = json_string_value(json_object_get(*resp, "error"));
		char safe[300];

		jcheck_escape(e != NULL ? e : "?", safe, sizeof(safe));
		snprintf(err, errlen, "the server answered %ld: %s", code, safe);
	}
	curlso.easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curlso.easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
	for (i = h; i != NULL; i = i->next) /* copies of the credential */
		OPENSSL_cleanse(i->data, strlen(i->data));
	curlso.slist_free_all(h);
	free(a.p);
	return code;
}

static int
do_enroll(struct conn *c, const uint8_t *body, size_t len)
{
	char err[UPMSG_MAX_ERROR + 1];
	struct upmsg_enrolled e;
	json_t *resp = NULL;
	const char *id, *sec, *how;
	struct wbuf w;
	long code;
	int r;

	code = post(c, "/api/v1/enroll", body, len, NOCRED, &resp, err, sizeof(err));
	id = json_string_value(json_object_get(resp, "agent_id"));
	sec = json_string_value(json_object_get(resp, "secret"));
	how = json_string_value(json_object_get(resp, "how"));
	/* Formats, not lengths: they go into a header line, a file and the log. */
	if ((code != 200 && code != 202) || !jcheck_hex(id, UPMSG_ID_LEN) ||
	    !jcheck_hex(sec, UPMSG_SECRET_LEN)) {
		json_decref(resp);
		if (code == 200 || code == 202)
			return reply_failed(c, 0, "the server's enrollment answer is malformed");
		return reply_failed(c, code, err);
	}
	memset(&e, 0, sizeof(e));
	e.status = (unsigned)code;
	memcpy(e.agent_id, id, UPMSG_ID_LEN);
	memcpy(e.secret, sec, UPMSG_SECRET_LEN);
	jcheck_escape(how != NULL ? how : "?", e.how, sizeof(e.how));
#ifdef WARD_FAULT_INJECTION
	if (fault_is("enrolled-bad"))
		memcpy(e.secret, "../../etc/passwd", 16);
#endif
	json_decref(resp);
	wbuf_init(&w);
	upmsg_enrolled_encode(&w, &e);
	OPENSSL_cleanse(&e, sizeof(e));
	r = reply(c, UPMSG_ENROLLED, &w, -1);
	return r;
}

static int
do_checkin(struct conn *c, const char *cred, const uint8_t *body, size_t len)
{
	char err[UPMSG_MAX_ERROR + 1];
	struct upmsg_exceptions exc;
	struct checkin_answer ans;
	struct ward_diag d;
	json_t *resp = NULL;
	struct wbuf w, x;
	long code;
	int r, fd = -1;

	code = post(c, "/api/v1/checkin", body, len, cred, &resp, err, sizeof(err));
	if (code != 200) {
		json_decref(resp);
		return reply_failed(c, code, err);
	}
	if (checkin_answer_check(resp, &ans, &d) != 0) {
		/* a server that answers outside the protocol: a failed check-in */
		json_decref(resp);
		snprintf(err, sizeof(err), "the server's check-in answer: %s", d.msg);
		return reply_failed(c, 502, err);
	}
	json_decref(resp);
	/* The fleet's exceptions, read here (the worker parses no JSON of
	 * the server's): the list compiled, or the refusal with its reason. */
	memset(&exc, 0, sizeof(exc));
	if (ans.exceptions != NULL) {
		diag_clear(&d);
		if (except_fleet_parse(ans.exceptions, &exc.revision, &exc.list, &d) == 0) {
			exc.state = UPMSG_EXC_LIST;
		} else {
			exc.state = UPMSG_EXC_REFUSED;
			jcheck_escape(d.msg, exc.reason, sizeof(exc.reason));
		}
	}
#ifdef WARD_FAULT_INJECTION
	if (fault_is("answer-range"))
		ans.events_acked = -1;
#endif
	wbuf_init(&w);
	upmsg_answer_encode(&w, &ans);
	checkin_answer_free(&ans);
	wbuf_init(&x);
	upmsg_exceptions_encode(&x, &exc);
	upmsg_exceptions_free(&exc);
	if (x.err || x.len > UPMSG_MAX_EXCEPTIONS ||
	    ipc_memfd_new("ward-exceptions", x.p, x.len, &fd) != 0) {
		wbuf_free(&w);
		wbuf_free(&x);
		return reply_failed(c, 502, "the server's fleet exceptions are too large");
	}
	wbuf_free(&x);
	r = reply(c, UPMSG_ANSWER, &w, fd);
	close(fd);
	return r;
}

static int
do_events(struct conn *c, const char *cred, const uint8_t *body, size_t len)
{
	char err[UPMSG_MAX_ERROR + 1];
	json_t *resp = NULL, *acked;
	struct wbuf w;
	long code;

	code = post(c, "/api/v1/events", body, len, cred, &resp, err, sizeof(err));
	acked = json_object_get(resp, "acked");
	if (code != 200 || !json_is_integer(acked) || json_integer_value(acked) < 0) {
		json_decref(resp);
		return reply_failed(c, code == 200 ? 502 : code,
				    code == 200 ? "the server's acknowledgement is malformed"
						: err);
	}
	wbuf_init(&w);
	upmsg_acked_encode(&w, (int64_t)json_integer_value(acked));
	json_decref(resp);
	return reply(c, UPMSG_ACKED, &w, -1);
}

#ifdef WARD_FAULT_INJECTION
/* bundle-swap: the same bytes but the last, in a new memory file. */
static void
fault_swap(int *mfd, uint64_t size)
{
	const uint8_t *p = NULL;
	uint8_t *q;
	int m;

	if (!fault_is("bundle-swap") || ipc_memfd_map(*mfd, (size_t)size, &p) != 0)
		return;
	if ((q = malloc((size_t)size)) != NULL) {
		memcpy(q, p, (size_t)size);
		q[size - 1] ^= 1;
		if (ipc_memfd_new("ward-bundle", q, (size_t)size, &m) == 0) {
			close(*mfd);
			*mfd = m;
		}
		free(q);
	}
	ipc_memfd_unmap(p, (size_t)size);
}
#endif

static int
do_fetch(struct conn *c, const struct upmsg_call *call, int part)
{
	char err[UPMSG_MAX_ERROR + 1], bearer[UPMSG_MAX_CRED + 40];
	struct upmsg_bundle b;
	struct wbuf w;
	int r, mfd = -1;

	snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", call->cred);
	r = uplink_fetch(c->curl, c->url, part, bearer, &call->target, &mfd, err, sizeof(err));
	OPENSSL_cleanse(bearer, sizeof(bearer));
	if (r != 0)
		return reply_failed(c, 0, err);
#ifdef WARD_FAULT_INJECTION
	fault_swap(&mfd, call->target.size);
#endif
	memset(&b, 0, sizeof(b));
	b.size = call->target.size;
	memcpy(b.sha256, call->target.sha256, sizeof(b.sha256));
	wbuf_init(&w);
	upmsg_bundle_encode(&w, &b);
	r = reply(c, UPMSG_BUNDLE, &w, mfd);
	close(mfd);
	return r;
}

/* One request of the worker: 0 served (whatever the server said), -1 the
 * channel is done. */
static int
serve_one(struct conn *c, const struct ipc_msg *m)
{
	struct upmsg_call call;
	struct ward_diag d;
	const uint8_t *body = NULL;
	int r = -1;

	if (m->type != UPMSG_ENROLL && upmsg_call_decode(m, &call, &d) != 0)
		return -1;
#ifdef WARD_FAULT_INJECTION
	if (fault != NULL && strncmp(fault, "write-outside:", 14) == 0) {
		int fd = open(fault + 14, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		if (fd >= 0)
			close(fd);
	}
	if (fault_is("failed-200")) { /* raw: the encoder would not write it */
		struct wbuf w;

		wbuf_init(&w);
		wbuf_u16(&w, 200);
		wbuf_lenbytes(&w, "ok", 2);
		return reply(c, UPMSG_FAILED, &w, -1);
	}
#endif
	if (m->type == UPMSG_ENROLL)
		memset(&call, 0, sizeof(call));
	if (m->type != UPMSG_FETCH && ipc_memfd_map(m->fd, (size_t)m->fd_size, &body) != 0)
		return reply_failed(c, 0, "cannot map the request");
	switch (m->type) {
	case UPMSG_ENROLL:
		r = do_enroll(c, body, (size_t)m->fd_size);
		break;
	case UPMSG_CHECKIN:
		r = do_checkin(c, call.cred, body, (size_t)m->fd_size);
		break;
	case UPMSG_EVENTS:
		r = do_events(c, call.cred, body, (size_t)m->fd_size);
		break;
	case UPMSG_FETCH:
		r = do_fetch(c, &call, m->fd);
		break;
	default:
		break; /* a second setup: outside the protocol */
	}
	if (body != NULL)
		ipc_memfd_unmap(body, (size_t)m->fd_size);
	OPENSSL_cleanse(&call, sizeof(call));
	ipc_msg_wipe((struct ipc_msg *)m); /* the credential */
	return r;
}

/* Serves one channel until the worker closes it. */
static void *
serve(void *arg)
{
	struct conn *c = arg;
	struct ipc_msg m;
	struct ward_diag d;
	char msg[700];
	int r;

	for (;;) {
		diag_clear(&d);
		r = ipc_recv(c->ch, IPC_FOREVER, &m, &d);
		if (r == WARD_EPROTO) {
			ipc_attack_text(&d, msg, sizeof(msg));
			fprintf(stderr, "wardd uplink: %s\n", msg);
		}
		if (r != 0)
			break;
		r = serve_one(c, &m);
		ipc_msg_close(&m);
		if (r != 0)
			break;
	}
	/* One channel done: the worker is gone or broke the protocol; the
	 * other channel must not outlive it. */
	_exit(0);
	return NULL;
}

static CURL *
new_curl(const uint8_t *ca, size_t calen)
{
	CURL *h = curlso.easy_init();

	if (h == NULL)
		return NULL;
	if (calen > 0) {
		struct curl_blob blob = {(void *)ca, calen, CURL_BLOB_COPY};

		curlso.easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	}
	curlso.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curlso.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curlso.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curlso.easy_setopt(h, CURLOPT_TIMEOUT, (long)UPLINK_CALL_TIMEOUT_S);
	curlso.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curlso.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	return h;
}

int
uplink_net_main(const char *user)
{
	static struct upmsg_setup setup;
	struct conn poll_c = {0}, calls_c = {0};
	const uint8_t *ca = NULL;
	struct ipc_msg m;
	struct ward_diag d;
	pthread_t t;
	int r;

	/* Started through /proc/self/exe ("exe"): named for ps and top. */
	(void)prctl(PR_SET_NAME, "wardd-uplink");
#ifdef WARD_FAULT_INJECTION
	fault = getenv("WARD_FAULT_UPLINK");
#endif
	if (ipc_new(UPLINK_FD_POLL, &upmsg_to_uplink, &upmsg_to_worker, &poll_c.ch) != 0 ||
	    ipc_new(UPLINK_FD_CALLS, &upmsg_to_uplink, &upmsg_to_worker, &calls_c.ch) != 0)
		return 2;
	/* Before the sandbox: libcurl is opened here (only this process maps
	 * it), and OpenSSL reads its configuration file. */
	{
		char why[300];

		if (curlso_open(why, sizeof(why)) != 0) {
			fprintf(stderr, "wardd uplink: %s\n", why);
			return 2;
		}
	}
	if (curlso.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 2;
	if ((r = confine(user)) != 0) {
		fprintf(stderr, "wardd uplink: cannot set up the sandbox: %s\n", strerror(-r));
		return 2;
	}
	r = ipc_recv(poll_c.ch, IPC_FOREVER, &m, &d);
	if (r != 0 || upmsg_setup_decode(&m, &setup, &d) != 0 ||
	    ipc_memfd_map(m.fd, (size_t)m.fd_size, &ca) != 0) {
		fprintf(stderr, "wardd uplink: no setup from the worker: %s\n", d.msg);
		return 2;
	}
	poll_c.url = calls_c.url = setup.url;
	poll_c.curl = new_curl(ca, (size_t)m.fd_size);
	calls_c.curl = new_curl(ca, (size_t)m.fd_size);
	ipc_memfd_unmap(ca, (size_t)m.fd_size);
	ipc_msg_close(&m);
	if (poll_c.curl == NULL || calls_c.curl == NULL ||
	    pthread_create(&t, NULL, serve, &calls_c) != 0) {
		fprintf(stderr, "wardd uplink: cannot start libcurl\n");
		return 2;
	}
	serve(&poll_c);
	return 0;
}
