/*
 * cmd_fleet: what the files of `ward fleet` (cmd_fleet.c,
 * cmd_fleet_release.c) share: the connection to the server's admin API
 * and the calls over it.
 */
#ifndef WARD_CLI_CMD_FLEET_H
#define WARD_CLI_CMD_FLEET_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

struct conn {
	const char *server, *ca;
	char url[1024]; /* server, with https:// when it was given without */
	char token[128];
	const char *token_from; /* where the token came from, for messages */
};

/* What fleet_release returns besides an exit status: cmd is none of its
 * commands (the caller tries the others), or its arguments are wrong (the
 * caller prints the usage). */
#define FLEET_NOT_MINE (-1)
#define FLEET_USAGE (-2)

/* method path [raw body of rawlen bytes, of type ctype]: the JSON answer of
 * a 200 (the caller owns it: json_decref), or NULL (why was printed). */
json_t *fleet_call_raw(const struct conn *c, const char *method, const char *path, const void *raw,
		       size_t rawlen, const char *ctype);

/* The same with body (borrowed; NULL for none) sent as JSON. */
json_t *fleet_call(const struct conn *c, const char *method, const char *path, json_t *body);

/* Prints ward fleet's usage to f. */
void fleet_usage(FILE *f);

/* Prints v on one line, or indented. */
void fleet_print_json(json_t *v, int indent);

/* The release and rollout commands (cmd_fleet_release.c): argv[0] is the
 * command.  An exit status, FLEET_NOT_MINE or FLEET_USAGE. */
int fleet_release(const struct conn *c, int argc, char **argv, int json);

#endif
