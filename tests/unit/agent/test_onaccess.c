/*
 * Unit tests of agent/onaccess without fanotify: the sensor's context
 * (made idle, freed, each out-of-memory failure of it survived), a start
 * or reload with nothing to watch that leaves it off and touches nothing,
 * and the checks a configured path passes before it is marked
 * (onaccess_path_open: absolute, no '.' or '..', no link a user put on the
 * way, the mount it leads to the one it is under as written).
 */
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
#include "../unit_skip.h"
#include <jansson.h>

#include "agent/config.h"
#include "agent/onaccess.h"
#include "util/alloc.h"

static char dir[] = "/tmp/ward-test-onaccess-XXXXXX";

static const char *
at(const char *name)
{
	static char p[4][512];
	static unsigned k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

/* The fake host: counts what the sensor emitted. */
static unsigned emitted;

static void
host_emit(void *arg, json_t *ev)
{
	(void)arg;
	emitted++;
	json_decref(ev);
}

static void
host_log(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static const struct sensor_host host = {.emit = host_emit, .log = host_log};

static int
setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "test_onaccess runs as root (its links must be root's)\n");
		return -1;
	}
	if (mkdtemp(dir) == NULL || mkdir(at("real"), 0755) != 0 ||
	    symlink(at("real"), at("theirs")) != 0 || lchown(at("theirs"), 65534, 65534) != 0 ||
	    symlink(at("real"), at("ours")) != 0 || symlink("/proc", at("proc")) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	(void)unlink(at("theirs"));
	(void)unlink(at("ours"));
	(void)unlink(at("proc"));
	(void)rmdir(at("real"));
	return rmdir(dir);
}

static struct agent_config *
config_new(void)
{
	struct agent_config *c = calloc(1, sizeof(*c)); /* 200 KiB: not on the stack */

	assert_non_null(c);
	config_defaults(c);
	return c;
}

/* A new sensor is off, counts nothing, and new content has nothing to
 * mark in it. */
static void
new_is_idle(void **state)
{
	struct onaccess *o = onaccess_new();
	struct onaccess_stats st, zero;
	char partial[64] = "x";

	(void)state;
	assert_non_null(o);
	assert_false(onaccess_running(o));
	memset(&st, 0xff, sizeof(st));
	memset(&zero, 0, sizeof(zero));
	onaccess_get_stats(o, &st, partial, sizeof(partial));
	assert_memory_equal(&st, &zero, sizeof(st));
	assert_string_equal(partial, "");
	onaccess_content_changed(o);
	assert_false(onaccess_running(o));
	onaccess_free(o);
	onaccess_free(NULL);
}

/* No paths: a start and a reload succeed, leave the sensor off, say
 * nothing. */
static void
nothing_to_watch(void **state)
{
	struct agent_config *c = config_new();
	struct onaccess *o = onaccess_new();
	char why[256] = "x";

	(void)state;
	assert_non_null(o);
	emitted = 0;
	assert_int_equal(onaccess_start(o, &host, c, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_false(onaccess_running(o));
	strcpy(why, "x");
	assert_int_equal(onaccess_reconfigure(o, &host, c, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_false(onaccess_running(o));
	assert_int_equal(emitted, 0);
	onaccess_free(o);
	free(c);
}

/* Every allocation of a new sensor failing in turn: NULL, nothing leaked
 * (ASan's leak check says). */
static void
new_out_of_memory(void **state)
{
	unsigned long n, total;
	struct onaccess *o;

	(void)state;
	(void)alloc_fail_after(0);
	onaccess_free(onaccess_new());
	total = alloc_fail_after(0);
	assert_true(total >= 1);
	for (n = 1; n <= total; n++) {
		(void)alloc_fail_after(n);
		o = onaccess_new();
		(void)alloc_fail_after(0);
		assert_null(o);
	}
}

/* path refused by onaccess_path_open (whole_mount), with why holding want. */
static void
refused(const char *path, int whole, const char *want)
{
	char mnt[512] = "x", why[1024] = "";
	int fd = onaccess_path_open(path, whole, mnt, sizeof(mnt), why, sizeof(why));

	if (fd >= 0)
		close(fd);
	assert_int_equal(fd, -1);
	assert_string_equal(mnt, "");
	if (strstr(why, want) == NULL)
		fail_msg("%s: \"%s\" does not say \"%s\"", path, why, want);
}

static void
path_checks(void **state)
{
	char mnt[512], why[1024], above[600];
	struct stat a, b;
	int fd;

	(void)state;
	refused("relative/dir", 0, "not an absolute path");
	refused(at("real/../real"), 0, "not an absolute path without '.' and '..'");
	refused(at("./real"), 1, "not an absolute path without '.' and '..'");
	refused(at("missing"), 0, "No such file or directory");
	refused(at("theirs"), 0, "a symbolic link on its way is not root's");
	/* Root's link in root's directory is followed, but it leads to
	 * another mount than the one its path is under. */
	refused(at("proc"), 1, "leads to the mount at /proc");

	/* A directory: opened as itself; whole, with the mount it is on. */
	fd = onaccess_path_open(at("real"), 0, mnt, sizeof(mnt), why, sizeof(why));
	assert_true(fd >= 0);
	assert_string_equal(why, "");
	assert_string_equal(mnt, "");
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(stat(at("real"), &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	close(fd);
	fd = onaccess_path_open(at("ours"), 1, mnt, sizeof(mnt), why, sizeof(why));
	assert_true(fd >= 0);
	assert_string_equal(why, "");
	snprintf(above, sizeof(above), "%s/", mnt);
	assert_true(strcmp(mnt, "/") == 0 || strncmp(dir, above, strlen(above)) == 0);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(new_is_idle),
	    cmocka_unit_test(nothing_to_watch),
	    cmocka_unit_test(new_out_of_memory),
	    cmocka_unit_test(path_checks),
	};

	return unit_run_group(tests, setup, teardown);
}
