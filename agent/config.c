/*
 * config: wardd's YAML configuration.  See config.h and docs/agent.md.
 *
 * Must hold: every key is in the table below (with its type, size and
 * range), so that a typo is an error, never a default silently kept; each
 * range (docs/agent.md) is small enough that the value cannot overflow
 * where it is used (seconds added to a time, MiB shifted into bytes).
 */
#include "agent/config.h"
#include "event/journal.h"
#include "scan/except.h"
#include "util/conf.h"

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
	{name, type, offsetof(C, f), sizeof(((C *)0)->f), min, max, 0, NULL}
#define LIST(name, type, f, n)                                                                     \
	{name, type, offsetof(C, f), sizeof(((C *)0)->f[0]),                                       \
	 0, sizeof(((C *)0)->f) / sizeof(((C *)0)->f[0]), offsetof(C, n), NULL}
#define CHOICE(name, f, words) {name, CONF_CHOICE, offsetof(C, f), sizeof(int), 0, 0, 0, words}

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
    SCALAR("journal.max_mb", CONF_UINT, journal_max_mb, 1, 1 << 20),
    LIST("fim.paths", CONF_LIST, fim_paths, fim_npaths),
    LIST("fim.exclude", CONF_GLOBS, fim_excludes, fim_nexcludes),
    SCALAR("fim.hash", CONF_NAME, fim_hash, 0, 0),
    SCALAR("fim.realtime", CONF_BOOL, fim_realtime, 0, 0),
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
    CHOICE("server.exceptions", server_exceptions, srvexc_words),
    LIST("exceptions", CONF_GLOBS, exceptions, nexceptions),
};


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
	c->max_filesize = 0;
	c->journal_max_mb = 256;
	c->ndjson_max_mb = 100;
	snprintf(c->fim_hash, sizeof(c->fim_hash), "sha256");
	c->fim_realtime = 1;
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



int
config_load(const char *path, struct agent_config *c, struct ward_diag *d)
{
	int r = conf_load(path, keys, sizeof(keys) / sizeof(keys[0]), c, d);
	if (r == 0 && strcmp(c->fim_hash, "sha256") != 0 && strcmp(c->fim_hash, "sm3") != 0)
		r = diag_set(d, WARD_EINVAL, path, 0, 0, "fim.hash must be sha256 or sm3");
	if (r == 0 && strlen(c->syslog_socket) >= 100)
		r = diag_set(d, WARD_EINVAL, path, 0, 0, "outputs.syslog_socket: path too long for a socket");
	if (r == 0 && c->server_url[0] != '\0' && strncmp(c->server_url, "https://", 8) != 0)
		r = diag_set(d, WARD_EINVAL, path, 0, 0, "server.url must be https://HOST:PORT");
	if (r == 0)
		r = check_exceptions(path, c, d);
	if (r == 0 && c->ntrusted == 0)
		r = diag_set(d, WARD_EINVAL, path, 0, 0,
			     "trusted_keys is required: the public keys whose signatures "
			     "content must carry");
	if (r == 0 && c->signature_threshold > c->ntrusted)
		r = diag_set(d, WARD_EINVAL, path, 0, 0,
			     "signature_threshold (%u) is larger than the number of trusted keys (%u)",
			     c->signature_threshold, c->ntrusted);
	return r;
}
