/*
 * sensors: the agent's three sensors as sensor_ops (sensor.h) — on-access
 * scanning, real-time FIM, process monitoring — and the part of the
 * status only FIM has: where its paths come from.
 *
 * Each table wraps its module (onaccess.h, fimmon.h, procmon.h); its ctx
 * is that module's state: struct onaccess (onaccess_new), struct fimmon_ctx
 * (fimmon_new), struct procmon (procmon_new).
 */
#ifndef WARD_AGENT_SENSORS_H
#define WARD_AGENT_SENSORS_H

#include "agent/sensor.h"

struct json_t;

extern const struct sensor_ops sensors_onaccess;
extern const struct sensor_ops sensors_fim;
extern const struct sensor_ops sensors_procmon;

/*
 * Adds to fim (the "fim" object of the status) the FIM paths of wardd.yaml
 * and of the content in use (config and content, taken), and whether the
 * content's are watched (content_paths: fim.content_paths).
 */
void sensors_fim_paths(struct json_t *fim, struct json_t *config, struct json_t *content,
		       int content_paths);

#endif
