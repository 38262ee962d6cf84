/*
 * sandbox: confining a process that reads hostile bytes.  See sandbox.h.
 *
 * Must hold: the order — user, then no_new_privs, then the filter — and
 * that nothing is allowed that the caller did not list.
 */
#include "agent/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <linux/netlink.h>
#include <sched.h>
#include <sys/socket.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <unistd.h>

int
sandbox_limit(int res, rlim_t v)
{
	struct rlimit rl = {v, v};

	return setrlimit(res, &rl) == 0 ? 0 : -errno;
}

/* Becomes user (when root) with no way back. */
static int
drop_user(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (pw == NULL || pw->pw_uid == 0)
		return -EPERM;
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
		return -errno;
	if (setuid(0) == 0) /* must be impossible now */
		return -EPERM;
	return 0;
}

/* What every process of libc needs, whatever its role: memory and its
 * allocator, threads' futexes, signals, time, randomness, its limits,
 * leaving.  (And, below, signals, limits and CPUs of its own only: the
 * sandboxed roles may share a user, and one taken over must not stop or
 * limit another.) */
static const int base_calls[] = {
    SCMP_SYS(brk),
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(mprotect),
    SCMP_SYS(madvise),
    SCMP_SYS(futex),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(getrandom),
    SCMP_SYS(sched_yield),
    SCMP_SYS(getrlimit),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(rseq),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
};

/* The network role's rules (see struct sandbox_extra). */
static int
add_extra(scmp_filter_ctx ctx, const struct sandbox_extra *x)
{
	size_t i;
	int r = 0;

	for (i = 0; i < x->nfcntl && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)x->fcntl[i]));
	for (i = 0; i < x->ndomains && r == 0; i++)
		r = x->domains[i] == AF_NETLINK /* the route table only (the resolver's) */
			? seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
					   SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)AF_NETLINK),
					   SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)NETLINK_ROUTE))
			: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
					   SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)x->domains[i]));
	for (i = 0; i < x->nioctl && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)x->ioctl[i]));
	if (r == 0 && x->threads)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	if (r == 0 && x->threads)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r == 0 && x->open_read)
		r = seccomp_rule_add(
		    ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC | O_PATH, O_RDONLY));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
	return r;
}

/* no_new_privs, not dumpable, then the filter: allowed, and x's rules
 * or (x NULL) fcntl_cmd and open failing with EACCES. */
static int
confine(const int *allowed, size_t n, int fcntl_cmd, const struct sandbox_extra *x)
{
	scmp_filter_ctx ctx;
	size_t i;
	int r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return -errno;
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return -ENOMEM;
	r = 0;
	for (i = 0; i < sizeof(base_calls) / sizeof(base_calls[0]) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, base_calls[i], 0);
	if (r == 0) /* raise(), abort(): tgkill(getpid(), ...) */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	if (r == 0) /* getrlimit and setrlimit: pid 0, itself */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1,
				     SCMP_A0(SCMP_CMP_EQ, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sched_getaffinity), 1,
				     SCMP_A0(SCMP_CMP_EQ, 0));
	for (i = 0; i < n && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	if (x != NULL) {
		if (r == 0)
			r = add_extra(ctx, x);
	} else {
		if (r == 0 && fcntl_cmd >= 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
					     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)fcntl_cmd));
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
	}
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

int
sandbox_enter(const char *user, const int *allowed, size_t n, int fcntl_cmd)
{
	int r = drop_user(user);

	return r != 0 ? r : confine(allowed, n, fcntl_cmd, NULL);
}

int
sandbox_enter_extra(const char *user, const int *allowed, size_t n, const struct sandbox_extra *x)
{
	int r = drop_user(user);

	return r != 0 ? r : confine(allowed, n, -1, x);
}
