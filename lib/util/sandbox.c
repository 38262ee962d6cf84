/*
 * sandbox: confining a process that reads hostile bytes.  See sandbox.h.
 *
 * Must hold: the order — user, then no_new_privs, then the filter — and
 * that nothing is allowed that the caller did not list.  Shared by wardd's
 * helpers and `ward scan`, so that both confine the same way.
 */
#include "util/sandbox.h"

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

int
sandbox_user(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(user);

	*uid = 0;
	*gid = 0;
	if (pw == NULL || pw->pw_uid == 0)
		return -EPERM;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* Becomes uid:gid (when root) with no groups and no way back. */
static int
drop_ids(uid_t uid, gid_t gid)
{
	if (geteuid() != 0)
		return 0;
	if (uid == 0)
		return -EPERM;
	if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
		return -errno;
	if (setuid(0) == 0) /* must be impossible now */
		return -EPERM;
	return 0;
}

/* Becomes user (when root) with no way back. */
static int
drop_user(const char *user)
{
	uid_t uid;
	gid_t gid;
	int r;

	if (geteuid() != 0)
		return 0;
	if ((r = sandbox_user(user, &uid, &gid)) != 0)
		return r;
	return drop_ids(uid, gid);
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
    /* glibc's qsort asks for the memory size (sysconf _SC_PHYS_PAGES)
     * before it sorts a large array: a rule's many matches */
    SCMP_SYS(sysinfo),
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

/* How confine builds its filter beyond the base calls. */
struct confine_how {
	const int *allowed;
	size_t n;
	int fcntl_cmd; /* -1: none */
	const int *write_fds;
	size_t nwrite_fds;
	int all_threads;
	const struct sandbox_extra *x; /* or NULL */
};

/* no_new_privs, not dumpable, then the filter: h's calls, and x's rules
 * or (x NULL) fcntl_cmd and open failing with EACCES. */
static int
confine(const struct confine_how *h)
{
	scmp_filter_ctx ctx;
	size_t i;
	int r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return -errno;
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	/* NULL for want of memory, or where seccomp filters that kill the
	 * process do not exist (libseccomp's API level 3: Linux 4.14; never
	 * under qemu-user, which refuses filters). */
	if (ctx == NULL)
		return seccomp_api_get() < 3 ? -ENOSYS : -ENOMEM;
	/* Every thread at once, or none: a thread left without the filter
	 * would be a way out of it (the kernel gives it no_new_privs too). */
	r = h->all_threads ? seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) : 0;
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
	for (i = 0; i < h->n && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, h->allowed[i], 0);
	for (i = 0; i < h->nwrite_fds && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)h->write_fds[i]));
	if (h->x != NULL) {
		if (r == 0)
			r = add_extra(ctx, h->x);
	} else {
		if (r == 0 && h->fcntl_cmd >= 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
					     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)h->fcntl_cmd));
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
	}
	/* With TSYNC, a thread that cannot take the filter makes
	 * seccomp_load fail (libseccomp says -ESRCH): nothing is loaded. */
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

int
sandbox_enter(const char *user, const int *allowed, size_t n, int fcntl_cmd)
{
	const struct confine_how h = {.allowed = allowed, .n = n, .fcntl_cmd = fcntl_cmd};
	int r = drop_user(user);

	return r != 0 ? r : confine(&h);
}

int
sandbox_enter_extra(const char *user, const int *allowed, size_t n, const struct sandbox_extra *x)
{
	const struct confine_how h = {.allowed = allowed, .n = n, .fcntl_cmd = -1, .x = x};
	int r = drop_user(user);

	return r != 0 ? r : confine(&h);
}

int
sandbox_enter_spec(const struct sandbox_spec *s)
{
	const struct confine_how h = {.allowed = s->allowed,
				      .n = s->n,
				      .fcntl_cmd = -1,
				      .write_fds = s->write_fds,
				      .nwrite_fds = s->nwrite_fds,
				      .all_threads = s->all_threads};
	int r = drop_ids(s->uid, s->gid);

	return r != 0 ? r : confine(&h);
}
