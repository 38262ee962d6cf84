/*
 * ward fim: file integrity baseline and check (docs/fim.md).  The policy
 * (paths, exclusions, hash) and the baseline's place come from the agent's
 * configuration, or from the command line.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "agent/config.h"
#include "cli.h"
#include "fim/fim.h"

static void
fim_usage(FILE *f)
{
	fprintf(f, "usage: ward fim baseline [--config FILE] [--path P]... [--exclude GLOB]...\n"
		   "                         [--hash sha256|sm3] [--baseline FILE]\n"
		   "       ward fim check [same options] [--json]\n"
		   "\n"
		   "baseline  records type, mode, owner, group, size, mtime, inode, link target\n"
		   "          and content hash of everything under the paths\n"
		   "check     compares the paths with the baseline and lists what was added,\n"
		   "          removed or changed (and which attributes)\n"
		   "\n"
		   "  --config FILE    the agent's configuration: fim.paths, fim.exclude,\n"
		   "                   fim.hash, and the baseline in STATE_DIR/fim/baseline\n"
		   "  --path P         a path to watch (instead of fim.paths; repeatable)\n"
		   "  --exclude GLOB   skip paths matching GLOB (fnmatch, on the full path)\n"
		   "  --hash ALG       sha256 (default) or sm3\n"
		   "  --baseline FILE  where the baseline is (default STATE_DIR/fim/baseline)\n"
		   "  --json           check: one JSON object with added, removed, changed\n"
		   "\n"
		   "Symbolic links are recorded, never followed: a path whose way goes\n"
		   "through a link that is not root's (in a directory only root can\n"
		   "write) is left out and said, and counted as unreadable.\n"
		   "\n"
		   "Exit status of check, as aide's: a sum of 1 (added), 2 (removed),\n"
		   "4 (changed); 0 when nothing differs; 14 and up: an error, also a path\n"
		   "that cannot be read and has nothing in the baseline either (a path that\n"
		   "the baseline has and that is gone is \"removed\").  Of baseline: 0 done,\n"
		   "14 an error, also a path that cannot be read (the baseline is written\n"
		   "without it).\n");
}

#define FIM_EXIT_ERROR 14

/*
 * The policy paths that could not be read at all (they do not exist, a
 * link not root's is on their way, ...).  A path typed wrong would
 * otherwise give an empty baseline and checks that always pass.
 */
struct notes {
	const char *path[FIM_MAX_PATHS];
	int seen[FIM_MAX_PATHS]; /* check: the baseline has something under it */
	unsigned n;
};

/* A policy path left out, and why. */
static void
on_note(void *arg, const char *path, const char *why)
{
	struct notes *nt = arg;

	fprintf(stderr, "ward: %s: %s\n", path, why);
	if (nt->n < FIM_MAX_PATHS && (nt->path[nt->n] = strdup(path)) != NULL)
		nt->n++;
}

/* Whether path is p or below it. */
static int
under(const char *path, const char *p)
{
	size_t n = strlen(p);

	return strncmp(path, p, n) == 0 &&
	       (path[n] == '\0' || path[n] == '/' || (n > 0 && p[n - 1] == '/'));
}

/*
 * The walk keeps a descriptor open per directory level it is in (it never
 * reopens a directory by its path, which a user could have swapped):
 * allow as many descriptors as the hard limit does, so that a deep tree
 * is walked to its bottom.
 */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

struct report {
	int json;
	json_t *added, *removed, *changed;
	struct notes *notes;
};

static void
on_diff(void *arg, enum fim_change what, const char *path, const char *fields)
{
	struct report *r = arg;
	unsigned i;

	if (what == FIM_REMOVED)
		for (i = 0; i < r->notes->n; i++)
			r->notes->seen[i] |= under(path, r->notes->path[i]);
	if (r->json) {
		if (what == FIM_ADDED)
			json_array_append_new(r->added, json_string(path));
		else if (what == FIM_REMOVED)
			json_array_append_new(r->removed, json_string(path));
		else
			json_array_append_new(
			    r->changed, json_pack("{s:s, s:s}", "path", path, "fields", fields));
		return;
	}
	if (what == FIM_ADDED)
		printf("added: %s\n", path);
	else if (what == FIM_REMOVED)
		printf("removed: %s\n", path);
	else
		printf("changed: %s (%s)\n", path, fields);
}

int
cmd_fim(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},	{"path", required_argument, NULL, 'p'},
	    {"exclude", required_argument, NULL, 'x'},	{"hash", required_argument, NULL, 'a'},
	    {"baseline", required_argument, NULL, 'b'}, {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},		{NULL, 0, NULL, 0},
	};
	static struct agent_config cfg;
	static struct notes notes;
	struct fim_policy pol;
	struct fim_stats st;
	struct ward_diag d;
	struct report rep;
	const char *config = NULL, *sub, *hash = NULL, *baseline = NULL;
	char bpath[CONFIG_MAX_PATH + 32];
	struct timespec t0, t1;
	unsigned bits = 0, i;
	int c, r;

	memset(&pol, 0, sizeof(pol));
	memset(&rep, 0, sizeof(rep));
	if (argc < 2 || (strcmp(argv[1], "baseline") != 0 && strcmp(argv[1], "check") != 0)) {
		int help =
		    argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);

		fim_usage(help ? stdout : stderr);
		return help ? 0 : FIM_EXIT_ERROR;
	}
	sub = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'p':
			if (pol.npaths < FIM_MAX_PATHS)
				pol.paths[pol.npaths++] = optarg;
			break;
		case 'x':
			if (pol.nexcludes < FIM_MAX_PATHS)
				pol.excludes[pol.nexcludes++] = optarg;
			break;
		case 'a':
			hash = optarg;
			break;
		case 'b':
			baseline = optarg;
			break;
		case 'j':
			rep.json = 1;
			break;
		case 'h':
			fim_usage(stdout);
			return 0;
		default:
			fim_usage(stderr);
			return FIM_EXIT_ERROR;
		}
	}
	if (optind != argc) {
		fim_usage(stderr);
		return FIM_EXIT_ERROR;
	}
	config_defaults(&cfg);
	if (config != NULL && config_load(config, &cfg, &d) != 0) {
		cli_diag(&d);
		return FIM_EXIT_ERROR;
	}
	if (pol.npaths == 0)
		for (i = 0; i < cfg.fim_npaths; i++)
			pol.paths[pol.npaths++] = cfg.fim_paths[i];
	if (pol.nexcludes == 0)
		for (i = 0; i < cfg.fim_nexcludes; i++)
			pol.excludes[pol.nexcludes++] = cfg.fim_excludes[i];
	if (hash == NULL)
		hash = cfg.fim_hash;
	if (digest_from_name(hash, strlen(hash), &pol.hash) != 0 ||
	    (pol.hash != DIGEST_SHA256 && pol.hash != DIGEST_SM3)) {
		fprintf(stderr, "ward: --hash must be sha256 or sm3\n");
		return FIM_EXIT_ERROR;
	}
	if (pol.npaths == 0) {
		fprintf(stderr, "ward: nothing to watch: give --path or fim.paths in --config\n");
		return FIM_EXIT_ERROR;
	}
	if (baseline == NULL) {
		snprintf(bpath, sizeof(bpath), "%s/fim", cfg.state_dir);
		(void)mkdir(cfg.state_dir, 0700);
		(void)mkdir(bpath, 0700);
		snprintf(bpath, sizeof(bpath), "%s/fim/baseline", cfg.state_dir);
		baseline = bpath;
	}
	pol.note = on_note;
	pol.note_arg = &notes;
	rep.notes = &notes;
	raise_nofile();
	diag_clear(&d);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (strcmp(sub, "baseline") == 0) {
		r = fim_baseline(&pol, baseline, &st, &d);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (r != 0) {
			cli_diag(&d);
			return FIM_EXIT_ERROR;
		}
		fprintf(stderr,
			"ward: baseline of %llu entries (%llu files, %.1f MiB hashed with %s) in "
			"%.2f s, "
			"%llu unreadable; written to %s\n",
			(unsigned long long)st.entries, (unsigned long long)st.files,
			(double)st.bytes_hashed / (1 << 20), digest_name(pol.hash),
			(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
			(unsigned long long)st.errors, baseline);
		if (notes.n > 0) {
			fprintf(
			    stderr,
			    "ward: %u of the paths to record could not be read (said above): the "
			    "baseline is without them\n",
			    notes.n);
			return FIM_EXIT_ERROR;
		}
		return 0;
	}
	if (rep.json) {
		rep.added = json_array();
		rep.removed = json_array();
		rep.changed = json_array();
	}
	r = fim_check(&pol, baseline, on_diff, &rep, &bits, &st, &d);
	if (r != 0) {
		cli_diag(&d);
		json_decref(rep.added);
		json_decref(rep.removed);
		json_decref(rep.changed);
		return FIM_EXIT_ERROR;
	}
	if (rep.json) {
		json_t *o = json_pack("{s:o, s:o, s:o}", "added", rep.added, "removed", rep.removed,
				      "changed", rep.changed);

		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
		json_decref(o);
	}
	for (i = 0; i < notes.n; i++) {
		if (!notes.seen[i]) {
			fprintf(stderr,
				"ward: %s: cannot be read, and the baseline has nothing under it: "
				"nothing was checked there\n",
				notes.path[i]);
			return FIM_EXIT_ERROR;
		}
	}
	return (int)bits;
}
