/*
 * reload: a reloaded configuration, from the supervisor to the worker.
 *
 * On SIGHUP the supervisor alone reads and checks the file and decides
 * what changes (config_changes); the worker gets the result — the whole
 * configuration in a sealed memory file, passed over the socket pair the
 * two share, with the groups that changed — and applies it.  One read of
 * the file and one decision: the supervisor and the worker never disagree
 * on the configuration that runs, and a worker restarted later starts with
 * it.
 */
#ifndef WARD_AGENT_RELOAD_H
#define WARD_AGENT_RELOAD_H

#include "agent/config.h"

/*
 * Sends c with groups (CONFIG_* bits) on sock (a SOCK_SEQPACKET socket;
 * never blocks).  0, or -1 with errno set (EAGAIN: the worker has not
 * taken the previous one yet).
 */
int reload_send(int sock, const struct agent_config *c, unsigned groups);

/*
 * Receives one message from sock.  0 with *out (allocated, the caller
 * frees it with ward_free) and *groups; 1 when the peer closed the socket;
 * -1 with errno set (EAGAIN: nothing to read; EPROTO: a message of the
 * wrong size, type or seals — the caller closes the channel).
 */
int reload_recv(int sock, struct agent_config **out, unsigned *groups);

/*
 * The worker's main loop, until SIGTERM or SIGINT: sfd is a signalfd of
 * SIGTERM, SIGINT and SIGHUP (a SIGHUP sent to the worker rather than to
 * the supervisor is passed on to it: the supervisor reads the file);
 * each configuration that comes on cfg_sock (-1: none) goes to apply,
 * which takes it.  A malformed message closes cfg_sock (said in the log).
 */
void reload_serve(int sfd, int cfg_sock, void (*apply)(struct agent_config *next, unsigned groups));

#endif
