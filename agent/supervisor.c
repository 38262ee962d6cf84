/*
 * supervisor: worker life cycle and crash guard.  See supervisor.h.
 *
 * Must hold: the supervisor is single-threaded and does no content work,
 * so the worker's faults cannot reach it; it writes the content state only
 * while no worker runs; every decision it takes (rollback, safe mode) is
 * logged with its reason and recorded in the store for `ward agent status`.
 */
#include "agent/supervisor.h"
#include "util/log.h"
#include "agent/proctab.h"
#include "agent/reload.h"
#include "agent/worker.h"
#include "agent/scanpool.h"
#include "content/store.h"
#include "event/event.h"
#include "event/journal.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A worker that sends no heartbeat for this long is killed (and counted). */
#define HANG_TIMEOUT_S 30
/* A worker that ran this long resets the backoff. */
#define STABLE_S 60

static void slog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
slog(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline((long)getpid(), "supervisor", fmt, ap);
	va_end(ap);
}

void
sd_notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	(void)sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
	close(fd);
}

/* Journals ev (the worker is not running: the supervisor is the only
 * writer). */
static void
sup_emit(const struct agent_config *c, json_t *ev)
{
	struct journal_opts jo;
	struct journal *j = NULL;
	struct ward_diag d;
	char dir[CONFIG_MAX_PATH + 16], *text = ev != NULL ? event_text(ev) : NULL;
	uint64_t seq;

	journal_defaults(&jo);
	jo.max_bytes = (uint64_t)c->journal_max_mb << 20;
	jo.fsync = JOURNAL_FSYNC_ALWAYS;
	snprintf(dir, sizeof(dir), "%s/journal", c->state_dir);
	if (text != NULL && journal_open(dir, &jo, &j, &d) == 0) {
		(void)journal_append(j, text, strlen(text), &seq);
		journal_close(j);
	}
	free(text);
	json_decref(ev);
}

static void
sup_event(const struct agent_config *c, const char *kind, const char *category, const char *type,
	  const char *action, int64_t version, const char *message)
{
	json_t *ev = event_new(kind, category, type, action, NULL);

	if (ev == NULL)
		return;
	if (version > 0)
		event_set_int(ev, "ward.content.version", version);
	event_set_str(ev, "message", message);
	sup_emit(c, ev);
}

/* Records a crash and applies the crash guard.  Runs with no worker alive. */
static void
crash_guard(const struct agent_config *c, const char *how, int at_fault)
{
	struct store_state st;
	struct ward_diag d;
	int64_t now = (int64_t)time(NULL), v;
	unsigned n;
	char reason[STORE_MAX_REASON];

	if (store_open(c->state_dir, &st, &d) != 0) {
		slog("cannot read the content state: %s", d.msg);
		return;
	}
	v = st.current.present && !st.safe ? st.current.version : 0;
	store_crash(&st, v, now);
	n = v > 0 ? store_crashes_since(&st, v, now - (int64_t)c->crash_window_s) : 0;
	slog("worker %s; content version %lld: %u crash%s in the last %u s (limit %u)", how,
	     (long long)v, n, n == 1 ? "" : "es", c->crash_window_s, c->crash_max);
	{
		char msg[200];

		snprintf(msg, sizeof(msg), "the worker %s", how);
		sup_event(c, EVENT_KIND_ALERT, "process", "end", "agent-worker-crashed", v, msg);
	}
	if (v > 0 && at_fault) {
		snprintf(reason, sizeof(reason),
			 "crash guard: scanner processes crashed on %u different files within %u s "
			 "with this version",
			 c->scan_crash_files, c->crash_window_s);
		n = c->crash_max;
	} else if (v > 0 && n >= c->crash_max) {
		snprintf(reason, sizeof(reason),
			 "crash guard: the worker crashed %u times within %u s "
			 "with this version",
			 n, c->crash_window_s);
	}
	if (v > 0 && n >= c->crash_max) {
		if (st.lkg.present) {
			int64_t to = st.lkg.version;

			if (store_rollback(c->state_dir, &st, CAUSE_CRASH_GUARD, reason, now, &d) ==
			    0) {
				slog("ALERT: content version %lld marked bad, restored "
				     "last-known-good "
				     "version %lld",
				     (long long)v, (long long)to);
				sup_event(c, EVENT_KIND_ALERT, "configuration", "change",
					  "content-crash-guard-rollback", v, reason);
				return;
			}
			slog("rollback failed: %s", d.msg);
		}
		store_reject(&st, v, CAUSE_CRASH_GUARD, reason, now);
		st.safe = 1;
		snprintf(
		    st.safe_reason, sizeof(st.safe_reason),
		    "content version %lld crashed the worker %u times within %u s and there is "
		    "no last-known-good content left; content-driven protection is off until new "
		    "content is applied",
		    (long long)v, n, c->crash_window_s);
		slog("ALERT: safe mode: %s", st.safe_reason);
		sup_event(c, EVENT_KIND_ALERT, "configuration", "change", "agent-safe-mode", v,
			  st.safe_reason);
	}
	if (store_save(c->state_dir, &st, &d) != 0)
		slog("cannot save the content state: %s", d.msg);
}

/*
 * Starts the worker: `wardd --worker --config PATH` by fork + exec
 * (proctab.h), its configuration channel on fd 3 (*cfg, with c already
 * sent on it: the configuration it starts with), its heartbeat channel on
 * fd 4 (*hb), and the directories' locks (those taken) after them: it
 * holds them as long as it lives, even for the moment it outlives its
 * supervisor.  The worker dies with its supervisor.  The pid, or -1.
 */
static pid_t
start_worker(const struct agent_config *c, const char *config_path, const int locks[2],
	     struct ipc **hb, struct ipc **cfg)
{
	const char *args[] = {"--config", config_path, NULL};
	int cv[2] = {-1, -1}, hv[2] = {-1, -1}, fds[4];
	size_t nfds = 2, i;
	struct ward_diag d;
	pid_t pid = -1;
	int r;

	*hb = *cfg = NULL;
	memset(&d, 0, sizeof(d));
	if (ipc_pair(cv) != 0 || ipc_pair(hv) != 0)
		goto out;
	/* ipc_new takes the descriptor, even when it fails. */
	r = ipc_new(cv[0], &reload_nothing, &reload_config_proto, cfg);
	cv[0] = -1;
	if (r != 0)
		goto out;
	r = ipc_new(hv[0], &reload_heartbeat_proto, &reload_nothing, hb);
	hv[0] = -1;
	if (r != 0)
		goto out;
	/* Sent first: it waits in the socket for the worker to start. */
	if (reload_send(*cfg, c, 0, clock_mono() + 5.0, &d) != 0) {
		slog("cannot pass the configuration to the worker: %s", d.msg);
		goto out;
	}
	fds[0] = cv[1];
	fds[1] = hv[1];
	for (i = 0; i < 2; i++)
		if (locks[i] >= 0)
			fds[nfds++] = locks[i];
	if (proctab_spawn(PROC_WORKER, args, fds, nfds, PROCTAB_F_PDEATHSIG | PROCTAB_F_UNBLOCK,
			  &pid) != 0)
		pid = -1;
out:
	if (cv[0] >= 0)
		close(cv[0]);
	if (hv[0] >= 0)
		close(hv[0]);
	if (cv[1] >= 0)
		close(cv[1]);
	if (hv[1] >= 0)
		close(hv[1]);
	if (pid < 0) {
		ipc_free(*cfg);
		ipc_free(*hb);
		*hb = *cfg = NULL;
	}
	return pid;
}

/*
 * Takes the heartbeats waiting on hb, without waiting: 1 if one came.  A
 * frame that breaks the channel closes it (logged as an attack): the
 * worker's silence then counts as a hang.
 */
static int
heartbeats(struct ipc *hb)
{
	struct ward_diag d;
	struct ipc_msg m;
	int any = 0, r;

	memset(&d, 0, sizeof(d));
	for (;;) {
		struct pollfd p = {ipc_fd(hb), POLLIN, 0};

		if (p.fd < 0 || poll(&p, 1, 0) <= 0)
			break;
		r = ipc_recv(hb, clock_mono() + 1.0, &m, &d);
		ipc_msg_close(&m);
		if (r == WARD_EPROTO) {
			char line[700];

			ipc_attack_text(&d, line, sizeof(line));
			slog("%s", line);
		}
		if (r != 0)
			break;
		any = 1;
	}
	return any;
}

/*
 * SIGHUP: reads config_path again.  A file that does not load, or whose
 * trusted keys cannot be read, is refused and cur stays; otherwise the
 * keys a reload applies go into cur (which a restarted worker starts
 * with) and to the running worker over cfg (NULL: none runs), and the
 * others that changed are named.
 */
static void
reload(struct agent_config *cur, const char *config_path, struct ipc *cfg)
{
	struct agent_config *next = ward_malloc(sizeof(*next));
	struct ward_diag d;
	char msg[1200], changed[600], restart[600];
	unsigned groups;

	if (next == NULL) {
		slog("reload: out of memory; the running configuration stays");
		return;
	}
	config_defaults(next);
	if (config_load(config_path, next, &d) != 0) {
		diag_format(&d, msg, sizeof(msg));
		slog("reload refused: %s; the running configuration stays", msg);
		goto out;
	}
	if (config_check_keys(next, msg, sizeof(msg)) != 0) {
		slog("reload refused: %s: %s; the running configuration stays", config_path, msg);
		goto out;
	}
	groups = config_changes(cur, next, changed, sizeof(changed), restart, sizeof(restart));
	if (restart[0] != '\0')
		slog("reload: not reloaded: %s (restart wardd)", restart);
	if (groups == 0) {
		slog("reload: %s read; nothing to apply", config_path);
		goto out;
	}
	config_reload_into(cur, next);
	slog("reload: %s read; applying %s", config_path, changed);
	if (cfg != NULL && reload_send(cfg, cur, groups, clock_mono() + 1.0, &d) != 0)
		slog("reload: cannot pass the configuration to the worker (%s); it applies when "
		     "the worker restarts",
		     d.msg);
out:
	ward_free(next);
}

int
supervisor_main(struct agent_config *c, const char *config_path, const int locks[2])
{
	const char *wd = getenv("WATCHDOG_USEC");
	double wd_interval = wd != NULL ? atof(wd) / 2e6 : 0, last_wd = 0;
	unsigned consecutive = 0;
	int ready = 0, stopping = 0, sfd;
	sigset_t set;

	/* c: the configuration in force, the start's, then each reload's
	 * applied into it (not a copy: each is 200 KiB). */

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		slog("signalfd: %s", strerror(errno));
		ward_free(c);
		return 1;
	}
	for (;;) {
		double started = clock_mono(), last_hb = clock_mono(), backoff;
		struct ipc *hb = NULL, *cs = NULL;
		int status = 0, exited = 0;
		pid_t pid = start_worker(c, config_path, locks, &hb, &cs);

		if (pid < 0) {
			slog("cannot start the worker: %s", strerror(errno));
			sleep(1);
			continue;
		}
		while (!exited) {
			struct pollfd p[2] = {{sfd, POLLIN, 0}, {ipc_fd(hb), POLLIN, 0}};
			struct signalfd_siginfo si;

			(void)poll(p, 2, 1000);
			if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && heartbeats(hb)) {
				last_hb = clock_mono();
				if (!ready) {
					ready = 1;
					sd_notify_send("READY=1");
				}
			}
			if (wd_interval > 0 && clock_mono() - last_hb < HANG_TIMEOUT_S &&
			    clock_mono() - last_wd >= wd_interval) {
				sd_notify_send("WATCHDOG=1");
				last_wd = clock_mono();
			}
			if (!stopping && clock_mono() - last_hb > HANG_TIMEOUT_S &&
			    clock_mono() - started > HANG_TIMEOUT_S) {
				slog("the worker sent no heartbeat for %d s: killing it",
				     HANG_TIMEOUT_S);
				kill(pid, SIGKILL);
				last_hb = clock_mono();
			}
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if ((si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) &&
				    !stopping) {
					stopping = 1;
					sd_notify_send("STOPPING=1");
					kill(pid, SIGTERM);
				} else if (si.ssi_signo == SIGHUP && !stopping) {
					if (ready) {
						char msg[64];

						/* systemd: reloading, since when */
						snprintf(msg, sizeof(msg),
							 "RELOADING=1\nMONOTONIC_USEC=%.0f",
							 clock_mono() * 1e6);
						sd_notify_send(msg);
					}
					reload(c, config_path, cs);
					if (ready)
						sd_notify_send("READY=1");
				}
			}
			if (waitpid(pid, &status, WNOHANG) == pid)
				exited = 1;
		}
		ipc_free(hb);
		ipc_free(cs);
		if (stopping) {
			slog("stopped");
			ward_free(c);
			return 0;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_CONFIG) {
			slog("the worker cannot run with this configuration (see above); not "
			     "restarting");
			ward_free(c);
			return 1;
		}
		if (WIFEXITED(status)) {
			char how[64];

			/* Scanners crashing on many different files with this
			 * content: the worker said so, and the guard acts now. */
			if (WEXITSTATUS(status) == WORKER_EXIT_CONTENT_FAULT)
				snprintf(how, sizeof(how),
					 "exited: scanners crashed on %u different files with its "
					 "content",
					 c->scan_crash_files);
			else
				snprintf(how, sizeof(how), "exited with status %d",
					 WEXITSTATUS(status));
			crash_guard(c, how, WEXITSTATUS(status) == WORKER_EXIT_CONTENT_FAULT);
		} else {
			char how[96];

			snprintf(how, sizeof(how), "killed by signal %d (%s)", WTERMSIG(status),
				 strsignal(WTERMSIG(status)));
			crash_guard(c, how, 0);
		}
		consecutive = clock_mono() - started > STABLE_S ? 1 : consecutive + 1;
		backoff = consecutive >= 8 ? c->restart_backoff_max_s
					   : (double)(1u << (consecutive - 1)) / 4.0;
		if (backoff > c->restart_backoff_max_s)
			backoff = c->restart_backoff_max_s;
		slog("restarting the worker in %.2f s", backoff);
		{
			double until = clock_mono() + backoff;

			while (!stopping && clock_mono() < until) {
				struct pollfd p = {sfd, POLLIN, 0};
				struct signalfd_siginfo si;

				(void)poll(&p, 1, (int)((until - clock_mono()) * 1000) + 1);
				while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
					if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
						stopping = 1;
					else if (si.ssi_signo == SIGHUP) /* for the next worker */
						reload(c, config_path, NULL);
				}
			}
		}
		if (stopping) {
			slog("stopped");
			ward_free(c);
			return 0;
		}
	}
}
