/*
 * jcheck: checked getters over JSON from outside.  See jcheck.h.
 *
 * Must hold: a getter never hands back a value it has not checked; a
 * failure names the field, never echoes its (hostile) content.
 */
#include "proto/jcheck.h"

#include <string.h>

int
jcheck_chars_ok(const char *s, size_t n, enum jcheck_chars chars)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (chars) {
		case JCHECK_TEXT:
			if (c < 0x20 || c == 0x7f)
				return 0;
			break;
		case JCHECK_TOKEN:
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || strchr("._:+~-", c) != NULL))
				return 0;
			break;
		case JCHECK_HEX:
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
				return 0;
			break;
		}
	}
	return 1;
}

void
jcheck_escape(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;
		int plain = c >= 0x20 && c < 0x7f && c != '\\';

		/* Room for this byte, "..." and the NUL, or cut here. */
		if (n + (plain ? 1 : 4) + 4 > outlen) {
			if (n + 4 <= outlen) {
				memcpy(out + n, "...", 3);
				n += 3;
			}
			break;
		}
		if (plain) {
			out[n++] = (char)c;
		} else {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}

int
jcheck_hex(const char *s, size_t n)
{
	return s != NULL && strlen(s) == n && jcheck_chars_ok(s, n, JCHECK_HEX);
}

int
jcheck_string(json_t *o, const char *key, int optional, enum jcheck_chars chars, size_t min,
	      char *out, size_t outlen, struct ward_diag *d)
{
	json_t *v = json_object_get(o, key);
	size_t n;

	out[0] = '\0';
	if (v == NULL || json_is_null(v)) {
		if (optional)
			return 0;
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "\"%s\" is missing", key);
	}
	if (!json_is_string(v))
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "\"%s\" must be a string", key);
	n = json_string_length(v);
	if (n >= outlen || n < min)
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "\"%s\" must be %zu to %zu bytes", key,
				min, outlen - 1);
	if (memchr(json_string_value(v), '\0', n) != NULL ||
	    !jcheck_chars_ok(json_string_value(v), n, chars))
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
				"\"%s\" holds characters it may not (%s)", key,
				chars == JCHECK_HEX	? "lowercase hexadecimal only"
				: chars == JCHECK_TOKEN ? "letters, digits and ._:+~- only"
							: "no control characters");
	memcpy(out, json_string_value(v), n);
	out[n] = '\0';
	return 0;
}

int
jcheck_int(json_t *o, const char *key, int optional, int64_t lo, int64_t hi, int64_t dflt,
	   int64_t *out, struct ward_diag *d)
{
	json_t *v = json_object_get(o, key);

	*out = dflt;
	if (v == NULL || json_is_null(v)) {
		if (optional)
			return 0;
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "\"%s\" is missing", key);
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
				"\"%s\" must be an integer from %lld to %lld", key, (long long)lo,
				(long long)hi);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

int
jcheck_bounded(json_t *v, const char *where, unsigned depth, size_t items, size_t strmax,
	       json_t **out, struct ward_diag *d)
{
	json_t *copy = NULL, *e, *c;
	const char *key;
	size_t i;
	int r = 0;

	*out = NULL;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
	case JSON_ARRAY:
		if (depth == 0)
			return diag_set(d, WARD_ELIMIT, NULL, 0, 0, "\"%s\" is nested too deeply",
					where);
		if ((json_is_object(v) ? json_object_size(v) : json_array_size(v)) > items)
			return diag_set(d, WARD_ELIMIT, NULL, 0, 0,
					"\"%s\" has more than %zu members", where, items);
		copy = json_is_object(v) ? json_object() : json_array();
		if (json_is_object(v)) {
			json_object_foreach(v, key, e)
			{
				if (strlen(key) > strmax ||
				    !jcheck_chars_ok(key, strlen(key), JCHECK_TEXT)) {
					r = diag_set(d, WARD_EFORMAT, NULL, 0, 0,
						     "\"%s\" has a malformed key", where);
					break;
				}
				if ((r = jcheck_bounded(e, where, depth - 1, items, strmax, &c,
							d)) != 0)
					break;
				json_object_set_new(copy, key, c);
			}
		} else {
			json_array_foreach(v, i, e)
			{
				if ((r = jcheck_bounded(e, where, depth - 1, items, strmax, &c,
							d)) != 0)
					break;
				json_array_append_new(copy, c);
			}
		}
		break;
	case JSON_STRING:
		if (json_string_length(v) > strmax ||
		    memchr(json_string_value(v), '\0', json_string_length(v)) != NULL ||
		    !jcheck_chars_ok(json_string_value(v), json_string_length(v), JCHECK_TEXT))
			return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
					"\"%s\" holds a string that is too long or malformed",
					where);
		copy = json_incref(v);
		break;
	default: /* numbers, booleans, null */
		copy = json_incref(v);
		break;
	}
	if (r != 0 || copy == NULL) {
		json_decref(copy);
		return r != 0 ? r : diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
	}
	*out = copy;
	return 0;
}
