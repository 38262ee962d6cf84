/*
 * scan_child: the sandboxed scanner of `ward scan` run as root — the
 * process scan_priv.c forks once the rules are loaded, which confines
 * itself before its first file and then scans, reports and summarises
 * what the walker sends it.
 */
#ifndef WARD_CLI_SCAN_CHILD_H
#define WARD_CLI_SCAN_CHILD_H

#include <sys/types.h>

#include "cmd_scan.h"
#include "scan_run.h"

/* What the scanner is forked with (all in its memory from the fork). */
struct scanchild_args {
	const struct scan_cfg *cfg;
	int chan;  /* its end of the channel to the walker */
	uid_t uid; /* the user it becomes (looked up by the walker) */
	gid_t gid;
	unsigned window;	    /* files the walker sends ahead: its descriptors */
	struct scanrun_totals seed; /* what the scanners before it did */
	unsigned crashes;	    /* how many of them died */
};

/*
 * The scanner's life: closes every descriptor but stdin, stdout, stderr
 * and its channel, starts its scanning threads, confines itself (limits,
 * the user, no_new_privs, not dumpable, seccomp on every thread), says it
 * is ready, then scans what comes until the walker's end, prints the
 * summary and exits with ward scan's status.  Never returns.
 */
void scanchild_main(const struct scanchild_args *a) __attribute__((noreturn));

#endif
