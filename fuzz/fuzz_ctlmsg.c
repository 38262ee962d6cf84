/*
 * fuzz_ctlmsg: libFuzzer target over the control socket's requests
 * (lib/proto/ctlmsg) behind the frame decoder of lib/util/ipc — what the
 * agent decodes from whoever connects to run_dir/control.sock.
 *
 * Input: one mode byte (bits 0-1: descriptors the frame claims), then a
 * frame.  A frame that passes the table goes to the request decoder: what
 * it fills must be a request of the frame's type with NUL-terminated
 * strings within CTLMSG_MAX_ARG, and it must round-trip through the
 * encoder.  Seeds: fuzz/corpus/ctlmsg/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ctlmsg.h"
#include "util/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctlmsg_req q;
	struct ipc_msg m;
	struct ward_diag d;
	struct wbuf w;
	int r;

	if (size < 1)
		return 0;
	if (ipc_frame_decode(&ctlmsg_to_agent, data + 1, size - 1, data[0] & 3, 1, &m, &d) != 0) {
		if (m.def != NULL || m.fd != -1)
			abort();
		return 0;
	}
	r = ctlmsg_req_decode(&m, &q, &d);
	if (r != 0 && r != WARD_EPROTO)
		abort();
	if (r != 0)
		return 0;
	if (q.type != m.type || q.type < CTLMSG_REQUEST_MIN || q.type > CTLMSG_REQUEST_MAX ||
	    strlen(q.a) > CTLMSG_MAX_ARG || strlen(q.b) > CTLMSG_MAX_ARG)
		abort();
	wbuf_init(&w);
	if (ctlmsg_req_encode(&w, &q) != 0 || w.err != 0 || w.len != m.len ||
	    memcmp(w.p, m.p, m.len) != 0)
		abort();
	wbuf_free(&w);
	return 0;
}
