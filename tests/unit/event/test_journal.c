/*
 * Unit tests of lib/event/journal: CRC32C, append and read across
 * segments and reopenings, recovery after a tear at every byte offset of
 * the last record and after a corrupt byte, the size cap and its drop
 * record, acknowledgement, concurrent appends.
 */
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

#include "event/journal.h"

static char dir[64];

static void
fresh_dir(void)
{
	char cmd[128];

	if (dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
	strcpy(dir, "/tmp/ward-test-journal-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

/* Record k's payload: "rec-K" padded to a size that varies with k. */
static size_t
payload(uint64_t k, char *buf, size_t cap)
{
	size_t n = (size_t)snprintf(buf, cap, "rec-%llu-", (unsigned long long)k);
	size_t want = 20 + (size_t)(k * 37 % 300);

	while (n < want && n < cap)
		buf[n++] = (char)('a' + k % 26);
	return n;
}

struct seen {
	uint64_t n, next;
	int bad;
};

static int
check_rec(void *arg, uint64_t seq, const uint8_t *p, size_t n)
{
	struct seen *s = arg;
	char want[400];
	size_t wn;

	if (s->next != 0 && seq != s->next)
		s->bad = 1;
	s->next = seq + 1;
	if (strncmp((const char *)p, "{\"event\"", 8) != 0) { /* drop records aside */
		wn = payload(seq, want, sizeof(want));
		if (wn != n || memcmp(want, p, n) != 0)
			s->bad = 1;
	}
	s->n++;
	return 0;
}

static struct journal *
open_j(uint64_t seg, uint64_t max)
{
	struct journal_opts o;
	struct journal *j = NULL;
	struct ward_diag d;

	journal_defaults(&o);
	o.segment_bytes = seg;
	o.max_bytes = max;
	o.fsync = JOURNAL_FSYNC_NEVER;
	assert_int_equal(journal_open(dir, &o, &j, &d), 0);
	return j;
}

static void
append_n(struct journal *j, uint64_t from, uint64_t n)
{
	char buf[400];
	uint64_t k, seq;

	for (k = from; k < from + n; k++) {
		size_t len = payload(k, buf, sizeof(buf));

		assert_int_equal(journal_append(j, buf, len, &seq), 0);
		assert_int_equal(seq, k);
	}
}

static void
test_crc32c(void **state)
{
	(void)state;
	assert_int_equal(journal_crc32c("123456789", 9), 0xe3069283u);
	assert_int_equal(journal_crc32c("", 0), 0);
}

static void
test_append_read_reopen(void **state)
{
	struct journal *j;
	struct journal_stats st;
	struct seen s;

	(void)state;
	fresh_dir();
	j = open_j(4096, 1u << 30);
	append_n(j, 1, 1000);
	journal_stats(j, &st);
	assert_true(st.segments > 10);
	assert_int_equal(st.next_seq, 1001);
	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_read(j, 1, check_rec, &s, NULL), 0);
	assert_int_equal(s.n, 1000);
	assert_false(s.bad);
	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_read(j, 990, check_rec, &s, NULL), 0);
	assert_int_equal(s.n, 11);
	journal_close(j);
	j = open_j(4096, 1u << 30);
	journal_stats(j, &st);
	assert_int_equal(st.next_seq, 1001);
	assert_int_equal(st.recovered_bytes, 0);
	append_n(j, 1001, 10);
	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_read(j, 1, check_rec, &s, NULL), 0);
	assert_int_equal(s.n, 1010);
	assert_false(s.bad);
	/* Records that are too large or empty are refused. */
	{
		uint64_t seq;
		static char big[JOURNAL_MAX_RECORD + 1];

		assert_int_equal(journal_append(j, big, sizeof(big), &seq), WARD_EINVAL);
		assert_int_equal(journal_append(j, big, 0, &seq), WARD_EINVAL);
	}
	journal_close(j);
}

/* The newest segment file. */
static void
last_segment(char *out, size_t outlen)
{
	char cmd[256];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ls %s/*.wjl | sort | tail -1", dir);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, (int)outlen, f));
	out[strcspn(out, "\n")] = '\0';
	pclose(f);
}

/*
 * Power loss in the middle of the last record: cut the file at every
 * offset of that record; every complete record survives, the torn one
 * goes, and appending continues with the next sequence.
 */
static void
test_torn_tail_every_offset(void **state)
{
	struct journal *j;
	struct journal_stats st;
	struct seen s;
	char seg[200], buf[400], copy[300];
	struct stat sb;
	off_t full, last_start, cut;
	size_t last_len;

	(void)state;
	fresh_dir();
	j = open_j(1 << 20, 1u << 30);
	append_n(j, 1, 20);
	journal_close(j);
	last_segment(seg, sizeof(seg));
	assert_int_equal(stat(seg, &sb), 0);
	full = sb.st_size;
	last_len = payload(20, buf, sizeof(buf));
	last_start = full - (off_t)(JOURNAL_RECORD_HEADER + last_len);
	snprintf(copy, sizeof(copy), "%s.orig", seg);
	assert_int_equal(rename(seg, copy), 0);
	for (cut = last_start; cut < full; cut++) {
		char cmd[1200];

		snprintf(cmd, sizeof(cmd), "cp %s %s && truncate -s %lld %s", copy, seg,
			 (long long)cut, seg);
		assert_int_equal(system(cmd), 0);
		j = open_j(1 << 20, 1u << 30);
		journal_stats(j, &st);
		assert_int_equal(st.next_seq, 20);
		assert_int_equal(st.recovered_bytes, (uint64_t)(cut - last_start));
		memset(&s, 0, sizeof(s));
		assert_int_equal(journal_read(j, 1, check_rec, &s, NULL), 0);
		assert_int_equal(s.n, 19);
		assert_false(s.bad);
		append_n(j, 20, 2);
		memset(&s, 0, sizeof(s));
		assert_int_equal(journal_read(j, 1, check_rec, &s, NULL), 0);
		assert_int_equal(s.n, 21);
		assert_false(s.bad);
		journal_close(j);
		assert_int_equal(unlink(seg), 0);
	}
	/* A flipped byte inside the last record: cut there too. */
	{
		char cmd[1200];
		FILE *f;

		snprintf(cmd, sizeof(cmd), "cp %s %s", copy, seg);
		assert_int_equal(system(cmd), 0);
		f = fopen(seg, "r+b");
		assert_non_null(f);
		fseek(f, (long)(full - 3), SEEK_SET);
		fputc('#', f);
		fclose(f);
		j = open_j(1 << 20, 1u << 30);
		journal_stats(j, &st);
		assert_int_equal(st.next_seq, 20);
		journal_close(j);
	}
}

struct dropped {
	int found;
	unsigned long long n;
};

static int
find_drop(void *arg, uint64_t seq, const uint8_t *p, size_t n)
{
	struct dropped *d = arg;
	const char *k = memmem(p, n, "\"dropped\":", 10);

	(void)seq;
	if (memmem(p, n, "journal-dropped", 15) != NULL && k != NULL) {
		d->found++;
		d->n += strtoull(k + 10, NULL, 10);
	}
	return 0;
}

static int
contiguous(void *arg, uint64_t seq, const uint8_t *p, size_t n)
{
	struct seen *s = arg;

	(void)p;
	(void)n;
	if (s->next != 0 && seq != s->next)
		s->bad = 1;
	s->next = seq + 1;
	s->n++;
	return 0;
}

static void
test_cap_drops_and_says_so(void **state)
{
	struct journal *j;
	struct journal_stats st;
	struct dropped dr;
	struct seen s;

	(void)state;
	fresh_dir();
	j = open_j(4096, 16384);
	{
		char buf[400];
		uint64_t k, seq;

		for (k = 1; k <= 500; k++) {
			size_t len = payload(k, buf, sizeof(buf));

			assert_int_equal(journal_append(j, buf, len, &seq), 0);
		}
	}
	journal_stats(j, &st);
	assert_true(st.bytes <= 16384 + 4096);
	assert_true(st.dropped > 0);
	assert_true(st.first_seq > 1);
	memset(&dr, 0, sizeof(dr));
	assert_int_equal(journal_read(j, 1, find_drop, &dr, NULL), 0);
	assert_true(dr.found > 0);
	/* What is kept is contiguous, and kept + dropped accounts for all. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_read(j, 1, contiguous, &s, NULL), 0);
	assert_false(s.bad);
	assert_int_equal(s.n + st.dropped, st.next_seq - 1);
	journal_close(j);
}

static void
test_ack(void **state)
{
	struct journal *j;
	struct journal_stats st, st2;

	(void)state;
	fresh_dir();
	j = open_j(4096, 1u << 30);
	append_n(j, 1, 300);
	journal_stats(j, &st);
	assert_int_equal(journal_ack(j, 150), 0);
	journal_stats(j, &st2);
	assert_true(st2.segments < st.segments);
	assert_true(st2.first_seq <= 151 && st2.first_seq > 1);
	/* Everything acknowledged: only the segment in use remains. */
	assert_int_equal(journal_ack(j, 300), 0);
	journal_stats(j, &st2);
	assert_int_equal(st2.segments, 1);
	append_n(j, 301, 5);
	journal_close(j);
}

static void *
appender(void *arg)
{
	struct journal *j = arg;
	uint64_t seq;
	int i;

	for (i = 0; i < 1000; i++)
		if (journal_append(j, "concurrent", 10, &seq) != 0)
			return (void *)1;
	return NULL;
}

static int
count(void *arg, uint64_t seq, const uint8_t *p, size_t n)
{
	struct seen *s = arg;

	(void)p;
	(void)n;
	if (seq != s->n + 1)
		s->bad = 1;
	s->n++;
	return 0;
}

static void
test_concurrent(void **state)
{
	struct journal *j;
	pthread_t t[4];
	struct seen s;
	void *rv;
	int i;

	(void)state;
	fresh_dir();
	j = open_j(8192, 1u << 30);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, appender, j), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &rv), 0);
		assert_null(rv);
	}
	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_read(j, 1, count, &s, NULL), 0);
	assert_int_equal(s.n, 4000);
	assert_false(s.bad);
	journal_close(j);
	fresh_dir();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc32c),
	    cmocka_unit_test(test_append_read_reopen),
	    cmocka_unit_test(test_torn_tail_every_offset),
	    cmocka_unit_test(test_cap_drops_and_says_so),
	    cmocka_unit_test(test_ack),
	    cmocka_unit_test(test_concurrent),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		r = 1;
	return r;
}
