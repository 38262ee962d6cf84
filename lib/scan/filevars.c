/*
 * filevars: per-file values of the externals filename, filepath,
 * extension, filetype and owner (see filevars.h for what each holds).
 *
 * Must hold: the shared rule set is never written — each thread has its
 * own copy of the externals array and changes only the entries of the
 * variables it sets, and only their string; nothing is computed for a
 * variable that no rule reads (a rule set without them costs nothing per
 * file); owner names are looked up once per uid per thread, not per file.
 */
#include "scan/filevars.h"
#include "util/alloc.h"
#include "util/err.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Distinct owners a thread remembers (a tree rarely has more). */
#define FV_OWNER_CACHE 16

static const char *const fv_names[FILEVARS_COUNT] = {
    "filename", "filepath", "extension", "filetype", "owner",
};

/*
 * The magic numbers of signature-base's misc/file-type-signatures.txt
 * (Florian Roth, Detection Rule License 1.1), in the order LOKI tries
 * them: file order, the first match wins, and a signature listed twice
 * keeps its first place with its last name (so 43 57 53 is "CWS", not
 * "SWF").  In that order some entries can never win ("3C 25" JSP comes
 * before "3C 25 40" ASP, "FF FE" before "FF FE 76 00 ..." Emotet JS);
 * they are kept so that the table reads like the file.
 */
struct fv_magic {
	const char *bytes;
	size_t len;
	const char *type;
};

/* clang-format off */
#define M(b, t) {b, sizeof(b) - 1, t}
/* clang-format on */
static const struct fv_magic fv_magic[] = {
    M("\x01\x06\x01\x00", "Job File"),
    M("\x1f\x8b\x08", "GZIP"),
    M("\x25\x50\x44\x46", "PDF"),
    M("\x30\x00\x00\x00\x4c\x66\x4c\x65", "EVT"),
    M("\x50\x4b\x03\x04\x14\x00\x06\x00", "Office"),
    M("\x50\x4b\x53\x70\x58", "PKSFX"),
    M("\x37\x7a\xbc\xaf\x27\x1c", "7Zip"),
    M("\x46\x75\x6e\x63\x74\x69\x6f\x6e", "VBS"),
    M("\x42\x5a\x68", "BZip2"),
    M("\x5f\x27\xa8\x89", "JAR"),
    M("\xff\xd8\xff", "JPEG"),
    M("\x50\x4b\x05\x06", "PKZIP"),
    M("\x52\x61\x72\x21\x1a\x07", "RAR"),
    M("\x57\x69\x6e\x5a\x69\x70", "WinZIP"),
    M("\x72\x65\x67\x66", "Registry Hive"),
    M("\x7b\x5c\x72\x74", "RTF"),
    M("\x75\x73\x74\x61\x72", "TAR"),
    M("\xd4\xc3\xb2\xa1", "WINPCAP"),
    M("\xa1\xb2\xc3\xd4", "LIBPCAP"),
    M("\xa1\xb2\xcd\x34", "LIBPCAP"),
    M("\xff\x4b\x45\x59\x42\x20\x20\x20", "SYS Keyboard Driver"),
    M("\xff\xfe\x3c\x00\x3f\x00\x78\x00\x6d\x00\x6c", "Windows At Job"),
    M("\x3c\x3f\x70\x68\x70", "PHP"),
    M("\x0d\x44\x4f\x43", "DOC"),
    M("\xff\xd8\xff\xe0", "JPEG"),
    M("\x23\x20\x44\x69\x73\x6b\x20\x44", "VMDK"),
    M("\x45\x6c\x66\x46\x69\x6c", "EVTX"),
    M("\x41\x45\x53", "AESCrypt"),
    M("\x43\x4f\x57\x44", "VMDK"),
    M("\x43\x57\x53", "CWS"),
    M("\x5a\x57\x53", "ZWS"),
    M("\x46\x57\x53", "FWS (Flash)"),
    M("\x46\x49\x4c\x45", "NTFS MFT"),
    M("\x4a\x41\x52\x43\x53\x00", "JARCS"),
    M("\x4b\x44\x4d", "VMDK"),
    M("\x4c\x00\x00\x00\x01\x14\x02\x00", "LNK"),
    M("\x4d\x53\x43\x46", "CAB"),
    M("\x50\x4b\x03\x04", "ZIP"),
    M("\x3c\x3f\x78\x6d\x6c", "XML"),
    M("\x63\x6f\x6e\x65\x63\x74\x69\x78", "VHD"),
    M("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE"),
    M("\x40\x65\x63\x68", "BATCH"),
    M("\x40\x45\x43\x48", "BATCH"),
    M("\xff\xfe\x90\x02\x01\x00", "Trace Log File"),
    M("\x23\x21\x2f", "UNIX SCRIPT"),
    M("\x4d\x44\x4d\x50", "MDMP"),
    M("\xff\xfe\x3c\x00\x25\x00", "JSP"),
    M("\xfe\xff\x00\x3c\x00\x25", "JSP"),
    M("\x30\x3a\x30\x30\x3a\x30\x30", "Log Relative"),
    M("\x7f\x45", "ELF"),
    M("\x23\x21", "Script"),
    M("\x1f\x9d", "TARZ"),
    M("\x1f\xa0", "TARZ"),
    M("\x3c\x25", "JSP"),
    M("\x3c\x25\x40", "ASP"),
    M("\xff\xfe\x3c\x00\x25\x00\x40\x00", "ASP"),
    M("\xfe\xff\x00\x3c\x00\x25\x00\x40", "ASP"),
    M("\x4d\x5a", "EXE"),
    M("\xff\xfe", "UTF16-Encoded File LE"),
    M("\xfe\xff", "UTF16-Encoded File BE"),
    M("\xca\xfe", "Java Class or DYLIB"),
    M("\x5b\x30\x30\x30\x30\x30\x30\x30\x30\x3a", "MimiLSA Log"),
    M("\x65\x63\x68\x6f", "Batch"),
    M("\x40\x65\x63\x68\x6f", "Batch"),
    M("\x5b\x49\x6e\x74", "Internet Shortcut"),
    M("\xff\xfe\x76\x00\x61\x00\x72\x00", "Emotet JS"),
    M("\xff\xfe\x56\x00\x65\x00\x72\x00\x73\x00\x69\x00\x6f", "WER"),
    M("\x56\x00\x65\x00\x72\x00\x73\x00\x69\x00\x6f\x00\x6e", "WER"),
    M("\x41\x54\x26\x54\x46\x4f\x52\x4d", "Gitlab EXIF"),
    M("\x3c\x62\x6f\x64\x79\x3e", "Web"),
    M("\x4f\x6e\x20\x45\x72\x72\x6f\x72\x20\x52\x65\x73\x75\x6d\x65", "VBS"),
    M("\x3c\x68\x74\x6d\x6c", "HTML"),
    M("\x3c\x48\x54\x4d\x4c", "HTML"),
    M("\x2d\x2d\x2d\x2d\x2d\x42\x45\x47\x49\x4e", "Certificate PEM"),
    M("\x53\x61\x6c\x74\x65\x64\x5f\x5f", "OpenSSL Salted Format"),
    M("\x3c\x25\x2d\x2d", "JSP"),
    M("\x54\x56", "Base64 EXE"),
};
#undef M

struct filevars {
	const struct ruleset *rs;
	int64_t idx[FILEVARS_COUNT]; /* external index, or -1: not set per file */
	char *cwd;
};

struct fv_owner {
	uid_t uid;
	int used;
	char name[FILEVARS_OWNER_MAX];
};

struct filevars_scratch {
	const struct filevars *fv;
	struct rs_external *ext; /* a copy of rs->ext; strings borrowed or ours */
	char *path;		 /* the absolute path, cut into directory and name */
	size_t path_cap;
	char extension[NAME_MAX + 1];
	char filetype[32];
	struct fv_owner owners[FV_OWNER_CACHE];
	unsigned next_owner;
	char *pwbuf; /* for getpwuid_r */
	size_t pwbuf_len;
};

const char *
filevars_name(enum filevars_var v)
{
	return (unsigned)v < FILEVARS_COUNT ? fv_names[v] : "?";
}

const char *
filevars_decl(enum filevars_var v)
{
	static const char *const decl[FILEVARS_COUNT] = {
	    "filename=", "filepath=", "extension=", "filetype=", "owner=",
	};

	return (unsigned)v < FILEVARS_COUNT ? decl[v] : "?=";
}

/* Whether def ("NAME=VALUE") defines name. */
static int
fv_defines(const char *def, const char *name)
{
	size_t n = strlen(name);

	return strncmp(def, name, n) == 0 && def[n] == '=';
}

int
filevars_new(const struct ruleset *rs, const char *const *fixed, size_t nfixed, const char *cwd,
	     struct filevars **out)
{
	struct filevars *fv = NULL;
	uint8_t *used = NULL;
	uint32_t i;
	size_t k;
	int v, any = 0, r = 0;

	*out = NULL;
	if (rs == NULL || rs->next == 0)
		goto out;
	if ((used = ward_calloc(rs->next, 1)) == NULL ||
	    (fv = ward_calloc(1, sizeof(*fv))) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	if ((r = ruleset_externals_used(rs, used)) != 0)
		goto out;
	fv->rs = rs;
	for (v = 0; v < FILEVARS_COUNT; v++) {
		fv->idx[v] = -1;
		for (k = 0; k < nfixed && !fv_defines(fixed[k], fv_names[v]); k++)
			;
		if (k < nfixed)
			continue; /* the user's value holds */
		for (i = 0; i < rs->next; i++) {
			if (strcmp(rs->ext[i].name, fv_names[v]) == 0 &&
			    rs->ext[i].type == RS_STR && used[i]) {
				fv->idx[v] = i;
				any = 1;
			}
		}
	}
	if (!any)
		goto out;
	if (cwd != NULL && cwd[0] != '\0' && (fv->cwd = ward_strdup(cwd)) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	*out = fv;
	fv = NULL;
out:
	filevars_free(fv);
	ward_free(used);
	return r;
}

void
filevars_free(struct filevars *fv)
{
	if (fv == NULL)
		return;
	ward_free(fv->cwd);
	ward_free(fv);
}

int
filevars_sets(const struct filevars *fv, enum filevars_var v)
{
	return fv != NULL && (unsigned)v < FILEVARS_COUNT && fv->idx[v] >= 0;
}

int
filevars_scratch_new(const struct filevars *fv, struct filevars_scratch **out)
{
	struct filevars_scratch *s;
	long pw = sysconf(_SC_GETPW_R_SIZE_MAX);
	int r = 0;

	*out = NULL;
	if ((s = ward_calloc(1, sizeof(*s))) == NULL)
		return WARD_ENOMEM;
	s->fv = fv;
	s->pwbuf_len = pw > 0 && pw < 65536 ? (size_t)pw : 16384;
	if ((s->ext = ward_calloc(fv->rs->next, sizeof(*s->ext))) == NULL ||
	    (s->pwbuf = ward_malloc(s->pwbuf_len)) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	memcpy(s->ext, fv->rs->ext, fv->rs->next * sizeof(*s->ext));
	*out = s;
	s = NULL;
out:
	filevars_scratch_free(s);
	return r;
}

void
filevars_scratch_free(struct filevars_scratch *s)
{
	if (s == NULL)
		return;
	ward_free(s->ext);
	ward_free(s->path);
	ward_free(s->pwbuf);
	ward_free(s);
}

size_t
filevars_extension(const char *name, char *out, size_t outlen)
{
	const char *dot = strrchr(name, '.');
	const char *p;
	size_t n = 0;

	out[0] = '\0';
	if (dot == NULL)
		return 0;
	/* Leading dots belong to the name: ".bashrc" and "..x" have none. */
	for (p = name; p < dot && *p == '.'; p++)
		;
	if (p == dot)
		return 0;
	for (p = dot; *p != '\0' && n + 1 < outlen; p++)
		out[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	out[n] = '\0';
	return n;
}

const char *
filevars_filetype(const uint8_t *head, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(fv_magic) / sizeof(fv_magic[0]); i++)
		if (fv_magic[i].len <= n && memcmp(head, fv_magic[i].bytes, fv_magic[i].len) == 0)
			return fv_magic[i].type;
	return "UNKNOWN";
}

/* Appends the components of p (no "", no ".") to buf at *len, each after a '/'. */
static int
fv_components(const char *p, char **buf, size_t *cap, size_t *len)
{
	while (*p != '\0') {
		const char *e = strchr(p, '/');
		size_t n = e != NULL ? (size_t)(e - p) : strlen(p);

		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (ward_grow(buf, cap, *len + n + 2, 1) != 0)
				return WARD_ENOMEM;
			(*buf)[(*len)++] = '/';
			memcpy(*buf + *len, p, n);
			*len += n;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

int
filevars_split(const char *path, const char *cwd, char **buf, size_t *cap, const char **dir,
	       const char **name)
{
	size_t len = 0, slash;
	int absolute = path[0] == '/' || (cwd != NULL && cwd[0] == '/');
	int r;

	if (ward_grow(buf, cap, 1, 1) != 0)
		return WARD_ENOMEM;
	if (path[0] != '/' && cwd != NULL && (r = fv_components(cwd, buf, cap, &len)) != 0)
		return r;
	if ((r = fv_components(path, buf, cap, &len)) != 0)
		return r;
	(*buf)[len] = '\0';
	/* buf is "/c1/c2/.../name": the last '/' ends the directory. */
	for (slash = len; slash > 0 && (*buf)[slash - 1] != '/'; slash--)
		;
	if (slash == 0) { /* no component at all */
		*dir = absolute ? "/" : "";
		*name = "";
		return 0;
	}
	slash--;
	*name = *buf + slash + 1;
	if (slash == 0) {
		*dir = absolute ? "/" : "";
	} else {
		(*buf)[slash] = '\0';
		*dir = *buf + (absolute ? 0 : 1);
	}
	return 0;
}

/* The owner's name from the thread's cache, or looked up and cached. */
const char *
filevars_owner(struct filevars_scratch *s, uid_t uid)
{
	struct passwd pw, *res = NULL;
	struct fv_owner *o;
	unsigned i;

	for (i = 0; i < FV_OWNER_CACHE; i++)
		if (s->owners[i].used && s->owners[i].uid == uid)
			return s->owners[i].name;
	o = &s->owners[s->next_owner++ % FV_OWNER_CACHE];
	o->uid = uid;
	o->used = 1;
	if (getpwuid_r(uid, &pw, s->pwbuf, s->pwbuf_len, &res) == 0 && res != NULL)
		snprintf(o->name, sizeof(o->name), "%s", pw.pw_name);
	else
		snprintf(o->name, sizeof(o->name), "%u", (unsigned)uid);
	return o->name;
}

static void
fv_put(struct filevars_scratch *s, enum filevars_var v, const char *value)
{
	struct rs_external *x;

	if (s->fv->idx[v] < 0)
		return;
	x = &s->ext[s->fv->idx[v]];
	x->s = (char *)value; /* read only: the evaluator never writes */
	x->slen = strlen(value);
}

const struct rs_external *
filevars_set(struct filevars_scratch *s, const char *path, int fd, const struct stat *st)
{
	return filevars_set_owner(s, path, fd, st, NULL);
}

const struct rs_external *
filevars_set_owner(struct filevars_scratch *s, const char *path, int fd, const struct stat *st,
		   const char *owner)
{
	const struct filevars *fv = s->fv;
	const char *dir, *name;

	if (fv->idx[FILEVARS_FILENAME] >= 0 || fv->idx[FILEVARS_FILEPATH] >= 0 ||
	    fv->idx[FILEVARS_EXTENSION] >= 0) {
		if (filevars_split(path, fv->cwd, &s->path, &s->path_cap, &dir, &name) != 0)
			return NULL;
		fv_put(s, FILEVARS_FILEPATH, dir);
		fv_put(s, FILEVARS_FILENAME, name);
		filevars_extension(name, s->extension, sizeof(s->extension));
		fv_put(s, FILEVARS_EXTENSION, s->extension);
	}
	if (fv->idx[FILEVARS_FILETYPE] >= 0) {
		uint8_t head[FILEVARS_HEAD];
		ssize_t n;

		do
			n = pread(fd, head, sizeof(head), 0);
		while (n < 0 && errno == EINTR);
		snprintf(s->filetype, sizeof(s->filetype), "%s",
			 filevars_filetype(head, n > 0 ? (size_t)n : 0));
		fv_put(s, FILEVARS_FILETYPE, s->filetype);
	}
	if (fv->idx[FILEVARS_OWNER] >= 0)
		fv_put(s, FILEVARS_OWNER, owner != NULL ? owner : filevars_owner(s, st->st_uid));
	return s->ext;
}
