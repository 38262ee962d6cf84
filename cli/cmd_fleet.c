/*
 * ward fleet: the fleet server's admin API (docs/server.md) from the
 * command line.  The server, API token and CA come from options or from
 * $WARD_SERVER, $WARD_TOKEN (or $WARD_TOKEN_FILE) and $WARD_CA.  The
 * release and rollout commands are cmd_fleet_release.c's.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd_fleet.h"
#include "util/alloc.h"
#include "util/answer.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/size.h"

#define MAX_ANSWER (256u << 20)

void
fleet_usage(FILE *f)
{
	fprintf(f,
		"usage: ward fleet [--server URL] [--token-file FILE] [--ca FILE] COMMAND\n"
		"\n"
		"Commands:\n"
		"  agents [--json]                  enrolled agents: id, host, group, content\n"
		"                                   version, mode, last check-in\n"
		"  revoke AGENT_ID                  revoke an agent (it can no longer call in,\n"
		"                                   nor enroll again from that host)\n"
		"  unrevoke AGENT_ID                lift a revocation (restart that agent)\n"
		"  approve AGENT_ID, deny AGENT_ID  decide an enrollment that claims an existing\n"
		"                                   agent's identity without its secret (STATE\n"
		"                                   pending in agents; --json shows who asked)\n"
		"  token create [--group G] [--uses N] [--expires DURATION]\n"
		"                                   a new enrollment token (printed): one use\n"
		"                                   within 24 h unless --uses (0: unlimited) or\n"
		"                                   --expires (0: never) say otherwise\n"
		"  events [--agent ID] [--since SEQ] [--limit N]\n"
		"                                   events agents uploaded, one JSON per line\n"
		"  audit [--json]                   who did what (admin role)\n"
		"  keys list [--json]               the content signing keys releases are\n"
		"                                   verified with\n"
		"  keys add KEY.pub, keys remove ID trust a signing key, or no longer (admin)\n"
		"  publish BUNDLE [--plan PLAN.json]\n"
		"                                   store a signed bundle and release it ring by\n"
		"                                   ring (prints the release id)\n"
		"  releases [--json]                releases, newest first\n"
		"  release ID [--json]              a release ring by ring, with its incidents\n"
		"  pause|resume|abort|promote ID    control a release (promote: skip the soak)\n"
		"  pin GROUP VERSION, unpin GROUP   keep a group on a version\n"
		"  pins [--json]                    the pinned groups\n"
		"  freeze, unfreeze                 stop (and restart) all content changes\n"
		"  status [--json]                  the fleet at a glance: frozen, the release\n"
		"                                   under way and why it waits, agents, pins\n"
		"  except add (--sha256 HEX | --path GLOB | --rule NAME [--path GLOB])\n"
		"             [--group G] [--reason TEXT]\n"
		"                                   an exception to verdicts (a false positive)\n"
		"                                   for every agent, or a group's; agents take\n"
		"                                   SHA-256 ones unless server.exceptions allows\n"
		"                                   more (docs/agent.md)\n"
		"  except list [--json], except remove ID\n"
		"\n"
		"  --server URL        https://HOST:PORT, or HOST:PORT (or $WARD_SERVER)\n"
		"  --token-file FILE   the API token (or $WARD_TOKEN, $WARD_TOKEN_FILE)\n"
		"  --ca FILE           the server's CA certificate (or $WARD_CA)\n"
		"\n"
		"These three options may come before or after the command.\n"
		"DURATION: seconds, or a number with s, m, h or d.\n"
		"Exit status: 0 done, 2 error (the server's message is printed).\n");
}

json_t *
fleet_call_raw(const struct conn *c, const char *method, const char *path, const void *raw,
	       size_t rawlen, const char *type)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *h = NULL;
	struct answer a = {NULL, 0, MAX_ANSWER};
	char url[2048], auth[200], err[CURL_ERROR_SIZE] = "";
	json_t *ans = NULL;
	long code = 0;
	CURLcode rc;

	if (curl == NULL)
		return NULL;
	snprintf(url, sizeof(url), "%s%s", c->url, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
	h = curl_slist_append(h, auth);
	snprintf(err, sizeof(err), "Content-Type: %s", type);
	h = curl_slist_append(h, err);
	err[0] = '\0';
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	if (c->ca != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, answer_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, raw != NULL ? raw : "{}");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(raw != NULL ? rawlen : 2));
	}
	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		fprintf(stderr, "ward: %s: %s\n", c->url, err[0] ? err : curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
		ans = a.p != NULL ? json_loads(a.p, 0, NULL) : NULL;
		if (code == 401) {
			const char *e = json_string_value(json_object_get(ans, "error"));

			fprintf(stderr, "ward: the server refused the API token (from %s): %s\n",
				c->token_from, e != NULL ? e : "(no message)");
			json_decref(ans);
			ans = NULL;
		} else if (code != 200) {
			const char *e = json_string_value(json_object_get(ans, "error"));

			fprintf(stderr, "ward: the server answered %ld: %s\n", code,
				e != NULL ? e : "(no message)");
			json_decref(ans);
			ans = NULL;
		}
	}
	/* The header list holds a copy of the token: wiped with ours. */
	for (struct curl_slist *e = h; e != NULL; e = e->next)
		OPENSSL_cleanse(e->data, strlen(e->data));
	OPENSSL_cleanse(auth, sizeof(auth));
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	free(a.p);
	return ans;
}

json_t *
fleet_call(const struct conn *c, const char *method, const char *path, json_t *body)
{
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	json_t *ans = fleet_call_raw(c, method, path, text, text != NULL ? strlen(text) : 0,
				     "application/json");

	free(text);
	return ans;
}

void
fleet_print_json(json_t *v, int indent)
{
	char *text = json_dumps(v, indent ? JSON_INDENT(2) : JSON_COMPACT);

	if (text != NULL)
		printf("%s\n", text);
	free(text);
}

/* How long ago the RFC 3339 time at was ("?" if it is not one). */
static void
ago(const char *at, char *out, size_t outlen)
{
	int64_t t;
	long long s;

	if (at == NULL || clock_utc_parse(at, &t) != 0) {
		snprintf(out, outlen, "?");
		return;
	}
	s = (long long)time(NULL) - (long long)t;
	if (s < 120)
		snprintf(out, outlen, "%llds ago", s < 0 ? 0 : s);
	else if (s < 7200)
		snprintf(out, outlen, "%lldm ago", s / 60);
	else if (s < 172800)
		snprintf(out, outlen, "%lldh ago", s / 3600);
	else
		snprintf(out, outlen, "%lldd ago", s / 86400);
}

static int
agents(const struct conn *c, int json)
{
	json_t *ans = fleet_call(c, "GET", "/api/v1/agents", NULL), *a;
	size_t i;

	if (ans == NULL)
		return EXIT_ERROR;
	if (json) {
		fleet_print_json(json_object_get(ans, "agents"), 1);
	} else {
		printf("%-32s  %-20s  %-10s  %7s  %-10s  %-9s  %s\n", "ID", "HOST", "GROUP",
		       "CONTENT", "MODE", "SEEN", "STATE");
		json_array_foreach(json_object_get(ans, "agents"), i, a)
		{
			char seen[32];

			/* An agent whose long poll is held is there now. */
			if (json_is_true(json_object_get(a, "connected")))
				snprintf(seen, sizeof(seen), "connected");
			else
				ago(json_string_value(json_object_get(a, "last_seen")), seen,
				    sizeof(seen));
			printf("%-32s  %-20.20s  %-10.10s  %7lld  %-10.10s  %-9s  %s\n",
			       json_string_value(json_object_get(a, "id")),
			       json_string_value(json_object_get(a, "hostname")),
			       json_string_value(json_object_get(a, "group")),
			       (long long)json_integer_value(json_object_get(a, "content_version")),
			       json_string_value(json_object_get(a, "mode")), seen,
			       json_is_true(json_object_get(a, "revoked")) ? "revoked"
			       : json_object_get(a, "pending") != NULL	   ? "pending"
			       : json_object_get(a, "clone_of") != NULL	   ? "clone"
									   : "ok");
		}
	}
	json_decref(ans);
	return 0;
}

static int
token_create(const struct conn *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"group", required_argument, NULL, 'g'},
	    {"uses", required_argument, NULL, 'u'},
	    {"expires", required_argument, NULL, 'e'},
	    {NULL, 0, NULL, 0},
	};
	json_t *body = json_object(), *ans;
	int ch;

	optind = 0; /* a fresh scan (GNU getopt starts again at 1) */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'g':
			json_object_set_new(body, "group", json_string(optarg));
			break;
		case 'u':
			if (strspn(optarg, "0123456789") != strlen(optarg) || optarg[0] == '\0') {
				fprintf(stderr, "ward: --uses must be a number\n");
				json_decref(body);
				return EXIT_ERROR;
			}
			json_object_set_new(body, "uses", json_integer(atoll(optarg)));
			break;
		case 'e': {
			long long secs = 0;

			if (strcmp(optarg, "0") != 0 && strcmp(optarg, "never") != 0 &&
			    duration_parse(optarg, &secs) != 0) {
				fprintf(stderr,
					"ward: --expires must be a duration (30m, 12h, 7d)\n");
				json_decref(body);
				return EXIT_ERROR;
			}
			json_object_set_new(body, "expires_s", json_integer(secs));
			break;
		}
		default:
			fleet_usage(stderr);
			json_decref(body);
			return EXIT_ERROR;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ward: token create takes no argument %s\n", argv[optind]);
		json_decref(body);
		return EXIT_ERROR;
	}
	ans = fleet_call(c, "POST", "/api/v1/tokens", body);
	json_decref(body);
	if (ans == NULL)
		return EXIT_ERROR;
	printf("%s\n", json_string_value(json_object_get(ans, "token")));
	json_decref(ans);
	return 0;
}

static int
events(const struct conn *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"agent", required_argument, NULL, 'a'},
	    {"since", required_argument, NULL, 's'},
	    {"limit", required_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	char path[512] = "/api/v1/events?x=1", *esc;
	json_t *ans, *e;
	size_t i;
	int ch;
	CURL *curl = curl_easy_init();

	optind = 0; /* a fresh scan: the first one stopped at the command */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char *key = ch == 'a' ? "agent" : ch == 's' ? "since" : "limit";

		if (ch == '?') {
			fleet_usage(stderr);
			curl_easy_cleanup(curl);
			return EXIT_ERROR;
		}
		esc = curl_easy_escape(curl, optarg, 0);
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "&%s=%s", key,
			 esc != NULL ? esc : "");
		curl_free(esc);
	}
	curl_easy_cleanup(curl);
	if ((ans = fleet_call(c, "GET", path, NULL)) == NULL)
		return EXIT_ERROR;
	json_array_foreach(json_object_get(ans, "events"), i, e) fleet_print_json(e, 0);
	json_decref(ans);
	return 0;
}

/* ward fleet keys list [--json] | add KEY.pub | remove KEY_ID */
static int
keys_cmd(const struct conn *c, int argc, char **argv, int json)
{
	json_t *ans, *k;
	size_t i;

	if (strcmp(argv[0], "list") == 0 && argc <= 2) {
		if ((ans = fleet_call(c, "GET", "/api/v1/keys", NULL)) == NULL)
			return EXIT_ERROR;
		if (json || (argc == 2 && strcmp(argv[1], "--json") == 0))
			fleet_print_json(ans, 1);
		else
			json_array_foreach(json_object_get(ans, "keys"), i, k) printf(
			    "%s  %-7s  %-6s  %s\n", json_string_value(json_object_get(k, "key_id")),
			    json_string_value(json_object_get(k, "alg")),
			    json_string_value(json_object_get(k, "source")),
			    json_string_value(json_object_get(k, "path")) != NULL
				? json_string_value(json_object_get(k, "path"))
				: json_string_value(json_object_get(k, "added")));
		json_decref(ans);
		return 0;
	}
	if (strcmp(argv[0], "add") == 0 && argc == 2) {
		uint8_t *buf = NULL;
		size_t len = 0;
		struct ward_diag d;
		json_t *body;

		if (file_read_all(argv[1], 16384, &buf, &len, &d) != 0) {
			fprintf(stderr, "ward: %s: %s\n", argv[1], d.msg);
			return EXIT_ERROR;
		}
		body = json_pack("{s:s%}", "pem", (const char *)buf, len);
		ward_free(buf);
		ans = fleet_call(c, "POST", "/api/v1/keys", body);
		json_decref(body);
		if (ans == NULL)
			return EXIT_ERROR;
		printf("trusted %s key %s: bundles it signs may be published\n",
		       json_string_value(json_object_get(ans, "alg")),
		       json_string_value(json_object_get(ans, "key_id")));
		json_decref(ans);
		return 0;
	}
	if (strcmp(argv[0], "remove") == 0 && argc == 2 && strlen(argv[1]) == 32 &&
	    strspn(argv[1], "0123456789abcdef") == 32) {
		char path[128];

		snprintf(path, sizeof(path), "/api/v1/keys/%s/remove", argv[1]);
		if ((ans = fleet_call(c, "POST", path, NULL)) == NULL)
			return EXIT_ERROR;
		printf("removed key %s: bundles signed only with it are refused\n", argv[1]);
		json_decref(ans);
		return 0;
	}
	fleet_usage(stderr);
	return EXIT_ERROR;
}

/* ward fleet except add|list|remove: the fleet's exceptions to verdicts. */
static int
fleet_except(const struct conn *c, int argc, char **argv, int json)
{
	static const struct option opts[] = {
	    {"sha256", required_argument, NULL, 'S'},
	    {"path", required_argument, NULL, 'P'},
	    {"rule", required_argument, NULL, 'R'},
	    {"reason", required_argument, NULL, 'W'},
	    {"group", required_argument, NULL, 'g'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	const char *sha = NULL, *glob = NULL, *rule = NULL, *reason = NULL, *group = NULL, *act;
	json_t *ans, *body, *e;
	char path[96];
	size_t i;
	int ch;

	if (argc < 2)
		goto usage;
	act = argv[1];
	optind = 0; /* a fresh scan, from the action on */
	while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (ch) {
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
		case 'g':
			group = optarg;
			break;
		case 'j':
			json = 1;
			break;
		default:
			goto usage;
		}
	}
	optind++; /* past the action, in argv */
	if (strcmp(act, "add") == 0 && optind == argc) {
		/* The server checks it with the agents' parser. */
		json_t *spec = cli_exception_spec(sha, rule, glob, reason);

		if (spec == NULL)
			return EXIT_ERROR;
		body = json_pack("{s:o}", "exception", spec);
		if (group != NULL)
			json_object_set_new(body, "group", json_string(group));
		ans = fleet_call(c, "POST", "/api/v1/exceptions", body);
		json_decref(body);
		if (ans == NULL)
			return EXIT_ERROR;
		printf("added fleet exception %lld for %s%s: %s\n",
		       (long long)json_integer_value(json_object_get(ans, "id")),
		       group != NULL ? "group " : "every agent", group != NULL ? group : "",
		       json_string_value(json_object_get(ans, "match")));
		if (sha == NULL)
			fprintf(stderr, "ward: agents take path and rule exceptions from the "
					"server only with server.exceptions: all in wardd.yaml "
					"(the default takes SHA-256 ones)\n");
		json_decref(ans);
		return 0;
	}
	if (sha != NULL || glob != NULL || rule != NULL || reason != NULL || group != NULL)
		goto usage;
	if (strcmp(act, "remove") == 0 && optind == argc - 1 && argv[optind][0] != '\0' &&
	    strspn(argv[optind], "0123456789") == strlen(argv[optind]) &&
	    strlen(argv[optind]) <= 18) {
		snprintf(path, sizeof(path), "/api/v1/exceptions/%s/remove", argv[optind]);
		if ((ans = fleet_call(c, "POST", path, NULL)) == NULL)
			return EXIT_ERROR;
		e = json_object_get(ans, "removed");
		printf("removed fleet exception %s: %s\n", argv[optind],
		       json_string_value(json_object_get(e, "match")));
		json_decref(ans);
		return 0;
	}
	if (strcmp(act, "list") != 0 || optind != argc)
		goto usage;
	if ((ans = fleet_call(c, "GET", "/api/v1/exceptions", NULL)) == NULL)
		return EXIT_ERROR;
	if (json) {
		fleet_print_json(json_object_get(ans, "exceptions"), 1);
	} else {
		printf("%5s  %-12s  %-71s  %-16s %s\n", "ID", "GROUP", "MATCH", "BY", "REASON");
		json_array_foreach(json_object_get(ans, "exceptions"), i, e)
		{
			const char *g = json_string_value(json_object_get(e, "group"));
			const char *why = json_string_value(json_object_get(e, "reason"));

			printf("%5lld  %-12.12s  %-71s  %-16.16s %s\n",
			       (long long)json_integer_value(json_object_get(e, "id")),
			       g != NULL && g[0] != '\0' ? g : "(all)",
			       json_string_value(json_object_get(e, "match")),
			       json_string_value(json_object_get(e, "by")), why != NULL ? why : "");
		}
	}
	json_decref(ans);
	return 0;
usage:
	fleet_usage(stderr);
	return EXIT_ERROR;
}

/*
 * Takes --server, --token-file and --ca (as "--opt VALUE" or "--opt=VALUE")
 * out of argv wherever they are, into c and *token_file.  The new argc, or
 * -1 when one lacks its value.
 */
static int
take_global(int argc, char **argv, struct conn *c, const char **token_file)
{
	static const char *const names[] = {"--server", "--token-file", "--ca"};
	int i, k, out = 1;

	for (i = 1; i < argc; i++) {
		const char *v = NULL;
		size_t n;

		for (k = 0; k < 3; k++) {
			n = strlen(names[k]);
			if (strcmp(argv[i], names[k]) == 0) {
				if (i + 1 >= argc)
					return -1;
				v = argv[++i];
				break;
			}
			if (strncmp(argv[i], names[k], n) == 0 && argv[i][n] == '=') {
				v = argv[i] + n + 1;
				break;
			}
		}
		if (v == NULL) {
			argv[out++] = argv[i];
			continue;
		}
		if (k == 0)
			c->server = v;
		else if (k == 1)
			*token_file = v;
		else
			c->ca = v;
	}
	argv[out] = NULL;
	return out;
}

int
cmd_fleet(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct conn c;
	const char *token_file = getenv("WARD_TOKEN_FILE"), *cmd;
	int ch, json = 0, r;

	memset(&c, 0, sizeof(c));
	c.server = getenv("WARD_SERVER");
	c.ca = getenv("WARD_CA");
	if (getenv("WARD_TOKEN") != NULL) {
		snprintf(c.token, sizeof(c.token), "%s", getenv("WARD_TOKEN"));
		c.token_from = "$WARD_TOKEN";
	}
	/* The connection's options go anywhere: before the command (as the
	 * usage shows) or after it (`ward fleet agents --server URL`). */
	argc = take_global(argc, argv, &c, &token_file);
	if (argc < 0) {
		fleet_usage(stderr);
		return EXIT_ERROR;
	}
	optind = 0; /* a fresh scan: the first one stopped at the command */
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'h':
			fleet_usage(stdout);
			return 0;
		default:
			fleet_usage(stderr);
			return EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		fleet_usage(stderr);
		return EXIT_ERROR;
	}
	if (c.server == NULL || c.server[0] == '\0') {
		fprintf(stderr, "ward: which server? --server https://HOST:PORT or $WARD_SERVER\n");
		return EXIT_ERROR;
	}
	/* HOST:PORT is taken as https://HOST:PORT: the server speaks nothing else. */
	snprintf(c.url, sizeof(c.url), "%s%s", strstr(c.server, "://") == NULL ? "https://" : "",
		 c.server);
	if (c.ca != NULL && c.ca[0] == '\0') {
		fprintf(stderr,
			"ward: %s is empty: give the server's CA certificate (its ca.crt), or "
			"unset it to use the system's\n",
			getenv("WARD_CA") == c.ca ? "$WARD_CA" : "--ca");
		return EXIT_ERROR;
	}
	if (token_file != NULL) {
		uint8_t *buf = NULL;
		size_t len = 0;
		struct ward_diag d;

		if (file_read_all(token_file, 4096, &buf, &len, &d) != 0) {
			fprintf(stderr, "ward: the API token file %s: %s\n", token_file, d.msg);
			return EXIT_ERROR;
		}
		snprintf(c.token, sizeof(c.token), "%.*s", (int)strcspn((char *)buf, "\r\n"),
			 (char *)buf);
		c.token_from = token_file;
		OPENSSL_cleanse(buf, len);
		ward_free(buf);
	}
	if (c.token[0] == '\0') {
		fprintf(stderr, "ward: an API token is needed: --token-file FILE, $WARD_TOKEN or "
				"$WARD_TOKEN_FILE\n");
		return EXIT_ERROR;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "agents") == 0) {
		if (argc == 2 && strcmp(argv[1], "--json") == 0)
			json = 1;
		else if (argc != 1)
			goto usage;
		return agents(&c, json);
	}
	if ((strcmp(cmd, "revoke") == 0 || strcmp(cmd, "unrevoke") == 0 ||
	     strcmp(cmd, "approve") == 0 || strcmp(cmd, "deny") == 0) &&
	    argc == 2) {
		static const struct {
			const char *cmd, *done;
		} said[] = {{"revoke", "revoked"},
			    {"unrevoke", "lifted the revocation of"},
			    {"approve", "approved the new enrollment of"},
			    {"deny", "denied the new enrollment of"}};
		char path[256];
		json_t *ans;
		size_t k;

		if (strlen(argv[1]) != 32 || strspn(argv[1], "0123456789abcdef") != 32) {
			fprintf(stderr, "ward: %s is not an agent id (32 hex digits)\n", argv[1]);
			return EXIT_ERROR;
		}
		snprintf(path, sizeof(path), "/api/v1/agents/%s/%s", argv[1], cmd);
		if ((ans = fleet_call(&c, "POST", path, NULL)) == NULL)
			return EXIT_ERROR;
		for (k = 0; strcmp(said[k].cmd, cmd) != 0; k++)
			;
		printf("%s %s\n", said[k].done, argv[1]);
		json_decref(ans);
		return 0;
	}
	if (strcmp(cmd, "token") == 0 && argc >= 2 && strcmp(argv[1], "create") == 0)
		return token_create(&c, argc - 1, argv + 1);
	if (strcmp(cmd, "events") == 0)
		return events(&c, argc, argv);
	if (strcmp(cmd, "except") == 0)
		return fleet_except(&c, argc, argv, json);
	if ((r = fleet_release(&c, argc, argv, json)) == FLEET_USAGE)
		goto usage;
	if (r != FLEET_NOT_MINE)
		return r;
	if (strcmp(cmd, "keys") == 0 && argc >= 2)
		return keys_cmd(&c, argc - 1, argv + 1, json);
	if (strcmp(cmd, "audit") == 0) {
		json_t *ans = fleet_call(&c, "GET", "/api/v1/audit", NULL), *e;
		size_t i;

		if (ans == NULL)
			return EXIT_ERROR;
		if (json || (argc == 2 && strcmp(argv[1], "--json") == 0))
			fleet_print_json(json_object_get(ans, "audit"), 1);
		else
			json_array_foreach(json_object_get(ans, "audit"), i, e)
			{
				char *detail =
				    json_dumps(json_object_get(e, "detail"), JSON_COMPACT);

				printf("%s  %-24s  %-20s  %s\n",
				       json_string_value(json_object_get(e, "at")),
				       json_string_value(json_object_get(e, "who")),
				       json_string_value(json_object_get(e, "action")),
				       detail != NULL ? detail : "");
				free(detail);
			}
		json_decref(ans);
		return 0;
	}
usage:
	fleet_usage(stderr);
	return EXIT_ERROR;
}
