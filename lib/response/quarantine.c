/*
 * quarantine: encrypted store of detected files.  See quarantine.h.
 */
#include "response/quarantine.h"
#include "content/bundle.h"
#include "crypto/digest.h"
#include "util/alloc.h"
#include "util/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
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
				"%s", access(path, F_OK) == 0 ? "damaged quarantine record"
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

/* Streams src (len bytes) through AES-256-GCM into dst; digest of the plain text into md. */
static int
crypt_stream(int src, int dst, uint64_t len, const uint8_t key[KEY_LEN], const uint8_t *nonce,
	     int encrypt, uint8_t tag[TAG_LEN], uint8_t md[32])
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
		ssize_t k = read(src, in, want);

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
	EVP_CIPHER_CTX_free(c);
	digest_free(dg);
	return r;
}

int
quarantine_file(const char *state_dir, const char *path, int fd, const char *rule,
		struct quarantine_entry *e, struct ward_diag *d)
{
	uint8_t key[KEY_LEN], nonce[NONCE_LEN], tag[TAG_LEN], md[32], rid[QUARANTINE_ID_LEN / 2];
	char dir[4200], enc[4300], tmp[4400], rec[4300], *text = NULL;
	struct stat st, st2;
	int own = -1, out = -1, r;
	json_t *o;

	memset(e, 0, sizeof(*e));
	if ((r = load_key(state_dir, key, d)) != 0)
		return r;
	if (fd < 0) {
		own = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (own < 0)
			return diag_set(d, WARD_EIO, path, 0, 0, "%s", strerror(errno));
		fd = own;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = diag_set(d, WARD_EIO, path, 0, 0, "not a regular file");
		goto fail;
	}
	if ((uint64_t)st.st_size > QUARANTINE_MAX_FILE) {
		r = diag_set(d, WARD_ELIMIT, path, 0, 0, "too large to quarantine");
		goto fail;
	}
	/* The path must still name the file that was scanned. */
	if (lstat(path, &st2) != 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino) {
		r = diag_set(d, WARD_EIO, path, 0, 0, "the file was replaced before quarantine");
		goto fail;
	}
	if (RAND_bytes(rid, sizeof(rid)) != 1 || RAND_bytes(nonce, sizeof(nonce)) != 1) {
		r = diag_set(d, WARD_EIO, path, 0, 0, "no randomness");
		goto fail;
	}
	(void)digest_to_hex(rid, sizeof(rid), e->id, sizeof(e->id));
	qdir(state_dir, dir, sizeof(dir));
	snprintf(enc, sizeof(enc), "%s/%s.wq", dir, e->id);
	snprintf(tmp, sizeof(tmp), "%s.tmp", enc);
	snprintf(rec, sizeof(rec), "%s/%s.json", dir, e->id);
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		r = diag_set(d, WARD_EIO, tmp, 0, 0, "%s", strerror(errno));
		goto fail;
	}
	if (file_write_all(out, nonce, NONCE_LEN) != 0 || lseek(fd, 0, SEEK_SET) != 0 ||
	    (r = crypt_stream(fd, out, (uint64_t)st.st_size, key, nonce, 1, tag, md)) != 0 ||
	    file_write_all(out, tag, TAG_LEN) != 0 || fsync(out) != 0) {
		r = diag_set(d, WARD_EIO, path, 0, 0, "cannot store an encrypted copy");
		goto fail;
	}
	close(out);
	out = -1;
	if (rename(tmp, enc) != 0) {
		r = diag_set(d, WARD_EIO, enc, 0, 0, "%s", strerror(errno));
		goto fail;
	}
	snprintf(e->path, sizeof(e->path), "%s", path);
	snprintf(e->rule, sizeof(e->rule), "%s", rule != NULL ? rule : "");
	(void)digest_to_hex(md, 32, e->sha256, sizeof(e->sha256));
	e->uid = st.st_uid;
	e->gid = st.st_gid;
	e->mode = st.st_mode & 07777;
	e->size = (uint64_t)st.st_size;
	e->mtime = (int64_t)st.st_mtim.tv_sec;
	e->at = (int64_t)time(NULL);
	o = quarantine_entry_json(e);
	text = o != NULL ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (text == NULL || (r = file_replace(rec, text, strlen(text), 0600, d)) != 0) {
		(void)unlink(enc);
		if (r == 0)
			r = diag_set(d, WARD_ENOMEM, path, 0, 0, "out of memory");
		goto fail;
	}
	free(text);
	text = NULL;
	/* Everything needed to restore it is on disk: now remove the original. */
	if (unlink(path) != 0) {
		r = diag_set(d, WARD_EIO, path, 0, 0, "cannot remove the original: %s",
			     strerror(errno));
		(void)unlink(rec);
		(void)unlink(enc);
		goto fail;
	}
	if (own >= 0)
		close(own);
	return 0;
fail:
	free(text);
	if (out >= 0) {
		close(out);
		(void)unlink(tmp);
	}
	if (own >= 0)
		close(own);
	return r;
}

int
quarantine_restore(const char *state_dir, const char *id, struct quarantine_entry *e,
		   struct ward_diag *d)
{
	uint8_t key[KEY_LEN], nonce[NONCE_LEN], tag[TAG_LEN], md[32];
	char enc[4300], tmp[4200], hex[65];
	struct timespec ts[2];
	struct stat st;
	int in = -1, out = -1, r;
	uint64_t clen;

	if ((r = entry_read(state_dir, id, e, d)) != 0 || (r = load_key(state_dir, key, d)) != 0)
		return r;
	if (lstat(e->path, &st) == 0)
		return diag_set(d, WARD_EINVAL, e->path, 0, 0,
				"something exists at the original path: move it away first");
	snprintf(enc, sizeof(enc), "%s/quarantine/%s.wq", state_dir, id);
	in = open(enc, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) != 0 || (uint64_t)st.st_size < NONCE_LEN + TAG_LEN) {
		r = diag_set(d, WARD_EFORMAT, enc, 0, 0, "missing or damaged encrypted copy");
		goto out;
	}
	clen = (uint64_t)st.st_size - NONCE_LEN - TAG_LEN;
	if (pread(in, nonce, NONCE_LEN, 0) != NONCE_LEN ||
	    pread(in, tag, TAG_LEN, (off_t)(NONCE_LEN + clen)) != TAG_LEN ||
	    lseek(in, NONCE_LEN, SEEK_SET) != NONCE_LEN) {
		r = diag_set(d, WARD_EIO, enc, 0, 0, "cannot read the encrypted copy");
		goto out;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.ward-restore", e->path) >= sizeof(tmp)) {
		r = diag_set(d, WARD_EINVAL, e->path, 0, 0, "path too long");
		goto out;
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0) {
		r = diag_set(d, WARD_EIO, tmp, 0, 0, "%s", strerror(errno));
		goto out;
	}
	r = crypt_stream(in, out, clen, key, nonce, 0, tag, md);
	(void)digest_to_hex(md, 32, hex, sizeof(hex));
	if (r != 0 || strcmp(hex, e->sha256) != 0) {
		r = diag_set(d, WARD_ECHECKSUM, enc, 0, 0,
			     "the encrypted copy does not decrypt to the recorded file");
		goto out;
	}
	ts[0].tv_sec = ts[1].tv_sec = (time_t)e->mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (fchown(out, e->uid, e->gid) != 0 || fchmod(out, e->mode) != 0 ||
	    futimens(out, ts) != 0 || fsync(out) != 0) {
		r = diag_set(d, WARD_EIO, e->path, 0, 0, "cannot restore owner, mode or time: %s",
			     strerror(errno));
		goto out;
	}
	close(out);
	out = -1;
	if (rename(tmp, e->path) != 0) {
		r = diag_set(d, WARD_EIO, e->path, 0, 0, "%s", strerror(errno));
		goto out;
	}
	r = quarantine_delete(state_dir, id, d);
out:
	if (out >= 0) {
		close(out);
		(void)unlink(tmp);
	}
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
		return errno == ENOENT ? 0 : diag_set(d, WARD_EIO, dir, 0, 0, "%s", strerror(errno));
	while ((de = readdir(dp)) != NULL) {
		size_t n = strlen(de->d_name);

		if (n != QUARANTINE_ID_LEN + 5 || strcmp(de->d_name + QUARANTINE_ID_LEN, ".json") != 0)
			continue;
		memcpy(id, de->d_name, QUARANTINE_ID_LEN);
		id[QUARANTINE_ID_LEN] = '\0';
		if (entry_read(state_dir, id, &e, NULL) == 0)
			fn(arg, &e);
	}
	closedir(dp);
	return 0;
}
