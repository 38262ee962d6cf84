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
sandbox_enter(const char *user, const int *allowed, size_t n, int fcntl_cmd)
{
	struct passwd *pw;
	scmp_filter_ctx ctx;
	size_t i;
	int r;

	if (geteuid() == 0) {
		pw = getpwnam(user);
		if (pw == NULL || pw->pw_uid == 0)
			return -EPERM;
		if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
			return -errno;
		if (setuid(0) == 0) /* must be impossible now */
			return -EPERM;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return -errno;
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return -ENOMEM;
	r = 0;
	for (i = 0; i < n && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	if (r == 0 && fcntl_cmd >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)fcntl_cmd));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}
