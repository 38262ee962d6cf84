/*
 * Unit tests of lib/response/quarantine: a file goes into the store
 * encrypted and comes back byte for byte with its mode; a replaced file is
 * not taken; a damaged encrypted copy is refused at restore; restore does
 * not overwrite; list and delete.
 */
#include <fcntl.h>
#include <pthread.h>
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

#include "response/quarantine.h"

static char dir[] = "/tmp/ward-test-quarantine-XXXXXX";

static void
put(const char *path, const char *data, size_t n, mode_t mode)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void
count(void *arg, const struct quarantine_entry *e)
{
	(void)e;
	(*(int *)arg)++;
}

static void
test_round_trip(void **state)
{
	static char big[300000];
	struct quarantine_entry e, r;
	struct ward_diag d;
	char file[300], state_dir[300], enc[400], back[sizeof(big)];
	struct stat st;
	size_t i;
	int n = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/sample.bin", dir);
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 1000);
	put(file, big, sizeof(big), 0751);
	assert_int_equal(quarantine_file(state_dir, file, -1, "Test_Rule", &e, &d), 0);
	assert_int_equal(access(file, F_OK), -1);
	assert_int_equal(strlen(e.id), QUARANTINE_ID_LEN);
	assert_int_equal(e.size, sizeof(big));
	assert_int_equal(e.mode, 0751);
	assert_string_equal(e.rule, "Test_Rule");
	assert_int_equal(quarantine_list(state_dir, count, &n, &d), 0);
	assert_int_equal(n, 1);
	/* Restore refuses to overwrite what is there now. */
	put(file, "x", 1, 0600);
	assert_int_equal(quarantine_restore(state_dir, e.id, &r, &d), WARD_EINVAL);
	assert_int_equal(unlink(file), 0);
	assert_int_equal(quarantine_restore(state_dir, e.id, &r, &d), 0);
	f = fopen(file, "rb");
	assert_non_null(f);
	assert_int_equal(fread(back, 1, sizeof(back), f), sizeof(big));
	fclose(f);
	assert_memory_equal(back, big, sizeof(big));
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0751);
	n = 0;
	assert_int_equal(quarantine_list(state_dir, count, &n, &d), 0);
	assert_int_equal(n, 0);
	/* A damaged encrypted copy is refused, and nothing is written. */
	assert_int_equal(quarantine_file(state_dir, file, -1, "Test_Rule", &e, &d), 0);
	snprintf(enc, sizeof(enc), "%s/quarantine/%s.wq", state_dir, e.id);
	f = fopen(enc, "r+b");
	assert_non_null(f);
	fseek(f, 1000, SEEK_SET);
	fputc('!', f);
	fclose(f);
	assert_int_equal(quarantine_restore(state_dir, e.id, &r, &d), WARD_ECHECKSUM);
	assert_int_equal(access(file, F_OK), -1);
	assert_int_equal(quarantine_delete(state_dir, e.id, &d), 0);
	assert_int_equal(quarantine_delete(state_dir, e.id, &d), WARD_EINVAL);
	assert_int_equal(quarantine_restore(state_dir, "not-an-id", &r, &d), WARD_EINVAL);
}

static void
test_replaced_file_not_taken(void **state)
{
	struct quarantine_entry e;
	struct ward_diag d;
	char file[300], other[300], state_dir[300];
	int fd;

	(void)state;
	snprintf(file, sizeof(file), "%s/a", dir);
	snprintf(other, sizeof(other), "%s/b", dir);
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	put(file, "detected", 8, 0644);
	fd = open(file, O_RDONLY);
	assert_true(fd >= 0);
	/* Someone replaces the file after it was scanned. */
	put(other, "innocent", 8, 0644);
	assert_int_equal(rename(other, file), 0);
	assert_int_equal(quarantine_file(state_dir, file, fd, "R", &e, &d), WARD_EIO);
	assert_non_null(strstr(d.msg, "replaced"));
	assert_int_equal(access(file, F_OK), 0);
	close(fd);
}

struct qarg {
	char file[300], state_dir[300];
	struct quarantine_entry e;
	int r;
};

static void *
quarantine_thread(void *arg)
{
	struct qarg *q = arg;
	struct ward_diag d;

	q->r = quarantine_file(q->state_dir, q->file, -1, "R", &q->e, &d);
	return NULL;
}

/* The first two quarantines of a new store, at once: one key for both
 * (make check once caught a second key replacing the first). */
static void
test_first_use_race(void **state)
{
	struct qarg q[8];
	pthread_t t[8];
	struct quarantine_entry r;
	struct ward_diag d;
	int round, i;

	(void)state;
	for (round = 0; round < 20; round++) {
		for (i = 0; i < 8; i++) {
			snprintf(q[i].state_dir, sizeof(q[i].state_dir), "%s/race%d", dir, round);
			snprintf(q[i].file, sizeof(q[i].file), "%s/f%d-%d", dir, round, i);
			put(q[i].file, "same content", 12, 0644);
		}
		for (i = 0; i < 8; i++)
			assert_int_equal(pthread_create(&t[i], NULL, quarantine_thread, &q[i]), 0);
		for (i = 0; i < 8; i++) {
			pthread_join(t[i], NULL);
			assert_int_equal(q[i].r, 0);
		}
		for (i = 0; i < 8; i++)
			assert_int_equal(quarantine_restore(q[i].state_dir, q[i].e.id, &r, &d), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_replaced_file_not_taken),
	    cmocka_unit_test(test_first_use_race),
	};
	char cmd[128];
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		r = 1;
	return r;
}
