/*
 * rollout_int: what the files of the rollout module share (rollout.c the
 * engine, rollout_agent.c what agents are told and report, rollout_view.c
 * plans and views).  Not a public header.
 */
#ifndef WARD_SERVER_ROLLOUT_INT_H
#define WARD_SERVER_ROLLOUT_INT_H

#include "server/rollout.h"
#include "server/store_rollout.h"

/* Wall-clock milliseconds: the gate orders check-ins finer than seconds. */
long long rollout_now_ms(void);

/* What agents should run changed: held check-ins are looked at again. */
int rollout_bump(struct db *db, struct ward_diag *d);

/* Adds a line to release id's timeline (what happened in ring, at now). */
int rollout_note(struct db *db, long long id, long long ring, int64_t now, struct ward_diag *d,
		 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
