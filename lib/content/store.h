/*
 * store: the agent's content store under STATE_DIR/content.
 *
 *   state.json     what is current, last-known-good, rejected, crashed
 *   v<N>.wbundle   the signed bundle of version N, as received
 *   v<N>.wrs       its compiled rule set, as the validator produced it
 *
 * state.json is the commit point: files of a new version are written (and
 * synced) first, then state.json is replaced atomically, then files no
 * longer referenced are removed.  A crash at any moment leaves state.json
 * naming either the old or the new version, with that version's files
 * complete on disk — never a mix.
 */
#ifndef WARD_CONTENT_STORE_H
#define WARD_CONTENT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/cause.h"
#include "util/err.h"

#define STORE_MAX_REJECTED 32
#define STORE_MAX_CRASHES 64
#define STORE_MAX_REASON 256

struct store_entry {
	int present;
	char name[65];
	int64_t version;
	int64_t activated_at; /* Unix seconds */
	int64_t expires;      /* Unix seconds */
};

struct store_reject {
	int64_t version;
	int64_t at;
	enum refusal_cause cause;      /* what the fleet's gate counts ("cause" in state.json;
					  a record written before causes reads as CAUSE_REFUSED) */
	char reason[STORE_MAX_REASON]; /* for people only */
};

struct store_crash {
	int64_t version; /* 0: no content (safe mode) */
	int64_t at;
};

struct store_state {
	int64_t highest; /* highest version ever activated (anti-rollback) */
	struct store_entry current, lkg;
	struct store_reject rejected[STORE_MAX_REJECTED]; /* oldest first */
	unsigned nrejected;
	struct store_crash crashes[STORE_MAX_CRASHES]; /* oldest first */
	unsigned ncrashes;
	/* Safe mode: content-driven work is off until new content arrives. */
	int safe;
	char safe_reason[STORE_MAX_REASON];
};

/*
 * Creates STATE_DIR/content (mode 0700) if needed and reads state.json
 * (an absent file is an empty store).  WARD_EIO, or WARD_EFORMAT when
 * state.json is damaged (d says so; the agent then starts empty rather
 * than trusting it).
 */
int store_open(const char *state_dir, struct store_state *st, struct ward_diag *d);

/* Writes state.json atomically. */
int store_save(const char *state_dir, const struct store_state *st, struct ward_diag *d);

/* The path of version's bundle (kind "wbundle") or compiled set ("wrs"). */
void store_path(const char *state_dir, int64_t version, const char *kind, char *out, size_t outlen);

/*
 * A test hook: called between the steps of store_install with the step's
 * name ("files-written", "state-written"); NULL in production.
 */
typedef void (*store_step_fn)(const char *step);

/*
 * Installs version (bundle and compiled bytes): files first, then
 * state.json (current becomes last-known-good), then removes unreferenced
 * files.  Leaves *st updated only on success.
 */
int store_install(const char *state_dir, struct store_state *st, const char *name,
		  int64_t version, int64_t expires, const uint8_t *bundle, size_t bundle_len,
		  const uint8_t *compiled, size_t compiled_len, int64_t now, store_step_fn step,
		  struct ward_diag *d);

/*
 * Records that version was refused (or rolled back), for cause (decided by
 * the caller from the check that failed) and why in words; keeps the
 * newest STORE_MAX_REJECTED.  Does not save.
 */
void store_reject(struct store_state *st, int64_t version, enum refusal_cause cause,
		  const char *reason, int64_t now);

/* Records a crash of the worker while version was current.  Does not save. */
void store_crash(struct store_state *st, int64_t version, int64_t now);

/* Number of crashes of version at or after since. */
unsigned store_crashes_since(const struct store_state *st, int64_t version, int64_t since);

/*
 * Makes last-known-good current (the current version is recorded as
 * rejected for cause, with reason) and saves.  WARD_EINVAL if there is no
 * last-known-good.
 */
int store_rollback(const char *state_dir, struct store_state *st, enum refusal_cause cause,
		   const char *reason, int64_t now, struct ward_diag *d);

/* e as a JSON object {"name", "version", "activated_at", "expires"}, or
 * JSON null when absent (a new reference). */
struct json_t;
struct json_t *store_entry_json(const struct store_entry *e);

/* Removes files of versions that are neither current nor last-known-good. */
void store_gc(const char *state_dir, const struct store_state *st);

#endif
