/*
 * bundle: the content bundle container and its manifest.  See bundle.h and
 * docs/bundle-format.md.
 *
 * Must hold: nothing outside this file reads a bundle that bundle_parse has
 * not accepted; the manifest's JSON is not parsed before the container is
 * split (bundle_split), so that a caller can check its signatures over the
 * exact manifest bytes first (content_admit does); every length is checked against a named limit
 * before it is used; the manifest that signatures cover is the exact byte string in the file (it is
 * never re-encoded); a member's bytes are what the manifest's size and SHA-256 say.
 */
#include "content/bundle.h"
#include "util/clock.h"
#include "crypto/digest.h"
#include "util/alloc.h"
#include "util/file.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bytes before the manifest: magic, format, manifest length. */
#define HEADER_SIZE 16

static const struct {
	const char *name;
	enum bundle_member_type type;
} member_types[] = {
    {"yara", BM_YARA},	 {"hashes", BM_HASHES}, {"sample", BM_SAMPLE},
    {"sigma", BM_SIGMA}, {"fim", BM_FIM},	{"exceptions", BM_EXCEPTIONS},
};

const char *
bundle_member_type_name(enum bundle_member_type t)
{
	size_t i;

	for (i = 0; i < sizeof(member_types) / sizeof(member_types[0]); i++)
		if (member_types[i].type == t)
			return member_types[i].name;
	return "?";
}

void
bundle_free(struct bundle *b)
{
	uint32_t i, j;

	if (b == NULL)
		return;
	for (i = 0; i < b->nmembers; i++)
		ward_free(b->members[i].name);
	for (i = 0; i < b->ntests; i++) {
		for (j = 0; j < b->tests[i].nexpect; j++)
			ward_free(b->tests[i].expect[j]);
		ward_free(b->tests[i].expect);
	}
	ward_free(b->members);
	ward_free(b->tests);
	ward_free(b->name);
	ward_free(b->raw);
	ward_free(b);
}

/* --- times and versions ------------------------------------------------ */

int
bundle_parse_time(const char *s, int64_t *out)
{
	return clock_utc_parse(s, out);
}

void
bundle_format_time(int64_t t, char out[21])
{
	clock_utc(t, out);
}

/* Parses "A.B.C" (each 0..99999). */
static int
version_parts(const char *s, unsigned v[3])
{
	int n = 0;

	if (strlen(s) >= BUNDLE_MAX_VERSION_TEXT ||
	    sscanf(s, "%5u.%5u.%5u%n", &v[0], &v[1], &v[2], &n) != 3 || s[n] != '\0' ||
	    s[0] < '0' || s[0] > '9')
		return WARD_EFORMAT;
	return 0;
}

int
bundle_version_cmp(const char *a, const char *b, int *cmp)
{
	unsigned x[3], y[3];
	int i;

	*cmp = 0;
	if (version_parts(a, x) != 0 || version_parts(b, y) != 0)
		return WARD_EFORMAT;
	for (i = 0; i < 3 && *cmp == 0; i++)
		*cmp = x[i] < y[i] ? -1 : x[i] > y[i];
	return 0;
}

/* --- manifest ---------------------------------------------------------- */

#define MERR(d, err, ...) diag_set((d), (err), "manifest", 0, 0, __VA_ARGS__)

/* A member path: relative, no "." or ".." components, [A-Za-z0-9._-/]. */
static int
path_ok(const char *s)
{
	const char *c, *comp = s;
	size_t n = strlen(s);

	if (n == 0 || n > BUNDLE_MAX_PATH || s[0] == '/' || s[n - 1] == '/')
		return 0;
	for (c = s;; c++) {
		if (*c == '/' || *c == '\0') {
			size_t cl = (size_t)(c - comp);

			if (cl == 0 || (cl == 1 && comp[0] == '.') ||
			    (cl == 2 && comp[0] == '.' && comp[1] == '.'))
				return 0;
			if (*c == '\0')
				break;
			comp = c + 1;
			continue;
		}
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-'))
			return 0;
	}
	return 1;
}

/* A bundle name or a rule name: [A-Za-z0-9_.-], 1..max bytes. */
static int
ident_ok(const char *s, size_t max, int allow_dot_dash)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || (allow_dot_dash && (c == '.' || c == '-'))))
			return 0;
	}
	return 1;
}

/* Checks that obj has exactly the keys listed (NULL-terminated). */
static int
keys_exact(json_t *obj, const char *const *keys, const char *what, struct ward_diag *d)
{
	const char *k;
	json_t *v;
	size_t i, n = 0;

	if (!json_is_object(obj))
		return MERR(d, WARD_EFORMAT, "%s must be a JSON object", what);
	json_object_foreach(obj, k, v)
	{
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(keys[i], k) == 0)
				break;
		if (keys[i] == NULL)
			return MERR(d, WARD_EFORMAT, "%s: unknown key \"%s\"", what, k);
		n++;
	}
	for (i = 0; keys[i] != NULL; i++)
		if (json_object_get(obj, keys[i]) == NULL)
			return MERR(d, WARD_EFORMAT, "%s: missing key \"%s\"", what, keys[i]);
	(void)v;
	(void)n;
	return 0;
}

static int
get_int(json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t *out, struct ward_diag *d)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return MERR(d, WARD_EFORMAT, "\"%s\" must be an integer in range", key);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int
get_str(json_t *obj, const char *key, size_t max, const char **out, struct ward_diag *d)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return MERR(d, WARD_EFORMAT, "\"%s\" must be a string (at most the limit)", key);
	*out = json_string_value(v);
	return 0;
}

static int
parse_member(struct bundle *b, json_t *m, uint32_t i, struct ward_diag *d)
{
	static const char *const keys[] = {"name", "type", "size", "sha256", NULL};
	struct bundle_member *bm = &b->members[i];
	const char *name, *type, *hex;
	int64_t size;
	size_t k, n;
	uint32_t j;
	int r;

	if ((r = keys_exact(m, keys, "a member", d)) != 0)
		return r;
	if ((r = get_str(m, "name", BUNDLE_MAX_PATH, &name, d)) != 0 ||
	    (r = get_str(m, "type", 16, &type, d)) != 0 ||
	    (r = get_str(m, "sha256", 64, &hex, d)) != 0 ||
	    (r = get_int(m, "size", 0, (int64_t)BUNDLE_MAX_MEMBER_SIZE, &size, d)) != 0)
		return r;
	if (!path_ok(name))
		return MERR(d, WARD_EFORMAT,
			    "member name \"%s\" is not a relative path of [A-Za-z0-9._-/]", name);
	for (j = 0; j < i; j++)
		if (strcmp(b->members[j].name, name) == 0)
			return MERR(d, WARD_EFORMAT, "member \"%s\" is listed twice", name);
	for (k = 0; k < sizeof(member_types) / sizeof(member_types[0]); k++)
		if (strcmp(member_types[k].name, type) == 0)
			break;
	if (k == sizeof(member_types) / sizeof(member_types[0]))
		return MERR(d, WARD_EFORMAT, "member \"%s\": unknown type \"%s\"", name, type);
	if (strlen(hex) != 64 || digest_from_hex(hex, 64, bm->sha256, 32, &n) != 0 || n != 32)
		return MERR(d, WARD_EFORMAT, "member \"%s\": sha256 must be 64 hex digits", name);
	if ((bm->name = ward_strdup(name)) == NULL)
		return WARD_ENOMEM;
	bm->type = member_types[k].type;
	bm->size = (uint64_t)size;
	return 0;
}

static int
parse_test(struct bundle *b, json_t *t, uint32_t i, struct ward_diag *d)
{
	static const char *const keys[] = {"sample", "expect", NULL};
	struct bundle_test *bt = &b->tests[i];
	json_t *ex, *v;
	const char *sample;
	size_t k, n;
	int idx, r;

	if ((r = keys_exact(t, keys, "a test", d)) != 0)
		return r;
	if ((r = get_str(t, "sample", BUNDLE_MAX_PATH, &sample, d)) != 0)
		return r;
	idx = bundle_find_member(b, sample);
	if (idx < 0 || b->members[idx].type != BM_SAMPLE)
		return MERR(d, WARD_EFORMAT, "test sample \"%s\" is not a member of type sample",
			    sample);
	bt->sample = (uint32_t)idx;
	ex = json_object_get(t, "expect");
	if (!json_is_array(ex) || json_array_size(ex) > BUNDLE_MAX_EXPECT)
		return MERR(d, WARD_EFORMAT, "test \"%s\": expect must be an array of rule names",
			    sample);
	n = json_array_size(ex);
	if (n > 0 && (bt->expect = ward_calloc(n, sizeof(*bt->expect))) == NULL)
		return WARD_ENOMEM;
	json_array_foreach(ex, k, v)
	{
		if (!json_is_string(v) || !ident_ok(json_string_value(v), 128, 0))
			return MERR(d, WARD_EFORMAT,
				    "test \"%s\": \"expect\" holds a bad rule name", sample);
		if ((bt->expect[bt->nexpect] = ward_strdup(json_string_value(v))) == NULL)
			return WARD_ENOMEM;
		bt->nexpect++;
	}
	return 0;
}

static int
parse_manifest(struct bundle *b, struct ward_diag *d)
{
	static const char *const keys[] = {"format",  "name",	 "version",
					   "created", "expires", "min_agent_version",
					   "members", "tests",	 NULL};
	json_error_t je;
	json_t *root, *arr, *v;
	const char *s;
	int64_t fmt;
	unsigned parts[3];
	size_t i;
	int r;

	root = json_loadb((const char *)b->manifest, b->manifest_len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		r = diag_set(d, WARD_EFORMAT, "manifest", je.line, je.column, "%s", je.text);
		goto out;
	}
	if ((r = keys_exact(root, keys, "the manifest", d)) != 0)
		goto out;
	if ((r = get_int(root, "format", 1, 1000, &fmt, d)) != 0)
		goto out;
	if (fmt != BUNDLE_FORMAT) {
		r = MERR(d, WARD_EVERSION,
			 "manifest format %lld is not supported (this ward reads %d)",
			 (long long)fmt, BUNDLE_FORMAT);
		goto out;
	}
	if ((r = get_str(root, "name", BUNDLE_MAX_NAME, &s, d)) != 0)
		goto out;
	if (!ident_ok(s, BUNDLE_MAX_NAME, 1)) {
		r = MERR(d, WARD_EFORMAT, "bundle name \"%s\" must be [A-Za-z0-9._-]", s);
		goto out;
	}
	if ((b->name = ward_strdup(s)) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	if ((r = get_int(root, "version", 1, BUNDLE_MAX_VERSION, &b->version, d)) != 0)
		goto out;
	if ((r = get_str(root, "created", 20, &s, d)) != 0 ||
	    (r = bundle_parse_time(s, &b->created)) != 0) {
		r = MERR(d, WARD_EFORMAT, "\"created\" must be a time YYYY-MM-DDTHH:MM:SSZ");
		goto out;
	}
	if ((r = get_str(root, "expires", 20, &s, d)) != 0 ||
	    (r = bundle_parse_time(s, &b->expires)) != 0) {
		r = MERR(d, WARD_EFORMAT, "\"expires\" must be a time YYYY-MM-DDTHH:MM:SSZ");
		goto out;
	}
	if (b->expires <= b->created) {
		r = MERR(d, WARD_EFORMAT, "\"expires\" must be later than \"created\"");
		goto out;
	}
	if ((r = get_str(root, "min_agent_version", BUNDLE_MAX_VERSION_TEXT - 1, &s, d)) != 0)
		goto out;
	if (version_parts(s, parts) != 0) {
		r = MERR(d, WARD_EFORMAT,
			 "\"min_agent_version\" must be MAJOR.MINOR.PATCH, not \"%s\"", s);
		goto out;
	}
	snprintf(b->min_agent_version, sizeof(b->min_agent_version), "%s", s);
	arr = json_object_get(root, "members");
	if (!json_is_array(arr) || json_array_size(arr) > BUNDLE_MAX_MEMBERS) {
		r = MERR(d, json_is_array(arr) ? WARD_ELIMIT : WARD_EFORMAT,
			 "\"members\" must be an array of at most %u entries", BUNDLE_MAX_MEMBERS);
		goto out;
	}
	if (json_array_size(arr) > 0 &&
	    (b->members = ward_calloc(json_array_size(arr), sizeof(*b->members))) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	json_array_foreach(arr, i, v)
	{
		if ((r = parse_member(b, v, (uint32_t)i, d)) != 0)
			goto out;
		b->nmembers++;
	}
	arr = json_object_get(root, "tests");
	if (!json_is_array(arr) || json_array_size(arr) > BUNDLE_MAX_TESTS) {
		r = MERR(d, json_is_array(arr) ? WARD_ELIMIT : WARD_EFORMAT,
			 "\"tests\" must be an array of at most %u entries", BUNDLE_MAX_TESTS);
		goto out;
	}
	if (json_array_size(arr) > 0 &&
	    (b->tests = ward_calloc(json_array_size(arr), sizeof(*b->tests))) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	json_array_foreach(arr, i, v)
	{
		b->ntests++;
		if ((r = parse_test(b, v, (uint32_t)i, d)) != 0)
			goto out;
	}
out:
	json_decref(root);
	return r;
}

/* --- container --------------------------------------------------------- */

static int
cerr(struct ward_diag *d, int err, const char *msg)
{
	return diag_set(d, err, NULL, 0, 0, "%s", msg);
}

int
bundle_split(const uint8_t *data, size_t len, struct bundle **out, struct ward_diag *d)
{
	struct bundle *b = NULL;
	struct rbuf rb;
	uint32_t fmt, mlen, nsig, i;
	const uint8_t *p;
	int r;

	*out = NULL;
	diag_clear(d);
	if ((uint64_t)len > BUNDLE_MAX_SIZE)
		return cerr(d, WARD_ELIMIT, "bundle larger than BUNDLE_MAX_SIZE");
	if (len < HEADER_SIZE || memcmp(data, BUNDLE_MAGIC, 8) != 0)
		return cerr(d, WARD_EFORMAT, "not a ward content bundle (bad magic)");
	b = ward_calloc(1, sizeof(*b));
	if (b == NULL || (b->raw = ward_malloc(len)) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	memcpy(b->raw, data, len);
	b->rawlen = len;
	rbuf_init(&rb, b->raw, len);
	rb.off = 8;
	(void)rbuf_u32(&rb, &fmt);
	(void)rbuf_u32(&rb, &mlen);
	if (fmt != BUNDLE_FORMAT) {
		r = diag_set(d, WARD_EVERSION, NULL, 0, 0,
			     "bundle format %u is not supported (this ward reads format %d)", fmt,
			     BUNDLE_FORMAT);
		goto out;
	}
	if (mlen > BUNDLE_MAX_MANIFEST) {
		r = cerr(d, WARD_ELIMIT, "manifest larger than BUNDLE_MAX_MANIFEST");
		goto out;
	}
	if (rbuf_bytes(&rb, mlen, &p) != 0) {
		r = cerr(d, WARD_EFORMAT, "truncated bundle (in the manifest)");
		goto out;
	}
	b->manifest = p;
	b->manifest_len = mlen;
	if (rbuf_u32(&rb, &nsig) != 0) {
		r = cerr(d, WARD_EFORMAT, "truncated bundle (before the signatures)");
		goto out;
	}
	if (nsig > BUNDLE_MAX_SIGNATURES) {
		r = cerr(d, WARD_ELIMIT, "more than BUNDLE_MAX_SIGNATURES signatures");
		goto out;
	}
	for (i = 0; i < nsig; i++) {
		struct bundle_sig *s = &b->sigs[i];
		uint8_t alg;
		uint16_t slen;
		const uint8_t *kid, *sb;

		if (rbuf_u8(&rb, &alg) != 0 || rbuf_bytes(&rb, SIGN_KEY_ID_SIZE, &kid) != 0 ||
		    rbuf_u16(&rb, &slen) != 0) {
			r = cerr(d, WARD_EFORMAT, "truncated bundle (in the signatures)");
			goto out;
		}
		if ((alg != SIGN_ED25519 && alg != SIGN_SM2) || slen == 0 || slen > SIGN_MAX_SIG) {
			r = cerr(d, WARD_EFORMAT, "bad signature entry (algorithm or length)");
			goto out;
		}
		if (rbuf_bytes(&rb, slen, &sb) != 0) {
			r = cerr(d, WARD_EFORMAT, "truncated bundle (in the signatures)");
			goto out;
		}
		s->alg = (enum sign_alg)alg;
		memcpy(s->key_id, kid, SIGN_KEY_ID_SIZE);
		memcpy(s->sig, sb, slen);
		s->len = slen;
		b->nsigs++;
	}
	b->body_off = rb.off;
	*out = b;
	b = NULL;
	r = 0;
out:
	if (r == WARD_ENOMEM)
		r = cerr(d, WARD_ENOMEM, "out of memory");
	bundle_free(b);
	return r;
}

int
bundle_parse_manifest(struct bundle *b, struct ward_diag *d)
{
	struct rbuf rb;
	uint8_t md[32];
	uint32_t i;
	int r;

	diag_clear(d);
	if (b->name != NULL || b->nmembers != 0 || b->ntests != 0)
		return cerr(d, WARD_EINVAL, "the manifest was parsed already");
	if ((r = parse_manifest(b, d)) != 0)
		goto out;
	rbuf_init(&rb, b->raw, b->rawlen);
	rb.off = b->body_off;
	for (i = 0; i < b->nmembers; i++) {
		struct bundle_member *m = &b->members[i];

		if (rbuf_left(&rb) < m->size) {
			r = diag_set(d, WARD_EFORMAT, m->name, 0, 0,
				     "truncated bundle (member shorter than the manifest says)");
			goto out;
		}
		(void)rbuf_bytes(&rb, (size_t)m->size, &m->data);
		if ((r = digest_buf(DIGEST_SHA256, m->data, (size_t)m->size, md, sizeof(md))) != 0)
			goto out;
		if (!digest_equal(md, m->sha256, 32)) {
			r = diag_set(d, WARD_ECHECKSUM, m->name, 0, 0,
				     "member's SHA-256 differs from the manifest");
			goto out;
		}
	}
	if (rbuf_left(&rb) != 0) {
		r = cerr(d, WARD_EFORMAT, "trailing bytes after the last member");
		goto out;
	}
	b->parsed = 1;
out:
	if (r == WARD_ENOMEM)
		r = cerr(d, WARD_ENOMEM, "out of memory");
	return r;
}

int
bundle_parse(const uint8_t *data, size_t len, struct bundle **out, struct ward_diag *d)
{
	struct bundle *b = NULL;
	int r;

	*out = NULL;
	if ((r = bundle_split(data, len, &b, d)) != 0 || (r = bundle_parse_manifest(b, d)) != 0)
		goto out;
	*out = b;
	b = NULL;
out:
	bundle_free(b);
	return r;
}

int
bundle_read(const char *path, struct bundle **out, struct ward_diag *d)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	diag_clear(d);
	r = file_read_all(path, (size_t)BUNDLE_MAX_SIZE, &buf, &len, d);
	if (r == 0)
		r = bundle_parse(buf, len, out, d);
	if (r != 0 && d != NULL && d->file[0] == '\0')
		snprintf(d->file, sizeof(d->file), "%s", path);
	ward_free(buf);
	return r;
}

int
bundle_serialize(const uint8_t *manifest, size_t manifest_len, const struct bundle_sig *sigs,
		 uint32_t nsigs, const struct bundle_member *members, uint32_t nmembers,
		 struct wbuf *w)
{
	uint32_t i;

	if (manifest_len > BUNDLE_MAX_MANIFEST || nsigs > BUNDLE_MAX_SIGNATURES)
		return WARD_ELIMIT;
	wbuf_put(w, BUNDLE_MAGIC, 8);
	wbuf_u32(w, BUNDLE_FORMAT);
	wbuf_u32(w, (uint32_t)manifest_len);
	wbuf_put(w, manifest, manifest_len);
	wbuf_u32(w, nsigs);
	for (i = 0; i < nsigs; i++) {
		wbuf_u8(w, (uint8_t)sigs[i].alg);
		wbuf_put(w, sigs[i].key_id, SIGN_KEY_ID_SIZE);
		wbuf_u16(w, (uint16_t)sigs[i].len);
		wbuf_put(w, sigs[i].sig, sigs[i].len);
	}
	for (i = 0; i < nmembers; i++)
		wbuf_put(w, members[i].data, (size_t)members[i].size);
	return w->err;
}

int
bundle_image(const struct bundle *b, struct wbuf *w)
{
	return bundle_serialize(b->manifest, b->manifest_len, b->sigs, b->nsigs, b->members,
				b->nmembers, w);
}

int
bundle_sign(struct bundle *b, const struct sign_key *key, struct ward_diag *d)
{
	struct bundle_sig s;
	uint32_t i;
	int r;

	memset(&s, 0, sizeof(s));
	s.alg = sign_key_alg(key);
	memcpy(s.key_id, sign_key_id(key), SIGN_KEY_ID_SIZE);
	r = sign_message(key, b->manifest, b->manifest_len, s.sig, &s.len);
	if (r != 0)
		return diag_set(d, r, NULL, 0, 0, "signing failed (%s)", ward_strerror(r));
	for (i = 0; i < b->nsigs; i++)
		if (memcmp(b->sigs[i].key_id, s.key_id, SIGN_KEY_ID_SIZE) == 0)
			break;
	if (i == BUNDLE_MAX_SIGNATURES)
		return diag_set(d, WARD_ELIMIT, NULL, 0, 0,
				"the bundle already has BUNDLE_MAX_SIGNATURES (%u) signatures",
				BUNDLE_MAX_SIGNATURES);
	b->sigs[i] = s;
	if (i == b->nsigs)
		b->nsigs++;
	return 0;
}

int
bundle_verify(const struct bundle *b, struct sign_key *const *trusted, size_t ntrusted,
	      unsigned threshold, unsigned *valid, struct ward_diag *d)
{
	unsigned ok = 0, untrusted = 0, bad = 0;
	uint8_t counted[BUNDLE_MAX_SIGNATURES];
	uint32_t i, j;
	size_t t;

	*valid = 0;
	memset(counted, 0, sizeof(counted));
	if (threshold == 0)
		threshold = 1;
	for (i = 0; i < b->nsigs; i++) {
		const struct bundle_sig *s = &b->sigs[i];
		int dup = 0;

		for (j = 0; j < i; j++)
			if (counted[j] &&
			    memcmp(b->sigs[j].key_id, s->key_id, SIGN_KEY_ID_SIZE) == 0)
				dup = 1;
		if (dup)
			continue;
		for (t = 0; t < ntrusted; t++)
			if (memcmp(sign_key_id(trusted[t]), s->key_id, SIGN_KEY_ID_SIZE) == 0 &&
			    sign_key_alg(trusted[t]) == s->alg)
				break;
		if (t == ntrusted) {
			untrusted++;
			continue;
		}
		if (sign_verify(trusted[t], b->manifest, b->manifest_len, s->sig, s->len) != 0) {
			bad++;
			continue;
		}
		counted[i] = 1;
		ok++;
	}
	*valid = ok;
	if (ok >= threshold)
		return 0;
	if (b->nsigs == 0)
		return diag_set(d, WARD_EVERIFY, NULL, 0, 0, "the bundle is not signed");
	return diag_set(d, WARD_EVERIFY, NULL, 0, 0,
			"%u valid signature(s) by trusted keys, %u needed (%u by untrusted keys, "
			"%u invalid)",
			ok, threshold, untrusted, bad);
}

int
bundle_find_member(const struct bundle *b, const char *name)
{
	uint32_t i;

	for (i = 0; i < b->nmembers; i++)
		if (strcmp(b->members[i].name, name) == 0)
			return (int)i;
	return -1;
}
