"""
The compiled content image: wardd's root worker gets process rules, the
FIM policy and exceptions compiled by its sandboxed validator, and at
start loads them from the image the store keeps — never from the bundle's
YAML or JSON.  Each test ends with the agent protecting (a scan through it
still detects EICAR), or proves what it refused.
"""
import hashlib
import json
import os
import struct

import pytest

from agentlib import Agent, Keys, assemble, key_id, openssl_sign, DEFAULT_SRC
from conftest import EICAR


@pytest.fixture
def env(ward, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the wardd tests run as root (make check runs them so)", pytrace=False)
    rel = Keys(ward, str(tmp_path / "keys")).make("release")
    v1 = str(tmp_path / "v1.wbundle")
    assert ward.run("content", "build", DEFAULT_SRC, "-o", v1).returncode == 0
    assert ward.run("content", "sign", v1, "--key", rel[0]).returncode == 0
    eicar = tmp_path / "eicar.com"
    eicar.write_bytes(EICAR)
    (tmp_path / "a").mkdir()
    a = Agent(ward, tmp_path / "a", [rel[1]])
    a.start()
    yield a, v1, str(eicar), rel, tmp_path
    a.stop()


def content_fim_paths(a):
    return a.status()["sensors"]["fim"]["paths"]["content"]


def sections(img):
    """The image's sections: [(offset of the length, bytes)]."""
    assert img[:8] == b"WARDCIMG"
    (plen,) = struct.unpack_from("<Q", img, 12)
    assert plen == len(img) - 52
    out, off = [], 52
    while off < len(img):
        (n,) = struct.unpack_from("<I", img, off)
        out.append((off, img[off + 4:off + 4 + n]))
        off += 4 + n
    return out


def reseal(img):
    img[20:52] = hashlib.sha256(bytes(img[52:])).digest()


def test_start_uses_the_stored_image_alone(env):
    """With the stored bundle destroyed, a restarted agent still loads the
    whole content — rules, process rules and the content's FIM paths —
    from the compiled image: the worker does not read the bundle."""
    a, v1, eicar, _, _ = env
    assert a.apply(v1).returncode == 0
    before = content_fim_paths(a)
    assert before, "the default content watches paths"
    store = os.path.join(a.state, "content")
    img = open(os.path.join(store, "v1.wrs"), "rb").read()
    secs = sections(img)
    assert [len(s) > 0 for _, s in secs] == [True, True, True, True]
    assert secs[0][1][:8] == b"WARDRSET"
    a.stop()
    with open(os.path.join(store, "v1.wbundle"), "wb") as f:
        f.write(b"not a bundle: the worker must not need it")
    a.start()
    st = a.assert_protecting(eicar)
    assert st["content"]["current"]["version"] == 1
    assert content_fim_paths(a) == before
    assert "cannot be loaded" not in a.read_log()


@pytest.mark.parametrize("section, why", [
    (1, "compiled process rule"),
    (2, "compiled FIM policy"),
    (3, "compiled exception"),
])
def test_damaged_section_refused_at_start(env, section, why):
    """A stored image whose process rules, FIM policy or exceptions section
    is damaged — with the checksum made to fit, as an attacker who can
    write the store would — is refused by that section's decoder: the
    agent logs why and does not load it."""
    a, v1, eicar, _, _ = env
    assert a.apply(v1).returncode == 0
    a.stop()
    path = os.path.join(a.state, "content", "v1.wrs")
    img = bytearray(open(path, "rb").read())
    off, body = sections(img)[section]
    # A count far beyond what the section holds (the first u32 of each).
    img[off + 4:off + 8] = struct.pack("<I", 0x7fffffff)
    reseal(img)
    open(path, "wb").write(bytes(img))
    a.start()
    a.wait_for(lambda st: "cannot be loaded" in a.read_log(), timeout=10,
               what="the refusal of the damaged image")
    log = a.read_log()
    assert why in log, log
    # Nothing of it is in use: the agent's scan no longer detects EICAR.
    p = a.agent("scan", eicar)
    assert "EICAR_Test_File FOUND" not in p.stdout, p.stdout


def test_unsigned_json_never_parsed(env):
    """A bundle whose manifest is not JSON and whose signature is by an
    untrusted key is refused for its signature (the worker checks
    signatures before it parses the manifest)."""
    a, v1, eicar, rel, tmp = env
    stranger = Keys(a.ward, str(tmp / "keys2")).make("stranger")
    m = b"{" * 100000
    sig = openssl_sign(stranger[0], m, str(tmp))
    bad = tmp / "bad.wbundle"
    bad.write_bytes(assemble(m, [], [(1, key_id(stranger[1]), sig)]))
    p = a.apply(str(bad))
    assert p.returncode != 0
    st = a.status()
    assert st["content"]["current"] is None
    text = p.stdout + p.stderr
    assert "signature" in text and "manifest" not in text, text
    # The same text signed by the trusted key reaches the parser: format.
    sig = openssl_sign(rel[0], m, str(tmp))
    bad.write_bytes(assemble(m, [], [(1, key_id(rel[1]), sig)]))
    p = a.apply(str(bad))
    assert p.returncode != 0
    assert "manifest" in p.stdout + p.stderr, p.stdout + p.stderr
    assert a.apply(v1).returncode == 0
    a.assert_protecting(eicar)


def as_other_ward(img, version=b"0.0.9"):
    """The image as another ward would have written it: the rules section's
    compiled rule set says another ward version, with both checksums made
    to fit (the rule set's over its header and payload, the image's)."""
    off, rules = sections(img)[0]
    rs = bytearray(rules)
    assert rs[:8] == b"WARDRSET"
    rs[12:44] = version.ljust(32, b"\0")
    # header: magic 8, format 4, version 32, arch 16, payload length 8,
    # then the SHA-256 of what precedes it and of the payload
    rs[68:100] = hashlib.sha256(bytes(rs[:68]) + bytes(rs[100:])).digest()
    img[off + 4:off + 4 + len(rs)] = rs
    reseal(img)
    return img


def test_image_of_another_ward_compiled_again(env):
    """After an upgrade the stored image was written by another ward: the
    agent compiles the stored bundle again (signatures checked, in the
    sandboxed validator), protects with it, and saves the new image."""
    a, v1, eicar, _, _ = env
    assert a.apply(v1).returncode == 0
    a.stop()
    path = os.path.join(a.state, "content", "v1.wrs")
    img = as_other_ward(bytearray(open(path, "rb").read()))
    open(path, "wb").write(bytes(img))
    a.start()
    st = a.assert_protecting(eicar)
    assert st["content"]["current"]["version"] == 1
    log = a.read_log()
    assert "compiled by another ward" in log and "compiled again" in log, log
    assert b"0.0.9" not in open(path, "rb").read()
    # The next start loads the saved image as it is.
    a.stop()
    a.start()
    a.assert_protecting(eicar)
    assert a.read_log().count("compiled again") == log.count("compiled again")


def test_image_of_another_ward_with_a_forged_bundle(env):
    """The same, with the stored bundle replaced by one the trusted keys did
    not sign: it is refused, and the agent says so instead of using it."""
    a, v1, eicar, _, tmp = env
    assert a.apply(v1).returncode == 0
    a.stop()
    store = os.path.join(a.state, "content")
    path = os.path.join(store, "v1.wrs")
    img = as_other_ward(bytearray(open(path, "rb").read()))
    open(path, "wb").write(bytes(img))
    stranger = Keys(a.ward, str(tmp / "keys3")).make("stranger")
    forged = str(tmp / "forged.wbundle")
    assert a.ward.run("content", "build", DEFAULT_SRC, "-o", forged).returncode == 0
    assert a.ward.run("content", "sign", forged, "--key", stranger[0]).returncode == 0
    open(os.path.join(store, "v1.wbundle"), "wb").write(open(forged, "rb").read())
    a.start()
    a.wait_for(lambda st: "compiling it again failed" in a.read_log(), timeout=20,
               what="the refusal of the forged bundle")
    assert "signature" in a.read_log()
    p = a.agent("scan", eicar)
    assert "EICAR_Test_File FOUND" not in p.stdout, p.stdout
