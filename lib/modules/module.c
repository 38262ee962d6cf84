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

#ifdef WARD_FAULT_INJECTION
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

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
/* Whether the first 64 KiB of the file hold the text the variable env names. */
static int
fault_marked(struct freader *f, const char *env)
{
	const char *text = getenv(env);
	const uint8_t *p;
	size_t n = f->size < 65536 ? (size_t)f->size : 65536;

	return text != NULL && text[0] != '\0' && freader_peek(f, 0, n, &p) == 0 &&
	       memmem(p, n, text, strlen(text)) != NULL;
}

/*
 * What a parser taken over by a crafted file would try, as that file's
 * code: read a secret (WARD_FAULT_BREACH_READ, default /etc/shadow) and
 * leak it on stderr, leave a file where only root may write
 * (WARD_FAULT_BREACH_WRITE, default /root/ward-breach), and call home (a
 * socket).  Each success is said on stderr ("ward-fault: breach: ..."), so
 * that a test sees what got through; a confined scanner is refused the
 * files and killed at the socket.
 */
static void
fault_breach(void)
{
	const char *rd = getenv("WARD_FAULT_BREACH_READ"), *wr = getenv("WARD_FAULT_BREACH_WRITE");
	char buf[256];
	ssize_t n = -1;
	int fd;

	fd = open(rd != NULL ? rd : "/etc/shadow", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n >= 0) {
		buf[n] = '\0';
		fprintf(stderr, "ward-fault: breach: read %s: %s\n",
			rd != NULL ? rd : "/etc/shadow", buf);
	}
	fd = open(wr != NULL ? wr : "/root/ward-breach", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		  0600);
	if (fd >= 0) {
		fprintf(stderr, "ward-fault: breach: wrote %s\n",
			wr != NULL ? wr : "/root/ward-breach");
		(void)write(fd, "breach\n", 7);
		close(fd);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		fprintf(stderr, "ward-fault: breach: opened a socket\n");
		close(fd);
	}
}

/* Test builds only: WARD_FAULT_MODULE_CRASH_ON=TEXT makes a module's parse
 * abort on a file whose first 64 KiB hold TEXT, as a parser bug met by a
 * crafted file would; WARD_FAULT_MODULE_BREACH_ON=TEXT makes it try
 * fault_breach's escapes, as a parser taken over by the file would. */
static void
fault_parse(struct freader *f)
{
	if (fault_marked(f, "WARD_FAULT_MODULE_CRASH_ON"))
		abort();
	if (fault_marked(f, "WARD_FAULT_MODULE_BREACH_ON"))
		fault_breach();
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
