/*
 * ward agent: talks to the running wardd over its control socket
 * (RUN_DIR/control.sock, root only): one typed request frame
 * (lib/proto/ctlmsg.h), one answer (JSON text in a frame or a sealed
 * memory file) — and only to a peer that runs as root (SO_PEERCRED),
 * checked before the first byte is sent.
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
#include "proto/ctlmsg.h"
#include "util/buf.h"
#include "util/ipc.h"

static void
agent_usage(FILE *f)
{
	fprintf(f, "usage: ward agent [--run-dir DIR] status [--json]\n"
		   "       ward agent [--run-dir DIR] apply BUNDLE\n"
		   "       ward agent [--run-dir DIR] rollback\n"
		   "       ward agent [--run-dir DIR] scan PATH [--format text|json]\n"
		   "                                 [--quarantine]\n"
		   "       ward agent [--run-dir DIR] except add --sha256 HEX [--reason TEXT]\n"
		   "       ward agent [--run-dir DIR] except add --path GLOB [--reason TEXT]\n"
		   "       ward agent [--run-dir DIR] except add --rule NAME [--path GLOB]\n"
		   "                                 [--reason TEXT]\n"
		   "       ward agent [--run-dir DIR] except list [--json]\n"
		   "       ward agent [--run-dir DIR] except remove ID\n"
		   "\n"
		   "status    what the agent runs: mode (protecting, waiting for content, or\n"
		   "          safe), current and last-known-good content, refused versions and\n"
		   "          why, crashes, sensors (and which FIM paths come from the content,\n"
		   "          which from wardd.yaml), exceptions by source, the configuration\n"
		   "          file and when it was loaded (SIGHUP reloads it)\n"
		   "apply     verify, validate and activate a signed content bundle\n"
		   "rollback  return to the last-known-good content\n"
		   "scan      scan PATH with the agent's active content (as ward scan),\n"
		   "          exceptions applied; --quarantine moves what is found into the\n"
		   "          quarantine; --format json prints the whole result as JSON\n"
		   "except    exceptions to verdicts (false positives): add one by the file's\n"
		   "          SHA-256, by path glob, or by rule name (optionally only under a\n"
		   "          path glob); list them all (from wardd.yaml, this command, the\n"
		   "          content and the fleet server); remove one added here (ID as\n"
		   "          listed: N or local:N).  Each change is journaled.\n"
		   "\n"
		   "  --run-dir DIR   the agent's run directory (default /run/ward, or\n"
		   "                  $WARD_RUN_DIR)\n"
		   "  --json          status and except list as JSON\n"
		   "\n"
		   "GLOB: an absolute path where * and ? stay within a directory, [a-z]\n"
		   "is a class, and ** as a whole component is any number of directories\n"
		   "(/opt/vendor/** is every file under /opt/vendor; docs/agent.md).\n"
		   "\n"
		   "Exit status: 0 done (scan: nothing found that is not excepted), 1 scan\n"
		   "found something, 2 refused or failed (the reason is printed).\n");
}

json_t *
cli_exception_spec(const char *sha, const char *rule, const char *glob, const char *reason)
{
	json_t *spec;

	if ((sha != NULL) + (rule != NULL) + (glob != NULL && rule == NULL) != 1) {
		fprintf(stderr, "ward: except add needs one of --sha256 HEX, --path GLOB, "
				"--rule NAME (with --path GLOB to limit it)\n");
		return NULL;
	}
	spec = json_object();
	if (sha != NULL)
		json_object_set_new(spec, "sha256", json_string(sha));
	if (rule != NULL)
		json_object_set_new(spec, "rule", json_string(rule));
	if (glob != NULL)
		json_object_set_new(spec, "path", json_string(glob));
	if (reason != NULL)
		json_object_set_new(spec, "reason", json_string(reason));
	return spec;
}

/* The typed request for the JSON request req ({"cmd": ..., and its
 * arguments}): 0, or -1 (printed why). */
static int
agent_request(json_t *req, struct ctlmsg_req *m)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	const char *a = NULL, *b = NULL;
	char *spec = NULL;
	int r = -1;

	memset(m, 0, sizeof(*m));
	m->type = ctlmsg_type_of(cmd);
	switch (m->type) {
	case CTLMSG_APPLY:
		a = json_string_value(json_object_get(req, "path"));
		break;
	case CTLMSG_SCAN:
		a = json_string_value(json_object_get(req, "path"));
		if (json_is_true(json_object_get(req, "quarantine")))
			m->flags |= CTLMSG_F_QUARANTINE;
		break;
	case CTLMSG_QUARANTINE_RESTORE:
		b = json_string_value(json_object_get(req, "to"));
		/* fall through */
	case CTLMSG_QUARANTINE_DELETE:
	case CTLMSG_EXCEPT_REMOVE:
		a = json_string_value(json_object_get(req, "id"));
		break;
	case CTLMSG_EXCEPT_ADD:
		a = spec = json_dumps(json_object_get(req, "exception"), JSON_COMPACT);
		break;
	default:
		break;
	}
	if (m->type == 0 || (a != NULL && strlen(a) > CTLMSG_MAX_ARG) ||
	    (b != NULL && strlen(b) > CTLMSG_MAX_ARG)) {
		fprintf(stderr,
			"ward: %s: not a request the agent takes (or an argument longer "
			"than %d bytes)\n",
			cmd != NULL ? cmd : "?", CTLMSG_MAX_ARG);
		goto out;
	}
	if (a != NULL)
		memcpy(m->a, a, strlen(a) + 1);
	if (b != NULL)
		memcpy(m->b, b, strlen(b) + 1);
	r = 0;
out:
	free(spec);
	return r;
}

/* The answer frame m as JSON (NULL: printed why). */
static json_t *
agent_answer(struct ipc_msg *m)
{
	const uint8_t *p = NULL;
	struct ward_diag d;
	uint64_t size = 0;
	json_t *ans = NULL;

	memset(&d, 0, sizeof(d));
	if (m->type == CTLMSG_ANSWER)
		return json_loadb((const char *)m->p, m->len, 0, NULL);
	if (ctlmsg_answer_file_decode(m, &size, &d) != 0 ||
	    ipc_memfd_map(m->fd, (size_t)size, &p) != 0) {
		fprintf(stderr, "ward: the agent's answer: %s\n", d.msg);
		return NULL;
	}
	ans = json_loadb((const char *)p, (size_t)size, 0, NULL);
	ipc_memfd_unmap(p, (size_t)size);
	return ans;
}

/*
 * 0 if the peer of fd, connected to path, is wardd: it listens as root.
 * Whoever else listens there (a user who made the run directory, or
 * replaced the socket in it) would get our request — a bundle, a path to
 * scan, an exception — and answer as the agent: nothing is sent to it.
 */
static int
peer_is_wardd(int fd, const char *path)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	memset(&cred, 0, sizeof(cred));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) {
		fprintf(stderr, "ward: cannot tell who listens on %s: %s; nothing was sent\n", path,
			strerror(errno));
		return -1;
	}
	if (cred.uid != 0) {
		fprintf(stderr,
			"ward: the control socket %s is not wardd's: its peer runs as uid %u "
			"(pid %ld), not root; nothing was sent\n",
			path, (unsigned)cred.uid, (long)cred.pid);
		return -1;
	}
	return 0;
}

/* Sends req, returns the parsed answer (NULL: printed why, unless quiet
 * and the agent is simply not running). */
json_t *
cli_agent_ask(const char *run_dir, json_t *req, int quiet)
{
	struct sockaddr_un sa;
	char path[PATH_MAX];
	struct ctlmsg_req *m = calloc(1, sizeof(*m));
	struct ipc *c = NULL;
	struct ipc_msg am = {.fd = -1};
	struct ward_diag d;
	struct wbuf w;
	json_t *ans = NULL;
	int fd = -1, r;

	wbuf_init(&w);
	memset(&d, 0, sizeof(d));
	if (m == NULL || agent_request(req, m) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/control.sock", run_dir);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "ward: %s: path too long\n", path);
		goto out;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (quiet && (errno == ENOENT || errno == ECONNREFUSED))
			goto out;
		fprintf(stderr, "ward: cannot reach the agent at %s: %s%s\n", path, strerror(errno),
			errno == EACCES				   ? " (run as root)"
			: errno == ENOENT || errno == ECONNREFUSED ? " (is wardd running?)"
								   : "");
		goto out;
	}
	if (peer_is_wardd(fd, path) != 0)
		goto out;
	r = ipc_new(fd, &ctlmsg_to_client, &ctlmsg_to_agent, &c);
	fd = -1;
	if (r == 0 && (ctlmsg_req_encode(&w, m) != 0 || w.err != 0)) {
		fprintf(stderr, "ward: %s: missing or unexpected arguments for the agent\n",
			ctlmsg_name(m->type));
		goto out;
	}
	if (r != 0 || ipc_send(c, (uint16_t)m->type, w.p, w.len, -1, IPC_FOREVER, &d) != 0) {
		fprintf(stderr, "ward: cannot send to the agent: %s\n",
			d.msg[0] != '\0' ? d.msg : strerror(errno));
		goto out;
	}
	/* A scan of a large tree takes as long as it takes. */
	if (ipc_recv(c, IPC_FOREVER, &am, &d) == 0)
		ans = agent_answer(&am);
	if (ans == NULL)
		fprintf(stderr, "ward: the agent closed the connection without an answer%s%s\n",
			d.msg[0] != '\0' ? ": " : "", d.msg);
out:
	ipc_msg_close(&am);
	ipc_free(c);
	if (fd >= 0)
		close(fd);
	wbuf_free(&w);
	free(m);
	return ans;
}

/* The strings of the array a, comma-separated, after a label column. */
static void
print_list(json_t *a)
{
	json_t *e;
	size_t i;

	json_array_foreach(a, i, e)
	{
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

/* What the catch-up of the FIM sensor's start did: the changes made while
 * no worker ran, found by comparing the trees with what the last one
 * recorded. */
static void
print_fim_catch_up(json_t *fim)
{
	json_t *cu = json_object_get(fim, "catch_up");
	const char *state = json_string_value(json_object_get(cu, "state"));

	if (!json_is_object(cu) || state == NULL)
		return;
	printf("%-16s %s %s %lld ms", "fim catch-up:", state,
	       strcmp(state, "done") == 0 ? "in" : "for",
	       (long long)json_integer_value(json_object_get(cu, "ms")));
	if (json_is_true(json_object_get(cu, "previous")))
		printf("; %lld files compared with the %lld the last worker knew, %lld changes "
		       "reported\n",
		       (long long)json_integer_value(json_object_get(cu, "checked")),
		       (long long)json_integer_value(json_object_get(cu, "known")),
		       (long long)json_integer_value(json_object_get(cu, "reported")));
	else
		printf("; no state from a last worker: nothing to compare with\n");
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
	json_array_foreach(json_object_get(content, "rejected"), i, e)
	{
		long long ver = (long long)json_integer_value(json_object_get(e, "version"));
		const char *cause = json_string_value(json_object_get(e, "cause"));

		if (cause == NULL) /* an agent older than typed causes */
			cause = "refused";
		if (ver > 0)
			printf("refused:         version %lld (%s) at %s: %s\n", ver, cause,
			       json_string_value(json_object_get(e, "at")),
			       json_string_value(json_object_get(e, "reason")));
		else /* the version could not be read */
			printf("refused:         a bundle (%s) at %s: %s\n", cause,
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

		json_object_foreach(json_object_get(s, "sensors"), name, e)
		{
			char label[32];

			snprintf(label, sizeof(label), "%s:", name);
			printf("%-16s %s", label, json_string_value(json_object_get(e, "state")));
			if ((v = json_object_get(e, "reason")) != NULL)
				printf(" (%s)", json_string_value(v));
			first = 1;
			json_object_foreach(json_object_get(e, "counters"), cname, c)
			{
				printf("%s %s %lld", first ? ";" : ",", cname,
				       (long long)json_integer_value(c));
				first = 0;
			}
			printf("\n");
			if ((v = json_object_get(e, "partial")) != NULL)
				printf("%-16s watching less than asked: %s\n", "",
				       json_string_value(v));
			if (strcmp(name, "fim") == 0) {
				print_fim_catch_up(e);
				print_fim_paths(e);
			}
		}
	}
	if ((e = json_object_get(s, "exceptions")) != NULL) {
		printf("exceptions:      %lld local, %lld from wardd.yaml, %lld in the content, "
		       "%lld from the fleet (revision %lld, takes %s); %lld detections "
		       "excepted\n",
		       (long long)json_integer_value(json_object_get(e, "local")),
		       (long long)json_integer_value(json_object_get(e, "config")),
		       (long long)json_integer_value(json_object_get(e, "content")),
		       (long long)json_integer_value(json_object_get(e, "fleet")),
		       (long long)json_integer_value(json_object_get(e, "fleet_revision")),
		       json_string_value(json_object_get(e, "server_takes")),
		       (long long)json_integer_value(json_object_get(e, "suppressed")));
		if ((v = json_object_get(e, "fleet_not_taken")) != NULL)
			printf("%-16s %lld from the fleet not taken (server.exceptions)\n", "",
			       (long long)json_integer_value(v));
		if ((v = json_object_get(e, "fleet_refused")) != NULL)
			printf("%-16s %s\n", "", json_string_value(v));
		if ((v = json_object_get(e, "local_error")) != NULL)
			printf("%-16s %s\n", "", json_string_value(v));
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

static void
print_exceptions(json_t *ans)
{
	json_t *e, *st = json_object_get(ans, "status");
	size_t i;

	printf("%-8s %5s  %-71s %s\n", "SOURCE", "ID", "MATCH", "REASON");
	json_array_foreach(json_object_get(ans, "exceptions"), i, e)
	{
		const char *reason = json_string_value(json_object_get(e, "reason"));
		const char *by = json_string_value(json_object_get(e, "by"));

		printf("%-8s %5lld  %-71s %s%s%s%s\n",
		       json_string_value(json_object_get(e, "source")),
		       (long long)json_integer_value(json_object_get(e, "id")),
		       json_string_value(json_object_get(e, "match")), reason != NULL ? reason : "",
		       by != NULL ? " (by " : "", by != NULL ? by : "", by != NULL ? ")" : "");
	}
	if (json_integer_value(json_object_get(st, "fleet_not_taken")) > 0)
		printf("(%lld from the fleet server not taken: server.exceptions is %s)\n",
		       (long long)json_integer_value(json_object_get(st, "fleet_not_taken")),
		       json_string_value(json_object_get(st, "server_takes")));
	if (json_object_get(st, "fleet_refused") != NULL)
		printf("fleet: %s\n", json_string_value(json_object_get(st, "fleet_refused")));
	if (json_object_get(st, "local_error") != NULL)
		printf("local: %s\n", json_string_value(json_object_get(st, "local_error")));
}

static int
print_scan(json_t *ans, int json)
{
	json_t *m, *x;
	size_t i;

	if (json) {
		json_object_del(ans, "ok");
		json_dumpf(ans, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
	} else {
		json_array_foreach(json_object_get(ans, "matches"), i, m)
		{
			printf("%s: %s FOUND\n", json_string_value(json_object_get(m, "path")),
			       json_string_value(json_object_get(m, "rule")));
			if ((x = json_object_get(m, "quarantined")) != NULL)
				fprintf(stderr, "ward: %s: moved into the quarantine as %s\n",
					json_string_value(json_object_get(m, "path")),
					json_string_value(json_object_get(x, "id")));
			if ((x = json_object_get(m, "quarantine_failed")) != NULL)
				fprintf(stderr, "ward: %s: not quarantined: %s\n",
					json_string_value(json_object_get(m, "path")),
					json_string_value(json_object_get(x, "error")));
		}
		json_array_foreach(json_object_get(ans, "excepted"), i, m)
		{
			x = json_object_get(m, "exception");
			fprintf(stderr, "ward: %s: %s excepted by %s:%lld (%s)\n",
				json_string_value(json_object_get(m, "path")),
				json_string_value(json_object_get(m, "rule")),
				json_string_value(json_object_get(x, "source")),
				(long long)json_integer_value(json_object_get(x, "id")),
				json_string_value(json_object_get(x, "match")));
		}
	}
	fprintf(stderr,
		"ward: %lld files scanned by the agent (content version %lld), %lld matches, "
		"%lld excepted, %lld errors\n",
		(long long)json_integer_value(json_object_get(ans, "files")),
		(long long)json_integer_value(json_object_get(ans, "version")),
		(long long)json_integer_value(json_object_get(ans, "match_count")),
		(long long)json_integer_value(json_object_get(ans, "excepted_count")),
		(long long)json_integer_value(json_object_get(ans, "errors")));
	return json_integer_value(json_object_get(ans, "match_count")) > 0 ? EXIT_FOUND
									   : EXIT_CLEAN;
}

int
cmd_agent(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"run-dir", required_argument, NULL, 'r'}, {"json", no_argument, NULL, 'j'},
	    {"format", required_argument, NULL, 'f'},  {"quarantine", no_argument, NULL, 'q'},
	    {"sha256", required_argument, NULL, 'S'},  {"path", required_argument, NULL, 'P'},
	    {"rule", required_argument, NULL, 'R'},    {"reason", required_argument, NULL, 'W'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	const char *run_dir = getenv("WARD_RUN_DIR"), *sub, *action = NULL;
	const char *format = NULL, *sha = NULL, *glob = NULL, *rule = NULL, *reason = NULL;
	char abs[PATH_MAX];
	json_t *req = NULL, *ans = NULL;
	int c, json = 0, quarantine = 0, r = EXIT_ERROR;

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
	if (strcmp(sub, "except") == 0 && optind < argc && argv[optind][0] != '-')
		action = argv[optind++];
	/* Options may also follow the subcommand, before or after its
	 * arguments: a fresh scan (optind = 0) of what follows it. */
	argc -= optind - 1;
	argv += optind - 1;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			run_dir = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'f':
			format = optarg;
			break;
		case 'q':
			quarantine = 1;
			break;
		case 'S':
			sha = optarg;
			break;
		case 'P':
			glob = optarg;
			break;
		case 'R':
			rule = optarg;
			break;
		case 'W':
			reason = optarg;
			break;
		default:
			agent_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : EXIT_ERROR;
		}
	}
	/* Each option belongs to its subcommand. */
	if ((format != NULL || quarantine) && strcmp(sub, "scan") != 0) {
		agent_usage(stderr);
		return EXIT_ERROR;
	}
	if ((sha != NULL || glob != NULL || rule != NULL || reason != NULL) &&
	    (action == NULL || strcmp(action, "add") != 0)) {
		agent_usage(stderr);
		return EXIT_ERROR;
	}
	if (format != NULL && strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
		fprintf(stderr, "ward: --format is text or json\n");
		return EXIT_ERROR;
	}
	if (action != NULL && strcmp(action, "add") == 0 && optind == argc) {
		/* The agent checks the exception (the one parser of every
		 * source). */
		json_t *spec = cli_exception_spec(sha, rule, glob, reason);

		if (spec == NULL)
			return EXIT_ERROR;
		req = json_pack("{s:s, s:o}", "cmd", "except-add", "exception", spec);
	} else if (action != NULL && strcmp(action, "list") == 0 && optind == argc) {
		req = json_pack("{s:s}", "cmd", "except-list");
	} else if (action != NULL && strcmp(action, "remove") == 0 && optind == argc - 1) {
		req = json_pack("{s:s, s:s}", "cmd", "except-remove", "id", argv[optind]);
	} else if (strcmp(sub, "except") == 0) {
		agent_usage(stderr);
		return EXIT_ERROR;
	} else if (strcmp(sub, "status") == 0 && optind == argc) {
		req = json_pack("{s:s}", "cmd", "status");
	} else if (strcmp(sub, "rollback") == 0 && optind == argc) {
		req = json_pack("{s:s}", "cmd", "rollback");
	} else if ((strcmp(sub, "apply") == 0 || strcmp(sub, "scan") == 0) && optind == argc - 1) {
		if (realpath(argv[optind], abs) == NULL) {
			fprintf(stderr, "ward: %s: %s\n", argv[optind], strerror(errno));
			return EXIT_ERROR;
		}
		req = json_pack("{s:s, s:s}", "cmd", sub, "path", abs);
		if (quarantine)
			json_object_set_new(req, "quarantine", json_true());
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
	} else if (strcmp(sub, "except") == 0) {
		json_t *e = json_object_get(ans, "exception");

		if (strcmp(action, "list") != 0)
			printf("%s exception %s:%lld: %s\n",
			       strcmp(action, "add") == 0 ? "added" : "removed",
			       json_string_value(json_object_get(e, "source")),
			       (long long)json_integer_value(json_object_get(e, "id")),
			       json_string_value(json_object_get(e, "match")));
		else if (json) {
			json_object_del(ans, "ok");
			json_dumpf(ans, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			printf("\n");
		} else
			print_exceptions(ans);
		r = 0;
	} else {
		r = print_scan(ans, format != NULL && strcmp(format, "json") == 0);
	}
out:
	json_decref(req);
	json_decref(ans);
	return r;
}
