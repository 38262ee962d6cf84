/*
 * config: wardd's YAML configuration.  See config.h and docs/agent.md.
 *
 * Must hold: every key is in the table below (with its type, size and
 * range), so that a typo is an error, never a default silently kept; each
 * range (docs/agent.md) is small enough that the value cannot overflow
 * where it is used (seconds added to a time, MiB shifted into bytes).
 * Each key is documented in man/wardd.yaml.5.scd, reload or not as
 * reload_groups says (tests/e2e/test_docs_cli.py checks both).
 */
#include "agent/config.h"
#include "event/journal.h"
#include "crypto/sign.h"
#include "util/alloc.h"
#include "scan/except.h"
#include "util/conf.h"
#include "util/file.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CONF_CHOICE: the index of the word is stored (an int). */
static const char *const fsync_words[] = {"always", "interval", "never", NULL};
static const char *const on_write_words[] = {"alert", "quarantine", NULL};
static const char *const pkg_words[] = {"alert", "info", "ignore", NULL};
static const char *const srvexc_words[] = {"none", "sha256", "all", NULL};

#define C struct agent_config
#define SCALAR(name, type, f, min, max)                                                            \
	{                                                                                          \
		name, type, offsetof(C, f), sizeof(((C *)0)->f), min, max, 0, NULL                 \
	}
#define LIST(name, type, f, n)                                                                     \
	{                                                                                          \
		name, type, offsetof(C, f), sizeof(((C *)0)->f[0]), 0,                             \
		    sizeof(((C *)0)->f) / sizeof(((C *)0)->f[0]), offsetof(C, n), NULL             \
	}
#define CHOICE(name, f, words)                                                                     \
	{                                                                                          \
		name, CONF_CHOICE, offsetof(C, f), sizeof(int), 0, 0, 0, words                     \
	}

static const struct conf_key keys[] = {
    SCALAR("state_dir", CONF_PATH, state_dir, 0, 0),
    SCALAR("run_dir", CONF_PATH, run_dir, 0, 0),
    LIST("trusted_keys", CONF_LIST, trusted_keys, ntrusted),
    SCALAR("signature_threshold", CONF_UINT, signature_threshold, 1, CONFIG_MAX_KEYS),
    SCALAR("initial_content", CONF_PATH, initial_content, 0, 0),
    SCALAR("crash_guard.max_crashes", CONF_UINT, crash_max, 1, 100),
    SCALAR("crash_guard.window_s", CONF_UINT, crash_window_s, 1, 86400 * 7),
    SCALAR("restart_backoff_max_s", CONF_UINT, restart_backoff_max_s, 1, 3600),
    SCALAR("validator.user", CONF_NAME, validator_user, 0, 0),
    SCALAR("validator.cpu_s", CONF_UINT, validator_cpu_s, 1, 3600),
    SCALAR("validator.memory_mb", CONF_UINT, validator_memory_mb, 64, 1 << 20),
    SCALAR("validator.timeout_s", CONF_UINT, validator_timeout_s, 1, 7200),
    SCALAR("scan.max_filesize", CONF_SIZE, max_filesize, 0, 1ull << 40),
    SCALAR("scan.user", CONF_NAME, scan_user, 0, 0),
    SCALAR("scan.processes", CONF_UINT, scan_processes, 1, 16),
    SCALAR("scan.crash_files", CONF_UINT, scan_crash_files, 2, 64),
    SCALAR("scan.archive.enabled", CONF_BOOL, archive_enabled, 0, 0),
    SCALAR("scan.archive.max_scansize", CONF_SIZE, archive.total, 1, 1ull << 40),
    SCALAR("scan.archive.max_membersize", CONF_SIZE, archive.member, 1, 1ull << 32),
    SCALAR("scan.archive.max_files", CONF_UINT, archive.files, 1, 1u << 24),
    SCALAR("scan.archive.max_ratio", CONF_UINT, archive.ratio, 0, 1u << 20),
    SCALAR("scan.archive.max_depth", CONF_UINT, archive.depth, 0, WARD_CONTAINER_MAX_DEPTH),
    SCALAR("scan.archive.max_scantime", CONF_UINT, archive.time_ms, 1, 600000),
    SCALAR("journal.max_mb", CONF_UINT, journal_max_mb, 1, 1 << 20),
    LIST("fim.paths", CONF_LIST, fim_paths, fim_npaths),
    LIST("fim.exclude", CONF_GLOBS, fim_excludes, fim_nexcludes),
    SCALAR("fim.hash", CONF_NAME, fim_hash, 0, 0),
    SCALAR("fim.realtime", CONF_BOOL, fim_realtime, 0, 0),
    SCALAR("fim.content_paths", CONF_BOOL, fim_content_paths, 0, 0),
    CHOICE("fim.package_manager", fim_package_manager, pkg_words),
    SCALAR("fim.rate_limit", CONF_UINT, fim_rate_limit, 0, 1000000),
    SCALAR("fim.max_dirs", CONF_UINT, fim_max_dirs, 1, 1u << 22),
    SCALAR("outputs.ndjson.path", CONF_PATH, ndjson_path, 0, 0),
    SCALAR("outputs.ndjson.max_mb", CONF_UINT, ndjson_max_mb, 1, 1 << 20),
    SCALAR("outputs.syslog", CONF_BOOL, syslog, 0, 0),
    SCALAR("outputs.syslog_socket", CONF_PATH, syslog_socket, 0, 0),
    LIST("onaccess.paths", CONF_LIST, onaccess_paths, onaccess_npaths),
    LIST("onaccess.block_open", CONF_LIST, onaccess_block_open, onaccess_nblock_open),
    SCALAR("onaccess.deadline_ms", CONF_UINT, onaccess_deadline_ms, 1, 60000),
    SCALAR("onaccess.fail_closed", CONF_BOOL, onaccess_fail_closed, 0, 0),
    SCALAR("onaccess.cache_entries", CONF_UINT, onaccess_cache_entries, 1024, 1u << 24),
    SCALAR("onaccess.threads", CONF_UINT, onaccess_threads, 1, 64),
    CHOICE("onaccess.on_write", onaccess_quarantine, on_write_words),
    CHOICE("journal.fsync", journal_fsync, fsync_words),
    SCALAR("server.url", CONF_NAME, server_url, 0, 0),
    SCALAR("server.ca", CONF_PATH, server_ca, 0, 0),
    SCALAR("server.enroll_token", CONF_NAME, server_enroll_token, 0, 0),
    SCALAR("server.machine_id_file", CONF_PATH, server_machine_id_file, 0, 0),
    SCALAR("server.hardware_file", CONF_PATH, server_hw_file, 0, 0),
    SCALAR("server.batch_max", CONF_UINT, server_batch_max, 1, 100000),
    SCALAR("server.user", CONF_NAME, server_user, 0, 0),
    CHOICE("server.exceptions", server_exceptions, srvexc_words),
    LIST("exceptions", CONF_GLOBS, exceptions, nexceptions),
    SCALAR("clamd.enabled", CONF_BOOL, clamd_enabled, 0, 0),
    SCALAR("clamd.socket", CONF_PATH, clamd_socket, 0, 0),
    SCALAR("clamd.socket_owner", CONF_NAME, clamd_socket_owner, 0, 0),
    SCALAR("clamd.socket_group", CONF_NAME, clamd_socket_group, 0, 0),
    SCALAR("clamd.socket_mode", CONF_NAME, clamd_socket_mode, 0, 0),
    SCALAR("clamd.tcp_address", CONF_NAME, clamd_tcp_address, 0, 0),
    SCALAR("clamd.tcp_port", CONF_UINT, clamd_tcp_port, 0, 65535),
    SCALAR("clamd.tcp_path_user", CONF_NAME, clamd_tcp_path_user, 0, 0),
    /* Held in memory per connection: at most 4 GiB - 1, what clamd takes. */
    SCALAR("clamd.stream_max_length", CONF_SIZE, clamd_stream_max_length, 1, (1ull << 32) - 1),
    SCALAR("clamd.max_connections", CONF_UINT, clamd_max_connections, 1, 4096),
    SCALAR("clamd.max_threads", CONF_UINT, clamd_max_threads, 1, 1024),
    SCALAR("clamd.read_timeout_s", CONF_UINT, clamd_read_timeout_s, 1, 3600),
    SCALAR("clamd.max_filesize", CONF_SIZE, clamd_max_filesize, 1, (1ull << 40)),
    SCALAR("clamd.max_connections_per_user", CONF_UINT, clamd_max_connections_per_user, 0, 4096),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/*
 * The group of each key: what a reload does with it.  A key missing here
 * is never reloaded (CONFIG_RESTART), so that a new key needs a decision
 * before it can change in a running agent.
 */
static const struct {
	const char *name;
	unsigned group;
} reload_groups[] = {
    {"trusted_keys", CONFIG_CONTENT},
    {"signature_threshold", CONFIG_CONTENT},
    {"initial_content", CONFIG_CONTENT},
    {"validator.user", CONFIG_CONTENT},
    {"validator.cpu_s", CONFIG_CONTENT},
    {"validator.memory_mb", CONFIG_CONTENT},
    {"validator.timeout_s", CONFIG_CONTENT},
    {"crash_guard.max_crashes", CONFIG_SUPERVISOR},
    {"crash_guard.window_s", CONFIG_SUPERVISOR},
    {"restart_backoff_max_s", CONFIG_SUPERVISOR},
    {"scan.max_filesize", CONFIG_SCAN},
    {"fim.paths", CONFIG_FIM},
    {"fim.exclude", CONFIG_FIM},
    {"fim.hash", CONFIG_FIM},
    {"fim.realtime", CONFIG_FIM},
    {"fim.content_paths", CONFIG_FIM},
    {"fim.package_manager", CONFIG_FIM},
    {"fim.rate_limit", CONFIG_FIM},
    {"fim.max_dirs", CONFIG_FIM},
    {"outputs.ndjson.path", CONFIG_OUTPUTS},
    {"outputs.ndjson.max_mb", CONFIG_OUTPUTS},
    {"outputs.syslog", CONFIG_OUTPUTS},
    {"outputs.syslog_socket", CONFIG_OUTPUTS},
    {"onaccess.paths", CONFIG_ONACCESS},
    {"onaccess.block_open", CONFIG_ONACCESS},
    {"onaccess.deadline_ms", CONFIG_ONACCESS},
    {"onaccess.fail_closed", CONFIG_ONACCESS},
    {"onaccess.on_write", CONFIG_ONACCESS},
    {"exceptions", CONFIG_EXCEPTIONS},
    {"server.exceptions", CONFIG_EXCEPTIONS},
    /* Read once at start: state_dir, run_dir (where everything lives, the
     * lock), journal.* (the open journal), server.* (the uplink's identity
     * and connections; server.exceptions aside), scan.archive.* (the
     * scanners', and their file size limit, set when they start),
     * onaccess.threads and onaccess.cache_entries (sized
     * when the sensor starts). */
};

static unsigned
group_of(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(reload_groups) / sizeof(reload_groups[0]); i++)
		if (strcmp(reload_groups[i].name, name) == 0)
			return reload_groups[i].group;
	return CONFIG_RESTART;
}

int
config_key_group(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (int)group_of(name);
	return -1;
}

/* 1 if the value of k differs between a and b (strings and lists by their
 * text: bytes after a string's end do not count). */
static int
key_differs(const struct conf_key *k, const struct agent_config *a, const struct agent_config *b)
{
	const char *pa = (const char *)a + k->off, *pb = (const char *)b + k->off;
	unsigned i, na, nb;

	switch (k->type) {
	case CONF_PATH:
	case CONF_NAME:
		return strncmp(pa, pb, k->size) != 0;
	case CONF_LIST:
	case CONF_GLOBS:
		na = *(const unsigned *)(const void *)((const char *)a + k->count_off);
		nb = *(const unsigned *)(const void *)((const char *)b + k->count_off);
		if (na != nb)
			return 1;
		for (i = 0; i < na; i++)
			if (strncmp(pa + (size_t)i * k->size, pb + (size_t)i * k->size, k->size) !=
			    0)
				return 1;
		return 0;
	default:
		return memcmp(pa, pb, k->size) != 0;
	}
}

/* Appends name to the comma-separated list out. */
static void
add_name(char *out, size_t outlen, const char *name)
{
	size_t n = strlen(out);

	if (outlen < 4 || (n >= 3 && strcmp(out + n - 3, "...") == 0))
		return;
	if (n + strlen(name) + 2 + 4 > outlen) {
		snprintf(out + n, outlen - n, "%s...", n > 0 ? ", " : "");
		return;
	}
	snprintf(out + n, outlen - n, "%s%s", n > 0 ? ", " : "", name);
}

unsigned
config_changes(const struct agent_config *running, const struct agent_config *next, char *changed,
	       size_t changedlen, char *restart, size_t restartlen)
{
	unsigned groups = 0, g;
	size_t i;

	changed[0] = restart[0] = '\0';
	for (i = 0; i < NKEYS; i++) {
		if (!key_differs(&keys[i], running, next))
			continue;
		g = group_of(keys[i].name);
		groups |= g;
		add_name(g ? changed : restart, g ? changedlen : restartlen, keys[i].name);
	}
	return groups;
}

void
config_reload_into(struct agent_config *running, const struct agent_config *next)
{
	size_t i, n;

	for (i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &keys[i];

		if (group_of(k->name) == CONFIG_RESTART)
			continue;
		n = k->type == CONF_LIST || k->type == CONF_GLOBS ? k->size * k->max : k->size;
		memcpy((char *)running + k->off, (const char *)next + k->off, n);
		if (k->type == CONF_LIST || k->type == CONF_GLOBS)
			memcpy((char *)running + k->count_off, (const char *)next + k->count_off,
			       sizeof(unsigned));
	}
}

int
config_check_keys(const struct agent_config *c, char *why, size_t whylen)
{
	unsigned i;
	int r = 0;

	why[0] = '\0';
	for (i = 0; i < c->ntrusted && r == 0; i++) {
		uint8_t *buf = NULL;
		size_t len = 0;
		struct sign_key *k = NULL;
		struct ward_diag d;

		if (file_read_all(c->trusted_keys[i], SIGN_MAX_PEM, &buf, &len, &d) != 0 ||
		    sign_key_from_pem((const char *)buf, len, 0, &k) != 0) {
			snprintf(why, whylen,
				 "trusted key %s is not a readable Ed25519 or SM2 public key",
				 c->trusted_keys[i]);
			r = WARD_EINVAL;
		}
		sign_key_free(k);
		ward_free(buf);
	}
	return r;
}

void
config_defaults(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/ward");
	snprintf(c->run_dir, sizeof(c->run_dir), "/run/ward");
	c->signature_threshold = 1;
	c->crash_max = 3;
	c->crash_window_s = 600;
	c->restart_backoff_max_s = 60;
	snprintf(c->validator_user, sizeof(c->validator_user), "nobody");
	c->validator_cpu_s = 120;
	c->validator_memory_mb = 4096;
	c->validator_timeout_s = 300;
	snprintf(c->scan_user, sizeof(c->scan_user), "nobody");
	snprintf(c->server_user, sizeof(c->server_user), "nobody");
	c->scan_processes = 2;
	c->scan_crash_files = 3;
	c->archive_enabled = 1;
	container_limits_agent(&c->archive);
	c->max_filesize = 0;
	c->journal_max_mb = 256;
	c->ndjson_max_mb = 100;
	snprintf(c->fim_hash, sizeof(c->fim_hash), "sha256");
	c->fim_realtime = 1;
	c->fim_content_paths = 1;
	c->fim_package_manager = CONFIG_PKG_INFO;
	c->fim_rate_limit = 10;
	c->fim_max_dirs = 100000;
	snprintf(c->server_machine_id_file, sizeof(c->server_machine_id_file), "/etc/machine-id");
	c->server_batch_max = 1000;
	snprintf(c->syslog_socket, sizeof(c->syslog_socket), "/dev/log");
	c->onaccess_deadline_ms = 250;
	c->onaccess_cache_entries = 65536;
	c->onaccess_threads = 2;
	c->journal_fsync = JOURNAL_FSYNC_INTERVAL;
	c->server_exceptions = CONFIG_SRVEXC_SHA256;
	/* Not in run_dir, which only root may enter: clients are users. */
	snprintf(c->clamd_socket, sizeof(c->clamd_socket), "/run/ward-clamd/clamd.sock");
	snprintf(c->clamd_socket_mode, sizeof(c->clamd_socket_mode), "0666");
	snprintf(c->clamd_tcp_address, sizeof(c->clamd_tcp_address), "127.0.0.1");
	c->clamd_stream_max_length = 25ull << 20;
	c->clamd_max_connections = 128;
	c->clamd_max_threads = 16;
	c->clamd_read_timeout_s = 120;
	c->clamd_max_filesize = 100ull << 20; /* clamd's MaxFileSize default */
}

/* Each of exceptions: its text form, and no two the same. */
static int
check_exceptions(const char *path, const struct agent_config *c, struct ward_diag *d)
{
	struct except_list l;
	struct except e;
	unsigned i;
	int r = 0, k;

	memset(&l, 0, sizeof(l));
	for (i = 0; i < c->nexceptions && r == 0; i++) {
		if ((r = except_parse_text(c->exceptions[i], &e, d)) == 0) {
			if ((k = except_list_find(&l, &e)) >= 0)
				r = diag_set(d, WARD_EINVAL, NULL, 0, 0,
					     "the same exception as exceptions[%d]", k);
			except_clear(&e);
		}
		if (r == 0) {
			(void)except_parse_text(c->exceptions[i], &e, d);
			r = except_list_add(&l, &e, d);
		}
		if (r != 0) {
			char msg[sizeof(d->msg)];

			snprintf(msg, sizeof(msg), "%s", d->msg);
			r = diag_set(d, WARD_EINVAL, path, 0, 0, "exceptions[%u]: %.400s", i, msg);
		}
	}
	except_list_free(&l);
	return r;
}

/* The words of a CONF_CHOICE key. */
static unsigned
nwords(const struct conf_key *k)
{
	unsigned n = 0;

	while (k->words[n] != NULL)
		n++;
	return n;
}

/* Each key of the table, as conf_load would have stored it. */
static int
check_table(const struct agent_config *c, struct ward_diag *d)
{
	const char *base = (const char *)c;
	size_t i, e, nstr;
	uint64_t v;
	int flag;

	for (i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &keys[i];
		const char *p = base + k->off;

		switch (k->type) {
		case CONF_PATH:
		case CONF_NAME:
		case CONF_LIST:
		case CONF_GLOBS:
			/* Every element, not only those counted: a string read
			 * past its array is a read past the struct. */
			nstr = k->type == CONF_LIST || k->type == CONF_GLOBS ? (size_t)k->max : 1;
			for (e = 0; e < nstr; e++) {
				if (memchr(p + e * k->size, '\0', k->size) != NULL)
					continue;
				if (nstr == 1)
					return diag_set(d, WARD_EINVAL, NULL, 0, 0,
							"%s does not end within its %zu bytes",
							k->name, k->size);
				return diag_set(d, WARD_EINVAL, NULL, 0, 0,
						"%s[%zu] does not end within its %zu bytes",
						k->name, e, k->size);
			}
			if (nstr > 1) {
				v = *(const unsigned *)(const void *)(base + k->count_off);
				if (v > k->max)
					return diag_set(d, WARD_EINVAL, NULL, 0, 0,
							"%s has %llu entries, more than its %llu",
							k->name, (unsigned long long)v,
							(unsigned long long)k->max);
			}
			break;
		case CONF_UINT:
		case CONF_SIZE:
			v = k->type == CONF_UINT ? *(const unsigned *)(const void *)p
						 : *(const uint64_t *)(const void *)p;
			if (v < k->min || v > k->max)
				return diag_set(d, WARD_EINVAL, NULL, 0, 0,
						"%s is %llu, out of its range %llu..%llu", k->name,
						(unsigned long long)v, (unsigned long long)k->min,
						(unsigned long long)k->max);
			break;
		case CONF_BOOL:
		case CONF_CHOICE:
			flag = *(const int *)(const void *)p;
			if (flag < 0 || (unsigned)flag >= (k->type == CONF_BOOL ? 2u : nwords(k)))
				return diag_set(d, WARD_EINVAL, NULL, 0, 0,
						"%s is %d, not one of 0..%u", k->name, flag,
						k->type == CONF_BOOL ? 1u : nwords(k) - 1);
			break;
		}
	}
	return 0;
}

/* What no single row of the table says: the values that must be one of a
 * few words, the socket path's length, the URL's scheme, and the trusted
 * keys against their threshold (path: for d, NULL for bytes). */
static int
check_rules(const char *path, const struct agent_config *c, struct ward_diag *d)
{
	if (strcmp(c->fim_hash, "sha256") != 0 && strcmp(c->fim_hash, "sm3") != 0)
		return diag_set(d, WARD_EINVAL, path, 0, 0, "fim.hash must be sha256 or sm3");
	if (strlen(c->syslog_socket) >= 100)
		return diag_set(d, WARD_EINVAL, path, 0, 0,
				"outputs.syslog_socket: path too long for a socket");
	if (c->server_url[0] != '\0' && strncmp(c->server_url, "https://", 8) != 0)
		return diag_set(d, WARD_EINVAL, path, 0, 0, "server.url must be https://HOST:PORT");
	if (strspn(c->clamd_socket_mode, "01234567") != strlen(c->clamd_socket_mode) ||
	    strlen(c->clamd_socket_mode) == 0 || strtoul(c->clamd_socket_mode, NULL, 8) > 0777)
		return diag_set(d, WARD_EINVAL, path, 0, 0,
				"clamd.socket_mode must be an octal mode such as 0660");
	if (strlen(c->clamd_socket) >= 100)
		return diag_set(d, WARD_EINVAL, path, 0, 0,
				"clamd.socket: path too long for a socket");
	if (c->ntrusted == 0)
		return diag_set(d, WARD_EINVAL, path, 0, 0,
				"trusted_keys is required: the public keys whose signatures "
				"content must carry");
	if (c->signature_threshold > c->ntrusted)
		return diag_set(
		    d, WARD_EINVAL, path, 0, 0,
		    "signature_threshold (%u) is larger than the number of trusted keys (%u)",
		    c->signature_threshold, c->ntrusted);
	return 0;
}

int
config_check(const struct agent_config *c, struct ward_diag *d)
{
	int r = check_table(c, d);

	if (r == 0)
		r = check_rules(NULL, c, d);
	return r;
}

int
config_load(const char *path, struct agent_config *c, struct ward_diag *d)
{
	int r = conf_load(path, keys, sizeof(keys) / sizeof(keys[0]), c, d);

	if (r == 0)
		r = check_exceptions(path, c, d);
	if (r == 0)
		r = check_rules(path, c, d);
	return r;
}
