/*
 * cmd_scan: `ward scan`.  The walker (this thread) opens each file and
 * hands the descriptor on: to the pool of scanning threads of scan_run.c
 * in this process, or — run as root — to a sandboxed scanner process
 * (scan_priv.c, scan_child.c), so that the rules' modules never parse a
 * hostile file as root.  SIGINT/SIGTERM set a flag that the walker, the
 * pool and the matcher all watch, so the scan stops within one window's
 * work and still prints its summary.  A PATH that cannot be scanned at all
 * makes the exit status 2, as with clamscan; files that cannot be read
 * inside a tree are counted, and make it 2 only with --strict.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd_scan.h"
#include "scan_priv.h"
#include "scan_run.h"
#include "util/alloc.h"
#include "util/limits.h"
#include "util/size.h"

static volatile sig_atomic_t scan_stop;

static void
on_signal(int sig)
{
	(void)sig;
	scan_stop = 1;
}

struct walk_ctx {
	const struct scan_cfg *cfg;
	const struct scan_sink *sink;
};

static int
walk_file(void *arg, const struct walker_entry *e)
{
	struct walk_ctx *wc = arg;
	int fd;

	if (wc->cfg->max_filesize > 0 && (uint64_t)e->st->st_size > wc->cfg->max_filesize) {
		wc->sink->skip(wc->sink->ctx, OUT_SKIP_TOO_LARGE);
		return 0;
	}
	/* The file that was examined, or none: never one swapped in since. */
	fd = walker_open(e, wc->cfg->follow_symlinks);
	if (fd < 0) {
		wc->sink->error(wc->sink->ctx, e->path,
				errno == ESTALE ? "replaced while it was being scanned"
						: strerror(errno),
				e->depth);
		return 0;
	}
	return wc->sink->file(wc->sink->ctx, fd, e);
}

static void
walk_error(void *arg, const char *path, const char *what, int errnum, unsigned depth)
{
	struct walk_ctx *wc = arg;
	char msg[512];

	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(errnum));
	wc->sink->error(wc->sink->ctx, path, msg, depth);
}

/*
 * Counts what the walk skipped, by kind.  A PATH given that is a special
 * file or a link to nothing is an error, as it is for clamscan: it was
 * named to be scanned and could not be (an excluded or repeated PATH is
 * what was asked, and is only counted).
 */
static void
walk_skip(void *arg, const char *path, enum walker_skip why, unsigned depth)
{
	static const enum out_skip kind[] = {
	    [WALKER_SKIP_SPECIAL] = OUT_SKIP_SPECIAL,	  [WALKER_SKIP_SYMLINK] = OUT_SKIP_SYMLINK,
	    [WALKER_SKIP_DANGLING] = OUT_SKIP_DANGLING,	  [WALKER_SKIP_VIRTUAL] = OUT_SKIP_VIRTUAL,
	    [WALKER_SKIP_EXCLUDED] = OUT_SKIP_EXCLUDED,	  [WALKER_SKIP_LOOP] = OUT_SKIP_LOOP,
	    [WALKER_SKIP_DUPLICATE] = OUT_SKIP_DUPLICATE,
	};
	struct walk_ctx *wc = arg;

	if (depth == 0 && (why == WALKER_SKIP_SPECIAL || why == WALKER_SKIP_DANGLING)) {
		wc->sink->error(wc->sink->ctx, path,
				why == WALKER_SKIP_SPECIAL
				    ? "not scanned: not a regular file or directory (a FIFO, "
				      "socket or device)"
				    : "cannot stat: a symbolic link to nothing",
				0);
		return;
	}
	/* WALKER_SKIP_NOT_RECURSIVE: never, ward scan walks every level. */
	if (why >= WALKER_SKIP_SPECIAL && why <= WALKER_SKIP_DUPLICATE)
		wc->sink->skip(wc->sink->ctx, kind[why]);
}

int
scan_walk(const struct scan_cfg *cfg, const struct scan_sink *sink)
{
	struct walker_opts wo;
	struct walk_ctx wc = {cfg, sink};

	memset(&wo, 0, sizeof(wo));
	wo.follow_symlinks = cfg->follow_symlinks;
	wo.excludes = cfg->excludes;
	wo.nexcludes = cfg->nexcludes;
	wo.cancel = cfg->stop;
	wo.file = walk_file;
	wo.error = walk_error;
	wo.skip = walk_skip;
	wo.ctx = &wc;
	return walker_run(&wo, cfg->paths, cfg->npaths, NULL);
}

void
scan_out_init(const struct scan_cfg *cfg, struct out *o)
{
	out_init(o, cfg->format, cfg->quiet, cfg->l->rs);
	o->rules_skipped = cfg->rules_skipped;
	o->progress = cfg->progress;
	o->print_meta = cfg->print_meta;
	o->start = cfg->start;
	o->alert_exceeds = cfg->alert_exceeds;
	o->alert_encrypted = cfg->alert_encrypted;
}

/* The walk's sink in one process: the pool, and the output. */
struct local {
	struct out *o;
	struct scanrun *run;
};

static int
local_file(void *ctx, int fd, const struct walker_entry *e)
{
	struct local *lc = ctx;
	struct scanrun_item it = {.fd = fd, .depth = e->depth};

	if ((it.path = ward_strdup(e->path)) == NULL) {
		close(fd);
		return WARD_ENOMEM;
	}
	return scanrun_submit(lc->run, &it);
}

static void
local_error(void *ctx, const char *path, const char *msg, unsigned depth)
{
	struct local *lc = ctx;

	out_error(lc->o, path, msg, depth == 0);
}

static void
local_skip(void *ctx, enum out_skip why)
{
	struct local *lc = ctx;

	out_skip(lc->o, why);
}

/* The scan in this process: not root (no user to drop to), or --no-sandbox. */
static int
scan_local(const struct scan_cfg *cfg)
{
	struct scanrun_opts ro;
	struct local lc;
	struct scan_sink sink = {local_file, local_error, local_skip, &lc};
	struct out o;
	int r, status;

	scan_out_init(cfg, &o);
	memset(&ro, 0, sizeof(ro));
	ro.l = cfg->l;
	ro.fv = cfg->fv;
	ro.threads = cfg->threads;
	ro.queue = (size_t)cfg->threads * 8;
	ro.max_filesize = cfg->max_filesize;
	ro.archives = cfg->archives;
	ro.limits = &cfg->limits;
	ro.locale = cfg->locale;
	ro.stop = cfg->stop;
	lc.o = &o;
	if ((status = scanrun_new(&ro, &o, &lc.run)) != 0)
		goto out;
	r = scan_walk(cfg, &sink);
	if (r != 0 && r != WARD_EINTR)
		fprintf(stderr, "ward: scan stopped: %s\n", ward_strerror(r));
	scanrun_finish(lc.run);
	status = scanrun_status(&o, *cfg->stop != 0, r, cfg->strict, 0);
	scanrun_free(lc.run);
out:
	out_fini(&o);
	return status;
}

static void
scan_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: ward scan [OPTIONS] PATH...\n"
	    "\n"
	    "Scans files and directories (recursively) with YARA rules, hash signatures and\n"
	    "ClamAV signature databases.\n"
	    "Prints 'PATH: RULE FOUND' per match and a summary on stderr.  The externals\n"
	    "filename, filepath, extension, filetype and owner are set per file, as LOKI\n"
	    "and THOR set them, for rules that use them (unless given with -d).\n"
	    "Run as root, files are parsed by a child process as nobody, seccomp-confined.\n"
	    "\n"
	    "Exit status:\n"
	    "  0    nothing found\n"
	    "  1    something found (also when some paths could not be scanned)\n"
	    "  2    an error: bad arguments or rules, a PATH that does not exist or\n"
	    "       could not be scanned at all, a sandboxed scanner that died; with\n"
	    "       --strict, also a file or directory inside a tree that could not\n"
	    "       be read\n"
	    "  130  interrupted (SIGINT, SIGTERM)\n"
	    "\n"
	    "Rules:\n"
	    "  -r, --rules FILE         YARA rule file (repeatable)\n"
	    "      --hashes FILE        hash signatures, ALG:HEX:SIZE:NAME per line (repeatable)\n"
	    "      --compiled FILE      compiled rule set from 'ward rules compile'\n"
	    "  -d NAME=VALUE            define an external variable (repeatable)\n"
	    "      --skip-unsupported   leave out rules ward cannot compile (named on stderr)\n"
	    "      --clamav-db DB       ClamAV signatures (repeatable): a database file (.hdb\n"
	    "                           .hsb .mdb .msb .ndb .ldb .fp .sfp .ign2 .cvd .cld .cud)\n"
	    "                           or a directory of them, as clamscan -d; a match is\n"
	    "                           reported under the signature's ClamAV name; what\n"
	    "                           ward cannot convert exactly is counted on stderr\n"
	    "      --clamav-report      name each ClamAV signature left out, and why\n"
	    "      --allow-unsigned     take a .cvd whose digital signature does not verify\n"
	    "Scanning:\n"
	    "  -t, --threads N          scanning threads (default: number of CPUs)\n"
	    "      --max-filesize SIZE  skip larger files (bytes, or K/M/G suffix; default: none)\n"
	    "      --exclude GLOB       skip paths matching GLOB (repeatable)\n"
	    "      --follow-symlinks    follow symbolic links inside directories\n"
	    "      --strict             exit 2 when any file or directory could not be read\n"
	    "Archives and compressed files (docs/archives.md): scanned inside, nested, by\n"
	    "default; a match in a member is 'PATH//MEMBER//...: RULE FOUND'.\n"
	    "      --no-archive         scan containers as plain files only\n"
	    "      --max-scansize SIZE  bytes extracted per file on disk (default 400M)\n"
	    "      --max-membersize SIZE  bytes of one member; larger ones are not scanned\n"
	    "                           (default 100M)\n"
	    "      --max-files N        members per file on disk (default 10000)\n"
	    "      --max-ratio N        extracted / compressed bytes of one member, past its\n"
	    "                           first MiB: the rest of it is not read, the next\n"
	    "                           member is (default 250; 0: none)\n"
	    "      --max-depth N        containers nested in containers (default 8)\n"
	    "      --max-scantime MS    milliseconds per file on disk (default 120000)\n"
	    "      --alert-exceeds-max  a limit reached is also a match:\n"
	    "                           'PATH: Heuristics.Limits.Exceeded.<Which> FOUND'\n"
	    "      --alert-encrypted    an encrypted member is also a match:\n"
	    "                           'PATH: Heuristics.Encrypted.Zip FOUND' (or .RAR, .7Zip)\n"
	    "      --no-sandbox         as root, parse files in this root process (unsafe: a\n"
	    "                           parser bug met by a crafted file runs as root)\n"
	    "Output:\n"
	    "  -f, --format text|json   output format (default: text); json: one object per\n"
	    "                           match with the rule's meta, a last {\"summary\"} line\n"
	    "  -m, --print-meta         text: the rule's meta after its name, as yara -m\n"
	    "  -q, --quiet              no summary, no progress line\n"
	    "  -h, --help               show this help\n");
}

/* The rule set of the scan, left to the process's end (see cmd_scan). */
static struct loaded kept;

int
cmd_scan(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"rules", required_argument, NULL, 'r'},
	    {"hashes", required_argument, NULL, 'H'},
	    {"compiled", required_argument, NULL, 'C'},
	    {"define", required_argument, NULL, 'd'},
	    {"skip-unsupported", no_argument, NULL, 'U'},
	    {"threads", required_argument, NULL, 't'},
	    {"format", required_argument, NULL, 'f'},
	    {"max-filesize", required_argument, NULL, 'M'},
	    {"exclude", required_argument, NULL, 'x'},
	    {"follow-symlinks", no_argument, NULL, 'L'},
	    {"strict", no_argument, NULL, 'S'},
	    {"no-sandbox", no_argument, NULL, 'N'},
	    {"print-meta", no_argument, NULL, 'm'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"clamav-db", required_argument, NULL, 'B'},
	    {"clamav-report", no_argument, NULL, 'R'},
	    {"allow-unsigned", no_argument, NULL, 'A'},
	    {"no-archive", no_argument, NULL, 0x108},
	    {"max-scansize", required_argument, NULL, 0x100},
	    {"max-membersize", required_argument, NULL, 0x101},
	    {"max-files", required_argument, NULL, 0x102},
	    {"max-ratio", required_argument, NULL, 0x103},
	    {"max-depth", required_argument, NULL, 0x104},
	    {"max-scantime", required_argument, NULL, 0x105},
	    {"alert-exceeds-max", no_argument, NULL, 0x106},
	    {"alert-encrypted", no_argument, NULL, 0x107},
	    {NULL, 0, NULL, 0},
	};
	struct rule_opts ro, lo; /* lo: ro with the per-file externals declared */
	struct loaded l;
	struct scan_cfg cfg;
	struct sigaction sa;
	const char **excludes = NULL, **defines = NULL;
	size_t nexcludes = 0, ndefines = 0, i;
	long threads = sysconf(_SC_NPROCESSORS_ONLN);
	int no_sandbox = 0, opt, r, status = EXIT_ERROR, loaded_ok = 0;
	struct filevars *fv = NULL;
	char *end, cwd[4096];

	memset(&ro, 0, sizeof(ro));
	memset(&cfg, 0, sizeof(cfg));
	cfg.format = OUT_TEXT;
	cfg.archives = 1;
	container_limits_scan(&cfg.limits);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "r:d:t:f:mqh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			cli_push(&ro.rules, &ro.nrules, optarg);
			break;
		case 'H':
			cli_push(&ro.hashes, &ro.nhashes, optarg);
			break;
		case 'C':
			if (ro.compiled != NULL) {
				fprintf(stderr, "ward: --compiled can be given once\n");
				goto out;
			}
			ro.compiled = optarg;
			break;
		case 'd':
			cli_push(&ro.defines, &ro.ndefines, optarg);
			break;
		case 'U':
			ro.skip_unsupported = 1;
			break;
		case 'B':
			cli_push(&ro.clamdbs, &ro.nclamdbs, optarg);
			break;
		case 'R':
			ro.clamav_report = 1;
			break;
		case 'A':
			ro.allow_unsigned = 1;
			break;
		case 't':
			threads = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || threads < 1 || threads > 256) {
				fprintf(stderr, "ward: --threads: expected 1..256, got '%s'\n",
					optarg);
				goto out;
			}
			break;
		case 'f':
			if (strcmp(optarg, "text") == 0)
				cfg.format = OUT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				cfg.format = OUT_JSON;
			else {
				fprintf(stderr, "ward: --format: expected text or json, got '%s'\n",
					optarg);
				goto out;
			}
			break;
		case 'M':
			if (size_parse(optarg, &cfg.max_filesize) != 0 || cfg.max_filesize == 0) {
				fprintf(stderr, "ward: --max-filesize: bad size '%s'\n", optarg);
				goto out;
			}
			break;
		case 'x':
			cli_push(&excludes, &nexcludes, optarg);
			break;
		case 'L':
			cfg.follow_symlinks = 1;
			break;
		case 'S':
			cfg.strict = 1;
			break;
		case 'N':
			no_sandbox = 1;
			break;
		case 'm':
			cfg.print_meta = 1;
			break;
		case 'q':
			cfg.quiet = 1;
			break;
		case 0x108:
			cfg.archives = 0;
			break;
		case 0x100:
		case 0x101:
			if (size_parse(optarg, opt == 0x100 ? &cfg.limits.total
							    : &cfg.limits.member) != 0) {
				fprintf(stderr, "ward: --%s: bad size '%s'\n",
					opt == 0x100 ? "max-scansize" : "max-membersize", optarg);
				goto out;
			}
			break;
		case 0x102:
		case 0x103:
		case 0x104:
		case 0x105: {
			unsigned long long v = strtoull(optarg, &end, 10);
			static const char *const nm[] = {"max-files", "max-ratio", "max-depth",
							 "max-scantime"};

			if (*optarg == '\0' || *optarg == '-' || *end != '\0' || v > UINT32_MAX ||
			    (opt == 0x104 && v > WARD_CONTAINER_MAX_DEPTH)) {
				fprintf(stderr, "ward: --%s: bad number '%s'\n", nm[opt - 0x102],
					optarg);
				goto out;
			}
			if (opt == 0x102)
				cfg.limits.files = (unsigned)v;
			else if (opt == 0x103)
				cfg.limits.ratio = (unsigned)v;
			else if (opt == 0x104)
				cfg.limits.depth = (unsigned)v;
			else
				cfg.limits.time_ms = (unsigned)v;
			break;
		}
		case 0x106:
			cfg.alert_exceeds = 1;
			break;
		case 0x107:
			cfg.alert_encrypted = 1;
			break;
		case 'h':
			scan_usage(stdout);
			status = 0;
			goto out;
		default:
			scan_usage(stderr);
			goto out;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "ward: scan: no PATH given\n");
		scan_usage(stderr);
		goto out;
	}
	if (threads < 1)
		threads = 1;
	/*
	 * Rules compiled here may use the per-file externals without -d, as
	 * with LOKI and THOR: they are declared first as strings, and a -d of
	 * the same name replaces the declaration (and fixes the value).
	 */
	if (ro.nrules > 0)
		for (i = 0; i < FILEVARS_COUNT; i++)
			cli_push(&defines, &ndefines, filevars_decl((enum filevars_var)i));
	for (i = 0; i < ro.ndefines; i++)
		cli_push(&defines, &ndefines, ro.defines[i]);
	lo = ro;
	lo.defines = defines;
	lo.ndefines = ndefines;
	if (cli_load(&lo, &l) != 0)
		goto out;
	loaded_ok = 1;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		cwd[0] = '\0';
	if ((r = filevars_new(l.rs, ro.defines, ro.ndefines, cwd, &fv)) != 0) {
		fprintf(stderr, "ward: %s\n", ward_strerror(r));
		goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	cfg.l = &l;
	cfg.fv = fv;
	/* Made now: the sandboxed scanner cannot read the locale's files. */
	if (cfg.archives)
		cfg.locale = container_locale();
	cfg.rules_skipped = ro.skip_unsupported ? (long long)l.nskipped : -1;
	cfg.progress = !cfg.quiet && isatty(STDERR_FILENO);
	cfg.threads = (unsigned)threads;
	cfg.excludes = excludes;
	cfg.nexcludes = nexcludes;
	cfg.paths = (const char *const *)(argv + optind);
	cfg.npaths = (size_t)(argc - optind);
	cfg.stop = &scan_stop;
	cfg.start = out_now();
	/* Run as root, the files are parsed by an unprivileged, confined
	 * process: a bug in a module's parser met by a crafted file must
	 * not be root's.  Any other user has no one to drop to. */
	if (geteuid() == 0 && !no_sandbox)
		status = scanpriv_run(&cfg);
	else
		status = scan_local(&cfg);
out:
	if (cfg.locale != (locale_t)0)
		freelocale(cfg.locale);
	filevars_free(fv);
	/* The process ends after the scan: the kernel takes the rule set back
	 * at once, where freeing its hundreds of thousands of pieces took a
	 * tenth of a second for signature-base.  It stays reachable (kept),
	 * so that a leak checker does not report it. */
	if (loaded_ok)
		kept = l;
	free(ro.rules);
	free(ro.hashes);
	free(ro.defines);
	free(ro.clamdbs);
	free(defines);
	free(excludes);
	return status;
}
