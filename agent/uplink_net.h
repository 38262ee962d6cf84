/*
 * uplink_net: the uplink process (wardd --uplink), the only part of wardd
 * that speaks TLS, HTTP and JSON with the fleet server.
 *
 * The worker starts it (agent/proctab.h) with two channels — fd 3 for
 * check-ins, which the server may hold for a long poll, and fd 4 for
 * enrollment, event uploads and bundle downloads.  It confines itself
 * before it reads a byte from anyone: the unprivileged server.user with
 * no way back, no_new_privs, not dumpable, and a seccomp allow-list of
 * what a TLS client needs (its threads, sockets, read-only files for the
 * resolver and the CA store; no file opened for writing: a download goes
 * into the part file the worker hands over beside the request).  Then it
 * serves the worker's requests (lib/proto/upmsg.h), one call to the
 * server each, answering with typed messages the worker checks again; it
 * keeps no state of its own.
 */
#ifndef WARD_AGENT_UPLINK_NET_H
#define WARD_AGENT_UPLINK_NET_H

/* Its channels, as the worker places them. */
#define UPLINK_FD_POLL 3
#define UPLINK_FD_CALLS 4

/* The longest the server holds a check-in (a long poll), and the longest
 * one call may take in all. */
#define UPLINK_LONG_POLL_S 30
#define UPLINK_CALL_TIMEOUT_S (UPLINK_LONG_POLL_S + 60)

/* The uplink process: confines itself as user, then serves the worker
 * until its channels close.  Returns the exit status. */
int uplink_net_main(const char *user);

#endif
