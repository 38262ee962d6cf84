/*
 * image: the compiled content the agent's sandboxed validator hands its
 * root worker, and the form the content store keeps (v<N>.wrs).  It
 * carries everything a bundle compiles to, so the worker never parses a
 * bundle's text (YARA, hash lists, YAML, JSON):
 *
 *   8  "WARDCIMG"
 *   4  CONTENT_IMAGE_FORMAT
 *   8  payload length P
 *   32 SHA-256 of the payload
 *   P  payload: four sections, each a u32 length and its bytes:
 *        rules       a compiled rule file (scan/rulefile.h: its own
 *                    format, ward version, CPU family and checksum)
 *        sigma       process rules (sigma_set_encode)
 *        fim         the FIM policy (fim_watch_encode)
 *        exceptions  exceptions to verdicts (except_list_encode)
 *
 * Integers are little-endian.  An image is checked whole (magic, format,
 * length, checksum) before any section is read, and each section is read
 * by its module's checked decoder, which must consume it exactly.
 */
#ifndef WARD_CONTENT_IMAGE_H
#define WARD_CONTENT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "content/content.h"
#include "util/buf.h"
#include "util/err.h"

#define CONTENT_IMAGE_MAGIC "WARDCIMG"
#define CONTENT_IMAGE_FORMAT 1

/*
 * Appends the image of cs (its rule set, hash signatures and matcher
 * database; process rules, FIM policy, exceptions) to out.  0, or a
 * WARD_E* code with d saying why.
 */
int content_image_encode(const struct content_set *cs, struct wbuf *out, struct ward_diag *d);

/*
 * As content_image_encode, with the rules section given as the bytes of a
 * compiled rule file (rules[0..rules_len), not checked here).
 */
int content_image_assemble(const uint8_t *rules, size_t rules_len, const struct content_set *cs,
			   struct wbuf *out, struct ward_diag *d);

/*
 * Checks the image p[0..n) (untrusted) and decodes every section into
 * *cs (cleared on entry; the caller frees it with content_set_free).
 * *rebuilt as rulefile_parse says.  0, or WARD_EFORMAT / WARD_EVERSION /
 * WARD_ECHECKSUM / WARD_ENOMEM with d saying which section and why; *cs
 * is then empty.
 */
int content_image_decode(const uint8_t *p, size_t n, struct content_set *cs, int *rebuilt,
			 struct ward_diag *d);

/*
 * The rules section of the image p[0..n) — a compiled rule file for
 * rulefile_parse — after checking the image's magic, format, length and
 * checksum: *rules points into p.  For a reader that needs only the
 * scanning rules.  0 or WARD_EFORMAT / WARD_EVERSION / WARD_ECHECKSUM.
 */
int content_image_rules(const uint8_t *p, size_t n, const uint8_t **rules, size_t *rules_len,
			struct ward_diag *d);

#endif
