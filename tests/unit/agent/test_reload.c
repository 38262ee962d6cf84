/*
 * Unit tests of agent/reload: a configuration goes from the supervisor to
 * the worker whole, with its groups, over a real channel; a frame of the
 * wrong size, groups no reload has, a memory file of another size than it
 * says or not sealed is refused with WARD_EPROTO (its descriptor closed);
 * reload_config_check refuses a string that does not end within its array
 * (every string field and every element of the string arrays), a count
 * beyond its array, an enum or flag out of range, and each numeric field
 * below or above the range wardd.yaml allows for its key, naming the key
 * (the table config_load reads by is the one source of both) — nothing
 * is repaired; a heartbeat goes the other way only; a closed peer is
 * WARD_ECLOSED.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/reload.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"

/* The supervisor's end (s), the worker's (w) of a configuration channel. */
static struct ipc *s, *w;

static int
setup(void **state)
{
	int sv[2];

	(void)state;
	if (ipc_pair(sv) != 0 || ipc_new(sv[0], &reload_nothing, &reload_config_proto, &s) != 0 ||
	    ipc_new(sv[1], &reload_config_proto, &reload_nothing, &w) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ipc_free(s);
	ipc_free(w);
	return 0;
}

static int
open_fds(void)
{
	int n = 0, fd;

	for (fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static struct agent_config *
defaults(void)
{
	struct agent_config *c = ward_malloc(sizeof(*c));

	assert_non_null(c);
	config_defaults(c);
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/ward-test");
	c->ntrusted = 1;
	snprintf(c->trusted_keys[0], CONFIG_MAX_PATH, "/etc/ward/k.pub");
	return c;
}

static void
test_round_trip(void **state)
{
	struct agent_config *c = defaults(), *got = NULL;
	struct ward_diag d;
	unsigned groups = 0;

	(void)state;
	assert_int_equal(reload_send(s, c, CONFIG_OUTPUTS | CONFIG_FIM, IPC_FOREVER, &d), 0);
	assert_int_equal(reload_recv(w, IPC_FOREVER, &got, &groups, &d), 0);
	assert_non_null(got);
	assert_int_equal(groups, CONFIG_OUTPUTS | CONFIG_FIM);
	assert_memory_equal(got, c, sizeof(*c));
	ward_free(got);
	/* The worker sends nothing on it. */
	assert_int_equal(ipc_send(w, RELOAD_CONFIG, NULL, 0, -1, IPC_FOREVER, &d), WARD_EINVAL);
	ward_free(c);
}

/* Sends a config frame whose payload says groups and size, with fd. */
static void
send_config(struct ipc *ch, uint32_t groups, uint64_t size, int fd)
{
	struct ward_diag d;
	struct wbuf b;

	wbuf_init(&b);
	wbuf_u32(&b, groups);
	wbuf_u64(&b, size);
	assert_int_equal(ipc_send(ch, RELOAD_CONFIG, b.p, b.len, fd, IPC_FOREVER, &d), 0);
	wbuf_free(&b);
}

/* A fresh channel pair for each refusal (a refusal closes the channel). */
static void
expect_refused(const struct agent_config *c, uint32_t groups, uint64_t size, size_t fsize)
{
	struct agent_config *got = (void *)1;
	struct ward_diag d;
	unsigned g = 7;
	int fd;

	teardown(NULL);
	assert_int_equal(setup(NULL), 0);
	assert_int_equal(ipc_memfd_new("t", c, fsize, &fd), 0);
	send_config(s, groups, size, fd);
	close(fd);
	assert_int_equal(reload_recv(w, IPC_FOREVER, &got, &g, &d), WARD_EPROTO);
	assert_null(got);
	assert_int_equal(g, 0);
}

static void
test_malformed(void **state)
{
	struct agent_config *c = defaults();
	struct agent_config *got = NULL;
	struct ward_diag d;
	unsigned g;
	int before, fd;

	(void)state;
	before = open_fds();
	/* A size other than a configuration's, or than its file's. */
	expect_refused(c, CONFIG_FIM, sizeof(*c) - 1, sizeof(*c) - 1);
	expect_refused(c, CONFIG_FIM, sizeof(*c), sizeof(*c) - 8);
	/* Groups no reload has. */
	expect_refused(c, 0x80000000u, sizeof(*c), sizeof(*c));
	assert_int_equal(open_fds(), before);
	/* Not sealed: its sender could still change it.  The channel itself
	 * refuses it. */
	teardown(NULL);
	assert_int_equal(setup(NULL), 0);
	assert_int_equal(ipc_memfd_open("t", &fd), 0);
	assert_int_equal(write(fd, c, sizeof(*c)), (ssize_t)sizeof(*c));
	assert_int_equal(
	    ipc_send(s, RELOAD_CONFIG, "\0\0\0\0\0\0\0\0\0\0\0\0", 12, fd, IPC_FOREVER, &d), 0);
	close(fd);
	assert_int_equal(reload_recv(w, IPC_FOREVER, &got, &g, &d), WARD_EPROTO);
	assert_null(got);
	ward_free(c);
}

static void
test_strings_end_in_their_arrays(void **state)
{
	struct agent_config *c = defaults();
	struct ward_diag d;

	(void)state;
	assert_int_equal(reload_config_check(c, &d), 0);
	memset(c->run_dir, 'a', sizeof(c->run_dir));
	assert_int_equal(reload_config_check(c, &d), WARD_EPROTO);
	assert_non_null(strstr(d.msg, "run_dir"));
	/* Sent whole, it is refused whole. */
	expect_refused(c, CONFIG_OUTPUTS, sizeof(*c), sizeof(*c));
	ward_free(c);

	/* The last element of an array of strings, beyond its count. */
	c = defaults();
	memset(c->fim_excludes[CONFIG_MAX_KEYS - 1], 'x', CONFIG_MAX_PATH);
	assert_int_equal(reload_config_check(c, &d), WARD_EPROTO);
	assert_non_null(strstr(d.msg, "fim.exclude[31]"));
	ward_free(c);

	c = defaults();
	memset(c->exceptions[WARD_MAX_CONFIG_EXCEPTIONS - 1], 'e', WARD_MAX_EXCEPT_TEXT);
	assert_int_equal(reload_config_check(c, &d), WARD_EPROTO);
	ward_free(c);

	c = defaults();
	memset(c->server_enroll_token, 't', sizeof(c->server_enroll_token));
	assert_int_equal(reload_config_check(c, &d), WARD_EPROTO);
	ward_free(c);
}

static void
test_counts_and_enums(void **state)
{
	struct agent_config *c = defaults();
	struct ward_diag d;

	(void)state;
	c->fim_npaths = CONFIG_MAX_KEYS + 1;
	assert_int_equal(reload_config_check(c, &d), WARD_EPROTO);
	assert_non_null(strstr(d.msg, "fim.paths has 33 entries"));
	c->fim_npaths = CONFIG_MAX_KEYS;
	assert_int_equal(reload_config_check(c, &d), 0);
	c->nexceptions = WARD_MAX_CONFIG_EXCEPTIONS + 1;
	assert_int_equal(reload_config_check(c, &d), WARD_EPROTO);
	c->nexceptions = 0;
	c->ntrusted = 1000;
	assert_int_equal(reload_config_check(c, &d), WARD_EPROTO);
	c->ntrusted = 1;
	c->fim_package_manager = 3;
	assert_int_equal(reload_config_check(c, &d), WARD_EPROTO);
	assert_non_null(strstr(d.msg, "fim.package_manager"));
	c->fim_package_manager = CONFIG_PKG_IGNORE;
	c->server_exceptions = -1;
	assert_int_equal(reload_config_check(c, &d), WARD_EPROTO);
	c->server_exceptions = CONFIG_SRVEXC_ALL;
	c->journal_fsync = 3;
	assert_int_equal(reload_config_check(c, &d), WARD_EPROTO);
	c->journal_fsync = 0;
	c->onaccess_fail_closed = 2;
	assert_int_equal(reload_config_check(c, &d), WARD_EPROTO);
	c->onaccess_fail_closed = 1;
	c->signature_threshold = 0;
	assert_int_equal(reload_config_check(c, &d), WARD_EPROTO);
	c->signature_threshold = 1;
	assert_int_equal(reload_config_check(c, &d), 0);
	ward_free(c);
}

/* Every number of the configuration, by its wardd.yaml key, with the range
 * docs/agent.md gives it.  Written out here rather than read from the
 * table, so that a number the table forgot, or a range it widened, fails. */
static const struct {
	const char *key;
	size_t off;
	int wide; /* uint64_t, else unsigned */
	uint64_t min, max;
} numbers[] = {
#define N(key, f, min, max)                                                                        \
	{                                                                                          \
		key, offsetof(struct agent_config, f), sizeof(((struct agent_config *)0)->f) == 8, \
		    min, max                                                                       \
	}
    N("signature_threshold", signature_threshold, 1, CONFIG_MAX_KEYS),
    N("crash_guard.max_crashes", crash_max, 1, 100),
    N("crash_guard.window_s", crash_window_s, 1, 86400 * 7),
    N("restart_backoff_max_s", restart_backoff_max_s, 1, 3600),
    N("validator.cpu_s", validator_cpu_s, 1, 3600),
    N("validator.memory_mb", validator_memory_mb, 64, 1 << 20),
    N("validator.timeout_s", validator_timeout_s, 1, 7200),
    N("scan.max_filesize", max_filesize, 0, 1ull << 40),
    N("scan.processes", scan_processes, 1, 16),
    N("scan.crash_files", scan_crash_files, 2, 64),
    N("scan.archive.max_scansize", archive.total, 1, 1ull << 40),
    N("scan.archive.max_membersize", archive.member, 1, 1ull << 32),
    N("scan.archive.max_files", archive.files, 1, 1u << 24),
    N("scan.archive.max_ratio", archive.ratio, 0, 1u << 20),
    N("scan.archive.max_depth", archive.depth, 0, WARD_CONTAINER_MAX_DEPTH),
    N("scan.archive.max_scantime", archive.time_ms, 1, 600000),
    N("journal.max_mb", journal_max_mb, 1, 1 << 20),
    N("fim.rate_limit", fim_rate_limit, 0, 1000000),
    N("fim.max_dirs", fim_max_dirs, 1, 1u << 22),
    N("outputs.ndjson.max_mb", ndjson_max_mb, 1, 1 << 20),
    N("onaccess.deadline_ms", onaccess_deadline_ms, 1, 60000),
    N("onaccess.cache_entries", onaccess_cache_entries, 1024, 1u << 24),
    N("onaccess.threads", onaccess_threads, 1, 64),
    N("server.batch_max", server_batch_max, 1, 100000),
    N("clamd.tcp_port", clamd_tcp_port, 0, 65535),
    N("clamd.stream_max_length", clamd_stream_max_length, 1, (1ull << 32) - 1),
    N("clamd.max_connections", clamd_max_connections, 1, 4096),
    N("clamd.max_threads", clamd_max_threads, 1, 1024),
    N("clamd.read_timeout_s", clamd_read_timeout_s, 1, 3600),
#undef N
};

static void
set_number(struct agent_config *c, size_t i, uint64_t v)
{
	char *p = (char *)c + numbers[i].off;

	if (numbers[i].wide)
		memcpy(p, &v, sizeof(v));
	else {
		unsigned u = (unsigned)v;

		memcpy(p, &u, sizeof(u));
	}
}

/* Refused with the key named, and each bound itself taken. */
static void
expect_number(size_t i, uint64_t v, int ok)
{
	struct agent_config *c = defaults();
	struct ward_diag d;
	char want[128];

	diag_clear(&d);
	c->ntrusted = CONFIG_MAX_KEYS; /* signature_threshold may be its max */
	set_number(c, i, v);
	if (ok) {
		assert_int_equal(reload_config_check(c, &d), 0);
	} else {
		assert_int_equal(reload_config_check(c, &d), WARD_EPROTO);
		snprintf(want, sizeof(want), "%s is %llu, out of its range", numbers[i].key,
			 (unsigned long long)v);
		if (strstr(d.msg, want) == NULL)
			fail_msg("%s = %llu: \"%s\", wanted \"%s\"", numbers[i].key,
				 (unsigned long long)v, d.msg, want);
	}
	ward_free(c);
}

static void
test_numbers_in_their_ranges(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		expect_number(i, numbers[i].max, 1);
		expect_number(i, numbers[i].max + 1, 0);
		expect_number(i, numbers[i].wide ? UINT64_MAX : UINT32_MAX, 0);
		if (numbers[i].min > 0) {
			expect_number(i, numbers[i].min, 1);
			expect_number(i, numbers[i].min - 1, 0);
		}
	}
}

/* Beyond the table: one configuration the file could not hold either. */
static void
test_rules_across_keys(void **state)
{
	struct agent_config *c = defaults();
	struct ward_diag d;

	(void)state;
	c->signature_threshold = 2; /* one trusted key */
	assert_int_equal(reload_config_check(c, &d), WARD_EPROTO);
	assert_non_null(strstr(d.msg, "signature_threshold (2)"));
	c->signature_threshold = 1;
	snprintf(c->fim_hash, sizeof(c->fim_hash), "md5");
	assert_int_equal(reload_config_check(c, &d), WARD_EPROTO);
	assert_non_null(strstr(d.msg, "fim.hash"));
	ward_free(c);
}

static void
test_heartbeat(void **state)
{
	struct ipc *hs, *hw;
	struct ipc_msg m;
	struct ward_diag d;
	int sv[2];

	(void)state;
	assert_int_equal(ipc_pair(sv), 0);
	assert_int_equal(ipc_new(sv[0], &reload_heartbeat_proto, &reload_nothing, &hs), 0);
	assert_int_equal(ipc_new(sv[1], &reload_nothing, &reload_heartbeat_proto, &hw), 0);
	assert_int_equal(reload_heartbeat(hw), 0);
	assert_int_equal(ipc_recv(hs, IPC_FOREVER, &m, &d), 0);
	assert_int_equal(m.type, RELOAD_HEARTBEAT);
	/* The supervisor sends nothing on it. */
	assert_int_equal(ipc_send(hs, RELOAD_HEARTBEAT, NULL, 0, -1, IPC_FOREVER, &d), WARD_EINVAL);
	ipc_free(hs);
	assert_int_equal(ipc_recv(hw, clock_mono() + 1.0, &m, &d), WARD_ECLOSED);
	ipc_free(hw);
}

static void
test_peer_closed(void **state)
{
	struct agent_config *got = NULL;
	struct ward_diag d;
	unsigned g;

	(void)state;
	ipc_free(s);
	s = NULL;
	assert_int_equal(reload_recv(w, IPC_FOREVER, &got, &g, &d), WARD_ECLOSED);
	assert_null(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_strings_end_in_their_arrays, setup, teardown),
	    cmocka_unit_test(test_counts_and_enums),
	    cmocka_unit_test(test_numbers_in_their_ranges),
	    cmocka_unit_test(test_rules_across_keys),
	    cmocka_unit_test(test_heartbeat),
	    cmocka_unit_test_setup_teardown(test_peer_closed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
