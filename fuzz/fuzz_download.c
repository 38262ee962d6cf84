/*
 * fuzz_download: what the agent accepts from a fleet server about content
 * to fetch — the check-in's "desired" object and a bundle download's
 * answer (head lines, body sizes) — and the promises the agent's file
 * handling rests on, checked after every step (a broken one traps):
 * an accepted digest is 64 lowercase hex digits and the URL the one path
 * built from it; a stored body byte lies inside the announced size; an
 * appended range starts where the part ends; COMPLETE means exactly the
 * announced size.
 *
 * The first input byte picks the mode.  Odd: the rest is a "desired"
 * object (JSON).  Even: two u32 (the part's length and the announced
 * size, reduced to have < size), then records of a u8 kind and a u16
 * length: kind 0 a head line of that many bytes, kind 1 that many body
 * bytes (times 4099, to reach large sizes), kind 2 the end of the
 * transfer (ok if the length is odd).
 */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "content/bundle.h"
#include "content/download.h"
#include "util/buf.h"
#include "util/limits.h"

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

static void
try_desired(const uint8_t *p, size_t n)
{
	json_t *o = json_loadb((const char *)p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	struct download_target t;
	struct ward_diag d;

	if (o == NULL)
		return;
	if (download_target_parse(o, &t, &d) == 0 && t.version != 0) {
		CHECK(download_sha_ok(t.sha256));
		CHECK(strspn(t.sha256, "0123456789abcdef") == 64);
		CHECK(t.size >= 1 && t.size <= BUNDLE_MAX_SIZE);
		CHECK(strncmp(t.url, DOWNLOAD_URL_PREFIX, strlen(DOWNLOAD_URL_PREFIX)) == 0);
		CHECK(strcmp(t.url + strlen(DOWNLOAD_URL_PREFIX), t.sha256) == 0);
		CHECK(t.version >= 1 && t.version <= BUNDLE_MAX_VERSION);
	}
	json_decref(o);
}

/* Where the part ends after what a was given. */
static uint64_t
part_end(const struct download_answer *a)
{
	return (a->plan == DOWNLOAD_APPEND ? a->have : 0) + a->body;
}

static void
check_plan(const struct download_answer *a)
{
	if (a->plan == DOWNLOAD_APPEND)
		CHECK(a->first == a->have && a->total == a->size && a->last + 1 == a->size);
	if (a->plan == DOWNLOAD_APPEND || a->plan == DOWNLOAD_RESTART)
		CHECK(part_end(a) <= a->size);
	CHECK(a->head <= WARD_MAX_DOWNLOAD_HEAD);
	CHECK(a->junk <= WARD_MAX_DOWNLOAD_JUNK);
}

static void
try_answer(const uint8_t *p, size_t n)
{
	struct download_answer a;
	struct rbuf b;
	uint32_t have, size;
	uint16_t len;
	uint8_t kind;
	const uint8_t *line;
	enum download_plan before, end;
	uint64_t stored;
	int r;

	rbuf_init(&b, p, n);
	if (rbuf_u32(&b, &have) != 0 || rbuf_u32(&b, &size) != 0)
		return;
	size = size % (1u << 30) + 1;
	have %= size;
	download_answer_init(&a, have, size);
	while (rbuf_u8(&b, &kind) == 0 && rbuf_u16(&b, &len) == 0) {
		switch (kind % 3) {
		case 0:
			if (rbuf_bytes(&b, len, &line) != 0)
				return;
			before = a.plan;
			r = download_answer_line(&a, line, len);
			if (before != DOWNLOAD_PENDING) /* decided once, for good */
				CHECK(a.plan == before);
			check_plan(&a);
			if (r != 0)
				goto end;
			break;
		case 1:
			stored = a.body;
			r = download_answer_body(&a, (size_t)len * 4099);
			CHECK(r == 1 ? a.body == stored + (uint64_t)len * 4099 : a.body == stored);
			check_plan(&a);
			if (r < 0)
				goto end;
			break;
		default:
			end = download_answer_end(&a, len & 1);
			CHECK(end == DOWNLOAD_COMPLETE || end == DOWNLOAD_KEEP ||
			      end == DOWNLOAD_DISCARD);
			if (end == DOWNLOAD_COMPLETE)
				CHECK(part_end(&a) == a.size);
			return;
		}
	}
end:
	end = download_answer_end(&a, 0);
	if (end == DOWNLOAD_COMPLETE)
		CHECK(part_end(&a) == a.size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		try_desired(data + 1, size - 1);
	else
		try_answer(data + 1, size - 1);
	return 0;
}
