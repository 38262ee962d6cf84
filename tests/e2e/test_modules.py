"""
Rule modules (math, hash, time, pe) end to end: `ward scan` and the agent's
unprivileged, seccomp-confined scanners give the same answers, the ones a
user computes by hand, and a scanner that evaluates them neither crashes
nor is killed by its sandbox.
"""

import hashlib
import json
import math
import os
import shutil
import subprocess
import zlib

import pytest

from agentlib import onaccess_box, signed_bundle


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
    w["zeros"] |= {"now", "pe_not"}
    w["signed_dll"] |= {"pe_signed", "pe_dll"}
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
