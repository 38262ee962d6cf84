#!/usr/bin/python3
"""
clamav_gen: a seeded generator of ClamAV signature databases (.ndb, .ldb,
.hdb, .hsb) and of input files with the signatures' bytes planted, for the
differential test of ward's ClamAV signature support against the installed
clamscan (tests/diff/clamav_run.py).

Everything here is a pure function of the seed (random.Random is stable
across Python versions for the calls used here), except the real files read
from the system (PE and ELF hosts, /usr/share/clamav-testfiles): the same
seed gives the same databases and inputs on machines with the same packages.

What is generated (docs/testing-clamav.md has the whole list):
  - .ndb body signatures over ClamAV's hex syntax: `??`, nibbles `a?` `?a`,
    `*`, `{n}`, `{-n}`, `{n-}`, `{n-m}`, `XX[n-m]` at either end,
    alternatives `(aa|bbcc)` and negated ones `!(aa|bb)`, anchors `(B)`
    `(L)` `(W)` and their negations; targets 0, 1 (PE) and 6 (ELF); offsets
    `*`, `n`, `n,m`, `EOF-n`, `EP+n`, `EP-n`, `Sx+n`, `SL+n`, `SEx`;
  - .ldb logical signatures: 1-5 subsignatures with offsets and the
    modifiers `i` `w` `f` `a`, expressions with `&` `|`, parentheses and
    counts (`0=2`, `0>1`, `0<3`, `(0|1)>2,2`), target description blocks
    with Engine, Target, FileSize, EntryPoint and NumberOfSections;
  - .hdb (MD5) and .hsb (SHA-1, SHA-256) hash signatures with sizes and `*`;
  - inputs: filler with a signature planted where it asks (and just outside:
    one byte changed, a gap one too long, a count one short, an offset one
    off), real and built PE files and small ELF files with bytes planted at
    their entry point and sections, and clamav-testfiles samples with
    signatures cut from their bytes.

Each planted input carries the generator's expectation (this signature
should match / should not match this file).  clamscan is the oracle; the
expectations only measure how well the generator aims (clamav_run.py
--self-test): where clamscan disagrees with them, the generator's idea of
ClamAV is wrong, not clamscan.

ClamAV's semantics the generator follows (read in libclamav, 1.4):
  - an ndb/ldb offset is where the match starts; `n,m` allows starts n..n+m;
    EP/Sx/SL/SE need target 1, 6 or 9 (cli_caloff); EP is the entry point's
    file offset; ELF sections are all section headers, index 0 included
    (sh_offset, sh_size); PE sections are PointerToRawData rounded down and
    SizeOfRawData rounded up to FileAlignment (cli_peheader);
  - `{n}` with 0 < n < 128 is n `??`; other `{..}` and `*` split the
    signature into parts matched in order; neither may sit inside `( )`;
  - `XX[n-m]` only with a single byte XX at either end, m <= 32;
  - `!(B)` `!(L)` `!(W)` at the left end are one byte of the match (the
    offset points at it), not a check of the byte before; inside a pattern
    an anchor is one byte of its class (or, negated, not of it);
  - (B): left neighbour one of ` -./<@_` or file start, right one of
    `\\n \\r space " ' - / = > _` or end of file; (L): `\\n` (or `\\r\\n` to the
    right) or the file's ends; (W): not alphanumeric or the file's ends;
  - `::f` wraps the subsignature in (W)..(W); `::w` interleaves NULs (jumps
    count bytes of the wide form), `::wa` adds the plain form;
  - logical expressions have no precedence: the top level splits at its
    first operator (`0&1|2` is `0&(1|2)`), a parenthesized group at its
    last (`(0&1|2)` is `((0&1)|2)`); a block `(..)=n` counts 0 when the
    block is false; `,m` needs at least m distinct subsignatures, and a
    block passes its count but no subsignature ids up (cli_ac_chklsig,
    ported as chklsig() below);
  - files of 5 bytes or less are not scanned at all (no hash, no body
    signature matches them; cli_magic_scan);
  - hash sizes are non-zero; `*` needs a minimum functionality level of 73
    in the fourth field (cli_loadhash); per hash type one name from the
    sized table and one from the `*` table are reported (cli_scan_fmap).

    tests/diff/clamav_gen.py --seed 7 --out /tmp/sample
"""

import argparse
import hashlib
import os
import random
import sys

from clamav_exe import load_hosts

TESTFILES = "/usr/share/clamav-testfiles"
SCANBUFF = 131072   # libclamav's scan window (CMakeLists.txt)
# Samples clamscan scans as plain bytes with the switches clamav_run.py
# gives (archives and documents not parsed); packed PE files are left out:
# clamscan unpacks them and scans the unpacked image too.
TESTFILE_SAMPLES = ["clam.exe", "clam.zip", "clam.7z", "clam.arj", "clam.cab",
                    "clam.tar.gz", "clam.exe.bz2", "clam.newc.cpio", "clam.sis",
                    "clam.exe.szdd", "clam.bz2.zip"]

# boundary[] of libclamav/matcher-ac.c: 1 left only, 2 right only, 3 both
B_LEFT = b" -./<@_"
B_RIGHT = b"\n\r \"'-/=>_"
ALNUM = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
NOT_ALNUM = bytes(b for b in range(256) if b not in ALNUM)

# ---------------------------------------------------------------------------
# body patterns
#
# A pattern is a list of elements:
#   ("lit", bytes)             fixed bytes
#   ("nib", "hi"|"lo", v)      a? / ?a
#   ("any", n)                 ?? x n
#   ("jump", lo, hi, text)     {n} {-n} {n-} {n-m} * (hi None: unbounded)
#   ("alt", [bytes], neg)      (aa|bb) / !(aa|bb)
#   ("anchor", "B"|"L"|"W", neg, side)  side "left"/"right" (a check of
#                              the neighbour byte) or "mid" (one byte)
#   ("rng", lo, hi, side, XX)  XX[lo-hi] at the left end / [lo-hi]XX at the
#                              right


def rand_bytes(rng, n, text=False):
    if text:
        return bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                      for _ in range(n))
    return bytes(rng.getrandbits(8) for _ in range(n))


def gen_lit(rng, lo, hi, text):
    return ("lit", rand_bytes(rng, rng.randint(lo, hi), text))


def unique(xs):
    """xs without repeats, in order (a set's order changes from run to run
    with Python's string hashing)."""
    out = []
    for x in xs:
        if x not in out:
            out.append(x)
    return out


def gen_pattern(rng, opts):
    """A body pattern.  opts: text (printable bytes), simple (no jumps,
    ranges or anchors: for ::w and ::f), anchors (allowed), neg (negated
    alternatives allowed)."""
    text = opts.get("text", False)
    simple = opts.get("simple", False)
    els = []
    if not simple and opts.get("anchors", True) and rng.random() < 0.15:
        els.append(("anchor", rng.choice("BLW"), rng.random() < 0.2, "left"))
    if not simple and not els and rng.random() < 0.08:
        els.append(("rng", 0, 0, "left"))   # filled below: single byte, then [lo-hi]
    els.append(gen_lit(rng, 3, 6, text))
    nmid = rng.randint(0, 4)
    for _ in range(nmid):
        r = rng.random()
        if r < 0.18:
            els.append(("nib", rng.choice(["hi", "lo"]), rng.getrandbits(4)))
        elif r < 0.36:
            els.append(("any", rng.randint(1, 4)))
        elif r < 0.56 and not simple:
            k = rng.random()
            if k < 0.05:
                # long: {n} of 128 or more splits the signature into parts
                # (below it is n `??`), and a wide {n-m}
                if rng.random() < 0.5:
                    n = rng.randint(126, 200)
                    j = ("jump", n, n, "{%d}" % n)
                else:
                    a = rng.randint(50, 150)
                    b = a + rng.randint(1, 200)
                    j = ("jump", a, b, "{%d-%d}" % (a, b))
            elif k < 0.2:
                n = rng.randint(1, 12)
                j = ("jump", n, n, "{%d}" % n)
            elif k < 0.35:
                n = rng.randint(1, 10)
                j = ("jump", 0, n, "{-%d}" % n)
            elif k < 0.5:
                n = rng.randint(0, 6)
                j = ("jump", n, None, "{%d-}" % n)
            elif k < 0.8:
                a = rng.randint(0, 5)
                b = a + rng.randint(1, 10)
                j = ("jump", a, b, "{%d-%d}" % (a, b))
            else:
                j = ("jump", 0, None, "*")
            els.append(j)
            # every part starts with fixed bytes (an AC pattern needs them)
            els.append(gen_lit(rng, 3, 5, text))
            continue
        elif r < 0.62 and not simple and opts.get("anchors", True):
            # an anchor inside the pattern: one byte of its class
            els.append(("anchor", rng.choice("BLW"), rng.random() < 0.3, "mid"))
            els.append(gen_lit(rng, 1, 3, text))
            continue
        elif r < 0.8:
            # clamscan refuses a negated alternative in a subsignature
            # with modifiers ("generic alternate strings")
            neg = opts.get("neg", True) and rng.random() < 0.3
            n = rng.randint(2, 4)
            if neg:
                width = rng.randint(1, 2)
                alts = unique([rand_bytes(rng, width, text) for _ in range(n)])
            else:
                alts = unique([rand_bytes(rng, rng.randint(1, 3), text) for _ in range(n)])
            if len(alts) < 2:
                alts.append(alts[0] + b"\x01" if not neg else bytes([alts[0][0] ^ 1]) + alts[0][1:])
            els.append(("alt", alts, neg))
        else:
            els.append(gen_lit(rng, 1, 3, text))
        if rng.random() < 0.5:
            els.append(gen_lit(rng, 1, 3, text))
    if els[-1][0] != "lit":
        els.append(gen_lit(rng, 2, 4, text))
    if not simple and els[0][0] != "rng" and rng.random() < 0.08:
        els.append(("rng", 0, 0, "right"))
    elif not simple and opts.get("anchors", True) and rng.random() < 0.15:
        els.append(("anchor", rng.choice("BLW"), rng.random() < 0.2, "right"))
    # the [lo-hi] ranges: a single byte at the end, the range next to it
    out = []
    for e in els:
        if e[0] == "rng":
            lo = rng.randint(0, 6)
            hi = lo + rng.randint(0, 6)
            out.append(("rng", lo, hi, e[3], rand_bytes(rng, 1, text)))
        else:
            out.append(e)
    return out


def drop_negated_left(pat):
    """pat without a negated anchor or an `XX[n-m]` at its left end, for a
    signature with an offset other than `*`.  There clamscan's answer
    depends on the other signatures in the database: cli_ac_scanbuff first
    filters a match by where its AC prefix could start (the anchor's byte,
    or XX), then checks the offset again at the match's real start (after
    the anchor's byte... or the gap); the first filter is skipped when
    another signature has the same AC pattern (next_same).  So alone such
    a signature at an exact offset never matches, and beside a twin it
    does: no oracle there."""
    la = left_anchor(pat)
    if la and la[2]:
        pat = pat[1:]
    if pat and pat[0][0] == "rng" and pat[0][3] == "left":
        pat = [("lit", pat[0][4])] + pat[1:]
    return pat


def byte_hex(b, rng):
    s = "%02x" % b
    return s.upper() if rng.random() < 0.1 else s


def render(pat, rng):
    out = []
    for e in pat:
        k = e[0]
        if k == "lit":
            out.append("".join(byte_hex(b, rng) for b in e[1]))
        elif k == "nib":
            out.append(("%x?" if e[1] == "hi" else "?%x") % e[2])
        elif k == "any":
            out.append("??" * e[1])
        elif k == "jump":
            out.append(e[3])
        elif k == "alt":
            body = "|".join("".join("%02x" % b for b in a) for a in e[1])
            out.append(("!" if e[2] else "") + "(" + body + ")")
        elif k == "anchor":
            out.append(("!" if e[2] else "") + "(" + e[1] + ")")
        elif k == "rng":
            r = "[%d-%d]" % (e[1], e[2]) if e[1] != e[2] or rng.random() < 0.5 else "[%d]" % e[1]
            if e[3] == "left":
                out.append("%02x" % e[4][0] + r)
            else:
                out.append(r + "%02x" % e[4][0])
    return "".join(out)


def left_anchor(pat):
    return pat[0] if pat and pat[0][0] == "anchor" else None


def right_anchor(pat):
    return pat[-1] if pat and pat[-1][0] == "anchor" else None


def anchor_byte(rng, kind, neg, side):
    """A neighbour byte that satisfies (or, negated, fails) the anchor."""
    if kind == "B":
        good = B_LEFT if side == "left" else B_RIGHT
    elif kind == "L":
        good = b"\n"
    else:
        good = NOT_ALNUM
    if neg:
        good = bytes(b for b in b"abcxyzQ019" if b not in good)
    return bytes([rng.choice(good)])


def flip_case(bs, rng):
    return bytes((b ^ 0x20) if 0x41 <= (b & 0xDF) <= 0x5A and rng.random() < 0.5 else b
                 for b in bs)


def mid_anchor_byte(rng, kind, neg):
    """A byte that an anchor inside a pattern takes (or, neg, refuses):
    (B) any byte of boundary[] (matcher-ac.c), (L) a newline, (W) one that
    is not alphanumeric."""
    if kind == "B":
        good = bytes(sorted(set(B_LEFT + B_RIGHT)))
    elif kind == "L":
        good = b"\n"
    else:
        good = NOT_ALNUM
    if neg:
        good = bytes(b for b in b"abcxyzQ019\x00\xff" if b not in good)
    return bytes([rng.choice(good)])


def sample(pat, rng, miss=None, filler_text=False, nocase=False):
    """(bytes of an instance, index where the match starts).  miss: None
    for a matching instance, else the kind of near miss to make.  nocase:
    letters of fixed bytes and alternatives in either case (::i does not
    reach nibbles: a? stays exact)."""
    body = bytearray()
    lead = 0
    lits = [i for i, e in enumerate(pat) if e[0] == "lit"]
    flip_at = rng.choice(lits) if miss == "byte" else None
    for i, e in enumerate(pat):
        k = e[0]
        if k == "lit":
            b = bytearray(e[1])
            if i == flip_at:
                j = rng.randrange(len(b))
                b[j] ^= 1 << rng.randrange(8)
            body += flip_case(b, rng) if nocase else b
        elif k == "nib":
            if e[1] == "hi":
                body.append((e[2] << 4) | rng.getrandbits(4))
            else:
                body.append((rng.getrandbits(4) << 4) | e[2])
        elif k == "any":
            body += rand_bytes(rng, e[1], filler_text)
        elif k == "jump":
            lo, hi = e[1], e[2]
            if miss == "gap" and hi is not None:
                n = hi + 1
            else:
                n = rng.randint(lo, (hi if hi is not None else
                                     lo + (1000 if rng.random() < 0.05 else 12)))
            body += gap_bytes(rng, n, pat, filler_text)
        elif k == "alt":
            if e[2]:
                w = len(e[1][0])
                while True:
                    c = rand_bytes(rng, w, filler_text)
                    if c not in e[1]:
                        break
                body += c
            else:
                c = rng.choice(e[1])
                body += flip_case(c, rng) if nocase else c
        elif k == "anchor" and e[3] == "mid":
            body += mid_anchor_byte(rng, e[1], e[2] ^ (miss == "anchor"))
        elif k == "rng":
            n = rng.randint(e[1], e[2])
            if miss == "gap":
                n = e[2] + 1
            gap = gap_bytes(rng, n, pat, filler_text)
            body += (e[4] + gap) if e[3] == "left" else (gap + e[4])
            if e[3] == "left":
                # the match (and its offset) starts after `XX[n-m]`
                # (ac_backward_match_branch sets the start before it
                # checks XX)
                lead += 1 + n
    la, ra = left_anchor(pat), right_anchor(pat)
    pre = anchor_byte(rng, la[1], la[2] ^ (miss == "anchor"), "left") if la else b""
    post = anchor_byte(rng, ra[1], ra[2] ^ (miss == "anchor" and not la), "right") if ra else b""
    # A negated anchor at the left end is not a boundary check but one
    # byte of the match, where the offset points (cli_ac_addsig takes
    # `(B)` as the left boundary only when it is the very first token;
    # `!(B)` starts one character later).  At the right end both are
    # boundary checks.
    if la and la[2]:
        return bytes(pre + body + post), lead
    return bytes(pre + body + post), len(pre) + lead


def gap_bytes(rng, n, pat, text):
    # Gap filler that cannot hold the pattern's first fixed bytes: 0x00
    # mostly (the patterns' fixed bytes are random), else random.
    if rng.random() < 0.5:
        return bytes(n)
    return rand_bytes(rng, n, text)


def miss_kinds(pat):
    kinds = ["byte"]
    if any(e[0] == "jump" and e[2] is not None for e in pat) or any(e[0] == "rng" for e in pat):
        kinds.append("gap")
    if any(e[0] == "anchor" for e in pat):
        kinds.append("anchor")
    return kinds


def fixed_len(pat):
    """Bytes the pattern covers when every jump takes its minimum."""
    n = 0
    for e in pat:
        if e[0] == "lit":
            n += len(e[1])
        elif e[0] == "nib" or (e[0] == "anchor" and e[3] == "mid"):
            n += 1
        elif e[0] == "any":
            n += e[1]
        elif e[0] == "jump":
            n += e[1]
        elif e[0] == "alt":
            n += max(len(a) for a in e[1])
        elif e[0] == "rng":
            n += 1 + e[2]
    return n


# ---------------------------------------------------------------------------
# the database and the inputs


class Gen:
    """One seed's databases (lines per file) and inputs with the
    generator's expectations."""

    def __init__(self, seed):
        self.seed = seed
        self.rng = random.Random("ward-clamdiff:%d" % seed)
        self.db = {"diff.ndb": [], "diff.ldb": [], "diff.hdb": [], "diff.hsb": [],
                   "diff.fp": [], "diff.sfp": []}
        self.sigs = {}          # name -> (db file, line, kind)
        self.inputs = {}        # name -> bytes
        self.expect = []        # (input, sig, True/False, why)
        self.hosts = load_hosts(self.rng)
        self.hashed = set()     # contents given a hash signature
        self.n = 0

    def name(self, kind):
        self.n += 1
        return "Wd.%s.%04d" % (kind, self.n)

    def add_sig(self, db, name, line, kind):
        self.db[db].append(line)
        self.sigs[name] = (db, line, kind)

    def add_input(self, data, sig=None, expect=None, why=""):
        name = "f%04d" % len(self.inputs)
        self.inputs[name] = bytes(data)
        if sig is not None:
            self.expect.append((name, sig, expect, why))
        return name

    def filler(self, n, text=False):
        rng = self.rng
        r = rng.random()
        if text or r < 0.3:
            return bytearray(rng.choice(b"abcdefghij klmnopqrstuvwxyz.,\n0123456789")
                             for _ in range(n))
        if r < 0.5:
            return bytearray(n)
        return bytearray(rand_bytes(rng, n))

    # -- .ndb ------------------------------------------------------------

    def gen_ndb(self):
        rng = self.rng
        if self.hosts and rng.random() < 0.3:
            return self.gen_ndb_exe()
        text = rng.random() < 0.3
        pat = gen_pattern(rng, {"text": text})
        name = self.name("N")
        r = rng.random()
        if r < 0.45:
            off = ("*",)
        elif r < 0.65:
            off = ("abs", rng.randint(0, 300), 0)
        elif r < 0.8:
            off = ("abs", rng.randint(0, 300), rng.randint(1, 40))
        else:
            off = ("eof", fixed_len(pat) + rng.randint(4, 60), 0)
        if off[0] != "*":
            pat = drop_negated_left(pat)
        offtext = {"*": "*", "abs": "%d", "eof": "EOF-%d"}[off[0]]
        if off[0] != "*":
            offtext = offtext % off[1] + (",%d" % off[2] if off[2] else "")
        hexsig = render(pat, rng)
        self.add_sig("diff.ndb", name, "%s:0:%s:%s" % (name, offtext, hexsig), "ndb")
        for k in range(rng.choice([1, 2, 2])):
            self.plant_body(name, pat, off, text, hit=True)
        for kind in rng.sample(miss_kinds(pat), min(2, len(miss_kinds(pat)))):
            self.plant_body(name, pat, off, text, hit=False, miss=kind)
        if off[0] != "*":
            self.plant_body(name, pat, off, text, hit=False, miss="offset")

    def plant_body(self, name, pat, off, text, hit, miss=None):
        rng = self.rng
        inst, lead = sample(pat, rng, None if hit or miss == "offset" else miss, text)
        if off[0] == "*" and rng.random() < 0.04:
            # across the edge of clamscan's first 128 KiB window (SCANBUFF;
            # the next window starts maxpatlen bytes before it)
            size = SCANBUFF + rng.randint(1000, 60000)
            buf = self.filler(size, text)
            at = SCANBUFF - rng.randint(0, len(inst))
            start = at + lead
        elif off[0] == "*":
            size = len(inst) + rng.randint(0, 400)
            buf = self.filler(size, text)
            at = rng.randint(0, size - len(inst))
            start = at + lead
        else:
            if off[0] == "abs":
                start = off[1] + rng.randint(0, off[2])
                if miss == "offset":
                    start = rng.choice([off[1] - 1, off[1] + off[2] + 1]) if off[1] else off[2] + 1
                size = start + len(inst) - lead + rng.randint(0, 100)
            else:  # EOF-n: the match starts n bytes before the end
                size = off[1] + rng.randint(0, 200) + lead
                start = size - off[1]
                if miss == "offset":
                    start += rng.choice([-1, 1])
                    size = max(size, start + len(inst) - lead)
            if start - lead < 0:
                return
            buf = self.filler(size, text)
            at = start - lead
        if at + len(inst) > len(buf):
            buf += self.filler(at + len(inst) - len(buf), text)
        buf[at:at + len(inst)] = inst
        if off[0] == "eof" and hit and len(buf) - start != off[1]:
            return
        self.add_input(buf, name, hit, "ndb %s" % (miss or "hit"))

    def gen_ndb_exe(self):
        rng = self.rng
        host = rng.choice(self.hosts)
        hname, data, hkind, info = host
        ep, secs = info[0], info[1]
        pat = drop_negated_left(gen_pattern(rng, {"anchors": False}))
        inst, lead = sample(pat, rng)
        r = rng.random()
        cands = []
        if r < 0.35:
            n = rng.randint(0, 64)
            cands = [("EP+%d" % n, ep + n)]
        elif r < 0.45 and ep >= 64:
            n = rng.randint(1, 64)
            cands = [("EP-%d" % n, ep - n)]
        elif r < 0.7:
            x = rng.randrange(len(secs))
            n = rng.randint(0, 64)
            cands = [("S%d+%d" % (x, n), secs[x][0] + n)]
        elif r < 0.85:
            n = rng.randint(0, 64)
            cands = [("SL+%d" % n, secs[-1][0] + n)]
        else:
            x = rng.randrange(len(secs))
            if secs[x][1] > len(inst) + 8:
                cands = [("SE%d" % x, secs[x][0] + rng.randrange(secs[x][1] - len(inst)))]
        if not cands:
            return self.gen_ndb()
        offtext, start = cands[0]
        shift = 0
        if rng.random() < 0.3 and not offtext.startswith("SE"):
            shift = rng.randint(1, 30)
            offtext += ",%d" % shift
            start += rng.randint(0, shift)
        target = 1 if hkind == "pe" else 6
        name = self.name("X")
        self.add_sig("diff.ndb", name, "%s:%d:%s:%s" % (name, target, offtext, render(pat, rng)),
                     "ndb")
        if self.plant_exe(host, inst, start - lead, name, True, "exe " + offtext):
            # one off: a start one byte later than the range allows
            last = cands[0][1] + shift
            if not offtext.startswith("SE"):
                self.plant_exe(host, inst, last + 1 - lead, name, False, "exe offset+1")
            miss, mlead = sample(pat, rng, "byte")
            self.plant_exe(host, miss, start - mlead, name, False, "exe byte")
        # the same bytes in a file of the wrong type
        other = [h for h in self.hosts if h[2] != hkind]
        if other:
            self.plant_exe(rng.choice(other), inst, start - lead, name, False, "exe wrong target")

    def safe_range(self, host):
        hname, data, hkind, info = host
        # past the headers (the built PE files' are zeros after the
        # section table; real ones may hold more up to 0x400)
        lo = info[2] if hname.startswith("pe_built") or hkind == "elf" else max(info[2], 0x400)
        hi = len(data)
        if hkind == "elf":
            hi = min(hi, info[3][0])
        return lo, hi

    def plant_exe(self, host, inst, start, sig, expect, why):
        lo, hi = self.safe_range(host)
        if start < lo or start + len(inst) > hi:
            return False
        buf = bytearray(host[1])
        buf[start:start + len(inst)] = inst
        self.add_input(buf, sig, expect, why)
        return True

    # -- .ldb ------------------------------------------------------------

    def gen_ldb(self):
        rng = self.rng
        nsub = rng.randint(1, 5)
        host = None
        if self.hosts and rng.random() < 0.25:
            host = rng.choice(self.hosts)
        subs = []
        for i in range(nsub):
            mods = ""
            r = rng.random()
            if r < 0.4:
                mods = rng.choice(["i", "w", "f", "wa", "fi", "iw", "fw", "a", "ia", "fwa"])
            simple = "w" in mods or "f" in mods
            text = "i" in mods or "f" in mods or rng.random() < 0.3
            pat = gen_pattern(rng, {"text": text, "simple": simple, "neg": not mods,
                                    "anchors": not host})
            off = None
            if rng.random() < 0.25:
                pat = drop_negated_left(pat)
                off = self.ldb_offset(rng, pat, host)
            subs.append({"pat": pat, "mods": mods, "off": off, "text": text})
        expr = gen_expr(rng, list(range(nsub)))
        # not true with nothing planted (it would match every input)
        for _ in range(20):
            if not eval_expr(expr, [0] * nsub):
                break
            expr = gen_expr(rng, list(range(nsub)))
        else:
            return
        target = 0
        tdb = ["Engine:51-255"]
        if host:
            target = 1 if host[2] == "pe" else 6
        tdb.append("Target:%d" % target)
        plants = []
        for k in range(rng.randint(2, 4)):
            counts = [rng.choice([0, 0, 1, 1, 1, 2, 3]) for _ in subs]
            if k == 0:
                counts = satisfying_counts(rng, expr, nsub) or counts
            # an instance at a fixed offset is there once
            counts = [min(c, 1) if s["off"] else c for s, c in zip(subs, counts)]
            buf = self.plant_ldb(subs, counts, host)
            if buf is not None:
                plants.append((buf, counts))
        if not plants:
            return
        # FileSize, EntryPoint, NumberOfSections: ranges that hold the first
        # input's value at one end, or miss it by one
        fs = ep = nos = None
        if rng.random() < 0.25:
            fs = edge_range(rng, len(plants[0][0]), 3000)
            tdb.append("FileSize:%d-%d" % fs)
        if host and rng.random() < 0.5:
            ep = edge_range(rng, host[3][0], 100)
            tdb.append("EntryPoint:%d-%d" % ep)
        if host and rng.random() < 0.4:
            nos = edge_range(rng, len(host[3][1]), 2)
            tdb.append("NumberOfSections:%d-%d" % nos)
        name = self.name("L")
        parts = []
        for s in subs:
            t = render(s["pat"], rng)
            if s["off"] is not None:
                t = "%s:%s" % (s["off"][1], t)
            if s["mods"]:
                t += "::" + s["mods"]
            parts.append(t)
        line = "%s;%s;%s;%s" % (name, ",".join(tdb), render_expr(expr), ";".join(parts))
        self.add_sig("diff.ldb", name, line, "ldb")
        for buf, counts in plants:
            ok = eval_expr(expr, counts)
            if fs and not fs[0] <= len(buf) <= fs[1]:
                ok = False
            if ep and not ep[0] <= host[3][0] <= ep[1]:
                ok = False
            if nos and not nos[0] <= len(host[3][1]) <= nos[1]:
                ok = False
            self.add_input(buf, name, ok, "ldb counts %s" % counts)

    def ldb_offset(self, rng, pat, host):
        """(kind, text, lo, hi): a subsignature offset and the starts it
        allows (for EOF-n, lo = hi = n from the end)."""
        m = rng.randint(1, 30) if rng.random() < 0.3 else 0
        rtext = ",%d" % m if m else ""
        if host:
            ep, secs = host[3][0], host[3][1]
            r = rng.random()
            n = rng.randint(0, 64)
            if r < 0.4:
                return ("abs", "EP+%d%s" % (n, rtext), ep + n, ep + n + m)
            if r < 0.7:
                x = rng.randrange(len(secs))
                return ("abs", "S%d+%d%s" % (x, n, rtext), secs[x][0] + n, secs[x][0] + n + m)
            return ("abs", "SL+%d%s" % (n, rtext), secs[-1][0] + n, secs[-1][0] + n + m)
        if rng.random() < 0.7:
            n = rng.randint(0, 100)
            return ("abs", "%d%s" % (n, rtext), n, n + m)
        n = fixed_len(pat) + rng.randint(2, 40)
        return ("eof", "EOF-%d" % n, n, n)

    def plant_ldb(self, subs, counts, host):
        """An input with counts[i] instances of subsignature i, in host
        (an executable) or in filler; None when they do not fit."""
        rng = self.rng
        pieces = []
        fixed = []      # (kind, start of the match, bytes, lead)
        for s, c in zip(subs, counts):
            for _ in range(c):
                inst, lead = ldb_instance(rng, s)
                if s["off"] is None:
                    pieces.append(inst)
                    continue
                kind, _, lo, hi = s["off"]
                fixed.append((kind, rng.randint(lo, hi), inst, lead))
        if host:
            lo, hi = self.safe_range(host)
            buf = bytearray(host[1])
            at = lo + rng.randrange(0, 256)
            used = []
            for p in pieces:
                if at + len(p) > hi:
                    return
                buf[at:at + len(p)] = p
                used.append((at, at + len(p)))
                at += len(p) + rng.randint(1, 40)
            for kind, start, inst, lead in fixed:
                a = start - lead
                if a < lo or a + len(inst) > hi or any(a < e and b < a + len(inst)
                                                       for b, e in used):
                    return
                buf[a:a + len(inst)] = inst
                used.append((a, a + len(inst)))
        else:
            absf = [f for f in fixed if f[0] == "abs"]
            eoff = [f for f in fixed if f[0] == "eof"]
            if len(eoff) > 1:
                return
            buf = bytearray()
            used = []
            for kind, start, inst, lead in absf:
                a = start - lead
                if a < 0 or any(a < e and b < a + len(inst) for b, e in used):
                    return
                if len(buf) < a + len(inst):
                    buf += self.filler(a + len(inst) - len(buf))
                buf[a:a + len(inst)] = inst
                used.append((a, a + len(inst)))
            for p in pieces:
                buf += self.filler(rng.randint(1, 40)) + bytearray(p)
            buf += self.filler(rng.randint(0, 80))
            for kind, n, inst, lead in eoff:
                # the match starts n bytes before the end
                if len(inst) - lead > n:
                    return
                buf += bytearray(self.filler(rng.randint(1, 20))) + inst
                buf += self.filler(n - (len(inst) - lead))
        return buf

    # -- hashes ----------------------------------------------------------

    def gen_hash(self):
        rng = self.rng
        # contents not hashed before: with two names for one (hash, size),
        # which one clamscan reports is whatever its binary search finds
        while True:
            data = bytes(self.filler(rng.randint(1, 8) if rng.random() < 0.2
                                     else rng.randint(9, 3000)))
            if data not in self.hashed:
                break
        self.hashed.add(data)
        algo = rng.choice(["md5", "md5", "sha1", "sha256"])
        h = hashlib.new(algo, data).hexdigest()
        if rng.random() < 0.2:
            h = h.upper()
        star = rng.random() < 0.25
        name = self.name("H" if algo == "md5" else "S")
        db = "diff.hdb" if algo == "md5" else "diff.hsb"
        if star:
            line = "%s:*:%s:73" % (h, name)
        else:
            line = "%s:%d:%s" % (h, len(data), name)
        self.add_sig(db, name, line, db[-3:])
        # clamscan does not scan a file of 5 bytes or less at all
        # (cli_magic_scan: "Small data"): no hash matches there either
        self.add_input(data, name, len(data) > 5, "hash")
        changed = bytearray(data)
        changed[rng.randrange(len(changed))] ^= 1
        self.add_input(changed, name, False, "hash byte")
        first = list(self.inputs)[-2]
        if not star:
            # a sized hash of the same content, one byte longer: no match
            name2 = self.name("H" if algo == "md5" else "S")
            self.add_sig(db, name2, "%s:%d:%s" % (h, len(data) + 1, name2), db[-3:])
            self.expect.append((first, name2, False, "hash size"))
            if rng.random() < 0.25:
                # the same hash with `*` under another name: clamscan looks
                # in the sized and the size-less table and reports one name
                # from each (cli_scan_fmap: cli_hm_scan, cli_hm_scan_wild)
                name3 = self.name("H" if algo == "md5" else "S")
                self.add_sig(db, name3, "%s:*:%s:73" % (h, name3), db[-3:])
                self.expect.append((first, name3, len(data) > 5, "hash twin *"))
        if rng.random() < 0.15:
            # the same content under another hash type: reported too
            algo2 = rng.choice([a for a in ("md5", "sha1", "sha256") if a != algo])
            name4 = self.name("H" if algo2 == "md5" else "S")
            db2 = "diff.hdb" if algo2 == "md5" else "diff.hsb"
            self.add_sig(db2, name4, "%s:%d:%s" % (hashlib.new(algo2, data).hexdigest(),
                                                   len(data), name4), db2[-3:])
            self.expect.append((first, name4, len(data) > 5, "hash other type"))

    # -- .fp / .sfp --------------------------------------------------------

    def gen_fp(self):
        """A few inputs that clamscan finds, listed as false positives
        (.fp MD5, .sfp SHA-1 or SHA-256, sized or `*`): libclamav then
        reports nothing on them (cli_check_fp checks a detected file's
        hashes).  Inputs with a hash signature of another algorithm than
        the entry's are not chosen, nor any with a hash signature: ward
        drops only same-algorithm hash signatures of a false positive
        (docs/clamav.md), a known gap."""
        rng = self.rng
        hits = sorted({e[0] for e in self.expect if e[2] and len(self.inputs[e[0]]) > 5})
        for _ in range(min(3, len(hits))):
            inp = hits.pop(rng.randrange(len(hits)))
            data = self.inputs[inp]
            algo = rng.choice(["md5", "sha1", "sha256"])
            hashed = {self.sigs[e[1]][2] for e in self.expect
                      if e[0] == inp and self.sigs.get(e[1], ("", "", ""))[2] in ("hdb", "hsb")}
            if hashed:
                continue
            name = self.name("F")
            db = "diff.fp" if algo == "md5" else "diff.sfp"
            # (a `*` size needs level 73, as in .hdb/.hsb)
            size = "*" if rng.random() < 0.3 else "%d" % len(data)
            self.add_sig(db, name, "%s:%s:%s%s" % (hashlib.new(algo, data).hexdigest(), size,
                                                   name, ":73" if size == "*" else ""), db[5:])
            self.expect = [(f, sig, False if f == inp else want,
                            "listed as a false positive" if f == inp else why)
                           for f, sig, want, why in self.expect]

    # -- clamav-testfiles ------------------------------------------------

    def gen_testfiles(self):
        rng = self.rng
        for fn in TESTFILE_SAMPLES:
            p = os.path.join(TESTFILES, fn)
            if not os.path.isfile(p):
                continue
            with open(p, "rb") as f:
                data = f.read()
            inp = self.add_input(data)
            for _ in range(2):
                # bytes of some variety: a cut of zeros would match
                # everywhere (and clamscan --allmatch prints every match)
                for _ in range(50):
                    n = rng.randint(6, 24)
                    at = rng.randrange(0, len(data) - n)
                    cut = data[at:at + n]
                    if len(set(cut)) >= n // 2 + 2:
                        break
                else:
                    continue
                name = self.name("T")
                if rng.random() < 0.5:
                    off = "*"
                else:
                    off = "%d" % at
                hexsig = cut.hex()
                if n > 10 and rng.random() < 0.5:
                    k = rng.randint(4, n - 4)
                    hexsig = cut[:k].hex() + "??" + cut[k + 1:].hex()
                self.add_sig("diff.ndb", name, "%s:0:%s:%s" % (name, off, hexsig), "ndb")
                self.expect.append((inp, name, True, "testfile cut %s" % fn))
            name = self.name("H")
            self.add_sig("diff.hdb", name, "%s:%d:%s" % (hashlib.md5(data).hexdigest(),
                                                         len(data), name), "hdb")
            self.expect.append((inp, name, True, "testfile md5 %s" % fn))

    def generate(self, nsigs):
        rng = self.rng
        self.gen_testfiles()
        for _ in range(nsigs):
            r = rng.random()
            if r < 0.5:
                self.gen_ndb()
            elif r < 0.85:
                self.gen_ldb()
            else:
                self.gen_hash()
        # plain filler: no signature planted at all
        for _ in range(max(3, nsigs // 20)):
            self.add_input(self.filler(rng.randint(0, 2000)))
        self.gen_fp()
        for db in self.db.values():
            rng.shuffle(db)
        return self


def edge_range(rng, v, spread):
    """A range lo-hi with v at one end, or one past it (v then outside)."""
    r = rng.randint(0, spread)
    k = rng.randrange(5)
    if k == 0:
        return v, v + r
    if k == 1:
        return max(0, v - r), v
    if k == 2:
        return v + 1, v + 1 + r
    if k == 3 and v > 0:
        return max(0, v - 1 - r), v - 1
    return max(0, v - r), v + r


def ldb_instance(rng, s):
    """Bytes that match subsignature s, with its modifiers applied."""
    mods = s["mods"]
    inst, lead = sample(s["pat"], rng, None, s["text"], nocase="i" in mods)
    if "w" in mods and not ("a" in mods and rng.random() < 0.5):
        inst = b"".join(bytes([b, 0]) for b in inst)
        lead *= 2
    if "f" in mods:
        inst = bytes([rng.choice(b" .-\n")]) + inst + bytes([rng.choice(b" ,.\n")])
        lead += 1
    return inst, lead


# ---------------------------------------------------------------------------
# logical expressions
#
# A node: ("sub", i, mod) with mod None or (op, n); ("op", "&"|"|", a, b);
# ("blk", node, (op, n, m)) a parenthesized op with a count.  Rendered with
# every binary node parenthesized except, sometimes, a right-nested chain
# (`0&1|2`): ClamAV splits at the first top-level operator.


def gen_expr(rng, ids, depth=0):
    # every subsignature is referenced (clamscan refuses the signature
    # otherwise): a leaf stands for exactly one
    if len(ids) == 1:
        i = ids[0]
        mod = None
        if rng.random() < 0.25:
            op = rng.choice("=><")
            n = {"=": rng.randint(1, 3), ">": rng.randint(0, 2), "<": rng.randint(1, 3)}[op]
            mod = (op, n)
        return ("sub", i, mod)
    cut = rng.randint(1, len(ids) - 1)
    left, right = ids[:cut], ids[cut:]
    node = ("op", rng.choice("&|"), gen_expr(rng, left, depth + 1),
            gen_expr(rng, right, depth + 1))
    if rng.random() < 0.2:
        op = rng.choice("=>")
        n = rng.randint(0, 3) if op == ">" else rng.randint(1, 4)
        m = rng.randint(1, 2) if rng.random() < 0.4 else 0
        node = ("blk", node, (op, n, m))
    return node


def render_expr(e, top=True):
    if e[0] == "sub":
        return "%d" % e[1] + ("%s%d" % e[2] if e[2] else "")
    if e[0] == "blk":
        op, n, m = e[2]
        return "(" + render_expr(e[1], True) + ")" + op + str(n) + (",%d" % m if m else "")
    a = render_expr(e[2], False)
    b = render_expr(e[3], False) if e[3][0] != "op" else render_expr(e[3], True)
    inner = a + e[1] + b
    return inner if top else "(" + inner + ")"


def scan_uint(t):
    """sscanf("%u"): leading digits, or None."""
    i = 0
    while i < len(t) and t[i].isdigit():
        i += 1
    return int(t[:i]) if i else None


def chklsig(expr, counts):
    """(value, count, ids): libclamav's cli_ac_chklsig, step by step, on
    the rendered expression.  Its parse is not a grammar's: at the top
    level it splits at the first operator outside parentheses; a
    parenthesized block splits at the last operator one level in; a
    block's count is 0 when the block is false, and a block passes no
    subsignature ids up."""
    n = len(expr)
    pth = opoff = op1off = blkend = modoff = 0
    op = op1 = mod = blkmod = ""
    modval1 = modval2 = 0
    lstart, rend = 0, n
    i = 0
    while i < n:
        c = expr[i]
        if c == "(":
            pth += 1
        elif c in ")><=":
            if c == ")":
                pth -= 1
            mod, modoff = c, i
        elif c in "&|":
            if not pth:
                op, opoff = c, i
            elif pth == 1:
                op1, op1off = c, i
        if op:
            break
        if op1 and not pth:
            blkend = i
            if i + 1 < n and expr[i + 1] in "><=":
                blkmod = expr[i + 1]
                # sscanf("%u,%u"), else sscanf("%u")
                t = expr[i + 2:]
                modval1 = scan_uint(t)
                k = len(str(modval1))
                modval2 = 0
                if t[k:k + 1] == "," and scan_uint(t[k + 1:]) is not None:
                    modval2 = scan_uint(t[k + 1:])
                i += 2
                while i + 1 < n and (expr[i + 1].isdigit() or expr[i + 1] == ","):
                    i += 1
            if i + 1 == rend:
                break
            blkmod = ""
        i += 1
    if not op and not op1:
        if expr[0] == "(":
            return chklsig(expr[1:-1], counts)
        sid = scan_uint(expr)
        val = counts[sid]
        if mod:
            mv = scan_uint(expr[modoff + 1:])
            ok = {"=": val == mv, "<": val < mv, ">": val > mv}[mod]
            return (1, val, {sid}) if ok else (0, 0, set())
        return (1, val, {sid}) if val else (0, 0, set())
    if not op:
        op, opoff = op1, op1off
        lstart += 1
        rend = blkend
    lv, lc, li = chklsig(expr[lstart:opoff], counts)
    rv, rc, ri = chklsig(expr[opoff + 1:rend], counts)
    ret = (lv and rv) if op == "&" else (lv or rv)
    if not blkmod:
        return (1, lc + rc, li | ri) if ret else (0, 0, set())
    tcnt, tids = (lc + rc, li | ri) if ret else (0, set())
    if not {"=": tcnt == modval1, "<": tcnt < modval1, ">": tcnt > modval1}[blkmod]:
        return 0, 0, set()
    if modval2 and len(tids) < modval2:
        return 0, 0, set()
    return 1, tcnt, set()


def eval_expr(e, counts):
    return bool(chklsig(render_expr(e), counts)[0])


def satisfying_counts(rng, expr, nsub):
    for _ in range(200):
        c = [rng.choice([0, 1, 1, 2, 3]) for _ in range(nsub)]
        if eval_expr(expr, c):
            return c
    return None


# ---------------------------------------------------------------------------


def write(g, d):
    """Writes the databases into d/db and the inputs into d/in."""
    os.makedirs(os.path.join(d, "db"), exist_ok=True)
    os.makedirs(os.path.join(d, "in"), exist_ok=True)
    for fn, lines in g.db.items():
        if lines:
            with open(os.path.join(d, "db", fn), "w", encoding="ascii") as f:
                f.write("\n".join(lines) + "\n")
    for fn, data in g.inputs.items():
        with open(os.path.join(d, "in", fn), "wb") as f:
            f.write(data)


def generate(seed, nsigs=120):
    return Gen(seed).generate(nsigs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sigs", type=int, default=120)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    g = generate(a.seed, a.sigs)
    write(g, a.out)
    print("%d signatures, %d inputs, %d expectations in %s" % (
        len(g.sigs), len(g.inputs), len(g.expect), a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
