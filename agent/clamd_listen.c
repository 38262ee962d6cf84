/*
 * clamd_listen: the clamd socket's listeners.  See clamd.h.
 *
 * Must hold: the Unix socket is created with the configured owner, group
 * and mode before it listens (umask 0177 until then), a file other than
 * an old socket at its path is never removed; the TCP listener exists
 * only with clamd.tcp_port and binds a numeric address; each accepted
 * connection carries whose files its path commands may open: the Unix
 * peer's credentials, or clamd.tcp_path_user's over TCP, or none.
 */
#include "agent/clamd_int.h"
#include "agent/control.h"
#include "agent/worker.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* For clamd_stop: the socket to remove (written once by clamd_start). */
static char sock_to_remove[CONFIG_MAX_PATH + 32];

/* The Unix peer's credentials; paths_ok unless they cannot be read. */
static void
unix_peer(int fd, struct clamd_peer *p)
{
	struct ucred cr;
	socklen_t l = sizeof(cr);
	socklen_t gl = sizeof(p->groups);

	memset(p, 0, sizeof(*p));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) != 0)
		return;
	p->uid = cr.uid;
	p->gid = cr.gid;
	p->local = 1;
	/* More groups than CLAMD_MAX_GROUPS (ERANGE): no path commands.  Fewer
	 * groups would not always mean less access (a mode such as 0604
	 * denies the group what it gives others). */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p->groups, &gl) != 0)
		return;
	p->ngroups = gl / sizeof(gid_t);
	p->paths_ok = 1;
}

struct listener {
	struct clamd_srv *s;
	int fd;
	int tcp;
};

static void *
accept_thread(void *arg)
{
	struct listener *l = arg;
	struct clamd_srv *s = l->s;

	for (;;) {
		struct clamd_peer peer;
		int fd = control_accept(l->fd, "clamd socket");

		if (fd < 0)
			break;
		if (l->tcp)
			peer = s->tcp_peer;
		else
			unix_peer(fd, &peer);
		(void)clamd_conn_start(s, fd, &peer); /* closes fd when refused */
	}
	return NULL;
}

/* The Unix socket, with the configured owner, group and mode. */
static int
listen_unix(struct clamd_srv *s)
{
	const struct agent_config *cfg = s->cfg;
	struct sockaddr_un sa;
	unsigned long mode = strtoul(cfg->clamd_socket_mode, NULL, 8);
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	struct stat st;
	mode_t old;
	int fd, b;

	snprintf(s->sock_path, sizeof(s->sock_path), "%s", cfg->clamd_socket);
	{
		/* Its directory, if missing: one every client may enter. */
		char dir[sizeof(s->sock_path)];
		char *slash;

		snprintf(dir, sizeof(dir), "%s", s->sock_path);
		slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
				worker_log("clamd socket: cannot create %s: %s", dir,
					   strerror(errno));
				return -1;
			}
		} else if (slash == dir) {
			dir[1] = '\0';
		}
		/* The socket is made, replaced and given its owner by name, as
		 * root: only in a directory nobody else may write (sticky or
		 * not: a sticky one still lets anyone put a name there first). */
		if (slash != NULL && (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
				      (st.st_uid != 0 && st.st_uid != geteuid()) ||
				      (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)) {
			worker_log("clamd socket: %s is not a directory only root may write to: "
				   "not served there",
				   dir);
			return -1;
		}
	}
	if (cfg->clamd_socket_owner[0] != '\0') {
		struct passwd *pw = getpwnam(cfg->clamd_socket_owner);

		if (pw == NULL) {
			worker_log("clamd.socket_owner: no user %s", cfg->clamd_socket_owner);
			return -1;
		}
		uid = pw->pw_uid;
	}
	if (cfg->clamd_socket_group[0] != '\0') {
		struct group *gr = getgrnam(cfg->clamd_socket_group);

		if (gr == NULL) {
			worker_log("clamd.socket_group: no group %s", cfg->clamd_socket_group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(s->sock_path) >= sizeof(sa.sun_path)) {
		worker_log("%s: path too long for a socket", s->sock_path);
		return -1;
	}
	memcpy(sa.sun_path, s->sock_path, strlen(s->sock_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A socket left by an earlier run is replaced; anything else there
	 * is an error, never removed. */
	if (lstat(s->sock_path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(s->sock_path);
	/* The mode comes from the umask at bind, and the owner is set on the
	 * name without following a link: no chmod/chown by path after it. */
	old = umask((mode_t)(~mode & 0777));
	b = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (b != 0 ||
	    ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	     fchownat(AT_FDCWD, s->sock_path, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) ||
	    listen(fd, 128) != 0) {
		worker_log("clamd socket: cannot listen on %s: %s", s->sock_path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
listen_tcp(struct clamd_srv *s)
{
	struct addrinfo hints, *ai = NULL;
	char port[8];
	int fd = -1, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", s->cfg->clamd_tcp_port);
	if (getaddrinfo(s->cfg->clamd_tcp_address, port, &hints, &ai) != 0 || ai == NULL) {
		worker_log("clamd.tcp_address: %s is not a numeric address",
			   s->cfg->clamd_tcp_address);
		goto out;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
		worker_log("clamd socket: cannot listen on %s port %s: %s",
			   s->cfg->clamd_tcp_address, port, strerror(errno));
		close(fd);
		fd = -1;
	}
out:
	if (ai != NULL)
		freeaddrinfo(ai);
	return fd;
}

/* clamd.tcp_path_user's credentials for TCP path commands. */
static int
tcp_user(struct clamd_srv *s)
{
	struct passwd *pw;
	int n = CLAMD_MAX_GROUPS;

	memset(&s->tcp_peer, 0, sizeof(s->tcp_peer));
	if (s->cfg->clamd_tcp_path_user[0] == '\0')
		return 0;
	pw = getpwnam(s->cfg->clamd_tcp_path_user);
	if (pw == NULL) {
		worker_log("clamd.tcp_path_user: no user %s", s->cfg->clamd_tcp_path_user);
		return -1;
	}
	s->tcp_peer.uid = pw->pw_uid;
	s->tcp_peer.gid = pw->pw_gid;
	if (getgrouplist(pw->pw_name, pw->pw_gid, s->tcp_peer.groups, &n) < 0) {
		worker_log("clamd.tcp_path_user: %s is in more than %d groups",
			   s->cfg->clamd_tcp_path_user, CLAMD_MAX_GROUPS);
		return -1;
	}
	s->tcp_peer.ngroups = (unsigned)n;
	s->tcp_peer.paths_ok = 1;
	return 0;
}

static int
start_listener(struct clamd_srv *s, int fd, int tcp)
{
	struct listener *l = ward_malloc(sizeof(*l));
	pthread_t t;

	if (l == NULL)
		return -1;
	l->s = s;
	l->fd = fd;
	l->tcp = tcp;
	if (pthread_create(&t, NULL, accept_thread, l) != 0) {
		ward_free(l);
		return -1;
	}
	pthread_detach(t);
	return 0;
}

int
clamd_start(const struct agent_config *c)
{
	struct clamd_srv *s = ward_malloc(sizeof(*s));
	int ufd = -1, tfd = -1, r = -1;

	if (s == NULL)
		goto out;
	memset(s, 0, sizeof(*s));
	s->cfg = c;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->slot, NULL);
	s->byuid = ward_malloc(c->clamd_max_connections * sizeof(*s->byuid));
	if (s->byuid == NULL || clamd_path_init() != 0 || tcp_user(s) != 0)
		goto out;
	if ((ufd = listen_unix(s)) < 0)
		goto out;
	if (c->clamd_tcp_port != 0 && (tfd = listen_tcp(s)) < 0)
		goto out;
	if (start_listener(s, ufd, 0) != 0)
		goto out;
	snprintf(sock_to_remove, sizeof(sock_to_remove), "%s", s->sock_path);
	ufd = -1;
	if (tfd >= 0 && start_listener(s, tfd, 1) != 0)
		goto out;
	tfd = -1;
	worker_log("clamd socket: %s%s%s%s", s->sock_path, c->clamd_tcp_port != 0 ? ", tcp " : "",
		   c->clamd_tcp_port != 0 ? c->clamd_tcp_address : "",
		   c->clamd_tcp_port != 0 ? " (see clamd.tcp_port)" : "");
	r = 0;
	s = NULL; /* the listeners' now */
out:
	if (ufd >= 0)
		close(ufd);
	if (tfd >= 0)
		close(tfd);
	if (s != NULL && sock_to_remove[0] == '\0') {
		ward_free(s->byuid);
		ward_free(s);
	}
	return r;
}

void
clamd_stop(void)
{
	if (sock_to_remove[0] != '\0')
		(void)unlink(sock_to_remove);
}
