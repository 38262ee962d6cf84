/*
 * fuzz_cond_verify: arbitrary bytes as the condition bytecode of rule 1 of a
 * small fixed rule set (rule 0 owns strings 0..1, rule 1 owns strings 2..4;
 * an integer and a string external).  cond_verify decides; whatever it
 * accepts is then run by ruleset_eval on a fixed file with fixed matches,
 * the modules' values and functions included (over the same file), and
 * again over a small ELF file, whose arrays give loops over module arrays
 * (COND_LOOP_ITEMS) items to walk.
 * Must never crash nor read out of bounds, whatever the bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/module.h"
#include "rules/cond.h"
#include "rules/ruleset.h"
#include "util/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fz_file[] = "MZ\x90\x00hello world, abcabc\x00\x01\x02\x03";

/* The file being evaluated, for uint8() and friends. */
struct fz_bytes {
	const uint8_t *p;
	size_t size;
};

static int
fz_read(void *arg, uint64_t off, void *buf, size_t n)
{
	const struct fz_bytes *b = arg;

	if (off > b->size || b->size - off < n)
		return -1;
	memcpy(buf, b->p + off, n);
	return 0;
}

/* A 64-bit ELF file: sections "", ".text", ".shstrtab", ".data"; segments
 * PT_LOAD and PT_NOTE (as tests/unit/rules/test_compile_module.c's). */
#define FZ_ELF_SIZE 456
static uint8_t fz_elf[FZ_ELF_SIZE];

static void
fz_le(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
fz_make_elf(void)
{
	static const char names[24] = "\0.text\0.shstrtab\0.data";
	static const uint32_t sec[4][4] = {
	    {0, 0, 0, 0}, {1, 1, 0, 100}, {7, 3, 176, 24}, {17, 1, 0, 0}};
	static const uint32_t seg[2][4] = {{1, 5, 0, FZ_ELF_SIZE}, {4, 4, 176, 24}};
	int i;

	memcpy(fz_elf,
	       "\x7f"
	       "ELF\x02\x01\x01",
	       7);
	fz_le(fz_elf + 16, 2, 2);
	fz_le(fz_elf + 18, 62, 2);
	fz_le(fz_elf + 20, 1, 4);
	fz_le(fz_elf + 32, 64, 8);
	fz_le(fz_elf + 40, 200, 8);
	fz_le(fz_elf + 52, 64, 2);
	fz_le(fz_elf + 54, 56, 2);
	fz_le(fz_elf + 56, 2, 2);
	fz_le(fz_elf + 58, 64, 2);
	fz_le(fz_elf + 60, 4, 2);
	fz_le(fz_elf + 62, 2, 2);
	for (i = 0; i < 2; i++) {
		fz_le(fz_elf + 64 + 56 * i, seg[i][0], 4);
		fz_le(fz_elf + 68 + 56 * i, seg[i][1], 4);
		fz_le(fz_elf + 72 + 56 * i, seg[i][2], 8);
		fz_le(fz_elf + 96 + 56 * i, seg[i][3], 8);
		fz_le(fz_elf + 104 + 56 * i, seg[i][3], 8);
	}
	memcpy(fz_elf + 176, names, sizeof(names));
	for (i = 1; i < 4; i++) {
		fz_le(fz_elf + 200 + 64 * i, sec[i][0], 4);
		fz_le(fz_elf + 204 + 64 * i, sec[i][1], 4);
		fz_le(fz_elf + 224 + 64 * i, sec[i][2], 8);
		fz_le(fz_elf + 232 + 64 * i, sec[i][3], 8);
	}
}

/* Runs rule 1 over (p, size) with the modules' state over it. */
static void
fz_eval(const struct ruleset *rs, struct rs_scan_env *env, struct mod_file *mf, const uint8_t *p,
	size_t size)
{
	struct fz_bytes b = {p, size};
	uint8_t results[2] = {1, 0};
	/*
	 * The step counter starts 2^16 steps before WARD_MAX_EVAL_STEPS so that
	 * huge loops reach the limit (and its WARD_ELIMIT path) within the
	 * fuzzer's timeout.
	 */
	uint64_t steps = WARD_MAX_EVAL_STEPS - (1u << 16);
	int res;

	mod_file_init(mf, p, size, NULL, NULL, NULL);
	env->filesize = size;
	env->read_arg = &b;
	env->mods = mf;
	(void)cond_eval(rs, 1, env, results, &steps, &res);
	mod_file_done(mf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rs_match m1[] = {{0, 2}, {5, 5}, {20, 3}}, m2[] = {{23, 3}};
	struct rs_matches mt[5] = {{m1, 3, 3}, {NULL, 0, 0}, {m1, 3, 3}, {m2, 1, 1}, {NULL, 0, 0}};
	struct rs_rule rules[2];
	struct rs_string strings[5];
	struct rs_external ext[2];
	struct ruleset rs;
	struct ward_diag d;
	struct rs_scan_env env = {mt, sizeof(fz_file) - 1, fz_read, NULL, NULL, NULL};
	static const uint8_t code0[] = {COND_PUSH_INT, 1, 0, 0, 0, 0, 0, 0, 0};
	static struct mod_file *mf;
	int i;

	if (size > (1u << 16))
		return 0;
	memset(&rs, 0, sizeof(rs));
	memset(rules, 0, sizeof(rules));
	memset(strings, 0, sizeof(strings));
	memset(ext, 0, sizeof(ext));
	rules[0].name = (char *)"r0";
	rules[0].str_first = 0;
	rules[0].str_count = 2;
	rules[0].code = (uint8_t *)code0;
	rules[0].code_len = sizeof(code0);
	rules[1].name = (char *)"r1";
	rules[1].flags = RS_RULE_GLOBAL;
	rules[1].str_first = 2;
	rules[1].str_count = 3;
	rules[1].code = (uint8_t *)data;
	rules[1].code_len = (uint32_t)size;
	for (i = 0; i < 5; i++) {
		strings[i].id = (char *)"$s";
		strings[i].rule = i < 2 ? 0 : 1;
	}
	ext[0].name = (char *)"ei";
	ext[0].type = RS_INT;
	ext[0].i = 3;
	ext[1].name = (char *)"es";
	ext[1].type = RS_STR;
	ext[1].s = (char *)"hello";
	ext[1].slen = 5;
	rs.rules = rules;
	rs.nrules = 2;
	rs.strings = strings;
	rs.nstrings = 5;
	rs.ext = ext;
	rs.next = 2;
	if (cond_verify(&rs, 0, &d) != 0)
		abort();
	if (cond_verify(&rs, 1, &d) != 0)
		return 0;
	/* Accepted: it must run to the end, over either file. */
	if (mf == NULL) {
		if ((mf = calloc(1, sizeof(*mf))) == NULL)
			return 0;
		fz_make_elf();
	}
	fz_eval(&rs, &env, mf, fz_file, sizeof(fz_file) - 1);
	fz_eval(&rs, &env, mf, fz_elf, FZ_ELF_SIZE);
	return 0;
}
