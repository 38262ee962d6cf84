/*
 * ward fleet's release and rollout commands: publish, releases, release,
 * pause, resume, abort, promote, pin, unpin, pins, status, freeze and
 * unfreeze (docs/server.md).  The connection and the rest of the commands
 * are cmd_fleet.c's.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_fleet.h"
#include "util/alloc.h"
#include "util/file.h"

static int
publish(const struct conn *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"plan", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	const char *plan_path = NULL;
	json_t *ans, *plan = NULL, *body;
	uint8_t *buf = NULL;
	size_t len = 0;
	struct ward_diag d;
	json_error_t je;
	char sha[65];
	long long id;
	int ch;

	optind = 0; /* a fresh scan: the first one stopped at the command */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'p') {
			fleet_usage(stderr);
			return EXIT_ERROR;
		}
		plan_path = optarg;
	}
	if (optind != argc - 1) {
		fleet_usage(stderr);
		return EXIT_ERROR;
	}
	if (plan_path != NULL &&
	    (plan = json_load_file(plan_path, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		fprintf(stderr, "ward: %s:%d:%d: %s\n", plan_path, je.line, je.column, je.text);
		return EXIT_ERROR;
	}
	if (file_read_all(argv[optind], (size_t)1 << 30, &buf, &len, &d) != 0) {
		fprintf(stderr, "ward: %s: %s\n", argv[optind], d.msg);
		json_decref(plan);
		return EXIT_ERROR;
	}
	ans = fleet_call_raw(c, "POST", "/api/v1/bundles", buf, len, "application/octet-stream");
	ward_free(buf);
	if (ans == NULL) {
		json_decref(plan);
		return EXIT_ERROR;
	}
	snprintf(sha, sizeof(sha), "%s", json_string_value(json_object_get(ans, "sha256")));
	fprintf(stderr, "ward: stored %s version %lld (%s)\n",
		json_string_value(json_object_get(ans, "name")),
		(long long)json_integer_value(json_object_get(ans, "version")), sha);
	json_decref(ans);
	body = json_pack("{s:s}", "bundle", sha);
	if (plan != NULL)
		json_object_set_new(body, "plan", plan);
	ans = fleet_call(c, "POST", "/api/v1/releases", body);
	json_decref(body);
	if (ans == NULL)
		return EXIT_ERROR;
	id = (long long)json_integer_value(json_object_get(ans, "release"));
	printf("%lld\n", id);
	fprintf(stderr, "ward: release %lld started (ward fleet release %lld shows its progress)\n",
		id, id);
	json_decref(ans);
	return 0;
}

/* An incident: its reason, then the evidence agent by agent (the whole
 * evidence is in `release ID --json`). */
static void
print_incident(json_t *inc)
{
	json_t *ev = json_object_get(inc, "evidence"), *a;
	size_t k;

	printf("  incident in ring %lld: %s\n",
	       (long long)json_integer_value(json_object_get(inc, "ring")),
	       json_string_value(json_object_get(inc, "reason")));
	json_array_foreach(json_object_get(ev, "agents"), k, a)
	    printf("    %s %-20.20s ring %lld  %-15s %s: %s\n",
		   json_string_value(json_object_get(a, "agent_id")),
		   json_string_value(json_object_get(a, "hostname")),
		   (long long)json_integer_value(json_object_get(a, "ring")),
		   json_string_value(json_object_get(a, "fault")),
		   json_string_value(json_object_get(a, "reported")),
		   json_string_value(json_object_get(a, "detail")));
	/* A refusal names its cause (what it would count as, or why not). */
	json_array_foreach(json_object_get(ev, "not_counted"), k, a) printf(
	    "    %s %-20.20s not counted (%s): %s\n",
	    json_string_value(json_object_get(a, "agent_id")),
	    json_string_value(json_object_get(a, "hostname")),
	    json_object_get(a, "cause") != NULL ? json_string_value(json_object_get(a, "cause"))
						: json_string_value(json_object_get(a, "fault")),
	    json_string_value(json_object_get(a, "not_counted")));
}

static void
print_status(json_t *st)
{
	json_t *rel = json_object_get(st, "release"), *ag = json_object_get(st, "agents"), *p, *v;
	const char *k;
	size_t i;

	printf("content: %s\n", json_is_true(json_object_get(st, "frozen"))
				    ? "FROZEN fleet-wide (ward fleet unfreeze)"
				    : "not frozen");
	if (json_is_object(rel)) {
		long long ring = (long long)json_integer_value(json_object_get(rel, "ring"));

		printf("release %lld: version %lld, %s, ",
		       (long long)json_integer_value(json_object_get(rel, "id")),
		       (long long)json_integer_value(json_object_get(rel, "version")),
		       json_string_value(json_object_get(rel, "state")));
		if (ring < 0)
			printf("not started\n");
		else
			printf("ring %lld (%s)\n", ring,
			       json_string_value(json_object_get(rel, "ring_name")));
		if (json_string_length(json_object_get(rel, "waiting")) > 0)
			printf("  waiting: %s\n",
			       json_string_value(json_object_get(rel, "waiting")));
	} else {
		printf("release: none under way\n");
	}
	printf("agents: %lld (%lld connected, %lld revoked, %lld waiting for approval)\n",
	       (long long)json_integer_value(json_object_get(ag, "total")),
	       (long long)json_integer_value(json_object_get(ag, "connected")),
	       (long long)json_integer_value(json_object_get(ag, "revoked")),
	       (long long)json_integer_value(json_object_get(ag, "pending")));
	json_object_foreach(json_object_get(ag, "by_content_version"), k, v)
	    printf("  content version %s: %lld\n", k, (long long)json_integer_value(v));
	if (json_array_size(json_object_get(st, "pins")) == 0)
		printf("pins: none\n");
	json_array_foreach(json_object_get(st, "pins"), i, p) printf(
	    "pin: group %s on version %lld\n", json_string_value(json_object_get(p, "group")),
	    (long long)json_integer_value(json_object_get(p, "version")));
}

static void
print_release(json_t *r)
{
	json_t *rings = json_object_get(json_object_get(r, "plan"), "rings"), *ring, *inc;
	long long cur = (long long)json_integer_value(json_object_get(r, "ring"));
	const char *state = json_string_value(json_object_get(r, "state"));
	size_t i;

	printf("release %lld: version %lld, %s",
	       (long long)json_integer_value(json_object_get(r, "id")),
	       (long long)json_integer_value(json_object_get(r, "version")), state);
	if (json_string_length(json_object_get(r, "reason")) > 0)
		printf(" (%s)", json_string_value(json_object_get(r, "reason")));
	printf("\n");
	json_array_foreach(rings, i, ring)
	{
		json_t *ag = json_object_get(ring, "agents");
		const char *st = (long long)i < cur		   ? "passed"
				 : (long long)i > cur		   ? "waiting"
				 : strcmp(state, "completed") == 0 ? "passed"
				 : strcmp(state, "running") == 0   ? "soaking"
								   : state;

		printf("  ring %zu %-10s %-8s agents %lld, active %lld, soak %llds\n", i,
		       json_string_value(json_object_get(ring, "name")), st,
		       (long long)json_integer_value(json_object_get(ag, "assigned")),
		       (long long)json_integer_value(json_object_get(ag, "active")),
		       (long long)json_integer_value(json_object_get(ring, "soak_s")));
	}
	if (json_string_length(json_object_get(r, "waiting")) > 0)
		printf("  %s\n", json_string_value(json_object_get(r, "waiting")));
	json_array_foreach(json_object_get(r, "incidents"), i, inc) print_incident(inc);
	if (json_array_size(json_object_get(r, "timeline")) > 0)
		printf("  timeline:\n");
	json_array_foreach(json_object_get(r, "timeline"), i, inc)
	    printf("    %s  %s\n", json_string_value(json_object_get(inc, "at")),
		   json_string_value(json_object_get(inc, "text")));
}

int
fleet_release(const struct conn *c, int argc, char **argv, int json)
{
	const char *cmd = argv[0];

	if (strcmp(cmd, "publish") == 0)
		return publish(c, argc, argv);
	if ((strcmp(cmd, "releases") == 0 && argc <= 2) ||
	    (strcmp(cmd, "release") == 0 && (argc == 2 || argc == 3))) {
		char path[64];
		json_t *ans, *r;
		size_t i;

		if (argc >= 2 && strcmp(argv[argc - 1], "--json") == 0) {
			json = 1;
			argc--;
		}
		if ((strcmp(cmd, "release") == 0 &&
		     (argc != 2 || strspn(argv[1], "0123456789") != strlen(argv[1]))) ||
		    (strcmp(cmd, "releases") == 0 && argc != 1))
			goto usage;
		snprintf(path, sizeof(path), "/api/v1/releases%s%s",
			 strcmp(cmd, "release") == 0 ? "/" : "",
			 strcmp(cmd, "release") == 0 ? argv[1] : "");
		if ((ans = fleet_call(c, "GET", path, NULL)) == NULL)
			return EXIT_ERROR;
		if (json)
			fleet_print_json(
			    strcmp(cmd, "release") == 0 ? ans : json_object_get(ans, "releases"),
			    1);
		else if (strcmp(cmd, "release") == 0)
			print_release(ans);
		else
			json_array_foreach(json_object_get(ans, "releases"), i, r)
			{
				long long ring =
				    (long long)json_integer_value(json_object_get(r, "ring"));
				char where[48];

				if (ring < 0)
					snprintf(where, sizeof(where), "not started");
				else
					snprintf(
					    where, sizeof(where), "ring %lld (%s)", ring,
					    json_string_value(json_object_get(r, "ring_name")));
				printf("%4lld  version %-8lld %-10s %-20s %s\n",
				       (long long)json_integer_value(json_object_get(r, "id")),
				       (long long)json_integer_value(json_object_get(r, "version")),
				       json_string_value(json_object_get(r, "state")), where,
				       json_string_length(json_object_get(r, "reason")) > 0
					   ? json_string_value(json_object_get(r, "reason"))
					   : json_string_value(json_object_get(r, "waiting")));
			}
		json_decref(ans);
		return 0;
	}
	if ((strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0 || strcmp(cmd, "abort") == 0 ||
	     strcmp(cmd, "promote") == 0) &&
	    argc == 2 && strspn(argv[1], "0123456789") == strlen(argv[1]) && argv[1][0] != '\0') {
		char path[96];
		json_t *ans;

		snprintf(path, sizeof(path), "/api/v1/releases/%s/%s", argv[1], cmd);
		if ((ans = fleet_call(c, "POST", path, NULL)) == NULL)
			return EXIT_ERROR;
		printf("release %s: %s\n", argv[1],
		       strcmp(cmd, "pause") == 0    ? "paused: its agents keep what they run"
		       : strcmp(cmd, "resume") == 0 ? "resumed"
		       : strcmp(cmd, "abort") == 0
			   ? "aborted: its agents go back to their last-known-good content"
			   : "promoted: the current ring's soak ends now (its gate still applies)");
		json_decref(ans);
		return 0;
	}
	if ((strcmp(cmd, "pin") == 0 && argc == 3) || (strcmp(cmd, "unpin") == 0 && argc == 2)) {
		json_t *body, *ans;

		if (argc == 3 &&
		    (strspn(argv[2], "0123456789") != strlen(argv[2]) || atoll(argv[2]) <= 0)) {
			fprintf(stderr, "ward: the version must be a number\n");
			return EXIT_ERROR;
		}
		body = json_pack("{s:s, s:I}", "group", argv[1], "version",
				 (json_int_t)(argc == 3 ? atoll(argv[2]) : 0));
		ans = fleet_call(c, "POST", "/api/v1/pins", body);
		json_decref(body);
		if (ans == NULL)
			return EXIT_ERROR;
		if (argc == 3)
			printf("pinned group %s to version %s: its agents run it whatever the "
			       "releases (ward fleet unpin %s to undo)\n",
			       argv[1], argv[2], argv[1]);
		else
			printf("unpinned group %s: its agents follow the releases again\n",
			       argv[1]);
		json_decref(ans);
		return 0;
	}
	if (strcmp(cmd, "pins") == 0 && argc <= 2) {
		json_t *ans = fleet_call(c, "GET", "/api/v1/pins", NULL), *p;
		size_t i;

		if (ans == NULL)
			return EXIT_ERROR;
		if (json || (argc == 2 && strcmp(argv[1], "--json") == 0))
			fleet_print_json(json_object_get(ans, "pins"), 1);
		else if (json_array_size(json_object_get(ans, "pins")) == 0)
			printf("no group is pinned\n");
		else
			json_array_foreach(json_object_get(ans, "pins"), i, p)
			    printf("%-20s version %-8lld since %s\n",
				   json_string_value(json_object_get(p, "group")),
				   (long long)json_integer_value(json_object_get(p, "version")),
				   json_string_value(json_object_get(p, "since")));
		json_decref(ans);
		return 0;
	}
	if (strcmp(cmd, "status") == 0 && argc <= 2) {
		json_t *ans = fleet_call(c, "GET", "/api/v1/status", NULL);

		if (ans == NULL)
			return EXIT_ERROR;
		if (json || (argc == 2 && strcmp(argv[1], "--json") == 0))
			fleet_print_json(ans, 1);
		else
			print_status(ans);
		json_decref(ans);
		return 0;
	}
	if ((strcmp(cmd, "freeze") == 0 || strcmp(cmd, "unfreeze") == 0) && argc == 1) {
		json_t *body = json_pack("{s:b}", "frozen", strcmp(cmd, "freeze") == 0), *ans;

		ans = fleet_call(c, "POST", "/api/v1/freeze", body);
		json_decref(body);
		if (ans == NULL)
			return EXIT_ERROR;
		printf(strcmp(cmd, "freeze") == 0
			   ? "content frozen fleet-wide: no content change reaches any agent until "
			     "ward fleet unfreeze\n"
			   : "content unfrozen: releases and pins reach the agents again\n");
		json_decref(ans);
		return 0;
	}
	return FLEET_NOT_MINE;
usage:
	return FLEET_USAGE;
}
