/*
 * checkin: the fleet server's answer to a check-in, as the agent takes it
 * (checkin_answer_parse) and as the server writes it (checkin_answer_encode).
 *
 * The server is not trusted by the agent: every field is checked for type
 * and range before any is used, and "desired" through
 * download_target_parse, the one check of what the server offers.  A
 * desired object that does not pass is not an error of the whole answer:
 * the agent still takes the interval and the acknowledgement and reports
 * the refusal (desired_state CHECKIN_DESIRED_BAD, desired_why).  The fleet's
 * exceptions are kept as the JSON the server sent: the agent's exception
 * list checks them whole (exceptions_fleet), as it checks a local file.
 */
#ifndef WARD_PROTO_CHECKIN_H
#define WARD_PROTO_CHECKIN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "content/download.h"
#include "util/err.h"
#include "util/limits.h"

/* Bounds of the answer's numbers: the agent checks in at least daily. */
#define CHECKIN_MAX_INTERVAL_S 86400
#define CHECKIN_MAX_BATCH 999999
/* The most text of an answer: the fleet's exceptions and a little more. */
#define CHECKIN_MAX_BYTES (WARD_MAX_EXCEPT_JSON + WARD_MAX_CHECKIN_BYTES)

enum checkin_desired {
	CHECKIN_DESIRED_NONE, /* absent or null: nothing to run */
	CHECKIN_DESIRED_OK,   /* desired holds the checked target */
	CHECKIN_DESIRED_BAD,  /* refused: desired_why says why; desired is all zero */
};

struct checkin_answer {
	int64_t next_checkin_s;	    /* 0 .. CHECKIN_MAX_INTERVAL_S */
	int64_t events_acked;	    /* the last journal sequence the server holds; >= 0 */
	int64_t checkin_interval_s; /* config; 0: not sent */
	int64_t events_batch_max;   /* config: what one upload may carry; 0: not sent */
	enum checkin_desired desired_state;
	struct download_target desired;
	char desired_why[sizeof(((struct ward_diag *)0)->msg)];
	json_t *exceptions; /* {"revision", "list"} as sent, or NULL; owned */
};

/* Checks the answer object o into *a.  0, or WARD_EFORMAT with d naming the
 * field (*a then all zero). */
int checkin_answer_check(const json_t *o, struct checkin_answer *a, struct ward_diag *d);

/* The same from text (len bytes, at most CHECKIN_MAX_BYTES: WARD_ELIMIT;
 * WARD_ESYNTAX if it is not a JSON object). */
int checkin_answer_parse(const char *text, size_t len, struct checkin_answer *a,
			 struct ward_diag *d);

/* The answer's JSON, as checkin_answer_check takes it: checkin_answer_check(encode(a))
 * gives a's fields back.  A new object, or NULL when out of memory. */
json_t *checkin_answer_encode(const struct checkin_answer *a);

/* Frees what a owns; a may be all zeros. */
void checkin_answer_free(struct checkin_answer *a);

#endif
