/*
 * scanner: the sandboxed process that scans files.  See scanner.h.
 *
 * Must hold: the sandbox is in place before the first byte from the
 * worker is read; the scanner answers each request with one verdict of
 * the request's id, in the order of the requests, and closes the file it
 * was given; a verdict held back goes before the scanner waits for a
 * request or takes content; it trusts nothing of the content image
 * beyond what rulefile_parse verifies.
 */
#include "agent/scanner.h"
#include "agent/proctab.h"
#include "util/sandbox.h"
#include "scan/matcher.h"
#include "scan/rulefile.h"
#include "scan/scanmsg.h"
#include "rules/ruleset.h"
#include "scan/hashsig.h"
#include "util/clock.h"
#include "util/ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* How long the scanner waits to hand a verdict over: the worker reads
 * each one at once, so a full socket means it is gone. */
#define SCANNER_SEND_S 10.0
/* A file larger than this is scanned only once the verdicts held back
 * are sent: its scan takes milliseconds, and no verdict waits for it. */
#define SCANNER_HOLD_BYTES (1024 * 1024)

int
scanner_sandbox(const struct agent_config *c)
{
	static const int allowed[] = {
	    /* the files it was given (and the content's memory file), its
	     * channel */
	    SANDBOX_SCANNER_CALLS,
	    /* each scan's own time bound */
	    SCMP_SYS(alarm),
	    SCMP_SYS(setitimer),
	    /* log lines to stderr */
	    SCMP_SYS(write),
	};
	int r;

	/* Its row's limits (proctab.c): no file to grow, few descriptors
	 * (the channel, the content, the files of the requests read ahead),
	 * no processes. */
	if ((r = proctab_apply_limits(PROC_SCANNER, c)) != 0)
		return r;
	return sandbox_enter(c->scan_user, allowed, sizeof(allowed) / sizeof(allowed[0]),
			     F_GET_SEALS);
}

/* The content loaded, and the scratch of the one thread that scans. */
struct loaded {
	struct ruleset *rs;
	struct hashsig_set *hs;
	struct matcher *m;
	struct matcher_scratch *s;
};

static void
loaded_free(struct loaded *l)
{
	matcher_scratch_free(l->s);
	matcher_free(l->m);
	ruleset_free(l->rs);
	hashsig_free(l->hs);
	memset(l, 0, sizeof(*l));
}

static void
send_frame(struct ipc *ch, uint16_t type, struct wbuf *w)
{
	if (w->err == 0)
		(void)ipc_send(ch, type, w->p, w->len, -1, clock_mono() + SCANNER_SEND_S, NULL);
	wbuf_free(w);
}

/*
 * Verdicts held back, to go to the worker in one frame: a worker waiting
 * for the verdicts of its window wakes once for all, not once a file.
 * They go when no request is left in hand or waiting, when the window is
 * answered, when the frame is full, and before a large file.  A scanner
 * that dies loses the verdicts it held: the worker cannot tell which of
 * its files without a verdict killed it, and sends them again one at a
 * time (agent/scanpool.c).
 */
struct held {
	struct wbuf w; /* a verdicts payload: the count, then each verdict */
	unsigned n;
};

static void
held_flush(struct ipc *ch, struct held *h)
{
	double by = clock_mono() + SCANNER_SEND_S;

	/* One verdict goes as itself, without the count.  Out of memory:
	 * the verdicts never come, and the worker's wait ends in a restart
	 * and each file sent again. */
	if (h->n == 1 && h->w.err == 0)
		(void)ipc_send(ch, SCANMSG_VERDICT, h->w.p + SCANMSG_VERDICTS_HEAD,
			       h->w.len - SCANMSG_VERDICTS_HEAD, -1, by, NULL);
	else if (h->n > 1 && h->w.err == 0) {
		scanmsg_verdicts_end(&h->w, h->n);
		(void)ipc_send(ch, SCANMSG_VERDICTS, h->w.p, h->w.len, -1, by, NULL);
	}
	wbuf_free(&h->w);
	wbuf_init(&h->w);
	h->n = 0;
}

static void
held_add(struct ipc *ch, struct held *h, const struct scanmsg_verdict *v)
{
	if (h->n > 0 && h->w.len + SCANMSG_VERDICT_MAX > SCANMSG_VERDICTS_MAX)
		held_flush(ch, h);
	if (h->n == 0)
		scanmsg_verdicts_begin(&h->w);
	scanmsg_verdict_encode(&h->w, v);
	if (++h->n == SCANMSG_WINDOW)
		held_flush(ch, h);
}

/* A content message: the new content replaces the old only once loaded. */
static int
take_content(struct ipc *ch, struct ipc_msg *m, struct loaded *l)
{
	struct scanmsg_content c;
	struct scanmsg_content_ok ok;
	struct loaded n;
	struct ward_diag d;
	const uint8_t *p = NULL;
	char why[SCANMSG_MAX_REASON];
	struct wbuf w;
	int rebuilt = 0, r;

	memset(&n, 0, sizeof(n));
	wbuf_init(&w);
	diag_clear(&d);
	if ((r = scanmsg_content_decode(m, &c, &d)) != 0)
		return r; /* an attack by the worker: unreachable in practice */
	if ((r = ipc_memfd_map(m->fd, (size_t)c.size, &p)) == 0) {
		r = rulefile_parse(p, (size_t)c.size, &n.rs, &n.hs, &n.m, &rebuilt, &d);
		ipc_memfd_unmap(p, (size_t)c.size);
	} else {
		diag_set(&d, r, NULL, 0, 0, "cannot map the image: %s", strerror(errno));
	}
	if (r == 0 && matcher_scratch_new(n.m, &n.s) != 0)
		r = diag_set(&d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
	if (r != 0) {
		loaded_free(&n);
		diag_format(&d, why, sizeof(why));
		scanmsg_refused_encode(
		    &w, r == WARD_ENOMEM ? SCANMSG_CAUSE_MEMORY : SCANMSG_CAUSE_IMAGE, why);
		send_frame(ch, SCANMSG_REFUSED, &w);
		return 0;
	}
	loaded_free(l);
	*l = n;
	ok.nrules = l->rs != NULL ? l->rs->nrules : 0;
	scanmsg_content_ok_encode(&w, &ok);
	send_frame(ch, SCANMSG_CONTENT_OK, &w);
	return 0;
}

/* The rules that match, by name (private rules do not report), up to
 * what a verdict carries. */
struct hits {
	const struct ruleset *rs;
	struct scanmsg_verdict *v;
};

static int
on_hit(void *arg, const struct matcher_scratch *s, uint32_t rule, const char *hash_name)
{
	struct hits *h = arg;
	const char *name;

	(void)s;
	if (rule != UINT32_MAX && (h->rs->rules[rule].flags & RS_RULE_PRIVATE))
		return 0;
	name = rule == UINT32_MAX ? hash_name : ruleset_report_name(&h->rs->rules[rule]);
	snprintf(h->v->rule[h->v->nrules], sizeof(h->v->rule[0]), "%s", name);
	return ++h->v->nrules == SCANMSG_MAX_HITS;
}

#ifdef WARD_FAULT_INJECTION
/* Test builds only: WARD_FAULT_SCANNER_CRASH_ON=TEXT makes the scanner
 * abort on a file whose first 64 KiB hold TEXT, as a matcher bug met by a
 * crafted file would; WARD_FAULT_SCANNER_BREACH_ON=TEXT makes it send a
 * forged verdict at once (for a request never sent, before the verdicts
 * it holds) and go on, as a scanner taken over by such a file could. */
static const char *fault_crash_on, *fault_breach_on;

static int
fault_has(int fd, const char *text)
{
	static char buf[65536];
	ssize_t n;

	if (text == NULL || text[0] == '\0')
		return 0;
	n = pread(fd, buf, sizeof(buf), 0);
	return n > 0 && memmem(buf, (size_t)n, text, strlen(text)) != NULL;
}

static void
fault_scan(struct ipc *ch, int fd, uint64_t id)
{
	if (fault_has(fd, fault_crash_on))
		abort();
	if (fault_has(fd, fault_breach_on)) {
		static struct scanmsg_verdict forged;
		struct wbuf w;

		memset(&forged, 0, sizeof(forged));
		forged.id = id + 1000;
		forged.result = SCANMSG_CLEAN;
		wbuf_init(&w);
		scanmsg_verdict_encode(&w, &forged);
		if (w.err == 0)
			(void)ipc_send(ch, SCANMSG_VERDICT, w.p, w.len, -1,
				       clock_mono() + SCANNER_SEND_S, NULL);
		wbuf_free(&w);
	}
}
#else
#define fault_scan(ch, fd, id) ((void)0)
#endif

/*
 * Arms the scan's time bound (SIGALRM, whose default action ends the
 * scanner) for a scan of at most max_ms, *until being when the alarm
 * armed fires (0: none).  Scans of small files follow each other by
 * tens of microseconds: the alarm is armed again only when it would fire
 * before this scan's bound, so once a second, not twice a file; a stuck
 * scan dies within its bound and one second more.
 */
static void
bound_arm(double *until, uint32_t max_ms)
{
	unsigned s = max_ms / 1000 + 2;
	double now = clock_mono();

	if (max_ms == 0) {
		if (*until != 0)
			alarm(0);
		*until = 0;
		return;
	}
	if (*until >= now + s && *until <= now + s + 1)
		return;
	alarm(s + 1);
	*until = now + s + 1;
}

static int
take_scan(struct ipc *ch, struct ipc_msg *m, struct loaded *l, struct held *held, double *until)
{
	struct scanmsg_scan q;
	static struct scanmsg_verdict v; /* 8 KiB: one scan at a time */
	struct hits h;
	struct ward_diag d;
	uint64_t size;
	int r;

	if ((r = scanmsg_scan_decode(m, &q, &d)) != 0)
		return r;
	if (q.size > SCANNER_HOLD_BYTES)
		held_flush(ch, held);
	memset(&v, 0, sizeof(v));
	h.v = &v;
	v.id = q.id;
	if (l->m == NULL) {
		v.result = SCANMSG_ERROR;
		v.error = SCANMSG_ERR_NOCONTENT;
	} else {
		fault_scan(ch, m->fd, q.id);
		size = q.max_bytes > 0 && q.max_bytes < q.size ? q.max_bytes : q.size;
		h.rs = l->rs;
		/* The scan's time bound, kept here too: a scanner stuck in a
		 * file dies of SIGALRM even if the worker is gone.  It stays
		 * armed until the scanner waits for requests. */
		bound_arm(until, q.max_ms);
		r = matcher_scan_fd(l->m, l->s, m->fd, size, on_hit, &h, NULL);
		if (r == 0) {
			v.result = v.nrules > 0 ? SCANMSG_MATCH : SCANMSG_CLEAN;
		} else {
			v.nrules = 0;
			v.result = SCANMSG_ERROR;
			v.error = r == WARD_EIO	     ? SCANMSG_ERR_READ
				  : r == WARD_ENOMEM ? SCANMSG_ERR_MEMORY
						     : SCANMSG_ERR_INTERNAL;
		}
	}
	ipc_msg_close(m);
	held_add(ch, held, &v);
	return 0;
}

int
scanner_main(const struct agent_config *c)
{
	struct loaded l;
	struct held held;
	struct ipc *ch = NULL;
	struct ipc_msg m;
	struct ward_diag d;
	char msg[700];
	double until = 0;
	int r;

	memset(&l, 0, sizeof(l));
	memset(&held, 0, sizeof(held));
	wbuf_init(&held.w);
	/* Started through /proc/self/exe ("exe"): named for ps and top. */
	(void)prctl(PR_SET_NAME, "wardd-scanner");
#ifdef WARD_FAULT_INJECTION
	fault_crash_on = getenv("WARD_FAULT_SCANNER_CRASH_ON");
	fault_breach_on = getenv("WARD_FAULT_SCANNER_BREACH_ON");
#endif
	/* The worker sends up to SCANMSG_WINDOW requests ahead: read with
	 * one system call, not one each. */
	if (ipc_new(3, &scanmsg_to_scanner, &scanmsg_to_worker, &ch) != 0 ||
	    ipc_set_readahead(ch, SCANMSG_WINDOW) != 0) {
		ipc_free(ch);
		return 2;
	}
	if ((r = scanner_sandbox(c)) != 0) {
		fprintf(stderr, "wardd scanner: cannot set up the sandbox: %s\n", strerror(-r));
		ipc_free(ch);
		return 2;
	}
	for (;;) {
		diag_clear(&d);
		/* No request in hand or waiting: the next receive waits, so
		 * the verdicts held go now (a window's requests come in
		 * several reads when the scanner is quick to wake), and a
		 * scanner that waits must not die of a scan's alarm. */
		if (ipc_read_ahead(ch, &d) == 0) {
			held_flush(ch, &held);
			bound_arm(&until, 0);
		}
		r = ipc_recv(ch, IPC_FOREVER, &m, &d);
		if (r == 0 && m.type == SCANMSG_CONTENT) {
			/* Content comes to an idle scanner: its answer after
			 * every verdict, no bound on its load. */
			held_flush(ch, &held);
			bound_arm(&until, 0);
			r = take_content(ch, &m, &l);
		} else if (r == 0) {
			r = take_scan(ch, &m, &l, &held, &until);
		}
		ipc_msg_close(&m);
		if (r != 0)
			break;
	}
	if (r == WARD_EPROTO) {
		ipc_attack_text(&d, msg, sizeof(msg));
		fprintf(stderr, "wardd scanner: %s\n", msg);
	}
	wbuf_free(&held.w);
	loaded_free(&l);
	ipc_free(ch);
	return r == WARD_ECLOSED ? 0 : 2;
}
