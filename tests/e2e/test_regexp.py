"""
Regular expressions against the installed yara 4.2.3, match by match: for
each case, every (rule, string, offset, length) that `yara -s -L` prints
must be what `ward scan --format json` reports, and the same rules must
match (conditions read `!a[i]`, `@a[i]`, `#a` and `matches`).  The cases
are the places where yara's regexp engine answers in its own way: which
verification of an alternation gives a match's length, a lazy regexp with
fullword, `\\b` at the ends of the file, repeats of what can be empty, and
empty matches in `matches`.
"""

import os

import pytest

from matchlib import YARA, ward_matches, yara_matches

pytestmark = pytest.mark.skipif(not os.access(YARA, os.X_OK), reason="yara is not installed")


def widen(bs):
    return b"".join(bytes([c, 0]) for c in bs)


# (name, strings, condition, data); each case is one rule; the condition
# defaults to "any of them"
CASES = [
    # the alternatives of a regexp are verified one by one from their atoms,
    # in the order the atoms are found; the first verification stays, or the
    # last one for a regexp with a greedy quantifier
    ("alt_first", ["/(abcdefgh|abcdef)/"], "$a0 and !a0[1] == 8", b"abcdefgh abcdefx"),
    ("alt_first2", ["/(abcdef|abcdefgh)/"], None, b"abcdefgh abcdefx"),
    ("alt_greedy_last", ["/(abcdefgh|abcdef)x*/"], "!a0[1] == 6", b"abcdefghxx"),
    ("alt_greedy_last2", ["/(abcdef|abcdefgh)x*/"], None, b"abcdefghxx abcdefx"),
    ("alt_atom_end", ["/(ab|a)/", "/(a|ab)c?/"], None, b"abbbc abc"),
    ("alt_overlap", ["/(bcdefgh|abcdef)/"], "#a0 == 2 and @a0[2] == 1", b"abcdefgh"),
    # equal atoms of the alternatives: wide ones are verified in the
    # reverse order, and other cases of a nocase atom before it
    ("alt_wide", ["/(abcdefgh|abcdef)/ wide", "/(abcdef|abcdefgh)/ wide",
                  "/(abcdefgh|abcdef)x*/ wide"], None, widen(b"abcdefghxx abcdefx")),
    ("alt_nocase", ["/(abcdefgh|abcdef)/ nocase", "/(abcdefgh|ABCDEF)/ nocase",
                    "/(abcdefgh|abcdef)x*/ nocase"], None, b"ABCDEFGHxx abcdefghxx"),
    ("alt_wide_nocase", ["/(abcdefgh|abcdef)x*/ nocase wide",
                         "/(abcdefgh|abcdef)/ nocase wide ascii"], None,
     widen(b"abcdefghxx ABCDEFGHxx") + b" abcdefgh ABCDEFGH"),
    # no atoms: one verification from the start, in priority order
    ("alt_no_atoms", ["/(\\w|\\w\\w)[0-9]*/", "/(\\w\\w|\\w)/", "/(\\w|\\w\\w)/"], None,
     b"ab1 x9 yz"),
    # a lazy regexp with fullword: the verification from a later atom gives
    # a longer match that passes fullword
    ("lazy_fullword_wide", ["/hg.(t{4}?x|q??h{3}?)+?/s fullword nocase wide"], None,
     widen(b"hGqhHHTtTtX") + b"\0\0" + widen(b"Hg#hHhhHH")),
    ("lazy_fullword_loop", ["/hg.(t{4}?x|q??h{3}?)+?/s fullword nocase wide"],
     "for any of ($a*) : ( $ at 0 )", widen(b"hGqhHHTtTtX")),
    ("lazy_fullword_ascii", ["/a(bc|x)+?/ fullword"], None, b"abcbcx abc abcbc-"),
    # \b holds at the start and at the end of the file whatever the
    # characters, \B never does there
    ("wordb_start", ["/\\b.\\W{3,4}?-v\\W./"], None, b";%,\xb3-v~\xe7"),
    ("nwordb_start", ["/\\B[^t-v\\w]./s"], None, b"\x11\xd0 \x11\xd0"),
    ("wordb_start_wide", ["/\\b[j\\s]d.sx+[6\\wh-j]*/ fullword wide"],
     "for any of ($a*) : ( $ in (0..1000) )", widen(b" dxsx")),
    ("wordb_end", ["/-\\b/", "/-\\B/", "/x\\b/"], None, b"a- x-"),
    # a repeat whose body can be empty: yara lets one empty iteration pass
    # per character read
    ("empty_repeat", ["/a(\"*){3,5}b/", "/a(\"?){3,5}b/", "/a(\"*){2}b/", "/a(\"*)+b/"], None,
     b'ab a"b a""b a"""b a""""b a"""""b a""""""b'),
    # a lazy .{n,m}? over 200 cuts a regexp into a chain: the gap's bytes
    # are not checked, its bounds count bytes also in the wide form, and
    # fullword holds for each piece
    ("chain_newline", ["/n.{0,}?l/i", "/n.*?l/", "/n.{1,}?l/", "/n.{0,5}?l/"], None,
     b"n\nl nxl nab\n\nzl"),
    ("chain_wide", ["/ab.{300}?cd/ wide", "/ab.{0,}?cd/ wide", "/ab.{600}?cd/ wide"], None,
     widen(b"ab" + b"x" * 150 + b"cd  ab" + b"x" * 300 + b"cd")),
    ("chain_fullword", ["/ab.{201,}?cd/ fullword", "/ab.{201,}?cd/"], None,
     b"ab" + b"x" * 201 + b"cd ab" + b"-" * 201 + b"cd"),
    # from an atom at its end yara runs up to 4 096 bytes backwards: the
    # match is longer than that
    ("long_backwards", ["/x.+?abcd/s"], "$a0 and !a0[1] == 4100",
     b"x" + b"-" * 4095 + b"abcd y" + b"-" * 4096 + b"abcd"),
    # counts and overlapping matches
    ("overlap", ["/ab+/", "/b+?/", "/[ab]{2,3}/"], "#a0 == 2 and #a1 == 4 and $a2", b"abbbab"),
    # matches: an empty match counts
    ("matches_empty", [], '"abc" matches /(Get)?/ and "abc" matches /x*/ and '
     'not ("abc" matches /(Get)?x/) and "x-" matches /-\\b/', b"-"),
]


def rule_text(name, strings, cond):
    out = ["rule %s {" % name]
    if strings:
        out.append("  strings:")
        for i, s in enumerate(strings):
            out.append("    $a%d = %s" % (i, s))
    out.append("  condition: %s" % (cond or "any of them"))
    out.append("}")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("name,strings,cond,data", CASES, ids=[c[0] for c in CASES])
def test_regexp_matches_yara(ward_bin, tmp_path, name, strings, cond, data):
    rules = tmp_path / "r.yar"
    rules.write_text(rule_text(name, strings, cond))
    target = tmp_path / "in"
    target.write_bytes(data)
    # one file: its path is left out
    want = {m[1:] for m in yara_matches(str(rules), str(target), stderr_ok=False)}
    got = {m[1:] for m in ward_matches(ward_bin, str(rules), str(target))}
    # every case is chosen so that yara reports something
    assert want, "yara matches nothing: the case tests nothing"
    assert got == want, "yara only: %s\nward only: %s" % (sorted(want - got, key=str),
                                                         sorted(got - want, key=str))
