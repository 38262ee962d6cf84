/*
 * clamav: reading ClamAV databases named on the command line (files, or
 * directories as clamscan -d takes them) into a struct clamdb, and the
 * summary of what was left out.  Shared by `ward scan --clamav-db` and
 * `ward content import-clamav`.
 */
#include "clamav.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "util/alloc.h"
#include "util/file.h"
#include "util/limits.h"

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
read_one(struct clamdb *c, const char *path, enum clamdb_kind kind, int allow_unsigned, int quiet)
{
	struct clamdb_cvd_info info;
	struct ward_diag d;
	uint8_t *p = NULL;
	size_t n = 0;
	int r;

	diag_clear(&d);
	if ((r = file_read_all(path, WARD_MAX_CLAMDB_FILE, &p, &n, &d)) != 0)
		goto out;
	if (kind == CLAMDB_CVD) {
		r = clamdb_add_cvd(c, path, p, n, allow_unsigned, &info, &d);
		if (r == 0 && !quiet)
			fprintf(stderr, "ward: %s: %s version %u, %u signatures, %s\n", path,
				info.name, info.version, info.sigs,
				!info.signed_kind ? "not signed (.cld/.cud: no signature to check)"
				: info.verified	  ? "digital signature verified (ClamAV's key)"
						  : "digital signature NOT verified (--allow-unsigned)");
	} else {
		r = clamdb_add(c, kind, path, p, n, &d);
	}
out:
	if (r != 0) {
		if (d.msg[0] == '\0')
			snprintf(d.msg, sizeof(d.msg), "%s", ward_strerror(r));
		if (d.file[0] == '\0')
			snprintf(d.file, sizeof(d.file), "%s", path);
		cli_diag(&d);
	}
	ward_free(p);
	return r;
}

/* Every file of dir with a database extension, in name order. */
static int
read_dir(struct clamdb *c, const char *dir, int allow_unsigned, int quiet)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0, i;
	enum clamdb_kind kind;
	int r = 0;

	if (dp == NULL) {
		fprintf(stderr, "ward: %s: cannot open: %m\n", dir);
		return WARD_EIO;
	}
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.' || clamdb_kind_of(de->d_name, &kind) != 0)
			continue;
		if (ward_grow(&names, &cap, n + 1, sizeof(*names)) != 0 ||
		    (names[n] = ward_strdup(de->d_name)) == NULL) {
			r = WARD_ENOMEM;
			goto out;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n && r == 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		clamdb_kind_of(names[i], &kind);
		r = read_one(c, path, kind, allow_unsigned, quiet);
	}
out:
	for (i = 0; i < n; i++)
		ward_free(names[i]);
	ward_free(names);
	closedir(dp);
	return r;
}

int
cli_clamdb_read(struct clamdb *c, const char *const *paths, size_t n, int allow_unsigned,
		int quiet)
{
	enum clamdb_kind kind;
	struct stat st;
	size_t i;
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		if (stat(paths[i], &st) != 0) {
			fprintf(stderr, "ward: %s: %m\n", paths[i]);
			r = WARD_EIO;
		} else if (S_ISDIR(st.st_mode)) {
			r = read_dir(c, paths[i], allow_unsigned, quiet);
		} else if (clamdb_kind_of(paths[i], &kind) != 0) {
			fprintf(stderr,
				"ward: %s: not a ClamAV database (expected .hdb, .hsb, .mdb, .msb, "
				".ndb, .ldb, .fp, .sfp, .ign2, .cvd, .cld or .cud)\n",
				paths[i]);
			r = WARD_EINVAL;
		} else {
			r = read_one(c, paths[i], kind, allow_unsigned, quiet);
		}
	}
	return r != 0 ? EXIT_ERROR : 0;
}

void
cli_clamdb_summary(const struct clamdb *c, int report, FILE *f)
{
	const struct clamdb_skip *sk;
	struct clamdb_stats st;
	size_t n, i;

	clamdb_get_stats(c, &st);
	sk = clamdb_skipped(c, &n);
	fprintf(f,
		"ward: ClamAV signatures: %zu read, %zu converted, %zu left out (%zu for their "
		"functionality level), %zu dropped by .ign2%s\n",
		st.read, st.converted, st.skipped, st.flevel, st.ignored,
		st.skipped > 0 && !report ? "; --report lists them" : "");
	for (i = 0; report && i < n; i++)
		fprintf(f, "ward: left out %s (%s:%d): %s\n", sk[i].name, sk[i].file, sk[i].line,
			sk[i].why);
}
