/* Unit tests of lib/modules/mod_pe, the `pe` module over the parser: is_pe
 * and the constants defined for a file that is not a PE while every other
 * value is undefined; a minimal PE's header values, sections[] in and out
 * of range, functions; a failed allocation in load.  Every answer is held
 * against yara by tests/diff/modules.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "modules/mod_pe.h"
#include "modules/mod_pe_int.h"
#include "util/alloc.h"
#include "util/err.h"

#define LFANEW 0x80
#define OPT (LFANEW + 24)
#define SECTAB (OPT + 224)
#define RAW 0x200
#define VA 0x1000
#define SIZE 0x400

static uint8_t img[SIZE];

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

/* A 32-bit DLL: one section ".text" mapping [RAW, SIZE) at VA. */
static void
build(void)
{
	memset(img, 0, sizeof(img));
	put16(0, 0x5A4D);
	put32(60, LFANEW);
	put32(LFANEW, 0x00004550);
	put16(LFANEW + 4, 0x14c);
	put16(LFANEW + 6, 1);
	put16(LFANEW + 20, 224);
	put16(LFANEW + 22, 0x2102);
	put16(OPT, 0x10b);
	put32(OPT + 16, VA + 0x10);
	put32(OPT + 28, 0x400000);
	put32(OPT + 32, 0x1000);
	put32(OPT + 36, 0x200);
	put32(OPT + 56, VA + SIZE);
	put32(OPT + 60, RAW);
	put16(OPT + 68, 2);
	put32(OPT + 92, 16);
	memcpy(img + SECTAB, ".text", 5);
	put32(SECTAB + 8, SIZE - RAW);
	put32(SECTAB + 12, VA);
	put32(SECTAB + 16, SIZE - RAW);
	put32(SECTAB + 20, RAW);
	put32(SECTAB + 36, 0x60000020);
}

static void
value(struct mod_file *mf, uint16_t id, int64_t index, struct mod_value *out)
{
	struct mod_arg idx[MOD_MAX_ARGS];
	void *data = mod_file_data(mf, &mod_pe);

	memset(idx, 0, sizeof(idx));
	idx[0].i = index;
	memset(out, 0, sizeof(*out));
	out->buf = mf->sbuf[0];
	assert_non_null(data);
	mod_pe.value(data, id, idx, out);
}

static void
call(struct mod_file *mf, uint16_t id, const struct mod_arg *args, struct mod_value *out)
{
	void *data = mod_file_data(mf, &mod_pe);

	memset(out, 0, sizeof(*out));
	out->buf = mf->sbuf[0];
	assert_non_null(data);
	mod_pe.call(data, &mf->f, id, args, out);
}

static void
test_constants(void **state)
{
	const struct mod_member *m;

	(void)state;
	mod_pe_init();
	m = mod_member_find(mod_pe.members, "MACHINE_AMD64");
	assert_non_null(m);
	assert_int_equal(m->kind, MOD_CONST);
	assert_int_equal(m->value, 0x8664);
	assert_int_equal(mod_member_find(mod_pe.members, "IMPORT_ANY")->value, -1);
	assert_int_equal(mod_member_find(mod_pe.members, "DLL")->value, 0x2000);
	m = mod_member_find(mod_pe.members, "version_info");
	assert_int_equal(m->kind, MOD_DICT);
	assert_string_equal(mod_pe.values[m->id].idx, "s");
	m = mod_member_find(mod_pe.members, "import_details");
	m = mod_member_find(mod_member_find(m->fields, "functions")->fields, "name");
	assert_string_equal(mod_pe.values[m->id].idx, "ii");
}

/* Every array and dictionary can be looped over: its count is an integer
 * value with the indexes on its way (import_details[i].functions: one),
 * and a dictionary's key by position a string after them. */
static void
walk_arrays(const struct mod_member *mb, const char *idx)
{
	char sub[MOD_MAX_ARGS + 1];

	for (; mb != NULL && mb->name != NULL; mb++) {
		if (mb->kind != MOD_ARRAY && mb->kind != MOD_DICT && mb->kind != MOD_STRUCT)
			continue;
		if (mb->kind == MOD_STRUCT) {
			walk_arrays(mb->fields, idx);
			continue;
		}
		assert_true(mb->len_id > 0 && mb->len_id < mod_pe.nvalues);
		assert_int_equal(mod_pe.values[mb->len_id].ret, 'i');
		assert_string_equal(mod_pe.values[mb->len_id].idx, idx);
		snprintf(sub, sizeof(sub), "%s%c", idx, mb->kind == MOD_ARRAY ? 'i' : 's');
		if (mb->kind == MOD_DICT) {
			assert_int_equal(mod_pe.values[mb->key_id].ret, 's');
			assert_int_equal(strlen(mod_pe.values[mb->key_id].idx), strlen(idx) + 1);
		}
		walk_arrays(mb->fields, sub);
	}
}

static void
test_iterable(void **state)
{
	(void)state;
	mod_pe_init();
	walk_arrays(mod_pe.members, "");
}

static void
test_not_pe(void **state)
{
	static const uint8_t text[] = "not a PE file at all";
	struct mod_file *mf = test_calloc(1, sizeof(*mf));
	struct mod_arg args[MOD_MAX_ARGS];
	struct mod_value v;

	(void)state;
	memset(args, 0, sizeof(args));
	mod_file_init(mf, text, sizeof(text) - 1, NULL, NULL, NULL);
	value(mf, V_IS_PE, 0, &v);
	assert_true(v.defined);
	assert_int_equal(v.i, 0);
	value(mf, V_MACHINE, 0, &v);
	assert_false(v.defined);
	value(mf, V_NUMBER_OF_SIGNATURES, 0, &v);
	assert_false(v.defined);
	value(mf, V_SEC_NAME, 0, &v);
	assert_false(v.defined);
	/* no array has items: loops over them run none */
	value(mf, V_SEC_COUNT, 0, &v);
	assert_false(v.defined);
	value(mf, V_VI_COUNT, 0, &v);
	assert_false(v.defined);
	call(mf, F_IS_DLL, args, &v);
	assert_false(v.defined);
	call(mf, F_IMPHASH, args, &v);
	assert_false(v.defined);
	mod_file_done(mf);
	test_free(mf);
}

static void
test_minimal(void **state)
{
	struct mod_file *mf = test_calloc(1, sizeof(*mf));
	struct mod_arg args[MOD_MAX_ARGS];
	struct mod_value v;

	(void)state;
	build();
	memset(args, 0, sizeof(args));
	mod_file_init(mf, img, sizeof(img), NULL, NULL, NULL);
	value(mf, V_IS_PE, 0, &v);
	assert_int_equal(v.i, 1);
	value(mf, V_MACHINE, 0, &v);
	assert_true(v.defined);
	assert_int_equal(v.i, 0x14c);
	value(mf, V_ENTRY_POINT, 0, &v);
	assert_int_equal(v.i, RAW + 0x10);
	value(mf, V_BASE_OF_DATA, 0, &v);
	assert_true(v.defined);
	value(mf, V_SEC_NAME, 0, &v);
	assert_true(v.defined);
	assert_int_equal(v.slen, 5);
	assert_memory_equal(v.s, ".text", 5);
	value(mf, V_SEC_RAW_DATA_OFFSET, 0, &v);
	assert_int_equal(v.i, RAW);
	value(mf, V_SEC_NAME, 1, &v);
	assert_false(v.defined);
	value(mf, V_SEC_NAME, -1, &v);
	assert_false(v.defined);
	value(mf, V_DD_SIZE, 16, &v);
	assert_false(v.defined);
	/* what loops over its arrays see: one section, 16 directories, the
	 * rest empty; functions of a DLL that is not there undefined */
	value(mf, V_SEC_COUNT, 0, &v);
	assert_true(v.defined);
	assert_int_equal(v.i, 1);
	value(mf, V_DD_COUNT, 0, &v);
	assert_int_equal(v.i, 16);
	value(mf, V_IMP_COUNT, 0, &v);
	assert_true(v.defined);
	assert_int_equal(v.i, 0);
	value(mf, V_IMP_FN_COUNT, 0, &v);
	assert_false(v.defined);
	value(mf, V_DIMP_COUNT, 0, &v);
	assert_true(v.defined);
	assert_int_equal(v.i, 0);
	value(mf, V_VI_COUNT, 0, &v);
	assert_int_equal(v.i, 0);
	value(mf, V_VI_KEY_AT, 0, &v);
	assert_false(v.defined);
	value(mf, V_SIG_COUNT, 0, &v);
	assert_true(v.defined);
	assert_int_equal(v.i, 0);
	call(mf, F_IS_DLL, args, &v);
	assert_true(v.defined && v.i != 0);
	call(mf, F_IS_32BIT, args, &v);
	assert_int_equal(v.i, 1);
	args[0].i = VA + 4;
	call(mf, F_RVA_TO_OFFSET, args, &v);
	assert_int_equal(v.i, RAW + 4);
	args[0].s = (const uint8_t *)".text\0x";
	args[0].slen = 7; /* cut at the NUL, as YARA's C strings */
	call(mf, F_SECTION_INDEX_S, args, &v);
	assert_true(v.defined);
	assert_int_equal(v.i, 0);
	mod_file_done(mf);
	test_free(mf);
}

static void
test_load_out_of_memory(void **state)
{
	struct mod_file *mf = test_calloc(1, sizeof(*mf));
	unsigned n;

	(void)state;
	build();
	for (n = 1; n <= 8; n++) {
		mod_file_init(mf, img, sizeof(img), NULL, NULL, NULL);
		alloc_fail_after(n);
		(void)mod_file_data(mf, &mod_pe); /* NULL or whole: never half */
		alloc_fail_after(0);
		mod_file_done(mf); /* nothing leaks (cmocka checks) */
	}
	test_free(mf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_constants),
	    cmocka_unit_test(test_iterable),
	    cmocka_unit_test(test_not_pe),
	    cmocka_unit_test(test_minimal),
	    cmocka_unit_test(test_load_out_of_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
