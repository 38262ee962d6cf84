/*
 * pe: the headers, sections, data directories, rich signature, debug
 * directory and checksum of a PE file, as YARA 4.2.3's pe module sees them,
 * and the entry point of the parser (see pe.h).  Imports, exports,
 * resources and signatures are in pe_imports.c, pe_exports.c,
 * pe_resources.c and pe_signatures.c.
 *
 * Must hold: every byte of the file is read through the freader, at an
 * offset computed in 64 bits from values already checked against the file
 * size; a loop over a count from the file is bounded by the file or by a
 * named limit; a malformed structure leaves its fields undefined, never an
 * error (only a failed allocation is one).
 */
#include "modules/pe_int.h"
#include "util/alloc.h"
#include "util/err.h"

#include <ctype.h>
#include <string.h>

#define PE_MZ 0x5A4D
#define PE_NT_SIG 0x00004550
#define PE_OPT64_MAGIC 0x20b
#define RICH_RICH 0x68636952
#define RICH_DANS 0x536e6144
#define CV_PDB20 0x3031424e
#define CV_PDB70 0x53445352
#define CV_MTOC 0x434f544d
#define DEBUG_DIR_SIZE 28
#define DEBUG_TYPE_CODEVIEW 2
#define RICH_HEADER_SIZE 16
#define RICH_ENTRY_SIZE 8

int
pe_str_set(struct pe_str *s, const void *bytes, size_t n)
{
	char *c = ward_malloc(n + 1);

	if (c == NULL)
		return WARD_ENOMEM;
	if (n > 0)
		memcpy(c, bytes, n);
	c[n] = '\0';
	s->p = c;
	s->len = n;
	return 0;
}

void
pe_str_free(struct pe_str *s)
{
	ward_free(s->p);
	s->p = NULL;
	s->len = 0;
}

int
pe_read_cstr(struct freader *f, uint64_t off, size_t max, struct pe_str *s)
{
	char buf[WARD_MAX_PE_NAME + 1];
	size_t len = 0;

	if (max > WARD_MAX_PE_NAME)
		max = WARD_MAX_PE_NAME;
	/* Too long or cut by the end of the file: what was read is the name
	 * (YARA's strndup stops there too); outside the file: "". */
	if (freader_cstr(f, off, max, buf, sizeof(buf), &len) == WARD_EFORMAT)
		len = 0;
	if (len > max)
		len = max;
	return pe_str_set(s, buf, len);
}

int
pe_valid_dll_name(struct freader *f, uint64_t off, size_t *len)
{
	const uint8_t *b;
	uint64_t avail;
	size_t n, i;

	*len = 0;
	if (off >= f->size)
		return 0;
	avail = f->size - off;
	n = avail < WARD_MAX_PE_NAME + 1 ? (size_t)avail : WARD_MAX_PE_NAME + 1;
	if (freader_peek(f, off, n, &b) != 0)
		return 0;
	/* Characters Windows refuses in a file name make the import one that
	 * can never load; YARA drops it.  The NUL must be inside the file. */
	for (i = 0; i < n && b[i] != '\0'; i++)
		if (b[i] < ' ' || b[i] == '"' || b[i] == '*' || b[i] == '<' || b[i] == '>' ||
		    b[i] == '?' || b[i] == '|')
			return 0;
	if (i == 0 || i >= n)
		return 0;
	*len = i;
	return 1;
}

int64_t
pe_rva_offset(const struct pe_info *p, uint64_t rva)
{
	uint32_t lowest = 0xffffffff, sec_rva = 0, sec_off = 0, sec_raw = 0;
	uint32_t align;
	size_t i;
	int64_t r;

	/* YARA gives up on every RVA when a section header it counts is not
	 * in the file. */
	if (p->sections_short)
		return -1;
	for (i = 0; i < p->nsec; i++) {
		const struct pe_section *s = &p->sec[i];

		if (lowest > s->virtual_address)
			lowest = s->virtual_address;
		/* The last section (by order, not lower in memory than the one
		 * found so far) that holds rva in its virtual size. */
		if (rva >= s->virtual_address && rva - s->virtual_address < s->virtual_size &&
		    sec_rva <= s->virtual_address) {
			/* FileAlignment of 0x200 or more is ignored (pefile). */
			align = p->h.file_alignment < 0x200 ? p->h.file_alignment : 0x200;
			sec_rva = s->virtual_address;
			sec_off = s->raw_data_offset;
			sec_raw = s->raw_data_size;
			if (align != 0)
				sec_off -= sec_off % align;
		}
	}
	/* Below the first section the file maps as it is. */
	if (rva < lowest) {
		sec_rva = 0;
		sec_off = 0;
		sec_raw = (uint32_t)p->file_size;
	}
	if (rva - sec_rva >= sec_raw)
		return -1;
	r = (int64_t)sec_off + (int64_t)(rva - sec_rva);
	if ((uint64_t)r >= p->file_size)
		return -1;
	return r;
}

int
pe_dir_entry(struct pe_info *p, struct freader *f, int i, uint32_t *va, uint32_t *size)
{
	uint64_t off = p->opt_off + (p->h.is_64bit ? 112 : 96) + (uint64_t)i * 8;

	/* Windows' RtlImageDirectoryEntryToData: an entry past the count is
	 * absent, except the COM descriptor of a 32-bit file; YARA compares
	 * with < (the entry at the count itself is read). */
	if ((i != PE_DIR_COM_DESCRIPTOR || p->h.is_64bit) &&
	    p->h.number_of_rva_and_sizes < (uint32_t)i)
		return -1;
	if (freader_u32(f, off, va) != 0 || freader_u32(f, off + 4, size) != 0)
		return -1;
	return 0;
}

/* Finds the NT headers as YARA's pe_get_header: 1 for a PE. */
static int
find_header(struct freader *f, uint64_t *nt_off, int *is64)
{
	uint16_t mz, magic;
	uint32_t lfanew, sig;
	uint64_t need;

	if (f->size < PE_DOS_HEADER_SIZE || freader_u16(f, 0, &mz) != 0 || mz != PE_MZ)
		return 0;
	if (freader_u32(f, 60, &lfanew) != 0 || (int32_t)lfanew < 0)
		return 0;
	need = (uint64_t)lfanew + 4 + PE_FILE_HEADER_SIZE;
	if (f->size < need + PE_OPT32_SIZE)
		return 0;
	if (freader_u32(f, lfanew, &sig) != 0 || sig != PE_NT_SIG)
		return 0;
	if (freader_u16(f, need, &magic) != 0)
		return 0;
	*is64 = magic == PE_OPT64_MAGIC;
	if (f->size < need + (*is64 ? PE_OPT64_SIZE : PE_OPT32_SIZE))
		return 0;
	*nt_off = lfanew;
	return 1;
}

/* The optional header, whole inside the file (find_header saw to it). */
static void
parse_optional(struct pe_info *p, const uint8_t *o)
{
	struct pe_header *h = &p->h;

#define U16(x) ((uint16_t)(o[x] | o[(x) + 1] << 8))
#define U32(x) ((uint32_t)U16(x) | (uint32_t)U16((x) + 2) << 16)
#define U64(x) ((uint64_t)U32(x) | (uint64_t)U32((x) + 4) << 32)
	h->opthdr_magic = U16(0);
	h->linker_version_major = o[2];
	h->linker_version_minor = o[3];
	h->size_of_code = U32(4);
	h->size_of_initialized_data = U32(8);
	h->size_of_uninitialized_data = U32(12);
	h->entry_point_raw = U32(16);
	h->base_of_code = U32(20);
	h->section_alignment = U32(32);
	h->file_alignment = U32(36);
	h->os_version_major = U16(40);
	h->os_version_minor = U16(42);
	h->image_version_major = U16(44);
	h->image_version_minor = U16(46);
	h->subsystem_version_major = U16(48);
	h->subsystem_version_minor = U16(50);
	h->win32_version_value = U32(52);
	h->size_of_image = U32(56);
	h->size_of_headers = U32(60);
	h->checksum = U32(64);
	h->subsystem = U16(68);
	h->dll_characteristics = U16(70);
	if (h->is_64bit) {
		h->image_base = U64(24);
		h->size_of_stack_reserve = U64(72);
		h->size_of_stack_commit = U64(80);
		h->size_of_heap_reserve = U64(88);
		h->size_of_heap_commit = U64(96);
		h->loader_flags = U32(104);
		h->number_of_rva_and_sizes = U32(108);
	} else {
		h->has_base_of_data = 1;
		h->base_of_data = U32(24);
		h->image_base = U32(28);
		h->size_of_stack_reserve = U32(72);
		h->size_of_stack_commit = U32(76);
		h->size_of_heap_reserve = U32(80);
		h->size_of_heap_commit = U32(84);
		h->loader_flags = U32(88);
		h->number_of_rva_and_sizes = U32(92);
	}
#undef U16
#undef U32
#undef U64
}

/* A section's full name: "/N" is an offset into the COFF string table
 * after the symbols.  0 or WARD_ENOMEM; undefined when the string leaves
 * the file or holds an unprintable byte. */
static int
section_full_name(struct pe_info *p, struct freader *f, struct pe_section *s)
{
	uint64_t off, idx = 0;
	const uint8_t *b;
	size_t i, n;

	if (p->h.pointer_to_symbol_table == 0 || s->name.len == 0 || s->name.p[0] != '/')
		return pe_str_set(&s->full_name, s->name.p, s->name.len);
	for (i = 1; i < 8 && isdigit((unsigned char)s->name.p[i]); i++)
		idx = idx * 10 + (uint64_t)(s->name.p[i] - '0');
	off = (uint64_t)p->h.pointer_to_symbol_table +
	      (uint64_t)p->h.number_of_symbols * PE_SYMBOL_SIZE + idx;
	if (off >= f->size)
		return 0;
	n = f->size - off < WARD_MAX_PE_NAME + 1 ? (size_t)(f->size - off) : WARD_MAX_PE_NAME + 1;
	if (freader_peek(f, off, n, &b) != 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (b[i] == '\0')
			return pe_str_set(&s->full_name, b, i);
		if (!isprint(b[i]))
			return 0;
	}
	return 0;
}

static int
parse_sections(struct pe_info *p, struct freader *f)
{
	uint64_t off = p->nt_off + 4 + PE_FILE_HEADER_SIZE + p->h.size_of_optional_header;
	uint64_t hi_off = 0, hi_size = 0, end;
	size_t n = p->h.number_of_sections, i, len;
	const uint8_t *b;
	int r = 0;

	if (n > WARD_MAX_PE_SECTIONS)
		n = WARD_MAX_PE_SECTIONS;
	for (i = 0; i < n; i++, off += PE_SECTION_HEADER_SIZE) {
		struct pe_section *s = &p->sec[i];

		if (freader_peek(f, off, PE_SECTION_HEADER_SIZE, &b) != 0) {
			p->sections_short = 1;
			break;
		}
#define U16(x) ((uint16_t)(b[x] | b[(x) + 1] << 8))
#define U32(x) ((uint32_t)U16(x) | (uint32_t)U16((x) + 2) << 16)
		s->virtual_size = U32(8);
		s->virtual_address = U32(12);
		s->raw_data_size = U32(16);
		s->raw_data_offset = U32(20);
		s->pointer_to_relocations = U32(24);
		s->pointer_to_line_numbers = U32(28);
		s->number_of_relocations = U16(32);
		s->number_of_line_numbers = U16(34);
		s->characteristics = U32(36);
#undef U16
#undef U32
		/* The name is NUL-padded; bytes after a NUL before the last
		 * non-NUL byte stay (YARA strips trailing NULs only). */
		for (len = 8; len > 0 && b[len - 1] == '\0'; len--)
			;
		if ((r = pe_str_set(&s->name, b, len)) != 0)
			goto out;
		p->nsec = i + 1;
		if ((r = section_full_name(p, f, s)) != 0)
			goto out;
		/* The overlay starts after the section that ends last in the
		 * file (the larger of two at the same offset). */
		end = (uint64_t)s->raw_data_offset + s->raw_data_size;
		if (end > hi_off + hi_size) {
			hi_off = s->raw_data_offset;
			hi_size = s->raw_data_size;
		}
	}
	end = hi_off + hi_size;
	if (end != 0 && f->size > end) {
		p->h.overlay_offset = end;
		p->h.overlay_size = f->size - end;
	}
out:
	return r;
}

/* The last dword at or below q (stepping by 4, not below the DOS header)
 * that XORed with x is want, or -1.  Read in blocks: the windowed reader
 * would load a window for every step backwards. */
static int64_t
scan_back(struct freader *f, int64_t q, uint32_t want, uint32_t x)
{
	const uint8_t *b;
	int64_t lo, k;

	while (q >= PE_DOS_HEADER_SIZE) {
		if (!freader_has(f, (uint64_t)q, 4)) {
			q -= 4;
			continue;
		}
		k = (q - PE_DOS_HEADER_SIZE) / 4 < 1023 ? (q - PE_DOS_HEADER_SIZE) / 4 : 1023;
		lo = q - 4 * k;
		if (freader_peek(f, (uint64_t)lo, (size_t)(q + 4 - lo), &b) != 0)
			return -1;
		for (; q >= lo; q -= 4) {
			const uint8_t *d = b + (q - lo);
			uint32_t v = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
				     (uint32_t)d[3] << 24;

			if ((v ^ x) == want)
				return q;
		}
	}
	return -1;
}

/*
 * The rich signature: a "Rich" marker and its XOR key found walking back
 * from the NT headers, then "DanS" (XORed with the key) further back.
 */
static int
parse_rich(struct pe_info *p, struct freader *f)
{
	int64_t rich, start = -1;
	uint32_t key = 0, k1, k2, k3, dans;
	uint64_t len, i;
	uint8_t *raw = NULL, *clear = NULL;
	int r = 0;

	if (p->nt_off > f->size + 4 || p->nt_off < 4)
		goto out;
	if ((rich = scan_back(f, (int64_t)p->nt_off - 4, RICH_RICH, 0)) < 0 ||
	    freader_u32(f, (uint64_t)rich + 4, &key) != 0 || key == 0)
		goto out;
	start = scan_back(f, rich - 4, RICH_DANS, key);
	if (start < 0)
		goto out;
	if (freader_u32(f, (uint64_t)start, &dans) != 0 ||
	    freader_u32(f, (uint64_t)start + 4, &k1) != 0 ||
	    freader_u32(f, (uint64_t)start + 8, &k2) != 0 ||
	    freader_u32(f, (uint64_t)start + 12, &k3) != 0)
		goto out;
	if (k1 != k2 || k2 != k3 || (dans ^ k1) != RICH_DANS)
		goto out;
	len = (uint64_t)(rich - start);
	if (len > WARD_MAX_PE_RICH)
		goto out;
	if ((raw = ward_malloc(len + 1)) == NULL || (clear = ward_malloc(len + 1)) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	if (freader_read(f, (uint64_t)start, raw, len) != 0)
		goto out;
	for (i = 0; i < len; i++)
		clear[i] = raw[i] ^ (uint8_t)(k1 >> (8 * (i % 4)));
	raw[len] = clear[len] = '\0';
	p->rich.offset = (uint64_t)start;
	p->rich.length = len;
	p->rich.key = k1;
	p->rich.raw_data.p = (char *)raw;
	p->rich.raw_data.len = len;
	p->rich.clear_data.p = (char *)clear;
	p->rich.clear_data.len = len;
	p->has_rich = 1;
	raw = clear = NULL;
out:
	ward_free(raw);
	ward_free(clear);
	return r;
}

/* The path of a CodeView record at off, if YARA would take it: 1. */
static int
codeview_path(struct freader *f, uint64_t off, uint64_t *path)
{
	uint32_t sig;

	if (!freader_has(f, off, 8) || freader_u32(f, off, &sig) != 0)
		return 0;
	/* The record must fit with one byte of its name. */
	if (sig == CV_PDB20 && freader_has(f, off, 17))
		*path = off + 16;
	else if (sig == CV_PDB70 && freader_has(f, off, 25))
		*path = off + 24;
	else if (sig == CV_MTOC && freader_has(f, off, 21))
		*path = off + 20;
	else
		return 0;
	return 1;
}

static int
parse_debug(struct pe_info *p, struct freader *f)
{
	uint32_t va, size, type, addr, ptr, i, n;
	uint64_t d, path;
	int64_t off, cv;
	char buf[WARD_MAX_PE_PDB_PATH + 1];
	size_t len;

	if (pe_dir_entry(p, f, PE_DIR_DEBUG, &va, &size) != 0 || size == 0 ||
	    size % DEBUG_DIR_SIZE != 0 || va == 0)
		return 0;
	if ((off = pe_rva_offset(p, va)) < 0)
		return 0;
	n = size / DEBUG_DIR_SIZE;
	for (i = 0; i < n; i++) {
		d = (uint64_t)off + (uint64_t)i * DEBUG_DIR_SIZE;
		if (!freader_has(f, d, DEBUG_DIR_SIZE))
			break;
		if (freader_u32(f, d + 12, &type) != 0 || type != DEBUG_TYPE_CODEVIEW)
			continue;
		if (freader_u32(f, d + 20, &addr) != 0 || freader_u32(f, d + 24, &ptr) != 0)
			continue;
		/* The record may be named by RVA or by raw offset. */
		cv = 0;
		if (addr != 0)
			cv = pe_rva_offset(p, addr);
		if (cv <= 0 && ptr != 0)
			cv = ptr;
		if (cv <= 0 || !codeview_path(f, (uint64_t)cv, &path))
			continue;
		if (freader_cstr(f, path, WARD_MAX_PE_PDB_PATH, buf, sizeof(buf), &len) ==
		    WARD_EFORMAT)
			continue;
		if (len > 0 && len < WARD_MAX_PE_PDB_PATH)
			return pe_str_set(&p->pdb_path, buf, len);
	}
	return 0;
}

int
pe_parse(struct freader *f, struct pe_info **out)
{
	struct pe_info *p = NULL;
	const uint8_t *b;
	uint64_t nt;
	int is64 = 0, r = 0;
	int32_t nd;

	*out = NULL;
	if (!find_header(f, &nt, &is64))
		goto out;
	if ((p = ward_calloc(1, sizeof(*p))) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	p->file_size = f->size;
	p->nt_off = nt;
	p->opt_off = nt + 4 + PE_FILE_HEADER_SIZE;
	p->h.is_64bit = is64;
	if ((r = freader_peek(f, nt + 4, PE_FILE_HEADER_SIZE, &b)) != 0)
		goto out;
	p->h.machine = (uint16_t)(b[0] | b[1] << 8);
	p->h.number_of_sections = (uint16_t)(b[2] | b[3] << 8);
	p->h.timestamp =
	    (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
	p->h.pointer_to_symbol_table =
	    (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 | (uint32_t)b[11] << 24;
	p->h.number_of_symbols =
	    (uint32_t)b[12] | (uint32_t)b[13] << 8 | (uint32_t)b[14] << 16 | (uint32_t)b[15] << 24;
	p->h.size_of_optional_header = (uint16_t)(b[16] | b[17] << 8);
	p->h.characteristics = (uint16_t)(b[18] | b[19] << 8);
	if ((r = freader_peek(f, p->opt_off, is64 ? PE_OPT64_SIZE : PE_OPT32_SIZE, &b)) != 0)
		goto out;
	parse_optional(p, b);
	/* YARA takes the count as a signed int: a huge one lists nothing. */
	nd = (int32_t)p->h.number_of_rva_and_sizes;
	p->ndir = nd < 0 ? 0 : nd > PE_DATA_DIRS ? PE_DATA_DIRS : (size_t)nd;
	for (size_t i = 0; i < p->ndir; i++) {
		uint64_t o = p->opt_off + (is64 ? 112 : 96) + i * 8;

		if (freader_u32(f, o, &p->dir[i].virtual_address) != 0 ||
		    freader_u32(f, o + 4, &p->dir[i].size) != 0) {
			p->ndir = i;
			break;
		}
	}
	if ((r = parse_sections(p, f)) != 0)
		goto out;
	p->h.entry_point = pe_rva_offset(p, p->h.entry_point_raw);
	if ((r = parse_rich(p, f)) != 0 || (r = parse_debug(p, f)) != 0 ||
	    (r = pe_parse_signatures(p, f)) != 0 || (r = pe_parse_resources(p, f)) != 0 ||
	    (r = pe_parse_imports(p, f)) != 0 || (r = pe_parse_delayed_imports(p, f)) != 0 ||
	    (r = pe_parse_exports(p, f)) != 0)
		goto out;
	*out = p;
	p = NULL;
out:
	pe_free(p);
	return r;
}

void
pe_free(struct pe_info *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nsec; i++) {
		pe_str_free(&p->sec[i].name);
		pe_str_free(&p->sec[i].full_name);
	}
	pe_str_free(&p->rich.raw_data);
	pe_str_free(&p->rich.clear_data);
	pe_str_free(&p->pdb_path);
	pe_import_list_free(&p->imp);
	pe_import_list_free(&p->delay);
	for (i = 0; i < p->nexp; i++) {
		pe_str_free(&p->exp[i].name);
		pe_str_free(&p->exp[i].forward_name);
	}
	ward_free(p->exp);
	pe_str_free(&p->exp_dll_name);
	pe_resources_free(p);
	pe_signatures_free(p);
	ward_free(p);
}

const struct pe_header *
pe_header(const struct pe_info *p)
{
	return p != NULL ? &p->h : NULL;
}

size_t
pe_section_count(const struct pe_info *p)
{
	return p != NULL ? p->nsec : 0;
}

const struct pe_section *
pe_section(const struct pe_info *p, size_t i)
{
	return p != NULL && i < p->nsec ? &p->sec[i] : NULL;
}

size_t
pe_data_directory_count(const struct pe_info *p)
{
	return p != NULL ? p->ndir : 0;
}

const struct pe_data_directory *
pe_data_directory(const struct pe_info *p, size_t i)
{
	return p != NULL && i < p->ndir ? &p->dir[i] : NULL;
}

const struct pe_rich *
pe_rich_signature(const struct pe_info *p)
{
	return p != NULL && p->has_rich ? &p->rich : NULL;
}

struct pe_str
pe_pdb_path(const struct pe_info *p)
{
	struct pe_str none = {NULL, 0};

	return p != NULL ? p->pdb_path : none;
}

int64_t
pe_rva_to_offset(const struct pe_info *p, uint64_t rva)
{
	int64_t off;

	if (p == NULL || (off = pe_rva_offset(p, rva)) == -1)
		return PE_UNDEFINED;
	return off;
}

int64_t
pe_calculate_checksum(const struct pe_info *p, struct freader *f)
{
	uint64_t csum = 0, csum_off, i, off, n, size;
	const uint8_t *b;
	size_t j;

	if (p == NULL)
		return PE_UNDEFINED;
	size = f->size;
	csum_off = p->opt_off + 64;
	/* Dwords little-endian, the CheckSum field as 0 (only when it is
	 * dword-aligned: YARA compares offsets), the tail zero-padded. */
	for (off = 0; off < size; off += n) {
		n = size - off < FREADER_WINDOW ? size - off : FREADER_WINDOW;
		if (freader_peek(f, off, (size_t)n, &b) != 0)
			return PE_UNDEFINED;
		for (i = 0; i < n; i += 4) {
			uint64_t d = 0;

			if (off + i == csum_off)
				continue;
			for (j = 0; j < 4 && i + j < n; j++)
				d |= (uint64_t)b[i + j] << (8 * j);
			csum += d;
			if (csum > 0xffffffff)
				csum = (csum & 0xffffffff) + (csum >> 32);
		}
	}
	csum = (csum & 0xffff) + (csum >> 16);
	csum += csum >> 16;
	csum &= 0xffff;
	csum += size;
	return (int64_t)csum;
}

int64_t
pe_is_dll(const struct pe_info *p)
{
	return p != NULL ? (p->h.characteristics & 0x2000) : PE_UNDEFINED;
}

int64_t
pe_is_32bit(const struct pe_info *p)
{
	return p != NULL ? !p->h.is_64bit : PE_UNDEFINED;
}

int64_t
pe_is_64bit(const struct pe_info *p)
{
	return p != NULL ? p->h.is_64bit : PE_UNDEFINED;
}

int64_t
pe_rich_version(const struct pe_info *p, int64_t version, int64_t toolid)
{
	const uint8_t *c;
	uint64_t i, n;
	int64_t sum = 0;

	if (p == NULL || !p->has_rich)
		return PE_UNDEFINED;
	if (version == PE_UNDEFINED && toolid == PE_UNDEFINED)
		return 0;
	c = (const uint8_t *)p->rich.clear_data.p;
	n = p->rich.length < RICH_HEADER_SIZE
		? 0
		: (p->rich.length - RICH_HEADER_SIZE) / RICH_ENTRY_SIZE;
	for (i = 0; i < n; i++) {
		const uint8_t *e = c + RICH_HEADER_SIZE + i * RICH_ENTRY_SIZE;
		uint32_t idv = (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 |
			       (uint32_t)e[3] << 24;
		uint32_t times = (uint32_t)e[4] | (uint32_t)e[5] << 8 | (uint32_t)e[6] << 16 |
				 (uint32_t)e[7] << 24;

		if ((version == PE_UNDEFINED || version == (int64_t)(idv & 0xffff)) &&
		    (toolid == PE_UNDEFINED || toolid == (int64_t)(idv >> 16)))
			sum += times;
	}
	return sum;
}

int64_t
pe_section_index_name(const struct pe_info *p, const char *name)
{
	size_t i;

	if (p == NULL)
		return PE_UNDEFINED;
	/* YARA compares C strings: a name stops at its first NUL. */
	for (i = 0; i < p->nsec; i++)
		if (strcmp(name, p->sec[i].name.p) == 0)
			return (int64_t)i;
	return PE_UNDEFINED;
}

int64_t
pe_section_index_offset(const struct pe_info *p, int64_t offset)
{
	size_t i;

	if (p == NULL)
		return PE_UNDEFINED;
	for (i = 0; i < p->nsec; i++) {
		int64_t o = p->sec[i].raw_data_offset, n = p->sec[i].raw_data_size;

		if (offset >= o && offset < o + n)
			return (int64_t)i;
	}
	return PE_UNDEFINED;
}
