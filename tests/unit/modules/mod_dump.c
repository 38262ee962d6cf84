/*
 * mod_dump: prints what the rule modules' parsers and functions make of a
 * file, for tests/e2e/test_elf_oracle.py to hold against `yara -D` and
 * rules run by yara.  Not installed.
 *
 *   mod_dump elf FILE        every defined elf field, one "path = value" a
 *                            line (strings quoted and escaped as yara -D)
 *   mod_dump funcs FILE OFF LEN ...
 *                            the math and hash functions of each range and
 *                            of the whole file, one "EXPR<TAB>KIND<TAB>VALUE"
 *                            a line: KIND i (integer), f (float, exact
 *                            decimal %.70f), s (string) or u (undefined)
 *   mod_dump intfuncs A B ...
 *                            math.min, max, abs, to_number, in_range of the
 *                            integers given, pairwise
 *   mod_dump strfuncs HEX ...
 *                            the same for the string forms over each string
 *                            given in hex
 *
 * The file is read with pread through a freader window, as the scanner
 * reads it.
 */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/elf.h"
#include "modules/freader.h"
#include "modules/hashfn.h"
#include "modules/mathfn.h"

static int
read_fd(void *arg, uint64_t off, void *buf, size_t n)
{
	int fd = *(int *)arg;
	ssize_t got;
	size_t done = 0;

	while (done < n) {
		got = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
		if (got <= 0)
			return -1;
		done += (size_t)got;
	}
	return 0;
}

static void
print_str(const char *path, const char *s, size_t len)
{
	size_t i;

	printf("%s = \"", path);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (isprint(ch))
			putchar(ch);
		else
			printf("\\x%02x", ch);
	}
	printf("\"\n");
}

static int
dump_elf(struct freader *f)
{
	struct elf_info *e = NULL;
	char path[128];
	const char *s;
	size_t i, n, k, len;
	int64_t v;
	int a, r;

	for (k = 0; k < elf_nconstants; k++)
		printf("elf.%s = %" PRId64 "\n", elf_constants[k].name, elf_constants[k].value);
	r = elf_parse(f, &e);
	if (r != 0)
		return r;
	for (k = 0; k < ELF_NFIELDS; k++)
		if (elf_get(e, elf_field_names[k].id, &v))
			printf("elf.%s = %" PRId64 "\n", elf_field_names[k].name, v);
	for (a = 0; a < ELF_NARRAYS; a++) {
		n = elf_items(e, a);
		for (i = 0; i < n; i++) {
			for (k = 0; k < ELF_NITEM_FIELDS; k++) {
				int id = elf_item_names[k].id;
				enum elf_array kind = elf_item_array(id);

				if ((int)kind != a && !(kind == ELF_SYMTAB && a == ELF_DYNSYM))
					continue;
				snprintf(path, sizeof(path), "elf.%s[%zu].%s",
					 elf_array_names[a].name, i, elf_item_names[k].name);
				if (elf_item(e, a, i, id, &v))
					printf("%s = %" PRId64 "\n", path, v);
				else if ((s = elf_item_str(e, a, i, id, &len)) != NULL)
					print_str(path, s, len);
			}
		}
	}
	if (elf_truncated(e))
		printf("# truncated\n");
	elf_free(e);
	return 0;
}

static void
out_i(const char *expr, int defined, int64_t v)
{
	if (defined)
		printf("%s\ti\t%" PRId64 "\n", expr, v);
	else
		printf("%s\tu\t\n", expr);
}

static void
out_f(const char *expr, int defined, double v)
{
	if (defined)
		printf("%s\tf\t%.70f\n", expr, v);
	else
		printf("%s\tu\t\n", expr);
}

static void
out_s(const char *expr, int r, const char *v)
{
	if (r == 1)
		printf("%s\ts\t%s\n", expr, v);
	else if (r == 0)
		printf("%s\tu\t\n", expr);
	else
		printf("%s\terror\t%d\n", expr, r);
}

static const char *const hash_names[] = {"md5", "sha1", "sha256", "sm3"};
static const double means[] = {127.5, 89.3};

/* The range forms over (off, len); args is how they are spelt. */
static void
dump_range(struct freader *f, int64_t off, int64_t len, const char *args)
{
	char expr[256], hex[HASHFN_HEX_MAX];
	int64_t iv = 0;
	double fv = 0;
	int a, d, b;

#define EXPR(...) snprintf(expr, sizeof(expr), __VA_ARGS__)
	EXPR("math.entropy(%s)", args);
	d = mathfn_entropy(f, off, len, &fv);
	out_f(expr, d, fv);
	EXPR("math.mean(%s)", args);
	d = mathfn_mean(f, off, len, &fv);
	out_f(expr, d, fv);
	for (a = 0; a < 2; a++) {
		EXPR("math.deviation(%s, %.1f)", args, means[a]);
		d = mathfn_deviation(f, off, len, means[a], &fv);
		out_f(expr, d, fv);
	}
	EXPR("math.serial_correlation(%s)", args);
	d = mathfn_serial_correlation(f, off, len, &fv);
	out_f(expr, d, fv);
	EXPR("math.monte_carlo_pi(%s)", args);
	d = mathfn_monte_carlo_pi(f, off, len, &fv);
	out_f(expr, d, fv);
	EXPR("math.mode(%s)", args);
	d = mathfn_mode(f, off, len, &iv);
	out_i(expr, d, iv);
	for (b = 0; b < 256; b += 85) {
		EXPR("math.count(%d, %s)", b, args);
		d = mathfn_count(f, b, off, len, &iv);
		out_i(expr, d, iv);
		EXPR("math.percentage(%d, %s)", b, args);
		d = mathfn_percentage(f, b, off, len, &fv);
		out_f(expr, d, fv);
	}
	for (a = HASHFN_MD5; a <= HASHFN_SM3; a++) {
		EXPR("hash.%s(%s)", hash_names[a], args);
		out_s(expr, hashfn_digest(f, a, off, len, hex, sizeof(hex)), hex);
	}
	EXPR("hash.checksum32(%s)", args);
	d = hashfn_checksum32(f, off, len, &iv);
	out_i(expr, d, iv);
	EXPR("hash.crc32(%s)", args);
	d = hashfn_crc32(f, off, len, &iv);
	out_i(expr, d, iv);
#undef EXPR
}

static int
dump_funcs(struct freader *f, int argc, char **argv)
{
	char args[128], expr[64];
	int64_t off, len, iv = 0;
	double fv = 0;
	int i, b, d;

	for (i = 0; i + 1 < argc; i += 2) {
		off = strtoll(argv[i], NULL, 0);
		len = strtoll(argv[i + 1], NULL, 0);
		snprintf(args, sizeof(args), "%s, %s", argv[i], argv[i + 1]);
		dump_range(f, off, len, args);
	}
	for (b = 0; b < 256; b += 51) {
		snprintf(expr, sizeof(expr), "math.count(%d)", b);
		d = mathfn_count_whole(f, b, &iv);
		out_i(expr, d, iv);
		snprintf(expr, sizeof(expr), "math.percentage(%d)", b);
		d = mathfn_percentage_whole(f, b, &fv);
		out_f(expr, d, fv);
	}
	d = mathfn_mode_whole(f, &iv);
	out_i("math.mode()", d, iv);
	return 0;
}

/* The functions of integers (and in_range of floats) over each pair. */
static int
dump_intfuncs(int argc, char **argv)
{
	char expr[128];
	int64_t a, b;
	int i, j;

	for (i = 0; i < argc; i++) {
		a = strtoll(argv[i], NULL, 0);
		snprintf(expr, sizeof(expr), "math.abs(%s)", argv[i]);
		out_i(expr, 1, mathfn_abs(a));
		snprintf(expr, sizeof(expr), "math.to_number(%s == 0)", argv[i]);
		out_i(expr, 1, mathfn_to_number(a == 0));
		for (j = 0; j < argc; j++) {
			b = strtoll(argv[j], NULL, 0);
			snprintf(expr, sizeof(expr), "math.min(%s, %s)", argv[i], argv[j]);
			out_i(expr, 1, mathfn_min(a, b));
			snprintf(expr, sizeof(expr), "math.max(%s, %s)", argv[i], argv[j]);
			out_i(expr, 1, mathfn_max(a, b));
			snprintf(expr, sizeof(expr), "math.in_range(%s.5, %s.0, %s.0)", argv[i],
				 argv[i], argv[j]);
			out_i(expr, 1,
			      mathfn_in_range((double)a + (a < 0 ? -0.5 : 0.5), (double)a,
					      (double)b));
		}
	}
	return 0;
}

/* The string forms over the bytes given in hex. */
static int
dump_strfuncs(int argc, char **argv)
{
	static uint8_t p[4096];
	char lit[4 * sizeof(p) + 3], expr[sizeof(lit) + 64], hex[HASHFN_HEX_MAX];
	double fv = 0;
	size_t n, k;
	int i, a, d;

	for (i = 0; i < argc; i++) {
		n = strlen(argv[i]) / 2;
		if (n > sizeof(p))
			return 1;
		lit[0] = '"';
		for (k = 0; k < n; k++) {
			unsigned x;

			if (sscanf(argv[i] + 2 * k, "%2x", &x) != 1)
				return 1;
			p[k] = (uint8_t)x;
			snprintf(lit + 1 + 4 * k, 5, "\\x%02x", x);
		}
		snprintf(lit + 1 + 4 * n, 2, "\"");
#define EXPR(...) snprintf(expr, sizeof(expr), __VA_ARGS__)
		EXPR("math.entropy(%s)", lit);
		d = mathfn_entropy_str(p, n, &fv);
		out_f(expr, d, fv);
		EXPR("math.mean(%s)", lit);
		d = mathfn_mean_str(p, n, &fv);
		out_f(expr, d, fv);
		for (a = 0; a < 2; a++) {
			EXPR("math.deviation(%s, %.1f)", lit, means[a]);
			d = mathfn_deviation_str(p, n, means[a], &fv);
			out_f(expr, d, fv);
		}
		EXPR("math.serial_correlation(%s)", lit);
		d = mathfn_serial_correlation_str(p, n, &fv);
		out_f(expr, d, fv);
		EXPR("math.monte_carlo_pi(%s)", lit);
		d = mathfn_monte_carlo_pi_str(p, n, &fv);
		out_f(expr, d, fv);
		for (a = HASHFN_MD5; a <= HASHFN_SM3; a++) {
			EXPR("hash.%s(%s)", hash_names[a], lit);
			out_s(expr, hashfn_digest_str(a, p, n, hex, sizeof(hex)), hex);
		}
		EXPR("hash.checksum32(%s)", lit);
		out_i(expr, 1, hashfn_checksum32_str(p, n));
		EXPR("hash.crc32(%s)", lit);
		out_i(expr, 1, hashfn_crc32_str(p, n));
#undef EXPR
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static uint8_t win[FREADER_WINDOW];
	struct freader f;
	struct stat st;
	int fd, r = 2;

	if (argc < 3) {
		fprintf(stderr, "usage: mod_dump elf|funcs FILE [OFF LEN]... | strfuncs HEX...\n");
		return 2;
	}
	if (strcmp(argv[1], "intfuncs") == 0)
		return dump_intfuncs(argc - 2, argv + 2);
	if (strcmp(argv[1], "strfuncs") == 0)
		return dump_strfuncs(argc - 2, argv + 2);
	fd = open(argv[2], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		perror(argv[2]);
		return 2;
	}
	freader_init_fn(&f, (uint64_t)st.st_size, read_fd, &fd, win);
	if (strcmp(argv[1], "elf") == 0)
		r = dump_elf(&f) == 0 ? 0 : 1;
	else if (strcmp(argv[1], "funcs") == 0)
		r = dump_funcs(&f, argc - 3, argv + 3);
	close(fd);
	return r;
}
