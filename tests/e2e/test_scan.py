"""
`ward scan` as a user sees it: detection, exit status, text and JSON
output, externals, several rule files, includes, private and global rules.
"""

import os

from conftest import EICAR, found, ndjson, rules_file, summary_numbers, write


def yara_text(bs):
    return bs.decode("latin-1").replace("\\", "\\\\").replace('"', '\\"')


EICAR_RULE = """
rule EICAR_Test_File : test
{
    meta:
        description = "the EICAR anti-virus test file"
    strings:
        $eicar = "%s"
    condition:
        $eicar at 0
}
""" % yara_text(EICAR)

HELLO_RULE = """
rule hello { strings: $a = "hello" condition: $a }
"""


def tree(base, files):
    for rel, data in files.items():
        write(os.path.join(str(base), rel), data)
    return str(base)


def test_eicar_detected(ward, tmp_path):
    rules = rules_file(tmp_path, EICAR_RULE)
    d = tree(tmp_path / "files", {"eicar.com": EICAR, "clean.txt": b"nothing to see here\n",
                                 "sub/eicar-copy.com": EICAR})
    p = ward.scan("--rules", rules, d)
    assert p.returncode == 1, p.stderr
    assert found(p.stdout) == {(os.path.join(d, "eicar.com"), "EICAR_Test_File"),
                               (os.path.join(d, "sub", "eicar-copy.com"), "EICAR_Test_File")}


def test_eicar_single_file_argument(ward, tmp_path):
    rules = rules_file(tmp_path, EICAR_RULE)
    f = write(str(tmp_path / "eicar.com"), EICAR)
    p = ward.scan("--rules", rules, f)
    assert p.returncode == 1, p.stderr
    assert found(p.stdout) == {(f, "EICAR_Test_File")}


def test_eicar_not_at_offset_zero(ward, tmp_path):
    # The rule says `at 0`: the same bytes one byte later are no detection.
    rules = rules_file(tmp_path, EICAR_RULE)
    f = write(str(tmp_path / "shifted.com"), b" " + EICAR)
    p = ward.scan("--rules", rules, f)
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""


def test_exit_0_when_nothing_matches(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO_RULE)
    d = tree(tmp_path / "files", {"a.txt": b"goodbye", "b.txt": b"HELLO (case differs)"})
    p = ward.scan("--rules", rules, d)
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""


def test_exit_1_when_something_matches(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO_RULE)
    d = tree(tmp_path / "files", {"a.txt": b"goodbye", "b.txt": b"say hello"})
    p = ward.scan("--rules", rules, d)
    assert p.returncode == 1, p.stderr
    assert found(p.stdout) == {(os.path.join(d, "b.txt"), "hello")}


def test_exit_2_on_rule_syntax_error(ward, tmp_path):
    rules = rules_file(tmp_path, "rule broken { condition: }\n")
    d = tree(tmp_path / "files", {"a.txt": b"hello"})
    p = ward.scan("--rules", rules, d)
    assert p.returncode == 2
    assert p.stdout == ""
    assert "rules.yar" in p.stderr


def test_exit_2_without_rules(ward, tmp_path):
    d = tree(tmp_path / "files", {"a.txt": b"hello"})
    p = ward.scan(d)
    assert p.returncode == 2
    assert p.stdout == ""
    assert p.stderr.strip(), "no message explains the refusal"


def test_exit_2_on_missing_rules_file(ward, tmp_path):
    d = tree(tmp_path / "files", {"a.txt": b"hello"})
    p = ward.scan("--rules", str(tmp_path / "no-such.yar"), d)
    assert p.returncode == 2
    assert "no-such.yar" in p.stderr


def test_exit_2_on_bad_arguments(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO_RULE)
    d = tree(tmp_path / "files", {"a.txt": b"hello"})
    bad = [
        ["--no-such-option"],
        ["--threads", "many"],
        ["--threads", "-1"],
        ["--format", "xml"],
        ["--max-filesize", "lots"],
        ["-d", "no_equals_sign"],
    ]
    for extra in bad:
        p = ward.scan("--rules", rules, *extra, d)
        assert p.returncode == 2, "%s accepted: %s" % (extra, p.stdout)
        assert p.stdout == "", extra
        assert p.stderr.strip(), extra
    p = ward.scan("--rules", rules, d, "--rules")  # option without its value
    assert p.returncode == 2


def test_exit_2_without_path(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO_RULE)
    p = ward.scan("--rules", rules)
    assert p.returncode == 2
    assert p.stderr.strip()


def test_text_output_one_line_per_match(ward, tmp_path):
    rules = rules_file(tmp_path, """
rule first { strings: $a = "alpha" condition: $a }
rule second { strings: $a = "beta" condition: $a }
rule third { strings: $a = "gamma" condition: $a }
""")
    d = tree(tmp_path / "files", {"ab.txt": b"alpha beta", "g.txt": b"gamma", "none.txt": b"x"})
    p = ward.scan("--rules", rules, d)
    assert p.returncode == 1
    lines = p.stdout.splitlines()
    assert sorted(lines) == sorted([
        "%s: first FOUND" % os.path.join(d, "ab.txt"),
        "%s: second FOUND" % os.path.join(d, "ab.txt"),
        "%s: third FOUND" % os.path.join(d, "g.txt"),
    ])


def test_summary_on_stderr(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO_RULE)
    d = tree(tmp_path / "files", {"a.txt": b"hello" * 20, "b.txt": b"x" * 200, "c.txt": b"y" * 300})
    p = ward.scan("--rules", rules, d)
    assert p.returncode == 1
    assert "MB/s" in p.stderr
    assert 3 in summary_numbers(p.stderr, "files"), p.stderr
    assert 1 in summary_numbers(p.stderr, "match"), p.stderr
    assert 0 in summary_numbers(p.stderr, "error"), p.stderr
    # stderr is not a terminal here: no live progress line
    assert "\r" not in p.stderr
    # the summary never goes to stdout
    assert "MB/s" not in p.stdout


def test_quiet(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO_RULE)
    d = tree(tmp_path / "files", {"a.txt": b"hello", "b.txt": b"bye"})
    p = ward.scan("--quiet", "--rules", rules, d)
    assert p.returncode == 1
    assert found(p.stdout) == {(os.path.join(d, "a.txt"), "hello")}
    assert "MB/s" not in p.stderr


def test_json_output(ward, tmp_path):
    rules = rules_file(tmp_path, """
rule tagged : alpha beta
{
    strings:
        $a = "hello"
        $b = "world" wide
        $p = "secret" private
    condition:
        $a and $b and $p
}
rule untagged { strings: $c = "secret" condition: $c }
""")
    data = b"xx hello " + "world".encode("utf-16-le") + b" secret hello"
    d = tree(tmp_path / "files", {"m.bin": data, "clean.bin": b"nothing"})
    p = ward.scan("--format", "json", "--rules", rules, d)
    assert p.returncode == 1, p.stderr
    objs = ndjson(p.stdout)
    assert "summary" in objs[-1] and objs[-1]["summary"]["matches"] == 2
    objs = objs[:-1]
    assert len(objs) == 2
    by_rule = {o["rule"]: o for o in objs}
    t = by_rule["tagged"]
    assert os.path.normpath(t["path"]) == os.path.join(d, "m.bin")
    assert t["tags"] == ["alpha", "beta"]
    assert isinstance(t["namespace"], str) and t["namespace"]
    got = sorted((s["id"], s["offset"], s["length"]) for s in t["strings"])
    hello2 = data.rindex(b"hello")
    assert got == sorted([("$a", 3, 5), ("$a", hello2, 5), ("$b", 9, 10)])
    u = by_rule["untagged"]
    assert u["tags"] == []
    assert [(s["id"], s["offset"], s["length"]) for s in u["strings"]] == [
        ("$c", data.index(b"secret"), 6)]


def test_json_no_match_prints_only_the_summary(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO_RULE)
    d = tree(tmp_path / "files", {"a.txt": b"bye", "b.txt": b""})
    p = ward.scan("--format", "json", "--rules", rules, d)
    assert p.returncode == 0
    objs = ndjson(p.stdout)
    assert len(objs) == 1 and objs[0]["summary"]["files"] == 2, p.stdout
    assert objs[0]["summary"]["matches"] == 0
    p = ward.scan("--format", "json", "--quiet", "--rules", rules, d)
    assert p.returncode == 0
    assert p.stdout == ""


def test_json_error_object_for_missing_path(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO_RULE)
    d = tree(tmp_path / "files", {"a.txt": b"hello"})
    missing = str(tmp_path / "does-not-exist")
    p = ward.scan("--format", "json", "--rules", rules, d, missing)
    objs = ndjson(p.stdout)
    errs = [o for o in objs if "error" in o]
    assert [os.path.normpath(o["path"]) for o in errs] == [missing]
    assert isinstance(errs[0]["error"], str) and errs[0]["error"]
    matches = [o for o in objs if "rule" in o]
    assert [(os.path.normpath(o["path"]), o["rule"]) for o in matches] == [
        (os.path.join(d, "a.txt"), "hello")]


def test_external_variables(ward, tmp_path):
    rules = rules_file(tmp_path, """
rule ext_int { condition: n == 5 and n * 2 == 10 }
rule ext_bool { condition: flag }
rule ext_str
{
    condition:
        name == "Invoice.exe" and name contains "voice" and name startswith "Inv"
        and name endswith ".exe" and name icontains "INVOICE" and name matches /^inv.ice\\./i
}
""")
    d = tree(tmp_path / "files", {"a.txt": b"anything"})
    f = os.path.join(d, "a.txt")
    p = ward.scan("--rules", rules, "-d", "n=5", "-d", "flag=true", "-d", "name=Invoice.exe", d)
    assert p.returncode == 1, p.stderr
    assert found(p.stdout) == {(f, "ext_int"), (f, "ext_bool"), (f, "ext_str")}
    p = ward.scan("--rules", rules, "-d", "n=4", "-d", "flag=false", "-d", "name=invoice.exe", d)
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""


def test_undefined_external_is_an_error(ward, tmp_path):
    rules = rules_file(tmp_path, "rule r {\n  condition: n == 5\n}\n")
    d = tree(tmp_path / "files", {"a.txt": b"x"})
    p = ward.scan("--rules", rules, d)
    assert p.returncode == 2
    assert ":2:" in p.stderr, p.stderr


def test_several_rule_files(ward, tmp_path):
    r1 = rules_file(tmp_path, 'rule one { strings: $a = "one" condition: $a }', "one.yar")
    r2 = rules_file(tmp_path, 'rule two { strings: $a = "two" condition: $a }', "two.yar")
    d = tree(tmp_path / "files", {"1": b"one", "2": b"two", "12": b"one two"})
    p = ward.scan("--rules", r1, "--rules", r2, d)
    assert p.returncode == 1
    j = lambda n: os.path.join(d, n)  # noqa: E731
    assert found(p.stdout) == {(j("1"), "one"), (j("2"), "two"), (j("12"), "one"),
                               (j("12"), "two")}


def test_include_relative_to_including_file(ward, tmp_path):
    rules_file(tmp_path, 'include "sub/inc.yar"\nrule top { condition: mid and leaf }\n',
               "main.yar")
    rules_file(tmp_path, 'include "leaf.yar"\nrule mid { strings: $a = "mid" condition: $a }\n',
               "sub/inc.yar")
    rules_file(tmp_path, 'rule leaf { strings: $a = "leaf" condition: $a }\n', "sub/leaf.yar")
    d = tree(tmp_path / "files", {"f": b"mid leaf"})
    # from another working directory: paths are relative to the including file
    p = ward.scan("--rules", str(tmp_path / "main.yar"), d, cwd="/")
    assert p.returncode == 1, p.stderr
    f = os.path.join(d, "f")
    assert found(p.stdout) == {(f, "top"), (f, "mid"), (f, "leaf")}


def test_include_cycle_is_refused(ward, tmp_path):
    rules_file(tmp_path, 'include "b.yar"\nrule a { condition: true }\n', "a.yar")
    rules_file(tmp_path, 'include "a.yar"\nrule b { condition: true }\n', "b.yar")
    d = tree(tmp_path / "files", {"f": b"x"})
    p = ward.scan("--rules", str(tmp_path / "a.yar"), d, timeout=30)
    assert p.returncode == 2
    assert "include" in p.stderr.lower() or "depth" in p.stderr.lower(), p.stderr


def test_private_and_global_rules_and_references(ward, tmp_path):
    rules = rules_file(tmp_path, """
private rule has_alpha { strings: $a = "alpha" condition: $a }
rule uses_private { condition: has_alpha }
global rule small { condition: filesize < 1000 }
rule has_beta { strings: $b = "beta" condition: $b }
rule both { condition: has_alpha and has_beta }
""")
    d = tree(tmp_path / "files", {"small": b"alpha beta", "big": b"alpha beta" + b" " * 2000,
                                 "neither": b"gamma"})
    p = ward.scan("--rules", rules, d)
    assert p.returncode == 1
    s = os.path.join(d, "small")
    n = os.path.join(d, "neither")
    assert found(p.stdout) == {(s, "uses_private"), (s, "small"), (s, "has_beta"), (s, "both"),
                               (n, "small")}


def test_reference_to_later_rule_is_refused(ward, tmp_path):
    rules = rules_file(tmp_path, "rule a { condition: b }\nrule b { condition: true }\n")
    d = tree(tmp_path / "files", {"f": b"x"})
    p = ward.scan("--rules", rules, d)
    assert p.returncode == 2
    assert ":1:" in p.stderr


def test_empty_and_tiny_files(ward, tmp_path):
    # uint32 past the end is undefined: neither the comparison nor its
    # negation holds (YARA semantics)
    rules = rules_file(tmp_path, """
rule eq { condition: uint32(0) == 0 }
rule ne { condition: not (uint32(0) == 0) }
rule small { condition: filesize < 4 }
""")
    d = tree(tmp_path / "files", {"empty": b"", "three": b"\0\0\0", "four": b"\0\0\0\0"})
    p = ward.scan("--rules", rules, d)
    assert p.returncode == 1
    j = lambda n: os.path.join(d, n)  # noqa: E731
    assert found(p.stdout) == {(j("empty"), "small"), (j("three"), "small"), (j("four"), "eq")}


def test_json_file_name_that_is_not_utf8(ward, tmp_path):
    # File names are bytes; the JSON stays valid and keeps them as \xHH.
    rules = rules_file(tmp_path, HELLO_RULE)
    d = tmp_path / "files"
    d.mkdir()
    name = os.fsencode(str(d)) + b"/bad\xff\xfename"
    with open(name, "wb") as f:
        f.write(b"hello")
    p = ward.scan("--format", "json", "--rules", rules, d)
    assert p.returncode == 1, p.stderr
    objs = ndjson(p.stdout)
    assert [o["path"] for o in objs if "summary" not in o] == [str(d) + "/bad\\xff\\xfename"]
