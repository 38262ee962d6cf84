/*
 * walkmsg: the channel of `ward scan`'s walker and its sandboxed scanner.
 * See walkmsg.h.
 *
 * Must hold: a decoder fills its struct only when the whole payload was
 * read, every value is in range and nothing is left over; the tables
 * below are the only statement of what each side may receive; an
 * encoder never writes what its decoder would refuse.
 */
#include "scan/walkmsg.h"
#include "util/alloc.h"
#include "util/ipcmsg.h"

#include <string.h>

/* Fixed bytes of a file and a note before their texts: id, depth. */
#define HEAD (8 + 4)

static const struct ipc_msgdef to_scanner[] = {
    {WALKMSG_FILE, "file", HEAD + 4 + 1 + 4, HEAD + 4 + WALKMSG_MAX_PATH + 4 + WALKMSG_MAX_OWNER,
     IPC_FD_FILE, 0},
    {WALKMSG_NOTE, "note", HEAD + 4 + 1 + 4 + 1, HEAD + 4 + WALKMSG_MAX_PATH + 4 + WALKMSG_MAX_NOTE,
     IPC_FD_NONE, 0},
    {WALKMSG_END, "end", 1 + 4 + 8 * WALKMSG_NSKIP, 1 + 4 + 8 * WALKMSG_NSKIP, IPC_FD_NONE, 0},
};

static const struct ipc_msgdef to_walker[] = {
    {WALKMSG_DONE, "done", 4 + WALKMSG_DONE_RECORD, 4 + WALKMSG_MAX_DONE *WALKMSG_DONE_RECORD,
     IPC_FD_NONE, 0},
    {WALKMSG_STOP, "stop", 0, 0, IPC_FD_NONE, 0},
    {WALKMSG_READY, "ready", 0, 0, IPC_FD_NONE, 0},
};

const struct ipc_proto walkmsg_to_scanner = {"scan", to_scanner, IPCMSG_COUNT(to_scanner)};
const struct ipc_proto walkmsg_to_walker = {"scan", to_walker, IPCMSG_COUNT(to_walker)};

int
walkmsg_path_fits(const char *path)
{
	return path[0] != '\0' && strnlen(path, WALKMSG_MAX_PATH + 1) <= WALKMSG_MAX_PATH;
}

/* Bytes of a path or name, cut at max; "?" for an empty one when
 * nonempty: a receiver refuses an empty path. */
static void
put_raw(struct wbuf *w, const char *s, size_t max, int nonempty)
{
	size_t n = strnlen(s, max);

	if (n == 0 && nonempty)
		wbuf_lenbytes(w, "?", 1);
	else
		wbuf_lenbytes(w, s, n);
}

void
walkmsg_file_encode(struct wbuf *w, uint64_t id, uint32_t depth, const char *path,
		    const char *owner)
{
	wbuf_u64(w, id);
	wbuf_u32(w, depth);
	put_raw(w, path, WALKMSG_MAX_PATH, 1);
	put_raw(w, owner != NULL ? owner : "", WALKMSG_MAX_OWNER, 0);
}

void
walkmsg_note_encode(struct wbuf *w, uint64_t id, uint32_t depth, const char *path, const char *msg)
{
	wbuf_u64(w, id);
	wbuf_u32(w, depth);
	put_raw(w, path, WALKMSG_MAX_PATH, 1);
	ipcmsg_text_put(w, msg[0] != '\0' ? msg : "?", WALKMSG_MAX_NOTE, IPCMSG_TEXT_NOCTL);
}

void
walkmsg_end_encode(struct wbuf *w, const struct walkmsg_end *m)
{
	unsigned k;

	wbuf_u8(w, m->stopped != 0);
	wbuf_u32(w, (uint32_t)(m->error < 0 && m->error >= WARD_ELAST ? -m->error : 0));
	for (k = 0; k < WALKMSG_NSKIP; k++)
		wbuf_u64(w, m->skipped[k]);
}

void
walkmsg_done_encode(struct wbuf *w, const struct walkmsg_done *m)
{
	unsigned k;

	wbuf_u32(w, m->n);
	for (k = 0; k < m->n && k < WALKMSG_MAX_DONE; k++) {
		wbuf_u64(w, m->rec[k].id);
		wbuf_u8(w, (uint8_t)m->rec[k].outcome);
		wbuf_u32(w, m->rec[k].matches);
		wbuf_u64(w, m->rec[k].bytes);
	}
}

/* m is of type, else WARD_EPROTO; b reads its payload. */
static int
start(const struct ipc_msg *m, uint16_t type, struct rbuf *b, struct ward_diag *d)
{
	return ipcmsg_start(m, "scan", type, b, d);
}

/* The id, depth and path both a file and a note begin with: 0 with
 * *path ward_malloc'd, or WARD_EPROTO / WARD_ENOMEM with *path NULL. */
static int
read_head(struct rbuf *b, uint64_t *id, uint32_t *depth, char **path, struct ward_diag *d)
{
	int r;

	*path = NULL;
	if (rbuf_u64(b, id) != 0 || rbuf_u32(b, depth) != 0 || *id == 0)
		return diag_set(d, WARD_EPROTO, "scan", 0, 0, "a file or note without an id");
	r = rbuf_strdup(b, WALKMSG_MAX_PATH, path);
	if (r == WARD_ENOMEM)
		return diag_set(d, r, "scan", 0, 0, "out of memory");
	if (r != 0 || (*path)[0] == '\0') {
		ward_free(*path);
		*path = NULL;
		return diag_set(d, WARD_EPROTO, "scan", 0, 0,
				"a path that is empty, holds a NUL or is not of its length");
	}
	return 0;
}

/*
 * A file or a note: its head, then its last field (what, of min to max
 * bytes: *p, *n, borrowed from m) ending the message.  0 with *path
 * ward_malloc'd, or an error with *path NULL and *id, *depth 0.
 */
static int
read_named(const struct ipc_msg *m, uint16_t type, size_t min, size_t max, const char *what,
	   uint64_t *id, uint32_t *depth, char **path, const uint8_t **p, size_t *n,
	   struct ward_diag *d)
{
	struct rbuf b;
	int r;

	if ((r = start(m, type, &b, d)) == 0 && (r = read_head(&b, id, depth, path, d)) == 0 &&
	    (rbuf_lenbytes(&b, max, p, n) != 0 || *n < min || rbuf_left(&b) != 0))
		r = diag_set(d, WARD_EPROTO, "scan", 0, 0, "%s is not of its length", what);
	if (r != 0) {
		ward_free(*path);
		*path = NULL;
		*id = 0;
		*depth = 0;
	}
	return r;
}

int
walkmsg_file_decode(const struct ipc_msg *m, struct walkmsg_file *out, struct ward_diag *d)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = read_named(m, WALKMSG_FILE, 0, WALKMSG_MAX_OWNER, "a file whose owner", &out->id,
			    &out->depth, &out->path, &p, &n, d)) != 0)
		return r;
	if (memchr(p, '\0', n) != NULL) {
		ward_free(out->path);
		memset(out, 0, sizeof(*out));
		return diag_set(d, WARD_EPROTO, "scan", 0, 0, "a file whose owner holds a NUL");
	}
	memcpy(out->owner, p, n);
	out->owner[n] = '\0';
	return 0;
}

int
walkmsg_note_decode(const struct ipc_msg *m, struct walkmsg_note *out, struct ward_diag *d)
{
	const uint8_t *p = NULL;
	size_t n = 0, i;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = read_named(m, WALKMSG_NOTE, 1, WALKMSG_MAX_NOTE, "a note whose message", &out->id,
			    &out->depth, &out->path, &p, &n, d)) != 0)
		return r;
	if ((i = ipcmsg_text_bad(p, n, IPCMSG_TEXT_NOCTL)) < n) {
		ward_free(out->path);
		memset(out, 0, sizeof(*out));
		return diag_set(d, WARD_EPROTO, "scan", 0, 0, "a note with byte %#x at %zu", p[i],
				i);
	}
	memcpy(out->msg, p, n);
	out->msg[n] = '\0';
	return 0;
}

int
walkmsg_end_decode(const struct ipc_msg *m, struct walkmsg_end *out, struct ward_diag *d)
{
	struct rbuf b;
	uint32_t err = 0;
	uint8_t stopped = 0;
	unsigned k;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = start(m, WALKMSG_END, &b, d)) != 0)
		return r;
	if (rbuf_u8(&b, &stopped) != 0 || rbuf_u32(&b, &err) != 0 || stopped > 1 ||
	    err > (uint32_t)-WARD_ELAST)
		return diag_set(d, WARD_EPROTO, "scan", 0, 0, "an end of flag %u and error %u",
				stopped, err);
	for (k = 0; k < WALKMSG_NSKIP; k++)
		if (rbuf_u64(&b, &out->skipped[k]) != 0)
			break;
	if (k < WALKMSG_NSKIP || rbuf_left(&b) != 0) {
		memset(out, 0, sizeof(*out));
		return diag_set(d, WARD_EPROTO, "scan", 0, 0, "an end of the wrong size");
	}
	out->stopped = stopped;
	out->error = -(int)err;
	return 0;
}

int
walkmsg_done_decode(const struct ipc_msg *m, struct walkmsg_done *out, struct ward_diag *d)
{
	struct walkmsg_done_rec *x;
	struct rbuf b;
	uint32_t count = 0;
	uint8_t outcome;
	unsigned k;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = start(m, WALKMSG_DONE, &b, d)) != 0)
		return r;
	if (rbuf_u32(&b, &count) != 0 || count < 1 || count > WALKMSG_MAX_DONE ||
	    rbuf_left(&b) != (size_t)count * WALKMSG_DONE_RECORD)
		return diag_set(
		    d, WARD_EPROTO, "scan", 0, 0,
		    "a done frame of %u records in %zu bytes (1 to %u of %u bytes each)", count,
		    rbuf_left(&b), WALKMSG_MAX_DONE, WALKMSG_DONE_RECORD);
	for (k = 0; k < count; k++) {
		x = &out->rec[k];
		outcome = 0;
		/* The size was checked: only the values can be wrong. */
		(void)rbuf_u64(&b, &x->id);
		(void)rbuf_u8(&b, &outcome);
		(void)rbuf_u32(&b, &x->matches);
		(void)rbuf_u64(&b, &x->bytes);
		/* Each outcome with what belongs to it: bytes only for a file
		 * scanned, matches only for one read. */
		if (x->id == 0 || outcome < WALKMSG_SCANNED || outcome > WALKMSG_OUTCOME_MAX ||
		    (outcome != WALKMSG_SCANNED && x->bytes != 0) ||
		    (outcome != WALKMSG_SCANNED && outcome != WALKMSG_ERROR && x->matches != 0)) {
			r = diag_set(d, WARD_EPROTO, "scan", 0, 0,
				     "record %u: id %llu, outcome %u, %u matches, %llu bytes", k,
				     (unsigned long long)x->id, outcome, x->matches,
				     (unsigned long long)x->bytes);
			memset(out, 0, sizeof(*out));
			return r;
		}
		x->outcome = (enum walkmsg_outcome)outcome;
	}
	out->n = count;
	return 0;
}

int
walkmsg_empty_decode(const struct ipc_msg *m, enum walkmsg_type type, struct ward_diag *d)
{
	struct rbuf b;
	int r;

	if ((type != WALKMSG_STOP && type != WALKMSG_READY) ||
	    (r = start(m, (uint16_t)type, &b, d)) != 0)
		return diag_set(d, WARD_EPROTO, "scan", 0, 0, "message type %u decoded as %u",
				m->type, (unsigned)type);
	return rbuf_left(&b) == 0
		   ? 0
		   : diag_set(d, WARD_EPROTO, "scan", 0, 0, "bytes after a %s", m->def->name);
}
