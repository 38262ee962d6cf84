/*
 * wardd: the endpoint agent.  Parses its arguments and configuration and
 * hands over to the supervisor (which runs the worker), or, as
 * `wardd --validator`, validates one bundle in a sandbox for the worker.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/config.h"
#include "agent/supervisor.h"
#include "agent/validator.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: wardd --config FILE [--foreground]\n"
		   "\n"
		   "The ward endpoint agent: keeps the host's detection content (signed\n"
		   "bundles, validated in a sandbox, activated atomically, rolled back when\n"
		   "they crash the agent) and serves 'ward agent' on a root-only socket\n"
		   "under the run directory.  See docs/agent.md for the configuration.\n"
		   "\n"
		   "  -c, --config FILE   configuration file (YAML; required)\n"
		   "  -f, --foreground    stay in the foreground and log to standard error\n"
		   "                      (systemd, containers, tests); without it wardd\n"
		   "                      detaches and its log goes to the caller's stderr\n"
		   "  -h, --help          show this help\n"
		   "      --version       print the version\n");
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

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"foreground", no_argument, NULL, 'f'},
		{"validator", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0},
	};
	struct agent_config cfg;
	struct ward_diag d;
	const char *config = NULL;
	char abs_config[4096];
	int c, foreground = 0, validator = 0;

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
	if (config == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	config_defaults(&cfg);
	if (config_load(config, &cfg, &d) != 0) {
		char msg[1200];

		diag_format(&d, msg, sizeof(msg));
		fprintf(stderr, "wardd: %s\n", msg);
		return validator ? 2 : 78;
	}
	if (validator)
		return validator_main(&cfg);
	if (geteuid() != 0)
		fprintf(stderr, "wardd: warning: not running as root: the validator cannot drop "
				"privileges and the sensors will not work\n");
	if (realpath(config, abs_config) == NULL) {
		fprintf(stderr, "wardd: %s: %s\n", config, strerror(errno));
		return 78;
	}
	umask(077);
	if (!foreground && daemonize() != 0) {
		fprintf(stderr, "wardd: cannot detach: %s\n", strerror(errno));
		return 1;
	}
	return supervisor_main(&cfg, abs_config);
}
