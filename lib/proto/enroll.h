/*
 * enroll: an agent's enrollment request, as the fleet server takes it.
 *
 *   {"token": 64 hex, "machine_id", "hw_id", "hostname", "version",
 *    "agent_id": 32 hex, "secret": 64 hex}     (the last two optional)
 *
 * The sender is not authenticated yet (the token is what it proves), so
 * the text is at most WARD_MAX_ENROLL_BYTES and every field is checked
 * for size and characters.  agent_id and secret, when present, prove that
 * the sender held an identity already: only such a proof re-enrolls an
 * existing agent without an operator's approval.
 */
#ifndef WARD_PROTO_ENROLL_H
#define WARD_PROTO_ENROLL_H

#include <stddef.h>

#include "util/err.h"

#define ENROLL_TOKEN_LEN 64 /* 256 random bits, hex */
#define ENROLL_ID_LEN 32    /* agent ids: 128 random bits, hex */
#define ENROLL_FIELD_MAX 256

struct enroll_msg {
	char token[ENROLL_TOKEN_LEN + 1];
	char machine_id[ENROLL_FIELD_MAX + 1]; /* /etc/machine-id; may be "" */
	char hw_id[ENROLL_FIELD_MAX + 1];      /* hardware hints, hashed by the agent */
	char hostname[ENROLL_FIELD_MAX + 1];
	char version[65];
	char agent_id[ENROLL_ID_LEN + 1];  /* "" if no proof */
	char secret[ENROLL_TOKEN_LEN + 1]; /* "" if no proof */
};

/* Parses and checks len bytes of text into *m.  0, or WARD_ELIMIT /
 * WARD_ESYNTAX / WARD_EFORMAT with d naming the field. */
int enroll_parse(const char *text, size_t len, struct enroll_msg *m, struct ward_diag *d);

/* Wipes the secrets m holds (token, secret). */
void enroll_wipe(struct enroll_msg *m);

#endif
