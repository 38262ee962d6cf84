/* Unit tests of lib/modules/module: the registry, and every module's names
 * against its signatures — what the compiler resolves is what the
 * verifier and the interpreter accept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "modules/module.h"

static int
letters_ok(const char *s, const char *allowed)
{
	if (s == NULL)
		return 1;
	for (; *s != '\0'; s++)
		if (strchr(allowed, *s) == NULL)
			return 0;
	return 1;
}

/* Checks members (at depth, after nidx indexes on the way). */
static void
check_members(const struct module *m, const struct mod_member *mb, size_t nidx, int depth)
{
	const struct mod_member *o;
	const uint16_t *f;

	assert_true(depth < 4);
	for (; mb->name != NULL; mb++) {
		for (o = mb + 1; o->name != NULL; o++)
			if (strcmp(o->name, mb->name) == 0)
				fail_msg("%s: \"%s\" twice", m->name, mb->name);
		switch (mb->kind) {
		case MOD_CONST:
			break;
		case MOD_STRUCT:
			check_members(m, mb->fields, nidx, depth + 1);
			break;
		case MOD_ARRAY:
		case MOD_DICT:
			if (mb->elem == MOD_STRUCT) {
				check_members(m, mb->fields, nidx + 1, depth + 1);
				break;
			}
			/* an array of values has an id, as a value does */
			/* fall through */
		case MOD_INT:
		case MOD_FLOAT:
		case MOD_STR:
			if (mb->id == 0 || mb->id >= m->nvalues)
				fail_msg("%s.%s: value id %u outside 1..%u", m->name, mb->name,
					 mb->id, m->nvalues);
			{
				const struct mod_sig *s = &m->values[mb->id];
				size_t k = mb->kind == MOD_ARRAY || mb->kind == MOD_DICT ? 1 : 0;

				assert_non_null(strchr("ifs", s->ret));
				assert_true(letters_ok(s->idx, "is"));
				if (strlen(s->idx) != nidx + k)
					fail_msg("%s.%s: %zu indexes on its way, signature \"%s\"",
						 m->name, mb->name, nidx + k, s->idx);
			}
			break;
		case MOD_FUNC:
			assert_non_null(mb->funcs);
			assert_true(mb->funcs[0] != 0);
			for (f = mb->funcs; *f != 0; f++) {
				const struct mod_sig *s;

				if (*f >= m->nfuncs)
					fail_msg("%s.%s: function id %u", m->name, mb->name, *f);
				s = &m->funcs[*f];
				assert_non_null(strchr("ifs", s->ret));
				assert_true(letters_ok(s->args, "ifsbr"));
				assert_true(strlen(s->idx) + strlen(s->args) <= MOD_MAX_ARGS);
				assert_int_equal(strlen(s->idx), nidx);
			}
			break;
		default:
			fail_msg("%s.%s: kind %d", m->name, mb->name, mb->kind);
		}
	}
}

static void
test_registry(void **state)
{
	static const char *const names[] = {"pe", "elf", "math", "hash", "time"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct module *m = mod_find(names[i]);

		assert_non_null(m);
		assert_ptr_equal(mod_get(m->id), m);
		assert_true(mod_known(names[i]));
		assert_non_null(m->members);
		check_members(m, m->members, 0, 0);
	}
	assert_null(mod_find("dotnet"));
	assert_true(mod_known("dotnet"));
	assert_false(mod_known("nosuch"));
	assert_null(mod_get(0));
	assert_null(mod_get(MOD_ID_MAX_));
	assert_null(mod_get(255));
}

/* A module's per-file state: loaded at most once, freed with the file. */
static void
test_file_state(void **state)
{
	static const uint8_t data[] = "\x7f"
				      "ELF not really";
	const struct module *elf = mod_find("elf");
	struct mod_file *mf = test_calloc(1, sizeof(*mf));

	(void)state;
	mod_file_init(mf, data, sizeof(data) - 1, NULL, NULL, NULL);
	assert_null(mod_file_data(mf, elf)); /* not an ELF file it can parse */
	assert_int_equal(mf->loaded[MOD_ID_ELF], 1);
	assert_null(mod_file_data(mf, elf));
	mod_file_done(mf);
	assert_int_equal(mf->loaded[MOD_ID_ELF], 0);
	test_free(mf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registry),
	    cmocka_unit_test(test_file_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
