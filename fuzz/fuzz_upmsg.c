/*
 * fuzz_upmsg: libFuzzer target over the uplink channel's messages
 * (lib/proto/upmsg) behind the frame decoder of lib/util/ipc — what the
 * root worker decodes from an uplink process that a TLS, HTTP or JSON bug
 * may have handed to the fleet server.
 *
 * Input: one mode byte (bit 0: the uplink's side instead of the worker's;
 * bits 1-2: descriptors the frame claims; 0xff: the rest is the memory
 * file of the fleet's exceptions beside an answer), 8 bytes of a memory
 * file's size (little-endian), then a frame.  A frame that passes the table goes
 * to every decoder: at most one may take it, only of its type, and what
 * it fills must be in the fleet protocol's range.  Seeds:
 * fuzz/corpus/upmsg/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content/bundle.h"
#include "fuzz_ipcmsg.h"
#include "proto/upmsg.h"
#include "util/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
hex_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

static void
decode_all(const struct ipc_msg *m)
{
	static struct upmsg_setup s;
	static struct upmsg_call c;
	static struct upmsg_failed f;
	static struct upmsg_enrolled e;
	static struct checkin_answer a;
	static struct upmsg_bundle b;
	struct ward_diag d;
	int64_t acked = 0;
	int r[7], taken = 0, i;

	r[0] = upmsg_setup_decode(m, &s, &d);
	r[1] = upmsg_call_decode(m, &c, &d);
	r[2] = upmsg_failed_decode(m, &f, &d);
	r[3] = upmsg_enrolled_decode(m, &e, &d);
	r[4] = upmsg_answer_decode(m, &a, &d);
	r[5] = upmsg_acked_decode(m, &acked, &d);
	r[6] = upmsg_bundle_decode(m, &b, &d);
	for (i = 0; i < 7; i++) {
		if (r[i] != 0 && r[i] != WARD_EPROTO)
			abort();
		taken += r[i] == 0;
	}
	if (taken > 1 || (r[0] == 0 && m->type != UPMSG_SETUP) ||
	    (r[1] == 0 && m->type != UPMSG_CHECKIN && m->type != UPMSG_EVENTS &&
	     m->type != UPMSG_FETCH) ||
	    (r[2] == 0 && m->type != UPMSG_FAILED) || (r[3] == 0 && m->type != UPMSG_ENROLLED) ||
	    (r[4] == 0 && m->type != UPMSG_ANSWER) || (r[5] == 0 && m->type != UPMSG_ACKED) ||
	    (r[6] == 0 && m->type != UPMSG_BUNDLE))
		abort();
	if (r[1] == 0 && (c.cred[0] == '\0' ||
			  (m->type == UPMSG_FETCH &&
			   (c.target.version < 1 || c.target.size < 1 ||
			    c.target.size > BUNDLE_MAX_SIZE || !hex_ok(c.target.sha256, 64)))))
		abort();
	if (r[2] == 0 && !upmsg_failure_status(f.status)) /* never a success */
		abort();
	if (r[3] == 0 &&
	    (!hex_ok(e.agent_id, UPMSG_ID_LEN) || !hex_ok(e.secret, UPMSG_SECRET_LEN) ||
	     (e.status != 200 && e.status != 202)))
		abort();
	if (r[4] == 0) {
		if (a.events_acked < 0 || a.next_checkin_s < 0 ||
		    a.next_checkin_s > CHECKIN_MAX_INTERVAL_S || a.events_batch_max < 0 ||
		    a.events_batch_max > CHECKIN_MAX_BATCH || a.exceptions != NULL)
			abort();
		if (a.desired.version != 0 &&
		    (a.desired_state != CHECKIN_DESIRED_OK || !hex_ok(a.desired.sha256, 64) ||
		     a.desired.size == 0 || a.desired.size > BUNDLE_MAX_SIZE))
			abort();
		if ((a.desired_state == CHECKIN_DESIRED_BAD) != (a.desired_why[0] != '\0'))
			abort();
	}
	if (r[5] == 0 && acked < 0)
		abort();
	if (r[6] == 0 && (b.size == 0 || b.size != m->fd_size || !hex_ok(b.sha256, 64)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t fd_size;
	uint8_t mode;

	if (size > 0 && data[0] == 0xff) { /* the exceptions' memory file */
		static struct upmsg_exceptions e;
		struct ward_diag d;

		if (upmsg_exceptions_decode(data + 1, size - 1, &e, &d) == 0) {
			if (e.state > UPMSG_EXC_REFUSED || e.revision < -1 ||
			    (e.state == UPMSG_EXC_LIST && e.revision < 0) ||
			    (e.state != UPMSG_EXC_LIST && e.list.n != 0) ||
			    (e.state == UPMSG_EXC_REFUSED && e.reason[0] == '\0'))
				abort();
			upmsg_exceptions_free(&e);
		} else if (e.list.n != 0 || e.state != UPMSG_EXC_NONE) {
			abort();
		}
		return 0;
	}
	if (!fuzz_ipcmsg_input(&data, &size, &mode, &fd_size))
		return 0;
	fuzz_ipcmsg_frame((mode & 1) != 0 ? &upmsg_to_uplink : &upmsg_to_worker, data, size,
			  (mode >> 1) & 3, fd_size, decode_all);
	return 0;
}
