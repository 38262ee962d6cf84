/* Unit tests of lib/modules/elf: hand-made images, 32/64-bit, little and
 * big-endian, read whole and through a read function; every truncation;
 * tables outside the file, huge counts, names without a NUL, links out of
 * range; every allocation failed in turn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "modules/elf.h"
#include "modules/freader.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/limits.h"

#define IMG_MAX 4096

/* Where the builder put things, for the tests to break them. */
struct layout {
	size_t size, shoff, phoff, text, syms, dynstr, dyn, shstr;
	unsigned shnum, phnum, nsyms;
};

struct img {
	uint8_t b[IMG_MAX];
	int is64, be;
	struct layout l;
};

static void
put(struct img *m, size_t at, uint64_t v, unsigned w)
{
	unsigned i;

	for (i = 0; i < w; i++)
		m->b[at + i] = (uint8_t)(v >> (8 * (m->be ? w - 1 - i : i)));
}

/* A word: 4 bytes in a 32-bit image, 8 in a 64-bit one. */
static void
putw(struct img *m, size_t at, uint64_t v)
{
	put(m, at, v, m->is64 ? 8 : 4);
}

static size_t
add(struct img *m, const void *p, size_t n)
{
	size_t at = m->l.size;

	memcpy(m->b + at, p, n);
	m->l.size += n;
	while (m->l.size % 8)
		m->l.size++;
	return at;
}

static void
section(struct img *m, unsigned i, uint32_t name, uint32_t type, uint64_t flags, uint64_t addr,
	uint64_t off, uint64_t size, uint32_t link)
{
	size_t at = m->l.shoff + (size_t)i * (m->is64 ? 64 : 40);

	put(m, at, name, 4);
	put(m, at + 4, type, 4);
	if (m->is64) {
		put(m, at + 8, flags, 8);
		put(m, at + 16, addr, 8);
		put(m, at + 24, off, 8);
		put(m, at + 32, size, 8);
		put(m, at + 40, link, 4);
	} else {
		put(m, at + 8, flags, 4);
		put(m, at + 12, addr, 4);
		put(m, at + 16, off, 4);
		put(m, at + 20, size, 4);
		put(m, at + 24, link, 4);
	}
}

static void
segment(struct img *m, unsigned i, uint32_t type, uint32_t flags, uint64_t off, uint64_t addr,
	uint64_t size)
{
	size_t at = m->l.phoff + (size_t)i * (m->is64 ? 56 : 32);

	put(m, at, type, 4);
	if (m->is64) {
		put(m, at + 4, flags, 4);
		put(m, at + 8, off, 8);
		put(m, at + 16, addr, 8);
		put(m, at + 24, addr, 8);
		put(m, at + 32, size, 8);
		put(m, at + 40, size, 8);
		put(m, at + 48, 0x1000, 8);
	} else {
		put(m, at + 4, off, 4);
		put(m, at + 8, addr, 4);
		put(m, at + 12, addr, 4);
		put(m, at + 16, size, 4);
		put(m, at + 20, size, 4);
		put(m, at + 24, flags, 4);
		put(m, at + 28, 0x1000, 4);
	}
}

#define BASE 0x400000
static const char shstr[] = "\0.text\0.dynsym\0.dynstr\0.shstrtab\0.dynamic";
static const char dynstr[] = "\0main\0puts";

/* An executable: sections null, .text, .dynsym, .dynstr, .shstrtab,
 * .dynamic; segments PT_LOAD over the file and PT_DYNAMIC. */
static void
build(struct img *m, int is64, int be)
{
	uint8_t text[32], sym[3][24], dyn[3][16];
	unsigned ss = is64 ? 24 : 16, ds = is64 ? 16 : 8, i;
	size_t hsz = is64 ? 64 : 52;

	memset(m, 0, sizeof(*m));
	m->is64 = is64;
	m->be = be;
	m->l.phnum = 2;
	m->l.shnum = 6;
	m->l.nsyms = 3;
	m->l.size = hsz;
	m->l.phoff = m->l.size;
	m->l.size += (size_t)m->l.phnum * (is64 ? 56 : 32);
	memset(text, 0x90, sizeof(text));
	m->l.text = add(m, text, sizeof(text));
	memset(sym, 0, sizeof(sym));
	m->l.syms = add(m, sym, (size_t)ss * 3);
	m->l.dynstr = add(m, dynstr, sizeof(dynstr));
	memset(dyn, 0, sizeof(dyn));
	m->l.dyn = add(m, dyn, (size_t)ds * 3);
	m->l.shstr = add(m, shstr, sizeof(shstr));
	m->l.shoff = m->l.size;
	m->l.size += (size_t)m->l.shnum * (is64 ? 64 : 40);
	/* symbols: null, main (FUNC GLOBAL in .text), puts (FUNC WEAK, undef) */
	for (i = 1; i < 3; i++) {
		size_t at = m->l.syms + (size_t)i * ss;

		put(m, at, i == 1 ? 1 : 6, 4);
		m->b[at + (is64 ? 4 : 12)] = i == 1 ? 0x12 : 0x22;
		put(m, at + (is64 ? 6 : 14), i == 1 ? 1 : 0, 2);
		putw(m, at + (is64 ? 8 : 4), i == 1 ? BASE + m->l.text : 0);
		putw(m, at + (is64 ? 16 : 8), i == 1 ? 16 : 0);
	}
	putw(m, m->l.dyn, 1); /* DT_NEEDED */
	putw(m, m->l.dyn + ds / 2, 6);
	putw(m, m->l.dyn + ds, 5); /* DT_STRTAB */
	putw(m, m->l.dyn + ds + ds / 2, BASE + m->l.dynstr);
	section(m, 1, 1, 1, 6, BASE + m->l.text, m->l.text, 32, 0);
	section(m, 2, 7, 11, 2, BASE + m->l.syms, m->l.syms, (uint64_t)ss * 3, 3);
	section(m, 3, 15, 3, 2, BASE + m->l.dynstr, m->l.dynstr, sizeof(dynstr), 0);
	section(m, 4, 23, 3, 0, 0, m->l.shstr, sizeof(shstr), 0);
	section(m, 5, 33, 6, 3, BASE + m->l.dyn, m->l.dyn, (uint64_t)ds * 3, 3);
	segment(m, 0, 1, 5, 0, BASE, m->l.size);
	segment(m, 1, 2, 6, m->l.dyn, BASE + m->l.dyn, (uint64_t)ds * 3);
	memcpy(m->b,
	       "\x7f"
	       "ELF",
	       4);
	m->b[4] = is64 ? 2 : 1;
	m->b[5] = be ? 2 : 1;
	m->b[6] = 1;
	put(m, 16, 2, 2);	      /* ET_EXEC */
	put(m, 18, is64 ? 62 : 3, 2); /* EM_X86_64, EM_386 */
	putw(m, 24, BASE + m->l.text);
	putw(m, is64 ? 32 : 28, m->l.phoff);
	putw(m, is64 ? 40 : 32, m->l.shoff);
	put(m, is64 ? 54 : 42, is64 ? 56 : 32, 2);
	put(m, is64 ? 56 : 44, m->l.phnum, 2);
	put(m, is64 ? 58 : 46, is64 ? 64 : 40, 2);
	put(m, is64 ? 60 : 48, m->l.shnum, 2);
	put(m, is64 ? 62 : 50, 4, 2);
}

static struct elf_info *
parse_n(const struct img *m, size_t n)
{
	struct freader f;
	struct elf_info *e = NULL;

	freader_init_mem(&f, m->b, n);
	assert_int_equal(elf_parse(&f, &e), 0);
	return e;
}

static int64_t
field(const struct elf_info *e, enum elf_field fld)
{
	int64_t v = -12345;

	assert_true(elf_get(e, fld, &v));
	return v;
}

static int64_t
item(const struct elf_info *e, enum elf_array a, size_t i, enum elf_item_field fld)
{
	int64_t v = -12345;

	assert_true(elf_item(e, a, i, fld, &v));
	return v;
}

static const char *
name(const struct elf_info *e, enum elf_array a, size_t i, enum elf_item_field fld)
{
	size_t len;

	return elf_item_str(e, a, i, fld, &len);
}

static void
check_full(const struct img *m, struct elf_info *e)
{
	assert_non_null(e);
	assert_int_equal(field(e, ELF_TYPE), 2);
	assert_int_equal(field(e, ELF_MACHINE), m->is64 ? 62 : 3);
	/* YARA's entry point is a file offset. */
	assert_int_equal(field(e, ELF_ENTRY_POINT), m->l.text);
	assert_int_equal(field(e, ELF_NUMBER_OF_SECTIONS), 6);
	assert_int_equal(field(e, ELF_NUMBER_OF_SEGMENTS), 2);
	assert_int_equal(field(e, ELF_SH_OFFSET), m->l.shoff);
	assert_int_equal(elf_items(e, ELF_SECTIONS), 6);
	assert_string_equal(name(e, ELF_SECTIONS, 0, ELF_SEC_NAME), "");
	assert_string_equal(name(e, ELF_SECTIONS, 1, ELF_SEC_NAME), ".text");
	assert_string_equal(name(e, ELF_SECTIONS, 5, ELF_SEC_NAME), ".dynamic");
	assert_int_equal(item(e, ELF_SECTIONS, 2, ELF_SEC_TYPE), 11);
	assert_int_equal(item(e, ELF_SECTIONS, 1, ELF_SEC_ADDRESS), BASE + m->l.text);
	assert_int_equal(item(e, ELF_SEGMENTS, 1, ELF_SEG_TYPE), 2);
	assert_int_equal(item(e, ELF_SEGMENTS, 0, ELF_SEG_FLAGS), 5);
	assert_int_equal(item(e, ELF_SEGMENTS, 0, ELF_SEG_ALIGNMENT), 0x1000);
	assert_int_equal(field(e, ELF_DYNAMIC_SECTION_ENTRIES), 3);
	assert_int_equal(item(e, ELF_DYNAMIC, 0, ELF_DYN_TYPE), 1);
	assert_int_equal(item(e, ELF_DYNAMIC, 0, ELF_DYN_VAL), 6);
	assert_int_equal(item(e, ELF_DYNAMIC, 2, ELF_DYN_TYPE), 0);
	assert_int_equal(field(e, ELF_DYNSYM_ENTRIES), 3);
	assert_string_equal(name(e, ELF_DYNSYM, 1, ELF_SYM_NAME), "main");
	assert_string_equal(name(e, ELF_DYNSYM, 2, ELF_SYM_NAME), "puts");
	assert_int_equal(item(e, ELF_DYNSYM, 1, ELF_SYM_TYPE), 2);
	assert_int_equal(item(e, ELF_DYNSYM, 1, ELF_SYM_BIND), 1);
	assert_int_equal(item(e, ELF_DYNSYM, 2, ELF_SYM_BIND), 2);
	assert_int_equal(item(e, ELF_DYNSYM, 1, ELF_SYM_SHNDX), 1);
	assert_int_equal(item(e, ELF_DYNSYM, 1, ELF_SYM_SIZE), 16);
	assert_int_equal(item(e, ELF_DYNSYM, 1, ELF_SYM_VALUE), BASE + m->l.text);
	/* No symtab; nothing past the arrays; no field of another array. */
	assert_false(elf_get(e, ELF_SYMTAB_ENTRIES, &(int64_t){0}));
	assert_int_equal(elf_items(e, ELF_SYMTAB), 0);
	assert_false(elf_item(e, ELF_SECTIONS, 6, ELF_SEC_TYPE, &(int64_t){0}));
	assert_false(elf_item(e, ELF_SECTIONS, 0, ELF_DYN_VAL, &(int64_t){0}));
	assert_false(elf_truncated(e));
}

static void
test_valid(void **state)
{
	static struct img m;
	int is64, be;

	(void)state;
	for (is64 = 0; is64 < 2; is64++) {
		for (be = 0; be < 2; be++) {
			struct elf_info *e;

			build(&m, is64, be);
			e = parse_n(&m, m.l.size);
			check_full(&m, e);
			elf_free(e);
		}
	}
}

static int
read_fn(void *arg, uint64_t off, void *buf, size_t n)
{
	const struct img *m = arg;

	if (off > m->l.size || n > m->l.size - off)
		return -1;
	memcpy(buf, m->b + off, n);
	return 0;
}

static void
test_read_fn(void **state)
{
	static struct img m;
	static uint8_t win[FREADER_WINDOW];
	struct freader f;
	struct elf_info *e = NULL;

	(void)state;
	build(&m, 1, 0);
	freader_init_fn(&f, m.l.size, read_fn, &m, win);
	assert_int_equal(elf_parse(&f, &e), 0);
	check_full(&m, e);
	elf_free(e);
}

static void
test_not_elf(void **state)
{
	static struct img m;
	struct elf_info *e;

	(void)state;
	build(&m, 1, 0);
	assert_null(parse_n(&m, 0));
	/* Exactly a header is not enough for YARA. */
	assert_null(parse_n(&m, 64));
	assert_non_null(e = parse_n(&m, 65));
	elf_free(e);
	m.b[4] = 3; /* no such class */
	assert_null(parse_n(&m, m.l.size));
	m.b[4] = 2;
	m.b[5] = 0; /* no such byte order */
	assert_null(parse_n(&m, m.l.size));
	m.b[5] = 1;
	m.b[0] = 0x7e;
	assert_null(parse_n(&m, m.l.size));
	assert_false(elf_get(NULL, ELF_TYPE, &(int64_t){0}));
	assert_int_equal(elf_items(NULL, ELF_SECTIONS), 0);
	elf_free(NULL);
}

/* Every prefix of every image parses (or is not ELF) without an error, and
 * what it defines lies inside the prefix. */
static void
test_truncated(void **state)
{
	static struct img m;
	int is64, be;
	size_t n;

	(void)state;
	for (is64 = 0; is64 < 2; is64++) {
		for (be = 0; be < 2; be++) {
			build(&m, is64, be);
			for (n = 0; n <= m.l.size; n++) {
				struct elf_info *e = parse_n(&m, n);

				if (n <= (size_t)(is64 ? 64 : 52)) {
					assert_null(e);
					continue;
				}
				assert_non_null(e);
				/* The section table is the file's last part. */
				assert_int_equal(elf_items(e, ELF_SECTIONS), n == m.l.size ? 6 : 0);
				assert_int_equal(elf_items(e, ELF_DYNSYM), n == m.l.size ? 3 : 0);
				if (n < m.l.phoff + 2u * (is64 ? 56 : 32))
					assert_int_equal(elf_items(e, ELF_SEGMENTS), 0);
				elf_free(e);
			}
		}
	}
}

static void
test_tables_outside(void **state)
{
	static struct img m;
	struct elf_info *e;

	(void)state;
	build(&m, 1, 0);
	putw(&m, 40, m.l.size - 8);    /* section table runs past the end */
	putw(&m, 32, UINT64_MAX - 16); /* program headers far outside */
	e = parse_n(&m, m.l.size);
	assert_non_null(e);
	assert_int_equal(field(e, ELF_NUMBER_OF_SECTIONS), 6);
	assert_int_equal(elf_items(e, ELF_SECTIONS), 0);
	assert_int_equal(elf_items(e, ELF_SEGMENTS), 0);
	assert_false(elf_get(e, ELF_DYNSYM_ENTRIES, &(int64_t){0}));
	assert_false(elf_get(e, ELF_DYNAMIC_SECTION_ENTRIES, &(int64_t){0}));
	/* ET_EXEC maps its entry through the program headers: none. */
	assert_false(elf_get(e, ELF_ENTRY_POINT, &(int64_t){0}));
	elf_free(e);
}

static void
test_huge_counts(void **state)
{
	static struct img m;
	struct elf_info *e;

	(void)state;
	build(&m, 1, 0);
	put(&m, 60, 0xfeff, 2); /* sections: under SHN_LORESERVE, past the end */
	put(&m, 56, 0xffff, 2); /* PN_XNUM: no segments in YARA */
	e = parse_n(&m, m.l.size);
	assert_non_null(e);
	assert_int_equal(field(e, ELF_NUMBER_OF_SECTIONS), 0xfeff);
	assert_int_equal(elf_items(e, ELF_SECTIONS), 0);
	assert_int_equal(field(e, ELF_NUMBER_OF_SEGMENTS), 0xffff);
	assert_int_equal(elf_items(e, ELF_SEGMENTS), 0);
	elf_free(e);
	/* A symbol table claiming far more than the file. */
	build(&m, 1, 0);
	section(&m, 2, 7, 11, 2, 0, m.l.syms, UINT64_MAX / 2, 3);
	e = parse_n(&m, m.l.size);
	assert_false(elf_get(e, ELF_DYNSYM_ENTRIES, &(int64_t){0}));
	elf_free(e);
}

static void
test_names_without_nul(void **state)
{
	static struct img m;
	struct elf_info *e;

	(void)state;
	build(&m, 0, 0);
	/* .dynstr ends without a NUL ("puts" to its end): YARA looks for it
	 * within the table only. */
	section(&m, 3, 15, 3, 2, 0, m.l.dynstr, sizeof(dynstr) - 1, 0);
	/* .shstrtab not starting with a NUL: no section names at all. */
	m.b[m.l.shstr] = 'x';
	e = parse_n(&m, m.l.size);
	assert_non_null(e);
	assert_string_equal(name(e, ELF_DYNSYM, 1, ELF_SYM_NAME), "main");
	assert_null(name(e, ELF_DYNSYM, 2, ELF_SYM_NAME));
	assert_int_equal(item(e, ELF_DYNSYM, 2, ELF_SYM_BIND), 2);
	assert_null(name(e, ELF_SECTIONS, 1, ELF_SEC_NAME));
	assert_int_equal(item(e, ELF_SECTIONS, 1, ELF_SEC_TYPE), 1);
	elf_free(e);
	/* A section name index past the end of the file. */
	build(&m, 0, 0);
	put(&m, m.l.shoff + 40, 0x7fffffff, 4);
	e = parse_n(&m, m.l.size);
	assert_null(name(e, ELF_SECTIONS, 1, ELF_SEC_NAME));
	assert_string_equal(name(e, ELF_SECTIONS, 2, ELF_SEC_NAME), ".dynsym");
	elf_free(e);
}

static void
test_link_out_of_range(void **state)
{
	static struct img m;
	struct elf_info *e;

	(void)state;
	build(&m, 1, 0);
	section(&m, 2, 7, 11, 2, 0, m.l.syms, 72, 6); /* sh_link == shnum */
	e = parse_n(&m, m.l.size);
	assert_false(elf_get(e, ELF_DYNSYM_ENTRIES, &(int64_t){0}));
	elf_free(e);
	build(&m, 1, 0);
	section(&m, 2, 7, 11, 2, 0, m.l.syms, 72, 1); /* links to .text, not a STRTAB */
	e = parse_n(&m, m.l.size);
	assert_false(elf_get(e, ELF_DYNSYM_ENTRIES, &(int64_t){0}));
	elf_free(e);
}

/* A PT_DYNAMIC without DT_NULL: entries up to the end of the file. */
static void
test_dynamic_to_end(void **state)
{
	static struct img m;
	struct elf_info *e;
	size_t at = 0;

	(void)state;
	build(&m, 1, 0);
	segment(&m, 1, 2, 6, m.l.size - 40, 0, 0);
	for (at = m.l.size - 40; at < m.l.size; at++)
		m.b[at] = 0x11;
	e = parse_n(&m, m.l.size);
	assert_int_equal(field(e, ELF_DYNAMIC_SECTION_ENTRIES), 2);
	assert_int_equal(elf_items(e, ELF_DYNAMIC), 2);
	elf_free(e);
}

static void
test_tables(void **state)
{
	size_t i;
	int found = 0;

	(void)state;
	for (i = 0; i < ELF_NFIELDS; i++)
		assert_int_equal(elf_field_names[i].id, (int)i);
	for (i = 0; i < ELF_NITEM_FIELDS; i++)
		assert_int_equal(elf_item_names[i].id, (int)i);
	for (i = 0; i < elf_nconstants; i++) {
		if (strcmp(elf_constants[i].name, "PT_GNU_STACK") == 0) {
			assert_int_equal(elf_constants[i].value, 0x6474e551);
			found++;
		}
		if (strcmp(elf_constants[i].name, "EM_X86_64") == 0) {
			assert_int_equal(elf_constants[i].value, 62);
			found++;
		}
	}
	assert_int_equal(found, 2);
	assert_int_equal(elf_nconstants, 89); /* as yara -D lists them */
}

static void
test_alloc_failures(void **state)
{
	static struct img m;
	struct freader f;
	unsigned long nth;
	int r, failed = 0;

	(void)state;
	build(&m, 1, 0);
	freader_init_mem(&f, m.b, m.l.size);
	for (nth = 1; nth < 64; nth++) {
		struct elf_info *e = NULL;

		alloc_fail_after(nth);
		r = elf_parse(&f, &e);
		alloc_fail_after(0);
		if (r == WARD_ENOMEM) {
			assert_null(e);
			failed++;
			continue;
		}
		assert_int_equal(r, 0);
		check_full(&m, e);
		elf_free(e);
		break;
	}
	assert_true(failed > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_read_fn),
	    cmocka_unit_test(test_not_elf),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_tables_outside),
	    cmocka_unit_test(test_huge_counts),
	    cmocka_unit_test(test_names_without_nul),
	    cmocka_unit_test(test_link_out_of_range),
	    cmocka_unit_test(test_dynamic_to_end),
	    cmocka_unit_test(test_tables),
	    cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
