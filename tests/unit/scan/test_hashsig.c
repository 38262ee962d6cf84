/*
 * Unit tests of lib/scan/hashsig: every parser message with its column,
 * hash list files, lookups and size filtering, save/load round trip and
 * damaged binary forms, allocation failures.
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

#include "scan/hashsig.h"
#include "util/alloc.h"
#include "util/limits.h"

#define H_ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define H_ABC_MD5 "900150983cd24fb0d6963f7d28e17f72"
#define H_ABC_SM3 "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"

/* Parses line; checks the error code, column and that msg is in the message. */
static void
expect_err(const char *line, int err, int col, const char *msg)
{
	struct hashsig_sig sig;
	struct ward_diag d;
	int is_sig = 7;

	diag_clear(&d);
	assert_int_equal(hashsig_parse_line(line, strlen(line), &sig, &is_sig, "h.txt", 4, &d),
			 err);
	assert_int_equal(is_sig, 0);
	assert_string_equal(d.file, "h.txt");
	assert_int_equal(d.line, 4);
	if (d.col != col || strstr(d.msg, msg) == NULL)
		fail_msg("line '%s': got col %d msg '%s', want col %d '%s'", line, d.col, d.msg,
			 col, msg);
}

static void
test_parse_ok(void **state)
{
	struct hashsig_sig sig;
	uint8_t want[32];
	size_t n;
	int is_sig;
	const char *l = "  SHA256:" H_ABC_SHA256 ":3:Test.Abc-1 x \r";

	assert_int_equal(hashsig_parse_line(l, strlen(l), &sig, &is_sig, NULL, 1, NULL), 0);
	assert_int_equal(is_sig, 1);
	assert_int_equal(sig.alg, DIGEST_SHA256);
	assert_int_equal(sig.size, 3);
	assert_int_equal(sig.name_len, 12);
	assert_memory_equal(sig.name, "Test.Abc-1 x", 12);
	assert_int_equal(digest_from_hex(H_ABC_SHA256, 64, want, 32, &n), 0);
	assert_memory_equal(sig.digest, want, 32);

	l = "md5:900150983CD24FB0D6963F7D28E17F72:*:a:b:c";
	assert_int_equal(hashsig_parse_line(l, strlen(l), &sig, &is_sig, NULL, 1, NULL), 0);
	assert_int_equal(is_sig, 1);
	assert_int_equal(sig.alg, DIGEST_MD5);
	assert_true(sig.size == HASHSIG_ANY_SIZE);
	assert_int_equal(sig.name_len, 5);
	assert_int_equal(sig.digest[16], 0);
	assert_int_equal(sig.digest[0], 0x90);

	/* SHA-1, as ClamAV's .hsb lists have it (40 digits) */
	l = "SHA1:a9993e364706816aba3e25717850c26c9cd0d89d:3:Abc.Sha1";
	assert_int_equal(hashsig_parse_line(l, strlen(l), &sig, &is_sig, NULL, 1, NULL), 0);
	assert_int_equal(sig.alg, DIGEST_SHA1);
	assert_int_equal(sig.digest[0], 0xa9);
	assert_int_equal(sig.digest[19], 0x9d);
	assert_int_equal(sig.digest[20], 0);

	l = "sm3:" H_ABC_SM3 ":9223372036854775807:big";
	assert_int_equal(hashsig_parse_line(l, strlen(l), &sig, &is_sig, NULL, 1, NULL), 0);
	assert_int_equal(sig.alg, DIGEST_SM3);
	assert_true(sig.size == (uint64_t)INT64_MAX);

	/* blank and comment lines */
	assert_int_equal(hashsig_parse_line("", 0, &sig, &is_sig, NULL, 1, NULL), 0);
	assert_int_equal(is_sig, 0);
	assert_int_equal(hashsig_parse_line(" \t\r", 3, &sig, &is_sig, NULL, 1, NULL), 0);
	assert_int_equal(is_sig, 0);
	assert_int_equal(hashsig_parse_line("  # x:y", 7, &sig, &is_sig, NULL, 1, NULL), 0);
	assert_int_equal(is_sig, 0);
	assert_int_equal(hashsig_parse_line(NULL, 0, &sig, &is_sig, NULL, 1, NULL), 0);
	assert_int_equal(is_sig, 0);
	/* the line need not be NUL-terminated: only len bytes are read */
	l = "md5:" H_ABC_MD5 ":3:nameXYZ";
	assert_int_equal(hashsig_parse_line(l, strlen(l) - 3, &sig, &is_sig, NULL, 1, NULL), 0);
	assert_int_equal(sig.name_len, 4);
}

static void
test_parse_errors(void **state)
{
	char big[WARD_MAX_HASH_LINE + 2];
	char name[WARD_MAX_SIG_NAME + 80];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_err(big, WARD_ELIMIT, WARD_MAX_HASH_LINE + 1, "line is longer than 1024 bytes");
	expect_err(":" H_ABC_MD5 ":3:x", WARD_ESYNTAX, 1, "missing hash algorithm");
	expect_err("  sha512:" H_ABC_MD5 ":3:x", WARD_ESYNTAX, 3,
		   "unknown hash algorithm 'sha512' (expected sha256, sha1, md5 or sm3)");
	expect_err("sha1:" H_ABC_MD5 ":3:x", WARD_ESYNTAX, 6,
		   "sha1 hash must have 40 hex digits, not 32");
	expect_err("sh\x01:" H_ABC_MD5 ":3:x", WARD_ESYNTAX, 1, "unknown hash algorithm (expected");
	expect_err("sha256", WARD_ESYNTAX, 7, "expected ':' after hash algorithm");
	expect_err("garbage line", WARD_ESYNTAX, 1, "unknown hash algorithm 'garbage line'");
	expect_err("md5:900150983cd24fb0d6963f7d28e17g72:3:x", WARD_ESYNTAX, 5 + 29,
		   "invalid hex digit 'g' in hash");
	expect_err("md5:900150983cd24fb0 6963f7d28e17f72:3:x", WARD_ESYNTAX, 5 + 16,
		   "invalid character 0x20 in hash");
	expect_err("md5::3:x", WARD_ESYNTAX, 5, "missing hash");
	expect_err("md5:" H_ABC_SHA256 ":3:x", WARD_ESYNTAX, 5,
		   "md5 hash must have 32 hex digits, not 64");
	expect_err("sha256:" H_ABC_MD5 ":3:x", WARD_ESYNTAX, 8,
		   "sha256 hash must have 64 hex digits, not 32");
	expect_err("sm3:abc:3:x", WARD_ESYNTAX, 5, "sm3 hash must have 64 hex digits, not 3");
	expect_err("md5:" H_ABC_MD5, WARD_ESYNTAX, 37, "expected ':' after hash");
	expect_err("md5:" H_ABC_MD5 ":12a:x", WARD_ESYNTAX, 40, "invalid size: expected");
	expect_err("md5:" H_ABC_MD5 ":-1:x", WARD_ESYNTAX, 38, "invalid size: expected");
	expect_err("md5:" H_ABC_MD5 ":*1:x", WARD_ESYNTAX, 39, "invalid size: expected");
	expect_err("md5:" H_ABC_MD5 "::x", WARD_ESYNTAX, 38, "missing size");
	expect_err("md5:" H_ABC_MD5 ":", WARD_ESYNTAX, 38, "missing size");
	expect_err("md5:" H_ABC_MD5 ":9223372036854775808:x", WARD_ESYNTAX, 38,
		   "size is too large");
	expect_err("md5:" H_ABC_MD5 ":99999999999999999999999:x", WARD_ESYNTAX, 38,
		   "size is too large");
	expect_err("md5:" H_ABC_MD5 ":12", WARD_ESYNTAX, 40, "expected ':' after size");
	expect_err("md5:" H_ABC_MD5 ":*", WARD_ESYNTAX, 39, "expected ':' after size");
	expect_err("md5:" H_ABC_MD5 ":12:", WARD_ESYNTAX, 41, "missing signature name");
	expect_err("md5:" H_ABC_MD5 ":12:  \t ", WARD_ESYNTAX, 41, "missing signature name");
	expect_err("md5:" H_ABC_MD5 ":12: x", WARD_ESYNTAX, 41,
		   "signature name must not start with a space");
	expect_err("md5:" H_ABC_MD5 ":12:ab\tc", WARD_ESYNTAX, 43,
		   "invalid character 0x09 in signature name");
	expect_err("md5:" H_ABC_MD5 ":12:ab\x7f", WARD_ESYNTAX, 43,
		   "invalid character 0x7f in signature name");
	expect_err("md5:" H_ABC_MD5 ":12:ab\xc3\xa9", WARD_ESYNTAX, 43,
		   "invalid character 0xc3 in signature name");
	strcpy(name, "md5:" H_ABC_MD5 ":12:");
	memset(name + strlen(name), 'n', WARD_MAX_SIG_NAME + 1);
	name[40 + WARD_MAX_SIG_NAME + 1] = '\0';
	expect_err(name, WARD_ELIMIT, 41, "signature name is longer than 256 bytes");
	name[40 + WARD_MAX_SIG_NAME] = '\0'; /* exactly the limit is fine */
	{
		struct hashsig_sig sig;
		int is_sig;

		assert_int_equal(
		    hashsig_parse_line(name, strlen(name), &sig, &is_sig, NULL, 1, NULL), 0);
		assert_int_equal(sig.name_len, WARD_MAX_SIG_NAME);
	}
	/* a NUL inside the line is an ordinary bad byte */
	{
		static const char nul[] = "md5:" H_ABC_MD5 ":1:a\0b";
		struct hashsig_sig sig;
		int is_sig;
		struct ward_diag d;

		assert_int_equal(
		    hashsig_parse_line(nul, sizeof(nul) - 1, &sig, &is_sig, "f", 1, &d),
		    WARD_ESYNTAX);
		assert_int_equal(d.col, 41);
	}
}

static struct hashsig_set *
make_set(const char *const *lines, size_t n)
{
	struct hashsig_set *s = NULL;
	struct ward_diag d;
	size_t i;

	assert_int_equal(hashsig_new(&s), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(
		    hashsig_add_line(s, "x", (int)i + 1, lines[i], strlen(lines[i]), &d), 0);
	assert_int_equal(hashsig_finish(s), 0);
	return s;
}

static void
hexd(const char *hex, uint8_t *out)
{
	size_t n;

	assert_int_equal(digest_from_hex(hex, strlen(hex), out, 32, &n), 0);
}

static const char *const lines1[] = {
    "sha256:" H_ABC_SHA256 ":3:Abc.Sha",
    "sha256:" H_ABC_SHA256 ":*:Abc.ShaAny",
    "sha256:" H_ABC_SHA256 ":3:Abc.ShaDup",
    "md5:" H_ABC_MD5 ":100:Abc.Md5At100",
    "sm3:" H_ABC_SM3 ":*:Abc.Sm3",
    "# comment",
    "",
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855:0:Empty",
    "md5:d41d8cd98f00b204e9800998ecf8427e:77:Md5At77",
};

static void
test_lookup(void **state)
{
	struct hashsig_set *s = make_set(lines1, sizeof(lines1) / sizeof(lines1[0]));
	uint8_t sha[32], md5[32], sm3[32], zero[32] = {0};
	unsigned m = 99;

	assert_int_equal(hashsig_count(s), 7);
	assert_int_equal(hashsig_algs(s), DIGEST_BIT(DIGEST_SHA256) | DIGEST_BIT(DIGEST_MD5) |
					      DIGEST_BIT(DIGEST_SM3));
	hexd(H_ABC_SHA256, sha);
	hexd(H_ABC_MD5, md5);
	hexd(H_ABC_SM3, sm3);
	/* exact size beats `*`, and the first added of equal ones wins */
	assert_string_equal(hashsig_lookup(s, DIGEST_SHA256, sha, 3), "Abc.Sha");
	assert_string_equal(hashsig_lookup(s, DIGEST_SHA256, sha, 4), "Abc.ShaAny");
	assert_string_equal(hashsig_lookup(s, DIGEST_SHA256, sha, 0), "Abc.ShaAny");
	assert_null(hashsig_lookup(s, DIGEST_MD5, md5, 3));
	assert_string_equal(hashsig_lookup(s, DIGEST_MD5, md5, 100), "Abc.Md5At100");
	assert_string_equal(hashsig_lookup(s, DIGEST_SM3, sm3, 12345), "Abc.Sm3");
	assert_null(hashsig_lookup(s, DIGEST_SHA256, sm3, 3)); /* digest of another alg */
	assert_null(hashsig_lookup(s, DIGEST_SHA256, zero, 3));
	assert_null(hashsig_lookup(s, (enum digest_alg)5, sha, 3));

	/* sizes: `*` for sha256 and sm3 means every size is hashed with them */
	assert_int_equal(hashsig_wants_size(s, 5, &m), 1);
	assert_int_equal(m, DIGEST_BIT(DIGEST_SHA256) | DIGEST_BIT(DIGEST_SM3));
	assert_int_equal(hashsig_wants_size(s, 100, &m), 1);
	assert_int_equal(m, DIGEST_BIT(DIGEST_SHA256) | DIGEST_BIT(DIGEST_SM3) |
				DIGEST_BIT(DIGEST_MD5));
	assert_int_equal(hashsig_wants_size(s, 77, &m), 1);
	assert_true(m & DIGEST_BIT(DIGEST_MD5));
	assert_int_equal(hashsig_wants_size(s, 78, &m), 1);
	assert_false(m & DIGEST_BIT(DIGEST_MD5));
	hashsig_free(s);
	hashsig_free(NULL);
}

static void
test_size_filter(void **state)
{
	static const char *const l[] = {
	    "sha256:" H_ABC_SHA256 ":3:A",
	    "sha256:" H_ABC_SHA256 ":1000:B",
	    "md5:" H_ABC_MD5 ":1000:C",
	    "sm3:" H_ABC_SM3 ":0:D",
	};
	struct hashsig_set *s = make_set(l, 4);
	uint8_t sha[32];
	unsigned m = 99;
	uint64_t sz;

	assert_int_equal(hashsig_wants_size(s, 3, &m), 1);
	assert_int_equal(m, DIGEST_BIT(DIGEST_SHA256));
	assert_int_equal(hashsig_wants_size(s, 1000, &m), 1);
	assert_int_equal(m, DIGEST_BIT(DIGEST_SHA256) | DIGEST_BIT(DIGEST_MD5));
	assert_int_equal(hashsig_wants_size(s, 0, &m), 1);
	assert_int_equal(m, DIGEST_BIT(DIGEST_SM3));
	for (sz = 1; sz < 2000; sz++)
		if (sz != 3 && sz != 1000) {
			assert_int_equal(hashsig_wants_size(s, sz, &m), 0);
			assert_int_equal(m, 0);
		}
	assert_int_equal(hashsig_wants_size(s, UINT64_MAX, &m), 0);

	/* adding unfinishes the set: lookups answer nothing until finish */
	hexd(H_ABC_SHA256, sha);
	assert_int_equal(hashsig_add_line(s, "x", 1, "sha256:" H_ABC_SHA256 ":5:E",
					  strlen("sha256:" H_ABC_SHA256 ":5:E"), NULL),
			 0);
	assert_int_equal(hashsig_wants_size(s, 3, &m), 0);
	assert_null(hashsig_lookup(s, DIGEST_SHA256, sha, 3));
	assert_int_equal(hashsig_finish(s), 0);
	assert_int_equal(hashsig_finish(s), 0);
	assert_string_equal(hashsig_lookup(s, DIGEST_SHA256, sha, 5), "E");
	assert_string_equal(hashsig_lookup(s, DIGEST_SHA256, sha, 3), "A");
	assert_int_equal(hashsig_wants_size(s, 5, &m), 1);
	hashsig_free(s);

	/* an empty set wants nothing */
	assert_int_equal(hashsig_new(&s), 0);
	assert_int_equal(hashsig_finish(s), 0);
	assert_int_equal(hashsig_wants_size(s, 3, &m), 0);
	assert_int_equal(hashsig_count(s), 0);
	assert_int_equal(hashsig_algs(s), 0);
	hashsig_free(s);
}

/* Many signatures: lookups of every one, and of absent ones. */
static void
test_many(void **state)
{
	struct hashsig_set *s = NULL;
	char line[200], hex[65];
	uint8_t d[32];
	unsigned m;
	int i;

	assert_int_equal(hashsig_new(&s), 0);
	for (i = 0; i < 20000; i++) {
		uint32_t x = (uint32_t)i * 2654435761u;

		memset(d, 0, sizeof(d));
		memcpy(d, &x, sizeof(x));
		assert_int_equal(digest_to_hex(d, 32, hex, sizeof(hex)), 0);
		snprintf(line, sizeof(line), "sha256:%s:%d:S%d", hex, i * 3, i);
		assert_int_equal(hashsig_add_line(s, "x", i + 1, line, strlen(line), NULL), 0);
	}
	assert_int_equal(hashsig_finish(s), 0);
	for (i = 0; i < 20000; i++) {
		uint32_t x = (uint32_t)i * 2654435761u;

		snprintf(line, sizeof(line), "S%d", i);
		memset(d, 0, sizeof(d));
		memcpy(d, &x, sizeof(x));
		assert_string_equal(hashsig_lookup(s, DIGEST_SHA256, d, (uint64_t)i * 3), line);
		assert_null(hashsig_lookup(s, DIGEST_SHA256, d, (uint64_t)i * 3 + 1));
		assert_int_equal(hashsig_wants_size(s, (uint64_t)i * 3, &m), 1);
		assert_int_equal(hashsig_wants_size(s, (uint64_t)i * 3 + 1, &m), 0);
	}
	hashsig_free(s);
}

static char *
write_tmp(const char *content, size_t len)
{
	char *path = strdup("/tmp/ward_hs_XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

static void
test_file(void **state)
{
	static const char good[] = "# hash list\r\n"
				   "sha256:" H_ABC_SHA256 ":3:A\r\n"
				   "\n"
				   "md5:" H_ABC_MD5 ":3:B"; /* no final newline */
	static const char bad[] = "sha256:" H_ABC_SHA256 ":3:A\n"
				  "\n"
				  "md5:" H_ABC_MD5 ":3x:B\n";
	struct hashsig_set *s = NULL;
	struct ward_diag d;
	char msg[1200];
	char *p;
	uint8_t md5[32];

	p = write_tmp(good, sizeof(good) - 1);
	assert_int_equal(hashsig_new(&s), 0);
	assert_int_equal(hashsig_add_file(s, p, &d), 0);
	assert_int_equal(hashsig_count(s), 2);
	assert_int_equal(hashsig_finish(s), 0);
	hexd(H_ABC_MD5, md5);
	assert_string_equal(hashsig_lookup(s, DIGEST_MD5, md5, 3), "B");
	unlink(p);
	free(p);

	p = write_tmp(bad, sizeof(bad) - 1);
	diag_clear(&d);
	assert_int_equal(hashsig_add_file(s, p, &d), WARD_ESYNTAX);
	diag_format(&d, msg, sizeof(msg));
	assert_string_equal(d.file, p);
	assert_int_equal(d.line, 3);
	assert_int_equal(d.col, 39);
	assert_non_null(strstr(msg, ":3:39: invalid size"));
	unlink(p);
	free(p);

	/* a line longer than the limit, in the middle of a big file */
	{
		size_t n = 200000, i;
		char *big = malloc(n);

		for (i = 0; i < n; i++)
			big[i] = (i % 100 == 99) ? '\n' : '#';
		memset(big + 150000, 'x', 5000);
		p = write_tmp(big, n);
		free(big);
		diag_clear(&d);
		assert_int_equal(hashsig_add_file(s, p, &d), WARD_ELIMIT);
		assert_int_equal(d.line, 1501);
		unlink(p);
		free(p);
	}

	diag_clear(&d);
	assert_int_equal(hashsig_add_file(s, "/nonexistent/ward/list", &d), WARD_EIO);
	assert_non_null(strstr(d.msg, "cannot open: No such file"));
	diag_clear(&d);
	assert_int_equal(hashsig_add_file(s, "/tmp", &d), WARD_EIO);
	assert_non_null(strstr(d.msg, "cannot read"));
	hashsig_free(s);
}

static void
save(const struct hashsig_set *s, struct wbuf *w)
{
	wbuf_init(w);
	assert_int_equal(hashsig_save(s, w), 0);
}

/* `>5` (ClamAV's `*`): any size above 5 only; lookup_all names a sized, a
 * `*` and a `>5` signature of one hash, as clamscan reports its sized and
 * `*` tables; a saved set keeps `>5`. */
static void
test_above5(void **state)
{
	static const char *const l[] = {
	    "sha256:" H_ABC_SHA256 ":>5:Clam.Any",
	    "sha256:" H_ABC_SHA256 ":9:Clam.Sized",
	    "sha256:" H_ABC_SHA256 ":*:Own.Any",
	    "md5:" H_ABC_MD5 ":>5:Clam.Md5",
	};
	struct hashsig_set *s = make_set(l, 4), *t = NULL;
	const char *names[3];
	uint8_t sha[32], md5[32];
	struct wbuf w;
	struct rbuf b;
	unsigned m = 99;

	(void)state;
	hexd(H_ABC_SHA256, sha);
	hexd(H_ABC_MD5, md5);
	assert_int_equal(hashsig_wants_size(s, 5, &m), 1);
	assert_int_equal(m, DIGEST_BIT(DIGEST_SHA256)); /* Own.Any only */
	assert_int_equal(hashsig_wants_size(s, 6, &m), 1);
	assert_int_equal(m, DIGEST_BIT(DIGEST_SHA256) | DIGEST_BIT(DIGEST_MD5));
	assert_int_equal(hashsig_lookup_all(s, DIGEST_SHA256, sha, 9, names), 3);
	assert_string_equal(names[0], "Clam.Sized");
	assert_string_equal(names[1], "Own.Any");
	assert_string_equal(names[2], "Clam.Any");
	assert_int_equal(hashsig_lookup_all(s, DIGEST_SHA256, sha, 5, names), 1);
	assert_string_equal(names[0], "Own.Any");
	assert_int_equal(hashsig_lookup_all(s, DIGEST_MD5, md5, 5, names), 0);
	assert_int_equal(hashsig_lookup_all(s, DIGEST_MD5, md5, 6, names), 1);
	assert_string_equal(names[0], "Clam.Md5");
	save(s, &w);
	rbuf_init(&b, w.p, w.len);
	assert_int_equal(hashsig_load(&b, &t), 0);
	assert_int_equal(hashsig_lookup_all(t, DIGEST_MD5, md5, 5, names), 0);
	assert_int_equal(hashsig_lookup_all(t, DIGEST_MD5, md5, 7, names), 1);
	wbuf_free(&w);
	hashsig_free(t);
	hashsig_free(s);
}

static void
test_roundtrip(void **state)
{
	struct hashsig_set *s = make_set(lines1, sizeof(lines1) / sizeof(lines1[0]));
	struct hashsig_set *t = NULL;
	struct wbuf w, w2;
	struct rbuf b;
	uint8_t sha[32], md5[32];
	unsigned m;

	save(s, &w);
	wbuf_u32(&w, 0xdeadbeef); /* trailing bytes belong to the caller */
	rbuf_init(&b, w.p, w.len);
	assert_int_equal(hashsig_load(&b, &t), 0);
	assert_int_equal(rbuf_left(&b), 4);
	assert_int_equal(hashsig_count(t), hashsig_count(s));
	hexd(H_ABC_SHA256, sha);
	hexd(H_ABC_MD5, md5);
	assert_string_equal(hashsig_lookup(t, DIGEST_SHA256, sha, 3), "Abc.Sha");
	assert_string_equal(hashsig_lookup(t, DIGEST_SHA256, sha, 9), "Abc.ShaAny");
	assert_string_equal(hashsig_lookup(t, DIGEST_MD5, md5, 100), "Abc.Md5At100");
	assert_int_equal(hashsig_wants_size(t, 77, &m), 1);
	assert_true(m & DIGEST_BIT(DIGEST_MD5));
	/* saving the loaded set gives the same bytes */
	save(t, &w2);
	assert_int_equal(w2.len, w.len - 4);
	assert_memory_equal(w2.p, w.p, w2.len);
	wbuf_free(&w2);
	hashsig_free(t);
	wbuf_free(&w);
	hashsig_free(s);

	/* an unfinished set is not saved */
	assert_int_equal(hashsig_new(&s), 0);
	assert_int_equal(hashsig_add_line(s, "x", 1, lines1[0], strlen(lines1[0]), NULL), 0);
	wbuf_init(&w);
	assert_int_equal(hashsig_save(s, &w), WARD_EINVAL);
	wbuf_free(&w);
	hashsig_free(s);
}

static int
try_load(const uint8_t *p, size_t n)
{
	struct hashsig_set *t = (struct hashsig_set *)1;
	struct rbuf b;
	int r;

	rbuf_init(&b, p, n);
	r = hashsig_load(&b, &t);
	if (r == 0) {
		hashsig_free(t);
	} else {
		assert_null(t);
		assert_int_equal(b.off, 0);
	}
	return r;
}

static void
test_damaged(void **state)
{
	static const char *const l[] = {
	    "md5:" H_ABC_MD5 ":3:A",
	    "md5:d41d8cd98f00b204e9800998ecf8427e:5:B",
	};
	struct hashsig_set *s = make_set(l, 2);
	struct wbuf w;
	uint8_t *c;
	size_t i, name_off;

	save(s, &w);
	hashsig_free(s);
	assert_int_equal(try_load(w.p, w.len), 0);
	/* every truncation is refused */
	for (i = 0; i < w.len; i++)
		assert_int_not_equal(try_load(w.p, i), 0);
	c = malloc(w.len);
	/* magic, version */
	memcpy(c, w.p, w.len);
	c[0] ^= 1;
	assert_int_equal(try_load(c, w.len), WARD_EFORMAT);
	memcpy(c, w.p, w.len);
	c[4] = 2;
	assert_int_equal(try_load(c, w.len), WARD_EVERSION);
	/* sha256 count larger than the limit, then larger than the bytes left */
	memcpy(c, w.p, w.len);
	c[8] = 0x81, c[9] = 0x96, c[10] = 0x98, c[11] = 0x00; /* 10000001 */
	assert_int_equal(try_load(c, w.len), WARD_ELIMIT);
	memcpy(c, w.p, w.len);
	c[8] = 1;
	assert_int_equal(try_load(c, w.len), WARD_EFORMAT);
	memcpy(c, w.p, w.len);
	c[12] = 3; /* md5 count */
	assert_int_equal(try_load(c, w.len), WARD_EFORMAT);
	/* layout: 8 header, 4 sha256 count, 4 md5 count, entries of 16+8+4+1 */
	name_off = 16 + 16 + 8 + 4;
	memcpy(c, w.p, w.len);
	assert_int_equal(c[name_off], 'A');
	c[name_off] = '\n';
	assert_int_equal(try_load(c, w.len), WARD_EFORMAT);
	memcpy(c, w.p, w.len);
	c[name_off] = ' ';
	assert_int_equal(try_load(c, w.len), WARD_EFORMAT);
	memcpy(c, w.p, w.len);
	c[name_off - 4] = 0; /* empty name: then the bytes no longer line up */
	assert_int_not_equal(try_load(c, w.len), 0);
	memcpy(c, w.p, w.len);
	c[16 + 16 + 7] = 0x80; /* size > INT64_MAX and not `*` */
	assert_int_equal(try_load(c, w.len), WARD_EFORMAT);
	memcpy(c, w.p, w.len);
	c[16] = 0xff; /* first md5 digest now sorts after the second */
	assert_int_equal(try_load(c, w.len), WARD_EFORMAT);
	memcpy(c, w.p, w.len);
	memset(c + 16 + 16, 0xff, 8); /* `*` is fine */
	assert_int_equal(try_load(c, w.len), 0);
	free(c);
	wbuf_free(&w);
}

static void
test_alloc_fail(void **state)
{
	struct hashsig_set *s = NULL;
	struct wbuf w;
	unsigned long n, i;
	int r;

	s = make_set(lines1, sizeof(lines1) / sizeof(lines1[0]));
	save(s, &w);
	hashsig_free(s);
	/* loading under every allocation failure fails cleanly or succeeds */
	alloc_fail_after(0);
	assert_int_equal(try_load(w.p, w.len), 0);
	n = alloc_fail_after(0);
	for (i = 1; i <= n; i++) {
		alloc_fail_after(i);
		r = try_load(w.p, w.len);
		alloc_fail_after(0);
		assert_int_equal(r, WARD_ENOMEM);
	}
	/* building */
	for (i = 1; i < 40; i++) {
		struct ward_diag d;
		size_t k;

		assert_int_equal(hashsig_new(&s), 0);
		alloc_fail_after(i);
		r = 0;
		for (k = 0; k < sizeof(lines1) / sizeof(lines1[0]) && r == 0; k++)
			r = hashsig_add_line(s, "x", 1, lines1[k], strlen(lines1[k]), &d);
		if (r == 0)
			r = hashsig_finish(s);
		alloc_fail_after(0);
		assert_true(r == 0 || r == WARD_ENOMEM);
		hashsig_free(s);
	}
	wbuf_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ok),   cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_lookup),     cmocka_unit_test(test_size_filter),
	    cmocka_unit_test(test_many),       cmocka_unit_test(test_file),
	    cmocka_unit_test(test_roundtrip),  cmocka_unit_test(test_damaged),
	    cmocka_unit_test(test_alloc_fail), cmocka_unit_test(test_above5),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
