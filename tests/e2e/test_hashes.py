"""
Hash signatures (`--hashes FILE`, lines `ALG:HEX:SIZE:NAME`): SHA-256,
MD5 and SM3 of whole files, with a size or `*`.
"""

import hashlib
import os
import random
import subprocess

import pytest

from conftest import found, ndjson, rules_file, write


def sm3(data):
    try:
        return hashlib.new("sm3", data).hexdigest()
    except ValueError:
        p = subprocess.run(["openssl", "dgst", "-sm3", "-r"], input=data, stdout=subprocess.PIPE,
                           check=True)
        return p.stdout.split()[0].decode()


def blob(seed, n):
    r = random.Random(seed)
    return bytes(r.getrandbits(8) for _ in range(n))


@pytest.fixture
def files(tmp_path):
    d = str(tmp_path / "files")
    data = {
        "a.bin": blob(1, 1000),
        "b.bin": blob(2, 500),
        "c.bin": blob(3, 1234),
        "a-plus-one.bin": blob(1, 1000) + b"\0",
        "empty.bin": b"",
    }
    for k, v in data.items():
        write(os.path.join(d, k), v)
    return d, data


def test_sm3_reference_value():
    # GB/T 32905-2016, example 1: the helper the other tests rely on is right
    assert sm3(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_hash_signatures(ward, tmp_path, files):
    d, data = files
    a, b, c = data["a.bin"], data["b.bin"], data["c.bin"]
    hashes = write(str(tmp_path / "sigs.txt"), "\n".join([
        "# comments and blank lines are ignored",
        "",
        "sha256:%s:%d:Sha_A" % (hashlib.sha256(a).hexdigest(), len(a)),
        "md5:%s:*:Md5_B" % hashlib.md5(b).hexdigest(),
        "sm3:%s:%d:Sm3_C" % (sm3(c), len(c)),
        # the right hash under the wrong size is no detection
        "sha256:%s:%d:Wrong_Size" % (hashlib.sha256(c).hexdigest(), len(c) + 1),
        # a signature of nothing in the tree
        "sha256:%s:%d:Absent" % (hashlib.sha256(b"absent").hexdigest(), 6),
        "md5:%s:0:Empty_File" % hashlib.md5(b"").hexdigest(),
        "SHA1:%s:*:Sha1_A" % hashlib.sha1(a).hexdigest().upper(),
    ]) + "\n")
    p = ward.scan("--hashes", hashes, d)
    assert p.returncode == 1, p.stderr
    j = lambda n: os.path.join(d, n)  # noqa: E731
    assert found(p.stdout) == {(j("a.bin"), "Sha_A"), (j("b.bin"), "Md5_B"), (j("c.bin"), "Sm3_C"),
                               (j("empty.bin"), "Empty_File"), (j("a.bin"), "Sha1_A")}


def test_hashes_and_rules_together(ward, tmp_path, files):
    d, data = files
    a = data["a.bin"]
    hashes = write(str(tmp_path / "sigs.txt"),
                   "sha256:%s:*:Sha_A\n" % hashlib.sha256(a).hexdigest())
    rules = rules_file(tmp_path, "rule first_bytes { condition: uint16(0) == %d }\n"
                       % int.from_bytes(data["b.bin"][:2], "little"))
    p = ward.scan("--rules", rules, "--hashes", hashes, "--format", "json", d)
    assert p.returncode == 1, p.stderr
    got = {(os.path.normpath(o["path"]), o["rule"]) for o in ndjson(p.stdout) if "rule" in o}
    assert got == {(os.path.join(d, "a.bin"), "Sha_A"), (os.path.join(d, "b.bin"), "first_bytes")}


def test_hash_file_without_match_exits_0(ward, tmp_path, files):
    d, _ = files
    hashes = write(str(tmp_path / "sigs.txt"),
                   "sha256:%s:1000:Other\n" % hashlib.sha256(b"other").hexdigest())
    p = ward.scan("--hashes", hashes, d)
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""


BAD_LINES = [
    "sha512:%s:10:Unknown_Algorithm" % hashlib.sha512(b"x").hexdigest(),
    "sha1:%s:10:Sha1_Wrong_Length" % hashlib.sha256(b"x").hexdigest(),
    "sha256:%s:10:Short_Hex" % hashlib.sha256(b"x").hexdigest()[:-2],
    "sha256:%s:10:Not_Hex" % ("zz" * 32),
    "md5:%s:ten:Bad_Size" % hashlib.md5(b"x").hexdigest(),
    "md5:%s:10" % hashlib.md5(b"x").hexdigest(),
    "md5:%s:10:" % hashlib.md5(b"x").hexdigest(),
    "sha256:%s:-5:Negative_Size" % hashlib.sha256(b"x").hexdigest(),
]


@pytest.mark.parametrize("line", BAD_LINES)
def test_bad_hash_line_is_refused(ward, tmp_path, files, line):
    d, _ = files
    good = "md5:%s:*:Good\n" % hashlib.md5(b"y").hexdigest()
    hashes = write(str(tmp_path / "sigs.txt"), good + line + "\n")
    p = ward.scan("--hashes", hashes, d)
    assert p.returncode == 2, "accepted: %s" % line
    assert p.stdout == ""
    assert "sigs.txt" in p.stderr and ":2" in p.stderr, p.stderr
