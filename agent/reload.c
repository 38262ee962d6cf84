/*
 * reload: passing a configuration to the worker.  See reload.h.
 *
 * Must hold: a message is exactly one header and one descriptor; the
 * memory file it names is sealed against writes and resizes and holds
 * exactly one struct agent_config, read whole; anything else is refused
 * and the descriptors that came with it are closed.  The strings of what
 * was received end within their arrays.
 */
#include "agent/reload.h"
#include "agent/worker.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define RELOAD_MAGIC 0x444c5257u /* "WRLD" */
#define SEALS (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)

struct reload_msg {
	uint32_t magic;
	uint32_t groups;
	uint64_t size; /* of the memory file: sizeof(struct agent_config) */
};

int
reload_send(int sock, const struct agent_config *c, unsigned groups)
{
	struct reload_msg m = {RELOAD_MAGIC, groups, sizeof(*c)};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {&m, sizeof(m)};
	struct msghdr mh;
	struct cmsghdr *ch;
	size_t done = 0;
	int fd, r = -1, saved;

	fd = memfd_create("wardd-config", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -1;
	while (done < sizeof(*c)) {
		ssize_t k = pwrite(fd, (const char *)c + done, sizeof(*c) - done, (off_t)done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto out;
		done += (size_t)k;
	}
	if (fcntl(fd, F_ADD_SEALS, SEALS) != 0)
		goto out;
	memset(&mh, 0, sizeof(mh));
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	ch = CMSG_FIRSTHDR(&mh);
	ch->cmsg_level = SOL_SOCKET;
	ch->cmsg_type = SCM_RIGHTS;
	ch->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(ch), &fd, sizeof(int));
	if (sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof(m))
		r = 0;
out:
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/* Cuts every string of c at the end of its array. */
static void
terminate(struct agent_config *c)
{
	unsigned i;

	c->state_dir[sizeof(c->state_dir) - 1] = '\0';
	c->run_dir[sizeof(c->run_dir) - 1] = '\0';
	c->initial_content[sizeof(c->initial_content) - 1] = '\0';
	c->validator_user[sizeof(c->validator_user) - 1] = '\0';
	c->ndjson_path[sizeof(c->ndjson_path) - 1] = '\0';
	c->syslog_socket[sizeof(c->syslog_socket) - 1] = '\0';
	c->fim_hash[sizeof(c->fim_hash) - 1] = '\0';
	c->server_url[sizeof(c->server_url) - 1] = '\0';
	c->server_ca[sizeof(c->server_ca) - 1] = '\0';
	c->server_enroll_token[sizeof(c->server_enroll_token) - 1] = '\0';
	c->server_machine_id_file[sizeof(c->server_machine_id_file) - 1] = '\0';
	c->server_hw_file[sizeof(c->server_hw_file) - 1] = '\0';
	for (i = 0; i < CONFIG_MAX_KEYS; i++) {
		c->trusted_keys[i][CONFIG_MAX_PATH - 1] = '\0';
		c->onaccess_paths[i][CONFIG_MAX_PATH - 1] = '\0';
		c->onaccess_block_open[i][CONFIG_MAX_PATH - 1] = '\0';
		c->fim_paths[i][CONFIG_MAX_PATH - 1] = '\0';
		c->fim_excludes[i][CONFIG_MAX_PATH - 1] = '\0';
	}
	if (c->ntrusted > CONFIG_MAX_KEYS)
		c->ntrusted = CONFIG_MAX_KEYS;
	if (c->onaccess_npaths > CONFIG_MAX_KEYS)
		c->onaccess_npaths = CONFIG_MAX_KEYS;
	if (c->onaccess_nblock_open > CONFIG_MAX_KEYS)
		c->onaccess_nblock_open = CONFIG_MAX_KEYS;
	if (c->fim_npaths > CONFIG_MAX_KEYS)
		c->fim_npaths = CONFIG_MAX_KEYS;
	if (c->fim_nexcludes > CONFIG_MAX_KEYS)
		c->fim_nexcludes = CONFIG_MAX_KEYS;
}

int
reload_recv(int sock, struct agent_config **out, unsigned *groups)
{
	struct reload_msg m;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	struct iovec iov = {&m, sizeof(m)};
	struct agent_config *c = NULL;
	struct msghdr mh;
	struct cmsghdr *ch;
	struct stat st;
	ssize_t k;
	size_t done = 0;
	int fd = -1, seals, r = -1, err = EPROTO;
	unsigned nfds = 0;

	*out = NULL;
	*groups = 0;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	k = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (k == 0)
		return 1;
	if (k < 0)
		return -1;
	/* Every descriptor that came is ours to close, whatever else is wrong. */
	for (ch = CMSG_FIRSTHDR(&mh); ch != NULL; ch = CMSG_NXTHDR(&mh, ch)) {
		if (ch->cmsg_level == SOL_SOCKET && ch->cmsg_type == SCM_RIGHTS &&
		    ch->cmsg_len >= CMSG_LEN(sizeof(int))) {
			size_t i, n = (ch->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (i = 0; i < n; i++) {
				int f;

				memcpy(&f, CMSG_DATA(ch) + i * sizeof(int), sizeof(int));
				if (nfds++ == 0)
					fd = f;
				else
					close(f);
			}
		}
	}
	if (k != (ssize_t)sizeof(m) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    m.magic != RELOAD_MAGIC || m.size != sizeof(*c) || nfds != 1)
		goto out;
	seals = fcntl(fd, F_GET_SEALS);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != m.size ||
	    seals < 0 || (seals & SEALS) != SEALS)
		goto out;
	c = ward_malloc(sizeof(*c));
	if (c == NULL) {
		err = ENOMEM;
		goto out;
	}
	while (done < sizeof(*c)) {
		k = pread(fd, (char *)c + done, sizeof(*c) - done, (off_t)done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto out;
		done += (size_t)k;
	}
	terminate(c);
	*out = c;
	*groups = m.groups;
	c = NULL;
	r = 0;
out:
	ward_free(c);
	if (fd >= 0)
		close(fd);
	if (r != 0)
		errno = err;
	return r;
}

void
reload_serve(int sfd, int cfg_sock, void (*apply)(struct agent_config *next, unsigned groups))
{
	for (;;) {
		struct pollfd p[2] = {{sfd, POLLIN, 0}, {cfg_sock, POLLIN, 0}};
		struct signalfd_siginfo si;

		if (poll(p, cfg_sock >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			return;
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
				return;
			if (si.ssi_signo == SIGHUP) {
				worker_log(
				    "SIGHUP: passed to the supervisor (pid %ld), which reloads",
				    (long)getppid());
				kill(getppid(), SIGHUP);
			}
		}
		if (cfg_sock >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			struct agent_config *next = NULL;
			unsigned groups = 0;
			int r = reload_recv(cfg_sock, &next, &groups);

			if (r == 0) {
				apply(next, groups);
			} else if (r == 1 || errno != EAGAIN) {
				if (r != 1)
					worker_log(
					    "reload: a malformed message from the supervisor "
					    "(%s): reloads are off",
					    strerror(errno));
				close(cfg_sock);
				cfg_sock = -1;
			}
		}
	}
}
