"""
ClamAV signature databases used by ward: `ward scan --clamav-db` (a file or
a directory, names exactly as in the database, text and JSON), `ward
content import-clamav` then `ward content build`, the report of what was
left out, and .cvd containers (ClamAV's own signed test container, and a
tampered copy).  The hand-made signatures are checked against the real
`clamscan --allmatch` on the same files: the (file, signature) pairs of
everything ward converts must be clamscan's.

tests/e2e/data/clamav/bytecode.cvd is unit_tests/input/bytecode_sigs/
bytecode.cvd of Cisco-Talos/clamav: signed with ClamAV's key (`sigtool -i`
says "Verification OK"); its last.hdb names clamav-testfiles' clam.exe.
"""

import hashlib
import json
import os
import shutil
import struct
import subprocess

import pytest

from conftest import EICAR, found, ndjson, write

HERE = os.path.dirname(os.path.abspath(__file__))
CVD = os.path.join(HERE, "data", "clamav", "bytecode.cvd")
TESTFILES = "/usr/share/clamav-testfiles"
PE = os.path.join(TESTFILES, "clam-fsg.exe")   # sections aligned, 4 of them
CLAM_EXE = os.path.join(TESTFILES, "clam.exe")


def need(path):
    if not os.path.exists(path):
        pytest.fail("%s is missing: install clamav and clamav-testfiles (make deps)" % path,
                    pytrace=False)
    return path


def clamscan(dbdir, files):
    """{(path, name)} as clamscan --allmatch finds them (.UNOFFICIAL cut)."""
    exe = need(shutil.which("clamscan") or "/usr/bin/clamscan")
    p = subprocess.run([exe, "--allmatch", "--no-summary", "-d", str(dbdir)] +
                       [str(f) for f in files], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    assert p.returncode in (0, 1), p.stderr
    out = set()
    for line in p.stdout.splitlines():
        path, _, rest = line.rpartition(": ")
        assert rest.endswith(" FOUND"), line
        name = rest[:-len(" FOUND")]
        if name.endswith(".UNOFFICIAL"):
            name = name[:-len(".UNOFFICIAL")]
        out.add((os.path.normpath(path), name))
    return out


def pe_layout(data):
    """(entry point file offset, [(raw offset, raw size)]) of an aligned PE."""
    e = struct.unpack_from("<I", data, 0x3C)[0]
    nsec = struct.unpack_from("<H", data, e + 6)[0]
    opt = struct.unpack_from("<H", data, e + 20)[0]
    ep_rva = struct.unpack_from("<I", data, e + 24 + 16)[0]
    secs, ep = [], None
    for i in range(nsec):
        _, vsz, va, rsz, raw = struct.unpack_from("<8sIIII", data, e + 24 + opt + 40 * i)
        secs.append((raw, rsz))
        if va <= ep_rva < va + max(vsz, rsz):
            ep = raw + ep_rva - va
    return ep, secs


@pytest.fixture
def corpus(tmp_path):
    """Sample files and a directory of hand-made databases: what each
    signature should do is said beside it."""
    need(PE)
    pe = open(PE, "rb").read()
    ep, secs = pe_layout(pe)
    files = {
        "text": write(str(tmp_path / "files" / "note.txt"),
                      b"hello world, this is a test of ward\nsecond line here\n"),
        "bin": write(str(tmp_path / "files" / "blob.bin"),
                     b"\x00\x01MZ-not\x00hello\x00\x00world\x00" + bytes(range(256)) * 2),
        "eicar": write(str(tmp_path / "files" / "eicar.com"), EICAR),
        "pe": write(str(tmp_path / "files" / "app.exe"), pe),
    }
    h = lambda b: b.hex()
    last = secs[-1]

    def distinct(start):
        """The first offset from start of 8 bytes with 6 different values
        (content build refuses strings that match almost anywhere)."""
        k = start
        while len(set(pe[k:k + 8])) < 6:
            k += 1
        return k
    s0k, slk, sek = (distinct(secs[0][0] + 16) - secs[0][0], distinct(last[0]) - last[0],
                     distinct(secs[0][0] + 100) - secs[0][0])
    s0 = pe[secs[0][0]:secs[0][0] + secs[0][1]]
    db = tmp_path / "db"
    write(str(db / "t.ndb"), "\n".join([
        "Test.Plain-1:0:*:68656c6c6f20776f726c64",
        "Test.Wild:0:*:68656c6c6f??776f*7465737420",
        "Test.Nibbles:0:*:6?656c6c6f2077",
        "Test.Alt:0:*:68(65|66)6c6c6f",
        "Test.NotAlt:0:*:68!(66|67)6c6c6f",
        "Test.NotAlt2:0:*:68656c6c!(6f20|6f21)776f",
        "Test.Range:0:*:68656c6c{2-4}776f72",
        "Test.Bracket:0:*:73[1-3]6c696e65",
        "Test.At0:0:0:68656c6c6f",
        "Test.At1.Miss:0:1:68656c6c6f",
        "Test.Float:0:2,5:68656c6c6f",
        "Test.Eof:0:EOF-5:6865726509",
        "Test.Eof2:0:EOF-5:686572650a",
        "Test.Pe.Any:1:*:%s" % h(pe[0x40:0x48]),
        "Test.Pe.On.Text:1:*:68656c6c6f20776f726c64",
        "Test.Ep:1:EP+0:%s" % h(pe[ep:ep + 8]),
        "Test.Ep.Float:1:EP-4,8:%s" % h(pe[ep:ep + 8]),
        "Test.S0:1:S0+%d:%s" % (s0k, h(pe[secs[0][0] + s0k:secs[0][0] + s0k + 8])),
        "Test.SL:1:SL+%d:%s" % (slk, h(pe[last[0] + slk:last[0] + slk + 8])),
        "Test.SE0:1:SE0:%s" % h(pe[secs[0][0] + sek:secs[0][0] + sek + 8]),
        "Test.Elf:6:*:68656c6c6f",
        "Test.Future:0:*:68656c6c6f:255",
        "Test.AnchorW:0:*:68656c6c6f(W)776f726c64",
        "Test.AnchorL:0:*:77617264(L)7365636f6e64",
        "Test.AnchorB.Miss:0:*:746869(B)73",
        "Test.Anchor:0:*:68656c6c6f(B)",  # at the end: a check of the next byte
        # left out by ward, with a reason:
        "Test.Html:3:*:68656c6c6f",
    ]) + "\n")
    write(str(db / "t.ldb"), "\n".join([
        "L.And;Target:0;0&1;68656c6c6f;776f726c64",
        "L.Or;Target:0;0|1;deadbeef;776f726c64",
        "L.Count;Engine:51-255,Target:0;0>1;6e65",
        "L.Block;Target:0;(0|1|2)>2,2;6c6f;6f72;6c64",
        "L.Neg;Target:0;0&1=0;68656c6c6f;deadbeef",
        "L.TopFirst;Target:0;0&1|2;deadbeef;776f726c64;68656c6c6f",
        "L.InnerLast;Target:0;(0&1|2);deadbeef;776f726c64;68656c6c6f",
        "L.NoCase;Engine:81-255,Target:0;0;48454c4c4f::i",
        "L.Full;Engine:81-255,Target:0;0;74686973::f",
        "L.Size;Engine:51-255,Target:0,FileSize:10-100;0;68656c6c6f",
        "L.Sections;Engine:51-255,Target:1,NumberOfSections:%d-%d;0;%s" % (
            len(secs), len(secs), h(pe[0x40:0x48])),
        "L.EpRange;Engine:51-255,Target:1,EntryPoint:%d-%d;0;%s" % (ep, ep, h(pe[0x40:0x48])),
        "L.Off;Target:1;0&1;EP+0:%s;0:4d5a" % h(pe[ep:ep + 8]),
        "L.Pcre.Ok;Engine:81-255,Target:0;0&1;68656c6c6f;0/(this|that) is a? te[sx]t/i",
        "L.Pcre.Trigger;Engine:81-255,Target:0;0&2;68656c6c6f;deadbeef;1/world/",
        # left out by ward:
        "L.Pcre;Target:0;0&1;68656c6c6f;0/hel+o/",
        "L.Container;Engine:51-255,Target:0,Container:CL_TYPE_ZIP;0;68656c6c6f",
    ]) + "\n")
    write(str(db / "t.hdb"), "%s:%d:Eicar-Test-Signature-Md5\n" % (
        hashlib.md5(EICAR).hexdigest(), len(EICAR)))
    write(str(db / "t.hsb"), "%s:*:Eicar-Sha1-AnySize:73\n%s:%d:Eicar-Sha256:73\n" % (
        hashlib.sha1(EICAR).hexdigest(), hashlib.sha256(EICAR).hexdigest(), len(EICAR)))
    write(str(db / "t.mdb"), "%d:%s:Pe.Section0.Md5\n" % (len(s0), hashlib.md5(s0).hexdigest()))
    write(str(db / "t.msb"), "*:%s:Pe.Section0.Sha1.AnySize:73\n" % hashlib.sha1(s0).hexdigest())
    write(str(db / "t.ign2"), "Test.Plain-Dropped\n")
    write(str(db / "u.ndb"), "Test.Plain-Dropped:0:*:68656c6c6f\n")
    left_out = {"Test.Html", "Test.Future", "L.Pcre", "L.Container"}
    return files, db, left_out


def test_scan_clamav_db_equals_clamscan(ward, corpus):
    files, db, left_out = corpus
    p = ward.scan("--clamav-db", db, "-f", "json", "-q", *files.values())
    assert p.returncode == 1, p.stderr
    got = {(os.path.normpath(o["path"]), o["rule"]) for o in ndjson(p.stdout)}
    ref = clamscan(db, files.values())
    ref_kept = {(f, n) for f, n in ref if n not in left_out}
    assert got == ref_kept
    # the hand-made signatures do what they say (and clamscan agrees)
    names = {n for _, n in got}
    want = {"Test.Ep", "Test.S0", "Test.SL", "Test.SE0", "Pe.Section0.Md5", "L.Block",
            "L.InnerLast", "Test.NotAlt", "Eicar-Sha1-AnySize", "L.Pcre.Ok",
            "Test.AnchorW", "Test.AnchorL", "Test.Anchor"}
    assert want - names == set()
    assert not names & {"Test.At1.Miss", "L.TopFirst", "Test.Plain-Dropped", "Test.Elf",
                         "Test.NotAlt2", "L.Pcre.Trigger", "Test.AnchorB.Miss"}
    # one summary line on stderr, naming no signature without --clamav-report
    assert "4 left out" in p.stderr and "1 dropped by .ign2" in p.stderr
    assert "Test.Html" not in p.stderr


def test_text_output_and_report(ward, corpus):
    files, db, left_out = corpus
    p = ward.scan("--clamav-db", db, "--clamav-report", "-q", files["eicar"], files["text"])
    assert p.returncode == 1
    got = found(p.stdout)
    assert (os.path.normpath(files["eicar"]), "Eicar-Test-Signature-Md5") in got
    assert (os.path.normpath(files["text"]), "Test.Plain-1") in got
    reported = {line.split()[3] for line in p.stderr.splitlines()
                if line.startswith("ward: left out ")}
    assert reported == left_out
    assert "target type 3" in p.stderr and "PCRE" in p.stderr


def test_clamav_db_beside_rules(ward, corpus, tmp_path):
    files, db, _ = corpus
    rules = write(str(tmp_path / "r.yar"), 'rule Own { strings: $a = "second line" '
                  'condition: $a }\n')
    p = ward.scan("-r", rules, "--clamav-db", db / "t.ndb", "-q", files["text"])
    assert p.returncode == 1, p.stderr
    got = {n for _, n in found(p.stdout)}
    assert "Own" in got and "Test.Plain-1" in got


def test_import_build_scan(ward, corpus, tmp_path):
    files, db, left_out = corpus
    src = tmp_path / "src"
    # a false-positive list: no ClamAV rule reports the file it names, in
    # the imported rules as with --clamav-db (clamscan applies it too, so it
    # is not in the databases compared with it); ward's own rules still do
    text = open(files["text"], "rb").read()
    fp = write(str(tmp_path / "fp" / "t.fp"), "%s:%d:Fp.Note\n" % (
        hashlib.md5(text).hexdigest(), len(text)))
    sfp = write(str(tmp_path / "fp" / "t.sfp"), "%s:%d:Fp.Eicar\n" % (
        hashlib.sha256(EICAR).hexdigest(), len(EICAR)))
    p = ward.run("content", "import-clamav", db, fp, sfp, "-o", src, "--report")
    assert p.returncode == 0, p.stderr
    assert "converted" in p.stdout and "2 false positives" in p.stdout
    # the SHA-256 hash signature of the same file is dropped, with a reason
    assert {line.split()[3] for line in p.stdout.splitlines()
            if line.startswith("ward: left out ")} == left_out | {"Eicar-Sha256"}
    manifest = json.load(open(src / "bundle.json"))
    assert manifest["rules"] == ["rules/clamav.yar"]
    assert manifest["hashes"] == ["hashes/clamav.txt"]
    assert manifest["exceptions"] == []
    own = write(str(tmp_path / "own.yar"), 'rule Own { strings: $a = "hello" condition: $a }\n')
    for args in (["--clamav-db", db, "--clamav-db", fp], ["-r", src / "rules" / "clamav.yar"]):
        p = ward.scan(*args, "-r", own, "-f", "json", "-q", files["text"])
        assert {o["rule"] for o in ndjson(p.stdout)} == {"Own"}, p.stdout
    out = tmp_path / "clamav.wcb"
    p = ward.run("content", "build", src, "-o", out)
    assert p.returncode == 0, p.stderr
    # the source's files find what --clamav-db finds
    p1 = ward.scan("-r", src / "rules" / "clamav.yar", "--hashes", src / "hashes" / "clamav.txt",
                   "-f", "json", "-q", *files.values())
    p2 = ward.scan("--clamav-db", db, "--clamav-db", fp, "--clamav-db", sfp, "-f", "json", "-q",
                   *files.values())
    as_set = lambda out: {(o["path"], o["rule"]) for o in ndjson(out)}
    assert as_set(p1.stdout) == as_set(p2.stdout) and as_set(p1.stdout)
    # an existing DIR is not overwritten
    p = ward.run("content", "import-clamav", db, "-o", src)
    assert p.returncode == 2 and "File exists" in p.stderr


def test_malformed_database_refused(ward, tmp_path):
    bad = write(str(tmp_path / "bad.ndb"), "Ok:0:*:68656c6c6f\nBad:0:*:68zz6c6c6f\n")
    p = ward.scan("--clamav-db", bad, "-q", bad)
    assert p.returncode == 2
    assert "bad.ndb:2" in p.stderr and "invalid character 'z'" in p.stderr
    p = ward.scan("--clamav-db", tmp_path / "nope.txt", "-q", bad)
    assert p.returncode == 2


def test_cvd_signed_and_tampered(ward, tmp_path):
    need(CLAM_EXE)
    p = ward.scan("--clamav-db", CVD, "-q", CLAM_EXE)
    assert p.returncode == 1, p.stderr
    assert found(p.stdout) == {(CLAM_EXE, "ClamAV-Test-File")}
    assert "3 left out" in p.stderr  # the three bytecode signatures
    p = ward.run("content", "import-clamav", CVD, "-o", tmp_path / "src")
    assert p.returncode == 0
    assert "digital signature verified (ClamAV's key)" in p.stderr
    # the same container with one character of its signature changed
    data = bytearray(open(CVD, "rb").read())
    head = data[:512].decode()
    dsig_at = head.index(":", head.index(":" + head.split(":")[5]) + 1) + 1
    data[dsig_at] = ord("a") if data[dsig_at] != ord("a") else ord("b")
    bad = tmp_path / "daily.cvd"
    bad.write_bytes(bytes(data))
    p = ward.scan("--clamav-db", bad, "-q", CLAM_EXE)
    assert p.returncode == 2
    assert "the digital signature does not verify" in p.stderr
    p = ward.scan("--clamav-db", bad, "--allow-unsigned", "-q", CLAM_EXE)
    assert p.returncode == 1 and "ClamAV-Test-File" in p.stdout
    p = ward.run("content", "import-clamav", bad, "--allow-unsigned", "-o", tmp_path / "s2")
    assert p.returncode == 0 and "NOT verified" in p.stderr
    # clamscan refuses it too
    exe = need(shutil.which("clamscan") or "/usr/bin/clamscan")
    r = subprocess.run([exe, "--no-summary", "-d", str(bad), CLAM_EXE],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert r.returncode == 2


def test_agent_reports_clamav_names(ward, corpus):
    """Imported ClamAV signatures as an agent's signed content: the agent's
    scanners report the ClamAV names, as its clamd socket shows them
    (clamd's own answer for the same database would be the same)."""
    from agentlib import Agent, Keys
    from test_clamd import ask, stream

    if os.geteuid() != 0:
        pytest.fail("the agent test runs as root (make check runs it so)", pytrace=False)
    files, db, _ = corpus
    work = os.path.join("/tmp", "ward-clamdb-agent-%d" % os.getpid())
    os.makedirs(work)
    os.chmod(work, 0o755)
    a = None
    try:
        src, bundle = os.path.join(work, "src"), os.path.join(work, "c.wbundle")
        assert ward.run("content", "import-clamav", db, "-o", src).returncode == 0
        assert ward.run("content", "build", src, "-o", bundle).returncode == 0
        rel = Keys(ward, os.path.join(work, "keys")).make("release")
        assert ward.run("content", "sign", bundle, "--key", rel[0]).returncode == 0
        sock = os.path.join(work, "clamd.sock")
        os.makedirs(os.path.join(work, "agent"))
        a = Agent(ward, os.path.join(work, "agent"), [rel[1]], extra=[
            "initial_content: %s" % bundle, "clamd:", "  enabled: yes",
            "  socket: %s" % sock])
        a.start()
        a.wait_for(lambda st: st.get("mode") == "protecting", what="content active")
        # one answer per stream, as clamd's: one of the ClamAV names
        # that clamscan finds in the same bytes
        for path in (files["eicar"], files["text"]):
            answer = ask(sock, stream(open(path, "rb").read()))
            assert answer.startswith(b"stream: ") and answer.endswith(b" FOUND\0"), answer
            name = answer[len(b"stream: "):-len(b" FOUND\0")].decode()
            assert (os.path.normpath(path), name) in clamscan(db, [path]), name
        assert ask(sock, stream(b"12345 67890\n")) == b"stream: OK\0"
    finally:
        if a is not None:
            a.stop()
        shutil.rmtree(work, ignore_errors=True)
