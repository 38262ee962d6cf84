#!/usr/bin/env python3
"""
Differential test of ward's rule modules against the installed yara: rules
of generated `math`, `hash` and `time` conditions — ranges inside, across
and outside the files, thresholds around the values, the string forms,
undefined values — over generated and real files, scanned by both tools;
every (file, rule) answer must agree.

    tests/diff/modules.py [--ward PATH] [--seed N] [--rules N] [--keep]

Prints "N cases compared" and, for each disagreement, the rule and file.
Exit status 0 when all agree, 1 when not, 2 when the run could not be made.
"""

import argparse
import hashlib
import os
import random
import shutil
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import default_ward, run_ward, run_yara  # noqa: E402

REAL = ["/bin/true", "/bin/ls", "/usr/bin/yara", "/etc/passwd",
        "/usr/lib/x86_64-linux-gnu/libc.so.6"]

SECTIONS = ['".text"', '".data"', '".bss"', '".dynsym"', '".interp"', '".rodata"', '""',
            '".shstrtab"', '".symtab"']
SYMBOLS = ['"malloc"', '"free"', '"printf"', '"main"', '""', '"__libc_start_main"',
           '"_init"']


def make_inputs(d, rnd):
    """Files of the sizes where ranges end: empty, one byte, around the
    module reader's 64 KiB window, text, zeros, random, real."""
    files = {}

    def add(name, data):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        files[name] = data

    add("empty", b"")
    add("one", b"\x7f")
    add("ff", b"\xff" * 333)
    add("zeros", b"\0" * 5000)
    add("text", b"The quick brown fox jumps over the lazy dog.\n" * 40)
    for i, n in enumerate((100, 4096, 65535, 65536, 65537, 140000)):
        add("rand%d" % i, bytes(rnd.getrandbits(8) for _ in range(n)))
    add("skew", bytes(rnd.choice(b"aaaabbc\0\xff") for _ in range(9000)))
    for p in REAL:
        if os.path.exists(p):
            with open(p, "rb") as f:
                add("real_" + os.path.basename(p), f.read(300000))
    # ELF files cut at the header's and tables' edges, and with bytes
    # changed: the module must give yara's answers on what it can parse
    # and undefined values on what it cannot.
    with open("/bin/true", "rb") as f:
        elf = f.read()
    for n in (16, 52, 64, 100, 1000, 5000, len(elf) - 100):
        add("cut%d" % n, elf[:n])
    for k in range(3):
        b = bytearray(elf)
        for _ in range(12):
            i = rnd.randrange(0, 0x400)
            b[i] = rnd.getrandbits(8)
        add("flip%d" % k, bytes(b))
    return files


def rng_range(rnd, size):
    """An (offset, length) pair: inside, crossing the end, empty, outside."""
    k = rnd.randrange(8)
    if k == 0:
        return 0, "filesize"
    if k == 1:
        return rnd.randrange(-5, 3), rnd.randrange(0, 300)
    if k == 2:
        return max(size - rnd.randrange(1, 50), 0), rnd.randrange(1, 200)
    if k == 3:
        return size + rnd.randrange(0, 3), rnd.randrange(0, 10)
    if k == 4:
        return rnd.randrange(0, 70000), rnd.randrange(0, 70000)
    if k == 5:
        return 65530, rnd.randrange(1, 20)
    if k == 6:
        return rnd.randrange(0, 200), 0
    return rnd.randrange(0, max(size, 1)), -rnd.randrange(1, 3)


def lit(x):
    return str(x) if not isinstance(x, str) else x


def text_arg(rnd):
    """A string literal of escapes and characters."""
    out = [rnd.choice(["a", "b", "c", "X", "0", " ", "\\x00", "\\xff", "\\x80", "\\n", "\\\"",
                       "\\\\"]) for _ in range(rnd.randrange(0, 12))]
    return '"' + "".join(out) + '"'


def py_range(data, off, ln):
    """The bytes YARA's range functions cover, or None if undefined."""
    size = len(data)
    if ln == "filesize":
        ln = size
    if off < 0 or ln < 0 or off >= size:
        return None
    return data[off:off + ln]


def conditions(rnd, files):
    """Yields condition texts."""
    sizes = [len(d) for d in files.values()]
    while True:
        size = rnd.choice(sizes)
        off, ln = rng_range(rnd, size)
        k = rnd.randrange(24)
        o, l = lit(off), lit(ln)
        if k == 0:
            yield "math.entropy(%s, %s) >= %.3f" % (o, l, rnd.uniform(0, 8))
        elif k == 1:
            yield "math.mean(%s, %s) < %.3f" % (o, l, rnd.uniform(0, 255))
        elif k == 2:
            yield "math.deviation(%s, %s, math.MEAN_BYTES) > %.3f" % (o, l, rnd.uniform(0, 128))
        elif k == 3:
            yield "math.serial_correlation(%s, %s) > %.3f" % (o, l, rnd.uniform(-1, 1))
        elif k == 4:
            yield "math.monte_carlo_pi(%s, %s) < %.4f" % (o, l, rnd.uniform(0, 4))
        elif k == 5:
            yield "math.count(%d, %s, %s) >= %d" % (rnd.choice([0, 97, 255, 256 + 97, -1]), o, l,
                                                    rnd.randrange(0, 100))
        elif k == 6:
            yield "math.percentage(%d) > %.4f" % (rnd.choice([0, 97, 255, 10]),
                                                  rnd.uniform(0, 0.5))
        elif k == 7:
            yield "math.mode() == %d" % rnd.choice([0, 97, 255, 10])
        elif k == 8:
            yield "math.mode(%s, %s) == %d" % (o, l, rnd.choice([0, 97, 255, 10]))
        elif k == 9:
            yield "math.in_range(math.entropy(%s, %s), %.2f, %.2f)" % (
                o, l, rnd.uniform(0, 4), rnd.uniform(4, 8))
        elif k == 10:
            a, b = rnd.randrange(-3, 3), rnd.randrange(-3, 3)
            yield "math.min(%d, %d) == %d and math.max(%d, %d) == %d" % (
                a, b, rnd.choice([a, b]), a, b, rnd.choice([a, b]))
        elif k == 11:
            yield "math.abs(%d) == %d and math.to_number(filesize > %d) == 1" % (
                rnd.randrange(-9, 9), rnd.randrange(0, 9), rnd.randrange(0, 70000))
        elif k == 12:
            f = rnd.choice(["entropy", "mean", "serial_correlation", "monte_carlo_pi"])
            yield "math.%s(%s) > %.3f" % (f, text_arg(rnd), rnd.uniform(-1, 4))
        elif k == 13:
            yield "math.deviation(%s, %.2f) < %.2f" % (text_arg(rnd), rnd.uniform(0, 128),
                                                       rnd.uniform(0, 100))
        elif k == 14:
            yield "defined math.entropy(%s, %s)" % (o, l)
        elif k == 15:
            yield "math.count(%d) > %d" % (rnd.choice([0, 97, 255]), rnd.randrange(0, 2000))
        elif k == 16:
            yield "math.percentage(%d, %s, %s) >= %.3f" % (rnd.choice([0, 97, 255]), o, l,
                                                           rnd.uniform(0, 1))
        elif k < 20:
            yield "HASH"
        else:
            yield elf_cond(rnd)


def elf_cond(rnd):
    """An elf condition: header fields, items of every array, loops over
    them, constants, undefined indexes."""
    i = rnd.choice([0, 1, 2, 3, 5, 8, 13, 27, 40, -1, 100000])
    k = rnd.randrange(14)
    if k == 0:
        return "elf.type == %s" % rnd.choice(["elf.ET_EXEC", "elf.ET_DYN", "elf.ET_REL", "2"])
    if k == 1:
        return "elf.machine == %s" % rnd.choice(["elf.EM_X86_64", "elf.EM_386", "62", "0"])
    if k == 2:
        return "elf.entry_point %s %d" % (rnd.choice([">", "<", "=="]), rnd.randrange(0, 40000))
    if k == 3:
        return "elf.number_of_sections %s %d and elf.number_of_segments > %d" % (
            rnd.choice([">", "=="]), rnd.randrange(0, 35), rnd.randrange(0, 14))
    if k == 4:
        return "elf.sections[%d].name == %s" % (i, rnd.choice(SECTIONS))
    if k == 5:
        f = rnd.choice(["type", "flags", "address", "size", "offset"])
        return "elf.sections[%d].%s %s %d" % (i, f, rnd.choice([">", "<"]),
                                              rnd.randrange(0, 5000))
    if k == 6:
        f = rnd.choice(["type", "flags", "offset", "virtual_address", "physical_address",
                        "file_size", "memory_size", "alignment"])
        return "elf.segments[%d].%s %s %d" % (i, f, rnd.choice([">", "<"]),
                                              rnd.randrange(0, 70000))
    if k == 7:
        return "elf.dynamic[%d].type == %s or elf.dynamic[%d].val > %d" % (
            i, rnd.choice(["elf.DT_NEEDED", "elf.DT_NULL", "1", "5"]), i,
            rnd.randrange(0, 9000))
    if k == 8:
        t = rnd.choice(["dynsym", "symtab"])
        return "elf.%s[%d].name == %s" % (t, i, rnd.choice(SYMBOLS))
    if k == 9:
        t = rnd.choice(["dynsym", "symtab"])
        f = rnd.choice(["value", "size", "type", "bind", "shndx"])
        return "elf.%s[%d].%s %s %d" % (t, i, f, rnd.choice([">", "=="]), rnd.randrange(0, 20))
    if k == 10:
        return ("for any j in (0..elf.number_of_sections - 1) : "
                "(elf.sections[j].name == %s)" % rnd.choice(SECTIONS))
    if k == 11:
        return ("for any j in (0..elf.dynsym_entries - 1) : (elf.dynsym[j].name == %s)"
                % rnd.choice(SYMBOLS))
    if k == 12:
        return "defined elf.%s" % rnd.choice(
            ["sections[%d].name" % i, "segments[%d].type" % i, "entry_point",
             "dynamic_section_entries", "symtab_entries", "dynsym[%d].value" % i])
    return "elf.segments[%d].flags & elf.PF_X != 0 and elf.sections[%d].flags & " \
           "elf.SHF_ALLOC != 0" % (i, i)


def hash_cond(rnd, files, alg, off, ln):
    """A hash comparison that is true on one of the files (or none)."""
    name = rnd.choice(sorted(files))
    b = py_range(files[name], off, ln)
    if rnd.randrange(6) == 0:
        s = "".join(rnd.choice(["a", "b", "c", "\\x00", "\\xff"])
                    for _ in range(rnd.randrange(0, 6)))
        b, arg = s.encode().decode("unicode_escape").encode("latin-1"), '"%s"' % s
    else:
        arg = "%s, %s" % (lit(off), lit(ln))
    if b is None:
        want = "0" if alg in ("checksum32", "crc32") else '"%s"' % ("0" * 32)
    elif alg == "checksum32":
        want = str(sum(b) & 0xffffffff)
    elif alg == "crc32":
        want = str(zlib.crc32(b) & 0xffffffff)
    else:
        want = '"%s"' % hashlib.new(alg, b).hexdigest()
    return "hash.%s(%s) == %s" % (alg, arg, want)


def main(argv=None):
    ap = argparse.ArgumentParser(description="differential test of ward's modules against yara")
    ap.add_argument("--ward", default=default_ward())
    ap.add_argument("--yara", default=shutil.which("yara") or "yara")
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--rules", type=int, default=60, help="rules (each on every file)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    rnd = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="ward-moddiff-")
    try:
        ind = os.path.join(work, "in")
        os.makedirs(ind)
        files = make_inputs(ind, rnd)
        gen = conditions(rnd, files)
        lines = ['import "math"', 'import "hash"', 'import "time"', 'import "elf"',
                 "rule t_now { condition: time.now() > 1700000000 }"]
        conds = {"t_now": "time.now() > 1700000000"}
        for i in range(args.rules):
            c = next(gen)
            if c == "HASH":
                size = len(rnd.choice(list(files.values())))
                off, ln = rng_range(rnd, size)
                c = hash_cond(rnd, files,
                              rnd.choice(["md5", "sha1", "sha256", "checksum32", "crc32"]),
                              off, ln)
            name = "m%04d" % i
            conds[name] = c
            lines.append("rule %s { condition: %s }" % (name, c))
        rules = os.path.join(work, "mod.yar")
        with open(rules, "w") as f:
            f.write("\n".join(lines) + "\n")
        y = run_yara(args.yara, [rules], [], ind)
        w = run_ward(args.ward, [rules], [], ind)
        for side, res in (("yara", y), ("ward", w)):
            if not res.ok:
                print("%s failed: %s\n%s" % (side, res.error, " ".join(res.cmd)))
                return 2
        bad = 0
        ymatch = 0
        for name in sorted(files):
            a, b = y.matches.get(name, set()), w.matches.get(name, set())
            ymatch += len(a)
            for r in sorted(a ^ b):
                bad += 1
                if bad <= 20:
                    print("DIFFER on %s (%d bytes): %s { %s } — yara %s, ward %s" % (
                        name, len(files[name]), r, conds[r], r in a, r in b))
        n = len(files) * len(conds)
        print("%d cases compared (%d files x %d rules), %d (file, rule) matches by yara, "
              "%d disagreements" % (n, len(files), len(conds), ymatch, bad))
        if bad:
            print("rules kept in %s" % work)
            args.keep = True
        return 1 if bad else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
