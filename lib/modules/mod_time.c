/*
 * mod_time: the `time` module.  See mod_time.h.
 */
#include "modules/mod_time.h"

#include <time.h>

enum { F_NOW = 1, NFUNCS };

static const struct mod_sig funcs[NFUNCS] = {
    [F_NOW] = {'i', "", ""},
};

static const uint16_t now_f[] = {F_NOW, 0};

static const struct mod_member members[] = {
    {.name = "now", .kind = MOD_FUNC, .funcs = now_f},
    {.name = NULL},
};

static void
time_call(void *data, struct freader *f, uint16_t id, const struct mod_arg *args,
	  struct mod_value *out)
{
	(void)data;
	(void)f;
	(void)args;
	out->defined = id == F_NOW;
	out->i = (int64_t)time(NULL);
}

const struct module mod_time = {
    .id = MOD_ID_TIME,
    .name = "time",
    .members = members,
    .funcs = funcs,
    .nfuncs = NFUNCS,
    .call = time_call,
};
