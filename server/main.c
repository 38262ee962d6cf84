/*
 * ward-server: the fleet server.  See docs/server.md.
 *
 *   ward-server init --dir DIR [--listen ADDR:PORT] [--name NAME]... [--database URL]
 *                    [--trust KEY.pub]... [--config FILE] [--user USER]
 *   ward-server --config FILE                      serve
 *   ward-server token create --config FILE [--group G] [--uses N] [--expires DURATION]
 *   ward-server api-token create --config FILE --name NAME --role viewer|operator|admin
 */
#include "server/api.h"
#include "server/config.h"
#include "server/db.h"
#include "server/http.h"
#include "util/log.h"
#include "server/ratelimit.h"
#include "server/pki.h"
#include "server/rollout.h"
#include "server/store.h"
#include "crypto/sign.h"
#include "util/alloc.h"
#include "util/file.h"
#include "util/limits.h"
#include "util/size.h"

#include <errno.h>
#include <sys/file.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 2

static void
usage(FILE *f)
{
	fprintf(
	    f, "usage: ward-server --config FILE\n"
	       "       ward-server init --dir DIR [--listen ADDR:PORT] [--name NAME]...\n"
	       "                        [--database URL] [--trust KEY.pub]...\n"
	       "                        [--config FILE] [--user USER]\n"
	       "       ward-server token create --config FILE [--group G] [--uses N]\n"
	       "                        [--expires DURATION]\n"
	       "       ward-server api-token create --config FILE --name NAME\n"
	       "                        --role viewer|operator|admin\n"
	       "\n"
	       "The ward fleet server: agents enroll, check in and upload their events; operators\n"
	       "use the API (ward fleet).  init makes DIR/server.yaml, a CA and a server\n"
	       "certificate (DIR/ca.crt is what agents pin), the database and an admin API token\n"
	       "(printed, and kept in DIR/admin.token); DIR (made if missing) must be yours and\n"
	       "writable by no one else, and hold none of those files.  --config FILE writes\n"
	       "the configuration to FILE (new; its directory yours) instead of DIR/server.yaml.\n"
	       "--user USER (as root): DIR and what is in it are made as USER, the service's\n"
	       "user, and FILE is root's, readable by USER's group (mode 0640).  The server\n"
	       "refuses a data_dir others could write in.  token create prints a new enrollment\n"
	       "token: --uses N (default 1; 0: unlimited), --expires 30m|12h|7d (default 24h;\n"
	       "0 or never: does not expire), --group G.  DURATION: seconds, or a number with\n"
	       "s, m, h or d; 100 years at most.\n"
	       "\n"
	       "Exit status: 0 done (serving: stopped by SIGTERM or SIGINT), 1 error, 2 usage.\n");
}

/* "ward-server: PREFIX FILE: message" */
static void
fail_as(const char *prefix, const struct ward_diag *d)
{
	char msg[1200];

	diag_format(d, msg, sizeof(msg));
	fprintf(stderr, "ward-server: %s%s\n", prefix, msg);
}

static void
fail(const struct ward_diag *d)
{
	fail_as("", d);
}

/* d names a file of dir by its name alone. */
static void
fail_in(const char *dir, const struct ward_diag *d)
{
	char prefix[1100];

	snprintf(prefix, sizeof(prefix), "%.1000s/", dir);
	fail_as(prefix, d);
}

/*
 * A SQLite database's directory must be ours alone, as the data_dir: SQLite
 * opens the database and its -wal, -shm and -journal files by name there,
 * following links, and whoever could write in it could swap them.
 */
static int
check_db_dir(const struct server_config *c)
{
	const char *path = c->database + 7, *slash;
	char dir[SCONF_MAX_PATH];
	struct ward_diag d;
	struct passwd *pw;
	struct stat st;
	int dfd;

	if (strncmp(c->database, "sqlite:", 7) != 0)
		return 0;
	slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (file_dir_open(dir, 0, geteuid(), &dfd, &d) != 0) {
		fail_as("database directory ", &d);
		/* A packaged server's state is its service user's. */
		if (geteuid() == 0 && stat(dir, &st) == 0 && st.st_uid != 0 &&
		    (pw = getpwuid(st.st_uid)) != NULL)
			fprintf(stderr,
				"ward-server: if %s is the server's own user (as _ward-server "
				"is, installed from the package), run this as that user: "
				"runuser -u %s -- ward-server ...\n",
				pw->pw_name, pw->pw_name);
		return 1;
	}
	close(dfd);
	return 0;
}

static int
open_db(const struct server_config *c, struct db **db)
{
	struct ward_diag d;

	*db = NULL;
	if (check_db_dir(c) != 0)
		return 1;
	if (db_open(c->database, db, &d) != 0 || store_migrate(*db, &d) != 0) {
		fail(&d);
		db_close(*db);
		*db = NULL;
		return 1;
	}
	return 0;
}

static int
load_config(const char *path, struct server_config *c)
{
	struct ward_diag d;

	server_config_defaults(c);
	if (path == NULL) {
		fprintf(stderr, "ward-server: --config FILE is required\n");
		return EXIT_USAGE;
	}
	if (server_config_load(path, c, &d) != 0) {
		fail(&d);
		return 1;
	}
	return 0;
}

/* What init makes in its directory, the SQLite files among them when the
 * database is there: none may exist beforehand. */
static const char *const init_files[] = {
    "server.yaml", "ca.crt",  "ca.key",		 "server.crt",	"server.key",
    "admin.token", "ward.db", "ward.db-journal", "ward.db-wal", "ward.db-shm",
};

/* Refuses a directory that holds any of init's files (a server, or what an
 * init that failed left): its keys and database are never written over. */
static int
init_refuse_existing(int dfd, const char *dir)
{
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(init_files) / sizeof(init_files[0]); i++) {
		if (fstatat(dfd, init_files[i], &st, AT_SYMLINK_NOFOLLOW) == 0) {
			fprintf(stderr,
				"ward-server: %s/%s exists: refusing to overwrite a server (init "
				"makes a new one in an empty directory; to start again after an "
				"init that failed, remove the files it left)\n",
				dir, init_files[i]);
			return 1;
		}
		if (errno != ENOENT) {
			fprintf(stderr, "ward-server: %s/%s: %s\n", dir, init_files[i],
				strerror(errno));
			return 1;
		}
	}
	return 0;
}

/* A release key given with --trust, read (as the caller) before anything is
 * made: a bad one stops init first. */
struct init_key {
	uint8_t *pem;
	size_t len;
};

/* Reads and checks the public key at path, and lists it in c->trusted_keys
 * under the name it will have in dir (trusted-N.pub): publishing works at
 * once, without editing the configuration. */
static int
trust_key_read(const char *dir, const char *path, struct init_key *k, struct server_config *c)
{
	struct sign_key *key = NULL;
	struct ward_diag d;
	char id[2 * SIGN_KEY_ID_SIZE + 1];

	if (file_read_all(path, SIGN_MAX_PEM, &k->pem, &k->len, &d) != 0) {
		fail(&d);
		return 1;
	}
	if (sign_key_from_pem((const char *)k->pem, k->len, 0, &key) != 0) {
		fprintf(stderr, "ward-server: --trust %s: not an Ed25519 or SM2 public key (PEM)\n",
			path);
		return 1;
	}
	snprintf(c->trusted_keys[c->ntrusted], sizeof(c->trusted_keys[0]), "%s/trusted-%u.pub",
		 dir, c->ntrusted + 1);
	c->ntrusted++;
	sign_key_id_hex(key, id);
	fprintf(stderr, "ward-server: releases may be signed with %s key %s (%s)\n",
		sign_alg_name(sign_key_alg(key)), id, path);
	sign_key_free(key);
	return 0;
}

/*
 * What init makes in dir, as whoever runs it: the trusted keys, the PKI,
 * the database, the admin token, and server.yaml unless the configuration
 * goes elsewhere (config_in_dir 0).  Prints the admin token.
 */
static int
init_state(const char *dir, const struct server_config *c, const struct init_key *keys,
	   int config_in_dir, const char *const *names, unsigned nnames)
{
	struct ward_diag d;
	struct db *db = NULL;
	char token[STORE_SECRET_LEN + 1], name[32];
	unsigned i;
	int dfd = -1, r = 1;

	/* The keys go into a directory only we can write in, held by its
	 * descriptor from the check to the last file. */
	if (file_dir_open(dir, 1, geteuid(), &dfd, &d) != 0) {
		fail(&d);
		return 1;
	}
	if (init_refuse_existing(dfd, dir) != 0)
		goto out;
	for (i = 0; i < c->ntrusted; i++) {
		snprintf(name, sizeof(name), "trusted-%u.pub", i + 1);
		if (file_replace_at(dfd, name, keys[i].pem, keys[i].len, 0644, FILE_NOREPLACE,
				    &d) != 0) {
			fail_in(dir, &d);
			goto out;
		}
	}
	if (pki_init(dfd, names, nnames, &d) != 0) {
		fail_in(dir, &d);
		goto out;
	}
	if (open_db(c, &db) != 0)
		goto out;
	if (store_admin_token_create(db, "admin", "admin", (int64_t)time(NULL), token, &d) != 0) {
		fail(&d);
		goto out;
	}
	if (file_replace_at(dfd, "admin.token", token, strlen(token), 0600, FILE_NOREPLACE, &d) !=
		0 ||
	    (config_in_dir && server_config_write(dfd, "server.yaml", c, 0600, &d) != 0)) {
		fail_in(dir, &d);
		goto out;
	}
	printf("%s\n", token);
	fflush(stdout);
	r = 0;
out:
	db_close(db);
	close(dfd);
	explicit_bzero(token, sizeof(token));
	return r;
}

/*
 * init --user USER, run as root: the state directory is made for USER (if
 * missing) and filled by a child that has become USER, so every key, the
 * database and the token are USER's own; root keeps the configuration.
 */
static int
init_state_as(const struct passwd *pw, const char *dir, const struct server_config *c,
	      const struct init_key *keys, int config_in_dir, const char *const *names,
	      unsigned nnames)
{
	gid_t gid = pw->pw_gid;
	pid_t pid;
	int status, fd;

	if (mkdir(dir, 0700) == 0) {
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fchown(fd, pw->pw_uid, gid) != 0) {
			fprintf(stderr, "ward-server: %s: cannot give it to %s: %s\n", dir,
				pw->pw_name, strerror(errno));
			if (fd >= 0)
				close(fd);
			return 1;
		}
		close(fd);
	} else if (errno != EEXIST) {
		fprintf(stderr, "ward-server: %s: cannot create: %s\n", dir, strerror(errno));
		return 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "ward-server: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
			fprintf(stderr, "ward-server: cannot become %s: %s\n", pw->pw_name,
				strerror(errno));
			_exit(1);
		}
		umask(077);
		_exit(init_state(dir, c, keys, config_in_dir, names, nnames));
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* The configuration at path (--config): a new file in a directory of the
 * caller's, readable by group (when --user gives one) for the service. */
static int
init_config(const char *path, const struct server_config *c, const struct passwd *pw)
{
	char dir[SCONF_MAX_PATH];
	const char *base = strrchr(path, '/') + 1;
	struct ward_diag d;
	int dfd, r = 1;

	snprintf(dir, sizeof(dir), "%.*s", base - path > 1 ? (int)(base - path - 1) : 1, path);
	if (file_dir_open(dir, 0, geteuid(), &dfd, &d) != 0) {
		fail_as("configuration directory ", &d);
		return 1;
	}
	if (server_config_write(dfd, base, c, pw != NULL ? 0640 : 0600, &d) != 0)
		fail_in(dir, &d);
	else if (pw != NULL && (fchownat(dfd, base, 0, pw->pw_gid, AT_SYMLINK_NOFOLLOW) != 0 ||
				fchmodat(dfd, base, 0640, 0) != 0))
		fprintf(stderr, "ward-server: %s: cannot give it to group %u: %s\n", path,
			(unsigned)pw->pw_gid, strerror(errno));
	else
		r = 0;
	close(dfd);
	return r;
}

/* Checks --config before anything is made: absolute, and new. */
static int
init_config_check(const char *path)
{
	struct stat st;

	if (path[0] != '/' || path[strlen(path) - 1] == '/' ||
	    strlen(path) >= SCONF_MAX_PATH) {
		fprintf(stderr, "ward-server: init --config needs an absolute file name\n");
		return EXIT_USAGE;
	}
	if (lstat(path, &st) == 0 || errno != ENOENT) {
		fprintf(stderr,
			"ward-server: %s exists: refusing to overwrite a server's configuration\n",
			path);
		return 1;
	}
	return 0;
}

static int
cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"listen", required_argument, NULL, 'l'},
	    {"name", required_argument, NULL, 'n'},
	    {"database", required_argument, NULL, 'b'},
	    {"trust", required_argument, NULL, 't'},
	    {"config", required_argument, NULL, 'c'},
	    {"user", required_argument, NULL, 'u'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *config = NULL, *user = NULL, *names[16], *trust[32];
	struct init_key keys[32];
	unsigned nnames = 0, ntrust = 0, i;
	struct server_config c;
	struct passwd *pw = NULL;
	int ch, r = 1;

	server_config_defaults(&c);
	c.database[0] = '\0';
	memset(keys, 0, sizeof(keys));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'l':
			snprintf(c.listen, sizeof(c.listen), "%s", optarg);
			break;
		case 'n':
			if (nnames < 16)
				names[nnames++] = optarg;
			break;
		case 'b':
			snprintf(c.database, sizeof(c.database), "%s", optarg);
			break;
		case 't':
			if (ntrust == 32) {
				fprintf(stderr, "ward-server: at most 32 --trust keys\n");
				return EXIT_USAGE;
			}
			trust[ntrust++] = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (dir == NULL || dir[0] != '/' || optind != argc) {
		fprintf(stderr, "ward-server: init needs --dir with an absolute path\n");
		return EXIT_USAGE;
	}
	if (user != NULL) {
		if (geteuid() != 0) {
			fprintf(stderr, "ward-server: init --user needs root (it makes the "
					"state for that user)\n");
			return EXIT_USAGE;
		}
		if ((pw = getpwnam(user)) == NULL || pw->pw_uid == 0) {
			fprintf(stderr, "ward-server: --user %s: no such user (or root)\n", user);
			return EXIT_USAGE;
		}
	}
	if (config != NULL && (r = init_config_check(config)) != 0)
		return r;
	r = 1;
	if (nnames == 0) {
		names[nnames++] = "localhost";
		names[nnames++] = "127.0.0.1";
	}
	snprintf(c.tls_cert, sizeof(c.tls_cert), "%s/server.crt", dir);
	snprintf(c.tls_key, sizeof(c.tls_key), "%s/server.key", dir);
	snprintf(c.data_dir, sizeof(c.data_dir), "%s", dir);
	if (c.database[0] == '\0')
		snprintf(c.database, sizeof(c.database), "sqlite:%s/ward.db", dir);
	for (i = 0; i < ntrust; i++)
		if (trust_key_read(dir, trust[i], &keys[i], &c) != 0)
			goto out;
	if (pw != NULL)
		r = init_state_as(pw, dir, &c, keys, config == NULL, names, nnames);
	else
		r = init_state(dir, &c, keys, config == NULL, names, nnames);
	if (r == 0 && config != NULL)
		r = init_config(config, &c, pw);
	if (r == 0)
		fprintf(stderr,
			"ward-server: made %s%s, ca.crt (give it to agents), server.crt, the "
			"database, and the admin API token above (also in %s/admin.token)\n",
			config != NULL ? config : dir, config != NULL ? "" : "/server.yaml", dir);
out:
	for (i = 0; i < ntrust; i++)
		ward_free(keys[i].pem);
	return r;
}

static int
cmd_token(int argc, char **argv, int api)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"group", required_argument, NULL, 'g'},
	    {"uses", required_argument, NULL, 'u'},   {"expires", required_argument, NULL, 'e'},
	    {"name", required_argument, NULL, 'n'},   {"role", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	const char *config = NULL, *group = "", *name = NULL, *role = NULL;
	long long uses = 1, expires = 86400; /* one use, a day: what enrolling one host needs */
	struct server_config c;
	struct ward_diag d;
	struct db *db = NULL;
	char token[STORE_SECRET_LEN + 1];
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'g':
			group = optarg;
			break;
		case 'u': {
			char *end;

			errno = 0;
			uses = strtoll(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || errno != 0) {
				fprintf(
				    stderr,
				    "ward-server: --uses must be a whole number (0: unlimited)\n");
				return EXIT_USAGE;
			}
			break;
		}
		case 'e':
			if (strcmp(optarg, "0") == 0 || strcmp(optarg, "never") == 0)
				expires = 0;
			else if (duration_parse(optarg, &expires) != 0) {
				fprintf(
				    stderr,
				    "ward-server: --expires must be a duration from 1 s to %lld "
				    "days (30m, 12h, 7d)\n",
				    WARD_MAX_DURATION_S / 86400);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			name = optarg;
			break;
		case 'r':
			role = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || (api && (name == NULL || role == NULL))) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((r = load_config(config, &c)) != 0)
		return r;
	if (open_db(&c, &db) != 0)
		return 1;
	if (api)
		r = store_admin_token_create(db, name, role, (int64_t)time(NULL), token, &d);
	else
		r = store_token_create(db, group, uses, expires ? (int64_t)time(NULL) + expires : 0,
				       (int64_t)time(NULL), token, &d);
	if (r == 0)
		(void)store_audit(db, "local", api ? "api-token-created" : "token-created",
				  api ? "{\"via\":\"ward-server api-token create\"}"
				      : "{\"via\":\"ward-server token create\"}",
				  (int64_t)time(NULL), &d);
	db_close(db);
	if (r != 0) {
		fail(&d);
		return 1;
	}
	printf("%s\n", token);
	return 0;
}

static volatile int stopping;

/* Retention: old events and audit entries go, a batch per write lock. */
static time_t
purge(struct api *a)
{
	struct ward_diag d;
	long long n = 0, total = 0;
	int r;

	do {
		db_lock(a->db);
		r = store_purge(a->db, (int64_t)time(NULL), a->cfg->events_retention_days,
				a->cfg->audit_retention_days, &n, &d);
		db_unlock(a->db);
		total += n;
	} while (r == 0 && n >= STORE_PURGE_ROWS && !__atomic_load_n(&stopping, __ATOMIC_ACQUIRE));
	if (r != 0)
		log_info("retention: %s", d.msg);
	else if (total > 0)
		log_info("retention: removed %lld old events and audit entries", total);
	return time(NULL);
}

/* The rollout engine: one step every tick_ms, on every server (the
 * database lock makes each decision once). */
static void *
rollout_thread(void *arg)
{
	struct api *a = arg;
	struct ward_diag d;
	char last[600] = "";
	long long gen, last_gen = -1;
	time_t purged = 0;

	while (!__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
		int r;

		usleep(a->cfg->tick_ms * 1000u);
		db_lock(a->db);
		r = rollout_tick(a->db, (int64_t)time(NULL), a->cfg->checkin_interval_s, &d);
		gen = rollout_generation(a->db);
		db_unlock(a->db);
		/* Held check-ins: all looked at again when something changed
		 * (on any server of the database), else those whose time is up. */
		http_wake(gen != last_gen);
		last_gen = gen;
		http_reap();
		if (time(NULL) - purged >= 60) /* retention, in short steps */
			purged = purge(a);
		if (r != 0 && strcmp(last, d.msg) != 0) { /* said once, not every tick */
			log_info("rollout: %s", d.msg);
			snprintf(last, sizeof(last), "%s", d.msg);
		}
	}
	return NULL;
}

/*
 * One server per SQLite database: a lock on DATABASE.lock (its directory
 * checked at start), held while serving; a second server says who holds
 * it.  0 with *fd (kept open), or 1 (said why).  PostgreSQL: several
 * servers on one database are the design, no lock.
 */
static int
lock_database(const struct server_config *c, int *fd)
{
	char path[SCONF_MAX_PATH + 16], pid[32] = "";
	ssize_t n;

	*fd = -1;
	if (strncmp(c->database, "sqlite:", 7) != 0)
		return 0;
	snprintf(path, sizeof(path), "%s.lock", c->database + 7);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0) {
		fprintf(stderr, "ward-server: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		n = pread(*fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		fprintf(stderr, "ward-server: already running on %s (pid %s)\n", c->database + 7,
			pid[0] ? pid : "?");
		close(*fd);
		*fd = -1;
		return 1;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(*fd, 0) != 0 || pwrite(*fd, pid, strlen(pid), 0) < 0)
		log_info("%s: cannot write the pid: %s", path, strerror(errno));
	return 0;
}

/*
 * SIGHUP: the configuration is read again; what can change while serving
 * does (the check-in interval and jitter, events' and audit's settings,
 * the request deadline and read budget, the rollout tick), what cannot is
 * named; a configuration with an error changes nothing.  The new settings
 * go live as a whole (the API reads them through one pointer; the old
 * ones stay valid for requests under way).
 */
static void
reload(const char *path, struct api *a, struct server_config **live)
{
	struct server_config *now = *live, *next = ward_malloc(sizeof(*next));
	struct ward_diag d;
	char kept[600] = "";

	if (next == NULL)
		return;
	server_config_defaults(next);
	if (server_config_load(path, next, &d) != 0) {
		char msg[1200];

		diag_format(&d, msg, sizeof(msg));
		log_info("reload refused, the configuration in use is kept: %s", msg);
		ward_free(next);
		return;
	}
#define KEPT(field, name)                                                                          \
	if (memcmp(&now->field, &next->field, sizeof(now->field)) != 0) {                          \
		snprintf(kept + strlen(kept), sizeof(kept) - strlen(kept), "%s%s",                 \
			 kept[0] ? ", " : "", name);                                               \
		memcpy(&next->field, &now->field, sizeof(now->field));                             \
	}
	KEPT(listen, "listen");
	KEPT(tls_cert, "tls.cert");
	KEPT(tls_key, "tls.key");
	KEPT(database, "database");
	KEPT(data_dir, "data_dir");
	KEPT(max_body_kb, "limits.max_body_kb");
	KEPT(timeout_s, "limits.timeout_s");
	KEPT(threads, "limits.threads");
	KEPT(max_connections, "limits.max_connections");
	KEPT(per_ip_connections, "limits.per_ip_connections");
	KEPT(ntrusted, "content.trusted_keys");
	KEPT(trusted_keys, "content.trusted_keys");
	KEPT(signature_threshold, "content.signature_threshold");
#undef KEPT
	if (kept[0] != '\0')
		log_info("not reloaded (restart ward-server for them): %s", kept);
	http_reconfigure(next);
	ratelimit_set_rate(a->events_rate, (double)next->event_agent_kb_min * 1024);
	__atomic_store_n(&a->cfg, next, __ATOMIC_RELEASE);
	*live = next; /* the old one stays allocated: requests may still read it */
	log_info("configuration reloaded from %s", path);
}

static int
serve(const char *config)
{
	struct server_config *c = ward_malloc(sizeof(*c));
	struct api a;
	struct ward_diag d;
	sigset_t set;
	int r, sig, dfd, lockfd = -1;
	struct db *db = NULL;

	if (c == NULL)
		return 1;
	if ((r = load_config(config, c)) != 0)
		return r;
	/* Refused unless only we can write there: the server writes its
	 * bundle cache in it and serves what it finds. */
	if (file_dir_open(c->data_dir, 1, geteuid(), &dfd, &d) != 0) {
		fail_as("data_dir ", &d);
		return 1;
	}
	close(dfd);
	if (check_db_dir(c) != 0 || lock_database(c, &lockfd) != 0)
		return 1;
	if (open_db(c, &db) != 0)
		return 1;
	if (api_open(&a, c, db, &d) != 0 || api_load_keys(&a, &d) != 0) {
		fail(&d);
		api_close(&a);
		return 1;
	}
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (http_start(c, api_admit, api_handle, &a, &d) != 0) {
		fail(&d);
		api_close(&a);
		return 1;
	}
	pthread_t ticker;
	int ticking = pthread_create(&ticker, NULL, rollout_thread, &a) == 0;

	log_info("serving on https://%s (database %s)", c->listen,
		 strncmp(c->database, "sqlite:", 7) == 0 ? c->database : "postgresql");
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		reload(config, &a, &c);
	}
	log_info("stopping");
	__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
	if (ticking)
		pthread_join(ticker, NULL);
	http_stop();
	api_close(&a);
	if (lockfd >= 0)
		close(lockfd);
	return 0;
}

int
main(int argc, char **argv)
{
	log_program("ward-server");
	umask(077); /* the database, keys and tokens are the server's alone */
	if (argc >= 2 && strcmp(argv[1], "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (argc >= 3 && strcmp(argv[1], "token") == 0 && strcmp(argv[2], "create") == 0)
		return cmd_token(argc - 2, argv + 2, 0);
	if (argc >= 3 && strcmp(argv[1], "api-token") == 0 && strcmp(argv[2], "create") == 0)
		return cmd_token(argc - 2, argv + 2, 1);
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("ward-server %s\n", WARD_VERSION);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--config") == 0)
		return serve(argv[2]);
	usage(stderr);
	return EXIT_USAGE;
}
