/*
 * pe_dump: prints what lib/modules/pe parses from a file, one flat
 * "path = value" line per field in `yara -D`'s value format, so that
 * tests/e2e/test_pe_oracle.py can compare it with yara 4.2.3's dump.
 * A test tool only: `pe_dump [-r] FILE` (-r: read through the freader's
 * read function and window cache instead of from memory).
 */
#include "modules/pe.h"
#include "util/err.h"

#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
str(const char *path, const struct pe_str *s)
{
	size_t i;

	if (s->p == NULL)
		return;
	printf("%s = \"", path);
	for (i = 0; i < s->len; i++) {
		unsigned char c = (unsigned char)s->p[i];

		if (isprint(c))
			putchar(c);
		else
			printf("\\x%02x", c);
	}
	printf("\"\n");
}

static void
num(const char *path, int64_t v)
{
	printf("%s = %" PRId64 "\n", path, v);
}

static void
imports(const struct pe_info *p, int delayed)
{
	const char *base = delayed ? "delayed_import_details" : "import_details";
	char path[128];
	size_t i, j;

	num(delayed ? "number_of_delayed_imports" : "number_of_imports",
	    pe_number_of_imports(p, delayed));
	num(delayed ? "number_of_delayed_imported_functions" : "number_of_imported_functions",
	    pe_number_of_imported_functions(p, delayed));
	/* YARA 4.2.3 declares delay_import_details but fills
	 * delayed_import_details, which does not exist: the delay-load DLLs
	 * show only in the counts and in pe.imports(). */
	for (i = 0; !delayed && i < pe_import_dll_count(p, delayed); i++) {
		const struct pe_import_dll *d = pe_import_dll(p, delayed, i);

		snprintf(path, sizeof(path), "%s[%zu].library_name", base, i);
		str(path, &d->name);
		snprintf(path, sizeof(path), "%s[%zu].number_of_functions", base, i);
		num(path, (int64_t)(d->yara_first + d->nfn));
		for (j = 0; j < d->nfn; j++) {
			size_t k = d->yara_first + j;

			snprintf(path, sizeof(path), "%s[%zu].functions[%zu].name", base, i, k);
			str(path, &d->fn[j].name);
			if (d->fn[j].has_ordinal) {
				snprintf(path, sizeof(path), "%s[%zu].functions[%zu].ordinal", base,
					 i, k);
				num(path, d->fn[j].ordinal);
			}
		}
	}
}

static void
dump(const struct pe_info *p, struct freader *f)
{
	const struct pe_header *h = pe_header(p);
	const struct pe_rich *rich = pe_rich_signature(p);
	struct pe_str s;
	char path[128], imph[33];
	uint16_t major, minor;
	size_t i;
	int def;
	uint32_t t;

	num("is_pe", 1);
	num("machine", h->machine);
	num("number_of_sections", h->number_of_sections);
	num("timestamp", h->timestamp);
	num("pointer_to_symbol_table", h->pointer_to_symbol_table);
	num("number_of_symbols", h->number_of_symbols);
	num("size_of_optional_header", h->size_of_optional_header);
	num("characteristics", h->characteristics);
	num("entry_point", h->entry_point);
	num("entry_point_raw", h->entry_point_raw);
	num("image_base", (int64_t)h->image_base);
	num("number_of_rva_and_sizes", h->number_of_rva_and_sizes);
	num("opthdr_magic", h->opthdr_magic);
	num("linker_version.major", h->linker_version_major);
	num("linker_version.minor", h->linker_version_minor);
	num("size_of_code", h->size_of_code);
	num("size_of_initialized_data", h->size_of_initialized_data);
	num("size_of_uninitialized_data", h->size_of_uninitialized_data);
	num("base_of_code", h->base_of_code);
	if (h->has_base_of_data)
		num("base_of_data", h->base_of_data);
	num("section_alignment", h->section_alignment);
	num("file_alignment", h->file_alignment);
	num("os_version.major", h->os_version_major);
	num("os_version.minor", h->os_version_minor);
	num("image_version.major", h->image_version_major);
	num("image_version.minor", h->image_version_minor);
	num("subsystem_version.major", h->subsystem_version_major);
	num("subsystem_version.minor", h->subsystem_version_minor);
	num("win32_version_value", h->win32_version_value);
	num("size_of_image", h->size_of_image);
	num("size_of_headers", h->size_of_headers);
	num("checksum", h->checksum);
	num("subsystem", h->subsystem);
	num("dll_characteristics", h->dll_characteristics);
	num("size_of_stack_reserve", (int64_t)h->size_of_stack_reserve);
	num("size_of_stack_commit", (int64_t)h->size_of_stack_commit);
	num("size_of_heap_reserve", (int64_t)h->size_of_heap_reserve);
	num("size_of_heap_commit", (int64_t)h->size_of_heap_commit);
	num("loader_flags", h->loader_flags);
	num("overlay.offset", (int64_t)h->overlay_offset);
	num("overlay.size", (int64_t)h->overlay_size);
	for (i = 0; i < pe_data_directory_count(p); i++) {
		snprintf(path, sizeof(path), "data_directories[%zu].virtual_address", i);
		num(path, pe_data_directory(p, i)->virtual_address);
		snprintf(path, sizeof(path), "data_directories[%zu].size", i);
		num(path, pe_data_directory(p, i)->size);
	}
	for (i = 0; i < pe_section_count(p); i++) {
		const struct pe_section *sec = pe_section(p, i);
#define SEC(field, v)                                                                              \
	do {                                                                                       \
		snprintf(path, sizeof(path), "sections[%zu]." field, i);                           \
		num(path, v);                                                                      \
	} while (0)
		snprintf(path, sizeof(path), "sections[%zu].name", i);
		str(path, &sec->name);
		snprintf(path, sizeof(path), "sections[%zu].full_name", i);
		str(path, &sec->full_name);
		SEC("characteristics", sec->characteristics);
		SEC("virtual_address", sec->virtual_address);
		SEC("virtual_size", sec->virtual_size);
		SEC("raw_data_offset", sec->raw_data_offset);
		SEC("raw_data_size", sec->raw_data_size);
		SEC("pointer_to_relocations", sec->pointer_to_relocations);
		SEC("pointer_to_line_numbers", sec->pointer_to_line_numbers);
		SEC("number_of_relocations", sec->number_of_relocations);
		SEC("number_of_line_numbers", sec->number_of_line_numbers);
#undef SEC
	}
	if (rich != NULL) {
		num("rich_signature.offset", (int64_t)rich->offset);
		num("rich_signature.length", (int64_t)rich->length);
		num("rich_signature.key", rich->key);
		str("rich_signature.raw_data", &rich->raw_data);
		str("rich_signature.clear_data", &rich->clear_data);
	}
	s = pe_pdb_path(p);
	str("pdb_path", &s);
	imports(p, 0);
	imports(p, 1);
	num("number_of_exports", (int64_t)pe_export_count(p));
	s = pe_export_dll_name(p);
	str("dll_name", &s);
	t = pe_export_timestamp(p, &def);
	if (def)
		num("export_timestamp", t);
	for (i = 0; i < pe_export_count(p); i++) {
		const struct pe_export *e = pe_export(p, i);

		snprintf(path, sizeof(path), "export_details[%zu].ordinal", i);
		num(path, e->ordinal);
		snprintf(path, sizeof(path), "export_details[%zu].name", i);
		str(path, &e->name);
		snprintf(path, sizeof(path), "export_details[%zu].forward_name", i);
		str(path, &e->forward_name);
		if (e->has_offset) {
			snprintf(path, sizeof(path), "export_details[%zu].offset", i);
			num(path, e->offset);
		}
	}
	num("number_of_resources", (int64_t)pe_resource_count(p));
	t = pe_resource_timestamp(p, &def);
	if (def)
		num("resource_timestamp", t);
	pe_resource_version(p, &major, &minor, &def);
	if (def) {
		num("resource_version.major", major);
		num("resource_version.minor", minor);
	}
	for (i = 0; i < pe_resource_count(p); i++) {
		const struct pe_resource *r = pe_resource(p, i);
#define RES(field, v)                                                                              \
	do {                                                                                       \
		snprintf(path, sizeof(path), "resources[%zu]." field, i);                          \
		num(path, v);                                                                      \
	} while (0)
#define RESS(field, v)                                                                             \
	do {                                                                                       \
		snprintf(path, sizeof(path), "resources[%zu]." field, i);                          \
		str(path, v);                                                                      \
	} while (0)
		RES("rva", r->rva);
		if (r->has_offset)
			RES("offset", r->offset);
		RES("length", r->length);
		if (r->has_type)
			RES("type", r->type);
		if (r->has_id)
			RES("id", r->id);
		if (r->has_language)
			RES("language", r->language);
		RESS("type_string", &r->type_string);
		RESS("name_string", &r->name_string);
		RESS("language_string", &r->language_string);
#undef RES
#undef RESS
	}
	num("number_of_version_infos", (int64_t)pe_version_info_count(p));
	for (i = 0; i < pe_version_info_count(p); i++) {
		const struct pe_version_entry *v = pe_version_info(p, i);
		struct pe_str last = pe_version_info_lookup(p, v->key.p);

		snprintf(path, sizeof(path), "version_info_list[%zu].key", i);
		str(path, &v->key);
		snprintf(path, sizeof(path), "version_info_list[%zu].value", i);
		str(path, &v->value);
		snprintf(path, sizeof(path), "version_info.%s", v->key.p);
		str(path, &last);
	}
	/* Not in yara -D: the queries, for the oracle test to check with
	 * rules (calculate_checksum, imphash, is_dll ...). */
	printf("#calculate_checksum = %" PRId64 "\n", pe_calculate_checksum(p, f));
	if (pe_imphash(p, imph) == 0)
		printf("#imphash = \"%s\"\n", imph);
	printf("#is_dll = %" PRId64 "\n", pe_is_dll(p));
	printf("#is_32bit = %" PRId64 "\n", pe_is_32bit(p));
	printf("#is_64bit = %" PRId64 "\n", pe_is_64bit(p));
}

static int
read_fd(void *arg, uint64_t off, void *buf, size_t n)
{
	int fd = *(int *)arg;

	return pread(fd, buf, n, (off_t)off) == (ssize_t)n ? 0 : -1;
}

int
main(int argc, char **argv)
{
	int fd = -1, r = 1, by_fn = 0, e;
	struct freader f;
	struct pe_info *p = NULL;
	uint8_t *data = NULL;
	static uint8_t win[FREADER_WINDOW];
	struct stat st;

	if (argc == 3 && strcmp(argv[1], "-r") == 0) {
		by_fn = 1;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: pe_dump [-r] FILE\n");
		goto out;
	}
	if ((fd = open(argv[1], O_RDONLY)) < 0 || fstat(fd, &st) != 0) {
		perror(argv[1]);
		goto out;
	}
	if (by_fn) {
		freader_init_fn(&f, (uint64_t)st.st_size, read_fd, &fd, win);
	} else {
		if ((data = malloc((size_t)st.st_size + 1)) == NULL ||
		    read_fd(&fd, 0, data, (size_t)st.st_size) != 0) {
			fprintf(stderr, "%s: cannot read\n", argv[1]);
			goto out;
		}
		freader_init_mem(&f, data, (uint64_t)st.st_size);
	}
	if ((e = pe_parse(&f, &p)) != 0) {
		fprintf(stderr, "pe_parse: %s\n", ward_strerror(e));
		goto out;
	}
	if (p == NULL)
		num("is_pe", 0);
	else
		dump(p, &f);
	r = 0;
out:
	pe_free(p);
	free(data);
	if (fd >= 0)
		close(fd);
	return r;
}
