/*
 * fuzz_api: the fleet server's request handling — routing, credentials,
 * JSON bodies of every call, plans — against an in-memory database with
 * one enrolled agent and an admin token, through admission (routing,
 * credentials, body limits) as the server does.  An input is
 * "METHOD PATH\nAUTHORIZATION\nBODY"; AUTHORIZATION may name the known
 * credentials ("@agent", "@admin") so that the fuzzer reaches past them.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "server/api.h"
#include "server/rollout.h"
#include "server/store.h"
#include "util/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct server_config cfg;
static struct api api;
static char agent_auth[128], admin_auth[128];

static void
setup(void)
{
	struct enroll_msg q;
	struct enroll_res res;
	struct ward_diag d;
	struct db *db = NULL;

	server_config_defaults(&cfg);
	snprintf(cfg.data_dir, sizeof(cfg.data_dir), "/tmp");
	snprintf(cfg.database, sizeof(cfg.database), "sqlite::memory:");
	memset(&q, 0, sizeof(q));
	snprintf(q.machine_id, sizeof(q.machine_id), "m");
	snprintf(q.hw_id, sizeof(q.hw_id), "h");
	snprintf(q.hostname, sizeof(q.hostname), "host");
	snprintf(q.version, sizeof(q.version), "0.1.0");
	if (db_open(cfg.database, &db, &d) != 0 || store_migrate(db, &d) != 0 ||
	    api_open(&api, &cfg, db, &d) != 0 ||
	    store_token_create(api.db, "", 0, 0, 1, q.token, &d) != 0)
		return;
	if (store_enroll(api.db, &q, "-", 1, &res, &d) != 0 ||
	    store_admin_token_create(api.db, "fuzz", "admin", 1, admin_auth + 7, &d) != 0)
		return;
	memcpy(admin_auth, "Bearer ", 7);
	snprintf(agent_auth, sizeof(agent_auth), "Bearer %s:%s", res.agent_id, res.secret);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[8192], method[16], path[1024];
	const char *nl, *nl2, *auth;
	struct http_req q;
	struct http_resp r;
	struct plan plan;
	struct ward_diag d;
	size_t max;

	static unsigned runs;

	/* A fresh database now and then: what inputs store would grow it. */
	if (api.db != NULL && ++runs % 20000 == 0)
		api_close(&api);
	if (api.db == NULL)
		setup();
	if (api.db == NULL || size >= sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	(void)rollout_parse_plan(buf, size, &plan, &d);
	nl = strchr(buf, '\n');
	if (nl == NULL || sscanf(buf, "%15s %1023s", method, path) != 2)
		return 0;
	nl2 = strchr(nl + 1, '\n');
	if (nl2 == NULL)
		return 0;
	*(char *)nl2 = '\0';
	auth = strcmp(nl + 1, "@agent") == 0 ? agent_auth
	       : strcmp(nl + 1, "@admin") == 0 ? admin_auth
					       : nl + 1;
	memset(&q, 0, sizeof(q));
	q.method = method;
	q.path = path;
	q.peer = "192.0.2.1";
	q.authorization = auth[0] != '\0' ? auth : NULL;
	memset(&r, 0, sizeof(r));
	r.fd = -1;
	/* As http does: admission from the headers, then the whole body. */
	max = api_admit(&api, &q, (long long)(size - (size_t)(nl2 + 1 - buf)), &r, &q.call);
	if (r.status == 0 && size - (size_t)(nl2 + 1 - buf) <= max) {
		q.body = nl2 + 1;
		q.len = size - (size_t)(nl2 + 1 - buf);
		r.status = 200;
		api_handle(&api, &q, &r);
	}
	ward_free(q.call);
	json_decref(r.json);
	if (r.fd >= 0)
		close(r.fd);
	return 0;
}
