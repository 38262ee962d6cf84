/*
 * proctab: wardd's processes and the one place that starts them.  See
 * proctab.h.
 *
 * Must hold: a child between fork and exec makes only async-signal-safe
 * calls (the worker forks scanners from many threads); it keeps exactly
 * stdin, stdout, stderr and the channels it was given, at fixed numbers;
 * a failure there ends it with a status its parent can tell from the
 * role's own (PROCTAB_EXIT_*).
 */
#include "agent/proctab.h"
#include "util/err.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static const struct proctab_row rows[PROC_NROLES] = {
    [PROC_SUPERVISOR] =
	{
	    PROC_SUPERVISOR,
	    "supervisor",
	    NULL,
	    "root",
	    "all of root: it starts the worker and reads wardd.yaml",
	    PROCTAB_UNLIMITED,
	    PROCTAB_UNLIMITED,
	    PROCTAB_UNLIMITED,
	    PROCTAB_UNLIMITED,
	    NULL,
	    "it parses nothing from outside but wardd.yaml (root's file) and restarts the "
	    "worker, which needs root",
	    "worker (reload: configurations out, heartbeats in)",
	    "heartbeats from the worker (empty frames); signals",
	    1,
	},
    [PROC_WORKER] =
	{
	    PROC_WORKER,
	    "worker",
	    "--worker",
	    "root",
	    "all of root: fanotify marks and permission answers, reading any file, the "
	    "quarantine, the journal",
	    PROCTAB_UNLIMITED,
	    PROCTAB_UNLIMITED,
	    PROCTAB_UNLIMITED,
	    PROCTAB_UNLIMITED,
	    NULL,
	    "fanotify, quarantine and the sensors need most of the system; it parses no "
	    "hostile bytes itself (validators and scanners do)",
	    "supervisor (fd 3: configurations; fd 4: heartbeats), control socket (ctlmsg), "
	    "validators (valmsg), scanners (scanmsg)",
	    "configurations from the supervisor (sealed memory file, checked by "
	    "reload_config_check); control requests from root (ctlmsg); verdicts and "
	    "compiled images from its helpers, checked again",
	    1,
	},
    [PROC_VALIDATOR] =
	{
	    PROC_VALIDATOR,
	    "validator",
	    "--validator",
	    "validator.user",
	    "none: setuid to an unprivileged user with no way back, no_new_privs",
	    PROCTAB_FROM_CONFIG,
	    8,
	    0,
	    0,
	    "agent/validator.c: allowed[]",
	    NULL,
	    "worker (fd 3: valmsg)",
	    "one bundle in a sealed memory file (at most BUNDLE_MAX_SIZE)",
	    1,
	},
    [PROC_SCANNER] =
	{
	    PROC_SCANNER,
	    "scanner",
	    "--scanner",
	    "scan.user",
	    "none: setuid to an unprivileged user with no way back, no_new_privs",
	    PROCTAB_FROM_CONFIG,
	    16,
	    0,
	    0,
	    "agent/scanner.c: allowed[]",
	    NULL,
	    "worker (fd 3: scanmsg)",
	    "compiled rule images (sealed memory files, verified by the worker first) and "
	    "files to scan, opened read-only by the worker",
	    1,
	},
    [PROC_UPLINK] =
	{
	    PROC_UPLINK,
	    "uplink",
	    "--uplink",
	    "server.user",
	    "none: setuid to an unprivileged user with no way back, no_new_privs; it is "
	    "given the agent's credential for each call and wipes it after",
	    PROCTAB_UNLIMITED,
	    64,
	    0,
	    PROCTAB_UNLIMITED,
	    "agent/uplink_net.c: confine()",
	    NULL,
	    "worker (fd 3: upmsg, check-ins; fd 4: upmsg, other calls), the downloads "
	    "directory (fd 5)",
	    "requests from the worker (report, events, enrollment bodies in sealed memory "
	    "files); the fleet server's answers over TLS, checked before they become typed "
	    "messages the worker checks again",
	    1,
	},
};

const struct proctab_row *
proctab_row(enum proctab_role role)
{
	if ((unsigned)role >= PROC_NROLES)
		return NULL;
	return &rows[role];
}

const struct proctab_row *
proctab_rows(size_t *n)
{
	*n = PROC_NROLES;
	return rows;
}

/* The child: its channels at 3.., nothing else, then a fresh wardd. */
static void __attribute__((noreturn))
child(char *const *argv, const int *fds, size_t nfds, unsigned flags, pid_t parent)
{
	int tmp[PROCTAB_MAX_FDS];
	size_t i;

	if ((flags & PROCTAB_F_PDEATHSIG) != 0 &&
	    (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent))
		_exit(PROCTAB_EXIT_FDS);
	if ((flags & PROCTAB_F_UNBLOCK) != 0) {
		sigset_t none;

		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
	}
	/* Above every target first: fds[1] may be 3. */
	for (i = 0; i < nfds; i++)
		if ((tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3 + (int)PROCTAB_MAX_FDS)) < 0)
			_exit(PROCTAB_EXIT_FDS);
	for (i = 0; i < nfds; i++)
		if (dup2(tmp[i], 3 + (int)i) != 3 + (int)i) /* dup2 clears close-on-exec */
			_exit(PROCTAB_EXIT_FDS);
	(void)close_range(3 + (unsigned)nfds, ~0u, 0);
	execv("/proc/self/exe", argv);
	_exit(PROCTAB_EXIT_EXEC);
}

int
proctab_spawn(enum proctab_role role, const char *const *args, const int *fds, size_t nfds,
	      unsigned flags, pid_t *pid)
{
	const struct proctab_row *row = proctab_row(role);
	char *argv[PROCTAB_MAX_ARGS + 3];
	pid_t parent = getpid(), p;
	size_t n = 0, i;

	*pid = -1;
	if (row == NULL || row->flag == NULL || nfds > PROCTAB_MAX_FDS)
		return WARD_EINVAL;
	argv[n++] = (char *)"wardd";
	argv[n++] = (char *)row->flag;
	for (i = 0; args != NULL && args[i] != NULL; i++) {
		if (i >= PROCTAB_MAX_ARGS)
			return WARD_EINVAL;
		argv[n++] = (char *)args[i];
	}
	argv[n] = NULL;
	p = fork();
	if (p < 0)
		return WARD_EIO;
	if (p == 0)
		child(argv, fds, nfds, flags, parent);
	*pid = p;
	return 0;
}
