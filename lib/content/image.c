/*
 * image: the compiled content image.  See image.h for the layout.
 *
 * Must hold: no section is read before the whole image's magic, format,
 * length and checksum are accepted; each section is read only by its
 * module's checked decoder (through the sized reader) and must be
 * consumed exactly; nothing here parses text.
 */
#include "content/image.h"
#include "crypto/digest.h"
#include "scan/rulefile.h"
#include "util/limits.h"

#include <string.h>

#define HEADER_LEN (8 + 4 + 8 + 32)

enum { SEC_RULES, SEC_SIGMA, SEC_FIM, SEC_EXCEPTIONS, SEC_COUNT };

static const char *const section_names[SEC_COUNT] = {"rules", "process rules", "FIM policy",
						     "exceptions"};

int
content_image_assemble(const uint8_t *rules, size_t rules_len, const struct content_set *cs,
		       struct wbuf *out, struct ward_diag *d)
{
	struct wbuf payload, sec;
	uint8_t md[32];
	int i, r = 0;

	wbuf_init(&payload);
	wbuf_lenbytes(&payload, rules, rules_len);
	for (i = SEC_SIGMA; i < SEC_COUNT && r == 0; i++) {
		wbuf_init(&sec);
		if (i == SEC_SIGMA)
			r = sigma_set_encode(cs->sigma, &sec);
		else if (i == SEC_FIM)
			r = fim_watch_encode(&cs->fim, &sec);
		else
			r = except_list_encode(&cs->exc, &sec);
		if (r == 0)
			wbuf_lenbytes(&payload, sec.p, sec.len);
		if (r == 0 && payload.err != 0)
			r = payload.err;
		if (r != 0)
			diag_set(d, r, NULL, 0, 0, "cannot encode the %s: %s", section_names[i],
				 ward_strerror(r));
		wbuf_free(&sec);
	}
	if (r == 0 && payload.err != 0)
		r = diag_set(d, payload.err, NULL, 0, 0, "out of memory");
	if (r != 0)
		goto out;
	if ((r = digest_buf(DIGEST_SHA256, payload.p, payload.len, md, sizeof(md))) != 0) {
		r = diag_set(d, r, NULL, 0, 0, "cannot hash the compiled content");
		goto out;
	}
	wbuf_put(out, CONTENT_IMAGE_MAGIC, 8);
	wbuf_u32(out, CONTENT_IMAGE_FORMAT);
	wbuf_u64(out, payload.len);
	wbuf_put(out, md, sizeof(md));
	wbuf_put(out, payload.p, payload.len);
	if (out->err != 0)
		r = diag_set(d, out->err, NULL, 0, 0, "out of memory");
out:
	wbuf_free(&payload);
	return r;
}

int
content_image_encode(const struct content_set *cs, struct wbuf *out, struct ward_diag *d)
{
	struct wbuf rules;
	int r;

	wbuf_init(&rules);
	if ((r = rulefile_image(cs->rs, cs->hs, cs->m, &rules, d)) == 0)
		r = content_image_assemble(rules.p, rules.len, cs, out, d);
	wbuf_free(&rules);
	return r;
}

/* Checks the header and checksum; *payload is the checked payload. */
static int
check_whole(const uint8_t *p, size_t n, struct rbuf *payload, struct ward_diag *d)
{
	const uint8_t *magic, *sum, *pl;
	uint32_t format;
	uint64_t plen;
	uint8_t md[32];
	struct rbuf b;

	rbuf_init(&b, p, n);
	if (n > WARD_MAX_COMPILED_SIZE || rbuf_bytes(&b, 8, &magic) != 0 ||
	    memcmp(magic, CONTENT_IMAGE_MAGIC, 8) != 0)
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "not a compiled ward content image");
	if (rbuf_u32(&b, &format) != 0 || rbuf_u64(&b, &plen) != 0 || rbuf_bytes(&b, 32, &sum) != 0)
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "truncated compiled content header");
	if (format != CONTENT_IMAGE_FORMAT)
		return diag_set(d, WARD_EVERSION, NULL, 0, 0,
				"compiled content format %u is not supported by this ward (format "
				"%d)",
				format, CONTENT_IMAGE_FORMAT);
	if (plen != rbuf_left(&b) || rbuf_bytes(&b, (size_t)plen, &pl) != 0)
		return diag_set(d, WARD_ECHECKSUM, NULL, 0, 0,
				"compiled content is damaged: %llu bytes of payload expected, %zu "
				"present",
				(unsigned long long)plen, n - HEADER_LEN);
	if (digest_buf(DIGEST_SHA256, pl, (size_t)plen, md, sizeof(md)) != 0 ||
	    !digest_equal(md, sum, sizeof(md)))
		return diag_set(d, WARD_ECHECKSUM, NULL, 0, 0,
				"compiled content is damaged (checksum mismatch)");
	rbuf_init(payload, pl, (size_t)plen);
	return 0;
}

int
content_image_rules(const uint8_t *p, size_t n, const uint8_t **rules, size_t *rules_len,
		    struct ward_diag *d)
{
	struct rbuf pl;
	int r;

	*rules = NULL;
	*rules_len = 0;
	diag_clear(d);
	if ((r = check_whole(p, n, &pl, d)) != 0)
		return r;
	if (rbuf_lenbytes(&pl, rbuf_left(&pl), rules, rules_len) != 0)
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "compiled content: bad rules section");
	return 0;
}

int
content_image_decode(const uint8_t *p, size_t n, struct content_set *cs, int *rebuilt,
		     struct ward_diag *d)
{
	struct rbuf pl, sec;
	const uint8_t *sp;
	size_t sn;
	int i, r;

	memset(cs, 0, sizeof(*cs));
	*rebuilt = 0;
	diag_clear(d);
	if ((r = check_whole(p, n, &pl, d)) != 0)
		return r;
	for (i = 0; i < SEC_COUNT && r == 0; i++) {
		if (rbuf_lenbytes(&pl, rbuf_left(&pl), &sp, &sn) != 0) {
			r = diag_set(d, WARD_EFORMAT, NULL, 0, 0,
				     "compiled content: the %s section is truncated",
				     section_names[i]);
			break;
		}
		rbuf_init(&sec, sp, sn);
		switch (i) {
		case SEC_RULES:
			r = rulefile_parse(sp, sn, &cs->rs, &cs->hs, &cs->m, rebuilt, d);
			sec.off = sn;
			break;
		case SEC_SIGMA:
			r = sigma_set_decode(&sec, &cs->sigma, d);
			break;
		case SEC_FIM:
			r = fim_watch_decode(&sec, &cs->fim, d);
			break;
		case SEC_EXCEPTIONS:
			r = except_list_decode(&sec, &cs->exc, d);
			break;
		}
		if (r != 0 && d != NULL && d->msg[0] == '\0')
			diag_set(d, r, NULL, 0, 0, "compiled content: the %s section: %s",
				 section_names[i], ward_strerror(r));
		if (r == 0 && rbuf_left(&sec) != 0)
			r = diag_set(d, WARD_EFORMAT, NULL, 0, 0,
				     "compiled content: bytes left over in the %s section",
				     section_names[i]);
	}
	if (r == 0 && rbuf_left(&pl) != 0)
		r = diag_set(d, WARD_EFORMAT, NULL, 0, 0,
			     "compiled content: bytes after the last section");
	if (r != 0)
		content_set_free(cs);
	return r;
}
