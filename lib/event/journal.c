/*
 * journal: append-only event journal with crash recovery.  See journal.h.
 */
#include "event/journal.h"
#include "util/alloc.h"
#include "util/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEG_SUFFIX ".wjl"
#define MAX_SEGMENTS 100000

struct segment {
	uint64_t first; /* sequence of its first record */
	uint64_t bytes;
};

struct journal {
	char dir[1024];
	struct journal_opts o;
	pthread_mutex_t lock;
	struct segment *seg; /* oldest first; the last one is being appended to */
	unsigned nseg;
	size_t capseg;
	int fd;		   /* of the last segment, or -1 */
	uint64_t next_seq; /* of the next record */
	uint64_t total;	   /* bytes of all segments */
	uint64_t dropped;
	uint64_t recovered;
	int dirty; /* written since the last fsync */
	struct timespec last_sync;
};

/* --- CRC32C ------------------------------------------------------------- */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
	uint32_t i, c;
	int k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? 0x82f63b78u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t
journal_crc32c(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t crc = 0xffffffffu;
	size_t i;

	pthread_once(&crc_once, crc_init);
	for (i = 0; i < n; i++)
		crc = crc_table[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}

/* --- helpers ------------------------------------------------------------ */

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void
seg_path(const struct journal *j, uint64_t first, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%020" PRIu64 SEG_SUFFIX, j->dir, first);
}

static int
sync_dir(const struct journal *j)
{
	int fd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (fd < 0)
		return WARD_EIO;
	r = fsync(fd) == 0 ? 0 : WARD_EIO;
	close(fd);
	return r;
}

static int
seg_cmp(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* Records in segment i (all but the last are closed). */
static uint64_t
seg_records(const struct journal *j, unsigned i)
{
	uint64_t end = i + 1 < j->nseg ? j->seg[i + 1].first : j->next_seq;

	return end - j->seg[i].first;
}

void
journal_defaults(struct journal_opts *o)
{
	o->segment_bytes = 4u << 20;
	o->max_bytes = 256u << 20;
	o->fsync = JOURNAL_FSYNC_INTERVAL;
	o->interval_ms = 1000;
}

/*
 * Reads the records of the file fd (len bytes) that start at sequence
 * first; returns the length of the valid prefix and the records in it.
 */
static uint64_t
scan_valid(int fd, uint64_t len, uint64_t first, uint64_t *nrec)
{
	uint8_t hdr[JOURNAL_RECORD_HEADER], *buf = NULL;
	uint64_t off = 0, n = 0;
	size_t cap = 0;

	while (off + JOURNAL_RECORD_HEADER <= len) {
		uint32_t rl, crc;

		if (pread(fd, hdr, sizeof(hdr), (off_t)off) != (ssize_t)sizeof(hdr))
			break;
		rl = get32(hdr);
		crc = get32(hdr + 4);
		if (rl == 0 || rl > JOURNAL_MAX_RECORD || get64(hdr + 8) != first + n ||
		    off + JOURNAL_RECORD_HEADER + rl > len)
			break;
		if (rl > cap) {
			uint8_t *nb = ward_realloc(buf, rl);

			if (nb == NULL)
				break;
			buf = nb;
			cap = rl;
		}
		if (pread(fd, buf, rl, (off_t)(off + JOURNAL_RECORD_HEADER)) != (ssize_t)rl ||
		    journal_crc32c(buf, rl) != crc)
			break;
		off += JOURNAL_RECORD_HEADER + rl;
		n++;
	}
	ward_free(buf);
	*nrec = n;
	return off;
}

int
journal_open(const char *dir, const struct journal_opts *o, struct journal **out,
	     struct ward_diag *d)
{
	struct journal *j;
	struct dirent *de;
	char path[1200];
	DIR *dp;
	unsigned i;
	int r = 0;

	*out = NULL;
	if (strlen(dir) >= sizeof(j->dir) - 32)
		return diag_set(d, WARD_EINVAL, dir, 0, 0, "path too long");
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return diag_set(d, WARD_EIO, dir, 0, 0, "cannot create: %s", strerror(errno));
	j = ward_calloc(1, sizeof(*j));
	if (j == NULL)
		return diag_set(d, WARD_ENOMEM, dir, 0, 0, "out of memory");
	snprintf(j->dir, sizeof(j->dir), "%s", dir);
	if (o != NULL)
		j->o = *o;
	else
		journal_defaults(&j->o);
	if (j->o.segment_bytes < 4096)
		j->o.segment_bytes = 4096;
	if (j->o.max_bytes < 2 * j->o.segment_bytes)
		j->o.max_bytes = 2 * j->o.segment_bytes;
	pthread_mutex_init(&j->lock, NULL);
	j->fd = -1;
	j->next_seq = 1;
	dp = opendir(dir);
	if (dp == NULL) {
		r = diag_set(d, WARD_EIO, dir, 0, 0, "%s", strerror(errno));
		goto out;
	}
	while ((de = readdir(dp)) != NULL) {
		uint64_t first;
		int n = 0;
		struct stat st;

		if (sscanf(de->d_name, "%20" SCNu64 SEG_SUFFIX "%n", &first, &n) != 1 ||
		    de->d_name[n] != '\0' || n != 20 + (int)strlen(SEG_SUFFIX) || first == 0)
			continue;
		if (j->nseg == MAX_SEGMENTS)
			break;
		if (ward_grow(&j->seg, &j->capseg, j->nseg + 1, sizeof(*j->seg)) != 0) {
			r = diag_set(d, WARD_ENOMEM, dir, 0, 0, "out of memory");
			break;
		}
		seg_path(j, first, path, sizeof(path));
		if (stat(path, &st) != 0)
			continue;
		j->seg[j->nseg].first = first;
		j->seg[j->nseg].bytes = (uint64_t)st.st_size;
		j->nseg++;
	}
	closedir(dp);
	if (r != 0)
		goto out;
	if (j->nseg > 1)
		qsort(j->seg, j->nseg, sizeof(*j->seg), seg_cmp);
	if (j->nseg > 0) {
		struct segment *last = &j->seg[j->nseg - 1];
		uint64_t nrec, valid;

		seg_path(j, last->first, path, sizeof(path));
		j->fd = open(path, O_RDWR | O_CLOEXEC);
		if (j->fd < 0) {
			r = diag_set(d, WARD_EIO, path, 0, 0, "%s", strerror(errno));
			goto out;
		}
		valid = scan_valid(j->fd, last->bytes, last->first, &nrec);
		if (valid < last->bytes) {
			/* A torn or corrupt tail: keep every complete record. */
			if (ftruncate(j->fd, (off_t)valid) != 0 || fsync(j->fd) != 0) {
				r = diag_set(d, WARD_EIO, path, 0, 0, "cannot cut the torn tail: %s",
					     strerror(errno));
				goto out;
			}
			j->recovered = last->bytes - valid;
			last->bytes = valid;
		}
		j->next_seq = last->first + nrec;
	}
	for (i = 0; i < j->nseg; i++)
		j->total += j->seg[i].bytes;
	clock_gettime(CLOCK_MONOTONIC, &j->last_sync);
	*out = j;
	return 0;
out:
	journal_close(j);
	return r;
}

/* Starts a new segment for the next record. */
static int
roll(struct journal *j)
{
	char path[1200];
	int fd;

	if (j->fd >= 0) {
		if (j->o.fsync != JOURNAL_FSYNC_NEVER && j->dirty && fsync(j->fd) != 0)
			return WARD_EIO;
		close(j->fd);
		j->fd = -1;
		j->dirty = 0;
	}
	if (ward_grow(&j->seg, &j->capseg, j->nseg + 1, sizeof(*j->seg)) != 0)
		return WARD_ENOMEM;
	seg_path(j, j->next_seq, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return WARD_EIO;
	j->fd = fd;
	j->seg[j->nseg].first = j->next_seq;
	j->seg[j->nseg].bytes = 0;
	j->nseg++;
	return j->o.fsync != JOURNAL_FSYNC_NEVER ? sync_dir(j) : 0;
}

static int
maybe_sync(struct journal *j)
{
	struct timespec now;
	long ms;

	if (j->o.fsync == JOURNAL_FSYNC_NEVER || !j->dirty)
		return 0;
	if (j->o.fsync == JOURNAL_FSYNC_INTERVAL) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (now.tv_sec - j->last_sync.tv_sec) * 1000 +
		     (now.tv_nsec - j->last_sync.tv_nsec) / 1000000;
		if (ms < (long)j->o.interval_ms)
			return 0;
	}
	if (fdatasync(j->fd) != 0)
		return WARD_EIO;
	j->dirty = 0;
	clock_gettime(CLOCK_MONOTONIC, &j->last_sync);
	return 0;
}

static int append_locked(struct journal *j, const void *p, size_t n, uint64_t *seq);

/* Drops oldest segments past the cap; records how many records went. */
static int
enforce_cap(struct journal *j)
{
	uint64_t lost = 0, from = 0, to = 0, seq;
	char path[1200], msg[400];
	int r;

	while (j->total > j->o.max_bytes && j->nseg > 1) {
		uint64_t k = seg_records(j, 0);

		if (lost == 0)
			from = j->seg[0].first;
		to = j->seg[0].first + k - 1;
		lost += k;
		seg_path(j, j->seg[0].first, path, sizeof(path));
		(void)unlink(path);
		j->total -= j->seg[0].bytes;
		memmove(&j->seg[0], &j->seg[1], (j->nseg - 1) * sizeof(*j->seg));
		j->nseg--;
	}
	if (lost == 0)
		return 0;
	j->dropped += lost;
	snprintf(msg, sizeof(msg),
		 "{\"event\":{\"kind\":\"event\",\"category\":[\"host\"],\"type\":[\"info\"],"
		 "\"action\":\"journal-dropped\",\"outcome\":\"success\"},"
		 "\"message\":\"journal over its size cap: %" PRIu64 " events dropped\","
		 "\"ward\":{\"journal\":{\"dropped\":%" PRIu64 ",\"first_dropped_seq\":%" PRIu64
		 ",\"last_dropped_seq\":%" PRIu64 "}}}",
		 lost, lost, from, to);
	r = append_locked(j, msg, strlen(msg), &seq);
	return r;
}

static int
append_locked(struct journal *j, const void *p, size_t n, uint64_t *seq)
{
	uint8_t *rec;
	size_t len = JOURNAL_RECORD_HEADER + n;
	struct segment *s;
	int r;

	if (j->fd < 0 || (j->seg[j->nseg - 1].bytes > 0 &&
			  j->seg[j->nseg - 1].bytes + len > j->o.segment_bytes)) {
		if ((r = roll(j)) != 0)
			return r;
	}
	s = &j->seg[j->nseg - 1];
	rec = ward_malloc(len);
	if (rec == NULL)
		return WARD_ENOMEM;
	put32(rec, (uint32_t)n);
	put32(rec + 4, journal_crc32c(p, n));
	put32(rec + 8, (uint32_t)j->next_seq);
	put32(rec + 12, (uint32_t)(j->next_seq >> 32));
	memcpy(rec + JOURNAL_RECORD_HEADER, p, n);
	{
		size_t done = 0;

		while (done < len) {
			ssize_t k = pwrite(j->fd, rec + done, len - done, (off_t)(s->bytes + done));

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				/* Undo a partial record so the file stays a sequence of
				 * whole ones. */
				(void)ftruncate(j->fd, (off_t)s->bytes);
				ward_free(rec);
				return WARD_EIO;
			}
			done += (size_t)k;
		}
	}
	ward_free(rec);
	s->bytes += len;
	j->total += len;
	*seq = j->next_seq++;
	j->dirty = 1;
	if ((r = maybe_sync(j)) != 0)
		return r;
	return enforce_cap(j);
}

int
journal_append(struct journal *j, const void *p, size_t n, uint64_t *seq)
{
	int r;

	*seq = 0;
	if (n == 0 || n > JOURNAL_MAX_RECORD)
		return WARD_EINVAL;
	pthread_mutex_lock(&j->lock);
	r = append_locked(j, p, n, seq);
	pthread_mutex_unlock(&j->lock);
	return r;
}

int
journal_flush(struct journal *j)
{
	int r = 0;

	pthread_mutex_lock(&j->lock);
	if (j->fd >= 0 && j->dirty) {
		r = fdatasync(j->fd) == 0 ? 0 : WARD_EIO;
		if (r == 0) {
			j->dirty = 0;
			clock_gettime(CLOCK_MONOTONIC, &j->last_sync);
		}
	}
	pthread_mutex_unlock(&j->lock);
	return r;
}

int
journal_read(struct journal *j, uint64_t from, journal_read_fn fn, void *arg, uint64_t *damaged)
{
	struct segment *segs;
	unsigned nseg, i;
	uint8_t hdr[JOURNAL_RECORD_HEADER], *buf = NULL;
	size_t cap = 0;
	char path[1200];
	int r = 0;

	if (damaged != NULL)
		*damaged = 0;
	pthread_mutex_lock(&j->lock);
	nseg = j->nseg;
	segs = nseg > 0 ? ward_malloc(nseg * sizeof(*segs)) : NULL;
	if (segs != NULL)
		memcpy(segs, j->seg, nseg * sizeof(*segs));
	pthread_mutex_unlock(&j->lock);
	if (nseg > 0 && segs == NULL)
		return WARD_ENOMEM;
	for (i = 0; i < nseg && r == 0; i++) {
		uint64_t off = 0, expect = segs[i].first;
		int fd;

		if (i + 1 < nseg && segs[i + 1].first <= from)
			continue; /* wholly before from */
		seg_path(j, segs[i].first, path, sizeof(path));
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* dropped or acknowledged meanwhile */
		while (r == 0 && off + JOURNAL_RECORD_HEADER <= segs[i].bytes) {
			uint32_t rl;
			uint64_t seq;

			if (pread(fd, hdr, sizeof(hdr), (off_t)off) != (ssize_t)sizeof(hdr))
				break;
			rl = get32(hdr);
			seq = get64(hdr + 8);
			if (rl == 0 || rl > JOURNAL_MAX_RECORD || off + JOURNAL_RECORD_HEADER + rl >
									segs[i].bytes) {
				if (damaged != NULL)
					(*damaged)++;
				break; /* cannot find the next record: skip the segment's rest */
			}
			if (rl > cap) {
				uint8_t *nb = ward_realloc(buf, rl);

				if (nb == NULL) {
					r = WARD_ENOMEM;
					break;
				}
				buf = nb;
				cap = rl;
			}
			if (pread(fd, buf, rl, (off_t)(off + JOURNAL_RECORD_HEADER)) != (ssize_t)rl)
				break;
			off += JOURNAL_RECORD_HEADER + rl;
			if (seq != expect || journal_crc32c(buf, rl) != get32(hdr + 4)) {
				if (damaged != NULL)
					(*damaged)++;
				expect++;
				continue;
			}
			expect++;
			if (seq >= from)
				r = fn(arg, seq, buf, rl);
		}
		close(fd);
	}
	ward_free(buf);
	ward_free(segs);
	return r;
}

int
journal_ack(struct journal *j, uint64_t seq)
{
	char path[1200];

	pthread_mutex_lock(&j->lock);
	/* Never the segment being appended to. */
	while (j->nseg > 1 && j->seg[1].first - 1 <= seq) {
		seg_path(j, j->seg[0].first, path, sizeof(path));
		(void)unlink(path);
		j->total -= j->seg[0].bytes;
		memmove(&j->seg[0], &j->seg[1], (j->nseg - 1) * sizeof(*j->seg));
		j->nseg--;
	}
	pthread_mutex_unlock(&j->lock);
	return 0;
}

void
journal_stats(struct journal *j, struct journal_stats *st)
{
	pthread_mutex_lock(&j->lock);
	memset(st, 0, sizeof(*st));
	st->first_seq = j->nseg > 0 && j->next_seq > j->seg[0].first ? j->seg[0].first : 0;
	st->next_seq = j->next_seq;
	st->bytes = j->total;
	st->segments = j->nseg;
	st->dropped = j->dropped;
	st->recovered_bytes = j->recovered;
	pthread_mutex_unlock(&j->lock);
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->fd >= 0) {
		if (j->dirty && j->o.fsync != JOURNAL_FSYNC_NEVER)
			(void)fdatasync(j->fd);
		close(j->fd);
	}
	pthread_mutex_destroy(&j->lock);
	ward_free(j->seg);
	ward_free(j);
}
