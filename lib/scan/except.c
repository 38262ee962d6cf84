/*
 * except: parsing and matching exceptions to verdicts.  See except.h.
 *
 * Must hold: an exception is used only after the one parser here took it
 * (every source — wardd.yaml, the agent's state, a bundle member, the
 * fleet server's answer — goes through except_from_json or
 * except_parse_text); every string is bounded by a named limit and
 * checked for its characters; a glob is checked before it is stored, and
 * matching one costs at most (glob length x path length) steps — `*` and
 * `**` each keep one place to come back to, never a stack of them — so a
 * hostile glob cannot make a verdict slow.
 */
#include "scan/except.h"
#include "crypto/digest.h"
#include "proto/jcheck.h"
#include "util/alloc.h"
#include "util/buf.h"

#include <stdio.h>
#include <string.h>

/* Largest id or time an entry may carry: exact in every JSON reader. */
#define ID_MAX ((int64_t)1 << 53)

const char *
except_kind_name(enum except_kind k)
{
	switch (k) {
	case EXCEPT_SHA256:
		return "sha256";
	case EXCEPT_PATH:
		return "path";
	case EXCEPT_RULE:
		break;
	}
	return "rule";
}

/* --- globs --------------------------------------------------------------- */

/* 1 if component g (n bytes) is exactly "**". */
static int
is_dstar(const char *g, size_t n)
{
	return n == 2 && g[0] == '*' && g[1] == '*';
}

/* Checks a class at g[0] == '[' within n bytes; its length in *len. */
static int
class_len(const char *g, size_t n, size_t *len)
{
	size_t i = 1;

	if (i < n && (g[i] == '!' || g[i] == '^'))
		i++;
	if (i < n && g[i] == ']') /* a ']' first is a character of the class */
		i++;
	while (i < n && g[i] != ']') {
		if (g[i] == '\\') {
			if (i + 1 >= n)
				return -1;
			i++;
		}
		i++;
	}
	if (i >= n)
		return -1;
	*len = i + 1;
	return 0;
}

int
except_glob_check(const char *glob, size_t n, struct ward_diag *d)
{
	const char *p;
	size_t len, i, k;

	if (n == 0 || strlen(glob) != n)
		return diag_set(d, WARD_ESYNTAX, NULL, 0, 0, "a path glob is a non-empty string");
	if (n > WARD_MAX_EXCEPT_GLOB)
		return diag_set(d, WARD_ELIMIT, NULL, 0, 0,
				"a path glob is at most %d bytes (WARD_MAX_EXCEPT_GLOB)",
				WARD_MAX_EXCEPT_GLOB);
	if (!jcheck_chars_ok(glob, n, JCHECK_TEXT))
		return diag_set(d, WARD_ESYNTAX, NULL, 0, 0,
				"a path glob may not hold control characters");
	if (glob[0] != '/')
		return diag_set(d, WARD_ESYNTAX, NULL, 0, 0,
				"a path glob is absolute: it starts with /");
	if (n == 1)
		return diag_set(d, WARD_ESYNTAX, NULL, 0, 0, "the glob / alone matches no file");
	for (p = glob + 1;; p += len + 1) {
		len = strcspn(p, "/");
		if (len == 0)
			return diag_set(
			    d, WARD_ESYNTAX, NULL, 0, 0,
			    "a path glob has no empty component (// or a / at the end)");
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return diag_set(d, WARD_ESYNTAX, NULL, 0, 0,
					"a path glob has no . or .. component (paths are "
					"matched as the kernel names them)");
		if (!is_dstar(p, len)) {
			for (i = 0; i < len; i += k) {
				k = 1;
				if (p[i] == '\\') {
					if (i + 1 >= len)
						return diag_set(d, WARD_ESYNTAX, NULL, 0, 0,
								"a \\ must be followed by the "
								"character it escapes (not a /)");
					k = 2;
				} else if (p[i] == '[') {
					if (class_len(p + i, len - i, &k) != 0)
						return diag_set(d, WARD_ESYNTAX, NULL, 0, 0,
								"a [ opens a class that a ] "
								"closes in the same component");
				} else if (p[i] == '*' && i + 1 < len && p[i + 1] == '*') {
					return diag_set(d, WARD_ESYNTAX, NULL, 0, 0,
							"** stands for whole directories: "
							"it is a component of its own (/a/**/b)");
				}
			}
		}
		if (p[len] == '\0')
			return 0;
	}
}

/* Whether pattern element g[0..) (within n) matches c; its length in *len. */
static int
elem_match(const char *g, size_t n, unsigned char c, size_t *len)
{
	size_t i, k;
	int neg, hit = 0;

	*len = 1;
	if (g[0] == '?')
		return 1;
	if (g[0] == '\\' && n >= 2) {
		*len = 2;
		return (unsigned char)g[1] == c;
	}
	if (g[0] != '[' || class_len(g, n, &k) != 0)
		return (unsigned char)g[0] == c;
	*len = k;
	i = 1;
	neg = g[i] == '!' || g[i] == '^';
	i += (size_t)neg;
	for (; i < k - 1; i++) {
		unsigned char lo, hi;

		if (g[i] == '\\')
			i++;
		lo = hi = (unsigned char)g[i];
		if (i + 2 < k - 1 && g[i + 1] == '-') {
			i += 2;
			if (g[i] == '\\' && i + 1 < k - 1)
				i++;
			hi = (unsigned char)g[i];
		}
		if (c >= lo && c <= hi)
			hit = 1;
	}
	return hit != neg;
}

/* One component: g[0..gn) against s[0..sn); `*` is any run of characters. */
static int
comp_match(const char *g, size_t gn, const char *s, size_t sn)
{
	size_t gi = 0, si = 0, star = 0, mark = 0, k;
	int have_star = 0;

	while (si < sn) {
		if (gi < gn && g[gi] == '*') {
			have_star = 1;
			star = ++gi;
			mark = si;
			continue;
		}
		if (gi < gn && elem_match(g + gi, gn - gi, (unsigned char)s[si], &k)) {
			gi += k;
			si++;
			continue;
		}
		if (!have_star)
			return 0;
		/* The last `*` takes one more character; earlier ones never
		 * need to (any match they allow, the last one allows too). */
		gi = star;
		si = ++mark;
	}
	while (gi < gn && g[gi] == '*')
		gi++;
	return gi == gn;
}

int
except_glob_match(const char *glob, const char *path)
{
	const char *g, *s, *star_g = NULL, *star_s = NULL;
	size_t gn = 0, sn;

	if (glob[0] != '/' || path[0] != '/')
		return 0;
	g = glob + 1;
	s = path + 1;
	for (;;) {
		if (*g != '\0') {
			gn = strcspn(g, "/");
			if (is_dstar(g, gn)) {
				if (g[gn] == '\0') /* a last ** : one component or more */
					return *s != '\0';
				g += gn + 1;
				star_g = g;
				star_s = s;
				continue;
			}
		}
		if (*s == '\0')
			return *g == '\0';
		sn = strcspn(s, "/");
		if (*g != '\0' && comp_match(g, gn, s, sn)) {
			g += gn + (g[gn] == '/');
			s += sn + (s[sn] == '/');
			continue;
		}
		if (star_g == NULL)
			return 0;
		/* The last ** takes one more component (as `*` above). */
		star_s += strcspn(star_s, "/");
		if (*star_s == '/')
			star_s++;
		g = star_g;
		s = star_s;
	}
}

/* --- one exception ------------------------------------------------------ */

void
except_clear(struct except *e)
{
	if (e == NULL)
		return;
	ward_free(e->glob);
	ward_free(e->rule);
	ward_free(e->reason);
	ward_free(e->by);
	memset(e, 0, sizeof(*e));
}

int
except_copy(struct except *dst, const struct except *src)
{
	*dst = *src;
	dst->glob = dst->rule = dst->reason = dst->by = NULL;
	if ((src->glob != NULL && (dst->glob = ward_strdup(src->glob)) == NULL) ||
	    (src->rule != NULL && (dst->rule = ward_strdup(src->rule)) == NULL) ||
	    (src->reason != NULL && (dst->reason = ward_strdup(src->reason)) == NULL) ||
	    (src->by != NULL && (dst->by = ward_strdup(src->by)) == NULL)) {
		except_clear(dst);
		return WARD_ENOMEM;
	}
	return 0;
}

/* A rule or hash signature name: as hash lists allow them (printable
 * ASCII, not starting with a space), without " path:" (the text form's
 * separator). */
static int
rule_check(const char *s, size_t n, struct ward_diag *d)
{
	size_t i;

	if (n == 0 || strlen(s) != n)
		return diag_set(d, WARD_ESYNTAX, NULL, 0, 0, "a rule name is a non-empty string");
	if (n > WARD_MAX_SIG_NAME)
		return diag_set(d, WARD_ELIMIT, NULL, 0, 0,
				"a rule name is at most %d bytes (WARD_MAX_SIG_NAME)",
				WARD_MAX_SIG_NAME);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return diag_set(d, WARD_ESYNTAX, NULL, 0, 0,
					"a rule name is printable ASCII (byte %zu is not)", i);
	if (s[0] == ' ' || strstr(s, " path:") != NULL)
		return diag_set(d, WARD_ESYNTAX, NULL, 0, 0,
				"a rule name does not start with a space nor hold \" path:\"");
	return 0;
}

/* Text for people (a reason, who): bounded, no control characters. */
static int
text_check(const char *what, const char *s, size_t n, size_t max, struct ward_diag *d)
{
	if (strlen(s) != n || !jcheck_chars_ok(s, n, JCHECK_TEXT))
		return diag_set(d, WARD_ESYNTAX, NULL, 0, 0,
				"\"%s\" is text without control characters", what);
	if (n > max)
		return diag_set(d, WARD_ELIMIT, NULL, 0, 0, "\"%s\" is at most %zu bytes", what,
				max);
	return 0;
}

static int
sha_parse(const char *s, size_t n, uint8_t out[32], struct ward_diag *d)
{
	size_t got = 0;

	if (n != 64 || strlen(s) != n || digest_from_hex(s, n, out, 32, &got) != 0 || got != 32)
		return diag_set(d, WARD_ESYNTAX, NULL, 0, 0,
				"a SHA-256 is 64 hexadecimal digits (as sha256sum prints it)");
	return 0;
}

static int
dup_str(char **out, const char *s, struct ward_diag *d)
{
	if ((*out = ward_strdup(s)) == NULL)
		return diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
	return 0;
}

/* The string field key of o: NULL when absent; *bad when not a string. */
static const char *
str_field(const json_t *o, const char *key, size_t *n, int *bad)
{
	const json_t *v = json_object_get(o, key);

	*n = 0;
	if (v == NULL)
		return NULL;
	if (!json_is_string(v)) {
		*bad = 1;
		return NULL;
	}
	*n = json_string_length(v);
	return json_string_value(v);
}

static int
int_field(const json_t *o, const char *key, int64_t lo, int64_t *out, struct ward_diag *d)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > ID_MAX)
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
				"\"%s\" is an integer from %lld to %lld", key, (long long)lo,
				(long long)ID_MAX);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

int
except_from_json(const json_t *o, unsigned flags, struct except *e, struct ward_diag *d)
{
	static const char *const keys[] = {"sha256", "path",  "rule", "reason",
					   "id",     "added", "by",   NULL};
	const char *sha, *path, *rule, *reason, *by, *key;
	size_t nsha, npath, nrule, nreason, nby, i;
	json_t *v;
	int bad = 0, r = 0;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(o))
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
				"an exception is a JSON object: {\"sha256\": ...}, {\"path\": ...} "
				"or {\"rule\": ...}");
	json_object_foreach((json_t *)o, key, v)
	{
		(void)v;
		for (i = 0; keys[i] != NULL && strcmp(keys[i], key) != 0; i++)
			;
		if (keys[i] == NULL || (i >= 4 && !(flags & EXCEPT_IDS))) {
			char safe[64];

			jcheck_escape(key, safe, sizeof(safe));
			return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "unknown key \"%s\"", safe);
		}
	}
	sha = str_field(o, "sha256", &nsha, &bad);
	path = str_field(o, "path", &npath, &bad);
	rule = str_field(o, "rule", &nrule, &bad);
	reason = str_field(o, "reason", &nreason, &bad);
	by = str_field(o, "by", &nby, &bad);
	if (bad)
		return diag_set(
		    d, WARD_EFORMAT, NULL, 0, 0,
		    "\"sha256\", \"path\", \"rule\", \"reason\" and \"by\" are strings");
	if (sha != NULL) {
		if (path != NULL || rule != NULL)
			return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
					"\"sha256\" stands alone (the file with these bytes is "
					"excepted whatever matched it)");
		e->kind = EXCEPT_SHA256;
		r = sha_parse(sha, nsha, e->sha256, d);
	} else if (rule != NULL) {
		e->kind = EXCEPT_RULE;
		if ((r = rule_check(rule, nrule, d)) == 0)
			r = dup_str(&e->rule, rule, d);
	} else if (path != NULL) {
		e->kind = EXCEPT_PATH;
	} else {
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
				"an exception needs \"sha256\", \"path\" or \"rule\"");
	}
	if (r == 0 && path != NULL && (r = except_glob_check(path, npath, d)) == 0)
		r = dup_str(&e->glob, path, d);
	if (r == 0 && reason != NULL &&
	    (r = text_check("reason", reason, nreason, WARD_MAX_EXCEPT_REASON, d)) == 0)
		r = dup_str(&e->reason, reason, d);
	if (r == 0 && by != NULL && (r = text_check("by", by, nby, WARD_MAX_EXCEPT_BY, d)) == 0)
		r = dup_str(&e->by, by, d);
	if (r == 0 && (flags & EXCEPT_IDS)) {
		r = int_field(o, "id", 1, &e->id, d);
		if (r == 0 && json_object_get(o, "added") != NULL)
			r = int_field(o, "added", 0, &e->added, d);
	}
	if (r != 0)
		except_clear(e);
	return r;
}

json_t *
except_to_json(const struct except *e, unsigned flags)
{
	json_t *o = json_object();
	char hex[65];
	int bad = o == NULL;

	if (!bad && e->kind == EXCEPT_SHA256) {
		(void)digest_to_hex(e->sha256, 32, hex, sizeof(hex));
		bad |= json_object_set_new(o, "sha256", json_string(hex));
	}
	if (!bad && e->rule != NULL)
		bad |= json_object_set_new(o, "rule", json_string(e->rule));
	if (!bad && e->glob != NULL)
		bad |= json_object_set_new(o, "path", json_string(e->glob));
	if (!bad && e->reason != NULL)
		bad |= json_object_set_new(o, "reason", json_string(e->reason));
	if (!bad && (flags & EXCEPT_IDS)) {
		bad |= json_object_set_new(o, "id", json_integer((json_int_t)e->id));
		if (!bad && e->added > 0)
			bad |= json_object_set_new(o, "added", json_integer((json_int_t)e->added));
		if (!bad && e->by != NULL)
			bad |= json_object_set_new(o, "by", json_string(e->by));
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
except_parse_text(const char *s, struct except *e, struct ward_diag *d)
{
	const char *sep;
	int r;

	memset(e, 0, sizeof(*e));
	if (strncmp(s, "sha256:", 7) == 0) {
		e->kind = EXCEPT_SHA256;
		return sha_parse(s + 7, strlen(s + 7), e->sha256, d);
	}
	if (strncmp(s, "path:", 5) == 0) {
		e->kind = EXCEPT_PATH;
		if ((r = except_glob_check(s + 5, strlen(s + 5), d)) == 0)
			r = dup_str(&e->glob, s + 5, d);
	} else if (strncmp(s, "rule:", 5) == 0) {
		size_t n;

		e->kind = EXCEPT_RULE;
		s += 5;
		sep = strstr(s, " path:");
		n = sep != NULL ? (size_t)(sep - s) : strlen(s);
		if (n > WARD_MAX_SIG_NAME) {
			r = diag_set(d, WARD_ELIMIT, NULL, 0, 0,
				     "a rule name is at most %d bytes (WARD_MAX_SIG_NAME)",
				     WARD_MAX_SIG_NAME);
		} else if ((e->rule = ward_strndup(s, n)) == NULL) {
			r = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
		} else if ((r = rule_check(e->rule, n, d)) == 0 && sep != NULL &&
			   (r = except_glob_check(sep + 6, strlen(sep + 6), d)) == 0) {
			r = dup_str(&e->glob, sep + 6, d);
		}
	} else {
		return diag_set(d, WARD_ESYNTAX, NULL, 0, 0,
				"an exception is sha256:HEX, path:GLOB, rule:NAME or rule:NAME "
				"path:GLOB");
	}
	if (r != 0)
		except_clear(e);
	return r;
}

void
except_format(const struct except *e, char *out, size_t outlen)
{
	char hex[65];

	switch (e->kind) {
	case EXCEPT_SHA256:
		(void)digest_to_hex(e->sha256, 32, hex, sizeof(hex));
		snprintf(out, outlen, "sha256:%s", hex);
		return;
	case EXCEPT_PATH:
		snprintf(out, outlen, "path:%s", e->glob);
		return;
	case EXCEPT_RULE:
		break;
	}
	if (e->glob != NULL)
		snprintf(out, outlen, "rule:%s path:%s", e->rule, e->glob);
	else
		snprintf(out, outlen, "rule:%s", e->rule != NULL ? e->rule : "");
}

/* --- lists ----------------------------------------------------------------- */

int
except_list_add(struct except_list *l, struct except *e, struct ward_diag *d)
{
	int r = 0;

	if (l->n >= WARD_MAX_EXCEPTIONS)
		r = diag_set(d, WARD_ELIMIT, NULL, 0, 0,
			     "more than %d exceptions (WARD_MAX_EXCEPTIONS)", WARD_MAX_EXCEPTIONS);
	else if (ward_grow(&l->v, &l->cap, l->n + 1, sizeof(*l->v)) != 0)
		r = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
	if (r != 0) {
		except_clear(e);
		return r;
	}
	l->v[l->n++] = *e;
	memset(e, 0, sizeof(*e));
	return 0;
}

/* Drops the entries past n (what a failed append added). */
static void
truncate_to(struct except_list *l, unsigned n)
{
	while (l->n > n)
		except_clear(&l->v[--l->n]);
}

int
except_list_from_json(struct except_list *l, const json_t *arr, unsigned flags, struct ward_diag *d)
{
	unsigned n0 = l->n;
	struct except e;
	size_t i;
	int r = 0;

	if (!json_is_array(arr))
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "\"exceptions\" is a list");
	if (json_array_size(arr) > WARD_MAX_EXCEPTIONS - l->n)
		return diag_set(d, WARD_ELIMIT, NULL, 0, 0,
				"more than %d exceptions (WARD_MAX_EXCEPTIONS)",
				WARD_MAX_EXCEPTIONS);
	for (i = 0; i < json_array_size(arr) && r == 0; i++) {
		r = except_from_json(json_array_get(arr, i), flags, &e, d);
		if (r == 0 && (flags & EXCEPT_IDS) && except_list_find_id(l, e.id) >= 0) {
			r = diag_set(d, WARD_EDUPLICATE, NULL, 0, 0, "id %lld is given twice",
				     (long long)e.id);
			except_clear(&e);
		}
		if (r == 0)
			r = except_list_add(l, &e, d);
		if (r != 0) {
			char msg[sizeof(d->msg)];

			if (d != NULL) {
				snprintf(msg, sizeof(msg), "%s", d->msg);
				snprintf(d->msg, sizeof(d->msg), "exceptions[%zu]: %.400s", i, msg);
			}
		}
	}
	if (r != 0)
		truncate_to(l, n0);
	return r;
}

int
except_member_parse(struct except_list *l, const char *name, const char *text, size_t len,
		    struct ward_diag *d)
{
	unsigned n0 = l->n, i;
	json_error_t je;
	json_t *o = NULL, *arr;
	int r;

	if (len > WARD_MAX_EXCEPT_JSON) {
		r = diag_set(d, WARD_ELIMIT, name, 0, 0,
			     "an exceptions member is at most %u bytes (WARD_MAX_EXCEPT_JSON)",
			     WARD_MAX_EXCEPT_JSON);
		goto out;
	}
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL) {
		r = diag_set(d, WARD_ESYNTAX, name, je.line, je.column, "%s", je.text);
		goto out;
	}
	arr = json_object_get(o, "exceptions");
	if (!json_is_object(o) || json_object_size(o) != 1 || arr == NULL) {
		r = diag_set(d, WARD_EFORMAT, name, 1, 1,
			     "an exceptions member is a JSON object {\"exceptions\": [...]}");
		goto out;
	}
	if ((r = except_list_from_json(l, arr, 0, d)) != 0)
		goto out;
	/* Strict: the same exception twice is a mistake of the content's. */
	for (i = n0; i < l->n; i++) {
		int k = except_list_find(l, &l->v[i]);

		if (k >= 0 && (unsigned)k < i) {
			r = diag_set(d, WARD_EDUPLICATE, NULL, 0, 0,
				     "exceptions[%u]: the same exception as exception %d", i - n0,
				     k + 1);
			truncate_to(l, n0);
			goto out;
		}
		l->v[i].id = (int64_t)i + 1;
	}
out:
	if (r != 0 && d != NULL)
		snprintf(d->file, sizeof(d->file), "%s", name);
	json_decref(o);
	return r;
}

json_t *
except_list_to_json(const struct except_list *l, unsigned flags)
{
	json_t *arr = json_array(), *o;
	unsigned i;

	for (i = 0; arr != NULL && i < l->n; i++) {
		o = except_to_json(&l->v[i], flags);
		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* 1 if a and b except the same detections (reason, id, who aside). */
static int
same(const struct except *a, const struct except *b)
{
	if (a->kind != b->kind)
		return 0;
	if (a->kind == EXCEPT_SHA256)
		return memcmp(a->sha256, b->sha256, 32) == 0;
	if ((a->glob == NULL) != (b->glob == NULL) || (a->rule == NULL) != (b->rule == NULL))
		return 0;
	return (a->glob == NULL || strcmp(a->glob, b->glob) == 0) &&
	       (a->rule == NULL || strcmp(a->rule, b->rule) == 0);
}

int
except_list_find(const struct except_list *l, const struct except *e)
{
	unsigned i;

	for (i = 0; i < l->n; i++)
		if (same(&l->v[i], e))
			return (int)i;
	return -1;
}

int
except_list_find_id(const struct except_list *l, int64_t id)
{
	unsigned i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].id == id)
			return (int)i;
	return -1;
}

void
except_list_remove(struct except_list *l, unsigned i)
{
	if (i >= l->n)
		return;
	except_clear(&l->v[i]);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
	l->n--;
}

int
except_list_copy(struct except_list *dst, const struct except_list *src)
{
	struct except e;
	unsigned i;

	except_list_free(dst);
	for (i = 0; i < src->n; i++)
		if (except_copy(&e, &src->v[i]) != 0 || except_list_add(dst, &e, NULL) != 0) {
			except_list_free(dst);
			return WARD_ENOMEM;
		}
	return 0;
}

void
except_list_free(struct except_list *l)
{
	truncate_to(l, 0);
	ward_free(l->v);
	memset(l, 0, sizeof(*l));
}

/* --- matching ------------------------------------------------------------- */

const struct except *
except_match(const struct except_list *l, const char *path, const char *rule, const uint8_t *sha256)
{
	unsigned i;

	for (i = 0; i < l->n; i++) {
		const struct except *e = &l->v[i];

		switch (e->kind) {
		case EXCEPT_SHA256:
			if (sha256 != NULL && memcmp(e->sha256, sha256, 32) == 0)
				return e;
			break;
		case EXCEPT_PATH:
			if (path != NULL && except_glob_match(e->glob, path))
				return e;
			break;
		case EXCEPT_RULE:
			if (rule != NULL && strcmp(e->rule, rule) == 0 &&
			    (e->glob == NULL || (path != NULL && except_glob_match(e->glob, path))))
				return e;
			break;
		}
	}
	return NULL;
}

int
except_list_has_sha256(const struct except_list *l)
{
	unsigned i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].kind == EXCEPT_SHA256)
			return 1;
	return 0;
}

/* --- the compiled form ------------------------------------------------ */

/* Which optional strings an entry of the compiled form carries. */
enum { HAS_GLOB = 1, HAS_RULE = 2, HAS_REASON = 4, HAS_BY = 8 };

int
except_list_encode(const struct except_list *l, struct wbuf *out)
{
	unsigned i;

	wbuf_u32(out, l->n);
	for (i = 0; i < l->n; i++) {
		const struct except *e = &l->v[i];

		wbuf_u8(out, (uint8_t)e->kind);
		wbuf_put(out, e->sha256, 32);
		wbuf_u8(out, (uint8_t)((e->glob ? HAS_GLOB : 0) | (e->rule ? HAS_RULE : 0) |
				       (e->reason ? HAS_REASON : 0) | (e->by ? HAS_BY : 0)));
		if (e->glob != NULL)
			wbuf_str(out, e->glob);
		if (e->rule != NULL)
			wbuf_str(out, e->rule);
		if (e->reason != NULL)
			wbuf_str(out, e->reason);
		if (e->by != NULL)
			wbuf_str(out, e->by);
		wbuf_i64(out, e->id);
		wbuf_i64(out, e->added);
	}
	return out->err;
}

/* The same rules except_from_json applies, on a decoded entry: the kind
 * and its fields agree, each string passes its own check. */
static int
decoded_check(const struct except *e, struct ward_diag *d)
{
	int shape = (e->kind == EXCEPT_SHA256 && e->glob == NULL && e->rule == NULL) ||
		    (e->kind == EXCEPT_PATH && e->glob != NULL && e->rule == NULL) ||
		    (e->kind == EXCEPT_RULE && e->rule != NULL);
	int r = 0;

	if (!shape || e->id < 0 || e->added < 0)
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
				"compiled exception: kind, fields, id or time out of range");
	if (e->glob != NULL)
		r = except_glob_check(e->glob, strlen(e->glob), d);
	if (r == 0 && e->rule != NULL)
		r = rule_check(e->rule, strlen(e->rule), d);
	if (r == 0 && e->reason != NULL)
		r = text_check("reason", e->reason, strlen(e->reason), WARD_MAX_EXCEPT_REASON, d);
	if (r == 0 && e->by != NULL)
		r = text_check("by", e->by, strlen(e->by), WARD_MAX_EXCEPT_BY, d);
	return r;
}

/* One optional string of an entry; a present one must be there. */
static int
decode_str(struct rbuf *b, unsigned has, unsigned bit, size_t max, char **out)
{
	if (!(has & bit))
		return 0;
	return rbuf_strdup(b, max, out);
}

static int
decode_one(struct rbuf *b, struct except *e, struct ward_diag *d)
{
	const uint8_t *sha;
	uint8_t kind, has;
	int r;

	memset(e, 0, sizeof(*e));
	if (rbuf_u8(b, &kind) != 0 || rbuf_bytes(b, 32, &sha) != 0 || rbuf_u8(b, &has) != 0 ||
	    kind < EXCEPT_SHA256 || kind > EXCEPT_RULE ||
	    (has & ~(HAS_GLOB | HAS_RULE | HAS_REASON | HAS_BY)) != 0) {
		r = diag_set(d, WARD_EFORMAT, NULL, 0, 0, "compiled exception: bad header");
		goto out;
	}
	e->kind = (enum except_kind)kind;
	memcpy(e->sha256, sha, 32);
	if ((r = decode_str(b, has, HAS_GLOB, WARD_MAX_EXCEPT_GLOB, &e->glob)) != 0 ||
	    (r = decode_str(b, has, HAS_RULE, WARD_MAX_SIG_NAME, &e->rule)) != 0 ||
	    (r = decode_str(b, has, HAS_REASON, WARD_MAX_EXCEPT_REASON, &e->reason)) != 0 ||
	    (r = decode_str(b, has, HAS_BY, WARD_MAX_EXCEPT_BY, &e->by)) != 0 ||
	    (r = rbuf_i64(b, &e->id)) != 0 || (r = rbuf_i64(b, &e->added)) != 0) {
		r = diag_set(d, r, NULL, 0, 0, "compiled exception: bad or truncated field");
		goto out;
	}
	r = decoded_check(e, d);
out:
	if (r != 0)
		except_clear(e);
	return r;
}

int
except_list_decode(struct rbuf *b, struct except_list *l, struct ward_diag *d)
{
	struct except e;
	uint32_t n, i;
	int r = 0;

	memset(l, 0, sizeof(*l));
	/* 50 bytes is the least an entry takes: a count past what remains is
	 * refused before anything is allocated for it. */
	if (rbuf_u32(b, &n) != 0 || n > WARD_MAX_EXCEPTIONS || n > rbuf_left(b) / 50)
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "compiled exceptions: bad count");
	for (i = 0; i < n && r == 0; i++)
		if ((r = decode_one(b, &e, d)) == 0)
			r = except_list_add(l, &e, d);
	if (r != 0)
		except_list_free(l);
	return r;
}

int
except_fleet_parse(const json_t *o, int64_t *revision, struct except_list *all, struct ward_diag *d)
{
	const json_t *rev = json_object_get(o, "revision");
	const char *key;
	json_t *v;

	*revision = -1;
	memset(all, 0, sizeof(*all));
	if (!json_is_object(o))
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
				"\"exceptions\" is an object {\"revision\", \"list\"}");
	/* Read first, so that even a refusal can name the revision. */
	if (!json_is_integer(rev) || json_integer_value(rev) < 0 ||
	    json_integer_value(rev) > EXCEPT_MAX_REVISION)
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
				"\"revision\" is an integer from 0 to %lld",
				(long long)EXCEPT_MAX_REVISION);
	*revision = (int64_t)json_integer_value(rev);
	if (json_object_get(o, "list") == NULL)
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "\"list\" is missing");
	json_object_foreach((json_t *)o, key, v)
	{
		char safe[64];

		(void)v;
		if (strcmp(key, "revision") == 0 || strcmp(key, "list") == 0)
			continue;
		jcheck_escape(key, safe, sizeof(safe));
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "unknown key \"%s\"", safe);
	}
	return except_list_from_json(all, json_object_get(o, "list"), EXCEPT_IDS, d);
}

int
except_list_check_ids(const struct except_list *l, struct ward_diag *d)
{
	static const uint8_t zero[32];
	unsigned i, j;

	for (i = 0; i < l->n; i++) {
		const struct except *e = &l->v[i];

		if (e->id < 1 || e->id > EXCEPT_MAX_REVISION || e->added < 0 ||
		    e->added > EXCEPT_MAX_REVISION ||
		    (e->kind != EXCEPT_SHA256 && memcmp(e->sha256, zero, sizeof(zero)) != 0))
			return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
					"exceptions[%u]: id, time or digest out of range", i);
		for (j = 0; j < i; j++) /* at most WARD_MAX_EXCEPTIONS entries */
			if (l->v[j].id == e->id)
				return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
						"exceptions[%u]: id %lld twice", i,
						(long long)e->id);
	}
	return 0;
}
