/*
 * fuzz_api: the fleet server's request handling — routing, credentials,
 * JSON bodies of every call, plans — against an in-memory database with
 * one enrolled agent and an admin token.  An input is
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct server_config cfg;
static struct api api;
static char agent_auth[128], admin_auth[128];

static void
setup(void)
{
	struct enroll_req q = {NULL, "m", "h", "host", "0.1.0"};
	struct enroll_res res;
	struct ward_diag d;
	char token[STORE_SECRET_LEN + 1];

	server_config_defaults(&cfg);
	snprintf(cfg.data_dir, sizeof(cfg.data_dir), "/tmp");
	api.cfg = &cfg;
	if (db_open("sqlite::memory:", &api.db, &d) != 0 || store_migrate(api.db, &d) != 0 ||
	    store_token_create(api.db, "", 0, 0, 1, token, &d) != 0)
		return;
	q.token = token;
	if (store_enroll(api.db, &q, 1, &res, &d) != 0 ||
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

	static unsigned runs;

	/* A fresh database now and then: what inputs store would grow it. */
	if (api.db != NULL && ++runs % 20000 == 0) {
		db_close(api.db);
		api.db = NULL;
	}
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
	q.body = nl2 + 1;
	q.len = size - (size_t)(nl2 + 1 - buf);
	q.authorization = auth[0] != '\0' ? auth : NULL;
	memset(&r, 0, sizeof(r));
	r.fd = -1;
	r.status = 200;
	api_handle(&api, &q, &r);
	json_decref(r.json);
	if (r.fd >= 0)
		close(r.fd);
	return 0;
}
