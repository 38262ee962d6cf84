/*
 * config: wardd's configuration file (YAML; every key in docs/agent.md).
 *
 * A working file needs only the trusted keys and the two directories:
 *
 *   trusted_keys: [/etc/ward/keys/release.pub]
 *   state_dir: /var/lib/ward
 *   run_dir: /run/ward
 *
 * Unknown keys, wrong types and out-of-range values are errors with the
 * file and line, so a typo never silently leaves a default in place.
 */
#ifndef WARD_AGENT_CONFIG_H
#define WARD_AGENT_CONFIG_H

#include <stdint.h>

#include "util/err.h"
#include "util/limits.h"

#define CONFIG_MAX_KEYS 32
#define CONFIG_MAX_PATH 1024

enum config_pkg { CONFIG_PKG_ALERT, CONFIG_PKG_INFO, CONFIG_PKG_IGNORE };

/* server.exceptions: which exceptions the agent takes from the fleet server. */
enum config_server_exceptions { CONFIG_SRVEXC_NONE, CONFIG_SRVEXC_SHA256, CONFIG_SRVEXC_ALL };

struct agent_config {
	char state_dir[CONFIG_MAX_PATH];
	char run_dir[CONFIG_MAX_PATH];
	char trusted_keys[CONFIG_MAX_KEYS][CONFIG_MAX_PATH];
	unsigned ntrusted;
	unsigned signature_threshold; /* distinct valid trusted signatures, >= 1 */
	char initial_content[CONFIG_MAX_PATH]; /* bundle applied when the store is empty */
	/* Crash guard. */
	unsigned crash_max;	 /* crashes of one version ... */
	unsigned crash_window_s; /* ... within this many seconds of its activation */
	unsigned restart_backoff_max_s;
	/* Validator child. */
	char validator_user[64];
	unsigned validator_cpu_s;
	unsigned validator_memory_mb;
	unsigned validator_timeout_s; /* wall clock */
	/* On-access scanning (fanotify): the mounts of these paths. */
	char onaccess_paths[CONFIG_MAX_KEYS][CONFIG_MAX_PATH];
	unsigned onaccess_npaths;
	char onaccess_block_open[CONFIG_MAX_KEYS][CONFIG_MAX_PATH]; /* directories */
	unsigned onaccess_nblock_open;
	unsigned onaccess_deadline_ms;
	int onaccess_fail_closed;
	unsigned onaccess_cache_entries;
	unsigned onaccess_threads;
	int onaccess_quarantine; /* on_write: quarantine (1) or alert (0) */
	/* Outputs: copies of the journal. */
	char ndjson_path[CONFIG_MAX_PATH]; /* "" = off */
	unsigned ndjson_max_mb;
	int syslog;
	char syslog_socket[CONFIG_MAX_PATH];
	/* File integrity (STATE_DIR/fim/baseline). */
	char fim_paths[CONFIG_MAX_KEYS][CONFIG_MAX_PATH];
	unsigned fim_npaths;
	char fim_excludes[CONFIG_MAX_KEYS][CONFIG_MAX_PATH];
	unsigned fim_nexcludes;
	char fim_hash[16]; /* sha256 or sm3 */
	int fim_realtime;	 /* watch the paths with fanotify */
	int fim_package_manager; /* enum config_pkg: changes by dpkg, rpm, apt, ... */
	unsigned fim_rate_limit; /* events per path per minute, 0: no limit */
	unsigned fim_max_dirs;	 /* directories watched at most */
	/* Fleet server uplink (off without server_url). */
	char server_url[512];	       /* https://HOST:PORT */
	char server_ca[CONFIG_MAX_PATH]; /* the CA its certificate must chain to */
	char server_enroll_token[128];
	char server_machine_id_file[CONFIG_MAX_PATH];
	char server_hw_file[CONFIG_MAX_PATH]; /* "" = DMI UUID + MACs */
	unsigned server_batch_max;	      /* events per upload */
	int server_exceptions;		      /* enum config_server_exceptions */
	/* Exceptions to verdicts, in their text form (scan/except.h). */
	char exceptions[WARD_MAX_CONFIG_EXCEPTIONS][WARD_MAX_EXCEPT_TEXT];
	unsigned nexceptions;
	/* Journal (STATE_DIR/journal). */
	unsigned journal_max_mb;
	int journal_fsync; /* enum journal_fsync */
	/* Scanning. */
	uint64_t max_filesize; /* 0: no limit */
	/* A systemd watchdog ping interval is taken from WATCHDOG_USEC. */
};

/* The defaults (docs/agent.md). */
void config_defaults(struct agent_config *c);

/*
 * Reads path over the defaults.  Returns 0, or WARD_EIO / WARD_ESYNTAX /
 * WARD_EINVAL with d naming the file, line and problem.
 */
int config_load(const char *path, struct agent_config *c, struct ward_diag *d);

#endif
