/*
 * mathfn: the rule module `math`.  See mathfn.h.
 *
 * The results must be YARA 4.2.3's to the last bit, since rules compare
 * them with literals (math.entropy(0, filesize) >= 7.2): each function
 * does YARA's arithmetic in YARA's order — over the distribution from
 * byte value 0 to 255 where YARA does, byte by byte where YARA does (the
 * string forms of mean and deviation, serial correlation, Monte Carlo) —
 * including its quirks (serial correlation closes with the last byte
 * squared, percentage divides in single precision, and the string forms
 * of mean, deviation, serial correlation and Monte Carlo read the bytes as
 * YARA's `char`, signed: 0x80 and up count as negative numbers there).
 *
 * Must hold: the file is read only through the freader, in window-sized
 * pieces; no range is read outside the file.
 */
#include "modules/mathfn.h"
#include "util/err.h"

#include <math.h>
#include <string.h>

#define PI 3.141592653589793

int
mathfn_range(const struct freader *f, int64_t off, int64_t len, uint64_t *start, uint64_t *n)
{
	uint64_t left;

	if (off < 0 || len < 0 || (uint64_t)off >= f->size)
		return 0;
	left = f->size - (uint64_t)off;
	*start = (uint64_t)off;
	*n = (uint64_t)len < left ? (uint64_t)len : left;
	return 1;
}

int
mathfn_walk(struct freader *f, uint64_t start, uint64_t n,
	    void (*fn)(void *arg, const uint8_t *p, size_t n), void *arg)
{
	const uint8_t *p;
	uint64_t done = 0;
	size_t piece;

	while (done < n) {
		piece = n - done < FREADER_WINDOW ? (size_t)(n - done) : FREADER_WINDOW;
		if (freader_peek(f, start + done, piece, &p) != 0)
			return WARD_EFORMAT;
		fn(arg, p, piece);
		done += piece;
	}
	return 0;
}

static void
count_bytes(void *arg, const uint8_t *p, size_t n)
{
	struct mathfn_dist *d = arg;
	size_t i;

	for (i = 0; i < n; i++)
		d->n[p[i]]++;
}

int
mathfn_dist_range(struct freader *f, int64_t off, int64_t len, struct mathfn_dist *d)
{
	uint64_t start, n;

	memset(d, 0, sizeof(*d));
	return mathfn_range(f, off, len, &start, &n) &&
	       mathfn_walk(f, start, n, count_bytes, d) == 0;
}

int
mathfn_dist_whole(struct freader *f, struct mathfn_dist *d)
{
	memset(d, 0, sizeof(*d));
	/* YARA has no data for an empty file, so nothing to count. */
	return f->size > 0 && mathfn_walk(f, 0, f->size, count_bytes, d) == 0;
}

/* A float result: NaN is YARA's undefined. */
static int
fret(double x, double *v)
{
	if (isnan(x))
		return 0;
	*v = x;
	return 1;
}

/* The number of bytes counted, as YARA sums it (a size_t of 32-bit
 * counts). */
static uint64_t
total(const struct mathfn_dist *d)
{
	uint64_t t = 0;
	int i;

	for (i = 0; i < 256; i++)
		t += d->n[i];
	return t;
}

int
mathfn_dist_entropy(const struct mathfn_dist *d, double *v)
{
	uint64_t t = total(d);
	double e = 0.0, x;
	int i;

	for (i = 0; i < 256; i++) {
		if (d->n[i] != 0) {
			x = (double)d->n[i] / (double)t;
			e -= x * log2(x);
		}
	}
	return fret(e, v);
}

int
mathfn_dist_mean(const struct mathfn_dist *d, double *v)
{
	double sum = 0.0;
	uint64_t t = 0;
	int i;

	for (i = 0; i < 256; i++) {
		t += d->n[i];
		sum += (double)i * d->n[i];
	}
	return fret(sum / (double)t, v);
}

int
mathfn_dist_deviation(const struct mathfn_dist *d, double mean, double *v)
{
	double sum = 0.0;
	uint64_t t = 0;
	int i;

	for (i = 0; i < 256; i++) {
		t += d->n[i];
		sum += fabs((double)i - mean) * d->n[i];
	}
	return fret(sum / (double)t, v);
}

int
mathfn_dist_percentage(const struct mathfn_dist *d, int64_t byte, double *v)
{
	int64_t t = (int64_t)total(d);

	return fret((double)((float)d->n[(uint8_t)byte] / (float)t), v);
}

int64_t
mathfn_dist_count(const struct mathfn_dist *d, int64_t byte)
{
	return d->n[(uint8_t)byte];
}

int64_t
mathfn_dist_mode(const struct mathfn_dist *d)
{
	int i, best = 0;

	for (i = 0; i < 256; i++)
		if (d->n[i] > d->n[best])
			best = i;
	return best;
}

int
mathfn_entropy(struct freader *f, int64_t off, int64_t len, double *v)
{
	struct mathfn_dist d;

	return mathfn_dist_range(f, off, len, &d) && mathfn_dist_entropy(&d, v);
}

int
mathfn_entropy_str(const uint8_t *p, size_t n, double *v)
{
	struct mathfn_dist d;

	memset(&d, 0, sizeof(d));
	count_bytes(&d, p, n);
	return mathfn_dist_entropy(&d, v);
}

int
mathfn_mean(struct freader *f, int64_t off, int64_t len, double *v)
{
	struct mathfn_dist d;

	return mathfn_dist_range(f, off, len, &d) && mathfn_dist_mean(&d, v);
}

int
mathfn_mean_str(const uint8_t *p, size_t n, double *v)
{
	double sum = 0.0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += (double)(signed char)p[i];
	return fret(sum / (double)n, v);
}

int
mathfn_deviation(struct freader *f, int64_t off, int64_t len, double mean, double *v)
{
	struct mathfn_dist d;

	return mathfn_dist_range(f, off, len, &d) && mathfn_dist_deviation(&d, mean, v);
}

int
mathfn_deviation_str(const uint8_t *p, size_t n, double mean, double *v)
{
	double sum = 0.0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += fabs((double)(signed char)p[i] - mean);
	return fret(sum / (double)n, v);
}

/* The running sums of the serial correlation coefficient (ent's, as YARA
 * has it). */
struct scc {
	double un, last, t1, t2, t3;
	uint64_t n;
	int sign; /* bytes as signed char (the string form) */
};

static void
scc_add(void *arg, const uint8_t *p, size_t n)
{
	struct scc *s = arg;
	size_t i;

	for (i = 0; i < n; i++) {
		s->un = s->sign ? (double)(signed char)p[i] : (double)p[i];
		s->t1 += s->last * s->un;
		s->t2 += s->un;
		s->t3 += s->un * s->un;
		s->last = s->un;
	}
	s->n += n;
}

static int
scc_end(struct scc *s, double *v)
{
	double r;

	s->t1 += s->last * s->un;
	s->t2 *= s->t2;
	r = (double)s->n * s->t3 - s->t2;
	if (r == 0)
		r = -100000;
	else
		r = ((double)s->n * s->t1 - s->t2) / r;
	return fret(r, v);
}

int
mathfn_serial_correlation(struct freader *f, int64_t off, int64_t len, double *v)
{
	struct scc s;
	uint64_t start, n;

	memset(&s, 0, sizeof(s));
	if (!mathfn_range(f, off, len, &start, &n) || mathfn_walk(f, start, n, scc_add, &s) != 0)
		return 0;
	return scc_end(&s, v);
}

int
mathfn_serial_correlation_str(const uint8_t *p, size_t n, double *v)
{
	struct scc s;

	memset(&s, 0, sizeof(s));
	s.sign = 1;
	scc_add(&s, p, n);
	return scc_end(&s, v);
}

/* The Monte Carlo estimate of pi: six bytes make a point. */
struct monte {
	unsigned int b[6];
	uint64_t i, count, inside;
	int sign; /* bytes as signed char, then unsigned int (the string form) */
};

static void
monte_add(void *arg, const uint8_t *p, size_t n)
{
	const double incirc = pow(pow(256.0, 3.0) - 1, 2.0);
	struct monte *m = arg;
	double mx, my;
	size_t k;
	int j;

	for (k = 0; k < n; k++, m->i++) {
		m->b[m->i % 6] = m->sign ? (unsigned int)(signed char)p[k] : p[k];
		if (m->i % 6 != 5)
			continue;
		m->count++;
		mx = 0;
		my = 0;
		for (j = 0; j < 3; j++) {
			mx = (mx * 256.0) + m->b[j];
			my = (my * 256.0) + m->b[j + 3];
		}
		if ((mx * mx + my * my) <= incirc)
			m->inside++;
	}
}

static int
monte_end(const struct monte *m, double *v)
{
	double mpi;

	if (m->count == 0)
		return 0;
	mpi = 4.0 * ((double)m->inside / (double)m->count);
	return fret(fabs((mpi - PI) / PI), v);
}

int
mathfn_monte_carlo_pi(struct freader *f, int64_t off, int64_t len, double *v)
{
	struct monte m;
	uint64_t start, n;

	memset(&m, 0, sizeof(m));
	if (!mathfn_range(f, off, len, &start, &n) || mathfn_walk(f, start, n, monte_add, &m) != 0)
		return 0;
	return monte_end(&m, v);
}

int
mathfn_monte_carlo_pi_str(const uint8_t *p, size_t n, double *v)
{
	struct monte m;

	memset(&m, 0, sizeof(m));
	m.sign = 1;
	monte_add(&m, p, n);
	return monte_end(&m, v);
}

int
mathfn_count(struct freader *f, int64_t byte, int64_t off, int64_t len, int64_t *v)
{
	struct mathfn_dist d;

	if (!mathfn_dist_range(f, off, len, &d))
		return 0;
	*v = mathfn_dist_count(&d, byte);
	return 1;
}

int
mathfn_count_whole(struct freader *f, int64_t byte, int64_t *v)
{
	struct mathfn_dist d;

	if (!mathfn_dist_whole(f, &d))
		return 0;
	*v = mathfn_dist_count(&d, byte);
	return 1;
}

int
mathfn_percentage(struct freader *f, int64_t byte, int64_t off, int64_t len, double *v)
{
	struct mathfn_dist d;

	return mathfn_dist_range(f, off, len, &d) && mathfn_dist_percentage(&d, byte, v);
}

int
mathfn_percentage_whole(struct freader *f, int64_t byte, double *v)
{
	struct mathfn_dist d;

	return mathfn_dist_whole(f, &d) && mathfn_dist_percentage(&d, byte, v);
}

int
mathfn_mode(struct freader *f, int64_t off, int64_t len, int64_t *v)
{
	struct mathfn_dist d;

	if (!mathfn_dist_range(f, off, len, &d))
		return 0;
	*v = mathfn_dist_mode(&d);
	return 1;
}

int
mathfn_mode_whole(struct freader *f, int64_t *v)
{
	struct mathfn_dist d;

	if (!mathfn_dist_whole(f, &d))
		return 0;
	*v = mathfn_dist_mode(&d);
	return 1;
}

int64_t
mathfn_in_range(double test, double lower, double upper)
{
	return lower <= test && test <= upper ? 1 : 0;
}

int64_t
mathfn_min(int64_t a, int64_t b)
{
	return (uint64_t)a < (uint64_t)b ? a : b;
}

int64_t
mathfn_max(int64_t a, int64_t b)
{
	return (uint64_t)a > (uint64_t)b ? a : b;
}

int64_t
mathfn_to_number(int64_t b)
{
	return b != 0 ? 1 : 0;
}

int64_t
mathfn_abs(int64_t a)
{
	/* llabs(INT64_MIN) overflows; YARA's gives INT64_MIN back on the
	 * machines it runs on, and so does this without the overflow. */
	return a < 0 ? (int64_t)(0 - (uint64_t)a) : a;
}
