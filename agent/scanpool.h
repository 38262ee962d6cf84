/*
 * scanpool: the worker's scanner processes (agent/scanner.h) and the
 * poison-file guard (agent/poison.h).
 *
 * scan.processes scanners run beside the worker; each scan goes to an
 * idle one, which is first given the content the scan holds if it has
 * another.  A scanner that dies while scanning a file (a signal, the
 * seccomp filter, the per-scan time bound, a frame that breaks the
 * channel) is restarted with a backoff, and the file is recorded as
 * poison: later scans of it are answered without a scanner.  A scanner
 * that dies with several files in hand (it holds verdicts back) names
 * none: they are scanned again one at a time, and only a file that kills
 * a scanner alone is recorded.
 */
#ifndef WARD_AGENT_SCANPOOL_H
#define WARD_AGENT_SCANPOOL_H

#include <jansson.h>
#include <stdint.h>
#include <sys/stat.h>

#include "agent/config.h"
#include "scan/scanmsg.h"

struct active;

/* The most scanner processes (scan.processes). */
#define SCANPOOL_MAX_PROCS 16

/* scanpool_scan's answers beside 0 (a verdict). */
#define SCANPOOL_POISON 1  /* a file that crashed a scanner before */
#define SCANPOOL_CRASHED 2 /* it crashed the scanner now (recorded as poison) */

/* The worker's exit status when scanners crashed on scan.crash_files
 * different files with the same content within crash_guard.window_s: the
 * supervisor's crash guard then takes the content as at fault. */
#define WORKER_EXIT_CONTENT_FAULT 77

/*
 * Loads the poison list from c->state_dir and readies c->scan_processes
 * scanners (each started on its first scan).  0 or WARD_E*.
 */
int scanpool_start(const struct agent_config *c);

/*
 * Scans fd (st: its fstat; path for logs and the poison list, or NULL)
 * with the content a in a scanner.  Returns 0 with *v (a clean, match or
 * error verdict), SCANPOOL_POISON, SCANPOOL_CRASHED, or WARD_ETIMEDOUT /
 * WARD_EIO when no scanner could take it (all dead and backing off, or
 * unable to start).
 */
int scanpool_scan(struct active *a, int fd, const struct stat *st, const char *path,
		  struct scanmsg_verdict *v);

/* The most files one scanpool_scan_batch takes: a scanner's window. */
#define SCANPOOL_BATCH SCANMSG_WINDOW

/* One file of a batch, and its answer. */
struct scanpool_file {
	int fd;
	const struct stat *st;
	const char *path; /* or NULL */
	struct scanmsg_verdict *v;
	int result; /* as scanpool_scan returns */
};

/*
 * Scans the files f[0..n) (n <= SCANPOOL_BATCH) as scanpool_scan does
 * each, with the requests to one scanner sent ahead of its verdicts: for
 * many small files, as a ward agent scan has.  Each f[i].result and
 * *f[i].v are set.
 */
void scanpool_scan_batch(struct active *a, struct scanpool_file *f, unsigned n);

/* For ward agent status: the scanners' pids, counts, the poison files. */
json_t *scanpool_status_json(void);

/* At the agent's stop, once the sensors and sockets are: ends every
 * scanner now, so that none holds a file (or keeps a mount busy) while it
 * finishes a scan nobody waits for; their ends are not counted as
 * crashes. */
void scanpool_stop(void);
/* Once a second: ends scanners beyond the first that have been idle a
 * minute (started again when scans run in parallel). */
void scanpool_tick(void);

#endif
