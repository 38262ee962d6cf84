/*
 * reload: the channels between the supervisor and the worker (ipc,
 * lib/util/ipc.h), and the worker's entry after its exec.
 *
 * The supervisor starts the worker by fork + exec (proctab.h) as
 * `wardd --worker --config PATH` with two channels:
 *
 *   fd 3  supervisor -> worker   config     u32 groups (CONFIG_* bits), u64
 *                                           size; beside it the whole
 *                                           struct agent_config in a sealed
 *                                           memory file of exactly that size
 *   fd 4  worker -> supervisor   heartbeat  empty: the worker is alive
 *
 * The first configuration is the one the worker starts with (groups 0);
 * each later one is a reload (SIGHUP): the supervisor alone reads and
 * checks the file and decides what changes (config_changes), the worker
 * applies what it is sent.  One read of the file and one decision: the
 * two never disagree on the configuration that runs.
 *
 * A configuration arrives as bytes: before anything uses it,
 * reload_config_check refuses one that wardd.yaml could not have given —
 * through the same table of keys and ranges config_load reads the file by
 * (config_check): a string that does not end within its array, a count
 * beyond its array, a number out of its key's range, an enum or flag out
 * of range — never a silent repair.
 */
#ifndef WARD_AGENT_RELOAD_H
#define WARD_AGENT_RELOAD_H

#include "agent/config.h"
#include "util/ipc.h"

enum reload_type {
	RELOAD_CONFIG = 1,
	RELOAD_HEARTBEAT = 2,
};

/* The fds the worker finds its channels on. */
#define RELOAD_FD_CONFIG 3
#define RELOAD_FD_HEARTBEAT 4

/* Every group a reload may name. */
#define RELOAD_GROUPS                                                                              \
	(CONFIG_SUPERVISOR | CONFIG_CONTENT | CONFIG_SCAN | CONFIG_ONACCESS | CONFIG_FIM |         \
	 CONFIG_OUTPUTS | CONFIG_EXCEPTIONS)

/* The channels' tables: each is one-way, the other direction empty. */
extern const struct ipc_proto reload_config_proto;    /* config */
extern const struct ipc_proto reload_heartbeat_proto; /* heartbeat */
extern const struct ipc_proto reload_nothing;	      /* nothing may come */

/*
 * The supervisor's side: sends c with groups on ch (made with rx
 * reload_nothing, tx reload_config_proto) by deadline.  0 or an ipc error
 * (d says why; a timeout closes the channel).
 */
int reload_send(struct ipc *ch, const struct agent_config *c, unsigned groups, double deadline,
		struct ward_diag *d);

/*
 * The worker's side: receives one configuration from ch by deadline: 0
 * with *out (allocated; the caller frees it with ward_free) and *groups;
 * WARD_EPROTO (a frame or a configuration that breaks the rules above: d
 * says why), or another ipc error.  Every failure closes the channel.
 */
int reload_recv(struct ipc *ch, double deadline, struct agent_config **out, unsigned *groups,
		struct ward_diag *d);

/*
 * Checks c, which came as bytes (config_check): 0, or WARD_EPROTO with d
 * naming the first key that is wrong by its wardd.yaml name.  A pure
 * function, for tests.
 */
int reload_config_check(const struct agent_config *c, struct ward_diag *d);

/* The worker's heartbeat on ch (never waits more than a second): 0 or an
 * ipc error (the channel is closed then). */
int reload_heartbeat(struct ipc *ch);

/*
 * The worker's main loop, until SIGTERM or SIGINT: sfd is a signalfd of
 * SIGTERM, SIGINT and SIGHUP (a SIGHUP sent to the worker rather than to
 * the supervisor is passed on to it: the supervisor reads the file);
 * each configuration that comes on cfg (NULL: none; taken: freed here)
 * goes to apply, which takes it.  A frame that breaks the channel is
 * logged as an attack and ends reloads.
 */
void reload_serve(int sfd, struct ipc *cfg,
		  void (*apply)(struct agent_config *next, unsigned groups));

/*
 * `wardd --worker --config PATH`: takes its channels from fds 3 and 4,
 * receives the configuration it starts with, and runs worker_main.  The
 * process's exit status.
 */
int reload_worker_main(const char *config_path);

#endif
