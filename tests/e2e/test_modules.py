"""
Rule modules (math, hash, time, pe, elf) end to end: `ward scan` and the
agent's unprivileged, seccomp-confined scanners give the same answers, the
ones a user computes by hand, and a scanner that evaluates them neither
crashes nor is killed by its sandbox; loops over the modules' arrays and
dictionaries (the examples of docs/rules.md among them) answer and refuse
as yara does.
"""

import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import zlib

import pytest

from agentlib import onaccess_box, signed_bundle
from conftest import REPO


def entropy(data):
    n = len(data)
    counts = [data.count(bytes([b])) for b in range(256)]
    return -sum(c / n * math.log2(c / n) for c in counts if c)


FILES = {
    "text": b"The quick brown fox jumps over the lazy dog.\n" * 50,
    "random": bytes((i * 2654435761 >> 13) & 0xff for i in range(70000)),
    "zeros": b"\0" * 3000,
}


PE_SRC = "/usr/share/nsis/Plugins/amd64-unicode/Banner.dll"


def signed_pe(tmp_path):
    """nsis's Banner.dll signed (Authenticode) with a new self-signed
    certificate: the pe module parses it with OpenSSL inside the agent's
    seccomp-confined scanners."""
    for need in (PE_SRC, shutil.which("openssl"), shutil.which("osslsigncode")):
        if need is None or not os.path.exists(need):
            pytest.fail("need nsis, openssl and osslsigncode installed", pytrace=False)
    d = str(tmp_path)
    for cmd in (["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                 "key.pem", "-out", "cert.pem", "-days", "3650", "-subj", "/CN=ward e2e"],
                ["osslsigncode", "sign", "-certs", "cert.pem", "-key", "key.pem", "-in", PE_SRC,
                 "-out", "signed.dll"]):
        subprocess.run(cmd, cwd=d, check=True, capture_output=True)
    with open(os.path.join(d, "signed.dll"), "rb") as f:
        return f.read()


PE_RULES = """import "pe"
rule pe_signed { condition: pe.number_of_signatures == 1 and
  pe.signatures[0].issuer == "/CN=ward e2e" and
  pe.signatures[0].valid_on(pe.signatures[0].not_before) }
rule pe_dll { condition: pe.is_dll() and pe.imports("kernel32.dll", "Sleep") and
  pe.imphash() matches /^[0-9a-f]{32}$/ and pe.calculate_checksum() > 0 and
  pe.sections[0].name == ".text" and pe.machine == pe.MACHINE_AMD64 }
rule pe_not { condition: pe.is_pe == 0 and not defined pe.machine and filesize == 3000 }
rule pe_loops { condition: for any s in pe.sections : (s.name == ".text" and
  s.raw_data_size > 0) and for all g in pe.signatures : (g.issuer == "/CN=ward e2e") and
  for any d in pe.import_details : (for any f in d.functions : (f.name == "Sleep")) and
  not for any k, v in pe.version_info : (k == "nope") }
rule pe_loops_none { condition: not for any s in pe.sections : (true) and filesize == 3000 }
"""


def rules_for(files):
    """Rules true on exactly one file each, by digest, entropy or count,
    and rules that are false everywhere (a range outside every file)."""
    out = ['import "math"', 'import "hash"', 'import "time"']
    for name, data in sorted(files.items()):
        out.append('rule md5_%s { condition: hash.md5(0, filesize) == "%s" }' % (
            name, hashlib.md5(data).hexdigest()))
        out.append('rule sha1_%s { condition: hash.sha1(0, filesize) == "%s" }' % (
            name, hashlib.sha1(data).hexdigest()))
        out.append('rule sha256_%s { condition: hash.sha256(0, filesize) == "%s" }' % (
            name, hashlib.sha256(data).hexdigest()))
        out.append('rule sm3_%s { condition: hash.sm3(0, filesize) == "%s" }' % (
            name, hashlib.new("sm3", data).hexdigest()))
        out.append("rule crc_%s { condition: hash.crc32(0, filesize) == %d }" % (
            name, zlib.crc32(data)))
        e = entropy(data)
        out.append("rule ent_%s { condition: math.entropy(0, filesize) > %.6f and "
                   "math.entropy(0, filesize) < %.6f and filesize == %d }" % (
                       name, e - 1e-6, e + 1e-6, len(data)))
    out.append("rule never { condition: defined math.entropy(filesize, 1) or "
               "hash.md5(filesize + 1, 1) == \"\" }")
    out.append("rule now { condition: time.now() > 1700000000 and filesize == 3000 }")
    return "\n".join(out) + "\n" + PE_RULES


def want(files):
    w = {}
    for name in files:
        w[name] = {"%s_%s" % (k, name) for k in ("md5", "sha1", "sha256", "sm3", "crc", "ent")}
    w["zeros"] |= {"now", "pe_not", "pe_loops_none"}
    w["signed_dll"] |= {"pe_signed", "pe_dll", "pe_loops"}
    return w


def test_modules_in_ward_scan_and_in_the_agents_scanners(ward, tmp_path):
    FILES = dict(globals()["FILES"], **{"signed_dll": signed_pe(tmp_path)})
    rules = tmp_path / "mods.yar"
    rules.write_text(rules_for(FILES))
    with onaccess_box(ward, tmp_path, "modules") as b:
        tree = os.path.join(b.mnt, "tree")
        os.mkdir(tree)
        for name, data in FILES.items():
            with open(os.path.join(tree, name), "wb") as f:
                f.write(data)
        # ward scan, by hand
        p = ward.run("scan", "--format", "json", "--rules", str(rules), tree)
        assert p.returncode == 1, p.stderr
        got = {}
        for line in p.stdout.splitlines():
            o = json.loads(line)
            if "rule" in o:
                got.setdefault(os.path.basename(o["path"]), set()).add(o["rule"])
        assert got == want(FILES), got
        # the agent, with the rules in its content
        a = b.agent()
        bundle = signed_bundle(ward, tmp_path, b.rel[0], 2, extra_rule=rules_for(FILES))
        r = a.apply(bundle)
        assert r.returncode == 0, r.stderr
        r = a.agent("scan", tree, "--format", "json")
        assert r.returncode == 1, r.stdout + r.stderr
        res = json.loads(r.stdout)
        agot = {}
        for m in res["matches"]:
            for rule in m["rules"] if "rules" in m else [m["rule"]]:
                agot.setdefault(os.path.basename(m["path"]), set()).add(rule)
        assert agot == got, (agot, got)
        sc = a.status()["scanners"]
        assert sc["crashes"] == 0 and sc["poison_files"] == [], sc
        assert a.status()["mode"] == "protecting"


MARK = "WARD-MODULE-CRASH-51a9"


def test_a_file_that_crashes_a_module_parser_is_poison_not_a_rollback(ward, tmp_path):
    # A module parser reads the file's own bytes: a bug met by a crafted
    # file kills the scanner evaluating it (the fault build's
    # WARD_FAULT_MODULE_CRASH_ON aborts the parse, as such a bug would).
    # That file is recorded as poison and skipped; every other file is
    # still scanned and its match found; the content is not rolled back
    # and the agent stays protecting.
    from agentlib import wardd_path
    import pytest
    if not os.path.exists(wardd_path(fault=True)):
        pytest.fail("the fault build is missing (make fault-build)", pytrace=False)
    rule = 'import "elf"\nrule Elf_Exec { condition: elf.type == elf.ET_EXEC }\n'
    with onaccess_box(ward, tmp_path, "modules", fault=True,
                      env={"WARD_FAULT_MODULE_CRASH_ON": MARK}) as b:
        a = b.agent()
        bundle = signed_bundle(ward, tmp_path, b.rel[0], 2, extra_rule=rule)
        r = a.apply(bundle)
        assert r.returncode == 0, r.stderr
        version = a.status()["content"]["current"]["version"]
        tree = os.path.join(b.mnt, "tree")
        os.mkdir(tree)
        names = []
        for i in range(6):
            p = os.path.join(tree, "f%d" % i)
            with open(p, "wb") as f:
                if i == 3:
                    f.write(("crafted %s\n" % MARK).encode())
                else:
                    f.write(b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!"
                            b"$H+H*" if i == 1 else b"clean %d\n" % i)
            names.append(p)
        r = a.agent("scan", tree, "--format", "json")
        res = json.loads(r.stdout)
        assert [x["path"] for x in res["poison"]] == [names[3]], res
        assert {m["path"] for m in res["matches"]} == {names[1]}, res
        st = a.status()
        assert st["mode"] == "protecting", st
        assert st["content"]["current"]["version"] == version == 2, st["content"]
        assert [f["path"] for f in st["scanners"]["poison_files"]] == [names[3]]
        # One crash with the file alone in a scanner, and one more if it
        # first crashed one with other files in hand (which blames none).
        crashes = st["scanners"]["crashes"]
        assert crashes in (1, 2), st["scanners"]
        # Scanned again: skipped as poison at once, no new crash.
        r = a.agent("scan", tree, "--format", "json")
        res = json.loads(r.stdout)
        assert [x["path"] for x in res["poison"]] == [names[3]], res
        assert a.status()["scanners"]["crashes"] == crashes


LOOP_FILES = [PE_SRC, "/usr/share/nsis/Plugins/x86-ansi/Banner.dll",
              "/usr/share/clamav-testfiles/clam.exe", "/bin/true", "/bin/ls", "/etc/passwd"]


def doc_loops():
    """The loops of docs/rules.md's "Loops over a module's arrays" example."""
    with open(os.path.join(REPO, "docs", "rules.md")) as f:
        text = f.read()
    block = text[text.index("#### Loops over a module's arrays"):]
    block = block[:block.index("The variable stands for")]
    return [ln.strip() for ln in block.splitlines() if ln.startswith("    for ")]


def yara_none(cond):
    """`for none V in A : (B)` as yara 4.2 must be told it (it reads `none`
    there as `for 0`; docs/rules.md): there is an item, and B holds for
    none of them."""
    m = re.match(r"^for none (\w+(?:, \w+)?) in (\S+) : (.*)$", cond)
    if not m:
        return cond
    head = "for any %s in %s : " % (m.group(1), m.group(2))
    return "(%s(true) and not %s%s)" % (head, head, m.group(3))


def yara_matches(rules, paths):
    out = set()
    for path in paths:
        p = subprocess.run(["yara", rules, path], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        out |= {tuple(ln.split(" ", 1)) for ln in p.stdout.splitlines() if ln}
    return out


def test_loops_over_module_arrays_answer_as_yara(ward, tmp_path):
    for f in LOOP_FILES:
        if not os.path.exists(f):
            pytest.fail("%s missing: install nsis and clamav-testfiles" % f, pytrace=False)
    loops = doc_loops()
    assert len(loops) >= 7, loops
    loops += [
        "for all s in elf.sections : (s.type != elf.SHT_NOBITS)",
        "for any s in elf.dynsym : (s.name == \"malloc\" and s.type == elf.STT_FUNC)",
        "for 3 g in elf.segments : (g.type == elf.PT_LOAD and g.flags & elf.PF_R != 0)",
        "for all x in pe.data_directories : (x.size < 0x100000)",
        "for any r in pe.resources : (r.type == pe.RESOURCE_TYPE_VERSION)",
        "not for any s in elf.sections : (true)",
        "for all d in pe.import_details : (for all f in d.functions : (defined f.name))",
        "for any e in pe.export_details : (e.name startswith \"Get\" or e.ordinal == 1)",
    ]
    rules, yrules = str(tmp_path / "loops.yar"), str(tmp_path / "loops-yara.yar")
    for path, spell in ((rules, lambda c: c), (yrules, yara_none)):
        with open(path, "w") as f:
            f.write('import "pe"\nimport "elf"\n' + "".join(
                "rule l%d { condition: %s }\n" % (i, spell(c)) for i, c in enumerate(loops)))
    p = ward.run("scan", "--rules", rules, *LOOP_FILES)
    assert p.returncode in (0, 1), p.stderr
    got = {(ln.split(": ")[1].split(" ")[0], ln.split(": ")[0])
           for ln in p.stdout.splitlines() if ln.endswith(" FOUND")}
    want = yara_matches(yrules, LOOP_FILES)
    assert got == want, (sorted(got - want), sorted(want - got))
    # rules that match somewhere and rules that match nowhere
    assert 0 < len({r for r, _ in want}) < len(loops)


LOOP_ERRORS = [
    ("for any k, v in pe.sections : (true)",
     'iterator for "sections" yields a single item on each iteration, but the loop expects 2'),
    ("for any k in pe.version_info : (true)",
     'iterator for "version_info" yields a key,value pair item on each iteration'),
    ("for any x in pe.machine : (true)", 'identifier "machine" is not iterable'),
    ('for any s in pe.sections : (true) and s.name == ".text"', 'undefined identifier "s"'),
    ("for any s in pe.sections : (s == 1)", 'wrong usage of identifier "s"'),
    ("for any a, b, c in pe.version_info : (true)", "too many loop variables"),
    ("for any s in pe.sections : (for any s in elf.sections : (true))",
     'duplicated loop identifier "s"'),
]


def test_loop_errors_as_yara_with_line_and_column(ward, tmp_path):
    for i, (cond, msg) in enumerate(LOOP_ERRORS):
        src = 'import "pe"\nimport "elf"\nrule a {\n  condition:\n    %s\n}\n' % cond
        path = str(tmp_path / ("bad%d.yar" % i))
        with open(path, "w") as f:
            f.write(src)
        p = ward.run("scan", "--rules", "bad%d.yar" % i, "/etc/passwd", cwd=str(tmp_path))
        assert p.returncode == 2, (cond, p.stderr)
        assert re.fullmatch(r"ward: bad%d\.yar:5:\d+: %s\n" % (i, re.escape(msg)), p.stderr), (
            cond, p.stderr)
        y = subprocess.run(["yara", path, "/etc/passwd"], capture_output=True, text=True)
        assert y.returncode != 0 and msg.replace(" , ", ", ") in y.stderr.replace(" , ", ", "), (
            cond, y.stderr)
