"""
A rule set with parts outside ward's YARA subset, as a user meets it:
`ward rules check` lists every file and rule with its problem in one run
(exit 0 / 1 / 2), and `--skip-unsupported` on `ward scan`, `ward rules
compile` and `ward content build` leaves out exactly those rules (not their
files), names each one, and never skips a syntax error or a global rule.
"""

import json
import os
import re

from agentlib import Keys
from conftest import found, rules_file, write

# A file of 6 rules: 2 compile, 4 do not (one only because it names one).
MIXED = """import "dotnet"

rule Keep_Hello { strings: $a = "hello-ward" condition: $a }

rule Pct_One {
  strings:
    $a = "secret-ward"
  condition:
    50% of them
}

rule Names_Pct { condition: Pct_One or filesize > 1000000 }

rule Pe_Rule { condition: dotnet.number_of_sections > 2 and dotnet.exports("Run") }

private rule Entry_Rule { condition: entrypoint == 0 }

rule Keep_World { strings: $a = "world-ward" wide condition: $a }
"""
DROPPED = {"Pct_One": (9, 7, "percentage"), "Names_Pct": (12, 29, 'uses rule "Pct_One"'),
           "Pe_Rule": (14, 27, "dotnet"), "Entry_Rule": (16, 38, "entrypoint")}

GOOD = 'rule Plain { strings: $a = "plain-ward" condition: $a }\n'
SYNTAX = 'rule Broken {\n  strings: $a = "x" xor\n  condition: $a and and\n}\n'
GLOBAL = 'global rule Everywhere { condition: dotnet.is_dll() }\n'
SKIPPED_RE = re.compile(r"^ward: skipped rule (\S+) \((.+):(\d+)\): (.+)$", re.M)


def tree(tmp_path, files):
    root = tmp_path / "rules"
    for name, text in files.items():
        write(str(root / name), text)
    return str(root)


def test_check_lists_every_problem_in_one_run(ward, tmp_path):
    root = tree(tmp_path, {"mixed.yar": MIXED, "good.yara": GOOD, "sub/broken.yar": SYNTAX,
                           "sub/deeper/global.yar": GLOBAL, "notes.txt": "rule { not a rule",
                           "sub/README": SYNTAX})
    p = ward.run("rules", "check", root)
    assert p.returncode == 2, p.stdout + p.stderr
    out = p.stdout
    mixed = os.path.join(root, "mixed.yar")
    for rule, (line, col, word) in DROPPED.items():
        m = re.search(r"^%s:(\d+):(\d+): rule %s: (.+)$" % (re.escape(mixed), rule), out, re.M)
        assert m, "%s not listed:\n%s" % (rule, out)
        assert (int(m.group(1)), int(m.group(2))) == (line, col), m.group(0)
        assert word in m.group(3), m.group(0)
    assert re.search(r'^%s:1:1: import "dotnet": ' % re.escape(mixed), out, re.M), out
    assert "Keep_Hello" not in out and "Keep_World" not in out
    broken = os.path.join(root, "sub", "broken.yar")
    assert re.search(r"^%s:3:\d+: error: syntax error" % re.escape(broken), out, re.M), out
    glob = os.path.join(root, "sub", "deeper", "global.yar")
    assert re.search(r"^%s:1:\d+: error: .*global rule \"Everywhere\" cannot be skipped"
                     % re.escape(glob), out, re.M), out
    # only *.yar and *.yara under a directory
    assert "notes.txt" not in out and "README" not in out
    assert "files: 4 (1 compile as they are, 1 only with --skip-unsupported, 2 cannot be used)" \
        in out, out
    assert "rules: 3 compile, 4 left out by --skip-unsupported (1 because they name a rule " \
           "left out)" in out, out
    assert "imports left out: 1" in out
    kinds = {m.group(2): int(m.group(1))
             for m in re.finditer(r"^\s+(\d+)  (.+)$", out.split("problems by kind:")[1], re.M)}
    assert kinds['"N% of" (percentage) is not supported by ward'] == 1
    assert kinds["uses a skipped rule"] == 1
    assert kinds['import "dotnet"'] == 1
    assert sum(kinds.values()) == 4 + 1 + 2, kinds

    # JSON: the same, for tools; the counts add up
    p = ward.run("rules", "check", "--format", "json", root)
    assert p.returncode == 2
    doc = json.loads(p.stdout)
    assert doc["status"] == 2
    files = {os.path.relpath(f["path"], root): f for f in doc["files"]}
    assert set(files) == {"mixed.yar", "good.yara", "sub/broken.yar", "sub/deeper/global.yar"}
    assert files["good.yara"]["status"] == "ok" and files["good.yara"]["rules"] == 1
    assert files["mixed.yar"]["status"] == "skip" and files["mixed.yar"]["rules"] == 2
    assert {s["rule"] for s in files["mixed.yar"]["skipped"] if s["rule"]} == set(DROPPED)
    dep = [s for s in files["mixed.yar"]["skipped"] if s["rule"] == "Names_Pct"][0]
    assert dep["uses"] == "Pct_One"
    assert files["sub/broken.yar"]["status"] == "error"
    assert files["sub/broken.yar"]["error"]["line"] == 3
    s = doc["summary"]
    assert s["files"] == s["ok"] + s["skip"] + s["error"] == 4
    assert sum(k["count"] for k in s["kinds"]) == \
        s["rules_skipped"] + s["imports_skipped"] + s["error"]

    # without the unusable files: 1; a file that compiles as it is: 0
    p = ward.run("rules", "check", mixed, os.path.join(root, "good.yara"))
    assert p.returncode == 1, p.stdout
    p = ward.run("rules", "check", os.path.join(root, "good.yara"))
    assert p.returncode == 0, p.stdout
    assert "files: 1 (1 compile as they are, 0 only with --skip-unsupported, 0 cannot be used)" \
        in p.stdout
    # the per-file externals are judged as ward scan declares them (the
    # signature-base rules use them without -d); -d still sets one
    fv = os.path.join(root, "filevars.yar")
    write(fv, b'rule Fv { condition: filename matches /evil/ and extension == ".sh" '
              b'and filetype == "ELF" and filepath != "" and owner != "root" }')
    p = ward.run("rules", "check", fv)
    assert p.returncode == 0, p.stdout
    p = ward.run("rules", "check", "-d", "filename=7", fv)
    assert p.returncode == 2 and "filevars.yar:1:" in p.stdout, p.stdout
    # a file named on the command line is checked whatever its name
    p = ward.run("rules", "check", os.path.join(root, "notes.txt"))
    assert p.returncode == 2 and "notes.txt:1:" in p.stdout
    # help names the extensions and the statuses
    p = ward.run("rules", "check", "--help")
    assert p.returncode == 0 and "*.yar and *.yara" in p.stdout and "Exit status of check" in p.stdout


def test_scan_skip_unsupported_keeps_the_other_rules(ward, tmp_path):
    rules = rules_file(tmp_path, MIXED)
    target = str(tmp_path / "t")
    write(os.path.join(target, "a"), b"xx hello-ward xx")
    write(os.path.join(target, "b"), "world-ward".encode("utf-16-le"))
    write(os.path.join(target, "c"), b"secret-ward")

    # as before: refused at the first unsupported construct
    p = ward.scan("--rules", rules, target)
    assert p.returncode == 2 and 'rules.yar:1:1: "dotnet" module' in p.stderr
    assert p.stdout == ""

    p = ward.scan("--skip-unsupported", "--rules", rules, target)
    assert p.returncode == 1, p.stderr
    assert found(p.stdout) == {(os.path.join(target, "a"), "Keep_Hello"),
                               (os.path.join(target, "b"), "Keep_World")}
    named = {m.group(1): (m.group(2), int(m.group(3)), m.group(4))
             for m in SKIPPED_RE.finditer(p.stderr)}
    assert set(named) == set(DROPPED), p.stderr
    for rule, (f, line, why) in named.items():
        assert f == rules
        assert MIXED.split("\n")[line - 1].lstrip().startswith(("rule " + rule,
                                                                "private rule " + rule))
        assert DROPPED[rule][2] in why
    assert 'ward: skipped import "dotnet" (%s:1)' % rules in p.stderr
    assert re.search(r"^Skipped rules: 4\b", p.stderr, re.M), p.stderr

    # a syntax error is never skipped, nor is a global rule
    bad = rules_file(tmp_path, MIXED + SYNTAX, "bad.yar")
    p = ward.scan("--skip-unsupported", "--rules", bad, target)
    assert p.returncode == 2 and "syntax error" in p.stderr and p.stdout == ""
    glob = rules_file(tmp_path, GLOBAL + GOOD, "global.yar")
    p = ward.scan("--skip-unsupported", "--rules", glob, target)
    assert p.returncode == 2 and 'global rule "Everywhere" cannot be skipped' in p.stderr


def test_rules_compile_skip_unsupported(ward, tmp_path):
    rules = rules_file(tmp_path, MIXED)
    out = str(tmp_path / "set.wrc")
    p = ward.run("rules", "compile", rules, "-o", out)
    assert p.returncode == 2 and not os.path.exists(out)
    p = ward.run("rules", "compile", "--skip-unsupported", rules, "-o", out)
    assert p.returncode == 0, p.stderr
    assert {m.group(1) for m in SKIPPED_RE.finditer(p.stderr)} == set(DROPPED)
    target = write(str(tmp_path / "t" / "a"), b"hello-ward secret-ward")
    p = ward.scan("--compiled", out, target)
    assert p.returncode == 1 and found(p.stdout) == {(target, "Keep_Hello")}


def content_src(tmp_path, key=None, expect=("Keep_Hello",)):
    src = str(tmp_path / "src")
    write(os.path.join(src, "rules", "mixed.yar"), MIXED)
    write(os.path.join(src, "rules", "good.yar"), GOOD)
    write(os.path.join(src, "tests", "hello.txt"), b"hello-ward and secret-ward")
    man = {"name": "skiptest", "version": 3, "expires": "2031-01-01T00:00:00Z",
           "rules": ["rules/mixed.yar", "rules/good.yar"],
           "tests": [{"sample": "tests/hello.txt", "expect": list(expect)}]}
    if key is not None:
        man["skip_unsupported"] = key
    write(os.path.join(src, "bundle.json"), json.dumps(man))
    return src


def test_content_build_skip_unsupported(ward, tmp_path):
    out = str(tmp_path / "b.wbundle")
    src = content_src(tmp_path)
    p = ward.run("content", "build", src, "-o", out)
    assert p.returncode == 2 and not os.path.exists(out)

    p = ward.run("content", "build", src, "-o", out, "--skip-unsupported")
    assert p.returncode == 0, p.stderr
    assert {m.group(1) for m in SKIPPED_RE.finditer(p.stderr)} == set(DROPPED)
    assert "4 rules left out (--skip-unsupported)" in p.stderr
    # The signed member says what was left out, and compiles as it is:
    # verify does what an agent does, with no skipping.
    data = open(out, "rb").read()
    for rule in DROPPED:
        assert (b"/* ward content build --skip-unsupported left out rule %s: " %
                rule.encode()) in data
    assert b'left out import "dotnet"' in data
    assert b'"secret-ward"' not in data
    keys = Keys(ward, str(tmp_path / "keys"))
    k, pub = keys.make("rel")
    assert ward.run("content", "sign", out, "--key", k).returncode == 0
    p = ward.run("content", "verify", out, "--trust", pub)
    assert p.returncode == 0, p.stderr
    # Line numbers are kept: the kept rule is where it was in the source.
    text = data[data.index(b"/* ward content build --skip-unsupported left out import"):]
    text = text[:len(MIXED.encode()) + 2000].decode("utf-8", "replace")
    assert text.split("\n")[17].startswith("rule Keep_World")

    # The same from bundle.json; a test that expects a left-out rule fails.
    out2 = str(tmp_path / "c.wbundle")
    src = content_src(tmp_path / "k", key=True)
    p = ward.run("content", "build", src, "-o", out2)
    assert p.returncode == 0, p.stderr
    assert open(out2, "rb").read().count(b"--skip-unsupported left out rule") == 4
    src = content_src(tmp_path / "e", key=True, expect=("Keep_Hello", "Pct_One"))
    p = ward.run("content", "build", src, "-o", out2 + "x")
    assert p.returncode == 2 and "test failed" in p.stderr
    src = content_src(tmp_path / "f", key="yes")
    p = ward.run("content", "build", src, "-o", out2 + "y")
    assert p.returncode == 2 and "skip_unsupported" in p.stderr
    src = content_src(tmp_path / "g", key=False)
    p = ward.run("content", "build", src, "-o", out2 + "z")
    assert p.returncode == 2
