/*
 * sandbox: how a process that reads hostile bytes (wardd's validators,
 * scanners and uplink; the scanning part of `ward scan` run as root)
 * confines itself before its first byte: limits, an unprivileged user with
 * no way back, no new privileges, not dumpable, and a seccomp allow-list.
 * Each caller's limits and list are its own (agent/proctab.c and
 * validator.c, scanner.c, uplink_net.c; cli/scan_child.c); the steps and
 * their order are here, once.
 */
#ifndef WARD_UTIL_SANDBOX_H
#define WARD_UTIL_SANDBOX_H

#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

/* AddressSanitizer reserves terabytes of address space for its shadow
 * memory: a sanitizer build cannot run under an address-space limit. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_NO_AS_LIMIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_NO_AS_LIMIT 1
#endif
#endif

/*
 * What a scanner calls, wardd's or ward scan's (with <seccomp.h>): on the
 * files it is given (read, seek, stat, close), and on its channel (frames
 * many at a time, and waiting for them).  Each adds its own to them.
 */
#define SANDBOX_SCANNER_CALLS                                                                      \
	SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(fadvise64), SCMP_SYS(lseek), SCMP_SYS(fstat),  \
	    SCMP_SYS(newfstatat), SCMP_SYS(close), SCMP_SYS(recvmsg), SCMP_SYS(recvmmsg),          \
	    SCMP_SYS(sendmsg), SCMP_SYS(poll),                                                     \
	    SCMP_SYS(ppoll), /* archive members extracted into memory files (scan/container.c) */  \
	    SCMP_SYS(memfd_create), SCMP_SYS(ftruncate), SCMP_SYS(pwrite64)

/* Sets resource res's soft and hard limit to v: 0 or -errno. */
int sandbox_limit(int res, rlim_t v);

/*
 * The uid and gid of user, looked up now: for a process that must not
 * read the user database once confined (or whose lookup could leave a
 * descriptor of a name service open in the sandbox).  0, or -EPERM for a
 * user that is unknown or root.
 */
int sandbox_user(const char *user, uid_t *uid, gid_t *gid);

/*
 * Run as root, after the caller's limits (among them RLIMIT_NPROC 0, no
 * new processes): becomes user (never root; no groups), checks that root
 * cannot be taken back.  Then, for any caller: no_new_privs, not
 * dumpable, and the seccomp filter — what every process of libc needs
 * (memory, futex, signals, time, getrandom, its limits, exit), the n
 * system calls of allowed, fcntl with the one command fcntl_cmd (-1:
 * none), open and openat failing with EACCES (libraries probe for
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

/*
 * A confinement given whole, for a process that has threads already and
 * whose user was looked up beforehand (sandbox_user): `ward scan`'s
 * scanning part, whose pool threads start before it is confined, since
 * RLIMIT_NPROC 0 lets no thread start after.
 */
struct sandbox_spec {
	uid_t uid;	      /* the user to become when root (never 0) ... */
	gid_t gid;	      /* ... and its group */
	const int *allowed;   /* system calls allowed with any arguments ... */
	size_t n;	      /* ... and how many */
	const int *write_fds; /* write(2) allowed to these descriptors only
			       * (stdout, stderr) ... */
	size_t nwrite_fds;    /* ... and how many (0: as allowed says) */
	int all_threads;      /* the filter (and no_new_privs) on every thread
			       * of the process (SECCOMP_FILTER_FLAG_TSYNC), not
			       * only the caller */
};

/*
 * sandbox_enter for s: the user (when root), no_new_privs, not dumpable,
 * the base calls and s's, fcntl none, open and openat failing with
 * EACCES, anything else killing the process.  0 or -errno (-EPERM for uid
 * 0; -ESRCH when another thread cannot take the filter).
 */
int sandbox_enter_spec(const struct sandbox_spec *s);

#endif
