/*
 * Unit tests of walkmsg, the channel between `ward scan`'s walker (root)
 * and its sandboxed scanner: each message round-trips through a real
 * channel (a file with its descriptor, whose size the channel reports; a
 * path of any bytes but NUL, a note whose control characters become '?',
 * the end with the walk's skip counts, a full done frame, stop and ready);
 * what the encoders cut or replace still decodes.  Hostile frames are
 * refused with WARD_EPROTO and nothing decoded (nothing left to free): a
 * path empty, holding a NUL or longer than its bytes, an id of 0, an owner
 * with a NUL, trailing bytes, a note with a control character or no text,
 * an end with an unknown flag or error, a done frame whose count and size
 * disagree, whose count is 0 or above the batch, with an unknown outcome,
 * bytes for a file not scanned or matches for one not read, a payload on
 * a stop; a message decoded as another kind.  The tables refuse what a
 * side may not receive: a done frame sent to the scanner, a file without
 * its descriptor, a frame over its size.
 */
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

#include "scan/walkmsg.h"
#include "util/alloc.h"
#include "util/clock.h"

/* The walker's end (w) and the scanner's (s). */
static void
pair(struct ipc **w, struct ipc **s)
{
	int sv[2];

	assert_int_equal(ipc_pair(sv), 0);
	assert_int_equal(ipc_new(sv[0], &walkmsg_to_walker, &walkmsg_to_scanner, w), 0);
	assert_int_equal(ipc_new(sv[1], &walkmsg_to_scanner, &walkmsg_to_walker, s), 0);
}

static int
temp_file(const char *text)
{
	int fd = memfd_create("test_walkmsg", 0);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	return fd;
}

/* A received message of type over p[0..n), as ipc_recv hands it out. */
static struct ipc_msg
msg_of(const struct ipc_proto *t, uint16_t type, const void *p, size_t n)
{
	struct ipc_msg m;
	size_t i;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < t->nmsgs; i++)
		if (t->msgs[i].type == type)
			m.def = &t->msgs[i];
	assert_non_null(m.def);
	m.type = type;
	m.p = p;
	m.len = n;
	m.fd = -1;
	return m;
}

static void
test_round_trips(void **state)
{
	static const char path[] = "/tmp/a dir/\n\x1b\xff name";
	static struct walkmsg_done done, done2;
	struct walkmsg_file f;
	struct walkmsg_note n;
	struct walkmsg_end e, e2;
	struct ipc *w, *s;
	struct ipc_msg m;
	struct ward_diag d;
	struct wbuf b;
	char buf[8];
	unsigned k;
	int fd;

	(void)state;
	pair(&w, &s);
	wbuf_init(&b);
	/* a file: its descriptor beside it, its size as the channel saw it */
	fd = temp_file("hello");
	walkmsg_file_encode(&b, 7, 3, path, "www-data");
	assert_int_equal(ipc_send(w, WALKMSG_FILE, b.p, b.len, fd, IPC_FOREVER, &d), 0);
	close(fd);
	wbuf_free(&b);
	assert_int_equal(ipc_recv(s, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(m.fd_size, 5);
	assert_int_equal(walkmsg_note_decode(&m, &n, &d), WARD_EPROTO);
	assert_int_equal(walkmsg_file_decode(&m, &f, &d), 0);
	assert_int_equal(f.id, 7);
	assert_int_equal(f.depth, 3);
	assert_string_equal(f.path, path);
	assert_string_equal(f.owner, "www-data");
	assert_int_equal(pread(m.fd, buf, 5, 0), 5);
	assert_memory_equal(buf, "hello", 5);
	ward_free(f.path);
	ipc_msg_close(&m);
	/* a file whose owner is not read */
	fd = temp_file("");
	walkmsg_file_encode(&b, 8, 0, "f", NULL);
	assert_int_equal(ipc_send(w, WALKMSG_FILE, b.p, b.len, fd, IPC_FOREVER, &d), 0);
	close(fd);
	wbuf_free(&b);
	assert_int_equal(ipc_recv(s, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(walkmsg_file_decode(&m, &f, &d), 0);
	assert_string_equal(f.owner, "");
	assert_int_equal(m.fd_size, 0);
	ward_free(f.path);
	ipc_msg_close(&m);
	/* a note: the path's bytes kept, the message's control characters not */
	walkmsg_note_encode(&b, 9, 0, path, "cannot open\tdirectory\n");
	assert_int_equal(ipc_send(w, WALKMSG_NOTE, b.p, b.len, -1, IPC_FOREVER, &d), 0);
	wbuf_free(&b);
	assert_int_equal(ipc_recv(s, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(walkmsg_file_decode(&m, &f, &d), WARD_EPROTO);
	assert_null(f.path);
	assert_int_equal(walkmsg_note_decode(&m, &n, &d), 0);
	assert_int_equal(n.id, 9);
	assert_int_equal(n.depth, 0);
	assert_string_equal(n.path, path);
	assert_string_equal(n.msg, "cannot open?directory?");
	ward_free(n.path);
	/* the end */
	memset(&e, 0, sizeof(e));
	e.stopped = 1;
	e.error = WARD_ENOMEM;
	for (k = 0; k < WALKMSG_NSKIP; k++)
		e.skipped[k] = 1000 + k;
	walkmsg_end_encode(&b, &e);
	assert_int_equal(ipc_send(w, WALKMSG_END, b.p, b.len, -1, IPC_FOREVER, &d), 0);
	wbuf_free(&b);
	assert_int_equal(ipc_recv(s, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(walkmsg_end_decode(&m, &e2, &d), 0);
	assert_memory_equal(&e, &e2, sizeof(e));
	/* ready, a full done frame, stop */
	assert_int_equal(ipc_send(s, WALKMSG_READY, NULL, 0, -1, IPC_FOREVER, &d), 0);
	assert_int_equal(ipc_recv(w, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(walkmsg_empty_decode(&m, WALKMSG_READY, &d), 0);
	assert_int_equal(walkmsg_empty_decode(&m, WALKMSG_STOP, &d), WARD_EPROTO);
	done.n = WALKMSG_MAX_DONE;
	for (k = 0; k < done.n; k++) {
		done.rec[k].id = 100 + k;
		done.rec[k].outcome = (enum walkmsg_outcome)(1 + k % WALKMSG_OUTCOME_MAX);
		done.rec[k].matches = done.rec[k].outcome == WALKMSG_SCANNED ? k : 0;
		done.rec[k].bytes = done.rec[k].outcome == WALKMSG_SCANNED ? 1ull << 40 : 0;
	}
	walkmsg_done_encode(&b, &done);
	assert_int_equal(ipc_send(s, WALKMSG_DONE, b.p, b.len, -1, IPC_FOREVER, &d), 0);
	wbuf_free(&b);
	assert_int_equal(ipc_recv(w, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(walkmsg_done_decode(&m, &done2, &d), 0);
	assert_memory_equal(&done, &done2, sizeof(done));
	assert_int_equal(ipc_send(s, WALKMSG_STOP, NULL, 0, -1, IPC_FOREVER, &d), 0);
	assert_int_equal(ipc_recv(w, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(walkmsg_empty_decode(&m, WALKMSG_STOP, &d), 0);
	assert_int_equal(walkmsg_done_decode(&m, &done2, &d), WARD_EPROTO);
	assert_int_equal(done2.n, 0);
	/* what a side may not send, or not without its descriptor */
	assert_int_equal(ipc_send(w, WALKMSG_DONE, b.p, 25, -1, IPC_FOREVER, &d), WARD_EINVAL);
	assert_int_equal(ipc_send(s, WALKMSG_FILE, "x", 1, -1, IPC_FOREVER, &d), WARD_EINVAL);
	walkmsg_file_encode(&b, 1, 0, "f", NULL);
	assert_int_equal(ipc_send(w, WALKMSG_FILE, b.p, b.len, -1, IPC_FOREVER, &d), WARD_EINVAL);
	wbuf_free(&b);
	ipc_free(w);
	ipc_free(s);
}

/* What the encoders cut or replace still decodes. */
static void
test_encode_bounds(void **state)
{
	char *longpath = malloc(WALKMSG_MAX_PATH + 100), owner[WALKMSG_MAX_OWNER + 50];
	char note[WALKMSG_MAX_NOTE + 50];
	struct walkmsg_file f;
	struct walkmsg_note n;
	struct ipc_msg m;
	struct ward_diag d;
	struct wbuf b;

	(void)state;
	assert_non_null(longpath);
	memset(longpath, 'p', WALKMSG_MAX_PATH + 99);
	longpath[WALKMSG_MAX_PATH + 99] = '\0';
	memset(owner, 'o', sizeof(owner) - 1);
	owner[sizeof(owner) - 1] = '\0';
	memset(note, 'n', sizeof(note) - 1);
	note[sizeof(note) - 1] = '\0';
	assert_false(walkmsg_path_fits(longpath));
	assert_false(walkmsg_path_fits(""));
	assert_true(walkmsg_path_fits("/"));
	longpath[WALKMSG_MAX_PATH] = '\0';
	assert_true(walkmsg_path_fits(longpath));
	longpath[WALKMSG_MAX_PATH] = 'p';
	wbuf_init(&b);
	walkmsg_file_encode(&b, 1, 0, longpath, owner);
	assert_int_equal(b.len, walkmsg_to_scanner.msgs[0].max_len);
	m = msg_of(&walkmsg_to_scanner, WALKMSG_FILE, b.p, b.len);
	assert_int_equal(walkmsg_file_decode(&m, &f, &d), 0);
	assert_int_equal(strlen(f.path), WALKMSG_MAX_PATH);
	assert_int_equal(strlen(f.owner), WALKMSG_MAX_OWNER);
	ward_free(f.path);
	wbuf_free(&b);
	walkmsg_note_encode(&b, 2, 1, "", note);
	m = msg_of(&walkmsg_to_scanner, WALKMSG_NOTE, b.p, b.len);
	assert_int_equal(walkmsg_note_decode(&m, &n, &d), 0);
	assert_string_equal(n.path, "?");
	assert_int_equal(strlen(n.msg), WALKMSG_MAX_NOTE);
	ward_free(n.path);
	wbuf_free(&b);
	walkmsg_note_encode(&b, 2, 1, "p", "");
	m = msg_of(&walkmsg_to_scanner, WALKMSG_NOTE, b.p, b.len);
	assert_int_equal(walkmsg_note_decode(&m, &n, &d), 0);
	assert_string_equal(n.msg, "?");
	ward_free(n.path);
	wbuf_free(&b);
	free(longpath);
}

/* A file's payload: id, depth, path (len, bytes), owner (len, bytes). */
static size_t
file_bytes(uint8_t *out, uint64_t id, uint32_t plen, const char *path, size_t pn, uint32_t olen,
	   const char *own, size_t on)
{
	struct wbuf b;
	size_t n;

	wbuf_init(&b);
	wbuf_u64(&b, id);
	wbuf_u32(&b, 1);
	wbuf_u32(&b, plen);
	wbuf_put(&b, path, pn);
	wbuf_u32(&b, olen);
	wbuf_put(&b, own, on);
	assert_int_equal(b.err, 0);
	n = b.len;
	memcpy(out, b.p, n);
	wbuf_free(&b);
	return n;
}

/* A file frame p[0..len) is refused whole: nothing decoded, nothing to free. */
static void
file_refused(const uint8_t *p, size_t len)
{
	struct walkmsg_file f;
	struct ipc_msg m = msg_of(&walkmsg_to_scanner, WALKMSG_FILE, p, len);
	struct ward_diag d;

	assert_int_equal(walkmsg_file_decode(&m, &f, &d), WARD_EPROTO);
	assert_null(f.path);
	assert_int_equal(f.id, 0);
}

static void
test_hostile_files_and_notes(void **state)
{
	static uint8_t p[256];
	struct walkmsg_file f;
	struct walkmsg_note n;
	struct ipc_msg m;
	struct ward_diag d;
	struct wbuf b;
	size_t len;

	(void)state;
	len = file_bytes(p, 1, 3, "a\0b", 3, 0, "", 0); /* a NUL in the path */
	file_refused(p, len);
	len = file_bytes(p, 1, 0, "", 0, 0, "", 0); /* an empty path */
	file_refused(p, len);
	len = file_bytes(p, 0, 1, "a", 1, 0, "", 0); /* id 0 */
	file_refused(p, len);
	len = file_bytes(p, 1, 50, "a", 1, 0, "", 0); /* a path longer than its bytes */
	file_refused(p, len);
	len = file_bytes(p, 1, 1, "a", 1, 2, "r\0", 2); /* a NUL in the owner */
	file_refused(p, len);
	len = file_bytes(p, 1, 1, "a", 1, 1, "r", 1); /* trailing bytes */
	p[len] = 'x';
	file_refused(p, len + 1);
	file_refused(p, len - 1); /* one short */
	len = file_bytes(p, 1, 1, "a", 1, 1, "r", 1);
	m = msg_of(&walkmsg_to_scanner, WALKMSG_FILE, p, len);
	assert_int_equal(walkmsg_file_decode(&m, &f, &d), 0);
	ward_free(f.path);
	/* decoded as another kind */
	assert_int_equal(walkmsg_note_decode(&m, &n, &d), WARD_EPROTO);
	assert_int_equal(walkmsg_empty_decode(&m, WALKMSG_FILE, &d), WARD_EPROTO);
	/* notes: a control character, no text, trailing bytes */
	wbuf_init(&b);
	wbuf_u64(&b, 1);
	wbuf_u32(&b, 0);
	wbuf_lenbytes(&b, "p", 1);
	wbuf_lenbytes(&b, "bad\x1b", 4);
	m = msg_of(&walkmsg_to_scanner, WALKMSG_NOTE, b.p, b.len);
	assert_int_equal(walkmsg_note_decode(&m, &n, &d), WARD_EPROTO);
	assert_null(n.path);
	wbuf_free(&b);
	wbuf_u64(&b, 1);
	wbuf_u32(&b, 0);
	wbuf_lenbytes(&b, "p", 1);
	wbuf_lenbytes(&b, "", 0);
	m = msg_of(&walkmsg_to_scanner, WALKMSG_NOTE, b.p, b.len);
	assert_int_equal(walkmsg_note_decode(&m, &n, &d), WARD_EPROTO);
	wbuf_free(&b);
	wbuf_u64(&b, 1);
	wbuf_u32(&b, 0);
	wbuf_lenbytes(&b, "p", 1);
	wbuf_lenbytes(&b, "ok", 2);
	wbuf_u8(&b, 0);
	m = msg_of(&walkmsg_to_scanner, WALKMSG_NOTE, b.p, b.len);
	assert_int_equal(walkmsg_note_decode(&m, &n, &d), WARD_EPROTO);
	assert_null(n.path);
	wbuf_free(&b);
}

static void
test_hostile_end_done_stop(void **state)
{
	static uint8_t x[8];
	struct walkmsg_done done;
	struct walkmsg_end e;
	struct ipc_msg m;
	struct ward_diag d;
	struct wbuf b;
	unsigned k;

	(void)state;
	/* end: flag 2, an error beyond the last, one byte short */
	wbuf_init(&b);
	wbuf_u8(&b, 2);
	wbuf_u32(&b, 0);
	for (k = 0; k < WALKMSG_NSKIP; k++)
		wbuf_u64(&b, 0);
	m = msg_of(&walkmsg_to_scanner, WALKMSG_END, b.p, b.len);
	assert_int_equal(walkmsg_end_decode(&m, &e, &d), WARD_EPROTO);
	b.p[0] = 0;
	b.p[1] = (uint8_t)(-WARD_ELAST + 1);
	assert_int_equal(walkmsg_end_decode(&m, &e, &d), WARD_EPROTO);
	b.p[1] = (uint8_t)-WARD_ELAST;
	assert_int_equal(walkmsg_end_decode(&m, &e, &d), 0);
	assert_int_equal(e.error, WARD_ELAST);
	m.len--;
	assert_int_equal(walkmsg_end_decode(&m, &e, &d), WARD_EPROTO);
	assert_int_equal(e.error, 0);
	wbuf_free(&b);
	/* done: counts 0 and 17, a size that is not the count's, an unknown
	 * outcome, bytes of a file not scanned, matches of one not read, id 0 */
	wbuf_u32(&b, 0);
	m = msg_of(&walkmsg_to_walker, WALKMSG_DONE, b.p, b.len);
	assert_int_equal(walkmsg_done_decode(&m, &done, &d), WARD_EPROTO);
	wbuf_free(&b);
	wbuf_u32(&b, WALKMSG_MAX_DONE + 1);
	for (k = 0; k < WALKMSG_MAX_DONE + 1; k++) {
		wbuf_u64(&b, k + 1);
		wbuf_u8(&b, WALKMSG_SCANNED);
		wbuf_u32(&b, 0);
		wbuf_u64(&b, 0);
	}
	m = msg_of(&walkmsg_to_walker, WALKMSG_DONE, b.p, b.len);
	assert_int_equal(walkmsg_done_decode(&m, &done, &d), WARD_EPROTO);
	b.p[0] = 2; /* two records said, seventeen there */
	assert_int_equal(walkmsg_done_decode(&m, &done, &d), WARD_EPROTO);
	m.len = 4 + 2 * WALKMSG_DONE_RECORD;
	assert_int_equal(walkmsg_done_decode(&m, &done, &d), 0);
	assert_int_equal(done.n, 2);
	/* the second record, field by field */
	b.p[4 + WALKMSG_DONE_RECORD + 8] = 0; /* outcome 0 */
	assert_int_equal(walkmsg_done_decode(&m, &done, &d), WARD_EPROTO);
	assert_int_equal(done.n, 0);
	assert_int_equal(done.rec[0].id, 0); /* the first, read before, undone */
	b.p[4 + WALKMSG_DONE_RECORD + 8] = WALKMSG_OUTCOME_MAX + 1;
	assert_int_equal(walkmsg_done_decode(&m, &done, &d), WARD_EPROTO);
	b.p[4 + WALKMSG_DONE_RECORD + 8] = WALKMSG_SKIP_SPECIAL;
	assert_int_equal(walkmsg_done_decode(&m, &done, &d), 0);
	b.p[4 + WALKMSG_DONE_RECORD + 8 + 1 + 4] = 1; /* bytes, not scanned */
	assert_int_equal(walkmsg_done_decode(&m, &done, &d), WARD_EPROTO);
	b.p[4 + WALKMSG_DONE_RECORD + 8 + 1 + 4] = 0;
	b.p[4 + WALKMSG_DONE_RECORD + 8 + 1] = 1; /* matches, not read */
	assert_int_equal(walkmsg_done_decode(&m, &done, &d), WARD_EPROTO);
	b.p[4 + WALKMSG_DONE_RECORD + 8] = WALKMSG_ERROR; /* read, then failed */
	assert_int_equal(walkmsg_done_decode(&m, &done, &d), 0);
	assert_int_equal(done.rec[1].matches, 1);
	b.p[4 + WALKMSG_DONE_RECORD] = 0; /* id 0 */
	assert_int_equal(walkmsg_done_decode(&m, &done, &d), WARD_EPROTO);
	wbuf_free(&b);
	/* a stop with a payload; a ready decoded as stop */
	m = msg_of(&walkmsg_to_walker, WALKMSG_STOP, x, 1);
	assert_int_equal(walkmsg_empty_decode(&m, WALKMSG_STOP, &d), WARD_EPROTO);
	m = msg_of(&walkmsg_to_walker, WALKMSG_READY, x, 0);
	assert_int_equal(walkmsg_empty_decode(&m, WALKMSG_STOP, &d), WARD_EPROTO);
	assert_int_equal(walkmsg_empty_decode(&m, WALKMSG_READY, &d), 0);
	assert_int_equal(walkmsg_empty_decode(&m, WALKMSG_DONE, &d), WARD_EPROTO);
}

/* The tables, through the frame decoder: what each side may receive. */
static void
test_tables(void **state)
{
	static uint8_t frame[IPC_HEADER + 8];
	struct ipc_msg m;
	struct ward_diag d;
	struct wbuf b;

	(void)state;
	/* a stop (no payload) is the walker's to receive, not the scanner's */
	wbuf_init(&b);
	wbuf_u16(&b, IPC_MAGIC);
	wbuf_u8(&b, IPC_VERSION);
	wbuf_u8(&b, 0);
	wbuf_u16(&b, WALKMSG_STOP);
	wbuf_u16(&b, 0);
	wbuf_u32(&b, 0);
	wbuf_u32(&b, 1);
	memcpy(frame, b.p, b.len);
	assert_int_equal(ipc_frame_decode(&walkmsg_to_walker, frame, IPC_HEADER, 0, 1, &m, &d), 0);
	assert_int_equal(ipc_frame_decode(&walkmsg_to_scanner, frame, IPC_HEADER, 0, 1, &m, &d),
			 WARD_EPROTO);
	/* with a payload byte, or a descriptor, it is refused */
	frame[8] = 1;
	assert_int_equal(ipc_frame_decode(&walkmsg_to_walker, frame, IPC_HEADER + 1, 0, 1, &m, &d),
			 WARD_EPROTO);
	frame[8] = 0;
	frame[3] = IPC_F_FD;
	assert_int_equal(ipc_frame_decode(&walkmsg_to_walker, frame, IPC_HEADER, 1, 1, &m, &d),
			 WARD_EPROTO);
	/* an end (69 bytes) of 8 bytes */
	frame[3] = 0;
	frame[4] = WALKMSG_END;
	frame[8] = 8;
	assert_int_equal(ipc_frame_decode(&walkmsg_to_scanner, frame, IPC_HEADER + 8, 0, 1, &m, &d),
			 WARD_EPROTO);
	wbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_encode_bounds),
	    cmocka_unit_test(test_hostile_files_and_notes),
	    cmocka_unit_test(test_hostile_end_done_stop),
	    cmocka_unit_test(test_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
