/*
 * fuzz_walkmsg: libFuzzer target over the channel of `ward scan`'s walker
 * and its sandboxed scanner (lib/scan/walkmsg) behind the frame decoder of
 * lib/util/ipc — above all what the root walker decodes from a scanner a
 * crafted file may have taken over.
 *
 * Input: one mode byte (bit 0: the scanner's side instead of the
 * walker's; bits 1-2: descriptors the frame claims), 8 bytes of a file's
 * size (little-endian), then a frame.  A frame that passes the table goes
 * to every decoder: at most one may take it, only of its type, and what
 * it fills must be in range (and a path decoded is freed).  Seeds:
 * fuzz/corpus/walkmsg/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ipcmsg.h"
#include "scan/walkmsg.h"
#include "util/alloc.h"
#include "util/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
decode_all(const struct ipc_msg *m)
{
	static struct walkmsg_done done;
	struct walkmsg_file f;
	struct walkmsg_note n;
	struct walkmsg_end e;
	struct ward_diag d;
	int r[6], taken = 0, i;
	unsigned k;

	r[0] = walkmsg_file_decode(m, &f, &d);
	r[1] = walkmsg_note_decode(m, &n, &d);
	r[2] = walkmsg_end_decode(m, &e, &d);
	r[3] = walkmsg_done_decode(m, &done, &d);
	r[4] = walkmsg_empty_decode(m, WALKMSG_STOP, &d);
	r[5] = walkmsg_empty_decode(m, WALKMSG_READY, &d);
	for (i = 0; i < 6; i++) {
		if (r[i] != 0 && r[i] != WARD_EPROTO && r[i] != WARD_ENOMEM)
			abort();
		taken += r[i] == 0;
	}
	if (taken > 1 || (r[0] == 0 && m->type != WALKMSG_FILE) ||
	    (r[1] == 0 && m->type != WALKMSG_NOTE) || (r[2] == 0 && m->type != WALKMSG_END) ||
	    (r[3] == 0 && m->type != WALKMSG_DONE) || (r[4] == 0 && m->type != WALKMSG_STOP) ||
	    (r[5] == 0 && m->type != WALKMSG_READY))
		abort();
	if ((r[0] != 0 && f.path != NULL) || (r[1] != 0 && n.path != NULL))
		abort();
	if (r[0] == 0 && (f.id == 0 || f.path[0] == '\0' || strlen(f.path) > WALKMSG_MAX_PATH ||
			  strlen(f.owner) > WALKMSG_MAX_OWNER))
		abort();
	if (r[1] == 0 && (n.id == 0 || n.path[0] == '\0' || n.msg[0] == '\0' ||
			  strlen(n.msg) > WALKMSG_MAX_NOTE))
		abort();
	if (r[2] == 0 && (e.stopped > 1 || e.error > 0 || e.error < WARD_ELAST))
		abort();
	for (k = 0; r[3] == 0 && k < done.n; k++)
		if (done.n > WALKMSG_MAX_DONE || done.rec[k].id == 0 ||
		    done.rec[k].outcome < WALKMSG_SCANNED ||
		    done.rec[k].outcome > WALKMSG_OUTCOME_MAX ||
		    (done.rec[k].outcome != WALKMSG_SCANNED && done.rec[k].bytes != 0))
			abort();
	if (r[0] == 0)
		ward_free(f.path);
	if (r[1] == 0)
		ward_free(n.path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t fd_size;
	uint8_t mode;

	if (!fuzz_ipcmsg_input(&data, &size, &mode, &fd_size))
		return 0;
	fuzz_ipcmsg_frame((mode & 1) != 0 ? &walkmsg_to_scanner : &walkmsg_to_walker, data, size,
			  (mode >> 1) & 3, fd_size, decode_all);
	return 0;
}
