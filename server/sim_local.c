/*
 * sim_local: the ward-server and the content of `ward-sim --self-contained`
 * (a rehearsal on loopback: see sim.c and docs/server.md).
 *
 * Must hold: everything it makes lives in one temporary directory, which
 * sim_local_stop removes after stopping the server it started (by pid).
 */
#include "server/sim_local.h"
#include "util/alloc.h"
#include "util/file.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int
run(char *const argv[], char *out, size_t outlen)
{
	int pfd[2], status;
	pid_t pid;
	ssize_t n, got = 0;

	if (pipe(pfd) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while (out != NULL && (size_t)got + 1 < outlen &&
	       (n = read(pfd[0], out + got, outlen - (size_t)got - 1)) > 0)
		got += n;
	if (out != NULL)
		out[got] = '\0';
	close(pfd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
sibling(const char *self, const char *rel, const char *installed, const char *env, char *out,
	size_t outlen)
{
	char dir[PATH_MAX]; /* realpath() writes up to PATH_MAX bytes */
	char *slash;

	if (getenv(env) != NULL) {
		snprintf(out, outlen, "%s", getenv(env));
		return;
	}
	if (realpath(self, dir) == NULL)
		snprintf(dir, sizeof(dir), "%.900s", self);
	slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	/* The build tree (server/ward-sim beside cli/ward), else where the
	 * package installs it. */
	snprintf(out, outlen, "%.900s/%s", dir, rel);
	if (access(out, X_OK) != 0)
		snprintf(out, outlen, "%s", installed);
}

static const char eicar[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/* Builds and signs content version v in the sim directory. */
int
sim_local_bundle(const struct sim_local *L, long long v, char *out, size_t outlen)
{
	char src[512], path[600], text[1024], key[600], ward[1100];
	struct ward_diag d;
	char *argv[8];

	snprintf(src, sizeof(src), "%s/src%lld", L->dir, v);
	snprintf(path, sizeof(path), "%s/rules", src);
	if ((mkdir(src, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(path, 0700) != 0 && errno != EEXIST))
		return -1;
	snprintf(path, sizeof(path), "%s/tests", src);
	(void)mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/rules/eicar.yar", src);
	snprintf(text, sizeof(text),
		 "rule EICAR_Test_File { strings: $e = \"X5O!P%%@AP[4\\\\PZX54(P^)7CC)7}$EICAR-"
		 "STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\" condition: $e at 0 }\n"
		 "rule Sim_Version_%lld { condition: false }\n",
		 v);
	if (file_replace(path, text, strlen(text), 0600, &d) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/tests/eicar.com", src);
	if (file_replace(path, eicar, strlen(eicar), 0600, &d) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/bundle.json", src);
	snprintf(text, sizeof(text),
		 "{\"name\": \"sim\", \"version\": %lld, \"expires\": \"2099-01-01T00:00:00Z\","
		 " \"rules\": [\"rules/eicar.yar\"], \"tests\": [{\"sample\": \"tests/eicar.com\","
		 " \"expect\": [\"EICAR_Test_File\"]}]}\n",
		 v);
	if (file_replace(path, text, strlen(text), 0600, &d) != 0)
		return -1;
	snprintf(out, outlen, "%s/v%lld.wbundle", L->dir, v);
	snprintf(key, sizeof(key), "%s/release.key", L->dir);
	snprintf(ward, sizeof(ward), "%s", L->ward_bin);
	argv[0] = ward, argv[1] = "content", argv[2] = "build", argv[3] = src, argv[4] = "-o",
	argv[5] = out, argv[6] = NULL;
	if (run(argv, NULL, 0) != 0)
		return -1;
	argv[2] = "sign", argv[3] = out, argv[4] = "--key", argv[5] = key;
	return run(argv, NULL, 0) == 0 ? 0 : -1;
}

int
sim_local_start(const char *self, int interval, struct sim_local *L)
{
	char dir[300], yaml[400], text[8192], out[512], port[16], listen[64], key[300];
	char *argv[10];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct ward_diag d;
	pid_t parent;
	int p;

	sibling(self, "../server/ward-server", WARD_SBINDIR "/ward-server", "WARD_SERVER_BIN",
		L->server_bin, sizeof(L->server_bin));
	sibling(self, "../cli/ward", WARD_BINDIR "/ward", "WARD_BIN", L->ward_bin,
		sizeof(L->ward_bin));
	if (access(L->server_bin, X_OK) != 0 || access(L->ward_bin, X_OK) != 0) {
		fprintf(stderr, "ward-sim: needs ward-server and ward (%s, %s)\n", L->server_bin,
			L->ward_bin);
		return -1;
	}
	snprintf(L->dir, sizeof(L->dir), "/tmp/ward-sim-XXXXXX");
	if (mkdtemp(L->dir) == NULL)
		return -1;
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	p = 20000 + rand() % 30000;
	snprintf(port, sizeof(port), "%d", p);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", p);
	snprintf(dir, sizeof(dir), "%s/server", L->dir);
	argv[0] = L->server_bin, argv[1] = "init", argv[2] = "--dir", argv[3] = dir,
	argv[4] = "--listen", argv[5] = listen, argv[6] = NULL;
	if (run(argv, out, sizeof(out)) != 0)
		return -1;
	out[strcspn(out, "\n")] = '\0';
	snprintf(L->admin, sizeof(L->admin), "%.127s", out);
	snprintf(key, sizeof(key), "%s/release", L->dir);
	argv[0] = L->ward_bin, argv[1] = "key", argv[2] = "gen", argv[3] = "--out", argv[4] = key,
	argv[5] = NULL;
	if (run(argv, NULL, 0) != 0)
		return -1;
	snprintf(yaml, sizeof(yaml), "%s/server.yaml", dir);
	if (file_read_all(yaml, 1 << 16, &buf, &len, &d) != 0)
		return -1;
	snprintf(text, sizeof(text), "%.*s", (int)len, (char *)buf);
	ward_free(buf);
	{
		char *t;

		if ((t = strstr(text, "interval_s: 30")) != NULL) {
			char tail[8192];

			snprintf(tail, sizeof(tail), "%s", t + 14);
			snprintf(t, sizeof(text) - (size_t)(t - text), "interval_s: %d%s", interval,
				 tail);
		}
		if ((t = strstr(text, "trusted_keys: []")) != NULL) {
			char tail[8192];

			snprintf(tail, sizeof(tail), "%s", t + 16);
			snprintf(t, sizeof(text) - (size_t)(t - text), "trusted_keys: [%s.pub]%s",
				 key, tail);
		}
		if ((t = strstr(text, "tick_ms: 1000")) != NULL)
			memcpy(t, "tick_ms:  250", 13);
	}
	if (file_replace(yaml, text, strlen(text), 0600, &d) != 0)
		return -1;
	parent = getpid();
	L->pid = fork();
	if (L->pid == 0) {
		char log[400];
		FILE *f;

		/* The rehearsal's server ends with the rehearsal, however that
		 * ends (killed, interrupted): never a server left running. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
			_exit(127);
		snprintf(log, sizeof(log), "%s/server.log", L->dir);
		f = freopen(log, "a", stderr);
		(void)f;
		execl(L->server_bin, L->server_bin, "--config", yaml, (char *)NULL);
		_exit(127);
	}
	snprintf(L->url, sizeof(L->url), "https://127.0.0.1:%d", p);
	snprintf(L->ca, sizeof(L->ca), "%s/ca.crt", dir);
	snprintf(L->pub, sizeof(L->pub), "%s/release.pub", L->dir);
	return L->pid > 0 ? 0 : -1;
}

void
sim_local_stop(struct sim_local *L)
{
	char *argv[4];

	if (L->pid > 0) {
		kill(L->pid, SIGTERM);
		waitpid(L->pid, NULL, 0);
		L->pid = 0;
	}
	if (L->dir[0] != '\0') {
		argv[0] = "/bin/rm", argv[1] = "-rf", argv[2] = L->dir, argv[3] = NULL;
		(void)run(argv, NULL, 0);
	}
}

/* The default plan's shape, its soaks compressed to seconds. */
json_t *
sim_local_plan(double soak)
{
	/* A ring that cannot pass ends the rehearsal within a minute or so,
	 * never hangs it: stall_s is compressed too. */
	return json_pack("{s:[{s:s, s:f, s:i, s:i, s:f}, {s:s, s:f, s:f}, {s:s, s:f, s:f},"
			 " {s:s, s:f, s:f}], s:{s:f}}",
			 "rings", "name", "canary", "percent", 1.0, "min", 1, "max", 50, "soak_s",
			 soak, "name", "early", "percent", 10.0, "soak_s", soak, "name", "broad",
			 "percent", 50.0, "soak_s", soak, "name", "all", "percent", 100.0, "soak_s",
			 0.0, "gate", "stall_s", 6 * soak > 30 ? 6 * soak : 30.0);
}
