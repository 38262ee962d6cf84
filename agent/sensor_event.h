/*
 * sensor_event: the events the sensors journal, each built by a pure
 * function from typed values the sensor gathered (no /proc, no kernel, no
 * clock but the event's timestamp) — so that what an alert says is tested
 * apart from how the sensor learnt it.  Field names are ECS's
 * (docs/events.md); every function returns a new reference, or NULL when
 * out of memory.
 */
#ifndef WARD_AGENT_SENSOR_EVENT_H
#define WARD_AGENT_SENSOR_EVENT_H

#include <stdint.h>
#include <sys/stat.h>

struct json_t;

/* --- on-access ----------------------------------------------------------- */

/* What on-access did about a detected file. */
enum sensor_oa_what {
	SENSOR_OA_WRITTEN,     /* written (close-write): reported */
	SENSOR_OA_EXEC_DENIED, /* its execution denied */
	SENSOR_OA_EXEC_LATE,   /* executed: the verdict came after the deadline */
	SENSOR_OA_OPEN_DENIED, /* opening it denied (onaccess.block_open) */
	SENSOR_OA_OPEN_LATE,   /* opened: the verdict came after the deadline */
	SENSOR_OA_N
};

struct sensor_oa_detection {
	enum sensor_oa_what what;
	const char *path; /* the file as the kernel's descriptor names it ("" unknown) */
	int64_t size, inode;
	long pid;	  /* the process that opened, executed or wrote it */
	const char *exe;  /* its executable ("" or NULL: unknown, left out) */
	const char *rule; /* what matched */
	long long version;
};

/* The alert for d; NULL also for a what out of range. */
struct json_t *sensor_event_onaccess(const struct sensor_oa_detection *d);

/* --- FIM ----------------------------------------------------------------- */

enum sensor_fim_action {
	SENSOR_FIM_CREATED,
	SENSOR_FIM_MODIFIED,
	SENSOR_FIM_ATTRIBUTES,
	SENSOR_FIM_RENAMED,
	SENSOR_FIM_DELETED,
	SENSOR_FIM_N
};

/* The event.action of a ("file-created", ...; NULL out of range). */
const char *sensor_fim_action_name(enum sensor_fim_action a);
/* 1 if the file of a is looked at (not for a deletion: it is gone). */
int sensor_fim_looks(enum sensor_fim_action a);
/* 1 if the contents of the file of a are hashed (created, modified). */
int sensor_fim_hashes(enum sensor_fim_action a);

/*
 * The event.kind of a change: "alert", or for a change made by a package
 * manager (by_pkg) what fim.package_manager (pkg_policy: CONFIG_PKG_*)
 * says — "alert", "event", or NULL (not reported).
 */
const char *sensor_fim_kind(int by_pkg, int pkg_policy);

/* Who made a change (who-data). */
struct sensor_fim_who {
	long pid; /* 0: unknown, the rest is left out */
	const char *exe, *name;
	const char *pkg; /* the package manager among its ancestors ("": none) */
	int partial;	 /* gone before it could be read whole */
};

struct sensor_fim_change {
	enum sensor_fim_action action;
	const char *kind;		  /* sensor_fim_kind's answer (not NULL) */
	const char *path;		  /* where it is now */
	const char *previous;		  /* a rename's old path, or NULL */
	const struct stat *st;		  /* its metadata, or NULL (not looked at, gone) */
	const char *owner;		  /* the name of st's uid, or NULL */
	const char *hash_field;		  /* "file.hash.sha256" / "file.hash.sm3" */
	const char *hash;		  /* its hash in hex, or "" / NULL */
	const struct sensor_fim_who *who; /* or NULL */
	unsigned suppressed;		  /* events the rate limit dropped before */
};

struct json_t *sensor_event_fim(const struct sensor_fim_change *c);

/* --- process monitoring ---------------------------------------------------- */

/* A process as procmon read it ("" fields and negative ids: unknown). */
struct sensor_proc {
	long pid;
	const char *exe, *cmdline, *cwd, *user;
	long uid, ppid;
	const char *pexe, *pcmdline;
	int partial;
};

/* A rule matched p: the alert (action "kill" if kill, else "alert"). */
struct json_t *sensor_event_proc_match(const struct sensor_proc *p, const char *title,
				       const char *id, const char *level, int kill,
				       long long version);

/* p was killed for the rule title: ok, or not with err (strerror's). */
struct json_t *sensor_event_proc_killed(const struct sensor_proc *p, const char *title, int ok,
					const char *err);

#endif
