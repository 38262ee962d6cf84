/*
 * fuzz_pe: libFuzzer target over the pe module's parser (lib/modules/pe),
 * which reads the scanned file: any bytes at all.  The input is the file;
 * it is parsed from memory and again through the freader's read function
 * (the scanner's windowed path), the two must agree, and every query runs
 * on the result.  Seeds (fuzz/corpus/pe/): small real PE files (ClamAV's
 * clam.exe, UPX and MEW packed copies, NSIS's uninstaller stub and a
 * plugin) and a mingw-built DLL with exports and version info (`make fuzz`
 * feeds at most 8 KiB of each; -max_len=65536 takes them whole).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/pe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
	const uint8_t *p;
	size_t n;
};

static int
read_mem(void *arg, uint64_t off, void *buf, size_t n)
{
	const struct mem *m = arg;

	if (off > m->n || n > m->n - off)
		return -1;
	memcpy(buf, m->p + off, n);
	return 0;
}

static int
match_any(void *arg, const char *s, size_t len)
{
	(void)arg;
	(void)s;
	return len > 0 ? 1 : -1;
}

static void
queries(const struct pe_info *p, struct freader *f)
{
	char imph[33];
	size_t i;

	(void)pe_calculate_checksum(p, f);
	(void)pe_imphash(p, imph);
	(void)pe_is_dll(p);
	(void)pe_rva_to_offset(p, pe_header(p)->entry_point_raw);
	(void)pe_rich_version(p, 0, PE_UNDEFINED);
	(void)pe_rich_version(p, PE_UNDEFINED, 0);
	(void)pe_imports_fn(p, PE_IMPORT_ANY, "kernel32.dll", "CreateFileA");
	(void)pe_imports_ordinal(p, PE_IMPORT_ANY, "ws2_32.dll", 1);
	(void)pe_imports_dll(p, PE_IMPORT_ANY, "user32.dll");
	(void)pe_imports_regex(p, PE_IMPORT_ANY, match_any, NULL, match_any, NULL);
	(void)pe_exports_name(p, "DllMain", 7, 1);
	(void)pe_exports_ordinal(p, 1, 0);
	(void)pe_exports_regex(p, match_any, NULL, 1);
	(void)pe_locale(p, 0x409);
	(void)pe_language(p, 9);
	(void)pe_section_index_name(p, ".text");
	(void)pe_section_index_offset(p, 0x400);
	(void)pe_version_info_lookup(p, "CompanyName");
	for (i = 0; i < pe_section_count(p); i++)
		(void)pe_rva_to_offset(p, pe_section(p, i)->virtual_address);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t win[FREADER_WINDOW];
	struct mem m = {data, size};
	struct freader fm, ff;
	struct pe_info *a = NULL, *b = NULL;
	int ra, rb;

	freader_init_mem(&fm, data, size);
	freader_init_fn(&ff, size, read_mem, &m, win);
	ra = pe_parse(&fm, &a);
	rb = pe_parse(&ff, &b);
	if (ra != rb || (a == NULL) != (b == NULL))
		abort();
	if (a != NULL) {
		if (pe_section_count(a) != pe_section_count(b) ||
		    pe_export_count(a) != pe_export_count(b) ||
		    pe_resource_count(a) != pe_resource_count(b) ||
		    pe_version_info_count(a) != pe_version_info_count(b) ||
		    pe_import_dll_count(a, 0) != pe_import_dll_count(b, 0) ||
		    pe_number_of_imported_functions(a, 1) !=
			pe_number_of_imported_functions(b, 1) ||
		    pe_header(a)->entry_point != pe_header(b)->entry_point)
			abort();
		queries(a, &fm);
		queries(b, &ff);
	}
	pe_free(a);
	pe_free(b);
	return 0;
}
