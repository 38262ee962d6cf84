/*
 * uplink_fetch: the uplink's bundle download — one bundle the fleet server
 * announced, fetched into STATE_DIR/downloads/<sha256>.part (resuming a
 * partial download) and handed back, in a sealed memory file, once its
 * SHA-256 is the announced one.  The worker opens the part file
 * (uplink_part_open) and hands its descriptor to the uplink process
 * (agent/uplink_net.c), which downloads into it (uplink_fetch); the
 * worker checks the digest again.
 *
 * The server is not trusted: the target has passed download_target_parse,
 * every file operation is relative to the downloads directory's descriptor
 * (a private directory of root's, never followed through a symlink), the
 * uplink process touches only the part file it is handed, the answer is
 * judged by content/download.h before a byte is stored, and the directory
 * never holds more than one part file.
 */
#ifndef WARD_AGENT_UPLINK_FETCH_H
#define WARD_AGENT_UPLINK_FETCH_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "content/download.h"

/*
 * The worker's side: opens the part file of t in STATE_DIR/downloads (made
 * 0700 if missing; refused unless root's own, mode 0700, not a symlink),
 * removing any other entry there: the part of an earlier download if it
 * is a plain file of root's with one link, no larger than t->size (to be
 * resumed), else a new one (O_EXCL).  0 with *fd (read-write, appending;
 * the caller hands it to the uplink process, then calls uplink_part_done),
 * or -1 with err.
 */
int uplink_part_open(const char *state_dir, const struct download_target *t, int *fd, char *err,
		     size_t errlen);

/* After the download: removes the part when done (the bundle was taken,
 * or the part is not to be resumed) or empty (the uplink found it
 * useless), keeps it for the next request otherwise; closes fd. */
void uplink_part_done(const char *state_dir, const struct download_target *t, int fd, int done);

/*
 * The uplink process's side: downloads t with the handle c (its TLS
 * settings are the caller's; the request options it sets are reset before
 * it returns) from server_url, sending the header auth ("Authorization:
 * ...", borrowed), resuming from the end of the part file part (the
 * worker's descriptor, borrowed).  Returns 0 and *mfd, a sealed memory
 * file (lib/util/ipc.h; the caller closes it) of t->size bytes with the
 * announced SHA-256; or -1 with err saying why, the part kept when a later
 * request can resume it and emptied when it is of no use.
 */
int uplink_fetch(CURL *c, const char *server_url, int part, const char *auth,
		 const struct download_target *t, int *mfd, char *err, size_t errlen);

#endif
