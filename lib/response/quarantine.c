/*
 * quarantine: encrypted store of detected files.  See quarantine.h.
 *
 * Must hold: the original is removed only by name inside the descriptor of
 * the directory it was found in, after checking that the name still refers
 * to the stored file; a restore creates files only inside the descriptor
 * of a directory opened without following symbolic links and checked for
 * who can write it, with O_EXCL and without replacing anything.  The store
 * itself (STATE_DIR, root only) is trusted and used by path.
 */
#include "response/quarantine.h"
#include "content/bundle.h"
#include "crypto/digest.h"
#include "util/alloc.h"
#include "util/file.h"
#include "util/path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define CHUNK 65536
#define RESTORE_TMP_PREFIX ".ward-restore-"

struct quarantine_op {
	char *state_dir;
	char dir[4096];		   /* the directory's path, as found */
	char name[NAME_MAX + 1];   /* the file's name in it */
	int parent;		   /* that directory, opened once */
	int own;		   /* the file, when quarantine_begin opened it */
	int fd;			   /* the file: own or the caller's */
	struct stat dir_st, st;	   /* the directory and the file, as stored */
	char enc[4300], rec[4300]; /* the entry's two files in the store */
	struct quarantine_entry e;
};

static void
qdir(const char *state_dir, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/quarantine", state_dir);
}

static int
id_ok(const char *id)
{
	size_t i;

	if (strlen(id) != QUARANTINE_ID_LEN)
		return 0;
	for (i = 0; i < QUARANTINE_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return 1;
}

/*
 * The store's key, made on first use.  Two quarantines at once must not
 * make two keys (the first file would be encrypted with a key that is
 * then replaced): a new key is written to a temporary file and linked into
 * place, which fails if another one got there first — then that one is used.
 */
static int
load_key(const char *state_dir, uint8_t key[KEY_LEN], struct ward_diag *d)
{
	char dir[4200], path[4300], tmp[4400];
	uint8_t *buf = NULL;
	size_t len = 0;
	int r, fd;

	qdir(state_dir, dir, sizeof(dir));
	if (mkdir(state_dir, 0700) != 0 && errno != EEXIST)
		return diag_set(d, WARD_EIO, state_dir, 0, 0, "cannot create: %s", strerror(errno));
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return diag_set(d, WARD_EIO, dir, 0, 0, "cannot create: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/key", dir);
	if (access(path, F_OK) != 0) {
		uint8_t fresh[KEY_LEN];

		snprintf(tmp, sizeof(tmp), "%s/key.tmp.%ld.%lx", dir, (long)getpid(),
			 (unsigned long)(uintptr_t)&fresh);
		if (RAND_priv_bytes(fresh, KEY_LEN) != 1)
			return diag_set(d, WARD_EIO, path, 0, 0, "no randomness for the key");
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || file_write_all(fd, fresh, KEY_LEN) != 0 || fsync(fd) != 0) {
			if (fd >= 0)
				close(fd);
			(void)unlink(tmp);
			return diag_set(d, WARD_EIO, path, 0, 0, "cannot write the key: %s",
					strerror(errno));
		}
		close(fd);
		if (link(tmp, path) != 0 && errno != EEXIST) {
			(void)unlink(tmp);
			return diag_set(d, WARD_EIO, path, 0, 0, "cannot install the key: %s",
					strerror(errno));
		}
		(void)unlink(tmp);
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			(void)fsync(fd);
			close(fd);
		}
	}
	r = file_read_all(path, KEY_LEN, &buf, &len, d);
	if (r == 0 && len != KEY_LEN)
		r = diag_set(d, WARD_EFORMAT, path, 0, 0, "quarantine key has the wrong length");
	if (r == 0)
		memcpy(key, buf, KEY_LEN);
	ward_free(buf);
	return r;
}

json_t *
quarantine_entry_json(const struct quarantine_entry *e)
{
	char mt[21], at[21];

	bundle_format_time(e->mtime, mt);
	bundle_format_time(e->at, at);
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s}", "id", e->id, "path",
			 e->path, "uid", (json_int_t)e->uid, "gid", (json_int_t)e->gid, "mode",
			 (json_int_t)(e->mode & 07777), "size", (json_int_t)e->size, "mtime", mt,
			 "sha256", e->sha256, "rule", e->rule, "quarantined_at", at);
}

static int
entry_read(const char *state_dir, const char *id, struct quarantine_entry *e, struct ward_diag *d)
{
	char path[4300];
	const char *p, *sha, *rule, *mt, *at;
	json_int_t uid, gid, mode, size;
	json_error_t je;
	json_t *o;

	memset(e, 0, sizeof(*e));
	if (!id_ok(id))
		return diag_set(d, WARD_EINVAL, id, 0, 0, "not a quarantine id");
	snprintf(path, sizeof(path), "%s/quarantine/%s.json", state_dir, id);
	o = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL)
		return diag_set(d, access(path, F_OK) == 0 ? WARD_EFORMAT : WARD_EINVAL, id, 0, 0,
				"%s",
				access(path, F_OK) == 0 ? "damaged quarantine record"
							: "no such quarantine entry");
	if (json_unpack(o, "{s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s}", "path", &p, "uid", &uid,
			"gid", &gid, "mode", &mode, "size", &size, "mtime", &mt, "sha256", &sha,
			"rule", &rule, "quarantined_at", &at) != 0 ||
	    strlen(p) >= sizeof(e->path) || strlen(sha) != 64) {
		json_decref(o);
		return diag_set(d, WARD_EFORMAT, path, 0, 0, "damaged quarantine record");
	}
	snprintf(e->id, sizeof(e->id), "%s", id);
	snprintf(e->path, sizeof(e->path), "%s", p);
	snprintf(e->sha256, sizeof(e->sha256), "%s", sha);
	snprintf(e->rule, sizeof(e->rule), "%s", rule);
	e->uid = (uid_t)uid;
	e->gid = (gid_t)gid;
	e->mode = (mode_t)mode;
	e->size = (uint64_t)size;
	(void)bundle_parse_time(mt, &e->mtime);
	(void)bundle_parse_time(at, &e->at);
	json_decref(o);
	return 0;
}

/*
 * Streams len bytes of src, from offset off, through AES-256-GCM into dst;
 * the digest of the plain text into md.  pread: the offset of src may be
 * shared with whoever else holds the descriptor (a scanner).
 */
static int
crypt_stream(int src, off_t off, int dst, uint64_t len, const uint8_t key[KEY_LEN],
	     const uint8_t *nonce, int encrypt, uint8_t tag[TAG_LEN], uint8_t md[32])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	struct digest_ctx *dg = NULL;
	uint8_t in[CHUNK], out[CHUNK + 32];
	uint64_t done = 0;
	int n, r = WARD_EIO;

	if (c == NULL || digest_new(DIGEST_SHA256, &dg) != 0)
		goto out;
	if ((encrypt ? EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce)
		     : EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce)) != 1)
		goto out;
	while (done < len) {
		size_t want = len - done < CHUNK ? (size_t)(len - done) : CHUNK;
		ssize_t k = pread(src, in, want, off + (off_t)done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto out; /* the file shrank */
		if (encrypt)
			(void)digest_update(dg, in, (size_t)k);
		if ((encrypt ? EVP_EncryptUpdate(c, out, &n, in, (int)k)
			     : EVP_DecryptUpdate(c, out, &n, in, (int)k)) != 1)
			goto out;
		if (!encrypt)
			(void)digest_update(dg, out, (size_t)n);
		if (file_write_all(dst, out, (size_t)n) != 0)
			goto out;
		done += (uint64_t)k;
	}
	if (encrypt) {
		if (EVP_EncryptFinal_ex(c, out, &n) != 1 ||
		    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1)
			goto out;
	} else {
		if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1 ||
		    EVP_DecryptFinal_ex(c, out, &n) != 1) {
			r = WARD_ECHECKSUM;
			goto out;
		}
	}
	r = digest_final(dg, md, 32);
out:
	OPENSSL_cleanse(in, sizeof(in));
	OPENSSL_cleanse(out, sizeof(out));
	EVP_CIPHER_CTX_free(c);
	digest_free(dg);
	return r;
}

/* 1 if no component of path is "." or "..": a canonical path has none. */
static int
path_canonical(const char *path)
{
	const char *p = path, *end;
	int ok = 1;
	size_t n;

	while (ok && *p != '\0') {
		while (*p == '/')
			p++;
		end = strchrnul(p, '/');
		n = (size_t)(end - p);
		ok = !((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'));
		p = end;
	}
	return ok;
}

/*
 * Splits the absolute, canonical path into its directory (into dir) and
 * its last component (into name).
 */
static int
path_split(const char *path, char *dir, size_t dirlen, char name[NAME_MAX + 1], struct ward_diag *d)
{
	const char *slash = strrchr(path, '/');
	size_t n;
	int r = 0;

	if (path[0] != '/' || strlen(path) >= dirlen || !path_canonical(path)) {
		r = diag_set(d, WARD_EINVAL, path, 0, 0,
			     "not an absolute path without \".\" or \"..\" in it");
		goto out;
	}
	n = strlen(slash + 1);
	if (n == 0 || n > NAME_MAX) {
		r = diag_set(d, WARD_EINVAL, path, 0, 0, "no file name at the end of the path");
		goto out;
	}
	memcpy(name, slash + 1, n + 1);
	n = slash == path ? 1 : (size_t)(slash - path);
	memcpy(dir, path, n);
	dir[n] = '\0';
out:
	return r;
}

/*
 * Whether file a has the content b had: same inode, size and mtime.  Not
 * ctime: a chmod right after the write (download, then chmod +x) must not
 * stop the quarantine.
 */
static int
same_content(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* 1 if op's name, in op's directory, refers to the file that is stored. */
static int
name_is_file(const struct quarantine_op *op)
{
	struct stat st;

	return fstatat(op->parent, op->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       st.st_dev == op->st.st_dev && st.st_ino == op->st.st_ino;
}

static void
op_free(struct quarantine_op *op)
{
	if (op == NULL)
		return;
	if (op->parent >= 0)
		close(op->parent);
	if (op->own >= 0)
		close(op->own);
	ward_free(op->state_dir);
	ward_free(op);
}

/* Removes op's entry from the store (the original is not touched). */
static void
op_drop_stored(const struct quarantine_op *op)
{
	(void)unlink(op->rec);
	(void)unlink(op->enc);
}

/* Writes the encrypted copy of op->fd (op->st) to op->enc, synced. */
static int
store_copy(struct quarantine_op *op, const uint8_t key[KEY_LEN], uint8_t md[32],
	   struct ward_diag *d)
{
	uint8_t nonce[NONCE_LEN], tag[TAG_LEN];
	char tmp[4400];
	int out = -1, r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", op->enc);
	if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
		r = diag_set(d, WARD_EIO, op->e.path, 0, 0, "no randomness");
		goto out;
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		r = diag_set(d, WARD_EIO, tmp, 0, 0, "%s", strerror(errno));
		goto out;
	}
	if (file_write_all(out, nonce, NONCE_LEN) != 0 ||
	    crypt_stream(op->fd, 0, out, (uint64_t)op->st.st_size, key, nonce, 1, tag, md) != 0 ||
	    file_write_all(out, tag, TAG_LEN) != 0 || fsync(out) != 0) {
		r = diag_set(d, WARD_EIO, op->e.path, 0, 0, "cannot store an encrypted copy");
		goto out;
	}
	if (rename(tmp, op->enc) != 0) {
		r = diag_set(d, WARD_EIO, op->enc, 0, 0, "%s", strerror(errno));
		goto out;
	}
out:
	if (out >= 0)
		close(out);
	if (r != 0 && out >= 0)
		(void)unlink(tmp);
	return r;
}

/* Writes op's record (op->e), synced. */
static int
store_record(struct quarantine_op *op, struct ward_diag *d)
{
	json_t *o = quarantine_entry_json(&op->e);
	char *text = o != NULL ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	int r;

	if (text == NULL)
		r = diag_set(d, WARD_ENOMEM, op->e.path, 0, 0, "out of memory");
	else
		r = file_replace(op->rec, text, strlen(text), 0600, d);
	free(text);
	json_decref(o);
	return r;
}

int
quarantine_begin(const char *state_dir, const char *path, int fd, const char *rule,
		 struct quarantine_op **opp, struct ward_diag *d)
{
	uint8_t key[KEY_LEN], md[32], rid[QUARANTINE_ID_LEN / 2];
	struct quarantine_op *op;
	struct quarantine_entry *e;
	struct stat now;
	int r = 0, stored = 0;

	*opp = NULL;
	op = ward_calloc(1, sizeof(*op));
	if (op == NULL || (op->state_dir = ward_strdup(state_dir)) == NULL) {
		r = diag_set(d, WARD_ENOMEM, path, 0, 0, "out of memory");
		goto out;
	}
	op->parent = op->own = -1;
	e = &op->e;
	if ((r = path_split(path, op->dir, sizeof(op->dir), op->name, d)) != 0 ||
	    (r = load_key(state_dir, key, d)) != 0)
		goto out;
	op->parent = path_open_dir(op->dir, 0);
	if (op->parent < 0 || fstat(op->parent, &op->dir_st) != 0) {
		int err = errno;

		r = diag_set(d, WARD_EIO, path, 0, 0, "cannot open its directory: %s%s",
			     strerror(err),
			     err == ELOOP ? " (a symbolic link is on its path)" : "");
		goto out;
	}
	if (fd < 0) {
		op->own = openat(op->parent, op->name,
				 O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (op->own < 0) {
			r = diag_set(d, WARD_EIO, path, 0, 0, "%s", strerror(errno));
			goto out;
		}
		fd = op->own;
	}
	op->fd = fd;
	if (fstat(fd, &op->st) != 0 || !S_ISREG(op->st.st_mode)) {
		r = diag_set(d, WARD_EIO, path, 0, 0, "not a regular file");
		goto out;
	}
	if ((uint64_t)op->st.st_size > QUARANTINE_MAX_FILE) {
		r = diag_set(d, WARD_ELIMIT, path, 0, 0, "too large to quarantine");
		goto out;
	}
	/* The name must still be the file that was scanned. */
	if (!name_is_file(op)) {
		r = diag_set(d, WARD_EIO, path, 0, 0, "the file was replaced before quarantine");
		goto out;
	}
	if (RAND_bytes(rid, sizeof(rid)) != 1) {
		r = diag_set(d, WARD_EIO, path, 0, 0, "no randomness");
		goto out;
	}
	(void)digest_to_hex(rid, sizeof(rid), e->id, sizeof(e->id));
	snprintf(e->path, sizeof(e->path), "%s", path);
	snprintf(op->enc, sizeof(op->enc), "%s/quarantine/%s.wq", state_dir, e->id);
	snprintf(op->rec, sizeof(op->rec), "%s/quarantine/%s.json", state_dir, e->id);
	if ((r = store_copy(op, key, md, d)) != 0)
		goto out;
	stored = 1;
	/* What was read is what is there: no write came in while reading. */
	if (fstat(fd, &now) != 0 || !same_content(&now, &op->st)) {
		r = diag_set(
		    d, WARD_EIO, path, 0, 0,
		    "the file changed while it was being quarantined: it was left in place");
		goto out;
	}
	snprintf(e->rule, sizeof(e->rule), "%s", rule != NULL ? rule : "");
	(void)digest_to_hex(md, 32, e->sha256, sizeof(e->sha256));
	e->uid = op->st.st_uid;
	e->gid = op->st.st_gid;
	e->mode = op->st.st_mode & 07777;
	e->size = (uint64_t)op->st.st_size;
	e->mtime = (int64_t)op->st.st_mtim.tv_sec;
	e->at = (int64_t)time(NULL);
	if ((r = store_record(op, d)) != 0)
		goto out;
	*opp = op;
	op = NULL;
out:
	OPENSSL_cleanse(key, sizeof(key));
	if (op != NULL && stored)
		op_drop_stored(op);
	op_free(op);
	return r;
}

int
quarantine_commit(struct quarantine_op *op, struct quarantine_entry *e, struct ward_diag *d)
{
	struct stat now;
	int again, r = 0;

	memset(e, 0, sizeof(*e));
	/*
	 * The directory must still be the one at its path: one moved away
	 * (and perhaps a symbolic link put in its place) would leave the
	 * record pointing at somewhere else.
	 */
	again = path_open_dir(op->dir, 0);
	if (again < 0 || fstat(again, &now) != 0 || now.st_dev != op->dir_st.st_dev ||
	    now.st_ino != op->dir_st.st_ino) {
		r = diag_set(d, WARD_EIO, op->e.path, 0, 0,
			     "its directory was moved or replaced during the quarantine: the file "
			     "was left in place");
		goto out;
	}
	if (!name_is_file(op)) {
		r = diag_set(d, WARD_EIO, op->e.path, 0, 0,
			     "the file was replaced during the quarantine: what is there now was "
			     "left in place");
		goto out;
	}
	if (fstat(op->fd, &now) != 0 || !same_content(&now, &op->st)) {
		r = diag_set(d, WARD_EIO, op->e.path, 0, 0,
			     "the file changed during the quarantine: it was left in place");
		goto out;
	}
	/* Owner or mode changed since (chmod +x after a download): record them. */
	if (now.st_uid != op->e.uid || now.st_gid != op->e.gid ||
	    (now.st_mode & 07777) != op->e.mode) {
		op->e.uid = now.st_uid;
		op->e.gid = now.st_gid;
		op->e.mode = now.st_mode & 07777;
		if ((r = store_record(op, d)) != 0)
			goto out;
	}
	/* Everything needed to restore it is on disk: now remove the original. */
	if (unlinkat(op->parent, op->name, 0) != 0) {
		r = diag_set(d, WARD_EIO, op->e.path, 0, 0, "cannot remove the original: %s",
			     strerror(errno));
		goto out;
	}
	(void)fsync(op->parent);
	*e = op->e;
out:
	if (again >= 0)
		close(again);
	if (r != 0)
		op_drop_stored(op);
	op_free(op);
	return r;
}

void
quarantine_abort(struct quarantine_op *op)
{
	if (op != NULL)
		op_drop_stored(op);
	op_free(op);
}

int
quarantine_file(const char *state_dir, const char *path, int fd, const char *rule,
		struct quarantine_entry *e, struct ward_diag *d)
{
	struct quarantine_op *op;
	int r;

	memset(e, 0, sizeof(*e));
	r = quarantine_begin(state_dir, path, fd, rule, &op, d);
	if (r == 0)
		r = quarantine_commit(op, e, d);
	return r;
}

/*
 * Whether a restore may create a file of owner uid in the directory st
 * (dir: its path, for the message).  Someone else who can write it could
 * swap names in it while root works there.
 */
static int
restore_dir_check(const char *dir, const struct stat *st, uid_t uid, struct ward_diag *d)
{
	int r = 0;

	if (st->st_mode & (S_IWGRP | S_IWOTH))
		r = diag_set(d, WARD_EINVAL, dir, 0, 0,
			     "will not restore into this directory: it is writable by %s "
			     "(mode %04o), who could swap names in it during the restore; restore "
			     "elsewhere (--to DIR) or make it writable by its owner only",
			     st->st_mode & S_IWOTH ? "others" : "its group",
			     (unsigned)(st->st_mode & 07777));
	else if (st->st_uid != 0 && st->st_uid != uid)
		r = diag_set(d, WARD_EINVAL, dir, 0, 0,
			     "will not restore into this directory: it belongs to uid %u, neither "
			     "root nor the file's owner (uid %u); restore elsewhere (--to DIR)",
			     (unsigned)st->st_uid, (unsigned)uid);
	return r;
}

/* Opens the directory a restore goes to, and says why not. */
static int
restore_dir_open(const char *dir, uid_t uid, int *fd, struct ward_diag *d)
{
	struct stat st;
	int r = 0;

	*fd = path_open_dir(dir, 0);
	if (*fd < 0 && errno == ELOOP)
		r = diag_set(d, WARD_EINVAL, dir, 0, 0,
			     "will not restore into this directory: a symbolic link is on its "
			     "path (one may have been put there to redirect the restore); check "
			     "the path, or restore elsewhere (--to DIR)");
	else if (*fd < 0 && errno == ENOENT)
		r = diag_set(d, WARD_EINVAL, dir, 0, 0,
			     "the directory does not exist: create it (owned by root or the "
			     "file's owner), or restore elsewhere (--to DIR)");
	else if (*fd < 0 || fstat(*fd, &st) != 0)
		r = diag_set(d, WARD_EIO, dir, 0, 0, "cannot open the directory: %s",
			     strerror(errno));
	else
		r = restore_dir_check(dir, &st, uid, d);
	return r;
}

/*
 * Gives the temporary file tmp the name name, both in parent, never
 * replacing what is there: renameat2 RENAME_NOREPLACE, or on filesystems
 * without it, a hard link (which never replaces either) and then the
 * temporary name is removed.
 */
static int
restore_place(int parent, const char *tmp, const char *name, const char *where, struct ward_diag *d)
{
	int r = 0;

	if (renameat2(parent, tmp, parent, name, RENAME_NOREPLACE) == 0)
		goto out;
	if (errno == EINVAL && linkat(parent, tmp, parent, name, 0) == 0) {
		(void)unlinkat(parent, tmp, 0);
		goto out;
	}
	if (errno == EEXIST)
		r = diag_set(d, WARD_EINVAL, where, 0, 0,
			     "something appeared at this path during the restore: nothing was "
			     "replaced; move it away and restore again");
	else
		r = diag_set(d, WARD_EIO, where, 0, 0, "cannot put the file in place: %s",
			     strerror(errno));
out:
	return r;
}

int
quarantine_restore(const char *state_dir, const char *id, const char *to_dir,
		   struct quarantine_entry *e, struct ward_diag *d)
{
	uint8_t key[KEY_LEN], nonce[NONCE_LEN], tag[TAG_LEN], md[32], rnd[8];
	char enc[4300], dir[4096], name[NAME_MAX + 1], where[sizeof(e->path)], hex[65];
	char tmp[sizeof(RESTORE_TMP_PREFIX) + 16] = "";
	struct timespec ts[2];
	struct stat st;
	int parent = -1, in = -1, out = -1, r;
	uint64_t clen;

	memset(key, 0, sizeof(key));
	if ((r = entry_read(state_dir, id, e, d)) != 0 ||
	    (r = path_split(e->path, dir, sizeof(dir), name, d)) != 0)
		goto out;
	if (to_dir != NULL) {
		if (to_dir[0] != '/' || strlen(to_dir) >= sizeof(dir) || !path_canonical(to_dir)) {
			r = diag_set(d, WARD_EINVAL, to_dir, 0, 0,
				     "--to needs an absolute path without \".\" or \"..\" in it");
			goto out;
		}
		snprintf(dir, sizeof(dir), "%s", to_dir);
	}
	if ((size_t)snprintf(where, sizeof(where), "%s%s%s", dir,
			     dir[strlen(dir) - 1] == '/' ? "" : "/", name) >= sizeof(where)) {
		r = diag_set(d, WARD_EINVAL, dir, 0, 0, "path too long");
		goto out;
	}
	if ((r = restore_dir_open(dir, e->uid, &parent, d)) != 0)
		goto out;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		r = diag_set(d, WARD_EINVAL, where, 0, 0,
			     "something exists at this path: move it away first");
		goto out;
	}
	if ((r = load_key(state_dir, key, d)) != 0)
		goto out;
	snprintf(enc, sizeof(enc), "%s/quarantine/%s.wq", state_dir, id);
	in = open(enc, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) != 0 || (uint64_t)st.st_size < NONCE_LEN + TAG_LEN) {
		r = diag_set(d, WARD_EFORMAT, enc, 0, 0, "missing or damaged encrypted copy");
		goto out;
	}
	clen = (uint64_t)st.st_size - NONCE_LEN - TAG_LEN;
	if (pread(in, nonce, NONCE_LEN, 0) != NONCE_LEN ||
	    pread(in, tag, TAG_LEN, (off_t)(NONCE_LEN + clen)) != TAG_LEN) {
		r = diag_set(d, WARD_EIO, enc, 0, 0, "cannot read the encrypted copy");
		goto out;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		r = diag_set(d, WARD_EIO, where, 0, 0, "no randomness");
		goto out;
	}
	memcpy(tmp, RESTORE_TMP_PREFIX, sizeof(RESTORE_TMP_PREFIX));
	(void)digest_to_hex(rnd, sizeof(rnd), tmp + strlen(tmp), sizeof(tmp) - strlen(tmp));
	out = openat(parent, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		r = diag_set(d, WARD_EIO, where, 0, 0, "cannot create a temporary file: %s",
			     strerror(errno));
		goto out;
	}
	r = crypt_stream(in, NONCE_LEN, out, clen, key, nonce, 0, tag, md);
	(void)digest_to_hex(md, 32, hex, sizeof(hex));
	if (r != 0 || strcmp(hex, e->sha256) != 0) {
		r = diag_set(d, WARD_ECHECKSUM, enc, 0, 0,
			     "the encrypted copy does not decrypt to the recorded file");
		goto out;
	}
	ts[0].tv_sec = ts[1].tv_sec = (time_t)e->mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	/* fchown first: it clears set-user-ID bits that fchmod then sets. */
	if (fchown(out, e->uid, e->gid) != 0 || fchmod(out, e->mode) != 0 ||
	    futimens(out, ts) != 0 || fsync(out) != 0) {
		r = diag_set(d, WARD_EIO, where, 0, 0, "cannot restore owner, mode or time: %s",
			     strerror(errno));
		goto out;
	}
	if ((r = restore_place(parent, tmp, name, where, d)) != 0)
		goto out;
	close(out);
	out = -1; /* placed: the temporary name is gone */
	(void)fsync(parent);
	if ((r = quarantine_delete(state_dir, id, d)) == 0)
		snprintf(e->path, sizeof(e->path), "%s", where);
out:
	OPENSSL_cleanse(key, sizeof(key));
	if (out >= 0) {
		close(out);
		(void)unlinkat(parent, tmp, 0);
	}
	if (parent >= 0)
		close(parent);
	if (in >= 0)
		close(in);
	return r;
}

int
quarantine_delete(const char *state_dir, const char *id, struct ward_diag *d)
{
	char p[4300];

	if (!id_ok(id))
		return diag_set(d, WARD_EINVAL, id, 0, 0, "not a quarantine id");
	snprintf(p, sizeof(p), "%s/quarantine/%s.json", state_dir, id);
	if (unlink(p) != 0)
		return diag_set(d, WARD_EINVAL, id, 0, 0, "no such quarantine entry");
	snprintf(p, sizeof(p), "%s/quarantine/%s.wq", state_dir, id);
	(void)unlink(p);
	return 0;
}

int
quarantine_list(const char *state_dir, quarantine_list_fn fn, void *arg, struct ward_diag *d)
{
	char dir[4200], id[QUARANTINE_ID_LEN + 1];
	struct quarantine_entry e;
	struct dirent *de;
	DIR *dp;

	qdir(state_dir, dir, sizeof(dir));
	dp = opendir(dir);
	if (dp == NULL)
		return errno == ENOENT ? 0
				       : diag_set(d, WARD_EIO, dir, 0, 0, "%s", strerror(errno));
	while ((de = readdir(dp)) != NULL) {
		size_t n = strlen(de->d_name);

		if (n != QUARANTINE_ID_LEN + 5 ||
		    strcmp(de->d_name + QUARANTINE_ID_LEN, ".json") != 0)
			continue;
		memcpy(id, de->d_name, QUARANTINE_ID_LEN);
		id[QUARANTINE_ID_LEN] = '\0';
		if (entry_read(state_dir, id, &e, NULL) == 0)
			fn(arg, &e);
	}
	closedir(dp);
	return 0;
}
