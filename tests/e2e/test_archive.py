"""
`ward scan` inside archives and compressed files, as a user sees it: the
clamav-testfiles samples and archives built here with Python's zipfile,
tarfile, gzip, bz2 and lzma; members named in text (PATH//MEMBER) and
JSON ("member": [...]); --no-archive; each limit through its flag, with
and without --alert-exceeds-max; an encrypted zip entry with
--alert-encrypted; a 42.zip-style nested bomb; hostile member names; the
per-file externals of a member; root (sandboxed scanner) and a normal
user giving the same answers.
"""

import bz2
import gzip
import io
import lzma
import os
import struct
import tarfile
import time
import zipfile
import zlib

import pytest

from conftest import FOUND_RE, ndjson, write
from userlib import nobody

TESTFILES = "/usr/share/clamav-testfiles"

# clam.exe's own bytes: the import it names and its marker.
CLAM_RULE = """
rule ClamExe { strings: $a = "CLAMessageBoxA" $b = "[CLAMAV]" condition: $a and $b }
"""
PAYLOAD = b"prefix bytes EVIL-ARCHIVE-PAYLOAD-0042 suffix bytes\n"
EVIL_RULE = """
rule Evil { strings: $a = "EVIL-ARCHIVE-PAYLOAD-0042" condition: $a }
rule EvilByName { condition: filename == "payload.exe" and extension == ".exe" }
"""


@pytest.fixture(scope="module")
def testfiles():
    if not os.path.isfile(os.path.join(TESTFILES, "clam.exe")):
        pytest.fail("clamav-testfiles is not installed (%s): make deps" % TESTFILES,
                    pytrace=False)
    return TESTFILES


def zip_bytes(members, method=zipfile.ZIP_DEFLATED, force_zip64=False):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        for name, data in members:
            zi = zipfile.ZipInfo(name)
            zi.compress_type = method
            with z.open(zi, "w", force_zip64=force_zip64) as f:
                f.write(data)
    return b.getvalue()


def zip_bytes_m(members, method):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        for name, data in members:
            z.writestr(name, data)
    return b.getvalue()


def tar_bytes(members, mode="w"):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode=mode, format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return b.getvalue()


def ar_bytes(members):
    """An ar archive (as dpkg writes a .deb)."""
    out = b"!<arch>\n"
    for name, data in members:
        out += ("%-16s%-12s%-6s%-6s%-8s%-10d`\n" % (name, "0", "0", "0", "100644",
                                                   len(data))).encode() + data
        if len(data) % 2:
            out += b"\n"
    return out


def cpio_newc(members):
    out = b""
    for ino, (name, data) in enumerate(members + [("TRAILER!!!", b"")], 1):
        n = name.encode() + b"\0"
        hdr = b"070701" + b"".join(b"%08X" % v for v in (
            ino, 0o100644 if data or name != "TRAILER!!!" else 0, 0, 0, 1, 0, len(data), 0, 0,
            0, 0, len(n), 0))
        out += hdr + n + b"\0" * ((4 - (len(hdr) + len(n)) % 4) % 4)
        out += data + b"\0" * ((4 - len(data) % 4) % 4)
    return out


def rpm_bytes(members):
    """An rpm: the lead, an empty signature header and header, then the
    gzip'd newc cpio payload (what libarchive's rpm reader needs)."""
    lead = b"\xed\xab\xee\xdb\x03\x00" + b"\0" * 90
    header = b"\x8e\xad\xe8\x01" + b"\0" * 4 + struct.pack(">II", 0, 0)
    return lead + header + header + gzip.compress(cpio_newc(members))


def zipcrypto(name, data, password=b"secret"):
    """A zip of one stored member under PKWARE's traditional encryption
    (which Python's zipfile reads but does not write)."""
    def crc_step(key, c):
        return (~zlib.crc32(bytes([c]), (~key) & 0xffffffff)) & 0xffffffff

    keys = [0x12345678, 0x23456789, 0x34567890]

    def update(c):
        keys[0] = crc_step(keys[0], c)
        keys[1] = ((keys[1] + (keys[0] & 0xff)) * 134775813 + 1) & 0xffffffff
        keys[2] = crc_step(keys[2], keys[1] >> 24)

    def enc(buf):
        out = bytearray()
        for c in buf:
            t = (keys[2] | 2) & 0xffff
            out.append(c ^ (((t * (t ^ 1)) >> 8) & 0xff))
            update(c)
        return bytes(out)

    for c in password:
        update(c)
    crc = zlib.crc32(data) & 0xffffffff
    body = enc(os.urandom(11) + bytes([crc >> 24])) + enc(data)
    fn = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 1, 0, 0, 0, crc, len(body), len(data),
                        len(fn), 0) + fn + body
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 1, 0, 0, 0, crc, len(body),
                          len(data), len(fn), 0, 0, 0, 0, 0, 0) + fn
    end = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 1, 1, len(central), len(local), 0)
    return local + central + end


def found(stdout):
    """{(path, rule)} of the `PATH: RULE FOUND` lines, paths as printed
    (the // between a file and its members kept); nothing else on stdout."""
    out = set()
    for line in stdout.splitlines():
        m = FOUND_RE.match(line)
        assert m, "unexpected line on stdout: %r" % line
        out.add((m.group(1), m.group(2)))
    return out


def scan(ward, *args, **kw):
    return ward.scan("-q", *args, **kw)


def json_scan(ward, *args):
    p = ward.scan("-f", "json", *args)
    return p, ndjson(p.stdout)


SAMPLES = [
    ("clam.zip", ["clam.exe"]),
    ("clam.7z", ["clam.exe"]),
    ("clam.cab", ["clam.exe"]),
    ("clam.tar.gz", ["clam.exe"]),
    ("clam.bz2.zip", ["clam.exe"]),
    ("clam.bin-be.cpio", ["clam.exe"]),
    ("clam.bin-le.cpio", ["clam.exe"]),
    ("clam.newc.cpio", ["clam.exe"]),
    ("clam.odc.cpio", ["clam.exe"]),
    ("clam.exe.bz2", ["clam.exe"]),
    ("clam_cache_emax.tgz", ["clam02.tgz", "clam03.tgz", "clam04.tgz", "clam05.tgz",
                             "clam06.tgz", "clam07.tgz", "clam08.tgz", "clam.exe"]),
]


def test_clamav_samples_match_in_their_members(ward, testfiles, tmp_path):
    rules = write(str(tmp_path / "clam.yar"), CLAM_RULE)
    paths = [os.path.join(testfiles, s) for s, _ in SAMPLES]
    p = scan(ward, "-r", rules, *paths)
    assert p.returncode == 1, p.stderr
    got = found(p.stdout)
    for (sample, chain), path in zip(SAMPLES, paths):
        assert ("//".join([path] + chain), "ClamExe") in got, (sample, got)
    p, objs = json_scan(ward, "-r", rules, *paths)
    members = {(o["path"], tuple(o.get("member", []))) for o in objs if o.get("rule") == "ClamExe"}
    for (sample, chain), path in zip(SAMPLES, paths):
        assert (path, tuple(chain)) in members
    # Nothing is reported that the files do not hold, but clam_cache_emax's
    # nine levels, one more than the default --max-depth.
    assert [(os.path.basename(o["path"]), o["limit"], len(o["member"]))
            for o in objs if "limit" in o or "notice" in o] == [
        ("clam_cache_emax.tgz", "depth", 8)], objs
    # And with --no-archive, only what is stored as it is (cab, cpio) matches.
    p = scan(ward, "--no-archive", "-r", rules, *paths)
    assert {os.path.basename(f) for f, _ in found(p.stdout)} == {
        "clam.cab", "clam.bin-be.cpio", "clam.bin-le.cpio", "clam.newc.cpio", "clam.odc.cpio"}


def built_formats():
    leaf = [("dir/payload.bin", PAYLOAD)]
    raw = PAYLOAD * 3
    return {
        "deflate.zip": (zip_bytes_m(leaf, zipfile.ZIP_DEFLATED), ["dir/payload.bin"]),
        "bzip2.zip": (zip_bytes_m(leaf, zipfile.ZIP_BZIP2), ["dir/payload.bin"]),
        "lzma.zip": (zip_bytes_m(leaf, zipfile.ZIP_LZMA), ["dir/payload.bin"]),
        "zip64.zip": (zip_bytes(leaf, force_zip64=True), ["dir/payload.bin"]),
        "plain.tar": (tar_bytes(leaf), ["dir/payload.bin"]),
        "t.tar.gz": (tar_bytes(leaf, "w:gz"), ["dir/payload.bin"]),
        "t.tar.bz2": (tar_bytes(leaf, "w:bz2"), ["dir/payload.bin"]),
        "t.tar.xz": (tar_bytes(leaf, "w:xz"), ["dir/payload.bin"]),
        "doc.txt.gz": (gzip.compress(raw), ["doc.txt"]),
        "doc.txt.bz2": (bz2.compress(raw), ["doc.txt"]),
        "doc.txt.xz": (lzma.compress(raw), ["doc.txt"]),
        "doc.txt.lzma": (lzma.compress(raw, format=lzma.FORMAT_ALONE), ["doc.txt"]),
        "pkg.deb": (ar_bytes([("debian-binary", b"2.0\n"),
                              ("control.tar.xz", tar_bytes([("./control", b"Package: x\n")],
                                                           "w:xz")),
                              ("data.tar.xz", tar_bytes(leaf, "w:xz"))]),
                    ["data.tar.xz", "dir/payload.bin"]),
        "pkg.rpm": (rpm_bytes(leaf), ["dir/payload.bin"]),
        "nested.zip": (zip_bytes_m([("a/inner.tar.gz", tar_bytes(leaf, "w:gz")),
                                    ("b.txt", b"nothing")], zipfile.ZIP_DEFLATED),
                       ["a/inner.tar.gz", "dir/payload.bin"]),
    }


@pytest.mark.parametrize("as_user", ["root", "nobody"])
def test_built_formats_name_the_member(ward, world_tmp, as_user):
    rules = write(os.path.join(world_tmp, "evil.yar"), EVIL_RULE, mode=0o644)
    formats = built_formats()
    for name, (data, _) in formats.items():
        write(os.path.join(world_tmp, "t", name), data, mode=0o644)
    os.chmod(os.path.join(world_tmp, "t"), 0o755)
    prefix = ()
    if as_user == "nobody":
        uid, gid = nobody()
        prefix = ("setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups", "--")
    p = ward.scan("-q", "-r", rules, os.path.join(world_tmp, "t"), prefix=prefix)
    assert p.returncode == 1, p.stderr
    got = {(f, r) for f, r in found(p.stdout) if r == "Evil"}
    want = {("//".join([os.path.join(world_tmp, "t", n)] + chain), "Evil")
            for n, (_, chain) in formats.items()}
    # plain.tar holds the payload as it is: it matches as a file too
    want.add((os.path.join(world_tmp, "t", "plain.tar"), "Evil"))
    assert got == want
    p = ward.scan("-q", "-f", "json", "-r", rules, os.path.join(world_tmp, "t"), prefix=prefix)
    objs = ndjson(p.stdout)
    members = {(os.path.basename(o["path"]), tuple(o["member"]))
               for o in objs if o.get("rule") == "Evil" and "member" in o}
    assert members == {(n, tuple(c)) for n, (_, c) in formats.items()}


def test_no_archive_scans_the_container_as_a_file(ward, tmp_path):
    rules = write(str(tmp_path / "evil.yar"), EVIL_RULE)
    z = write(str(tmp_path / "a.zip"), zip_bytes_m([("p", PAYLOAD)], zipfile.ZIP_DEFLATED))
    assert found(scan(ward, "-r", rules, z).stdout) == {(z + "//p", "Evil")}
    p = scan(ward, "--no-archive", "-r", rules, z)
    assert p.returncode == 0 and p.stdout == ""


def test_member_externals_are_the_members(ward, tmp_path):
    rules = write(str(tmp_path / "evil.yar"), EVIL_RULE)
    z = write(str(tmp_path / "a.zip"), zip_bytes_m(
        [("x/payload.exe", b"harmless"), ("payload.exe.txt", b"harmless")],
        zipfile.ZIP_DEFLATED))
    assert found(scan(ward, "-r", rules, z).stdout) == {(z + "//x/payload.exe", "EvilByName")}


def test_hostile_member_names_stay_on_their_line(ward, tmp_path):
    rules = write(str(tmp_path / "evil.yar"), EVIL_RULE)
    name = "a\nforged: Fake FOUND\n\x1b[2J\xe9"
    z = write(str(tmp_path / "h.zip"), zip_bytes_m([(name, PAYLOAD)], zipfile.ZIP_DEFLATED))
    p = scan(ward, "-r", rules, z)
    lines = p.stdout.splitlines()
    assert len(lines) == 1, lines
    assert lines[0] == z + "//a\\x0aforged: Fake FOUND\\x0a\\x1b[2J\xe9: Evil FOUND"
    p, objs = json_scan(ward, "-r", rules, z)
    assert [o["member"] for o in objs if "rule" in o] == [[name]]


def limit_objs(objs):
    return [(o["limit"], o["member"]) for o in objs if "limit" in o]


def test_each_limit_through_its_flag(ward, tmp_path):
    rules = write(str(tmp_path / "evil.yar"), EVIL_RULE)
    zeros = b"\0" * (8 << 20)
    many = write(str(tmp_path / "many.zip"),
                 zip_bytes_m([("m%d" % i, b"x") for i in range(5)] + [("p", PAYLOAD)],
                             zipfile.ZIP_DEFLATED))
    big = write(str(tmp_path / "big.tar.gz"),
                tar_bytes([("zeros", zeros), ("p", PAYLOAD)], "w:gz"))
    inner = tar_bytes([("p", PAYLOAD)], "w:gz")
    deep = write(str(tmp_path / "deep.zip"), zip_bytes_m(
        [("l1.zip", zip_bytes_m([("l2.tar.gz", inner)], zipfile.ZIP_DEFLATED))],
        zipfile.ZIP_DEFLATED))
    cases = [
        (["--max-files", "3"], many, "files", [], "MaxFiles"),
        (["--max-membersize", "1M", "--max-ratio", "0"], big, "member", ["zeros"],
         "MaxFileSize"),
        (["--max-scansize", "1M", "--max-ratio", "0"], big, "total", ["zeros"], "MaxScanSize"),
        (["--max-ratio", "50"], big, "ratio", ["zeros"], "MaxRatio"),
        (["--max-depth", "1"], deep, "depth", ["l1.zip"], "MaxRecursion"),
        (["--max-scantime", "0"], many, "time", [], "MaxScanTime"),
    ]
    for flags, path, word, member, heur in cases:
        p, objs = json_scan(ward, *flags, "-r", rules, path)
        assert limit_objs(objs) == [(word, member)], (flags, objs)
        s = objs[-1]["summary"]
        assert s["limits"] == 1 and s["limits_by"][word] == 1, s
        # reported, not a match: the exit status is what the matches make it
        assert p.returncode == (1 if any("rule" in o for o in objs) else 0), (flags, p.stderr)
        # with --alert-exceeds-max, clamscan's line, and a match
        p = scan(ward, *flags, "--alert-exceeds-max", "-r", rules, path)
        assert (path, "Heuristics.Limits.Exceeded." + heur) in found(p.stdout), (flags, p.stdout)
        assert p.returncode == 1
        # in text without it: a line on stderr, nothing on stdout about it
        p = ward.scan(*flags, "-r", rules, path)
        assert "Heuristics" not in p.stdout
        assert "Archive limits reached: 1" in p.stderr, p.stderr
    # The member limit skips the one member: the next is scanned.
    p = scan(ward, "--max-membersize", "1M", "--max-ratio", "0", "-r", rules, big)
    assert found(p.stdout) == {(big + "//p", "Evil")}


def test_encrypted_member_is_reported(ward, tmp_path):
    rules = write(str(tmp_path / "evil.yar"), EVIL_RULE)
    z = write(str(tmp_path / "enc.zip"), zipcrypto("secret.bin", PAYLOAD))
    # Python reads it back with the password: the file is what it says
    assert zipfile.ZipFile(z).read("secret.bin", pwd=b"secret") == PAYLOAD
    p, objs = json_scan(ward, "-r", rules, z)
    assert [(o["notice"], o["member"]) for o in objs if "notice" in o] == [
        ("encrypted", ["secret.bin"])]
    assert objs[-1]["summary"]["encrypted"] == 1
    assert p.returncode == 0
    p = scan(ward, "--alert-encrypted", "-r", rules, z)
    assert found(p.stdout) == {(z, "Heuristics.Encrypted.Zip")}
    assert p.returncode == 1


def test_damaged_archive_is_reported_and_the_scan_goes_on(ward, tmp_path):
    rules = write(str(tmp_path / "evil.yar"), EVIL_RULE)
    good = tar_bytes([("noise", os.urandom(200000)), ("p", PAYLOAD)], "w:gz")
    cut = write(str(tmp_path / "cut.tar.gz"), good[:len(good) // 2])
    ok = write(str(tmp_path / "ok.tar.gz"), good)
    p, objs = json_scan(ward, "-r", rules, cut, ok)
    assert [(os.path.basename(o["path"]), o["notice"]) for o in objs if "notice" in o] == [
        ("cut.tar.gz", "damaged")]
    assert {(o["path"], tuple(o["member"])) for o in objs if "rule" in o} == {(ok, ("p",))}
    assert objs[-1]["summary"]["damaged"] == 1


def test_a_decompressor_out_of_memory_ends_the_archive_not_the_scan(ward, tmp_path):
    """An xz header that asks for a 1 GiB dictionary, scanned under an
    address-space limit (as the agent's scanners are): the allocation
    fails inside liblzma, the archive ends with the `memory` limit, the
    scan goes on."""
    import resource

    rules = write(str(tmp_path / "evil.yar"), EVIL_RULE)
    xz = write(str(tmp_path / "bigdict.txt.xz"), lzma.compress(
        PAYLOAD * 10, format=lzma.FORMAT_XZ,
        filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 1 << 30}]))
    other = write(str(tmp_path / "other.zip"), zip_bytes_m([("p", PAYLOAD)], zipfile.ZIP_DEFLATED))
    p, objs = json_scan(ward, "-r", rules, xz, other)
    assert {(os.path.basename(o["path"]), tuple(o["member"])) for o in objs if "rule" in o} == {
        ("bigdict.txt.xz", ("bigdict.txt",)), ("other.zip", ("p",))}

    def limit_as():
        resource.setrlimit(resource.RLIMIT_AS, (700 << 20, 700 << 20))

    p = ward.scan("-f", "json", "-r", rules, xz, other, preexec_fn=limit_as)
    objs = ndjson(p.stdout)
    assert limit_objs(objs) == [("memory", [])], objs
    assert [os.path.basename(o["path"]) for o in objs if "rule" in o] == ["other.zip"]
    assert p.returncode == 1, p.stderr


def bomb(levels=4, width=16, leaf_mib=64):
    """A 42.zip-style bomb: a zip of `width` copies of the zip below it,
    `levels` deep, over a leaf of leaf_mib MiB of zeros (width**levels *
    leaf_mib MiB in all: 4 TiB by default)."""
    z = zip_bytes_m([("zeros.bin", b"\0" * (leaf_mib << 20))], zipfile.ZIP_DEFLATED)
    for lvl in range(levels):
        z = zip_bytes_m([("l%d-%d.zip" % (lvl, i), z) for i in range(width)],
                        zipfile.ZIP_DEFLATED)
    return z


def test_padding_past_the_ratio_does_not_hide_the_members_after_it(ward, tmp_path):
    """Megabytes of zeros deflate to a few KiB: a member past the ratio is
    left, and the payload after it is still found (as root: the sandboxed
    scanner), with the padding's limit reported."""
    rules = write(str(tmp_path / "evil.yar"), EVIL_RULE)
    z = write(str(tmp_path / "padded.zip"),
              zip_bytes_m([("pad.bin", b"\0" * (8 << 20)), ("evil.txt", PAYLOAD)],
                          zipfile.ZIP_DEFLATED))
    assert os.path.getsize(z) < 64 << 10
    p, objs = json_scan(ward, "--max-ratio", "100", "-r", rules, z)
    assert p.returncode == 1, p.stderr
    assert [(o["rule"], o["member"]) for o in objs if "rule" in o] == [("Evil", ["evil.txt"])]
    assert limit_objs(objs) == [("ratio", ["pad.bin"])]


def test_a_refused_first_header_is_reported_not_silent(ward, tmp_path):
    """A tar.gz whose first entry libarchive refuses (a 2 MiB pax link
    name) hides the members after it: the file is reported damaged, not
    passed over as a file that only looked like an archive."""
    rules = write(str(tmp_path / "evil.yar"), EVIL_RULE)
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w:gz", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo("first")
        ti.type = tarfile.SYMTYPE
        ti.linkname = "x" * (2 << 20)
        t.addfile(ti)
        ti = tarfile.TarInfo("payload")
        ti.size = len(PAYLOAD)
        t.addfile(ti, io.BytesIO(PAYLOAD))
    path = write(str(tmp_path / "pax.tgz"), b.getvalue())
    p, objs = json_scan(ward, "-r", rules, path)
    assert [o["notice"] for o in objs if "notice" in o] == ["damaged"], objs
    assert objs[-1]["summary"]["damaged"] == 1


def test_a_nested_bomb_stops_at_its_limits(ward, tmp_path):
    rules = write(str(tmp_path / "evil.yar"), EVIL_RULE)
    b = write(str(tmp_path / "42.zip"), bomb())
    assert os.path.getsize(b) < 1 << 20
    # the time limit is a backstop here, which must not be what stops it
    p, objs = json_scan(ward, "--max-scantime", "20000", "-r", rules, b)
    hits = limit_objs(objs)
    # each leaf stops at the ratio; the total ends the walk
    assert hits and {w for w, _ in hits} == {"ratio", "total"}, hits
    assert [w for w, _ in hits].count("total") == 1, hits
    # each leaf past the ratio is charged the 64 MiB it says it holds: the
    # total ends the walk after a few leaves, not after 400 MiB inflated
    assert [w for w, _ in hits].count("ratio") < 10, hits
    s = objs[-1]["summary"]
    assert s["limits_by"]["time"] == 0, s
    assert s["seconds"] < 20, s
    # with the ratio off, the total limit stops it
    p, objs = json_scan(ward, "--max-ratio", "0", "--max-scansize", "100M",
                        "--max-scantime", "60000", "-r", rules, b)
    assert [w for w, _ in limit_objs(objs)] == ["total"], limit_objs(objs)


def test_help_and_docs_name_the_flags(ward):
    h = ward.scan("--help").stdout
    docs = open(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "docs", "archives.md")).read()
    for flag in ["--no-archive", "--max-scansize", "--max-membersize", "--max-files",
                 "--max-ratio", "--max-depth", "--max-scantime", "--alert-exceeds-max",
                 "--alert-encrypted"]:
        assert flag in h and flag in docs, flag


def test_agent_blocks_and_reports_a_zip_with_a_matching_member(ward, tmp_path):
    """The agent's scanners walk archives too: a zip whose member is EICAR
    is reported on write and its open denied in a block_open directory,
    under the rule's name; a bomb there ends at a limit and is let
    through (availability fails open), as a clean zip is."""
    from agentlib import onaccess_box, wait_events
    from conftest import EICAR

    with onaccess_box(ward, tmp_path, "archive on-access") as box:
        guarded = os.path.join(box.mnt, "uploads")
        os.makedirs(guarded)
        a = box.agent(extra=["  block_open: [%s]" % guarded])
        bad = write(os.path.join(guarded, "invoice.zip"),
                    zip_bytes_m([("docs/eicar.com", EICAR)], zipfile.ZIP_DEFLATED))
        clean = write(os.path.join(guarded, "clean.zip"),
                      zip_bytes_m([("a.txt", b"hello" * 100)], zipfile.ZIP_DEFLATED))
        boom = write(os.path.join(guarded, "boom.zip"), bomb(levels=2, width=4, leaf_mib=8))
        ev = [e for e in wait_events(a, "file-written-detected")
              if e["file"]["path"] == bad]
        assert ev and ev[0]["rule"]["name"].startswith("EICAR_Test_File"), ev
        with pytest.raises(PermissionError):
            open(bad, "rb").read()
        assert open(clean, "rb").read(2) == b"PK"
        assert open(boom, "rb").read(2) == b"PK"
        denied = wait_events(a, "file-open-denied")
        assert [e["file"]["path"] for e in denied] == [bad]
        assert denied[0]["rule"]["name"].startswith("EICAR_Test_File")
        # the bomb's limit is in the agent's log, not a block
        end = time.time() + 10
        while "archive limit ratio" not in a.read_log() and time.time() < end:
            time.sleep(0.05)
        assert "archive limit ratio" in a.read_log(), a.read_log()
