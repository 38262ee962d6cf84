/*
 * clamd: wardd's clamd-compatible socket (docs/clamd.md).  Mail gateways,
 * file servers and clamdscan talk to it as to ClamAV's clamd; the files
 * are scanned by the worker's scanner processes (agent/scanpool.h) with
 * the agent's active content, poison guard and crash guard.
 *
 * A Unix socket (clamd.socket) and, when clamd.tcp_port is set, a TCP
 * listener on clamd.tcp_address.  Path commands (SCAN, CONTSCAN,
 * MULTISCAN, ALLMATCHSCAN) open files with the client's own credentials
 * (the Unix socket's SO_PEERCRED; over TCP, clamd.tcp_path_user or
 * refused), never as root.
 */
#ifndef WARD_AGENT_CLAMD_H
#define WARD_AGENT_CLAMD_H

#include "agent/config.h"

/* The most supplementary groups a client's opens are done with: a client
 * in more gets no path commands (leaving groups out could give access a
 * group is denied). */
#define CLAMD_MAX_GROUPS 64

/*
 * Listens as c->clamd_* say (c lives as long as the process) and serves
 * from threads.  0, or -1 (said in the log; the rest of the agent runs on).
 */
int clamd_start(const struct agent_config *c);
/* Removes the Unix socket. */
void clamd_stop(void);

#endif
