/*
 * fuzz_report: the fleet server's parser of agents' check-in reports.
 * A report that parses must be bounded and parse again, from what the
 * server would store and from report_encode's text, to the same typed
 * values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report r, again;
	struct ward_diag d;
	json_t *enc;
	char *text;
	unsigned i;

	if (report_parse((const char *)data, size, &r, &d) != 0)
		return 0;
	text = json_dumps(r.normal, JSON_COMPACT);
	if (text == NULL || strlen(text) > 2 * WARD_MAX_CHECKIN_BYTES)
		abort(); /* what is stored is bounded */
	if (report_parse(text, strlen(text), &again, &d) != 0)
		abort(); /* what is stored reads back */
	if (again.current != r.current || again.lkg != r.lkg || again.nrefusals != r.nrefusals ||
	    again.ncrashes != r.ncrashes)
		abort();
	/* what is shown of the content is stored as its typed values */
	if (strcmp(again.current_shown.name, r.current_shown.name) != 0 ||
	    again.current_shown.activated_at != r.current_shown.activated_at ||
	    again.current_shown.expires != r.current_shown.expires ||
	    strcmp(again.lkg_shown.name, r.lkg_shown.name) != 0 ||
	    again.lkg_shown.activated_at != r.lkg_shown.activated_at ||
	    again.lkg_shown.expires != r.lkg_shown.expires)
		abort();
	for (i = 0; i < r.nrefusals; i++)
		if (again.refusals[i].version != r.refusals[i].version ||
		    again.refusals[i].cause != r.refusals[i].cause)
			abort();
	free(text);
	report_free(&again);
	/* what an agent would send of these typed values reads back too */
	enc = report_encode(&r);
	text = enc != NULL ? json_dumps(enc, JSON_COMPACT) : NULL;
	if (text == NULL || report_parse(text, strlen(text), &again, &d) != 0)
		abort();
	if (again.current != r.current || again.lkg != r.lkg || again.nrefusals != r.nrefusals ||
	    again.ncrashes != r.ncrashes ||
	    again.current_shown.expires != r.current_shown.expires ||
	    strcmp(again.current_shown.name, r.current_shown.name) != 0)
		abort();
	free(text);
	json_decref(enc);
	report_free(&again);
	report_free(&r);
	return 0;
}
