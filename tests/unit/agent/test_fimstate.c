/*
 * Unit tests of agent/fimstate: what the real-time FIM remembers across
 * restarts — the comparison of recorded and found metadata, the state
 * file read as hostile bytes (torn, corrupted, oversized), the catch-up's
 * verdicts (created, modified, attributes, gone; nothing said of what the
 * walk could not look at) and the dedupe of a change both caught up on
 * and queued by the kernel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/fimstate.h"
#include "event/journal.h"
#include "fim/watch.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"

static struct fimstate_attr
attr(uint8_t type, uint64_t size, uint64_t ino, int64_t mtime)
{
	struct fimstate_attr a;

	memset(&a, 0, sizeof(a));
	a.type = type;
	a.mode = 0644;
	a.size = size;
	a.ino = ino;
	a.mtime_ns = mtime;
	a.ctime_ns = mtime;
	return a;
}

static void
differs(void **state)
{
	struct fimstate_attr was = attr(FIMSTATE_REG, 10, 5, 100), now = was;
	struct fimstate_attr dir = attr(FIMSTATE_DIR, 4096, 7, 100), d2 = dir;
	enum sensor_fim_action act;

	(void)state;
	assert_int_equal(fimstate_differs(&was, &now, &act), 0);
	now.size = 11;
	assert_int_equal(fimstate_differs(&was, &now, &act), 1);
	assert_int_equal(act, SENSOR_FIM_MODIFIED);
	now = was;
	now.mtime_ns++;
	assert_int_equal(fimstate_differs(&was, &now, &act), 1);
	assert_int_equal(act, SENSOR_FIM_MODIFIED);
	now = was;
	now.ino = 6; /* replaced by another file */
	assert_int_equal(fimstate_differs(&was, &now, &act), 1);
	assert_int_equal(act, SENSOR_FIM_MODIFIED);
	now = was;
	now.type = FIMSTATE_LNK;
	assert_int_equal(fimstate_differs(&was, &now, &act), 1);
	assert_int_equal(act, SENSOR_FIM_MODIFIED);
	now = was;
	now.mode = 0600;
	assert_int_equal(fimstate_differs(&was, &now, &act), 1);
	assert_int_equal(act, SENSOR_FIM_ATTRIBUTES);
	now = was;
	now.uid = 1000;
	assert_int_equal(fimstate_differs(&was, &now, &act), 1);
	assert_int_equal(act, SENSOR_FIM_ATTRIBUTES);
	/* Changed and changed back (content, times restored): the ctime moved. */
	now = was;
	now.ctime_ns += 5;
	assert_int_equal(fimstate_differs(&was, &now, &act), 1);
	assert_int_equal(act, SENSOR_FIM_ATTRIBUTES);
	/* A directory's size and times move with its entries. */
	d2.size = 8192;
	d2.mtime_ns = d2.ctime_ns = 200;
	assert_int_equal(fimstate_differs(&dir, &d2, &act), 0);
	d2.mode = 0700;
	assert_int_equal(fimstate_differs(&dir, &d2, &act), 1);
	assert_int_equal(act, SENSOR_FIM_ATTRIBUTES);
}

/* A state watching /w with a few files, and its file's bytes in out. */
static struct fimstate *
sample(struct wbuf *out)
{
	struct fimstate *s = NULL;
	struct fim_watch w;
	struct ward_diag d;
	struct fimstate_attr a;

	memset(&w, 0, sizeof(w));
	assert_int_equal(fim_watch_add_path(&w, "/w", &d), 0);
	assert_int_equal(fim_watch_add_exclude(&w, "*.swp", &d), 0);
	assert_int_equal(fimstate_new(&s), 0);
	assert_int_equal(fimstate_set_watch(s, &w), 0);
	fim_watch_free(&w);
	a = attr(FIMSTATE_DIR, 0, 1, 1);
	assert_int_equal(fimstate_put(s, "/w", &a), 0);
	a = attr(FIMSTATE_REG, 3, 2, 1);
	assert_int_equal(fimstate_put(s, "/w/a", &a), 0);
	a = attr(FIMSTATE_REG, 4, 3, 1);
	assert_int_equal(fimstate_put(s, "/w/b", &a), 0);
	a = attr(FIMSTATE_REG, 5, 4, 1);
	assert_int_equal(fimstate_put(s, "/w/keep", &a), 0);
	a = attr(FIMSTATE_DIR, 0, 5, 1);
	assert_int_equal(fimstate_put(s, "/w/sub", &a), 0);
	a = attr(FIMSTATE_REG, 6, 6, 1);
	assert_int_equal(fimstate_put(s, "/w/sub/x", &a), 0);
	a = attr(FIMSTATE_DIR, 0, 7, 1);
	assert_int_equal(fimstate_put(s, "/w/unread", &a), 0);
	a = attr(FIMSTATE_REG, 8, 8, 1);
	assert_int_equal(fimstate_put(s, "/w/unread/y", &a), 0);
	a = attr(FIMSTATE_REG, 9, 9, 1);
	assert_int_equal(fimstate_put(s, "/w/now-excluded", &a), 0);
	if (out != NULL) {
		wbuf_init(out);
		assert_int_equal(fimstate_encode(s, out), 0);
	}
	return s;
}

static void
round_trip_and_appended_records(void **state)
{
	struct fimstate *s = NULL, *t = NULL;
	struct fimstate_attr a = attr(FIMSTATE_REG, 42, 99, 7);
	struct ward_diag d;
	struct wbuf b;
	int torn = 1;

	(void)state;
	fimstate_free(sample(&b));
	/* What a running sensor appends after the whole. */
	fimstate_frame_put(&b, "/w/new", &a);
	fimstate_frame_del(&b, "/w/b", 0);
	fimstate_frame_del(&b, "/w/sub", 1);
	fimstate_frame_move(&b, "/w/unread", "/w/moved");
	assert_int_equal(b.err, 0);
	assert_int_equal(fimstate_new(&s), 0);
	assert_int_equal(fimstate_decode(s, b.p, b.len, &torn, &d), 0);
	assert_int_equal(torn, 0);
	assert_non_null(fimstate_watch(s));
	assert_int_equal(fimstate_watch(s)->npaths, 1);
	assert_string_equal(fimstate_watch(s)->paths[0], "/w");
	assert_string_equal(fimstate_watch(s)->excludes[0], "*.swp");
	assert_int_equal(fimstate_get(s, "/w/new")->size, 42);
	assert_null(fimstate_get(s, "/w/b"));
	assert_null(fimstate_get(s, "/w/sub"));
	assert_null(fimstate_get(s, "/w/sub/x"));
	assert_null(fimstate_get(s, "/w/unread/y"));
	assert_int_equal(fimstate_get(s, "/w/moved/y")->ino, 8);
	assert_int_equal(fimstate_get(s, "/w/keep")->size, 5);
	assert_int_equal(fimstate_count(s), 7); /* /w a keep now-excluded new moved moved/y */
	/* Encoded again, the same. */
	wbuf_free(&b);
	wbuf_init(&b);
	assert_int_equal(fimstate_encode(s, &b), 0);
	assert_int_equal(fimstate_new(&t), 0);
	assert_int_equal(fimstate_decode(t, b.p, b.len, &torn, &d), 0);
	assert_int_equal(fimstate_count(t), fimstate_count(s));
	assert_int_equal(fimstate_get(t, "/w/moved/y")->ino, 8);
	fimstate_free(s);
	fimstate_free(t);
	wbuf_free(&b);
}

static void
hostile_files(void **state)
{
	struct fimstate *s = NULL;
	struct fimstate_attr a = attr(FIMSTATE_REG, 1, 1, 1);
	struct ward_diag d;
	struct wbuf b, p;
	size_t whole;
	int torn, i;

	(void)state;
	fimstate_free(sample(&b));
	whole = b.len;
	fimstate_frame_put(&b, "/w/tail", &a);
	/* A torn last frame: the prefix stands. */
	assert_int_equal(fimstate_new(&s), 0);
	assert_int_equal(fimstate_decode(s, b.p, b.len - 1, &torn, &d), 0);
	assert_int_equal(torn, 1);
	assert_null(fimstate_get(s, "/w/tail"));
	assert_non_null(fimstate_get(s, "/w/keep"));
	fimstate_free(s);
	/* A corrupted byte in the last frame: its CRC says so. */
	b.p[b.len - 3] ^= 0x40;
	assert_int_equal(fimstate_new(&s), 0);
	assert_int_equal(fimstate_decode(s, b.p, b.len, &torn, &d), 0);
	assert_int_equal(torn, 1);
	assert_null(fimstate_get(s, "/w/tail"));
	fimstate_free(s);
	b.len = whole;
	/* A frame claiming 4 GiB. */
	wbuf_u32(&b, 0xffffffffu);
	wbuf_u32(&b, 0);
	assert_int_equal(fimstate_new(&s), 0);
	assert_int_equal(fimstate_decode(s, b.p, b.len, &torn, &d), 0);
	assert_int_equal(torn, 1);
	fimstate_free(s);
	b.len = whole;
	/* Well framed but a relative path, then an unknown record: refused. */
	wbuf_init(&p);
	wbuf_u8(&p, 2);
	wbuf_str(&p, "relative/x");
	wbuf_u32(&b, (uint32_t)p.len);
	wbuf_u32(&b, journal_crc32c(p.p, p.len));
	wbuf_put(&b, p.p, p.len);
	wbuf_free(&p);
	assert_int_equal(fimstate_new(&s), 0);
	assert_int_equal(fimstate_decode(s, b.p, b.len, &torn, &d), 0);
	assert_int_equal(torn, 1);
	assert_null(fimstate_get(s, "relative/x"));
	fimstate_free(s);
	/* Not a state file at all. */
	assert_int_equal(fimstate_new(&s), 0);
	assert_int_equal(fimstate_decode(s, "hello world, not ours", 21, &torn, &d), WARD_EFORMAT);
	assert_int_equal(fimstate_count(s), 0);
	assert_null(fimstate_watch(s));
	fimstate_free(s);
	/* Every byte flipped in turn: never a crash, never more than was put. */
	for (i = 0; (size_t)i < whole; i++) {
		b.p[i] ^= 0xa5;
		assert_int_equal(fimstate_new(&s), 0);
		(void)fimstate_decode(s, b.p, whole, &torn, &d);
		assert_true(fimstate_count(s) <= 9);
		fimstate_free(s);
		b.p[i] ^= 0xa5;
	}
	wbuf_free(&b);
}

struct seen {
	char gone[8][64];
	int ngone;
};

static int
covers_w(void *arg, const char *path)
{
	(void)arg;
	return strncmp(path, "/w", 2) == 0 && strstr(path, "excluded") == NULL;
}

static void
on_gone(void *arg, const char *path)
{
	struct seen *s = arg;

	assert_true(s->ngone < 8);
	snprintf(s->gone[s->ngone++], sizeof(s->gone[0]), "%s", path);
}

static int
has_gone(const struct seen *s, const char *path)
{
	int i;

	for (i = 0; i < s->ngone; i++)
		if (strcmp(s->gone[i], path) == 0)
			return 1;
	return 0;
}

/* A restart's walk: /w read; a modified, keep the same, b and the sub tree
 * gone, a new file, the unread directory seen but not read. */
static struct fimstate *
caught_up(struct seen *g)
{
	struct fimstate *s = sample(NULL);
	struct fimstate_attr a;
	enum sensor_fim_action act;

	memset(g, 0, sizeof(*g));
	fimstate_scan_begin(s);
	a = attr(FIMSTATE_DIR, 0, 1, 50);
	assert_int_equal(fimstate_scan_found(s, "/w", &a, FIMSTATE_REPORT, &act), 0);
	assert_int_equal(fimstate_scan_read(s, "/w"), 0);
	a = attr(FIMSTATE_REG, 30, 2, 2);
	assert_int_equal(fimstate_scan_found(s, "/w/a", &a, FIMSTATE_REPORT, &act), 1);
	assert_int_equal(act, SENSOR_FIM_MODIFIED);
	a = attr(FIMSTATE_REG, 5, 4, 1);
	assert_int_equal(fimstate_scan_found(s, "/w/keep", &a, FIMSTATE_REPORT, &act), 0);
	a = attr(FIMSTATE_REG, 0, 20, 3);
	assert_int_equal(fimstate_scan_found(s, "/w/new", &a, FIMSTATE_REPORT, &act), 1);
	assert_int_equal(act, SENSOR_FIM_CREATED);
	a = attr(FIMSTATE_DIR, 0, 7, 1);
	assert_int_equal(fimstate_scan_found(s, "/w/unread", &a, FIMSTATE_REPORT, &act), 0);
	fimstate_scan_end(s, covers_w, on_gone, g);
	return s;
}

static void
catch_up_verdicts(void **state)
{
	struct fimstate *s;
	struct seen g;

	(void)state;
	s = caught_up(&g);
	assert_int_equal(g.ngone, 3);
	assert_true(has_gone(&g, "/w/b"));
	assert_true(has_gone(&g, "/w/sub"));
	assert_true(has_gone(&g, "/w/sub/x"));
	/* What the walk could not read is not said gone. */
	assert_false(has_gone(&g, "/w/unread/y"));
	assert_non_null(fimstate_get(s, "/w/unread/y"));
	/* Out of the policy now: forgotten, not reported. */
	assert_null(fimstate_get(s, "/w/now-excluded"));
	assert_null(fimstate_get(s, "/w/b"));
	assert_int_equal(fimstate_get(s, "/w/a")->size, 30);
	fimstate_free(s);
}

static void
first_start_and_policy_change_report_nothing(void **state)
{
	struct fimstate *s = sample(NULL);
	struct fimstate_attr a = attr(FIMSTATE_REG, 77, 2, 9);
	enum sensor_fim_action act;

	(void)state;
	fimstate_scan_begin(s);
	/* New in sight: recorded quietly. */
	assert_int_equal(fimstate_scan_found(s, "/w/quiet", &a, FIMSTATE_QUIET, &act), 0);
	assert_int_equal(fimstate_get(s, "/w/quiet")->size, 77);
	/* Watched all along: the kernel's events say; the record stays. */
	assert_int_equal(fimstate_scan_found(s, "/w/a", &a, FIMSTATE_KEEP, &act), 0);
	assert_int_equal(fimstate_get(s, "/w/a")->size, 3);
	/* A policy change's end: only what left the policy goes, nothing is gone. */
	fimstate_scan_end(s, covers_w, NULL, NULL);
	assert_non_null(fimstate_get(s, "/w/b"));
	assert_non_null(fimstate_get(s, "/w/quiet"));
	assert_null(fimstate_get(s, "/w/now-excluded"));
	fimstate_free(s);
}

static void
a_change_caught_and_queued_is_said_once(void **state)
{
	struct fimstate *s;
	struct fimstate_attr a;
	enum sensor_fim_action act;
	struct seen g;

	(void)state;
	s = caught_up(&g);
	/* The kernel's creation of what the catch-up said created: not again. */
	a = attr(FIMSTATE_REG, 0, 20, 3);
	act = SENSOR_FIM_CREATED;
	assert_int_equal(fimstate_live(s, "/w/new", &a, &act), 0);
	/* Its close, queued apart: the same file still, the same change. */
	act = SENSOR_FIM_MODIFIED;
	assert_int_equal(fimstate_live(s, "/w/new", &a, &act), 0);
	/* A write since the walk moves its ctime: said... */
	a.ctime_ns++;
	act = SENSOR_FIM_MODIFIED;
	assert_int_equal(fimstate_live(s, "/w/new", &a, &act), 1);
	assert_int_equal(act, SENSOR_FIM_MODIFIED);
	/* ... and from then on every event of it. */
	act = SENSOR_FIM_ATTRIBUTES;
	assert_int_equal(fimstate_live(s, "/w/new", &a, &act), 1);
	/* The write the catch-up said modified, queued by the kernel too. */
	a = attr(FIMSTATE_REG, 30, 2, 2);
	act = SENSOR_FIM_MODIFIED;
	assert_int_equal(fimstate_live(s, "/w/a", &a, &act), 0);
	/* A deletion the catch-up said. */
	act = SENSOR_FIM_DELETED;
	assert_int_equal(fimstate_live(s, "/w/b", NULL, &act), 0);
	/* A deletion of a file the catch-up said nothing of. */
	act = SENSOR_FIM_DELETED;
	assert_int_equal(fimstate_live(s, "/w/keep", NULL, &act), 1);
	/* Made again after the walk found it gone: a creation. */
	a = attr(FIMSTATE_REG, 1, 50, 9);
	act = SENSOR_FIM_MODIFIED;
	assert_int_equal(fimstate_live(s, "/w/sub/x", &a, &act), 1);
	assert_int_equal(act, SENSOR_FIM_CREATED);
	fimstate_caught_done(s);
	/* From then on every event is said. */
	act = SENSOR_FIM_DELETED;
	assert_int_equal(fimstate_live(s, "/w/sub", NULL, &act), 1);
	fimstate_free(s);
}

static void
created_then_written_is_a_modification(void **state)
{
	struct fimstate *s;
	struct fimstate_attr a;
	enum sensor_fim_action act;
	struct seen g;

	(void)state;
	s = caught_up(&g);
	a = attr(FIMSTATE_REG, 100, 20, 4); /* the walk saw it empty */
	act = SENSOR_FIM_CREATED;
	assert_int_equal(fimstate_live(s, "/w/new", &a, &act), 1);
	assert_int_equal(act, SENSOR_FIM_MODIFIED);
	fimstate_free(s);
}

static void
moves_and_limits(void **state)
{
	struct fimstate *s = sample(NULL);
	struct fimstate_attr a = attr(FIMSTATE_REG, 1, 1, 1);
	char longp[PATH_MAX + 8];

	(void)state;
	assert_int_equal(fimstate_move(s, "/w/sub", "/w/keep"), 0); /* replaces keep */
	assert_int_equal(fimstate_get(s, "/w/keep")->ino, 5);
	assert_int_equal(fimstate_get(s, "/w/keep/x")->ino, 6);
	assert_null(fimstate_get(s, "/w/sub/x"));
	/* A file's rename moves it alone, over what had the new name. */
	assert_int_equal(fimstate_move(s, "/w/a", "/w/b"), 0);
	assert_null(fimstate_get(s, "/w/a"));
	assert_int_equal(fimstate_get(s, "/w/b")->ino, 2);
	fimstate_del(s, "/w/b", 0);
	assert_null(fimstate_get(s, "/w/b"));
	/* A sibling sharing the prefix is not under it. */
	assert_int_equal(fimstate_put(s, "/w/keepsake", &a), 0);
	fimstate_del(s, "/w/keep", 1);
	assert_non_null(fimstate_get(s, "/w/keepsake"));
	assert_null(fimstate_get(s, "/w/keep/x"));
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(fimstate_put(s, longp, &a), WARD_ELIMIT);
	fimstate_free(s);
}

/* More files than a state holds: what it knows is compared, what it does
 * not know is not said created at the next start. */
static void
a_full_state_says_so(void **state)
{
	struct fimstate *s = sample(NULL), *t = NULL;
	struct fimstate_attr a = attr(FIMSTATE_REG, 1, 1, 1);
	enum sensor_fim_action act;
	struct ward_diag d;
	char path[64];
	struct wbuf b;
	unsigned i;
	int torn, r = 0;

	(void)state;
	for (i = 0; r == 0; i++) {
		snprintf(path, sizeof(path), "/w/many/%u", i);
		r = fimstate_put(s, path, &a);
	}
	assert_int_equal(r, WARD_ELIMIT);
	assert_int_equal(fimstate_count(s), WARD_MAX_FIM_STATE_ENTRIES);
	wbuf_init(&b);
	assert_int_equal(fimstate_encode(s, &b), 0);
	assert_true(b.len <= WARD_MAX_FIM_STATE_BYTES);
	assert_int_equal(fimstate_new(&t), 0);
	assert_int_equal(fimstate_decode(t, b.p, b.len, &torn, &d), 0);
	fimstate_scan_begin(t);
	/* Full still: not recorded (and so not said created). */
	assert_int_equal(fimstate_scan_found(t, "/w/unknown", &a, FIMSTATE_REPORT, &act),
			 WARD_ELIMIT);
	/* With room again, an unknown file is recorded, not said created. */
	fimstate_del(t, "/w/many", 1);
	assert_int_equal(fimstate_scan_found(t, "/w/unknown", &a, FIMSTATE_REPORT, &act), 0);
	assert_non_null(fimstate_get(t, "/w/unknown"));
	a = attr(FIMSTATE_REG, 999, 2, 1);
	assert_int_equal(fimstate_scan_found(t, "/w/a", &a, FIMSTATE_REPORT, &act), 1);
	assert_int_equal(act, SENSOR_FIM_MODIFIED);
	fimstate_free(t);
	fimstate_free(s);
	wbuf_free(&b);
}

static void
save_and_load_by_descriptor(void **state)
{
	char dir[] = "/tmp/ward-fimstate-XXXXXX";
	struct fimstate *s = sample(NULL), *t = NULL;
	struct fimstate_attr a = attr(FIMSTATE_REG, 12, 34, 5);
	struct ward_diag d;
	struct stat st;
	struct wbuf b;
	int dfd, fd = -1, torn;

	(void)state;
	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(fimstate_save_at(s, dfd, FIMSTATE_FILE, &fd, &d), 0);
	assert_true(fd >= 0);
	assert_int_equal(fstatat(dfd, FIMSTATE_FILE, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	wbuf_init(&b);
	fimstate_frame_put(&b, "/w/appended", &a);
	assert_int_equal(write(fd, b.p, b.len), (ssize_t)b.len);
	wbuf_free(&b);
	assert_int_equal(fimstate_new(&t), 0);
	assert_int_equal(fimstate_load_at(t, dfd, FIMSTATE_FILE, &torn, &d), 0);
	assert_int_equal(torn, 0);
	assert_int_equal(fimstate_get(t, "/w/appended")->ino, 34);
	assert_int_equal(fimstate_count(t), fimstate_count(s) + 1);
	fimstate_free(t);
	/* A link in its place is not followed. */
	assert_int_equal(unlinkat(dfd, FIMSTATE_FILE, 0), 0);
	assert_int_equal(symlinkat("/etc/passwd", dfd, FIMSTATE_FILE), 0);
	assert_int_equal(fimstate_new(&t), 0);
	assert_int_equal(fimstate_load_at(t, dfd, FIMSTATE_FILE, &torn, &d), WARD_EIO);
	fimstate_free(t);
	assert_int_equal(unlinkat(dfd, FIMSTATE_FILE, 0), 0);
	close(fd);
	close(dfd);
	assert_int_equal(rmdir(dir), 0);
	fimstate_free(s);
}

/* Every allocation of a decode failed in turn: an error, no leak, no crash. */
static void
decode_out_of_memory(void **state)
{
	struct fimstate *s = NULL;
	struct ward_diag d;
	struct wbuf b;
	unsigned long n, total;
	int torn;

	(void)state;
	fimstate_free(sample(&b));
	(void)alloc_fail_after(0);
	assert_int_equal(fimstate_new(&s), 0);
	assert_int_equal(fimstate_decode(s, b.p, b.len, &torn, &d), 0);
	fimstate_free(s);
	total = alloc_fail_after(0);
	for (n = 1; n <= total; n++) {
		s = NULL;
		(void)alloc_fail_after(n);
		if (fimstate_new(&s) == 0) {
			(void)fimstate_decode(s, b.p, b.len, &torn, &d);
			fimstate_free(s);
		}
		(void)alloc_fail_after(0);
	}
	wbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(differs),
	    cmocka_unit_test(round_trip_and_appended_records),
	    cmocka_unit_test(hostile_files),
	    cmocka_unit_test(catch_up_verdicts),
	    cmocka_unit_test(first_start_and_policy_change_report_nothing),
	    cmocka_unit_test(a_change_caught_and_queued_is_said_once),
	    cmocka_unit_test(created_then_written_is_a_modification),
	    cmocka_unit_test(moves_and_limits),
	    cmocka_unit_test(a_full_state_says_so),
	    cmocka_unit_test(save_and_load_by_descriptor),
	    cmocka_unit_test(decode_out_of_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
