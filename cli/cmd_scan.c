/*
 * cmd_scan: `ward scan`.  The walker (this thread) opens each file and
 * hands the descriptor to a pool of scanning threads; each thread owns a
 * matcher scratch.  SIGINT/SIGTERM set a flag that the walker, the pool and
 * the matcher all watch, so the scan stops within one window's work and
 * still prints its summary.
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
};

struct scan_ctx {
	const struct loaded *l;
	struct out *o;
	struct matcher_scratch **scratch; /* per worker */
	uint64_t max_filesize;            /* 0: no limit */
	int follow_symlinks;
	/* The file a worker last started, for the progress line. */
	pthread_mutex_t current_lock;
	char current[256];
};

static int
worker_init(void *arg, unsigned w)
{
	struct scan_ctx *c = arg;

	return matcher_scratch_new(c->l->m, &c->scratch[w]);
}

static void
worker_fini(void *arg, unsigned w)
{
	struct scan_ctx *c = arg;

	matcher_scratch_free(c->scratch[w]);
	c->scratch[w] = NULL;
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
		out_error(c->o, it->path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		atomic_fetch_add(&c->o->skipped, 1);
		goto out;
	}
	if (c->max_filesize > 0 && (uint64_t)st.st_size > c->max_filesize) {
		atomic_fetch_add(&c->o->skipped, 1);
		goto out;
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
		out_error(c->o, it->path, strerror(errno));
		goto out;
	}
	if (r != 0) {
		out_error(c->o, it->path, ward_strerror(r));
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
		atomic_fetch_add(&wc->c->o->skipped, 1);
		return 0;
	}
	/* The file that was examined, or none: never one swapped in since. */
	it.fd = walker_open(e, wc->c->follow_symlinks);
	if (it.fd < 0) {
		out_error(wc->c->o, e->path,
			  errno == ESTALE ? "replaced while it was being scanned" : strerror(errno));
		return 0;
	}
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
walk_error(void *arg, const char *path, const char *what, int errnum)
{
	struct walk_ctx *wc = arg;
	char msg[512];

	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(errnum));
	out_error(wc->c->o, path, msg);
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
	fprintf(f,
		"usage: ward scan [OPTIONS] PATH...\n"
		"\n"
		"Scans files and directories (recursively) with YARA rules and hash signatures.\n"
		"Prints 'PATH: RULE FOUND' per match and a summary on stderr.\n"
		"Exit status: 0 nothing found, 1 found, 2 error, 130 interrupted.\n"
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
		"Output:\n"
		"  -f, --format text|json   output format (default: text)\n"
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
		{"skip-unsupported", no_argument, NULL, 'S'},
		{"threads", required_argument, NULL, 't'},
		{"format", required_argument, NULL, 'f'},
		{"max-filesize", required_argument, NULL, 'M'},
		{"exclude", required_argument, NULL, 'x'},
		{"follow-symlinks", no_argument, NULL, 'L'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct rule_opts ro;
	struct loaded l;
	struct out o;
	struct scan_ctx c;
	struct walk_ctx wc;
	struct walker_opts wo;
	struct walker_stats ws;
	struct pool_ops ops;
	struct pool *pool = NULL;
	struct progress prog;
	pthread_t prog_thread;
	struct sigaction sa;
	const char **excludes = NULL;
	size_t nexcludes = 0;
	enum out_format format = OUT_TEXT;
	long threads = sysconf(_SC_NPROCESSORS_ONLN);
	int quiet = 0, opt, r, status = EXIT_ERROR, prog_started = 0, loaded_ok = 0;
	char *end;

	memset(&ro, 0, sizeof(ro));
	memset(&c, 0, sizeof(c));
	pthread_mutex_init(&c.current_lock, NULL);
	memset(&prog, 0, sizeof(prog));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "r:d:t:f:qh", longopts, NULL)) != -1) {
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
		case 'S':
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
	if (cli_load(&ro, &l) != 0)
		goto out;
	loaded_ok = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	out_init(&o, format, quiet, l.rs);
	if (ro.skip_unsupported)
		o.rules_skipped = (long long)l.nskipped;
	o.progress = !quiet && isatty(STDERR_FILENO);
	c.l = &l;
	c.o = &o;
	c.scratch = calloc((size_t)threads, sizeof(*c.scratch));
	if (c.scratch == NULL) {
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
	wc.c = &c;
	wc.pool = pool;
	wo.ctx = &wc;
	r = walker_run(&wo, (const char *const *)(argv + optind), (size_t)(argc - optind), &ws);
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
	atomic_fetch_add(&o.skipped, ws.skipped);
	out_summary(&o, scan_stop != 0);
	if (scan_stop)
		status = EXIT_INTR;
	else if (r != 0 && r != WARD_EINTR)
		status = EXIT_ERROR;
	else
		status = atomic_load(&o.matches) > 0 ? EXIT_FOUND : EXIT_CLEAN;
out_fini:
	pool_free(pool);
	free(c.scratch);
	out_fini(&o);
out:
	if (loaded_ok)
		loaded_free(&l);
	free(ro.rules);
	free(ro.hashes);
	free(ro.defines);
	free(excludes);
	return status;
}
