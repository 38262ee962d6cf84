/*
 * Unit tests of the container walk: every format libarchive can write
 * here (zip, tar, cpio, ar, 7z, iso9660, and single streams of gzip,
 * bzip2, xz, lzma, zstd, lz4), built in memory; nesting and the member
 * chain; each limit; an encrypted zip entry; damaged input; a ratio bomb;
 * files that only look like containers; --no-archive; cancel.
 */
#include <archive.h>
#include <archive_entry.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "rules/compile.h"
#include "scan/container.h"
#include "scan/matcher.h"
#include "util/clock.h"
#include "util/limits.h"

#define PAYLOAD "some text, then EVIL-PAYLOAD-1234, then more text"

struct fx {
	struct ruleset *rs;
	struct matcher *m;
	struct matcher_scratch *s;
};

/* What a walk reported. */
struct seen {
	int hits;
	char chain[8][256]; /* of the last hit, joined by "//" in chain[0] */
	int notes[CONTAINER_NOTE_COUNT];
	char note_where[256]; /* of the last note */
	char note_format[32];
	int members;
};

static void
join(const struct container_where *w, char *out, size_t n)
{
	unsigned i;
	size_t o = 0;

	out[0] = '\0';
	for (i = 0; i < w->n && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%s", i > 0 ? "//" : "", w->chain[i]);
}

static int
on_report(void *arg, const struct matcher_scratch *s, uint32_t rule, const char *hash_name,
	  const struct container_where *where)
{
	struct seen *x = arg;

	(void)s;
	(void)rule;
	(void)hash_name;
	x->hits++;
	join(where, x->chain[0], sizeof(x->chain[0]));
	return 0;
}

static void
on_note(void *arg, enum container_note n, const struct container_where *where, const char *format)
{
	struct seen *x = arg;

	x->notes[n]++;
	join(where, x->note_where, sizeof(x->note_where));
	snprintf(x->note_format, sizeof(x->note_format), "%s", format != NULL ? format : "");
}

static void
on_member(void *arg, const struct container_where *where, int fd, uint64_t size)
{
	struct seen *x = arg;

	(void)where;
	(void)fd;
	(void)size;
	x->members++;
}

static int
setup(void **state)
{
	static const char src[] = "rule evil { strings: $a = \"EVIL-PAYLOAD-1234\" condition: $a }";
	struct fx *f = calloc(1, sizeof(*f));
	struct rules_compiler *c = NULL;
	struct ward_diag d;

	diag_clear(&d);
	assert_int_equal(rules_compiler_new(&c), 0);
	assert_int_equal(rules_compiler_add_string(c, "t.yar", src, strlen(src), &d), 0);
	assert_int_equal(rules_compiler_finish(c, &f->rs, &d), 0);
	rules_compiler_free(c);
	assert_int_equal(matcher_new(f->rs, NULL, &f->m, &d), 0);
	assert_int_equal(matcher_scratch_new(f->m, &f->s), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	matcher_scratch_free(f->s);
	matcher_free(f->m);
	ruleset_free(f->rs);
	free(f);
	return 0;
}

/* A growing byte buffer. */
struct bytes {
	uint8_t *p;
	size_t len, cap;
};

static void
bytes_add(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static la_ssize_t
w_write(struct archive *a, void *arg, const void *buf, size_t n)
{
	(void)a;
	bytes_add(arg, buf, n);
	return (la_ssize_t)n;
}

/* One member to write. */
struct mem {
	const char *name;
	const void *data;
	size_t len;
};

/*
 * An archive of format (archive_write_set_format_by_name) and filter
 * (archive_write_add_filter_by_name, or NULL) holding the members; opts
 * given to archive_write_set_options when not NULL, passphrase when not
 * NULL.
 */
static struct bytes
build(const char *format, const char *filter, const struct mem *m, size_t n, const char *opts,
      const char *pass)
{
	struct archive *a = archive_write_new();
	struct bytes out = {0};
	size_t i;

	assert_int_equal(archive_write_set_format_by_name(a, format), ARCHIVE_OK);
	if (filter != NULL)
		assert_int_equal(archive_write_add_filter_by_name(a, filter), ARCHIVE_OK);
	if (opts != NULL)
		assert_int_equal(archive_write_set_options(a, opts), ARCHIVE_OK);
	if (pass != NULL)
		assert_int_equal(archive_write_set_passphrase(a, pass), ARCHIVE_OK);
	archive_write_set_bytes_in_last_block(a, 1);
	assert_int_equal(archive_write_open(a, &out, NULL, w_write, NULL), ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();

		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)m[i].len);
		assert_true(archive_write_header(a, e) >= ARCHIVE_WARN);
		if (m[i].len > 0)
			assert_int_equal(archive_write_data(a, m[i].data, m[i].len),
					 (la_ssize_t)m[i].len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return out;
}

static int
memfd_of(const void *p, size_t n)
{
	int fd = memfd_create("t", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	return fd;
}

static void
walk(const struct fx *f, const void *p, size_t n, const struct container_limits *lim, int archives,
     const char *name, struct seen *x)
{
	struct container_opts o = {.limits = lim,
				   .archives = archives,
				   .name = name,
				   .report = on_report,
				   .note = on_note,
				   .member = on_member,
				   .arg = x};
	int fd = memfd_of(p, n);

	memset(x, 0, sizeof(*x));
	assert_int_equal(container_scan_fd(f->m, f->s, fd, n, &o), 0);
	close(fd);
}

static int
no_notes(const struct seen *x)
{
	int k, t = 0;

	for (k = 0; k < CONTAINER_NOTE_COUNT; k++)
		t += x->notes[k];
	return t == 0;
}

static void
test_formats(void **state)
{
	static const struct {
		const char *format, *filter;
	} cases[] = {
	    {"zip", NULL},     {"ustar", NULL},	   {"pax", "gzip"},    {"newc", NULL},
	    {"odc", "xz"},     {"arsvr4", NULL},   {"arbsd", NULL},    {"7zip", NULL},
	    {"iso9660", NULL}, {"ustar", "bzip2"}, {"gnutar", "zstd"}, {"ustar", "lz4"},
	};
	const struct fx *f = *state;
	struct mem m[] = {{"dir/payload.txt", PAYLOAD, sizeof(PAYLOAD) - 1}};
	struct seen x;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bytes b = build(cases[i].format, cases[i].filter, m, 1, NULL, NULL);
		const char *want =
		    strcmp(cases[i].format, "arsvr4") == 0 || strcmp(cases[i].format, "arbsd") == 0
			? "payload.txt" /* ar keeps base names */
			: "dir/payload.txt";

		walk(f, b.p, b.len, NULL, 1, "x", &x);
		if (x.hits < 1 || strcmp(x.chain[0], want) != 0 || !no_notes(&x))
			fail_msg("%s+%s: %d hits, last in '%s'", cases[i].format,
				 cases[i].filter != NULL ? cases[i].filter : "-", x.hits,
				 x.chain[0]);
		free(b.p);
	}
}

/* Single compressed streams: the member is named after the file. */
static void
test_streams(void **state)
{
	static const char *const filters[][2] = {
	    {"gzip", "doc.txt.gz"},   {"bzip2", "doc.txt.bz2"}, {"xz", "doc.txt.xz"},
	    {"lzma", "doc.txt.lzma"}, {"zstd", "doc.txt.zst"},	{"lz4", "doc.txt.lz4"},
	};
	const struct fx *f = *state;
	struct mem m[] = {{"ignored", PAYLOAD, sizeof(PAYLOAD) - 1}};
	struct seen x;
	size_t i;

	for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		struct bytes b = build("raw", filters[i][0], m, 1, NULL, NULL);

		walk(f, b.p, b.len, NULL, 1, filters[i][1], &x);
		/* (zstd keeps so little data stored as it is: the file matches too) */
		if (x.hits < 1 || strcmp(x.chain[0], "doc.txt") != 0 || !no_notes(&x))
			fail_msg("%s: %d hits, in '%s'", filters[i][0], x.hits, x.chain[0]);
		free(b.p);
	}
}

/* Inside a gzip stream, the start of an lzop one: libarchive would run
 * the lzop program on it with all its filters; here it is one member. */
static void
test_no_external_programs(void **state)
{
	static const char lzo[] = "\x89LZO\0\r\n\x1a\n" PAYLOAD;
	const struct fx *f = *state;
	struct mem m[] = {{"x", lzo, sizeof(lzo) - 1}};
	struct bytes b = build("raw", "gzip", m, 1, NULL, NULL);
	struct seen x;

	walk(f, b.p, b.len, NULL, 1, "x.lzo.gz", &x);
	assert_int_equal(x.members, 1);
	assert_int_equal(x.hits, 1);
	assert_string_equal(x.chain[0], "x.lzo");
	free(b.p);
}

/* An empty member as the first file a scratch scans (found by
 * fuzz_container: the matcher offset its null buffer). */
static void
test_empty_member_first(void **state)
{
	const struct fx *f = *state;
	struct mem m[] = {{"empty", "", 0}, {"p", PAYLOAD, sizeof(PAYLOAD) - 1}};
	struct bytes b = build("zip", NULL, m, 2, NULL, NULL);
	struct matcher_scratch *s = NULL;
	struct container_opts o = {.archives = 1, .report = on_report, .member = on_member};
	struct seen x;
	int fd = memfd_of(b.p, b.len);

	memset(&x, 0, sizeof(x));
	o.arg = &x;
	assert_int_equal(matcher_scratch_new(f->m, &s), 0);
	assert_int_equal(container_scan_fd(f->m, s, fd, 0, &o), 0); /* the file itself: empty */
	assert_int_equal(container_scan_fd(f->m, s, fd, b.len, &o), 0);
	assert_int_equal(x.members, 2);
	assert_int_equal(x.hits, 1);
	matcher_scratch_free(s);
	close(fd);
	free(b.p);
}

static void
test_nested(void **state)
{
	const struct fx *f = *state;
	struct mem leaf[] = {{"payload", PAYLOAD, sizeof(PAYLOAD) - 1}};
	struct bytes tgz = build("ustar", "gzip", leaf, 1, NULL, NULL);
	struct mem mid[] = {{"a/inner.tar.gz", tgz.p, tgz.len}, {"b.txt", "hello", 5}};
	struct bytes zip = build("zip", NULL, mid, 2, NULL, NULL);
	struct container_limits lim;
	struct seen x;

	walk(f, zip.p, zip.len, NULL, 1, "outer.zip", &x);
	assert_int_equal(x.hits, 1);
	assert_string_equal(x.chain[0], "a/inner.tar.gz//payload");
	assert_int_equal(x.members, 3);
	assert_true(no_notes(&x));

	/* Depth 1: the zip is opened, the tar.gz inside it is not. */
	container_limits_scan(&lim);
	lim.depth = 1;
	walk(f, zip.p, zip.len, &lim, 1, "outer.zip", &x);
	assert_int_equal(x.hits, 0);
	assert_int_equal(x.notes[CONTAINER_DEPTH], 1);
	assert_string_equal(x.note_where, "a/inner.tar.gz");

	/* Archives off: the zip is a file like any other. */
	walk(f, zip.p, zip.len, NULL, 0, "outer.zip", &x);
	assert_int_equal(x.hits, 0);
	assert_int_equal(x.members, 0);
	free(zip.p);
	free(tgz.p);
}

static void
test_limits(void **state)
{
	const struct fx *f = *state;
	size_t big = 2u * 1024 * 1024;
	char *zeros = calloc(1, big);
	struct mem three[] = {{"1", "one", 3}, {"2", PAYLOAD, sizeof(PAYLOAD) - 1}, {"3", "x", 1}};
	struct mem bomb[] = {{"zeros", zeros, big}, {"after", PAYLOAD, sizeof(PAYLOAD) - 1}};
	struct bytes b3 = build("zip", NULL, three, 3, NULL, NULL);
	struct bytes bb = build("ustar", "gzip", bomb, 2, NULL, NULL);
	struct container_limits lim;
	struct seen x;

	/* members: the third is not reached */
	container_limits_scan(&lim);
	lim.files = 2;
	walk(f, b3.p, b3.len, &lim, 1, "t.zip", &x);
	assert_int_equal(x.hits, 1);
	assert_int_equal(x.notes[CONTAINER_FILES], 1);
	assert_string_equal(x.note_where, "");

	/* member size: the large one is skipped, the next is scanned */
	container_limits_scan(&lim);
	lim.member = 1000;
	lim.ratio = 0;
	walk(f, bb.p, bb.len, &lim, 1, "t.tgz", &x);
	assert_int_equal(x.notes[CONTAINER_MEMBER], 1);
	assert_string_equal(x.note_where, "zeros");
	assert_int_equal(x.hits, 1);

	/* total: the walk ends in the zeros */
	container_limits_scan(&lim);
	lim.total = 100000;
	lim.ratio = 0;
	walk(f, bb.p, bb.len, &lim, 1, "t.tgz", &x);
	assert_int_equal(x.notes[CONTAINER_TOTAL], 1);
	assert_string_equal(x.note_where, "zeros");
	assert_int_equal(x.hits, 0);

	/* ratio: 2 MiB of zeros from a few KiB (past a read block's slack
	 * only at a low ratio: 2 MiB / 10 > 64 KiB) */
	container_limits_scan(&lim);
	lim.ratio = 10;
	walk(f, bb.p, bb.len, &lim, 1, "t.tgz", &x);
	assert_int_equal(x.notes[CONTAINER_RATIO], 1);
	assert_string_equal(x.note_where, "zeros");
	/* ... and the member after it is still scanned */
	assert_int_equal(x.hits, 1);

	/* time: nothing is left of it */
	container_limits_scan(&lim);
	lim.time_ms = 0;
	walk(f, b3.p, b3.len, &lim, 1, "t.zip", &x);
	assert_int_equal(x.notes[CONTAINER_TIME], 1);
	assert_int_equal(x.hits, 0);

	free(b3.p);
	free(bb.p);
	free(zeros);
}

static void
test_encrypted(void **state)
{
	const struct fx *f = *state;
	struct mem m[] = {{"secret.txt", PAYLOAD, sizeof(PAYLOAD) - 1},
			  {"plain.txt", PAYLOAD, sizeof(PAYLOAD) - 1}};
	struct bytes b = build("zip", NULL, m, 1, "zip:encryption=zipcrypt", "pw");
	struct seen x;

	walk(f, b.p, b.len, NULL, 1, "e.zip", &x);
	assert_int_equal(x.hits, 0);
	assert_int_equal(x.notes[CONTAINER_ENCRYPTED], 1);
	assert_string_equal(x.note_where, "secret.txt");
	assert_string_equal(x.note_format, "Zip");
	assert_string_equal(container_note_heuristic(CONTAINER_ENCRYPTED, x.note_format),
			    "Heuristics.Encrypted.Zip");
	free(b.p);
}

static void
test_damaged(void **state)
{
	const struct fx *f = *state;
	size_t n = 300000, i;
	char *noise = malloc(n);
	struct mem m[] = {{"noise", noise, n}, {"p", PAYLOAD, sizeof(PAYLOAD) - 1}};
	struct bytes b;
	struct seen x;

	/* incompressible, so that a cut lands in the data */
	for (i = 0; i < n; i++)
		noise[i] = (char)(rand() & 0xff);
	b = build("ustar", "gzip", m, 2, NULL, NULL);
	walk(f, b.p, b.len / 2, NULL, 1, "cut.tgz", &x);
	assert_int_equal(x.notes[CONTAINER_DAMAGED], 1);
	assert_string_equal(x.note_where, "noise");
	free(b.p);
	/* the second tar header overwritten: its checksum fails */
	b = build("ustar", NULL, m, 2, NULL, NULL);
	memset(b.p + 512 + ((n + 511) / 512) * 512, 0x55, 64);
	walk(f, b.p, b.len, NULL, 1, "bad.tar", &x);
	assert_int_equal(x.notes[CONTAINER_DAMAGED], 1);
	assert_int_equal(x.members, 1);
	free(b.p);
	free(noise);
}

/* Files whose first bytes look like a container, and are not one. */
static void
test_lookalikes(void **state)
{
	const struct fx *f = *state;
	static const char *const heads[] = {"BZh but text " PAYLOAD, "PK\3\4" PAYLOAD,
					    "\x1f\x8b" PAYLOAD, "\x5d\0\0" PAYLOAD, PAYLOAD};
	struct seen x;
	size_t i;

	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		size_t n = strlen(heads[i]) + (i == 3 ? 3 + strlen(PAYLOAD) : 0);

		walk(f, heads[i], i == 3 ? 3 + strlen(PAYLOAD) : n, NULL, 1, "f", &x);
		assert_int_equal(x.hits, 1);
		assert_string_equal(x.chain[0], "");
		assert_int_equal(x.members, 0);
	}
	assert_true(container_sniff((const uint8_t *)"PK\3\4", 4, NULL));
	assert_false(container_sniff((const uint8_t *)"MZ\x90\0", 4, NULL));
	assert_true(container_sniff((const uint8_t *)"MZ", 2, (const uint8_t *)"CD001"));
}

static void
test_cancel(void **state)
{
	const struct fx *f = *state;
	struct mem m[] = {{"p", PAYLOAD, sizeof(PAYLOAD) - 1}};
	struct bytes b = build("zip", NULL, m, 1, NULL, NULL);
	volatile sig_atomic_t stop = 1;
	struct seen x;
	struct container_opts o = {
	    .archives = 1, .report = on_report, .note = on_note, .arg = &x, .cancel = &stop};
	int fd = memfd_of(b.p, b.len);

	memset(&x, 0, sizeof(x));
	assert_int_equal(container_scan_fd(f->m, f->s, fd, b.len, &o), WARD_EINTR);
	assert_int_equal(x.hits, 0);
	close(fd);
	free(b.p);
}

static void
test_words(void **state)
{
	int k;

	(void)state;
	for (k = 0; k < CONTAINER_NOTE_COUNT; k++)
		assert_string_not_equal(container_note_word((enum container_note)k), "unknown");
	assert_string_equal(container_note_word(CONTAINER_TOTAL), "total");
	assert_string_equal(container_note_heuristic(CONTAINER_MEMBER, NULL),
			    "Heuristics.Limits.Exceeded.MaxFileSize");
	assert_null(container_note_heuristic(CONTAINER_DAMAGED, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_formats),
	    cmocka_unit_test(test_streams),
	    cmocka_unit_test(test_no_external_programs),
	    cmocka_unit_test(test_empty_member_first),
	    cmocka_unit_test(test_nested),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_encrypted),
	    cmocka_unit_test(test_damaged),
	    cmocka_unit_test(test_lookalikes),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_words),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
