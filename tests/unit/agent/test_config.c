/*
 * Unit tests of agent/config: defaults, every key, nested sections,
 * sizes, and the errors (unknown key, wrong type, out of range, not a
 * mapping, missing trusted keys) with their line numbers; exceptions in
 * their text form, each checked by the exceptions parser; config_check
 * takes what config_load gave and refuses, by key name, a number out of
 * its key's range, a choice beyond its words, a flag not 0 or 1, a count
 * beyond its list and a string that does not end in its array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/config.h"
#include "event/journal.h"

static char path[] = "/tmp/ward-test-config-XXXXXX";

static int
load(const char *text, struct agent_config *c, struct ward_diag *d)
{
	int fd = mkstemp(path);
	int r;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	config_defaults(c);
	r = config_load(path, c, d);
	unlink(path);
	strcpy(path, "/tmp/ward-test-config-XXXXXX");
	return r;
}

static void
test_defaults_and_minimal(void **state)
{
	struct agent_config c;
	struct ward_diag d;

	(void)state;
	assert_int_equal(load("trusted_keys: [/etc/ward/a.pub]\n", &c, &d), 0);
	assert_string_equal(c.state_dir, "/var/lib/ward");
	assert_string_equal(c.run_dir, "/run/ward");
	assert_int_equal(c.ntrusted, 1);
	assert_string_equal(c.trusted_keys[0], "/etc/ward/a.pub");
	assert_int_equal(c.signature_threshold, 1);
	assert_int_equal(c.crash_max, 3);
	assert_int_equal(c.crash_window_s, 600);
	assert_string_equal(c.validator_user, "nobody");
	assert_int_equal(c.validator_cpu_s, 120);
	assert_int_equal(c.fim_realtime, 1);
	assert_int_equal(c.fim_package_manager, CONFIG_PKG_INFO);
	assert_int_equal(c.fim_rate_limit, 10);
	assert_int_equal(c.fim_content_paths, 1);
}

static void
test_all_keys(void **state)
{
	struct agent_config c;
	struct ward_diag d;

	(void)state;
	assert_int_equal(load("# comment\n"
			      "state_dir: /srv/ward\n"
			      "run_dir: /run/w\n"
			      "trusted_keys:\n"
			      "  - /k/a.pub\n"
			      "  - /k/b.pub\n"
			      "signature_threshold: 2\n"
			      "initial_content: /usr/share/ward/default.wbundle\n"
			      "crash_guard:\n"
			      "  max_crashes: 5\n"
			      "  window_s: 120\n"
			      "restart_backoff_max_s: 10\n"
			      "validator:\n"
			      "  user: ward\n"
			      "  cpu_s: 30\n"
			      "  memory_mb: 512\n"
			      "  timeout_s: 60\n"
			      "scan:\n"
			      "  max_filesize: 64M\n"
			      "journal:\n"
			      "  fsync: never\n"
			      "onaccess:\n"
			      "  on_write: quarantine\n"
			      "fim:\n"
			      "  paths: [/etc]\n"
			      "  realtime: false\n"
			      "  content_paths: false\n"
			      "  package_manager: ignore\n"
			      "  rate_limit: 0\n"
			      "  max_dirs: 50\n",
			      &c, &d),
			 0);
	assert_string_equal(c.state_dir, "/srv/ward");
	assert_int_equal(c.ntrusted, 2);
	assert_string_equal(c.trusted_keys[1], "/k/b.pub");
	assert_int_equal(c.signature_threshold, 2);
	assert_int_equal(c.crash_max, 5);
	assert_int_equal(c.crash_window_s, 120);
	assert_string_equal(c.validator_user, "ward");
	assert_int_equal(c.validator_memory_mb, 512);
	assert_int_equal(c.max_filesize, 64ull << 20);
	assert_int_equal(c.journal_fsync, JOURNAL_FSYNC_NEVER);
	assert_int_equal(c.onaccess_quarantine, 1);
	assert_int_equal(c.fim_npaths, 1);
	assert_int_equal(c.fim_realtime, 0);
	assert_int_equal(c.fim_content_paths, 0);
	assert_int_equal(c.fim_package_manager, CONFIG_PKG_IGNORE);
	assert_int_equal(c.fim_rate_limit, 0);
	assert_int_equal(c.fim_max_dirs, 50);
}

static void
test_errors(void **state)
{
	static const struct {
		const char *text, *msg;
		int line;
	} cases[] = {
	    {"trusted_keys: [/a]\nstat_dir: /x\n", "unknown key \"stat_dir\"", 2},
	    {"trusted_keys: [/a]\ncrash_guard:\n  max: 3\n", "unknown key \"crash_guard.max\"", 3},
	    {"trusted_keys: [/a]\nstate_dir: relative\n", "absolute path", 2},
	    {"trusted_keys: [/a]\nsignature_threshold: lots\n", "must be a number", 2},
	    {"trusted_keys: [/a]\nsignature_threshold: 0\n", "out of range", 2},
	    {"trusted_keys: [/a]\nvalidator:\n  memory_mb: 1\n", "out of range", 3},
	    {"trusted_keys: /a\n", "wrong kind of value", 1},
	    {"trusted_keys: [a.pub]\n", "absolute paths", 1},
	    {"- a\n- b\n", "one mapping", 1},
	    {"trusted_keys: [/a\n", "", 0},
	    {"state_dir: /x\n", "trusted_keys is required", 0},
	    {"trusted_keys: [/a]\nsignature_threshold: 2\n", "larger than the number", 0},
	    {"trusted_keys: [/a]\nfim:\n  package_manager: maybe\n",
	     "fim.package_manager must be alert, info or ignore", 3},
	    {"trusted_keys: [/a]\nfim:\n  hash: sha256sha256sha256sha256\n",
	     "at most 15 characters", 3},
	    {"trusted_keys: [/a]\njournal:\n  fsync: sometimes\n",
	     "journal.fsync must be always, interval or never", 3},
	};
	struct agent_config c;
	struct ward_diag d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		diag_clear(&d);
		assert_int_not_equal(load(cases[i].text, &c, &d), 0);
		if (strstr(d.msg, cases[i].msg) == NULL ||
		    (cases[i].line && d.line != cases[i].line))
			fail_msg("case %zu: got line %d \"%s\"", i, d.line, d.msg);
	}
	assert_int_not_equal(config_load("/nonexistent/wardd.yaml", &c, &d), 0);
	assert_non_null(strstr(d.msg, "No such file"));
}

/* A reload: which keys changed, in which groups, and what is copied. */
static void
test_reload_changes(void **state)
{
	struct agent_config *run = malloc(sizeof(*run)), *next = malloc(sizeof(*next));
	struct ward_diag d;
	char changed[600], restart[600];
	unsigned g;

	(void)state;
	assert_int_equal(load("trusted_keys: [/k/a.pub]\n"
			      "state_dir: /srv/ward\n"
			      "fim:\n  paths: [/etc, /srv]\n"
			      "outputs:\n  ndjson:\n    path: /var/log/ward/a.ndjson\n",
			      run, &d),
			 0);
	/* The same file: nothing changed (list entries past the count and
	 * bytes past a string's end do not count). */
	assert_int_equal(load("trusted_keys: [/k/a.pub]\n"
			      "state_dir: /srv/ward\n"
			      "fim:\n  paths: [/etc, /srv]\n"
			      "outputs:\n  ndjson:\n    path: /var/log/ward/a.ndjson\n",
			      next, &d),
			 0);
	assert_int_equal(
	    config_changes(run, next, changed, sizeof(changed), restart, sizeof(restart)), 0);
	assert_string_equal(changed, "");
	assert_string_equal(restart, "");
	/* Reloadable keys, and some that are not. */
	assert_int_equal(load("trusted_keys: [/k/a.pub, /k/b.pub]\n"
			      "state_dir: /srv/ward2\n"
			      "journal:\n  max_mb: 10\n"
			      "fim:\n  paths: [/etc]\n  content_paths: false\n"
			      "crash_guard:\n  max_crashes: 9\n"
			      "outputs:\n  ndjson:\n    path: /var/log/ward/b.ndjson\n",
			      next, &d),
			 0);
	g = config_changes(run, next, changed, sizeof(changed), restart, sizeof(restart));
	assert_int_equal(g, CONFIG_CONTENT | CONFIG_SUPERVISOR | CONFIG_FIM | CONFIG_OUTPUTS);
	assert_string_equal(changed, "trusted_keys, crash_guard.max_crashes, fim.paths, "
				     "fim.content_paths, outputs.ndjson.path");
	assert_string_equal(restart, "state_dir, journal.max_mb");
	config_reload_into(run, next);
	assert_string_equal(run->state_dir, "/srv/ward"); /* kept */
	assert_int_equal(run->journal_max_mb, 256);
	assert_int_equal(run->ntrusted, 2);
	assert_string_equal(run->trusted_keys[1], "/k/b.pub");
	assert_int_equal(run->fim_npaths, 1);
	assert_int_equal(run->fim_content_paths, 0);
	assert_int_equal(run->crash_max, 9);
	assert_string_equal(run->ndjson_path, "/var/log/ward/b.ndjson");
	/* Now only the restart keys differ. */
	g = config_changes(run, next, changed, sizeof(changed), restart, sizeof(restart));
	assert_int_equal(g, 0);
	assert_string_equal(restart, "state_dir, journal.max_mb");
	/* A list that does not fit says so. */
	strcpy(next->state_dir, "/elsewhere");
	next->journal_max_mb = 1;
	strcpy(next->run_dir, "/run/elsewhere");
	(void)config_changes(run, next, changed, sizeof(changed), restart, 20);
	assert_string_equal(restart, "state_dir, ...");
	free(run);
	free(next);
}

/* Every key has a decision; the ones read only at start are named. */
static void
test_reload_groups(void **state)
{
	static const char *const restart[] = {"state_dir",	     "run_dir",
					      "journal.max_mb",	     "journal.fsync",
					      "server.url",	     "server.ca",
					      "server.enroll_token", "server.batch_max",
					      "onaccess.threads",    "onaccess.cache_entries"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(restart) / sizeof(restart[0]); i++)
		assert_int_equal(config_key_group(restart[i]), CONFIG_RESTART);
	assert_int_equal(config_key_group("outputs.ndjson.path"), CONFIG_OUTPUTS);
	assert_int_equal(config_key_group("onaccess.paths"), CONFIG_ONACCESS);
	assert_int_equal(config_key_group("fim.content_paths"), CONFIG_FIM);
	assert_int_equal(config_key_group("validator.cpu_s"), CONFIG_CONTENT);
	assert_int_equal(config_key_group("scan.max_filesize"), CONFIG_SCAN);
	assert_int_equal(config_key_group("restart_backoff_max_s"), CONFIG_SUPERVISOR);
	assert_int_equal(config_key_group("exceptions"), CONFIG_EXCEPTIONS);
	assert_int_equal(config_key_group("server.exceptions"), CONFIG_EXCEPTIONS);
	assert_int_equal(config_key_group("no.such.key"), -1);
}

/* The trusted keys are read as the agent will read them. */
static void
test_check_keys(void **state)
{
	struct agent_config c;
	char why[600], keyp[] = "/tmp/ward-test-key-XXXXXX";
	int fd = mkstemp(keyp);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a key\n", 10), 10);
	close(fd);
	config_defaults(&c);
	c.ntrusted = 1;
	snprintf(c.trusted_keys[0], sizeof(c.trusted_keys[0]), "%s", keyp);
	assert_int_equal(config_check_keys(&c, why, sizeof(why)), WARD_EINVAL);
	assert_non_null(strstr(why, keyp));
	assert_non_null(strstr(why, "not a readable Ed25519 or SM2 public key"));
	unlink(keyp);
	c.ntrusted = 0;
	assert_int_equal(config_check_keys(&c, why, sizeof(why)), 0);
}

static void
test_exceptions(void **state)
{
	static const char *const bad[] = {
	    "exceptions: ['path:relative']\n",
	    "exceptions: ['rule:R path:/a//b']\n",
	    "exceptions: ['sha256:1234']\n",
	    "exceptions: ['md5:275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f']"
	    "\n",
	    "exceptions: ['path:/a/**', 'path:/a/**']\n",
	    "exceptions: 'path:/a'\n",
	    "server:\n  exceptions: some\n",
	};
	struct agent_config *c = calloc(1, sizeof(*c));
	struct ward_diag d;
	char text[8192];
	size_t i;

	(void)state;
	assert_non_null(c);
	assert_int_equal(load("trusted_keys: [/k.pub]\n", c, &d), 0);
	assert_int_equal(c->nexceptions, 0);
	assert_int_equal(c->server_exceptions, CONFIG_SRVEXC_SHA256);
	assert_int_equal(load("trusted_keys: [/k.pub]\nserver:\n  exceptions: all\n"
			      "exceptions:\n"
			      "  - 'sha256:"
			      "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f'\n"
			      "  - 'path:/opt/vendor/**'\n"
			      "  - 'rule:Packer path:/srv/**/bin/*'\n",
			      c, &d),
			 0);
	assert_int_equal(c->server_exceptions, CONFIG_SRVEXC_ALL);
	assert_int_equal(c->nexceptions, 3);
	assert_string_equal(c->exceptions[2], "rule:Packer path:/srv/**/bin/*");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "trusted_keys: [/k.pub]\n%s", bad[i]);
		if (load(text, c, &d) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_true(strstr(d.msg, "exceptions") != NULL);
	}
	/* More than WARD_MAX_CONFIG_EXCEPTIONS. */
	snprintf(text, sizeof(text), "trusted_keys: [/k.pub]\nexceptions:\n");
	for (i = 0; i <= WARD_MAX_CONFIG_EXCEPTIONS; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "  - 'rule:R%zu'\n", i);
	assert_int_not_equal(load(text, c, &d), 0);
	assert_non_null(strstr(d.msg, "too many"));
	free(c);
}

static void
test_check(void **state)
{
	struct agent_config c;
	struct ward_diag d;

	(void)state;
	assert_int_equal(load("trusted_keys: [/etc/ward/a.pub]\n"
			      "validator: {memory_mb: 64}\n"
			      "onaccess: {cache_entries: 16777216}\n",
			      &c, &d),
			 0);
	assert_int_equal(config_check(&c, &d), 0);
	c.validator_memory_mb = 63;
	assert_int_equal(config_check(&c, &d), WARD_EINVAL);
	assert_string_equal(d.msg, "validator.memory_mb is 63, out of its range 64..1048576");
	c.validator_memory_mb = 64;
	c.onaccess_cache_entries = (1u << 24) + 1;
	assert_int_equal(config_check(&c, &d), WARD_EINVAL);
	assert_non_null(strstr(d.msg, "onaccess.cache_entries is 16777217"));
	c.onaccess_cache_entries = 1024;
	c.max_filesize = (1ull << 40) + 1;
	assert_int_equal(config_check(&c, &d), WARD_EINVAL);
	assert_non_null(strstr(d.msg, "scan.max_filesize"));
	c.max_filesize = 0;
	c.journal_fsync = 3;
	assert_int_equal(config_check(&c, &d), WARD_EINVAL);
	assert_string_equal(d.msg, "journal.fsync is 3, not one of 0..2");
	c.journal_fsync = 2;
	c.fim_realtime = 2;
	assert_int_equal(config_check(&c, &d), WARD_EINVAL);
	assert_string_equal(d.msg, "fim.realtime is 2, not one of 0..1");
	c.fim_realtime = 1;
	c.onaccess_npaths = CONFIG_MAX_KEYS + 1;
	assert_int_equal(config_check(&c, &d), WARD_EINVAL);
	assert_non_null(strstr(d.msg, "onaccess.paths has 33 entries"));
	c.onaccess_npaths = 0;
	memset(c.validator_user, 'u', sizeof(c.validator_user));
	assert_int_equal(config_check(&c, &d), WARD_EINVAL);
	assert_string_equal(d.msg, "validator.user does not end within its 64 bytes");
	c.validator_user[63] = '\0';
	assert_int_equal(config_check(&c, &d), 0);
}

/* The clamd block: off by default with clamd's defaults, every key read,
 * and the mode, port and size checked. */
static void
test_clamd(void **state)
{
	struct agent_config c;
	struct ward_diag d;

	(void)state;
	assert_int_equal(load("trusted_keys: [/a]\n", &c, &d), 0);
	assert_int_equal(c.clamd_enabled, 0);
	assert_string_equal(c.clamd_socket, "/run/ward-clamd/clamd.sock");
	assert_string_equal(c.clamd_socket_mode, "0666");
	assert_string_equal(c.clamd_tcp_address, "127.0.0.1");
	assert_int_equal(c.clamd_tcp_port, 0);
	assert_string_equal(c.clamd_tcp_path_user, "");
	assert_int_equal(c.clamd_stream_max_length, 25u << 20);
	assert_int_equal(c.clamd_read_timeout_s, 120);
	assert_int_equal(c.clamd_max_filesize, 100u << 20);
	assert_int_equal(c.clamd_max_connections_per_user, 0);
	assert_int_equal(
	    load("trusted_keys: [/a]\nclamd:\n  enabled: yes\n  socket: /s/c.sock\n"
		 "  socket_owner: root\n  socket_group: mail\n  socket_mode: \"0660\"\n"
		 "  tcp_address: ::1\n  tcp_port: 3310\n  tcp_path_user: amavis\n"
		 "  stream_max_length: 100M\n  max_connections: 10\n"
		 "  max_threads: 4\n  read_timeout_s: 5\n  max_filesize: 2G\n"
		 "  max_connections_per_user: 3\n",
		 &c, &d),
	    0);
	assert_int_equal(c.clamd_enabled, 1);
	assert_string_equal(c.clamd_socket, "/s/c.sock");
	assert_string_equal(c.clamd_socket_group, "mail");
	assert_string_equal(c.clamd_socket_mode, "0660");
	assert_string_equal(c.clamd_tcp_address, "::1");
	assert_int_equal(c.clamd_tcp_port, 3310);
	assert_string_equal(c.clamd_tcp_path_user, "amavis");
	assert_int_equal(c.clamd_stream_max_length, 100u << 20);
	assert_int_equal(c.clamd_max_connections, 10);
	assert_int_equal(c.clamd_max_threads, 4);
	assert_int_equal(c.clamd_read_timeout_s, 5);
	assert_int_equal(c.clamd_max_filesize, 2ull << 30);
	assert_int_equal(c.clamd_max_connections_per_user, 3);
	diag_clear(&d);
	assert_int_not_equal(load("trusted_keys: [/a]\nclamd:\n  socket_mode: \"0968\"\n", &c, &d),
			     0);
	assert_non_null(strstr(d.msg, "clamd.socket_mode"));
	assert_int_not_equal(load("trusted_keys: [/a]\nclamd:\n  socket_mode: \"01777\"\n", &c, &d),
			     0);
	assert_int_not_equal(load("trusted_keys: [/a]\nclamd:\n  tcp_port: 65536\n", &c, &d), 0);
	assert_int_not_equal(load("trusted_keys: [/a]\nclamd:\n  stream_max_length: 5G\n", &c, &d),
			     0);
	assert_int_not_equal(load("trusted_keys: [/a]\nclamd:\n  max_threads: 0\n", &c, &d), 0);
	assert_int_not_equal(load("trusted_keys: [/a]\nclamd:\n  max_filesize: 0\n", &c, &d), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_and_minimal),
	    cmocka_unit_test(test_all_keys),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_reload_changes),
	    cmocka_unit_test(test_reload_groups),
	    cmocka_unit_test(test_check_keys),
	    cmocka_unit_test(test_exceptions),
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_clamd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
