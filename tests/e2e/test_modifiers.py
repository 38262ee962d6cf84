"""
The xor and base64 string modifiers against the installed yara 4.2.3,
match by match: seeded random strings with random keys, ranges, alphabets
and modifier combinations, planted in random inputs the way malware hides
them (XORed with keys inside and outside the range, wide, base64 at each
alignment, widened, next to word characters), and every (rule, string,
offset, length) that `yara -s -L` prints must be what `ward scan --format
json` reports, and nothing more.  Also: every signature-base file that
uses these modifiers and that yara compiles is compiled by ward.

WARD_MOD_SEED / WARD_MOD_ROUNDS change the seed and the number of rounds.
"""

import base64
import json
import os
import random
import re
import subprocess
import tempfile

import pytest

from conftest import TESTDATA
from matchlib import YARA, ward_json_matches, ward_matches, yara_matches

STD = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
WORDS = [b"evil", b"http://", b"cmd.exe", b"powershell", b"Invoke-", b"AAAA", b"a", b"ab",
         b"xyz", b"This program", b"\x00\x01", b"MZ", b"key=", b"%s%d", b"\\\\.\\pipe"]

pytestmark = pytest.mark.skipif(not os.access(YARA, os.X_OK), reason="yara is not installed")


def esc(bs):
    """A YARA text string literal of bs."""
    out = []
    for c in bs:
        ch = chr(c)
        if 0x20 <= c < 0x7f and ch not in '"\\':
            out.append(ch)
        else:
            out.append("\\x%02x" % c)
    return '"' + "".join(out) + '"'


def widen(bs):
    return b"".join(bytes([c, 0]) for c in bs)


def rand_text(rng):
    r = rng.random()
    if r < 0.5:
        return rng.choice(WORDS) + (rng.choice(WORDS) if rng.random() < 0.3 else b"")
    if r < 0.8:
        return bytes(rng.choice(b"abcdefghijklmnop0123_-.") for _ in range(rng.randint(1, 9)))
    return bytes(rng.randrange(256) for _ in range(rng.randint(1, 7)))


class Str:
    def __init__(self, rng, sid):
        self.sid = sid
        self.text = rand_text(rng)
        self.mods = []
        self.lo, self.hi = 0, 255
        self.alphabet = None
        if rng.random() < 0.5:
            self.kind = "xor"
            r = rng.random()
            if r < 0.3:
                self.mods.append("xor")
            elif r < 0.6:
                self.lo = self.hi = rng.randrange(256)
                self.mods.append("xor(%d)" % self.lo)
            else:
                a, b = rng.randrange(256), rng.randrange(256)
                self.lo, self.hi = min(a, b), max(a, b)
                self.mods.append("xor(%d-%d)" % (self.lo, self.hi))
            if rng.random() < 0.3:
                self.mods.append("fullword")
        else:
            self.kind = "b64"
            if rng.random() < 0.3:
                al = bytearray(range(0x21, 0x7f))
                rng.shuffle(al)
                self.alphabet = bytes(al[:64])
            which = rng.choice(["base64", "base64wide", "both"])
            arg = "(%s)" % esc(self.alphabet) if self.alphabet else ""
            if which in ("base64", "both"):
                self.mods.append("base64" + arg)
            if which in ("base64wide", "both"):
                # one alphabet for both: yara refuses two different ones
                self.mods.append("base64wide" + arg)
        r = rng.random()
        if r < 0.25:
            self.mods.append("wide")
        elif r < 0.45:
            self.mods += ["ascii", "wide"]
        elif r < 0.55:
            self.mods.append("ascii")
        if rng.random() < 0.1:
            self.mods.append("private")
        rng.shuffle(self.mods)

    def rule_line(self):
        return "$%s = %s %s" % (self.sid, esc(self.text), " ".join(self.mods))

    def b64(self, bs, rng):
        enc = base64.b64encode(bs)
        if self.alphabet:
            enc = enc.translate(bytes.maketrans(STD, self.alphabet))
        return enc

    def sample(self, rng):
        """Bytes that contain an encoding of the string (or nearly)."""
        wide = "wide" in self.mods and ("ascii" not in self.mods or rng.random() < 0.5)
        if self.kind == "xor":
            k = rng.randint(self.lo, self.hi) if rng.random() < 0.8 else rng.randrange(256)
            bs = widen(self.text) if wide else self.text
            out = bytes(c ^ k for c in bs)
            if rng.random() < 0.3:  # a word character next to it
                out = rng.choice([b"a", b"_", b"0", b" "]) + out + rng.choice([b"b", b".", b""])
            return out
        bs = widen(self.text) if wide else self.text
        pre = bytes(rng.randrange(256) for _ in range(rng.randint(0, 2)))
        post = bytes(rng.randrange(256) for _ in range(rng.randint(0, 2)))
        enc = self.b64(pre + bs + post, rng)
        if "base64wide" in " ".join(self.mods) and (
                "base64" not in [m.split("(")[0] for m in self.mods] or rng.random() < 0.5):
            enc = widen(enc)
        return enc


def gen_set(rng, nrules):
    rules, strs = [], []
    for i in range(nrules):
        ss = [Str(rng, "s%d_%d" % (i, j)) for j in range(rng.randint(1, 3))]
        strs += ss
        cond = "any of them" if rng.random() < 0.9 else "all of them"
        rules.append("rule r%d {\n  strings:\n%s\n  condition: %s\n}\n" % (
            i, "\n".join("    " + s.rule_line() for s in ss), cond))
    return "".join(rules), strs


def gen_input(rng, strs):
    parts = []
    for _ in range(rng.randint(1, 8)):
        r = rng.random()
        if r < 0.7:
            parts.append(rng.choice(strs).sample(rng))
        elif r < 0.85:
            parts.append(bytes(rng.randrange(256) for _ in range(rng.randint(0, 12))))
        else:
            parts.append(bytes([rng.choice(b" \x00A=")]) * rng.randint(1, 6))
    return b"".join(parts)


def private_ids(strs):
    return {s.sid for s in strs if "private" in s.mods}


def test_modifiers_match_yara(ward_bin):
    seed = int(os.environ.get("WARD_MOD_SEED", "13"))
    rounds = int(os.environ.get("WARD_MOD_ROUNDS", "40"))
    rng = random.Random(seed)
    compared = 0
    with tempfile.TemporaryDirectory(prefix="ward-mod-") as d:
        for rnd in range(rounds):
            text, strs = gen_set(rng, rng.randint(2, 6))
            rules = os.path.join(d, "r%d.yar" % rnd)
            with open(rules, "w") as f:
                f.write(text)
            indir = os.path.join(d, "in%d" % rnd)
            os.mkdir(indir)
            files = []
            for i in range(8):
                path = os.path.join(indir, "f%d" % i)
                with open(path, "wb") as f:
                    f.write(gen_input(rng, strs))
                files.append(path)
            want = yara_matches(rules, indir)
            got = ward_matches(ward_bin, rules, indir)
            priv = private_ids(strs)
            got = {g for g in got if g[2] not in priv}
            want = {w for w in want if w[2] not in priv}
            assert got == want, "seed %d round %d:\n%s\nyara only: %s\nward only: %s" % (
                seed, rnd, text, sorted(want - got, key=str), sorted(got - want, key=str))
            compared += len(files)
            if rnd % 5 == 0:  # the same through a compiled rule set (save, load)
                comp = os.path.join(d, "r%d.ward" % rnd)
                p = subprocess.run([ward_bin, "rules", "compile", rules, "-o", comp],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
                assert p.returncode == 0, p.stderr.decode()
                p = subprocess.run([ward_bin, "scan", "-q", "-t", "1", "--format", "json",
                                    "--compiled", comp, indir], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=120)
                assert p.returncode in (0, 1) and b"rebuilt" not in p.stderr, p.stderr.decode()
                again = ward_json_matches(p.stdout)
                assert {g for g in again if g[2] not in priv} == got
    assert compared >= rounds * 8


def uses_modifiers(path):
    with open(path, "rb") as f:
        data = f.read().decode("latin-1")
    return re.search(r'"\s*(?:[a-z]+\s+)*(?:xor|base64|base64wide)\b', data) is not None


STR_RE = re.compile(r'^\s*\$\w*\s*=\s*"((?:[^"\\\n]|\\.)*)"([^\n]*)$', re.M)


def unescape(s):
    out, i = bytearray(), 0
    b = s.encode("latin-1")
    while i < len(b):
        if b[i] == 0x5C and i + 1 < len(b):
            n = chr(b[i + 1])
            if n == "x":
                out.append(int(b[i + 2:i + 4], 16))
                i += 4
                continue
            out.append({"n": 10, "t": 9, "r": 13}.get(n, b[i + 1]))
            i += 2
            continue
        out.append(b[i])
        i += 1
    return bytes(out)


def planted(text, rng):
    """Each xor or base64 string of a rule file, encoded as the rule says
    (a random key, base64 after 0-2 bytes, wide forms), between noise."""
    parts = []
    for m in STR_RE.finditer(text):
        raw, mods = unescape(m.group(1)), m.group(2).split("//")[0]
        if not raw:
            continue
        bs = widen(raw) if re.search(r"\bwide\b", mods) and rng.random() < 0.5 else raw
        if re.search(r"\bxor\b", mods):
            k = rng.randrange(256)
            r = re.search(r"xor\(\s*(\d+)\s*(?:-\s*(\d+)\s*)?\)", mods)
            if r:
                k = rng.randint(int(r.group(1)), int(r.group(2) or r.group(1)))
            bs = bytes(c ^ k for c in bs)
        elif re.search(r"\bbase64(wide)?\b", mods):
            enc = base64.b64encode(bytes(rng.randrange(256) for _ in range(rng.randint(0, 2)))
                                   + bs)
            if "base64wide" in mods and ("base64 " not in mods + " " or rng.random() < 0.5):
                enc = widen(enc)
            bs = enc
        else:
            continue
        parts.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 9))) + b" " + bs)
    return b"".join(parts) + b" "


def test_signature_base_files_compile(ward_bin, tmp_path):
    files = []
    for root, _, names in os.walk(TESTDATA):
        for n in names:
            if n.endswith((".yar", ".yara")) and uses_modifiers(os.path.join(root, n)):
                files.append(os.path.join(root, n))
    if not files:
        pytest.skip("no signature-base files with xor/base64 in " + TESTDATA)
    rng = random.Random(13)
    strings = 0
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    checked = 0
    for path in sorted(files):
        y = subprocess.run([YARA, "-w", path, str(empty)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        if y.returncode != 0:
            continue  # yara itself refuses it (an undefined external)
        w = subprocess.run([ward_bin, "scan", "-q", "--skip-unsupported", "-r", path,
                            str(empty)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=120)
        err = w.stderr.decode()
        assert w.returncode in (0, 1), path + ": " + err
        # no rule is left out because of xor or base64 (a module may be)
        bad = [ln for ln in err.splitlines() if re.search(
            r"modifier|xor range|alphabet|unexpected keyword", ln)]
        assert not bad, path + ": " + "\n".join(bad)
        skipped = set(re.findall(r"skipped rule (\S+)", err))
        # the rule file's own xor and base64 strings, planted: yara's matches
        indir = tmp_path / ("in%d" % checked)
        indir.mkdir()
        with open(path, "rb") as f:
            text = f.read().decode("latin-1")
        for i in range(3):
            (indir / ("s%d" % i)).write_bytes(planted(text, rng))
        rules = str(tmp_path / ("r%d.yar" % checked))
        with open(rules, "w", encoding="latin-1") as f:
            f.write(text)
        want = {x for x in yara_matches(rules, str(indir)) if x[1] not in skipped}
        p = subprocess.run([ward_bin, "scan", "-q", "-t", "1", "--skip-unsupported", "--format",
                            "json", "-r", rules, str(indir)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        got = set()
        for line in p.stdout.decode().splitlines():
            o = json.loads(line)
            if "summary" in o:
                continue
            got.add((o["path"], o["rule"], None, None, None))
            for st in o.get("strings", []):
                got.add((o["path"], o["rule"], st["id"][1:], st["offset"], st["length"]))
        assert got == want, (path, sorted(want ^ got, key=str)[:10])
        strings += sum(1 for g in got if g[2] is not None)
        checked += 1
    assert checked > 0 and strings > 0, (checked, strings)
    print("%d files, %d string matches compared" % (checked, strings))
