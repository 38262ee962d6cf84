/*
 * Unit tests of valmsg, the validator channel's messages: each message
 * round-trips through a real channel; a refusal of an unknown cause, a
 * reason with a control character or of the wrong length, trailing bytes,
 * a size that is not its memory file's, a message decoded as another
 * kind — each is refused with WARD_EPROTO and nothing is decoded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "content/valmsg.h"
#include "util/clock.h"

/* The worker's end (w) and the validator's (v). */
static void
pair(struct ipc **w, struct ipc **v)
{
	int sv[2];

	assert_int_equal(ipc_pair(sv), 0);
	assert_int_equal(ipc_new(sv[0], &valmsg_to_worker, &valmsg_to_validator, w), 0);
	assert_int_equal(ipc_new(sv[1], &valmsg_to_validator, &valmsg_to_worker, v), 0);
}

static void
test_round_trips(void **state)
{
	struct valmsg_request rq = {5}, rq2;
	struct valmsg_ok ok = {3}, ok2;
	struct valmsg_refused no;
	struct ipc *w, *v;
	struct ipc_msg m;
	struct ward_diag d;
	struct wbuf b;
	int fd;

	(void)state;
	pair(&w, &v);
	/* request: the bundle beside it */
	assert_int_equal(ipc_memfd_new("b", "hello", 5, &fd), 0);
	wbuf_init(&b);
	valmsg_request_encode(&b, &rq);
	assert_int_equal(ipc_send(w, VALMSG_REQUEST, b.p, b.len, fd, IPC_FOREVER, &d), 0);
	close(fd);
	wbuf_free(&b);
	assert_int_equal(ipc_recv(v, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(valmsg_request_decode(&m, &rq2, &d), 0);
	assert_int_equal(rq2.size, 5);
	/* ... and not as another kind */
	assert_int_equal(valmsg_ok_decode(&m, &ok2, &d), WARD_EPROTO);
	assert_int_equal(valmsg_refused_decode(&m, &no, &d), WARD_EPROTO);
	ipc_msg_close(&m);
	/* ok: the image beside it */
	assert_int_equal(ipc_memfd_new("i", "img", 3, &fd), 0);
	valmsg_ok_encode(&b, &ok);
	assert_int_equal(ipc_send(v, VALMSG_OK, b.p, b.len, fd, IPC_FOREVER, &d), 0);
	close(fd);
	wbuf_free(&b);
	assert_int_equal(ipc_recv(w, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(valmsg_ok_decode(&m, &ok2, &d), 0);
	assert_int_equal(ok2.size, 3);
	/* a size that is not the memory file's */
	m.fd_size = 4;
	assert_int_equal(valmsg_ok_decode(&m, &ok2, &d), WARD_EPROTO);
	assert_int_equal(ok2.size, 0);
	ipc_msg_close(&m);
	/* refused: the cause and the reason; control characters become '?' */
	valmsg_refused_encode(&b, VALMSG_CAUSE_COMPILE, "rules.yar:3:1: bad\nline\x1b[31m");
	assert_int_equal(ipc_send(v, VALMSG_REFUSED, b.p, b.len, -1, IPC_FOREVER, &d), 0);
	wbuf_free(&b);
	assert_int_equal(ipc_recv(w, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(valmsg_refused_decode(&m, &no, &d), 0);
	assert_int_equal(no.cause, VALMSG_CAUSE_COMPILE);
	assert_string_equal(no.reason, "rules.yar:3:1: bad?line?[31m");
	assert_string_equal(valmsg_cause_name(no.cause), "compile");
	/* the worker may not receive a request, nor the validator an answer */
	assert_int_equal(ipc_send(v, VALMSG_REQUEST, "12345678", 8, -1, IPC_FOREVER, &d),
			 WARD_EINVAL);
	ipc_free(w);
	ipc_free(v);
}

/* A long reason is cut at the bound, and still decodes. */
static void
test_long_reason(void **state)
{
	static char longr[VALMSG_MAX_REASON * 2];
	struct valmsg_refused no;
	struct ipc_msg m;
	struct ward_diag d;
	struct wbuf b;

	(void)state;
	memset(longr, 'r', sizeof(longr) - 1);
	wbuf_init(&b);
	valmsg_refused_encode(&b, VALMSG_CAUSE_TEST, longr);
	assert_int_equal(b.len, 2 + 4 + VALMSG_MAX_REASON);
	memset(&m, 0, sizeof(m));
	m.def = &valmsg_to_worker.msgs[1];
	m.type = VALMSG_REFUSED;
	m.p = b.p;
	m.len = b.len;
	m.fd = -1;
	assert_int_equal(valmsg_refused_decode(&m, &no, &d), 0);
	assert_int_equal(strlen(no.reason), VALMSG_MAX_REASON);
	wbuf_free(&b);
}

/* A refusal payload decoded as if it came in a frame. */
static int
decode_refused(const uint8_t *p, size_t n, struct valmsg_refused *no)
{
	struct ipc_msg m;
	struct ward_diag d;

	memset(&m, 0, sizeof(m));
	m.def = &valmsg_to_worker.msgs[1];
	m.type = VALMSG_REFUSED;
	m.p = p;
	m.len = n;
	m.fd = -1;
	return valmsg_refused_decode(&m, no, &d);
}

static void
test_malformed_refusals(void **state)
{
	/* cause u16, length u32, reason */
	static const uint8_t good[] = {3, 0, 2, 0, 0, 0, 'o', 'k'};
	static const uint8_t cause0[] = {0, 0, 2, 0, 0, 0, 'o', 'k'};
	static const uint8_t cause7[] = {7, 0, 2, 0, 0, 0, 'o', 'k'};
	static const uint8_t cause_high[] = {3, 1, 2, 0, 0, 0, 'o', 'k'};
	static const uint8_t len_over[] = {3, 0, 3, 0, 0, 0, 'o', 'k'};
	static const uint8_t len_under[] = {3, 0, 1, 0, 0, 0, 'o', 'k'};
	static const uint8_t nul[] = {3, 0, 2, 0, 0, 0, 'o', 0};
	static const uint8_t newline[] = {3, 0, 2, 0, 0, 0, '\n', 'k'};
	static const uint8_t del[] = {3, 0, 2, 0, 0, 0, 0x7f, 'k'};
	static const uint8_t huge[] = {3, 0, 0xff, 0xff, 0xff, 0xff, 'o', 'k'};
	static const struct {
		const uint8_t *p;
		size_t n;
	} bad[] = {
	    {cause0, sizeof(cause0)},
	    {cause7, sizeof(cause7)},
	    {cause_high, sizeof(cause_high)},
	    {len_over, sizeof(len_over)},
	    {len_under, sizeof(len_under)},
	    {nul, sizeof(nul)},
	    {newline, sizeof(newline)},
	    {del, sizeof(del)},
	    {huge, sizeof(huge)},
	    {good, 5},
	};
	struct valmsg_refused no;
	size_t i;

	(void)state;
	assert_int_equal(decode_refused(good, sizeof(good), &no), 0);
	assert_string_equal(no.reason, "ok");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&no, 0x55, sizeof(no));
		if (decode_refused(bad[i].p, bad[i].n, &no) != WARD_EPROTO)
			fail_msg("malformed refusal %zu accepted", i);
		assert_int_equal(no.cause, 0);
		assert_int_equal(no.reason[0], '\0');
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_long_reason),
	    cmocka_unit_test(test_malformed_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
