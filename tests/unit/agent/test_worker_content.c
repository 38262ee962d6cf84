/*
 * Unit tests of agent/worker_content: a refusal's cause is decided on
 * typed values (the admission's cause, the validator's result), never on
 * the words of the message — content whose error reads like "out of
 * memory" is still the content's fault; each refusal is worded with its
 * kind, cut to the room given; content is built only from an image that
 * verifies, and a damaged or truncated image, or a failed allocation,
 * leaves nothing behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/worker_content.h"
#include "util/alloc.h"

static void
test_cause_is_typed(void **state)
{
	static const struct {
		enum admit_cause admit;
		int validator_r;
		enum refusal_cause want;
	} cases[] = {
	    {ADMIT_FORMAT, 0, CAUSE_FORMAT},
	    {ADMIT_SIGNATURE, 0, CAUSE_SIGNATURE},
	    {ADMIT_VERSION, 0, CAUSE_VERSION},
	    {ADMIT_EXPIRED, 0, CAUSE_EXPIRED},
	    {ADMIT_AGENT_VERSION, 0, CAUSE_AGENT_VERSION},
	    /* the validator hit a host limit, or could not start: not the content */
	    {ADMIT_VALIDATION, WARD_ELIMIT, CAUSE_RESOURCES},
	    {ADMIT_VALIDATION, WARD_ENOMEM, CAUSE_RESOURCES},
	    {ADMIT_VALIDATION, WARD_EIO, CAUSE_RESOURCES},
	    /* the content's own errors */
	    {ADMIT_VALIDATION, WARD_ESYNTAX, CAUSE_VALIDATION},
	    {ADMIT_VALIDATION, WARD_EVERIFY, CAUSE_VALIDATION},
	    {ADMIT_VALIDATION, WARD_EPROTO, CAUSE_VALIDATION},
	    {ADMIT_VALIDATION, 0, CAUSE_VALIDATION}, /* its result refused after */
	    /* a signature refusal is one, whatever the validator said */
	    {ADMIT_SIGNATURE, WARD_ENOMEM, CAUSE_SIGNATURE},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (worker_refusal_cause(cases[i].admit, cases[i].validator_r) != cases[i].want)
			fail_msg("case %zu: %d/%d gives %d, not %d", i, (int)cases[i].admit,
				 cases[i].validator_r,
				 (int)worker_refusal_cause(cases[i].admit, cases[i].validator_r),
				 (int)cases[i].want);
	}
}

static void
test_text(void **state)
{
	struct admit_verdict v;
	char reason[600], small[16];

	(void)state;
	memset(&v, 0, sizeof(v));
	v.cause = ADMIT_FORMAT;
	diag_set(&v.diag, WARD_EFORMAT, "manifest.json", 3, 7, "bad key");
	worker_refusal_text(&v, NULL, reason, sizeof(reason));
	{
		char want[600];

		diag_format(&v.diag, want + 16, sizeof(want) - 16);
		memcpy(want, "invalid bundle: ", 16);
		assert_string_equal(reason, want); /* the words for people, exactly */
	}
	v.cause = ADMIT_SIGNATURE;
	worker_refusal_text(&v, "ignored", reason, sizeof(reason));
	assert_string_equal(reason, "signature check failed: bad key");
	v.cause = ADMIT_VALIDATION;
	worker_refusal_text(&v, "validation failed: rule r1: syntax", reason, sizeof(reason));
	assert_string_equal(reason, "validation failed: rule r1: syntax");
	/* no account from the validator: the admission's own */
	worker_refusal_text(&v, "", reason, sizeof(reason));
	{
		char want[600];

		diag_format(&v.diag, want, sizeof(want));
		assert_string_equal(reason, want);
	}
	v.cause = ADMIT_EXPIRED;
	worker_refusal_text(&v, NULL, small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1); /* cut, terminated */
}

static void
test_from_hostile_image(void **state)
{
	static const uint8_t junk[] = "WRS1 this is no compiled image at all";
	uint8_t *big;
	struct active *a = (struct active *)&a;
	struct ward_diag d;
	size_t i;

	(void)state;
	assert_int_not_equal(worker_content_from_image(junk, sizeof(junk), "x", 5, &a, &d), 0);
	assert_null(a);
	a = (struct active *)&a;
	assert_int_not_equal(worker_content_from_image(junk, 0, "x", 5, &a, &d), 0);
	assert_null(a);
	/* every prefix of a junk image, and a large zeroed one */
	for (i = 0; i < sizeof(junk); i++) {
		assert_int_not_equal(worker_content_from_image(junk, i, "x", 5, &a, &d), 0);
		assert_null(a);
	}
	big = calloc(1, 1 << 16);
	assert_non_null(big);
	assert_int_not_equal(worker_content_from_image(big, 1 << 16, "x", 5, &a, &d), 0);
	assert_null(a);
	free(big);
	/* out of memory at once: said so, nothing built */
	alloc_fail_after(1);
	assert_int_equal(worker_content_from_image(junk, sizeof(junk), "x", 5, &a, &d),
			 WARD_ENOMEM);
	alloc_fail_after(0);
	assert_null(a);
	worker_content_free(NULL);
}

static void
test_from_store_missing(void **state)
{
	struct store_entry e;
	struct active *a = (struct active *)&a;
	struct ward_diag d;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.present = 1;
	e.version = 7;
	assert_int_not_equal(worker_content_from_store("/nonexistent-ward-state", &e, &a, &d), 0);
	assert_null(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cause_is_typed),
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_from_hostile_image),
	    cmocka_unit_test(test_from_store_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
