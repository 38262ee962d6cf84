/*
 * sim_local: a ward-server of ward-sim's own, on loopback with a fresh
 * SQLite database in a temporary directory, its check-in interval and a
 * quick rollout tick, trusting a signing key made for the rehearsal; and
 * the content versions the rehearsal publishes, built and signed with
 * `ward content`.  The ward-server and ward binaries are found next to
 * ward-sim in the build tree (../server, ../cli), or by $WARD_SERVER_BIN
 * and $WARD_BIN.
 */
#ifndef WARD_SERVER_SIM_LOCAL_H
#define WARD_SERVER_SIM_LOCAL_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

struct sim_local {
	char dir[256]; /* everything lives here */
	char server_bin[1100], ward_bin[1100];
	pid_t pid; /* the server */
	char url[64], ca[400], admin[128], pub[400];
};

/* Makes and starts the server (it may take a moment to answer).  0, or -1
 * (said on stderr). */
int sim_local_start(const char *self, int interval, struct sim_local *L);

/* Builds and signs content version v (the EICAR rule and a rule naming the
 * version, with its test); *out is the bundle's path.  0 or -1. */
int sim_local_bundle(const struct sim_local *L, long long v, char *out, size_t outlen);

/* Stops the server and removes the directory. */
void sim_local_stop(struct sim_local *L);

/* The default plan's shape with its soaks (and stall bound) compressed to
 * soak seconds, for the rehearsal's releases. */
json_t *sim_local_plan(double soak);

#endif
