/*
 * ward agent: talks to the running wardd over its control socket
 * (RUN_DIR/control.sock, root only): one JSON request line, one JSON
 * answer line.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "util/file.h"

#define MAX_ANSWER (64 << 20)

static void
agent_usage(FILE *f)
{
	fprintf(f, "usage: ward agent [--run-dir DIR] status [--json]\n"
		   "       ward agent [--run-dir DIR] apply BUNDLE\n"
		   "       ward agent [--run-dir DIR] rollback\n"
		   "       ward agent [--run-dir DIR] scan PATH\n"
		   "\n"
		   "status    what the agent runs: mode (protecting, waiting for content, or\n"
		   "          safe), current and last-known-good content, refused versions and\n"
		   "          why, crashes, sensors (and which FIM paths come from the content,\n"
		   "          which from wardd.yaml), the configuration file and when it was\n"
		   "          loaded (SIGHUP reloads it)\n"
		   "apply     verify, validate and activate a signed content bundle\n"
		   "rollback  return to the last-known-good content\n"
		   "scan      scan PATH with the agent's active content (as ward scan)\n"
		   "\n"
		   "  --run-dir DIR   the agent's run directory (default /run/ward, or\n"
		   "                  $WARD_RUN_DIR)\n"
		   "  --json          status as JSON\n"
		   "\n"
		   "Exit status: 0 done (scan: nothing found), 1 scan found something,\n"
		   "2 refused or failed (the reason is printed).\n");
}

/* Sends req, returns the parsed answer (NULL: printed why, unless quiet
 * and the agent is simply not running). */
json_t *
cli_agent_ask(const char *run_dir, json_t *req, int quiet)
{
	struct sockaddr_un sa;
	char path[PATH_MAX], *text;
	json_t *ans = NULL;
	json_error_t je;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/control.sock", run_dir);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "ward: %s: path too long\n", path);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (quiet && (errno == ENOENT || errno == ECONNREFUSED)) {
			if (fd >= 0)
				close(fd);
			return NULL;
		}
		fprintf(stderr, "ward: cannot reach the agent at %s: %s%s\n", path, strerror(errno),
			errno == EACCES ? " (run as root)"
			: errno == ENOENT || errno == ECONNREFUSED ? " (is wardd running?)"
								    : "");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	text = json_dumps(req, JSON_COMPACT);
	if (text == NULL || file_write_all(fd, text, strlen(text)) != 0 ||
	    file_write_all(fd, "\n", 1) != 0) {
		fprintf(stderr, "ward: cannot send to the agent: %s\n", strerror(errno));
		free(text);
		close(fd);
		return NULL;
	}
	free(text);
	for (;;) {
		ssize_t k;

		if (len + 65536 > cap) {
			char *nb = realloc(buf, cap + 65536 + 1);

			if (nb == NULL || cap > MAX_ANSWER)
				break;
			buf = nb;
			cap += 65536;
		}
		k = read(fd, buf + len, cap - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	if (buf != NULL)
		ans = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, &je);
	free(buf);
	if (ans == NULL)
		fprintf(stderr, "ward: the agent closed the connection without an answer\n");
	return ans;
}

/* The strings of the array a, comma-separated, after a label column. */
static void
print_list(json_t *a)
{
	json_t *e;
	size_t i;

	json_array_foreach(a, i, e) {
		printf("%s%s", i == 0 ? ": " : ", ", json_string_value(e));
	}
	printf("\n");
}

/* Where the FIM paths come from: wardd.yaml and the content (which turns
 * on paths the operator never wrote: say so, and how to turn them off). */
static void
print_fim_paths(json_t *fim)
{
	json_t *paths = json_object_get(fim, "paths"), *conf, *content;
	size_t nc, nk;

	if (!json_is_object(paths))
		return;
	conf = json_object_get(paths, "config");
	content = json_object_get(paths, "content");
	nc = json_array_size(conf);
	nk = json_array_size(content);
	printf("%-16s %zu from wardd.yaml (fim.paths)", "fim paths:", nc);
	print_list(conf);
	if (json_is_false(json_object_get(fim, "content_paths")))
		printf("%-16s %zu from the content, not watched (fim.content_paths: false)", "",
		       nk);
	else
		printf("%-16s %zu from the content (fim.content_paths: false in wardd.yaml turns "
		       "them off)",
		       "", nk);
	print_list(content);
}

static int
print_status(json_t *s)
{
	json_t *content = json_object_get(s, "content"), *e, *v;
	const char *which[] = {"current", "last_known_good"};
	const char *mode = json_string_value(json_object_get(s, "mode"));
	size_t i;
	int k;

	printf("mode:            %s\n",
	       mode != NULL && strcmp(mode, "waiting") == 0 ? "waiting for content" : mode);
	if ((v = json_object_get(s, "safe_reason")) != NULL)
		printf("safe mode:       %s\n", json_string_value(v));
	for (k = 0; k < 2; k++) {
		e = json_object_get(content, which[k]);
		printf("%-16s ", k == 0 ? "content:" : "last-known-good:");
		if (!json_is_object(e))
			printf("none\n");
		else
			printf("%s version %lld, active since %s, expires %s\n",
			       json_string_value(json_object_get(e, "name")),
			       (long long)json_integer_value(json_object_get(e, "version")),
			       json_string_value(json_object_get(e, "activated_at")),
			       json_string_value(json_object_get(e, "expires")));
	}
	json_array_foreach(json_object_get(content, "rejected"), i, e) {
		long long ver = (long long)json_integer_value(json_object_get(e, "version"));

		if (ver > 0)
			printf("refused:         version %lld at %s: %s\n", ver,
			       json_string_value(json_object_get(e, "at")),
			       json_string_value(json_object_get(e, "reason")));
		else /* the version could not be read */
			printf("refused:         a bundle at %s: %s\n",
			       json_string_value(json_object_get(e, "at")),
			       json_string_value(json_object_get(e, "reason")));
	}
	json_array_foreach(json_object_get(s, "crashes"), i, e)
		printf("crash:           version %lld at %s\n",
		       (long long)json_integer_value(json_object_get(e, "version")),
		       json_string_value(json_object_get(e, "at")));
	json_array_foreach(json_object_get(s, "warnings"), i, e)
		printf("warning:         %s\n", json_string_value(e));
	{
		const char *name, *cname;
		json_t *c;
		int first;

		json_object_foreach(json_object_get(s, "sensors"), name, e) {
			char label[32];

			snprintf(label, sizeof(label), "%s:", name);
			printf("%-16s %s", label, json_string_value(json_object_get(e, "state")));
			if ((v = json_object_get(e, "reason")) != NULL)
				printf(" (%s)", json_string_value(v));
			first = 1;
			json_object_foreach(json_object_get(e, "counters"), cname, c) {
				printf("%s %s %lld", first ? ";" : ",", cname,
				       (long long)json_integer_value(c));
				first = 0;
			}
			printf("\n");
			if ((v = json_object_get(e, "partial")) != NULL)
				printf("%-16s watching less than asked: %s\n", "", json_string_value(v));
			if (strcmp(name, "fim") == 0)
				print_fim_paths(e);
		}
	}
	if ((e = json_object_get(s, "uplink")) != NULL) {
		printf("fleet server:    %s, %s", json_string_value(json_object_get(e, "server")),
		       json_string_value(json_object_get(e, "state")));
		if (json_string_length(json_object_get(e, "agent_id")) > 0)
			printf(" as agent %s, events acknowledged up to %lld",
			       json_string_value(json_object_get(e, "agent_id")),
			       (long long)json_integer_value(json_object_get(e, "events_acked")));
		printf("\n");
		if ((v = json_object_get(e, "error")) != NULL)
			printf("%-16s last error: %s\n", "", json_string_value(v));
	}
	if ((e = json_object_get(s, "config")) != NULL)
		printf("config:          %s, loaded %s\n",
		       json_string_value(json_object_get(e, "file")),
		       json_string_value(json_object_get(e, "loaded_at")));
	printf("pid:             %lld (supervisor %lld), up %lld s\n",
	       (long long)json_integer_value(json_object_get(s, "pid")),
	       (long long)json_integer_value(json_object_get(s, "supervisor_pid")),
	       (long long)json_integer_value(json_object_get(s, "uptime_s")));
	return 0;
}

int
cmd_agent(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"run-dir", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *run_dir = getenv("WARD_RUN_DIR"), *sub;
	char abs[PATH_MAX];
	json_t *req = NULL, *ans = NULL;
	int c, json = 0, r = EXIT_ERROR;

	if (run_dir == NULL)
		run_dir = "/run/ward";
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (c == 'r')
			run_dir = optarg;
		else if (c == 'h') {
			agent_usage(stdout);
			return 0;
		} else {
			agent_usage(stderr);
			return EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		agent_usage(stderr);
		return EXIT_ERROR;
	}
	sub = argv[optind++];
	/* Options may also follow the subcommand. */
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'r')
			run_dir = optarg;
		else if (c == 'j')
			json = 1;
		else {
			agent_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : EXIT_ERROR;
		}
	}
	if (strcmp(sub, "status") == 0 && optind == argc) {
		req = json_pack("{s:s}", "cmd", "status");
	} else if (strcmp(sub, "rollback") == 0 && optind == argc) {
		req = json_pack("{s:s}", "cmd", "rollback");
	} else if ((strcmp(sub, "apply") == 0 || strcmp(sub, "scan") == 0) && optind == argc - 1) {
		if (realpath(argv[optind], abs) == NULL) {
			fprintf(stderr, "ward: %s: %s\n", argv[optind], strerror(errno));
			return EXIT_ERROR;
		}
		req = json_pack("{s:s, s:s}", "cmd", sub, "path", abs);
	} else {
		agent_usage(stderr);
		return EXIT_ERROR;
	}
	ans = cli_agent_ask(run_dir, req, 0);
	if (ans == NULL)
		goto out;
	if (strcmp(sub, "status") == 0) {
		if (json) {
			json_dumpf(ans, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			printf("\n");
		} else {
			print_status(ans);
		}
		r = 0;
	} else if (!json_is_true(json_object_get(ans, "ok"))) {
		fprintf(stderr, "ward: %s\n", json_string_value(json_object_get(ans, "error")));
	} else if (strcmp(sub, "apply") == 0) {
		printf("content version %lld active (%.0f ms)\n",
		       (long long)json_integer_value(json_object_get(ans, "version")),
		       json_number_value(json_object_get(ans, "ms")));
		r = 0;
	} else if (strcmp(sub, "rollback") == 0) {
		printf("%s\n", json_string_value(json_object_get(ans, "message")));
		r = 0;
	} else {
		size_t i;
		json_t *m;

		json_array_foreach(json_object_get(ans, "matches"), i, m)
			printf("%s: %s FOUND\n", json_string_value(json_object_get(m, "path")),
			       json_string_value(json_object_get(m, "rule")));
		fprintf(stderr, "ward: %lld files scanned by the agent (content version %lld), "
				"%lld matches, %lld errors\n",
			(long long)json_integer_value(json_object_get(ans, "files")),
			(long long)json_integer_value(json_object_get(ans, "version")),
			(long long)json_integer_value(json_object_get(ans, "match_count")),
			(long long)json_integer_value(json_object_get(ans, "errors")));
		r = json_integer_value(json_object_get(ans, "match_count")) > 0 ? EXIT_FOUND
										  : EXIT_CLEAN;
	}
out:
	json_decref(req);
	json_decref(ans);
	return r;
}
