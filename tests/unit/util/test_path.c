/*
 * Unit tests of lib/util/path: a symbolic link anywhere on the way is
 * refused (ELOOP), the last component included; with PATH_ROOT_LINKS only
 * root's links in directories only root can write are followed (relative,
 * absolute, through ".."), a loop of them ends; a link of another user, or
 * in a directory others may write, is refused even then; the parent and
 * name of a path; and the same without openat2 (a seccomp filter makes it
 * ENOSYS, as on kernels before 5.6).  Run as root (make check does): the
 * links must be root's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include "../unit_skip.h"

#include "util/path.h"

static char dir[] = "/tmp/ward-test-path-XXXXXX";

/* dir/rel */
static const char *
at(const char *rel)
{
	static char buf[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, rel);
	return buf[k];
}

/* 1 if fd is the directory at path (same inode), else 0; closes fd. */
static int
is(int fd, const char *path)
{
	struct stat a, b;
	int r = fd >= 0 && fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
		a.st_ino == b.st_ino;

	if (fd >= 0)
		close(fd);
	return r;
}

/* -1 with that errno (closes a descriptor returned by mistake). */
static int
fails(int fd, int err)
{
	int e = errno;

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return e == err;
}

static int
setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "test_path runs as root (its links must be root's)\n");
		return -1;
	}
	if (mkdtemp(dir) == NULL)
		return -1;
	/* real/a/b, a file, a user's directory; links of all kinds. */
	if (mkdir(at("real"), 0755) != 0 || mkdir(at("real/a"), 0755) != 0 ||
	    mkdir(at("real/a/b"), 0755) != 0 || mkdir(at("user"), 0755) != 0 ||
	    mkdir(at("open"), 0777) != 0 || chmod(at("open"), 0777) != 0 ||
	    close(open(at("real/file"), O_WRONLY | O_CREAT, 0644)) != 0)
		return -1;
	if (symlink("real", at("rel")) != 0 || symlink(at("real/a"), at("abs")) != 0 ||
	    symlink("real/a/../a/b", at("dots")) != 0 || symlink("loop2", at("loop1")) != 0 ||
	    symlink("loop1", at("loop2")) != 0 || symlink("user/link", at("via-user")) != 0 ||
	    symlink(at("real"), at("user/link")) != 0 || chown(at("user"), 65534, 65534) != 0 ||
	    lchown(at("user/link"), 65534, 65534) != 0 ||
	    symlink(at("real"), at("open/link")) != 0 || symlink(at("real"), at("theirs")) != 0 ||
	    lchown(at("theirs"), 65534, 65534) != 0)
		return -1;
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

/* The checks, with or without openat2.  0, or the number of the one that failed. */
static int
checks(void)
{
	char name[NAME_MAX + 1];

	/* Real directories open; nothing else does. */
	if (!is(path_open_dir(at("real/a/b"), 0), at("real/a/b")))
		return 1;
	if (!is(path_open_dir("/", 0), "/") || !is(path_open_dir(at("real/a/"), 0), at("real/a")))
		return 2;
	if (!fails(path_open_dir(at("rel/a"), 0), ELOOP) ||
	    !fails(path_open_dir(at("rel"), 0), ELOOP))
		return 3;
	if (!fails(path_open_dir(at("none/a"), 0), ENOENT) ||
	    !fails(path_open_dir(at("real/file"), 0), ENOTDIR) ||
	    !fails(path_open_dir("relative/path", 0), EINVAL))
		return 4;
	/* Root's links in root's directory: followed, however they are written. */
	if (!is(path_open_dir(at("rel/a/b"), PATH_ROOT_LINKS), at("real/a/b")) ||
	    !is(path_open_dir(at("abs/b"), PATH_ROOT_LINKS), at("real/a/b")) ||
	    !is(path_open_dir(at("dots"), PATH_ROOT_LINKS), at("real/a/b")) ||
	    !is(path_open_dir(at("rel"), PATH_ROOT_LINKS), at("real")))
		return 5;
	/* A loop ends; a user's link, even reached through root's, is not
	 * followed; nor a link in a directory others may write, nor one of
	 * another user in root's directory. */
	if (!fails(path_open_dir(at("loop1"), PATH_ROOT_LINKS), ELOOP) ||
	    !fails(path_open_dir(at("via-user/a"), PATH_ROOT_LINKS), ELOOP) ||
	    !fails(path_open_dir(at("user/link"), PATH_ROOT_LINKS), ELOOP) ||
	    !fails(path_open_dir(at("open/link/a"), PATH_ROOT_LINKS), ELOOP) ||
	    !fails(path_open_dir(at("theirs/a"), PATH_ROOT_LINKS), ELOOP))
		return 6;
	/* The parent, and the last component left alone (even a link). */
	if (!is(path_open_parent(at("real/a/b"), 0, name, sizeof(name)), at("real/a")) ||
	    strcmp(name, "b") != 0)
		return 7;
	if (!is(path_open_parent(at("rel"), 0, name, sizeof(name)), dir) ||
	    strcmp(name, "rel") != 0)
		return 8;
	if (!is(path_open_parent(at("real/a//"), 0, name, sizeof(name)), at("real")) ||
	    strcmp(name, "a") != 0)
		return 9;
	if (!is(path_open_parent("/", 0, name, sizeof(name)), "/") || strcmp(name, ".") != 0 ||
	    !is(path_open_parent("/etc", 0, name, sizeof(name)), "/") || strcmp(name, "etc") != 0)
		return 10;
	if (!fails(path_open_parent(at("rel/a/b"), 0, name, sizeof(name)), ELOOP) ||
	    !is(path_open_parent(at("rel/a/b"), PATH_ROOT_LINKS, name, sizeof(name)), at("real/a")))
		return 11;
	if (!fails(path_open_parent(at("real/a"), 0, name, 1), ENAMETOOLONG))
		return 12;
	return 0;
}

static void
test_with_openat2(void **state)
{
	(void)state;
	assert_int_equal(checks(), 0);
}

/* In a child where openat2 says ENOSYS. */
static int
without_openat2(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (ctx == NULL ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0) != 0 ||
	    seccomp_load(ctx) != 0)
		return 100;
	seccomp_release(ctx);
	if (syscall(SYS_openat2, AT_FDCWD, "/", NULL, 0) != -1 || errno != ENOSYS)
		return 101;
	return checks();
}

static void
test_without_openat2(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(without_openat2());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_with_openat2),
	    cmocka_unit_test(test_without_openat2),
	};

	return unit_run_group(tests, setup, teardown);
}
