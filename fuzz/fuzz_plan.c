/*
 * fuzz_plan: the rollout plan parser (rollout_parse_plan: an operator's
 * JSON, stored with the release and read again at every tick), with the
 * promises the engine rests on checked after every input (a broken one
 * traps): a plan that is taken has 1 to ROLLOUT_MAX_RINGS rings, each
 * with a name, at most 8 terminated group names or a percentage within
 * 0..100, and bounded counts; the JSON the server stores for it
 * (rollout_plan_json) exists and reads back to the same plan, ring for
 * ring.  The parser touches no database.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/rollout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

static void
check_plan(const struct plan *p)
{
	unsigned i, k;

	CHECK(p->nrings >= 1 && p->nrings <= ROLLOUT_MAX_RINGS);
	for (i = 0; i < p->nrings; i++) {
		const struct ring_plan *r = &p->rings[i];

		CHECK(memchr(r->name, '\0', sizeof(r->name)) != NULL && r->name[0] != '\0');
		CHECK(r->ngroups <= 8);
		for (k = 0; k < r->ngroups; k++)
			CHECK(memchr(r->groups[k], '\0', sizeof(r->groups[k])) != NULL);
		CHECK(r->percent >= 0 && r->percent <= 100);
		CHECK(r->min >= 0 && r->max >= 0 && r->soak_s >= 0 && r->soak_s <= 30 * 86400);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plan p, again;
	struct ward_diag d;
	json_t *o;
	char *text;
	unsigned i;

	if (rollout_parse_plan((const char *)data, size, &p, &d) != 0)
		return 0;
	check_plan(&p);
	/* what rollout_create stores, and the engine parses at each tick */
	o = rollout_plan_json(&p);
	CHECK(o != NULL);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	CHECK(text != NULL);
	CHECK(rollout_parse_plan(text, strlen(text), &again, &d) == 0);
	free(text);
	CHECK(again.nrings == p.nrings);
	for (i = 0; i < p.nrings; i++) {
		CHECK(strcmp(again.rings[i].name, p.rings[i].name) == 0);
		CHECK(again.rings[i].ngroups == p.rings[i].ngroups);
		CHECK(memcmp(again.rings[i].groups, p.rings[i].groups, sizeof(p.rings[i].groups)) ==
		      0);
		CHECK(p.rings[i].ngroups > 0 || again.rings[i].percent == p.rings[i].percent);
		CHECK(again.rings[i].min == p.rings[i].min && again.rings[i].max == p.rings[i].max);
		CHECK(again.rings[i].soak_s == p.rings[i].soak_s);
	}
	CHECK(memcmp(&again.gate, &p.gate, sizeof(p.gate)) == 0);
	return 0;
}
