/*
 * Unit tests of upmsg, the uplink channel's messages: every message
 * round-trips through a real channel (with its memory file beside it);
 * what a subverted uplink could send the worker instead — a secret that
 * is not hex, an enrollment of status 201, an answer with a number out of
 * the fleet protocol's range, a desired state out of the enum, a target
 * without a digest or with a digest but no version, a reason beside an
 * accepted target, a failure of status 42 or with a control character, a
 * negative acknowledgement, a bundle whose size is not its memory file's,
 * trailing bytes — is refused with WARD_EPROTO and nothing is decoded;
 * frames that break the tables (an answer without its memory file, a
 * request sent to the worker) are refused by the channel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>

#include "proto/upmsg.h"
#include "util/clock.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* The worker's end (w) and the uplink's (u). */
static void
pair(struct ipc **w, struct ipc **u)
{
	int sv[2];

	assert_int_equal(ipc_pair(sv), 0);
	assert_int_equal(ipc_new(sv[0], &upmsg_to_worker, &upmsg_to_uplink, w), 0);
	assert_int_equal(ipc_new(sv[1], &upmsg_to_uplink, &upmsg_to_worker, u), 0);
}

/* Sends w's payload as type from `from` (with a memory file of text
 * beside it when text is not NULL, a plain file when it is "FILE") and
 * receives it at `to`. */
static void
send_recv(struct ipc *from, struct ipc *to, uint16_t type, struct wbuf *w, const char *text,
	  struct ipc_msg *m)
{
	struct ward_diag d;
	int fd = -1;

	assert_false(w->err);
	if (text != NULL && strcmp(text, "FILE") == 0) {
		char path[] = "/tmp/test_upmsg.XXXXXX";

		assert_true((fd = mkstemp(path)) >= 0);
		unlink(path);
	} else if (text != NULL) {
		assert_int_equal(ipc_memfd_new("t", text, strlen(text), &fd), 0);
	}
	assert_int_equal(ipc_send(from, type, w->p, w->len, fd, IPC_FOREVER, &d), 0);
	if (fd >= 0)
		close(fd);
	wbuf_free(w);
	assert_int_equal(ipc_recv(to, clock_mono() + 5, m, &d), 0);
}

/* A message of type with payload p[0..n) as the channel would pass it. */
static struct ipc_msg
frame(uint16_t type, const struct ipc_proto *rx, const void *p, size_t n, uint64_t fd_size)
{
	struct ipc_msg m;
	size_t i;

	memset(&m, 0, sizeof(m));
	m.fd = -1;
	m.type = type;
	m.p = p;
	m.len = n;
	m.fd_size = fd_size;
	for (i = 0; i < rx->nmsgs; i++)
		if (rx->msgs[i].type == type)
			m.def = &rx->msgs[i];
	return m;
}

static struct checkin_answer
offer(void)
{
	struct checkin_answer a;

	memset(&a, 0, sizeof(a));
	a.next_checkin_s = 30;
	a.events_acked = 12;
	a.checkin_interval_s = 60;
	a.events_batch_max = 500;
	a.desired_state = CHECKIN_DESIRED_OK;
	a.desired.version = 7;
	a.desired.size = 4096;
	strcpy(a.desired.sha256, SHA);
	return a;
}

static void
test_round_trips(void **state)
{
	struct upmsg_setup su = {"https://fleet.example:8443"}, su2;
	struct upmsg_call call, call2;
	struct upmsg_enrolled e, e2;
	struct upmsg_failed f = {503, "the server answered 503: busy"}, f2;
	struct upmsg_bundle b = {5, SHA}, b2;
	struct checkin_answer a = offer(), a2;
	struct ipc *w, *u;
	struct ipc_msg m;
	struct ward_diag d;
	struct wbuf buf;
	int64_t acked = 0;

	(void)state;
	pair(&w, &u);
	wbuf_init(&buf);
	upmsg_setup_encode(&buf, &su);
	send_recv(w, u, UPMSG_SETUP, &buf, "-----BEGIN CERTIFICATE-----", &m);
	assert_int_equal(upmsg_setup_decode(&m, &su2, &d), 0);
	assert_string_equal(su2.url, su.url);
	ipc_msg_close(&m);

	memset(&call, 0, sizeof(call));
	strcpy(call.cred, "abc:def");
	call.target = a.desired;
	wbuf_init(&buf);
	upmsg_call_encode(&buf, UPMSG_FETCH, &call);
	send_recv(w, u, UPMSG_FETCH, &buf, "FILE", &m); /* the part file beside it */
	assert_int_equal(upmsg_call_decode(&m, &call2, &d), 0);
	assert_string_equal(call2.cred, "abc:def");
	assert_int_equal(call2.target.version, 7);
	assert_int_equal(call2.target.size, 4096);
	assert_string_equal(call2.target.sha256, SHA);
	assert_string_equal(call2.target.url, DOWNLOAD_URL_PREFIX SHA);
	assert_true(m.fd >= 0);
	ipc_msg_close(&m);
	wbuf_init(&buf);
	upmsg_call_encode(&buf, UPMSG_CHECKIN, &call);
	send_recv(w, u, UPMSG_CHECKIN, &buf, "{\"mode\":\"protecting\"}", &m);
	assert_int_equal(upmsg_call_decode(&m, &call2, &d), 0);
	assert_int_equal(call2.target.version, 0);
	assert_int_equal(m.fd_size, strlen("{\"mode\":\"protecting\"}"));
	ipc_msg_close(&m);

	memset(&e, 0, sizeof(e));
	e.status = 202;
	memset(e.agent_id, 'a', UPMSG_ID_LEN);
	memset(e.secret, '5', UPMSG_SECRET_LEN);
	strcpy(e.how, "token");
	wbuf_init(&buf);
	upmsg_enrolled_encode(&buf, &e);
	send_recv(u, w, UPMSG_ENROLLED, &buf, NULL, &m);
	assert_int_equal(upmsg_enrolled_decode(&m, &e2, &d), 0);
	assert_memory_equal(&e, &e2, sizeof(e));

	wbuf_init(&buf);
	upmsg_failed_encode(&buf, &f);
	send_recv(u, w, UPMSG_FAILED, &buf, NULL, &m);
	assert_int_equal(upmsg_failed_decode(&m, &f2, &d), 0);
	assert_int_equal(f2.status, 503);
	assert_string_equal(f2.error, f.error);

	wbuf_init(&buf);
	upmsg_answer_encode(&buf, &a);
	send_recv(u, w, UPMSG_ANSWER, &buf, "", &m);
	assert_int_equal(upmsg_answer_decode(&m, &a2, &d), 0);
	assert_int_equal(a2.next_checkin_s, 30);
	assert_int_equal(a2.events_acked, 12);
	assert_int_equal(a2.checkin_interval_s, 60);
	assert_int_equal(a2.events_batch_max, 500);
	assert_int_equal(a2.desired_state, CHECKIN_DESIRED_OK);
	assert_int_equal(a2.desired.version, 7);
	assert_string_equal(a2.desired.url, DOWNLOAD_URL_PREFIX SHA);
	assert_null(a2.exceptions);
	assert_int_equal(m.fd_size, 0);
	ipc_msg_close(&m);
	/* refused content: a reason, no target */
	memset(&a.desired, 0, sizeof(a.desired));
	a.desired_state = CHECKIN_DESIRED_BAD;
	strcpy(a.desired_why, "\"sha256\" must be 64 lowercase hex digits");
	wbuf_init(&buf);
	upmsg_answer_encode(&buf, &a);
	send_recv(u, w, UPMSG_ANSWER, &buf, "{\"revision\":3,\"list\":[]}", &m);
	assert_int_equal(upmsg_answer_decode(&m, &a2, &d), 0);
	assert_int_equal(a2.desired_state, CHECKIN_DESIRED_BAD);
	assert_string_equal(a2.desired_why, a.desired_why);
	ipc_msg_close(&m);

	wbuf_init(&buf);
	upmsg_acked_encode(&buf, 99);
	send_recv(u, w, UPMSG_ACKED, &buf, NULL, &m);
	assert_int_equal(upmsg_acked_decode(&m, &acked, &d), 0);
	assert_int_equal(acked, 99);

	wbuf_init(&buf);
	upmsg_bundle_encode(&buf, &b);
	send_recv(u, w, UPMSG_BUNDLE, &buf, "bytes", &m);
	assert_int_equal(upmsg_bundle_decode(&m, &b2, &d), 0);
	assert_int_equal(b2.size, 5);
	assert_string_equal(b2.sha256, SHA);
	ipc_msg_close(&m);
	ipc_free(w);
	ipc_free(u);
}

/* The payload of an enrollment with these fields written raw. */
static void
raw_enrolled(struct wbuf *w, uint16_t status, const char *id, const char *secret)
{
	wbuf_init(w);
	wbuf_u16(w, status);
	wbuf_put(w, id, UPMSG_ID_LEN);
	wbuf_put(w, secret, UPMSG_SECRET_LEN);
	wbuf_u32(w, 0);
}

static void
test_enrollment_from_a_subverted_uplink(void **state)
{
	char id[UPMSG_ID_LEN + 1], secret[UPMSG_SECRET_LEN + 1];
	struct upmsg_enrolled e;
	struct ward_diag d;
	struct ipc_msg m;
	struct wbuf w;

	(void)state;
	memset(id, 'a', UPMSG_ID_LEN);
	id[UPMSG_ID_LEN] = '\0';
	memset(secret, '0', UPMSG_SECRET_LEN);
	secret[UPMSG_SECRET_LEN] = '\0';
	raw_enrolled(&w, 200, id, secret);
	m = frame(UPMSG_ENROLLED, &upmsg_to_worker, w.p, w.len, 0);
	assert_int_equal(upmsg_enrolled_decode(&m, &e, &d), 0);
	wbuf_free(&w);
	/* a secret that would end the header line, or walk a path */
	memcpy(secret, "../../etc/passwd\r\nX-Evil: 1", 27);
	raw_enrolled(&w, 200, id, secret);
	m = frame(UPMSG_ENROLLED, &upmsg_to_worker, w.p, w.len, 0);
	assert_int_equal(upmsg_enrolled_decode(&m, &e, &d), WARD_EPROTO);
	assert_string_equal(e.secret, "");
	wbuf_free(&w);
	memset(secret, '0', UPMSG_SECRET_LEN);
	id[3] = 'A'; /* upper case: not how ids are written */
	raw_enrolled(&w, 200, id, secret);
	m = frame(UPMSG_ENROLLED, &upmsg_to_worker, w.p, w.len, 0);
	assert_int_equal(upmsg_enrolled_decode(&m, &e, &d), WARD_EPROTO);
	wbuf_free(&w);
	id[3] = 'a';
	raw_enrolled(&w, 201, id, secret);
	m = frame(UPMSG_ENROLLED, &upmsg_to_worker, w.p, w.len, 0);
	assert_int_equal(upmsg_enrolled_decode(&m, &e, &d), WARD_EPROTO);
	wbuf_free(&w);
	/* decoded as another kind */
	raw_enrolled(&w, 200, id, secret);
	m = frame(UPMSG_ENROLLED, &upmsg_to_worker, w.p, w.len, 0);
	assert_int_equal(upmsg_acked_decode(&m, &(int64_t){0}, &d), WARD_EPROTO);
	wbuf_free(&w);
}

/* An answer's decode after mangle changed the offer. */
static int
answer_after(void (*mangle)(struct checkin_answer *))
{
	struct checkin_answer a = offer(), out;
	struct ward_diag d;
	struct ipc_msg m;
	struct wbuf w;
	int r;

	mangle(&a);
	wbuf_init(&w);
	upmsg_answer_encode(&w, &a);
	m = frame(UPMSG_ANSWER, &upmsg_to_worker, w.p, w.len, 0);
	r = upmsg_answer_decode(&m, &out, &d);
	if (r != 0) {
		assert_int_equal(out.desired.version, 0);
		assert_int_equal(out.events_acked, 0);
	}
	wbuf_free(&w);
	return r;
}

static void
keep(struct checkin_answer *a)
{
	(void)a;
}
static void
acked_negative(struct checkin_answer *a)
{
	a->events_acked = -1;
}
static void
next_too_late(struct checkin_answer *a)
{
	a->next_checkin_s = CHECKIN_MAX_INTERVAL_S + 1;
}
static void
batch_too_big(struct checkin_answer *a)
{
	a->events_batch_max = CHECKIN_MAX_BATCH + 1;
}
static void
interval_negative(struct checkin_answer *a)
{
	a->checkin_interval_s = -5;
}
static void
state_unknown(struct checkin_answer *a)
{
	a->desired_state = (enum checkin_desired)3;
}
static void
version_too_big(struct checkin_answer *a)
{
	a->desired.version = ((int64_t)1 << 53) + 1;
}
static void
size_zero(struct checkin_answer *a)
{
	a->desired.size = 0;
}
static void
size_too_big(struct checkin_answer *a)
{
	a->desired.size = ((uint64_t)1 << 30) + 1;
}
static void
sha_upper(struct checkin_answer *a)
{
	a->desired.sha256[0] = 'A';
}
static void
no_version_but_sha(struct checkin_answer *a)
{
	a->desired.version = 0;
	a->desired.size = 0;
}
static void
why_beside_target(struct checkin_answer *a)
{
	strcpy(a->desired_why, "but");
}
static void
bad_without_why(struct checkin_answer *a)
{
	memset(&a->desired, 0, sizeof(a->desired));
	a->desired_state = CHECKIN_DESIRED_BAD;
}
static void
none_with_target(struct checkin_answer *a)
{
	a->desired_state = CHECKIN_DESIRED_NONE;
}
static void
why_with_newline(struct checkin_answer *a)
{
	memset(&a->desired, 0, sizeof(a->desired));
	a->desired_state = CHECKIN_DESIRED_BAD;
	strcpy(a->desired_why, "a\nforged log line");
}
static void
rollback_only(struct checkin_answer *a)
{
	memset(&a->desired, 0, sizeof(a->desired));
	a->desired.rollback_from = 6;
}

static void
test_answer_from_a_subverted_uplink(void **state)
{
	(void)state;
	assert_int_equal(answer_after(keep), 0);
	assert_int_equal(answer_after(rollback_only), 0);
	assert_int_equal(answer_after(acked_negative), WARD_EPROTO);
	assert_int_equal(answer_after(next_too_late), WARD_EPROTO);
	assert_int_equal(answer_after(batch_too_big), WARD_EPROTO);
	assert_int_equal(answer_after(interval_negative), WARD_EPROTO);
	assert_int_equal(answer_after(state_unknown), WARD_EPROTO);
	assert_int_equal(answer_after(version_too_big), WARD_EPROTO);
	assert_int_equal(answer_after(size_zero), WARD_EPROTO);
	assert_int_equal(answer_after(size_too_big), WARD_EPROTO);
	assert_int_equal(answer_after(sha_upper), WARD_EPROTO);
	assert_int_equal(answer_after(no_version_but_sha), WARD_EPROTO);
	assert_int_equal(answer_after(why_beside_target), WARD_EPROTO);
	assert_int_equal(answer_after(bad_without_why), WARD_EPROTO);
	assert_int_equal(answer_after(none_with_target), WARD_EPROTO);
	/* the encoder writes '?' for it; raw, the decoder refuses it */
	assert_int_equal(answer_after(why_with_newline), 0);
}

static void
test_small_messages_refused(void **state)
{
	struct upmsg_failed f;
	struct upmsg_bundle b;
	struct upmsg_call c;
	struct upmsg_setup s;
	struct ward_diag d;
	struct ipc_msg m;
	struct wbuf w;
	int64_t acked = 5;

	(void)state;
	/* a failure of an impossible status, of a success (it would make the
	 * call succeed with nothing checked), or with a newline in its words */
	wbuf_init(&w);
	wbuf_u16(&w, 42);
	wbuf_u32(&w, 0);
	m = frame(UPMSG_FAILED, &upmsg_to_worker, w.p, w.len, 0);
	assert_int_equal(upmsg_failed_decode(&m, &f, &d), WARD_EPROTO);
	wbuf_free(&w);
	for (unsigned st = 100; st < 300; st++) {
		wbuf_init(&w);
		wbuf_u16(&w, (uint16_t)st);
		wbuf_u32(&w, 0);
		m = frame(UPMSG_FAILED, &upmsg_to_worker, w.p, w.len, 0);
		assert_int_equal(upmsg_failed_decode(&m, &f, &d), WARD_EPROTO);
		wbuf_free(&w);
	}
	wbuf_init(&w);
	wbuf_u16(&w, 403);
	wbuf_lenbytes(&w, "revoked", 7);
	m = frame(UPMSG_FAILED, &upmsg_to_worker, w.p, w.len, 0);
	assert_int_equal(upmsg_failed_decode(&m, &f, &d), 0);
	assert_int_equal(f.status, 403);
	wbuf_free(&w);
	/* the encoder never writes a success as a failure */
	wbuf_init(&w);
	upmsg_failed_encode(&w, &(struct upmsg_failed){200, "ok?"});
	m = frame(UPMSG_FAILED, &upmsg_to_worker, w.p, w.len, 0);
	assert_int_equal(upmsg_failed_decode(&m, &f, &d), 0);
	assert_int_equal(f.status, 0);
	wbuf_free(&w);
	wbuf_init(&w);
	wbuf_u16(&w, 500);
	wbuf_lenbytes(&w, "a\nb", 3);
	m = frame(UPMSG_FAILED, &upmsg_to_worker, w.p, w.len, 0);
	assert_int_equal(upmsg_failed_decode(&m, &f, &d), WARD_EPROTO);
	assert_string_equal(f.error, "");
	wbuf_free(&w);
	/* a negative acknowledgement; bytes after one */
	wbuf_init(&w);
	wbuf_i64(&w, -1);
	m = frame(UPMSG_ACKED, &upmsg_to_worker, w.p, w.len, 0);
	assert_int_equal(upmsg_acked_decode(&m, &acked, &d), WARD_EPROTO);
	assert_int_equal(acked, 0);
	wbuf_u8(&w, 0);
	m = frame(UPMSG_ACKED, &upmsg_to_worker, w.p, w.len, 0);
	assert_int_equal(upmsg_acked_decode(&m, &acked, &d), WARD_EPROTO);
	wbuf_free(&w);
	/* a bundle whose size is not its memory file's */
	wbuf_init(&w);
	upmsg_bundle_encode(&w, &(struct upmsg_bundle){10, SHA});
	m = frame(UPMSG_BUNDLE, &upmsg_to_worker, w.p, w.len, 9);
	assert_int_equal(upmsg_bundle_decode(&m, &b, &d), WARD_EPROTO);
	m = frame(UPMSG_BUNDLE, &upmsg_to_worker, w.p, w.len, 10);
	assert_int_equal(upmsg_bundle_decode(&m, &b, &d), 0);
	wbuf_free(&w);
	/* a setup to anything but https */
	wbuf_init(&w);
	upmsg_setup_encode(&w, &(struct upmsg_setup){"http://fleet"});
	m = frame(UPMSG_SETUP, &upmsg_to_uplink, w.p, w.len, 0);
	assert_int_equal(upmsg_setup_decode(&m, &s, &d), WARD_EPROTO);
	wbuf_free(&w);
	/* a call without a credential; a fetch of version 0 */
	memset(&c, 0, sizeof(c));
	wbuf_init(&w);
	upmsg_call_encode(&w, UPMSG_EVENTS, &c);
	m = frame(UPMSG_EVENTS, &upmsg_to_uplink, w.p, w.len, 0);
	assert_int_equal(upmsg_call_decode(&m, &c, &d), WARD_EPROTO);
	wbuf_free(&w);
	strcpy(c.cred, "a:b");
	strcpy(c.target.sha256, SHA);
	c.target.size = 3;
	wbuf_init(&w);
	upmsg_call_encode(&w, UPMSG_FETCH, &c);
	m = frame(UPMSG_FETCH, &upmsg_to_uplink, w.p, w.len, 0);
	assert_int_equal(upmsg_call_decode(&m, &c, &d), WARD_EPROTO);
	wbuf_free(&w);
}

static void
test_tables_refuse_frames(void **state)
{
	struct ipc *w, *u;
	struct ipc_msg m;
	struct ward_diag d;
	struct wbuf b;
	struct checkin_answer a = offer();

	(void)state;
	/* an answer without its memory file is refused by the sender's table */
	pair(&w, &u);
	wbuf_init(&b);
	upmsg_answer_encode(&b, &a);
	assert_int_equal(ipc_send(u, UPMSG_ANSWER, b.p, b.len, -1, IPC_FOREVER, &d), WARD_EINVAL);
	/* the uplink may not send a request to the worker */
	assert_int_equal(ipc_send(u, UPMSG_CHECKIN, "x", 1, -1, IPC_FOREVER, &d), WARD_EINVAL);
	wbuf_free(&b);
	ipc_free(w);
	ipc_free(u);
	/* a frame the worker's table does not list closes the channel */
	{
		int sv[2];
		struct ipc *rogue, *worker;

		assert_int_equal(ipc_pair(sv), 0);
		assert_int_equal(ipc_new(sv[0], &upmsg_to_worker, &upmsg_to_uplink, &worker), 0);
		/* the rogue end claims the worker's own tables: it may "send" a
		 * request, which the worker does not take */
		assert_int_equal(ipc_new(sv[1], &upmsg_to_worker, &upmsg_to_uplink, &rogue), 0);
		wbuf_init(&b);
		upmsg_call_encode(&b, UPMSG_FETCH, &(struct upmsg_call){"a:b", {0, 1, 3, SHA, ""}});
		{
			char path[] = "/tmp/test_upmsg.XXXXXX";
			int fd = mkstemp(path);

			assert_true(fd >= 0);
			unlink(path);
			assert_int_equal(
			    ipc_send(rogue, UPMSG_FETCH, b.p, b.len, fd, IPC_FOREVER, &d), 0);
			close(fd);
		}
		wbuf_free(&b);
		assert_int_equal(ipc_recv(worker, clock_mono() + 5, &m, &d), WARD_EPROTO);
		assert_int_equal(ipc_fd(worker), -1);
		ipc_free(worker);
		ipc_free(rogue);
	}
}

/* The memory file of exceptions parsed from JSON text by the uplink's
 * way (except_fleet_parse), encoded, and decoded back into *out. */
static int
exceptions_via(const char *json, struct upmsg_exceptions *out)
{
	struct upmsg_exceptions e;
	struct ward_diag d;
	json_t *o = json_loads(json, 0, NULL);
	struct wbuf w;
	int r;

	memset(&e, 0, sizeof(e));
	assert_non_null(o);
	if (except_fleet_parse(o, &e.revision, &e.list, &d) == 0) {
		e.state = UPMSG_EXC_LIST;
	} else {
		e.state = UPMSG_EXC_REFUSED;
		snprintf(e.reason, sizeof(e.reason), "%s", d.msg);
	}
	json_decref(o);
	wbuf_init(&w);
	upmsg_exceptions_encode(&w, &e);
	upmsg_exceptions_free(&e);
	assert_false(w.err);
	r = upmsg_exceptions_decode(w.p, w.len, out, &d);
	wbuf_free(&w);
	return r;
}

/* The decode of a list of two SHA-256 exceptions with ids a and b, the
 * second a path exception with digest bytes when path is set. */
static int
decode_ids(int64_t a, int64_t b, int path)
{
	struct upmsg_exceptions e, out;
	struct except x;
	struct ward_diag d;
	struct wbuf w;
	int r;

	memset(&e, 0, sizeof(e));
	e.state = UPMSG_EXC_LIST;
	e.revision = 4;
	memset(&x, 0, sizeof(x));
	x.kind = EXCEPT_SHA256;
	x.sha256[0] = 1;
	x.id = a;
	assert_int_equal(except_list_add(&e.list, &x, &d), 0);
	memset(&x, 0, sizeof(x));
	x.kind = path ? EXCEPT_PATH : EXCEPT_SHA256;
	x.sha256[0] = 2;
	x.id = b;
	if (path)
		x.glob = strdup("/opt/**");
	assert_int_equal(except_list_add(&e.list, &x, &d), 0);
	wbuf_init(&w);
	upmsg_exceptions_encode(&w, &e);
	upmsg_exceptions_free(&e);
	r = upmsg_exceptions_decode(w.p, w.len, &out, &d);
	if (r != 0)
		assert_int_equal(out.list.n, 0);
	upmsg_exceptions_free(&out);
	wbuf_free(&w);
	return r;
}

static void
test_exceptions(void **state)
{
	struct upmsg_exceptions e;
	struct ward_diag d;
	struct wbuf w;

	(void)state;
	/* none */
	assert_int_equal(upmsg_exceptions_decode((const uint8_t *)"", 0, &e, &d), 0);
	assert_int_equal(e.state, UPMSG_EXC_NONE);
	/* a list: parsed by the uplink, decoded by the worker */
	assert_int_equal(
	    exceptions_via("{\"revision\": 7, \"list\": [{\"id\": 1, \"sha256\": \"" SHA
			   "\", \"reason\": \"vendor tool\"}, {\"id\": 2, \"path\": "
			   "\"/opt/app/**\", \"rule\": \"Generic_Packer\"}]}",
			   &e),
	    0);
	assert_int_equal(e.state, UPMSG_EXC_LIST);
	assert_int_equal(e.revision, 7);
	assert_int_equal(e.list.n, 2);
	assert_int_equal(e.list.v[0].kind, EXCEPT_SHA256);
	assert_string_equal(e.list.v[1].glob, "/opt/app/**");
	assert_string_equal(e.list.v[1].rule, "Generic_Packer");
	upmsg_exceptions_free(&e);
	/* refused by the uplink, with its revision and reason */
	assert_int_equal(
	    exceptions_via("{\"revision\": 8, \"list\": [{\"id\": 1, \"path\": \"\"}]}", &e), 0);
	assert_int_equal(e.state, UPMSG_EXC_REFUSED);
	assert_int_equal(e.revision, 8);
	assert_true(strlen(e.reason) > 0);
	assert_int_equal(exceptions_via("[1, 2]", &e), 0);
	assert_int_equal(e.state, UPMSG_EXC_REFUSED);
	assert_int_equal(e.revision, -1);
	/* what a subverted uplink could write instead */
	/* ids as the JSON list requires them: from 1, distinct; a digest only
	 * beside a SHA-256 exception */
	assert_int_equal(decode_ids(1, 2, 0), 0);
	assert_int_equal(decode_ids(5, 5, 0), WARD_EPROTO);
	assert_int_equal(decode_ids(0, 2, 0), WARD_EPROTO);
	assert_int_equal(decode_ids(1, ((int64_t)1 << 53) + 1, 0), WARD_EPROTO);
	assert_int_equal(decode_ids(1, 2, 1), WARD_EPROTO);
	wbuf_init(&w); /* an unknown state */
	wbuf_u8(&w, 3);
	wbuf_i64(&w, 1);
	assert_int_equal(upmsg_exceptions_decode(w.p, w.len, &e, &d), WARD_EPROTO);
	wbuf_free(&w);
	wbuf_init(&w); /* a list without a revision */
	wbuf_u8(&w, UPMSG_EXC_LIST);
	wbuf_i64(&w, -1);
	wbuf_u32(&w, 0);
	assert_int_equal(upmsg_exceptions_decode(w.p, w.len, &e, &d), WARD_EPROTO);
	wbuf_free(&w);
	wbuf_init(&w); /* a list claiming entries it does not hold */
	wbuf_u8(&w, UPMSG_EXC_LIST);
	wbuf_i64(&w, 3);
	wbuf_u32(&w, 1000000);
	assert_int_equal(upmsg_exceptions_decode(w.p, w.len, &e, &d), WARD_EPROTO);
	assert_int_equal(e.list.n, 0);
	wbuf_free(&w);
	wbuf_init(&w); /* an empty list, then a byte too many */
	wbuf_u8(&w, UPMSG_EXC_LIST);
	wbuf_i64(&w, 3);
	wbuf_u32(&w, 0);
	assert_int_equal(upmsg_exceptions_decode(w.p, w.len, &e, &d), 0);
	upmsg_exceptions_free(&e);
	wbuf_u8(&w, 0);
	assert_int_equal(upmsg_exceptions_decode(w.p, w.len, &e, &d), WARD_EPROTO);
	wbuf_free(&w);
	wbuf_init(&w); /* a refusal without a reason, or with a newline */
	wbuf_u8(&w, UPMSG_EXC_REFUSED);
	wbuf_i64(&w, 3);
	wbuf_u32(&w, 0);
	assert_int_equal(upmsg_exceptions_decode(w.p, w.len, &e, &d), WARD_EPROTO);
	wbuf_free(&w);
	wbuf_init(&w);
	wbuf_u8(&w, UPMSG_EXC_REFUSED);
	wbuf_i64(&w, 3);
	wbuf_lenbytes(&w, "a\nb", 3);
	assert_int_equal(upmsg_exceptions_decode(w.p, w.len, &e, &d), WARD_EPROTO);
	wbuf_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_enrollment_from_a_subverted_uplink),
	    cmocka_unit_test(test_answer_from_a_subverted_uplink),
	    cmocka_unit_test(test_small_messages_refused),
	    cmocka_unit_test(test_tables_refuse_frames),
	    cmocka_unit_test(test_exceptions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
