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
	char path[1024];
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

/* A name fit to put in a rule's string literal. */
static int
plain(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isprint((unsigned char)*s) || *s == '"' || *s == '\\')
			return 0;
	return 1;
}

static void
query(const char *expr, int64_t v)
{
	if (v == PE_UNDEFINED)
		printf("#not defined %s\n", expr);
	else
		printf("#%s == %" PRId64 "\n", expr, v);
}

/* Not in yara -D: the module's functions, as "#CONDITION" lines that
 * tests/e2e/test_pe_oracle.py gives yara as rules that must all match. */
static void
queries(const struct pe_info *p, struct freader *f)
{
	const struct pe_rich *rich = pe_rich_signature(p);
	char expr[1024], imph[33];
	size_t i, j;

	query("pe.calculate_checksum()", pe_calculate_checksum(p, f));
	if (pe_imphash(p, imph) == 0)
		printf("#pe.imphash() == \"%s\"\n", imph);
	query("pe.is_dll()", pe_is_dll(p));
	query("pe.is_32bit()", pe_is_32bit(p));
	query("pe.is_64bit()", pe_is_64bit(p));
	snprintf(expr, sizeof(expr), "pe.rva_to_offset(%u)",
		 (unsigned)pe_header(p)->entry_point_raw);
	query(expr, pe_rva_to_offset(p, pe_header(p)->entry_point_raw));
	for (i = 0; i < pe_section_count(p); i++) {
		const struct pe_section *s = pe_section(p, i);

		snprintf(expr, sizeof(expr), "pe.rva_to_offset(%" PRIu64 ")",
			 (uint64_t)s->virtual_address + 1);
		query(expr, pe_rva_to_offset(p, (uint64_t)s->virtual_address + 1));
		snprintf(expr, sizeof(expr), "pe.section_index(%u)", (unsigned)s->raw_data_offset);
		query(expr, pe_section_index_offset(p, s->raw_data_offset));
		if (plain(s->name.p)) {
			snprintf(expr, sizeof(expr), "pe.section_index(\"%s\")", s->name.p);
			query(expr, pe_section_index_name(p, s->name.p));
		}
	}
	for (int del = 0; del < 2; del++) {
		for (i = 0; i < pe_import_dll_count(p, del); i++) {
			const struct pe_import_dll *d = pe_import_dll(p, del, i);
			int flags = del ? PE_IMPORT_DELAYED : PE_IMPORT_STANDARD;

			if (!plain(d->name.p))
				continue;
			snprintf(expr, sizeof(expr), "pe.imports(%d, \"%s\")", flags, d->name.p);
			query(expr, pe_imports_dll(p, flags, d->name.p));
			for (j = 0; j < d->nfn && j < 8; j++) {
				const struct pe_import_fn *fn = &d->fn[j];

				if (fn->has_ordinal) {
					snprintf(expr, sizeof(expr), "pe.imports(%d, \"%s\", %u)",
						 flags, d->name.p, (unsigned)fn->ordinal);
					query(expr,
					      pe_imports_ordinal(p, flags, d->name.p, fn->ordinal));
				}
				if (plain(fn->name.p)) {
					snprintf(expr, sizeof(expr),
						 "pe.imports(%d, \"%s\", \"%s\")", flags, d->name.p,
						 fn->name.p);
					query(expr, pe_imports_fn(p, flags, d->name.p, fn->name.p));
				}
			}
		}
	}
	for (i = 0; i < pe_export_count(p) && i < 64; i++) {
		const struct pe_export *e = pe_export(p, i);

		snprintf(expr, sizeof(expr), "pe.exports_index(%" PRId64 ")", e->ordinal);
		query(expr, pe_exports_ordinal(p, e->ordinal, 1));
		if (e->name.p != NULL && plain(e->name.p)) {
			snprintf(expr, sizeof(expr), "pe.exports_index(\"%s\")", e->name.p);
			query(expr, pe_exports_name(p, e->name.p, e->name.len, 1));
		}
	}
	for (i = 0; pe_signature(p, i) != NULL; i++) {
		const struct pe_signature *g = pe_signature(p, i);

		snprintf(expr, sizeof(expr), "pe.signatures[%zu].valid_on(%" PRId64 ")", i,
			 g->not_before);
		query(expr, pe_signature_valid_on(g, g->not_before));
		snprintf(expr, sizeof(expr), "pe.signatures[%zu].valid_on(%" PRId64 ")", i,
			 g->not_after + 1);
		query(expr, pe_signature_valid_on(g, g->not_after + 1));
	}
	query("pe.exports(\"no_such_export\")", pe_exports_name(p, "no_such_export", 14, 0));
	for (i = 0; i < pe_resource_count(p) && i < 64; i++) {
		const struct pe_resource *r = pe_resource(p, i);

		if (!r->has_language)
			continue;
		snprintf(expr, sizeof(expr), "pe.locale(%" PRId64 ")", r->language & 0xffff);
		query(expr, pe_locale(p, (uint64_t)r->language & 0xffff));
		snprintf(expr, sizeof(expr), "pe.language(%" PRId64 ")", r->language & 0xff);
		query(expr, pe_language(p, (uint64_t)r->language & 0xff));
	}
	for (i = 0; rich != NULL && i + 1 < 24 && 16 + 8 * i + 8 <= rich->length; i++) {
		const uint8_t *e = (const uint8_t *)rich->clear_data.p + 16 + 8 * i;
		unsigned ver = e[0] | e[1] << 8, tool = e[2] | e[3] << 8;

		snprintf(expr, sizeof(expr), "pe.rich_signature.version(%u)", ver);
		query(expr, pe_rich_version(p, ver, PE_UNDEFINED));
		snprintf(expr, sizeof(expr), "pe.rich_signature.toolid(%u)", tool);
		query(expr, pe_rich_version(p, PE_UNDEFINED, tool));
		snprintf(expr, sizeof(expr), "pe.rich_signature.version(%u, %u)", ver, tool);
		query(expr, pe_rich_version(p, ver, tool));
	}
}

static void
dump(const struct pe_info *p, struct freader *f)
{
	const struct pe_header *h = pe_header(p);
	const struct pe_rich *rich = pe_rich_signature(p);
	struct pe_str s;
	char path[1024];
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
	if (pe_number_of_signatures(p) != PE_UNDEFINED)
		num("number_of_signatures", pe_number_of_signatures(p));
	for (i = 0; pe_signature(p, i) != NULL; i++) {
		const struct pe_signature *g = pe_signature(p, i);
#define SIGS(field)                                                                                \
	do {                                                                                       \
		snprintf(path, sizeof(path), "signatures[%zu]." #field, i);                        \
		str(path, &g->field);                                                              \
	} while (0)
#define SIGN(field)                                                                                \
	do {                                                                                       \
		snprintf(path, sizeof(path), "signatures[%zu]." #field, i);                        \
		num(path, g->field);                                                               \
	} while (0)
		SIGS(thumbprint);
		SIGS(issuer);
		SIGS(subject);
		SIGN(version);
		SIGS(algorithm);
		SIGS(algorithm_oid);
		SIGS(serial);
		SIGN(not_before);
		SIGN(not_after);
#undef SIGS
#undef SIGN
	}
	num("number_of_version_infos", (int64_t)pe_version_info_count(p));
	for (i = 0; i < pe_version_info_count(p); i++) {
		const struct pe_version_entry *v = pe_version_info(p, i);
		struct pe_str last = pe_version_info_lookup(p, v->key.p);

		snprintf(path, sizeof(path), "version_info_list[%zu].key", i);
		str(path, &v->key);
		snprintf(path, sizeof(path), "version_info_list[%zu].value", i);
		str(path, &v->value);
		/* The key escaped as a value is (yara -D prints it raw). */
		snprintf(path, sizeof(path), "version_info.");
		for (size_t k = 0; v->key.p[k] != '\0'; k++) {
			unsigned char c = (unsigned char)v->key.p[k];
			size_t at = strlen(path);

			if (isprint(c))
				snprintf(path + at, sizeof(path) - at, "%c", c);
			else
				snprintf(path + at, sizeof(path) - at, "\\x%02x", c);
		}
		str(path, &last);
	}
	queries(p, f);
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
