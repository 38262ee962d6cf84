/*
 * config: ward-server's configuration.  See config.h and docs/server.md.
 *
 * Must hold: every key is in the table below, so that a typo is an error,
 * never a default silently kept; each range (docs/server.md) is small
 * enough that the value cannot overflow where it is used (seconds and
 * milliseconds multiplied, KiB shifted into bytes).  Each key is
 * documented in man/ward-server.yaml.5.scd (tests/e2e/test_docs_cli.py
 * checks it).
 */
#include "server/config.h"
#include "util/conf.h"
#include "util/file.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define C struct server_config
#define KEY(name, type, f, min, max)                                                               \
	{name, type, offsetof(C, f), sizeof(((C *)0)->f), min, max, 0, NULL}

static const struct conf_key keys[] = {
    KEY("listen", CONF_NAME, listen, 0, 0),
    KEY("tls.cert", CONF_PATH, tls_cert, 0, 0),
    KEY("tls.key", CONF_PATH, tls_key, 0, 0),
    KEY("database", CONF_NAME, database, 0, 0),
    KEY("data_dir", CONF_PATH, data_dir, 0, 0),
    KEY("limits.max_body_kb", CONF_UINT, max_body_kb, 1, 1u << 20),
    KEY("limits.timeout_s", CONF_UINT, timeout_s, 1, 3600),
    KEY("limits.request_s", CONF_UINT, request_s, 5, 3600),
    KEY("limits.threads", CONF_UINT, threads, 1, 256),
    KEY("limits.max_connections", CONF_UINT, max_connections, 16, 1000000),
    KEY("limits.per_ip_connections", CONF_UINT, per_ip_connections, 4, 1000000),
    KEY("limits.buffer_mb", CONF_UINT, buffer_mb, 16, 65536),
    KEY("checkin.interval_s", CONF_UINT, checkin_interval_s, 1, 86400),
    KEY("checkin.jitter_pct", CONF_UINT, checkin_jitter_pct, 0, 50),
    KEY("events.batch_max", CONF_UINT, event_batch_max, 1, 100000),
    KEY("events.agent_kb_per_minute", CONF_UINT, event_agent_kb_min, 64, 1u << 22),
    KEY("events.retention_days", CONF_UINT, events_retention_days, 0, 36500),
    KEY("audit.retention_days", CONF_UINT, audit_retention_days, 0, 36500),
    KEY("audit.reads", CONF_BOOL, audit_reads, 0, 0),
    {"content.trusted_keys", CONF_LIST, offsetof(C, trusted_keys),
     sizeof(((C *)0)->trusted_keys[0]), 0, 32, offsetof(C, ntrusted), NULL},
    KEY("content.signature_threshold", CONF_UINT, signature_threshold, 1, 32),
    KEY("rollout.tick_ms", CONF_UINT, tick_ms, 50, 60000),
};

void
server_config_defaults(struct server_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "0.0.0.0:8443");
	snprintf(c->data_dir, sizeof(c->data_dir), "/var/lib/ward-server");
	snprintf(c->database, sizeof(c->database), "sqlite:/var/lib/ward-server/ward.db");
	c->max_body_kb = 16384;
	c->timeout_s = 60;
	c->request_s = 30;
	c->threads = 4;
	c->max_connections = 20000;
	c->per_ip_connections = 2048;
	c->buffer_mb = 256;
	c->checkin_interval_s = 30;
	c->checkin_jitter_pct = 20;
	c->event_batch_max = 5000;
	c->event_agent_kb_min = 8192;
	c->events_retention_days = 90;
	c->audit_retention_days = 365;
	c->signature_threshold = 1;
	c->tick_ms = 1000;
}

/* ADDRESS:PORT with a port of 1..65535 and an address before it. */
static int
listen_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (colon == NULL || colon == s || (s[0] == '[' && colon[-1] != ']'))
		return 0;
	port = strtol(colon + 1, &end, 10);
	return colon[1] != '\0' && *end == '\0' && port >= 1 && port <= 65535;
}

int
server_config_load(const char *path, struct server_config *c, struct ward_diag *d)
{
	int r = conf_load(path, keys, sizeof(keys) / sizeof(keys[0]), c, d);

	if (r == 0 && (c->tls_cert[0] == '\0' || c->tls_key[0] == '\0'))
		r = diag_set(d, WARD_EINVAL, path, 0, 0,
			     "tls.cert and tls.key are required (ward-server init makes them)");
	if (r == 0 && c->ntrusted > 0 && c->signature_threshold > c->ntrusted)
		r = diag_set(d, WARD_EINVAL, path, 0, 0,
			     "content.signature_threshold is larger than the number of trusted keys");
	if (r == 0 && c->events_retention_days == 1)
		r = diag_set(
		    d, WARD_EINVAL, path, 0, 0,
		    "events.retention_days must be 0 (keep) or at least 2: the health gate "
		    "compares an agent's alerts with its day before a release");
	if (r == 0 && !listen_ok(c->listen))
		r = diag_set(d, WARD_EINVAL, path, 0, 0,
			     "listen must be ADDRESS:PORT (an IPv4 address, or [IPv6]), not \"%.100s\"",
			     c->listen);
	return r;
}

/* Appends s as a YAML double-quoted scalar (so that "[::]:8443" stays a
 * string). */
static void
put_quoted(char *out, size_t outlen, const char *s)
{
	size_t n = strlen(out);

	if (n + 1 < outlen)
		out[n++] = '"';
	for (; *s != '\0' && n + 3 < outlen; s++) {
		if (*s == '"' || *s == '\\')
			out[n++] = '\\';
		out[n++] = *s;
	}
	if (n + 1 < outlen)
		out[n++] = '"';
	out[n] = '\0';
}

static void
put_line(char *out, size_t outlen, const char *key, const char *value)
{
	snprintf(out + strlen(out), outlen - strlen(out), "%s", key);
	put_quoted(out, outlen, value);
	snprintf(out + strlen(out), outlen - strlen(out), "\n");
}

int
server_config_write(int dfd, const char *name, const struct server_config *c, mode_t mode,
		    struct ward_diag *d)
{
	char text[48 * 1024] = "# ward-server configuration (docs/server.md)\n";
	size_t n = sizeof(text);
	unsigned i;

	put_line(text, n, "listen: ", c->listen);
	snprintf(text + strlen(text), n - strlen(text), "tls:\n");
	put_line(text, n, "  cert: ", c->tls_cert);
	put_line(text, n, "  key: ", c->tls_key);
	put_line(text, n, "database: ", c->database);
	put_line(text, n, "data_dir: ", c->data_dir);
	snprintf(text + strlen(text), n - strlen(text),
		 "limits:\n  max_body_kb: %u\n  timeout_s: %u\n  request_s: %u\n  threads: %u\n"
		 "  max_connections: %u\n  per_ip_connections: %u\n  buffer_mb: %u\n"
		 "checkin:\n  interval_s: %u\n  jitter_pct: %u\n"
		 "events:\n  batch_max: %u\n  agent_kb_per_minute: %u\n  retention_days: %u\n"
		 "audit:\n  retention_days: %u\n  reads: %s\n"
		 "content:\n"
		 "  # the public keys releases must be signed with (ward key gen)\n"
		 "  trusted_keys: [",
		 c->max_body_kb, c->timeout_s, c->request_s, c->threads, c->max_connections,
		 c->per_ip_connections, c->buffer_mb, c->checkin_interval_s, c->checkin_jitter_pct,
		 c->event_batch_max, c->event_agent_kb_min, c->events_retention_days,
		 c->audit_retention_days, c->audit_reads ? "true" : "false");
	for (i = 0; i < c->ntrusted; i++) {
		if (i > 0)
			snprintf(text + strlen(text), n - strlen(text), ", ");
		put_quoted(text, n, c->trusted_keys[i]);
	}
	snprintf(text + strlen(text), n - strlen(text),
		 "]\n  signature_threshold: %u\nrollout:\n  tick_ms: %u\n", c->signature_threshold,
		 c->tick_ms);
	if (strlen(text) + 1 >= n)
		return diag_set(d, WARD_ELIMIT, name, 0, 0, "configuration too long to write");
	return file_replace_at(dfd, name, text, strlen(text), mode, FILE_NOREPLACE, d);
}
