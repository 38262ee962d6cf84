"""
The rule modules' parsers and functions held against the installed yara
4.2.3, the oracle: every field that ward's elf parser defines (dumped by
build/tests/unit/modules/mod_dump) must be what `yara -D` shows, and every
field yara defines must be defined by ward, over real ELF files from the
system, hand-made 32-bit and big-endian ones, and damaged copies
(truncated, bytes changed at random with a fixed seed).

Run with Debian's interpreter: /usr/bin/python3 -m pytest tests/e2e/test_elf_oracle.py
"""

import os
import random
import re
import shutil
import struct
import subprocess
import tempfile

import pytest

from conftest import REPO

DUMP = os.environ.get("WARD_MOD_DUMP") or os.path.join(
    REPO, "build", "tests", "unit", "modules", "mod_dump")
SEED = int(os.environ.get("WARD_ORACLE_SEED", "13"))
N_REAL = int(os.environ.get("WARD_ORACLE_FILES", "200"))
ITEM_RE = re.compile(r"^\[(\d+)\]$")


def need_tools():
    if not os.access(DUMP, os.X_OK):
        pytest.fail("mod_dump not found at %s: build with make build" % DUMP, pytrace=False)
    if shutil.which("yara") is None:
        pytest.fail("yara (the oracle) is not installed", pytrace=False)


@pytest.fixture(scope="module")
def tmp():
    d = tempfile.mkdtemp(prefix="ward-elf-oracle-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def flatten_yara_dump(text, module):
    """yara -D's tree of MODULE as {"module.a[0].b": "value"}, defined values only."""
    out = {}
    stack = []
    inside = False
    for line in text.splitlines():
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip("\t"))
        body = line.strip()
        if depth == 0:
            inside = body == module
            stack = [module]
            continue
        if not inside:
            continue
        del stack[depth:]
        name, eq, value = body.partition(" = ")
        if not eq:
            m = ITEM_RE.match(name)
            stack.append(("[%s]" % m.group(1)) if m else name)
            continue
        if value == "YR_UNDEFINED":
            continue
        path = ""
        for part in stack + [name]:
            path += part if part.startswith("[") or not path else "." + part
        out[path] = value
    return out


def flatten_ours(text):
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        k, _, v = line.partition(" = ")
        out[k] = v
    return out


def yara_elf(rules, path):
    p = subprocess.run(["yara", "-D", rules, path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    if p.returncode != 0:
        return None  # yara itself failed on the file: no oracle
    return flatten_yara_dump(p.stdout.decode("latin-1"), "elf")


def ward_elf(path):
    p = subprocess.run([DUMP, "elf", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    assert p.returncode == 0, "mod_dump failed on %s: %s" % (path, p.stderr[-2000:])
    return flatten_ours(p.stdout.decode("latin-1"))


def diff(path, theirs, ours):
    bad = []
    for k in sorted(set(theirs) | set(ours)):
        if theirs.get(k) != ours.get(k):
            bad.append("%s: yara %r ward %r" % (k, theirs.get(k), ours.get(k)))
    return ("%s: %d differences, first: %s" % (path, len(bad), "; ".join(bad[:8]))) if bad else None


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def real_elf_files(n):
    found = []
    for d in ("/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/sbin", "/usr/lib"):
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for name in names:
            p = os.path.join(d, name)
            if os.path.isfile(p) and not os.path.islink(p) and is_elf(p) and \
                    os.path.getsize(p) < 64 * 1024 * 1024:
                found.append(p)
    rng = random.Random(SEED)
    rng.shuffle(found)
    return sorted(found[:n])


def rules_file(tmp):
    p = os.path.join(tmp, "elf.yar")
    with open(p, "w") as f:
        f.write('import "elf"\nrule x { condition: false }\n')
    return p


def swap_elf(data, to64=False):
    """The same image with its byte order swapped (big-endian from a
    little-endian 64-bit file): header, section and program headers,
    dynamic entries and symbols, the fields YARA reads."""
    b = bytearray(data)
    if b[4] != 2 or b[5] != 1:
        return None

    def sw(off, fmt):
        v = struct.unpack_from("<" + fmt, b, off)
        struct.pack_into(">" + fmt, b, off, *v)

    try:
        shoff, = struct.unpack_from("<Q", b, 40)
        phoff, = struct.unpack_from("<Q", b, 32)
        phnum, = struct.unpack_from("<H", b, 56)
        shnum, = struct.unpack_from("<H", b, 60)
        secs = [struct.unpack_from("<IIQQQQIIQQ", b, shoff + 64 * i) for i in range(shnum)]
        segs = [struct.unpack_from("<IIQQQQQQ", b, phoff + 56 * i) for i in range(phnum)]
        for s in secs:
            if s[1] in (2, 11):  # symbols
                for j in range(s[5] // 24):
                    sw(s[4] + 24 * j, "I")
                    sw(s[4] + 24 * j + 6, "H")
                    sw(s[4] + 24 * j + 8, "QQ")
        for s in segs:
            if s[0] == 2:
                o = s[2]
                while o + 16 <= len(b):
                    tag, = struct.unpack_from("<Q", b, o)
                    sw(o, "QQ")
                    o += 16
                    if tag == 0:
                        break
        for i in range(shnum):
            sw(shoff + 64 * i, "IIQQQQIIQQ")
        for i in range(phnum):
            sw(phoff + 56 * i, "IIQQQQQQ")
        sw(16, "HHIQQQIHHHHHH")
    except struct.error:
        return None
    b[5] = 2
    return bytes(b)


def elf32_image(be=False, exec_type=True):
    """A small hand-made 32-bit ELF: 4 sections (null, .text, .dynsym,
    .dynstr, .shstrtab), one PT_LOAD and one PT_DYNAMIC segment."""
    e = ">" if be else "<"
    shstr = b"\0.text\0.dynsym\0.dynstr\0.shstrtab\0.dynamic\0"
    dynstr = b"\0main\0puts\0"
    syms = struct.pack(e + "IIIBBH", 0, 0, 0, 0, 0, 0) + \
        struct.pack(e + "IIIBBH", 1, 0x8048100, 16, 0x12, 0, 1) + \
        struct.pack(e + "IIIBBH", 6, 0, 0, 0x22, 0, 0)
    text = b"\x90" * 32
    dyn = struct.pack(e + "II", 1, 6) + struct.pack(e + "II", 5, 0x8048200) + \
        struct.pack(e + "II", 0, 0)
    body = bytearray(b"\0" * (52 + 2 * 32))
    off_text = len(body); body += text
    off_syms = len(body); body += syms
    off_dynstr = len(body); body += dynstr
    off_dyn = len(body); body += dyn
    off_shstr = len(body); body += shstr
    while len(body) % 4:
        body += b"\0"
    shoff = len(body)
    sh = [
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        (1, 1, 6, 0x8048000 + off_text, off_text, len(text), 0, 0, 16, 0),
        (7, 11, 2, 0x8048000 + off_syms, off_syms, len(syms), 3, 1, 4, 16),
        (15, 3, 2, 0x8048000 + off_dynstr, off_dynstr, len(dynstr), 0, 0, 1, 0),
        (23, 3, 0, 0, off_shstr, len(shstr), 0, 0, 1, 0),
        (33, 6, 3, 0x8048000 + off_dyn, off_dyn, len(dyn), 3, 0, 4, 8),
    ]
    for s in sh:
        body += struct.pack(e + "IIIIIIIIII", *s)
    struct.pack_into(e + "IIIIIIII", body, 52, 1, 0, 0x8048000, 0x8048000, len(body),
                     len(body), 5, 0x1000)
    struct.pack_into(e + "IIIIIIII", body, 84, 2, off_dyn, 0x8048000 + off_dyn,
                     0x8048000 + off_dyn, len(dyn), len(dyn), 6, 4)
    body[0:16] = b"\x7fELF" + bytes([1, 2 if be else 1, 1]) + b"\0" * 9
    struct.pack_into(e + "HHIIIIIHHHHHH", body, 16, 2 if exec_type else 3, 3, 1,
                     0x8048000 + off_text, 52, shoff, 0, 52, 32, 2, 40, len(sh), 4)
    return bytes(body)


def made_files(tmp):
    """Hand-made and damaged ELF files under tmp."""
    rng = random.Random(SEED)
    out = []

    def put(name, data):
        p = os.path.join(tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        out.append(p)

    for be in (False, True):
        for ex in (False, True):
            put("e32_%s_%s" % ("be" if be else "le", "exec" if ex else "dyn"),
                elf32_image(be, ex))
    small = [p for p in real_elf_files(400) if os.path.getsize(p) < 200 * 1024][:12]
    for i, p in enumerate(small[:4]):
        with open(p, "rb") as f:
            data = f.read()
        s = swap_elf(data)
        if s is not None:
            put("be64_%d" % i, s)
    base = [elf32_image(), elf32_image(True)]
    for p in small[:3]:
        with open(p, "rb") as f:
            base.append(f.read())
    for k, data in enumerate(base):
        cuts = {0, 1, 4, 15, 16, 17, 51, 52, 53, 63, 64, 65, 100}
        cuts |= {rng.randrange(len(data)) for _ in range(6)}
        for cut in sorted(c for c in cuts if c < len(data)):
            put("cut_%d_%d" % (k, cut), data[:cut])
        for m in range(25):
            b = bytearray(data)
            for _ in range(rng.choice((1, 2, 4, 8))):
                # Mostly the headers and tables, where the checks are.
                if rng.random() < 0.6:
                    i = rng.randrange(min(len(b), 128))
                else:
                    i = rng.randrange(len(b))
                b[i] = rng.choice((0, 0xff, 0x7f, 0x80, rng.randrange(256)))
            put("mut_%d_%d" % (k, m), bytes(b))
    return out


def run_oracle(files, rules):
    compared, bad, skipped = 0, [], 0
    for p in files:
        theirs = yara_elf(rules, p)
        if theirs is None:
            skipped += 1
            continue
        d = diff(p, theirs, ward_elf(p))
        compared += 1
        if d:
            bad.append(d)
    return compared, bad, skipped


def test_elf_real_files(tmp):
    need_tools()
    files = real_elf_files(N_REAL)
    assert len(files) >= min(N_REAL, 50), "too few ELF files on this system"
    compared, bad, _ = run_oracle(files, rules_file(tmp))
    assert not bad, "\n".join(bad[:10])
    assert compared >= min(N_REAL, 50)
    print("elf oracle: %d real files agree" % compared)


def test_elf_made_and_damaged_files(tmp):
    need_tools()
    files = made_files(tmp)
    compared, bad, skipped = run_oracle(files, rules_file(tmp))
    assert not bad, "\n".join(bad[:10])
    assert compared >= 100
    print("elf oracle: %d made or damaged files agree (%d yara could not)" % (compared, skipped))


# --- math and hash: every value of ours as a rule that yara must match ---

def func_rules(lines):
    """mod_dump's "EXPR<TAB>KIND<TAB>VALUE" lines as rules r0, r1, ... that
    hold when yara agrees (exactly: floats as their exact decimal)."""
    rules, cases = [], []
    for line in lines:
        expr, kind, value = line.split("\t")
        if expr.startswith("hash.sm3"):
            continue  # ward's own, not yara's
        if kind == "u":
            cond = "not defined %s" % expr
        elif kind == "s":
            cond = '%s == "%s"' % (expr, value)
        elif kind in ("i", "f"):
            cond = "%s == %s" % (expr, value)
        else:
            raise AssertionError("mod_dump: %s" % line)
        cases.append(cond)
        rules.append("rule r%d { condition: %s }" % (len(rules), cond))
    return 'import "math"\nimport "hash"\n' + "\n".join(rules) + "\n", cases


def yara_matches(rules_text, target, tmp):
    rp = os.path.join(tmp, "funcs.yar")
    with open(rp, "w") as f:
        f.write(rules_text)
    p = subprocess.run(["yara", rp, target], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    return {line.split()[0] for line in p.stdout.decode().splitlines() if line.strip()}


def check_rules(rules_text, cases, target, tmp):
    got = yara_matches(rules_text, target, tmp)
    bad = [c for i, c in enumerate(cases) if "r%d" % i not in got]
    return bad


def ranges_of(size, rng):
    r = [(0, size), (0, 0), (size, 0), (size, 10), (-1, 5), (5, -1), (0, 100),
         (max(size - 1, 0), 1), (max(size - 7, 0), 1 << 40)]
    for _ in range(3):
        o = rng.randrange(size + 1)
        r.append((o, rng.randrange(size - o + 2)))
    return r


def func_files(tmp):
    rng = random.Random(SEED)
    out = []

    def put(name, data):
        p = os.path.join(tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        out.append(p)

    put("empty", b"")
    put("one", b"\x41")
    put("six", b"\x00\xff\x10\x80\x7f\x01")
    put("zeros", b"\0" * 70000)
    put("random", bytes(rng.randrange(256) for _ in range(200000)))
    put("text", b"The quick brown fox jumps over the lazy dog\n" * 3000)
    out += real_elf_files(400)[::16][:25]
    return out


def test_math_hash_over_files(tmp):
    need_tools()
    rng = random.Random(SEED)
    total, bad = 0, []
    for path in func_files(tmp):
        size = os.path.getsize(path)
        args = []
        for o, l in ranges_of(size, rng):
            args += [str(o), str(l)]
        p = subprocess.run([DUMP, "funcs", path] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=300)
        assert p.returncode == 0, p.stderr.decode()[-2000:]
        text, cases = func_rules(p.stdout.decode().splitlines())
        total += len(cases)
        bad += ["%s: %s" % (path, c) for c in check_rules(text, cases, path, tmp)]
    assert not bad, "%d of %d disagree:\n%s" % (len(bad), total, "\n".join(b[:300] for b in bad[:10]))
    assert total >= 500
    print("math/hash oracle: %d cases over files agree" % total)


def test_math_hash_over_strings(tmp):
    need_tools()
    rng = random.Random(SEED + 1)
    strings = [b"", b"a", b"abc", b"\0", b"\0\0\0\0\0\0", b"abcdef", bytes(range(256))]
    for _ in range(20):
        n = rng.choice((1, 5, 6, 7, 12, 60, 200))
        strings.append(bytes(rng.randrange(256) for _ in range(n)))
    p = subprocess.run([DUMP, "strfuncs"] + [s.hex() for s in strings], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    text, cases = func_rules(p.stdout.decode().splitlines())
    target = os.path.join(tmp, "any")
    with open(target, "wb") as f:
        f.write(b"x")
    bad = check_rules(text, cases, target, tmp)
    assert not bad, "%d of %d disagree:\n%s" % (len(bad), len(cases), "\n".join(b[:300] for b in bad[:10]))
    assert len(cases) >= 200
    print("math/hash oracle: %d cases over strings agree" % len(cases))


def test_math_integer_functions(tmp):
    need_tools()
    ints = ["-9223372036854775807", "-5", "-1", "0", "1", "2", "7", "4294967296",
            "9223372036854775807"]
    p = subprocess.run([DUMP, "intfuncs"] + ints, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    text, cases = func_rules(p.stdout.decode().splitlines())
    target = os.path.join(tmp, "any")
    with open(target, "wb") as f:
        f.write(b"x")
    bad = check_rules(text, cases, target, tmp)
    assert not bad, "%d of %d disagree:\n%s" % (len(bad), len(cases), "\n".join(bad[:10]))
    assert len(cases) >= 200
    print("math oracle: %d integer cases agree" % len(cases))
