/*
 * sandbox: how the wardd processes that read hostile bytes (validators,
 * scanners) confine themselves before their first byte: limits, an
 * unprivileged user with no way back, no new privileges, not dumpable,
 * and a seccomp allow-list.  Each role's limits are its row of the
 * process table (proctab_apply_limits, called first), its list is its own
 * (validator.c, scanner.c); the steps and their order are here, once.
 */
#ifndef WARD_AGENT_SANDBOX_H
#define WARD_AGENT_SANDBOX_H

#include <stddef.h>
#include <sys/resource.h>

/* AddressSanitizer reserves terabytes of address space for its shadow
 * memory: a sanitizer build cannot run under an address-space limit. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_NO_AS_LIMIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_NO_AS_LIMIT 1
#endif
#endif

/* Sets resource res's soft and hard limit to v: 0 or -errno. */
int sandbox_limit(int res, rlim_t v);

/*
 * Run as root, after the role's limits (proctab_apply_limits: among them
 * RLIMIT_NPROC 0, no new processes): becomes user (never root; no
 * groups), checks that root cannot be taken back.  Then,
 * for any caller: no_new_privs, not dumpable, and the seccomp filter —
 * what every process of libc needs (memory, futex, signals, time,
 * getrandom, its limits, exit), the n system calls of allowed, fcntl with the one command fcntl_cmd
 * (-1: none), open and openat failing with EACCES (libraries probe for
 * configuration files), anything else killing the process.  0 or -errno
 * (-EPERM for a user that is root or unknown).
 */
int sandbox_enter(const char *user, const int *allowed, size_t n, int fcntl_cmd);

/* What a role that talks to a network (the uplink) needs beyond the
 * calls it lists: its own threads, its resolver's and CA store's files
 * (read-only), and the descriptor commands of sockets and memory files. */
struct sandbox_extra {
	int threads;		    /* clone of threads only (CLONE_THREAD); clone3 says ENOSYS,
				     * so libc falls back to clone; its row sets no
				     * RLIMIT_NPROC 0 */
	int open_read;		    /* openat read-only (no write access, O_CREAT,
				     * O_TRUNC or O_PATH) */
	const int *fcntl;	    /* the fcntl commands allowed ... */
	size_t nfcntl;		    /* ... and how many */
	const unsigned long *ioctl; /* the ioctl requests allowed (the resolver's
				     * FIONREAD) ... */
	size_t nioctl;		    /* ... and how many */
	const int *domains;	    /* the socket families it may open (none: no
				     * socket; netlink: NETLINK_ROUTE only) ... */
	size_t ndomains;	    /* ... and how many */
};

/*
 * sandbox_enter with x: openat is allowed only as x says, and any other
 * openat kills the process (no EACCES, which cannot be told apart from
 * the allowed ones in one filter).  0 or -errno.
 */
int sandbox_enter_extra(const char *user, const int *allowed, size_t n,
			const struct sandbox_extra *x);

#endif
