/*
 * clamdb_cvd: ClamAV's .cvd/.cld/.cud containers.
 *
 * A 512-byte header, "ClamAV-VDB:TIME:VERSION:SIGS:FLEVEL:MD5:DSIG:BUILDER
 * :STIME" padded with spaces, then a tar (.cld) or tar.gz body.  In a .cvd
 * the MD5 is that of the body, and DSIG is the MD5 signed with ClamAV's
 * RSA key (libclamav/dsig.c): DSIG's characters are base-64 digits, least
 * significant first, of a number c; c^e mod n, as 16 big-endian bytes, must
 * be the MD5.  .cld and .cud are made on the host (freshclam applies
 * patches to a .cvd) and carry no signature to check.
 *
 * Must hold: the header is read through an rbuf; the body is read by
 * libarchive from memory, each member at most WARD_MAX_CLAMDB_FILE bytes,
 * all of them together at most WARD_MAX_CLAMDB_BODY, at most
 * WARD_MAX_CLAMDB_MEMBERS of them; a .cvd that does not verify is refused
 * unless the caller allows it, and info says which it was.  Members of
 * kinds ward does not convert are listed as left out, line by line.
 */
#include <archive.h>
#include <archive_entry.h>
#include <openssl/bn.h>
#include <stdio.h>
#include <string.h>

#include "clamav/clamdb_int.h"
#include "crypto/digest.h"
#include "util/alloc.h"
#include "util/limits.h"

/* ClamAV's public key for .cvd signatures (libclamav/dsig.c: CLI_NSTR,
 * CLI_ESTR). */
static const char cvd_n[] =
    "118640995551645342603070001658453189751527774412027743746599405743243142607464144767361"
    "060640655844749760788890022283424922762488917565551002467771109669598189410434699034532"
    "232228621591089508178591428456220796841621637175567590476666928698770143328137383952820"
    "383197532047771780196576957695822641224262693037";
static const char cvd_e[] = "100001027";

/* The header's DSIG field is at most this long (the key's 1024 bits are
 * 171 base-64 digits). */
#define CVD_MAX_DSIG 400

static int
dsig_digit(uint8_t c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Does dsig (n bytes) sign md5 (16 bytes) with key (nstr, estr)?  1 yes, 0
 * no, WARD_ENOMEM. */
static int
cvd_dsig_ok(const uint8_t *dsig, size_t n, const uint8_t md5[16], const char *nstr,
	    const char *estr)
{
	BIGNUM *bn = NULL, *be = NULL, *c = NULL, *r = NULL, *p = NULL;
	BN_CTX *ctx = NULL;
	uint8_t plain[16];
	size_t i;
	int ok = 0, d;

	if (n == 0 || n > CVD_MAX_DSIG)
		return 0;
	if ((ctx = BN_CTX_new()) == NULL || (c = BN_new()) == NULL || (r = BN_new()) == NULL ||
	    (p = BN_new()) == NULL || !BN_dec2bn(&bn, nstr) || !BN_dec2bn(&be, estr)) {
		ok = WARD_ENOMEM;
		goto out;
	}
	BN_zero(c);
	for (i = 0; i < n; i++) {
		if ((d = dsig_digit(dsig[i])) < 0)
			goto out;
		if (!BN_set_word(r, (BN_ULONG)d) || !BN_lshift(r, r, (int)(6 * i)) ||
		    !BN_add(c, c, r)) {
			ok = WARD_ENOMEM;
			goto out;
		}
	}
	if (!BN_mod_exp(p, c, be, bn, ctx)) {
		ok = WARD_ENOMEM;
		goto out;
	}
	/* libclamav refuses a result longer than the MD5 (cli_decodesig). */
	if (BN_num_bytes(p) > 16 || BN_bn2binpad(p, plain, 16) != 16)
		goto out;
	ok = digest_equal(plain, md5, 16);
out:
	BN_free(bn);
	BN_free(be);
	BN_free(c);
	BN_free(r);
	BN_free(p);
	BN_CTX_free(ctx);
	return ok;
}

static int
hexval(uint8_t c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* The field's 32 hex digits as 16 bytes; -1 if it is not that. */
static int
md5_of_field(const struct clamdb_fld *f, uint8_t out[16])
{
	size_t i;

	if (f->n != 32)
		return -1;
	for (i = 0; i < 16; i++) {
		int h = hexval(f->p[2 * i]), l = hexval(f->p[2 * i + 1]);

		if (h < 0 || l < 0)
			return -1;
		out[i] = (uint8_t)(h << 4 | l);
	}
	return 0;
}

static void
fld_copy(char *dst, size_t dlen, const struct clamdb_fld *f)
{
	size_t n = f->n < dlen - 1 ? f->n : dlen - 1, i;

	for (i = 0; i < n; i++)
		dst[i] = f->p[i] >= 0x20 && f->p[i] < 0x7f ? (char)f->p[i] : '?';
	dst[n] = '\0';
}

/* Lists every signature line of a member ward does not convert. */
static int
skip_member(struct clamdb *c, const char *file, const uint8_t *p, size_t n, const char *why)
{
	struct rbuf b;
	const uint8_t *q;
	size_t m, k;
	int line = 0, r = 0, e;

	rbuf_init(&b, p, n);
	while (r == 0 && rbuf_left(&b) > 0) {
		e = rbuf_until(&b, '\n', WARD_MAX_CLAMDB_LINE, &q, &m);
		line++;
		if (e == WARD_ELIMIT)
			break;
		if (m == 0 || q[0] == '#' || q[0] == '\r')
			continue;
		for (k = 0; k < m && k < WARD_MAX_SIG_NAME && q[k] != ':' && q[k] != ';'; k++)
			;
		c->st.read++;
		r = clamdb_skip_add(c, (const char *)q, k, file, line, why);
	}
	return r;
}

/* Reads one member's bytes (size known from its header) and adds it. */
static int
cvd_member(struct clamdb *c, struct archive *a, struct archive_entry *e, const char *cvdname,
	   size_t *total, struct ward_diag *d)
{
	const char *name = archive_entry_pathname(e);
	char file[600];
	enum clamdb_kind kind;
	uint8_t *buf = NULL;
	int64_t size = archive_entry_size(e);
	la_ssize_t k;
	size_t got = 0;
	int r = 0;

	if (name == NULL || archive_entry_filetype(e) != AE_IFREG)
		return 0;
	snprintf(file, sizeof(file), "%s/%s", cvdname, name);
	if (size < 0 || (uint64_t)size > WARD_MAX_CLAMDB_FILE ||
	    (uint64_t)size > WARD_MAX_CLAMDB_BODY - *total)
		return diag_set(d, WARD_ELIMIT, file, 0, 0,
				"member larger than WARD_MAX_CLAMDB_FILE or WARD_MAX_CLAMDB_BODY");
	*total += (size_t)size;
	if ((buf = ward_malloc((size_t)size + 1)) == NULL)
		return WARD_ENOMEM;
	while (got < (size_t)size && (k = archive_read_data(a, buf + got, (size_t)size - got)) > 0)
		got += (size_t)k;
	if (got != (size_t)size) {
		r = diag_set(d, WARD_EFORMAT, file, 0, 0, "truncated member");
		goto out;
	}
	if (clamdb_kind_of(name, &kind) == 0 && kind != CLAMDB_CVD)
		r = clamdb_add(c, kind, file, buf, got, d);
	else if (strstr(name, ".cbc") != NULL)
		r = (c->st.read++, clamdb_skip_add(c, name, strlen(name), file, 0,
						   "bytecode signatures (.cbc) are not converted"));
	else if (strcmp(name, "COPYING") != 0 && strstr(name, ".info") == NULL)
		r = skip_member(c, file, buf, got,
				"this kind of database (by its extension) is not converted");
out:
	ward_free(buf);
	return r;
}

static int
cvd_body(struct clamdb *c, const char *file, const uint8_t *p, size_t n, struct ward_diag *d)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t total = 0, members = 0;
	int r = 0, k;

	if (a == NULL)
		return WARD_ENOMEM;
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_none(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, p, n) != ARCHIVE_OK) {
		r = diag_set(d, WARD_EFORMAT, file, 0, 0, "the body is not a tar(.gz): %s",
			     archive_error_string(a) ? archive_error_string(a) : "?");
		goto out;
	}
	while (r == 0 && (k = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if (++members > WARD_MAX_CLAMDB_MEMBERS) {
			r = diag_set(d, WARD_ELIMIT, file, 0, 0,
				     "more than WARD_MAX_CLAMDB_MEMBERS members");
			break;
		}
		r = cvd_member(c, a, e, file, &total, d);
	}
	if (r == 0 && k != ARCHIVE_EOF)
		r = diag_set(d, WARD_EFORMAT, file, 0, 0, "damaged body: %s",
			     archive_error_string(a) ? archive_error_string(a) : "?");
out:
	archive_read_free(a);
	return r;
}

int
clamdb_add_cvd(struct clamdb *c, const char *file, const uint8_t *p, size_t n,
	       int allow_unsigned, struct clamdb_cvd_info *info, struct ward_diag *d)
{
	struct clamdb_fld f[10];
	struct rbuf b;
	const uint8_t *head;
	uint8_t md5[16], body_md5[16];
	const char *base = strrchr(file, '/');
	size_t k, hn, blen = strlen(file);
	int r = 0, ok;

	memset(info, 0, sizeof(*info));
	base = base != NULL ? base + 1 : file;
	info->signed_kind = blen > 4 && strcmp(file + blen - 4, ".cvd") == 0;
	snprintf(info->name, sizeof(info->name), "%.*s", (int)strcspn(base, "."), base);
	rbuf_init(&b, p, n);
	if (rbuf_bytes(&b, 512, &head) != 0 || memcmp(head, "ClamAV-VDB:", 11) != 0)
		return diag_set(d, WARD_EFORMAT, file, 0, 0, "not a ClamAV container (no header)");
	/* The header ends at its padding. */
	for (hn = 512; hn > 0 && (head[hn - 1] == ' ' || head[hn - 1] == '\0'); hn--)
		;
	k = clamdb_split(head, hn, ':', f, 10);
	if (k < 8)
		return diag_set(d, WARD_EFORMAT, file, 0, 0, "malformed header");
	fld_copy(info->built, sizeof(info->built), &f[1]);
	if (clamdb_fld_num(&f[2], &info->version) != 0 || clamdb_fld_num(&f[3], &info->sigs) != 0 ||
	    clamdb_fld_num(&f[4], &info->flevel) != 0)
		return diag_set(d, WARD_EFORMAT, file, 0, 0, "malformed header numbers");
	if (info->signed_kind) {
		if (md5_of_field(&f[5], md5) != 0)
			return diag_set(d, WARD_EFORMAT, file, 0, 0, "malformed MD5 in the header");
		if (digest_buf(DIGEST_MD5, p + 512, n - 512, body_md5, sizeof(body_md5)) != 0)
			return WARD_ENOMEM;
		ok = digest_equal(md5, body_md5, 16);
		if (ok) {
			ok = cvd_dsig_ok(f[6].p, f[6].n, md5, cvd_n, cvd_e);
			if (ok < 0)
				return ok;
		}
		info->verified = ok;
		if (!ok && !allow_unsigned)
			return diag_set(d, WARD_EVERIFY, file, 0, 0,
					"%s does not verify against ClamAV's key "
					"(--allow-unsigned takes it anyway)",
					digest_equal(md5, body_md5, 16) ? "the digital signature"
									 : "the body's MD5");
	}
	r = cvd_body(c, file, p + 512, n - 512, d);
	return r;
}

/* For the unit tests: the signature check with another key. */
int clamdb_cvd_dsig_check(const uint8_t *dsig, size_t n, const uint8_t md5[16], const char *nstr,
			  const char *estr);

int
clamdb_cvd_dsig_check(const uint8_t *dsig, size_t n, const uint8_t md5[16], const char *nstr,
		      const char *estr)
{
	return cvd_dsig_ok(dsig, n, md5, nstr != NULL ? nstr : cvd_n, estr != NULL ? estr : cvd_e);
}
