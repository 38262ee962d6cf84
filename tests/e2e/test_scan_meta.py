"""
A rule's meta in scan results, as signature-base users triage by it: every
key with its typed value in JSON (string, integer, boolean), and with
--print-meta in text as `yara -m` shows it — checked against yara on real
signature-base rules and on hostile strings.  And the diagnostics that the
docs show are what ward prints.
"""

import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO, TESTDATA, ndjson, rules_file, write

SIGBASE = os.path.join(TESTDATA, "signature-base", "yara")
LINE_RE = re.compile(r"^(.*): (\S+) (\[.*\]) FOUND$")

TYPED = r'''
rule typed : t1
{
    meta:
        description = "Detects \"quoted\" and back\\slash"
        author = "A. N. Analyst"
        score = 75
        negative = -3
        big = 4294967296
        active = true
        deprecated = false
        tabbed = "a\tb\nc"
        bytes = "caf\xc3\xa9 \x01\x7f"
        author = "second author"
    strings:
        $a = "needle"
    condition:
        $a
}
rule bare { strings: $b = "needle" condition: $b }
''' + 'rule every_byte { meta: bytes = "%s" condition: true }\n' % "".join(
    "\\x%02x" % b for b in range(1, 256))


def yara_meta(rules, target, defines=()):
    """{(path, rule): "[...]"} from yara -m."""
    if shutil.which("yara") is None:
        pytest.fail("yara is the oracle of this test: install yara", pytrace=False)
    cmd = ["yara", "-w", "-m"]
    for d in defines:
        cmd += ["-d", d]
    p = subprocess.run(cmd + [rules, target], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    out = {}
    for line in p.stdout.decode("latin-1").splitlines():
        m = re.match(r"^(\S+) (\[.*\]) (.*)$", line)
        assert m, line
        # yara 4.2 writes "key =7" for integers; ward writes "key=7"
        out[(m.group(3), m.group(1))] = re.sub(r"(\w) =(-?\d)", r"\1=\2", m.group(2))
    return out


def ward_meta(ward, rules, target, *extra):
    p = ward.run("scan", "--print-meta", "--rules", rules, *extra, target)
    assert p.returncode == 1, p.stderr
    out = {}
    for line in p.stdout.encode("utf-8", "surrogateescape").decode("latin-1").splitlines():
        m = LINE_RE.match(line)
        assert m, line
        out[(m.group(1), m.group(2))] = m.group(3)
    return out


def test_json_meta_has_every_key_typed(ward, tmp_path):
    rules = rules_file(tmp_path, TYPED)
    f = write(str(tmp_path / "t" / "sample.bin"), b"xx needle yy")
    p = ward.scan("--format", "json", "--rules", rules, f)
    assert p.returncode == 1, p.stderr
    by_rule = {o["rule"]: o for o in ndjson(p.stdout) if "rule" in o}
    meta = by_rule["typed"]["meta"]
    assert meta == {
        "description": 'Detects "quoted" and back\\slash',
        "author": "second author",  # a key given twice: the last, as yara-python
        "score": 75, "negative": -3, "big": 4294967296,
        "active": True, "deprecated": False,
        "tabbed": "a\tb\nc",
        "bytes": "caf\u00e9 \u0001\u007f",
    }
    assert isinstance(meta["score"], int) and isinstance(meta["active"], bool)
    assert by_rule["bare"]["meta"] == {}
    assert by_rule["every_byte"]["meta"]["bytes"] == "".join(
        chr(b) if b < 0x80 else "\\x%02x" % b for b in range(1, 256))


def test_print_meta_text_is_yaras(ward, tmp_path):
    rules = rules_file(tmp_path, TYPED)
    f = write(str(tmp_path / "t" / "sample.bin"), b"xx needle yy")
    assert ward_meta(ward, rules, f) == yara_meta(rules, f)
    # without --print-meta: clamscan's line, unchanged
    p = ward.scan("--rules", rules, f)
    assert sorted(p.stdout.splitlines()) == ["%s: bare FOUND" % f, "%s: every_byte FOUND" % f,
                                             "%s: typed FOUND" % f]


def test_signature_base_meta_as_yara_shows_it(ward, tmp_path):
    """Real rules: what yara -m and ward --print-meta say agree, and the JSON
    carries the same keys and values (score as an integer)."""
    d = str(tmp_path / "t")
    files = {"photo.jpg": b"MZ" + b"\0" * 100, "notes.txt": b"MZ" + b"\0" * 100,
             "bad.pdf.exe": b"MZ" + b"\0" * 50}
    for name, data in files.items():
        write(os.path.join(d, name), data)
    for rules_name in ["generic_anomalies.yar", "general_cloaking.yar"]:
        rules = os.path.join(SIGBASE, rules_name)
        for name in files:
            f = os.path.join(d, name)
            defines = ["filename=%s" % name, "filepath=%s" % d,
                       "extension=%s" % os.path.splitext(name)[1].lower(),
                       "filetype=EXE", "owner=root"]
            expect = yara_meta(rules, f, defines)
            if not expect:
                continue
            assert ward_meta(ward, rules, f) == expect, (rules_name, name)
            p = ward.scan("--format", "json", "--rules", rules, f)
            for o in ndjson(p.stdout):
                if "rule" not in o:
                    continue
                text = expect[(f, o["rule"])]
                for k, v in o["meta"].items():
                    shown = ('"%s"' % re.sub(r'([\\"\'])', r'\\\1', v)
                             if isinstance(v, str) else
                             ("true" if v else "false") if isinstance(v, bool) else str(v))
                    assert "%s=%s" % (k, shown) in text, (k, v, text)
    # the rules really matched something here
    p = ward.scan("--print-meta", "--rules", os.path.join(SIGBASE, "general_cloaking.yar"), d)
    assert "EXE_cloaked_as_TXT [description=" in p.stdout


# --------------------------------------------------------------------------
# the docs' diagnostics are the binary's


def docs(name):
    with open(os.path.join(REPO, "docs", name)) as f:
        return f.read()


def rule_with(construct):
    """A one-rule file around a construct of the docs' table."""
    if construct.startswith("import"):
        return construct + "\nrule a { condition: true }\n"
    if construct.startswith("$"):
        return "rule a { strings: %s condition: $a }\n" % construct
    if construct.startswith("{"):
        return "rule a { strings: $a = %s condition: $a }\n" % construct
    if "them" in construct:
        return 'rule a { strings: $a = "abc" condition: %s }\n' % construct
    return "rule a { condition: %s }\n" % construct


def test_docs_refusal_examples_are_what_ward_prints(ward, tmp_path):
    text = docs("rules.md")
    table = text[text.index("| refused (for example) | what ward says |"):]
    rows = re.findall(r"^\| `(.+?)` \| `(.+?)` \|$", table, re.M)
    assert len(rows) >= 9, rows
    target = write(str(tmp_path / "empty"), b"")
    for i, (construct, message) in enumerate(rows):
        d = str(tmp_path / ("case%d" % i))
        write(os.path.join(d, "mal.yar"), rule_with(construct))
        p = ward.run("scan", "--rules", "mal.yar", target, cwd=d)
        assert p.returncode == 2, construct
        assert re.fullmatch(r"ward: mal\.yar:\d+:\d+: %s\n" % re.escape(message), p.stderr), (
            construct, message, p.stderr)


def test_docs_first_example_is_real(ward, tmp_path):
    text = docs("rules.md")
    m = re.search(r"\$ ward scan --rules bad\.yar /srv\n    (ward: .*)\n    \$ echo \$\?\n"
                  r"    (\d+)", text)
    assert m, "the example is gone from docs/rules.md"
    lines = ["rule ok_%d { condition: true }" % i for i in range(9)]
    lines += ["rule bad {", "    strings:", '        $a = "x"', "    condition:",
              "        50% of them", "}"]
    write(str(tmp_path / "bad.yar"), "\n".join(lines) + "\n")
    os.makedirs(str(tmp_path / "srv"))
    p = ward.run("scan", "--rules", "bad.yar", str(tmp_path / "srv"), cwd=str(tmp_path))
    assert p.stderr == m.group(1) + "\n"
    assert p.returncode == int(m.group(2))


def test_docs_hash_list_error_is_real(ward, tmp_path):
    text = docs("rules.md")
    m = re.search(r"`(ward: sigs\.txt:\d+:\d+: [^`]*)`", text)
    assert m, "the hash list example is gone from docs/rules.md"
    write(str(tmp_path / "sigs.txt"), "# list\n\nsha256:zz:1:Bad\n")
    p = ward.run("scan", "--hashes", "sigs.txt", str(tmp_path / "sigs.txt"),
                 cwd=str(tmp_path))
    assert p.returncode == 2
    assert p.stderr == m.group(1) + "\n"
