/*
 * Unit tests of scanmsg, the scanner channel's messages: each message
 * round-trips through a real channel (a scan with its file beside it); a
 * verdict whose result, error code and rule name disagree, an unknown
 * result or error, a rule name with a byte outside printable ASCII or of
 * the wrong length, trailing or missing bytes, a scan request of id 0, a
 * content size that is not its memory file's, a message decoded as
 * another kind — each is refused with WARD_EPROTO and nothing is decoded;
 * frames that break the tables (a scan without its file, a verdict with a
 * descriptor, a verdict sent to the scanner) are refused by the channel.
 * With requests in flight, a verdict must answer the oldest of them: one
 * for a request never sent, answered already or out of order is refused.
 * A verdicts frame is decoded whole or not at all: a count outside 2 to
 * the window or above what the worker awaits, a bad verdict among them,
 * trailing bytes — each refused with every verdict cleared.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scan/scanmsg.h"
#include "util/clock.h"

/* The worker's end (w) and the scanner's (s). */
static void
pair(struct ipc **w, struct ipc **s)
{
	int sv[2];

	assert_int_equal(ipc_pair(sv), 0);
	assert_int_equal(ipc_new(sv[0], &scanmsg_to_worker, &scanmsg_to_scanner, w), 0);
	assert_int_equal(ipc_new(sv[1], &scanmsg_to_scanner, &scanmsg_to_worker, s), 0);
}

static int
temp_file(const char *text)
{
	char path[] = "/tmp/test_scanmsg.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	return fd;
}

static void
test_round_trips(void **state)
{
	struct scanmsg_content c = {3}, c2;
	struct scanmsg_scan sc = {7, 5, 1000, 250}, sc2;
	struct scanmsg_content_ok ok = {12}, ok2;
	struct scanmsg_refused no;
	struct scanmsg_verdict v, v2;
	struct ipc *w, *s;
	struct ipc_msg m;
	struct ward_diag d;
	struct wbuf b;
	char buf[8];
	int fd;

	(void)state;
	memset(&v, 0, sizeof(v));
	v.id = 7;
	v.result = SCANMSG_MATCH;
	v.nrules = 2;
	strcpy(v.rule[0], "EICAR_test");
	strcpy(v.rule[1], "Second");
	pair(&w, &s);
	/* content: the image beside it */
	assert_int_equal(ipc_memfd_new("i", "img", 3, &fd), 0);
	wbuf_init(&b);
	scanmsg_content_encode(&b, &c);
	assert_int_equal(ipc_send(w, SCANMSG_CONTENT, b.p, b.len, fd, IPC_FOREVER, &d), 0);
	close(fd);
	wbuf_free(&b);
	assert_int_equal(ipc_recv(s, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(scanmsg_content_decode(&m, &c2, &d), 0);
	assert_int_equal(c2.size, 3);
	assert_int_equal(scanmsg_scan_decode(&m, &sc2, &d), WARD_EPROTO);
	m.fd_size = 4;
	assert_int_equal(scanmsg_content_decode(&m, &c2, &d), WARD_EPROTO);
	assert_int_equal(c2.size, 0);
	ipc_msg_close(&m);
	/* scan: the file beside it, readable by the scanner */
	fd = temp_file("hello");
	scanmsg_scan_encode(&b, &sc);
	assert_int_equal(ipc_send(w, SCANMSG_SCAN, b.p, b.len, fd, IPC_FOREVER, &d), 0);
	close(fd);
	wbuf_free(&b);
	assert_int_equal(ipc_recv(s, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(scanmsg_scan_decode(&m, &sc2, &d), 0);
	assert_int_equal(sc2.id, 7);
	assert_int_equal(sc2.size, 5);
	assert_int_equal(sc2.max_bytes, 1000);
	assert_int_equal(sc2.max_ms, 250);
	assert_int_equal(pread(m.fd, buf, 5, 0), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(scanmsg_verdict_decode(&m, &v2, &d), WARD_EPROTO);
	ipc_msg_close(&m);
	/* content-ok, refused (control characters become '?'), verdict */
	scanmsg_content_ok_encode(&b, &ok);
	assert_int_equal(ipc_send(s, SCANMSG_CONTENT_OK, b.p, b.len, -1, IPC_FOREVER, &d), 0);
	wbuf_free(&b);
	assert_int_equal(ipc_recv(w, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(scanmsg_content_ok_decode(&m, &ok2, &d), 0);
	assert_int_equal(ok2.nrules, 12);
	scanmsg_refused_encode(&b, SCANMSG_CAUSE_IMAGE, "bad\nimage\x1b");
	assert_int_equal(ipc_send(s, SCANMSG_REFUSED, b.p, b.len, -1, IPC_FOREVER, &d), 0);
	wbuf_free(&b);
	assert_int_equal(ipc_recv(w, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(scanmsg_refused_decode(&m, &no, &d), 0);
	assert_int_equal(no.cause, SCANMSG_CAUSE_IMAGE);
	assert_string_equal(no.reason, "bad?image?");
	scanmsg_verdict_encode(&b, &v);
	assert_int_equal(ipc_send(s, SCANMSG_VERDICT, b.p, b.len, -1, IPC_FOREVER, &d), 0);
	wbuf_free(&b);
	assert_int_equal(ipc_recv(w, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(scanmsg_verdict_decode(&m, &v2, &d), 0);
	assert_int_equal(v2.id, 7);
	assert_int_equal(v2.result, SCANMSG_MATCH);
	assert_int_equal(v2.nrules, 2);
	assert_string_equal(v2.rule[0], "EICAR_test");
	assert_string_equal(v2.rule[1], "Second");
	assert_int_equal(scanmsg_content_ok_decode(&m, &ok2, &d), WARD_EPROTO);
	/* a clean verdict and an error verdict */
	v.result = SCANMSG_CLEAN;
	scanmsg_verdict_encode(&b, &v);
	assert_int_equal(ipc_send(s, SCANMSG_VERDICT, b.p, b.len, -1, IPC_FOREVER, &d), 0);
	wbuf_free(&b);
	assert_int_equal(ipc_recv(w, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(scanmsg_verdict_decode(&m, &v2, &d), 0);
	assert_int_equal(v2.result, SCANMSG_CLEAN);
	assert_int_equal(v2.nrules, 0);
	assert_string_equal(v2.rule[0], "");
	v.result = SCANMSG_ERROR;
	v.error = SCANMSG_ERR_LIMIT;
	scanmsg_verdict_encode(&b, &v);
	assert_int_equal(ipc_send(s, SCANMSG_VERDICT, b.p, b.len, -1, IPC_FOREVER, &d), 0);
	wbuf_free(&b);
	assert_int_equal(ipc_recv(w, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(scanmsg_verdict_decode(&m, &v2, &d), 0);
	assert_int_equal(v2.error, SCANMSG_ERR_LIMIT);
	assert_string_equal(scanmsg_error_name(v2.error), "limit");
	/* the scanner may not send a scan, nor the worker a verdict */
	assert_int_equal(ipc_send(s, SCANMSG_SCAN, b.p, 28, -1, IPC_FOREVER, &d), WARD_EINVAL);
	assert_int_equal(ipc_send(w, SCANMSG_VERDICT, "x", 1, -1, IPC_FOREVER, &d), WARD_EINVAL);
	ipc_free(w);
	ipc_free(s);
}

/* A rule name with bytes outside printable ASCII, or too long, is made
 * one that decodes. */
static void
test_encode_bounds(void **state)
{
	static struct scanmsg_verdict v, v2;
	struct ipc_msg m;
	struct ward_diag d;
	struct wbuf b;
	unsigned k;

	(void)state;
	v.id = 1;
	v.result = SCANMSG_MATCH;
	v.nrules = SCANMSG_MAX_HITS + 5;
	for (k = 0; k < SCANMSG_MAX_HITS; k++)
		memset(v.rule[k], 'r', SCANMSG_MAX_RULE);
	v.rule[0][3] = '\n';
	v.rule[0][4] = (char)0xc3;
	v.rule[1][0] = '\0';
	wbuf_init(&b);
	scanmsg_verdict_encode(&b, &v);
	assert_int_equal(b.len, 13 + (SCANMSG_MAX_HITS - 1) * (4 + SCANMSG_MAX_RULE) + 4 + 1);
	memset(&m, 0, sizeof(m));
	m.def = &scanmsg_to_worker.msgs[2];
	m.type = SCANMSG_VERDICT;
	m.p = b.p;
	m.len = b.len;
	m.fd = -1;
	assert_int_equal(scanmsg_verdict_decode(&m, &v2, &d), 0);
	assert_int_equal(v2.nrules, SCANMSG_MAX_HITS);
	assert_int_equal(strlen(v2.rule[0]), SCANMSG_MAX_RULE);
	assert_memory_equal(v2.rule[0], "rrr??r", 6);
	assert_string_equal(v2.rule[1], "?");
	wbuf_free(&b);
}

static int
decode_verdict(const uint8_t *p, size_t n, struct scanmsg_verdict *v)
{
	struct ipc_msg m;
	struct ward_diag d;

	memset(&m, 0, sizeof(m));
	m.def = &scanmsg_to_worker.msgs[2];
	m.type = SCANMSG_VERDICT;
	m.p = p;
	m.len = n;
	m.fd = -1;
	return scanmsg_verdict_decode(&m, v, &d);
}

#define ID1 1, 0, 0, 0, 0, 0, 0, 0
static void
test_malformed_verdicts(void **state)
{
	/* id u64, result u8, error u16, count u16, names: length u32, bytes */
	static const uint8_t good[] = {ID1, 2, 0, 0, 1, 0, 1, 0, 0, 0, 'R'};
	static const uint8_t good2[] = {ID1, 2, 0, 0, 2, 0, 1, 0, 0, 0, 'R', 1, 0, 0, 0, 'S'};
	static const uint8_t clean[] = {ID1, 1, 0, 0, 0, 0};
	static const uint8_t id0[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
	static const uint8_t res0[] = {ID1, 0, 0, 0, 0, 0};
	static const uint8_t res4[] = {ID1, 4, 0, 0, 0, 0};
	static const uint8_t clean_named[] = {ID1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 'R'};
	static const uint8_t match_unnamed[] = {ID1, 2, 0, 0, 0, 0};
	static const uint8_t match_err[] = {ID1, 2, 1, 0, 1, 0, 1, 0, 0, 0, 'R'};
	static const uint8_t error_none[] = {ID1, 3, 0, 0, 0, 0};
	static const uint8_t error_big[] = {ID1, 3, 6, 0, 0, 0};
	static const uint8_t error_named[] = {ID1, 3, 1, 0, 1, 0, 1, 0, 0, 0, 'R'};
	static const uint8_t clean_err[] = {ID1, 1, 1, 0, 0, 0};
	static const uint8_t name_nl[] = {ID1, 2, 0, 0, 1, 0, 1, 0, 0, 0, '\n'};
	static const uint8_t name_nul[] = {ID1, 2, 0, 0, 1, 0, 1, 0, 0, 0, 0};
	static const uint8_t name_hi[] = {ID1, 2, 0, 0, 1, 0, 1, 0, 0, 0, 0x80};
	static const uint8_t name_empty[] = {ID1, 2, 0, 0, 1, 0, 0, 0, 0, 0};
	static const uint8_t len_over[] = {ID1, 2, 0, 0, 1, 0, 2, 0, 0, 0, 'R'};
	static const uint8_t count_over[] = {ID1, 2, 0, 0, 2, 0, 1, 0, 0, 0, 'R'};
	static const uint8_t count_huge[] = {ID1, 2, 0, 0, 0xff, 0xff, 1, 0, 0, 0, 'R'};
	static const uint8_t count_33[] = {ID1, 2, 0, 0, SCANMSG_MAX_HITS + 1, 0, 1, 0, 0, 0, 'R'};
	static const uint8_t trailing[] = {ID1, 1, 0, 0, 0, 0, 'x'};
	static const uint8_t trailing2[] = {ID1, 2, 0, 0, 1, 0, 1, 0, 0, 0, 'R', 0};
	static const uint8_t huge[] = {ID1, 2, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 'R'};
	static const struct {
		const uint8_t *p;
		size_t n;
	} bad[] = {
	    {id0, sizeof(id0)},
	    {res0, sizeof(res0)},
	    {res4, sizeof(res4)},
	    {clean_named, sizeof(clean_named)},
	    {match_unnamed, sizeof(match_unnamed)},
	    {match_err, sizeof(match_err)},
	    {error_none, sizeof(error_none)},
	    {error_big, sizeof(error_big)},
	    {error_named, sizeof(error_named)},
	    {clean_err, sizeof(clean_err)},
	    {name_nl, sizeof(name_nl)},
	    {name_nul, sizeof(name_nul)},
	    {name_hi, sizeof(name_hi)},
	    {name_empty, sizeof(name_empty)},
	    {len_over, sizeof(len_over)},
	    {count_over, sizeof(count_over)},
	    {count_huge, sizeof(count_huge)},
	    {count_33, sizeof(count_33)},
	    {trailing, sizeof(trailing)},
	    {trailing2, sizeof(trailing2)},
	    {huge, sizeof(huge)},
	    {good, 10},
	    {good, 12},
	};
	static struct scanmsg_verdict v;
	size_t i;

	(void)state;
	assert_int_equal(decode_verdict(good, sizeof(good), &v), 0);
	assert_string_equal(v.rule[0], "R");
	assert_int_equal(decode_verdict(good2, sizeof(good2), &v), 0);
	assert_int_equal(v.nrules, 2);
	assert_string_equal(v.rule[1], "S");
	assert_int_equal(decode_verdict(clean, sizeof(clean), &v), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&v, 0x55, sizeof(v));
		if (decode_verdict(bad[i].p, bad[i].n, &v) != WARD_EPROTO)
			fail_msg("malformed verdict %zu accepted", i);
		assert_int_equal(v.id, 0);
		assert_int_equal(v.result, 0);
		assert_int_equal(v.nrules, 0);
		assert_int_equal(v.rule[0][0], '\0');
	}
}

static void
test_malformed_others(void **state)
{
	static const uint8_t scan_id0[28] = {0};
	static const uint8_t ok_short[3] = {0};
	static const uint8_t ref_cause0[] = {0, 0, 0, 0, 0, 0};
	static const uint8_t ref_cause3[] = {3, 0, 0, 0, 0, 0};
	static const uint8_t ref_ctl[] = {1, 0, 1, 0, 0, 0, 0x1b};
	static const uint8_t ref_len[] = {1, 0, 2, 0, 0, 0, 'x'};
	struct scanmsg_scan sc;
	struct scanmsg_content_ok ok;
	struct scanmsg_refused no;
	struct scanmsg_content c;
	struct ipc_msg m;
	struct ward_diag d;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.fd = -1;
	m.def = &scanmsg_to_scanner.msgs[1];
	m.type = SCANMSG_SCAN;
	m.p = scan_id0;
	m.len = sizeof(scan_id0);
	assert_int_equal(scanmsg_scan_decode(&m, &sc, &d), WARD_EPROTO);
	m.def = &scanmsg_to_scanner.msgs[0];
	m.type = SCANMSG_CONTENT;
	m.len = 8;
	m.fd_size = 0; /* an empty image is no content */
	assert_int_equal(scanmsg_content_decode(&m, &c, &d), WARD_EPROTO);
	m.def = &scanmsg_to_worker.msgs[0];
	m.type = SCANMSG_CONTENT_OK;
	m.p = ok_short;
	m.len = sizeof(ok_short);
	assert_int_equal(scanmsg_content_ok_decode(&m, &ok, &d), WARD_EPROTO);
	m.def = &scanmsg_to_worker.msgs[1];
	m.type = SCANMSG_REFUSED;
	m.p = ref_cause0;
	m.len = sizeof(ref_cause0);
	assert_int_equal(scanmsg_refused_decode(&m, &no, &d), WARD_EPROTO);
	m.p = ref_cause3;
	assert_int_equal(scanmsg_refused_decode(&m, &no, &d), WARD_EPROTO);
	m.p = ref_ctl;
	m.len = sizeof(ref_ctl);
	assert_int_equal(scanmsg_refused_decode(&m, &no, &d), WARD_EPROTO);
	m.p = ref_len;
	m.len = sizeof(ref_len);
	assert_int_equal(scanmsg_refused_decode(&m, &no, &d), WARD_EPROTO);
	assert_int_equal(no.reason[0], '\0');
}

/* The tables: a scan without its file, a verdict with a descriptor or
 * of the wrong size, a verdict to the scanner. */
static void
test_frames(void **state)
{
	uint8_t f[IPC_HEADER + 64];
	struct ipc_msg m;
	struct ward_diag d;

	(void)state;
	memset(f, 0, sizeof(f));
	/* header: magic, version, flags, type, reserved, length, seq */
	f[0] = 0x49;
	f[1] = 0x57;
	f[2] = 1;
	f[4] = SCANMSG_SCAN;
	f[8] = 28;
	f[12] = 1;
	assert_int_equal(ipc_frame_decode(&scanmsg_to_scanner, f, IPC_HEADER + 28, 0, 1, &m, &d),
			 WARD_EPROTO);
	f[3] = IPC_F_FD;
	assert_int_equal(ipc_frame_decode(&scanmsg_to_scanner, f, IPC_HEADER + 28, 1, 1, &m, &d),
			 0);
	f[8] = 27;
	assert_int_equal(ipc_frame_decode(&scanmsg_to_scanner, f, IPC_HEADER + 27, 1, 1, &m, &d),
			 WARD_EPROTO);
	f[4] = SCANMSG_VERDICT;
	f[8] = 15;
	assert_int_equal(ipc_frame_decode(&scanmsg_to_scanner, f, IPC_HEADER + 15, 1, 1, &m, &d),
			 WARD_EPROTO);
	assert_int_equal(ipc_frame_decode(&scanmsg_to_worker, f, IPC_HEADER + 15, 1, 1, &m, &d),
			 WARD_EPROTO);
	f[3] = 0;
	assert_int_equal(ipc_frame_decode(&scanmsg_to_worker, f, IPC_HEADER + 15, 0, 1, &m, &d), 0);
}

/* Verdicts against the window of requests in flight. */
static void
test_verdict_window(void **state)
{
	struct scanmsg_verdict v;
	struct ward_diag d;

	(void)state;
	memset(&v, 0, sizeof(v));
	v.result = SCANMSG_CLEAN;
	v.id = 5;
	assert_int_equal(scanmsg_verdict_check(&v, 5, 8, &d), 0);
	assert_int_equal(scanmsg_verdict_check(&v, 5, 5, &d), 0);
	v.id = 6;
	assert_int_equal(scanmsg_verdict_check(&v, 5, 8, &d), WARD_EPROTO);
	assert_non_null(strstr(d.msg, "request 6 out of order (5 was due)"));
	v.id = 4;
	assert_int_equal(scanmsg_verdict_check(&v, 5, 8, &d), WARD_EPROTO);
	assert_non_null(strstr(d.msg, "answered already"));
	v.id = 9;
	assert_int_equal(scanmsg_verdict_check(&v, 5, 8, &d), WARD_EPROTO);
	assert_non_null(strstr(d.msg, "not sent"));
	v.id = UINT64_MAX;
	assert_int_equal(scanmsg_verdict_check(&v, 5, 8, &d), WARD_EPROTO);
	/* nothing in flight: no verdict is due */
	v.id = 5;
	assert_int_equal(scanmsg_verdict_check(&v, 5, 4, &d), WARD_EPROTO);
	assert_non_null(strstr(d.msg, "not sent"));
}

/* Whom a window that ended early blames: never a file that may be
 * innocent. */
static void
test_blame(void **state)
{
	(void)state;
	assert_int_equal(scanmsg_blame(0, 0), SCANMSG_BLAME_NONE);
	assert_int_equal(scanmsg_blame(16, 16), SCANMSG_BLAME_NONE);
	assert_int_equal(scanmsg_blame(3, 3), SCANMSG_BLAME_NONE);
	/* one file in hand: that one (a death, a hang or a breach) */
	assert_int_equal(scanmsg_blame(0, 1), SCANMSG_BLAME_FIRST);
	assert_int_equal(scanmsg_blame(15, 16), SCANMSG_BLAME_FIRST);
	/* several: any of them, its verdict held back — a breach too */
	assert_int_equal(scanmsg_blame(0, 2), SCANMSG_BLAME_UNSURE);
	assert_int_equal(scanmsg_blame(5, 16), SCANMSG_BLAME_UNSURE);
}

/* A verdicts frame of n verdicts, ids from id, the second a match. */
static void
verdicts_frame(struct wbuf *b, uint64_t id, unsigned n)
{
	struct scanmsg_verdict v;
	unsigned i;

	wbuf_init(b);
	scanmsg_verdicts_begin(b);
	for (i = 0; i < n; i++) {
		memset(&v, 0, sizeof(v));
		v.id = id + i;
		v.result = i == 1 ? SCANMSG_MATCH : SCANMSG_CLEAN;
		v.nrules = i == 1 ? 2 : 0;
		snprintf(v.rule[0], sizeof(v.rule[0]), "first");
		snprintf(v.rule[1], sizeof(v.rule[1]), "second");
		scanmsg_verdict_encode(b, &v);
	}
	scanmsg_verdicts_end(b, n);
	assert_int_equal(b->err, 0);
}

static int
decode_verdicts(const uint8_t *p, size_t n, struct scanmsg_verdict *v, unsigned max, unsigned *got)
{
	struct scanmsg_verdict *out[SCANMSG_WINDOW];
	struct ipc_msg m;
	struct ward_diag d;
	unsigned i;

	for (i = 0; i < SCANMSG_WINDOW; i++)
		out[i] = &v[i];
	memset(&m, 0, sizeof(m));
	m.def = &scanmsg_to_worker.msgs[3];
	m.type = SCANMSG_VERDICTS;
	m.p = p;
	m.len = n;
	m.fd = -1;
	return scanmsg_verdicts_decode(&m, out, max, got, &d);
}

/* A window's verdicts in one frame: whole, or refused with none kept. */
static void
test_verdicts_frame(void **state)
{
	static struct scanmsg_verdict v[SCANMSG_WINDOW];
	struct wbuf b;
	unsigned got = 99, i;

	(void)state;
	assert_int_equal(scanmsg_to_worker.msgs[3].type, SCANMSG_VERDICTS);
	verdicts_frame(&b, 7, 3);
	assert_int_equal(decode_verdicts(b.p, b.len, v, 16, &got), 0);
	assert_int_equal(got, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(v[i].id, 7 + i);
	assert_int_equal(v[0].result, SCANMSG_CLEAN);
	assert_int_equal(v[1].result, SCANMSG_MATCH);
	assert_int_equal(v[1].nrules, 2);
	assert_string_equal(v[1].rule[1], "second");
	assert_int_equal(v[2].nrules, 0);
	/* more than the worker awaits */
	assert_int_equal(decode_verdicts(b.p, b.len, v, 2, &got), WARD_EPROTO);
	assert_int_equal(got, 0);
	/* trailing bytes; one byte short: none kept */
	wbuf_u8(&b, 0);
	assert_int_equal(decode_verdicts(b.p, b.len, v, 16, &got), WARD_EPROTO);
	assert_int_equal(decode_verdicts(b.p, b.len - 2, v, 16, &got), WARD_EPROTO);
	for (i = 0; i < 3; i++)
		assert_int_equal(v[i].id, 0);
	wbuf_free(&b);
	/* a count of 1 (that is a verdict frame), above the window, or
	 * above what follows */
	verdicts_frame(&b, 7, 1);
	assert_int_equal(decode_verdicts(b.p, b.len, v, 16, &got), WARD_EPROTO);
	wbuf_free(&b);
	verdicts_frame(&b, 1, SCANMSG_WINDOW);
	assert_int_equal(decode_verdicts(b.p, b.len, v, SCANMSG_WINDOW, &got), 0);
	assert_int_equal(got, SCANMSG_WINDOW);
	wbuf_patch_u32(&b, 0, SCANMSG_WINDOW + 1);
	assert_int_equal(decode_verdicts(b.p, b.len, v, SCANMSG_WINDOW + 1, &got), WARD_EPROTO);
	wbuf_patch_u32(&b, 0, 3);
	assert_int_equal(decode_verdicts(b.p, b.len, v, SCANMSG_WINDOW, &got), WARD_EPROTO);
	wbuf_free(&b);
	/* a bad verdict after a good one: an id of 0 */
	verdicts_frame(&b, 1, 2);
	memset(b.p + 4 + 13, 0, 8);
	assert_int_equal(decode_verdicts(b.p, b.len, v, 16, &got), WARD_EPROTO);
	assert_int_equal(v[0].id, 0);
	wbuf_free(&b);
	/* the largest verdicts fill a frame of at most the payload limit */
	assert_true(SCANMSG_VERDICT_MAX * 2 + 4 <= SCANMSG_VERDICTS_MAX);
	assert_true(scanmsg_to_worker.msgs[3].max_len <= WARD_MAX_IPC_PAYLOAD);
}

/* A window of requests sent at once and read ahead by the scanner's end,
 * answered in one frame; then a verdict for a request never sent. */
static void
test_window_round_trip(void **state)
{
	static struct scanmsg_verdict v2[SCANMSG_WINDOW];
	struct scanmsg_verdict *out[SCANMSG_WINDOW], v;
	struct scanmsg_scan q = {0, 5, 5, 1000}, q2;
	struct ipc_out o[3];
	struct ipc *w, *s;
	struct ipc_msg m;
	struct ward_diag d;
	struct wbuf b[3];
	unsigned i, sent, got;
	int fd = temp_file("hello");

	(void)state;
	pair(&w, &s);
	assert_int_equal(ipc_set_readahead(s, SCANMSG_WINDOW), 0);
	for (i = 0; i < SCANMSG_WINDOW; i++)
		out[i] = &v2[i];
	for (i = 0; i < 3; i++) {
		q.id = i + 1;
		wbuf_init(&b[i]);
		scanmsg_scan_encode(&b[i], &q);
		o[i] = (struct ipc_out){SCANMSG_SCAN, b[i].p, b[i].len, fd};
	}
	assert_int_equal(ipc_send_many(w, o, 3, clock_mono() + 5, &sent, &d), 0);
	assert_int_equal(sent, 3);
	for (i = 0; i < 3; i++) {
		wbuf_free(&b[i]);
		assert_int_equal(ipc_recv(s, clock_mono() + 5, &m, &d), 0);
		assert_int_equal(scanmsg_scan_decode(&m, &q2, &d), 0);
		assert_int_equal(q2.id, i + 1);
		assert_true(m.fd >= 0);
		ipc_msg_close(&m);
	}
	verdicts_frame(&b[0], 1, 3);
	assert_int_equal(ipc_send(s, SCANMSG_VERDICTS, b[0].p, b[0].len, -1, clock_mono() + 5, &d),
			 0);
	wbuf_free(&b[0]);
	assert_int_equal(ipc_recv(w, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(scanmsg_verdicts_decode(&m, out, 3, &got, &d), 0);
	assert_int_equal(got, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(scanmsg_verdict_check(out[i], i + 1, 3, &d), 0);
	/* the scanner answers a request the worker never sent */
	memset(&v, 0, sizeof(v));
	v.id = 4;
	v.result = SCANMSG_CLEAN;
	wbuf_init(&b[0]);
	scanmsg_verdict_encode(&b[0], &v);
	assert_int_equal(ipc_send(s, SCANMSG_VERDICT, b[0].p, b[0].len, -1, clock_mono() + 5, &d),
			 0);
	wbuf_free(&b[0]);
	assert_int_equal(ipc_recv(w, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(scanmsg_verdict_decode(&m, &v, &d), 0);
	assert_int_equal(scanmsg_verdict_check(&v, 4, 3, &d), WARD_EPROTO);
	close(fd);
	ipc_free(w);
	ipc_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_encode_bounds),
	    cmocka_unit_test(test_malformed_verdicts),
	    cmocka_unit_test(test_malformed_others),
	    cmocka_unit_test(test_frames),
	    cmocka_unit_test(test_verdict_window),
	    cmocka_unit_test(test_blame),
	    cmocka_unit_test(test_verdicts_frame),
	    cmocka_unit_test(test_window_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
