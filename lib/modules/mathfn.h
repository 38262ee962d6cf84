/*
 * mathfn: the functions of the rule module `math`, with YARA 4.2.3's
 * semantics and float results (the same sums in the same order, so the
 * same doubles), over a range of the scanned file read through a freader
 * or over a string.
 *
 * A range (off, len) is defined when 0 <= off < file size and len >= 0;
 * it is cut at the end of the file.  Every function returns 1 and sets *v
 * when its value is defined, 0 when it is undefined: a range that is not
 * defined, a file that cannot be read, and every float result that comes
 * out NaN (a mean over no bytes), which YARA also takes as undefined.  The
 * "whole file" forms (count(byte), percentage(byte), mode()) are undefined
 * for an empty file, as in YARA.
 */
#ifndef WARD_MODULES_MATHFN_H
#define WARD_MODULES_MATHFN_H

#include <stddef.h>
#include <stdint.h>

#include "modules/freader.h"

/* math.MEAN_BYTES: the mean of uniformly random bytes. */
#define MATHFN_MEAN_BYTES 127.5

/*
 * The bytes YARA's functions of a range (off, len) cover: 1 and [*start,
 * *start + *n) inside f, or 0 when the range is undefined.  (Shared with
 * hashfn.)
 */
int mathfn_range(const struct freader *f, int64_t off, int64_t len, uint64_t *start, uint64_t *n);

/*
 * Calls fn on the n bytes at start of f in pieces of at most
 * FREADER_WINDOW bytes, in order.  0, or WARD_EFORMAT when a piece cannot
 * be read.
 */
int mathfn_walk(struct freader *f, uint64_t start, uint64_t n,
		void (*fn)(void *arg, const uint8_t *p, size_t n), void *arg);

/* How often each byte value occurs in a range.  Counts are 32-bit as in
 * YARA (they wrap beyond 4 GiB of one value). */
struct mathfn_dist {
	uint32_t n[256];
};

/* The distribution of the range (off, len) of f: 1, or 0 when undefined. */
int mathfn_dist_range(struct freader *f, int64_t off, int64_t len, struct mathfn_dist *d);
/* The distribution of all of f: 1, or 0 when f is empty or unreadable. */
int mathfn_dist_whole(struct freader *f, struct mathfn_dist *d);

/* Functions of a distribution (one read of the range can serve several). */
int mathfn_dist_entropy(const struct mathfn_dist *d, double *v);
int mathfn_dist_mean(const struct mathfn_dist *d, double *v);
int mathfn_dist_deviation(const struct mathfn_dist *d, double mean, double *v);
int mathfn_dist_percentage(const struct mathfn_dist *d, int64_t byte, double *v);
int64_t mathfn_dist_count(const struct mathfn_dist *d, int64_t byte);
int64_t mathfn_dist_mode(const struct mathfn_dist *d);

/* math.entropy, mean, deviation, serial_correlation, monte_carlo_pi over
 * the range (off, len) of f, and over the n bytes at p (for mean,
 * deviation, serial_correlation and monte_carlo_pi taken as signed char,
 * as YARA 4.2.3 does: "\xff" has the mean -1). */
int mathfn_entropy(struct freader *f, int64_t off, int64_t len, double *v);
int mathfn_entropy_str(const uint8_t *p, size_t n, double *v);
int mathfn_mean(struct freader *f, int64_t off, int64_t len, double *v);
int mathfn_mean_str(const uint8_t *p, size_t n, double *v);
int mathfn_deviation(struct freader *f, int64_t off, int64_t len, double mean, double *v);
int mathfn_deviation_str(const uint8_t *p, size_t n, double mean, double *v);
int mathfn_serial_correlation(struct freader *f, int64_t off, int64_t len, double *v);
int mathfn_serial_correlation_str(const uint8_t *p, size_t n, double *v);
int mathfn_monte_carlo_pi(struct freader *f, int64_t off, int64_t len, double *v);
int mathfn_monte_carlo_pi_str(const uint8_t *p, size_t n, double *v);

/* math.count(byte, off, len), math.count(byte) (whole file); byte is taken
 * modulo 256 as YARA does. */
int mathfn_count(struct freader *f, int64_t byte, int64_t off, int64_t len, int64_t *v);
int mathfn_count_whole(struct freader *f, int64_t byte, int64_t *v);
/* math.percentage(byte, off, len), math.percentage(byte): a ratio in [0, 1]
 * computed in single precision as YARA does. */
int mathfn_percentage(struct freader *f, int64_t byte, int64_t off, int64_t len, double *v);
int mathfn_percentage_whole(struct freader *f, int64_t byte, double *v);
/* math.mode(off, len), math.mode(): the most common byte, the lowest on a
 * tie. */
int mathfn_mode(struct freader *f, int64_t off, int64_t len, int64_t *v);
int mathfn_mode_whole(struct freader *f, int64_t *v);

/* Always defined: math.in_range(test, lower, upper) (1 or 0), math.min
 * and math.max (which compare as unsigned, as YARA's do: min(-1, 1) is 1),
 * math.to_number(bool), math.abs. */
int64_t mathfn_in_range(double test, double lower, double upper);
int64_t mathfn_min(int64_t a, int64_t b);
int64_t mathfn_max(int64_t a, int64_t b);
int64_t mathfn_to_number(int64_t b);
int64_t mathfn_abs(int64_t a);

#endif
