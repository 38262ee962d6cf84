/*
 * validator: compiles and tests a bundle's content in a child process
 * that cannot hurt the agent — unprivileged (validator.user), under
 * rlimits (CPU seconds, address space, no files, no core dumps), behind a
 * seccomp allow-list (memory, time, its answer on the channel, exit), with
 * a wall clock deadline.  The compiled rule set comes back in a sealed
 * memory file beside a typed frame (lib/content/valmsg.h); the caller must
 * verify it (rulefile_parse) before using it.
 */
#ifndef WARD_AGENT_VALIDATOR_H
#define WARD_AGENT_VALIDATOR_H

#include <stddef.h>

#include "agent/config.h"
#include "content/bundle.h"
#include "util/buf.h"

/*
 * Validates the bundle bundle[0..len) in a sandboxed child (a fresh
 * `wardd --validator` with c's validator.* limits on its command line, so
 * that nothing of the agent's threads and locks is inherited, and the
 * limits are those of the configuration the agent runs, whatever the file
 * holds by then).  Returns 0 with the compiled image
 * appended to out, or a negative WARD_E* code with reason (reasonlen
 * bytes) saying why.  The code is the typed result: WARD_EVERIFY the
 * content's own error (a rule that does not compile, a failing test) or
 * the child's crash; WARD_ELIMIT a time limit hit (CPU time, deadline);
 * WARD_ENOMEM the memory limit; WARD_EIO the child could not be started;
 * WARD_EPROTO when the child's answer broke the channel's protocol
 * (reason is then ipc_attack_text's: log it as an attack).
 */
int validator_run(const struct agent_config *c, const uint8_t *bundle, size_t len, struct wbuf *out,
		  char *reason, size_t reasonlen);

/* The body of `wardd --validator` (fd 3: its ipc channel to the worker);
 * the exit status of the process. */
int validator_main(const struct agent_config *c);

/* Applies the sandbox to the calling process (the child's first step;
 * exposed for tests).  0 or -errno. */
int validator_sandbox(const struct agent_config *c);

#endif
