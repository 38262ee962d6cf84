/*
 * fimmon_ctx: what the files of the real-time FIM (fimmon.c: the thread,
 * its events, reporting; fimmon_policy.c: marks, policy, catch-up, state)
 * share.  Internal to them: the rest of the agent uses fimmon.h.
 */
#ifndef WARD_AGENT_FIMMON_CTX_H
#define WARD_AGENT_FIMMON_CTX_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "agent/fimmon.h"
#include "agent/fimstate.h"
#include "agent/fimwho.h"
#include "agent/sensor_event.h"
#include "fim/tree.h"
#include "fim/watch.h"

struct digest_ctx;

#define MARK_MASK                                                                                  \
	(FAN_CREATE | FAN_DELETE | FAN_RENAME | FAN_CLOSE_WRITE | FAN_ATTRIB | FAN_DELETE_SELF |   \
	 FAN_ONDIR | FAN_EVENT_ON_CHILD)
#define RATE_WINDOW_S 60
#define PENDING_MAX 256
#define PENDING_S 0.5	       /* a creation waits this long for its first close */
#define HASH_MAX (64ull << 20) /* larger files are reported without a hash */
#define FS_KEEP_S 1.0	       /* a watched filesystem's descriptor is kept this long */
/* Bytes appended to the state file beyond which it is rewritten whole
 * (when also more than the whole it was last written as). */
#define STATE_COMPACT (1u << 20)

/* Who made a change. */
struct who {
	pid_t pid;
	char exe[PATH_MAX], name[32], pkg[32];
	int partial;
};

/* A creation waiting for its first close (to report the final size and
 * hash once), and where to look at it: its directory and name. */
struct pending {
	char *path;
	struct fim_tree_id dir;
	char name[NAME_MAX + 1];
	struct who w;
	double at;
};

/*
 * Where a reported file is: the path the event says, and how to look at
 * the file — in its directory, open (dirfd) or known by identity (dir) —
 * by its name there ("." for the directory itself).  Never by the path:
 * a user may have changed what it leads to since the kernel's event.
 */
struct loc {
	const char *path;
	int dirfd;		       /* -1: open dir */
	const struct fim_tree_id *dir; /* with dirfd -1 and dir NULL: nothing to look at */
	const char *name;
};

/* What an event's record names: the path (from the directory map), the
 * directory's identity and the name in it (in the event's buffer). */
struct rec {
	char path[PATH_MAX];
	struct fim_tree_id dir;
	const char *name;
};

/* One sensor: its thread owns all but what lock guards. */
struct fimmon_ctx {
	const struct sensor_host *host; /* the agent, from start on */
	struct agent_config *cfg;	/* the fim thread's own copy */
	struct agent_config *next;	/* a reload's, for the fim thread to take; lock */
	int fan, wake;
	int running; /* lock: the thread runs and fim.realtime is on */
	int started; /* lock: the thread runs */
	struct fim_watch watch;
	struct fim_tree *tree; /* the directories marked, by identity */
	struct fimwho_rate rates;
	struct pending pend[PENDING_MAX];
	unsigned npend;
	struct digest_ctx *dc;
	uint8_t *buf;
	/* What was last known of each watched file (fimstate.h), in the
	 * state directory sdir, appended to through sfd. */
	struct fimstate *state;
	int sdir, sfd;
	uint64_t appended, saved;     /* since the last whole write; its size */
	int applied;		      /* the policy was applied once: the start is done */
	int walking;		      /* apply_policy walks: it records what it finds */
	int scanning;		      /* ... at the start: and reports what changed (catch-up) */
	const struct fim_watch *prev; /* while walking: the policy before (NULL: none) */
	int catching; /* the catch-up's reports: the kernel's events queued meanwhile unread */
	pthread_mutex_t lock; /* st, cu, cu_begin, partial, running, next */
	struct fimmon_stats st;
	struct fimmon_catchup cu;
	double cu_begin; /* when the catch-up began (monotonic seconds) */
	char partial[300];
};

enum walk_mode { WALK_MARK, WALK_MARK_REPORT };

/* --- fimmon.c ---------------------------------------------------------------- */

/* Reports action for l (looked at as the action needs), made by w (NULL:
 * unknown), a rename's old path previous; records it in the state. */
void fimmon_report(struct fimmon_ctx *f, enum sensor_fim_action action, const struct loc *l,
		   const struct who *w, const char *previous);

/* --- fimmon_policy.c --------------------------------------------------------- */

void fimmon_stat_add(struct fimmon_ctx *f, uint64_t *counter, uint64_t n);
/* Says (once, the first reason) why the sensor watches less than asked. */
void fimmon_say_partial(struct fimmon_ctx *f, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* (Re)applies the policy (see fimmon_policy.c); the first time, the walk
 * is the catch-up. */
void fimmon_apply_policy(struct fimmon_ctx *f, int force);

/* The tree of the directory name in dir (by identity), found at path:
 * marked, its entries reported as created with WALK_MARK_REPORT. */
void fimmon_walk_at(struct fimmon_ctx *f, const struct fim_tree_id *dir, const char *name,
		    const char *path, enum walk_mode mode, const struct who *w);

/* The directory at from and everything under it left the policy's sight:
 * their marks and map entries go. */
void fimmon_forget_subtree(struct fimmon_ctx *f, const char *from);

/* What the state knows after a change of l's file (st: as looked at, or
 * NULL) was said or left unsaid; appended to the state file at once. */
void fimmon_record(struct fimmon_ctx *f, enum sensor_fim_action action, const struct loc *l,
		   const struct stat *st, const char *previous);

/* The state from before this start; the state written whole. */
void fimmon_load_state(struct fimmon_ctx *f);
void fimmon_save_state(struct fimmon_ctx *f);

#ifdef WARD_FAULT_INJECTION
void fimmon_fault_stall(const char *which, const char *path);
#endif

#endif
