/*
 * config: ward-server's YAML configuration (every key in docs/server.md).
 *
 *   listen: 0.0.0.0:8443
 *   tls:
 *     cert: /etc/ward-server/server.crt
 *     key: /etc/ward-server/server.key
 *   database: sqlite:/var/lib/ward-server/ward.db
 *   data_dir: /var/lib/ward-server
 */
#ifndef WARD_SERVER_CONFIG_H
#define WARD_SERVER_CONFIG_H

#include "util/err.h"
#include <sys/types.h>

#define SCONF_MAX_PATH 1024

struct server_config {
	char listen[128];		 /* ADDRESS:PORT */
	char tls_cert[SCONF_MAX_PATH];	 /* PEM certificate chain */
	char tls_key[SCONF_MAX_PATH];	 /* PEM private key */
	char database[SCONF_MAX_PATH];	 /* sqlite:/PATH or postgresql://... */
	char data_dir[SCONF_MAX_PATH];	 /* bundles */
	unsigned max_body_kb;		 /* largest request body (bundle uploads) */
	unsigned timeout_s;		 /* a connection idle this long is closed */
	unsigned request_s;		 /* a request must arrive whole within this */
	unsigned threads;		 /* request threads */
	unsigned max_connections;
	unsigned per_ip_connections;	 /* connections from one address at once */
	unsigned buffer_mb;		 /* request bodies being read, all together */
	unsigned checkin_interval_s;	 /* agents' check-in period */
	unsigned checkin_jitter_pct;	 /* +- this much, at random */
	unsigned event_batch_max;	 /* events per upload at most */
	unsigned event_agent_kb_min;	 /* event bytes one agent may store per minute */
	unsigned events_retention_days;	 /* 0: keep for ever */
	unsigned audit_retention_days;	 /* 0: keep for ever */
	int audit_reads;		 /* audit GET calls too */
	char trusted_keys[32][SCONF_MAX_PATH]; /* content signing keys to re-verify with */
	unsigned ntrusted;
	unsigned signature_threshold;
	unsigned tick_ms; /* how often the rollout engine looks */
};

void server_config_defaults(struct server_config *c);
int server_config_load(const char *path, struct server_config *c, struct ward_diag *d);

/* Writes the configuration as YAML text to name in the directory dfd (for
 * `ward-server init`): a new file of that mode; WARD_EDUPLICATE if name
 * exists (it is left as it was). */
int server_config_write(int dfd, const char *name, const struct server_config *c, mode_t mode,
			struct ward_diag *d);

#endif
