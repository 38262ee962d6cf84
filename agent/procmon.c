/*
 * procmon: process execution monitoring with the netlink process
 * connector.  See procmon.h.
 *
 * Must hold: a process that is gone before it is read yields a partial
 * event (flagged), never a crash or a wrong process; the agent's own execs
 * are not judged; a kill is aimed at the pid the exec event named, and its
 * result (or failure) is an event too.
 */
#include "agent/procmon.h"
#include "agent/procfs.h"
#include "agent/sensor_event.h"
#include "util/alloc.h"
#include "agent/worker.h"
#include "event/event.h"
#include "sigma/sigma.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FIELD_MAX 4096

#define RECENT 1024

/* The executables of recent execs, by pid: who-data for sensors that see
 * a process only after it has exited. */
struct recent {
	pid_t pid, ppid;
	char exe[240];
	char comm[16];
};

struct procmon {
	const struct sensor_host *host; /* the agent, from start on */
	int sock;
	int running;
	pthread_mutex_t lock; /* st, recent */
	struct procmon_stats st;
	struct recent recent[RECENT];
	pid_t self; /* the agent: its own execs are not judged */
};

struct procmon *
procmon_new(void)
{
	struct procmon *pm = ward_calloc(1, sizeof(*pm));

	if (pm != NULL) {
		pm->sock = -1;
		pthread_mutex_init(&pm->lock, NULL);
	}
	return pm;
}

void
procmon_free(struct procmon *pm)
{
	if (pm == NULL)
		return;
	if (pm->sock >= 0)
		close(pm->sock);
	pthread_mutex_destroy(&pm->lock);
	ward_free(pm);
}

/* Records what was read of pid's exec for procmon_recent. */
static void
remember(struct procmon *pm, pid_t pid, const char *exe, const char *comm, long ppid)
{
	struct recent r;

	r.pid = pid;
	r.ppid = ppid > 0 ? (pid_t)ppid : 0;
	snprintf(r.exe, sizeof(r.exe), "%s", exe);
	snprintf(r.comm, sizeof(r.comm), "%s", comm);
	pthread_mutex_lock(&pm->lock);
	pm->recent[(unsigned)pid % RECENT] = r;
	pthread_mutex_unlock(&pm->lock);
}

int
procmon_recent(struct procmon *pm, pid_t pid, char *exe, size_t exelen, char *comm, size_t commlen,
	       pid_t *ppid)
{
	const struct recent *e;
	int r = -1;

	if (pm == NULL)
		return -1;
	e = &pm->recent[(unsigned)pid % RECENT];
	pthread_mutex_lock(&pm->lock);
	if (pid > 0 && e->pid == pid) {
		snprintf(exe, exelen, "%s", e->exe);
		snprintf(comm, commlen, "%s", e->comm);
		*ppid = e->ppid;
		r = 0;
	}
	pthread_mutex_unlock(&pm->lock);
	return r;
}

struct proc_info {
	char exe[FIELD_MAX], cmdline[FIELD_MAX], cwd[FIELD_MAX], user[64], comm[64];
	char pexe[FIELD_MAX], pcmdline[FIELD_MAX];
	long uid, ppid;
	int partial;
	unsigned have; /* the fields read (bits of enum sigma_field) */
	int base;      /* the executable and /proc/PID/stat read */
};

#define ALL_FIELDS ((1u << SF_COUNT) - 1)

/* /proc/PID/cmdline with its NULs as spaces. */
static int
read_cmdline(pid_t pid, char *out, size_t outlen)
{
	char p[64];
	ssize_t n, i;
	int fd;

	snprintf(p, sizeof(p), "/proc/%ld/cmdline", (long)pid);
	out[0] = '\0';
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, out, outlen - 1);
	close(fd);
	if (n <= 0)
		return -1;
	while (n > 0 && out[n - 1] == '\0')
		n--;
	for (i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	out[n] = '\0';
	return 0;
}

/* User names by uid, for a minute: getpwuid_r opens and parses the
 * passwd database on every call, which an exec storm must not cost.
 * (Only the reader thread uses it.) */
#define USERS 32
#define USER_TTL_S 60

static void
user_name(long uid, char *out, size_t outlen)
{
	static struct {
		long uid;
		time_t at;
		char name[64];
	} users[USERS];
	struct passwd pw, *res = NULL;
	char buf[1024];
	time_t now = time(NULL);
	unsigned i = (unsigned long)uid % USERS;

	if (users[i].at != 0 && users[i].uid == uid && now - users[i].at < USER_TTL_S) {
		snprintf(out, outlen, "%s", users[i].name);
		return;
	}
	if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		snprintf(users[i].name, sizeof(users[i].name), "%s", pw.pw_name);
	else
		snprintf(users[i].name, sizeof(users[i].name), "%ld", uid);
	users[i].uid = uid;
	users[i].at = now;
	snprintf(out, outlen, "%s", users[i].name);
}

unsigned
procmon_reads(unsigned fields, unsigned have, int base)
{
	unsigned need = fields & ~have, r = base ? 0 : PROCMON_READ_EXE | PROCMON_READ_STAT;

	if (need & (1u << SF_COMMANDLINE))
		r |= PROCMON_READ_CMDLINE;
	if (need & (1u << SF_CURRENTDIRECTORY))
		r |= PROCMON_READ_CWD;
	if (need & (1u << SF_USER))
		r |= PROCMON_READ_STATUS;
	if (need & (1u << SF_PARENTIMAGE))
		r |= PROCMON_READ_PARENT_EXE;
	if (need & (1u << SF_PARENTCOMMANDLINE))
		r |= PROCMON_READ_PARENT_CMDLINE;
	return r;
}

/*
 * Reads into pi what want asks for (bits of enum sigma_field) and it does
 * not hold yet (procmon_reads).  The executable and /proc/PID/stat always
 * (what procmon_recent remembers): stat, not status, whose kernel side
 * formats some fifty lines per read — most of a read's cost when every
 * exec pays it; status only for the user.  The rest only when a rule
 * looks at it, or an alert is to show it: most execs match nothing.
 */
static void
enrich(pid_t pid, struct proc_info *pi, unsigned want)
{
	unsigned rd = procmon_reads(want, pi->have, pi->base);

	if (rd & PROCMON_READ_EXE) /* first: the process may be gone soon */
		pi->partial |= procfs_link(pid, "exe", pi->exe, sizeof(pi->exe)) != 0;
	if (rd & PROCMON_READ_STAT) {
		pid_t ppid = -1;

		pi->partial |= procfs_stat(pid, &ppid, pi->comm, sizeof(pi->comm)) != 0;
		pi->ppid = ppid;
		pi->base = 1;
	}
	if (rd & PROCMON_READ_CMDLINE)
		pi->partial |= read_cmdline(pid, pi->cmdline, sizeof(pi->cmdline)) != 0;
	if (rd & PROCMON_READ_CWD)
		pi->partial |= procfs_link(pid, "cwd", pi->cwd, sizeof(pi->cwd)) != 0;
	if (rd & PROCMON_READ_STATUS) {
		struct procfs_status ps;

		pi->partial |= procfs_status(pid, &ps) != 0;
		pi->uid = ps.uid;
		if (pi->uid >= 0)
			user_name(pi->uid, pi->user, sizeof(pi->user));
	}
	if ((rd & PROCMON_READ_PARENT_EXE) && pi->ppid > 0)
		pi->partial |= procfs_link((pid_t)pi->ppid, "exe", pi->pexe, sizeof(pi->pexe)) != 0;
	if ((rd & PROCMON_READ_PARENT_CMDLINE) && pi->ppid > 0)
		(void)read_cmdline((pid_t)pi->ppid, pi->pcmdline, sizeof(pi->pcmdline));
	pi->have |= want;
}

/* What the events say of the process pi (borrowed: lives as long as pi). */
static void
view_of(pid_t pid, const struct proc_info *pi, struct sensor_proc *p)
{
	p->pid = pid;
	p->exe = pi->exe;
	p->cmdline = pi->cmdline;
	p->cwd = pi->cwd;
	p->user = pi->user;
	p->uid = pi->uid;
	p->ppid = pi->ppid;
	p->pexe = pi->pexe;
	p->pcmdline = pi->pcmdline;
	p->partial = pi->partial;
}

/* What the rules are matched against: the fields of pi read so far. */
static void
event_of(const struct proc_info *pi, struct sigma_event *sev)
{
	memset(sev, 0, sizeof(*sev));
	sev->field[SF_IMAGE] = pi->exe[0] ? pi->exe : NULL;
	sev->field[SF_COMMANDLINE] = pi->cmdline[0] ? pi->cmdline : NULL;
	sev->field[SF_PARENTIMAGE] = pi->pexe[0] ? pi->pexe : NULL;
	sev->field[SF_PARENTCOMMANDLINE] = pi->pcmdline[0] ? pi->pcmdline : NULL;
	sev->field[SF_USER] = pi->user[0] ? pi->user : NULL;
	sev->field[SF_CURRENTDIRECTORY] = pi->cwd[0] ? pi->cwd : NULL;
}

static void
on_exec(struct procmon *pm, pid_t pid)
{
	struct active *a;
	const struct sigma_set *rules;
	struct sigma_event sev;
	struct proc_info *pi;
	unsigned fields;
	size_t i;

	if (pid == pm->self)
		return;
	a = pm->host->content_get(pm->host->arg);
	rules = a != NULL ? worker_content_sigma(a) : NULL;
	pthread_mutex_lock(&pm->lock);
	pm->st.execs++;
	pthread_mutex_unlock(&pm->lock);
	if (rules == NULL || sigma_set_count(rules) == 0) {
		/* Only who-data: the executable, name and parent. */
		char exe[240], comm[16];
		pid_t ppid = 0;

		if (procfs_link(pid, "exe", exe, sizeof(exe)) == 0) {
			(void)procfs_stat(pid, &ppid, comm, sizeof(comm));
			remember(pm, pid, exe, comm, ppid);
		}
		pm->host->content_put(pm->host->arg, a);
		return;
	}
	pi = malloc(sizeof(*pi));
	if (pi == NULL) {
		pm->host->content_put(pm->host->arg, a);
		return;
	}
	memset(pi, 0, sizeof(*pi));
	pi->uid = pi->ppid = -1;
	/* The image first (with the parent and name, always read): most
	 * execs are decided by it alone, and every other field is one more
	 * read of /proc while the process runs.  The rest only if a rule can
	 * still match (sigma_may_match). */
	enrich(pid, pi, 1u << SF_IMAGE);
	if (pi->exe[0] != '\0')
		remember(pm, pid, pi->exe, pi->comm, pi->ppid);
	event_of(pi, &sev);
	fields = sigma_set_fields(rules);
	for (i = 0; i < sigma_set_count(rules); i++)
		if (sigma_may_match(rules, i, &sev, fields & ~pi->have))
			break;
	if (i == sigma_set_count(rules)) { /* no rule can match */
		if (pi->partial) {
			pthread_mutex_lock(&pm->lock);
			pm->st.partial++;
			pthread_mutex_unlock(&pm->lock);
		}
		free(pi);
		pm->host->content_put(pm->host->arg, a);
		return;
	}
	enrich(pid, pi, fields);
	event_of(pi, &sev);
	if (pi->partial) {
		pthread_mutex_lock(&pm->lock);
		pm->st.partial++;
		pthread_mutex_unlock(&pm->lock);
	}
	for (i = 0; i < sigma_set_count(rules); i++) {
		int kill_it = sigma_rule_action(rules, i) == SIGMA_KILL;
		struct sensor_proc view;

		if (!sigma_match(rules, i, &sev))
			continue;
		enrich(pid, pi, ALL_FIELDS); /* what the alert shows */
		pthread_mutex_lock(&pm->lock);
		pm->st.matches++;
		pthread_mutex_unlock(&pm->lock);
		if (kill_it) {
			int ok = kill(pid, SIGKILL) == 0;
			int err = errno;

			view_of(pid, pi, &view);
			pm->host->emit(pm->host->arg,
				       sensor_event_proc_killed(&view, sigma_rule_title(rules, i),
								ok, strerror(err)));
			pthread_mutex_lock(&pm->lock);
			pm->st.killed += ok;
			pthread_mutex_unlock(&pm->lock);
		}
		view_of(pid, pi, &view);
		pm->host->emit(pm->host->arg,
			       sensor_event_proc_match(
				   &view, sigma_rule_title(rules, i), sigma_rule_id(rules, i),
				   sigma_rule_level(rules, i), kill_it, worker_content_version(a)));
		if (kill_it)
			break; /* the process is gone */
	}
	free(pi);
	pm->host->content_put(pm->host->arg, a);
}

/*
 * A socket filter that lets only exec events through: forks and exits
 * are two of every three events the connector sends, and each would wake
 * the reader for nothing.  The event's "what" is the first field after
 * the netlink and connector headers; BPF loads words big-endian.
 */
static const struct sock_filter exec_only_code[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	     NLMSG_LENGTH(0) + offsetof(struct cn_msg, data) + offsetof(struct proc_event, what)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), /* k set to htonl(PROC_EVENT_EXEC) at start */
    BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
    BPF_STMT(BPF_RET | BPF_K, 0),
};
#define EXEC_ONLY_LEN (sizeof(exec_only_code) / sizeof(exec_only_code[0]))

static int
subscribe(int sock, enum proc_cn_mcast_op op)
{
	struct {
		struct nlmsghdr nl;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) msg;

	memset(&msg, 0, sizeof(msg));
	msg.nl.nlmsg_len = sizeof(msg);
	msg.nl.nlmsg_pid = (uint32_t)getpid();
	msg.nl.nlmsg_type = NLMSG_DONE;
	msg.cn.id.idx = CN_IDX_PROC;
	msg.cn.id.val = CN_VAL_PROC;
	msg.cn.len = sizeof(enum proc_cn_mcast_op);
	msg.op = op;
	return send(sock, &msg, sizeof(msg), 0) == (ssize_t)sizeof(msg) ? 0 : -1;
}

static void *
reader(void *arg)
{
	struct procmon *pm = arg;
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));

	for (;;) {
		ssize_t n = recv(pm->sock, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) { /* the kernel dropped events */
			pthread_mutex_lock(&pm->lock);
			pm->st.lost++;
			pthread_mutex_unlock(&pm->lock);
			continue;
		}
		if (n <= 0)
			break;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (unsigned)n);
		     nh = NLMSG_NEXT(nh, n)) {
			struct cn_msg cn;
			struct proc_event pe;
			size_t have;

			if (nh->nlmsg_type == NLMSG_ERROR || nh->nlmsg_type == NLMSG_NOOP ||
			    nh->nlmsg_len < NLMSG_LENGTH(sizeof(cn)))
				continue;
			/* Copied out: the event sits at an offset that is not
			 * aligned for struct proc_event (reading it in place is
			 * undefined behaviour). */
			memcpy(&cn, NLMSG_DATA(nh), sizeof(cn));
			if (cn.id.idx != CN_IDX_PROC || cn.id.val != CN_VAL_PROC)
				continue;
			have = nh->nlmsg_len - NLMSG_LENGTH(sizeof(cn));
			if (have > cn.len)
				have = cn.len;
			memset(&pe, 0, sizeof(pe));
			memcpy(&pe, (const char *)NLMSG_DATA(nh) + sizeof(cn),
			       have < sizeof(pe) ? have : sizeof(pe));
			if (have >= offsetof(struct proc_event, event_data) +
					sizeof(pe.event_data.exec) &&
			    pe.what == PROC_EVENT_EXEC)
				on_exec(pm, (pid_t)pe.event_data.exec.process_tgid);
		}
	}
	return NULL;
}

int
procmon_start(struct procmon *pm, const struct sensor_host *h, char *why, size_t whylen)
{
	struct sock_filter code[EXEC_ONLY_LEN];
	struct sock_fprog prog = {EXEC_ONLY_LEN, code};
	struct sockaddr_nl sa;
	pthread_t t;
	int rcvbuf = 4 << 20;

	why[0] = '\0';
	pm->host = h;
	pm->self = getpid();
	pm->sock = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (pm->sock < 0) {
		snprintf(why, whylen, "the netlink process connector is not available: %s",
			 strerror(errno));
		return -1;
	}
	/* Without it every event still works (the reader looks at what each
	 * one is); with it, forks and exits never wake the agent. */
	memcpy(code, exec_only_code, sizeof(code));
	code[1].k = htonl(PROC_EVENT_EXEC);
	(void)setsockopt(pm->sock, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
	(void)setsockopt(pm->sock, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = CN_IDX_PROC;
	sa.nl_pid = 0; /* let the kernel pick a port id */
	if (bind(pm->sock, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    subscribe(pm->sock, PROC_CN_MCAST_LISTEN) != 0) {
		snprintf(why, whylen, "cannot listen to the process connector: %s",
			 strerror(errno));
		close(pm->sock);
		pm->sock = -1;
		return -1;
	}
	if (pthread_create(&t, NULL, reader, pm) != 0) {
		snprintf(why, whylen, "cannot start its thread");
		close(pm->sock);
		pm->sock = -1;
		return -1;
	}
	pthread_detach(t);
	pm->running = 1;
	return 0;
}

int
procmon_running(struct procmon *pm)
{
	return pm->running;
}

void
procmon_get_stats(struct procmon *pm, struct procmon_stats *st)
{
	pthread_mutex_lock(&pm->lock);
	*st = pm->st;
	pthread_mutex_unlock(&pm->lock);
}
