"""
The pe parser (lib/modules/pe) against the oracle, yara 4.2.3: for every
real PE file here (NSIS stubs and plugins, ClamAV's test executables, and
PE files built with mingw-w64 from tests/unit/modules/pe_samples), and for
copies of them cut at their header and section boundaries, the fields
pe_dump prints must be exactly those `yara -D` prints, read from memory and through the
freader's read function alike (and so for the fuzzer's seed corpus of
malformed PE files, fuzz/corpus/pe); and the module's functions (imphash,
calculate_checksum, rva_to_offset, imports, exports_index, section_index,
locale, rich_signature.version ...) must give what yara's rules see.

A missing file, tool or package fails the test, naming what to install.
"""

import glob
import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO

SAMPLES = os.path.join(REPO, "tests", "unit", "modules", "pe_samples")
NSIS_STUBS = "/usr/share/nsis/Stubs"
NSIS_PLUGINS = "/usr/share/nsis/Plugins"
CLAMAV = "/usr/share/clamav-testfiles"
MINGW = "x86_64-w64-mingw32-"
RULE = 'import "pe"\nrule dump { condition: false }\n'
# Declared constants (MACHINE_I386 ...).
SKIP = re.compile(r"^[A-Z0-9_]+$")


def pe_dump_path():
    return os.environ.get("PE_DUMP") or os.path.join(REPO, "build", "tests", "unit",
                                                     "modules", "pe_dump")


@pytest.fixture(scope="module")
def pe_dump():
    path = pe_dump_path()
    if not os.access(path, os.X_OK):
        pytest.fail("pe_dump not found at %s: run make build" % path, pytrace=False)
    if shutil.which("yara") is None:
        pytest.fail("yara not installed (Debian package yara)", pytrace=False)
    return path


def need(paths, package):
    if not paths:
        pytest.fail("no files found: install the Debian package %s" % package, pytrace=False)
    return paths


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """PE files built with mingw-w64: a DLL with named, ordinal-only and
    forwarded exports and resources with version info, and an EXE that
    imports ws2_32 and oleaut32 by ordinal, with and without a pdb path;
    the DLL signed (Authenticode) once and with a nested signature."""
    for tool in ("gcc", "windres", "dlltool", "strip"):
        if shutil.which(MINGW + tool) is None:
            pytest.fail("%s%s missing: install gcc-mingw-w64-x86-64-win32" % (MINGW, tool),
                        pytrace=False)
    for tool, package in (("osslsigncode", "osslsigncode"), ("openssl", "openssl")):
        if shutil.which(tool) is None:
            pytest.fail("%s missing: install %s" % (tool, package), pytrace=False)
    d = str(tmp_path_factory.mktemp("pe"))
    for f in os.listdir(SAMPLES):
        shutil.copy(os.path.join(SAMPLES, f), d)

    def run(*cmd):
        subprocess.run(cmd, cwd=d, check=True, capture_output=True)

    run(MINGW + "windres", "res.rc", "-O", "coff", "-o", "res.o")
    run(MINGW + "gcc", "-shared", "-O1", "-s", "-o", "sample.dll", "lib.c", "lib.def", "res.o")
    run(MINGW + "dlltool", "-d", "ws.def", "-l", "libwsord.a")
    run(MINGW + "dlltool", "-d", "oa.def", "-l", "liboaord.a")
    run(MINGW + "gcc", "-O1", "-o", "app.exe", "app.c", "res.o", "libwsord.a", "liboaord.a",
        "-Wl,--build-id")
    run(MINGW + "gcc", "-O1", "-o", "app_pdb.exe", "app.c", "libwsord.a", "liboaord.a",
        "-Wl,--pdb=app")
    run(MINGW + "strip", "-o", "app_s.exe", "app.exe")
    run(MINGW + "strip", "-o", "app_pdb_s.exe", "app_pdb.exe")
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem",
        "-out", "cert.pem", "-days", "3650", "-subj", "/C=DE/O=ward test/CN=ward signer")
    run("osslsigncode", "sign", "-certs", "cert.pem", "-key", "key.pem", "-n", "ward",
        "-in", "sample.dll", "-out", "signed.dll")
    run("osslsigncode", "sign", "-certs", "cert.pem", "-key", "key.pem", "-nest",
        "-in", "signed.dll", "-out", "signed2.dll")
    return [os.path.join(d, f) for f in ("sample.dll", "app.exe", "app_s.exe", "app_pdb.exe",
                                         "app_pdb_s.exe", "signed.dll", "signed2.dll")]


def real_files(built):
    files = need(sorted(glob.glob(NSIS_STUBS + "/*")), "nsis")
    files += need(sorted(glob.glob(NSIS_PLUGINS + "/*/*.dll")), "nsis")
    clam = [os.path.join(CLAMAV, f) for f in ("clam.exe", "clam-upx.exe", "clam-aspack.exe",
                                              "clam-fsg.exe", "clam-mew.exe", "clam-nsis.exe",
                                              "clam-pespin.exe", "clam-petite.exe",
                                              "clam-upack.exe", "clam-wwpack.exe",
                                              "clam-yc.exe", "clam.ea05.exe", "clam.ea06.exe",
                                              "clam_IScab_ext.exe", "clam_IScab_int.exe",
                                              "clam_ISmsi_ext.exe", "clam_ISmsi_int.exe")]
    for f in clam:
        if not os.path.isfile(f):
            pytest.fail("%s missing: install clamav-testfiles" % f, pytrace=False)
    return files + clam + built


def escape(s):
    """A dictionary key as pe_dump prints it: yara -D prints keys raw."""
    return "".join(c if 32 <= ord(c) < 127 else "\\x%02x" % ord(c) for c in s)


def yara_fields(rules, path):
    """yara -D's pe tree flattened to {"sections[0].name": '".text"', ...},
    the undefined values left out."""
    out = subprocess.run(["yara", "-D", rules, path], capture_output=True, check=True,
                         timeout=120).stdout.decode("latin-1")
    # A key holding a line break (a version_info key) continues a line.
    lines = []
    for line in out.split("\n")[1:]:
        if lines and not line.startswith("\t"):
            lines[-1] += "\n" + line
        else:
            lines.append(line)
    fields, stack = {}, []
    for line in lines:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip("\t"))
        body = line[depth:]
        if body.startswith(" = "):
            name, value = "", body[3:]  # an empty dictionary key
        else:
            m = re.match(r"^(.+?)(?: = (.*))?$", body, re.S)
            name, value = m.group(1), m.group(2)
        stack = stack[:depth - 1] + [name]
        key = ""
        for part in stack:
            key += part if part.startswith("[") or not key else "." + part
        if stack[0] == "version_info" and len(stack) == 2:
            key = "version_info." + escape(stack[1])
        if value is not None and value != "YR_UNDEFINED" and not SKIP.match(key):
            fields[key] = value
    return fields


def dump_fields(pe_dump, path, by_fn):
    p = subprocess.run([pe_dump] + (["-r"] if by_fn else []) + [path], capture_output=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr.decode("latin-1")
    fields, conds = {}, []
    for line in p.stdout.decode("latin-1").split("\n"):
        if line.startswith("#"):
            conds.append(line[1:])
        elif line:
            k, v = line.split(" = ", 1)
            fields[k] = v
    return fields, conds


def compare(pe_dump, rules, path):
    want = yara_fields(rules, path)
    for by_fn in (False, True):
        got, conds = dump_fields(pe_dump, path, by_fn)
        diff = ["%s: yara %s, ward %s" % (k, want.get(k), got.get(k))
                for k in sorted(set(want) | set(got)) if want.get(k) != got.get(k)]
        assert not diff, "%s (%s):\n  %s" % (path, "read fn" if by_fn else "memory",
                                              "\n  ".join(diff[:30]))
    return conds


def check_queries(tmp_path, path, conds):
    """Each condition pe_dump printed is a rule that yara must match."""
    if not conds:
        return
    rules = tmp_path / "q.yar"
    rules.write_text('import "pe"\n' + "".join(
        "rule q%d { condition: %s }\n" % (i, c) for i, c in enumerate(conds)))
    out = subprocess.run(["yara", str(rules), path], capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode("latin-1")
    matched = {line.split(" ")[0] for line in out.stdout.decode("latin-1").split("\n") if line}
    failed = [c for i, c in enumerate(conds) if "q%d" % i not in matched]
    assert not failed, "%s: yara disagrees on:\n  %s" % (path, "\n  ".join(failed[:30]))


def cut_points(data):
    """Sizes at which to cut a file: the header boundaries YARA checks and
    the starts and ends of the section headers and section data."""
    size = len(data)
    pts = {0, 1, 63, 64, size // 2, size - 1}
    if size >= 64:
        lfanew = int.from_bytes(data[60:64], "little")
        opt = lfanew + 24
        nsec = int.from_bytes(data[lfanew + 6:lfanew + 8], "little") if lfanew + 8 <= size else 0
        optsize = int.from_bytes(data[lfanew + 20:lfanew + 22], "little") \
            if lfanew + 22 <= size else 0
        sec = opt + optsize
        pts |= {lfanew, lfanew + 4, opt - 1, opt, opt + 223, opt + 224, opt + 239, opt + 240,
                sec + 39, sec + 40, sec + 40 * min(nsec, 96) - 1, sec + 40 * min(nsec, 96)}
        for i in range(min(nsec, 96)):
            h = sec + 40 * i
            if h + 40 > size:
                break
            raw_size = int.from_bytes(data[h + 16:h + 20], "little")
            raw_off = int.from_bytes(data[h + 20:h + 24], "little")
            pts |= {raw_off, raw_off + 16, raw_off + raw_size - 1}
        # The certificate table (its data directory entry holds a file offset).
        dd = opt + (112 if data[opt:opt + 2] == b"\x0b\x02" else 96)
        if dd + 40 <= size:
            cert_off = int.from_bytes(data[dd + 32:dd + 36], "little")
            cert_size = int.from_bytes(data[dd + 36:dd + 40], "little")
            if cert_off:
                pts |= {cert_off + 8, cert_off + cert_size // 2, cert_off + cert_size - 1}
    return sorted(p for p in pts if 0 <= p < size)


def test_real_files_match_yara(pe_dump, built, tmp_path):
    rules = tmp_path / "dump.yar"
    rules.write_text(RULE)
    files = real_files(built)
    assert len(files) >= 40
    for path in files:
        conds = compare(pe_dump, str(rules), path)
        check_queries(tmp_path, path, conds)


def test_truncated_copies_match_yara(pe_dump, built, tmp_path):
    rules = tmp_path / "dump.yar"
    rules.write_text(RULE)
    files = [built[0], built[2], built[4], built[6], NSIS_STUBS + "/zlib-x86-ansi",
             NSIS_PLUGINS + "/x86-unicode/System.dll", CLAMAV + "/clam.exe",
             CLAMAV + "/clam_ISmsi_ext.exe", CLAMAV + "/clam-upx.exe"]
    for path in files:
        if not os.path.isfile(path):
            pytest.fail("%s missing (nsis, clamav-testfiles)" % path, pytrace=False)
        with open(path, "rb") as f:
            data = f.read()
        for n in cut_points(data):
            cut = tmp_path / ("cut_%d" % n)
            cut.write_bytes(data[:n])
            conds = compare(pe_dump, str(rules), str(cut))
            check_queries(tmp_path, str(cut), conds)
            cut.unlink()


def test_fuzz_corpus_matches_yara(pe_dump, tmp_path):
    """The malformed files fuzz_pe found (kept as its seeds): what YARA
    makes of broken headers, tables and trees, field by field."""
    rules = tmp_path / "dump.yar"
    rules.write_text(RULE)
    files = sorted(glob.glob(os.path.join(REPO, "fuzz", "corpus", "pe", "*")))
    assert len(files) >= 100, "fuzz/corpus/pe is missing its seeds"
    for path in files:
        conds = compare(pe_dump, str(rules), path)
        check_queries(tmp_path, path, conds)
