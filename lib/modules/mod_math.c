/*
 * mod_math: the `math` module.  See mod_math.h.
 *
 * Must hold: each overload here is the one yara 4.2.3 has, with its
 * argument types (yara refuses an integer where a float is asked:
 * `math.in_range(x, 1, 2)` is "wrong arguments"); a range outside the
 * file is undefined, never an error.
 */
#include "modules/mod_math.h"
#include "modules/mathfn.h"

enum {
	F_ENTROPY = 1,
	F_ENTROPY_S,
	F_MEAN,
	F_MEAN_S,
	F_DEVIATION,
	F_DEVIATION_S,
	F_SERIAL,
	F_SERIAL_S,
	F_MONTE,
	F_MONTE_S,
	F_IN_RANGE,
	F_MIN,
	F_MAX,
	F_TO_NUMBER,
	F_ABS,
	F_COUNT,
	F_COUNT_ALL,
	F_PERCENTAGE,
	F_PERCENTAGE_ALL,
	F_MODE,
	F_MODE_ALL,
	NFUNCS
};

static const struct mod_sig funcs[NFUNCS] = {
    [F_ENTROPY] = {'f', "", "ii"},
    [F_ENTROPY_S] = {'f', "", "s"},
    [F_MEAN] = {'f', "", "ii"},
    [F_MEAN_S] = {'f', "", "s"},
    [F_DEVIATION] = {'f', "", "iif"},
    [F_DEVIATION_S] = {'f', "", "sf"},
    [F_SERIAL] = {'f', "", "ii"},
    [F_SERIAL_S] = {'f', "", "s"},
    [F_MONTE] = {'f', "", "ii"},
    [F_MONTE_S] = {'f', "", "s"},
    [F_IN_RANGE] = {'i', "", "fff"},
    [F_MIN] = {'i', "", "ii"},
    [F_MAX] = {'i', "", "ii"},
    [F_TO_NUMBER] = {'i', "", "b"},
    [F_ABS] = {'i', "", "i"},
    [F_COUNT] = {'i', "", "iii"},
    [F_COUNT_ALL] = {'i', "", "i"},
    [F_PERCENTAGE] = {'f', "", "iii"},
    [F_PERCENTAGE_ALL] = {'f', "", "i"},
    [F_MODE] = {'i', "", "ii"},
    [F_MODE_ALL] = {'i', "", ""},
};

static const uint16_t entropy_f[] = {F_ENTROPY, F_ENTROPY_S, 0};
static const uint16_t mean_f[] = {F_MEAN, F_MEAN_S, 0};
static const uint16_t deviation_f[] = {F_DEVIATION, F_DEVIATION_S, 0};
static const uint16_t serial_f[] = {F_SERIAL, F_SERIAL_S, 0};
static const uint16_t monte_f[] = {F_MONTE, F_MONTE_S, 0};
static const uint16_t in_range_f[] = {F_IN_RANGE, 0};
static const uint16_t min_f[] = {F_MIN, 0};
static const uint16_t max_f[] = {F_MAX, 0};
static const uint16_t to_number_f[] = {F_TO_NUMBER, 0};
static const uint16_t abs_f[] = {F_ABS, 0};
static const uint16_t count_f[] = {F_COUNT, F_COUNT_ALL, 0};
static const uint16_t percentage_f[] = {F_PERCENTAGE, F_PERCENTAGE_ALL, 0};
static const uint16_t mode_f[] = {F_MODE, F_MODE_ALL, 0};

static const struct mod_member members[] = {
    {.name = "MEAN_BYTES", .kind = MOD_CONST, .elem = MOD_FLOAT, .fvalue = MATHFN_MEAN_BYTES},
    {.name = "entropy", .kind = MOD_FUNC, .funcs = entropy_f},
    {.name = "mean", .kind = MOD_FUNC, .funcs = mean_f},
    {.name = "deviation", .kind = MOD_FUNC, .funcs = deviation_f},
    {.name = "serial_correlation", .kind = MOD_FUNC, .funcs = serial_f},
    {.name = "monte_carlo_pi", .kind = MOD_FUNC, .funcs = monte_f},
    {.name = "in_range", .kind = MOD_FUNC, .funcs = in_range_f},
    {.name = "min", .kind = MOD_FUNC, .funcs = min_f},
    {.name = "max", .kind = MOD_FUNC, .funcs = max_f},
    {.name = "to_number", .kind = MOD_FUNC, .funcs = to_number_f},
    {.name = "abs", .kind = MOD_FUNC, .funcs = abs_f},
    {.name = "count", .kind = MOD_FUNC, .funcs = count_f},
    {.name = "percentage", .kind = MOD_FUNC, .funcs = percentage_f},
    {.name = "mode", .kind = MOD_FUNC, .funcs = mode_f},
    {.name = NULL},
};

static void
math_call(void *data, struct freader *f, uint16_t id, const struct mod_arg *a,
	  struct mod_value *out)
{
	(void)data;
	switch (id) {
	case F_ENTROPY:
		out->defined = mathfn_entropy(f, a[0].i, a[1].i, &out->d) == 1;
		break;
	case F_ENTROPY_S:
		out->defined = mathfn_entropy_str(a[0].s, a[0].slen, &out->d) == 1;
		break;
	case F_MEAN:
		out->defined = mathfn_mean(f, a[0].i, a[1].i, &out->d) == 1;
		break;
	case F_MEAN_S:
		out->defined = mathfn_mean_str(a[0].s, a[0].slen, &out->d) == 1;
		break;
	case F_DEVIATION:
		out->defined = mathfn_deviation(f, a[0].i, a[1].i, a[2].d, &out->d) == 1;
		break;
	case F_DEVIATION_S:
		out->defined = mathfn_deviation_str(a[0].s, a[0].slen, a[1].d, &out->d) == 1;
		break;
	case F_SERIAL:
		out->defined = mathfn_serial_correlation(f, a[0].i, a[1].i, &out->d) == 1;
		break;
	case F_SERIAL_S:
		out->defined = mathfn_serial_correlation_str(a[0].s, a[0].slen, &out->d) == 1;
		break;
	case F_MONTE:
		out->defined = mathfn_monte_carlo_pi(f, a[0].i, a[1].i, &out->d) == 1;
		break;
	case F_MONTE_S:
		out->defined = mathfn_monte_carlo_pi_str(a[0].s, a[0].slen, &out->d) == 1;
		break;
	case F_IN_RANGE:
		out->defined = 1;
		out->i = mathfn_in_range(a[0].d, a[1].d, a[2].d);
		break;
	case F_MIN:
	case F_MAX:
		out->defined = 1;
		out->i = id == F_MIN ? mathfn_min(a[0].i, a[1].i) : mathfn_max(a[0].i, a[1].i);
		break;
	case F_TO_NUMBER:
		out->defined = 1;
		out->i = mathfn_to_number(a[0].i);
		break;
	case F_ABS:
		out->defined = 1;
		out->i = mathfn_abs(a[0].i);
		break;
	case F_COUNT:
		out->defined = mathfn_count(f, a[0].i, a[1].i, a[2].i, &out->i) == 1;
		break;
	case F_COUNT_ALL:
		out->defined = mathfn_count_whole(f, a[0].i, &out->i) == 1;
		break;
	case F_PERCENTAGE:
		out->defined = mathfn_percentage(f, a[0].i, a[1].i, a[2].i, &out->d) == 1;
		break;
	case F_PERCENTAGE_ALL:
		out->defined = mathfn_percentage_whole(f, a[0].i, &out->d) == 1;
		break;
	case F_MODE:
		out->defined = mathfn_mode(f, a[0].i, a[1].i, &out->i) == 1;
		break;
	case F_MODE_ALL:
		out->defined = mathfn_mode_whole(f, &out->i) == 1;
		break;
	default:
		out->defined = 0;
		break;
	}
}

const struct module mod_math = {
    .id = MOD_ID_MATH,
    .name = "math",
    .members = members,
    .funcs = funcs,
    .nfuncs = NFUNCS,
    .call = math_call,
};
