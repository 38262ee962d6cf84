/*
 * Unit tests of agent/fimwho: a writer's name and a package manager among
 * its ancestors, from a table of processes; per-path event budgets over
 * time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/fimwho.h"

struct proc {
	pid_t pid, ppid;
	const char *comm;
};

/* A process tree: lookups answer from it; a pid not in it is gone. */
struct tree {
	const struct proc *p;
	size_t n;
	unsigned asked;
};

static int
lookup(void *arg, pid_t pid, pid_t *ppid, char *comm, size_t commlen)
{
	struct tree *t = arg;
	size_t i;

	t->asked++;
	for (i = 0; i < t->n; i++)
		if (t->p[i].pid == pid) {
			*ppid = t->p[i].ppid;
			snprintf(comm, commlen, "%s", t->p[i].comm);
			return 0;
		}
	return -1;
}

static void
test_ancestry(void **state)
{
	static const struct proc procs[] = {
	    {1, 0, "systemd"},	   {100, 1, "sshd"},	 {200, 100, "bash"},
	    {300, 200, "apt"},	   {301, 300, "dpkg"},	 {302, 301, "sh"},
	    {303, 302, "cp"},	   {400, 200, "vim"},	 {500, 1, "unattended-upgr"},
	    {501, 500, "python3"}, {600, 200, "dpkgx"},	 {601, 600, "cp"},
	    {700, 700, "loop"},	   {800, 799, "orphan"},
	};
	static const struct {
		pid_t pid;
		const char *name, *pkg;
	} cases[] = {
	    {303, "cp", "dpkg"},		 /* the nearest package manager wins */
	    {301, "dpkg", "dpkg"},		 /* the writer is one itself */
	    {400, "vim", ""},			 /* a user's editor */
	    {501, "python3", "unattended-upgr"}, /* comm's 15 characters */
	    {601, "cp", ""},			 /* "dpkgx" is not "dpkg" */
	    {700, "loop", ""},			 /* its own parent: no endless walk */
	    {800, "orphan", ""},		 /* an ancestor gone: what is known */
	    {999, "", ""},			 /* the writer gone */
	    {1, "", ""},			 /* init is not looked at */
	};
	struct tree t = {procs, sizeof(procs) / sizeof(procs[0]), 0};
	char name[32], pkg[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fimwho_ancestry(cases[i].pid, lookup, &t, name, sizeof(name), pkg, sizeof(pkg));
		if (strcmp(name, cases[i].name) != 0 || strcmp(pkg, cases[i].pkg) != 0)
			fail_msg("pid %d: got %s/%s, want %s/%s", (int)cases[i].pid, name, pkg,
				 cases[i].name, cases[i].pkg);
	}
}

/* A chain longer than the walk: it stops after FIMWHO_ANCESTRY_MAX. */
static void
test_ancestry_bounded(void **state)
{
	struct proc procs[64];
	struct tree t = {procs, 64, 0};
	char name[32], pkg[32];
	int i;

	(void)state;
	for (i = 0; i < 64; i++) {
		procs[i].pid = 1000 + i;
		procs[i].ppid = 1000 + i + 1;
		procs[i].comm = i == 40 ? "rpm" : "sh";
	}
	fimwho_ancestry(1000, lookup, &t, name, sizeof(name), pkg, sizeof(pkg));
	assert_string_equal(name, "sh");
	assert_string_equal(pkg, ""); /* rpm is 40 generations up */
	assert_int_equal(t.asked, FIMWHO_ANCESTRY_MAX);
	assert_true(fimwho_is_package_manager("rpm"));
	assert_false(fimwho_is_package_manager("rpm2"));
	assert_false(fimwho_is_package_manager(""));
}

static void
test_rate(void **state)
{
	struct fimwho_rate *t = calloc(1, sizeof(*t));
	unsigned sup = 99, i, ok = 0;

	(void)state;
	assert_non_null(t);
	/* no limit: everything goes */
	for (i = 0; i < 1000; i++)
		assert_true(fimwho_rate_ok(t, "/etc/passwd", 0, 0, 60, &sup));
	assert_int_equal(sup, 0);
	memset(t, 0, sizeof(*t));
	/* 5 a minute: the sixth to the tenth are held back and counted */
	for (i = 0; i < 10; i++)
		ok += (unsigned)fimwho_rate_ok(t, "/etc/shadow", 100, 5, 60, &sup);
	assert_int_equal(ok, 5);
	/* another path has its own budget */
	assert_true(fimwho_rate_ok(t, "/etc/group", 101, 5, 60, &sup));
	/* still inside the window (from the first event, not the clock's minute) */
	assert_false(fimwho_rate_ok(t, "/etc/shadow", 159, 5, 60, &sup));
	assert_int_equal(sup, 0);
	/* a new window: it goes, and says how many the last one held (6) */
	assert_true(fimwho_rate_ok(t, "/etc/shadow", 160, 5, 60, &sup));
	assert_int_equal(sup, 6);
	assert_true(fimwho_rate_ok(t, "/etc/shadow", 161, 5, 60, &sup));
	assert_int_equal(sup, 0);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ancestry),
	    cmocka_unit_test(test_ancestry_bounded),
	    cmocka_unit_test(test_rate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
