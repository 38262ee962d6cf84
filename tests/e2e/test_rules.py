"""
Rule files that are wrong or outside the supported language are refused
with exit status 2 and `FILE:LINE:COL: message`; compiled rule sets
round-trip and a damaged one is refused.
"""

import os

import pytest

from conftest import diags, found, ndjson, rules_file, write


def check_diag(p, path, text, line, token, words=None):
    """p failed with a diagnostic for `path` at `line`, whose column lies on
    `token` (the first occurrence of it on that line), and whose message
    names one of `words`."""
    assert p.returncode == 2, "accepted:\n%s" % text
    assert p.stdout == ""
    ds = diags(p.stderr)
    assert ds, "no FILE:LINE:COL: message in stderr: %r" % p.stderr
    f, ln, col, msg = ds[0]
    assert os.path.basename(f) == os.path.basename(path), p.stderr
    assert ln == line, "line %d, expected %d: %s" % (ln, line, p.stderr)
    src = text.split("\n")[line - 1]
    start = src.index(token) + 1
    assert start <= col <= start + len(token), (
        "column %d is not on %r (columns %d-%d) of %r: %s" % (
            col, token, start, start + len(token), src, p.stderr))
    if words:
        assert any(w.lower() in msg.lower() for w in words), (
            "message does not name %s: %s" % (" or ".join(words), msg))


SYNTAX_ERRORS = [
    # (rule text, line, token the column must point at)
    ("rule a {\n  strings:\n    $a = \"abc\" xor nocase\n  condition:\n    $a\n}\n", 3, "$a"),
    ("rule a {\n  strings:\n    $a = \"abc\" xor(300)\n  condition:\n    $a\n}\n", 3, "xor"),
    ("rule a {\n  strings:\n    $a = \"abc\" base64(\"xyz\")\n  condition:\n    $a\n}\n", 3,
     '"xyz"'),
    ("rule ok { condition: true }\nrule bad {\n    condition: true and and false\n}\n",
     3, "and false"),
    ("rule a {\n  strings:\n    $a = \"abc\n  condition:\n    $a\n}\n", 3, '"abc'),
    ("rule a {\n  strings:\n    $a = \"abc\"\n  condition:\n    $a and $b\n}\n", 5, "$b"),
    ("rule a {\n  strings:\n    $a = { 4D 5A [-] }\n  condition:\n    $a\n}\n", 3, "{ 4D 5A [-] }"),
    ("rule a {\n  strings:\n    $a = \"abc\"\n    $b = \"def\"\n  condition:\n    $a\n}\n",
     4, "$b"),
    ("rule a { condition: true }\nrule a { condition: false }\n", 2, "a {"),
    ("rule a {\n  strings:\n    $a = /ab*?c+/\n  condition:\n    $a\n}\n", 3, "/ab*?c+/"),
    ("rule a {\n  condition:\n    undefined_thing\n}\n", 3, "undefined_thing"),
    ("rule a {\n  strings:\n    $a = { 4D 5A } nocase\n  condition:\n    $a\n}\n", 3, "nocase"),
]


@pytest.mark.parametrize("text,line,token", SYNTAX_ERRORS)
def test_syntax_error_has_line_and_column(ward, tmp_path, text, line, token):
    path = rules_file(tmp_path, text)
    f = write(str(tmp_path / "f"), b"abc def")
    p = ward.scan("--rules", path, f)
    check_diag(p, path, text, line, token)


UNSUPPORTED = [
    ('rule ok { condition: true }\nimport "lnk"\nrule a { condition: lnk.is_lnk }\n',
     2, 'import "lnk"', ["import", "lnk"]),
    ('import "dotnet"\nrule a { condition: dotnet.number_of_streams > 7 }\n',
     1, 'import "dotnet"', ["import", "dotnet"]),
    ("rule a {\n  strings:\n    $a = \"abc\"\n  condition:\n    50% of them\n}\n", 5, "%",
     ["percentage"]),
    ("rule a {\n  condition:\n    pe.number_of_sections == 1\n}\n", 3, "pe", ["pe"]),
    ("rule a {\n  condition:\n    entrypoint == 0\n}\n", 3, "entrypoint", ["entrypoint"]),
]


@pytest.mark.parametrize("text,line,token,words", UNSUPPORTED)
def test_unsupported_construct_is_refused(ward, tmp_path, text, line, token, words):
    path = rules_file(tmp_path, text)
    f = write(str(tmp_path / "f"), b"abcd")
    p = ward.scan("--rules", path, f)
    check_diag(p, path, text, line, token, words)


def test_error_in_included_file_names_that_file(ward, tmp_path):
    rules_file(tmp_path, 'include "inc.yar"\nrule a { condition: true }\n', "main.yar")
    rules_file(tmp_path, "rule b {\n  condition:\n    true or or\n}\n", "inc.yar")
    f = write(str(tmp_path / "f"), b"x")
    p = ward.scan("--rules", str(tmp_path / "main.yar"), f)
    assert p.returncode == 2
    ds = diags(p.stderr)
    assert ds and os.path.basename(ds[0][0]) == "inc.yar" and ds[0][1] == 3, p.stderr


COMPILE_RULES = """
rule text_rule : t1 { strings: $a = "needle" nocase condition: $a }
rule hex_rule { strings: $h = { 4D 5A ?? [0-4] 50 45 } condition: $h at 0 }
rule re_rule { strings: $r = /ab+c[0-9]{2}/ wide ascii condition: #r >= 1 }
private rule priv { strings: $p = "hidden" condition: $p }
rule uses_priv { condition: priv and filesize < 100 }
"""


def compiled_tree(tmp_path):
    files = {
        "n1": b"a NEEDLE in a haystack",
        "mz": b"MZ\x90\x00\x01PEabbbc12",
        "wide": "xxabc42".encode("utf-16-le"),
        "hidden": b"hidden",
        "none": b"nothing",
    }
    d = str(tmp_path / "files")
    for k, v in files.items():
        write(os.path.join(d, k), v)
    return d


def test_compiled_round_trip(ward, tmp_path):
    r1 = rules_file(tmp_path, COMPILE_RULES, "a.yar")
    r2 = rules_file(tmp_path, 'rule second { strings: $a = "haystack" condition: $a }', "b.yar")
    out = str(tmp_path / "rules.wardc")
    p = ward.run("rules", "compile", r1, r2, "-o", out)
    assert p.returncode == 0, p.stderr
    assert os.path.getsize(out) > 0
    d = compiled_tree(tmp_path)
    src = ward.scan("--rules", r1, "--rules", r2, d)
    comp = ward.scan("--compiled", out, d)
    assert src.returncode == comp.returncode == 1
    expect = {(os.path.join(d, "n1"), "text_rule"), (os.path.join(d, "n1"), "second"),
              (os.path.join(d, "mz"), "hex_rule"), (os.path.join(d, "mz"), "re_rule"),
              (os.path.join(d, "wide"), "re_rule"), (os.path.join(d, "hidden"), "uses_priv")}
    assert found(src.stdout) == expect
    assert found(comp.stdout) == expect
    js = ward.scan("--format", "json", "--rules", r1, "--rules", r2, d)
    jc = ward.scan("--format", "json", "--compiled", out, d)
    key = lambda o: (o["path"], o["rule"])  # noqa: E731
    matches = lambda out: [o for o in ndjson(out) if "rule" in o]  # noqa: E731
    assert sorted(matches(js.stdout), key=key) == sorted(matches(jc.stdout), key=key)


def test_compile_error_leaves_no_file(ward, tmp_path):
    r = rules_file(tmp_path, "rule a {\n  condition:\n    nope and\n}\n")
    out = str(tmp_path / "rules.wardc")
    p = ward.run("rules", "compile", r, "-o", out)
    assert p.returncode == 2
    assert diags(p.stderr), p.stderr
    assert not os.path.exists(out)


def compile_ok(ward, tmp_path):
    r = rules_file(tmp_path, COMPILE_RULES)
    out = str(tmp_path / "rules.wardc")
    p = ward.run("rules", "compile", r, "-o", out)
    assert p.returncode == 0, p.stderr
    with open(out, "rb") as f:
        return out, f.read()


def refused(ward, path, target):
    p = ward.scan("--compiled", path, target, timeout=60)
    return p.returncode == 2 and p.stdout == "" and p.stderr.strip() != ""


def test_damaged_compiled_file_is_refused(ward, tmp_path):
    out, data = compile_ok(ward, tmp_path)
    d = compiled_tree(tmp_path)
    bad = str(tmp_path / "bad.wardc")
    n = len(data)
    # the middle, and a spread of offsets from the header to the last byte
    offsets = sorted({n // 2} | set(range(0, min(n, 64), 7)) | {n * k // 23 for k in range(23)}
                     | {n - 1})
    accepted = []
    for off in offsets:
        flipped = bytearray(data)
        flipped[off] ^= 0x5A
        write(bad, bytes(flipped))
        if not refused(ward, bad, d):
            accepted.append(off)
    assert not accepted, "damaged at offsets %s of %d and still accepted" % (accepted, n)


def test_truncated_or_foreign_compiled_file_is_refused(ward, tmp_path):
    out, data = compile_ok(ward, tmp_path)
    d = compiled_tree(tmp_path)
    cases = {
        "empty": b"",
        "half": data[: len(data) // 2],
        "header only": data[:16],
        "one byte short": data[:-1],
        "one byte more": data + b"\0",
        "rule source": COMPILE_RULES.encode(),
        "zeros": bytes(len(data)),
    }
    for name, content in cases.items():
        bad = write(str(tmp_path / "bad.wardc"), content)
        assert refused(ward, bad, d), name


def test_compiled_missing_file(ward, tmp_path):
    d = compiled_tree(tmp_path)
    p = ward.scan("--compiled", str(tmp_path / "nope.wardc"), d)
    assert p.returncode == 2
    assert "nope.wardc" in p.stderr


def test_compiled_file_of_another_version_or_cpu_family_is_refused(ward, tmp_path):
    # The header names the ward version and the CPU family; find them in
    # the first bytes (no assumption about offsets) and change them.
    import platform
    out, data = compile_ok(ward, tmp_path)
    d = compiled_tree(tmp_path)
    head = data[:256]
    version = ward.run("--version").stdout.split()[-1].encode()
    i = head.find(version)
    assert i >= 0, "the compiled file does not name ward version %s" % version
    other = bytes(b if not 0x30 <= b <= 0x39 else 0x30 + (b - 0x30 + 1) % 10 for b in version)
    bad = write(str(tmp_path / "other-version.wardc"), data[:i] + other + data[i + len(version):])
    p = ward.scan("--compiled", bad, d)
    assert p.returncode == 2 and p.stdout == ""
    assert "version" in p.stderr.lower(), p.stderr

    # The CPU family ward is built for: this machine's, unless ward runs
    # under emulation (make cross-arm64 sets WARD_MACHINE to aarch64).
    arch = (os.environ.get("WARD_MACHINE") or platform.machine()).encode()
    j = head.find(arch + b"\0")
    assert j >= 0, "the compiled file does not name the CPU family %s" % arch
    foreign = b"ppc64\0" if arch != b"ppc64" else b"s390x\0"
    foreign = foreign.ljust(len(arch) + 1, b"\0")
    bad = write(str(tmp_path / "other-cpu.wardc"),
                data[:j] + foreign + data[j + len(arch) + 1:])
    p = ward.scan("--compiled", bad, d)
    assert p.returncode == 2 and p.stdout == ""
    msg = p.stderr.lower()
    assert any(w in msg for w in ("cpu", "arch", "ppc64", "s390x", "platform", "family")), p.stderr
