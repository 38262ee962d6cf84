/*
 * Unit tests of lib/util/file: file_replace writes the new content whole,
 * with the mode asked, owned by the caller; it never opens, follows,
 * writes or removes a name someone made beforehand — the old predictable
 * NAME.tmp.PID, a symbolic link, a file of another user, or the very
 * random name it is about to draw (getrandom is wrapped at link time so a
 * test can choose the draws); FILE_NOREPLACE never writes over anything;
 * a failure leaves no temporary file.  file_dir_open refuses a directory
 * that is not the owner's alone, or one under a directory others could
 * write in, and says which, who owns it, its mode and the fix.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

#include "util/file.h"
#include "util/limits.h"

/* --- getrandom, scripted ------------------------------------------------- */

ssize_t __real_getrandom(void *buf, size_t n, unsigned flags);
ssize_t __wrap_getrandom(void *buf, size_t n, unsigned flags);

static uint64_t script[64];
static unsigned nscript, used;

ssize_t
__wrap_getrandom(void *buf, size_t n, unsigned flags)
{
	if (used < nscript && n == sizeof(uint64_t)) {
		memcpy(buf, &script[used++], n);
		return (ssize_t)n;
	}
	return __real_getrandom(buf, n, flags);
}

static void
draws(const uint64_t *v, unsigned n)
{
	if (n > 0)
		memcpy(script, v, n * sizeof(v[0]));
	nscript = n;
	used = 0;
}

/* --- helpers --------------------------------------------------------------- */

#define OTHER_UID 65534 /* nobody */

struct tdir {
	char path[64];
	int fd;
};

static void
tdir_make(struct tdir *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/ward-test-file-XXXXXX");
	assert_non_null(mkdtemp(t->path));
	t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(t->fd >= 0);
}

static void
tdir_remove(struct tdir *t)
{
	DIR *dp = opendir(t->path);
	struct dirent *de;
	char p[600];

	assert_non_null(dp);
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", t->path, de->d_name);
		if (unlink(p) != 0)
			assert_int_equal(rmdir(p), 0);
	}
	closedir(dp);
	close(t->fd);
	assert_int_equal(rmdir(t->path), 0);
}

/* Entries of the directory (without . and ..). */
static unsigned
entries(const struct tdir *t)
{
	DIR *dp = opendir(t->path);
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(dp);
	while ((de = readdir(dp)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(dp);
	return n;
}

static void
put(const struct tdir *t, const char *name, const char *text, mode_t mode)
{
	int fd = openat(t->fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0); /* past the umask: a planted file's own mode */
	close(fd);
}

/* A file planted by someone else: another user's when we are root. */
static void
plant_file(const struct tdir *t, const char *name)
{
	put(t, name, "planted\n", 0666);
	if (geteuid() == 0)
		assert_int_equal(fchownat(t->fd, name, OTHER_UID, OTHER_UID, AT_SYMLINK_NOFOLLOW),
				 0);
}

static void
plant_link(const struct tdir *t, const char *name, const char *target)
{
	assert_int_equal(symlinkat(target, t->fd, name), 0);
	if (geteuid() == 0)
		assert_int_equal(fchownat(t->fd, name, OTHER_UID, OTHER_UID, AT_SYMLINK_NOFOLLOW),
				 0);
}

static void
assert_content(const struct tdir *t, const char *name, const char *text)
{
	char buf[256];
	ssize_t k;
	int fd = openat(t->fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	assert_true(fd >= 0);
	k = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(k >= 0);
	buf[k] = '\0';
	assert_string_equal(buf, text);
}

/* The planted file is as it was: same inode, owner, mode and bytes. */
static void
assert_planted_file(const struct tdir *t, const char *name, const struct stat *before)
{
	struct stat st;

	assert_int_equal(fstatat(t->fd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_ino, before->st_ino);
	assert_int_equal(st.st_uid, before->st_uid);
	assert_int_equal(st.st_mode, before->st_mode);
	assert_int_equal(st.st_size, 8);
	assert_content(t, name, "planted\n");
}

/* name: the caller's, regular, mode, content text. */
static void
assert_ours(const struct tdir *t, const char *name, mode_t mode, const char *text)
{
	struct stat st;

	assert_int_equal(fstatat(t->fd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, mode);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(st.st_nlink, 1);
	assert_content(t, name, text);
}

static void
tmp_name(char *out, size_t outlen, const char *name, uint64_t v)
{
	snprintf(out, outlen, "%s.tmp.%016llx", name, (unsigned long long)v);
}

/* --- file_replace ---------------------------------------------------------- */

static void
test_replace(void **state)
{
	struct tdir t;
	struct ward_diag d;
	char path[128];
	mode_t old = umask(0);

	(void)state;
	tdir_make(&t);
	snprintf(path, sizeof(path), "%s/state.json", t.path);
	assert_int_equal(file_replace(path, "one\n", 4, 0600, &d), 0);
	assert_ours(&t, "state.json", 0600, "one\n");
	assert_int_equal(file_replace(path, "two, longer\n", 12, 0644, &d), 0);
	assert_ours(&t, "state.json", 0644, "two, longer\n");
	assert_int_equal(file_replace(path, "", 0, 0600, &d), 0);
	assert_ours(&t, "state.json", 0600, "");
	assert_int_equal(entries(&t), 1); /* no temporary file left */
	umask(077);
	assert_int_equal(file_replace(path, "x", 1, 0644, &d), 0);
	assert_ours(&t, "state.json", 0600, "x"); /* the umask applies */
	umask(old);
	/* A missing directory: an error naming the path. */
	diag_clear(&d);
	assert_int_equal(file_replace("/nonexistent-ward-dir/x", "x", 1, 0600, &d), WARD_EIO);
	assert_string_equal(d.file, "/nonexistent-ward-dir/x");
	tdir_remove(&t);
}

/* The old scheme's names, NAME.tmp.PID, planted as another user's file
 * and as symbolic links to a file of ours: none is opened or changed. */
static void
test_old_predictable_names(void **state)
{
	struct tdir t;
	struct ward_diag d;
	struct stat planted, victim;
	char path[128], name[64], victim_path[128];
	mode_t old = umask(0);

	(void)state;
	tdir_make(&t);
	put(&t, "victim", "victim\n", 0600);
	snprintf(victim_path, sizeof(victim_path), "%s/victim", t.path);
	assert_int_equal(fstatat(t.fd, "victim", &victim, 0), 0);
	snprintf(name, sizeof(name), "ca.key.tmp.%ld", (long)getpid());
	plant_file(&t, name);
	assert_int_equal(fstatat(t.fd, name, &planted, AT_SYMLINK_NOFOLLOW), 0);
	snprintf(name, sizeof(name), "server.key.tmp.%ld", (long)getpid());
	plant_link(&t, name, victim_path);

	snprintf(path, sizeof(path), "%s/ca.key", t.path);
	assert_int_equal(file_replace(path, "secret\n", 7, 0600, &d), 0);
	assert_ours(&t, "ca.key", 0600, "secret\n");
	snprintf(path, sizeof(path), "%s/server.key", t.path);
	assert_int_equal(file_replace(path, "secret\n", 7, 0600, &d), 0);
	assert_ours(&t, "server.key", 0600, "secret\n");

	snprintf(name, sizeof(name), "ca.key.tmp.%ld", (long)getpid());
	assert_planted_file(&t, name, &planted);
	assert_content(&t, "victim", "victim\n");
	assert_int_equal(stat(victim_path, &planted), 0);
	assert_int_equal(planted.st_mode, victim.st_mode);
	assert_int_equal(entries(&t), 5); /* victim, 2 planted, 2 keys */
	umask(old);
	tdir_remove(&t);
}

/* The target itself a symbolic link: replaced, never written through. */
static void
test_target_symlink_replaced(void **state)
{
	struct tdir t;
	struct ward_diag d;
	char path[128], victim_path[128];

	(void)state;
	tdir_make(&t);
	put(&t, "victim", "victim\n", 0600);
	snprintf(victim_path, sizeof(victim_path), "%s/victim", t.path);
	plant_link(&t, "admin.token", victim_path);
	snprintf(path, sizeof(path), "%s/admin.token", t.path);
	assert_int_equal(file_replace(path, "token\n", 6, 0600, &d), 0);
	assert_ours(&t, "admin.token", 0600, "token\n");
	assert_content(&t, "victim", "victim\n");
	tdir_remove(&t);
}

/* The very name about to be drawn, made beforehand (another user's file,
 * then a symbolic link): another name is drawn, the planted one is left
 * alone, and the result is ours with the mode asked. */
static void
test_drawn_name_taken(void **state)
{
	static const uint64_t v[] = {0x1111111111111111ull, 0x2222222222222222ull,
				     0x3333333333333333ull, 0x4444444444444444ull};
	struct tdir t;
	struct ward_diag d;
	struct stat planted;
	char name[96], victim_path[128];
	mode_t old = umask(0);

	(void)state;
	tdir_make(&t);
	put(&t, "victim", "victim\n", 0644);
	snprintf(victim_path, sizeof(victim_path), "%s/victim", t.path);

	tmp_name(name, sizeof(name), "ca.key", v[0]);
	plant_file(&t, name);
	assert_int_equal(fstatat(t.fd, name, &planted, AT_SYMLINK_NOFOLLOW), 0);
	draws(v, 2);
	assert_int_equal(file_replace_at(t.fd, "ca.key", "key\n", 4, 0600, 0, &d), 0);
	assert_int_equal(used, 2); /* the wrap was used: the first draw was taken */
	assert_ours(&t, "ca.key", 0600, "key\n");
	assert_planted_file(&t, name, &planted);
	tmp_name(name, sizeof(name), "ca.key", v[1]);
	assert_int_equal(faccessat(t.fd, name, F_OK, AT_SYMLINK_NOFOLLOW), -1);

	tmp_name(name, sizeof(name), "server.key", v[2]);
	plant_link(&t, name, victim_path);
	draws(v + 2, 2);
	assert_int_equal(file_replace_at(t.fd, "server.key", "key\n", 4, 0600, 0, &d), 0);
	assert_int_equal(used, 2);
	assert_ours(&t, "server.key", 0600, "key\n");
	assert_content(&t, "victim", "victim\n");
	assert_int_equal(fstatat(t.fd, name, &planted, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISLNK(planted.st_mode));

	assert_int_equal(entries(&t), 5);
	draws(NULL, 0);
	umask(old);
	tdir_remove(&t);
}

/* Every draw taken: it gives up (WARD_EIO) after WARD_MAX_TMP_TRIES,
 * never reusing a name, and the target is as it was. */
static void
test_all_draws_taken(void **state)
{
	uint64_t v[WARD_MAX_TMP_TRIES];
	struct tdir t;
	struct ward_diag d;
	struct stat planted;
	char name[96];
	unsigned i;
	mode_t old = umask(0);

	(void)state;
	tdir_make(&t);
	put(&t, "state.json", "old\n", 0600);
	for (i = 0; i < WARD_MAX_TMP_TRIES; i++)
		v[i] = 0xabcdef0000000000ull + i;
	for (i = 0; i < WARD_MAX_TMP_TRIES; i++) {
		tmp_name(name, sizeof(name), "state.json", v[i]);
		plant_file(&t, name);
	}
	tmp_name(name, sizeof(name), "state.json", v[0]);
	assert_int_equal(fstatat(t.fd, name, &planted, AT_SYMLINK_NOFOLLOW), 0);
	draws(v, WARD_MAX_TMP_TRIES);
	diag_clear(&d);
	assert_int_equal(file_replace_at(t.fd, "state.json", "new\n", 4, 0600, 0, &d), WARD_EIO);
	assert_int_equal(used, WARD_MAX_TMP_TRIES);
	assert_non_null(strstr(d.msg, "temporary file"));
	assert_content(&t, "state.json", "old\n");
	assert_planted_file(&t, name, &planted);
	assert_int_equal(entries(&t), 1 + WARD_MAX_TMP_TRIES);
	draws(NULL, 0);
	umask(old);
	tdir_remove(&t);
}

/* FILE_NOREPLACE: a file, or a dangling symbolic link, in place is left as
 * it was, and the temporary file is gone. */
static void
test_noreplace(void **state)
{
	struct tdir t;
	struct ward_diag d;
	struct stat planted;
	char victim_path[128];
	mode_t old = umask(0);

	(void)state;
	tdir_make(&t);
	assert_int_equal(file_replace_at(t.fd, "server.yaml", "a\n", 2, 0600, FILE_NOREPLACE, &d),
			 0);
	assert_ours(&t, "server.yaml", 0600, "a\n");
	diag_clear(&d);
	assert_int_equal(file_replace_at(t.fd, "server.yaml", "b\n", 2, 0600, FILE_NOREPLACE, &d),
			 WARD_EDUPLICATE);
	assert_string_equal(d.file, "server.yaml");
	assert_ours(&t, "server.yaml", 0600, "a\n");

	plant_file(&t, "ca.key");
	assert_int_equal(fstatat(t.fd, "ca.key", &planted, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(file_replace_at(t.fd, "ca.key", "key\n", 4, 0600, FILE_NOREPLACE, &d),
			 WARD_EDUPLICATE);
	assert_planted_file(&t, "ca.key", &planted);

	snprintf(victim_path, sizeof(victim_path), "%s/not-yet", t.path);
	plant_link(&t, "server.key", victim_path);
	assert_int_equal(file_replace_at(t.fd, "server.key", "key\n", 4, 0600, FILE_NOREPLACE, &d),
			 WARD_EDUPLICATE);
	assert_int_equal(faccessat(t.fd, "not-yet", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(entries(&t), 3);
	umask(old);
	tdir_remove(&t);
}

/* A rename that fails (a directory in the target's place): WARD_EIO, and
 * only our temporary file is removed. */
static void
test_failure_removes_only_ours(void **state)
{
	struct tdir t;
	struct ward_diag d;

	(void)state;
	tdir_make(&t);
	assert_int_equal(mkdirat(t.fd, "busy", 0700), 0);
	assert_int_equal(mkdirat(t.fd, "busy/inside", 0700), 0);
	diag_clear(&d);
	assert_int_equal(file_replace_at(t.fd, "busy", "x", 1, 0600, 0, &d), WARD_EIO);
	assert_non_null(strstr(d.msg, "cannot rename"));
	assert_int_equal(entries(&t), 1);
	assert_int_equal(unlinkat(t.fd, "busy/inside", AT_REMOVEDIR), 0);
	/* Not one path component: refused before anything is made. */
	assert_int_equal(file_replace_at(t.fd, "busy/x", "x", 1, 0600, 0, &d), WARD_EINVAL);
	assert_int_equal(file_replace_at(t.fd, "..", "x", 1, 0600, 0, &d), WARD_EINVAL);
	assert_int_equal(file_replace_at(t.fd, "", "x", 1, 0600, 0, &d), WARD_EINVAL);
	assert_int_equal(file_replace_at(-1, "x", "x", 1, 0600, 0, &d), WARD_EIO);
	tdir_remove(&t);
}

/* A long name: the temporary name is cut to fit NAME_MAX, and works. */
static void
test_long_name(void **state)
{
	struct tdir t;
	struct ward_diag d;
	char name[256];

	(void)state;
	tdir_make(&t);
	memset(name, 'n', 255);
	name[255] = '\0';
	assert_int_equal(file_replace_at(t.fd, name, "x", 1, 0600, 0, &d), 0);
	assert_int_equal(entries(&t), 1);
	tdir_remove(&t);
}

/* --- file_dir_open --------------------------------------------------------- */

static void
test_dir_open(void **state)
{
	struct tdir t;
	struct ward_diag d;
	struct stat st;
	char path[160], above[128];
	int fd;

	(void)state;
	tdir_make(&t);
	/* Made when missing, 0700, and ours. */
	snprintf(path, sizeof(path), "%s/state", t.path);
	assert_int_equal(file_dir_open(path, 1, geteuid(), &fd, &d), 0);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	close(fd);
	/* Not made without create. */
	snprintf(path, sizeof(path), "%s/missing", t.path);
	assert_int_equal(file_dir_open(path, 0, geteuid(), &fd, &d), WARD_EIO);
	assert_int_equal(fd, -1);
	assert_int_equal(faccessat(t.fd, "missing", F_OK, 0), -1);

	/* Writable by others, or by the group: refused, saying which, its
	 * mode, and the fix. */
	snprintf(path, sizeof(path), "%s/state", t.path);
	assert_int_equal(chmod(path, 0777), 0);
	diag_clear(&d);
	assert_int_equal(file_dir_open(path, 1, geteuid(), &fd, &d), WARD_EINVAL);
	assert_int_equal(fd, -1);
	assert_string_equal(d.file, path);
	assert_non_null(strstr(d.msg, "mode 0777"));
	assert_non_null(strstr(d.msg, "chmod go-w"));
	assert_int_equal(chmod(path, 0770), 0);
	assert_int_equal(file_dir_open(path, 1, geteuid(), &fd, &d), WARD_EINVAL);
	assert_int_equal(chmod(path, 01777), 0); /* sticky does not help the directory itself */
	assert_int_equal(file_dir_open(path, 1, geteuid(), &fd, &d), WARD_EINVAL);
	assert_int_equal(chmod(path, 0755), 0);
	assert_int_equal(file_dir_open(path, 1, geteuid(), &fd, &d), 0);
	close(fd);

	/* Another owner: refused, naming the owner. */
	assert_int_equal(file_dir_open(path, 1, geteuid() + 4242, &fd, &d), WARD_EINVAL);
	assert_non_null(strstr(d.msg, "owned by"));
	assert_non_null(strstr(d.msg, "chown"));
	if (geteuid() == 0) {
		assert_int_equal(chown(path, OTHER_UID, OTHER_UID), 0);
		diag_clear(&d);
		assert_int_equal(file_dir_open(path, 1, 0, &fd, &d), WARD_EINVAL);
		assert_non_null(strstr(d.msg, "uid 65534"));
		assert_int_equal(chown(path, 0, 0), 0);
	}

	/* A directory above it that others can write in (no sticky bit):
	 * refused, naming that directory; with the sticky bit, as /tmp: fine. */
	assert_int_equal(chmod(t.path, 0777), 0);
	diag_clear(&d);
	assert_int_equal(file_dir_open(path, 1, geteuid(), &fd, &d), WARD_EINVAL);
	assert_string_equal(d.file, path);
	snprintf(above, sizeof(above), "%s above it", t.path);
	assert_non_null(strstr(d.msg, above));
	assert_int_equal(chmod(t.path, 01777), 0);
	assert_int_equal(file_dir_open(path, 1, geteuid(), &fd, &d), 0);
	close(fd);
	assert_int_equal(chmod(t.path, 0700), 0);

	/* A symbolic link on the path: fine if it is ours (or root's), refused
	 * if another user's, who could point it elsewhere next time. */
	assert_int_equal(symlinkat("state", t.fd, "link"), 0);
	snprintf(path, sizeof(path), "%s/link", t.path);
	assert_int_equal(file_dir_open(path, 1, geteuid(), &fd, &d), 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/link/", t.path);
	assert_int_equal(file_dir_open(path, 1, geteuid(), &fd, &d), 0);
	close(fd);
	if (geteuid() == 0) {
		assert_int_equal(fchownat(t.fd, "link", OTHER_UID, OTHER_UID, AT_SYMLINK_NOFOLLOW),
				 0);
		diag_clear(&d);
		assert_int_equal(file_dir_open(path, 1, 0, &fd, &d), WARD_EINVAL);
		assert_non_null(strstr(d.msg, "symbolic link owned by"));
	}
	/* Not a directory. */
	put(&t, "file", "x", 0600);
	snprintf(path, sizeof(path), "%s/file", t.path);
	assert_int_equal(file_dir_open(path, 1, geteuid(), &fd, &d), WARD_EIO);
	tdir_remove(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_replace),
	    cmocka_unit_test(test_old_predictable_names),
	    cmocka_unit_test(test_target_symlink_replaced),
	    cmocka_unit_test(test_drawn_name_taken),
	    cmocka_unit_test(test_all_draws_taken),
	    cmocka_unit_test(test_noreplace),
	    cmocka_unit_test(test_failure_removes_only_ours),
	    cmocka_unit_test(test_long_name),
	    cmocka_unit_test(test_dir_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
