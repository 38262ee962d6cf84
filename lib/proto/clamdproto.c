/*
 * clamdproto: clamd's command parser, INSTREAM chunk lengths and answer
 * formatting.  See clamdproto.h.
 *
 * Must hold: every byte is read through rbuf; a command is never longer
 * than WARD_MAX_CLAMD_COMMAND; what is accepted is what clamd 1.4 accepts
 * (clamd/server-th.c get_cmd, clamd/session.c parse_command), except that
 * an argument must follow its command after one space (clamd skips any
 * one byte there) and a NUL inside an 'n' command makes it unknown (clamd
 * would cut the command there).
 */
#include "proto/clamdproto.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	enum clamdproto_cmd cmd;
	int need_arg;
	int old_ok; /* clamd still takes it without a prefix */
} commands[] = {
    /* clamd's table order: VERSIONCOMMANDS lists them so. */
    {"SCAN", CLAMDPROTO_SCAN, 1, 1},
    {"QUIT", CLAMDPROTO_QUIT, 0, 1},
    {"RELOAD", CLAMDPROTO_RELOAD, 0, 1},
    {"PING", CLAMDPROTO_PING, 0, 1},
    {"CONTSCAN", CLAMDPROTO_CONTSCAN, 1, 1},
    {"VERSIONCOMMANDS", CLAMDPROTO_VERSIONCOMMANDS, 0, 0},
    {"VERSION", CLAMDPROTO_VERSION, 0, 1},
    {"END", CLAMDPROTO_END, 0, 0},
    {"SHUTDOWN", CLAMDPROTO_SHUTDOWN, 0, 1},
    {"MULTISCAN", CLAMDPROTO_MULTISCAN, 1, 1},
    {"FILDES", CLAMDPROTO_FILDES, 0, 1},
    {"STATS", CLAMDPROTO_STATS, 0, 0},
    {"IDSESSION", CLAMDPROTO_IDSESSION, 0, 0},
    {"INSTREAM", CLAMDPROTO_INSTREAM, 0, 0},
    {"DETSTATSCLEAR", CLAMDPROTO_DETSTATSCLEAR, 0, 1},
    {"DETSTATS", CLAMDPROTO_DETSTATS, 0, 1},
    {"ALLMATCHSCAN", CLAMDPROTO_ALLMATCHSCAN, 1, 0},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const char *
clamdproto_name(enum clamdproto_cmd c)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (commands[i].cmd == c)
			return commands[i].name;
	return "";
}

const char *
clamdproto_command_list(void)
{
	return " SCAN QUIT RELOAD PING CONTSCAN VERSIONCOMMANDS VERSION END SHUTDOWN MULTISCAN "
	       "FILDES STATS IDSESSION INSTREAM DETSTATSCLEAR DETSTATS ALLMATCHSCAN";
}

/* Names the command in p[0..n) (its prefix and terminator taken off). */
static void
classify(const uint8_t *p, size_t n, int oldstyle, struct clamdproto_req *req)
{
	const uint8_t *sp = memchr(p, ' ', n);
	size_t namelen = sp != NULL ? (size_t)(sp - p) : n, i;

	req->cmd = CLAMDPROTO_UNKNOWN;
	req->arg = NULL;
	req->arglen = 0;
	if (memchr(p, '\0', n) != NULL)
		return;
	for (i = 0; i < NCOMMANDS; i++) {
		if (strlen(commands[i].name) != namelen ||
		    memcmp(commands[i].name, p, namelen) != 0)
			continue;
		if (commands[i].need_arg != (sp != NULL) || (oldstyle && !commands[i].old_ok))
			return;
		req->cmd = commands[i].cmd;
		if (sp != NULL) {
			req->arg = sp + 1;
			req->arglen = n - namelen - 1;
		}
		return;
	}
}

int
clamdproto_next(struct rbuf *b, int at_end, struct clamdproto_req *req)
{
	struct rbuf t = *b; /* taken only when a whole command is there */
	const uint8_t *p;
	size_t n;
	uint8_t head;
	int r;

	memset(req, 0, sizeof(*req));
	req->term = '\n';
	if (rbuf_u8(&t, &head) != 0)
		return 1;
	if (head == 'z' || head == 'n') {
		req->term = head == 'z' ? '\0' : '\n';
		r = rbuf_until(&t, (uint8_t)req->term, WARD_MAX_CLAMD_COMMAND - 2, &p, &n);
	} else {
		/* The old form: up to a newline, or the end of the packet. */
		req->oldstyle = 1;
		t = *b;
		r = rbuf_until(&t, '\n', WARD_MAX_CLAMD_COMMAND - 1, &p, &n);
		if (r == 1 && at_end)
			r = 0;
	}
	if (r == WARD_EFORMAT) /* a lone prefix byte */
		r = 1;
	if (r != 0)
		goto out;
	/* clamd chomps '\r' and '\n' off the end of newline-ended commands. */
	if (req->term == '\n')
		while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n'))
			n--;
	classify(p, n, req->oldstyle, req);
	*b = t;
out:
	return r;
}

int
clamdproto_chunk(struct rbuf *b, uint32_t *len)
{
	const uint8_t *q;

	*len = 0;
	if (rbuf_bytes(b, 4, &q) != 0)
		return 1;
	*len = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | (uint32_t)q[3];
	return 0;
}

void
clamdproto_answer(struct wbuf *w, unsigned id, const uint8_t *path, size_t pathlen, const char *msg,
		  const char *status, char term)
{
	char num[16];
	int k;

	if (id > 0) {
		k = snprintf(num, sizeof(num), "%u: ", id);
		wbuf_put(w, num, (size_t)k);
	}
	if (path != NULL) {
		wbuf_put(w, path, pathlen);
		wbuf_put(w, ": ", 2);
	}
	if (msg != NULL) {
		wbuf_put(w, msg, strlen(msg));
		wbuf_put(w, " ", 1);
	}
	wbuf_put(w, status, strlen(status));
	wbuf_put(w, &term, 1);
}
