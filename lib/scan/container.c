/*
 * container: the walk into archives and compressed files.  See container.h.
 *
 * Must hold: no byte of a member touches a disk (members live in memory
 * files, one per depth, reused); every byte libarchive hands out is
 * counted against the limits before it is written, and the time and the
 * cancel flag are looked at on every block read and every block
 * extracted, so that neither a bomb nor a stuck decompressor outlives its
 * limit by more than one block; a container's contents never make the
 * walk fail — they end as a note (limit, encrypted, damaged) and the walk
 * goes on with what is left; libarchive reads the container only through
 * pread on the descriptor (its offset is never moved, so a caller's other
 * reads of it are not disturbed).
 */
#include "scan/container.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/clock.h"
#include "util/limits.h"

/* Bytes of the head looked at by container_sniff: tar's "ustar" is at 257. */
#define CONTAINER_HEAD 264
/* iso9660's first volume descriptor: "CD001" at 32769. */
#define CONTAINER_ISO_OFF 32769
#define CONTAINER_ISO_LEN 5

static const char *const note_words[CONTAINER_NOTE_COUNT] = {
    [CONTAINER_TOTAL] = "total",     [CONTAINER_MEMBER] = "member",
    [CONTAINER_FILES] = "files",     [CONTAINER_RATIO] = "ratio",
    [CONTAINER_DEPTH] = "depth",     [CONTAINER_TIME] = "time",
    [CONTAINER_MEMORY] = "memory",   [CONTAINER_ENCRYPTED] = "encrypted",
    [CONTAINER_DAMAGED] = "damaged",
};

/* clamscan's names where it has the limit; ward's own names otherwise. */
static const char *const note_heur[CONTAINER_NLIMITS] = {
    [CONTAINER_TOTAL] = "Heuristics.Limits.Exceeded.MaxScanSize",
    [CONTAINER_MEMBER] = "Heuristics.Limits.Exceeded.MaxFileSize",
    [CONTAINER_FILES] = "Heuristics.Limits.Exceeded.MaxFiles",
    [CONTAINER_RATIO] = "Heuristics.Limits.Exceeded.MaxRatio",
    [CONTAINER_DEPTH] = "Heuristics.Limits.Exceeded.MaxRecursion",
    [CONTAINER_TIME] = "Heuristics.Limits.Exceeded.MaxScanTime",
    [CONTAINER_MEMORY] = "Heuristics.Limits.Exceeded.MaxMemory",
};

const char *
container_note_word(enum container_note n)
{
	return (unsigned)n < CONTAINER_NOTE_COUNT ? note_words[n] : "unknown";
}

const char *
container_note_heuristic(enum container_note n, const char *format)
{
	if ((unsigned)n < CONTAINER_NLIMITS)
		return note_heur[n];
	if (n != CONTAINER_ENCRYPTED)
		return NULL;
	if (format != NULL && strcmp(format, "Zip") == 0)
		return "Heuristics.Encrypted.Zip";
	if (format != NULL && strcmp(format, "RAR") == 0)
		return "Heuristics.Encrypted.RAR";
	if (format != NULL && strcmp(format, "7Zip") == 0)
		return "Heuristics.Encrypted.7Zip";
	return "Heuristics.Encrypted.Archive";
}

void
container_limits_scan(struct container_limits *l)
{
	l->total = WARD_CONTAINER_SCAN_TOTAL;
	l->member = WARD_CONTAINER_SCAN_MEMBER;
	l->files = WARD_CONTAINER_SCAN_FILES;
	l->ratio = WARD_CONTAINER_SCAN_RATIO;
	l->depth = WARD_CONTAINER_SCAN_DEPTH;
	l->time_ms = WARD_CONTAINER_SCAN_TIME_MS;
}

void
container_limits_agent(struct container_limits *l)
{
	l->total = WARD_CONTAINER_AGENT_TOTAL;
	l->member = WARD_CONTAINER_AGENT_MEMBER;
	l->files = WARD_CONTAINER_AGENT_FILES;
	l->ratio = WARD_CONTAINER_AGENT_RATIO;
	l->depth = WARD_CONTAINER_AGENT_DEPTH;
	l->time_ms = WARD_CONTAINER_AGENT_TIME_MS;
}

static int
has(const uint8_t *head, size_t n, size_t off, const char *magic, size_t len)
{
	return n >= off + len && memcmp(head + off, magic, len) == 0;
}

int
container_sniff(const uint8_t *h, size_t n, const uint8_t *iso)
{
	static const struct {
		const char *m;
		size_t len, off;
	} magic[] = {
	    {"PK\3\4", 4, 0},
	    {"PK\5\6", 4, 0}, /* zip, empty zip */
	    {"PK\7\10", 4, 0},
	    {"7z\xbc\xaf\x27\x1c", 6, 0}, /* spanned zip, 7z */
	    {"Rar!\x1a\x07", 6, 0},
	    {"MSCF\0\0\0\0", 8, 0}, /* rar 4/5, cab */
	    {"!<arch>\n", 8, 0},
	    {"\xed\xab\xee\xdb", 4, 0}, /* ar (.deb), rpm */
	    {"07070", 5, 0},
	    {"\xc7\x71", 2, 0}, /* cpio: ascii, binary le */
	    {"\x71\xc7", 2, 0},
	    {"ustar", 5, 257}, /* binary be, tar */
	    {"\x1f\x8b", 2, 0},
	    {"BZh", 3, 0}, /* gzip, bzip2 */
	    {"\xfd"
	     "7zXZ\0",
	     6, 0},
	    {"\x5d\0\0", 3, 0}, /* xz, lzma */
	    {"\x28\xb5\x2f\xfd", 4, 0},
	    {"\x04\x22\x4d\x18", 4, 0}, /* zstd, lz4 */
	    {"\x1f\x9d", 2, 0},		/* compress */
	};
	size_t i;

	for (i = 0; i < sizeof(magic) / sizeof(magic[0]); i++)
		if (has(h, n, magic[i].off, magic[i].m, magic[i].len))
			return 1;
	return iso != NULL && memcmp(iso, "CD001", CONTAINER_ISO_LEN) == 0;
}

/* One walk: a file on disk and everything in it. */
struct walk {
	const struct matcher *m;
	struct matcher_scratch *s;
	const struct container_opts *o;
	const struct container_limits *lim;
	const char *chain[WARD_CONTAINER_MAX_DEPTH + 1];
	char *names[WARD_CONTAINER_MAX_DEPTH + 1];
	unsigned n;
	int memfd[WARD_CONTAINER_MAX_DEPTH + 1];	/* the members of depth i; -1: none yet */
	uint64_t memsize[WARD_CONTAINER_MAX_DEPTH + 1]; /* its size */
	uint64_t total, files;
	double deadline;
	int halt;     /* a walk-wide limit or the cancel flag: unwind */
	int canceled; /* *cancel was seen */
};

/* One container being read: libarchive's view of fd. */
struct level {
	struct walk *w;
	int fd;
	uint64_t size, pos;
	uint64_t read, out; /* bytes handed to libarchive, bytes it extracted */
	uint8_t *buf;
	int halted_here; /* the read callback stopped libarchive */
};

static void
note(struct walk *w, enum container_note n, const char *format)
{
	struct container_where where = {w->chain, w->n};

	if (w->o->note != NULL)
		w->o->note(w->o->arg, n, &where, format);
}

/* Cancel and time, looked at every block: 1 when the walk must unwind
 * (the time note made once). */
static int
must_stop(struct walk *w)
{
	if (w->halt)
		return 1;
	if (w->o->cancel != NULL && *w->o->cancel) {
		w->halt = w->canceled = 1;
		return 1;
	}
	if (clock_mono() > w->deadline) {
		w->halt = 1;
		note(w, CONTAINER_TIME, NULL);
		return 1;
	}
	return 0;
}

static la_ssize_t
lv_read(struct archive *a, void *arg, const void **buf)
{
	struct level *lv = arg;
	ssize_t got;
	size_t want = WARD_CONTAINER_READ_BLOCK;

	*buf = lv->buf;
	if (must_stop(lv->w)) {
		lv->halted_here = 1;
		archive_set_error(a, EINTR, "stopped");
		return -1;
	}
	if (lv->pos >= lv->size)
		return 0;
	if (lv->size - lv->pos < want)
		want = (size_t)(lv->size - lv->pos);
	do
		got = pread(lv->fd, lv->buf, want, (off_t)lv->pos);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		archive_set_error(a, errno, "read error");
		return -1;
	}
	lv->pos += (uint64_t)got;
	lv->read += (uint64_t)got;
	return got;
}

static la_int64_t
lv_seek(struct archive *a, void *arg, la_int64_t off, int whence)
{
	struct level *lv = arg;
	int64_t base = whence == SEEK_SET   ? 0
		       : whence == SEEK_CUR ? (int64_t)lv->pos
					    : (int64_t)lv->size;

	(void)a;
	if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
		return ARCHIVE_FATAL;
	lv->pos = (uint64_t)(base + off);
	return (la_int64_t)lv->pos;
}

static la_int64_t
lv_skip(struct archive *a, void *arg, la_int64_t req)
{
	struct level *lv = arg;
	uint64_t left = lv->pos < lv->size ? lv->size - lv->pos : 0;
	uint64_t n = req > 0 ? (uint64_t)req : 0;

	(void)a;
	if (n > left)
		n = left;
	lv->pos += n;
	return (la_int64_t)n;
}

static int
wrap_report(void *arg, const struct matcher_scratch *s, uint32_t rule, const char *hash_name)
{
	struct walk *w = arg;
	struct container_where where = {w->chain, w->n};

	return w->o->report(w->o->arg, s, rule, hash_name, &where);
}

/* The short name of a's format, for notes (static). */
static const char *
format_word(struct archive *a)
{
	switch (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) {
	case ARCHIVE_FORMAT_ZIP:
		return "Zip";
	case ARCHIVE_FORMAT_RAR:
	case ARCHIVE_FORMAT_RAR_V5:
		return "RAR";
	case ARCHIVE_FORMAT_7ZIP:
		return "7Zip";
	case ARCHIVE_FORMAT_TAR:
		return "TAR";
	case ARCHIVE_FORMAT_CPIO:
		return "CPIO";
	case ARCHIVE_FORMAT_AR:
		return "AR";
	case ARCHIVE_FORMAT_CAB:
		return "CAB";
	case ARCHIVE_FORMAT_ISO9660:
		return "ISO9660";
	case ARCHIVE_FORMAT_RAW:
		return "Raw";
	default:
		return "Archive";
	}
}

/*
 * The name of a compressed stream's one member: the container's name
 * without its compression suffix (clam.exe.bz2 -> clam.exe, x.tgz ->
 * x.tar), or "data".  Into out (outlen > 0).
 */
static void
stream_name(const char *outer, char *out, size_t outlen)
{
	static const char *const sfx[][2] = {
	    {".gz", ""},       {".bz2", ""},	 {".xz", ""},	   {".lzma", ""},
	    {".zst", ""},      {".lz4", ""},	 {".Z", ""},	   {".tgz", ".tar"},
	    {".tbz2", ".tar"}, {".tbz", ".tar"}, {".txz", ".tar"}, {".tzst", ".tar"},
	};
	const char *base = outer != NULL ? strrchr(outer, '/') : NULL;
	size_t len, i, k;

	base = base != NULL ? base + 1 : outer;
	snprintf(out, outlen, "data");
	if (base == NULL || *base == '\0')
		return;
	len = strlen(base);
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		k = strlen(sfx[i][0]);
		if (len > k && strcmp(base + len - k, sfx[i][0]) == 0) {
			snprintf(out, outlen, "%.*s%s", (int)(len - k), base, sfx[i][1]);
			return;
		}
	}
}

static int walk_file(struct walk *w, int fd, uint64_t size, unsigned depth);

/* Writes all n bytes of p at off of fd: 0 or -1. */
static int
write_at(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t k = pwrite(fd, p, n, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

/* What became of a member's extraction. */
enum xres {
	X_DONE,	   /* whole */
	X_SKIPPED, /* larger than the member limit, or past the ratio: not kept,
		    * the container goes on */
	X_FAILED,  /* this member cannot be read (an unsupported method, ...): the
		    * next one may be */
	X_ENDED,   /* the container ends here (ratio, damaged, memory, halt) */
};

/* Cuts memory file i of w to len bytes when it is longer (what the last
 * member left past it must not be read as this one's): 0 or WARD_EIO. */
static int
cut(struct walk *w, unsigned i, uint64_t len)
{
	if (w->memsize[i] <= len)
		return 0;
	if (ftruncate(w->memfd[i], (off_t)len) != 0)
		return WARD_EIO;
	w->memsize[i] = len;
	return 0;
}

/*
 * Extracts the current entry of a into memory file i of w (its bytes
 * counted), its length in *len.  The blocks are libarchive's own (no
 * copy); the memory file is reused from member to member, its pages
 * overwritten rather than freed and faulted in again, and cut to the
 * member's length at its end.  A hole of a sparse member is counted as
 * extracted bytes (it is scanned as zeros).  Returns an xres, or a
 * negative WARD_E* when the memory file cannot be written.
 */
static int
extract(struct walk *w, struct level *lv, struct archive *a, unsigned i, int64_t declared,
	uint64_t *len)
{
	const struct container_limits *lim = w->lim;
	const uint64_t read0 = lv->read, out0 = lv->out, total0 = w->total;
	int skipping = 0, e;

	*len = 0;
	for (;;) {
		const void *buf = NULL;
		size_t k = 0;
		la_int64_t off = (la_int64_t)*len;
		uint64_t grow;

		e = archive_read_data_block(a, &buf, &k, &off);
		if (buf == NULL)
			k = 0;
		if (e == ARCHIVE_EOF)
			break;
		if (e == ARCHIVE_WARN) {
			if (must_stop(w))
				return X_ENDED;
		} else if (e != ARCHIVE_OK) {
			if (lv->halted_here || w->halt)
				return X_ENDED;
			note(w, archive_errno(a) == ENOMEM ? CONTAINER_MEMORY : CONTAINER_DAMAGED,
			     format_word(a));
			return e == ARCHIVE_FAILED && archive_errno(a) != ENOMEM ? X_FAILED
										 : X_ENDED;
		}
		if (off < 0 || (uint64_t)off > UINT64_MAX / 2 || k > UINT64_MAX / 4)
			off = (la_int64_t)*len; /* nonsense from a format: kept in order */
		grow = (uint64_t)off + k > *len ? (uint64_t)off + k - *len : 0;
		/* The member limit first: a sparse member of 60 GiB (Go's tar
		 * test data has one) is one member too large, not a walk too
		 * large — its holes count only while it is kept. */
		if (!skipping && *len + grow > lim->member) {
			note(w, CONTAINER_MEMBER, format_word(a));
			skipping = 1;
		}
		/* Counted: the bytes given, and a hole before them. */
		w->total += k + (!skipping && (uint64_t)off > *len ? (uint64_t)off - *len : 0);
		lv->out += k;
		if (w->total > lim->total) {
			w->halt = 1;
			note(w, CONTAINER_TOTAL, format_word(a));
			return X_ENDED;
		}
		/* The ratio is the member's own: a member that inflates too
		 * much is left (its name noted) and the container goes on, so
		 * that a few KiB of padding cannot hide the members after it;
		 * a bomb's leaves each stop early, and the total ends the walk.
		 * What this member's first bytes came in with may have been
		 * read with the member before it: one read block of slack. */
		if (lim->ratio > 0 && lv->out - out0 > WARD_CONTAINER_RATIO_FLOOR &&
		    (lv->out - out0) / lim->ratio > lv->read - read0 + WARD_CONTAINER_READ_BLOCK) {
			note(w, CONTAINER_RATIO, format_word(a));
			/* What it says it holds is charged to the total, not only
			 * what was read of it: a bomb's leaves each say their
			 * gigabytes, and the walk ends after a few of them, not
			 * after the total's worth of decompression. */
			if (declared > 0 && (uint64_t)declared > w->total - total0)
				w->total = total0 + (uint64_t)declared;
			if (w->total > lim->total) {
				w->halt = 1;
				note(w, CONTAINER_TOTAL, format_word(a));
				return X_ENDED;
			}
			return X_SKIPPED;
		}
		if (!skipping && k > 0) {
			/* A hole must read as zeros, not as the last member. */
			if ((uint64_t)off > *len && (e = cut(w, i, *len)) != 0)
				return e;
			if (write_at(w->memfd[i], buf, k, (uint64_t)off) != 0)
				return WARD_EIO;
			*len += grow;
			if (*len > w->memsize[i])
				w->memsize[i] = *len;
		}
		if (must_stop(w))
			return X_ENDED;
	}
	if (!skipping && (e = cut(w, i, *len)) != 0)
		return e;
	return skipping ? X_SKIPPED : X_DONE;
}

/* Sets chain[n] to a copy of name (cut to WARD_CONTAINER_MAX_NAME). */
static int
push(struct walk *w, const char *name)
{
	size_t len = strnlen(name, WARD_CONTAINER_MAX_NAME);
	char *c = ward_malloc(len + 1);

	if (c == NULL)
		return WARD_ENOMEM;
	memcpy(c, name, len);
	c[len] = '\0';
	w->names[w->n] = c;
	w->chain[w->n] = c;
	w->n++;
	return 0;
}

static void
pop(struct walk *w)
{
	w->n--;
	ward_free(w->names[w->n]);
	w->names[w->n] = NULL;
	w->chain[w->n] = NULL;
}

/*
 * The decompressors libarchive runs in this process.  Never
 * archive_read_support_filter_all: it registers lzop, lrzip and grzip
 * (and any filter whose library libarchive was built without) as
 * external programs, forked and run on the container's bytes — a
 * sandboxed scanner dies of it (fork is not allowed), an unconfined one
 * runs a program on hostile input.  A filter whose registration says
 * ARCHIVE_WARN is such a program: each is tried on a scratch reader
 * first and left out then.
 */
static int (*const filters[])(struct archive *) = {
    archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
    archive_read_support_filter_xz,   archive_read_support_filter_lzma,
    archive_read_support_filter_lzip, archive_read_support_filter_zstd,
    archive_read_support_filter_lz4,  archive_read_support_filter_compress,
    archive_read_support_filter_rpm,
};

/* A reader of lv, open, or NULL with libarchive's errno in *err (0: out
 * of memory before it could say). */
static struct archive *
open_reader(struct level *lv, int *err)
{
	struct archive *a = archive_read_new(), *probe = archive_read_new();
	size_t i;

	*err = ENOMEM;
	if (a == NULL || probe == NULL) {
		archive_read_free(a);
		archive_read_free(probe);
		return NULL;
	}
	for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		if (filters[i](probe) == ARCHIVE_OK)
			(void)filters[i](a);
	archive_read_free(probe);
	archive_read_support_format_zip(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_ar(a);
	archive_read_support_format_7zip(a);
	archive_read_support_format_cab(a);
	archive_read_support_format_iso9660(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	/* rpm is a filter (above) over its cpio payload.  Last bidder: raw, a
	 * compressed stream that holds no archive. */
	archive_read_support_format_raw(a);
	archive_read_set_read_callback(a, lv_read);
	archive_read_set_seek_callback(a, lv_seek);
	archive_read_set_skip_callback(a, lv_skip);
	archive_read_set_callback_data(a, lv);
	if (archive_read_open1(a) != ARCHIVE_OK) {
		*err = archive_errno(a);
		archive_read_free(a);
		return NULL;
	}
	*err = 0;
	return a;
}

/*
 * Whether a, whose first header failed, is a container all the same: a
 * decompressor took its bytes, or a format claimed it.  Then its refused
 * first header is damage to report (members behind it would go unseen),
 * not a file that only looks like a container at its first bytes.
 */
static int
claimed(struct archive *a)
{
	int f = archive_format(a) & ARCHIVE_FORMAT_BASE_MASK;

	return archive_filter_count(a) > 1 || (f != 0 && f != ARCHIVE_FORMAT_RAW);
}

/* Walks the members of the container fd (at depth, the container's own). */
static int
walk_archive(struct walk *w, int fd, uint64_t size, unsigned depth)
{
	struct level lv = {.w = w, .fd = fd, .size = size};
	struct archive *a = NULL;
	struct archive_entry *ent;
	char sname[WARD_CONTAINER_MAX_NAME];
	int r = 0, first = 1, e, err;

	if ((lv.buf = ward_malloc(WARD_CONTAINER_READ_BLOCK)) == NULL)
		return WARD_ENOMEM;
	/* No format claims it: not a container after all — unless a
	 * decompressor could not have its memory (an xz header asking for a
	 * dictionary the process cannot hold fails while formats bid). */
	if ((a = open_reader(&lv, &err)) == NULL) {
		if (err == ENOMEM && !lv.halted_here)
			note(w, CONTAINER_MEMORY, NULL);
		goto out;
	}
	for (;;) {
		const char *name;
		uint64_t len;

		e = archive_read_next_header(a, &ent);
		if (e == ARCHIVE_EOF || w->halt)
			break;
		/* ARCHIVE_RETRY (a tar header whose checksum fails) is damage too:
		 * the container ends there rather than guess where it goes on. */
		if (e != ARCHIVE_OK && e != ARCHIVE_WARN) {
			if (!lv.halted_here && archive_errno(a) == ENOMEM)
				note(w, CONTAINER_MEMORY, format_word(a));
			else if (!lv.halted_here && (!first || claimed(a)))
				note(w, CONTAINER_DAMAGED, format_word(a));
			break;
		}
		/* Raw with no filter but "none": plain bytes, not a stream. */
		if (first && (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_RAW &&
		    archive_filter_count(a) <= 1)
			break;
		first = 0;
		if (++w->files > w->lim->files) {
			w->halt = 1;
			note(w, CONTAINER_FILES, format_word(a));
			break;
		}
		if ((archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_RAW) {
			stream_name(depth == 0 ? w->o->name : w->chain[w->n - 1], sname,
				    sizeof(sname));
			name = sname;
		} else {
			/* The UTF-8 form first: in the C locale, a name outside
			 * ASCII has no other (the bytes are shown escaped). */
			name = archive_entry_pathname_utf8(ent);
			if (name == NULL)
				name = archive_entry_pathname(ent);
			if (name == NULL)
				name = "?";
		}
		if ((r = push(w, name)) != 0)
			break;
		if (archive_entry_is_encrypted(ent)) {
			note(w, CONTAINER_ENCRYPTED, format_word(a));
			pop(w);
			continue;
		}
		if (archive_entry_filetype(ent) != AE_IFREG) {
			pop(w);
			continue;
		}
		if (w->memfd[depth + 1] < 0 &&
		    (w->memfd[depth + 1] = memfd_create("ward-member", MFD_CLOEXEC)) < 0) {
			r = errno == ENOMEM ? WARD_ENOMEM : WARD_EIO;
			pop(w);
			break;
		}
		e = extract(w, &lv, a, depth + 1,
			    archive_entry_size_is_set(ent) ? archive_entry_size(ent) : -1, &len);
		if (e < 0) {
			r = e;
			pop(w);
			break;
		}
		/* A damaged member is scanned as far as it came. */
		if (e != X_SKIPPED && !w->halt) {
			if (w->o->member != NULL) {
				struct container_where where = {w->chain, w->n};

				w->o->member(w->o->arg, &where, w->memfd[depth + 1], len);
			}
			r = walk_file(w, w->memfd[depth + 1], len, depth + 1);
		}
		pop(w);
		if (r != 0 || e == X_ENDED)
			break;
	}
out:
	if (a != NULL)
		archive_read_free(a);
	ward_free(lv.buf);
	return r;
}

/* Scans fd (of depth) and, when it is a container, walks it. */
static int
walk_file(struct walk *w, int fd, uint64_t size, unsigned depth)
{
	uint8_t head[CONTAINER_HEAD], iso[CONTAINER_ISO_LEN];
	ssize_t n;
	int e, has_iso = 0;

	e = matcher_scan_fd(w->m, w->s, fd, size, wrap_report, w, w->o->cancel);
	if (e != 0 || !w->o->archives || w->halt)
		return e;
	n = pread(fd, head, sizeof(head), 0);
	if (n <= 0)
		return 0; /* read as far as the matcher could: nothing more to see */
	if (size >= CONTAINER_ISO_OFF + CONTAINER_ISO_LEN)
		has_iso = pread(fd, iso, sizeof(iso), CONTAINER_ISO_OFF) == (ssize_t)sizeof(iso);
	if (!container_sniff(head, (size_t)n, has_iso ? iso : NULL))
		return 0;
	if (depth >= w->lim->depth) {
		note(w, CONTAINER_DEPTH, NULL);
		return 0;
	}
	return walk_archive(w, fd, size, depth);
}

locale_t
container_locale(void)
{
	locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);

	return l != (locale_t)0 ? l : newlocale(LC_CTYPE_MASK, "en_US.UTF-8", (locale_t)0);
}

int
container_scan_fd(const struct matcher *m, struct matcher_scratch *s, int fd, uint64_t size,
		  const struct container_opts *o)
{
	struct walk w;
	struct container_limits lim;
	locale_t old = (locale_t)0;
	unsigned i;
	int r;

	if (o->limits != NULL)
		lim = *o->limits;
	else
		container_limits_scan(&lim);
	memset(&w, 0, sizeof(w));
	if (lim.depth > WARD_CONTAINER_MAX_DEPTH)
		lim.depth = WARD_CONTAINER_MAX_DEPTH;
	w.m = m;
	w.s = s;
	w.o = o;
	w.lim = &lim;
	for (i = 0; i <= WARD_CONTAINER_MAX_DEPTH; i++)
		w.memfd[i] = -1;
	w.deadline = clock_mono() + (double)lim.time_ms / 1000.0;
	if (o->archives && o->locale != (locale_t)0)
		old = uselocale(o->locale);
	r = walk_file(&w, fd, size, 0);
	if (old != (locale_t)0)
		uselocale(old);
	if (r == 0 && w.canceled)
		r = WARD_EINTR;
	while (w.n > 0)
		pop(&w);
	for (i = 0; i <= WARD_CONTAINER_MAX_DEPTH; i++)
		if (w.memfd[i] >= 0)
			close(w.memfd[i]);
	return r;
}
