/*
 * proctab: wardd's processes and the one place that starts them.  See
 * proctab.h.
 *
 * Must hold: a child between fork and exec makes only async-signal-safe
 * calls (the worker forks scanners from many threads); it keeps exactly
 * stdin, stdout, stderr and the channels it was given, at fixed numbers,
 * and of its parent's environment only what env_kept[] names for its
 * role; a failure there ends it with a status its parent can tell from
 * the role's own (PROCTAB_EXIT_*).  The limits a role runs under are its
 * row's, applied by proctab_apply_limits: nowhere else names a number.
 */
#include "agent/proctab.h"
#include "agent/config.h"
#include "util/sandbox.h"
#include "util/err.h"
#include "util/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

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
	    PROCTAB_UNLIMITED,
	    PROCTAB_UNLIMITED,
	    NULL,
	    "fanotify, quarantine and the sensors need most of the system; it parses no "
	    "hostile file bytes itself (validators and scanners do), and of clamd clients "
	    "only their command lines and chunk lengths (lib/proto/clamdproto.c)",
	    "supervisor (fd 3: configurations; fd 4: heartbeats), control socket (ctlmsg), "
	    "validators (valmsg), scanners (scanmsg), clamd socket (clamdproto)",
	    "configurations from the supervisor (sealed memory file, checked by "
	    "reload_config_check); control requests from root (ctlmsg); verdicts and "
	    "compiled images from its helpers, checked again; clamd commands from local "
	    "clients",
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
	    PROCTAB_FROM_CONFIG,
	    PROCTAB_FROM_CONFIG,
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
	    /* its channel, the content's memory file, and the files of the
	     * SCANMSG_WINDOW requests it reads ahead */
	    32,
	    0,
	    0,
	    PROCTAB_UNLIMITED,
	    /* the memory files of archive members: scan.archive.max_membersize */
	    PROCTAB_FROM_CONFIG,
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
	    PROCTAB_UNLIMITED,
	    1024, /* the part file of a download: at most a bundle */
	    "agent/uplink_net.c: confine()",
	    NULL,
	    "worker (fd 3: upmsg, check-ins; fd 4: upmsg, other calls)",
	    "requests from the worker (report, events, enrollment bodies in sealed memory "
	    "files; a download's part file, the worker's); the fleet server's answers over "
	    "TLS, checked before they become typed messages the worker checks again",
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

/* One column of a row in its resource's unit (a number times scale, or
 * from_config, already in that unit); -1 when it is not set. */
static long long
column(long v, long long scale, long long from_config)
{
	if (v == PROCTAB_UNLIMITED)
		return -1;
	return v == PROCTAB_FROM_CONFIG ? from_config : (long long)v * scale;
}

size_t
proctab_limits(enum proctab_role role, const struct agent_config *c,
	       struct proctab_limit lim[PROCTAB_MAX_LIMITS])
{
	const struct proctab_row *row = proctab_row(role);
	/* validator.memory_mb's range (config.c) keeps this far from overflow. */
	long long mem = (long long)c->validator_memory_mb << 20;
	long long image = mem < (long long)WARD_MAX_COMPILED_SIZE ? mem : WARD_MAX_COMPILED_SIZE;
	struct {
		int resource;
		long long v;
	} col[PROCTAB_MAX_LIMITS];
	size_t n = 0, i;

	if (row == NULL)
		return 0;
	col[0].resource = RLIMIT_AS;
	col[0].v = column(row->rlimit_as_mb, 1 << 20, mem);
	col[1].resource = RLIMIT_NOFILE;
	col[1].v = column(row->rlimit_nofile, 1, -1);
	col[2].resource = RLIMIT_CORE;
	col[2].v = column(row->rlimit_core, 1, -1);
	col[3].resource = RLIMIT_NPROC;
	col[3].v = column(row->rlimit_nproc, 1, -1);
	col[4].resource = RLIMIT_CPU;
	col[4].v = column(row->rlimit_cpu_s, 1, (long long)c->validator_cpu_s);
	col[5].resource = RLIMIT_FSIZE;
	col[5].v = column(
	    row->rlimit_fsize_mb, 1 << 20,
	    role == PROC_SCANNER ? (long long)(c->archive_enabled ? c->archive.member : 0) : image);
	for (i = 0; i < PROCTAB_MAX_LIMITS; i++) {
		if (col[i].v < 0)
			continue;
#ifdef SANDBOX_NO_AS_LIMIT
		if (col[i].resource == RLIMIT_AS)
			continue;
#endif
		lim[n].resource = col[i].resource;
		lim[n].value = (rlim_t)col[i].v;
		n++;
	}
	return n;
}

int
proctab_apply_limits(enum proctab_role role, const struct agent_config *c)
{
	struct proctab_limit lim[PROCTAB_MAX_LIMITS];
	size_t n = proctab_limits(role, c, lim), i;
	int r = 0;

	for (i = 0; i < n && r == 0; i++)
		r = sandbox_limit(lim[i].resource, lim[i].value);
	return r;
}

/*
 * What of its parent's environment a child keeps: nothing but these
 * (beside PROCTAB_PATH).  A variable is here only with the reason a role
 * reads it; everything else — a secret in the service's environment,
 * LD_PRELOAD, a locale that changes how a library parses — stays behind.
 */
#define ROLE(r) (1u << (r))
#define ALL_ROLES ((1u << PROC_NROLES) - 1)
static const struct {
	const char *name;
	int prefix;	/* 1: every variable whose name starts with name */
	unsigned roles; /* ROLE() bits */
} env_kept[] = {
    /* libcurl's proxy settings, for the connections to the fleet server
     * (the uplink, which runs in the worker today). */
    {"https_proxy", 0, ROLE(PROC_WORKER) | ROLE(PROC_UPLINK)},
    {"HTTPS_PROXY", 0, ROLE(PROC_WORKER) | ROLE(PROC_UPLINK)},
    {"all_proxy", 0, ROLE(PROC_WORKER) | ROLE(PROC_UPLINK)},
    {"ALL_PROXY", 0, ROLE(PROC_WORKER) | ROLE(PROC_UPLINK)},
    {"no_proxy", 0, ROLE(PROC_WORKER) | ROLE(PROC_UPLINK)},
    {"NO_PROXY", 0, ROLE(PROC_WORKER) | ROLE(PROC_UPLINK)},
    /* GnuTLS, which libcurl's dependencies load into every wardd
     * process, then does not initialise itself at load (about 1 MiB in
     * each; none uses it): wardd.c sets it in the supervisor. */
    {"GNUTLS_NO_IMPLICIT_INIT", 0, ALL_ROLES},
    /* A sanitizer build's options (the tests' ASan and UBSan runs); any
     * other build reads none of them. */
    {"ASAN_OPTIONS", 0, ALL_ROLES},
    {"UBSAN_OPTIONS", 0, ALL_ROLES},
    {"LSAN_OPTIONS", 0, ALL_ROLES},
#ifdef WARD_FAULT_INJECTION
    /* The test build's crash and stall points (docs/agent.md), read by
     * the worker, validators and scanners. */
    {"WARD_FAULT_", 1, ALL_ROLES},
#endif
};

/* 1 if "NAME=value" is kept for role. */
static int
env_keeps(enum proctab_role role, const char *var)
{
	const char *eq = strchr(var, '=');
	size_t i, len;

	if (eq == NULL)
		return 0;
	for (i = 0; i < sizeof(env_kept) / sizeof(env_kept[0]); i++) {
		if ((env_kept[i].roles & ROLE(role)) == 0)
			continue;
		len = strlen(env_kept[i].name);
		if (strncmp(var, env_kept[i].name, len) == 0 &&
		    (env_kept[i].prefix ? (size_t)(eq - var) > len : (size_t)(eq - var) == len))
			return 1;
	}
	return 0;
}

/* The number of a /proc/self/fd entry, or -1 ("." and ".."). */
static int
fd_number(const char *name)
{
	int fd = 0;

	if (*name == '\0')
		return -1;
	for (; *name != '\0'; name++) {
		if (*name < '0' || *name > '9' || fd > (INT32_MAX - 9) / 10)
			return -1;
		fd = fd * 10 + (*name - '0');
	}
	return fd;
}

/* An entry of getdents64, as the kernel lays it out. */
struct dirent_k {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/*
 * Closes every descriptor from first up: close_range, or where the kernel
 * has none (before 5.9) or refuses it, each one /proc/self/fd lists —
 * read with raw system calls, all async-signal-safe.  0, or -1 if some
 * may still be open (the child must not run then).
 */
static int
close_from(unsigned first)
{
	char buf[4096] __attribute__((aligned(8)));
	int dir, fd, closed;
	long n, off;

	if (close_range(first, ~0u, 0) == 0)
		return 0;
	dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -1;
	/* Closing while reading the directory may skip an entry: read it
	 * again from the start until a pass closes nothing. */
	do {
		closed = 0;
		while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
			for (off = 0; off < n;) {
				const struct dirent_k *d = (const void *)(buf + off);

				if (d->reclen == 0 || d->reclen > n - off)
					break;
				fd = fd_number(d->name);
				if (fd >= (int)first && fd != dir) {
					(void)close(fd);
					closed = 1;
				}
				off += d->reclen;
			}
		}
		if (n < 0 || (closed && lseek(dir, 0, SEEK_SET) != 0)) {
			(void)close(dir);
			return -1;
		}
	} while (closed);
	(void)close(dir);
	return 0;
}

/* The child: its channels at 3.., nothing else, then a fresh wardd. */
static void __attribute__((noreturn)) child(char *const *argv, char *const *envp, const int *fds,
					    size_t nfds, unsigned flags, pid_t parent)
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
	if (close_from(3 + (unsigned)nfds) != 0)
		_exit(PROCTAB_EXIT_FDS);
	execve("/proc/self/exe", argv, envp);
	_exit(PROCTAB_EXIT_EXEC);
}

int
proctab_spawn(enum proctab_role role, const char *const *args, const int *fds, size_t nfds,
	      unsigned flags, pid_t *pid)
{
	const struct proctab_row *row = proctab_row(role);
	char *argv[PROCTAB_MAX_ARGS + 3];
	char *envp[PROCTAB_MAX_ENV + 2];
	pid_t parent = getpid(), p;
	size_t n = 0, ne = 0, i;

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
	/* Made before the fork, like argv: pointers into the caller's
	 * environment, which the child's copy of memory keeps. */
	envp[ne++] = (char *)PROCTAB_PATH;
	for (i = 0; environ != NULL && environ[i] != NULL; i++) {
		if (!env_keeps(role, environ[i]))
			continue;
		if (ne > PROCTAB_MAX_ENV)
			return WARD_EINVAL;
		envp[ne++] = environ[i];
	}
	envp[ne] = NULL;
	p = fork();
	if (p < 0)
		return WARD_EIO;
	if (p == 0)
		child(argv, envp, fds, nfds, flags, parent);
	*pid = p;
	return 0;
}
