/*
 * pe_resources: the resource tree of a PE file as YARA 4.2.3 walks it
 * (type, name and language levels), the resources it lists, and the
 * strings of VS_VERSION_INFO resources (version_info, version_info_list).
 *
 * Must hold: the walk visits at most WARD_MAX_PE_RESOURCE_VISITS entries
 * and lists at most WARD_MAX_PE_RESOURCES; the version-info walk takes at
 * most WARD_MAX_PE_VERSION_STEPS records over all resources and reads a
 * UTF-16 string of at most WARD_MAX_PE_VERSION_WSTR bytes; a name string is
 * kept only while their bytes stay under WARD_MAX_PE_RESOURCE_STRINGS.
 */
#include "modules/pe_int.h"
#include "util/alloc.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

#define RES_DIR_SIZE 16
#define RES_ENTRY_SIZE 8
#define RES_DATA_SIZE 16
#define RES_TYPE_VERSION 16
#define VI_SIZE 6 /* Length, ValueLength, Type; then the UTF-16 key */

/* YARA's walk ends (every level) once an entry is out of the file. */
enum { WALK_DONE = 0, WALK_ABORT = 1 };

struct walk {
	struct pe_info *p;
	struct freader *f;
	uint64_t base; /* the root directory: offsets are relative to it */
	/* Shared by all levels, as in YARA: a data entry at the type level
	 * gets the id and language last seen. */
	int32_t type, id, lang;
	uint64_t visits, string_bytes;
};

/* Where a level's name string is (-1: the level has an integer). */
static int64_t
name_string(struct walk *w, uint32_t name)
{
	uint64_t s;
	uint16_t len;

	if (!(name & 0x80000000u))
		return -1;
	s = w->base + (name & 0x7fffffffu);
	if (freader_u16(w->f, s, &len) != 0 || !freader_has(w->f, s, 2 + (uint64_t)len * 2))
		return -1;
	return (int64_t)s;
}

/* One level: the name string at s (UTF-16LE bytes), else the integer. */
static int
set_level(struct walk *w, int64_t s, int32_t v, int *has, int64_t *iv, struct pe_str *str)
{
	uint16_t len;
	uint8_t *b;
	int r = 0;

	if (s < 0) {
		*has = 1;
		*iv = v;
		return 0;
	}
	if (freader_u16(w->f, (uint64_t)s, &len) != 0 ||
	    w->string_bytes + (uint64_t)len * 2 > WARD_MAX_PE_RESOURCE_STRINGS)
		return 0;
	if ((b = ward_malloc((size_t)len * 2 + 1)) == NULL)
		return WARD_ENOMEM;
	if (freader_read(w->f, (uint64_t)s + 2, b, (size_t)len * 2) == 0) {
		b[(size_t)len * 2] = '\0';
		str->p = (char *)b;
		str->len = (size_t)len * 2;
		w->string_bytes += str->len;
		b = NULL;
	}
	ward_free(b);
	return r;
}

/* The length of the UTF-16 string at off in characters (YARA's strnlen_w),
 * or -1 when no 00 00 ends it inside the file (within the limit). */
static int64_t
wstr_len(struct freader *f, uint64_t off)
{
	const uint8_t *b;
	uint64_t n;
	size_t i;

	if (off >= f->size)
		return -1;
	n = f->size - off < WARD_MAX_PE_VERSION_WSTR ? f->size - off : WARD_MAX_PE_VERSION_WSTR;
	if (freader_peek(f, off, (size_t)n, &b) != 0)
		return -1;
	for (i = 0; i + 1 < n; i += 2)
		if (b[i] == 0 && b[i + 1] == 0)
			return (int64_t)(i / 2);
	return -1;
}

/* 1 when the UTF-16 string at off is the ASCII s (YARA's strcmp_w, with
 * the bytes of s and its terminator in the file). */
static int
wstr_is(struct freader *f, uint64_t off, const char *s)
{
	size_t n = strlen(s) + 1, i;
	const uint8_t *b;

	if (freader_peek(f, off, n * 2, &b) != 0)
		return 0;
	for (i = 0; i < n; i++)
		if (b[2 * i] != (uint8_t)s[i] || b[2 * i + 1] != 0)
			return 0;
	return 1;
}

/* The low bytes of the UTF-16 string at off up to the first zero low byte,
 * at most outlen - 1 of them (YARA's strlcpy_w). */
static void
wstr_copy(struct freader *f, uint64_t off, char *out, size_t outlen)
{
	size_t n = 0;
	uint8_t c;

	while (n + 1 < outlen && freader_u8(f, off + 2 * n, &c) == 0 && c != 0)
		out[n++] = (char)c;
	out[n] = '\0';
}

static uint64_t
vi_next(uint64_t at, uint64_t by)
{
	return at + ((by + 3) & ~(uint64_t)3);
}

static int
add_version(struct pe_info *p, const char *key, const char *value)
{
	struct pe_version_entry *e;
	int r;

	if (p->nver >= WARD_MAX_PE_VERSION_INFOS)
		return 0;
	if (ward_grow(&p->ver, &p->vercap, p->nver + 1, sizeof(*p->ver)) != 0)
		return WARD_ENOMEM;
	e = &p->ver[p->nver];
	memset(e, 0, sizeof(*e));
	if ((r = pe_str_set(&e->key, key, strlen(key))) != 0 ||
	    (r = pe_str_set(&e->value, value, strlen(value))) != 0) {
		pe_str_free(&e->key);
		return r;
	}
	p->nver++;
	return 0;
}

struct vkey {
	const char *key;
	size_t i;
};

static int
vkey_cmp(const void *a, const void *b)
{
	const struct vkey *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : x->i < y->i ? -1 : x->i > y->i;
}

static int
index_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * version_info as YARA's dictionary holds it: a key set again keeps the
 * place where it was first set (its value is the last one set, which
 * pe_version_info_lookup finds).  Sorting the keys keeps this O(n log n)
 * in the WARD_MAX_PE_VERSION_INFOS entries, whatever a file repeats.
 */
static int
version_dict(struct pe_info *p)
{
	struct vkey *k = NULL;
	size_t i;
	int r = 0;

	if (p->nver == 0)
		goto out;
	if ((k = ward_calloc(p->nver, sizeof(*k))) == NULL ||
	    (p->vdict = ward_calloc(p->nver, sizeof(*p->vdict))) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	for (i = 0; i < p->nver; i++) {
		k[i].key = p->ver[i].key.p;
		k[i].i = i;
	}
	qsort(k, p->nver, sizeof(*k), vkey_cmp);
	for (i = 0; i < p->nver; i++)
		if (i == 0 || strcmp(k[i - 1].key, k[i].key) != 0)
			p->vdict[p->nvdict++] = k[i].i;
	qsort(p->vdict, p->nvdict, sizeof(*p->vdict), index_cmp);
out:
	ward_free(k);
	return r;
}

/* A record at off: its Length (0 when not all its header is in the file). */
static uint16_t
vi_length(struct freader *f, uint64_t off)
{
	uint16_t len;

	if (!freader_has(f, off, VI_SIZE) || freader_u16(f, off, &len) != 0)
		return 0;
	return len;
}

/* The strings of one StringTable [st, end). */
static int
version_strings(struct pe_info *p, struct freader *f, uint64_t s, uint64_t end)
{
	char key[64], value[256];
	uint16_t len, vlen;
	int64_t kl;
	uint64_t val;
	int r;

	while (p->ver_steps++ < WARD_MAX_PE_VERSION_STEPS && (len = vi_length(f, s)) != 0 &&
	       s < end && (kl = wstr_len(f, s + VI_SIZE)) >= 0) {
		val = vi_next(s, VI_SIZE + 2 * ((uint64_t)kl + 1));
		if (wstr_len(f, val) >= 0) {
			wstr_copy(f, s + VI_SIZE, key, sizeof(key));
			wstr_copy(f, val, value, sizeof(value));
			/* Without a ValueLength the value is empty. */
			if (freader_u16(f, s + 2, &vlen) == 0 && vlen == 0)
				value[0] = '\0';
			if ((r = add_version(p, key, value)) != 0)
				return r;
		}
		s = vi_next(s, len);
	}
	return 0;
}

static int
parse_version_info(struct pe_info *p, struct freader *f, uint32_t rva)
{
	int64_t off = pe_rva_offset(p, rva);
	uint64_t vi, st, end, sub;
	uint16_t len, stlen;
	int64_t kl;
	int r;

	if (off < 0 || !freader_has(f, (uint64_t)off, VI_SIZE) ||
	    !wstr_is(f, (uint64_t)off + VI_SIZE, "VS_VERSION_INFO"))
		return 0;
	/* Past the header, its key and the fixed file info (YARA's 86). */
	vi = vi_next((uint64_t)off, VI_SIZE + 86);
	while (p->ver_steps++ < WARD_MAX_PE_VERSION_STEPS &&
	       wstr_is(f, vi + VI_SIZE, "VarFileInfo") && freader_u16(f, vi, &len) == 0 && len != 0)
		vi = vi_next(vi, len);
	while (p->ver_steps++ < WARD_MAX_PE_VERSION_STEPS &&
	       wstr_is(f, vi + VI_SIZE, "StringFileInfo") && freader_u16(f, vi, &len) == 0 &&
	       len != 0) {
		st = vi_next(vi, VI_SIZE + 30);
		end = vi_next(vi, len);
		vi = end;
		while (p->ver_steps++ < WARD_MAX_PE_VERSION_STEPS &&
		       (stlen = vi_length(f, st)) != 0 && st < end &&
		       (kl = wstr_len(f, st + VI_SIZE)) >= 0) {
			sub = vi_next(st, VI_SIZE + 2 * ((uint64_t)kl + 1));
			st = vi_next(st, stlen);
			if ((r = version_strings(p, f, sub, st)) != 0)
				return r;
		}
	}
	return 0;
}

/* A data entry of the tree: one resource. */
static int
collect(struct walk *w, uint64_t de, int64_t ts, int64_t ns, int64_t ls)
{
	struct pe_info *p = w->p;
	struct pe_resource *res;
	uint32_t rva, size;
	int64_t off;
	int r;

	if (freader_u32(w->f, de, &rva) != 0 || freader_u32(w->f, de + 4, &size) != 0)
		return 0;
	if (ward_grow(&p->res, &p->rescap, p->nres + 1, sizeof(*p->res)) != 0)
		return WARD_ENOMEM;
	res = &p->res[p->nres];
	memset(res, 0, sizeof(*res));
	p->nres++;
	res->rva = rva;
	res->length = size;
	if ((off = pe_rva_offset(p, rva)) >= 0) {
		res->has_offset = 1;
		res->offset = off;
	}
	if ((r = set_level(w, ts, w->type, &res->has_type, &res->type, &res->type_string)) != 0 ||
	    (r = set_level(w, ns, w->id, &res->has_id, &res->id, &res->name_string)) != 0 ||
	    (r = set_level(w, ls, w->lang, &res->has_language, &res->language,
			   &res->language_string)) != 0)
		return r;
	if (w->type == RES_TYPE_VERSION)
		return parse_version_info(p, w->f, rva);
	return 0;
}

/* One directory at dir (its header in the file) of level 0, 1 or 2. */
static int
walk_dir(struct walk *w, uint64_t dir, int level, int64_t ts, int64_t ns, int64_t ls, int *result)
{
	uint32_t chars, name, to;
	uint16_t named, ids;
	uint64_t e, target;
	int total, i, r = 0;

	*result = WALK_DONE;
	if (freader_u32(w->f, dir, &chars) != 0 || freader_u16(w->f, dir + 12, &named) != 0 ||
	    freader_u16(w->f, dir + 14, &ids) != 0)
		return 0;
	if (chars != 0 || named > 32768 || ids > 32768)
		return 0;
	total = named + ids;
	for (i = 0, e = dir + RES_DIR_SIZE; i < total; i++, e += RES_ENTRY_SIZE) {
		/* Past the limits nothing more is listed: end the walk. */
		if (++w->visits > WARD_MAX_PE_RESOURCE_VISITS ||
		    w->p->nres >= WARD_MAX_PE_RESOURCES || freader_u32(w->f, e, &name) != 0 ||
		    freader_u32(w->f, e + 4, &to) != 0) {
			*result = WALK_ABORT;
			break;
		}
		if (level == 0) {
			w->type = (int32_t)name;
			ts = name_string(w, name);
		} else if (level == 1) {
			w->id = (int32_t)name;
			ns = name_string(w, name);
		} else {
			w->lang = (int32_t)name;
			ls = name_string(w, name);
		}
		target = w->base + (to & 0x7fffffffu);
		if ((to & 0x80000000u) && level < 2) {
			if (!freader_has(w->f, target, RES_DIR_SIZE))
				*result = WALK_ABORT;
			else if ((r = walk_dir(w, target, level + 1, ts, ns, ls, result)) != 0)
				break;
		} else if (!freader_has(w->f, target, RES_DATA_SIZE)) {
			*result = WALK_ABORT;
		} else if ((r = collect(w, target, ts, ns, ls)) != 0) {
			break;
		}
		if (*result == WALK_ABORT)
			break;
	}
	return r;
}

int
pe_parse_resources(struct pe_info *p, struct freader *f)
{
	struct walk w;
	uint32_t va, size, ts;
	uint16_t major, minor;
	int64_t off;
	int result, r;

	memset(&w, 0, sizeof(w));
	if (pe_dir_entry(p, f, PE_DIR_RESOURCE, &va, &size) != 0 || va == 0)
		return 0;
	if ((off = pe_rva_offset(p, va)) < 0 || !freader_has(f, (uint64_t)off, RES_DIR_SIZE))
		return 0;
	if (freader_u32(f, (uint64_t)off + 4, &ts) != 0 ||
	    freader_u16(f, (uint64_t)off + 8, &major) != 0 ||
	    freader_u16(f, (uint64_t)off + 10, &minor) != 0)
		return 0;
	p->has_res_dir = 1;
	p->res_timestamp = ts;
	p->res_major = major;
	p->res_minor = minor;
	w.p = p;
	w.f = f;
	w.base = (uint64_t)off;
	w.type = w.id = w.lang = -1;
	if ((r = walk_dir(&w, w.base, 0, -1, -1, -1, &result)) != 0)
		return r;
	return version_dict(p);
}

void
pe_resources_free(struct pe_info *p)
{
	size_t i;

	for (i = 0; i < p->nres; i++) {
		pe_str_free(&p->res[i].type_string);
		pe_str_free(&p->res[i].name_string);
		pe_str_free(&p->res[i].language_string);
	}
	ward_free(p->res);
	for (i = 0; i < p->nver; i++) {
		pe_str_free(&p->ver[i].key);
		pe_str_free(&p->ver[i].value);
	}
	ward_free(p->ver);
	ward_free(p->vdict);
}

size_t
pe_resource_count(const struct pe_info *p)
{
	return p != NULL ? p->nres : 0;
}

const struct pe_resource *
pe_resource(const struct pe_info *p, size_t i)
{
	return p != NULL && i < p->nres ? &p->res[i] : NULL;
}

uint32_t
pe_resource_timestamp(const struct pe_info *p, int *defined)
{
	*defined = p != NULL && p->has_res_dir;
	return *defined ? p->res_timestamp : 0;
}

void
pe_resource_version(const struct pe_info *p, uint16_t *major, uint16_t *minor, int *defined)
{
	*defined = p != NULL && p->has_res_dir;
	*major = *defined ? p->res_major : 0;
	*minor = *defined ? p->res_minor : 0;
}

size_t
pe_version_info_count(const struct pe_info *p)
{
	return p != NULL ? p->nver : 0;
}

const struct pe_version_entry *
pe_version_info(const struct pe_info *p, size_t i)
{
	return p != NULL && i < p->nver ? &p->ver[i] : NULL;
}

struct pe_str
pe_version_info_lookup(const struct pe_info *p, const char *key)
{
	struct pe_str none = {NULL, 0};
	size_t i;

	/* A later string of the same key replaces an earlier one. */
	for (i = p != NULL ? p->nver : 0; i > 0; i--)
		if (strcmp(p->ver[i - 1].key.p, key) == 0)
			return p->ver[i - 1].value;
	return none;
}

size_t
pe_version_dict_count(const struct pe_info *p)
{
	return p != NULL ? p->nvdict : 0;
}

const struct pe_str *
pe_version_dict_key(const struct pe_info *p, size_t i)
{
	return p != NULL && i < p->nvdict ? &p->ver[p->vdict[i]].key : NULL;
}

int64_t
pe_locale(const struct pe_info *p, uint64_t locale)
{
	size_t i;

	if (p == NULL)
		return PE_UNDEFINED;
	/* An undefined language (a named one) is YR_UNDEFINED to YARA, whose
	 * low bits are 0xdaff. */
	for (i = 0; i < p->nres; i++) {
		uint64_t l =
		    p->res[i].has_language ? (uint64_t)p->res[i].language : 0xFFFABADAFABADAFFull;

		if ((l & 0xffff) == locale)
			return 1;
	}
	return 0;
}

int64_t
pe_language(const struct pe_info *p, uint64_t language)
{
	size_t i;

	if (p == NULL)
		return PE_UNDEFINED;
	for (i = 0; i < p->nres; i++) {
		uint64_t l =
		    p->res[i].has_language ? (uint64_t)p->res[i].language : 0xFFFABADAFABADAFFull;

		if ((l & 0xff) == language)
			return 1;
	}
	return 0;
}
