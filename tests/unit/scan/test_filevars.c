/*
 * Unit tests of lib/scan/filevars: LOKI's extension (Python's splitext,
 * lower case), the file type from the first bytes in LOKI's order, the
 * absolute directory and name of a path, which externals a rule set gets
 * per file (declared, read by a rule, not fixed by -d, strings only), the
 * values for a real file (owner by name, or uid), and allocation failures.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "rules/compile.h"
#include "scan/filevars.h"
#include "util/alloc.h"

static const char *
ext(const char *name)
{
	static char out[300];

	filevars_extension(name, out, sizeof(out));
	return out;
}

static void
test_extension(void **state)
{
	char small[4];

	(void)state;
	assert_string_equal(ext("cmd.exe"), ".exe");
	assert_string_equal(ext("Photo.JPEG"), ".jpeg");
	assert_string_equal(ext("a.tar.gz"), ".gz");
	assert_string_equal(ext("noext"), "");
	assert_string_equal(ext(".bashrc"), ""); /* leading dots are the name's */
	assert_string_equal(ext("..x"), "");
	assert_string_equal(ext("...a.B"), ".b");
	assert_string_equal(ext("a."), ".");
	assert_string_equal(ext("a.b."), ".");
	assert_string_equal(ext(""), "");
	assert_string_equal(ext("x.\xc3\x89XE"), ".\xc3\x89xe"); /* ASCII lowered only */
	/* cut to fit */
	assert_int_equal(filevars_extension("a.long", small, sizeof(small)), 3);
	assert_string_equal(small, ".lo");
}

static const char *
ftype(const char *bytes, size_t n)
{
	return filevars_filetype((const uint8_t *)bytes, n);
}

static void
test_filetype(void **state)
{
	(void)state;
	assert_string_equal(ftype("MZ\x90\x00", 4), "EXE");
	assert_string_equal(ftype("\x7f"
				  "ELF\x02",
				  5),
			    "ELF");
	assert_string_equal(ftype("%PDF-1.7", 8), "PDF");
	assert_string_equal(ftype("<?php echo", 10), "PHP");
	assert_string_equal(ftype("PK\x03\x04\x14\x00\x06\x00", 8), "Office");
	assert_string_equal(ftype("PK\x03\x04\x0a\x00", 6), "ZIP");
	assert_string_equal(ftype("Rar!\x1a\x07\x00", 7), "RAR");
	assert_string_equal(ftype("{\\rtf1", 6), "RTF");
	assert_string_equal(ftype("MDMP\x93\xa7", 6), "MDMP");
	assert_string_equal(ftype("#!/bin/sh", 9), "UNIX SCRIPT");
	assert_string_equal(ftype("#!perl", 6), "Script");
	/* LOKI's order: the first signature in the file wins, not the longest */
	assert_string_equal(ftype("<%@ Page", 8), "JSP");
	assert_string_equal(ftype("@echo off", 9), "BATCH");
	assert_string_equal(ftype("echo hi", 7), "Batch");
	assert_string_equal(ftype("\xff\xfev\x00"
				  "a\x00r\x00",
				  8),
			    "UTF16-Encoded File LE");
	/* a signature listed twice keeps its first place and its last name */
	assert_string_equal(ftype("CWS\x0a", 4), "CWS");
	/* too short for any signature, empty, or unknown */
	assert_string_equal(ftype("M", 1), "UNKNOWN");
	assert_string_equal(ftype("", 0), "UNKNOWN");
	assert_string_equal(ftype("GIF89a", 6), "UNKNOWN");
	/* the longest signature needs exactly its 15 bytes */
	assert_string_equal(ftype("On Error Resume Next", 15), "VBS");
	assert_string_equal(ftype("On Error Resume Next", 14), "UNKNOWN");
	assert_true(FILEVARS_HEAD >= 15);
}

static void
split(const char *path, const char *cwd, const char *want_dir, const char *want_name)
{
	char *buf = NULL;
	size_t cap = 0;
	const char *dir = NULL, *name = NULL;

	assert_int_equal(filevars_split(path, cwd, &buf, &cap, &dir, &name), 0);
	assert_string_equal(dir, want_dir);
	assert_string_equal(name, want_name);
	ward_free(buf);
}

static void
test_split(void **state)
{
	(void)state;
	split("/etc/passwd", "/root", "/etc", "passwd");
	split("/x", "/root", "/", "x");
	split("a/b.txt", "/srv/www", "/srv/www/a", "b.txt");
	split("b.txt", "/srv", "/srv", "b.txt");
	split("./a/./b//c", "/home/u/", "/home/u/a/b", "c");
	split("//etc//hosts", NULL, "/etc", "hosts");
	split("../up/f", "/tmp/d", "/tmp/d/../up", "f"); /* links are not resolved */
	split("f", "/", "/", "f");
	/* no working directory known: the path as it is */
	split("a/b", NULL, "a", "b");
	split("b", "", "", "b");
	split("", NULL, "", "");
}

static struct ruleset *
compile(const char *const *defs, size_t ndefs, const char *src)
{
	struct rules_compiler *c = NULL;
	struct ruleset *rs = NULL;
	struct ward_diag d;
	size_t i;

	diag_clear(&d);
	assert_int_equal(rules_compiler_new(&c), 0);
	for (i = 0; i < ndefs; i++)
		assert_int_equal(rules_compiler_define(c, defs[i], &d), 0);
	if (rules_compiler_add_string(c, "t.yar", src, strlen(src), &d) != 0)
		fail_msg("compile: %d:%d: %s", d.line, d.col, d.msg);
	assert_int_equal(rules_compiler_finish(c, &rs, &d), 0);
	rules_compiler_free(c);
	return rs;
}

static const char *const all_decls[] = {
    "filename=", "filepath=", "extension=", "filetype=", "owner=", "other=", "score=5"};

static void
test_plan(void **state)
{
	struct ruleset *rs;
	struct filevars *fv = NULL;
	const char *fixed[] = {"filepath=/fixed", "owner=nobody"};

	(void)state;
	/* no externals at all */
	rs = compile(NULL, 0, "rule a { condition: true }");
	assert_int_equal(filevars_new(rs, NULL, 0, "/", &fv), 0);
	assert_null(fv);
	ruleset_free(rs);

	/* declared but read by no rule: nothing to do per file */
	rs = compile(all_decls, 7, "rule a { condition: other == \"x\" and score > 1 }");
	assert_int_equal(filevars_new(rs, NULL, 0, "/", &fv), 0);
	assert_null(fv);
	ruleset_free(rs);

	/* read: set per file, unless fixed by -d */
	rs = compile(all_decls, 7,
		     "private rule p { condition: filename == \"x\" }\n"
		     "rule a { strings: $a = \"abc\" condition: $a and p and filepath != \"\" }\n"
		     "rule b { condition: extension == \".exe\" or filetype == \"EXE\" or owner == "
		     "\"root\" }");
	assert_int_equal(filevars_new(rs, NULL, 0, "/", &fv), 0);
	assert_non_null(fv);
	assert_true(filevars_sets(fv, FILEVARS_FILENAME));
	assert_true(filevars_sets(fv, FILEVARS_FILEPATH));
	assert_true(filevars_sets(fv, FILEVARS_EXTENSION));
	assert_true(filevars_sets(fv, FILEVARS_FILETYPE));
	assert_true(filevars_sets(fv, FILEVARS_OWNER));
	filevars_free(fv);
	assert_int_equal(filevars_new(rs, fixed, 2, "/", &fv), 0);
	assert_non_null(fv);
	assert_true(filevars_sets(fv, FILEVARS_FILENAME));
	assert_false(filevars_sets(fv, FILEVARS_FILEPATH));
	assert_false(filevars_sets(fv, FILEVARS_OWNER));
	filevars_free(fv);
	ruleset_free(rs);

	/* an integer external of that name is the user's own, not ours */
	{
		const char *defs[] = {"owner=0"};

		rs = compile(defs, 1, "rule a { condition: owner == 0 }");
		assert_int_equal(filevars_new(rs, NULL, 0, "/", &fv), 0);
		assert_null(fv);
		ruleset_free(rs);
	}
	filevars_free(NULL);
	filevars_scratch_free(NULL);
	assert_string_equal(filevars_name(FILEVARS_FILETYPE), "filetype");
	assert_string_equal(filevars_decl(FILEVARS_OWNER), "owner=");
}

/* The value rs's external name has in ext. */
static const char *
value(const struct ruleset *rs, const struct rs_external *ext, const char *name)
{
	static char buf[4096];
	uint32_t i;

	for (i = 0; i < rs->next; i++)
		if (strcmp(rs->ext[i].name, name) == 0) {
			snprintf(buf, sizeof(buf), "%.*s", (int)ext[i].slen,
				 ext[i].s != NULL ? ext[i].s : "");
			assert_int_equal(strlen(buf), ext[i].slen);
			return buf;
		}
	fail_msg("no external %s", name);
	return NULL;
}

static void
test_values(void **state)
{
	struct ruleset *rs;
	struct filevars *fv = NULL;
	struct filevars_scratch *s = NULL;
	const struct rs_external *ext;
	char dir[] = "/tmp/ward_fv_XXXXXX", path[256], rel[256];
	struct stat st;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/Evil.PDF.Exe", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "MZ\x90\x00rest", 8), 8);
	assert_int_equal(lseek(fd, 3, SEEK_SET), 3);
	assert_int_equal(fstat(fd, &st), 0);

	rs =
	    compile(all_decls, 7,
		    "rule a { condition: filename != \"\" and filepath != \"\" and "
		    "extension != \"\" and filetype != \"\" and owner != \"\" and other == \"\" }");
	/* the rule set is shared: its own values must not change */
	assert_int_equal(filevars_new(rs, NULL, 0, dir, &fv), 0);
	assert_non_null(fv);
	assert_int_equal(filevars_scratch_new(fv, &s), 0);

	ext = filevars_set(s, path, fd, &st);
	assert_non_null(ext);
	assert_string_equal(value(rs, ext, "filename"), "Evil.PDF.Exe");
	assert_string_equal(value(rs, ext, "filepath"), dir);
	assert_string_equal(value(rs, ext, "extension"), ".exe");
	assert_string_equal(value(rs, ext, "filetype"), "EXE");
	assert_string_equal(value(rs, ext, "owner"), "root");
	assert_string_equal(value(rs, ext, "other"), "");
	assert_string_equal(value(rs, rs->ext, "filename"), "");
	/* pread: the offset stays where it was */
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 3);

	/* a relative path takes the working directory given */
	snprintf(rel, sizeof(rel), "./%s", "Evil.PDF.Exe");
	ext = filevars_set(s, rel, fd, &st);
	assert_string_equal(value(rs, ext, "filepath"), dir);
	assert_string_equal(value(rs, ext, "filename"), "Evil.PDF.Exe");

	/* an owner the user database does not know: the uid in decimal */
	st.st_uid = 4000123;
	ext = filevars_set(s, path, fd, &st);
	assert_string_equal(value(rs, ext, "owner"), "4000123");
	/* ... asked again: from the cache, the same */
	ext = filevars_set(s, path, fd, &st);
	assert_string_equal(value(rs, ext, "owner"), "4000123");
	st.st_uid = 0;
	ext = filevars_set(s, path, fd, &st);
	assert_string_equal(value(rs, ext, "owner"), "root");

	/* the owner's value given (by `ward scan`'s walker, for its sandboxed
	 * scanner): used as it is, whatever st says; NULL: looked up */
	st.st_uid = (uid_t)-1;
	ext = filevars_set_owner(s, path, fd, &st, "www-data");
	assert_string_equal(value(rs, ext, "owner"), "www-data");
	assert_string_equal(value(rs, ext, "filename"), "Evil.PDF.Exe");
	st.st_uid = 0;
	ext = filevars_set_owner(s, path, fd, &st, NULL);
	assert_string_equal(value(rs, ext, "owner"), "root");
	assert_string_equal(filevars_owner(s, 0), "root");
	assert_string_equal(filevars_owner(s, 4000124), "4000124");

	/* an empty file has no type */
	assert_int_equal(ftruncate(fd, 0), 0);
	ext = filevars_set(s, path, fd, &st);
	assert_string_equal(value(rs, ext, "filetype"), "UNKNOWN");

	filevars_scratch_free(s);
	filevars_free(fv);
	ruleset_free(rs);
	close(fd);
	unlink(path);
	rmdir(dir);
}

/* Every allocation of the plan, the scratch and a long path fails in turn. */
static void
test_alloc_failures(void **state)
{
	struct ruleset *rs;
	struct filevars *fv = NULL;
	struct filevars_scratch *s = NULL;
	struct stat st;
	char longpath[3000];
	unsigned long n, i;
	int r;

	(void)state;
	memset(&st, 0, sizeof(st));
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	rs = compile(all_decls, 7, "rule a { condition: filename == \"x\" and filepath == \"y\" }");
	alloc_fail_after(0);
	assert_int_equal(filevars_new(rs, NULL, 0, "/cwd", &fv), 0);
	assert_int_equal(filevars_scratch_new(fv, &s), 0);
	assert_non_null(filevars_set(s, longpath, -1, &st));
	filevars_scratch_free(s);
	filevars_free(fv);
	n = alloc_fail_after(0);
	assert_true(n > 0);
	for (i = 1; i <= n; i++) {
		const struct rs_external *e = NULL;

		fv = NULL;
		s = NULL;
		alloc_fail_after(i);
		r = filevars_new(rs, NULL, 0, "/cwd", &fv);
		if (r == 0)
			r = filevars_scratch_new(fv, &s);
		if (r == 0)
			e = filevars_set(s, longpath, -1, &st);
		alloc_fail_after(0);
		assert_true(r == WARD_ENOMEM || (r == 0 && e == NULL));
		filevars_scratch_free(s);
		filevars_free(fv);
	}
	ruleset_free(rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_extension), cmocka_unit_test(test_filetype),
	    cmocka_unit_test(test_split),     cmocka_unit_test(test_plan),
	    cmocka_unit_test(test_values),    cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
