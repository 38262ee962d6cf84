/*
 * clamav: ClamAV databases named on the command line (see clamav.c).
 */
#ifndef WARD_CLI_CLAMAV_H
#define WARD_CLI_CLAMAV_H

#include <stddef.h>
#include <stdio.h>

#include "clamav/clamdb.h"

/*
 * Adds each path to c: a database file, or a directory (each file in it
 * with a known extension, in name order, as clamscan -d reads one).  A
 * .cvd whose signature does not verify is refused unless allow_unsigned;
 * quiet: do not say what each container was.  Prints why and returns
 * EXIT_ERROR on failure, else 0.
 */
int cli_clamdb_read(struct clamdb *c, const char *const *paths, size_t n, int allow_unsigned,
		    int quiet);

/* One line of counts on f (naming opt, the option that lists what is left
 * out); with report, one line per signature left out (NAME (FILE:LINE): why). */
void cli_clamdb_summary(const struct clamdb *c, int report, const char *opt, FILE *f);

/* `ward content import-clamav DB... -o DIR [--report] [--allow-unsigned]`. */
int cli_import_clamav(int argc, char **argv);

#endif
