/*
 * enroll: parsing an enrollment request.  See enroll.h.
 *
 * Must hold: the token and the proof are format-checked (exact length,
 * lowercase hex) before anything looks them up; a half-given proof is an
 * error, never "no proof".
 */
#include "proto/enroll.h"
#include "proto/jcheck.h"
#include "util/limits.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <string.h>

void
enroll_wipe(struct enroll_msg *m)
{
	OPENSSL_cleanse(m->token, sizeof(m->token));
	OPENSSL_cleanse(m->secret, sizeof(m->secret));
}

int
enroll_parse(const char *text, size_t len, struct enroll_msg *m, struct ward_diag *d)
{
	json_error_t je;
	json_t *o = NULL;
	int r;

	memset(m, 0, sizeof(*m));
	if (len > WARD_MAX_ENROLL_BYTES)
		return diag_set(d, WARD_ELIMIT, NULL, 0, 0,
				"an enrollment request is at most %u bytes", WARD_MAX_ENROLL_BYTES);
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL || !json_is_object(o)) {
		r = diag_set(d, WARD_ESYNTAX, NULL, 0, 0, "the body must be a JSON object%s%s",
			     o == NULL ? ": " : "", o == NULL ? je.text : "");
		goto out;
	}
	if ((r = jcheck_string(o, "token", 0, JCHECK_HEX, ENROLL_TOKEN_LEN, m->token,
			       sizeof(m->token), d)) != 0 ||
	    (r = jcheck_string(o, "machine_id", 0, JCHECK_TEXT, 0, m->machine_id,
			       sizeof(m->machine_id), d)) != 0 ||
	    (r = jcheck_string(o, "hw_id", 0, JCHECK_TEXT, 1, m->hw_id, sizeof(m->hw_id), d)) !=
		0 ||
	    (r = jcheck_string(o, "hostname", 0, JCHECK_TEXT, 0, m->hostname, sizeof(m->hostname),
			       d)) != 0 ||
	    (r = jcheck_string(o, "version", 0, JCHECK_TOKEN, 1, m->version, sizeof(m->version),
			       d)) != 0 ||
	    (r = jcheck_string(o, "agent_id", 1, JCHECK_HEX, ENROLL_ID_LEN, m->agent_id,
			       sizeof(m->agent_id), d)) != 0 ||
	    (r = jcheck_string(o, "secret", 1, JCHECK_HEX, ENROLL_TOKEN_LEN, m->secret,
			       sizeof(m->secret), d)) != 0)
		goto out;
	if ((m->agent_id[0] == '\0') != (m->secret[0] == '\0'))
		r = diag_set(d, WARD_EFORMAT, NULL, 0, 0,
			     "a proof of identity needs both \"agent_id\" and \"secret\"");
out:
	json_decref(o);
	if (r != 0)
		enroll_wipe(m);
	return r;
}
