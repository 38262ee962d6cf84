/*
 * fuzz_cond_verify: arbitrary bytes as the condition bytecode of rule 1 of a
 * small fixed rule set (rule 0 owns strings 0..1, rule 1 owns strings 2..4;
 * an integer and a string external).  cond_verify decides; whatever it
 * accepts is then run by ruleset_eval on a fixed file with fixed matches,
 * the modules' values and functions included (over the same file).
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

static int
fz_read(void *arg, uint64_t off, void *buf, size_t n)
{
	(void)arg;
	if (off > sizeof(fz_file) - 1 || sizeof(fz_file) - 1 - off < n)
		return -1;
	memcpy(buf, fz_file + off, n);
	return 0;
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
	uint8_t results[2];
	uint64_t steps;
	int i, res;

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
	/*
	 * Accepted: it must run to the end.  The step counter starts 2^16 steps
	 * before WARD_MAX_EVAL_STEPS so that huge loops reach the limit (and its
	 * WARD_ELIMIT path) within the fuzzer's timeout.
	 */
	results[0] = 1;
	steps = WARD_MAX_EVAL_STEPS - (1u << 16);
	if (mf == NULL && (mf = calloc(1, sizeof(*mf))) == NULL)
		return 0;
	mod_file_init(mf, fz_file, sizeof(fz_file) - 1, NULL, NULL, NULL);
	env.mods = mf;
	(void)cond_eval(&rs, 1, &env, results, &steps, &res);
	mod_file_done(mf);
	return 0;
}
