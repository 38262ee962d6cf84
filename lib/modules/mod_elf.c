/*
 * mod_elf: the `elf` module.  See mod_elf.h.
 *
 * The names come from elf's own tables (elf_field_names, elf_array_names,
 * elf_item_names, elf_constants), so that the parser and the module can
 * never disagree on what exists.  Value ids in compiled content:
 * 1 + an elf_field for the header's integers, ITEM_BASE + array *
 * ITEM_STRIDE + an elf_item_field for an array item's field (its index
 * on the stack), and COUNT_BASE + array for the number of its items.
 *
 * Must hold: an index below 0 or past what the parse holds is undefined,
 * as in YARA; a file that is not ELF leaves every value undefined.
 */
#include "modules/mod_elf.h"
#include "modules/elf.h"

#include <pthread.h>
#include <string.h>

#define ITEM_BASE 100
#define ITEM_STRIDE 32
/* COUNT_BASE + array: how many items the array holds (for ... in loops). */
#define COUNT_BASE (ITEM_BASE + ELF_NARRAYS * ITEM_STRIDE)
#define NVALUES (COUNT_BASE + ELF_NARRAYS)
/* Every name at the top: fields, arrays, constants, and the end. */
#define NTOP (ELF_NFIELDS + ELF_NARRAYS + 128 + 1)

static struct mod_sig values[NVALUES];
static struct mod_member top[NTOP];
static struct mod_member items[ELF_NARRAYS][ELF_NITEM_FIELDS + 1];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int
is_str(enum elf_item_field f)
{
	return f == ELF_SEC_NAME || f == ELF_SYM_NAME;
}

static void
build(void)
{
	size_t n = 0, k, i;
	int a;

	for (i = 0; i < ELF_NFIELDS; i++) {
		uint16_t id = (uint16_t)(1 + elf_field_names[i].id);

		values[id] = (struct mod_sig){'i', "", NULL};
		top[n++] =
		    (struct mod_member){.name = elf_field_names[i].name, .kind = MOD_INT, .id = id};
	}
	for (i = 0; i < ELF_NARRAYS; i++) {
		a = elf_array_names[i].id;
		k = 0;
		for (int f = 0; f < ELF_NITEM_FIELDS; f++) {
			enum elf_array owner = elf_item_array((enum elf_item_field)f);
			uint16_t id = (uint16_t)(ITEM_BASE + a * ITEM_STRIDE + f);

			if ((int)owner != a && !(a == ELF_DYNSYM && owner == ELF_SYMTAB))
				continue;
			values[id] =
			    (struct mod_sig){is_str((enum elf_item_field)f) ? 's' : 'i', "i", NULL};
			items[a][k++] = (struct mod_member){
			    .name = elf_item_names[f].name,
			    .kind = is_str((enum elf_item_field)f) ? MOD_STR : MOD_INT,
			    .id = id};
		}
		values[COUNT_BASE + a] = (struct mod_sig){'i', "", NULL};
		top[n++] = (struct mod_member){.name = elf_array_names[i].name,
					       .kind = MOD_ARRAY,
					       .elem = MOD_STRUCT,
					       .fields = items[a],
					       .len_id = (uint16_t)(COUNT_BASE + a)};
	}
	for (i = 0; i < elf_nconstants && n < NTOP - 1; i++)
		top[n++] = (struct mod_member){.name = elf_constants[i].name,
					       .kind = MOD_CONST,
					       .value = elf_constants[i].value};
}

void
mod_elf_init(void)
{
	pthread_once(&once, build);
}

static int
elf_load(struct freader *f, void **data)
{
	struct elf_info *e = NULL;
	int r = elf_parse(f, &e);

	*data = e;
	return r;
}

static void
elf_unload(void *data)
{
	elf_free(data);
}

static void
elf_value(void *data, uint16_t id, const struct mod_arg *idx, struct mod_value *out)
{
	const struct elf_info *e = data;
	enum elf_item_field fld;
	enum elf_array a;
	const char *s;
	size_t len;

	out->defined = 0;
	if (id >= 1 && id < 1 + ELF_NFIELDS) {
		out->defined = elf_get(e, (enum elf_field)(id - 1), &out->i);
		return;
	}
	if (id >= COUNT_BASE && id < NVALUES) {
		out->defined = 1;
		out->i = (int64_t)elf_items(e, (enum elf_array)(id - COUNT_BASE));
		return;
	}
	if (id < ITEM_BASE || id >= NVALUES || idx[0].i < 0)
		return;
	a = (enum elf_array)((id - ITEM_BASE) / ITEM_STRIDE);
	fld = (enum elf_item_field)((id - ITEM_BASE) % ITEM_STRIDE);
	if ((uint64_t)idx[0].i >= elf_items(e, a))
		return;
	if (!is_str(fld)) {
		out->defined = elf_item(e, a, (size_t)idx[0].i, fld, &out->i);
		return;
	}
	if ((s = elf_item_str(e, a, (size_t)idx[0].i, fld, &len)) == NULL || len > UINT32_MAX)
		return;
	out->defined = 1;
	out->s = (const uint8_t *)s;
	out->slen = (uint32_t)len;
}

const struct module mod_elf = {
    .id = MOD_ID_ELF,
    .name = "elf",
    .members = top,
    .values = values,
    .nvalues = NVALUES,
    .load = elf_load,
    .unload = elf_unload,
    .value = elf_value,
};
