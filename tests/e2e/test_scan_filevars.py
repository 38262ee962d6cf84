"""
The externals signature-base's rules expect from LOKI and THOR —
filename, filepath, extension, filetype, owner — set per file by `ward
scan`, checked against the installed yara run once per file with the -d
values LOKI would give that file.  Real rules from ../shared/testdata
(SUSP_Known_Type_Cloaked_as_JPG, EXE_cloaked_as_TXT, VULN_Linux_NFS_Exports,
...), a file owned by another user, rules compiled beforehand, and -d still
fixing a value for every file.
"""

import os
import pwd
import shutil
import subprocess

import pytest

from conftest import TESTDATA, found, ndjson, rules_file, write
from userlib import nobody

SIGBASE = os.path.join(TESTDATA, "signature-base", "yara")
# rule files of signature-base whose conditions read the per-file externals
SIGBASE_FILES = ["generic_anomalies.yar", "general_cloaking.yar",
                 "configured_vulns_ext_vars.yar", "gen_webshells_ext_vars.yar"]
VARS = ["filename", "filepath", "extension", "filetype", "owner"]

OWNER_RULES = """
rule owned_by_nobody { condition: owner == "nobody" }
rule elf_not_roots { condition: filetype == "ELF" and owner != "root" }
rule in_etc_dir { condition: filepath endswith "/etc" and extension == "" }
"""

# name -> (content, the type LOKI's table gives it)
FILES = {
    "photo.jpg": (b"MZ\x90\x00" + b"\x00" * 60 + b"This program cannot be run in DOS mode", "EXE"),
    "Holiday.JPEG": (b"<?php system($_GET['c']); ?>", "PHP"),
    "real.jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 40, "JPEG"),
    "page.jpg": (b"<%@ Page Language=\"C#\" %>", "JSP"),  # LOKI's order: JSP before ASP
    "notes.txt": (b"MZ" + b"\x00" * 200, "EXE"),
    "invoice.pdf.exe": (b"MZ" + b"\x00" * 100, "EXE"),
    "backup.dat": (b"Rar!\x1a\x07\x00" + b"\x00" * 30, "RAR"),
    "archive.rar": (b"Rar!\x1a\x07\x00" + b"\x00" * 30, "RAR"),
    "etc/exports": (b"# shares\n/srv/share *(rw,insecure,no_root_squash)\n", "UNKNOWN"),
    "srv/exports": (b"# shares\n/srv/share *(rw,insecure,no_root_squash)\n", "UNKNOWN"),
    "run.bat.jpg": (b"@echo off\r\ndel /q *\r\n", "BATCH"),
    "tool": (b"\x7fELF\x02\x01\x01" + b"\x00" * 50, "ELF"),
    ".bashrc": (b"alias ls='ls --color'\n", "UNKNOWN"),
    "empty": (b"", "UNKNOWN"),
}


def loki_defines(path, filetype):
    """The -d values LOKI (loki.py: scan_path, scan_data) gives a file."""
    st = os.lstat(path)
    return {
        "filename": os.path.basename(path),
        "filepath": os.path.dirname(os.path.abspath(path)),
        "extension": os.path.splitext(path)[1].lower(),
        "filetype": filetype,
        "owner": pwd.getpwuid(st.st_uid).pw_name,
    }


def yara_per_file(compiled, tree, types):
    """{(path, rule)} from yara -C with each file's own -d values."""
    got = set()
    for rel, ftype in types.items():
        path = os.path.join(tree, rel)
        cmd = ["yara", "-w", "-C"]
        for k, v in loki_defines(path, ftype).items():
            cmd += ["-d", "%s=%s" % (k, v)]
        p = subprocess.run(cmd + [compiled, path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        assert p.returncode == 0, (cmd, p.stderr)
        for line in p.stdout.splitlines():
            rule, where = line.split(" ", 1)
            got.add((where, rule))
    return got


def yarac(rules, out):
    cmd = ["yarac", "-w"]
    for v in VARS:
        cmd += ["-d", "%s=" % v]
    cmd += [rules, out]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    return out


@pytest.fixture
def tree(tmp_path):
    if shutil.which("yara") is None or shutil.which("yarac") is None:
        pytest.fail("yara and yarac are the oracle of this test: install yara", pytrace=False)
    d = str(tmp_path / "tree")
    for rel, (data, _) in FILES.items():
        write(os.path.join(d, rel), data)
    uid, gid = nobody()
    os.chown(os.path.join(d, "tool"), uid, gid)
    return d


def ward_matches(ward, tree, *args):
    p = ward.scan("--format", "json", *args, tree)
    assert p.returncode in (0, 1), p.stderr
    objs = ndjson(p.stdout)
    assert not [o for o in objs if "error" in o], p.stdout
    return {(o["path"], o["rule"]) for o in objs if "rule" in o}, p


@pytest.mark.parametrize("name", SIGBASE_FILES)
def test_signature_base_rules_see_each_files_own_values(ward, tree, tmp_path, name):
    rules = os.path.join(SIGBASE, name)
    if not os.path.isfile(rules):
        pytest.fail("signature-base test data not found at %s" % SIGBASE, pytrace=False)
    types = {rel: t for rel, (_, t) in FILES.items()}
    expect = yara_per_file(yarac(rules, str(tmp_path / "y.yc")), tree, types)
    # no -d needed: ward declares the five and sets them per file
    got, p = ward_matches(ward, tree, "--rules", rules)
    assert got == expect, "only yara: %s\nonly ward: %s" % (sorted(expect - got),
                                                             sorted(got - expect))
    assert p.returncode == (1 if expect else 0)


def test_the_rules_really_fire(ward, tree):
    """What a user checks: the cloaked files are found, the honest ones not."""
    rules = [os.path.join(SIGBASE, n) for n in SIGBASE_FILES]
    args = []
    for r in rules:
        args += ["--rules", r]
    got, _ = ward_matches(ward, tree, *args)
    hits = {(os.path.relpath(path, tree), rule) for path, rule in got}
    for want in [("photo.jpg", "SUSP_Known_Type_Cloaked_as_JPG"),
                 ("Holiday.JPEG", "SUSP_Known_Type_Cloaked_as_JPG"),
                 ("page.jpg", "SUSP_Known_Type_Cloaked_as_JPG"),
                 ("run.bat.jpg", "SUSP_Known_Type_Cloaked_as_JPG"),
                 ("notes.txt", "EXE_cloaked_as_TXT"),
                 ("invoice.pdf.exe", "EXE_extension_cloaking"),
                 ("backup.dat", "Cloaked_RAR_File"),
                 ("etc/exports", "VULN_Linux_NFS_Exports")]:
        assert want in hits, (want, sorted(hits))
    for rel in ["real.jpg", "archive.rar", "srv/exports"]:
        assert not [h for h in hits if h[0] == rel], sorted(hits)
    # with one value for every file (yara's -d), the cloaked files are
    # missed and the honest archive.rar becomes a "cloaked" one
    fixed = []
    for v in VARS:
        fixed += ["-d", "%s=x" % v]
    got, p = ward_matches(ward, tree, *(args + fixed))
    hits = {(os.path.relpath(path, tree), rule) for path, rule in got}
    assert hits == {("archive.rar", "Cloaked_RAR_File"), ("backup.dat", "Cloaked_RAR_File")}


def test_owner_and_filetype_with_yara(ward, tree, tmp_path):
    rules = rules_file(tmp_path, OWNER_RULES, "owner.yar")
    types = {rel: t for rel, (_, t) in FILES.items()}
    expect = yara_per_file(yarac(rules, str(tmp_path / "o.yc")), tree, types)
    got, _ = ward_matches(ward, tree, "--rules", rules)
    assert got == expect
    tool = os.path.join(tree, "tool")
    assert (tool, "owned_by_nobody") in got and (tool, "elf_not_roots") in got
    assert (os.path.join(tree, "etc", "exports"), "in_etc_dir") in got


def test_relative_paths_give_absolute_filepath(ward, tree, tmp_path):
    rules = rules_file(tmp_path, 'rule here { condition: filepath == "%s" and '
                       'filename == "exports" }\n' % os.path.join(tree, "etc"), "rel.yar")
    p = ward.scan("--rules", rules, ".", cwd=os.path.join(tree, "etc"))
    assert p.returncode == 1, p.stderr
    assert found(p.stdout) == {("exports", "here")}
    p = ward.scan("--rules", rules, "etc/./exports", cwd=tree)
    assert found(p.stdout) == {("etc/exports", "here")}


def test_compiled_rules_get_per_file_values(ward, tree, tmp_path):
    rules = os.path.join(SIGBASE, "general_cloaking.yar")
    out = str(tmp_path / "cloak.wardc")
    args = ["rules", "compile", rules, "-o", out]
    for v in VARS:  # declared at compile time, as with yarac
        args += ["-d", "%s=" % v]
    p = ward.run(*args)
    assert p.returncode == 0, p.stderr
    src, _ = ward_matches(ward, tree, "--rules", rules)
    comp, _ = ward_matches(ward, tree, "--compiled", out)
    assert comp == src and (os.path.join(tree, "notes.txt"), "EXE_cloaked_as_TXT") in comp


def test_define_still_fixes_a_value(ward, tree, tmp_path):
    rules = rules_file(tmp_path, 'rule by_name { condition: filename == "report.docm" }\n'
                       'rule by_type { condition: filetype == "EXE" }\n', "d.yar")
    got, _ = ward_matches(ward, tree, "--rules", rules, "-d", "filename=report.docm")
    files = {os.path.join(tree, rel) for rel in FILES}
    assert {p for p, r in got if r == "by_name"} == files
    # filetype is still the file's own
    assert {os.path.relpath(p, tree) for p, r in got if r == "by_type"} == {
        "photo.jpg", "notes.txt", "invoice.pdf.exe"}
    # a -d with another type: the rule set's, for every file
    rules2 = rules_file(tmp_path, 'rule num { condition: owner == 7 }\n', "n.yar")
    p = ward.scan("--rules", rules2, "-d", "owner=7", tree)
    assert p.returncode == 1, p.stderr
    assert len(found(p.stdout)) == len(FILES)


def test_rules_without_these_externals_are_unchanged(ward, tmp_path):
    # a rule that uses an external nobody declared is still refused, as by yara
    rules = rules_file(tmp_path, 'rule r { condition: score > 5 }\n', "u.yar")
    d = str(tmp_path / "t")
    write(os.path.join(d, "a"), b"x")
    p = ward.scan("--rules", rules, d)
    assert p.returncode == 2
    assert 'undefined identifier "score"' in p.stderr
    # a rule named like one of the five conflicts with it, as with LOKI/THOR
    rules = rules_file(tmp_path, 'rule filetype { condition: true }\n', "n.yar")
    p = ward.scan("--rules", rules, d)
    assert p.returncode == 2 and 'duplicated identifier "filetype"' in p.stderr
