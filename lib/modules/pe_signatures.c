/*
 * pe_signatures: the Authenticode certificates of a PE file as YARA 4.2.3
 * lists them (pe.signatures[i], pe.number_of_signatures): the signers of
 * each PKCS#7 SignedData in the certificate table, and of the signatures
 * nested in the first signer's attributes.  The DER is decoded by OpenSSL
 * from a copy of the table; nothing is verified (YARA does not either).
 *
 * Must hold: at most WARD_MAX_PE_SIGNATURES signers, a table of at most
 * WARD_MAX_PE_CERT_TABLE bytes, nesting at most WARD_MAX_PE_SIG_DEPTH deep.
 */
#include "modules/pe_int.h"
#include "util/alloc.h"
#include "util/err.h"

#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <string.h>
#include <time.h>

#define PE_DIR_SECURITY 4
#define WIN_CERT_HEADER 8
#define WIN_CERT_REV_1 0x0100
#define WIN_CERT_REV_2 0x0200
#define WIN_CERT_PKCS_SIGNED 0x0002
#define SPC_NESTED_SIGNATURE "1.3.6.1.4.1.311.2.4.1"

/* YARA's ASN1_get_time_t: the digits read as they are, no time zone; a
 * short string reads zeros past its end (OpenSSL terminates its data). */
static int64_t
asn1_time(const ASN1_TIME *t)
{
	char s[24] = {0};
	struct tm tm;
	size_t i = 0, n = (size_t)ASN1_STRING_length(t);

	memcpy(s, ASN1_STRING_get0_data(t), n < sizeof(s) - 1 ? n : sizeof(s) - 1);
	memset(&tm, 0, sizeof(tm));
#define D(k) (s[k] - '0')
	if (ASN1_STRING_type(t) == V_ASN1_UTCTIME) {
		tm.tm_year = D(0) * 10 + D(1);
		if (tm.tm_year < 70)
			tm.tm_year += 100;
		i = 2;
	} else if (ASN1_STRING_type(t) == V_ASN1_GENERALIZEDTIME) {
		tm.tm_year = D(0) * 1000 + D(1) * 100 + D(2) * 10 + D(3) - 1900;
		i = 4;
	}
	tm.tm_mon = D(i) * 10 + D(i + 1) - 1;
	tm.tm_mday = D(i + 2) * 10 + D(i + 3);
	tm.tm_hour = D(i + 4) * 10 + D(i + 5);
	tm.tm_min = D(i + 6) * 10 + D(i + 7);
	tm.tm_sec = D(i + 8) * 10 + D(i + 9);
#undef D
	return (int64_t)timegm(&tm);
}

static int
set_cstr(struct pe_str *s, const char *c)
{
	return c != NULL ? pe_str_set(s, c, strlen(c)) : 0;
}

/* "01:02:..." of the serial's DER content, when it is 1 to 20 bytes. */
static int
serial_str(const ASN1_INTEGER *serial, struct pe_str *out)
{
	unsigned char der[24], *q = der;
	char hex[3 * 22];
	int n, j, r = 0;

	n = i2d_ASN1_INTEGER(serial, NULL);
	if (n <= 2 || n > 22)
		return 0;
	n = i2d_ASN1_INTEGER(serial, &q);
	if (n <= 2 || n > 22)
		return 0;
	for (j = 0; j < n - 2; j++)
		snprintf(hex + 3 * j, 4, j < n - 3 ? "%02x:" : "%02x", der[2 + j]);
	r = pe_str_set(out, hex, strlen(hex));
	return r;
}

static int
add_cert(struct pe_info *p, X509 *cert)
{
	struct pe_signature *s;
	unsigned char md[20];
	char buf[256], thumb[41];
	unsigned int mdlen = 0;
	int nid, j, r;

	if (ward_grow(&p->sig, &p->sigcap, p->nsig + 1, sizeof(*p->sig)) != 0)
		return WARD_ENOMEM;
	s = &p->sig[p->nsig++];
	memset(s, 0, sizeof(*s));
	if (X509_digest(cert, EVP_sha1(), md, &mdlen) == 1 && mdlen == sizeof(md)) {
		for (j = 0; j < 20; j++)
			snprintf(thumb + 2 * j, 3, "%02x", md[j]);
		if ((r = pe_str_set(&s->thumbprint, thumb, 40)) != 0)
			return r;
	}
	/* X509_NAME_oneline into 256 bytes, as YARA (long names are cut). */
	if (X509_NAME_oneline(X509_get_issuer_name(cert), buf, sizeof(buf)) != NULL &&
	    (r = set_cstr(&s->issuer, buf)) != 0)
		return r;
	if (X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof(buf)) != NULL &&
	    (r = set_cstr(&s->subject, buf)) != 0)
		return r;
	s->version = X509_get_version(cert) + 1;
	nid = X509_get_signature_nid(cert);
	if ((r = set_cstr(&s->algorithm, OBJ_nid2ln(nid))) != 0)
		return r;
	buf[0] = '\0';
	OBJ_obj2txt(buf, sizeof(buf), OBJ_nid2obj(nid), 1);
	if ((r = set_cstr(&s->algorithm_oid, buf)) != 0)
		return r;
	if (X509_get_serialNumber(cert) != NULL &&
	    (r = serial_str(X509_get_serialNumber(cert), &s->serial)) != 0)
		return r;
	s->not_before = asn1_time(X509_get0_notBefore(cert));
	s->not_after = asn1_time(X509_get0_notAfter(cert));
	return 0;
}

static int
parse_pkcs7(struct pe_info *p, PKCS7 *pkcs7, int depth)
{
	STACK_OF(X509) *certs = NULL;
	STACK_OF(PKCS7_SIGNER_INFO) * infos;
	STACK_OF(X509_ATTRIBUTE) * attrs;
	PKCS7_SIGNER_INFO *si;
	X509_ATTRIBUTE *xa;
	ASN1_TYPE *nested;
	const unsigned char *q;
	ASN1_OBJECT *oid = NULL;
	PKCS7 *inner;
	int i, r = 0;

	if (p->nsig >= WARD_MAX_PE_SIGNATURES || depth > WARD_MAX_PE_SIG_DEPTH)
		goto out;
	if ((certs = PKCS7_get0_signers(pkcs7, NULL, 0)) == NULL)
		goto out;
	for (i = 0; i < sk_X509_num(certs) && p->nsig < WARD_MAX_PE_SIGNATURES; i++)
		if ((r = add_cert(p, sk_X509_value(certs, i))) != 0)
			goto out;
	/* A nested signature (Authenticode's way to sign twice) sits in an
	 * unauthenticated attribute of the first signer. */
	infos = PKCS7_get_signer_info(pkcs7);
	if (infos == NULL || (si = sk_PKCS7_SIGNER_INFO_value(infos, 0)) == NULL)
		goto out;
	attrs = PKCS7_get_attributes(si);
	/* By its OID, without registering it in OpenSSL's global table (YARA
	 * registers it at start-up). */
	if ((oid = OBJ_txt2obj(SPC_NESTED_SIGNATURE, 1)) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	xa = X509at_get_attr(attrs, X509at_get_attr_by_OBJ(attrs, oid, -1));
	for (i = 0; xa != NULL && i < WARD_MAX_PE_SIGNATURES; i++) {
		if ((nested = X509_ATTRIBUTE_get0_type(xa, i)) == NULL)
			break;
		if (nested->type == V_ASN1_BOOLEAN || nested->type == V_ASN1_NULL ||
		    nested->type == V_ASN1_OBJECT || nested->value.asn1_string == NULL)
			continue;
		q = nested->value.asn1_string->data;
		if ((inner = d2i_PKCS7(NULL, &q, nested->value.asn1_string->length)) == NULL)
			continue;
		r = parse_pkcs7(p, inner, depth + 1);
		PKCS7_free(inner);
		if (r != 0)
			goto out;
	}
out:
	ASN1_OBJECT_free(oid);
	sk_X509_free(certs);
	return r;
}

int
pe_parse_signatures(struct pe_info *p, struct freader *f)
{
	uint32_t va, size, len;
	uint16_t rev, type;
	uint8_t *tab = NULL;
	uint64_t w, end, eod;
	const unsigned char *q;
	PKCS7 *pkcs7;
	int r = 0;

	if (pe_dir_entry(p, f, PE_DIR_SECURITY, &va, &size) != 0)
		goto out;
	p->has_signatures = 1;
	/* VirtualAddress is a file offset here. */
	if (va == 0 || va > f->size || size > f->size || (uint64_t)va + size > f->size ||
	    size > WARD_MAX_PE_CERT_TABLE)
		goto out;
	if ((tab = ward_malloc(size > 0 ? size : 1)) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	if (freader_read(f, va, tab, size) != 0)
		goto out;
	eod = (uint64_t)va + size;
	/* WIN_CERTIFICATE records, each 8-aligned (YARA aligns the address
	 * in memory, which is the file offset for a mapped file). */
	for (w = va; w + WIN_CERT_HEADER < eod; w = (end + 7) & ~(uint64_t)7) {
		const uint8_t *h = tab + (w - va);

		len = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
		      (uint32_t)h[3] << 24;
		rev = (uint16_t)(h[4] | h[5] << 8);
		type = (uint16_t)(h[6] | h[7] << 8);
		if (len <= WIN_CERT_HEADER || w + len > eod)
			break;
		if (rev != WIN_CERT_REV_1 && rev != WIN_CERT_REV_2)
			break;
		end = w + len;
		if (rev != WIN_CERT_REV_2 || type != WIN_CERT_PKCS_SIGNED)
			continue;
		q = h + WIN_CERT_HEADER;
		while (q < tab + (end - va) && p->nsig < WARD_MAX_PE_SIGNATURES) {
			pkcs7 = d2i_PKCS7(NULL, &q, (long)(tab + (end - va) - q));
			if (pkcs7 == NULL)
				break;
			r = parse_pkcs7(p, pkcs7, 0);
			PKCS7_free(pkcs7);
			if (r != 0)
				goto out;
		}
	}
out:
	ward_free(tab);
	return r;
}

void
pe_signatures_free(struct pe_info *p)
{
	size_t i;

	for (i = 0; i < p->nsig; i++) {
		pe_str_free(&p->sig[i].thumbprint);
		pe_str_free(&p->sig[i].issuer);
		pe_str_free(&p->sig[i].subject);
		pe_str_free(&p->sig[i].algorithm);
		pe_str_free(&p->sig[i].algorithm_oid);
		pe_str_free(&p->sig[i].serial);
	}
	ward_free(p->sig);
}

int64_t
pe_number_of_signatures(const struct pe_info *p)
{
	return p != NULL && p->has_signatures ? (int64_t)p->nsig : PE_UNDEFINED;
}

const struct pe_signature *
pe_signature(const struct pe_info *p, size_t i)
{
	return p != NULL && i < p->nsig ? &p->sig[i] : NULL;
}

size_t
pe_signature_count(const struct pe_info *p)
{
	return p != NULL ? p->nsig : 0;
}

int64_t
pe_signature_valid_on(const struct pe_signature *s, int64_t timestamp)
{
	if (s == NULL)
		return PE_UNDEFINED;
	return timestamp >= s->not_before && timestamp <= s->not_after;
}
