/*
 * wardd: the endpoint agent.  Parses its arguments and configuration and
 * hands over to the supervisor, or runs one of the roles wardd starts
 * itself as (agent/proctab.h): `wardd --worker`, the worker the supervisor
 * starts; `wardd --validator`, validates one bundle in a sandbox for the
 * worker; `wardd --scanner`, scans files in a sandbox for the worker.
 */
#include <errno.h>
#include <pwd.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/config.h"
#include "util/log.h"
#include "agent/onaccess.h"
#include "agent/pidlock.h"
#include "agent/reload.h"
#include "agent/supervisor.h"
#include "agent/validator.h"
#include "agent/scanner.h"
#include "agent/uplink_net.h"
#include "crypto/sign.h"
#include "util/alloc.h"
#include "util/file.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: wardd --config FILE [--foreground]\n"
		   "       wardd --config FILE --check-config\n"
		   "\n"
		   "The ward endpoint agent: keeps the host's detection content (signed\n"
		   "bundles, validated in a sandbox, activated atomically, rolled back when\n"
		   "they crash the agent), blocks the execution of detected files on the\n"
		   "watched mounts, journals its events, and serves 'ward agent' on a\n"
		   "root-only socket under the run directory.  See docs/agent.md.\n"
		   "\n"
		   "  -c, --config FILE   configuration file (YAML; required)\n"
		   "  -f, --foreground    stay in the foreground and log to standard error\n"
		   "                      (systemd, containers, tests); without it wardd\n"
		   "                      detaches and its log goes to the caller's stderr\n"
		   "      --check-config  check the configuration (syntax, keys, the trusted\n"
		   "                      keys, the watched paths) and exit: 0 if it is\n"
		   "                      good, 78 if not\n"
		   "  -h, --help          show this help\n"
		   "      --version       print the version\n"
		   "\n"
		   "One wardd runs per state_dir and run_dir: a second one exits with status 1\n"
		   "and says which pid holds them.  SIGHUP (systemctl reload wardd) reloads the\n"
		   "configuration: the keys that can change without a restart do, the others\n"
		   "are named in the log, and a file with an error is refused and the running\n"
		   "configuration kept.\n"
		   "\n"
		   "wardd starts itself as --worker (the root process that runs the\n"
		   "sensors, the content and the control socket, started by the supervisor\n"
		   "with its channels on fds 3 and 4), --validator (a bundle's sandboxed\n"
		   "compile and test), --scanner (the sandboxed processes that read and\n"
		   "match files, as scan.user) and --uplink (the sandboxed process that talks\n"
		   "to the fleet server, as server.user); these roles are for the agent's own\n"
		   "use only (docs/agent.md, \"Processes\").\n");
}

/*
 * state_dir and run_dir (made if missing, when create is set): refused
 * unless they are ours alone, since the content store, the quarantine key,
 * the agent's credential and the control socket live there and whoever
 * could write in them could plant or swap any of those.  0 or 1 (said on
 * stderr: a log line when starting, plain for --check-config).
 */
static int
check_dirs(const struct agent_config *cfg, int create)
{
	const char *const keys[] = {"state_dir", "run_dir"};
	const char *const paths[] = {cfg->state_dir, cfg->run_dir};
	struct ward_diag d;
	char msg[1200];
	unsigned i;
	int fd, bad = 0;

	for (i = 0; i < 2; i++) {
		if (!create && access(paths[i], F_OK) != 0 && errno == ENOENT)
			continue; /* made at start */
		if (file_dir_open(paths[i], create, geteuid(), &fd, &d) != 0) {
			diag_format(&d, msg, sizeof(msg));
			if (create) /* starting: a log line */
				log_line(0, NULL, "%s %s", keys[i], msg);
			else
				fprintf(stderr, "wardd: %s %s\n", keys[i], msg);
			bad = 1;
			continue;
		}
		close(fd);
	}
	return bad;
}

/* --check-config: what the agent would refuse at start, said now. */
static int
check_config(const struct agent_config *cfg, const char *path)
{
	unsigned i;
	int bad = 0;

	for (i = 0; i < cfg->ntrusted; i++) {
		uint8_t *buf = NULL;
		size_t len = 0;
		struct sign_key *k = NULL;
		struct ward_diag d;
		char id[2 * SIGN_KEY_ID_SIZE + 1];

		if (file_read_all(cfg->trusted_keys[i], SIGN_MAX_PEM, &buf, &len, &d) != 0 ||
		    sign_key_from_pem((const char *)buf, len, 0, &k) != 0) {
			fprintf(stderr,
				"wardd: %s: trusted key %s is not a readable Ed25519 or SM2 "
				"public key\n",
				path, cfg->trusted_keys[i]);
			bad = 1;
		} else {
			sign_key_id_hex(k, id);
			printf("trusted key %s: %s %s\n", cfg->trusted_keys[i],
			       sign_alg_name(sign_key_alg(k)), id);
		}
		sign_key_free(k);
		free(buf);
	}
	/* The same opening and checks as the sensor's before it marks. */
	for (i = 0; i < cfg->onaccess_npaths + cfg->onaccess_nblock_open; i++) {
		int whole = i < cfg->onaccess_npaths;
		const char *p = whole ? cfg->onaccess_paths[i]
				      : cfg->onaccess_block_open[i - cfg->onaccess_npaths];
		char mnt[PATH_MAX], why[1024];
		int fd = onaccess_path_open(p, whole, mnt, sizeof(mnt), why, sizeof(why));

		if (fd < 0) {
			fprintf(stderr, "wardd: %s: %s %s: %s\n", path,
				whole ? "onaccess.paths" : "onaccess.block_open", p, why);
			bad = 1;
		} else if (whole) {
			printf("onaccess.paths %s: watches the mount at %s\n", p, mnt);
		}
		if (fd >= 0)
			close(fd);
	}
	if (check_dirs(cfg, 0) != 0)
		bad = 1;
	{ /* the users the sandboxed processes become */
		const char *const keys[] = {"validator.user", "scan.user", "server.user"};
		const char *const users[] = {cfg->validator_user, cfg->scan_user, cfg->server_user};

		for (i = 0; i < 3; i++) {
			const struct passwd *pw = getpwnam(users[i]);

			if (i == 2 && cfg->server_url[0] == '\0')
				continue; /* no uplink */
			if (pw == NULL || pw->pw_uid == 0) {
				fprintf(stderr, "wardd: %s: %s %s: %s\n", path, keys[i], users[i],
					pw == NULL ? "no such user" : "must not be root");
				bad = 1;
			}
		}
	}
	if (cfg->initial_content[0] != '\0' && access(cfg->initial_content, R_OK) != 0) {
		fprintf(stderr, "wardd: %s: initial_content %s: %s\n", path, cfg->initial_content,
			strerror(errno));
		bad = 1;
	}
	if (!bad)
		printf("%s: configuration is valid\n", path);
	return bad ? 78 : 0;
}

/*
 * Takes the lock of state_dir and of run_dir (pidlock.h), the same
 * directory once.  A worker whose supervisor was just killed still holds
 * them for the moment it takes to die with it: a lock whose supervisor is
 * gone (or not yet written) is waited for, up to LOCK_WAIT_S.  0 with
 * fds[0..1] (-1 for one not taken), or 1 (said: who holds which).
 */
#define LOCK_WAIT_S 3
static int
lock_dirs(const struct agent_config *cfg, int fds[2])
{
	const char *const keys[] = {"state_dir", "run_dir"};
	const char *const paths[] = {cfg->state_dir, cfg->run_dir};
	struct stat st[2];
	struct ward_diag d;
	char msg[1200];
	unsigned i, tries;
	int bad = 1;

	fds[0] = fds[1] = -1;
	for (i = 0; i < 2; i++) {
		pid_t holder = 0;
		int dfd, r = 0;

		if (file_dir_open(paths[i], 0, geteuid(), &dfd, &d) != 0) {
			diag_format(&d, msg, sizeof(msg));
			log_line(0, NULL, "%s %s", keys[i], msg);
			goto fail;
		}
		if (fstat(dfd, &st[i]) != 0) {
			log_line(0, NULL, "%s %s: %s", keys[i], paths[i], strerror(errno));
			close(dfd);
			goto fail;
		}
		if (i == 1 && st[1].st_dev == st[0].st_dev && st[1].st_ino == st[0].st_ino) {
			close(dfd); /* one directory for both: locked already */
			break;
		}
		for (tries = 0; tries < LOCK_WAIT_S * 20; tries++) {
			r = pidlock_take(dfd, PIDLOCK_NAME, &fds[i], &holder, &d);
			if (r != 1 || (holder > 0 && (kill(holder, 0) == 0 || errno != ESRCH)))
				break;
			usleep(50000);
		}
		close(dfd);
		if (r == 1) {
			char who[80] = "pid unknown";

			if (holder > 0 && kill(holder, 0) != 0 && errno == ESRCH)
				snprintf(who, sizeof(who), "pid %ld has exited, its worker not yet",
					 (long)holder);
			else if (holder > 0)
				snprintf(who, sizeof(who), "pid %ld", (long)holder);
			log_line(
			    0, NULL,
			    "already running (%s): %s %s is locked by it (%s/%s); stop that wardd "
			    "first, or give this one its own state_dir and run_dir",
			    who, keys[i], paths[i], paths[i], PIDLOCK_NAME);
			goto fail;
		}
		if (r != 0) {
			log_line(0, NULL, "%s %s: %s", keys[i], paths[i], d.msg);
			goto fail;
		}
	}
	bad = 0;
fail:
	for (i = 0; bad && i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
	return bad;
}

/* A number of a validator option, in [min, max]; -1 if it is not one. */
static long
validator_arg(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && v >= min && v <= max ? v : -1;
}

/* Detaches from the terminal; the parent exits once the child runs. */
static int
daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		return -1;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/*
 * libcurl (the uplink's) brings in GnuTLS through its LDAP and RTMP
 * libraries, and GnuTLS initialises itself when it is loaded: about
 * 1 MiB touched in each wardd process, none of which uses it (the uplink
 * speaks TLS through OpenSSL; a library that does use GnuTLS initialises
 * it explicitly).  The variable is read when the library loads, so the
 * first wardd sets it and starts itself again once; the processes it
 * starts inherit it.  If that exec fails, wardd runs as it is.
 */
#define NO_IMPLICIT_INIT "GNUTLS_NO_IMPLICIT_INIT"

static void
without_gnutls_init(char **argv)
{
	if (getenv(NO_IMPLICIT_INIT) != NULL || setenv(NO_IMPLICIT_INIT, "1", 1) != 0)
		return;
	execv("/proc/self/exe", argv);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"validator", no_argument, NULL, 'V'},
	    {"validator-user", required_argument, NULL, 'U'},
	    {"validator-cpu-s", required_argument, NULL, 'P'},
	    {"validator-memory-mb", required_argument, NULL, 'M'},
	    {"scanner", no_argument, NULL, 'S'},
	    {"worker", no_argument, NULL, 'W'},
	    {"scan-user", required_argument, NULL, 'u'},
	    {"uplink", no_argument, NULL, 'L'},
	    {"uplink-user", required_argument, NULL, 'N'},
	    {"check-config", no_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0},
	};
	struct agent_config *cfg = NULL;
	struct ward_diag d;
	const char *config = NULL, *v_user = NULL, *s_user = NULL, *u_user = NULL;
	char abs_config[4096];
	long v_cpu = 0, v_mem = 0;
	int c, foreground = 0, validator = 0, scanner = 0, worker = 0, uplink = 0, check = 0,
	       locks[2], r;

	without_gnutls_init(argv);
	(void)prctl(PR_SET_NAME, "wardd"); /* the exec made it "exe"; a role renames it */
	log_program("wardd");
	while ((c = getopt_long(argc, argv, "c:fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'V':
			validator = 1;
			break;
		case 'U':
			v_user = optarg;
			break;
		case 'S':
			scanner = 1;
			break;
		case 'W':
			worker = 1;
			break;
		case 'u':
			s_user = optarg;
			break;
		case 'L':
			uplink = 1;
			break;
		case 'N':
			u_user = optarg;
			break;
		case 'P':
			v_cpu = validator_arg(optarg, 1, 3600);
			break;
		case 'M':
			v_mem = validator_arg(optarg, 64, 1 << 20);
			break;
		case 'C':
			check = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'v':
			printf("wardd %s\n", WARD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* On the heap (ward_malloc): 200 KiB that the supervisor keeps
	 * (supervisor_main takes it), not a stack frame's pages that stay
	 * resident beside its copy. */
	if (!worker && !uplink && (cfg = ward_malloc(sizeof(*cfg))) == NULL) {
		fprintf(stderr, "wardd: out of memory\n");
		return 1;
	}
	if (worker) {
		/* The supervisor's child: the configuration comes on its channel
		 * (checked there), the path only for status to show.  Named as
		 * the supervisor is (the exec made it "exe"). */
		if (config == NULL || optind != argc || scanner || validator || check)
			return 2;
		(void)prctl(PR_SET_NAME, "wardd");
		/* Its threads (sensors, scans, the control socket) would each
		 * get a malloc arena of their own, a few pages to 130 KiB touched
		 * each; they allocate little, and briefly: two are enough. */
		(void)mallopt(M_ARENA_MAX, 2);
		return reload_worker_main(config);
	}
	if (uplink) {
		/* The worker's child: its user in argv, the rest on its channel. */
		if (optind != argc || u_user == NULL || u_user[0] == '\0' || scanner || validator ||
		    worker || check)
			return 2;
		return uplink_net_main(u_user);
	}
	if (scanner) {
		/* Like the validator: the worker passes what it runs with. */
		config_defaults(cfg);
		if (optind != argc || v_mem < 0 || validator) {
			r = 2;
			goto out;
		}
		if (s_user != NULL) {
			if (s_user[0] == '\0' || strlen(s_user) >= sizeof(cfg->scan_user)) {
				r = 2;
				goto out;
			}
			snprintf(cfg->scan_user, sizeof(cfg->scan_user), "%s", s_user);
		}
		if (v_mem > 0)
			cfg->validator_memory_mb = (unsigned)v_mem;
		r = scanner_main(cfg);
		goto out;
	}
	if (validator) {
		/* The worker passes the validator the limits of the configuration
		 * it runs: the file may have changed since (a reload refused, or
		 * not yet sent). */
		config_defaults(cfg);
		if (optind != argc || v_cpu < 0 || v_mem < 0 ||
		    (config != NULL && config_load(config, cfg, &d) != 0)) {
			r = 2;
			goto out;
		}
		if (v_user != NULL) {
			if (v_user[0] == '\0' || strlen(v_user) >= sizeof(cfg->validator_user)) {
				r = 2;
				goto out;
			}
			snprintf(cfg->validator_user, sizeof(cfg->validator_user), "%s", v_user);
		}
		if (v_cpu > 0)
			cfg->validator_cpu_s = (unsigned)v_cpu;
		if (v_mem > 0)
			cfg->validator_memory_mb = (unsigned)v_mem;
		r = validator_main(cfg);
		goto out;
	}
	if (config == NULL || optind != argc) {
		usage(stderr);
		r = 2;
		goto out;
	}
	config_defaults(cfg);
	if (config_load(config, cfg, &d) != 0) {
		char msg[1200];

		diag_format(&d, msg, sizeof(msg));
		if (check)
			fprintf(stderr, "wardd: %s\n", msg);
		else
			log_line(0, NULL, "%s", msg);
		r = 78;
		goto out;
	}
	if (check) {
		r = check_config(cfg, config);
		goto out;
	}
	if (geteuid() != 0)
		log_line(0, NULL,
			 "warning: not running as root: the validator cannot drop "
			 "privileges and the sensors will not work");
	if (realpath(config, abs_config) == NULL) {
		log_line(0, NULL, "%s: %s", config, strerror(errno));
		r = 78;
		goto out;
	}
	umask(077);
	if (check_dirs(cfg, 1) != 0) {
		r = 78;
		goto out;
	}
	/* Before detaching, so that whoever started a second wardd hears it
	 * (exit status 1). */
	if (lock_dirs(cfg, locks) != 0) {
		r = 1;
		goto out;
	}
	if (!foreground && daemonize() != 0) {
		log_line(0, NULL, "cannot detach: %s", strerror(errno));
		r = 1;
		goto out;
	}
	/* The supervisor's pid (daemonize changed it), for whoever finds the
	 * directories locked. */
	if ((locks[0] >= 0 && pidlock_write(locks[0], getpid()) != 0) ||
	    (locks[1] >= 0 && pidlock_write(locks[1], getpid()) != 0))
		log_line(0, NULL, "warning: cannot write the pid in %s: %s", PIDLOCK_NAME,
			 strerror(errno));
	r = supervisor_main(cfg, abs_config, locks);
	cfg = NULL; /* taken */
	goto out;
out:
	ward_free(cfg);
	return r;
}
