/*
 * procfs: reading /proc.  See procfs.h.
 */
#include "agent/procfs.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
procfs_link(pid_t pid, const char *what, char *out, size_t outlen)
{
	char p[96];
	ssize_t n;

	if (pid == 0)
		snprintf(p, sizeof(p), "/proc/self/%s", what);
	else
		snprintf(p, sizeof(p), "/proc/%ld/%s", (long)pid, what);
	n = readlink(p, out, outlen - 1);
	if (n < 0) {
		out[0] = '\0';
		return -1;
	}
	out[n] = '\0';
	return 0;
}

int
procfs_stat(pid_t pid, pid_t *ppid, char *comm, size_t commlen)
{
	char p[64], buf[512], *lp, *rp;
	ssize_t n;
	long pp;
	int fd;

	comm[0] = '\0';
	snprintf(p, sizeof(p), "/proc/%ld/stat", (long)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "PID (COMM) S PPID ...": COMM may hold spaces and parentheses. */
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (lp == NULL || rp == NULL || rp < lp || sscanf(rp + 1, " %*c %ld", &pp) != 1)
		return -1;
	snprintf(comm, commlen, "%.*s", (int)(rp - lp - 1), lp + 1);
	*ppid = (pid_t)pp;
	return 0;
}

/* The value of the line "KEY:\t..." in text, or NULL; *len its length. */
static const char *
status_field(const char *text, size_t n, const char *key, size_t *len)
{
	size_t k = strlen(key), i = 0;

	while (i < n) {
		const char *eol = memchr(text + i, '\n', n - i);
		size_t end = eol != NULL ? (size_t)(eol - text) : n;

		if (end - i > k && memcmp(text + i, key, k) == 0 && text[i + k] == ':') {
			i += k + 1;
			while (i < end && (text[i] == '\t' || text[i] == ' '))
				i++;
			*len = end - i;
			return text + i;
		}
		i = end + 1;
	}
	return NULL;
}

/* A decimal number at the start of v (len bytes), or -1. */
static long
status_number(const char *v, size_t len)
{
	long x = 0;
	size_t i;

	for (i = 0; i < len && v[i] >= '0' && v[i] <= '9'; i++) {
		if (x > (LONG_MAX - 9) / 10)
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return i > 0 ? x : -1;
}

int
procfs_parse_status(const char *text, size_t n, struct procfs_status *st)
{
	const char *v;
	size_t len;

	st->name[0] = '\0';
	st->ppid = st->uid = -1;
	if ((v = status_field(text, n, "Name", &len)) != NULL)
		snprintf(st->name, sizeof(st->name), "%.*s", (int)len, v);
	if ((v = status_field(text, n, "PPid", &len)) != NULL)
		st->ppid = status_number(v, len);
	if ((v = status_field(text, n, "Uid", &len)) != NULL) /* real, effective, ... */
		st->uid = status_number(v, len);
	return st->name[0] != '\0' && st->ppid >= 0 && st->uid >= 0 ? 0 : -1;
}

int
procfs_status(pid_t pid, struct procfs_status *st)
{
	/* Name, PPid and Uid are among the first ten lines: the first 2 KiB
	 * hold them whatever follows (a long Groups: line comes after). */
	char p[64], buf[2048];
	ssize_t n;
	int fd;

	st->name[0] = '\0';
	st->ppid = st->uid = -1;
	snprintf(p, sizeof(p), "/proc/%ld/status", (long)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return -1;
	return procfs_parse_status(buf, (size_t)n, st);
}
