/*
 * Unit tests of lib/rules/compile_module (with the parser and the
 * interpreter): `for ... in` loops over module arrays and dictionaries —
 * yara 4.2.3's errors, with their line and column, for what cannot be
 * iterated, the wrong number of variables and variables used outside
 * their loop; the forms that compile; and their results on a hand-made
 * ELF file and a file of no module's format, as yara gives them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "modules/module.h"
#include "rules/compile.h"
#include "rules_helpers.h"
#include "util/alloc.h"

static const struct ccase errors[] = {
    {"import \"pe\" import \"elf\" rule r { condition: for any k, v in pe.sections : (true) }",
     WARD_ESYNTAX, 1, 62, "yields a single item on each iteration, but the loop expects 2"},
    {"import \"pe\" import \"elf\" rule r { condition: for any k in pe.version_info : (true) }",
     WARD_ESYNTAX, 1, 59, "yields a key,value pair item on each iteration"},
    {"import \"pe\" import \"elf\" rule r { condition: for any x in pe.machine : (true) }",
     WARD_ESEMANTIC, 1, 59, "identifier \"machine\" is not iterable"},
    {"import \"pe\" import \"elf\" rule r { condition: for any x in pe.sections[0] : (true) }",
     WARD_ESEMANTIC, 1, 59, "identifier \"sections\" is not iterable"},
    {"import \"pe\" import \"elf\" rule r { condition: for any x in pe.imports : (true) }",
     WARD_ESEMANTIC, 1, 59, "identifier \"imports\" is not iterable"},
    {"import \"pe\" import \"elf\" rule r { condition: for any x in pe : (true) }", WARD_ESEMANTIC,
     1, 59, "identifier \"pe\" is not iterable"},
    {"import \"pe\" import \"elf\" rule r { condition: for any x in elf.ET_EXEC : (true) }",
     WARD_ESEMANTIC, 1, 59, "identifier \"ET_EXEC\" is not iterable"},
    {"import \"pe\" import \"elf\" rule r { condition: for any x in eb : (true) }", WARD_ESEMANTIC,
     1, 59, "identifier \"eb\" is not iterable"},
    {"import \"pe\" import \"elf\" rule r { condition: for any x in nosuch : (true) }",
     WARD_EUNDEFINED, 1, 59, "undefined identifier \"nosuch\""},
    {"import \"pe\" import \"elf\" rule r { condition: for any s in pe.sections : (true) and "
     "s.name == \"x\" }",
     WARD_EUNDEFINED, 1, 84, "undefined identifier \"s\""},
    {"import \"pe\" import \"elf\" rule r { condition: for any s in pe.sections : (s == 1) }",
     WARD_ESEMANTIC, 1, 74, "wrong usage of identifier \"s\""},
    {"import \"pe\" import \"elf\" rule r { condition: for any s in pe.sections : (s.nope == 1) }",
     WARD_EUNDEFINED, 1, 75, "invalid field name \"nope\" in \"s\""},
    {"import \"pe\" import \"elf\" rule r { condition: for any i in (0..1) : (i.name == 1) }",
     WARD_ESEMANTIC, 1, 69, "\"i\" is not a structure"},
    {"import \"pe\" import \"elf\" rule r { condition: for any k, v in pe.version_info : (k.x == "
     "\"a\") }",
     WARD_ESEMANTIC, 1, 81, "\"k\" is not a structure"},
    {"import \"pe\" import \"elf\" rule r { condition: for any k, v in pe.version_info : (v.x == "
     "\"a\") }",
     WARD_ESEMANTIC, 1, 81, "\"v\" is not a structure"},
    {"import \"pe\" import \"elf\" rule r { condition: for any k, k in pe.version_info : (true) }",
     WARD_EDUPLICATE, 1, 46, "duplicated loop identifier \"k\""},
    {"import \"pe\" import \"elf\" rule r { condition: for any s in pe.sections : (for any t, s in "
     "pe.version_info : (true)) }",
     WARD_EDUPLICATE, 1, 74, "duplicated loop identifier \"s\""},
    {"import \"pe\" import \"elf\" rule r { condition: for any a, b, c in pe.version_info : (true) "
     "}",
     WARD_ESYNTAX, 1, 60, "too many loop variables"},
    {"import \"pe\" import \"elf\" rule r { condition: for any pe in pe.sections : (true) }",
     WARD_ESEMANTIC, 1, 60, "\"pe\" is not a structure"},
    {"import \"pe\" import \"elf\" rule r { condition: for any s in math.sections : (true) }",
     WARD_EUNDEFINED, 1, 59, "undefined identifier \"math\""},
    {"import \"pe\" import \"elf\" rule r { condition: for any s in pe.sections : (for any t in s "
     ": (true)) }",
     WARD_ESEMANTIC, 1, 87, "identifier \"s\" is not iterable"},
    {"import \"pe\" import \"elf\" rule r { condition: for \"a\" s in pe.sections : (true) }",
     WARD_ESEMANTIC, 1, 50, "integer expected"},
    {"import \"pe\" import \"elf\" rule r { condition: for any i, j in (1..2) : (true) }",
     WARD_ESYNTAX, 1, 62, "iterator yields an integer on each iteration, but the loop expects 2"},
    {"import \"pe\" import \"elf\" rule r { condition: for any i in dotnet.sections : (true) }",
     WARD_EUNSUPPORTED, 1, 59, "\"dotnet\" module is not supported"},
};

static void
test_errors(void **state)
{
	struct ward_diag d;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		r = compile_src(errors[i].src, NULL, &d);
		if (r != errors[i].err || d.line != errors[i].line || d.col != errors[i].col ||
		    strstr(d.msg, errors[i].msg) == NULL)
			fail_msg("case %zu (%s): got %d at %d:%d \"%s\", want %d at %d:%d (%s)", i,
				 errors[i].src, r, d.line, d.col, d.msg, errors[i].err,
				 errors[i].line, errors[i].col, errors[i].msg);
		if (strcmp(d.file, "t.yar") != 0)
			fail_msg("case %zu: file \"%s\"", i, d.file);
	}
}

static void
test_accepts(void **state)
{
	static const char *const ok[] = {
	    /* every quantifier, arrays of every module, nested */
	    "import \"pe\" import \"elf\" rule r { condition: for any s in pe.sections : "
	    "(s.name == \".text\" and s.raw_data_size > 0) and for all s in elf.sections : "
	    "(s.size >= 0) and for 2 g in elf.segments : (g.type == elf.PT_LOAD) and "
	    "for none x in pe.import_details : (x.library_name == \"kernel32.dll\") and "
	    "for ei s in elf.dynsym : (s.name != \"\") }",
	    "import \"pe\" rule r { condition: for any k, v in pe.version_info : "
	    "(k == \"CompanyName\" and v contains \"Microsoft\") and for any d in "
	    "pe.import_details : (for all f in d.functions : (f.name != d.library_name and "
	    "for any i in (0..1) : (f.ordinal > i))) and for any g in pe.signatures : "
	    "(g.valid_on(1600000000)) and for any i in (0..pe.number_of_imports) : (for any f "
	    "in pe.import_details[i].functions : (defined f.name)) }",
	    /* a loop's variables may shadow rules and externals */
	    "rule s { condition: true } import \"pe\" rule r { condition: s and "
	    "for any s in pe.resources : (s.length > ei) and for any ei in pe.sections : "
	    "(ei.name == es) }",
	};
	struct ward_diag d;
	struct ruleset *rs;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (compile_src(ok[i], &rs, &d) != 0)
			fail_msg("%s: %s:%d:%d: %s", ok[i], d.file, d.line, d.col, d.msg);
		ruleset_free(rs);
	}
}

/* Every allocation of compiling loops failed in turn: WARD_ENOMEM, and
 * nothing leaked (ASan). */
static void
test_alloc_sweep(void **state)
{
	const char *src =
	    "import \"pe\"\nrule c { condition: for any k, v in pe.version_info : (k == v and "
	    "for any d in pe.import_details : (for all f in d.functions : (f.name == v))) }\n";
	struct ward_diag d;
	struct ruleset *rs;
	unsigned long n, total;
	int r;

	(void)state;
	alloc_fail_after(0);
	assert_int_equal(compile_src(src, &rs, &d), 0);
	total = alloc_fail_after(0);
	ruleset_free(rs);
	assert_true(total > 10);
	for (n = 1; n <= total; n++) {
		alloc_fail_after(n);
		r = compile_src(src, &rs, &d);
		alloc_fail_after(0);
		if (r == 0) {
			ruleset_free(rs);
			continue;
		}
		if (r != WARD_ENOMEM)
			fail_msg("allocation %lu: got %d (%s)", n, r, d.msg);
	}
}

/*
 * A hand-made 64-bit ELF file (456 bytes): sections "" (null), ".text"
 * (PROGBITS, offset 0, size 100), ".shstrtab" (STRTAB, offset 176, size
 * 24), ".data" (PROGBITS, size 0); segments PT_LOAD (R+X, offset 0, the
 * whole file) and PT_NOTE (R, offset 176, size 24); no symbols.
 */
#define ELF_SIZE 456

static void
le(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
elf_section(uint8_t *b, int i, uint32_t name, uint32_t type, uint64_t flags, uint64_t off,
	    uint64_t size)
{
	uint8_t *h = b + 200 + 64 * i;

	le(h, name, 4);
	le(h + 4, type, 4);
	le(h + 8, flags, 8);
	le(h + 24, off, 8);
	le(h + 32, size, 8);
	le(h + 48, 1, 8);
}

static void
elf_segment(uint8_t *b, int i, uint32_t type, uint32_t flags, uint64_t off, uint64_t size)
{
	uint8_t *h = b + 64 + 56 * i;

	le(h, type, 4);
	le(h + 4, flags, 4);
	le(h + 8, off, 8);
	le(h + 32, size, 8);
	le(h + 40, size, 8);
	le(h + 48, 4, 8);
}

static void
make_elf(uint8_t *b)
{
	static const char names[24] = "\0.text\0.shstrtab\0.data";

	memset(b, 0, ELF_SIZE);
	memcpy(b,
	       "\x7f"
	       "ELF\x02\x01\x01",
	       7);
	le(b + 16, 2, 2);  /* ET_EXEC */
	le(b + 18, 62, 2); /* EM_X86_64 */
	le(b + 20, 1, 4);
	le(b + 24, 0x1000, 8);
	le(b + 32, 64, 8);  /* phoff */
	le(b + 40, 200, 8); /* shoff */
	le(b + 52, 64, 2);
	le(b + 54, 56, 2);
	le(b + 56, 2, 2);
	le(b + 58, 64, 2);
	le(b + 60, 4, 2);
	le(b + 62, 2, 2); /* shstrndx */
	elf_segment(b, 0, 1, 5, 0, ELF_SIZE);
	elf_segment(b, 1, 4, 4, 176, 24);
	memcpy(b + 176, names, sizeof(names));
	elf_section(b, 1, 1, 1, 6, 0, 100);
	elf_section(b, 2, 7, 3, 0, 176, 24);
	elf_section(b, 3, 17, 1, 3, 0, 0);
}

static const uint8_t *elf_bytes;

static int
rd_elf(void *arg, uint64_t off, void *buf, size_t n)
{
	(void)arg;
	if (off > ELF_SIZE || ELF_SIZE - off < n)
		return -1;
	memcpy(buf, elf_bytes + off, n);
	return 0;
}

/* cond over the file (p, size) with the modules' state: 1 match, 0 not. */
static int
eval_mod(const char *cond, const uint8_t *p, size_t size,
	 int (*read)(void *, uint64_t, void *, size_t))
{
	struct rs_scan_env env = {NULL, size, read, NULL, NULL, NULL};
	struct mod_file *mf = calloc(1, sizeof(*mf));
	struct ruleset *rs;
	struct ward_diag d;
	char src[1024];
	uint8_t res[1];

	assert_non_null(mf);
	snprintf(src, sizeof(src), "import \"elf\" import \"pe\" rule r { condition: %s }", cond);
	if (compile_src(src, &rs, &d) != 0)
		fail_msg("%s: %s", cond, d.msg);
	mod_file_init(mf, p, size, NULL, NULL, NULL);
	env.mods = mf;
	assert_int_equal(ruleset_eval(rs, &env, res), 0);
	mod_file_done(mf);
	free(mf);
	ruleset_free(rs);
	return res[0];
}

/* Loops over module arrays on the ELF file above and on a text file (its
 * elf arrays undefined, its pe arrays empty), each answer yara 4.2.3's
 * (the `for none` ones ward's, as yara 4.3 reads them: docs/rules.md). */
static void
test_module_loops(void **state)
{
	static const struct {
		const char *cond;
		int elf, text;
	} cases[] = {
	    {"for any s in elf.sections : (s.name == \".text\")", 1, 0},
	    {"for all s in elf.sections : (s.type != 8)", 1, 0},
	    {"for all s in elf.sections : (s.name != \"\")", 0, 0}, /* the null one's is "" */
	    {"for 2 s in elf.sections : (s.type == elf.SHT_PROGBITS)", 1, 0},
	    {"for 3 s in elf.sections : (s.type == elf.SHT_PROGBITS)", 0, 0},
	    {"for none s in elf.sections : (s.type == 8)", 1, 0}, /* empty: false */
	    {"for none s in elf.sections : (s.type == 1)", 0, 0},
	    {"not for any s in elf.sections : (true)", 0, 1},
	    {"not for all s in pe.sections : (false)", 1, 1}, /* no PE: no item */
	    {"for all g in elf.segments : (g.flags & elf.PF_R != 0)", 1, 0},
	    {"for any s in elf.sections : (for any g in elf.segments : (g.type == elf.PT_NOTE "
	     "and s.offset == g.offset and s.name == \".shstrtab\"))",
	     1, 0},
	    {"for any s in elf.sections : (for any i in (0..1) : (elf.segments[i].file_size == "
	     "s.size and s.size == 24))",
	     1, 0},
	    {"for any i in (0..1) : (for all g in elf.segments : (g.offset >= i))", 1, 0},
	    /* a body undefined for one item (a read past the end) counts false */
	    {"for all s in elf.sections : (uint8(s.offset + 400) < 256)", 0, 0},
	    {"for 3 s in elf.sections : (uint8(s.offset + 400) < 256)", 1, 0},
	    /* an undefined N means all; N <= 0 is true once there is an item */
	    {"for elf.symtab_entries s in elf.sections : (s.type < 100)", 1, 0},
	    {"for 0 s in elf.sections : (false)", 1, 0},
	    {"for -1 s in elf.sections : (false)", 1, 0},
	    {"for 0 s in elf.symtab : (false)", 0, 0},
	    {"for any s in elf.dynsym : (true)", 0, 0},
	    /* the loop variables shadow nothing outside their loop */
	    {"for any s in elf.sections : (s.size == 24) and for all s in elf.segments : "
	     "(s.alignment > 0)",
	     1, 0},
	};
	static const char text[] = "just some text, no ELF here";
	uint8_t *b = malloc(ELF_SIZE);
	size_t i;

	(void)state;
	assert_non_null(b);
	make_elf(b);
	elf_bytes = b;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (eval_mod(cases[i].cond, b, ELF_SIZE, rd_elf) != cases[i].elf)
			fail_msg("%s: want %d on the ELF file", cases[i].cond, cases[i].elf);
		if (eval_mod(cases[i].cond, (const uint8_t *)text, sizeof(text) - 1, NULL) !=
		    cases[i].text)
			fail_msg("%s: want %d on a text file", cases[i].cond, cases[i].text);
	}
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_accepts),
	    cmocka_unit_test(test_alloc_sweep),
	    cmocka_unit_test(test_module_loops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
