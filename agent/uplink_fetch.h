/*
 * uplink_fetch: the uplink's bundle download — one bundle the fleet server
 * announced, fetched into STATE_DIR/downloads/<sha256>.part (resuming a
 * partial download) and handed back, in a sealed memory file, once its
 * SHA-256 is the announced one.  It runs in the uplink process
 * (agent/uplink_net.c), as the unprivileged user that owns the downloads
 * directory; the worker checks the digest again.
 *
 * The server is not trusted: the target has passed download_target_parse,
 * every file operation is relative to the downloads directory's descriptor
 * (a private directory of the uplink's user, opened by the worker, never
 * through a symlink), the answer is judged by content/download.h before a byte is
 * stored, and the directory never holds more than one part file.
 */
#ifndef WARD_AGENT_UPLINK_FETCH_H
#define WARD_AGENT_UPLINK_FETCH_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "content/download.h"

/*
 * Downloads t with the handle c (its TLS settings are the caller's; the
 * request options it sets are reset before it returns) from server_url,
 * sending the header auth ("Authorization: ...", borrowed), into the part
 * file under ddir, the downloads directory (borrowed; it must be this
 * process's user's, mode 0700).  Returns 0 and *mfd, a sealed memory file
 * (lib/util/ipc.h; the caller closes it) of t->size bytes with the
 * announced SHA-256; or -1 with err saying why, the part file kept when a
 * later request can resume it and removed when it is of no use.
 */
int uplink_fetch(CURL *c, const char *server_url, int ddir, const char *auth,
		 const struct download_target *t, int *mfd, char *err, size_t errlen);

#endif
