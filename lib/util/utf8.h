/*
 * utf8: text cut to a field without breaking a character.
 *
 * A string cut to a fixed field by bytes (snprintf) can end inside a UTF-8
 * character; JSON cannot hold it then, and whatever carries it (the
 * content state, a stored plan, a report) would lose the record.
 */
#ifndef WARD_UTIL_UTF8_H
#define WARD_UTIL_UTF8_H

/* Drops the bytes of a last, incomplete UTF-8 character of s (in place).
 * Anything else, including bytes that are no UTF-8 at all, is kept. */
void utf8_cut(char *s);

#endif
