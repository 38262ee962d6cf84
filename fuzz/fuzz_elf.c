/*
 * fuzz_elf: libFuzzer target over the ELF parser behind the rule module
 * `elf` (lib/modules/elf), whose input is any file being scanned.
 *
 * Input: the file itself.  It is parsed from memory and through a read
 * function with its window; the two parses must agree field by field,
 * nothing defined may break a limit of limits.h, and the math and hash
 * functions run over ranges taken from the parse (the section offsets and
 * sizes a rule would pass them).  Seeds: fuzz/corpus/elf/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/elf.h"
#include "modules/freader.h"
#include "modules/hashfn.h"
#include "modules/mathfn.h"
#include "util/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
	const uint8_t *p;
	size_t n;
};

static int
read_fn(void *arg, uint64_t off, void *buf, size_t n)
{
	const struct mem *m = arg;

	if (off > m->n || n > m->n - off)
		abort(); /* the reader asked outside the file */
	memcpy(buf, m->p + off, n);
	return 0;
}

static void
same(const struct elf_info *a, const struct elf_info *b)
{
	size_t i, n, la = 0, lb = 0;
	int64_t va = 0, vb = 0;
	const char *sa, *sb;
	int k, fld;

	for (k = 0; k < ELF_NFIELDS; k++) {
		int da = elf_get(a, k, &va), db = elf_get(b, k, &vb);

		if (da != db || (da && va != vb))
			abort();
	}
	for (k = 0; k < ELF_NARRAYS; k++) {
		n = elf_items(a, k);
		if (n != elf_items(b, k) || n > WARD_MAX_ELF_SYMBOLS)
			abort();
		for (i = 0; i < n; i++) {
			for (fld = 0; fld < ELF_NITEM_FIELDS; fld++) {
				int da = elf_item(a, k, i, fld, &va),
				    db = elf_item(b, k, i, fld, &vb);

				if (da != db || (da && va != vb))
					abort();
				sa = elf_item_str(a, k, i, fld, &la);
				sb = elf_item_str(b, k, i, fld, &lb);
				if ((sa == NULL) != (sb == NULL))
					abort();
				if (sa != NULL && (la != lb || la > WARD_MAX_ELF_NAME ||
						   strlen(sa) != la || memcmp(sa, sb, la) != 0))
					abort();
			}
		}
	}
	if (elf_truncated(a) != elf_truncated(b))
		abort();
}

/* The functions over ranges a rule would take from the parse. */
static void
functions(struct freader *f, const struct elf_info *e)
{
	char hex[HASHFN_HEX_MAX];
	int64_t off = 0, len = 0, v;
	double d;
	size_t i, n = elf_items(e, ELF_SECTIONS);

	for (i = 0; i < n && i < 4; i++) {
		if (!elf_item(e, ELF_SECTIONS, i, ELF_SEC_OFFSET, &off) ||
		    !elf_item(e, ELF_SECTIONS, i, ELF_SEC_SIZE, &len))
			abort();
		if (mathfn_entropy(f, off, len, &d) && (d < 0 || d > 8))
			abort();
		(void)mathfn_serial_correlation(f, off, len, &d);
		(void)mathfn_monte_carlo_pi(f, off, len, &d);
		(void)mathfn_mode(f, off, len, &v);
		if (hashfn_digest(f, HASHFN_MD5, off, len, hex, sizeof(hex)) == 1 &&
		    strlen(hex) != 32)
			abort();
		(void)hashfn_crc32(f, off, len, &v);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t win[FREADER_WINDOW];
	struct elf_info *a = NULL, *b = NULL;
	struct freader fm, ff;
	struct mem m = {data, size};

	freader_init_mem(&fm, data, size);
	freader_init_fn(&ff, size, read_fn, &m, win);
	if (elf_parse(&fm, &a) != 0 || elf_parse(&ff, &b) != 0)
		abort(); /* only an allocation may fail */
	if ((a == NULL) != (b == NULL))
		abort();
	if (a != NULL) {
		same(a, b);
		functions(&ff, a);
	}
	elf_free(a);
	elf_free(b);
	return 0;
}
