/* Unit tests of download: a digest names a file only in its one form;
 * "desired" is used only whole and valid; a download answer's bytes are
 * stored only inside the range asked and the size announced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "content/bundle.h"
#include "content/download.h"
#include "util/err.h"
#include "util/limits.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define URL DOWNLOAD_URL_PREFIX SHA

static void
test_sha_format(void **state)
{
	char s[80];

	(void)state;
	assert_true(download_sha_ok(SHA));
	assert_false(download_sha_ok(NULL));
	assert_false(download_sha_ok(""));
	/* The attack: a path padded to 64 characters. */
	assert_false(
	    download_sha_ok("../../../../tmp/x/./././././././././././././././././././././victim"));
	snprintf(s, sizeof(s), "%s", SHA);
	s[10] = 'A'; /* one form only: lowercase */
	assert_false(download_sha_ok(s));
	s[10] = 'g';
	assert_false(download_sha_ok(s));
	snprintf(s, sizeof(s), "%s", SHA);
	s[63] = '\0';
	assert_false(download_sha_ok(s));
	snprintf(s, sizeof(s), "%s0", SHA);
	assert_false(download_sha_ok(s));
	snprintf(s, sizeof(s), "%s/", SHA);
	assert_false(download_sha_ok(s));
}

/* Parses JSON text as a desired object: the return value, *t, d. */
static int
parse(const char *text, struct download_target *t, struct ward_diag *d)
{
	json_error_t je;
	json_t *o = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	int r;

	assert_non_null(o);
	r = download_target_parse(o, t, d);
	json_decref(o);
	return r;
}

static void
refused(const char *text, const char *field)
{
	struct download_target t;
	struct ward_diag d;
	static const struct download_target zero;

	if (parse(text, &t, &d) != WARD_EFORMAT)
		fail_msg("accepted: %s", text);
	if (strstr(d.msg, field) == NULL)
		fail_msg("%s: the message does not name %s: %s", text, field, d.msg);
	assert_memory_equal(&t, &zero, sizeof(t)); /* nothing of it to use */
}

static void
test_desired_valid(void **state)
{
	struct download_target t;
	struct ward_diag d;

	(void)state;
	assert_int_equal(parse("{\"version\": 7, \"sha256\": \"" SHA "\", \"size\": 1000, "
			       "\"url\": \"" URL "\", \"later\": [1]}",
			       &t, &d),
			 0);
	assert_int_equal(t.version, 7);
	assert_int_equal(t.rollback_from, 0);
	assert_int_equal(t.size, 1000);
	assert_string_equal(t.sha256, SHA);
	assert_string_equal(t.url, URL);
	assert_int_equal(parse("{\"rollback_from\": 3}", &t, &d), 0);
	assert_int_equal(t.rollback_from, 3);
	assert_int_equal(t.version, 0);
	assert_int_equal(parse("{}", &t, &d), 0);
	assert_int_equal(t.version, 0);
	assert_int_equal(parse("{\"rollback_from\": 3, \"version\": 2, \"sha256\": \"" SHA
			       "\", \"size\": 1073741824, \"url\": \"" URL "\"}",
			       &t, &d),
			 0);
	assert_int_equal(t.size, BUNDLE_MAX_SIZE);
}

static void
test_desired_refused(void **state)
{
	(void)state;
	refused("[]", "object");
	refused("{\"rollback_from\": 0}", "rollback_from");
	refused("{\"rollback_from\": \"3\"}", "rollback_from");
	refused("{\"version\": 0, \"sha256\": \"" SHA "\", \"size\": 1, \"url\": \"" URL "\"}",
		"version");
	refused("{\"version\": -4, \"sha256\": \"" SHA "\", \"size\": 1, \"url\": \"" URL "\"}",
		"version");
	refused("{\"version\": 1.5, \"sha256\": \"" SHA "\", \"size\": 1, \"url\": \"" URL "\"}",
		"version");
	refused("{\"version\": 9007199254740993, \"sha256\": \"" SHA "\", \"size\": 1, "
		"\"url\": \"" URL "\"}",
		"version");
	/* The traversal of the finding, 64 characters long. */
	refused("{\"version\": 2, \"sha256\": "
		"\"../../../../tmp/x/./././././././././././././././././././././victim\", "
		"\"size\": 1, \"url\": \"" URL "\"}",
		"sha256");
	refused("{\"version\": 2, \"size\": 1, \"url\": \"" URL "\"}", "sha256");
	refused("{\"version\": 2, \"sha256\": 5, \"size\": 1, \"url\": \"" URL "\"}", "sha256");
	/* A NUL inside: strlen would see a short, valid-looking prefix. */
	refused("{\"version\": 2, \"sha256\": \"" SHA "\\u0000\", \"size\": 1, \"url\": \"" URL
		"\"}",
		"sha256");
	refused("{\"version\": 2, \"sha256\": \"0123456789ABCDEF0123456789abcdef0123456789abcdef"
		"0123456789abcdef\", \"size\": 1, \"url\": \"" URL "\"}",
		"sha256");
	refused("{\"version\": 2, \"sha256\": \"" SHA "\", \"url\": \"" URL "\"}", "size");
	refused("{\"version\": 2, \"sha256\": \"" SHA "\", \"size\": 0, \"url\": \"" URL "\"}",
		"size");
	refused("{\"version\": 2, \"sha256\": \"" SHA "\", \"size\": -1, \"url\": \"" URL "\"}",
		"size");
	refused("{\"version\": 2, \"sha256\": \"" SHA "\", \"size\": 1073741825, \"url\": \"" URL
		"\"}",
		"size");
	refused("{\"version\": 2, \"sha256\": \"" SHA "\", \"size\": \"1\", \"url\": \"" URL "\"}",
		"size");
	refused("{\"version\": 2, \"sha256\": \"" SHA "\", \"size\": 1}", "url");
	refused("{\"version\": 2, \"sha256\": \"" SHA "\", \"size\": 1, \"url\": \"" URL "?x=1\"}",
		"url");
	refused("{\"version\": 2, \"sha256\": \"" SHA "\", \"size\": 1, \"url\": "
		"\"/api/v1/bundles/../../../etc/passwd\"}",
		"url");
	refused("{\"version\": 2, \"sha256\": \"" SHA "\", \"size\": 1, \"url\": "
		"\"//evil.example/api/v1/bundles/" SHA "\"}",
		"url");
	refused("{\"version\": 2, \"sha256\": \"" SHA "\", \"size\": 1, \"url\": "
		"\"https://evil.example" URL "\"}",
		"url");
	refused(
	    "{\"version\": 2, \"sha256\": \"" SHA "\", \"size\": 1, \"url\": "
	    "\"/api/v1/bundles/1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}",
	    "url");
}

static void
test_desired_message_is_printable(void **state)
{
	struct download_target t;
	struct ward_diag d;
	const char *c;

	(void)state;
	assert_int_equal(parse("{\"version\": 2, \"sha256\": \"a\\nforged log line\\u001b[31m\", "
			       "\"size\": 1, \"url\": \"" URL "\"}",
			       &t, &d),
			 WARD_EFORMAT);
	for (c = d.msg; *c != '\0'; c++)
		assert_true(*c >= 0x20 && *c < 0x7f);
	assert_non_null(strstr(d.msg, "a?forged log line?[31m"));
}

/* Feeds head lines (NULL-terminated) to a; returns the last result. */
static int
head(struct download_answer *a, ...)
{
	va_list ap;
	const char *line;
	int r = 0;

	va_start(ap, a);
	while ((line = va_arg(ap, const char *)) != NULL)
		r = download_answer_line(a, line, strlen(line));
	va_end(ap);
	return r;
}

static void
test_answer_resume(void **state)
{
	struct download_answer a;

	(void)state;
	download_answer_init(&a, 100, 1000);
	head(&a, "HTTP/1.1 206 Partial Content\r\n", "content-range: bytes 100-999/1000\r\n",
	     "Content-Length: 900\r\n", "\r\n", NULL);
	assert_int_equal(a.plan, DOWNLOAD_APPEND);
	assert_int_equal(download_answer_body(&a, 500), 1);
	assert_int_equal(download_answer_body(&a, 400), 1);
	assert_int_equal(download_answer_end(&a, 1), DOWNLOAD_COMPLETE);

	/* HTTP/2's status line, and a 206 to a request with nothing yet. */
	download_answer_init(&a, 0, 10);
	head(&a, "HTTP/2 206 \r\n", "Content-Range: bytes 0-9/10\r\n", "\r\n", NULL);
	assert_int_equal(a.plan, DOWNLOAD_APPEND);

	/* An interim 1xx head, then the real one. */
	download_answer_init(&a, 100, 1000);
	head(&a, "HTTP/1.1 100 Continue\r\n", "\r\n", NULL);
	assert_int_equal(a.plan, DOWNLOAD_PENDING);
	head(&a, "HTTP/1.1 206 OK\r\n", "Content-Range: bytes 100-999/1000\r\n", "\r\n", NULL);
	assert_int_equal(a.plan, DOWNLOAD_APPEND);
}

static void
discarded_206(const char *range_line, const char *length_line)
{
	struct download_answer a;

	download_answer_init(&a, 100, 1000);
	head(&a, "HTTP/1.1 206 Partial Content\r\n", range_line, length_line, "\r\n", NULL);
	if (a.plan != DOWNLOAD_DISCARD)
		fail_msg("not discarded: %s %s", range_line, length_line);
	/* its body is not stored, and only so much of it is read */
	assert_int_equal(download_answer_body(&a, 1000), 0);
	assert_int_equal(download_answer_body(&a, WARD_MAX_DOWNLOAD_JUNK), WARD_ELIMIT);
	assert_int_equal(download_answer_end(&a, 0), DOWNLOAD_DISCARD);
}

static void
test_answer_wrong_range(void **state)
{
	(void)state;
	discarded_206("Content-Range: bytes 0-999/1000\r\n", "X: y\r\n"); /* the finding */
	discarded_206("Content-Range: bytes 101-999/1000\r\n", "X: y\r\n");
	discarded_206("Content-Range: bytes 100-998/1000\r\n", "X: y\r\n");
	discarded_206("Content-Range: bytes 100-999/1001\r\n", "X: y\r\n");
	discarded_206("Content-Range: bytes 100-1999/2000\r\n", "X: y\r\n");
	discarded_206("Content-Range: bytes 100-999/*\r\n", "X: y\r\n");
	discarded_206("Content-Range: items 100-999/1000\r\n", "X: y\r\n");
	discarded_206("Content-Range: bytes 100-999/1000 x\r\n", "X: y\r\n");
	discarded_206("Content-Range: bytes 100-999/1000\r5\r\n", "X: y\r\n");
	discarded_206("Content-Range: bytes -100-999/1000\r\n", "X: y\r\n");
	discarded_206("Content-Range: bytes 100-99999999999999999999/1000\r\n", "X: y\r\n");
	discarded_206("X: y\r\n", "X: z\r\n"); /* none */
	discarded_206("Content-Range: bytes 100-999/1000\r\n",
		      "Content-Range: bytes 100-999/1000\r\n"); /* twice */
	discarded_206("Content-Range: bytes 100-999/1000\r\n", "Content-Length: 901\r\n");
	discarded_206("Content-Range: bytes 100-999/1000\r\n", "Content-Length: 9x\r\n");
	discarded_206("Content-Range: bytes 100-\r\n", " 999/1000\r\n"); /* folded */
	/* Not a Content-Range header, so none: a control byte in a name. */
	discarded_206("Content-Range\rX: bytes 100-999/1000\r\n", "X: y\r\n");
	discarded_206("Content-Range : bytes 100-999/1000\r\n", "X: y\r\n");
}

static void
test_answer_restart_and_size(void **state)
{
	struct download_answer a;

	(void)state;
	/* A 200 to a Range request: the whole bundle, from the start. */
	download_answer_init(&a, 100, 1000);
	head(&a, "HTTP/1.1 200 OK\r\n", "Transfer-Encoding: chunked\r\n", "\r\n", NULL);
	assert_int_equal(a.plan, DOWNLOAD_RESTART);
	assert_int_equal(download_answer_body(&a, 999), 1);
	/* Chunked: no length to check up front; the byte past the size is
	 * refused and the part is useless. */
	assert_int_equal(download_answer_body(&a, 2), WARD_ELIMIT);
	assert_int_equal(a.plan, DOWNLOAD_DISCARD);
	assert_int_equal(a.body, 999);
	assert_int_equal(download_answer_end(&a, 0), DOWNLOAD_DISCARD);
	assert_non_null(strstr(a.why, "more than the 1000 bytes"));

	/* Over the size on an appended range. */
	download_answer_init(&a, 600, 1000);
	head(&a, "HTTP/1.1 206 Partial Content\r\n", "Content-Range: bytes 600-999/1000\r\n",
	     "\r\n", NULL);
	assert_int_equal(download_answer_body(&a, 400), 1);
	assert_int_equal(download_answer_body(&a, 1), WARD_ELIMIT);
	assert_int_equal(a.plan, DOWNLOAD_DISCARD);

	/* A length that is not the announced size. */
	download_answer_init(&a, 0, 1000);
	head(&a, "HTTP/1.1 200 OK\r\n", "Content-Length: 1073741825\r\n", "\r\n", NULL);
	assert_int_equal(a.plan, DOWNLOAD_DISCARD);

	/* Cut short: what came is kept for the next request. */
	download_answer_init(&a, 0, 1000);
	head(&a, "HTTP/1.1 200 OK\r\n", "Content-Length: 1000\r\n", "\r\n", NULL);
	assert_int_equal(download_answer_body(&a, 300), 1);
	assert_int_equal(download_answer_end(&a, 0), DOWNLOAD_KEEP);
	assert_non_null(strstr(a.why, "300 of 1000"));

	/* A body that ends early without a transport error: the same. */
	download_answer_init(&a, 0, 1000);
	head(&a, "HTTP/1.1 200 OK\r\n", "\r\n", NULL);
	assert_int_equal(download_answer_end(&a, 1), DOWNLOAD_KEEP);

	/* Trailers after a chunked body change nothing. */
	download_answer_init(&a, 0, 4);
	head(&a, "HTTP/1.1 200 OK\r\n", "\r\n", NULL);
	assert_int_equal(download_answer_body(&a, 4), 1);
	assert_int_equal(head(&a, "Content-Range: bytes 9-9/10\r\n", "\r\n", NULL), 0);
	assert_int_equal(download_answer_end(&a, 1), DOWNLOAD_COMPLETE);
}

static void
test_answer_errors(void **state)
{
	struct download_answer a;
	char line[200];
	int i, r;

	(void)state;
	download_answer_init(&a, 10, 1000);
	head(&a, "HTTP/1.1 416 Range Not Satisfiable\r\n", "\r\n", NULL);
	assert_int_equal(a.plan, DOWNLOAD_DISCARD);
	download_answer_init(&a, 10, 1000);
	head(&a, "HTTP/1.1 404 Not Found\r\n", "\r\n", NULL);
	assert_int_equal(a.plan, DOWNLOAD_DISCARD);
	download_answer_init(&a, 10, 1000);
	head(&a, "HTTP/1.1 503 Busy\r\n", "Content-Length: 20\r\n", "\r\n", NULL);
	assert_int_equal(a.plan, DOWNLOAD_KEEP);
	assert_int_equal(download_answer_body(&a, 20), 0); /* dropped, not stored */
	assert_int_equal(download_answer_end(&a, 1), DOWNLOAD_KEEP);
	assert_string_equal(a.why, "the server answered 503");

	/* Malformed status lines. */
	download_answer_init(&a, 0, 1000);
	head(&a, "HTTP/1.1 2000 OK\r\n", "\r\n", NULL);
	assert_int_equal(a.plan, DOWNLOAD_KEEP);
	download_answer_init(&a, 0, 1000);
	head(&a, "ICY 200 OK\r\n", "\r\n", NULL);
	assert_int_equal(a.plan, DOWNLOAD_KEEP);
	download_answer_init(&a, 0, 1000);
	head(&a, "\r\n", NULL);
	assert_int_equal(a.plan, DOWNLOAD_KEEP);
	download_answer_init(&a, 0, 1000);
	head(&a, "HTTP/1.1 200 OK\r\n", "Content-Length: 1000\r\nX: 1\r\n", "\r\n", NULL);
	assert_int_equal(a.plan, DOWNLOAD_DISCARD);

	/* A body before any head. */
	download_answer_init(&a, 0, 1000);
	assert_int_equal(download_answer_body(&a, 1), WARD_EFORMAT);
	assert_int_equal(download_answer_end(&a, 1), DOWNLOAD_KEEP);
	download_answer_init(&a, 0, 1000);
	assert_int_equal(download_answer_end(&a, 0), DOWNLOAD_KEEP);

	/* A head without end. */
	download_answer_init(&a, 0, 1000);
	head(&a, "HTTP/1.1 200 OK\r\n", NULL);
	memset(line, 'x', sizeof(line) - 3);
	memcpy(line + sizeof(line) - 3, "\r\n", 3);
	for (i = 0, r = 0; i < 100000 && r == 0; i++)
		r = download_answer_line(&a, line, strlen(line));
	assert_int_equal(r, WARD_ELIMIT);
	assert_true(a.head <= WARD_MAX_DOWNLOAD_HEAD);
	assert_int_equal(download_answer_end(&a, 0), DOWNLOAD_KEEP);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha_format),
	    cmocka_unit_test(test_desired_valid),
	    cmocka_unit_test(test_desired_refused),
	    cmocka_unit_test(test_desired_message_is_printable),
	    cmocka_unit_test(test_answer_resume),
	    cmocka_unit_test(test_answer_wrong_range),
	    cmocka_unit_test(test_answer_restart_and_size),
	    cmocka_unit_test(test_answer_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
