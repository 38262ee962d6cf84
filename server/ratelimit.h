/*
 * ratelimit: token buckets by key (an agent id): each key may take `rate`
 * units a minute, in bursts of up to a minute's worth.  One server's view
 * (several servers on one database each allow the rate).  Thread-safe.
 */
#ifndef WARD_SERVER_RATELIMIT_H
#define WARD_SERVER_RATELIMIT_H

struct ratelimit;

/* NULL when out of memory. */
struct ratelimit *ratelimit_new(double per_minute);
void ratelimit_free(struct ratelimit *rl);

/* A new rate, from now on (a reloaded configuration). */
void ratelimit_set_rate(struct ratelimit *rl, double per_minute);

/* Takes n units for key at now (seconds, monotonic): 0 if they were there,
 * else the seconds until they will be (nothing taken). */
int ratelimit_take(struct ratelimit *rl, const char *key, double n, double now);

#endif
