/*
 * fuzz_clamdproto: libFuzzer target over what a clamd client sends
 * (lib/proto/clamdproto) — the bytes wardd's clamd socket reads from
 * anyone who may connect to it.
 *
 * Input: the bytes of one connection.  They are read as the listener
 * reads them: commands one after another (the old form taken at the end
 * of the input), and after INSTREAM its chunks (their data skipped, as it
 * goes to a memfd).  Every command read must lie within the input and
 * move the cursor, its argument within the command and free of NULs, and
 * its answer (the argument echoed as a path) must be formatted without
 * error.  Seeds: fuzz/corpus/clamdproto/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/clamdproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct clamdproto_req q;
	struct rbuf b;
	struct wbuf w;
	uint32_t len;
	size_t before;
	int r;

	rbuf_init(&b, data, size);
	wbuf_init(&w);
	for (;;) {
		before = b.off;
		r = clamdproto_next(&b, 1, &q);
		if (r == 1 || r == WARD_ELIMIT) {
			if (b.off != before)
				abort();
			break;
		}
		if (r != 0 || b.off <= before || b.off - before > WARD_MAX_CLAMD_COMMAND)
			abort();
		if (q.term != '\0' && q.term != '\n')
			abort();
		if (q.arg != NULL) {
			if (q.arg < data + before || q.arg + q.arglen > data + b.off ||
			    memchr(q.arg, '\0', q.arglen) != NULL)
				abort();
		} else if (q.arglen != 0) {
			abort();
		}
		if ((q.cmd == CLAMDPROTO_UNKNOWN) != (clamdproto_name(q.cmd)[0] == '\0'))
			abort();
		w.len = 0;
		clamdproto_answer(&w, 7, q.arg, q.arglen, "msg", "ERROR", q.term);
		if (w.err != 0 || w.len != 3 + (q.arg != NULL ? q.arglen + 2 : 0) + 4 + 5 + 1)
			abort();
		if (q.cmd != CLAMDPROTO_INSTREAM)
			continue;
		while (clamdproto_chunk(&b, &len) == 0 && len != 0) {
			const uint8_t *p;

			if (rbuf_bytes(&b, len, &p) != 0)
				goto out;
		}
	}
out:
	wbuf_free(&w);
	return 0;
}
