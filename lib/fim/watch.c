/*
 * watch: the real-time FIM watch list.  See watch.h.
 *
 * Must hold: a policy from a bundle is untrusted text until parsed here —
 * only the two known keys, only strings, bounded counts and lengths.
 */
#include "fim/watch.h"
#include "util/alloc.h"
#include "util/buf.h"

#include <fnmatch.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static int
add(char **list, unsigned *n, const char *s, const char *what, struct ward_diag *d)
{
	unsigned i;

	for (i = 0; i < *n; i++)
		if (strcmp(list[i], s) == 0)
			return 0;
	if (*n == FIM_MAX_PATHS)
		return diag_set(d, WARD_ELIMIT, NULL, 0, 0, "more than %d FIM %s", FIM_MAX_PATHS,
				what);
	if ((list[*n] = ward_strdup(s)) == NULL)
		return diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
	(*n)++;
	return 0;
}

int
fim_watch_add_path(struct fim_watch *w, const char *path, struct ward_diag *d)
{
	size_t n = strlen(path);

	if (path[0] != '/' || n >= PATH_MAX || strstr(path, "/./") != NULL ||
	    strstr(path, "/../") != NULL || (n >= 2 && strcmp(path + n - 2, "/.") == 0) ||
	    (n >= 3 && strcmp(path + n - 3, "/..") == 0))
		return diag_set(d, WARD_EINVAL, NULL, 0, 0,
				"FIM path \"%.200s\" is not an absolute path without . or ..",
				path);
	return add(w->paths, &w->npaths, path, "paths", d);
}

int
fim_watch_add_exclude(struct fim_watch *w, const char *glob, struct ward_diag *d)
{
	if (glob[0] == '\0' || strlen(glob) >= PATH_MAX)
		return diag_set(d, WARD_EINVAL, NULL, 0, 0, "empty or overlong FIM exclusion");
	return add(w->excludes, &w->nexcludes, glob, "exclusions", d);
}

int
fim_watch_add_json(struct fim_watch *w, const char *name, const char *text, size_t len,
		   struct ward_diag *d)
{
	json_error_t je;
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *v, *e;
	const char *key;
	size_t i;
	int r = 0;

	if (o == NULL)
		return diag_set(d, WARD_ESYNTAX, name, je.line, je.column, "%s", je.text);
	if (!json_is_object(o)) {
		json_decref(o);
		return diag_set(d, WARD_ESYNTAX, name, 1, 1,
				"a FIM policy is a JSON object with \"paths\" and \"exclude\"");
	}
	json_object_foreach(o, key, v)
	{
		int paths = strcmp(key, "paths") == 0;

		if (!paths && strcmp(key, "exclude") != 0) {
			r = diag_set(d, WARD_ESYNTAX, name, 0, 0, "unknown key \"%.100s\"", key);
			break;
		}
		if (!json_is_array(v)) {
			r = diag_set(d, WARD_ESYNTAX, name, 0, 0,
				     "\"%s\" must be a list of strings", key);
			break;
		}
		json_array_foreach(v, i, e)
		{
			if (!json_is_string(e) ||
			    strlen(json_string_value(e)) != json_string_length(e)) {
				r = diag_set(d, WARD_ESYNTAX, name, 0, 0,
					     "\"%s\" must be a list of strings", key);
				break;
			}
			r = paths ? fim_watch_add_path(w, json_string_value(e), d)
				  : fim_watch_add_exclude(w, json_string_value(e), d);
			if (r != 0) {
				snprintf(d->file, sizeof(d->file), "%s", name);
				break;
			}
		}
		if (r != 0)
			break;
	}
	json_decref(o);
	return r;
}

int
fim_watch_excluded(const struct fim_watch *w, const char *path)
{
	unsigned i;

	for (i = 0; i < w->nexcludes; i++)
		if (fnmatch(w->excludes[i], path, 0) == 0)
			return 1;
	return 0;
}

int
fim_watch_covers(const struct fim_watch *w, const char *path)
{
	unsigned i;

	for (i = 0; i < w->npaths; i++) {
		size_t n = strlen(w->paths[i]);

		if (strncmp(path, w->paths[i], n) == 0 &&
		    (path[n] == '\0' || path[n] == '/' || (n == 1 && path[0] == '/')))
			return !fim_watch_excluded(w, path);
	}
	return 0;
}

void
fim_watch_free(struct fim_watch *w)
{
	unsigned i;

	for (i = 0; i < w->npaths; i++)
		ward_free(w->paths[i]);
	for (i = 0; i < w->nexcludes; i++)
		ward_free(w->excludes[i]);
	memset(w, 0, sizeof(*w));
}

/* --- the compiled form ------------------------------------------------ */

int
fim_watch_encode(const struct fim_watch *w, struct wbuf *out)
{
	unsigned i;

	wbuf_u32(out, w->npaths);
	for (i = 0; i < w->npaths; i++)
		wbuf_str(out, w->paths[i]);
	wbuf_u32(out, w->nexcludes);
	for (i = 0; i < w->nexcludes; i++)
		wbuf_str(out, w->excludes[i]);
	return out->err;
}

/* One list of the compiled form: a count, then each string through the
 * same checks as a policy's text. */
static int
decode_list(struct rbuf *b, struct fim_watch *w, int paths, struct ward_diag *d)
{
	uint32_t n, i;
	char *s = NULL;
	int r;

	if (rbuf_u32(b, &n) != 0 || n > FIM_MAX_PATHS)
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "compiled FIM policy: bad count of %s",
				paths ? "paths" : "exclusions");
	for (i = 0, r = 0; i < n && r == 0; i++) {
		if ((r = rbuf_strdup(b, PATH_MAX - 1, &s)) != 0) {
			r = diag_set(d, r, NULL, 0, 0, "compiled FIM policy: bad string");
			break;
		}
		r = paths ? fim_watch_add_path(w, s, d) : fim_watch_add_exclude(w, s, d);
		ward_free(s);
		s = NULL;
	}
	return r;
}

int
fim_watch_decode(struct rbuf *b, struct fim_watch *w, struct ward_diag *d)
{
	int r;

	memset(w, 0, sizeof(*w));
	if ((r = decode_list(b, w, 1, d)) != 0 || (r = decode_list(b, w, 0, d)) != 0)
		fim_watch_free(w);
	return r;
}
