/*
 * Unit tests of lib/fim: names with tabs and newlines survive the
 * baseline file, symbolic links are recorded and never followed (a link
 * to a directory outside the tree adds nothing), a changed link target is
 * a change, an unchanged tree checks clean.
 */
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
