/*
 * fuzz_mountinfo: libFuzzer target over the mountinfo parser of
 * lib/util/mount.  The input is the table; the mount point of an id taken
 * from its first bytes and the mount point above a fixed path are looked
 * up: any answer must be an absolute path that fits, never a crash or a
 * read past the input.  Seeds: fuzz/corpus/mountinfo/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/mount.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[64];
	uint64_t id;

	if (size < 1)
		return 0;
	id = data[0];
	if (mount_point_of(data + 1, size - 1, id, out, sizeof(out)) == 0 &&
	    (out[0] != '/' || strlen(out) >= sizeof(out)))
		abort();
	if (mount_point_above(data + 1, size - 1, "/home/alice/Downloads", out, sizeof(out)) == 0 &&
	    (out[0] != '/' || strlen(out) >= sizeof(out)))
		abort();
	return 0;
}
