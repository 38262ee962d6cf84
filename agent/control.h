/*
 * control: the agent's control socket, run_dir/control.sock, a
 * SOCK_SEQPACKET socket speaking the typed frames of lib/proto/ctlmsg.h:
 * one request per connection (its type the command: status, apply,
 * rollback, scan, quarantine-*, except-*), one answer (JSON text, in the
 * frame or a sealed memory file).  `ward agent` and `ward quarantine` are
 * its clients; a request that breaks the channel is logged as an attack.
 */
#ifndef WARD_AGENT_CONTROL_H
#define WARD_AGENT_CONTROL_H

#include "agent/config.h"

#include <stdint.h>

struct json_t;

/* Listens on run_dir/control.sock and serves it from a thread.  0, or -1
 * (said in the log). */
int control_start(const struct agent_config *c);
const char *control_socket_path(void);
/* Removes the socket. */
void control_stop(void);

/* scan.max_filesize from now on (a reload). */
void control_set_max_filesize(uint64_t max);

/* Activates the bundle file at path, as the "apply" request does. */
struct json_t *control_apply(const char *path);

/*
 * Accepts a connection on the listening socket lfd (close-on-exec), for
 * the control socket and the clamd socket alike: a shortage of descriptors
 * or memory is waited out (logged once per shortage, naming what), so the
 * socket serves again once there are.  The new descriptor, or -1 when
 * accept fails otherwise (logged: the socket serves no more).
 */
int control_accept(int lfd, const char *what);

#endif
