/*
 * Unit tests of lib/fim: names with tabs and newlines survive the
 * baseline file, symbolic links are recorded and never followed (a link
 * to a directory outside the tree adds nothing), a changed link target is
 * a change, an unchanged tree checks clean; fim_file_at says and hashes
 * the file that is in the directory given, whatever its path leads to
 * meanwhile, and opens nothing but regular files.
 *
 * A user against a baseline that root makes of a tree holding the user's
 * directories: a directory swapped for a link to root's directory while
 * the walk is at it (when the walk asks whether it is excluded, just
 * before it goes in) is not followed; a file's directory swapped so
 * between the walk and the hashing (when the file is first looked at or
 * opened) does not make root hash root's file under the user's name; a
 * policy path through a link of the user's is not followed.  The swaps
 * are made from inside the walk: fnmatch, open64, openat64 and fstatat64
 * are wrapped at link time (meson.build).  And every allocation of a
 * baseline failed in turn is an error, not a crash or a leak.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fim/fim.h"
#include "util/alloc.h"
#include "util/err.h"

static char dir[] = "/tmp/ward-test-fim-XXXXXX";

struct seen {
	int n;
	char last[512], fields[128];
	unsigned what;
};

static void
on_diff(void *arg, enum fim_change what, const char *path, const char *fields)
{
	struct seen *s = arg;

	s->n++;
	s->what |= what;
	snprintf(s->last, sizeof(s->last), "%s", path);
	snprintf(s->fields, sizeof(s->fields), "%s", fields);
}

static void
test_fim(void **state)
{
	struct fim_policy p;
	struct fim_stats st;
	struct ward_diag d;
	struct seen s;
	char tree[300], odd[400], link[400], base[300], cmd[700];
	unsigned bits;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(tree, sizeof(tree), "%s/tree", dir);
	snprintf(base, sizeof(base), "%s/baseline", dir);
	assert_int_equal(mkdir(tree, 0755), 0);
	snprintf(odd, sizeof(odd), "%s/a\ttab\nnewline\\x", tree);
	f = fopen(odd, "w");
	assert_non_null(f);
	fputs("content", f);
	fclose(f);
	snprintf(link, sizeof(link), "%s/to-etc", tree);
	assert_int_equal(symlink("/etc", link), 0);
	memset(&p, 0, sizeof(p));
	p.paths[p.npaths++] = tree;
	p.hash = DIGEST_SHA256;
	assert_int_equal(fim_baseline(&p, base, &st, &d), 0);
	assert_int_equal(st.entries, 3); /* tree, the odd file, the link (not /etc) */
	assert_int_equal(st.files, 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(fim_check(&p, base, on_diff, &s, &bits, &st, &d), 0);
	assert_int_equal(bits, 0);
	assert_int_equal(s.n, 0);
	/* The link now points elsewhere. */
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink("/usr", link), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(fim_check(&p, base, on_diff, &s, &bits, &st, &d), 0);
	assert_int_equal(bits, FIM_CHANGED);
	assert_string_equal(s.last, link);
	assert_non_null(strstr(s.fields, "target"));
	/* The odd name round-trips: changing its content is a change of it. */
	f = fopen(odd, "a");
	fputs("!", f);
	fclose(f);
	memset(&s, 0, sizeof(s));
	assert_int_equal(fim_check(&p, base, on_diff, &s, &bits, &st, &d), 0);
	assert_int_equal(s.n, 2);
	/* No baseline: an error, not "everything added". */
	assert_int_not_equal(fim_check(&p, "/nonexistent/baseline", on_diff, &s, &bits, &st, &d),
			     0);
	/* A baseline that is not one ward wrote — a field out of range, a
	 * line cut before its end, a relative path, a bad escape, a digest of
	 * another length, eleven fields — is refused with its line, never
	 * read in part. */
	{
		static const char *const bad[] = {
		    "/x\tf\t100644\t0\t0\t1\t1\t1\t-\t-\n/y\tf\t10x644\t0\t0\t1\t1\t1\t-\t-\n",
		    "/x\tf\t100644\t0\t0\t1\t1\t1\t-\t-",
		    "x\tf\t100644\t0\t0\t1\t1\t1\t-\t-\n",
		    "/x\\q\tf\t100644\t0\t0\t1\t1\t1\t-\t-\n",
		    "/x\tf\t100644\t0\t0\t1\t1\t1\tabcd\t-\n",
		    "/x\tf\t100644\t0\t0\t1\t1\t1\t-\t-\textra\n",
		    "/x\tf\t100644\t0\t0\t99999999999999999999999\t1\t1\t-\t-\n",
		    "/x\tq\t100644\t0\t0\t1\t1\t1\t-\t-\n",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			f = fopen(base, "w");
			assert_non_null(f);
			fprintf(f, "ward-fim 1 sha256\n%s", bad[i]);
			fclose(f);
			memset(&s, 0, sizeof(s));
			assert_int_equal(fim_check(&p, base, on_diff, &s, &bits, &st, &d),
					 WARD_EFORMAT);
			assert_int_equal(d.line, i == 0 ? 3 : 2);
			assert_int_equal(s.n, 0);
		}
		/* and the same lines, well formed, are taken */
		f = fopen(base, "w");
		assert_non_null(f);
		fprintf(f, "ward-fim 1 sha256\n/x\tf\t100644\t0\t0\t1\t-5\t1\t-\t-\n");
		fclose(f);
		memset(&s, 0, sizeof(s));
		assert_int_equal(fim_check(&p, base, on_diff, &s, &bits, &st, &d), 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

#define SHA256_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_file_at(void **state)
{
	char base[] = "/tmp/ward-test-fimat-XXXXXX", p[300], q[300], hex[65], cmd[400];
	struct digest_ctx *dc;
	uint8_t buf[7]; /* smaller than a file: reads are looped */
	struct stat st, want;
	int d, fd;

	(void)state;
	assert_non_null(mkdtemp(base));
	assert_int_equal(digest_new(DIGEST_SHA256, &dc), 0);
	snprintf(p, sizeof(p), "%s/d", base);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/d/f", base);
	put(p, "abc");
	snprintf(p, sizeof(p), "%s/d/l", base);
	assert_int_equal(symlink("f", p), 0);
	snprintf(p, sizeof(p), "%s/d/p", base);
	assert_int_equal(mkfifo(p, 0600), 0);
	snprintf(p, sizeof(p), "%s/other", base);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/other/f", base);
	put(p, "somebody else's");
	snprintf(p, sizeof(p), "%s/d", base);
	d = open(p, O_RDONLY | O_DIRECTORY);
	assert_true(d >= 0);

	assert_int_equal(fim_file_at(d, "f", dc, buf, sizeof(buf), 0, &st, hex, sizeof(hex)), 0);
	assert_true(S_ISREG(st.st_mode) && st.st_size == 3);
	assert_string_equal(hex, SHA256_ABC);
	/* Without a digest, over the size limit: said, not hashed. */
	assert_int_equal(fim_file_at(d, "f", NULL, buf, sizeof(buf), 0, &st, hex, sizeof(hex)), 0);
	assert_true(S_ISREG(st.st_mode) && hex[0] == '\0');
	assert_int_equal(fim_file_at(d, "f", dc, buf, sizeof(buf), 2, &st, hex, sizeof(hex)), 0);
	assert_true(st.st_size == 3 && hex[0] == '\0');
	/* A link is a link; a FIFO is said without being opened (no wait). */
	assert_int_equal(fim_file_at(d, "l", dc, buf, sizeof(buf), 0, &st, hex, sizeof(hex)), 0);
	assert_true(S_ISLNK(st.st_mode) && hex[0] == '\0');
	assert_int_equal(fim_file_at(d, "p", dc, buf, sizeof(buf), 0, &st, hex, sizeof(hex)), 0);
	assert_true(S_ISFIFO(st.st_mode) && hex[0] == '\0');
	/* The directory itself; a name that is not there. */
	assert_int_equal(fim_file_at(d, ".", dc, buf, sizeof(buf), 0, &st, hex, sizeof(hex)), 0);
	assert_int_equal(fstat(d, &want), 0);
	assert_true(S_ISDIR(st.st_mode) && st.st_ino == want.st_ino);
	assert_int_equal(fim_file_at(d, "none", dc, buf, sizeof(buf), 0, &st, hex, sizeof(hex)),
			 -1);
	/* The directory renamed away and a link to another in its place: the
	 * file said is still the one in the directory given. */
	snprintf(p, sizeof(p), "%s/d", base);
	snprintf(q, sizeof(q), "%s/d.real", base);
	assert_int_equal(rename(p, q), 0);
	snprintf(q, sizeof(q), "%s/other", base);
	assert_int_equal(symlink(q, p), 0);
	assert_int_equal(fim_file_at(d, "f", dc, buf, sizeof(buf), 0, &st, hex, sizeof(hex)), 0);
	assert_string_equal(hex, SHA256_ABC);
	assert_true(st.st_size == 3);
	/* fim_hash_fd hashes what the descriptor reads. */
	fd = openat(d, "f", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fim_hash_fd(fd, dc, buf, sizeof(buf), 0, hex, sizeof(hex), NULL), 0);
	assert_string_equal(hex, SHA256_ABC);
	close(fd);
	close(d);
	digest_free(dc);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	assert_int_equal(system(cmd), 0);
}

/* --- a user who swaps directories while root makes a baseline ---------- */

#define SHA256_MINE "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" /* abc */

static char race[] = "/tmp/ward-test-fimrace-XXXXXX";

/* race/rel */
static const char *
rat(const char *rel)
{
	static char buf[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", race, rel);
	return buf[k];
}

/* The swaps armed for the next baseline: each happens once. */
static const char *swap_at_match; /* a path: swapped when fnmatch is asked about it */
static const char *swap_dir;	  /* swapped when a file named swap_at_file is first used */
static const char *swap_at_file;
static int swapped;

/* path becomes a link to root's directory; the real one moves to path.real. */
static void
swap(const char *path)
{
	char real[600];

	snprintf(real, sizeof(real), "%s.real", path);
	assert_int_equal(rename(path, real), 0);
	assert_int_equal(symlink(rat("secret"), path), 0);
	swapped++;
}

int __real_fnmatch(const char *pattern, const char *string, int flags);
int __real_open64(const char *path, int flags, ...);
int __real_openat64(int dirfd, const char *path, int flags, ...);
int __real_fstatat64(int dirfd, const char *path, struct stat *st, int flags);
int __wrap_fnmatch(const char *pattern, const char *string, int flags);
int __wrap_open64(const char *path, int flags, ...);
int __wrap_openat64(int dirfd, const char *path, int flags, ...);
int __wrap_fstatat64(int dirfd, const char *path, struct stat *st, int flags);

int
__wrap_fnmatch(const char *pattern, const char *string, int flags)
{
	const char *p = swap_at_match;

	if (p != NULL && strcmp(string, p) == 0 &&
	    __atomic_exchange_n(&swap_at_match, NULL, __ATOMIC_SEQ_CST) != NULL)
		swap(p);
	return __real_fnmatch(pattern, string, flags);
}

/* Before the first use of a file named swap_at_file, by path or by name. */
static void
file_used(const char *path)
{
	const char *base = strrchr(path, '/'), *d = swap_dir;

	base = base != NULL ? base + 1 : path;
	if (d != NULL && swap_at_file != NULL && strcmp(base, swap_at_file) == 0 &&
	    __atomic_exchange_n(&swap_dir, NULL, __ATOMIC_SEQ_CST) != NULL)
		swap(d);
}

int
__wrap_open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | __O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	file_used(path);
	return __real_open64(path, flags, mode);
}

int
__wrap_openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | __O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	file_used(path);
	return __real_openat64(dirfd, path, flags, mode);
}

int
__wrap_fstatat64(int dirfd, const char *path, struct stat *st, int flags)
{
	file_used(path);
	return __real_fstatat64(dirfd, path, st, flags);
}

/*
 * race/tree/sub/{a,b} and race/tree/dir/victim are the user's ("abc");
 * race/secret is root's (0700) with a, b, victim and deeper/c in it, each
 * "root only"; race/tree/via is the user's link to it.
 */
static int
race_setup(void **state)
{
	static const char *const secret[] = {"secret/a", "secret/b", "secret/victim",
					     "secret/deeper/c"};
	unsigned i;

	(void)state;
	snprintf(race, sizeof(race), "/tmp/ward-test-fimrace-XXXXXX");
	assert_non_null(mkdtemp(race));
	assert_int_equal(mkdir(rat("tree"), 0755), 0);
	assert_int_equal(mkdir(rat("tree/sub"), 0755), 0);
	assert_int_equal(mkdir(rat("tree/dir"), 0755), 0);
	put(rat("tree/sub/a"), "abc");
	put(rat("tree/sub/b"), "abc");
	put(rat("tree/dir/victim"), "abc");
	put(rat("tree/zz"), "abc");
	assert_int_equal(mkdir(rat("secret"), 0700), 0);
	assert_int_equal(mkdir(rat("secret/deeper"), 0700), 0);
	for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
		put(rat(secret[i]), "root only");
		assert_int_equal(chmod(rat(secret[i]), 0600), 0);
	}
	assert_int_equal(symlink(rat("secret"), rat("tree/via")), 0);
	assert_int_equal(lchown(rat("tree/via"), 65534, 65534), 0);
	swap_at_match = swap_dir = swap_at_file = NULL;
	swapped = 0;
	return 0;
}

static int
race_teardown(void **state)
{
	char cmd[600];

	(void)state;
	swap_at_match = swap_dir = swap_at_file = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", race);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* The baseline of race/tree (or path) as text (static). */
static const char *
baseline_of(const char *path, struct fim_stats *st)
{
	static char text[16384];
	struct fim_policy p;
	struct ward_diag d;
	FILE *f;
	size_t n;

	memset(&p, 0, sizeof(p));
	p.paths[p.npaths++] = path;
	/* An exclusion that matches nothing: the walk asks about each entry. */
	p.excludes[p.nexcludes++] = "*/nothing-is-called-this";
	p.hash = DIGEST_SHA256;
	assert_int_equal(fim_baseline(&p, rat("baseline"), st, &d), 0);
	f = fopen(rat("baseline"), "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* sha256("root only") */
#define SHA256_ROOTS "b1352c28a9770b12eda23564d39a8c8c2b49e959f946c28f2a974529cbd8653c"

/* Nothing of root's directory is in the baseline: not its files' hash,
 * not its subdirectory, not root's mode 0600. */
static void
assert_nothing_of_roots(const char *text)
{
	assert_null(strstr(text, SHA256_ROOTS));
	assert_null(strstr(text, "/deeper"));
	assert_null(strstr(text, "\t600\t"));
}

static void
test_dir_swapped_mid_walk(void **state)
{
	struct fim_stats st;
	const char *text;
	char line[600];

	(void)state;
	swap_at_match = rat("tree/sub");
	text = baseline_of(rat("tree"), &st);
	assert_int_equal(swapped, 1);
	assert_nothing_of_roots(text);
	/* The walk did not go in: the name is recorded as what it is now. */
	snprintf(line, sizeof(line), "\n%s\tl\t", rat("tree/sub"));
	assert_non_null(strstr(text, line));
	snprintf(line, sizeof(line), "%s/", rat("tree/sub"));
	assert_null(strstr(text, line));
	snprintf(line, sizeof(line), "\n%s\tf\t644\t", rat("tree/zz"));
	assert_non_null(strstr(text, line));
}

static void
test_parent_swapped_before_hash(void **state)
{
	struct fim_stats st;
	const char *text, *p;
	char line[600];

	(void)state;
	swap_dir = rat("tree/dir");
	swap_at_file = "victim";
	text = baseline_of(rat("tree"), &st);
	assert_int_equal(swapped, 1);
	assert_nothing_of_roots(text);
	/* The user's file, hashed from its own directory, with its own mode. */
	snprintf(line, sizeof(line), "\n%s\tf\t644\t0\t0\t3\t", rat("tree/dir/victim"));
	p = strstr(text, line);
	assert_non_null(p);
	p = strchr(p + 1, '\n');
	assert_non_null(p);
	assert_true(p - 64 - 2 > text && strncmp(p - 64 - 2, SHA256_MINE, 64) == 0);
	assert_int_equal(st.errors, 0);
}

static void
note(void *arg, const char *path, const char *why)
{
	char *out = arg;

	snprintf(out, 600, "%s: %s", path, why);
}

static void
test_policy_path_through_users_link(void **state)
{
	struct fim_policy p;
	struct fim_stats st;
	struct ward_diag d;
	char said[600] = "";
	const char *text;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.paths[p.npaths++] = rat("tree/via/deeper");
	p.hash = DIGEST_SHA256;
	p.note = note;
	p.note_arg = said;
	assert_int_equal(fim_baseline(&p, rat("baseline"), &st, &d), 0);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.errors, 1);
	assert_non_null(strstr(said, "tree/via/deeper: a symbolic link on its way is not root's"));
	/* The link itself, as a policy path, is recorded as a link. */
	text = baseline_of(rat("tree/via"), &st);
	assert_int_equal(st.entries, 1);
	assert_non_null(strstr(text, "\tl\t777\t65534\t65534\t"));
	assert_nothing_of_roots(text);
}

/* Every allocation of the walk failed in turn: an error or a complete
 * baseline, never a crash or a leak (ASan build). */
static void
test_alloc_failures(void **state)
{
	struct fim_policy p;
	struct fim_stats st;
	struct ward_diag d;
	unsigned long k, total;
	int r;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.paths[p.npaths++] = rat("tree");
	p.paths[p.npaths++] = rat("tree/zz");
	p.hash = DIGEST_SHA256;
	alloc_fail_after(0);
	assert_int_equal(fim_baseline(&p, rat("baseline"), &st, &d), 0);
	total = alloc_fail_after(0);
	for (k = 1; k <= total; k++) {
		alloc_fail_after(k);
		r = fim_baseline(&p, rat("baseline"), &st, &d);
		alloc_fail_after(0);
		assert_true(r == 0 || r == WARD_ENOMEM || r == WARD_EIO);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fim),
	    cmocka_unit_test(test_file_at),
	    cmocka_unit_test_setup_teardown(test_dir_swapped_mid_walk, race_setup, race_teardown),
	    cmocka_unit_test_setup_teardown(test_parent_swapped_before_hash, race_setup,
					    race_teardown),
	    cmocka_unit_test_setup_teardown(test_policy_path_through_users_link, race_setup,
					    race_teardown),
	    cmocka_unit_test_setup_teardown(test_alloc_failures, race_setup, race_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
