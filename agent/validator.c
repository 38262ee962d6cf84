/*
 * validator: sandboxed compile-and-test of a bundle.  See validator.h.
 *
 * Must hold: the parent never trusts what the child sends beyond its
 * length bound (the caller verifies the compiled image); the child is
 * always reaped, killed at the deadline; the child cannot open files,
 * start processes, or use the network; its privileges are dropped before
 * it reads a byte of the bundle's content.
 */

#include "agent/validator.h"
#include "content/content.h"
#include "scan/rulefile.h"
#include "util/alloc.h"
#include "util/file.h"
#include "util/limits.h"
#include "util/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* AddressSanitizer reserves terabytes of address space for its shadow
 * memory: a sanitizer build cannot run under an address-space limit. */
#if defined(__SANITIZE_ADDRESS__)
#define NO_AS_LIMIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_AS_LIMIT 1
#endif
#endif

/* First byte of the child's answer: the typed result (the text after it
 * is for people). */
#define ANSWER_OK 0
#define ANSWER_REFUSED 1 /* the content's own error */
#define ANSWER_NOMEM 2	 /* an allocation failed: the memory limit, not the content */

static int
set_limit(int res, rlim_t v)
{
	struct rlimit rl = {v, v};

	return setrlimit(res, &rl) == 0 ? 0 : -errno;
}

int
validator_sandbox(const struct agent_config *c)
{
	static const int allowed[] = {
	    SCMP_SYS(read),	    SCMP_SYS(write),	      SCMP_SYS(close),
	    SCMP_SYS(exit),	    SCMP_SYS(exit_group),     SCMP_SYS(brk),
	    SCMP_SYS(mmap),	    SCMP_SYS(munmap),	      SCMP_SYS(mremap),
	    SCMP_SYS(mprotect),	    SCMP_SYS(madvise),	      SCMP_SYS(futex),
	    SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
	    SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),  SCMP_SYS(getpid),
	    SCMP_SYS(gettid),	    SCMP_SYS(getrandom),      SCMP_SYS(sched_yield),
	    SCMP_SYS(sched_getaffinity), SCMP_SYS(fstat),     SCMP_SYS(newfstatat),
	    SCMP_SYS(lseek),	    SCMP_SYS(getrlimit),      SCMP_SYS(prlimit64),
	    SCMP_SYS(tgkill),	    SCMP_SYS(rseq),	      SCMP_SYS(set_robust_list),
	    SCMP_SYS(getuid),	    SCMP_SYS(geteuid),	      SCMP_SYS(getgid),
	    SCMP_SYS(getegid),	    SCMP_SYS(sigaltstack),
	};
	struct passwd *pw;
	scmp_filter_ctx ctx;
	size_t i;
	int r;

	/* Limits first, while allowed to set them. */
#ifndef NO_AS_LIMIT
	if ((r = set_limit(RLIMIT_AS, (rlim_t)c->validator_memory_mb << 20)) != 0)
		return r;
#endif
	if ((r = set_limit(RLIMIT_CPU, c->validator_cpu_s)) != 0 ||
	    (r = set_limit(RLIMIT_FSIZE, 0)) != 0 || (r = set_limit(RLIMIT_CORE, 0)) != 0 ||
	    (r = set_limit(RLIMIT_NOFILE, 8)) != 0)
		return r;
	if (geteuid() == 0) {
		pw = getpwnam(c->validator_user);
		if (pw == NULL || pw->pw_uid == 0)
			return -EPERM;
		if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
			return -errno;
		if (setuid(0) == 0) /* must be impossible now */
			return -EPERM;
		if ((r = set_limit(RLIMIT_NPROC, 0)) != 0)
			return r;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return -errno;
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return -ENOMEM;
	r = 0;
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* Opening files fails cleanly (libraries probe for configuration). */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

static void
answer(int fd, uint8_t kind, const void *p, size_t n)
{
	uint8_t hdr[5] = {kind, (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16),
			  (uint8_t)(n >> 24)};

	(void)file_write_all(fd, hdr, sizeof(hdr));
	(void)file_write_all(fd, p, n);
}

/* Answers a refusal of the content; err (a WARD_E* code) types it. */
static void
refuse(int fd, int err, const char *what, const struct ward_diag *d)
{
	char msg[1200], where[1100];

	diag_format(d, where, sizeof(where));
	snprintf(msg, sizeof(msg), "%s: %s", what, where);
	answer(fd, err == WARD_ENOMEM ? ANSWER_NOMEM : ANSWER_REFUSED, msg, strlen(msg));
}

#ifdef WARD_FAULT_INJECTION
static int
has_rule(const struct content_set *cs, const char *name)
{
	uint32_t i;

	for (i = 0; cs->rs != NULL && i < cs->rs->nrules; i++)
		if (strcmp(cs->rs->rules[i].name, name) == 0)
			return 1;
	return 0;
}
#endif

/*
 * The validator process (wardd --validator): fd 3 is the answer pipe, fd 4
 * the bundle's bytes.  Reads everything it needs, enters the sandbox, then
 * parses, compiles and tests the content and answers.
 */
int
validator_main(const struct agent_config *c)
{
	struct content_set cs;
	struct bundle *b = NULL;
	struct ward_diag d;
	struct wbuf w, in;
	uint8_t buf[65536];
	char msg[200];
	ssize_t k;
	int r, fd = 3;
#ifdef WARD_FAULT_INJECTION
	/* Test builds only: hand-crafted compiled data in place of the real
	 * result, read before the sandbox forbids opening files. */
	uint8_t *forged = NULL;
	size_t forged_len = 0;
	const char *ff = getenv("WARD_FAULT_COMPILED_FILE");

	if (ff != NULL && file_read_all(ff, WARD_MAX_COMPILED_SIZE, &forged, &forged_len, NULL) != 0)
		forged = NULL;
#endif

	wbuf_init(&in);
	while ((k = read(4, buf, sizeof(buf))) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 || in.len + (size_t)k > (size_t)BUNDLE_MAX_SIZE)
			return 2;
		wbuf_put(&in, buf, (size_t)k);
	}
	close(4);
	if (in.err != 0)
		return 2;
	(void)close_range(4, ~0u, 0);
	if ((r = validator_sandbox(c)) != 0) {
		snprintf(msg, sizeof(msg), "cannot set up the validator sandbox: %s", strerror(-r));
		answer(fd, ANSWER_REFUSED, msg, strlen(msg));
		return 2;
	}
	diag_clear(&d);
	if ((r = bundle_parse(in.p, in.len, &b, &d)) != 0) {
		refuse(fd, r, "invalid bundle", &d);
		return 0;
	}
	wbuf_free(&in);
	if ((r = content_compile(b, &cs, &d)) != 0) {
		refuse(fd, r, "content does not compile", &d);
		return 0;
	}
#ifdef WARD_FAULT_INJECTION
	if (has_rule(&cs, "WARD_FAULT_CRASH_VALIDATOR"))
		abort();
#endif
	if ((r = content_run_tests(b, &cs, &d)) != 0) {
		refuse(fd, r, "bundle test failed", &d);
		return 0;
	}
	wbuf_init(&w);
	if ((r = rulefile_image(cs.rs, cs.hs, cs.m, &w, &d)) != 0) {
		refuse(fd, r, "cannot serialize the compiled content", &d);
		return 0;
	}
#ifdef WARD_FAULT_INJECTION
	if (forged != NULL) {
		answer(fd, ANSWER_OK, forged, forged_len);
		return 0;
	}
#endif
	answer(fd, ANSWER_OK, w.p, w.len);
	return 0;
}

/* The child's command line: the limits of the configuration the worker
 * runs, made before the fork (only async-signal-safe calls after it). */
struct child_args {
	char cpu[16], mem[16];
	char *argv[10];
};

static void
child_args(const struct agent_config *c, struct child_args *a)
{
	snprintf(a->cpu, sizeof(a->cpu), "%u", c->validator_cpu_s);
	snprintf(a->mem, sizeof(a->mem), "%u", c->validator_memory_mb);
	a->argv[0] = (char *)"wardd";
	a->argv[1] = (char *)"--validator";
	a->argv[2] = (char *)"--validator-user";
	a->argv[3] = (char *)c->validator_user;
	a->argv[4] = (char *)"--validator-cpu-s";
	a->argv[5] = a->cpu;
	a->argv[6] = (char *)"--validator-memory-mb";
	a->argv[7] = a->mem;
	a->argv[8] = NULL;
}

/* The child: fd 3 = answer pipe, fd 4 = bundle; then a fresh wardd. */
static void __attribute__((noreturn)) exec_child(struct child_args *a, int answer_fd, int bundle_fd)
{
	if (dup2(answer_fd, 3) != 3 || dup2(bundle_fd, 4) != 4)
		_exit(3);
	(void)close_range(5, ~0u, 0);
	execv("/proc/self/exe", a->argv);
	_exit(4);
}

int
validator_run(const struct agent_config *c, const uint8_t *bundle, size_t bundle_len,
	      struct wbuf *out, char *reason, size_t reasonlen)
{
	struct wbuf got;
	double deadline = clock_mono() + c->validator_timeout_s;
	uint8_t buf[65536];
	int pfd[2], mfd, status = 0, timed_out = 0, r = 0;
	pid_t pid;
	size_t n;
	struct child_args args;

	reason[0] = '\0';
	child_args(c, &args);
	/* The bundle travels in a sealed memory file: the child reads it
	 * before entering the sandbox and cannot change the parent's copy. */
	mfd = memfd_create("ward-bundle", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0 || file_write_all(mfd, bundle, bundle_len) != 0 ||
	    lseek(mfd, 0, SEEK_SET) != 0 ||
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
		snprintf(reason, reasonlen, "cannot start the validator: %s", strerror(errno));
		if (mfd >= 0)
			close(mfd);
		return WARD_EIO;
	}
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		snprintf(reason, reasonlen, "cannot start the validator: %s", strerror(errno));
		close(mfd);
		return WARD_EIO;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(reason, reasonlen, "cannot start the validator: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		close(mfd);
		return WARD_EIO;
	}
	if (pid == 0)
		exec_child(&args, pfd[1], mfd);
	close(pfd[1]);
	close(mfd);
	wbuf_init(&got);
	for (;;) {
		struct pollfd p = {pfd[0], POLLIN, 0};
		double left = deadline - clock_mono();
		ssize_t k;

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		if (poll(&p, 1, (int)(left * 1000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p.revents == 0)
			continue;
		k = read(pfd[0], buf, sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (got.len + (size_t)k > (size_t)WARD_MAX_COMPILED_SIZE + 5) {
			snprintf(reason, reasonlen, "the validator sent more than the size limit");
			r = WARD_EVERIFY; /* what the content compiled to, or a hostile child */
			break;
		}
		wbuf_put(&got, buf, (size_t)k);
	}
	close(pfd[0]);
	if (timed_out || r != 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r != 0)
		goto out;
	if (timed_out) {
		snprintf(reason, reasonlen, "validation took longer than validator.timeout_s (%u s)",
			 c->validator_timeout_s);
		r = WARD_ELIMIT;
		goto out;
	}
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		r = WARD_EVERIFY;
		if (sig == SIGXCPU || (sig == SIGKILL && got.len == 0)) {
			snprintf(reason, reasonlen,
				 "validation exceeded its CPU time limit (validator.cpu_s = %u)",
				 c->validator_cpu_s);
			r = WARD_ELIMIT;
		} else if (sig == SIGSYS)
			snprintf(reason, reasonlen,
				 "the validator made a system call its sandbox forbids");
		else
			snprintf(reason, reasonlen, "the validator crashed (%s)", strsignal(sig));
		goto out;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 4) {
		snprintf(reason, reasonlen, "cannot start the validator (exec of /proc/self/exe)");
		r = WARD_EIO;
		goto out;
	}
	if (got.err != 0 || got.len < 5) {
		snprintf(reason, reasonlen, "the validator exited (status %d) without an answer%s",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			 got.err != 0 ? " (out of memory)" : "");
		r = got.err != 0 ? WARD_ENOMEM : WARD_EVERIFY;
		goto out;
	}
	n = (size_t)got.p[1] | (size_t)got.p[2] << 8 | (size_t)got.p[3] << 16 |
	    (size_t)got.p[4] << 24;
	if (n != got.len - 5) {
		snprintf(reason, reasonlen, "the validator's answer is truncated");
		r = WARD_EVERIFY;
		goto out;
	}
	if (got.p[0] != ANSWER_OK) {
		snprintf(reason, reasonlen, "%.*s", (int)(n < reasonlen ? n : reasonlen - 1),
			 (const char *)got.p + 5);
		/* The memory limit shows as a failed allocation in the child,
		 * which says so in the answer's kind. */
		r = WARD_EVERIFY;
		if (got.p[0] == ANSWER_NOMEM) {
			snprintf(reason + strlen(reason), reasonlen - strlen(reason),
				 " (validator.memory_mb = %u)", c->validator_memory_mb);
			r = WARD_ENOMEM;
		}
		goto out;
	}
	wbuf_put(out, got.p + 5, n);
	r = out->err;
out:
	wbuf_free(&got);
	return r;
}
