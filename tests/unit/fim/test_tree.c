/*
 * Unit tests of lib/fim/tree: the walk sees every directory and entry of a
 * tree and never goes through a symbolic link; a user who swaps a
 * subdirectory for a link to root's directory — before the walk opens it,
 * or after it opened it and before it reads it — cannot make it read
 * root's directory (it goes on with the real one, under the path it found
 * it at); identities reopen the same directory after it moved, after the
 * tree went idle, and after the path noted for its filesystem was
 * replaced by a link; the map of watched directories keeps every entry
 * through many deletions and forgets a subtree by path; a failed
 * allocation at any point is an error, not a crash.  Run as root
 * (open_by_handle_at needs CAP_DAC_READ_SEARCH; make check runs so).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fim/tree.h"
#include "util/alloc.h"
#include "util/err.h"

static char dir[] = "/tmp/ward-test-fimtree-XXXXXX";
static int made;

static const char *
at(const char *rel)
{
	static char buf[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, rel);
	return buf[k];
}

static void
mkfile(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* What a walk saw, and what the test does to the tree meanwhile. */
struct seen {
	char dirs[64][512], entries[64][512];
	unsigned ndirs, nentries;
	const char *swap_at_entry; /* path: swapped for a link before it is opened */
	const char *swap_at_dir;   /* path: swapped for a link once open */
	int read_secret;	   /* an entry of the secret directory was seen */
};

/* path becomes a link to the secret directory; the real one moves to path.real. */
static void
swap(const char *path)
{
	char real[600];

	snprintf(real, sizeof(real), "%s.real", path);
	assert_int_equal(rename(path, real), 0);
	assert_int_equal(symlink(at("secret"), path), 0);
}

static int
on_dir(void *arg, int fd, const char *path, const struct fim_tree_id *id)
{
	struct seen *s = arg;
	struct stat st;

	assert_non_null(id);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_true(s->ndirs < 64);
	snprintf(s->dirs[s->ndirs++], sizeof(s->dirs[0]), "%s", path);
	if (s->swap_at_dir != NULL && strcmp(path, s->swap_at_dir) == 0)
		swap(path);
	return 1;
}

static int
on_entry(void *arg, int dirfd, const char *path, const char *name)
{
	struct seen *s = arg;
	struct stat st;

	/* The name is in the directory given. */
	assert_int_equal(fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(s->nentries < 64);
	snprintf(s->entries[s->nentries++], sizeof(s->entries[0]), "%s", path);
	if (strcmp(name, "root-only.key") == 0)
		s->read_secret = 1;
	if (s->swap_at_entry != NULL && strcmp(path, s->swap_at_entry) == 0)
		swap(path);
	return 1;
}

static const struct fim_tree_ops ops = {on_dir, on_entry};

static int
has(char (*list)[512], unsigned n, const char *path)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], path) == 0)
			return 1;
	return 0;
}

/* A fresh tree t/{a/{b,f},c,link -> secret} and root's secret directory. */
static int
setup(void **state)
{
	char cmd[600];

	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "test_tree runs as root (open_by_handle_at)\n");
		return -1;
	}
	/* Made once (a flag, not the template's last letter: mkdtemp may
	 * well end a name with an X). */
	if (!made && mkdtemp(dir) == NULL)
		return -1;
	made = 1;
	snprintf(cmd, sizeof(cmd), "rm -rf %s/*", dir);
	if (system(cmd) != 0)
		return -1;
	if (mkdir(at("t"), 0755) != 0 || mkdir(at("t/a"), 0755) != 0 ||
	    mkdir(at("t/a/b"), 0755) != 0 || mkdir(at("t/c"), 0755) != 0 ||
	    mkdir(at("secret"), 0700) != 0 || symlink(at("secret"), at("t/link")) != 0)
		return -1;
	mkfile(at("t/a/f"), "user");
	mkfile(at("secret/root-only.key"), "secret");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
walk(struct fim_tree *t, struct seen *s)
{
	int fd = open(at("t"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fim_tree_walk(t, fd, at("t"), &ops, s), 0);
}

static void
test_walk(void **state)
{
	struct fim_tree *t;
	struct seen s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(fim_tree_new(&t), 0);
	walk(t, &s);
	assert_int_equal(s.ndirs, 4);
	assert_true(has(s.dirs, s.ndirs, at("t")) && has(s.dirs, s.ndirs, at("t/a")) &&
		    has(s.dirs, s.ndirs, at("t/a/b")) && has(s.dirs, s.ndirs, at("t/c")));
	assert_int_equal(s.nentries, 5); /* a, b, f, c, link: the link not followed */
	assert_true(has(s.entries, s.nentries, at("t/link")));
	assert_int_equal(s.read_secret, 0);
	fim_tree_free(t);
}

/* Between readdir and the open: the open refuses the link. */
static void
test_swap_before_open(void **state)
{
	struct fim_tree *t;
	struct seen s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.swap_at_entry = at("t/a");
	assert_int_equal(fim_tree_new(&t), 0);
	walk(t, &s);
	assert_int_equal(s.read_secret, 0);
	assert_false(has(s.dirs, s.ndirs, at("t/a")));
	assert_false(has(s.entries, s.nentries, at("t/a/root-only.key")));
	fim_tree_free(t);
}

/* Between the open (where the caller marks it) and the read: the real
 * directory is read, under the path it was found at. */
static void
test_swap_after_open(void **state)
{
	struct fim_tree *t;
	struct seen s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.swap_at_dir = at("t/a");
	assert_int_equal(fim_tree_new(&t), 0);
	walk(t, &s);
	assert_int_equal(s.read_secret, 0);
	assert_true(has(s.entries, s.nentries, at("t/a/f")));
	assert_true(has(s.dirs, s.ndirs, at("t/a/b")));
	assert_false(has(s.entries, s.nentries, at("t/a/root-only.key")));
	fim_tree_free(t);
}

static void
test_identities(void **state)
{
	struct fim_tree_id id, again;
	struct fim_tree *t;
	struct seen s;
	struct stat a, b;
	int fd;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(fim_tree_new(&t), 0);
	walk(t, &s);
	fd = open(at("t/a/b"), O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(fim_tree_id_of(fd, &id), 0);
	assert_int_equal(fstat(fd, &a), 0);
	close(fd);
	/* Moved: still the same directory. */
	assert_int_equal(rename(at("t/a/b"), at("t/c/b2")), 0);
	fd = fim_tree_open(t, &id);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	assert_int_equal(fim_tree_id_of(fd, &again), 0);
	assert_int_equal(again.len, id.len);
	assert_memory_equal(again.b, id.b, id.len);
	close(fd);
	/* Kept for a run of events in one directory, until idle. */
	fd = fim_tree_dir(t, &id);
	assert_true(fd >= 0);
	assert_int_equal(fim_tree_dir(t, &id), fd);
	assert_int_equal(fstat(fd, &b), 0);
	assert_true(a.st_ino == b.st_ino);
	/* Idle, and the path noted for the filesystem (the walk's root) is
	 * now a user's link to root's directory: not followed, a directory
	 * above it serves. */
	fim_tree_idle(t);
	assert_int_equal(rename(at("t"), at("t.real")), 0);
	assert_int_equal(symlink(at("secret"), at("t")), 0);
	assert_int_equal(lchown(at("t"), 65534, 65534), 0);
	fd = fim_tree_open(t, &id);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &b), 0);
	assert_true(a.st_ino == b.st_ino);
	close(fd);
	/* Gone. */
	assert_int_equal(rmdir(at("t.real/c/b2")), 0);
	assert_true(fim_tree_open(t, &id) < 0);
	/* A filesystem never met. */
	fim_tree_reset(t);
	errno = 0;
	assert_true(fim_tree_open(t, &id) < 0);
	assert_int_equal(errno, ENODEV);
	fim_tree_free(t);
	fim_tree_free(NULL);
}

static struct fim_tree_id
fake_id(unsigned i)
{
	struct fim_tree_id id;

	memset(&id, 0, sizeof(id));
	id.len = 16 + 8;
	memcpy(id.b + 16, &i, sizeof(i));
	return id;
}

static void
count(void *arg, const struct fim_tree_id *id)
{
	(void)id;
	++*(unsigned *)arg;
}

static void
test_map(void **state)
{
	struct fim_tree *t;
	struct fim_tree_id id;
	char path[64];
	unsigned i, n = 0;

	(void)state;
	assert_int_equal(fim_tree_new(&t), 0);
	for (i = 0; i < 5000; i++) {
		id = fake_id(i);
		snprintf(path, sizeof(path), "/d/%u", i);
		assert_int_equal(fim_tree_put(t, &id, path), 1);
	}
	id = fake_id(7);
	assert_int_equal(fim_tree_put(t, &id, "/d/moved"), 0);
	assert_string_equal(fim_tree_path(t, &id), "/d/moved");
	for (i = 0; i < 5000; i += 3) {
		id = fake_id(i);
		assert_int_equal(fim_tree_del(t, &id), 1);
		assert_int_equal(fim_tree_del(t, &id), 0);
	}
	for (i = 0; i < 5000; i++) {
		id = fake_id(i);
		snprintf(path, sizeof(path), "/d/%u", i);
		if (i % 3 == 0)
			assert_null(fim_tree_path(t, &id));
		else
			assert_string_equal(fim_tree_path(t, &id), i == 7 ? "/d/moved" : path);
	}
	/* A subtree: the directory and what is under it, not a name that
	 * merely starts the same. */
	id = fake_id(9000);
	assert_int_equal(fim_tree_put(t, &id, "/x"), 1);
	id = fake_id(9001);
	assert_int_equal(fim_tree_put(t, &id, "/x/y"), 1);
	id = fake_id(9002);
	assert_int_equal(fim_tree_put(t, &id, "/xy"), 1);
	assert_int_equal(fim_tree_del_under(t, "/x", count, &n), 2);
	assert_int_equal(n, 2);
	assert_string_equal(fim_tree_path(t, &id), "/xy");
	assert_int_equal(fim_tree_del_under(t, "/d", NULL, NULL), 5000 - 1667);
	assert_string_equal(fim_tree_path(t, &id), "/xy");
	fim_tree_free(t);
}

/* Every allocation of a walk and of the map failed in turn: an error or
 * a complete result, never a crash or a leak (ASan build). */
static void
test_alloc_failures(void **state)
{
	unsigned long k, total;
	struct fim_tree *t;
	struct fim_tree_id id;
	struct seen s;
	int r, fd;

	(void)state;
	alloc_fail_after(0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(fim_tree_new(&t), 0);
	walk(t, &s);
	id = fake_id(1);
	assert_int_equal(fim_tree_put(t, &id, "/p"), 1);
	fim_tree_free(t);
	total = alloc_fail_after(0);
	for (k = 1; k <= total; k++) {
		memset(&s, 0, sizeof(s));
		alloc_fail_after(k);
		if (fim_tree_new(&t) != 0)
			continue;
		fd = open(at("t"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(fd >= 0);
		r = fim_tree_walk(t, fd, at("t"), &ops, &s);
		assert_true(r == 0 || r == WARD_ENOMEM);
		r = fim_tree_put(t, &id, "/p");
		assert_true(r == 1 || r == WARD_ENOMEM);
		alloc_fail_after(0);
		assert_int_equal(s.read_secret, 0);
		fim_tree_free(t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_walk, setup),
	    cmocka_unit_test_setup(test_swap_before_open, setup),
	    cmocka_unit_test_setup(test_swap_after_open, setup),
	    cmocka_unit_test_setup(test_identities, setup),
	    cmocka_unit_test(test_map),
	    cmocka_unit_test_setup(test_alloc_failures, setup),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
