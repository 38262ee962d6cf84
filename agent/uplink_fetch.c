/*
 * uplink_fetch: one bundle download, by descriptor.  See uplink_fetch.h.
 *
 * Must hold: the part file is the worker's — made and opened by root in
 * its private downloads directory (no path from the server reaches the
 * file system: its name is a validated digest, opened with openat under
 * the directory's descriptor, O_NOFOLLOW, O_EXCL when new) — and the
 * uplink process only writes through the descriptor it is handed, so it
 * needs no file system of its own; a byte is stored only where
 * download_answer_body says it fits, so the part never passes the
 * announced size (libcurl's CURLOPT_MAXFILESIZE does not see chunked
 * answers); a part that cannot be resumed is emptied (and then removed
 * by the worker); only one part file exists at a time; the finished file
 * is read through its descriptor, at most the announced size.
 */
#include "agent/uplink_fetch.h"
#include "agent/curlso.h"
#include "content/bundle.h"
#include "crypto/digest.h"
#include "util/ipc.h"
#include "util/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DOWNLOADS "downloads"

/* Opens STATE_DIR/downloads (creating it 0700) if it is a directory of the
 * agent's user with mode 0700; -1 with err otherwise. */
static int
open_downloads(const char *state_dir, char *err, size_t errlen)
{
	struct stat st;
	int sfd, dfd = -1;

	sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0) {
		snprintf(err, errlen, "cannot open %.300s: %s", state_dir, strerror(errno));
		goto out;
	}
	if (mkdirat(sfd, DOWNLOADS, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %.300s/" DOWNLOADS ": %s", state_dir,
			 strerror(errno));
		goto out;
	}
	dfd = openat(sfd, DOWNLOADS, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(err, errlen, "refusing %.300s/" DOWNLOADS ": %s", state_dir,
			 errno == ELOOP || errno == ENOTDIR ? "not a directory (a symlink?)"
							    : strerror(errno));
		goto out;
	}
	/* Anyone else who can write there could plant or swap a part file. */
	if (fstat(dfd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 07777) != 0700) {
		snprintf(err, errlen,
			 "refusing %.300s/" DOWNLOADS
			 ": it must be owned by uid %ld with mode 0700",
			 state_dir, (long)geteuid());
		close(dfd);
		dfd = -1;
	}
out:
	if (sfd >= 0)
		close(sfd);
	return dfd;
}

/* Removes every entry of the downloads directory but keep: an earlier,
 * abandoned download must not add to the disk this one may fill. */
static void
tidy(int dfd, const char *keep)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, keep) != 0)
			(void)unlinkat(dfd, de->d_name, 0); /* not directories: we make none */
	closedir(dir);
}

/* Opens the part file name for appending: the one there if it is a plain
 * file of ours no larger than size (*have its length), else a new one. */
static int
open_part(int dfd, const char *name, uint64_t size, uint64_t *have, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	*have = 0;
	fd = openat(dfd, name, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		    st.st_nlink == 1 && (uint64_t)st.st_size <= size) {
			*have = (uint64_t)st.st_size;
			return fd;
		}
		close(fd);
	}
	if (fd >= 0 || errno != ENOENT)
		(void)unlinkat(dfd, name, 0); /* larger, linked, or no plain file: start over */
	fd = openat(dfd, name, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		snprintf(err, errlen, "cannot create " DOWNLOADS "/%s: %s", name, strerror(errno));
	return fd;
}

struct transfer {
	int fd;
	int io_errno; /* the part could not be written (0: it could) */
	struct download_answer a;
};

static size_t
on_head(char *p, size_t size, size_t n, void *arg)
{
	struct transfer *x = arg;
	enum download_plan before = x->a.plan;

	/* libcurl calls this with size 1. */
	if (size != 1 || download_answer_line(&x->a, p, n) != 0)
		return 0;
	/* A whole bundle where a part was to be extended: start over. */
	if (before == DOWNLOAD_PENDING && x->a.plan == DOWNLOAD_RESTART && x->a.have > 0 &&
	    ftruncate(x->fd, 0) != 0) {
		x->io_errno = errno;
		return 0;
	}
	return n;
}

static size_t
on_file(char *p, size_t size, size_t n, void *arg)
{
	struct transfer *x = arg;
	int r = size == 1 ? download_answer_body(&x->a, n) : -1;

	if (r < 0)
		return 0; /* a short count ends the transfer */
	if (r == 1 && file_write_all(x->fd, p, n) != 0) {
		x->io_errno = errno != 0 ? errno : EIO;
		return 0;
	}
	return n;
}

/* Asks the server for what the part lacks; the plan the answer leaves. */
static enum download_plan
transfer(CURL *c, const char *server_url, const char *auth, const struct download_target *t, int fd,
	 uint64_t have, char *err, size_t errlen)
{
	struct curl_slist *h = NULL, *i;
	struct transfer x = {.fd = fd};
	char url[1200], range[32], cerr[CURL_ERROR_SIZE] = "";
	enum download_plan plan;
	CURLcode rc;

	download_answer_init(&x.a, have, t->size);
	snprintf(url, sizeof(url), "%s%s", server_url, t->url);
	snprintf(range, sizeof(range), "%llu-", (unsigned long long)have);
	h = curlso.slist_append(h, auth);
	curlso.easy_setopt(c, CURLOPT_URL, url);
	curlso.easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curlso.easy_setopt(c, CURLOPT_HTTPGET, 1L);
	/* Our own Range, not CURLOPT_RESUME_FROM: libcurl's resume logic
	 * would judge the answer by rules of its own; download_answer does. */
	curlso.easy_setopt(c, CURLOPT_RANGE, have > 0 ? range : NULL);
	curlso.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_head);
	curlso.easy_setopt(c, CURLOPT_HEADERDATA, &x);
	curlso.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_file);
	curlso.easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curlso.easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	rc = curlso.easy_perform(c);
	curlso.easy_setopt(c, CURLOPT_RANGE, NULL);
	curlso.easy_setopt(c, CURLOPT_HEADERFUNCTION, NULL);
	curlso.easy_setopt(c, CURLOPT_HEADERDATA, NULL);
	curlso.easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curlso.easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curlso.easy_setopt(c, CURLOPT_POST, 1L);
	/* The header list holds a copy of the credential. */
	for (i = h; i != NULL; i = i->next)
		OPENSSL_cleanse(i->data, strlen(i->data));
	curlso.slist_free_all(h);
	plan = download_answer_end(&x.a, rc == CURLE_OK);
	if (x.io_errno != 0) {
		snprintf(err, errlen, "cannot write the download: %s", strerror(x.io_errno));
		return DOWNLOAD_DISCARD; /* a full disk is not to be kept full */
	}
	/* When a callback of ours stopped the transfer, the answer's own
	 * reason is the one to give; otherwise libcurl's may add to it. */
	if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR && plan != DOWNLOAD_COMPLETE)
		snprintf(err, errlen, "%s (%s)", x.a.why,
			 cerr[0] ? cerr : curlso.easy_strerror(rc));
	else
		snprintf(err, errlen, "%s", x.a.why);
	return plan;
}

/* Copies the finished part (through fd: exactly size bytes) into a new
 * sealed memory file *mfd.  0, or -1 with err. */
static int
copy_part(int fd, uint64_t size, int *mfd, char *err, size_t errlen)
{
	static uint8_t buf[1 << 16];
	struct stat st;
	uint64_t off = 0;
	ssize_t k;
	int m = -1;

	*mfd = -1;
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != size || size > BUNDLE_MAX_SIZE) {
		snprintf(err, errlen, "the download is not the %llu bytes announced",
			 (unsigned long long)size);
		return -1;
	}
	if (ipc_memfd_open("ward-bundle", &m) != 0) {
		snprintf(err, errlen, "cannot make a memory file: %s", strerror(errno));
		return -1;
	}
	while (off < size) {
		k = pread(fd, buf, size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf),
			  (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || file_write_all(m, buf, (size_t)k) != 0) {
			snprintf(err, errlen, "cannot copy the download: %s",
				 k == 0 ? "it got shorter" : strerror(errno));
			close(m);
			return -1;
		}
		off += (uint64_t)k;
	}
	if (ipc_memfd_seal(m, NULL, 0) != 0) {
		snprintf(err, errlen, "cannot seal the download: %s", strerror(errno));
		close(m);
		return -1;
	}
	*mfd = m;
	return 0;
}

/* The SHA-256 of the sealed memory file m (size bytes) in hex; 0 or -1. */
static int
memfd_sha256(int m, uint64_t size, char hex[65])
{
	const uint8_t *p = NULL;
	uint8_t md[32];
	int r;

	if (ipc_memfd_map(m, (size_t)size, &p) != 0)
		return -1;
	r = digest_buf(DIGEST_SHA256, p, (size_t)size, md, sizeof(md));
	ipc_memfd_unmap(p, (size_t)size);
	return r == 0 && digest_to_hex(md, sizeof(md), hex, 65) == 0 ? 0 : -1;
}

int
uplink_part_open(const char *state_dir, const struct download_target *t, int *fd, char *err,
		 size_t errlen)
{
	char name[80];
	uint64_t have = 0;
	int dfd;

	*fd = -1;
	if (!download_sha_ok(t->sha256) || t->size == 0 || t->size > BUNDLE_MAX_SIZE) {
		snprintf(err, errlen, "not a valid download target");
		return -1;
	}
	snprintf(name, sizeof(name), "%s.part", t->sha256);
	if ((dfd = open_downloads(state_dir, err, errlen)) < 0)
		return -1;
	tidy(dfd, name);
	*fd = open_part(dfd, name, t->size, &have, err, errlen);
	close(dfd);
	return *fd >= 0 ? 0 : -1;
}

void
uplink_part_done(const char *state_dir, const struct download_target *t, int fd, int done)
{
	struct stat st;
	char name[80], err[300];
	int dfd;

	if (fd < 0)
		return;
	if ((done || (fstat(fd, &st) == 0 && st.st_size == 0)) &&
	    (dfd = open_downloads(state_dir, err, sizeof(err))) >= 0) {
		snprintf(name, sizeof(name), "%s.part", t->sha256);
		(void)unlinkat(dfd, name, 0);
		close(dfd);
	}
	close(fd);
}

int
uplink_fetch(CURL *c, const char *server_url, int part, const char *auth,
	     const struct download_target *t, int *mfd, char *err, size_t errlen)
{
	char why[400] = "", hex[65];
	enum download_plan plan = DOWNLOAD_COMPLETE;
	struct stat st;
	uint64_t have = 0;
	int m = -1, r = -1;

	*mfd = -1;
	err[0] = '\0';
	if (!download_sha_ok(t->sha256) || t->size == 0 || t->size > BUNDLE_MAX_SIZE) {
		snprintf(err, errlen, "not a valid download target");
		goto out;
	}
	/* What the worker's part holds: resumed from its end, or emptied when
	 * it is larger than the bundle can be. */
	if (fstat(part, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "the part file is not a file");
		goto out;
	}
	have = (uint64_t)st.st_size;
	if (have > t->size) {
		if (ftruncate(part, 0) != 0) {
			snprintf(err, errlen, "cannot empty the part file: %s", strerror(errno));
			goto out;
		}
		have = 0;
	}
	if (have < t->size) /* else a finished download was not verified yet */
		plan = transfer(c, server_url, auth, t, part, have, why, sizeof(why));
	if (plan == DOWNLOAD_KEEP) {
		snprintf(err, errlen, "downloading %s: %s", t->sha256, why);
		goto out;
	}
	if (plan == DOWNLOAD_DISCARD) {
		snprintf(err, errlen, "downloading %s: %s; the partial download is removed",
			 t->sha256, why);
		(void)ftruncate(part, 0);
		goto out;
	}
	/* Complete: whatever the digest says, the part has served. */
	if (copy_part(part, t->size, &m, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "downloading %s: %s; removed", t->sha256, why);
		(void)ftruncate(part, 0);
		goto out;
	}
	if (memfd_sha256(m, t->size, hex) != 0 || strcmp(hex, t->sha256) != 0) {
		snprintf(err, errlen, "the bundle downloaded as %s has the sha256 %s; removed",
			 t->sha256, hex);
		(void)ftruncate(part, 0);
		goto out;
	}
	*mfd = m;
	m = -1;
	r = 0;
out:
	if (m >= 0)
		close(m);
	return r;
}
