/*
 * mod_math: YARA's `math` module — entropy, mean, deviation,
 * serial_correlation, monte_carlo_pi over a range of the file or a string,
 * count, percentage, mode, in_range, min, max, to_number, abs, and the
 * constant MEAN_BYTES — with YARA 4.2.3's results (lib/modules/mathfn).
 */
#ifndef WARD_MODULES_MOD_MATH_H
#define WARD_MODULES_MOD_MATH_H

#include "modules/module.h"

extern const struct module mod_math;

#endif
