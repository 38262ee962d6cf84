/*
 * atoms: where YARA 4.2 starts verifying a regexp.  YARA searches the data
 * for short literal pieces of a regexp (atoms) and, where one is found,
 * runs the part of the regexp from the atom to its end (forward code) and
 * the part before it backwards.  For an `ascii wide` string the forward
 * part is run as ascii first, and as wide only when that fails, so which
 * node an atom starts at decides which wide matches YARA reports.
 *
 * Internal to lib/pattern.
 */
#ifndef WARD_PATTERN_ATOMS_H
#define WARD_PATTERN_ATOMS_H

#include <stddef.h>
#include <stdint.h>

#include "pattern/ptree.h"

#define ATOMS_MAX 64 /* more atoms than this: the analysis gives up */
#define ATOMS_LEN 4  /* YR_MAX_ATOM_LENGTH: characters in an atom */

/* One atom: where it starts in the tree and its characters. */
struct atoms_atom {
	uint32_t node; /* the PT_CLASS literal (or `.`) it starts at */
	uint8_t len;   /* characters, 1..ATOMS_LEN */
	/* the characters as written (before nocase folding); mask 0 for a
	 * `.`, which YARA expands into every byte */
	uint8_t byte[ATOMS_LEN], mask[ATOMS_LEN];
};

/*
 * Chooses the atoms YARA 4.2 extracts from the regexp tree t with its
 * default (heuristic) atom quality, in the order of the regexp (YARA's
 * order among atoms found at one place: see pattern_exec.c).  Sets
 * atom[0..*n) to the chosen atoms; *n = 0 stands for
 * YARA's zero-length atom, i.e. verification from the start of the
 * regexp (also the case of a regexp that is a plain literal, which YARA
 * verifies as a text string).  Returns 0, or -1 with *n = 0 when the tree
 * is too complex to analyse (over ATOMS_MAX atoms, or repeats that expand
 * too much).  Does not allocate.
 */
int atoms_choose(const struct ptree *t, struct atoms_atom atom[ATOMS_MAX], size_t *n);

/*
 * The number of characters of a regexp that is a plain sequence of
 * literals (YARA turns it into a text string), 0 for any other regexp.
 */
size_t atoms_literal_len(const struct ptree *t);

/*
 * The atom YARA 4.2 takes from a literal of n bytes: the first window of
 * the best quality among those of 4 bytes (the whole literal when it is
 * shorter).  Sets *off to its offset and returns its length.
 */
size_t atoms_literal_window(const uint8_t *b, size_t n, size_t *off);

#endif
