/*
 * mod_time: YARA's `time` module — `time.now()`, the seconds since the
 * epoch when the condition is evaluated.
 */
#ifndef WARD_MODULES_MOD_TIME_H
#define WARD_MODULES_MOD_TIME_H

#include "modules/module.h"

extern const struct module mod_time;

#endif
