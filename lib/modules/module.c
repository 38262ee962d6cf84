/*
 * module: the registry of rule modules and the per-file state.  See
 * module.h.
 *
 * Must hold: a module is loaded at most once per file and unloaded with
 * it; a load that fails leaves the module's values undefined for that
 * file, never the scan failed.
 */
#include "modules/module.h"
#include "modules/mod_elf.h"
#include "modules/mod_hash.h"
#include "modules/mod_math.h"
#include "modules/mod_pe.h"
#include "modules/mod_time.h"

#include <stdlib.h>
#include <string.h>

static const struct module *const modules[] = {
    &mod_pe, &mod_elf, &mod_math, &mod_hash, &mod_time,
};

/* YARA's modules: a rule that imports one ward lacks is refused by name. */
static const char *const known[] = {
    "pe",   "elf",     "math",	 "hash", "dotnet", "cuckoo", "magic",
    "time", "console", "string", "dex",	 "macho",  "tests",  "lnk",
};

/* Modules whose names are built from their parser's tables. */
static void
init_all(void)
{
	mod_elf_init();
	mod_pe_init();
}

const struct module *
mod_find(const char *name)
{
	size_t i;

	init_all();
	for (i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		if (strcmp(modules[i]->name, name) == 0)
			return modules[i];
	return NULL;
}

const struct module *
mod_get(unsigned id)
{
	size_t i;

	init_all();
	for (i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		if ((unsigned)modules[i]->id == id)
			return modules[i];
	return NULL;
}

int
mod_known(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i], name) == 0)
			return 1;
	return 0;
}

const struct mod_member *
mod_member_find(const struct mod_member *members, const char *name)
{
	for (; members != NULL && members->name != NULL; members++)
		if (strcmp(members->name, name) == 0)
			return members;
	return NULL;
}

void
mod_file_init(struct mod_file *mf, const uint8_t *p, uint64_t size,
	      int (*fn)(void *arg, uint64_t off, void *buf, size_t n), void *arg, uint8_t *win)
{
	/* Not the string slots: what is in them is never read before a
	 * module writes it. */
	memset(mf->data, 0, sizeof(mf->data));
	memset(mf->loaded, 0, sizeof(mf->loaded));
	if (fn == NULL)
		freader_init_mem(&mf->f, p, size);
	else
		freader_init_fn(&mf->f, size, fn, arg, win);
}

void
mod_file_done(struct mod_file *mf)
{
	const struct module *m;
	unsigned i;

	for (i = 1; i < MOD_ID_MAX_; i++) {
		if (mf->data[i] != NULL && (m = mod_get(i)) != NULL && m->unload != NULL)
			m->unload(mf->data[i]);
		mf->data[i] = NULL;
		mf->loaded[i] = 0;
	}
}

#ifdef WARD_FAULT_INJECTION
/* Test builds only: WARD_FAULT_MODULE_CRASH_ON=TEXT makes a module's parse
 * abort on a file whose first 64 KiB hold TEXT, as a parser bug met by a
 * crafted file would. */
static void
fault_parse(struct freader *f)
{
	const char *text = getenv("WARD_FAULT_MODULE_CRASH_ON");
	const uint8_t *p;
	size_t n = f->size < 65536 ? (size_t)f->size : 65536;

	if (text != NULL && text[0] != '\0' && freader_peek(f, 0, n, &p) == 0 &&
	    memmem(p, n, text, strlen(text)) != NULL)
		abort();
}
#else
#define fault_parse(f) ((void)0)
#endif

void *
mod_file_data(struct mod_file *mf, const struct module *m)
{
	if (m->load == NULL)
		return NULL;
	if (!mf->loaded[m->id]) {
		mf->loaded[m->id] = 1;
		fault_parse(&mf->f);
		if (m->load(&mf->f, &mf->data[m->id]) != 0)
			mf->data[m->id] = NULL;
	}
	return mf->data[m->id];
}
