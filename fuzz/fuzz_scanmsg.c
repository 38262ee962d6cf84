/*
 * fuzz_scanmsg: libFuzzer target over the scanner channel's messages
 * (lib/scan/scanmsg) behind the frame decoder of lib/util/ipc — what the
 * worker decodes from a scanner that a crafted file may have subverted.
 *
 * Input: one mode byte (bit 0: the scanner's side instead of the
 * worker's; bits 1-2: descriptors the frame claims), 8 bytes of a memory
 * file's size (little-endian), then a frame.  A frame that passes the
 * table goes to every decoder: at most one may take it, only of its type,
 * and what it fills must be in range.  Seeds: fuzz/corpus/scanmsg/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ipcmsg.h"
#include "scan/scanmsg.h"
#include "util/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
decode_all(const struct ipc_msg *m)
{
	static struct scanmsg_verdict v, many[SCANMSG_WINDOW];
	static struct scanmsg_refused no;
	struct scanmsg_verdict *out[SCANMSG_WINDOW];
	struct scanmsg_content c;
	struct scanmsg_scan s;
	struct scanmsg_content_ok ok;
	struct ward_diag d;
	int r[6], taken = 0, i;
	unsigned k, n = 0;

	r[0] = scanmsg_content_decode(m, &c, &d);
	r[1] = scanmsg_scan_decode(m, &s, &d);
	r[2] = scanmsg_content_ok_decode(m, &ok, &d);
	r[3] = scanmsg_refused_decode(m, &no, &d);
	r[4] = scanmsg_verdict_decode(m, &v, &d);
	for (k = 0; k < SCANMSG_WINDOW; k++)
		out[k] = &many[k];
	r[5] = scanmsg_verdicts_decode(m, out, SCANMSG_WINDOW, &n, &d);
	for (i = 0; i < 6; i++) {
		if (r[i] != 0 && r[i] != WARD_EPROTO)
			abort();
		taken += r[i] == 0;
	}
	if (taken > 1 || (r[0] == 0 && m->type != SCANMSG_CONTENT) ||
	    (r[1] == 0 && m->type != SCANMSG_SCAN) ||
	    (r[2] == 0 && m->type != SCANMSG_CONTENT_OK) ||
	    (r[3] == 0 && m->type != SCANMSG_REFUSED) ||
	    (r[4] == 0 && m->type != SCANMSG_VERDICT) ||
	    (r[5] == 0 && (m->type != SCANMSG_VERDICTS || n < 2 || n > SCANMSG_WINDOW)) ||
	    (r[5] != 0 && n != 0))
		abort();
	for (k = 0; r[5] == 0 && k < n; k++)
		if (many[k].id == 0 || many[k].nrules > SCANMSG_MAX_HITS ||
		    (many[k].result == SCANMSG_MATCH) != (many[k].nrules > 0))
			abort();
	if (r[3] == 0 && strlen(no.reason) > SCANMSG_MAX_REASON)
		abort();
	if (r[4] == 0) {
		if (v.id == 0 || v.nrules > SCANMSG_MAX_HITS ||
		    (v.result == SCANMSG_MATCH) != (v.nrules > 0) ||
		    (v.result == SCANMSG_ERROR) != (v.error != SCANMSG_ERR_NONE))
			abort();
		for (k = 0; k < v.nrules; k++)
			if (v.rule[k][0] == '\0' || strlen(v.rule[k]) > SCANMSG_MAX_RULE)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t fd_size;
	uint8_t mode;

	if (!fuzz_ipcmsg_input(&data, &size, &mode, &fd_size))
		return 0;
	fuzz_ipcmsg_frame((mode & 1) != 0 ? &scanmsg_to_scanner : &scanmsg_to_worker, data, size,
			  (mode >> 1) & 3, fd_size, decode_all);
	return 0;
}
