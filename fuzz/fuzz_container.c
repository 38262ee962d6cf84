/*
 * fuzz_container: libFuzzer target over the container walk
 * (lib/scan/container.c): libarchive's readers and decompressors over any
 * file being scanned, and our limits around them.
 *
 * Input: the file itself, put in a memory file as the scanners get theirs.
 * It is walked with a small real rule set and small limits (so that a
 * bomb costs little per run); every member chain reported must be within
 * the depth limit, every note a known one, and the walk must return 0
 * (its contents never make it fail).  Seeds: fuzz/corpus/container/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rules/compile.h"
#include "scan/container.h"
#include "util/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rules_src[] = "rule evil { strings: $a = \"EVIL-PAYLOAD\" $b = { 4D 5A ?? ?? 50 "
				"45 } condition: any of them }\n"
				"rule small { condition: filesize < 16 }\n";

static struct matcher *M;
static struct matcher_scratch *S;
static struct container_limits L;

static void
check_where(const struct container_where *w)
{
	unsigned i;

	if (w->n > L.depth + 1)
		abort();
	for (i = 0; i < w->n; i++)
		if (w->chain[i] == NULL || strlen(w->chain[i]) > WARD_CONTAINER_MAX_NAME)
			abort();
}

static int
on_report(void *arg, const struct matcher_scratch *s, uint32_t rule, const char *hash_name,
	  const struct container_where *where)
{
	(void)arg;
	(void)s;
	(void)rule;
	(void)hash_name;
	check_where(where);
	return 0;
}

static void
on_note(void *arg, enum container_note n, const struct container_where *where, const char *format)
{
	(void)arg;
	(void)format;
	if ((unsigned)n >= CONTAINER_NOTE_COUNT)
		abort();
	check_where(where);
}

static void
init(void)
{
	struct rules_compiler *c = NULL;
	struct ruleset *rs = NULL;
	struct ward_diag d;

	diag_clear(&d);
	if (rules_compiler_new(&c) != 0 ||
	    rules_compiler_add_string(c, "f.yar", rules_src, strlen(rules_src), &d) != 0 ||
	    rules_compiler_finish(c, &rs, &d) != 0 || matcher_new(rs, NULL, &M, &d) != 0 ||
	    matcher_scratch_new(M, &S) != 0)
		abort();
	rules_compiler_free(c);
	container_limits_scan(&L);
	L.total = 8u << 20;
	L.member = 4u << 20;
	L.files = 200;
	L.depth = 4;
	L.time_ms = 5000;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct container_opts o = {
	    .limits = &L, .archives = 1, .name = "input.gz", .report = on_report, .note = on_note};
	int fd;

	if (M == NULL)
		init();
	if ((fd = memfd_create("fuzz", MFD_CLOEXEC)) < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	if (container_scan_fd(M, S, fd, size, &o) != 0)
		abort();
	close(fd);
	return 0;
}
