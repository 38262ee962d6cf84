/*
 * upmsg: the uplink channel's messages.  See upmsg.h.
 *
 * Must hold: a decoder fills its struct only when the whole payload was
 * read, every value is in the fleet protocol's range and nothing is left
 * over; the tables below are the only statement of what each side may
 * receive.  The uplink is the less trusted side: what it sends the worker
 * is checked as strictly as the server's JSON was.
 */
#include "proto/upmsg.h"
#include "content/bundle.h"
#include "util/ipcmsg.h"

#include <stdio.h>
#include <string.h>

#define CHAN "uplink"
#define TEXT(max) (4 + (max))
/* fetch: credential, version, size, digest */
#define FETCH_MAX (TEXT(UPMSG_MAX_CRED) + 8 + 8 + 64)
/* answer: four numbers, state, rollback, version, size, digest, why */
#define ANSWER_MIN (8 * 4 + 1 + 8 * 3 + 64 + 4)
#define WHY_MAX (sizeof(((struct checkin_answer *)0)->desired_why) - 1)

static const struct ipc_msgdef to_uplink[] = {
    {UPMSG_SETUP, "setup", 4, TEXT(UPMSG_MAX_URL), IPC_FD_MEMFD, UPMSG_MAX_CA},
    {UPMSG_ENROLL, "enroll", 0, 0, IPC_FD_MEMFD, UPMSG_MAX_BODY},
    {UPMSG_CHECKIN, "checkin", 4, TEXT(UPMSG_MAX_CRED), IPC_FD_MEMFD, UPMSG_MAX_BODY},
    {UPMSG_EVENTS, "events", 4, TEXT(UPMSG_MAX_CRED), IPC_FD_MEMFD, UPMSG_MAX_BODY},
    {UPMSG_FETCH, "fetch", 4 + 8 + 8 + 64, FETCH_MAX, IPC_FD_FILE, 0},
};

static const struct ipc_msgdef to_worker[] = {
    {UPMSG_FAILED, "failed", 2 + 4, 2 + TEXT(UPMSG_MAX_ERROR), IPC_FD_NONE, 0},
    {UPMSG_ENROLLED, "enrolled", 2 + UPMSG_ID_LEN + UPMSG_SECRET_LEN + 4,
     2 + UPMSG_ID_LEN + UPMSG_SECRET_LEN + TEXT(UPMSG_MAX_HOW), IPC_FD_NONE, 0},
    {UPMSG_ANSWER, "answer", ANSWER_MIN, ANSWER_MIN + WHY_MAX, IPC_FD_MEMFD, UPMSG_MAX_EXCEPTIONS},
    {UPMSG_ACKED, "acked", 8, 8, IPC_FD_NONE, 0},
    {UPMSG_BUNDLE, "bundle", 8 + 64, 8 + 64, IPC_FD_MEMFD, BUNDLE_MAX_SIZE},
};

const struct ipc_proto upmsg_to_uplink = {CHAN, to_uplink, IPCMSG_COUNT(to_uplink)};
const struct ipc_proto upmsg_to_worker = {CHAN, to_worker, IPCMSG_COUNT(to_worker)};

int
upmsg_failure_status(unsigned status)
{
	return status == 0 || (status >= 300 && status <= 599);
}

/* --- encoders ---------------------------------------------------------------- */

/* Exactly n bytes of s (a hex digest or id), zeros when s is shorter. */
static void
put_fixed(struct wbuf *w, const char *s, size_t n)
{
	char tmp[UPMSG_SECRET_LEN] = {0};
	size_t k = strnlen(s, n);

	memcpy(tmp, s, k);
	wbuf_put(w, tmp, n);
}

void
upmsg_setup_encode(struct wbuf *w, const struct upmsg_setup *m)
{
	ipcmsg_text_put(w, m->url, UPMSG_MAX_URL, IPCMSG_TEXT_PRINTABLE);
}

void
upmsg_call_encode(struct wbuf *w, enum upmsg_type type, const struct upmsg_call *m)
{
	ipcmsg_text_put(w, m->cred, UPMSG_MAX_CRED, IPCMSG_TEXT_PRINTABLE);
	if (type != UPMSG_FETCH)
		return;
	wbuf_i64(w, m->target.version);
	wbuf_u64(w, m->target.size);
	put_fixed(w, m->target.sha256, 64);
}

void
upmsg_failed_encode(struct wbuf *w, const struct upmsg_failed *m)
{
	wbuf_u16(w, (uint16_t)(upmsg_failure_status(m->status) ? m->status : 0));
	ipcmsg_text_put(w, m->error, UPMSG_MAX_ERROR, IPCMSG_TEXT_PRINTABLE);
}

void
upmsg_enrolled_encode(struct wbuf *w, const struct upmsg_enrolled *m)
{
	wbuf_u16(w, (uint16_t)m->status);
	put_fixed(w, m->agent_id, UPMSG_ID_LEN);
	put_fixed(w, m->secret, UPMSG_SECRET_LEN);
	ipcmsg_text_put(w, m->how, UPMSG_MAX_HOW, IPCMSG_TEXT_PRINTABLE);
}

void
upmsg_answer_encode(struct wbuf *w, const struct checkin_answer *a)
{
	wbuf_i64(w, a->next_checkin_s);
	wbuf_i64(w, a->events_acked);
	wbuf_i64(w, a->checkin_interval_s);
	wbuf_i64(w, a->events_batch_max);
	wbuf_u8(w, (uint8_t)a->desired_state);
	wbuf_i64(w, a->desired.rollback_from);
	wbuf_i64(w, a->desired.version);
	wbuf_u64(w, a->desired.size);
	put_fixed(w, a->desired.sha256, 64);
	ipcmsg_text_put(w, a->desired_why, WHY_MAX, IPCMSG_TEXT_PRINTABLE);
}

void
upmsg_acked_encode(struct wbuf *w, int64_t acked)
{
	wbuf_i64(w, acked);
}

void
upmsg_bundle_encode(struct wbuf *w, const struct upmsg_bundle *m)
{
	wbuf_u64(w, m->size);
	put_fixed(w, m->sha256, 64);
}

/* --- decoders ---------------------------------------------------------------- */

/* Text of at most max bytes of alphabet a into out (max + 1 bytes). */
static int
get_text(struct rbuf *b, size_t max, enum ipcmsg_text a, char *out)
{
	const uint8_t *p = NULL;
	size_t n = 0;

	if (rbuf_lenbytes(b, max, &p, &n) != 0 || ipcmsg_text_bad(p, n, a) < n)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* Exactly n lowercase hex digits into out (n + 1 bytes). */
static int
get_hex(struct rbuf *b, size_t n, char *out)
{
	const uint8_t *p = NULL;
	size_t i;

	if (rbuf_bytes(b, n, &p) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* n zero bytes. */
static int
get_zeros(struct rbuf *b, size_t n)
{
	const uint8_t *p = NULL;
	size_t i;

	if (rbuf_bytes(b, n, &p) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return -1;
	return 0;
}

static int
bad(struct ward_diag *d, void *out, size_t len, const char *what)
{
	memset(out, 0, len);
	return diag_set(d, WARD_EPROTO, CHAN, 0, 0, "%s", what);
}

int
upmsg_setup_decode(const struct ipc_msg *m, struct upmsg_setup *out, struct ward_diag *d)
{
	struct rbuf b;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = ipcmsg_start(m, CHAN, UPMSG_SETUP, &b, d)) != 0)
		return r;
	if (get_text(&b, UPMSG_MAX_URL, IPCMSG_TEXT_PRINTABLE, out->url) != 0 ||
	    rbuf_left(&b) != 0 || strncmp(out->url, "https://", 8) != 0)
		return bad(d, out, sizeof(*out), "a setup without an https:// URL");
	return 0;
}

int
upmsg_call_decode(const struct ipc_msg *m, struct upmsg_call *out, struct ward_diag *d)
{
	struct download_target *t = &out->target;
	struct rbuf b;
	uint64_t size = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (m->def == NULL ||
	    (m->type != UPMSG_CHECKIN && m->type != UPMSG_EVENTS && m->type != UPMSG_FETCH))
		return diag_set(d, WARD_EPROTO, CHAN, 0, 0, "message type %u is not a call",
				m->type);
	if ((r = ipcmsg_start(m, CHAN, m->type, &b, d)) != 0)
		return r;
	if (get_text(&b, UPMSG_MAX_CRED, IPCMSG_TEXT_PRINTABLE, out->cred) != 0 ||
	    out->cred[0] == '\0')
		return bad(d, out, sizeof(*out), "a call without a credential");
	if (m->type == UPMSG_FETCH) {
		if (rbuf_i64(&b, &t->version) != 0 || rbuf_u64(&b, &size) != 0 ||
		    get_hex(&b, 64, t->sha256) != 0 || t->version < 1 ||
		    t->version > BUNDLE_MAX_VERSION || size < 1 || size > BUNDLE_MAX_SIZE)
			return bad(d, out, sizeof(*out),
				   "a fetch of no bundle the protocol allows");
		t->size = size;
		snprintf(t->url, sizeof(t->url), "%s%s", DOWNLOAD_URL_PREFIX, t->sha256);
	}
	if (rbuf_left(&b) != 0)
		return bad(d, out, sizeof(*out), "bytes after a call");
	return 0;
}

int
upmsg_failed_decode(const struct ipc_msg *m, struct upmsg_failed *out, struct ward_diag *d)
{
	struct rbuf b;
	uint16_t st = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = ipcmsg_start(m, CHAN, UPMSG_FAILED, &b, d)) != 0)
		return r;
	/* A failure is never a success: a 2xx status here would make a call
	 * succeed with an answer that was never checked. */
	if (rbuf_u16(&b, &st) != 0 || !upmsg_failure_status(st) ||
	    get_text(&b, UPMSG_MAX_ERROR, IPCMSG_TEXT_PRINTABLE, out->error) != 0 ||
	    rbuf_left(&b) != 0)
		return bad(d, out, sizeof(*out), "a malformed failure");
	out->status = st;
	return 0;
}

int
upmsg_enrolled_decode(const struct ipc_msg *m, struct upmsg_enrolled *out, struct ward_diag *d)
{
	struct rbuf b;
	uint16_t st = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = ipcmsg_start(m, CHAN, UPMSG_ENROLLED, &b, d)) != 0)
		return r;
	/* Formats, not lengths: they go into a header line, a file and the log. */
	if (rbuf_u16(&b, &st) != 0 || (st != 200 && st != 202) ||
	    get_hex(&b, UPMSG_ID_LEN, out->agent_id) != 0 ||
	    get_hex(&b, UPMSG_SECRET_LEN, out->secret) != 0 ||
	    get_text(&b, UPMSG_MAX_HOW, IPCMSG_TEXT_PRINTABLE, out->how) != 0 || rbuf_left(&b) != 0)
		return bad(d, out, sizeof(*out), "a malformed enrollment");
	out->status = st;
	return 0;
}

/* The desired part of an answer, as download_target_parse leaves it. */
static int
desired_ok(const struct checkin_answer *a)
{
	const struct download_target *t = &a->desired;

	if (a->desired_state == CHECKIN_DESIRED_OK) {
		if (t->rollback_from < 0 || t->rollback_from > BUNDLE_MAX_VERSION ||
		    a->desired_why[0] != '\0')
			return 0;
		if (t->version == 0) /* a rollback, or nothing offered */
			return t->size == 0 && t->sha256[0] == '\0';
		return t->version >= 1 && t->version <= BUNDLE_MAX_VERSION && t->size >= 1 &&
		       t->size <= BUNDLE_MAX_SIZE && download_sha_ok(t->sha256);
	}
	/* none, or refused with a reason: no target at all */
	return t->rollback_from == 0 && t->version == 0 && t->size == 0 && t->sha256[0] == '\0' &&
	       (a->desired_state == CHECKIN_DESIRED_BAD) == (a->desired_why[0] != '\0');
}

int
upmsg_answer_decode(const struct ipc_msg *m, struct checkin_answer *a, struct ward_diag *d)
{
	struct download_target *t = &a->desired;
	struct rbuf b;
	uint8_t state = 0;
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = ipcmsg_start(m, CHAN, UPMSG_ANSWER, &b, d)) != 0)
		return r;
	if (rbuf_i64(&b, &a->next_checkin_s) != 0 || rbuf_i64(&b, &a->events_acked) != 0 ||
	    rbuf_i64(&b, &a->checkin_interval_s) != 0 || rbuf_i64(&b, &a->events_batch_max) != 0 ||
	    rbuf_u8(&b, &state) != 0 || rbuf_i64(&b, &t->rollback_from) != 0 ||
	    rbuf_i64(&b, &t->version) != 0 || rbuf_u64(&b, &t->size) != 0)
		return bad(d, a, sizeof(*a), "a malformed answer");
	/* the same ranges as checkin_answer_check */
	if (a->next_checkin_s < 0 || a->next_checkin_s > CHECKIN_MAX_INTERVAL_S ||
	    a->events_acked < 0 || a->checkin_interval_s < 0 ||
	    a->checkin_interval_s > CHECKIN_MAX_INTERVAL_S || a->events_batch_max < 0 ||
	    a->events_batch_max > CHECKIN_MAX_BATCH || state > CHECKIN_DESIRED_BAD)
		return bad(d, a, sizeof(*a), "an answer with a number out of the protocol's range");
	a->desired_state = (enum checkin_desired)state;
	if (t->version != 0 ? get_hex(&b, 64, t->sha256) != 0 : get_zeros(&b, 64) != 0)
		return bad(d, a, sizeof(*a), "an answer whose digest is not of its version");
	if (get_text(&b, WHY_MAX, IPCMSG_TEXT_PRINTABLE, a->desired_why) != 0 ||
	    rbuf_left(&b) != 0 || !desired_ok(a))
		return bad(d, a, sizeof(*a), "an answer whose desired content breaks the protocol");
	if (t->version != 0)
		snprintf(t->url, sizeof(t->url), "%s%s", DOWNLOAD_URL_PREFIX, t->sha256);
	return 0;
}

int
upmsg_acked_decode(const struct ipc_msg *m, int64_t *acked, struct ward_diag *d)
{
	struct rbuf b;
	int r;

	*acked = 0;
	if ((r = ipcmsg_start(m, CHAN, UPMSG_ACKED, &b, d)) != 0)
		return r;
	if (rbuf_i64(&b, acked) != 0 || rbuf_left(&b) != 0 || *acked < 0)
		return bad(d, acked, sizeof(*acked), "an acknowledgement below zero");
	return 0;
}

int
upmsg_bundle_decode(const struct ipc_msg *m, struct upmsg_bundle *out, struct ward_diag *d)
{
	struct rbuf b;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = ipcmsg_start(m, CHAN, UPMSG_BUNDLE, &b, d)) != 0)
		return r;
	if (rbuf_u64(&b, &out->size) != 0 || get_hex(&b, 64, out->sha256) != 0 ||
	    rbuf_left(&b) != 0 || out->size == 0 || out->size != m->fd_size)
		return bad(d, out, sizeof(*out), "a bundle whose size is not its memory file's");
	return 0;
}

/* --- the fleet's exceptions ----------------------------------------------- */

void
upmsg_exceptions_encode(struct wbuf *w, const struct upmsg_exceptions *e)
{
	if (e->state == UPMSG_EXC_NONE)
		return;
	wbuf_u8(w, (uint8_t)e->state);
	wbuf_i64(w, e->revision);
	if (e->state == UPMSG_EXC_LIST)
		(void)except_list_encode(&e->list, w);
	else
		ipcmsg_text_put(w, e->reason, UPMSG_MAX_REASON, IPCMSG_TEXT_PRINTABLE);
}

int
upmsg_exceptions_decode(const uint8_t *p, size_t n, struct upmsg_exceptions *out,
			struct ward_diag *d)
{
	struct ward_diag ld;
	struct rbuf b;
	uint8_t state = 0;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return 0;
	rbuf_init(&b, p, n);
	if (rbuf_u8(&b, &state) != 0 || rbuf_i64(&b, &out->revision) != 0 ||
	    (state != UPMSG_EXC_LIST && state != UPMSG_EXC_REFUSED) || out->revision < -1 ||
	    out->revision > EXCEPT_MAX_REVISION || (state == UPMSG_EXC_LIST && out->revision < 0)) {
		memset(out, 0, sizeof(*out));
		return diag_set(d, WARD_EPROTO, CHAN, 0, 0, "fleet exceptions of no known state");
	}
	if (state == UPMSG_EXC_LIST && (except_list_decode(&b, &out->list, &ld) != 0 ||
					except_list_check_ids(&out->list, &ld) != 0)) {
		except_list_free(&out->list);
		memset(out, 0, sizeof(*out));
		return diag_set(d, WARD_EPROTO, CHAN, 0, 0, "fleet exceptions: %s", ld.msg);
	}
	if ((state == UPMSG_EXC_REFUSED &&
	     (get_text(&b, UPMSG_MAX_REASON, IPCMSG_TEXT_PRINTABLE, out->reason) != 0 ||
	      out->reason[0] == '\0')) ||
	    rbuf_left(&b) != 0) {
		upmsg_exceptions_free(out);
		return diag_set(d, WARD_EPROTO, CHAN, 0, 0, "fleet exceptions not of their length");
	}
	out->state = (enum upmsg_exc_state)state;
	return 0;
}

void
upmsg_exceptions_free(struct upmsg_exceptions *e)
{
	except_list_free(&e->list);
	memset(e, 0, sizeof(*e));
}
