/*
 * fuzz_answer: the agent's parser of the fleet server's check-in answer.
 * An answer that parses must hold only checked values, encode, and parse
 * again from its encoding to the same typed values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/checkin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct checkin_answer a, again;
	struct ward_diag d;
	json_t *o;

	if (checkin_answer_parse((const char *)data, size, &a, &d) != 0)
		return 0;
	if (a.next_checkin_s < 0 || a.next_checkin_s > CHECKIN_MAX_INTERVAL_S ||
	    a.events_acked < 0 || a.events_batch_max < 0 || a.events_batch_max > CHECKIN_MAX_BATCH)
		abort();
	if (a.desired_state == CHECKIN_DESIRED_OK && a.desired.version > 0 &&
	    (!download_sha_ok(a.desired.sha256) || a.desired.size == 0))
		abort(); /* nothing unchecked is offered */
	if (a.desired_state != CHECKIN_DESIRED_OK && (a.desired.version != 0 || a.desired.url[0]))
		abort();
	o = checkin_answer_encode(&a);
	if (o == NULL || checkin_answer_check(o, &again, &d) != 0)
		abort(); /* what the server would send reads back */
	if (again.next_checkin_s != a.next_checkin_s || again.events_acked != a.events_acked ||
	    again.events_batch_max != a.events_batch_max ||
	    again.checkin_interval_s != a.checkin_interval_s ||
	    (a.desired_state == CHECKIN_DESIRED_OK &&
	     memcmp(&again.desired, &a.desired, sizeof(a.desired)) != 0))
		abort();
	json_decref(o);
	checkin_answer_free(&again);
	checkin_answer_free(&a);
	return 0;
}
