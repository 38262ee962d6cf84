/*
 * Unit tests of server/config: the defaults of docs/server.md, a file
 * with every key, the errors (unknown key, out of range, not a number,
 * missing tls.cert / tls.key, listen without a port, a signature
 * threshold above the number of trusted keys, durations past their range
 * that would overflow) with the file and line, and server_config_write
 * read back by server_config_load (a new file, never one written over).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/config.h"

/* Writes text to a fresh temporary file, loads it over the defaults. */
static int
load(const char *text, struct server_config *c, struct ward_diag *d, char *file, size_t filelen)
{
	char path[] = "/tmp/ward-test-sconfig-XXXXXX";
	int fd = mkstemp(path);
	int r;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	server_config_defaults(c);
	r = server_config_load(path, c, d);
	if (file != NULL)
		snprintf(file, filelen, "%s", path);
	unlink(path);
	return r;
}

/* The tls lines every valid file needs (lines 1 to 3). */
#define TLS "tls:\n  cert: /etc/ward-server/server.crt\n  key: /etc/ward-server/server.key\n"

static void
test_defaults(void **state)
{
	struct server_config c;
	struct ward_diag d;

	(void)state;
	server_config_defaults(&c);
	assert_string_equal(c.listen, "0.0.0.0:8443");
	assert_string_equal(c.tls_cert, "");
	assert_string_equal(c.tls_key, "");
	assert_string_equal(c.database, "sqlite:/var/lib/ward-server/ward.db");
	assert_string_equal(c.data_dir, "/var/lib/ward-server");
	assert_int_equal(c.max_body_kb, 16384);
	assert_int_equal(c.timeout_s, 60);
	assert_int_equal(c.threads, 4);
	assert_int_equal(c.max_connections, 20000);
	assert_int_equal(c.checkin_interval_s, 30);
	assert_int_equal(c.checkin_jitter_pct, 20);
	assert_int_equal(c.event_batch_max, 5000);
	assert_int_equal(c.ntrusted, 0);
	assert_int_equal(c.signature_threshold, 1);
	assert_int_equal(c.tick_ms, 1000);

	/* A minimal file (the tls keys only) keeps every default. */
	assert_int_equal(load(TLS, &c, &d, NULL, 0), 0);
	assert_string_equal(c.tls_cert, "/etc/ward-server/server.crt");
	assert_string_equal(c.tls_key, "/etc/ward-server/server.key");
	assert_string_equal(c.listen, "0.0.0.0:8443");
	assert_int_equal(c.threads, 4);
	assert_int_equal(c.tick_ms, 1000);
}

static void
test_all_keys(void **state)
{
	struct server_config c;
	struct ward_diag d;

	(void)state;
	assert_int_equal(load("# every key of docs/server.md\n"
			      "listen: 127.0.0.1:9443\n"
			      "tls:\n"
			      "  cert: /srv/ws/server.crt\n"
			      "  key: /srv/ws/server.key\n"
			      "database: postgresql://ward@db.example.org:5432/ward\n"
			      "data_dir: /srv/ws\n"
			      "limits:\n"
			      "  max_body_kb: 2048\n"
			      "  timeout_s: 15\n"
			      "  threads: 16\n"
			      "  max_connections: 500\n"
			      "checkin:\n"
			      "  interval_s: 60\n"
			      "  jitter_pct: 50\n"
			      "events:\n"
			      "  batch_max: 100\n"
			      "content:\n"
			      "  trusted_keys:\n"
			      "    - /srv/ws/keys/a.pub\n"
			      "    - /srv/ws/keys/b.pub\n"
			      "    - /srv/ws/keys/c.pub\n"
			      "  signature_threshold: 2\n"
			      "rollout:\n"
			      "  tick_ms: 250\n",
			      &c, &d, NULL, 0),
			 0);
	assert_string_equal(c.listen, "127.0.0.1:9443");
	assert_string_equal(c.tls_cert, "/srv/ws/server.crt");
	assert_string_equal(c.tls_key, "/srv/ws/server.key");
	assert_string_equal(c.database, "postgresql://ward@db.example.org:5432/ward");
	assert_string_equal(c.data_dir, "/srv/ws");
	assert_int_equal(c.max_body_kb, 2048);
	assert_int_equal(c.timeout_s, 15);
	assert_int_equal(c.threads, 16);
	assert_int_equal(c.max_connections, 500);
	assert_int_equal(c.checkin_interval_s, 60);
	assert_int_equal(c.checkin_jitter_pct, 50);
	assert_int_equal(c.event_batch_max, 100);
	assert_int_equal(c.ntrusted, 3);
	assert_string_equal(c.trusted_keys[0], "/srv/ws/keys/a.pub");
	assert_string_equal(c.trusted_keys[2], "/srv/ws/keys/c.pub");
	assert_int_equal(c.signature_threshold, 2);
	assert_int_equal(c.tick_ms, 250);

	/* The IPv6 form of the docs, quoted as YAML needs it. */
	assert_int_equal(load(TLS "listen: \"[::]:8443\"\n", &c, &d, NULL, 0), 0);
	assert_string_equal(c.listen, "[::]:8443");
}

static void
test_errors(void **state)
{
	static const struct {
		const char *text, *msg;
		int line; /* 0: a check of the whole file, which names the file only */
	} cases[] = {
	    {TLS "lissten: 0.0.0.0:8443\n", "unknown key \"lissten\"", 4},
	    {TLS "limits:\n  thread: 4\n", "unknown key \"limits.thread\"", 5},
	    {TLS "rollout:\n  tick: 100\n", "unknown key \"rollout.tick\"", 5},
	    {TLS "limits:\n  threads: 0\n", "limits.threads is out of range", 5},
	    {TLS "limits:\n  threads: 257\n", "limits.threads is out of range", 5},
	    {TLS "limits:\n  max_connections: 15\n", "limits.max_connections is out of range", 5},
	    {TLS "checkin:\n  jitter_pct: 51\n", "checkin.jitter_pct is out of range", 5},
	    {TLS "checkin:\n  interval_s: 86401\n", "checkin.interval_s is out of range", 5},
	    {TLS "rollout:\n  tick_ms: 49\n", "rollout.tick_ms is out of range", 5},
	    {TLS "events:\n  batch_max: 100001\n", "events.batch_max is out of range", 5},
	    {TLS "content:\n  signature_threshold: 33\n", "out of range", 5},
	    {TLS "limits:\n  timeout_s: soon\n", "limits.timeout_s must be a number", 5},
	    {TLS "limits:\n  timeout_s: -1\n", "limits.timeout_s must be a number", 5},
	    /* Durations that would wrap where they are used (a 32-bit field,
	     * a time plus a duration) are refused with the range, not cut. */
	    {TLS "checkin:\n  interval_s: 9223372036854775807\n",
	     "checkin.interval_s is out of range: it must be from 1 to 86400", 5},
	    {TLS "limits:\n  timeout_s: 4294967297\n",
	     "limits.timeout_s is out of range: it must be from 1 to 3600", 5},
	    {TLS "rollout:\n  tick_ms: 18446744073709551616\n",
	     "rollout.tick_ms must be a number from 50 to 60000", 5},
	    {TLS "limits:\n  max_body_kb: 1048577\n", "limits.max_body_kb is out of range", 5},
	    {TLS "data_dir: var/lib\n", "data_dir must be an absolute path", 4},
	    {"tls:\n  cert: server.crt\n  key: /k\n", "tls.cert must be an absolute path", 2},
	    {TLS "content:\n  trusted_keys: [a.pub]\n", "absolute paths", 5},
	    {TLS "content:\n  trusted_keys: /a.pub\n", "wrong kind of value", 5},
	    {TLS "listen: [0.0.0.0, 8443]\n", "wrong kind of value", 4},
	    {"- a\n- b\n", "one mapping", 1},
	    {"tls:\n  key: /etc/ward-server/server.key\n", "tls.cert and tls.key are required", 0},
	    {"tls:\n  cert: /etc/ward-server/server.crt\n", "tls.cert and tls.key are required", 0},
	    {"listen: 0.0.0.0:8443\n", "tls.cert and tls.key are required", 0},
	    {TLS "listen: 0.0.0.0\n", "listen must be ADDRESS:PORT", 0},
	    {TLS "listen: ward.example.org\n", "listen must be ADDRESS:PORT", 0},
	    {TLS "content:\n  trusted_keys: [/k/a.pub]\n  signature_threshold: 2\n",
	     "larger than the number of trusted keys", 0},
	};
	struct server_config c;
	struct ward_diag d;
	char file[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		diag_clear(&d);
		assert_int_not_equal(load(cases[i].text, &c, &d, file, sizeof(file)), 0);
		if (strstr(d.msg, cases[i].msg) == NULL || strcmp(d.file, file) != 0 ||
		    (cases[i].line != 0 && d.line != cases[i].line))
			fail_msg("case %zu: got %s:%d \"%s\"", i, d.file, d.line, d.msg);
	}
	/* A threshold within the trusted keys is fine. */
	assert_int_equal(load(TLS "content:\n  trusted_keys: [/a, /b]\n  signature_threshold: 2\n",
			      &c, &d, NULL, 0),
			 0);
	/* No trusted keys: the threshold is not checked (publishing is refused). */
	assert_int_equal(load(TLS "content:\n  signature_threshold: 3\n", &c, &d, NULL, 0), 0);
	/* A syntax error names its line. */
	assert_int_equal(load(TLS "database: \"sqlite:/x\n", &c, &d, NULL, 0), WARD_ESYNTAX);
	assert_true(d.line >= 4);
	server_config_defaults(&c);
	assert_int_equal(server_config_load("/nonexistent/server.yaml", &c, &d), WARD_EIO);
	assert_non_null(strstr(d.msg, "No such file"));
}

/* docs/server.md: listen is an address *and* a port.  An IPv6 address
 * has colons of its own, so "contains a colon" is not enough. */
static void
test_listen_ipv6_without_port(void **state)
{
	struct server_config c;
	struct ward_diag d;

	(void)state;
	assert_int_not_equal(load(TLS "listen: \"[::]\"\n", &c, &d, NULL, 0), 0);
	assert_non_null(strstr(d.msg, "listen"));
	assert_int_not_equal(load(TLS "listen: \"127.0.0.1:\"\n", &c, &d, NULL, 0), 0);
	assert_non_null(strstr(d.msg, "listen"));
}

/* Writes c with server_config_write and loads it back. */
static void
write_and_load(const struct server_config *c, struct server_config *back)
{
	char dir[] = "/tmp/ward-test-sconfig-XXXXXX", path[128];
	struct ward_diag d;
	struct stat st;
	int r;

	int dfd;

	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	snprintf(path, sizeof(path), "%s/server.yaml", dir);
	assert_int_equal(server_config_write(dfd, "server.yaml", c, 0600, &d), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* init never writes over a server's configuration. */
	assert_int_equal(server_config_write(dfd, "server.yaml", c, 0600, &d), WARD_EDUPLICATE);
	close(dfd);
	server_config_defaults(back);
	r = server_config_load(path, back, &d);
	unlink(path);
	rmdir(dir);
	if (r != 0)
		fail_msg("%s:%d: %s", d.file, d.line, d.msg);
}

static void
test_write_round_trip(void **state)
{
	struct server_config c, back;

	(void)state;
	/* What `ward-server init` writes. */
	server_config_defaults(&c);
	snprintf(c.tls_cert, sizeof(c.tls_cert), "/var/lib/ward-server/server.crt");
	snprintf(c.tls_key, sizeof(c.tls_key), "/var/lib/ward-server/server.key");
	write_and_load(&c, &back);
	assert_memory_equal(&c, &back, sizeof(c));

	/* Every scalar key away from its default. */
	snprintf(c.listen, sizeof(c.listen), "10.1.2.3:9000");
	snprintf(c.database, sizeof(c.database), "postgresql://ward@db:5432/ward");
	snprintf(c.data_dir, sizeof(c.data_dir), "/srv/ward-server");
	c.max_body_kb = 1;
	c.timeout_s = 3600;
	c.threads = 256;
	c.max_connections = 16;
	c.checkin_interval_s = 86400;
	c.checkin_jitter_pct = 0;
	c.event_batch_max = 100000;
	c.tick_ms = 50;
	write_and_load(&c, &back);
	assert_string_equal(back.listen, "10.1.2.3:9000");
	assert_string_equal(back.database, "postgresql://ward@db:5432/ward");
	assert_int_equal(back.max_body_kb, 1);
	assert_int_equal(back.threads, 256);
	assert_int_equal(back.checkin_jitter_pct, 0);
	assert_int_equal(back.tick_ms, 50);
	assert_memory_equal(&c, &back, sizeof(c));
}

/* The trusted keys and their threshold are part of the configuration:
 * writing it must keep them. */
static void
test_write_keeps_trusted_keys(void **state)
{
	struct server_config c, back;

	(void)state;
	server_config_defaults(&c);
	snprintf(c.tls_cert, sizeof(c.tls_cert), "/w/server.crt");
	snprintf(c.tls_key, sizeof(c.tls_key), "/w/server.key");
	snprintf(c.trusted_keys[0], sizeof(c.trusted_keys[0]), "/w/keys/a.pub");
	snprintf(c.trusted_keys[1], sizeof(c.trusted_keys[1]), "/w/keys/b.pub");
	c.ntrusted = 2;
	c.signature_threshold = 2;
	write_and_load(&c, &back);
	assert_int_equal(back.ntrusted, 2);
	assert_string_equal(back.trusted_keys[0], "/w/keys/a.pub");
	assert_string_equal(back.trusted_keys[1], "/w/keys/b.pub");
	assert_int_equal(back.signature_threshold, 2);
}

/* `ward-server init --listen [::]:8443` (the IPv6 form of the docs) must
 * write a file that loads. */
static void
test_write_ipv6_listen(void **state)
{
	struct server_config c, back;

	(void)state;
	server_config_defaults(&c);
	snprintf(c.tls_cert, sizeof(c.tls_cert), "/w/server.crt");
	snprintf(c.tls_key, sizeof(c.tls_key), "/w/server.key");
	snprintf(c.listen, sizeof(c.listen), "[::]:8443");
	write_and_load(&c, &back);
	assert_string_equal(back.listen, "[::]:8443");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_all_keys),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_listen_ipv6_without_port),
	    cmocka_unit_test(test_write_round_trip),
	    cmocka_unit_test(test_write_keeps_trusted_keys),
	    cmocka_unit_test(test_write_ipv6_listen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
