/*
 * Unit tests of lib/scan/walker on temporary trees: order, symlinks with and
 * without following (loops end, each file once), explicit symlink roots,
 * excludes, special files, hard links, a 3 000-level tree with bounded
 * descriptors, unreadable directories (as uid 65534 in a child), entries
 * vanishing mid-walk, cancel, callback stop, virtual filesystems,
 * allocation failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "scan/walker.h"
#include "util/alloc.h"
#include "util/err.h"

struct rec {
	char files[4096];  /* paths relative to base, ';'-separated */
	char skips[4096];  /* "path=reason;" */
	char errors[2048]; /* "path:what:errno;" */
	char roots[1024];  /* the skips and errors at depth 0: "path=reason;" "path:what;" */
	size_t base_len;
	unsigned nfiles;
	int max_fds;
	int stop_after; /* cancel after this many files (0: never) */
	int fail_after; /* return WARD_EIO after this many files */
	volatile sig_atomic_t cancel;
	const char *unlink_on;	 /* when this file is seen ... */
	const char *unlink_what; /* ... unlink this path */
	int check_open;		 /* openat(dirfd, name) must work */
};

static char base[256];

static const char *
rel(const struct rec *r, const char *path)
{
	size_t n = strlen(base);

	if (r->base_len == 0 || strncmp(path, base, n) != 0 || path[n] != '/')
		return path;
	return path + n + 1;
}

static void
cat(char *dst, size_t cap, const char *s)
{
	size_t l = strlen(dst);

	snprintf(dst + l, cap - l, "%s", s);
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n - 3; /* ., .., the DIR's own fd */
}

static int
on_file(void *ctx, const struct walker_entry *e)
{
	struct rec *r = ctx;
	int fd;

	r->nfiles++;
	if (strlen(e->path) != e->path_len)
		fail_msg("path_len mismatch");
	if (r->nfiles < 200) {
		cat(r->files, sizeof(r->files), rel(r, e->path));
		cat(r->files, sizeof(r->files), ";");
	}
	if (r->check_open) {
		fd = openat(e->dirfd, e->name, O_RDONLY | O_NOFOLLOW);
		if (fd < 0)
			fail_msg("openat %s: %s", e->name, strerror(errno));
		close(fd);
		fd = count_fds();
		if (fd > r->max_fds)
			r->max_fds = fd;
	}
	if (r->unlink_on != NULL && strcmp(e->name, r->unlink_on) == 0)
		unlink(r->unlink_what);
	if (r->stop_after != 0 && (int)r->nfiles == r->stop_after)
		r->cancel = 1;
	if (r->fail_after != 0 && (int)r->nfiles == r->fail_after)
		return WARD_EIO;
	return 0;
}

static void
on_skip(void *ctx, const char *path, enum walker_skip why, unsigned depth)
{
	struct rec *r = ctx;
	char b[600];

	snprintf(b, sizeof(b), "%s=%s;", rel(r, path), walker_skip_reason(why));
	cat(r->skips, sizeof(r->skips), b);
	if (depth == 0)
		cat(r->roots, sizeof(r->roots), b);
}

static void
on_error(void *ctx, const char *path, const char *what, int errnum, unsigned depth)
{
	struct rec *r = ctx;
	char b[600];

	snprintf(b, sizeof(b), "%s:%s:%d;", rel(r, path), what, errnum);
	cat(r->errors, sizeof(r->errors), b);
	if (depth == 0) {
		snprintf(b, sizeof(b), "%s:%s;", rel(r, path), what);
		cat(r->roots, sizeof(r->roots), b);
	}
}

static struct walker_opts
opts(struct rec *r)
{
	struct walker_opts o;

	memset(&o, 0, sizeof(o));
	o.file = on_file;
	o.skip = on_skip;
	o.error = on_error;
	o.ctx = r;
	o.cancel = &r->cancel;
	return o;
}

static void
rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	r->base_len = strlen(base) + 1;
}

static int
walk1(struct rec *r, const struct walker_opts *o, const char *sub, struct walker_stats *st)
{
	char p[512];
	const char *paths[1] = {p};

	snprintf(p, sizeof(p), "%s%s%s", base, sub[0] ? "/" : "", sub);
	return walker_run(o, paths, 1, st);
}

static void
mk(const char *sub, const char *content)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", base, sub);
	if (content == NULL) {
		assert_int_equal(mkdir(p, 0755), 0);
		return;
	}
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void
ln(const char *target, const char *sub)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", base, sub);
	assert_int_equal(symlink(target, p), 0);
}

static int
setup(void **state)
{
	char cmd[600];

	snprintf(base, sizeof(base), "/tmp/ward_walk_XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	chmod(base, 0755);
	snprintf(cmd, sizeof(cmd), "true");
	(void)cmd;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", base, base);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_order(void **state)
{
	struct rec r;
	struct walker_opts o;
	struct walker_stats st;
	int fds = count_fds();

	rec_init(&r);
	mk("b", "b");
	mk("a", NULL);
	mk("a/z", "z");
	mk("a/y", NULL);
	mk("a/y/x", "x");
	mk("c", "c");
	mk("A", "A");
	o = opts(&r);
	assert_int_equal(walk1(&r, &o, "", &st), 0);
	assert_string_equal(r.files, "A;a/y/x;a/z;b;c;");
	assert_string_equal(r.skips, "");
	assert_string_equal(r.errors, "");
	assert_int_equal(st.files, 5);
	assert_int_equal(st.dirs, 3);
	assert_int_equal(count_fds(), fds);

	/* trailing slashes, a file named as a PATH, no_recurse */
	rec_init(&r);
	o.no_recurse = 1;
	{
		char p1[512], p2[512];
		const char *paths[2] = {p1, p2};

		snprintf(p1, sizeof(p1), "%s/a///", base);
		snprintf(p2, sizeof(p2), "%s/b", base);
		assert_int_equal(walker_run(&o, paths, 2, &st), 0);
	}
	assert_string_equal(r.files, "a/z;b;");
	assert_string_equal(r.skips, "a/y=subdirectory not walked;");
	assert_int_equal(st.skipped, 1);
	/* no file callback */
	o.file = NULL;
	assert_int_equal(walk1(&r, &o, "", NULL), WARD_EINVAL);
	assert_int_equal(walker_run(NULL, NULL, 0, NULL), WARD_EINVAL);
}

static void
test_symlinks(void **state)
{
	struct rec r;
	struct walker_opts o;

	mk("d", NULL);
	mk("d/f", "f");
	mk("d/sub", NULL);
	mk("d/sub/g", "g");
	ln("..", "d/sub/up"); /* loop */
	ln("f", "d/lf");      /* link to a file in the tree */
	ln("sub", "d/ls");    /* link to a directory in the tree */
	ln("/nonexistent", "d/dangling");
	ln("d", "ld"); /* root given as a link */

	rec_init(&r);
	o = opts(&r);
	assert_int_equal(walk1(&r, &o, "d", NULL), 0);
	assert_string_equal(r.files, "d/f;d/sub/g;");
	assert_string_equal(r.skips, "d/dangling=symbolic link not followed;"
				     "d/lf=symbolic link not followed;"
				     "d/ls=symbolic link not followed;"
				     "d/sub/up=symbolic link not followed;");

	/* follow: every file once, the loop ends */
	rec_init(&r);
	o.follow_symlinks = 1;
	assert_int_equal(walk1(&r, &o, "d", NULL), 0);
	assert_string_equal(r.files, "d/f;d/ls/g;");
	assert_string_equal(r.skips, "d/dangling=dangling symbolic link;"
				     "d/lf=already visited;"
				     "d/ls/up=directory loop;"
				     "d/sub=already visited;");
	assert_string_equal(r.errors, "");

	/* a link named as a PATH is followed even without follow_symlinks */
	rec_init(&r);
	o.follow_symlinks = 0;
	assert_int_equal(walk1(&r, &o, "ld", NULL), 0);
	assert_string_equal(r.files, "ld/f;ld/sub/g;");
	/* a dangling PATH */
	rec_init(&r);
	assert_int_equal(walk1(&r, &o, "d/dangling", NULL), 0);
	assert_string_equal(r.skips, "d/dangling=dangling symbolic link;");
	assert_string_equal(r.roots, "d/dangling=dangling symbolic link;");
	rec_init(&r);
	assert_int_equal(walk1(&r, &o, "nothere", NULL), 0);
	assert_string_equal(r.errors, "nothere:cannot stat:2;");
	assert_string_equal(r.roots, "nothere:cannot stat;");
	/* entries inside a tree are not at depth 0 */
	rec_init(&r);
	assert_int_equal(walk1(&r, &o, "d", NULL), 0);
	assert_string_equal(r.roots, "");

	/* the same tree twice, and a link whose target comes later */
	rec_init(&r);
	o.follow_symlinks = 1;
	{
		char p1[512], p2[512];
		const char *paths[3] = {p1, p2, p1};

		snprintf(p1, sizeof(p1), "%s/d/ls", base);
		snprintf(p2, sizeof(p2), "%s/d", base);
		assert_int_equal(walker_run(&o, paths, 3, NULL), 0);
	}
	assert_string_equal(r.files, "d/ls/g;d/ls/up/f;");
	assert_string_equal(r.skips, "d/ls/up/dangling=dangling symbolic link;"
				     "d/ls/up/lf=already visited;"
				     "d/ls/up/ls=directory loop;"
				     "d/ls/up/sub=directory loop;"
				     "d=already visited;"
				     "d/ls=already visited;");
	assert_string_equal(r.roots, "d=already visited;d/ls=already visited;");
}

static void
test_excludes_specials_links(void **state)
{
	static const char *const ex[] = {"*.log", "*/skip", "exact"};
	struct rec r;
	struct walker_opts o;
	struct sockaddr_un sa;
	char p[600], q[600];
	int s;

	mk("e", NULL);
	mk("e/a.log", "x");
	mk("e/a.txt", "x");
	mk("e/skip", NULL);
	mk("e/skip/inner", "x");
	mk("e/exact", NULL);
	mk("e/exact/inner", "x");
	mk("e/keep", NULL);
	mk("e/keep/skip.txt", "x");
	snprintf(p, sizeof(p), "%s/e/fifo", base);
	assert_int_equal(mkfifo(p, 0644), 0);
	snprintf(p, sizeof(p), "%s/e/null", base);
	assert_int_equal(mknod(p, S_IFCHR | 0644, makedev(1, 3)), 0);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(base) + 8 < sizeof(sa.sun_path));
	memcpy(sa.sun_path, base, strlen(base));
	memcpy(sa.sun_path + strlen(base), "/e/sock", 8);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* hard links: one file reported once */
	snprintf(p, sizeof(p), "%s/e/a.txt", base);
	snprintf(q, sizeof(q), "%s/e/hard", base);
	assert_int_equal(link(p, q), 0);

	rec_init(&r);
	o = opts(&r);
	o.excludes = ex;
	o.nexcludes = 3;
	assert_int_equal(walk1(&r, &o, "e", NULL), 0);
	close(s);
	assert_string_equal(r.files, "e/a.txt;e/keep/skip.txt;");
	assert_string_equal(r.skips, "e/a.log=excluded;e/exact=excluded;e/fifo=special file;"
				     "e/hard=already visited;e/null=special file;"
				     "e/skip=excluded;e/sock=special file;");
	/* an excluded PATH, and a special PATH */
	rec_init(&r);
	assert_int_equal(walk1(&r, &o, "e/a.log", NULL), 0);
	assert_string_equal(r.skips, "e/a.log=excluded;");
	rec_init(&r);
	assert_int_equal(walk1(&r, &o, "e/fifo", NULL), 0);
	assert_string_equal(r.skips, "e/fifo=special file;");
	assert_string_equal(r.files, "");
}

/* 3 000 nested directories, a file every 100 levels and at the bottom. */
static void
test_deep(void **state)
{
	struct rec r;
	struct walker_opts o;
	struct walker_stats st;
	int fd, i, fds = count_fds();

	mk("deep", NULL);
	snprintf(r.files, sizeof(r.files), "%s/deep", base);
	fd = open(r.files, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	for (i = 0; i < 3000; i++) {
		int nfd;

		if (i % 100 == 0 || i == 2999) {
			int ff = openat(fd, "f", O_CREAT | O_WRONLY, 0644);

			assert_true(ff >= 0);
			close(ff);
		}
		assert_int_equal(mkdirat(fd, "d", 0755), 0);
		nfd = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		assert_true(nfd >= 0);
		close(fd);
		fd = nfd;
	}
	close(fd);
	rec_init(&r);
	r.check_open = 1;
	o = opts(&r);
	assert_int_equal(walk1(&r, &o, "deep", &st), 0);
	assert_int_equal(r.nfiles, 31);
	assert_int_equal(st.dirs, 3001);
	assert_string_equal(r.errors, "");
	/* 3000 / 32 checkpoints + a window of 32, far below 3000 */
	if (r.max_fds > fds + 3000 / 32 + 32 + 4)
		fail_msg("%d descriptors open", r.max_fds);
	assert_int_equal(count_fds(), fds);
	/* the deepest path is longer than PATH_MAX: files are reached by dirfd */
	assert_true(6000 > 4096);
	/* remove it with the walker's own guarantee in mind: rm -rf copes */
}

/* A directory the walker cannot read, as uid 65534 in a child process. */
static void
test_unreadable(void **state)
{
	char p[600];
	pid_t pid;
	int status;

	mk("u", NULL);
	mk("u/a", "a");
	mk("u/locked", NULL);
	mk("u/locked/secret", "s");
	mk("u/z", "z");
	snprintf(p, sizeof(p), "%s/u/locked", base);
	assert_int_equal(chmod(p, 0700), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rec r;
		struct walker_opts o;
		struct walker_stats st;
		int rc;

		if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
			_exit(10);
		rec_init(&r);
		o = opts(&r);
		rc = walk1(&r, &o, "u", &st);
		if (rc != 0)
			_exit(11);
		if (strcmp(r.files, "u/a;u/z;") != 0)
			_exit(12);
		if (strcmp(r.errors, "u/locked:cannot open directory:13;") != 0)
			_exit(13);
		if (st.errors != 1 || strcmp(r.roots, "") != 0)
			_exit(14);
		/* an unreadable PATH: its error is at depth 0 */
		rec_init(&r);
		rc = walk1(&r, &o, "u/locked", &st);
		if (rc != 0 || strcmp(r.errors, "u/locked:cannot open directory:13;") != 0 ||
		    strcmp(r.roots, "u/locked:cannot open directory;") != 0)
			_exit(15);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* An entry listed, then removed before it is examined. */
static void
test_vanished(void **state)
{
	struct rec r;
	struct walker_opts o;
	char p[600];

	mk("v", NULL);
	mk("v/1", "1");
	mk("v/2", "2");
	mk("v/3", "3");
	snprintf(p, sizeof(p), "%s/v/2", base);
	rec_init(&r);
	r.unlink_on = "1";
	r.unlink_what = p;
	o = opts(&r);
	assert_int_equal(walk1(&r, &o, "v", NULL), 0);
	assert_string_equal(r.files, "v/1;v/3;");
	assert_string_equal(r.errors, "v/2:cannot stat:2;");
}

/* walker_open: the file examined, or none — a file swapped for another
 * (or for a symbolic link) between the walk's look and the open is not
 * opened. */
struct swap {
	int opened, stale, loop;
};

static int
on_swap(void *ctx, const struct walker_entry *e)
{
	struct swap *w = ctx;
	char p[600], q[600];
	int fd;

	snprintf(p, sizeof(p), "%s/s/%s", base, e->name);
	snprintf(q, sizeof(q), "%s/elsewhere", base);
	if (strcmp(e->name, "replaced") == 0) { /* another file under the name */
		char n[600];

		snprintf(n, sizeof(n), "%s/new", base); /* made first: another inode */
		mk("new", "not what was examined");
		assert_int_equal(rename(n, p), 0);
	} else if (strcmp(e->name, "linked") == 0) { /* a link in its place */
		assert_int_equal(unlink(p), 0);
		assert_int_equal(symlink(q, p), 0);
	}
	fd = walker_open(e, 0);
	if (fd >= 0) {
		w->opened++;
		close(fd);
	} else if (errno == ESTALE) {
		w->stale++;
	} else if (errno == ELOOP) {
		w->loop++;
	}
	return 0;
}

static void
test_open_is_the_file_examined(void **state)
{
	struct walker_opts o;
	struct swap w;
	char p[512];
	const char *paths[1] = {p};

	mk("s", NULL);
	mk("s/kept", "x");
	mk("s/replaced", "x");
	mk("s/linked", "x");
	mk("elsewhere", "secret");
	memset(&w, 0, sizeof(w));
	memset(&o, 0, sizeof(o));
	o.file = on_swap;
	o.ctx = &w;
	snprintf(p, sizeof(p), "%s/s", base);
	assert_int_equal(walker_run(&o, paths, 1, NULL), 0);
	assert_int_equal(w.opened, 1);
	assert_int_equal(w.stale, 1);
	assert_int_equal(w.loop, 1);
}

static void
test_cancel_and_stop(void **state)
{
	struct rec r;
	struct walker_opts o;
	struct walker_stats st;
	int i;

	mk("c", NULL);
	for (i = 0; i < 10; i++) {
		char n[32];

		snprintf(n, sizeof(n), "c/%d", i);
		mk(n, "x");
	}
	rec_init(&r);
	r.stop_after = 3;
	o = opts(&r);
	assert_int_equal(walk1(&r, &o, "c", &st), WARD_EINTR);
	assert_int_equal(r.nfiles, 3);
	assert_int_equal(st.files, 3);
	/* a callback's error stops the walk and is returned */
	rec_init(&r);
	r.fail_after = 2;
	assert_int_equal(walk1(&r, &o, "c", &st), WARD_EIO);
	assert_int_equal(r.nfiles, 2);
	/* cancelled before the start */
	rec_init(&r);
	r.cancel = 1;
	assert_int_equal(walk1(&r, &o, "c", &st), WARD_EINTR);
	assert_int_equal(r.nfiles, 0);
}

/* /proc, /sys and /dev below "/", and a proc mount met while walking. */
static void
test_virtual(void **state)
{
	struct rec r;
	struct walker_opts o;
	const char *root[1] = {"/"};
	char p[600];

	rec_init(&r);
	r.base_len = 0;
	o = opts(&r);
	o.no_recurse = 1;
	assert_int_equal(walker_run(&o, root, 1, NULL), 0);
	assert_non_null(strstr(r.skips, "/proc=virtual filesystem;"));
	assert_non_null(strstr(r.skips, "/sys=virtual filesystem;"));
	assert_non_null(strstr(r.skips, "/dev=virtual filesystem;"));
	assert_non_null(strstr(r.skips, "/etc=subdirectory not walked;"));

	mk("m", NULL);
	mk("m/p", NULL);
	mk("m/x", "x");
	snprintf(p, sizeof(p), "%s/m/p", base);
	if (mount("proc", p, "proc", 0, NULL) != 0) {
		printf("# cannot mount proc (%s): mount test skipped\n", strerror(errno));
		return;
	}
	rec_init(&r);
	o.no_recurse = 0;
	assert_int_equal(walk1(&r, &o, "m", NULL), 0);
	umount2(p, MNT_DETACH);
	assert_string_equal(r.files, "m/x;");
	assert_string_equal(r.skips, "m/p=virtual filesystem;");
}

/* Many files in one directory: all reported, in order. */
static void
test_big_dir(void **state)
{
	struct rec r;
	struct walker_opts o;
	struct walker_stats st;
	char p[600];
	int fd, i;

	mk("big", NULL);
	snprintf(p, sizeof(p), "%s/big", base);
	fd = open(p, O_RDONLY | O_DIRECTORY);
	for (i = 0; i < 5000; i++) {
		char n[32];
		int f;

		snprintf(n, sizeof(n), "f%06d", i);
		f = openat(fd, n, O_CREAT | O_WRONLY, 0644);
		assert_true(f >= 0);
		close(f);
	}
	close(fd);
	rec_init(&r);
	o = opts(&r);
	assert_int_equal(walk1(&r, &o, "big", &st), 0);
	assert_int_equal(st.files, 5000);
	assert_int_equal(strncmp(r.files, "big/f000000;big/f000001;", 24), 0);
}

static void
test_alloc_fail(void **state)
{
	struct rec r;
	struct walker_opts o;
	unsigned long n, i;
	int rc, fds = count_fds();

	mk("al", NULL);
	mk("al/a", "a");
	mk("al/s", NULL);
	mk("al/s/b", "b");
	mk("al/s/t", NULL);
	mk("al/s/t/c", "c");
	ln("../..", "al/s/t/loop");
	rec_init(&r);
	o = opts(&r);
	o.follow_symlinks = 1;
	alloc_fail_after(0);
	assert_int_equal(walk1(&r, &o, "al", NULL), 0);
	n = alloc_fail_after(0);
	assert_true(n > 0);
	for (i = 1; i <= n; i++) {
		rec_init(&r);
		alloc_fail_after(i);
		rc = walk1(&r, &o, "al", NULL);
		alloc_fail_after(0);
		assert_int_equal(rc, WARD_ENOMEM);
	}
	assert_int_equal(count_fds(), fds);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_excludes_specials_links, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deep, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vanished, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_is_the_file_examined, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_and_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_virtual, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_big_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alloc_fail, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
