/*
 * proctab: wardd's processes, in one table (as OpenBSD's privilege-
 * separated daemons declare theirs).
 *
 *   role        argv          user            seccomp      may receive
 *   supervisor  wardd         root            none         signals, heartbeats
 *   worker      --worker      root            none         configurations,
 *                                                          control requests,
 *                                                          sensors' events
 *   validator   --validator   validator_user  validator    one bundle
 *   scanner     --scanner     scan.user       scanner      rule images, files
 *   uplink      --uplink      server.user     uplink       the fleet server's
 *                                                          answers (TLS, HTTP,
 *                                                          JSON), requests
 *
 * Every role but the supervisor is started by proctab_spawn: fork, then
 * exec of /proc/self/exe with the role's flag in argv, its channels on
 * fds 3, 4, ... and nothing else open but stdin, stdout and stderr, and an
 * environment of PATH and the few variables proctab.c lists — no
 * long-lived child shares its parent's memory or inherits what it was
 * not meant to.  Each role that reads untrusted bytes sets its row's
 * resource limits (proctab_apply_limits: the row is the only statement of
 * them) and drops its privileges (sandbox.h) before its first one; the
 * rows below say what each keeps, and docs/agent.md shows them.
 */
#ifndef WARD_AGENT_PROCTAB_H
#define WARD_AGENT_PROCTAB_H

#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

struct agent_config;

enum proctab_role {
	PROC_SUPERVISOR = 0,
	PROC_WORKER,
	PROC_VALIDATOR,
	PROC_SCANNER,
	PROC_UPLINK,
};
#define PROC_NROLES (PROC_UPLINK + 1)

/*
 * A resource limit a role runs under: a number, or one of these.  What
 * PROCTAB_FROM_CONFIG takes, by column: address space validator.memory_mb;
 * CPU validator.cpu_s; file size validator.memory_mb, at most
 * WARD_MAX_COMPILED_SIZE (the one file a validator grows is the image it
 * builds in memory first).
 */
#define PROCTAB_UNLIMITED (-1L)	  /* not set: inherited */
#define PROCTAB_FROM_CONFIG (-2L) /* from the configuration, as above */

/* The most channels (fds 3..) and arguments one role takes. */
#define PROCTAB_MAX_FDS 4
#define PROCTAB_MAX_ARGS 16

/* How a child that never became its role exits. */
#define PROCTAB_EXIT_FDS 126  /* its channels could not be placed */
#define PROCTAB_EXIT_EXEC 127 /* exec of /proc/self/exe failed */

/* The one PATH a child gets. */
#define PROCTAB_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
/* The most variables of its parent's environment a child keeps. */
#define PROCTAB_MAX_ENV 32

/* proctab_spawn's flags. */
#define PROCTAB_F_PDEATHSIG 0x01 /* killed when its parent dies */
#define PROCTAB_F_UNBLOCK 0x02	 /* starts with no signal blocked */

struct proctab_row {
	enum proctab_role role;
	const char *name;     /* "scanner" */
	const char *flag;     /* in argv: "--scanner"; NULL for the supervisor */
	const char *user;     /* "root", or the configuration key naming the user */
	const char *caps;     /* what of root it keeps */
	long rlimit_as_mb;    /* address space */
	long rlimit_nofile;   /* descriptors */
	long rlimit_core;     /* core file bytes */
	long rlimit_nproc;    /* processes of its user (0: cannot fork) */
	long rlimit_cpu_s;    /* CPU time, seconds */
	long rlimit_fsize_mb; /* size of a file it writes, MiB (0: none) */
	const char *seccomp;  /* its allow-list (the file that lists it), or NULL ... */
	const char *why_none; /* ... and why not */
	const char *channels; /* its channels and their modules */
	const char *receives; /* what it may receive, from whom */
	int spawned;	      /* 1: started by proctab_spawn today; 0: planned */
};

/* The row of role (a static; never NULL for a role of the enum). */
const struct proctab_row *proctab_row(enum proctab_role role);

/* The table, n rows. */
const struct proctab_row *proctab_rows(size_t *n);

/* The most limits a row sets (its rlimit_ columns). */
#define PROCTAB_MAX_LIMITS 6

/* One resource limit, resolved: soft and hard are both value. */
struct proctab_limit {
	int resource; /* RLIMIT_AS, ... */
	rlim_t value;
};

/*
 * The limits of role's row that are set (PROCTAB_UNLIMITED ones left
 * out), PROCTAB_FROM_CONFIG resolved from c (borrowed), into
 * lim[0..PROCTAB_MAX_LIMITS).  Returns how many; 0 for a role not in the
 * table.  A build with AddressSanitizer leaves the address space out
 * (sandbox.h: SANDBOX_NO_AS_LIMIT).
 */
size_t proctab_limits(enum proctab_role role, const struct agent_config *c,
		      struct proctab_limit lim[PROCTAB_MAX_LIMITS]);

/*
 * Sets proctab_limits(role, c) on the calling process: the child's first
 * step, while it is still root (before sandbox_enter; a limit of 0
 * processes does not stop the switch to its user).  0, or -errno of the
 * first that could not be set.
 */
int proctab_apply_limits(enum proctab_role role, const struct agent_config *c);

/*
 * Starts role (not the supervisor): fork, then in the child fds[i] becomes
 * fd 3 + i (nfds <= PROCTAB_MAX_FDS; the parent's fds[] stay open: the
 * caller closes its copies), every other descriptor above 2 is closed (a
 * child that cannot close them exits PROCTAB_EXIT_FDS rather than run
 * with one), and /proc/self/exe runs as "wardd ROLEFLAG args..." with the
 * environment PROCTAB_PATH and the variables proctab.c keeps for the role
 * (nothing else of the caller's environment) (args: NULL-ended,
 * at most PROCTAB_MAX_ARGS, made before the call: after the fork the child
 * makes only async-signal-safe calls, as a multithreaded parent requires).
 * 0 with *pid, or WARD_EINVAL (a role that is not spawned, too many fds or
 * args) or WARD_EIO (fork failed, errno kept).
 */
int proctab_spawn(enum proctab_role role, const char *const *args, const int *fds, size_t nfds,
		  unsigned flags, pid_t *pid);

#endif
