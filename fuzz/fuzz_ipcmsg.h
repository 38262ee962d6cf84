/*
 * fuzz_ipcmsg: the harness the fuzz targets of ipc channels (fuzz_ipc for
 * the validator's, fuzz_scanmsg for the scanner's, fuzz_walkmsg for `ward
 * scan`'s walker and scanner) share: their input's
 * layout and the frame decoder's checks before each channel's decoders.
 */
#ifndef WARD_FUZZ_IPCMSG_H
#define WARD_FUZZ_IPCMSG_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/ipc.h"

/*
 * Splits an input: one mode byte, 8 bytes of a memory file's size
 * (little-endian), then a frame (*data, *size).  0 if it is too short.
 */
static inline int
fuzz_ipcmsg_input(const uint8_t **data, size_t *size, uint8_t *mode, uint64_t *fd_size)
{
	size_t i;

	if (*size < 9)
		return 0;
	*mode = (*data)[0];
	*fd_size = 0;
	for (i = 0; i < 8; i++)
		*fd_size |= (uint64_t)(*data)[1 + i] << (8 * i);
	*data += 9;
	*size -= 9;
	return 1;
}

/*
 * Gives frame p[0..n), claiming nfds descriptors, to rx's table: a refused
 * frame must leave no message nor descriptor behind, an accepted one must
 * lie in its row's bounds and is given, with fd_size, to decode_all.
 */
static inline void
fuzz_ipcmsg_frame(const struct ipc_proto *rx, const uint8_t *p, size_t n, unsigned nfds,
		  uint64_t fd_size, void (*decode_all)(const struct ipc_msg *m))
{
	struct ipc_msg m;
	struct ward_diag d;

	if (ipc_frame_decode(rx, p, n, nfds, 1, &m, &d) != 0) {
		if (m.def != NULL || m.fd != -1)
			abort();
		return;
	}
	if (m.def == NULL || m.len > m.def->max_len || m.len < m.def->min_len ||
	    m.p + m.len != p + n)
		abort();
	m.fd_size = fd_size;
	decode_all(&m);
}

#endif
