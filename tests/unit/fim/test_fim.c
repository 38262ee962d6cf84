/*
 * Unit tests of lib/fim: names with tabs and newlines survive the
 * baseline file, symbolic links are recorded and never followed (a link
 * to a directory outside the tree adds nothing), a changed link target is
 * a change, an unchanged tree checks clean; fim_file_at says and hashes
 * the file that is in the directory given, whatever its path leads to
 * meanwhile, and opens nothing but regular files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fim/fim.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fim),
	    cmocka_unit_test(test_file_at),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
