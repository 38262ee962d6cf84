/*
 * mod_dump: prints what the rule modules' parsers and functions make of a
 * file, for tests/e2e/test_elf_oracle.py to hold against `yara -D` and
 * rules run by yara.  Not installed.
 *
 *   mod_dump elf FILE        every defined elf field, one "path = value" a
 *                            line (strings quoted and escaped as yara -D)
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

int
main(int argc, char **argv)
{
	static uint8_t win[FREADER_WINDOW];
	struct freader f;
	struct stat st;
	int fd, r = 2;

	if (argc < 3) {
		fprintf(stderr, "usage: mod_dump elf FILE\n");
		return 2;
	}
	fd = open(argv[2], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		perror(argv[2]);
		return 2;
	}
	freader_init_fn(&f, (uint64_t)st.st_size, read_fd, &fd, win);
	if (strcmp(argv[1], "elf") == 0)
		r = dump_elf(&f) == 0 ? 0 : 1;
	close(fd);
	return r;
}
