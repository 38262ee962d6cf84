/*
 * fuzz_except: the exceptions parser (a content member, the fleet's list,
 * the text form of wardd.yaml) and the glob matcher, with the promises the
 * agent rests on checked after every step (a broken one traps): what was
 * taken is within the limits; its text form and its JSON form read back to
 * the same exception; a glob without wildcards matches exactly itself.
 *
 * The first input byte picks the mode.  0: the rest is a bundle member
 * ({"exceptions": [...]}).  1: a JSON array of a kept list (with ids).
 * 2: a text form, then, after a NUL, a path: a glob that is taken is
 * matched against it (and against itself).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/except.h"
#include "util/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

/* Both other forms of e read back to the same exception. */
static void
round_trip(const struct except *e, unsigned flags)
{
	char text[WARD_MAX_EXCEPT_TEXT], again[WARD_MAX_EXCEPT_TEXT];
	struct except x;
	struct ward_diag d;
	json_t *o;

	except_format(e, text, sizeof(text));
	CHECK(strlen(text) + 1 < sizeof(text));
	CHECK(except_parse_text(text, &x, &d) == 0);
	except_format(&x, again, sizeof(again));
	CHECK(strcmp(text, again) == 0);
	except_clear(&x);
	o = except_to_json(e, flags);
	if (o == NULL)
		return;
	CHECK(except_from_json(o, flags, &x, &d) == 0);
	except_format(&x, again, sizeof(again));
	CHECK(strcmp(text, again) == 0);
	CHECK(x.id == ((flags & EXCEPT_IDS) ? e->id : 0));
	except_clear(&x);
	json_decref(o);
	if (e->glob != NULL) {
		CHECK(strlen(e->glob) <= WARD_MAX_EXCEPT_GLOB && e->glob[0] == '/');
		if (strpbrk(e->glob, "*?[\\") == NULL)
			CHECK(except_glob_match(e->glob, e->glob));
		(void)except_glob_match(e->glob, "/opt/vendor/lib/x.so");
	}
	CHECK(e->rule == NULL || strlen(e->rule) <= WARD_MAX_SIG_NAME);
	CHECK(e->reason == NULL || strlen(e->reason) <= WARD_MAX_EXCEPT_REASON);
}

static void
checked(const struct except_list *l, unsigned flags)
{
	unsigned i;

	CHECK(l->n <= WARD_MAX_EXCEPTIONS);
	for (i = 0; i < l->n; i++) {
		CHECK(l->v[i].id >= 1);
		CHECK(except_list_find_id(l, l->v[i].id) == (int)i);
		round_trip(&l->v[i], flags);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct except_list l;
	struct except e;
	struct ward_diag d;
	char *text;
	size_t n;

	if (size == 0)
		return 0;
	memset(&l, 0, sizeof(l));
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	n = size - 1;
	switch (data[0] % 3) {
	case 0:
		if (except_member_parse(&l, "fuzz.json", text, n, &d) == 0)
			checked(&l, 0);
		else
			CHECK(l.n == 0);
		break;
	case 1: {
		json_t *arr = json_loadb(text, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

		if (arr != NULL && except_list_from_json(&l, arr, EXCEPT_IDS, &d) == 0)
			checked(&l, EXCEPT_IDS);
		else
			CHECK(l.n == 0);
		json_decref(arr);
		break;
	}
	default:
		if (except_parse_text(text, &e, &d) == 0) {
			size_t k = strlen(text);

			round_trip(&e, 0);
			if (e.glob != NULL && k + 1 < n)
				(void)except_glob_match(e.glob, text + k + 1);
			except_clear(&e);
		}
		break;
	}
	except_list_free(&l);
	free(text);
	return 0;
}
