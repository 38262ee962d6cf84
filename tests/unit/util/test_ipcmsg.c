/*
 * Unit tests of ipcmsg: a message of another type is refused before its
 * payload is read; text written with a byte outside its alphabet arrives
 * as '?' and a receiver finds the first such byte; a refusal round-trips,
 * and a peer's refusal of an unknown cause, of a reason longer than its
 * bound or shorter than its length, with bytes after it, or with a
 * control character is refused with WARD_EPROTO and nothing filled.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/ipcmsg.h"

enum { T_REFUSED = 7, T_OTHER = 8 };

static const struct ipc_msgdef defs[] = {
    {T_REFUSED, "refused", 6, 6 + 16, IPC_FD_NONE, 0},
};

/* A received message of type whose payload is w's bytes. */
static struct ipc_msg
msg_of(uint16_t type, const struct wbuf *w)
{
	struct ipc_msg m;

	memset(&m, 0, sizeof(m));
	m.def = &defs[0];
	m.type = type;
	m.p = w->p;
	m.len = w->len;
	m.fd = -1;
	return m;
}

static void
test_start_wrong_type(void **state)
{
	struct wbuf w;
	struct ipc_msg m;
	struct rbuf b;
	struct ward_diag d;

	(void)state;
	wbuf_init(&w);
	wbuf_u16(&w, 1);
	m = msg_of(T_OTHER, &w);
	assert_int_equal(ipcmsg_start(&m, "test", T_REFUSED, &b, &d), WARD_EPROTO);
	assert_non_null(strstr(d.msg, "decoded as"));
	m = msg_of(T_REFUSED, &w);
	m.def = NULL; /* not a row of the table */
	assert_int_equal(ipcmsg_start(&m, "test", T_REFUSED, &b, &d), WARD_EPROTO);
	m = msg_of(T_REFUSED, &w);
	assert_int_equal(ipcmsg_start(&m, "test", T_REFUSED, &b, &d), 0);
	assert_int_equal(rbuf_left(&b), 2);
	wbuf_free(&w);
}

static void
test_text_alphabets(void **state)
{
	static const char s[] = "a\x01\x7f\xc3\xa9~ z";
	struct wbuf w;
	struct rbuf b;
	const uint8_t *p;
	size_t n;

	(void)state;
	wbuf_init(&w);
	ipcmsg_text_put(&w, s, 64, IPCMSG_TEXT_NOCTL);
	ipcmsg_text_put(&w, s, 64, IPCMSG_TEXT_PRINTABLE);
	ipcmsg_text_put(&w, s, 3, IPCMSG_TEXT_PRINTABLE); /* cut at max */
	assert_int_equal(w.err, 0);
	rbuf_init(&b, w.p, w.len);
	assert_int_equal(rbuf_lenbytes(&b, 64, &p, &n), 0);
	assert_int_equal(n, strlen(s));
	assert_memory_equal(p, "a??\xc3\xa9~ z", n);
	assert_int_equal(ipcmsg_text_bad(p, n, IPCMSG_TEXT_NOCTL), n);
	assert_int_equal(ipcmsg_text_bad(p, n, IPCMSG_TEXT_PRINTABLE), 3);
	assert_int_equal(rbuf_lenbytes(&b, 64, &p, &n), 0);
	assert_memory_equal(p, "a????~ z", n);
	assert_int_equal(ipcmsg_text_bad(p, n, IPCMSG_TEXT_PRINTABLE), n);
	assert_int_equal(rbuf_lenbytes(&b, 64, &p, &n), 0);
	assert_memory_equal(p, "a??", n);
	assert_int_equal(rbuf_left(&b), 0);
	assert_int_equal(ipcmsg_text_bad((const uint8_t *)"ok\n", 3, IPCMSG_TEXT_NOCTL), 2);
	assert_int_equal(ipcmsg_text_bad((const uint8_t *)"", 0, IPCMSG_TEXT_NOCTL), 0);
	wbuf_free(&w);
}

static void
test_refusal_round_trip(void **state)
{
	char reason[17];
	struct wbuf w;
	struct ipc_msg m;
	struct ward_diag d;
	uint16_t cause = 0;

	(void)state;
	wbuf_init(&w);
	ipcmsg_refusal_encode(&w, 3, "bad\tthing and more than sixteen", 16);
	m = msg_of(T_REFUSED, &w);
	assert_int_equal(ipcmsg_refusal_decode(&m, "test", T_REFUSED, 1, 4, 16, &cause, reason, &d),
			 0);
	assert_int_equal(cause, 3);
	assert_string_equal(reason, "bad?thing and mo");
	wbuf_free(&w);
}

/* w's bytes as a message of type must be refused, saying why, with
 * nothing filled. */
static void
refusal_fails(uint16_t type, struct wbuf *w, const char *why)
{
	char reason[17];
	struct ipc_msg m = msg_of(type, w);
	struct ward_diag d;
	uint16_t c = 99;

	memset(reason, 'x', sizeof(reason));
	assert_int_equal(ipcmsg_refusal_decode(&m, "test", T_REFUSED, 1, 4, 16, &c, reason, &d),
			 WARD_EPROTO);
	assert_int_equal(c, 0);
	assert_string_equal(reason, "");
	assert_non_null(strstr(d.msg, why));
	wbuf_free(w);
}

/* A crafted refusal: cause, a declared length, bytes, and what follows. */
static void
refused(uint16_t cause, uint32_t len, const char *bytes, size_t n, const char *why)
{
	struct wbuf w;

	wbuf_init(&w);
	wbuf_u16(&w, cause);
	wbuf_u32(&w, len);
	wbuf_put(&w, bytes, n);
	refusal_fails(T_REFUSED, &w, why);
}

static void
test_refusal_hostile(void **state)
{
	(void)state;
	refused(0, 2, "ok", 2, "unknown cause 0");
	refused(5, 2, "ok", 2, "unknown cause 5");
	refused(2, 17, "aaaaaaaaaaaaaaaaa", 17, "not of its length");	/* over the bound */
	refused(2, 4, "ok", 2, "not of its length");			/* short */
	refused(2, 2, "ok!", 3, "not of its length");			/* a byte after */
	refused(2, 3, "o\x1bk", 3, "control character 0x1b at byte 1"); /* ESC */
	refused(2, 1, "\x7f", 1, "control character 0x7f at byte 0");
}

static void
test_refusal_wrong_type(void **state)
{
	struct wbuf w;

	(void)state;
	wbuf_init(&w);
	ipcmsg_refusal_encode(&w, 2, "ok", 16);
	refusal_fails(T_OTHER, &w, "decoded as");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_start_wrong_type),   cmocka_unit_test(test_text_alphabets),
	    cmocka_unit_test(test_refusal_round_trip), cmocka_unit_test(test_refusal_hostile),
	    cmocka_unit_test(test_refusal_wrong_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
