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

#include "scan/container.h"
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
	unsigned signature_threshold;	       /* distinct valid trusted signatures, >= 1 */
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
	/* Scanner processes (agent/scanner.h): how many, as whom. */
	char scan_user[64];
	unsigned scan_processes;
	unsigned scan_crash_files; /* different files within crash_window_s: the content's fault */
	/* scan.archive: the scanners look inside containers, within these. */
	int archive_enabled;
	struct container_limits archive;
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
	char fim_hash[16];	 /* sha256 or sm3 */
	int fim_realtime;	 /* watch the paths with fanotify */
	int fim_content_paths;	 /* also the paths of the content's FIM policy */
	int fim_package_manager; /* enum config_pkg: changes by dpkg, rpm, apt, ... */
	unsigned fim_rate_limit; /* events per path per minute, 0: no limit */
	unsigned fim_max_dirs;	 /* directories watched at most */
	/* Fleet server uplink (off without server_url). */
	char server_url[512];		 /* https://HOST:PORT */
	char server_ca[CONFIG_MAX_PATH]; /* the CA its certificate must chain to */
	char server_enroll_token[128];
	char server_machine_id_file[CONFIG_MAX_PATH];
	char server_hw_file[CONFIG_MAX_PATH]; /* "" = DMI UUID + MACs */
	unsigned server_batch_max;	      /* events per upload */
	int server_exceptions;		      /* enum config_server_exceptions */
	char server_user[64];		      /* the uplink process's user */
	/* Exceptions to verdicts, in their text form (scan/except.h). */
	char exceptions[WARD_MAX_CONFIG_EXCEPTIONS][WARD_MAX_EXCEPT_TEXT];
	unsigned nexceptions;
	/* Journal (STATE_DIR/journal). */
	unsigned journal_max_mb;
	int journal_fsync; /* enum journal_fsync */
	/* Scanning. */
	uint64_t max_filesize; /* 0: no limit */
			       /* A systemd watchdog ping interval is taken from WATCHDOG_USEC. */
	/* The clamd-compatible socket (agent/clamd.h, docs/clamd.md). */
	int clamd_enabled;
	char clamd_socket[CONFIG_MAX_PATH];
	char clamd_socket_owner[64];  /* "" = the agent's user */
	char clamd_socket_group[64];  /* "" = the agent's group */
	char clamd_socket_mode[8];    /* octal */
	char clamd_tcp_address[64];   /* numeric */
	unsigned clamd_tcp_port;      /* 0: no TCP listener */
	char clamd_tcp_path_user[64]; /* "" = path commands refused over TCP */
	uint64_t clamd_stream_max_length;
	unsigned clamd_max_connections;
	unsigned clamd_max_threads;
	unsigned clamd_read_timeout_s;
	uint64_t clamd_max_filesize;
	unsigned clamd_max_connections_per_user;
};

/*
 * What a reload (SIGHUP) applies, by the part of the agent that reads the
 * keys; each key belongs to one group (docs/agent.md, column "reload").
 * CONFIG_RESTART keys are read once at start and need a restart.
 */
#define CONFIG_RESTART 0u
#define CONFIG_SUPERVISOR 0x01u /* crash_guard.*, restart_backoff_max_s */
#define CONFIG_CONTENT 0x02u	/* trusted keys, threshold, validator.*, initial_content */
#define CONFIG_SCAN 0x04u	/* scan.* */
#define CONFIG_ONACCESS 0x08u	/* onaccess.* but threads and cache_entries */
#define CONFIG_FIM 0x10u	/* fim.* */
#define CONFIG_OUTPUTS 0x20u	/* outputs.* */
#define CONFIG_EXCEPTIONS 0x40u /* exceptions, server.exceptions */

/* The defaults (docs/agent.md). */
void config_defaults(struct agent_config *c);

/*
 * Reads path over the defaults.  Returns 0, or WARD_EIO / WARD_ESYNTAX /
 * WARD_EINVAL with d naming the file, line and problem.
 */
int config_load(const char *path, struct agent_config *c, struct ward_diag *d);

/*
 * Checks c against the table config_load reads through, for a
 * configuration that arrived as bytes (reload.h): every string ends within
 * its array (each element of a list, counted or not), every count fits
 * its list, every number is within the range wardd.yaml allows, every
 * flag is 0 or 1 and every choice one of its words.  0, or WARD_EINVAL
 * with d naming the first key that is wrong (its wardd.yaml name).  Pure.
 */
int config_check(const struct agent_config *c, struct ward_diag *d);

/*
 * Compares the running configuration with next (just loaded): returns the
 * groups of the reloadable keys that differ, their names in changed and
 * the names of the CONFIG_RESTART keys that differ in restart (each
 * comma-separated, "" for none; a list that does not fit ends with ...).
 */
unsigned config_changes(const struct agent_config *running, const struct agent_config *next,
			char *changed, size_t changedlen, char *restart, size_t restartlen);

/* Copies every reloadable key of next into running (the others stay). */
void config_reload_into(struct agent_config *running, const struct agent_config *next);

/* The group of the key name, or -1 for no such key (for tests and docs). */
int config_key_group(const char *name);

/*
 * Reads each trusted key as the agent will (an Ed25519 or SM2 public key in
 * PEM).  0, or WARD_EINVAL with why (whylen bytes) naming the first that
 * is not.
 */
int config_check_keys(const struct agent_config *c, char *why, size_t whylen);

#endif
