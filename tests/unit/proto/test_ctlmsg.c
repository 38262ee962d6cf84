/*
 * Unit tests of ctlmsg, the control socket's messages: every request
 * round-trips through a real channel; a request with arguments it does
 * not take, without the one it needs, with undefined flags, a string with
 * a NUL or not of its length, bytes left over, an answer decoded as a
 * request, a type no request has — each is refused with WARD_EPROTO and
 * nothing decoded; an oversized frame and an answer sent to the agent are
 * refused by the channel; the encoder refuses what the decoder would.
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

#include "proto/ctlmsg.h"

/* The client's end (c) and the agent's (a). */
static void
pair(struct ipc **c, struct ipc **a)
{
	int sv[2];

	assert_int_equal(ipc_pair(sv), 0);
	assert_int_equal(ipc_new(sv[0], &ctlmsg_to_client, &ctlmsg_to_agent, c), 0);
	assert_int_equal(ipc_new(sv[1], &ctlmsg_to_agent, &ctlmsg_to_client, a), 0);
}

/* Decodes the payload p[0..n) as a request of type t, as the agent would. */
static int
decode(uint16_t t, const void *p, size_t n, struct ctlmsg_req *out)
{
	uint8_t frame[IPC_HEADER + 20000];
	struct ipc_msg m;
	struct ward_diag d;
	int r;

	assert_true(n <= sizeof(frame) - IPC_HEADER);
	memset(frame, 0, IPC_HEADER);
	frame[0] = IPC_MAGIC & 0xff;
	frame[1] = IPC_MAGIC >> 8;
	frame[2] = IPC_VERSION;
	frame[4] = t & 0xff;
	frame[5] = t >> 8;
	frame[8] = n & 0xff;
	frame[9] = (n >> 8) & 0xff;
	frame[12] = 1;
	memcpy(frame + IPC_HEADER, p, n);
	r = ipc_frame_decode(&ctlmsg_to_agent, frame, IPC_HEADER + n, 0, 1, &m, &d);
	if (r != 0)
		return r;
	return ctlmsg_req_decode(&m, out, &d);
}

static void
test_round_trips(void **state)
{
	static struct ctlmsg_req in, out;
	struct ipc *c, *a;
	struct ipc_msg m;
	struct ward_diag d;
	struct wbuf w;
	unsigned t;

	(void)state;
	pair(&c, &a);
	for (t = CTLMSG_REQUEST_MIN; t <= CTLMSG_REQUEST_MAX; t++) {
		memset(&in, 0, sizeof(in));
		in.type = (enum ctlmsg_type)t;
		if (t == CTLMSG_APPLY || t == CTLMSG_SCAN || t == CTLMSG_QUARANTINE_RESTORE ||
		    t == CTLMSG_QUARANTINE_DELETE || t == CTLMSG_EXCEPT_ADD ||
		    t == CTLMSG_EXCEPT_REMOVE)
			strcpy(in.a, "/srv/some path");
		if (t == CTLMSG_QUARANTINE_RESTORE)
			strcpy(in.b, "/tmp/back");
		if (t == CTLMSG_SCAN)
			in.flags = CTLMSG_F_QUARANTINE;
		assert_int_equal(ctlmsg_type_of(ctlmsg_name(in.type)), t);
		wbuf_init(&w);
		assert_int_equal(ctlmsg_req_encode(&w, &in), 0);
		assert_int_equal(w.err, 0);
		assert_int_equal(ipc_send(c, (uint16_t)t, w.p, w.len, -1, IPC_FOREVER, &d), 0);
		wbuf_free(&w);
		assert_int_equal(ipc_recv(a, IPC_FOREVER, &m, &d), 0);
		assert_int_equal(ctlmsg_req_decode(&m, &out, &d), 0);
		assert_int_equal(out.type, t);
		assert_int_equal(out.flags, in.flags);
		assert_string_equal(out.a, in.a);
		assert_string_equal(out.b, in.b);
	}
	assert_int_equal(ctlmsg_type_of("shutdown"), 0);
	assert_int_equal(ctlmsg_type_of(NULL), 0);
	assert_string_equal(ctlmsg_name(CTLMSG_ANSWER), "?");
	ipc_free(c);
	ipc_free(a);
}

static void
test_bad_requests(void **state)
{
	static struct ctlmsg_req out;
	/* flags, len a, a, len b, b */
	static const uint8_t ok_status[] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t status_with_arg[] = {0, 1, 0, 0, 0, 'x', 0, 0, 0, 0};
	static const uint8_t status_flag[] = {1, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t apply_none[] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t apply_b[] = {0, 1, 0, 0, 0, '/', 1, 0, 0, 0, 'x'};
	static const uint8_t scan_bad_flag[] = {2, 1, 0, 0, 0, '/', 0, 0, 0, 0};
	static const uint8_t nul_inside[] = {0, 2, 0, 0, 0, '/', 0, 0, 0, 0, 0};
	static const uint8_t long_len[] = {0, 0xff, 0xff, 0, 0, '/', 0, 0, 0, 0};
	static const uint8_t left_over[] = {0, 1, 0, 0, 0, '/', 0, 0, 0, 0, 9};
	static const uint8_t short_one[] = {0, 1, 0, 0, 0, '/', 0, 0, 0};
	static uint8_t huge[9 + CTLMSG_MAX_ARG + 1];

	(void)state;
	assert_int_equal(decode(CTLMSG_STATUS, ok_status, sizeof(ok_status), &out), 0);
	assert_int_equal(out.type, CTLMSG_STATUS);
	assert_int_equal(decode(CTLMSG_STATUS, status_with_arg, sizeof(status_with_arg), &out),
			 WARD_EPROTO);
	assert_int_equal(out.type, 0);
	assert_int_equal(decode(CTLMSG_STATUS, status_flag, sizeof(status_flag), &out),
			 WARD_EPROTO);
	assert_int_equal(decode(CTLMSG_APPLY, apply_none, sizeof(apply_none), &out), WARD_EPROTO);
	assert_int_equal(decode(CTLMSG_APPLY, apply_b, sizeof(apply_b), &out), WARD_EPROTO);
	assert_int_equal(decode(CTLMSG_SCAN, scan_bad_flag, sizeof(scan_bad_flag), &out),
			 WARD_EPROTO);
	assert_int_equal(decode(CTLMSG_APPLY, nul_inside, sizeof(nul_inside), &out), WARD_EPROTO);
	assert_int_equal(decode(CTLMSG_APPLY, long_len, sizeof(long_len), &out), WARD_EPROTO);
	assert_int_equal(decode(CTLMSG_APPLY, left_over, sizeof(left_over), &out), WARD_EPROTO);
	assert_int_equal(decode(CTLMSG_APPLY, short_one, sizeof(short_one), &out), WARD_EPROTO);
	assert_string_equal(out.a, "");
	/* A string longer than any request takes. */
	memset(huge, 'a', sizeof(huge));
	huge[0] = 0;
	huge[1] = (CTLMSG_MAX_ARG + 1) & 0xff;
	huge[2] = (CTLMSG_MAX_ARG + 1) >> 8;
	huge[3] = huge[4] = 0;
	assert_int_equal(decode(CTLMSG_APPLY, huge, 5 + CTLMSG_MAX_ARG + 1, &out), WARD_EPROTO);
	/* Types no request has: refused by the table. */
	assert_int_equal(decode(0, ok_status, sizeof(ok_status), &out), WARD_EPROTO);
	assert_int_equal(decode(11, ok_status, sizeof(ok_status), &out), WARD_EPROTO);
	assert_int_equal(decode(CTLMSG_ANSWER, ok_status, sizeof(ok_status), &out), WARD_EPROTO);
	assert_int_equal(decode(0xffff, ok_status, sizeof(ok_status), &out), WARD_EPROTO);
}

static void
test_encoder_refuses(void **state)
{
	static struct ctlmsg_req in;
	struct wbuf w;

	(void)state;
	wbuf_init(&w);
	in.type = CTLMSG_APPLY; /* no path */
	assert_int_equal(ctlmsg_req_encode(&w, &in), WARD_EINVAL);
	in.type = CTLMSG_STATUS;
	strcpy(in.a, "x");
	assert_int_equal(ctlmsg_req_encode(&w, &in), WARD_EINVAL);
	in.a[0] = '\0';
	in.flags = CTLMSG_F_QUARANTINE;
	assert_int_equal(ctlmsg_req_encode(&w, &in), WARD_EINVAL);
	in.type = CTLMSG_ANSWER;
	in.flags = 0;
	assert_int_equal(ctlmsg_req_encode(&w, &in), WARD_EINVAL);
	assert_int_equal(w.len, 0);
	wbuf_free(&w);
}

/* What the channel refuses before any decoder: a frame larger than any
 * request, an answer sent to the agent. */
static void
test_channel_refuses(void **state)
{
	static uint8_t big[2 * CTLMSG_MAX_ARG + 100];
	struct ipc *c, *a;
	struct ipc_msg m;
	struct ward_diag d;
	int sv[2];

	(void)state;
	/* A raw client: its frames are not checked by a tx table. */
	assert_int_equal(ipc_pair(sv), 0);
	assert_int_equal(ipc_new(sv[1], &ctlmsg_to_agent, &ctlmsg_to_client, &a), 0);
	memset(big, 0, sizeof(big));
	big[0] = IPC_MAGIC & 0xff;
	big[1] = IPC_MAGIC >> 8;
	big[2] = IPC_VERSION;
	big[4] = CTLMSG_STATUS;
	big[8] = (sizeof(big) - IPC_HEADER) & 0xff;
	big[9] = (sizeof(big) - IPC_HEADER) >> 8;
	big[12] = 1;
	assert_int_equal(write(sv[0], big, sizeof(big)), (ssize_t)sizeof(big));
	assert_int_equal(ipc_recv(a, IPC_FOREVER, &m, &d), WARD_EPROTO);
	close(sv[0]);
	ipc_free(a);

	pair(&c, &a);
	/* The client's own tx table refuses to send an answer ... */
	assert_int_equal(ipc_send(c, CTLMSG_ANSWER, "{}", 2, -1, IPC_FOREVER, &d), WARD_EINVAL);
	ipc_free(c);
	ipc_free(a);
}

static void
test_answer_file(void **state)
{
	struct ipc *c, *a;
	struct ipc_msg m;
	struct ward_diag d;
	struct wbuf w;
	uint64_t size = 0;
	int fd;

	(void)state;
	pair(&c, &a);
	assert_int_equal(ipc_memfd_new("t", "{\"ok\":true}", 11, &fd), 0);
	wbuf_init(&w);
	ctlmsg_answer_file_encode(&w, 11);
	assert_int_equal(ipc_send(a, CTLMSG_ANSWER_FILE, w.p, w.len, fd, IPC_FOREVER, &d), 0);
	assert_int_equal(ipc_recv(c, IPC_FOREVER, &m, &d), 0);
	assert_int_equal(ctlmsg_answer_file_decode(&m, &size, &d), 0);
	assert_int_equal(size, 11);
	ipc_msg_close(&m);
	/* A size that is not the memory file's. */
	wbuf_free(&w);
	wbuf_init(&w);
	ctlmsg_answer_file_encode(&w, 12);
	assert_int_equal(ipc_send(a, CTLMSG_ANSWER_FILE, w.p, w.len, fd, IPC_FOREVER, &d), 0);
	assert_int_equal(ipc_recv(c, IPC_FOREVER, &m, &d), 0);
	assert_int_equal(ctlmsg_answer_file_decode(&m, &size, &d), WARD_EPROTO);
	assert_int_equal(size, 0);
	ipc_msg_close(&m);
	wbuf_free(&w);
	close(fd);
	ipc_free(c);
	ipc_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trips),	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_encoder_refuses), cmocka_unit_test(test_channel_refuses),
	    cmocka_unit_test(test_answer_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
