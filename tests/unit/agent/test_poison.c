/*
 * Unit tests of poison, the list of files that crashed a scanner: a file
 * is found again only when dev, ino, size, mtime and hash all agree (a
 * change to any makes it an ordinary file); the list stays bounded,
 * dropping the oldest; it round-trips through STATE_DIR/poison, with a
 * path holding a newline, a backslash and non-ASCII bytes; hostile lines
 * (short hash, overflowing numbers, a NUL escape, a cut last line) are
 * skipped; and the crash rule: N crashes on one file never put the
 * content at fault, K different files within the window do, and crashes
 * outside the window or with another version do not.
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

#include "agent/poison.h"
#include "util/alloc.h"

static void
entry(struct poison_entry *e, uint64_t ino, char hexdigit, int64_t when, int64_t version)
{
	memset(e, 0, sizeof(*e));
	e->dev = 2049;
	e->ino = ino;
	e->size = 100;
	e->mtime_ns = 1700000000123456789LL;
	memset(e->sha256, hexdigit, 64);
	e->when = when;
	e->version = version;
	snprintf(e->path, sizeof(e->path), "/srv/f%llu", (unsigned long long)ino);
}

static void
test_record_match(void **state)
{
	static struct poison_list l;
	struct poison_entry e;
	char sha[65];

	(void)state;
	entry(&e, 7, 'a', 1000, 3);
	poison_record(&l, &e);
	assert_int_equal(l.n, 1);
	memset(sha, 'a', 64);
	sha[64] = '\0';
	assert_true(poison_maybe(&l, 2049, 7, 100, e.mtime_ns));
	assert_non_null(poison_find(&l, 2049, 7, 100, e.mtime_ns, sha));
	/* any of the five differs: not that file */
	assert_false(poison_maybe(&l, 2050, 7, 100, e.mtime_ns));
	assert_false(poison_maybe(&l, 2049, 8, 100, e.mtime_ns));
	assert_false(poison_maybe(&l, 2049, 7, 101, e.mtime_ns));
	assert_false(poison_maybe(&l, 2049, 7, 100, e.mtime_ns + 1));
	sha[0] = 'b';
	assert_null(poison_find(&l, 2049, 7, 100, e.mtime_ns, sha));
	/* the same file again replaces its entry */
	e.when = 2000;
	poison_record(&l, &e);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.e[0].when, 2000);
}

static void
test_bound(void **state)
{
	static struct poison_list l;
	struct poison_entry e;
	unsigned i;

	(void)state;
	for (i = 0; i < POISON_MAX + 10; i++) {
		entry(&e, 100 + i, 'c', 5000 + i, 1);
		poison_record(&l, &e);
	}
	assert_int_equal(l.n, POISON_MAX);
	/* the oldest ten went */
	for (i = 0; i < 10; i++)
		assert_false(poison_maybe(&l, 2049, 100 + i, 100, e.mtime_ns));
	assert_true(poison_maybe(&l, 2049, 100 + POISON_MAX + 9, 100, e.mtime_ns));
}

static void
test_persistence(void **state)
{
	static struct poison_list l, back;
	struct poison_entry e;
	char dir[] = "/tmp/test_poison.XXXXXX", path[64];
	struct ward_diag d;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(poison_load(dir, &back, &d), 0); /* none yet */
	assert_int_equal(back.n, 0);
	entry(&e, 1, 'd', 1, 9);
	snprintf(e.path, sizeof(e.path), "/srv/a b\nc\\d\xc3\xa9");
	poison_record(&l, &e);
	entry(&e, 2, 'e', 2, -1);
	e.mtime_ns = -5;
	poison_record(&l, &e);
	assert_int_equal(poison_save(dir, &l, &d), 0);
	assert_int_equal(poison_load(dir, &back, &d), 0);
	assert_int_equal(back.n, 2);
	assert_memory_equal(&back.e[0], &l.e[0], sizeof(l.e[0]));
	assert_memory_equal(&back.e[1], &l.e[1], sizeof(l.e[1]));
	snprintf(path, sizeof(path), "%s/%s", dir, POISON_FILE);
	unlink(path);
	rmdir(dir);
}

static void
test_hostile_lines(void **state)
{
	static struct poison_list l;
	static const char *const bad[] = {
	    "1 2 3 4 aaaa 5 6 /p\n", /* short hash */
	    "1 2 3 4 gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg 5 6 /p\n",
	    "99999999999999999999999 2 3 4 "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 5 6 /p\n",
	    "-1 2 3 4 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 5 6 /p\n",
	    "1 2 3 4 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 5 6 /\\x00\n",
	    "1 2 3 4 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 5 6 /\\x4\n",
	    "1 2 3 4 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 5 6 /\t\n",
	    "1 2 3 4 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 5\n",
	    "1 2 3 4 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 5 6 /cut",
	};
	static const char good[] =
	    "1 2 3 4 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 5 6 /p\n";
	char *long_path;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		poison_parse(bad[i], strlen(bad[i]), &l);
		if (l.n != 0)
			fail_msg("hostile line %zu taken", i);
	}
	poison_parse(good, strlen(good), &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.e[0].path, "/p");
	/* a path longer than an entry holds */
	long_path = ward_malloc(sizeof(good) + POISON_PATH_MAX);
	memcpy(long_path, good, sizeof(good) - 4); /* up to the path's "/p\n" */
	memset(long_path + sizeof(good) - 4, 'x', POISON_PATH_MAX);
	strcpy(long_path + sizeof(good) - 4 + POISON_PATH_MAX, "\n");
	poison_parse(long_path, strlen(long_path), &l);
	assert_int_equal(l.n, 0);
	ward_free(long_path);
}

/* The crash rule as a table: crashes (file, when, version) recorded, then
 * whether version 5 is at fault at time 1000 with K = 3, T = 100 s. */
static void
test_crash_rule(void **state)
{
	static const struct {
		const char *what;
		unsigned n;
		struct {
			uint64_t ino;
			char hex;
			int64_t when, version;
		} c[6];
		int at_fault;
	} rows[] = {
	    {"one file, crashing 5 times",
	     5,
	     {{1, 'a', 990, 5},
	      {1, 'a', 991, 5},
	      {1, 'a', 992, 5},
	      {1, 'a', 993, 5},
	      {1, 'a', 994, 5}},
	     0},
	    {"two different files", 2, {{1, 'a', 990, 5}, {2, 'b', 995, 5}}, 0},
	    {"three different files in the window",
	     3,
	     {{1, 'a', 950, 5}, {2, 'b', 960, 5}, {3, 'c', 999, 5}},
	     1},
	    {"three files, one outside the window",
	     3,
	     {{1, 'a', 850, 5}, {2, 'b', 960, 5}, {3, 'c', 999, 5}},
	     0},
	    {"three files, one with another version",
	     3,
	     {{1, 'a', 950, 4}, {2, 'b', 960, 5}, {3, 'c', 999, 5}},
	     0},
	    {"the same bytes under three names",
	     3,
	     {{1, 'a', 950, 5}, {2, 'a', 960, 5}, {3, 'a', 999, 5}},
	     0},
	    {"four files, one in the future",
	     4,
	     {{1, 'a', 950, 5}, {2, 'b', 960, 5}, {3, 'c', 2000, 5}, {4, 'd', 970, 5}},
	     1},
	};
	static struct poison_list l;
	struct poison_entry e;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&l, 0, sizeof(l));
		for (j = 0; j < rows[i].n; j++) {
			entry(&e, rows[i].c[j].ino, rows[i].c[j].hex, rows[i].c[j].when,
			      rows[i].c[j].version);
			poison_record(&l, &e);
		}
		if (poison_content_at_fault(&l, 5, 1000, 100, 3) != rows[i].at_fault)
			fail_msg("%s: at fault should be %d", rows[i].what, rows[i].at_fault);
	}
}

static void
test_hash_fd(void **state)
{
	char path[] = "/tmp/test_poison_h.XXXXXX", sha[65];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, "abc", 3), 3);
	assert_int_equal(poison_hash_fd(fd, sha), 0);
	assert_string_equal(sha,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_match), cmocka_unit_test(test_bound),
	    cmocka_unit_test(test_persistence),	 cmocka_unit_test(test_hostile_lines),
	    cmocka_unit_test(test_crash_rule),	 cmocka_unit_test(test_hash_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
