/*
 * elf: the ELF parser behind the rule module `elf`.  See elf.h.
 *
 * The answers are YARA 4.2.3's, quirks included, since rules written
 * against YARA must mean the same here: a section's name is looked up to
 * the end of the file rather than of its string table; sh_link of a symbol
 * table is compared with the section count as stored in the file's bytes
 * read little-endian; a second PT_DYNAMIC segment overwrites the entries
 * of the first from index 0 but leaves the rest defined; the entry point
 * is a file offset found through the program headers for ET_EXEC and the
 * sections otherwise, with 32-bit sums wrapping at 32 bits.
 *
 * Must hold: every byte of the file comes through the freader, one header
 * or entry at a time into a local copy of its fixed size; every offset and
 * count from the file is checked before use; every loop over a count from
 * the file is bounded by a 16-bit count or a limit of limits.h.
 */
#include "modules/elf.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"

#include <limits.h>
#include <string.h>

#define ET_EXEC 2
#define SHT_NULL 0
#define SHT_SYMTAB 2
#define SHT_STRTAB 3
#define SHT_NOBITS 8
#define SHT_DYNSYM 11
#define PT_DYNAMIC 2
#define SHN_LORESERVE 0xff00
#define PN_XNUM 0xffff
/* What YARA uses for "undefined": an entry point that comes out as this
 * value is undefined there too. */
#define YR_UNDEFINED_VALUE 0xFFFABADAFABADAFFull

#define NO_NAME UINT32_MAX
#define SYM_TABLES 2 /* symtab, dynsym */

struct sec {
	uint64_t flags, address, size, offset;
	uint32_t type, name;
};

struct seg {
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
	uint32_t type, flags;
};

struct dyn {
	uint64_t tag, val;
};

struct sym {
	uint64_t value, size;
	uint32_t name;
	uint16_t shndx;
	uint8_t info;
};

struct elf_info {
	int64_t field[ELF_NFIELDS];
	uint32_t defined; /* bit per elf_field */
	struct sec *sec;
	size_t nsec;
	struct seg *seg;
	size_t nseg;
	struct dyn *dyn;
	size_t ndyn, capdyn;
	struct sym *sym[SYM_TABLES];
	size_t nsym[SYM_TABLES];
	struct wbuf names; /* NUL-terminated names, referred to by offset */
	int truncated;
};

/* The parse's state: the reader, the file's class and byte order, and a
 * buffer for one name. */
struct ctx {
	struct freader *f;
	uint64_t size;
	int is64, be;
	struct elf_info *e;
	uint64_t scan; /* bytes left to look at for names' ends */
	char name[WARD_MAX_ELF_NAME + 1];
};

/* Sizes of the ELF structures for 32- and 64-bit files. */
#define EHDR_SIZE(c) ((c)->is64 ? 64u : 52u)
#define SHDR_SIZE(c) ((c)->is64 ? 64u : 40u)
#define PHDR_SIZE(c) ((c)->is64 ? 56u : 32u)
#define SYM_SIZE(c) ((c)->is64 ? 24u : 16u)
#define DYN_SIZE(c) ((c)->is64 ? 16u : 8u)
#define LARGEST_STRUCT 64

/* The w-byte integer at `at` of a structure copied into b (n bytes). */
static uint64_t
dec(const struct ctx *c, const uint8_t *b, size_t n, size_t at, unsigned w)
{
	uint64_t v = 0;
	unsigned i;

	if (at > n || w > n - at)
		return 0;
	for (i = 0; i < w; i++)
		v |= (uint64_t)b[at + (c->be ? i : w - 1 - i)] << (8 * (w - 1 - i));
	return v;
}

/* An address, offset or xword: 4 bytes in a 32-bit file, 8 in a 64-bit. */
static uint64_t
dec_word(const struct ctx *c, const uint8_t *b, size_t n, size_t at32, size_t at64)
{
	return c->is64 ? dec(c, b, n, at64, 8) : dec(c, b, n, at32, 4);
}

/* Copies the n-byte structure at off into b: 0 or WARD_EFORMAT. */
static int
load(struct ctx *c, uint64_t off, uint8_t *b, size_t n)
{
	return freader_read(c->f, off, b, n);
}

/* YARA's is_valid_ptr over the file: n bytes at off all inside it. */
static int
inside(const struct ctx *c, uint64_t off, uint64_t n)
{
	return off <= c->size && n <= c->size - off;
}

/* A sum of two file words, wrapping as YARA's does in 32-bit files. */
static uint64_t
wsum(const struct ctx *c, uint64_t a, uint64_t b)
{
	return c->is64 ? a + b : (uint32_t)(a + b);
}

static void
set(struct elf_info *e, enum elf_field fld, int64_t v)
{
	e->field[fld] = v;
	e->defined |= 1u << fld;
}

/*
 * YARA's str_table_entry: the string at index in the table [base, limit)
 * (limit <= file size), when the table starts with a NUL and the string
 * ends before limit.  Copies it into the names and returns its offset
 * there, or NO_NAME.
 */
static uint32_t
name_at(struct ctx *c, uint64_t base, uint64_t limit, uint32_t index)
{
	uint64_t at, max;
	uint8_t first;
	size_t len;
	uint32_t ref;

	if (base >= limit || freader_u8(c->f, base, &first) != 0 || first != 0)
		return NO_NAME;
	if (index > INT_MAX || index >= limit - base) /* YARA takes it as an int */
		return NO_NAME;
	at = base + index;
	max = limit - at;
	if (max > WARD_MAX_ELF_NAME + 1) {
		max = WARD_MAX_ELF_NAME + 1;
	}
	if (c->scan < max) {
		c->e->truncated = 1;
		return NO_NAME;
	}
	if (freader_cstr(c->f, at, (size_t)max, c->name, sizeof(c->name), &len) != 0) {
		c->scan -= max;
		if (max == WARD_MAX_ELF_NAME + 1)
			c->e->truncated = 1;
		return NO_NAME;
	}
	c->scan -= len + 1;
	if (c->e->names.len + len + 1 > WARD_MAX_ELF_NAME_BYTES) {
		c->e->truncated = 1;
		return NO_NAME;
	}
	ref = (uint32_t)c->e->names.len;
	wbuf_put(&c->e->names, c->name, len + 1);
	return ref;
}

/* The entry point as a file offset (YARA's elf_rva_to_offset): 1 and *off,
 * or 0 when no segment or section maps it. */
static int
entry_offset(struct ctx *c, uint16_t type, uint64_t rva, uint64_t phoff, uint16_t phnum,
	     uint64_t shoff, uint16_t shnum, uint64_t *off)
{
	uint8_t b[LARGEST_STRUCT];
	uint64_t toff, tsize, start, len, foff;
	unsigned esz, i, count;
	int exec = type == ET_EXEC;

	toff = exec ? phoff : shoff;
	count = exec ? phnum : shnum;
	esz = exec ? PHDR_SIZE(c) : SHDR_SIZE(c);
	tsize = (uint64_t)esz * count;
	if (toff == 0 || !inside(c, toff, tsize) || count == 0)
		return 0;
	for (i = 0; i < count; i++) {
		if (load(c, toff + (uint64_t)i * esz, b, esz) != 0)
			return 0;
		if (exec) {
			start = dec_word(c, b, esz, 8, 16);
			len = dec_word(c, b, esz, 20, 40);
			foff = dec_word(c, b, esz, 4, 8);
		} else {
			uint32_t st = (uint32_t)dec(c, b, esz, 4, 4);

			if (st == SHT_NULL || st == SHT_NOBITS)
				continue;
			start = dec_word(c, b, esz, 12, 16);
			len = dec_word(c, b, esz, 20, 32);
			foff = dec_word(c, b, esz, 16, 24);
		}
		if (rva >= start && rva < wsum(c, start, len)) {
			*off = foff + (rva - start);
			return *off != YR_UNDEFINED_VALUE;
		}
	}
	return 0;
}

/* Where a symbol table and its string table are, as YARA finds them. */
struct symloc {
	uint64_t off, size, stroff, strsize;
	int found;
};

/* Reads the symbols of the table at l into table t of e. */
static int
read_symbols(struct ctx *c, const struct symloc *l, int t)
{
	struct elf_info *e = c->e;
	uint8_t b[LARGEST_STRUCT];
	uint64_t count, j;
	unsigned esz = SYM_SIZE(c);
	struct sym *s;
	int r = 0;

	if (!l->found || !inside(c, l->stroff, l->strsize) || !inside(c, l->off, l->size))
		goto out;
	count = l->size / esz;
	set(e, t == 0 ? ELF_SYMTAB_ENTRIES : ELF_DYNSYM_ENTRIES, (int64_t)count);
	if (count > WARD_MAX_ELF_SYMBOLS) {
		count = WARD_MAX_ELF_SYMBOLS;
		e->truncated = 1;
	}
	if (count == 0)
		goto out;
	e->sym[t] = ward_calloc((size_t)count, sizeof(*e->sym[t]));
	if (e->sym[t] == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	for (j = 0; j < count; j++) {
		if (load(c, l->off + j * esz, b, esz) != 0)
			break;
		s = &e->sym[t][j];
		s->name =
		    name_at(c, l->stroff, l->stroff + l->strsize, (uint32_t)dec(c, b, esz, 0, 4));
		s->info = (uint8_t)dec(c, b, esz, c->is64 ? 4 : 12, 1);
		s->shndx = (uint16_t)dec(c, b, esz, c->is64 ? 6 : 14, 2);
		s->value = dec_word(c, b, esz, 4, 8);
		s->size = c->is64 ? dec(c, b, esz, 16, 8) : dec(c, b, esz, 8, 4);
	}
	e->nsym[t] = (size_t)j;
out:
	return r;
}

/* The sections, their names and the symbol tables they point at. */
static int
read_sections(struct ctx *c, uint64_t shoff, uint16_t shnum, uint16_t shstrndx, uint16_t shnum_raw)
{
	struct elf_info *e = c->e;
	uint8_t b[LARGEST_STRUCT], lb[LARGEST_STRUCT];
	struct symloc loc[SYM_TABLES];
	uint64_t stroff = 0;
	unsigned esz = SHDR_SIZE(c), i;
	int have_str = 0, t, r = 0;
	uint32_t name, link;
	struct sec *s;

	memset(loc, 0, sizeof(loc));
	if (shnum >= SHN_LORESERVE || shstrndx >= shnum || shoff >= c->size ||
	    !inside(c, shoff, (uint64_t)shnum * esz))
		goto out;
	if (load(c, shoff + (uint64_t)shstrndx * esz, b, esz) != 0)
		goto out;
	stroff = dec_word(c, b, esz, 16, 24);
	/* YARA takes the table only when it starts inside the file and not at
	 * its first byte (a NULL or base pointer there). */
	have_str = stroff < c->size && stroff > 0;
	e->sec = ward_calloc(shnum, sizeof(*e->sec));
	if (e->sec == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	for (i = 0; i < shnum; i++) {
		if (load(c, shoff + (uint64_t)i * esz, b, esz) != 0)
			break;
		s = &e->sec[i];
		name = (uint32_t)dec(c, b, esz, 0, 4);
		s->type = (uint32_t)dec(c, b, esz, 4, 4);
		s->flags = dec_word(c, b, esz, 8, 8);
		s->address = dec_word(c, b, esz, 12, 16);
		s->offset = dec_word(c, b, esz, 16, 24);
		s->size = dec_word(c, b, esz, 20, 32);
		link = (uint32_t)dec(c, b, esz, c->is64 ? 40 : 24, 4);
		s->name = NO_NAME;
		if (have_str && name < c->size)
			s->name = name_at(c, stroff, c->size, name);
		if ((s->type != SHT_SYMTAB && s->type != SHT_DYNSYM) || link >= shnum_raw)
			continue;
		if (!inside(c, shoff + (uint64_t)link * esz, esz) ||
		    load(c, shoff + (uint64_t)link * esz, lb, esz) != 0 ||
		    dec(c, lb, esz, 4, 4) != SHT_STRTAB)
			continue;
		t = s->type == SHT_SYMTAB ? 0 : 1;
		loc[t].found = 1;
		loc[t].off = s->offset;
		loc[t].size = s->size;
		loc[t].stroff = dec_word(c, lb, esz, 16, 24);
		loc[t].strsize = dec_word(c, lb, esz, 20, 32);
	}
	e->nsec = i;
	for (t = 0; t < SYM_TABLES && r == 0; t++)
		r = read_symbols(c, &loc[t], t);
out:
	return r;
}

/* The entries of a PT_DYNAMIC segment at off, from index 0 over what an
 * earlier one left; *budget counts the entries still to be read. */
static int
read_dynamic(struct ctx *c, uint64_t off, size_t *budget)
{
	struct elf_info *e = c->e;
	uint8_t b[LARGEST_STRUCT];
	unsigned esz = DYN_SIZE(c);
	size_t j;
	int r = 0;

	for (j = 0; inside(c, off, (uint64_t)(j + 1) * esz); j++) {
		if (*budget == 0) {
			e->truncated = 1;
			break;
		}
		(*budget)--;
		if (load(c, off + (uint64_t)j * esz, b, esz) != 0)
			break;
		if (j >= e->ndyn) {
			if (ward_grow(&e->dyn, &e->capdyn, j + 1, sizeof(*e->dyn)) != 0) {
				r = WARD_ENOMEM;
				goto out;
			}
			e->ndyn = j + 1;
		}
		e->dyn[j].tag = dec_word(c, b, esz, 0, 0);
		e->dyn[j].val = dec_word(c, b, esz, 4, 8);
		if (e->dyn[j].tag == 0) {
			j++;
			break;
		}
	}
	set(e, ELF_DYNAMIC_SECTION_ENTRIES, (int64_t)j);
out:
	return r;
}

/* The program headers and the dynamic entries they point at. */
static int
read_segments(struct ctx *c, uint64_t phoff, uint16_t phnum)
{
	struct elf_info *e = c->e;
	uint8_t b[LARGEST_STRUCT];
	unsigned esz = PHDR_SIZE(c), i;
	size_t budget = WARD_MAX_ELF_DYNAMIC;
	struct seg *s;
	int r = 0;

	if (phnum == 0 || phnum >= PN_XNUM || phoff >= c->size ||
	    !inside(c, phoff, (uint64_t)phnum * esz))
		goto out;
	e->seg = ward_calloc(phnum, sizeof(*e->seg));
	if (e->seg == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	for (i = 0; i < phnum && r == 0; i++) {
		if (load(c, phoff + (uint64_t)i * esz, b, esz) != 0)
			break;
		s = &e->seg[i];
		s->type = (uint32_t)dec(c, b, esz, 0, 4);
		s->flags = (uint32_t)dec(c, b, esz, c->is64 ? 4 : 24, 4);
		s->offset = dec_word(c, b, esz, 4, 8);
		s->vaddr = dec_word(c, b, esz, 8, 16);
		s->paddr = dec_word(c, b, esz, 12, 24);
		s->filesz = dec_word(c, b, esz, 16, 32);
		s->memsz = dec_word(c, b, esz, 20, 40);
		s->align = dec_word(c, b, esz, 28, 48);
		e->nseg = i + 1;
		if (s->type == PT_DYNAMIC)
			r = read_dynamic(c, s->offset, &budget);
	}
out:
	return r;
}

int
elf_parse(struct freader *f, struct elf_info **out)
{
	static const uint8_t magic[4] = {0x7f, 'E', 'L', 'F'};
	uint8_t id[16], h[LARGEST_STRUCT];
	uint64_t entry, phoff, shoff, off;
	uint16_t type, phnum, shnum, shstrndx;
	struct ctx *c = NULL;
	struct elf_info *e = NULL;
	unsigned hsz;
	int r = 0;

	*out = NULL;
	if (freader_read(f, 0, id, sizeof(id)) != 0 || memcmp(id, magic, 4) != 0 ||
	    (id[4] != 1 && id[4] != 2) || (id[5] != 1 && id[5] != 2))
		goto out;
	c = ward_calloc(1, sizeof(*c));
	if (c == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	c->f = f;
	c->size = f->size;
	c->scan = WARD_MAX_ELF_NAME_SCAN;
	c->is64 = id[4] == 2;
	c->be = id[5] == 2;
	hsz = EHDR_SIZE(c);
	/* YARA wants more than the header: a file of exactly its size is not
	 * parsed. */
	if (c->size <= hsz || load(c, 0, h, hsz) != 0)
		goto out;
	e = ward_calloc(1, sizeof(*e));
	if (e == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	wbuf_init(&e->names);
	c->e = e;
	type = (uint16_t)dec(c, h, hsz, 16, 2);
	entry = dec_word(c, h, hsz, 24, 24);
	phoff = dec_word(c, h, hsz, 28, 32);
	shoff = dec_word(c, h, hsz, 32, 40);
	phnum = (uint16_t)dec(c, h, hsz, c->is64 ? 56 : 44, 2);
	shnum = (uint16_t)dec(c, h, hsz, c->is64 ? 60 : 48, 2);
	shstrndx = (uint16_t)dec(c, h, hsz, c->is64 ? 62 : 50, 2);
	set(e, ELF_TYPE, type);
	set(e, ELF_MACHINE, (int64_t)dec(c, h, hsz, 18, 2));
	set(e, ELF_SH_OFFSET, (int64_t)shoff);
	set(e, ELF_SH_ENTRY_SIZE, (int64_t)dec(c, h, hsz, c->is64 ? 58 : 46, 2));
	set(e, ELF_NUMBER_OF_SECTIONS, shnum);
	set(e, ELF_PH_OFFSET, (int64_t)phoff);
	set(e, ELF_PH_ENTRY_SIZE, (int64_t)dec(c, h, hsz, c->is64 ? 54 : 42, 2));
	set(e, ELF_NUMBER_OF_SEGMENTS, phnum);
	if (entry != 0 && entry_offset(c, type, entry, phoff, phnum, shoff, shnum, &off))
		set(e, ELF_ENTRY_POINT, (int64_t)off);
	/* YARA compares sh_link with the count as the bytes read on a
	 * little-endian host, swapped or not. */
	r = read_sections(c, shoff, shnum, shstrndx,
			  c->be ? (uint16_t)(shnum >> 8 | shnum << 8) : shnum);
	if (r == 0)
		r = read_segments(c, phoff, phnum);
	if (r == 0)
		r = e->names.err;
	if (r == 0) {
		*out = e;
		e = NULL;
	}
out:
	elf_free(e);
	ward_free(c);
	return r;
}

void
elf_free(struct elf_info *e)
{
	int t;

	if (e == NULL)
		return;
	ward_free(e->sec);
	ward_free(e->seg);
	ward_free(e->dyn);
	for (t = 0; t < SYM_TABLES; t++)
		ward_free(e->sym[t]);
	wbuf_free(&e->names);
	ward_free(e);
}

int
elf_get(const struct elf_info *e, enum elf_field fld, int64_t *v)
{
	if (e == NULL || (unsigned)fld >= ELF_NFIELDS || (e->defined & (1u << fld)) == 0)
		return 0;
	*v = e->field[fld];
	return 1;
}

size_t
elf_items(const struct elf_info *e, enum elf_array a)
{
	if (e == NULL)
		return 0;
	switch (a) {
	case ELF_SECTIONS:
		return e->nsec;
	case ELF_SEGMENTS:
		return e->nseg;
	case ELF_DYNAMIC:
		return e->ndyn;
	case ELF_SYMTAB:
		return e->nsym[0];
	case ELF_DYNSYM:
		return e->nsym[1];
	default:
		return 0;
	}
}

enum elf_array
elf_item_array(enum elf_item_field fld)
{
	if (fld <= ELF_SEC_NAME)
		return ELF_SECTIONS;
	if (fld <= ELF_SEG_ALIGNMENT)
		return ELF_SEGMENTS;
	if (fld <= ELF_DYN_VAL)
		return ELF_DYNAMIC;
	return ELF_SYMTAB;
}

/* 1 when fld is a field of items of a. */
static int
item_of(enum elf_array a, enum elf_item_field fld)
{
	enum elf_array k = elf_item_array(fld);

	return (unsigned)fld < ELF_NITEM_FIELDS && (k == a || (k == ELF_SYMTAB && a == ELF_DYNSYM));
}

int
elf_item(const struct elf_info *e, enum elf_array a, size_t i, enum elf_item_field fld, int64_t *v)
{
	const struct sym *s;
	uint64_t x;

	if (i >= elf_items(e, a) || !item_of(a, fld) || fld == ELF_SEC_NAME || fld == ELF_SYM_NAME)
		return 0;
	switch (fld) {
	case ELF_SEC_TYPE:
		x = e->sec[i].type;
		break;
	case ELF_SEC_FLAGS:
		x = e->sec[i].flags;
		break;
	case ELF_SEC_ADDRESS:
		x = e->sec[i].address;
		break;
	case ELF_SEC_SIZE:
		x = e->sec[i].size;
		break;
	case ELF_SEC_OFFSET:
		x = e->sec[i].offset;
		break;
	case ELF_SEG_TYPE:
		x = e->seg[i].type;
		break;
	case ELF_SEG_FLAGS:
		x = e->seg[i].flags;
		break;
	case ELF_SEG_OFFSET:
		x = e->seg[i].offset;
		break;
	case ELF_SEG_VIRTUAL_ADDRESS:
		x = e->seg[i].vaddr;
		break;
	case ELF_SEG_PHYSICAL_ADDRESS:
		x = e->seg[i].paddr;
		break;
	case ELF_SEG_FILE_SIZE:
		x = e->seg[i].filesz;
		break;
	case ELF_SEG_MEMORY_SIZE:
		x = e->seg[i].memsz;
		break;
	case ELF_SEG_ALIGNMENT:
		x = e->seg[i].align;
		break;
	case ELF_DYN_TYPE:
		x = e->dyn[i].tag;
		break;
	case ELF_DYN_VAL:
		x = e->dyn[i].val;
		break;
	default:
		s = &e->sym[a == ELF_SYMTAB ? 0 : 1][i];
		switch (fld) {
		case ELF_SYM_VALUE:
			x = s->value;
			break;
		case ELF_SYM_SIZE:
			x = s->size;
			break;
		case ELF_SYM_TYPE:
			x = s->info & 0xf;
			break;
		case ELF_SYM_BIND:
			x = s->info >> 4;
			break;
		default:
			x = s->shndx;
			break;
		}
	}
	*v = (int64_t)x;
	return 1;
}

const char *
elf_item_str(const struct elf_info *e, enum elf_array a, size_t i, enum elf_item_field fld,
	     size_t *len)
{
	uint32_t ref;
	const char *s;

	if (i >= elf_items(e, a) || !item_of(a, fld))
		return NULL;
	if (fld == ELF_SEC_NAME)
		ref = e->sec[i].name;
	else if (fld == ELF_SYM_NAME)
		ref = e->sym[a == ELF_SYMTAB ? 0 : 1][i].name;
	else
		return NULL;
	if (ref == NO_NAME)
		return NULL;
	s = (const char *)e->names.p + ref;
	*len = strlen(s);
	return s;
}

int
elf_truncated(const struct elf_info *e)
{
	return e != NULL && e->truncated;
}
