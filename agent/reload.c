/*
 * reload: the supervisor's channels to the worker.  See reload.h.
 *
 * Must hold: a configuration frame is exactly its header and one sealed
 * memory file of sizeof(struct agent_config) bytes, read whole; what it
 * holds is checked field by field (reload_config_check) before anyone
 * uses it, and refused — not repaired — when wrong; the tables below are
 * the only statement of what each side may receive.
 */
#include "agent/reload.h"
#include "agent/worker.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* How long the worker waits for its first configuration: the supervisor
 * sends it before the worker can even start. */
#define START_TIMEOUT_S 10.0

static const struct ipc_msgdef config_msgs[] = {
    {RELOAD_CONFIG, "config", 4 + 8, 4 + 8, IPC_FD_MEMFD, sizeof(struct agent_config)},
};
static const struct ipc_msgdef heartbeat_msgs[] = {
    {RELOAD_HEARTBEAT, "heartbeat", 0, 0, IPC_FD_NONE, 0},
};

const struct ipc_proto reload_config_proto = {"worker-config", config_msgs, 1};
const struct ipc_proto reload_heartbeat_proto = {"worker-heartbeat", heartbeat_msgs, 1};
const struct ipc_proto reload_nothing = {"worker", NULL, 0};

int
reload_send(struct ipc *ch, const struct agent_config *c, unsigned groups, double deadline,
	    struct ward_diag *d)
{
	struct wbuf w;
	int fd = -1, r;

	wbuf_init(&w);
	wbuf_u32(&w, groups);
	wbuf_u64(&w, sizeof(*c));
	if (w.err != 0) {
		r = diag_set(d, WARD_ENOMEM, "worker-config", 0, 0, "out of memory");
		goto out;
	}
	if ((r = ipc_memfd_new("wardd-config", c, sizeof(*c), &fd)) != 0) {
		diag_set(d, r, "worker-config", 0, 0, "cannot make its memory file: %s",
			 strerror(errno));
		goto out;
	}
	r = ipc_send(ch, RELOAD_CONFIG, w.p, w.len, fd, deadline, d);
out:
	if (fd >= 0)
		close(fd);
	wbuf_free(&w);
	return r;
}

/*
 * The table config_load reads wardd.yaml through is the one statement of
 * what a configuration may hold: the same rows check the bytes here, so a
 * key added there is checked here with its range, and a number the file
 * could not have held (a memory limit of 0, 10^9 threads) never reaches
 * the code that shifts it into bytes or sizes an array by it.
 */
int
reload_config_check(const struct agent_config *c, struct ward_diag *d)
{
	struct ward_diag why;

	diag_clear(&why);
	if (config_check(c, &why) == 0)
		return 0;
	return diag_set(d, WARD_EPROTO, "worker-config", 0, 0, "%s", why.msg);
}

int
reload_recv(struct ipc *ch, double deadline, struct agent_config **out, unsigned *groups,
	    struct ward_diag *d)
{
	struct agent_config *c = NULL;
	const uint8_t *map = NULL;
	struct ipc_msg m = {.fd = -1};
	struct rbuf b;
	uint64_t size = 0;
	uint32_t g = 0;
	int r;

	*out = NULL;
	*groups = 0;
	if ((r = ipc_recv(ch, deadline, &m, d)) != 0)
		goto out;
	rbuf_init(&b, m.p, m.len);
	r = WARD_EPROTO;
	if (rbuf_u32(&b, &g) != 0 || rbuf_u64(&b, &size) != 0 || rbuf_left(&b) != 0 ||
	    (g & ~RELOAD_GROUPS) != 0 || size != sizeof(*c) || m.fd_size != size) {
		diag_set(d, r, "worker-config", 0, 0,
			 "config: groups %#x or a size (%llu, its file %llu) not a configuration's",
			 g, (unsigned long long)size, (unsigned long long)m.fd_size);
		goto out;
	}
	if ((c = ward_malloc(sizeof(*c))) == NULL) {
		r = diag_set(d, WARD_ENOMEM, "worker-config", 0, 0, "out of memory");
		goto out;
	}
	if (ipc_memfd_map(m.fd, sizeof(*c), &map) != 0) {
		r = diag_set(d, WARD_EIO, "worker-config", 0, 0, "cannot map the configuration");
		goto out;
	}
	memcpy(c, map, sizeof(*c));
	ipc_memfd_unmap(map, sizeof(*c));
	if ((r = reload_config_check(c, d)) != 0)
		goto out;
	*out = c;
	*groups = g;
	c = NULL;
out:
	ipc_msg_close(&m);
	ward_free(c);
	return r;
}

int
reload_heartbeat(struct ipc *ch)
{
	return ipc_send(ch, RELOAD_HEARTBEAT, NULL, 0, -1, clock_mono() + 1.0, NULL);
}

void
reload_serve(int sfd, struct ipc *cfg, void (*apply)(struct agent_config *next, unsigned groups))
{
	for (;;) {
		int cfd = cfg != NULL ? ipc_fd(cfg) : -1;
		struct pollfd p[2] = {{sfd, POLLIN, 0}, {cfd, POLLIN, 0}};
		struct signalfd_siginfo si;

		if (poll(p, cfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			break;
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
				goto out;
			if (si.ssi_signo == SIGHUP) {
				worker_log(
				    "SIGHUP: passed to the supervisor (pid %ld), which reloads",
				    (long)getppid());
				kill(getppid(), SIGHUP);
			}
		}
		if (cfd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			struct agent_config *next = NULL;
			struct ward_diag d;
			unsigned groups = 0;
			int r;

			memset(&d, 0, sizeof(d));
			r = reload_recv(cfg, clock_mono() + 1.0, &next, &groups, &d);
			if (r == 0) {
				apply(next, groups);
				continue;
			}
			if (r == WARD_EPROTO) {
				char line[700];

				ipc_attack_text(&d, line, sizeof(line));
				worker_log("reload: %s; reloads are off", line);
			} else if (r != WARD_ECLOSED) {
				worker_log("reload: %s; reloads are off", d.msg);
			}
			/* Nothing more is taken from this channel. */
			ipc_free(cfg);
			cfg = NULL;
		}
	}
out:
	ipc_free(cfg);
}

int
reload_worker_main(const char *config_path)
{
	struct ipc *cfg = NULL, *hb = NULL;
	struct agent_config *c = NULL;
	struct ward_diag d;
	unsigned groups;
	int r = 1, fd;

	memset(&d, 0, sizeof(d));
	/* Placed by the exec without close-on-exec: nothing the worker starts
	 * may inherit its channels or the directories' locks (fds 5, 6). */
	for (fd = RELOAD_FD_CONFIG; fd <= RELOAD_FD_HEARTBEAT + 2; fd++)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (ipc_new(RELOAD_FD_CONFIG, &reload_config_proto, &reload_nothing, &cfg) != 0 ||
	    ipc_new(RELOAD_FD_HEARTBEAT, &reload_nothing, &reload_heartbeat_proto, &hb) != 0) {
		log_line(0, NULL, "worker: no channels to the supervisor on fds 3 and 4");
		goto out;
	}
	if ((r = reload_recv(cfg, clock_mono() + START_TIMEOUT_S, &c, &groups, &d)) != 0) {
		char line[700];

		if (r == WARD_EPROTO)
			ipc_attack_text(&d, line, sizeof(line));
		else
			snprintf(line, sizeof(line), "%s", d.msg);
		log_line(0, NULL, "worker: no configuration from the supervisor: %s", line);
		r = 1;
		goto out;
	}
	r = worker_main(c, config_path, hb, cfg);
	hb = cfg = NULL; /* the worker's until it exits */
	c = NULL;
out:
	ipc_free(cfg);
	ipc_free(hb);
	ward_free(c);
	return r;
}
