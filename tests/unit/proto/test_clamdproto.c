/*
 * Unit tests of lib/proto/clamdproto.c: the three command forms as clamd
 * 1.4 reads them, incomplete and overlong commands, INSTREAM chunk
 * lengths, and answers byte for byte as clamd writes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/clamdproto.h"

/* Parses s[0..n) as one command; returns clamdproto_next's answer. */
static int
parse(const char *s, size_t n, int at_end, struct clamdproto_req *q, size_t *used)
{
	struct rbuf b;
	int r;

	rbuf_init(&b, s, n);
	r = clamdproto_next(&b, at_end, q);
	*used = b.off;
	return r;
}

static enum clamdproto_cmd
cmd_of(const char *s, size_t n)
{
	struct clamdproto_req q;
	size_t used;

	assert_int_equal(parse(s, n, 1, &q, &used), 0);
	return q.cmd;
}

static void
test_forms(void **state)
{
	struct clamdproto_req q;
	size_t used;

	(void)state;
	assert_int_equal(parse("zPING\0zVERSION\0", 15, 0, &q, &used), 0);
	assert_int_equal(q.cmd, CLAMDPROTO_PING);
	assert_int_equal(q.term, '\0');
	assert_int_equal(used, 6);
	assert_false(q.oldstyle);
	assert_int_equal(parse("nVERSION\n", 9, 0, &q, &used), 0);
	assert_int_equal(q.cmd, CLAMDPROTO_VERSION);
	assert_int_equal(q.term, '\n');
	assert_int_equal(used, 9);
	/* '\r' before the newline is chomped, as clamd does. */
	assert_int_equal(cmd_of("nPING\r\n", 7), CLAMDPROTO_PING);
	/* The old form, with a newline or as the whole packet. */
	assert_int_equal(parse("PING\n", 5, 0, &q, &used), 0);
	assert_int_equal(q.cmd, CLAMDPROTO_PING);
	assert_true(q.oldstyle);
	assert_int_equal(parse("PING", 4, 0, &q, &used), 1);
	assert_int_equal(used, 0);
	assert_int_equal(parse("PING", 4, 1, &q, &used), 0);
	assert_int_equal(q.cmd, CLAMDPROTO_PING);
	assert_int_equal(used, 4);
	/* Commands clamd takes only with a prefix. */
	assert_int_equal(cmd_of("INSTREAM\n", 9), CLAMDPROTO_UNKNOWN);
	assert_int_equal(cmd_of("VERSIONCOMMANDS\n", 16), CLAMDPROTO_UNKNOWN);
	assert_int_equal(cmd_of("IDSESSION\n", 10), CLAMDPROTO_UNKNOWN);
	assert_int_equal(cmd_of("nINSTREAM\n", 10), CLAMDPROTO_INSTREAM);
	assert_int_equal(cmd_of("zIDSESSION", 11), CLAMDPROTO_IDSESSION);
	assert_int_equal(cmd_of("SCAN /x\n", 8), CLAMDPROTO_SCAN);
}

static void
test_every_command(void **state)
{
	static const struct {
		const char *s;
		enum clamdproto_cmd c;
	} t[] = {
	    {"nPING\n", CLAMDPROTO_PING},
	    {"nVERSION\n", CLAMDPROTO_VERSION},
	    {"nVERSIONCOMMANDS\n", CLAMDPROTO_VERSIONCOMMANDS},
	    {"nRELOAD\n", CLAMDPROTO_RELOAD},
	    {"nSCAN /a\n", CLAMDPROTO_SCAN},
	    {"nCONTSCAN /a\n", CLAMDPROTO_CONTSCAN},
	    {"nMULTISCAN /a\n", CLAMDPROTO_MULTISCAN},
	    {"nALLMATCHSCAN /a\n", CLAMDPROTO_ALLMATCHSCAN},
	    {"nINSTREAM\n", CLAMDPROTO_INSTREAM},
	    {"nFILDES\n", CLAMDPROTO_FILDES},
	    {"nSTATS\n", CLAMDPROTO_STATS},
	    {"nIDSESSION\n", CLAMDPROTO_IDSESSION},
	    {"nEND\n", CLAMDPROTO_END},
	    {"nSHUTDOWN\n", CLAMDPROTO_SHUTDOWN},
	    {"nQUIT\n", CLAMDPROTO_QUIT},
	    {"nDETSTATS\n", CLAMDPROTO_DETSTATS},
	    {"nDETSTATSCLEAR\n", CLAMDPROTO_DETSTATSCLEAR},
	    /* Unknown, malformed: no argument, an argument where none is
	     * taken, trailing bytes, lower case, empty, a NUL inside. */
	    {"nFOO\n", CLAMDPROTO_UNKNOWN},
	    {"nSCAN\n", CLAMDPROTO_UNKNOWN},
	    {"nPING x\n", CLAMDPROTO_UNKNOWN},
	    {"nPING \n", CLAMDPROTO_UNKNOWN},
	    {"nPINGX\n", CLAMDPROTO_UNKNOWN},
	    {"nping\n", CLAMDPROTO_UNKNOWN},
	    {"n\n", CLAMDPROTO_UNKNOWN},
	    {"\n", CLAMDPROTO_UNKNOWN},
	    {"nSELFCHECK\n", CLAMDPROTO_UNKNOWN},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(cmd_of(t[i].s, strlen(t[i].s)), t[i].c);
	assert_int_equal(cmd_of("nPI\0NG\n", 7), CLAMDPROTO_UNKNOWN);
	assert_int_equal(cmd_of("z\0", 2), CLAMDPROTO_UNKNOWN);
	/* Every name round-trips and is listed by VERSIONCOMMANDS. */
	for (i = CLAMDPROTO_SCAN; i <= CLAMDPROTO_ALLMATCHSCAN; i++) {
		const char *n = clamdproto_name((enum clamdproto_cmd)i);
		char line[64];

		assert_true(n[0] != '\0');
		snprintf(line, sizeof(line), " %s", n);
		assert_non_null(strstr(clamdproto_command_list(), line));
	}
	assert_string_equal(clamdproto_name(CLAMDPROTO_UNKNOWN), "");
}

static void
test_arguments(void **state)
{
	struct clamdproto_req q;
	size_t used;
	static const char z[] = "zSCAN /tmp/a b\nc\0zPING\0";

	(void)state;
	/* A z argument may hold spaces and newlines: it ends at the NUL. */
	assert_int_equal(parse(z, sizeof(z) - 1, 0, &q, &used), 0);
	assert_int_equal(q.cmd, CLAMDPROTO_SCAN);
	assert_int_equal(q.arglen, 10);
	assert_memory_equal(q.arg, "/tmp/a b\nc", 10);
	assert_int_equal(used, 17);
	/* An empty argument is an argument (clamd answers it as a path). */
	assert_int_equal(parse("nSCAN \n", 7, 0, &q, &used), 0);
	assert_int_equal(q.cmd, CLAMDPROTO_SCAN);
	assert_int_equal(q.arglen, 0);
	assert_non_null(q.arg);
	assert_int_equal(parse("nCONTSCAN /x/y\r\n", 16, 0, &q, &used), 0);
	assert_int_equal(q.arglen, 4);
	assert_memory_equal(q.arg, "/x/y", 4);
}

static void
test_incomplete_and_limits(void **state)
{
	struct clamdproto_req q;
	size_t used, n = WARD_MAX_CLAMD_COMMAND + 10;
	char *big = malloc(n);

	(void)state;
	assert_int_equal(parse("", 0, 1, &q, &used), 1);
	assert_int_equal(parse("n", 1, 1, &q, &used), 1);
	assert_int_equal(parse("z", 1, 1, &q, &used), 1);
	assert_int_equal(parse("nPING", 5, 1, &q, &used), 1);
	assert_int_equal(used, 0);
	assert_int_equal(parse("zPING\n", 6, 1, &q, &used), 1);
	assert_non_null(big);
	memset(big, 'A', n);
	big[0] = 'n';
	assert_int_equal(parse(big, n, 0, &q, &used), WARD_ELIMIT);
	big[0] = 'z';
	assert_int_equal(parse(big, n, 0, &q, &used), WARD_ELIMIT);
	big[0] = 'S';
	assert_int_equal(parse(big, n, 1, &q, &used), WARD_ELIMIT);
	/* The longest command taken: exactly the limit with its prefix and
	 * terminator. */
	memcpy(big, "nSCAN ", 6);
	big[WARD_MAX_CLAMD_COMMAND - 1] = '\n';
	assert_int_equal(parse(big, WARD_MAX_CLAMD_COMMAND, 0, &q, &used), 0);
	assert_int_equal(q.cmd, CLAMDPROTO_SCAN);
	assert_int_equal(q.arglen, WARD_MAX_CLAMD_COMMAND - 7);
	big[WARD_MAX_CLAMD_COMMAND - 1] = 'A';
	big[WARD_MAX_CLAMD_COMMAND] = '\n';
	assert_int_equal(parse(big, WARD_MAX_CLAMD_COMMAND + 1, 0, &q, &used), WARD_ELIMIT);
	free(big);
}

static void
test_chunks(void **state)
{
	static const uint8_t s[] = {0,	 0,    0,    5,	   'h',	 'e', 'l', 'l',
				    'o', 0xff, 0xff, 0xff, 0xff, 0,   0};
	struct rbuf b;
	const uint8_t *p;
	uint32_t len;

	(void)state;
	rbuf_init(&b, s, sizeof(s));
	assert_int_equal(clamdproto_chunk(&b, &len), 0);
	assert_int_equal(len, 5);
	assert_int_equal(rbuf_bytes(&b, len, &p), 0);
	assert_memory_equal(p, "hello", 5);
	assert_int_equal(clamdproto_chunk(&b, &len), 0);
	assert_int_equal(len, 0xffffffffu);
	/* Two bytes left: not a length yet, and the cursor stays. */
	assert_int_equal(clamdproto_chunk(&b, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(rbuf_left(&b), 2);
}

/* The answer written for the arguments, as a string. */
static void
expect(unsigned id, const char *path, const char *msg, const char *status, char term,
       const char *want, size_t wantlen)
{
	struct wbuf w;

	wbuf_init(&w);
	clamdproto_answer(&w, id, (const uint8_t *)path, path != NULL ? strlen(path) : 0, msg,
			  status, term);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, wantlen);
	assert_memory_equal(w.p, want, wantlen);
	wbuf_free(&w);
}

static void
test_answers(void **state)
{
	(void)state;
	/* As clamd 1.4.6 answers (tests/e2e/test_clamd.py compares with it). */
	expect(0, NULL, NULL, "PONG", '\n', "PONG\n", 5);
	expect(0, NULL, NULL, "PONG", '\0', "PONG\0", 5);
	expect(3, NULL, NULL, "PONG", '\n', "3: PONG\n", 8);
	expect(0, "stream", NULL, "OK", '\0', "stream: OK\0", 11);
	expect(0, "stream", "Eicar-Signature", "FOUND", '\n', "stream: Eicar-Signature FOUND\n",
	       30);
	expect(0, NULL, "INSTREAM size limit exceeded.", "ERROR", '\n',
	       "INSTREAM size limit exceeded. ERROR\n", 36);
	expect(12, "/a b", "File path check failure: No such file or directory.", "ERROR", '\n',
	       "12: /a b: File path check failure: No such file or directory. ERROR\n", 68);
	expect(0, NULL, NULL, "UNKNOWN COMMAND", '\n', "UNKNOWN COMMAND\n", 16);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forms),     cmocka_unit_test(test_every_command),
	    cmocka_unit_test(test_arguments), cmocka_unit_test(test_incomplete_and_limits),
	    cmocka_unit_test(test_chunks),    cmocka_unit_test(test_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
