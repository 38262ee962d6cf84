/*
 * fuzz_fimstate: libFuzzer target over the real-time FIM's state file
 * (agent/fimstate), read at each start of the worker from STATE_DIR: a
 * torn write, a disk error or a hostile write may have left anything.
 *
 * Input: the file's bytes.  What is read must stay within the named
 * limits, encode again, and read back to as many files; a catch-up over
 * it must not go wrong.  Seeds: fuzz/corpus/fimstate/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/fimstate.h"
#include "fim/watch.h"
#include "util/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
covers(void *arg, const char *path)
{
	(void)arg;
	return path[0] == '/' && path[1] != 'x';
}

static void
gone(void *arg, const char *path)
{
	(void)arg;
	if (path[0] != '/')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fimstate *s = NULL, *t = NULL;
	struct fimstate_attr a;
	enum sensor_fim_action act;
	struct ward_diag d;
	struct wbuf b;
	int torn;

	if (fimstate_new(&s) != 0)
		return 0;
	if (fimstate_decode(s, data, size, &torn, &d) == 0) {
		if (fimstate_count(s) > WARD_MAX_FIM_STATE_ENTRIES)
			abort();
		wbuf_init(&b);
		if (fimstate_encode(s, &b) == 0 && fimstate_new(&t) == 0) {
			if (fimstate_decode(t, b.p, b.len, &torn, &d) != 0 || torn ||
			    fimstate_count(t) != fimstate_count(s))
				abort();
		}
		fimstate_free(t);
		wbuf_free(&b);
		memset(&a, 0, sizeof(a));
		a.type = FIMSTATE_REG;
		fimstate_scan_begin(s);
		(void)fimstate_scan_read(s, "/");
		(void)fimstate_scan_found(s, "/etc/passwd", &a, FIMSTATE_REPORT, &act);
		fimstate_scan_end(s, covers, gone, NULL);
		act = SENSOR_FIM_DELETED;
		(void)fimstate_live(s, "/etc/shadow", NULL, &act);
		fimstate_caught_done(s);
	}
	fimstate_free(s);
	return 0;
}
