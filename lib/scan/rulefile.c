/*
 * rulefile: compiled rule set files.  See rulefile.h for the layout.
 *
 * What must hold: nothing in the payload is parsed before the header's
 * format, version and CPU family are accepted and the SHA-256 of the
 * payload matches; a file is replaced atomically, never left half written.
 */
#include "scan/rulefile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/digest.h"
#include "util/alloc.h"
#include "util/file.h"
#include "util/limits.h"

static const char rulefile_magic[8] = {'W', 'A', 'R', 'D', 'R', 'S', 'E', 'T'};

#define VERSION_LEN 32
#define ARCH_LEN 16
#define SUM_OFF (8 + 4 + VERSION_LEN + ARCH_LEN + 8)
#define HEADER_LEN (SUM_OFF + 32)

int
rulefile_checksum(const uint8_t *p, size_t len, uint8_t sum[32])
{
	struct digest_ctx *c = NULL;
	int r;

	if (len < HEADER_LEN)
		return WARD_EFORMAT;
	if ((r = digest_new(DIGEST_SHA256, &c)) != 0)
		return r;
	if ((r = digest_update(c, p, SUM_OFF)) == 0 &&
	    (r = digest_update(c, p + HEADER_LEN, len - HEADER_LEN)) == 0)
		r = digest_final(c, sum, 32);
	digest_free(c);
	return r;
}

const char *
rulefile_arch(void)
{
#if defined(__x86_64__)
	return "x86_64";
#elif defined(__aarch64__)
	return "aarch64";
#elif defined(__i386__)
	return "i386";
#elif defined(__arm__)
	return "arm";
#elif defined(__powerpc64__)
	return "ppc64";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv)
	return "riscv64";
#else
	return "unknown";
#endif
}

static void
put_padded(struct wbuf *w, const char *s, size_t n)
{
	char tmp[VERSION_LEN];

	memset(tmp, 0, sizeof(tmp));
	strncpy(tmp, s, n - 1);
	wbuf_put(w, tmp, n);
}

int
rulefile_image(const struct ruleset *rs, const struct hashsig_set *hs, const struct matcher *m,
	       struct wbuf *out, struct ward_diag *d)
{
	struct wbuf payload, sec;
	uint8_t md[32];
	int r = 0;

	wbuf_init(&payload);
	wbuf_init(&sec);
	memset(md, 0, sizeof(md));
	if (rs != NULL)
		ruleset_save(rs, &sec);
	wbuf_lenbytes(&payload, sec.p, sec.len);
	wbuf_free(&sec);
	if (hs != NULL)
		hashsig_save(hs, &sec);
	wbuf_lenbytes(&payload, sec.p, sec.len);
	wbuf_free(&sec);
	matcher_db_save(m, &sec);
	wbuf_put(&payload, sec.p, sec.len);
	if (sec.err != 0 || payload.err != 0) {
		r = diag_set(d, sec.err ? sec.err : payload.err, NULL, 0, 0,
			     "cannot serialize the rule set: %s",
			     ward_strerror(sec.err ? sec.err : payload.err));
		goto out;
	}
	wbuf_put(out, rulefile_magic, sizeof(rulefile_magic));
	wbuf_u32(out, RULEFILE_FORMAT);
	put_padded(out, WARD_VERSION, VERSION_LEN);
	put_padded(out, rulefile_arch(), ARCH_LEN);
	wbuf_u64(out, payload.len);
	wbuf_put(out, md, sizeof(md)); /* replaced below */
	wbuf_put(out, payload.p, payload.len);
	if (out->err == 0 && (r = rulefile_checksum(out->p, out->len, md)) != 0) {
		r = diag_set(d, r, NULL, 0, 0, "cannot hash the rule set");
		goto out;
	}
	if (out->err == 0)
		memcpy(out->p + SUM_OFF, md, sizeof(md));
	if (out->err != 0)
		r = diag_set(d, out->err, NULL, 0, 0, "out of memory");
out:
	wbuf_free(&payload);
	wbuf_free(&sec);
	return r;
}

int
rulefile_write(const char *path, const struct ruleset *rs, const struct hashsig_set *hs,
	       const struct matcher *m, struct ward_diag *d)
{
	struct wbuf out;
	int r;

	wbuf_init(&out);
	r = rulefile_image(rs, hs, m, &out, d);
	if (r == 0)
		r = file_replace(path, out.p, out.len, 0644, d);
	else if (d != NULL && d->file[0] == '\0')
		snprintf(d->file, sizeof(d->file), "%s", path);
	wbuf_free(&out);
	return r;
}

/* Copies a NUL-padded header field into a C string, replacing odd bytes. */
static void
get_padded(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n - 1 && p[i] != 0; i++)
		out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	out[i] = '\0';
}

int
rulefile_parse(const uint8_t *p, size_t len, struct ruleset **rsp, struct hashsig_set **hsp,
	       struct matcher **mp, int *rebuilt, struct ward_diag *d)
{
	struct rbuf b, sec;
	const uint8_t *magic, *ver, *arch, *sum, *payload, *sp;
	char verstr[VERSION_LEN], archstr[ARCH_LEN];
	uint8_t md[32];
	size_t sn;
	uint32_t format;
	uint64_t plen;
	struct ruleset *rs = NULL;
	struct hashsig_set *hs = NULL;
	struct matcher *m = NULL;
	int r;

	*rsp = NULL;
	*hsp = NULL;
	*mp = NULL;
	*rebuilt = 0;
	rbuf_init(&b, p, len);
	if (rbuf_bytes(&b, 8, &magic) != 0 || memcmp(magic, rulefile_magic, 8) != 0) {
		r = diag_set(d, WARD_EFORMAT, NULL, 0, 0, "not a compiled ward rule file");
		goto out;
	}
	if (rbuf_u32(&b, &format) != 0 || rbuf_bytes(&b, VERSION_LEN, &ver) != 0 ||
	    rbuf_bytes(&b, ARCH_LEN, &arch) != 0 || rbuf_u64(&b, &plen) != 0 ||
	    rbuf_bytes(&b, 32, &sum) != 0) {
		r = diag_set(d, WARD_EFORMAT, NULL, 0, 0, "truncated compiled rule file header");
		goto out;
	}
	get_padded(ver, VERSION_LEN, verstr);
	get_padded(arch, ARCH_LEN, archstr);
	if (format != RULEFILE_FORMAT) {
		r = diag_set(d, WARD_EVERSION, NULL, 0, 0,
			     "compiled rule file format %u is not supported by this ward "
			     "(format %u); compile the rules again",
			     format, RULEFILE_FORMAT);
		goto out;
	}
	if (strcmp(verstr, WARD_VERSION) != 0) {
		r = diag_set(d, WARD_EVERSION, NULL, 0, 0,
			     "compiled by ward %s, this is ward %s; compile the rules again with "
			     "this version",
			     verstr, WARD_VERSION);
		goto out;
	}
	if (strcmp(archstr, rulefile_arch()) != 0) {
		r = diag_set(d, WARD_EVERSION, NULL, 0, 0,
			     "compiled for CPU family %s, this host is %s; compile the rules "
			     "on this platform",
			     archstr, rulefile_arch());
		goto out;
	}
	if (plen != rbuf_left(&b)) {
		r = diag_set(d, WARD_ECHECKSUM, NULL, 0, 0,
			     "compiled rule file is damaged: %llu bytes of payload expected, %zu "
			     "present",
			     (unsigned long long)plen, rbuf_left(&b));
		goto out;
	}
	if (rbuf_bytes(&b, (size_t)plen, &payload) != 0 || rulefile_checksum(p, len, md) != 0 ||
	    !digest_equal(md, sum, sizeof(md))) {
		r = diag_set(d, WARD_ECHECKSUM, NULL, 0, 0,
			     "compiled rule file is damaged (checksum mismatch)");
		goto out;
	}
	rbuf_init(&b, payload, (size_t)plen);
	if ((r = rbuf_lenbytes(&b, plen, &sp, &sn)) != 0) {
		r = diag_set(d, r, NULL, 0, 0, "compiled rule file: bad rule section");
		goto out;
	}
	if (sn > 0) {
		rbuf_init(&sec, sp, sn);
		if ((r = ruleset_load(&sec, &rs, d)) != 0)
			goto out;
	}
	if ((r = rbuf_lenbytes(&b, plen, &sp, &sn)) != 0) {
		r = diag_set(d, r, NULL, 0, 0, "compiled rule file: bad hash section");
		goto out;
	}
	if (sn > 0) {
		rbuf_init(&sec, sp, sn);
		if ((r = hashsig_load(&sec, &hs)) != 0) {
			r = diag_set(d, r, NULL, 0, 0, "compiled rule file: bad hash signatures");
			goto out;
		}
	}
	if ((r = rbuf_lenbytes(&b, plen, &sp, &sn)) != 0 || rbuf_left(&b) != 0) {
		r = diag_set(d, WARD_EFORMAT, NULL, 0, 0,
			     "compiled rule file: bad pattern database section");
		goto out;
	}
	if (rs == NULL && hs == NULL) {
		r = diag_set(d, WARD_EFORMAT, NULL, 0, 0, "compiled rule file holds no rules");
		goto out;
	}
	if ((r = matcher_new_with_db(rs, hs, sp, sn, &m, rebuilt, d)) != 0)
		goto out;
out:
	if (r != 0) {
		matcher_free(m);
		ruleset_free(rs);
		hashsig_free(hs);
		return r;
	}
	*rsp = rs;
	*hsp = hs;
	*mp = m;
	return 0;
}

int
rulefile_read(const char *path, struct ruleset **rs, struct hashsig_set **hs, struct matcher **m,
	      int *rebuilt, struct ward_diag *d)
{
	uint8_t *p = NULL;
	size_t len = 0;
	int r;

	*rs = NULL;
	*hs = NULL;
	*m = NULL;
	r = file_read_all(path, WARD_MAX_COMPILED_SIZE, &p, &len, d);
	if (r == 0)
		r = rulefile_parse(p, len, rs, hs, m, rebuilt, d);
	if (r != 0 && d != NULL && d->file[0] == '\0')
		snprintf(d->file, sizeof(d->file), "%s", path);
	ward_free(p);
	return r;
}
