/*
 * cmd_scan: `ward scan`.  The walker (this thread) opens each file and
 * hands the descriptor to a pool of scanning threads; each thread owns a
 * matcher scratch (and, when the rules read filename, filepath, extension,
 * filetype or owner, its own values of those externals, set per file).
 * SIGINT/SIGTERM set a flag that the walker, the pool and the matcher all
 * watch, so the scan stops within one window's work and still prints its
 * summary.  A PATH that cannot be scanned at all makes the exit status 2,
 * as with clamscan; files that cannot be read inside a tree are counted,
 * and make it 2 only with --strict.
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

#include "cli.h"
#include "util/size.h"
#include "output.h"
#include "scan/filevars.h"
#include "scan/pool.h"
#include "scan/walker.h"
#include "util/alloc.h"

static volatile sig_atomic_t scan_stop;

static void
on_signal(int sig)
{
	(void)sig;
	scan_stop = 1;
}

struct scan_item {
	int fd;
	char *path;
	unsigned depth; /* 0: a PATH given */
};

struct scan_ctx {
	const struct loaded *l;
	struct out *o;
	struct matcher_scratch **scratch; /* per worker */
	const struct filevars *fv;	  /* externals set per file, or NULL */
	struct filevars_scratch **fvs;	  /* per worker, when fv */
	uint64_t max_filesize;		  /* 0: no limit */
	int follow_symlinks;
	/* The file a worker last started, for the progress line. */
	pthread_mutex_t current_lock;
	char current[256];
};

static int
worker_init(void *arg, unsigned w)
{
	struct scan_ctx *c = arg;
	int r;

	if ((r = matcher_scratch_new(c->l->m, &c->scratch[w])) != 0)
		return r;
	return c->fv != NULL ? filevars_scratch_new(c->fv, &c->fvs[w]) : 0;
}

static void
worker_fini(void *arg, unsigned w)
{
	struct scan_ctx *c = arg;

	matcher_scratch_free(c->scratch[w]);
	c->scratch[w] = NULL;
	if (c->fv != NULL) {
		filevars_scratch_free(c->fvs[w]);
		c->fvs[w] = NULL;
	}
}

static void
worker_work(void *arg, unsigned w, void *item)
{
	struct scan_ctx *c = arg;
	struct scan_item *it = item;
	struct out_file f = {.o = c->o, .path = it->path, .matched = 0};
	struct stat st;
	int r;

	if (fstat(it->fd, &st) != 0) {
		out_error(c->o, it->path, strerror(errno), it->depth == 0);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		out_skip(c->o, OUT_SKIP_SPECIAL);
		goto out;
	}
	if (c->max_filesize > 0 && (uint64_t)st.st_size > c->max_filesize) {
		out_skip(c->o, OUT_SKIP_TOO_LARGE);
		goto out;
	}
	if (c->fv != NULL) {
		const struct rs_external *ext = filevars_set(c->fvs[w], it->path, it->fd, &st);

		if (ext == NULL) {
			out_error(c->o, it->path, ward_strerror(WARD_ENOMEM), it->depth == 0);
			goto out;
		}
		matcher_scratch_externals(c->scratch[w], ext);
	}
	if (c->o->progress) {
		pthread_mutex_lock(&c->current_lock);
		snprintf(c->current, sizeof(c->current), "%s", it->path);
		pthread_mutex_unlock(&c->current_lock);
	}
	r = matcher_scan_fd(c->l->m, c->scratch[w], it->fd, (uint64_t)st.st_size, out_report, &f,
			    &scan_stop);
	if (r == WARD_EINTR)
		goto out;
	if (r == WARD_EIO) {
		out_error(c->o, it->path, strerror(errno), it->depth == 0);
		goto out;
	}
	if (r != 0) {
		out_error(c->o, it->path, ward_strerror(r), it->depth == 0);
		goto out;
	}
	atomic_fetch_add(&c->o->files, 1);
	atomic_fetch_add(&c->o->bytes, (unsigned long long)st.st_size);
out:
	close(it->fd);
	free(it->path);
}

static void
worker_drop(void *arg, void *item)
{
	struct scan_item *it = item;

	(void)arg;
	close(it->fd);
	free(it->path);
}

struct walk_ctx {
	struct scan_ctx *c;
	struct pool *pool;
};

static int
walk_file(void *arg, const struct walker_entry *e)
{
	struct walk_ctx *wc = arg;
	struct scan_item it;
	int r;

	if (wc->c->max_filesize > 0 && (uint64_t)e->st->st_size > wc->c->max_filesize) {
		out_skip(wc->c->o, OUT_SKIP_TOO_LARGE);
		return 0;
	}
	/* The file that was examined, or none: never one swapped in since. */
	it.fd = walker_open(e, wc->c->follow_symlinks);
	if (it.fd < 0) {
		out_error(wc->c->o, e->path,
			  errno == ESTALE ? "replaced while it was being scanned" : strerror(errno),
			  e->depth == 0);
		return 0;
	}
	it.depth = e->depth;
	it.path = strdup(e->path);
	if (it.path == NULL) {
		close(it.fd);
		return WARD_ENOMEM;
	}
	r = pool_submit(wc->pool, &it);
	if (r != 0) {
		close(it.fd);
		free(it.path);
	}
	return r;
}

static void
walk_error(void *arg, const char *path, const char *what, int errnum, unsigned depth)
{
	struct walk_ctx *wc = arg;
	char msg[512];

	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(errnum));
	out_error(wc->c->o, path, msg, depth == 0);
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
	struct walk_ctx *wc = arg;

	if (depth == 0 && (why == WALKER_SKIP_SPECIAL || why == WALKER_SKIP_DANGLING)) {
		out_error(wc->c->o, path,
			  why == WALKER_SKIP_SPECIAL
			      ? "not scanned: not a regular file or directory (a FIFO, socket or "
				"device)"
			      : "cannot stat: a symbolic link to nothing",
			  1);
		return;
	}
	switch (why) {
	case WALKER_SKIP_SPECIAL:
		out_skip(wc->c->o, OUT_SKIP_SPECIAL);
		break;
	case WALKER_SKIP_SYMLINK:
		out_skip(wc->c->o, OUT_SKIP_SYMLINK);
		break;
	case WALKER_SKIP_DANGLING:
		out_skip(wc->c->o, OUT_SKIP_DANGLING);
		break;
	case WALKER_SKIP_VIRTUAL:
		out_skip(wc->c->o, OUT_SKIP_VIRTUAL);
		break;
	case WALKER_SKIP_EXCLUDED:
		out_skip(wc->c->o, OUT_SKIP_EXCLUDED);
		break;
	case WALKER_SKIP_LOOP:
		out_skip(wc->c->o, OUT_SKIP_LOOP);
		break;
	case WALKER_SKIP_DUPLICATE:
		out_skip(wc->c->o, OUT_SKIP_DUPLICATE);
		break;
	case WALKER_SKIP_NOT_RECURSIVE: /* never: ward scan walks every level */
		break;
	}
}

struct progress {
	struct scan_ctx *c;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
};

static void *
progress_main(void *arg)
{
	struct progress *p = arg;
	struct timespec ts;

	pthread_mutex_lock(&p->lock);
	while (!p->done) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		if (!p->done) {
			char cur[sizeof(p->c->current)];

			pthread_mutex_lock(&p->c->current_lock);
			memcpy(cur, p->c->current, sizeof(cur));
			pthread_mutex_unlock(&p->c->current_lock);
			out_progress(p->c->o, cur[0] != '\0' ? cur : NULL);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}


static void
scan_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: ward scan [OPTIONS] PATH...\n"
	    "\n"
	    "Scans files and directories (recursively) with YARA rules and hash signatures.\n"
	    "Prints 'PATH: RULE FOUND' per match and a summary on stderr.  The externals\n"
	    "filename, filepath, extension, filetype and owner are set per file, as LOKI\n"
	    "and THOR set them, for rules that use them (unless given with -d).\n"
	    "\n"
	    "Exit status:\n"
	    "  0    nothing found\n"
	    "  1    something found (also when some paths could not be scanned)\n"
	    "  2    an error: bad arguments or rules, a PATH that does not exist or\n"
	    "       could not be scanned at all; with --strict, also a file or\n"
	    "       directory inside a tree that could not be read\n"
	    "  130  interrupted (SIGINT, SIGTERM)\n"
	    "\n"
	    "Rules:\n"
	    "  -r, --rules FILE         YARA rule file (repeatable)\n"
	    "      --hashes FILE        hash signatures, ALG:HEX:SIZE:NAME per line (repeatable)\n"
	    "      --compiled FILE      compiled rule set from 'ward rules compile'\n"
	    "  -d NAME=VALUE            define an external variable (repeatable)\n"
	    "      --skip-unsupported   leave out rules ward cannot compile (named on stderr)\n"
	    "Scanning:\n"
	    "  -t, --threads N          scanning threads (default: number of CPUs)\n"
	    "      --max-filesize SIZE  skip larger files (bytes, or K/M/G suffix; default: none)\n"
	    "      --exclude GLOB       skip paths matching GLOB (repeatable)\n"
	    "      --follow-symlinks    follow symbolic links inside directories\n"
	    "      --strict             exit 2 when any file or directory could not be read\n"
	    "Output:\n"
	    "  -f, --format text|json   output format (default: text); json: one object per\n"
	    "                           match with the rule's meta, a last {\"summary\"} line\n"
	    "  -m, --print-meta         text: the rule's meta after its name, as yara -m\n"
	    "  -q, --quiet              no summary, no progress line\n"
	    "  -h, --help               show this help\n");
}

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
	    {"print-meta", no_argument, NULL, 'm'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct rule_opts ro, lo; /* lo: ro with the per-file externals declared */
	struct loaded l;
	struct out o;
	struct scan_ctx c;
	struct walk_ctx wc;
	struct walker_opts wo;
	struct pool_ops ops;
	struct pool *pool = NULL;
	struct progress prog;
	pthread_t prog_thread;
	struct sigaction sa;
	const char **excludes = NULL, **defines = NULL;
	size_t nexcludes = 0, ndefines = 0, i;
	enum out_format format = OUT_TEXT;
	long threads = sysconf(_SC_NPROCESSORS_ONLN);
	int quiet = 0, strict = 0, print_meta = 0, opt, r, status = EXIT_ERROR;
	int prog_started = 0, loaded_ok = 0;
	struct filevars *fv = NULL;
	char *end, cwd[4096];

	memset(&ro, 0, sizeof(ro));
	memset(&c, 0, sizeof(c));
	pthread_mutex_init(&c.current_lock, NULL);
	memset(&prog, 0, sizeof(prog));
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
		case 't':
			threads = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || threads < 1 || threads > 256) {
				fprintf(stderr, "ward: --threads: expected 1..256, got '%s'\n", optarg);
				goto out;
			}
			break;
		case 'f':
			if (strcmp(optarg, "text") == 0)
				format = OUT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				format = OUT_JSON;
			else {
				fprintf(stderr, "ward: --format: expected text or json, got '%s'\n",
					optarg);
				goto out;
			}
			break;
		case 'M':
			if (size_parse(optarg, &c.max_filesize) != 0 || c.max_filesize == 0) {
				fprintf(stderr, "ward: --max-filesize: bad size '%s'\n", optarg);
				goto out;
			}
			break;
		case 'x':
			cli_push(&excludes, &nexcludes, optarg);
			break;
		case 'L':
			c.follow_symlinks = 1;
			break;
		case 'S':
			strict = 1;
			break;
		case 'm':
			print_meta = 1;
			break;
		case 'q':
			quiet = 1;
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

	out_init(&o, format, quiet, l.rs);
	if (ro.skip_unsupported)
		o.rules_skipped = (long long)l.nskipped;
	o.progress = !quiet && isatty(STDERR_FILENO);
	o.print_meta = print_meta;
	c.l = &l;
	c.o = &o;
	c.fv = fv;
	c.scratch = calloc((size_t)threads, sizeof(*c.scratch));
	c.fvs = calloc((size_t)threads, sizeof(*c.fvs));
	if (c.scratch == NULL || c.fvs == NULL) {
		fprintf(stderr, "ward: out of memory\n");
		goto out_fini;
	}
	memset(&ops, 0, sizeof(ops));
	ops.init = worker_init;
	ops.fini = worker_fini;
	ops.work = worker_work;
	ops.drop = worker_drop;
	ops.ctx = &c;
	ops.stop = &scan_stop;
	if ((r = pool_new((unsigned)threads, (size_t)threads * 8, sizeof(struct scan_item), &ops,
			  &pool)) != 0) {
		fprintf(stderr, "ward: cannot start %ld scanning threads: %s\n", threads,
			ward_strerror(r));
		goto out_fini;
	}
	if (o.progress) {
		prog.c = &c;
		pthread_mutex_init(&prog.lock, NULL);
		pthread_cond_init(&prog.cond, NULL);
		prog_started = pthread_create(&prog_thread, NULL, progress_main, &prog) == 0;
	}

	memset(&wo, 0, sizeof(wo));
	wo.follow_symlinks = c.follow_symlinks;
	wo.excludes = excludes;
	wo.nexcludes = nexcludes;
	wo.cancel = &scan_stop;
	wo.file = walk_file;
	wo.error = walk_error;
	wo.skip = walk_skip;
	wc.c = &c;
	wc.pool = pool;
	wo.ctx = &wc;
	r = walker_run(&wo, (const char *const *)(argv + optind), (size_t)(argc - optind), NULL);
	if (r != 0 && r != WARD_EINTR)
		fprintf(stderr, "ward: scan stopped: %s\n", ward_strerror(r));
	if (scan_stop)
		pool_cancel(pool);
	(void)pool_finish(pool);
	if (prog_started) {
		pthread_mutex_lock(&prog.lock);
		prog.done = 1;
		pthread_cond_signal(&prog.cond);
		pthread_mutex_unlock(&prog.lock);
		pthread_join(prog_thread, NULL);
	}
	out_summary(&o, scan_stop != 0);
	/* clamscan's order: found beats an error, an error beats clean. */
	if (scan_stop)
		status = EXIT_INTR;
	else if (r != 0 && r != WARD_EINTR)
		status = EXIT_ERROR;
	else if (atomic_load(&o.matches) > 0)
		status = EXIT_FOUND;
	else if (atomic_load(&o.path_errors) > 0 || (strict && atomic_load(&o.file_errors) > 0))
		status = EXIT_ERROR;
	else
		status = EXIT_CLEAN;
out_fini:
	pool_free(pool);
	free(c.scratch);
	free(c.fvs);
	out_fini(&o);
out:
	filevars_free(fv);
	if (loaded_ok)
		loaded_free(&l);
	free(ro.rules);
	free(ro.hashes);
	free(ro.defines);
	free(defines);
	free(excludes);
	return status;
}
