/*
 * clamdb_off: ClamAV's offsets (`*`, `n`, `n,m`, `EOF-n`, `EP+n`, `Sx+n`,
 * `SL+n`, `SE`...) and a body signature's place in the file, turned into
 * YARA conditions over the `pe` and `elf` modules that hold exactly where
 * ClamAV's do (split from clamdb_hex.c, which turns the signature itself
 * into strings).
 *
 * Must hold: every byte of an offset is read through an rbuf; an offset
 * YARA cannot say exactly is refused (WARD_EUNSUPPORTED) with the reason;
 * one ClamAV refuses as malformed is WARD_ESYNTAX.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clamav/clamdb_int.h"
#include "util/alloc.h"
#include "util/limits.h"

/* libclamav's left check ((B): boundary[] 1 or 3) of the byte before
 * position pos, or the file's start. */
static void
left_cond(struct wbuf *w, uint8_t a, const char *pos)
{
	unsigned c;

	clamdb_printf(w, "(%s == 0 or ", pos);
	if (a == 'L') {
		clamdb_printf(w, "uint8(%s - 1) == 0x0A)", pos);
	} else if (a == 'W') {
		clamdb_printf(w,
			      "not ((uint8(%s - 1) >= 0x30 and uint8(%s - 1) <= 0x39) or "
			      "(uint8(%s - 1) >= 0x41 and uint8(%s - 1) <= 0x5A) or "
			      "(uint8(%s - 1) >= 0x61 and uint8(%s - 1) <= 0x7A)))",
			      pos, pos, pos, pos, pos, pos);
	} else {
		int first = 1;

		clamdb_puts(w, "(");
		for (c = 0; c < 256; c++) {
			if (clamdb_anchor_bnd(c) != 1 && clamdb_anchor_bnd(c) != 3)
				continue;
			clamdb_printf(w, "%suint8(%s - 1) == 0x%02X", first ? "" : " or ", pos, c);
			first = 0;
		}
		clamdb_puts(w, "))");
	}
}

/* One loop over the matches of $name: offset and left check on each start,
 * and with eof, a match that ends at the file's end. */
static int
match_loop(const uint8_t *off, size_t offn, const char *name, unsigned target,
	   const struct clamdb_hexinfo *hi, int eof, struct wbuf *w, int *pe, int *elf, char *why,
	   size_t whylen)
{
	char pos[48];
	int r;

	snprintf(pos, sizeof(pos), "@%s[i]", name);
	clamdb_printf(w, "for any i in (1..#%s) : (", name);
	if ((r = clamdb_offset_convert(off, offn, pos, target, w, pe, elf, why, whylen)) != 0)
		return r;
	if (hi->left) {
		clamdb_puts(w, " and ");
		left_cond(w, hi->left, pos);
	}
	if (eof)
		clamdb_printf(w, " and @%s[i] + !%s[i] == filesize", name, name);
	clamdb_puts(w, ")");
	return w->err;
}

int
clamdb_match_cond(const uint8_t *off, size_t offn, const char *name, unsigned target,
		  const struct clamdb_hexinfo *hi, struct wbuf *w, int *pe, int *elf, char *why,
		  size_t whylen)
{
	char id[48], z[48];
	int r;

	why[0] = '\0';
	if (hi->lead_gap && !(offn == 1 && off[0] == '*')) {
		/* libclamav filters such a match by where its first AC byte
		 * could start and then by its real start, but skips the first
		 * filter when another signature has the same AC pattern: no
		 * stable meaning (docs/clamav.md). */
		snprintf(why, whylen, "an offset on a signature that starts XX[n-m] or !(X)");
		return WARD_EUNSUPPORTED;
	}
	if (!hi->left && !hi->eof) {
		snprintf(id, sizeof(id), "$%s", name);
		return clamdb_offset_convert(off, offn, id, target, w, pe, elf, why, whylen);
	}
	snprintf(z, sizeof(z), "%sz", name);
	clamdb_puts(w, "(");
	r = match_loop(off, offn, name, target, hi, 0, w, pe, elf, why, whylen);
	if (r == 0 && hi->eof) {
		clamdb_puts(w, " or ");
		r = match_loop(off, offn, z, target, hi, 1, w, pe, elf, why, whylen);
	}
	clamdb_puts(w, ")");
	return r != 0 ? r : w->err;
}

/* --- offsets ----------------------------------------------------------- */

/* A decimal number of 1 to 9 digits, all of [*p, end): ClamAV's
 * cli_isnumber and atoi. */
static int
off_num(struct rbuf *b, size_t end, uint32_t *v)
{
	uint8_t c;
	size_t n = 0;

	*v = 0;
	while (b->off < end && rbuf_u8(b, &c) == 0) {
		if (c < '0' || c > '9' || ++n > 9)
			return -1;
		*v = *v * 10 + (uint32_t)(c - '0');
	}
	return n > 0 ? 0 : -1;
}

/* Does (p, n) start with the text s? */
static int
off_prefix(const uint8_t *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k && memcmp(p, s, k) == 0;
}

/* id in [lo, hi]: a string ("$a in (..)") or a position ("@a[i]"). */
static void
off_in(struct wbuf *w, const char *id, const char *lo, const char *hi)
{
	if (id[0] == '@')
		clamdb_printf(w, "(%s >= %s and %s <= %s)", id, lo, id, hi);
	else
		clamdb_printf(w, "%s in (%s .. %s)", id, lo, hi);
}

static void
off_at_in(struct wbuf *w, const char *id, const char *base, int has_shift, uint32_t shift)
{
	char hi[200];

	if (has_shift) {
		snprintf(hi, sizeof(hi), "%s + %u", base, shift);
		off_in(w, id, base, hi);
	} else if (id[0] == '@') {
		clamdb_printf(w, "%s == %s", id, base);
	} else if (id[0] == '#') {
		off_in(w, id, base, base);
	} else {
		clamdb_printf(w, "%s at %s", id, base);
	}
}

int
clamdb_offset_convert(const uint8_t *p, size_t n, const char *id, unsigned target, struct wbuf *w,
		      int *uses_pe, int *uses_elf, char *why, size_t whylen)
{
	struct rbuf b;
	size_t end = n, i;
	uint32_t shift = 0, v = 0, sec = 0;
	int has_shift = 0, r = 0, exe = target == 1 || target == 6 || target == 9;
	char base[160], hib[200];

	why[0] = '\0';
	if (n == 1 && p[0] == '*') {
		clamdb_puts(w, id[0] == '@' ? "true" : id);
		goto out;
	}
	if (n == 0 || n > 64) {
		snprintf(why, whylen, "offset missing or longer than 64 characters");
		r = WARD_ESYNTAX;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (p[i] == ',')
			break;
	if (i < n) {
		rbuf_init(&b, p, n);
		b.off = i + 1;
		if (off_num(&b, n, &shift) != 0) {
			snprintf(why, whylen, "invalid offset shift");
			r = WARD_ESYNTAX;
			goto out;
		}
		has_shift = 1;
		end = i;
	}
	rbuf_init(&b, p, end);
	if (id[0] == '#' && (end == 0 || p[0] < '0' || p[0] > '9') && !off_prefix(p, end, "EOF-")) {
		/* a count is an integer: no module's guard around it */
		r = WARD_EUNSUPPORTED;
		snprintf(why, whylen, "a count of a subsignature with an executable's offset");
		goto out;
	}
	if (off_prefix(p, end, "EP+") || off_prefix(p, end, "EP-")) {
		b.off = 3;
		if (off_num(&b, end, &v) != 0)
			goto bad;
		if (!exe) {
			r = WARD_ESYNTAX;
			snprintf(why, whylen, "EP offsets need target type 1, 6 or 9");
			goto out;
		}
		if (target == 1) {
			*uses_pe = 1;
			snprintf(base, sizeof(base), "pe.entry_point %c %u", p[2], v);
		} else if (target == 6) {
			*uses_elf = 1;
			snprintf(base, sizeof(base), "elf.entry_point %c %u", p[2], v);
		} else {
			r = WARD_EUNSUPPORTED;
			snprintf(why, whylen,
				 "EP offsets of Mach-O files (ward has no Mach-O module)");
			goto out;
		}
	} else if (off_prefix(p, end, "SE") || off_prefix(p, end, "SL+") ||
		   (end > 1 && p[0] == 'S')) {
		if (!exe) {
			r = WARD_ESYNTAX;
			snprintf(why, whylen, "section offsets need target type 1, 6 or 9");
			goto out;
		}
		/* ELF: every section header, index 0 included (cli_elfheader),
		 * as ward's elf.sections; PE: see docs/clamav.md. */
		const char *m = target == 1 ? "pe" : "elf";
		const char *fo = target == 1 ? "raw_data_offset" : "offset";
		const char *fs = target == 1 ? "raw_data_size" : "size";

		if (target == 9) {
			r = WARD_EUNSUPPORTED;
			snprintf(why, whylen, "section offsets of Mach-O files");
			goto out;
		}
		if (target == 1)
			*uses_pe = 1;
		else
			*uses_elf = 1;
		if (off_prefix(p, end, "SE")) {
			b.off = 2;
			if (off_num(&b, end, &sec) != 0)
				goto bad;
			/* The whole section, plus the shift past its end, as
			 * ClamAV's cli_caloff has it. */
			snprintf(base, sizeof(base), "%s.sections[%u].%s", m, sec, fo);
			snprintf(hib, sizeof(hib), "%s.sections[%u].%s + %s.sections[%u].%s + %u",
				 m, sec, fo, m, sec, fs, shift);
			clamdb_printf(w, "(%u < %s.number_of_sections and ", sec, m);
			off_in(w, id, base, hib);
			clamdb_puts(w, ")");
			goto out;
		}
		if (off_prefix(p, end, "SL+")) {
			b.off = 3;
			if (off_num(&b, end, &v) != 0)
				goto bad;
			snprintf(base, sizeof(base),
				 "%s.sections[%s.number_of_sections - 1].%s + %u", m, m, fo, v);
			clamdb_printf(w, "(%s.number_of_sections > 0 and ", m);
		} else {
			size_t plus;

			for (plus = 1; plus < end && p[plus] != '+'; plus++)
				;
			b.off = 1;
			if (plus >= end || off_num(&b, plus, &sec) != 0)
				goto bad;
			b.off = plus + 1;
			if (off_num(&b, end, &v) != 0)
				goto bad;
			snprintf(base, sizeof(base), "%s.sections[%u].%s + %u", m, sec, fo, v);
			clamdb_printf(w, "(%u < %s.number_of_sections and ", sec, m);
		}
		off_at_in(w, id, base, has_shift, shift);
		clamdb_puts(w, ")");
		goto out;
	} else if (off_prefix(p, end, "EOF-")) {
		b.off = 4;
		if (off_num(&b, end, &v) != 0)
			goto bad;
		snprintf(base, sizeof(base), "filesize - %u", v);
	} else if (off_prefix(p, end, "VI") || memchr(p, '$', end) != NULL) {
		r = WARD_EUNSUPPORTED;
		snprintf(why, whylen, "version-information and macro offsets");
		goto out;
	} else {
		if (off_num(&b, end, &v) != 0)
			goto bad;
		snprintf(base, sizeof(base), "%u", v);
	}
	off_at_in(w, id, base, has_shift, shift);
	goto out;
bad:
	r = WARD_ESYNTAX;
	snprintf(why, whylen, "invalid offset");
out:
	if (r == 0 && w->err != 0)
		r = w->err;
	return r;
}
