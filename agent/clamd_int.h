/*
 * clamd_int: what agent/clamd.c (connections, commands),
 * agent/clamd_listen.c (the listeners) and
 * agent/clamd_path.c (files opened with the client's credentials, walked
 * by descriptor) share.  Not for other modules.
 */
#ifndef WARD_AGENT_CLAMD_INT_H
#define WARD_AGENT_CLAMD_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "agent/clamd.h"
#include "proto/clamdproto.h"
#include "util/buf.h"

/* Whose files a connection's path commands may open. */
struct clamd_peer {
	int paths_ok; /* 0: path commands are refused (TCP without tcp_path_user) */
	int local;    /* uid is the connecting process's (SO_PEERCRED) */
	uid_t uid;
	gid_t gid;
	gid_t groups[CLAMD_MAX_GROUPS];
	unsigned ngroups;
};

/* Connections one local uid holds. */
struct clamd_uidcount {
	uid_t uid;
	unsigned n;
};

/* The listeners' shared state (clamd_listen.c starts it). */
struct clamd_srv {
	const struct agent_config *cfg;
	pthread_mutex_t lock;
	pthread_cond_t slot; /* a scan slot freed */
	unsigned conns, scans;
	/* Connections by local uid (clamd.max_connections_per_user), in the
	 * first nbyuid of max_connections entries. */
	struct clamd_uidcount *byuid;
	unsigned nbyuid;
	struct clamd_peer tcp_peer; /* whose files TCP path commands open */
	uint64_t nconns, ncommands, nfound;
	char sock_path[CONFIG_MAX_PATH + 32];
};

/* One connection's answer sink and scanning state. */
struct clamd_conn;

/*
 * Serves the accepted connection fd (taken) from a thread of its own,
 * its path commands opened as peer says; unless clamd.max_connections
 * are served already (or no thread can be made): then fd is closed and
 * -1 returned.  In clamd.c.
 */
int clamd_conn_start(struct clamd_srv *s, int fd, const struct clamd_peer *peer);

/* Directory levels a path command walks below the path it was given:
 * clamd's MaxDirectoryRecursion default. */
#define CLAMD_MAX_DEPTH 15

/*
 * Scans the file open at fd (st its fstat) and writes its answers as
 * clamd does (name: the path as answered).  all: every rule (ALLMATCHSCAN),
 * else the first.  Returns 1 if something was found, 0 if clean, -1 on an
 * error (answered).  In clamd.c.
 */
int clamd_scan_fd(struct clamd_conn *c, int fd, const struct stat *st, const char *name,
		  size_t namelen, int all);
/* One file of clamd_scan_files, and its result. */
struct clamd_file {
	int fd;
	const struct stat *st;
	const char *name; /* as answered; NUL-terminated */
	size_t namelen;
	int result; /* 1 found, 0 clean, -1 an error (each answered) */
};
/*
 * Scans f[0..n) (n <= SCANPOOL_BATCH) with the requests to one scanner
 * sent ahead of its verdicts, and answers each in order as clamd_scan_fd
 * does.  In clamd.c.
 */
void clamd_scan_files(struct clamd_conn *c, struct clamd_file *f, unsigned n, int all);
/* 1 if the file open at fd is on a file system whose files are not
 * scanned for clients (FUSE, procfs, sysfs), answered CLAMD_FS_REFUSED;
 * 0 if it may be.  In clamd.c. */
int clamd_fs_refused(int fd);
#define CLAMD_FS_REFUSED "Not scanned on this file system"
/* Appends an answer for the connection (its id in a session, its term);
 * sends what is held once it passes CLAMD_OUT_FLUSH (clamd.c). */
void clamd_reply(struct clamd_conn *c, const char *path, size_t pathlen, const char *msg,
		 const char *status);
/* 1 once an answer could not be sent (the client is gone or too slow):
 * a command that answers as it goes (a directory walk) ends. */
int clamd_conn_broken(const struct clamd_conn *c);
/* The connection's peer. */
const struct clamd_peer *clamd_conn_peer(const struct clamd_conn *c);

/*
 * SCAN, CONTSCAN, MULTISCAN, ALLMATCHSCAN of path[0..len) for c: opens it
 * and what a directory holds with the peer's credentials, O_NOFOLLOW,
 * each entry by its directory's descriptor, and answers as clamd does.
 * In clamd_path.c.
 */
void clamd_path_command(struct clamd_conn *c, enum clamdproto_cmd cmd, const uint8_t *path,
			size_t len);

/* The worker's own supplementary groups, taken once before any thread
 * changes its own (clamd_path.c). */
int clamd_path_init(void);

#endif
