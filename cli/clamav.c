/*
 * clamav: reading ClamAV databases named on the command line (files, or
 * directories as clamscan -d takes them) into a struct clamdb, and the
 * summary of what was left out.  Shared by `ward scan --clamav-db` and
 * `ward content import-clamav` (here too).  The source directory is
 * written through its descriptor, each file new (O_EXCL, O_NOFOLLOW).
 */
#include "clamav.h"

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
				: info.verified
				    ? "digital signature verified (ClamAV's key)"
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
cli_clamdb_read(struct clamdb *c, const char *const *paths, size_t n, int allow_unsigned, int quiet)
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
cli_clamdb_summary(const struct clamdb *c, int report, const char *opt, FILE *f)
{
	const struct clamdb_skip *sk;
	struct clamdb_stats st;
	size_t n, i;

	clamdb_get_stats(c, &st);
	sk = clamdb_skipped(c, &n);
	fprintf(f,
		"ward: ClamAV signatures: %zu read, %zu converted, %zu left out (%zu for their "
		"functionality level), %zu dropped by .ign2%s%s%s\n",
		st.read, st.converted, st.skipped, st.flevel, st.ignored,
		st.skipped > 0 && !report ? "; " : "", st.skipped > 0 && !report ? opt : "",
		st.skipped > 0 && !report ? " lists them" : "");
	for (i = 0; report && i < n; i++)
		fprintf(f, "ward: left out %s (%s:%d): %s\n", sk[i].name, sk[i].file, sk[i].line,
			sk[i].why);
	clamdb_allow(c, &n);
	if (n > 0)
		fprintf(f,
			"ward: %zu false positives (.fp/.sfp): no ClamAV signature reports those "
			"files\n",
			n);
}

/* --- ward content import-clamav ------------------------------------------ */

static void
import_usage(FILE *f)
{
	fprintf(f, "usage: ward content import-clamav DB... -o DIR [--report] [--allow-unsigned]\n"
		   "\n"
		   "Converts ClamAV signature databases into a content source DIR that 'ward\n"
		   "content build DIR -o FILE' takes: DIR/rules/clamav.yar (one rule per body,\n"
		   "logical or PE-section signature, reported under its ClamAV name),\n"
		   "DIR/hashes/clamav.txt (the hash signatures), DIR/exceptions/clamav.json (the\n"
		   "SHA-256 false positives of .fp/.sfp lists) and DIR/bundle.json naming them.\n"
		   "DB is a database file (.hdb .hsb .mdb .msb .ndb .ldb .fp .sfp .ign2 .cvd .cld\n"
		   ".cud) or a directory of them, as clamscan -d takes it.  Prints how many\n"
		   "signatures were read, converted and left out (by reason); what ward cannot\n"
		   "convert exactly is left out, never approximated (see docs/clamav.md).\n"
		   "\n"
		   "  -o, --output DIR      the content source to write (created; must not exist)\n"
		   "      --report          name every signature left out, and why\n"
		   "      --allow-unsigned  take a .cvd whose digital signature does not verify\n"
		   "  -h, --help            show this help\n"
		   "\n"
		   "Exit status: 0 written, 2 failure (a malformed database, a .cvd that does not\n"
		   "verify, DIR exists or cannot be written).\n");
}

/* Writes n bytes to DIR/name, a new file (O_EXCL), through dirfd. */
static int
write_new(int dirfd, const char *dir, const char *name, const void *p, size_t n)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	const uint8_t *q = p;
	int r = 0;

	if (fd < 0) {
		fprintf(stderr, "ward: %s/%s: %m\n", dir, name);
		return EXIT_ERROR;
	}
	while (n > 0) {
		ssize_t k = write(fd, q, n);

		if (k < 0) {
			fprintf(stderr, "ward: %s/%s: %m\n", dir, name);
			r = EXIT_ERROR;
			break;
		}
		q += k;
		n -= (size_t)k;
	}
	if (close(fd) != 0 && r == 0) {
		fprintf(stderr, "ward: %s/%s: %m\n", dir, name);
		r = EXIT_ERROR;
	}
	return r;
}

static int
write_source(const struct clamdb *db, const char *dir)
{
	const char *rules, *hashes, *allow;
	size_t rn, hn, an;
	char manifest[512], expires[32];
	struct tm tm;
	time_t now;
	int dfd = -1, r = EXIT_ERROR, k;

	rules = clamdb_rules(db, &rn);
	hashes = clamdb_hashes(db, &hn);
	allow = clamdb_allow(db, &an);
	an = strlen(allow); /* false positives are in the rules now */
	if (mkdir(dir, 0755) != 0) {
		fprintf(stderr, "ward: %s: %m\n", dir);
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		fprintf(stderr, "ward: %s: %m\n", dir);
		goto out;
	}
	if ((rn > 0 && mkdirat(dfd, "rules", 0755) != 0) ||
	    (hn > 0 && mkdirat(dfd, "hashes", 0755) != 0) ||
	    (an > 0 && mkdirat(dfd, "exceptions", 0755) != 0)) {
		fprintf(stderr, "ward: %s: %m\n", dir);
		goto out;
	}
	if (rn > 0 && write_new(dfd, dir, "rules/clamav.yar", rules, rn) != 0)
		goto out;
	if (hn > 0 && write_new(dfd, dir, "hashes/clamav.txt", hashes, hn) != 0)
		goto out;
	if (an > 0 && write_new(dfd, dir, "exceptions/clamav.json", allow, strlen(allow)) != 0)
		goto out;
	/* A bundle must expire: a year from the import, for the operator to
	 * change in bundle.json (ClamAV's own databases are updated daily). */
	now = time(NULL) + 365 * 86400;
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		goto out;
	k = snprintf(manifest, sizeof(manifest),
		     "{\n  \"name\": \"clamav\",\n  \"version\": 1,\n"
		     "  \"expires\": \"%s\",\n  \"min_agent_version\": \"%s\",\n"
		     "  \"rules\": [%s],\n  \"hashes\": [%s],\n  \"exceptions\": [%s],\n"
		     "  \"tests\": []\n}\n",
		     expires, WARD_VERSION, rn > 0 ? "\"rules/clamav.yar\"" : "",
		     hn > 0 ? "\"hashes/clamav.txt\"" : "",
		     an > 0 ? "\"exceptions/clamav.json\"" : "");
	if (k < 0 || (size_t)k >= sizeof(manifest))
		goto out;
	r = write_new(dfd, dir, "bundle.json", manifest, (size_t)k);
out:
	if (dfd >= 0)
		close(dfd);
	return r;
}

int
cli_import_clamav(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"report", no_argument, NULL, 'R'},
	    {"allow-unsigned", no_argument, NULL, 'A'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct clamdb *db = NULL;
	const char *output = NULL;
	int report = 0, allow_unsigned = 0, c, r = EXIT_ERROR;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'R':
			report = 1;
			break;
		case 'A':
			allow_unsigned = 1;
			break;
		case 'h':
			import_usage(stdout);
			r = 0;
			goto out;
		default:
			import_usage(stderr);
			goto out;
		}
	}
	if (output == NULL || optind >= argc) {
		fprintf(stderr, "ward: content import-clamav: %s\n",
			output == NULL ? "-o DIR is required" : "no DB given");
		import_usage(stderr);
		goto out;
	}
	if (clamdb_new(&db) != 0) {
		fprintf(stderr, "ward: out of memory\n");
		goto out;
	}
	if (cli_clamdb_read(db, (const char *const *)(argv + optind), (size_t)(argc - optind),
			    allow_unsigned, 0) != 0)
		goto out;
	if (clamdb_finish(db, NULL) != 0) {
		fprintf(stderr, "ward: out of memory\n");
		goto out;
	}
	if ((r = write_source(db, output)) != 0)
		goto out;
	cli_clamdb_summary(db, report, "--report", stdout);
	r = 0;
out:
	clamdb_free(db);
	return r;
}
