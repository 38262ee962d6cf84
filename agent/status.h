/*
 * status: the "sensors" object of `ward agent status --json` (and of the
 * check-in report): each sensor's state, counters, the configured paths
 * it leaves out, and why it is off — and where the FIM paths come from.
 */
#ifndef WARD_AGENT_STATUS_H
#define WARD_AGENT_STATUS_H

struct json_t;

/* Why each sensor is off ("" when it is not, or for the usual reason). */
struct status_off {
	char onaccess[1024];
	char procmon[300];
	char fim[300];
};

/*
 * The sensors object (new reference).  fim_config and fim_content (taken)
 * are the FIM paths of wardd.yaml and of the content in use; content_paths
 * says whether the content's are watched (fim.content_paths).
 */
struct json_t *status_sensors(const struct status_off *off, struct json_t *fim_config,
			      struct json_t *fim_content, int content_paths);

#endif
