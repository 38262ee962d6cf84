/*
 * Unit tests of lib/util/mount: the mount point of an id and the mount
 * point above a path, from a mountinfo text — escapes undone, whole
 * components compared ("/home" is not above "/homes"), the deepest wins,
 * a mount point too long is an error or left aside, a malformed line is
 * an error; and on this host: the root directory's mount is "/", /proc's
 * is "/proc", read from the descriptors.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include "../unit_skip.h"

#include "util/alloc.h"
#include "util/err.h"
#include "util/mount.h"

static const char table[] = "1 0 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
			    "23 1 0:22 / /proc rw,nosuid - proc proc rw\n"
			    "31 1 8:3 / /home rw shared:26 - ext4 /dev/sda3 rw\n"
			    "40 31 0:40 / /home/alice/Down\\040loads rw - fuse.sshfs alice@h: rw\n"
			    "41 31 0:41 /sub /home/b\\134s\\011t\\012n rw - tmpfs t rw\n"
			    "46 1 0:43 / /tmp rw - tmpfs tmpfs rw\n"
			    "47 46 0:44 / /tmp rw - tmpfs tmpfs rw\n";

#define T(s) (s), strlen(s)

static void
test_point_of(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(mount_point_of(T(table), 1, out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(mount_point_of(T(table), 31, out, sizeof(out)), 0);
	assert_string_equal(out, "/home");
	assert_int_equal(mount_point_of(T(table), 40, out, sizeof(out)), 0);
	assert_string_equal(out, "/home/alice/Down loads");
	assert_int_equal(mount_point_of(T(table), 41, out, sizeof(out)), 0);
	assert_string_equal(out, "/home/b\\s\tt\nn");
	assert_int_equal(mount_point_of(T(table), 47, out, sizeof(out)), 0);
	assert_string_equal(out, "/tmp");
	assert_int_equal(mount_point_of(T(table), 2, out, sizeof(out)), WARD_EINVAL);
	assert_int_equal(mount_point_of(T(""), 1, out, sizeof(out)), WARD_EINVAL);
	/* Does not fit. */
	assert_int_equal(mount_point_of(T(table), 40, out, 8), WARD_ELIMIT);
	/* The last line without its newline is still a line. */
	assert_int_equal(mount_point_of(T("5 1 0:1 / /x rw"), 5, out, sizeof(out)), 0);
	assert_string_equal(out, "/x");
}

static void
test_point_above(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(mount_point_above(T(table), "/home/alice/Downloads", out, sizeof(out)), 0);
	assert_string_equal(out, "/home");
	assert_int_equal(mount_point_above(T(table), "/home/alice/Down loads/x", out, sizeof(out)),
			 0);
	assert_string_equal(out, "/home/alice/Down loads");
	assert_int_equal(mount_point_above(T(table), "/homes/bob", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(mount_point_above(T(table), "//home//", out, sizeof(out)), 0);
	assert_string_equal(out, "/home");
	assert_int_equal(mount_point_above(T(table), "/tmp/a", out, sizeof(out)), 0);
	assert_string_equal(out, "/tmp");
	assert_int_equal(mount_point_above(T(table), "/", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(mount_point_above(T(table), "home", out, sizeof(out)), WARD_EINVAL);
	/* No "/" in the table: nothing is above. */
	assert_int_equal(mount_point_above(T("3 1 0:1 / /x rw\n"), "/y", out, sizeof(out)),
			 WARD_EINVAL);
	assert_int_equal(mount_point_above(T(table), "/home/alice/Down loads", out, 8),
			 WARD_ELIMIT);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
	    "x 0 8:1 / / rw\n",			      /* id not a number */
	    "1 0 8:1 /\n",			      /* no mount point */
	    "1 0 8:1 / /a\\04 rw\n",		      /* short escape */
	    "1 0 8:1 / /a\\089 rw\n",		      /* not octal */
	    "1 0 8:1 / /a\\000 rw\n",		      /* a NUL */
	    "1 0 8:1 / relative rw\n",		      /* not absolute */
	    "99999999999999999999999 0 8:1 / / rw\n", /* id overflows */
	    " 0 8:1 / / rw\n",			      /* empty id */
	};
	char out[64];
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(mount_point_of(T(bad[i]), 1, out, sizeof(out)), WARD_EFORMAT);
		assert_int_equal(mount_point_above(T(bad[i]), "/a", out, sizeof(out)),
				 WARD_EFORMAT);
	}
}

/* A mount point longer than the parser keeps: left aside by the search
 * above a path, an error when asked for by id. */
static void
test_long_point(void **state)
{
	static char text[8192];
	char out[64];
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "1 0 8:1 / / rw\n2 1 0:9 / /");
	memset(text + n, 'a', 5000);
	snprintf(text + n + 5000, sizeof(text) - n - 5000, " rw\n");
	assert_int_equal(mount_point_above(T(text), "/aaa", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(mount_point_of(T(text), 2, out, sizeof(out)), WARD_ELIMIT);
}

static void
test_this_host(void **state)
{
	struct ward_diag d;
	uint8_t *info;
	size_t len;
	uint64_t id;
	char out[4096];
	int fd;

	(void)state;
	assert_int_equal(mount_info_read(&info, &len, &d), 0);
	assert_true(len > 0 && info[len] == 0);
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(mount_id_of(fd, &id), 0);
	close(fd);
	assert_int_equal(mount_point_of(info, len, id, out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	fd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(mount_id_of(fd, &id), 0);
	close(fd);
	assert_int_equal(mount_point_of(info, len, id, out, sizeof(out)), 0);
	assert_string_equal(out, "/proc");
	assert_int_equal(mount_point_above(info, len, "/proc/self", out, sizeof(out)), 0);
	assert_string_equal(out, "/proc");
	ward_free(info);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_point_of),  cmocka_unit_test(test_point_above),
	    cmocka_unit_test(test_malformed), cmocka_unit_test(test_long_point),
	    cmocka_unit_test(test_this_host),
	};

	return unit_run_group(tests, NULL, NULL);
}
