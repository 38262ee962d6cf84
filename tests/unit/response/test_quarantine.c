/*
 * Unit tests of lib/response/quarantine: a file goes into the store
 * encrypted and comes back byte for byte with its mode; a replaced file is
 * not taken; a damaged encrypted copy is refused at restore; restore does
 * not overwrite; list and delete.  And what a local user who owns the
 * directory can try against root: replace the file, or its directory (by
 * a symbolic link to a directory of root), between the stored copy and the
 * removal; put a symbolic link on the way of a restore; share the
 * directory with others.  The same again on a kernel without openat2.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

/* 1 if path holds exactly data[0..n). */
static int
holds(const char *path, const char *data, size_t n)
{
	char buf[4096];
	size_t k;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return 0;
	k = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return k == n && memcmp(buf, data, n) == 0;
}

/* How many entries (other than . and ..) directory p has. */
static int
entries(const char *p)
{
	struct dirent *de;
	DIR *dp = opendir(p);
	int n = 0;

	if (dp == NULL)
		return -1;
	while ((de = readdir(dp)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(dp);
	return n;
}

static void
count(void *arg, const struct quarantine_entry *e)
{
	(void)e;
	(*(int *)arg)++;
}

static int
stored(const char *state_dir)
{
	struct ward_diag d;
	int n = 0;

	assert_int_equal(quarantine_list(state_dir, count, &n, &d), 0);
	return n;
}

/* A fresh directory under the test's own, for one test. */
static void
fresh(char *out, size_t outlen, const char *name)
{
	snprintf(out, outlen, "%s/%s", dir, name);
	assert_int_equal(mkdir(out, 0755), 0);
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
	FILE *f;
	int c;

	(void)state;
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
	assert_int_equal(stored(state_dir), 1);
	/* Restore refuses to overwrite what is there now. */
	put(file, "x", 1, 0600);
	assert_int_equal(quarantine_restore(state_dir, e.id, NULL, &r, &d), WARD_EINVAL);
	assert_non_null(strstr(d.msg, "move it away"));
	assert_true(holds(file, "x", 1));
	assert_int_equal(unlink(file), 0);
	assert_int_equal(quarantine_restore(state_dir, e.id, NULL, &r, &d), 0);
	assert_string_equal(r.path, file);
	f = fopen(file, "rb");
	assert_non_null(f);
	assert_int_equal(fread(back, 1, sizeof(back), f), sizeof(big));
	fclose(f);
	assert_memory_equal(back, big, sizeof(big));
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0751);
	assert_int_equal(stored(state_dir), 0);
	/* A damaged encrypted copy is refused, and nothing is written (not
	 * even a temporary file). */
	assert_int_equal(quarantine_file(state_dir, file, -1, "Test_Rule", &e, &d), 0);
	snprintf(enc, sizeof(enc), "%s/quarantine/%s.wq", state_dir, e.id);
	/* Flip the byte's bits: writing a fixed byte would leave the copy
	 * whole whenever the random ciphertext already held it. */
	f = fopen(enc, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 1000, SEEK_SET), 0);
	c = fgetc(f);
	assert_true(c != EOF);
	assert_int_equal(fseek(f, 1000, SEEK_SET), 0);
	fputc(c ^ 0xff, f);
	fclose(f);
	i = (size_t)entries(dir);
	assert_int_equal(quarantine_restore(state_dir, e.id, NULL, &r, &d), WARD_ECHECKSUM);
	assert_int_equal(access(file, F_OK), -1);
	assert_int_equal(entries(dir), (int)i);
	assert_int_equal(quarantine_delete(state_dir, e.id, &d), 0);
	assert_int_equal(quarantine_delete(state_dir, e.id, &d), WARD_EINVAL);
	assert_int_equal(quarantine_restore(state_dir, "not-an-id", NULL, &r, &d), WARD_EINVAL);
}

/* Paths that are not canonical and absolute are refused before anything. */
static void
test_bad_paths(void **state)
{
	static const char *const bad[] = {"relative/file", "/tmp/../etc/passwd", "/tmp/./x",
					  "/tmp/dir/", "/tmp/x/.."};
	struct quarantine_entry e;
	struct ward_diag d;
	char state_dir[300];
	size_t i;

	(void)state;
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(quarantine_file(state_dir, bad[i], -1, "R", &e, &d), WARD_EINVAL);
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
	assert_true(holds(file, "innocent", 8));
	assert_int_equal(stored(state_dir), 0);
	close(fd);
}

/*
 * Between the stored copy and the removal, the user moves the detected
 * file away and puts another one under its name: the other one is not
 * removed, the detected one is not either, and nothing stays in the store.
 */
static void
test_replaced_between_store_and_removal(void **state)
{
	struct quarantine_entry e;
	struct quarantine_op *op;
	struct ward_diag d;
	char sub[300], file[400], moved[400], state_dir[300];
	int fd;

	(void)state;
	fresh(sub, sizeof(sub), "swap-file");
	snprintf(file, sizeof(file), "%s/evil", sub);
	snprintf(moved, sizeof(moved), "%s/evil.moved", sub);
	snprintf(state_dir, sizeof(state_dir), "%s/state-swap-file", dir);
	put(file, "detected", 8, 0644);
	fd = open(file, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(quarantine_begin(state_dir, file, fd, "R", &op, &d), 0);
	assert_int_equal(stored(state_dir), 1); /* stored, not yet removed */
	assert_true(holds(file, "detected", 8));
	assert_int_equal(rename(file, moved), 0);
	put(file, "innocent", 8, 0644);
	assert_int_equal(quarantine_commit(op, &e, &d), WARD_EIO);
	assert_non_null(strstr(d.msg, "replaced during the quarantine"));
	assert_true(holds(file, "innocent", 8));
	assert_true(holds(moved, "detected", 8));
	assert_int_equal(stored(state_dir), 0);
	/* abort: the same, by the caller's choice. */
	assert_int_equal(quarantine_begin(state_dir, file, -1, "R", &op, &d), 0);
	quarantine_abort(op);
	assert_true(holds(file, "innocent", 8));
	assert_int_equal(stored(state_dir), 0);
	close(fd);
}

/* A write between the stored copy and the removal: the file stays. */
static void
test_changed_during_quarantine(void **state)
{
	struct quarantine_entry e, r;
	struct stat st;
	struct quarantine_op *op;
	struct ward_diag d;
	char sub[300], file[400], state_dir[300];
	FILE *f;

	(void)state;
	fresh(sub, sizeof(sub), "changed");
	snprintf(file, sizeof(file), "%s/evil", sub);
	snprintf(state_dir, sizeof(state_dir), "%s/state-changed", dir);
	put(file, "detected", 8, 0644);
	assert_int_equal(quarantine_begin(state_dir, file, -1, "R", &op, &d), 0);
	f = fopen(file, "ab");
	assert_non_null(f);
	fputs(" and more", f);
	fclose(f);
	assert_int_equal(quarantine_commit(op, &e, &d), WARD_EIO);
	assert_non_null(strstr(d.msg, "changed"));
	assert_true(holds(file, "detected and more", 17));
	assert_int_equal(stored(state_dir), 0);
	/* A chmod (download, then chmod +x) is no reason to leave it: the
	 * record gets the new mode. */
	assert_int_equal(quarantine_begin(state_dir, file, -1, "R", &op, &d), 0);
	assert_int_equal(chmod(file, 0755), 0);
	assert_int_equal(quarantine_commit(op, &e, &d), 0);
	assert_int_equal(access(file, F_OK), -1);
	assert_int_equal(e.mode, 0755);
	assert_int_equal(quarantine_restore(state_dir, e.id, NULL, &r, &d), 0);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_true(holds(file, "detected and more", 17));
}

/*
 * The attack on removal: between the stored copy and the removal, the user
 * who owns the directory renames it away and puts in its place a symbolic
 * link to a directory of root holding a file of the same name (think
 * /etc/shadow).  The victim must survive; the detected file stays where
 * the user moved it; nothing stays in the store.  Then the same with a
 * real directory in its place.
 */
static void
test_directory_swapped_during_quarantine(void **state)
{
	struct quarantine_entry e;
	struct quarantine_op *op;
	struct ward_diag d;
	char user[300], victim[300], file[400], moved[400], vfile[400], state_dir[300];
	int round;

	(void)state;
	fresh(victim, sizeof(victim), "etc");
	snprintf(vfile, sizeof(vfile), "%s/shadow", victim);
	put(vfile, "root:secret", 11, 0600);
	snprintf(state_dir, sizeof(state_dir), "%s/state-swap-dir", dir);
	for (round = 0; round < 2; round++) {
		snprintf(user, sizeof(user), "%s/home%d", dir, round);
		assert_int_equal(mkdir(user, 0755), 0);
		snprintf(file, sizeof(file), "%s/shadow", user);
		snprintf(moved, sizeof(moved), "%s.moved/shadow", user);
		put(file, "detected", 8, 0644);
		assert_int_equal(quarantine_begin(state_dir, file, -1, "R", &op, &d), 0);
		snprintf(vfile, sizeof(vfile), "%s.moved", user);
		assert_int_equal(rename(user, vfile), 0);
		if (round == 0) {
			assert_int_equal(symlink(victim, user), 0);
		} else {
			assert_int_equal(mkdir(user, 0755), 0);
			put(file, "look-alike", 10, 0644);
		}
		assert_int_equal(quarantine_commit(op, &e, &d), WARD_EIO);
		assert_non_null(strstr(d.msg, "directory was moved or replaced"));
		snprintf(vfile, sizeof(vfile), "%s/shadow", victim);
		assert_true(holds(vfile, "root:secret", 11));
		assert_true(holds(moved, "detected", 8));
		if (round == 1)
			assert_true(holds(file, "look-alike", 10));
		assert_int_equal(stored(state_dir), 0);
	}
	/* Quarantine through a path with a symbolic link on it: refused. */
	snprintf(file, sizeof(file), "%s/home0/shadow", dir);
	assert_int_equal(quarantine_file(state_dir, file, -1, "R", &e, &d), WARD_EIO);
	assert_non_null(strstr(d.msg, "symbolic link"));
	assert_true(holds(vfile, "root:secret", 11));
}

/*
 * The attack on restore: the user replaces the original directory (round
 * 0) or one above it (round 1) by a symbolic link to a directory of root
 * (think /etc and ld.so.preload).  Nothing may be created there; the entry
 * stays; --to puts the file elsewhere.
 */
static void
test_restore_through_symlink_refused(void **state)
{
	struct quarantine_entry e, r;
	struct ward_diag d;
	char top[300], sub[400], file[500], real[400], alt[300], target[400], state_dir[300];
	int round;

	(void)state;
	snprintf(state_dir, sizeof(state_dir), "%s/state-restore-link", dir);
	fresh(alt, sizeof(alt), "alt");
	snprintf(target, sizeof(target), "%s/dl", alt);
	assert_int_equal(mkdir(target, 0755), 0);
	for (round = 0; round < 2; round++) {
		snprintf(top, sizeof(top), "%s/user%d", dir, round);
		snprintf(sub, sizeof(sub), "%s/dl", top);
		snprintf(file, sizeof(file), "%s/ld.so.preload", sub);
		assert_int_equal(mkdir(top, 0755), 0);
		assert_int_equal(mkdir(sub, 0755), 0);
		put(file, "/home/user/evil.so", 18, 0644);
		assert_int_equal(quarantine_file(state_dir, file, -1, "R", &e, &d), 0);
		if (round == 0) { /* user0/dl -> alt/dl */
			snprintf(real, sizeof(real), "%s/dl.real", top);
			assert_int_equal(rename(sub, real), 0);
			assert_int_equal(symlink(target, sub), 0);
		} else { /* user1 -> alt, so user1/dl is alt/dl */
			snprintf(real, sizeof(real), "%s.real/dl", top);
			snprintf(file, sizeof(file), "%s.real", top);
			assert_int_equal(rename(top, file), 0);
			assert_int_equal(symlink(alt, top), 0);
		}
		assert_int_equal(quarantine_restore(state_dir, e.id, NULL, &r, &d), WARD_EINVAL);
		assert_non_null(strstr(d.msg, "symbolic link"));
		assert_non_null(strstr(d.msg, "--to DIR"));
		assert_int_equal(entries(target), 0);
		assert_int_equal(stored(state_dir), 1);
		/* --to a path with a link on it: refused too. */
		assert_int_equal(quarantine_restore(state_dir, e.id, sub, &r, &d), WARD_EINVAL);
		assert_int_equal(entries(target), 0);
		/* --to needs an absolute path. */
		assert_int_equal(quarantine_restore(state_dir, e.id, "dl", &r, &d), WARD_EINVAL);
		assert_int_equal(stored(state_dir), 1);
		/* --to a directory without links: done. */
		assert_int_equal(quarantine_restore(state_dir, e.id, real, &r, &d), 0);
		snprintf(file, sizeof(file), "%s/ld.so.preload", real);
		assert_string_equal(r.path, file);
		assert_true(holds(file, "/home/user/evil.so", 18));
		assert_int_equal(stored(state_dir), 0);
		assert_int_equal(entries(target), 0);
	}
}

/* A directory others can write (or someone else owns) is refused. */
static void
test_restore_into_shared_directory_refused(void **state)
{
	static const mode_t modes[] = {0775, 0757, 01777};
	struct quarantine_entry e, r;
	struct ward_diag d;
	char sub[300], file[400], state_dir[300], rec[500], *text;
	size_t i;
	FILE *f;
	long n;

	(void)state;
	fresh(sub, sizeof(sub), "shared");
	snprintf(file, sizeof(file), "%s/evil", sub);
	snprintf(state_dir, sizeof(state_dir), "%s/state-shared", dir);
	put(file, "detected", 8, 0644);
	assert_int_equal(quarantine_file(state_dir, file, -1, "R", &e, &d), 0);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(chmod(sub, modes[i]), 0);
		assert_int_equal(quarantine_restore(state_dir, e.id, NULL, &r, &d), WARD_EINVAL);
		assert_non_null(strstr(d.msg, "writable by"));
		assert_non_null(strstr(d.msg, modes[i] & S_IWOTH ? "others" : "its group"));
		assert_int_equal(entries(sub), 0);
		assert_int_equal(stored(state_dir), 1);
	}
	assert_int_equal(chmod(sub, 0755), 0);
	/*
	 * Owned by neither root nor the file's owner.  As root: give the
	 * directory away; otherwise: say in the record that the file was
	 * someone else's.
	 */
	if (geteuid() == 0) {
		assert_int_equal(chown(sub, 12345, 12345), 0);
	} else {
		snprintf(rec, sizeof(rec), "%s/quarantine/%s.json", state_dir, e.id);
		f = fopen(rec, "rb");
		assert_non_null(f);
		text = calloc(1, 8192);
		n = (long)fread(text, 1, 8191, f);
		fclose(f);
		assert_true(n > 0);
		snprintf(strstr(text, "\"uid\": ") + 7, 8192, "12345%s",
			 strchr(strstr(text, "\"uid\": "), ','));
		f = fopen(rec, "wb");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
		free(text);
	}
	assert_int_equal(quarantine_restore(state_dir, e.id, NULL, &r, &d), WARD_EINVAL);
	assert_non_null(strstr(d.msg, "belongs to uid"));
	assert_int_equal(entries(sub), 0);
	assert_int_equal(stored(state_dir), 1);
	if (geteuid() == 0) {
		assert_int_equal(chown(sub, 0, 0), 0);
		assert_int_equal(quarantine_restore(state_dir, e.id, NULL, &r, &d), 0);
		assert_true(holds(file, "detected", 8));
	}
}

/* A restore into a missing directory says so. */
static void
test_restore_missing_directory(void **state)
{
	struct quarantine_entry e, r;
	struct ward_diag d;
	char sub[300], file[400], state_dir[300];

	(void)state;
	fresh(sub, sizeof(sub), "gone");
	snprintf(file, sizeof(file), "%s/evil", sub);
	snprintf(state_dir, sizeof(state_dir), "%s/state-gone", dir);
	put(file, "detected", 8, 0644);
	assert_int_equal(quarantine_file(state_dir, file, -1, "R", &e, &d), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(quarantine_restore(state_dir, e.id, NULL, &r, &d), WARD_EINVAL);
	assert_non_null(strstr(d.msg, "does not exist"));
	assert_int_equal(stored(state_dir), 1);
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
			assert_int_equal(
			    quarantine_restore(q[i].state_dir, q[i].e.id, NULL, &r, &d), 0);
	}
}

/*
 * In a child whose openat2 answers ENOSYS (a kernel before 5.6, or a
 * seccomp profile that does not know it): the component-by-component
 * fallback must refuse the same links.  Returns 0, or the failed step.
 */
static int
without_openat2(const char *base)
{
	struct quarantine_entry e, r;
	struct quarantine_op *op;
	struct ward_diag d;
	char sub[300], real[300], target[300], file[400], victim[400], moved[400], state_dir[300];
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (ctx == NULL ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0) != 0 ||
	    seccomp_load(ctx) != 0)
		return 1;
	seccomp_release(ctx);
	if (syscall(SYS_openat2, AT_FDCWD, "/", NULL, 0) != -1 || errno != ENOSYS)
		return 2;
	snprintf(sub, sizeof(sub), "%s/dl", base);
	snprintf(real, sizeof(real), "%s/dl.real", base);
	snprintf(target, sizeof(target), "%s/etc", base);
	snprintf(file, sizeof(file), "%s/evil", sub);
	snprintf(moved, sizeof(moved), "%s/evil", real);
	snprintf(victim, sizeof(victim), "%s/evil", target);
	snprintf(state_dir, sizeof(state_dir), "%s/state", base);
	if (mkdir(base, 0755) != 0 || mkdir(sub, 0755) != 0 || mkdir(target, 0755) != 0)
		return 3;
	put(file, "detected", 8, 0644);
	put(victim, "root-victim", 11, 0600);
	/* The directory swapped for a link to root's during the quarantine. */
	if (quarantine_begin(state_dir, file, -1, "R", &op, &d) != 0 || rename(sub, real) != 0 ||
	    symlink(target, sub) != 0)
		return 4;
	if (quarantine_commit(op, &e, &d) != WARD_EIO || !holds(victim, "root-victim", 11) ||
	    !holds(moved, "detected", 8) || stored(state_dir) != 0)
		return 5;
	/* A quarantine through the link is refused. */
	if (quarantine_file(state_dir, file, -1, "R", &e, &d) != WARD_EIO ||
	    strstr(d.msg, "symbolic link") == NULL || !holds(victim, "root-victim", 11))
		return 6;
	/* Quarantined for real, then the restore through a link is refused. */
	if (unlink(sub) != 0 || rename(real, sub) != 0 ||
	    quarantine_file(state_dir, file, -1, "R", &e, &d) != 0 || rename(sub, real) != 0 ||
	    symlink(target, sub) != 0)
		return 7;
	if (quarantine_restore(state_dir, e.id, NULL, &r, &d) != WARD_EINVAL ||
	    strstr(d.msg, "symbolic link") == NULL || entries(target) != 1 ||
	    !holds(victim, "root-victim", 11) || stored(state_dir) != 1)
		return 8;
	if (quarantine_restore(state_dir, e.id, real, &r, &d) != 0 || !holds(moved, "detected", 8))
		return 9;
	return 0;
}

static void
test_without_openat2(void **state)
{
	char base[300];
	pid_t pid;
	int status;

	(void)state;
	snprintf(base, sizeof(base), "%s/no-openat2", dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(without_openat2(base));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_bad_paths),
	    cmocka_unit_test(test_replaced_file_not_taken),
	    cmocka_unit_test(test_replaced_between_store_and_removal),
	    cmocka_unit_test(test_changed_during_quarantine),
	    cmocka_unit_test(test_directory_swapped_during_quarantine),
	    cmocka_unit_test(test_restore_through_symlink_refused),
	    cmocka_unit_test(test_restore_into_shared_directory_refused),
	    cmocka_unit_test(test_restore_missing_directory),
	    cmocka_unit_test(test_first_use_race),
	    cmocka_unit_test(test_without_openat2),
	};
	char cmd[128];
	int r;

	if (mkdtemp(dir) == NULL)
		return 1;
	r = unit_run_group(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		r = 1;
	return r;
}
