/*
 * procfs: reading /proc.  See procfs.h.
 */
#include "agent/procfs.h"

#include <fcntl.h>
#include <stdio.h>
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
