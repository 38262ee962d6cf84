/*
 * scan_priv: `ward scan` run as root.  The root process keeps only what
 * needs root — the rules (loaded before, from the administrator's files),
 * the walk, and opening each file (walker_open: O_NOFOLLOW, checked by
 * device and inode) — and hands each open file, with its path, depth and
 * owner's name, to a scanning process it forks (scan_child.c), which
 * confines itself as `nobody` before its first file and parses, matches,
 * prints and sums up everything.  The root process reads nothing from it
 * but typed frames of exact size (walkmsg.h: which files are done, a stop)
 * and its exit status.
 *
 * A scanner that dies (killed by its filter, crashed, broke the protocol)
 * is said on stderr and replaced by a new one: the files it held without
 * acknowledging them are sent again, one at a time when it held several,
 * and the one it dies on again is reported as not scanned, naming the
 * signal; the scan goes on, and its exit status is 2.
 */
#ifndef WARD_CLI_SCAN_PRIV_H
#define WARD_CLI_SCAN_PRIV_H

#include "cmd_scan.h"

/* Runs the scan cfg asks for, separated as above: ward scan's exit status. */
int scanpriv_run(const struct scan_cfg *cfg);

#endif
