/*
 * scanner: the process that reads and matches files for the worker
 * (wardd --scanner), unprivileged and confined by seccomp, so that a bug
 * in the matcher met by a crafted file is not code execution as root and
 * a file that crashes it costs a scanner, not the worker.
 *
 * It talks to the worker over an ipc channel on its fd 3 (the messages of
 * lib/scan/scanmsg.h): content as a sealed memory file, then scan
 * requests, each with the file open read-only beside it, each answered
 * with a typed verdict.  The worker's side is agent/scanpool.h.
 */
#ifndef WARD_AGENT_SCANNER_H
#define WARD_AGENT_SCANNER_H

#include "agent/config.h"

/*
 * Sets the scanner's limits (address space from validator.memory_mb, no
 * core, few descriptors, no new processes), drops to scan.user (when
 * root), sets no_new_privs and loads the seccomp allow-list: reading,
 * mapping and closing what it was given, its channel, memory and threads.
 * Anything else (open, socket, exec, ptrace ...) kills the process.
 * 0 or -errno.
 */
int scanner_sandbox(const struct agent_config *c);

/* The scanner process: enters the sandbox, then serves the worker on fd 3
 * until the channel closes.  Returns the exit status. */
int scanner_main(const struct agent_config *c);

#endif
