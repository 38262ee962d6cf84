/*
 * sensor: the one interface of the agent's event sources (on-access, FIM,
 * process monitoring), and the set the worker drives them through.
 *
 * A sensor is a table of functions (struct sensor_ops) and a context of
 * its own; it reaches the rest of the agent only through a sensor_host
 * (journal an event, hold the content in use, the exceptions in force),
 * so that the worker knows no sensor by name and a sensor can be tested
 * with a host made of fakes.  Events have one sink: the host's emit,
 * which appends to the journal; the outputs and the uplink read the
 * journal.
 *
 * The set starts its sensors in the order they were added and stops them
 * in the reverse order; a sensor that cannot start is off, with why (in
 * the log, as a sensor-off alert, and in the status), and the others run.
 * In safe mode none is started.
 */
#ifndef WARD_AGENT_SENSOR_H
#define WARD_AGENT_SENSOR_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

struct agent_config;
struct active;
struct exceptions;
struct json_t;

/* The most sensors one set holds. */
#define SENSOR_MAX 8
/* The longest reason a sensor is off that the status keeps (bytes). */
#define SENSOR_WHY_MAX 1024

/*
 * What the agent offers its sensors.  Each function is called with arg;
 * all may be called from any of the sensors' threads.
 */
struct sensor_host {
	void *arg;
	/* Journals ev (takes the reference; NULL: nothing). */
	void (*emit)(void *arg, struct json_t *ev);
	/* A line for the agent's log. */
	void (*log)(void *arg, const char *msg);
	/* The content in use with a reference (put it back), or NULL. */
	struct active *(*content_get)(void *arg);
	void (*content_put)(void *arg, struct active *a);
	/* The exceptions in force beside the content's (may be NULL). */
	struct exceptions *(*exceptions)(void *arg);
	/* What the exec sensor remembers of a recent exec by pid (its
	 * executable, name, parent), for who-data when the process is gone:
	 * 0, or -1 (not seen).  NULL: nothing is remembered. */
	int (*recent_exec)(void *arg, pid_t pid, char *exe, size_t exelen, char *comm,
			   size_t commlen, pid_t *ppid);
};

struct sensor_ops {
	const char *name; /* its key in the status, its ward.sensor in events */
	const char *what; /* what it does, as the log says it */
	unsigned reload;  /* the reload groups (config.h CONFIG_*) it follows */
	/* 1 if c asks for it (NULL: always). */
	int (*wanted)(const struct agent_config *c);
	/* Starts with c (borrowed): 0, or an error with why. */
	int (*start)(void *ctx, const struct sensor_host *h, const struct agent_config *c,
		     char *why, size_t whylen);
	/* A reload of c (borrowed): 0, or an error with why (then it is off).
	 * May start a sensor that was off.  NULL: follows no reload. */
	int (*reconfigure)(void *ctx, const struct sensor_host *h, const struct agent_config *c,
			   char *why, size_t whylen);
	/* New content is in use (NULL: nothing to do). */
	void (*content_changed)(void *ctx);
	/* Stops (NULL: the process's end stops it). */
	void (*stop)(void *ctx);
	/* Its state and counters (new reference); off is why it is off, ""
	 * for its usual reason. */
	struct json_t *(*stats)(void *ctx, const char *off);
};

struct sensor {
	const struct sensor_ops *ops;
	void *ctx;
	int started;
	char off[SENSOR_WHY_MAX]; /* under the set's lock */
};

struct sensor_set {
	struct sensor s[SENSOR_MAX];
	unsigned n;
	const struct sensor_host *host; /* borrowed: outlives the set */
	pthread_mutex_t lock;
};

/* An empty set whose sensors use host (borrowed). */
void sensor_set_init(struct sensor_set *set, const struct sensor_host *host);
void sensor_set_fini(struct sensor_set *set);

/* Adds a sensor (ops and ctx borrowed).  0, or -1 if the set is full. */
int sensor_set_add(struct sensor_set *set, const struct sensor_ops *ops, void *ctx);

/*
 * Starts, in order, every sensor c asks for; in safe mode (safe) none,
 * each off with "safe mode".  Returns how many are off for an error.
 */
unsigned sensor_set_start(struct sensor_set *set, const struct agent_config *c, int safe);

/* A reload of c whose changes are in groups: each sensor that follows one
 * of them is reconfigured (none in safe mode). */
void sensor_set_reconfigure(struct sensor_set *set, const struct agent_config *c, unsigned groups,
			    int safe);

/* New content is in use: every sensor is told, in order. */
void sensor_set_content_changed(struct sensor_set *set);

/* Stops the started sensors in the reverse order of their start. */
void sensor_set_stop(struct sensor_set *set);

/* The status object: each sensor's stats under its name (new reference). */
struct json_t *sensor_set_status(struct sensor_set *set);

/* Why the sensor named name is off, in why (whylen bytes; "" when it is
 * not, or for its usual reason).  0, or -1 if there is no such sensor. */
int sensor_set_off(struct sensor_set *set, const char *name, char *why, size_t whylen);

#endif
