/*
 * fimstate: what the real-time FIM last knew of each watched file, kept
 * across the worker's restarts so that a change made while no worker ran
 * (it was killed, it crashed, the host booted without it) is reported
 * when the next one starts: the catch-up.
 *
 * The state is a map from path to the metadata the sensor last saw
 * (type, mode, owner, group, size, inode, mtime, ctime — no hash: the
 * catch-up would otherwise read every watched file at each start), plus
 * the policy it was recorded under, so that a file that came into sight
 * because the policy grew is recorded quietly, not reported as created.
 *
 * On disk (STATE_DIR/fim.state, mode 0600) it is a list of frames, each
 * a u32 length, the CRC32C of the payload, and the payload: first the
 * header (magic and policy), then records (put a path's metadata, forget
 * a path, forget a subtree, move a subtree).  A compaction rewrites the
 * whole map atomically (file_replace_at); between two, each reported
 * change appends one frame by one write(), right after its event is
 * journaled, so a killed worker loses at most the frame of the event it
 * was reporting (that one change is reported again, never lost).  The
 * file is untrusted on reading (a torn tail, a corrupted frame): read
 * through the sized reader, every length and count bounded; the valid
 * prefix is kept.
 *
 * A state that cannot hold every watched file (WARD_MAX_FIM_STATE_ENTRIES,
 * or a whole of more than half WARD_MAX_FIM_STATE_BYTES) says so in its
 * header: the next catch-up then compares and reports deletions of what it
 * knows, but does not report a file it does not know as created.
 *
 * The catch-up (fimstate_scan_*) compares what a walk of the trees finds
 * with the map; what it reports stays "caught" until the sensor has read
 * the kernel's events queued meanwhile (fimstate_live), so that a change
 * both seen by the walk and queued by the kernel is reported once.
 *
 * Not thread-safe: the FIM thread owns a state.
 */
#ifndef WARD_AGENT_FIMSTATE_H
#define WARD_AGENT_FIMSTATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "agent/sensor_event.h"
#include "util/buf.h"
#include "util/err.h"

struct fim_watch;

/* The state's file name in the agent's state directory. */
#define FIMSTATE_FILE "fim.state"

enum fimstate_type { FIMSTATE_REG = 1, FIMSTATE_DIR, FIMSTATE_LNK, FIMSTATE_OTHER };

/* What the sensor knows of one file. */
struct fimstate_attr {
	uint8_t type; /* enum fimstate_type */
	uint32_t mode, uid, gid;
	uint64_t size, ino;
	int64_t mtime_ns, ctime_ns;
};

/* st as a state's attributes. */
void fimstate_attr_of(const struct stat *st, struct fimstate_attr *a);

/*
 * How now differs from was, as the action a live event would have said:
 * 1 with *act SENSOR_FIM_MODIFIED (type, inode, size or mtime — the
 * content — changed) or SENSOR_FIM_ATTRIBUTES (only mode, owner, group or
 * ctime: a change and a change back leave the ctime moved), 0 when the
 * same.  A directory's size and times change with its entries: not
 * compared.
 */
int fimstate_differs(const struct fimstate_attr *was, const struct fimstate_attr *now,
		     enum sensor_fim_action *act);

struct fimstate;

/* A new, empty state in *s.  0 or WARD_ENOMEM. */
int fimstate_new(struct fimstate **s);
void fimstate_free(struct fimstate *s);

/* Files known (those a catch-up found gone not counted). */
size_t fimstate_count(const struct fimstate *s);

/* The policy the state was recorded under (NULL: none, a first start). */
const struct fim_watch *fimstate_watch(const struct fimstate *s);
/* The policy from now on (copied).  0 or WARD_ENOMEM. */
int fimstate_set_watch(struct fimstate *s, const struct fim_watch *w);

/* What is known of path, or NULL; valid until s changes. */
const struct fimstate_attr *fimstate_get(const struct fimstate *s, const char *path);

/* Records path as a (0), or WARD_ELIMIT (WARD_MAX_FIM_STATE_ENTRIES known
 * already, or path too long) or WARD_ENOMEM: then it is not recorded. */
int fimstate_put(struct fimstate *s, const char *path, const struct fimstate_attr *a);
/* Forgets path; with subtree, also what is under it. */
void fimstate_del(struct fimstate *s, const char *path, int subtree);
/* What was at from and under it is now at to and under it (entries whose
 * new path would be too long are forgotten).  0 or WARD_ENOMEM. */
int fimstate_move(struct fimstate *s, const char *from, const char *to);

/* --- the file ------------------------------------------------------------ */

/*
 * The state as a whole file (header and one put per file) appended to out;
 * returns out->err.
 */
int fimstate_encode(const struct fimstate *s, struct wbuf *out);

/*
 * Reads a state file's bytes p[0..n) into s (which must be new): the
 * header first (else WARD_EFORMAT, s empty), then each record in turn up
 * to the first torn or corrupted frame (the valid prefix is kept; *torn
 * says there was more).  Every length and count bounded (paths by
 * PATH_MAX, files by WARD_MAX_FIM_STATE_ENTRIES).  0, or WARD_EFORMAT /
 * WARD_ENOMEM with d.
 */
int fimstate_decode(struct fimstate *s, const void *p, size_t n, int *torn, struct ward_diag *d);

/* One record's frame, appended to out: a put (a not NULL), or a del of
 * path (and its subtree when subtree). */
void fimstate_frame_put(struct wbuf *out, const char *path, const struct fimstate_attr *a);
void fimstate_frame_del(struct wbuf *out, const char *path, int subtree);
void fimstate_frame_move(struct wbuf *out, const char *from, const char *to);

/*
 * Reads the state file name in the directory dfd (borrowed), at most
 * WARD_MAX_FIM_STATE_BYTES, into s (new).  0; WARD_EIO when there is none
 * (errno ENOENT) or it cannot be read; a decode error.
 */
int fimstate_load_at(struct fimstate *s, int dfd, const char *name, int *torn, struct ward_diag *d);

/*
 * Replaces the file name in dfd by the whole of s (atomically, mode 0600)
 * and opens it for appending in *fd (closed first if >= 0; -1 on
 * failure).  0, or WARD_EIO / WARD_ENOMEM with d.
 */
int fimstate_save_at(const struct fimstate *s, int dfd, const char *name, int *fd,
		     struct ward_diag *d);

/* --- the catch-up ---------------------------------------------------------- */

/* A walk begins: nothing is seen yet. */
void fimstate_scan_begin(struct fimstate *s);

/* What a walk does with a path it finds. */
enum fimstate_how {
	FIMSTATE_REPORT, /* watched when the state was recorded: a difference is a change */
	FIMSTATE_QUIET,	 /* new in sight: only recorded */
	FIMSTATE_KEEP,	 /* watched all along (a policy change): the live events say
			    its changes, what is known stays (recorded if unknown) */
};

/*
 * The walk found path as a, to be treated as how says.  1 with *act when
 * it is to be reported (then it is "caught"), 0 when not, or WARD_ELIMIT /
 * WARD_ENOMEM (not recorded).
 */
int fimstate_scan_found(struct fimstate *s, const char *path, const struct fimstate_attr *a,
			enum fimstate_how how, enum sensor_fim_action *act);

/* The walk read the entries of the directory at path (or, for a single
 * watched file, looked for it in its directory). */
int fimstate_scan_read(struct fimstate *s, const char *path);

/*
 * The walk ended.  A known path it did not see is: not covered any more
 * (covered says, arg its argument), forgotten quietly; with gone (a
 * catch-up), gone when the nearest directory above it that the walk saw
 * is one it read — reported through gone and kept as caught; else (the
 * walk could not look there, or the live events will say) kept as it was.
 * covered and gone must not change s.
 */
void fimstate_scan_end(struct fimstate *s, int (*covered)(void *arg, const char *path),
		       void (*gone)(void *arg, const char *path), void *arg);

/*
 * A live event is about to report act for path, whose file is now as a
 * (NULL: not looked at, gone).  0 when the catch-up reported path and the
 * event is for that change (the file is still as the walk saw it, or the
 * deletion it said): not again; path stays caught.  Else 1, with *act
 * possibly changed (a creation the catch-up already reported is now a
 * modification; a file it found gone and made again, a creation), and
 * path is no longer caught.
 */
int fimstate_live(struct fimstate *s, const char *path, const struct fimstate_attr *a,
		  enum sensor_fim_action *act);

/* The kernel's events queued during the catch-up are read: nothing is
 * caught any more, gone files are forgotten. */
void fimstate_caught_done(struct fimstate *s);

#endif
