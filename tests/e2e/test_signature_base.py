"""
Real-world rules: every signature-base file (../shared/testdata, see its
README) that yara compiles — those that import "pe", "math" or "hash"
among them — must either give yara's matches on a small corpus (real ELF
and PE files, a few system files and files planted with the file's own
strings) or be refused with exit status 2 and a FILE:LINE:COL message
naming the construct outside ward's subset; none is refused today.
Prints the counts.
"""

import concurrent.futures
import os
import re
import shutil
import subprocess

import pytest

from conftest import TESTDATA, diags, ndjson

SIGBASE = os.path.join(TESTDATA, "signature-base", "yara")
DEFINES = ["filename=x", "filepath=x", "extension=x", "filetype=x", "owner=x"]
SYSTEM_FILES = ["/bin/ls", "/etc/passwd", "/etc/services", "/usr/share/common-licenses/GPL-3",
                "/usr/share/nsis/Stubs/lzma-x86-unicode", "/usr/share/clamav-testfiles/clam.exe",
                "/usr/share/nsis/Plugins/amd64-unicode/Banner.dll"]
# Words a refusal may use to name a construct outside the subset.
OUTSIDE = ["xor", "base64", "base64wide", "defined", "import", "module", "float",
           "entrypoint", "unsupported", "not supported", "percent", "%"]
IMPORT_RE = re.compile(r'^\s*import\s+"', re.M)


def rule_files():
    if not os.path.isdir(SIGBASE):
        return None
    return sorted(os.path.join(SIGBASE, f) for f in os.listdir(SIGBASE)
                  if f.endswith((".yar", ".yara")))


def read(path):
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        return f.read()


# ---------------------------------------------------------------------------
# planted inputs: instances of a rule file's own text and hex strings


TEXT_RE = re.compile(r'^\s*\$\w*\s*=\s*"((?:[^"\\\n]|\\.)*)"([^\n]*)$', re.M)
HEX_RE = re.compile(r'\$\w*\s*=\s*\{([0-9A-Fa-f?\s\[\]\-()|~]*)\}')


def unescape(s):
    out = bytearray()
    i = 0
    b = s.encode("utf-8", "surrogateescape")
    while i < len(b):
        c = b[i]
        if c == 0x5C and i + 1 < len(b):
            n = chr(b[i + 1])
            if n == "x" and i + 3 < len(b) + 1:
                try:
                    out.append(int(b[i + 2:i + 4], 16))
                    i += 4
                    continue
                except ValueError:
                    pass
            out += {"n": b"\n", "t": b"\t", "r": b"\r", "\\": b"\\", '"': b'"'}.get(n, b[i + 1:i + 2])
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


def hex_instance(src):
    toks = re.findall(r"~?[0-9A-Fa-f?]{2}|\[[^\]]*\]|[()|]", src)
    pos = [0]

    def seq():
        out = bytearray()
        while pos[0] < len(toks) and toks[pos[0]] not in ("|", ")"):
            t = toks[pos[0]]
            pos[0] += 1
            if t == "(":
                first = seq()
                while pos[0] < len(toks) and toks[pos[0]] == "|":
                    pos[0] += 1
                    seq()
                pos[0] += 1
                out += first
            elif t.startswith("["):
                lo = re.findall(r"\d+", t)
                out += b"A" * (int(lo[0]) if lo and not t.startswith("[-") else 0)
            elif t.startswith("~"):
                out.append(int(t[1:].replace("?", "0"), 16) ^ 0xFF)
            else:
                out.append(int(t.replace("?", "0"), 16))
        return out

    try:
        return bytes(seq())
    except (ValueError, IndexError):
        return b""


def instances(text):
    out = []
    for m in TEXT_RE.finditer(text):
        raw = unescape(m.group(1))
        mods = m.group(2)
        if "wide" in mods:
            out.append(bytes(x for c in raw for x in (c, 0)))
        if "wide" not in mods or "ascii" in mods:
            out.append(raw)
    for m in HEX_RE.finditer(text):
        inst = hex_instance(m.group(1))
        if inst:
            out.append(inst)
    return out


def planted(text):
    """Four inputs made of the rule file's own strings: all of them, every
    other one, and all of them behind an MZ/PE header and an ELF header."""
    inst = instances(text)
    body = b"\n".join(inst)
    half = b"\n".join(inst[::2])
    mz = bytearray(b"MZ\x90\x00" + bytes(0x3C - 4) + (0x40).to_bytes(4, "little") + b"PE\0\0")
    mz += bytes(0x200 - len(mz))
    elf = b"\x7fELF\x02\x01\x01" + bytes(57)
    return {"all.bin": body, "half.bin": half, "mz.exe": bytes(mz) + body,
            "elf.bin": elf + body}


# ---------------------------------------------------------------------------


def run(cmd, timeout=300):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return (p.returncode, p.stdout.decode("utf-8", "surrogateescape"),
            p.stderr.decode("utf-8", "surrogateescape"))


def yara_matches(out):
    res = set()
    for line in out.splitlines():
        if " " in line:
            rule, path = line.split(" ", 1)
            res.add((os.path.basename(path), rule))
    return res


def names_construct(text, d):
    """The refusal message names the construct: a word of OUTSIDE, or the
    identifier found at the reported line and column."""
    _, line, col, msg = d
    low = msg.lower()
    if any(w in low for w in OUTSIDE):
        return True
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return False
    m = re.match(r"[\w.$#@!]+", lines[line - 1][max(col - 1, 0):])
    return bool(m) and m.group(0).lower().strip("$#@!") in low


def check_one(ward_bin, work, sysdir, path):
    """Returns (kind, detail): same / refused / mismatch / bad-refusal /
    yara-refused / crash."""
    text = read(path)
    name = os.path.basename(path)
    corpus = os.path.join(work, name + ".d")
    os.makedirs(corpus)
    for f in os.listdir(sysdir):
        os.link(os.path.join(sysdir, f), os.path.join(corpus, f))
    for f, data in planted(text).items():
        with open(os.path.join(corpus, f), "wb") as fh:
            fh.write(data)
    ycmd = ["yara", "-w", "-r"]
    wcmd = [ward_bin, "scan", "--format", "json", "--rules", path]
    for d in DEFINES:
        ycmd += ["-d", d]
        wcmd += ["-d", d]
    rc, out, err = run(ycmd + [path, corpus])
    if rc != 0:
        return "yara-refused", err.strip().splitlines()[0] if err.strip() else str(rc)
    expect = yara_matches(out)
    wrc, wout, werr = run(wcmd + [corpus])
    if wrc < 0 or wrc > 2:
        return "crash", "exit status %d: %s" % (wrc, werr[-500:])
    if wrc == 2:
        ds = diags(werr)
        if not ds:
            return "bad-refusal", "no FILE:LINE:COL in: %s" % werr.strip()[:300]
        if os.path.basename(ds[0][0]) != name:
            return "bad-refusal", "names another file: %s" % werr.strip()[:300]
        if not names_construct(text, ds[0]):
            return "bad-refusal", "does not name an unsupported construct: %s" % werr.strip()[:300]
        reason = re.sub(r"\d+", "N", ds[0][3])
        return "refused", reason
    try:
        objs = ndjson(wout)
    except ValueError as e:
        return "mismatch", "bad JSON output: %s" % e
    errors = [o for o in objs if "error" in o]
    got = {(os.path.basename(o["path"]), o["rule"]) for o in objs if "rule" in o}
    if errors:
        return "mismatch", "error objects: %s" % errors[:3]
    if got != expect:
        return "mismatch", "only yara: %s; only ward: %s" % (sorted(expect - got)[:10],
                                                              sorted(got - expect)[:10])
    return "same", len(expect)


@pytest.fixture(scope="module")
def sigbase_files():
    files = rule_files()
    if files is None:
        pytest.skip("signature-base test data not found at %s" % SIGBASE)
    return files


def test_signature_base_matches_yara(ward_bin, sigbase_files, tmp_path, capsys):
    # Every file of the set, the 135 that import "pe" (and "math", "hash")
    # among them, over their planted strings and real ELF and PE files.
    files = list(sigbase_files)
    sysdir = str(tmp_path / "sys")
    os.makedirs(sysdir)
    for f in SYSTEM_FILES:
        if os.path.isfile(f):
            shutil.copy(f, os.path.join(sysdir, os.path.basename(f)))
    work = str(tmp_path / "work")
    os.makedirs(work)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        results = list(ex.map(lambda p: (p, check_one(ward_bin, work, sysdir, p)), files))
    counts = {}
    reasons = {}
    failures = []
    matched = 0
    for path, (kind, detail) in results:
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "refused":
            reasons[detail] = reasons.get(detail, 0) + 1
        elif kind == "same":
            matched += detail
        elif kind in ("mismatch", "bad-refusal", "crash"):
            failures.append("%s: %s: %s" % (os.path.basename(path), kind, detail))
    report = ["signature-base: %d files (%d with imports)" % (
        len(files), sum(1 for f in files if IMPORT_RE.search(read(f))))]
    for k in ("same", "refused", "yara-refused", "mismatch", "bad-refusal", "crash"):
        report.append("  %-13s %d" % (k, counts.get(k, 0)))
    report.append("  (file, rule) matches agreed on: %d" % matched)
    report.append("  refusals by message:")
    for r, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
        report.append("    %4d  %s" % (n, r))
    with capsys.disabled():
        print("\n" + "\n".join(report))
    assert not failures, "\n".join(report + ["failures:"] + failures[:50])
    assert counts.get("same", 0) > 0
    # Every file yara compiles compiles in ward: nothing left refused.
    assert counts.get("refused", 0) == 0, "\n".join(report)
