/*
 * uplink_fetch: the uplink's bundle download — one bundle the fleet server
 * announced, fetched into STATE_DIR/downloads/<sha256>.part (resuming a
 * partial download) and handed back once its SHA-256 is the announced one.
 *
 * The server is not trusted: the target has passed download_target_parse,
 * every file operation is relative to the downloads directory's descriptor
 * (a private directory of the agent's own, never followed through a
 * symlink), the answer is judged by content/download.h before a byte is
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
 * sending the header auth ("Authorization: ...", borrowed).  Returns 0 and
 * *out (t->size bytes, owned by the caller, freed with ward_free) with the
 * announced SHA-256; or -1 with err saying why, the part file kept when a
 * later request can resume it and removed when it is of no use.
 */
int uplink_fetch(CURL *c, const char *server_url, const char *state_dir, const char *auth,
		 const struct download_target *t, uint8_t **out, size_t *len, char *err,
		 size_t errlen);

#endif
