/* Unit tests of lib/modules/pe on PE images built here: the fields of a
 * minimal image, imports (by name, by ordinal with YARA's names, invalid
 * DLL names) and imphash, exports (named, by ordinal, forwarded), the rich
 * signature's counts, version info as YARA's dictionary, and hostile images: cut at every length,
 * sections past the end, counts far beyond the caps, a resource tree pointing at itself.  Each must
 * end in undefined fields or a capped list, read only inside the file (ASan sees a read past the
 * exact-size copy), and free everything when an allocation fails.  Real files are compared with
 * yara by tests/e2e/test_pe_oracle.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "modules/pe.h"
#include "pattern/pattern.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/limits.h"

#define LFANEW 0x80
#define OPT (LFANEW + 24)
#define SECTAB (OPT + 224)
#define RAW 0x200
#define VA 0x1000
/* The file offset of an RVA in the one section of build(). */
#define OFF(rva) ((rva)-VA + RAW)
#define SMALL 0x1200

static uint8_t *img;
static size_t img_size;

static void
put16(size_t off, uint16_t v)
{
	img[off] = (uint8_t)v;
	img[off + 1] = (uint8_t)(v >> 8);
}

static void
put32(size_t off, uint32_t v)
{
	put16(off, (uint16_t)v);
	put16(off + 2, (uint16_t)(v >> 16));
}

static void
putstr(size_t off, const char *s)
{
	memcpy(img + off, s, strlen(s) + 1);
}

static void
set_dir(int i, uint32_t va, uint32_t size)
{
	put32(OPT + 96 + 8 * (size_t)i, va);
	put32(OPT + 96 + 8 * (size_t)i + 4, size);
}

/* A 32-bit PE of size bytes: one section ".text" mapping [RAW, size) at
 * VA, the entry point at VA + 0x10. */
static void
build(size_t size)
{
	free(img);
	img = calloc(1, size);
	assert_non_null(img);
	img_size = size;
	put16(0, 0x5A4D);
	put32(60, LFANEW);
	put32(LFANEW, 0x00004550);
	put16(LFANEW + 4, 0x14c);
	put16(LFANEW + 6, 1);
	put32(LFANEW + 8, 0x5f000000);
	put16(LFANEW + 20, 224);
	put16(LFANEW + 22, 0x0102);
	put16(OPT, 0x10b);
	img[OPT + 2] = 14;
	put32(OPT + 16, VA + 0x10);
	put32(OPT + 28, 0x400000);
	put32(OPT + 32, 0x1000);
	put32(OPT + 36, 0x200);
	put32(OPT + 56, (uint32_t)(VA + size));
	put32(OPT + 60, RAW);
	put16(OPT + 68, 2);
	put32(OPT + 92, 16);
	memcpy(img + SECTAB, ".text", 5);
	put32(SECTAB + 8, (uint32_t)(size - RAW));
	put32(SECTAB + 12, VA);
	put32(SECTAB + 16, (uint32_t)(size - RAW));
	put32(SECTAB + 20, RAW);
	put32(SECTAB + 36, 0x60000020);
}

static int
read_fn(void *arg, uint64_t off, void *buf, size_t n)
{
	const uint8_t *p = arg;

	memcpy(buf, p + off, n);
	return 0;
}

/* Parses the first n bytes of img from an exact-size copy (so that ASan
 * sees any read past them), from memory and through a read function; the
 * two must agree.  Returns the memory one (the caller frees it). */
static struct pe_info *
parse_n(size_t n)
{
	static uint8_t win[FREADER_WINDOW];
	uint8_t *copy = malloc(n > 0 ? n : 1);
	struct freader fm, ff;
	struct pe_info *a = NULL, *b = NULL;

	assert_non_null(copy);
	memcpy(copy, img, n);
	freader_init_mem(&fm, copy, n);
	freader_init_fn(&ff, n, read_fn, copy, win);
	assert_int_equal(pe_parse(&fm, &a), 0);
	assert_int_equal(pe_parse(&ff, &b), 0);
	assert_int_equal(a == NULL, b == NULL);
	if (a != NULL) {
		assert_int_equal(pe_section_count(a), pe_section_count(b));
		assert_int_equal(pe_export_count(a), pe_export_count(b));
		assert_int_equal(pe_resource_count(a), pe_resource_count(b));
		assert_int_equal(pe_number_of_imported_functions(a, 0),
				 pe_number_of_imported_functions(b, 0));
		assert_int_equal(pe_calculate_checksum(a, &fm), pe_calculate_checksum(b, &ff));
	}
	pe_free(b);
	free(copy);
	return a;
}

static struct pe_info *
parse_all(void)
{
	return parse_n(img_size);
}

static void
test_not_pe(void **state)
{
	(void)state;
	build(SMALL);
	assert_null(parse_n(0));
	assert_null(parse_n(63));
	img[0] = 'Z';
	assert_null(parse_all());
	build(SMALL);
	put32(LFANEW, 0x00004551);
	assert_null(parse_all());
	build(SMALL);
	put32(60, 0x80000000); /* a negative e_lfanew */
	assert_null(parse_all());
	pe_free(NULL);
	assert_int_equal(pe_is_dll(NULL), PE_UNDEFINED);
	assert_int_equal(pe_rva_to_offset(NULL, 0), PE_UNDEFINED);
}

static void
test_minimal(void **state)
{
	struct pe_info *p;
	const struct pe_header *h;
	const struct pe_section *s;
	char hash[33];

	(void)state;
	build(SMALL);
	p = parse_all();
	assert_non_null(p);
	h = pe_header(p);
	assert_int_equal(h->machine, 0x14c);
	assert_int_equal(h->timestamp, 0x5f000000);
	assert_int_equal(h->entry_point_raw, VA + 0x10);
	assert_int_equal(h->entry_point, RAW + 0x10);
	assert_int_equal(h->image_base, 0x400000);
	assert_int_equal(h->linker_version_major, 14);
	assert_true(h->has_base_of_data);
	assert_int_equal(h->is_64bit, 0);
	assert_int_equal(h->overlay_offset, 0);
	assert_int_equal(h->overlay_size, 0);
	assert_int_equal(pe_data_directory_count(p), 16);
	assert_int_equal(pe_section_count(p), 1);
	s = pe_section(p, 0);
	assert_int_equal(s->name.len, 5);
	assert_string_equal(s->name.p, ".text");
	assert_string_equal(s->full_name.p, ".text");
	assert_null(pe_section(p, 1));
	assert_int_equal(pe_section_index_name(p, ".text"), 0);
	assert_int_equal(pe_section_index_name(p, ".data"), PE_UNDEFINED);
	assert_int_equal(pe_section_index_offset(p, RAW + 5), 0);
	assert_int_equal(pe_rva_to_offset(p, VA + 0x20), RAW + 0x20);
	/* Below the first section the file maps as it is; past the raw data
	 * nothing does. */
	assert_int_equal(pe_rva_to_offset(p, 0x10), 0x10);
	assert_int_equal(pe_rva_to_offset(p, VA + SMALL), PE_UNDEFINED);
	assert_int_equal(pe_is_32bit(p), 1);
	assert_int_equal(pe_is_dll(p), 0);
	assert_null(pe_rich_signature(p));
	assert_int_equal(pe_rich_version(p, 1, PE_UNDEFINED), PE_UNDEFINED);
	assert_null(pe_pdb_path(p).p);
	assert_int_equal(pe_number_of_imports(p, 0), 0);
	assert_int_equal(pe_export_count(p), 0);
	assert_int_equal(pe_resource_count(p), 0);
	assert_int_equal(pe_locale(p, 0x409), 0);
	assert_int_equal(pe_imphash(p, hash), 0);
	assert_string_equal(hash, "d41d8cd98f00b204e9800998ecf8427e");
	pe_free(p);

	/* Bytes after the last section are the overlay. */
	build(SMALL + 7);
	put32(SECTAB + 16, SMALL - RAW);
	p = parse_all();
	assert_int_equal(pe_header(p)->overlay_offset, SMALL);
	assert_int_equal(pe_header(p)->overlay_size, 7);
	pe_free(p);
}

/* Every length of the image: never a read outside, and is_pe only once
 * the whole optional header is there. */
static void
test_truncated(void **state)
{
	struct pe_info *p;
	size_t n;

	(void)state;
	build(SMALL);
	/* Imports and exports, so that a cut can fall inside them too. */
	set_dir(1, 0x1100, 60);
	put32(OFF(0x1100), 0x1200);
	put32(OFF(0x1100) + 12, 0x1180);
	putstr(OFF(0x1180), "KERNEL32.dll");
	put32(OFF(0x1200), 0x1300);
	putstr(OFF(0x1300) + 2, "CreateFileA");
	set_dir(0, 0x1600, 0x100);
	put32(OFF(0x1600) + 12, 0x1700);
	putstr(OFF(0x1700), "t.dll");
	for (n = 0; n <= img_size; n++) {
		p = parse_n(n);
		assert_int_equal(p != NULL, n >= OPT + 224);
		if (p != NULL && n < RAW + 0x10 + 1)
			assert_int_equal(pe_header(p)->entry_point, -1);
		pe_free(p);
	}
}

static void
test_sections_past_end(void **state)
{
	struct pe_info *p;

	(void)state;
	/* 50 sections claimed, headers for only a few in the file: YARA lists
	 * those and gives up on every RVA. */
	build(0x300);
	put16(LFANEW + 6, 50);
	p = parse_all();
	assert_non_null(p);
	assert_int_equal(pe_header(p)->number_of_sections, 50);
	assert_int_equal(pe_section_count(p), (0x300 - SECTAB) / 40);
	assert_int_equal(pe_header(p)->entry_point, -1);
	assert_int_equal(pe_rva_to_offset(p, VA), PE_UNDEFINED);
	pe_free(p);

	/* 0xffff sections in a large file: 96 are read. */
	build(0x4000);
	put16(LFANEW + 6, 0xffff);
	p = parse_all();
	assert_int_equal(pe_section_count(p), WARD_MAX_PE_SECTIONS);
	pe_free(p);

	/* Raw data far beyond the file: no overlay, no offset. */
	build(SMALL);
	put32(SECTAB + 20, 0xffffff00);
	p = parse_all();
	assert_int_equal(pe_header(p)->overlay_size, 0);
	assert_int_equal(pe_rva_to_offset(p, VA + 4), PE_UNDEFINED);
	pe_free(p);
}

static void
build_imports(void)
{
	build(SMALL);
	set_dir(1, 0x1100, 80);
	put32(OFF(0x1100), 0x1200);
	put32(OFF(0x1100) + 12, 0x1180);
	put32(OFF(0x1100) + 16, 0x1200);
	put32(OFF(0x1114), 0x1220);
	put32(OFF(0x1114) + 12, 0x1190);
	/* A name Windows could never load: skipped, not counted. */
	put32(OFF(0x1128), 0x1220);
	put32(OFF(0x1128) + 12, 0x11a0);
	putstr(OFF(0x1180), "WS2_32.dll");
	putstr(OFF(0x1190), "KERNEL32.dll");
	putstr(OFF(0x11a0), "bad\001.dll");
	put32(OFF(0x1200), 0x80000001);
	put32(OFF(0x1204), 0x800003e7);
	put32(OFF(0x1220), 0x1300);
	put32(OFF(0x1224), 0x80000007);
	putstr(OFF(0x1300) + 2, "CreateFileA");
}

static int
match_prefix(void *arg, const char *s, size_t len)
{
	size_t n = strlen(arg);

	return len >= n && strncmp(s, arg, n) == 0 ? (int)n : -1;
}

/* The glue's regexp answer (mod_pe.c): pattern_search over a condition's
 * regexp, where the last match found ended, 0 for an empty match at the
 * start of the name, -1 for none. */
static int
match_re(void *arg, const char *s, size_t len)
{
	return pattern_search(arg, (const uint8_t *)s, len);
}

static struct pattern *
re(const char *src)
{
	struct pattern *p = NULL;

	assert_int_equal(pattern_compile(PATTERN_REGEX, (const uint8_t *)src, strlen(src),
					 PATTERN_SEARCH, &p, NULL),
			 0);
	return p;
}

/* imports(/dll/, /fn/) counts a function only where both answers are above
 * 0, as YARA 4.2.3 does (checked with tests/diff/modules.py). */
static void
check_imports_regex(const struct pe_info *p, const char *dll, const char *fn, int64_t want)
{
	struct pattern *d = re(dll), *f = re(fn);

	assert_int_equal(pe_imports_regex(p, PE_IMPORT_ANY, match_re, d, match_re, f), want);
	pattern_free(d);
	pattern_free(f);
}

static void
test_imports(void **state)
{
	struct pe_info *p;
	const struct pe_import_dll *d;
	char hash[33];

	(void)state;
	build_imports();
	p = parse_all();
	assert_int_equal(pe_number_of_imports(p, 0), 2);
	assert_int_equal(pe_number_of_imported_functions(p, 0), 4);
	assert_int_equal(pe_import_dll_count(p, 0), 2);
	d = pe_import_dll(p, 0, 0);
	assert_string_equal(d->name.p, "WS2_32.dll");
	assert_int_equal(d->nfn, 2);
	assert_string_equal(d->fn[0].name.p, "accept");
	assert_true(d->fn[0].has_ordinal);
	assert_int_equal(d->fn[0].ordinal, 1);
	assert_string_equal(d->fn[1].name.p, "ord999");
	d = pe_import_dll(p, 0, 1);
	assert_string_equal(d->name.p, "KERNEL32.dll");
	assert_int_equal(d->yara_first, 2);
	assert_string_equal(d->fn[0].name.p, "CreateFileA");
	assert_false(d->fn[0].has_ordinal);
	assert_string_equal(d->fn[1].name.p, "ord7");
	assert_int_equal(pe_imports_fn(p, PE_IMPORT_STANDARD, "kernel32.DLL", "createfilea"), 1);
	assert_int_equal(pe_imports_fn(p, PE_IMPORT_DELAYED, "kernel32.dll", "CreateFileA"), 0);
	assert_int_equal(pe_imports_fn(p, PE_IMPORT_ANY, "kernel32", "CreateFileA"), 0);
	assert_int_equal(pe_imports_ordinal(p, PE_IMPORT_ANY, "ws2_32.dll", 999), 1);
	assert_int_equal(pe_imports_ordinal(p, PE_IMPORT_ANY, "kernel32.dll", 8), 0);
	assert_int_equal(pe_imports_dll(p, PE_IMPORT_ANY, "ws2_32.DLL"), 2);
	assert_int_equal(
	    pe_imports_regex(p, PE_IMPORT_ANY, match_prefix, "KERNEL", match_prefix, "Create"), 1);
	check_imports_regex(p, "KERNEL", "A$", 1);
	check_imports_regex(p, ".", "x*", 4); /* each name ends in an empty match */
	check_imports_regex(p, ".", "^", 0);  /* an empty match at 0: answer 0 */
	check_imports_regex(p, ".", "^x*", 0);
	check_imports_regex(p, "^", ".", 0);
	assert_int_equal(pe_imphash(p, hash), 0);
	assert_string_equal(hash, "1c30a9501668859d9e3df3017a78fa65");
	pe_free(p);

	/* A thunk table as long as the file: capped as YARA caps it. */
	build(RAW + 0x14000);
	set_dir(1, 0x1100, 40);
	put32(OFF(0x1100), 0x1200);
	put32(OFF(0x1100) + 12, 0x1180);
	putstr(OFF(0x1180), "a.dll");
	for (size_t i = 0; OFF(0x1200) + 4 * i + 4 <= img_size - 4; i++)
		put32(OFF(0x1200) + 4 * i, 0x80000001);
	p = parse_all();
	assert_int_equal(pe_number_of_imported_functions(p, 0), WARD_MAX_PE_IMPORTS);
	assert_int_equal(pe_import_dll(p, 0, 0)->nfn, WARD_MAX_PE_IMPORTS);
	pe_free(p);

	/* Name and thunks outside the file: the DLL is counted, not listed. */
	build_imports();
	put32(OFF(0x1100), 0x7ffffff0);
	put32(OFF(0x1100) + 16, 0x7ffffff0);
	p = parse_all();
	assert_int_equal(pe_number_of_imports(p, 0), 2);
	assert_int_equal(pe_import_dll_count(p, 0), 1);
	pe_free(p);
}

static void
build_exports(uint32_t nfun)
{
	build(SMALL);
	set_dir(0, 0x1600, 0x100);
	put32(OFF(0x1600) + 4, 0x12345678);
	put32(OFF(0x1600) + 12, 0x1700);
	put32(OFF(0x1600) + 16, 1);
	put32(OFF(0x1600) + 20, nfun);
	put32(OFF(0x1600) + 24, 2);
	put32(OFF(0x1600) + 28, 0x1640);
	put32(OFF(0x1600) + 32, 0x1660);
	put32(OFF(0x1600) + 36, 0x1670);
	put32(OFF(0x1640), 0x1010);
	put32(OFF(0x1644), 0x1680);
	put32(OFF(0x1648), 0x1020);
	put32(OFF(0x1660), 0x1710);
	put32(OFF(0x1664), 0x1720);
	put16(OFF(0x1670), 2);
	put16(OFF(0x1672), 0);
	putstr(OFF(0x1680), "K.F");
	putstr(OFF(0x1700), "t.dll");
	putstr(OFF(0x1710), "alpha");
	putstr(OFF(0x1720), "beta");
}

static int
match_b(void *arg, const char *s, size_t len)
{
	(void)arg;
	return len > 0 && s[0] == 'b' ? 1 : -1;
}

static void
test_exports(void **state)
{
	struct pe_info *p;
	const struct pe_export *e;
	int def;

	(void)state;
	build_exports(3);
	p = parse_all();
	assert_int_equal(pe_export_count(p), 3);
	assert_string_equal(pe_export_dll_name(p).p, "t.dll");
	assert_int_equal(pe_export_timestamp(p, &def), 0x12345678);
	assert_true(def);
	e = pe_export(p, 0);
	assert_int_equal(e->ordinal, 1);
	assert_string_equal(e->name.p, "beta");
	assert_true(e->has_offset);
	assert_int_equal(e->offset, OFF(0x1010));
	e = pe_export(p, 1);
	assert_null(e->name.p);
	assert_false(e->has_offset);
	assert_string_equal(e->forward_name.p, "K.F");
	e = pe_export(p, 2);
	assert_string_equal(e->name.p, "alpha");
	assert_int_equal(pe_exports_name(p, "ALPHA", 5, 1), 2);
	assert_int_equal(pe_exports_name(p, "alph", 4, 0), 0);
	assert_int_equal(pe_exports_ordinal(p, 3, 1), 2);
	assert_int_equal(pe_exports_ordinal(p, 4, 0), 0);
	assert_int_equal(pe_exports_ordinal(p, 0, 1), PE_UNDEFINED);
	assert_int_equal(pe_exports_regex(p, match_b, NULL, 1), 0);
	pe_free(p);

	/* A count far past the cap whose tables cannot fit: no exports, the
	 * DLL name and timestamp still there. */
	build_exports(0xffffffff);
	p = parse_all();
	assert_int_equal(pe_export_count(p), 0);
	assert_string_equal(pe_export_dll_name(p).p, "t.dll");
	pe_free(p);

	/* Names outside the file are undefined, the exports stay. */
	build_exports(3);
	put32(OFF(0x1660), 0x7fff0000);
	p = parse_all();
	assert_int_equal(pe_export_count(p), 3);
	assert_null(pe_export(p, 2)->name.p);
	pe_free(p);
}

static void
test_rich(void **state)
{
	const uint32_t key = 0x11223344;
	const struct pe_rich *r;
	struct pe_info *p;

	(void)state;
	build(SMALL);
	put32(0x40, 0x536e6144 ^ key);
	put32(0x44, key);
	put32(0x48, key);
	put32(0x4c, key);
	put32(0x50, (0x0105u << 16 | 0x7809) ^ key); /* tool 0x105, version 0x7809 */
	put32(0x54, 3 ^ key);
	put32(0x58, (0x0104u << 16 | 0x7809) ^ key);
	put32(0x5c, 4 ^ key);
	put32(0x60, 0x68636952);
	put32(0x64, key);
	p = parse_all();
	r = pe_rich_signature(p);
	assert_non_null(r);
	assert_int_equal(r->offset, 0x40);
	assert_int_equal(r->length, 32);
	assert_int_equal(r->key, key);
	assert_memory_equal(r->clear_data.p, "DanS", 4);
	assert_int_equal(pe_rich_version(p, 0x7809, PE_UNDEFINED), 7);
	assert_int_equal(pe_rich_version(p, 0x7809, 0x104), 4);
	assert_int_equal(pe_rich_version(p, PE_UNDEFINED, 0x105), 3);
	assert_int_equal(pe_rich_version(p, 1, PE_UNDEFINED), 0);
	assert_int_equal(pe_rich_version(p, PE_UNDEFINED, PE_UNDEFINED), 0);
	pe_free(p);

	/* Keys that differ: no signature. */
	put32(0x48, key + 1);
	p = parse_all();
	assert_null(pe_rich_signature(p));
	pe_free(p);
}

/* A resource directory whose entries all point back at it: three levels
 * of 32768 entries would be 2^45 visits; the walk stops at the caps. */
static void
test_resource_loop(void **state)
{
	struct pe_info *p;
	size_t dir = OFF(0x2000), i, n = 32768; /* YARA refuses more */
	int def;

	(void)state;
	build(OFF(0x2000) + 16 + 8 * n + 16);
	set_dir(2, 0x2000, 0x1000);
	put16(dir + 14, (uint16_t)n);
	for (i = 0; i < n; i++) {
		put32(dir + 16 + 8 * i, (uint32_t)i);
		put32(dir + 16 + 8 * i + 4, 0x80000000);
	}
	p = parse_all();
	assert_int_equal(pe_resource_count(p), WARD_MAX_PE_RESOURCES);
	assert_true(pe_resource(p, 5)->has_type);
	assert_int_equal(pe_resource(p, 5)->language, 5);
	(void)pe_resource_timestamp(p, &def);
	assert_true(def);
	pe_free(p);

	/* A named entry whose string leaves the file: the integer stays. */
	build(SMALL);
	set_dir(2, 0x1100, 0x100);
	put16(OFF(0x1100) + 12, 1);
	put32(OFF(0x1100) + 16, 0x8000fff0);
	put32(OFF(0x1100) + 20, 0x40);
	p = parse_all();
	assert_int_equal(pe_resource_count(p), 1);
	assert_true(pe_resource(p, 0)->has_type);
	assert_null(pe_resource(p, 0)->type_string.p);
	assert_int_equal(pe_resource(p, 0)->type, (int32_t)0x8000fff0);
	pe_free(p);
}

/* s as UTF-16LE at off; the offset past its terminator. */
static size_t
putw16(size_t off, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		put16(off + 2 * i, (uint8_t)s[i]);
	put16(off + 2 * i, 0);
	return off + 2 * i + 2;
}

#define ALIGN4(x) (((x) + 3) & ~(size_t)3)

/* A version-info String record key = value at off; where the next goes. */
static size_t
vi_string(size_t off, const char *key, const char *value)
{
	size_t val = ALIGN4(off + 6 + 2 * (strlen(key) + 1));
	size_t end = putw16(val, value);

	put16(off, (uint16_t)(end - off));
	put16(off + 2, (uint16_t)(strlen(value) + 1));
	put16(off + 4, 1);
	putw16(off + 6, key);
	return ALIGN4(end);
}

/* A version resource (type 16, id 1, language 0x409) at RVA 0x1100 whose
 * one string table holds the n key, value pairs kv. */
static void
build_version(const char *const *kv, size_t n)
{
	size_t base = OFF(0x1100), vi = OFF(0x1200), sfi = vi + 92, st = sfi + 36, s, i;

	build(SMALL);
	set_dir(2, 0x1100, 0x100);
	put16(base + 14, 1);
	put32(base + 16, 16);
	put32(base + 20, 0x80000000u | 0x18);
	put16(base + 0x18 + 14, 1);
	put32(base + 0x28, 1);
	put32(base + 0x2c, 0x80000000u | 0x30);
	put16(base + 0x30 + 14, 1);
	put32(base + 0x40, 0x409);
	put32(base + 0x44, 0x48);
	put32(base + 0x48, 0x1200);
	put32(base + 0x4c, 0x200);
	putw16(vi + 6, "VS_VERSION_INFO");
	putw16(sfi + 6, "StringFileInfo");
	putw16(st + 6, "040904b0");
	for (i = 0, s = st + 24; i < n; i++)
		s = vi_string(s, kv[2 * i], kv[2 * i + 1]);
	put16(st, (uint16_t)(s - st));
	put16(sfi, (uint16_t)(s - sfi));
	put16(vi, (uint16_t)(s - vi));
}

/* version_info as YARA's dictionary: a key set again keeps its first
 * place and takes the last value, while version_info_list has every
 * string; `for k, v in pe.version_info` walks the dictionary. */
static void
test_version_dict(void **state)
{
	static const char *const kv[] = {"B", "1", "A", "2", "B", "3", "C", "", "A", "4", "B", "5"};
	struct pe_info *p;

	(void)state;
	build_version(kv, 6);
	p = parse_all();
	assert_int_equal(pe_version_info_count(p), 6);
	assert_int_equal(pe_version_dict_count(p), 3);
	assert_string_equal(pe_version_dict_key(p, 0)->p, "B");
	assert_string_equal(pe_version_dict_key(p, 1)->p, "A");
	assert_string_equal(pe_version_dict_key(p, 2)->p, "C");
	assert_null(pe_version_dict_key(p, 3));
	assert_string_equal(pe_version_info_lookup(p, "B").p, "5");
	assert_string_equal(pe_version_info_lookup(p, "A").p, "4");
	assert_string_equal(pe_version_info_lookup(p, "C").p, "");
	pe_free(p);
	/* no version info: an empty dictionary */
	build(SMALL);
	p = parse_all();
	assert_int_equal(pe_version_dict_count(p), 0);
	assert_null(pe_version_dict_key(p, 0));
	pe_free(p);
	assert_int_equal(pe_version_dict_count(NULL), 0);
	assert_int_equal(pe_signature_count(NULL), 0);
}

/* Certificate tables that are not: undefined without the directory entry,
 * 0 for a table past the file, garbage DER or a record longer than the
 * table. */
static void
test_signatures(void **state)
{
	struct pe_info *p;

	(void)state;
	build(SMALL);
	put32(OPT + 92, 3);
	p = parse_all();
	assert_int_equal(pe_number_of_signatures(p), PE_UNDEFINED);
	pe_free(p);

	build(SMALL);
	set_dir(4, SMALL - 8, 16);
	p = parse_all();
	assert_int_equal(pe_number_of_signatures(p), 0);
	pe_free(p);

	build(SMALL);
	set_dir(4, 0x800, 0x100);
	put32(0x800, 0x40);
	put16(0x804, 0x200);
	put16(0x806, 2);
	memset(img + 0x808, 0x30, 0x38); /* SEQUENCE, SEQUENCE, ... */
	put32(0x840, 0x1000);
	put16(0x844, 0x200);
	p = parse_all();
	assert_int_equal(pe_number_of_signatures(p), 0);
	assert_int_equal(pe_signature_count(p), 0);
	assert_null(pe_signature(p, 0));
	assert_int_equal(pe_signature_valid_on(NULL, 0), PE_UNDEFINED);
	pe_free(p);
}

/* Every allocation of a parse of img failed in turn: WARD_ENOMEM, nothing
 * leaked (ASan), and the parse whole once they all succeed. */
static void
alloc_sweep(void)
{
	static uint8_t win[FREADER_WINDOW];
	struct freader f;
	struct pe_info *p;
	unsigned long k, made;
	int r;

	for (k = 1;; k++) {
		freader_init_fn(&f, img_size, read_fn, img, win);
		alloc_fail_after(k);
		r = pe_parse(&f, &p);
		made = alloc_fail_after(0);
		if (made < k) {
			assert_int_equal(r, 0);
			assert_non_null(p);
			pe_free(p);
			break;
		}
		assert_int_equal(r, WARD_ENOMEM);
		assert_null(p);
	}
	assert_true(k > 5);
}

static void
test_alloc_failures(void **state)
{
	static const char *const kv[] = {"B", "1", "A", "2", "B", "3"};

	(void)state;
	build_imports();
	alloc_sweep();
	build_version(kv, 3);
	alloc_sweep();
}

int
main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_pe),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_sections_past_end),
		cmocka_unit_test(test_imports),
		cmocka_unit_test(test_exports),
		cmocka_unit_test(test_rich),
		cmocka_unit_test(test_resource_loop),
		cmocka_unit_test(test_version_dict),
		cmocka_unit_test(test_signatures),
		cmocka_unit_test(test_alloc_failures),
	};
	/* clang-format on */
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	free(img);
	return r;
}
