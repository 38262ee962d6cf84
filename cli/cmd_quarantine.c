/*
 * ward quarantine: list, restore and delete quarantined files.  When the
 * agent is running, it does the work (its own writes never trigger its
 * sensors, so a restored file is not quarantined again); otherwise ward
 * works on the store directly.  Root only: the store is.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "response/quarantine.h"

static void
q_usage(FILE *f)
{
	fprintf(f, "usage: ward quarantine [--state-dir DIR] [--run-dir DIR] list [--json]\n"
		   "       ward quarantine [--state-dir DIR] [--run-dir DIR] restore ID\n"
		   "                       [--to DIR] [--except]\n"
		   "       ward quarantine [--state-dir DIR] [--run-dir DIR] delete ID\n"
		   "\n"
		   "list     the quarantined files: id, original path, size, rule, when\n"
		   "restore  put a file back where it was, byte for byte, with its owner,\n"
		   "         group, mode and mtime (refused if something is there now, or if\n"
		   "         its directory has a symbolic link on its path, is writable by\n"
		   "         its group or others, or belongs to someone other than root or\n"
		   "         the file's owner)\n"
		   "         The agent would detect it again: restore prints the command\n"
		   "         that excepts it (by its SHA-256), or with --except runs it\n"
		   "delete   remove a quarantined file for good\n"
		   "\n"
		   "  --state-dir DIR  the agent's state directory (default /var/lib/ward)\n"
		   "  --run-dir DIR    the agent's run directory (default /run/ward); when\n"
		   "                   the agent runs, it does the work\n"
		   "  --to DIR         restore: put the file under its name in DIR instead\n"
		   "                   (same checks on DIR)\n"
		   "  --except         restore: then add an exception for the file's\n"
		   "                   SHA-256 to the running agent (ward agent except add)\n"
		   "\n"
		   "Exit status: 0 done, 2 failed (the reason is printed), also when the\n"
		   "state directory does not exist or is not the agent's (it has neither\n"
		   "content/ nor quarantine/ in it).\n");
}

/*
 * Whether dir is an agent's state directory: a directory with the content
 * store or the quarantine in it (the agent makes content/ when it first
 * starts, quarantine/ when it first quarantines).  An empty list from a
 * directory that is not one would read as "nothing quarantined": a wrong
 * --state-dir, a typo, must say so instead.  Prints why and returns 0 when
 * it is not.
 */
static int
q_state_dir_ok(const char *dir)
{
	static const char *const marks[] = {"content", "quarantine"};
	struct stat st;
	size_t i;
	int fd, ok = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "ward: %s: cannot open the state directory: %s\n", dir,
			strerror(errno));
		return 0;
	}
	for (i = 0; i < sizeof(marks) / sizeof(marks[0]) && !ok; i++)
		ok = fstatat(fd, marks[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
	close(fd);
	if (!ok)
		fprintf(stderr,
			"ward: %s: not a ward state directory (no content/ or quarantine/ in it); "
			"give the agent's state_dir with --state-dir\n",
			dir);
	return ok;
}

/*
 * After a restore: the agent would detect the file again (open denied,
 * quarantined on its next write).  Prints the command that excepts it by
 * its SHA-256, or with add runs it through the agent.  0, or EXIT_ERROR.
 */
static int
offer_exception(const char *run, const char *id, const char *sha, const char *rule, int add)
{
	char runopt[4200] = "", reason[64];
	json_t *req, *ans;
	int r = EXIT_ERROR;

	if (strcmp(run, "/run/ward") != 0)
		snprintf(runopt, sizeof(runopt), " --run-dir '%s'", run);
	snprintf(reason, sizeof(reason), "restored from quarantine %s", id);
	if (!add) {
		fprintf(stderr,
			"ward: the agent detects this file (%s) and will block or quarantine it "
			"again; if it is a false positive, except it:\n"
			"  ward agent%s except add --sha256 %s --reason '%s'\n",
			rule, runopt, sha, reason);
		return 0;
	}
	req = json_pack("{s:s, s:{s:s, s:s}}", "cmd", "except-add", "exception", "sha256", sha,
			"reason", reason);
	ans = cli_agent_ask(run, req, 1);
	json_decref(req);
	if (ans == NULL)
		fprintf(stderr,
			"ward: no exception added: the agent is not running; once it is:\n"
			"  ward agent%s except add --sha256 %s --reason '%s'\n",
			runopt, sha, reason);
	else if (!json_is_true(json_object_get(ans, "ok")))
		fprintf(stderr, "ward: no exception added: %s\n",
			json_string_value(json_object_get(ans, "error")));
	else {
		json_t *e = json_object_get(ans, "exception");

		printf("added exception %s:%lld: %s\n",
		       json_string_value(json_object_get(e, "source")),
		       (long long)json_integer_value(json_object_get(e, "id")),
		       json_string_value(json_object_get(e, "match")));
		r = 0;
	}
	json_decref(ans);
	return r;
}

static void
add_entry(void *arg, const struct quarantine_entry *e)
{
	json_array_append_new((json_t *)arg, quarantine_entry_json(e));
}

int
cmd_quarantine(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"state-dir", required_argument, NULL, 's'},
		{"run-dir", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"to", required_argument, NULL, 't'},
		{"except", no_argument, NULL, 'x'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *state = "/var/lib/ward", *run = getenv("WARD_RUN_DIR"), *sub, *id = NULL;
	int state_given = 0;
	const char *to = NULL;
	char to_abs[4096];
	json_t *req, *ans = NULL, *entries = NULL, *e;
	struct quarantine_entry qe;
	struct ward_diag d;
	char cmd[32];
	size_t i;
	int c, json = 0, add_except = 0, r = EXIT_ERROR;

	if (run == NULL)
		run = "/run/ward";
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 's') {
			state = optarg;
			state_given = 1;
		} else if (c == 'r')
			run = optarg;
		else if (c == 'j')
			json = 1;
		else if (c == 't')
			to = optarg;
		else if (c == 'x')
			add_except = 1;
		else {
			q_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		q_usage(stderr);
		return EXIT_ERROR;
	}
	sub = argv[optind++];
	if (strcmp(sub, "list") != 0 && strcmp(sub, "restore") != 0 && strcmp(sub, "delete") != 0) {
		q_usage(stderr);
		return EXIT_ERROR;
	}
	if (strcmp(sub, "list") != 0) {
		if (optind != argc - 1) {
			q_usage(stderr);
			return EXIT_ERROR;
		}
		id = argv[optind];
	} else if (optind != argc) {
		q_usage(stderr);
		return EXIT_ERROR;
	}
	if ((to != NULL || add_except) && strcmp(sub, "restore") != 0) {
		q_usage(stderr);
		return EXIT_ERROR;
	}
	/* The agent has another working directory: it gets DIR absolute (as
	 * written, no symbolic link resolved: the library refuses them). */
	if (to != NULL && to[0] != '/') {
		char cwd[2048];

		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    (size_t)snprintf(to_abs, sizeof(to_abs), "%s/%s", cwd, to) >= sizeof(to_abs)) {
			fprintf(stderr, "ward: %s: cannot make it an absolute path\n", to);
			return EXIT_ERROR;
		}
		to = to_abs;
	}
	/* A --state-dir given is checked even when the agent answers: it names
	 * the store the user means, which may not be the running agent's. */
	if (state_given && !q_state_dir_ok(state))
		return EXIT_ERROR;
	snprintf(cmd, sizeof(cmd), "quarantine-%s", sub);
	req = id != NULL ? json_pack("{s:s, s:s}", "cmd", cmd, "id", id)
			 : json_pack("{s:s}", "cmd", cmd);
	if (req != NULL && to != NULL)
		json_object_set_new(req, "to", json_string(to));
	ans = cli_agent_ask(run, req, 1);
	json_decref(req);
	diag_clear(&d);
	if (ans == NULL && !state_given && !q_state_dir_ok(state))
		goto out;
	if (ans != NULL) { /* the agent did it */
		if (!json_is_true(json_object_get(ans, "ok"))) {
			fprintf(stderr, "ward: %s\n", json_string_value(json_object_get(ans, "error")));
			goto out;
		}
		entries = json_incref(json_object_get(ans, "entries"));
		if (strcmp(sub, "restore") == 0) {
			const char *sha = json_string_value(json_object_get(ans, "sha256"));
			const char *rule = json_string_value(json_object_get(ans, "rule"));

			printf("restored %s\n", json_string_value(json_object_get(ans, "path")));
			fflush(stdout);
			if (sha != NULL && offer_exception(run, id, sha, rule != NULL ? rule : "?",
							   add_except) != 0)
				goto out;
		}
	} else if (strcmp(sub, "list") == 0) {
		entries = json_array();
		if (quarantine_list(state, add_entry, entries, &d) != 0) {
			cli_diag(&d);
			goto out;
		}
	} else if (strcmp(sub, "restore") == 0) {
		if (quarantine_restore(state, id, to, &qe, &d) != 0) {
			cli_diag(&d);
			goto out;
		}
		printf("restored %s\n", qe.path);
		fflush(stdout);
		if (offer_exception(run, id, qe.sha256, qe.rule, add_except) != 0)
			goto out;
	} else if (quarantine_delete(state, id, &d) != 0) {
		cli_diag(&d);
		goto out;
	}
	if (strcmp(sub, "list") == 0) {
		if (json) {
			json_dumpf(entries, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			printf("\n");
		} else {
			json_array_foreach(entries, i, e)
				printf("%s  %s  %10lld  %s  %s\n",
				       json_string_value(json_object_get(e, "id")),
				       json_string_value(json_object_get(e, "quarantined_at")),
				       (long long)json_integer_value(json_object_get(e, "size")),
				       json_string_value(json_object_get(e, "rule")),
				       json_string_value(json_object_get(e, "path")));
		}
	}
	r = 0;
out:
	json_decref(entries);
	json_decref(ans);
	return r;
}
