/*
 * validator: sandboxed compile-and-test of a bundle.  See validator.h.
 *
 * Must hold: the parent never trusts what the child sends beyond the
 * channel's table (lib/content/valmsg.h) — a frame that breaks it is an
 * attack, and the caller verifies the compiled image; the child is always
 * reaped, killed at the deadline; the child cannot open files, start
 * processes, or use the network; its privileges are dropped before it
 * reads a byte of the bundle's content.
 *
 * The two talk over an ipc channel (lib/util/ipc.h), the child's fd 3:
 * the request carries the bundle in a sealed memory file, the answer is
 * either the compiled image in a sealed memory file or a typed refusal.
 */

#include "agent/validator.h"
#include "agent/proctab.h"
#include "util/sandbox.h"
#include "content/content.h"
#include "content/image.h"
#include "content/valmsg.h"
#include "scan/rulefile.h"
#include "util/alloc.h"
#include "util/file.h"
#include "util/ipc.h"
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
validator_sandbox(const struct agent_config *c)
{
	static const int allowed[] = {
	    SCMP_SYS(read),
	    SCMP_SYS(write),
	    SCMP_SYS(close),
	    SCMP_SYS(fstat),
	    SCMP_SYS(newfstatat),
	    SCMP_SYS(lseek),
	    SCMP_SYS(getuid),
	    SCMP_SYS(geteuid),
	    SCMP_SYS(getgid),
	    SCMP_SYS(getegid),
	    /* The answer on the ipc channel: a frame, and a wait for room
	     * in the socket until the deadline (ppoll where poll is not). */
	    SCMP_SYS(sendmsg),
	    SCMP_SYS(poll),
	    SCMP_SYS(ppoll),
	};
	int r;

	/* Limits first, while allowed to set them: its row's (proctab.c).
	 * The compiled image goes back in a memory file, which counts as a
	 * file: its size is bounded as the child's memory, at most
	 * WARD_MAX_COMPILED_SIZE.  The child can open no file, so that is the
	 * only file it can grow. */
	if ((r = proctab_apply_limits(PROC_VALIDATOR, c)) != 0)
		return r;
	return sandbox_enter(c->validator_user, allowed, sizeof(allowed) / sizeof(allowed[0]),
			     F_ADD_SEALS);
}

/* The child's end of the channel: its answer goes there by the deadline;
 * the image in the memory file made before the sandbox (which forbids
 * making one). */
struct answer_to {
	struct ipc *ch;
	int image_fd;
	double deadline;
};

/* Sends the compiled image p[0..n).  A failure leaves the parent without
 * an answer, which it reports as such. */
static void
answer_ok(const struct answer_to *a, const void *p, size_t n)
{
	struct valmsg_ok ok = {n};
	struct wbuf w;

	wbuf_init(&w);
	valmsg_ok_encode(&w, &ok);
	if (w.err == 0 && ipc_memfd_seal(a->image_fd, p, n) == 0)
		(void)ipc_send(a->ch, VALMSG_OK, w.p, w.len, a->image_fd, a->deadline, NULL);
	wbuf_free(&w);
}

static void
answer_refused(const struct answer_to *a, enum valmsg_cause cause, const char *msg)
{
	struct wbuf w;

	wbuf_init(&w);
	valmsg_refused_encode(&w, cause, msg);
	if (w.err == 0)
		(void)ipc_send(a->ch, VALMSG_REFUSED, w.p, w.len, -1, a->deadline, NULL);
	wbuf_free(&w);
}

/* Answers a refusal; err (the failed step's WARD_E* code) types it: an
 * allocation that failed is the memory limit, not the content. */
static void
refuse(const struct answer_to *a, int err, enum valmsg_cause cause, const char *what,
       const struct ward_diag *d)
{
	char msg[1200], where[1100];

	diag_format(d, where, sizeof(where));
	snprintf(msg, sizeof(msg), "%s: %s", what, where);
	answer_refused(a, err == WARD_ENOMEM ? VALMSG_CAUSE_MEMORY : cause, msg);
}

#ifdef WARD_FAULT_INJECTION
/* Test builds only: an answer that breaks the channel's protocol, as a
 * subverted validator could send (WARD_FAULT_VALIDATOR_ANSWER = unsealed,
 * twice or bad-cause).  1 when it answered so. */
static int
fault_answer(const struct answer_to *a, const void *p, size_t n)
{
	const char *how = getenv("WARD_FAULT_VALIDATOR_ANSWER");
	struct valmsg_ok ok = {n};
	struct wbuf w;

	if (how == NULL)
		return 0;
	wbuf_init(&w);
	if (strcmp(how, "unsealed") == 0) {
		valmsg_ok_encode(&w, &ok);
		if (w.err == 0 && file_write_all(a->image_fd, p, n) == 0)
			(void)ipc_send(a->ch, VALMSG_OK, w.p, w.len, a->image_fd, a->deadline,
				       NULL);
	} else if (strcmp(how, "twice") == 0) {
		answer_ok(a, p, n);
		answer_refused(a, VALMSG_CAUSE_TEST, "and refused as well");
	} else if (strcmp(how, "bad-cause") == 0) {
		wbuf_u16(&w, 99);
		wbuf_lenbytes(&w, "x", 1);
		if (w.err == 0)
			(void)ipc_send(a->ch, VALMSG_REFUSED, w.p, w.len, -1, a->deadline, NULL);
	}
	wbuf_free(&w);
	return 1;
}

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
 * Takes the request from the channel: the bundle, mapped read-only from
 * its sealed memory file (*p, n bytes).  Before the sandbox.
 */
static int
take_request(struct ipc *ch, double deadline, const uint8_t **p, size_t *n)
{
	struct valmsg_request req;
	struct ipc_msg m;
	struct ward_diag d;
	int r;

	*p = NULL;
	*n = 0;
	if ((r = ipc_recv(ch, deadline, &m, &d)) != 0)
		return r;
	if ((r = valmsg_request_decode(&m, &req, &d)) == 0 &&
	    (r = ipc_memfd_map(m.fd, (size_t)req.size, p)) == 0)
		*n = (size_t)req.size;
	ipc_msg_close(&m);
	return r;
}

/*
 * The validator process (wardd --validator): fd 3 is its ipc channel to
 * the worker.  Takes everything it needs (the request, a memory file for
 * the answer), enters the sandbox, then parses, compiles and tests the
 * content and answers.
 */
int
validator_main(const struct agent_config *c)
{
	struct content_set cs;
	struct bundle *b = NULL;
	struct ward_diag d;
	struct wbuf w;
	struct answer_to ans = {NULL, -1, clock_mono() + c->validator_timeout_s};
	const uint8_t *in = NULL;
	size_t in_len = 0;
	char msg[200];
	int r;
#ifdef WARD_FAULT_INJECTION
	/* Test builds only: hand-crafted compiled data in place of the real
	 * result, read before the sandbox forbids opening files. */
	uint8_t *forged = NULL;
	size_t forged_len = 0;
	const char *ff = getenv("WARD_FAULT_COMPILED_FILE");

	if (ff != NULL &&
	    file_read_all(ff, WARD_MAX_COMPILED_SIZE, &forged, &forged_len, NULL) != 0)
		forged = NULL;
#endif

	/* Started through /proc/self/exe ("exe"): named for ps and top. */
	(void)prctl(PR_SET_NAME, "wardd-validate");
	/* The bundle stays mapped until the process ends: bundle_parse
	 * borrows it. */
	if (ipc_new(3, &valmsg_to_validator, &valmsg_to_worker, &ans.ch) != 0 ||
	    take_request(ans.ch, ans.deadline, &in, &in_len) != 0 ||
	    ipc_memfd_open("ward-image", &ans.image_fd) != 0)
		return 2;
	if ((r = validator_sandbox(c)) != 0) {
		snprintf(msg, sizeof(msg), "cannot set up the validator sandbox: %s", strerror(-r));
		answer_refused(&ans, VALMSG_CAUSE_SANDBOX, msg);
		return 2;
	}
	diag_clear(&d);
	if ((r = bundle_parse(in, in_len, &b, &d)) != 0) {
		refuse(&ans, r, VALMSG_CAUSE_BUNDLE, "invalid bundle", &d);
		return 0;
	}
	if ((r = content_compile(b, &cs, &d)) != 0) {
		refuse(&ans, r, VALMSG_CAUSE_COMPILE, "content does not compile", &d);
		return 0;
	}
#ifdef WARD_FAULT_INJECTION
	if (has_rule(&cs, "WARD_FAULT_CRASH_VALIDATOR"))
		abort();
	if (has_rule(&cs,
		     "WARD_FAULT_SLOW_VALIDATOR")) { /* 8 s of work (no sleep in the sandbox) */
		double until = clock_mono() + 8;

		while (clock_mono() < until)
			;
	}
#endif
	if ((r = content_run_tests(b, &cs, &d)) != 0) {
		refuse(&ans, r, VALMSG_CAUSE_TEST, "bundle test failed", &d);
		return 0;
	}
	wbuf_init(&w);
	/* Everything compiled, process rules, FIM policy and exceptions
	 * included: the worker parses none of the bundle's text. */
	if ((r = content_image_encode(&cs, &w, &d)) != 0) {
		refuse(&ans, r, VALMSG_CAUSE_IMAGE, "cannot serialize the compiled content", &d);
		return 0;
	}
#ifdef WARD_FAULT_INJECTION
	if (fault_answer(&ans, w.p, w.len))
		return 0;
	if (forged != NULL) {
		/* A forged compiled rule file goes in as the image's rules
		 * section, so that the worker's own checks must catch it. */
		struct wbuf fw;

		wbuf_init(&fw);
		if (forged_len >= 8 && memcmp(forged, CONTENT_IMAGE_MAGIC, 8) == 0)
			answer_ok(&ans, forged, forged_len);
		else if (content_image_assemble(forged, forged_len, &cs, &fw, &d) == 0)
			answer_ok(&ans, fw.p, fw.len);
		wbuf_free(&fw);
		return 0;
	}
#endif
	answer_ok(&ans, w.p, w.len);
	return 0;
}

/* The child's arguments: the limits of the configuration the worker
 * runs, made before the fork (only async-signal-safe calls after it). */
struct child_args {
	char cpu[16], mem[16];
	const char *args[8];
};

static void
child_args(const struct agent_config *c, struct child_args *a)
{
	snprintf(a->cpu, sizeof(a->cpu), "%u", c->validator_cpu_s);
	snprintf(a->mem, sizeof(a->mem), "%u", c->validator_memory_mb);
	a->args[0] = "--validator-user";
	a->args[1] = c->validator_user;
	a->args[2] = "--validator-cpu-s";
	a->args[3] = a->cpu;
	a->args[4] = "--validator-memory-mb";
	a->args[5] = a->mem;
	a->args[6] = NULL;
}

/*
 * Waits for the child's one answer, then for the end of the channel (the
 * child exits after answering: a second frame breaks the protocol).
 * 0 with *m, or what ipc_recv returned (m->fd -1 then).
 */
static int
await_answer(struct ipc *ch, double deadline, struct ipc_msg *m, struct ward_diag *d)
{
	struct ipc_msg extra;
	int r;

	if ((r = ipc_recv(ch, deadline, m, d)) != 0)
		return r;
	r = ipc_recv(ch, deadline, &extra, d);
	if (r == 0) {
		ipc_msg_close(&extra);
		r = diag_set(d, WARD_EPROTO, "validator", 0, 0, "a second answer");
	}
	if (r == WARD_ECLOSED)
		return 0;
	ipc_msg_close(m);
	return r;
}

/* Reaps the validator: a child that closed its channel (or answered) and
 * still runs REAP_S later is killed, so that no validator, however
 * subverted, can hold the activation waiting for its exit.  1 if it had
 * to be killed so. */
#define REAP_S 5.0
static int
reap(pid_t pid, int *status)
{
	double until = clock_mono() + REAP_S;
	pid_t w;

	while (((w = waitpid(pid, status, WNOHANG)) == 0 || (w < 0 && errno == EINTR)) &&
	       clock_mono() < until)
		usleep(5000);
	if (w == pid)
		return 0;
	kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return 1;
}

/* The answer ok: the image, copied out of its memory file into out. */
static int
take_image(const struct ipc_msg *m, struct wbuf *out, struct ward_diag *d)
{
	struct valmsg_ok ok;
	const uint8_t *p;
	int r;

	if ((r = valmsg_ok_decode(m, &ok, d)) != 0)
		return r;
	if ((r = ipc_memfd_map(m->fd, (size_t)ok.size, &p)) != 0)
		return diag_set(d, r, "validator", 0, 0, "cannot map the compiled image: %s",
				strerror(errno));
	wbuf_put(out, p, (size_t)ok.size);
	ipc_memfd_unmap(p, (size_t)ok.size);
	return out->err;
}

int
validator_run(const struct agent_config *c, const uint8_t *bundle, size_t bundle_len,
	      struct wbuf *out, char *reason, size_t reasonlen)
{
	struct valmsg_request req = {bundle_len};
	struct valmsg_refused *no = NULL;
	struct ipc_msg m = {.fd = -1};
	struct ipc *ch = NULL;
	struct ward_diag d;
	struct wbuf w;
	double deadline = clock_mono() + c->validator_timeout_s;
	int sv[2] = {-1, -1}, mfd = -1, status = 0, r;
	pid_t pid;
	struct child_args args;

	reason[0] = '\0';
	diag_clear(&d);
	wbuf_init(&w);
	child_args(c, &args);
	/* The bundle travels in a sealed memory file: the child maps it
	 * before entering the sandbox and cannot change the parent's copy.
	 * The request waits in the socket for the child to start. */
	valmsg_request_encode(&w, &req);
	if (w.err != 0 || ipc_memfd_new("ward-bundle", bundle, bundle_len, &mfd) != 0 ||
	    ipc_pair(sv) != 0) {
		snprintf(reason, reasonlen, "cannot start the validator: %s", strerror(errno));
		r = WARD_EIO;
		goto out;
	}
	r = ipc_new(sv[0], &valmsg_to_worker, &valmsg_to_validator, &ch);
	sv[0] = -1;
	if (r == 0)
		r = ipc_send(ch, VALMSG_REQUEST, w.p, w.len, mfd, deadline, &d);
	if (r != 0) {
		snprintf(reason, reasonlen, "cannot start the validator: %s",
			 d.msg[0] != '\0' ? d.msg : ward_strerror(r));
		goto out;
	}
	close(mfd);
	mfd = -1;
	if (proctab_spawn(PROC_VALIDATOR, args.args, &sv[1], 1, PROCTAB_F_UNBLOCK, &pid) != 0) {
		snprintf(reason, reasonlen, "cannot start the validator: %s", strerror(errno));
		r = WARD_EIO;
		goto out;
	}
	close(sv[1]);
	sv[1] = -1;
	r = await_answer(ch, deadline, &m, &d);
	/* Stuck, or breaking the protocol: the child has nothing more to say. */
	if (r != 0 && r != WARD_ECLOSED)
		kill(pid, SIGKILL);
	if (reap(pid, &status)) {
		if (r == 0) {
			status = 0; /* it answered: its lingering is not the content's doing */
		} else if (r == WARD_ECLOSED) {
			snprintf(reason, reasonlen,
				 "the validator closed its channel without an answer and did not "
				 "exit");
			r = WARD_EVERIFY;
			goto out;
		}
	}
	if (r == WARD_EPROTO) {
		ipc_attack_text(&d, reason, reasonlen);
		goto out;
	}
	if (r == WARD_ETIMEDOUT) {
		snprintf(reason, reasonlen,
			 "validation took longer than validator.timeout_s (%u s)",
			 c->validator_timeout_s);
		r = WARD_ELIMIT;
		goto out;
	}
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		if (sig == SIGXCPU || (sig == SIGKILL && r != 0)) {
			snprintf(reason, reasonlen,
				 "validation exceeded its CPU time limit (validator.cpu_s = %u)",
				 c->validator_cpu_s);
			r = WARD_ELIMIT; /* a host limit, not the content's own error */
			goto out;
		}
		if (sig == SIGSYS)
			snprintf(reason, reasonlen,
				 "the validator made a system call its sandbox forbids");
		else
			snprintf(reason, reasonlen, "the validator crashed (%s)", strsignal(sig));
		r = WARD_EVERIFY;
		goto out;
	}
	if (WIFEXITED(status) &&
	    (WEXITSTATUS(status) == PROCTAB_EXIT_EXEC || WEXITSTATUS(status) == PROCTAB_EXIT_FDS)) {
		snprintf(reason, reasonlen, "cannot start the validator (exec of /proc/self/exe)");
		r = WARD_EIO;
		goto out;
	}
	if (r != 0) {
		snprintf(reason, reasonlen, "the validator exited (status %d) without an answer",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		r = WARD_EVERIFY;
		goto out;
	}
	if (m.type == VALMSG_REFUSED) {
		if ((no = ward_malloc(sizeof(*no))) == NULL) {
			snprintf(reason, reasonlen, "out of memory");
			r = WARD_ENOMEM;
			goto out;
		}
		if ((r = valmsg_refused_decode(&m, no, &d)) != 0) {
			ipc_attack_text(&d, reason, reasonlen);
			goto out;
		}
		snprintf(reason, reasonlen, "%s", no->reason);
		r = WARD_EVERIFY;
		/* The memory limit shows as a failed allocation in the child,
		 * which says so by the answer's cause. */
		if (no->cause == VALMSG_CAUSE_MEMORY) {
			snprintf(reason + strlen(reason), reasonlen - strlen(reason),
				 " (validator.memory_mb = %u)", c->validator_memory_mb);
			r = WARD_ENOMEM;
		}
		goto out;
	}
	if ((r = take_image(&m, out, &d)) != 0) {
		if (r == WARD_EPROTO)
			ipc_attack_text(&d, reason, reasonlen);
		else
			snprintf(reason, reasonlen, "%s",
				 d.msg[0] != '\0' ? d.msg : ward_strerror(r));
	}
out:
	ipc_msg_close(&m);
	ipc_free(ch);
	if (mfd >= 0)
		close(mfd);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	ward_free(no);
	wbuf_free(&w);
	return r;
}
