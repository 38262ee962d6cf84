"""
Helpers of the agent tests: start and stop wardd in a temporary directory,
talk to it through `ward agent`, and make content bundles — good ones with
`ward content build/sign`, and hand-crafted bad ones byte by byte (signed
with the openssl command line, so that a malformed manifest can still carry
a valid signature).
"""

import contextlib
import hashlib
import json
import os
import signal
import struct
import subprocess
import time

from conftest import EICAR, REPO, program_path

DEFAULT_SRC = os.path.join(REPO, "content", "default")


def wardd_path(fault=False):
    if fault:  # a test build only (make fault-build): never installed
        return os.environ.get("WARDD_FAULT_BIN") or os.path.join(REPO, "build-fault", "agent",
                                                                  "wardd")
    return program_path("wardd")


class Keys:
    """Signing keys made with `ward key gen`."""

    def __init__(self, ward, d):
        self.ward, self.d = ward, d
        os.makedirs(d, exist_ok=True)

    def make(self, name, alg="ed25519"):
        p = self.ward.run("key", "gen", "--alg", alg, "--out", os.path.join(self.d, name))
        assert p.returncode == 0, p.stderr
        return os.path.join(self.d, name + ".key"), os.path.join(self.d, name + ".pub")


def key_id(pub):
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", pub, "-outform", "DER"],
                         stdout=subprocess.PIPE, check=True).stdout
    return hashlib.sha256(der).digest()[:16]


def openssl_sign(key, data, tmp):
    path = os.path.join(tmp, "to-sign")
    with open(path, "wb") as f:
        f.write(data)
    return subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", path],
                          stdout=subprocess.PIPE, check=True).stdout


def assemble(manifest, members, sigs=()):
    """A bundle file image: manifest bytes, [(alg, key id, sig)], member bytes."""
    out = b"WARDBNDL" + struct.pack("<II", 1, len(manifest)) + manifest
    out += struct.pack("<I", len(sigs))
    for alg, kid, sig in sigs:
        out += struct.pack("<B", alg) + kid + struct.pack("<H", len(sig)) + sig
    return out + b"".join(members)


def manifest_for(files, version, tests=(), expires="2030-01-01T00:00:00Z",
                 created="2026-01-01T00:00:00Z", min_agent="0.1.0", name="crafted"):
    """files: [(name, type, bytes)]; tests: [(sample, [names])]."""
    return {
        "format": 1, "name": name, "version": version, "created": created,
        "expires": expires, "min_agent_version": min_agent,
        "members": [{"name": n, "type": t, "size": len(b),
                     "sha256": hashlib.sha256(b).hexdigest()} for n, t, b in files],
        "tests": [{"sample": s, "expect": list(e)} for s, e in tests],
    }


EICAR_RULE = (b'rule EICAR_Test_File { strings: $e = "X5O!P%@AP[4\\\\PZX54(P^)7CC)7}'
              b'$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*" condition: $e at 0 }\n')


def default_content(ward, tmp):
    """A release key pair (rel[0] the private key, rel[1] the public) and
    the default content built and signed with it: (rel, path)."""
    rel = Keys(ward, os.path.join(str(tmp), "keys")).make("release")
    v1 = os.path.join(str(tmp), "v1.wbundle")
    assert ward.run("content", "build", DEFAULT_SRC, "-o", v1).returncode == 0
    assert ward.run("content", "sign", v1, "--key", rel[0]).returncode == 0
    return rel, v1


def signed_bundle(ward, d, key, version, extra_rule=None, min_agent=None):
    """The default content as version `version` (with an extra rule, or a
    minimum agent version), built and signed with key (NAME.key) in d."""
    import shutil
    src = os.path.join(str(d), "src-v%d" % version)
    if not os.path.exists(src):
        shutil.copytree(DEFAULT_SRC, src)
        manifest = json.load(open(os.path.join(src, "bundle.json")))
        manifest["version"] = version
        if min_agent:
            manifest["min_agent_version"] = min_agent
        if extra_rule:
            with open(os.path.join(src, "rules", "extra.yar"), "w") as f:
                f.write(extra_rule)
            manifest["rules"].append("rules/extra.yar")
        json.dump(manifest, open(os.path.join(src, "bundle.json"), "w"))
    out = os.path.join(str(d), "v%d.wbundle" % version)
    p = ward.run("content", "build", src, "-o", out)
    assert p.returncode == 0, p.stderr
    assert ward.run("content", "sign", out, "--key", key).returncode == 0
    return out


def crafted(version, key, tmp, rules=EICAR_RULE, tests=None, manifest_text=None, **kw):
    """A signed bundle with one rule file and the EICAR sample."""
    files = [("rules/r.yar", "yara", rules), ("tests/eicar.com", "sample", EICAR)]
    if tests is None:
        tests = [("tests/eicar.com", ["EICAR_Test_File"])]
    m = manifest_text if manifest_text is not None else json.dumps(
        manifest_for(files, version, tests, **kw)).encode()
    sigs = []
    if key is not None:
        sigs.append((1, key_id(key[1]), openssl_sign(key[0], m, tmp)))
    return assemble(m, [b for _, _, b in files], sigs)


class Agent:
    """One wardd (supervisor + worker) in its own directory."""

    def __init__(self, ward, d, trusted, fault=False, extra=None, env=None, prefix=()):
        self.ward, self.d, self.fault = ward, str(d), fault
        self.prefix = list(prefix)  # a command wardd runs under (setpriv ...)
        self.state = os.path.join(self.d, "state")
        self.run_dir = os.path.join(self.d, "run")
        self.config = os.path.join(self.d, "wardd.yaml")
        self.log = os.path.join(self.d, "wardd.log")
        lines = ["trusted_keys: [%s]" % ", ".join(trusted),
                 "state_dir: %s" % self.state, "run_dir: %s" % self.run_dir,
                 "restart_backoff_max_s: 1"]
        lines += extra or []
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.proc = None

    def start(self, wait=True):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(self.prefix + [wardd_path(self.fault), "--config",
                                                   self.config, "--foreground"],
                                     stdout=self.logf, stderr=self.logf, env=self.env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise AssertionError("wardd exited with %s:\n%s" % (self.proc.returncode,
                                                                    self.read_log()))
            p = self.agent("status", "--json")
            if p.returncode == 0:
                return json.loads(p.stdout)
            time.sleep(0.05)
        raise AssertionError("wardd did not answer within %d s:\n%s" % (timeout, self.read_log()))

    def read_log(self):
        with open(self.log, errors="replace") as f:
            return f.read()[-5000:]

    def agent(self, *args, timeout=120):
        return self.ward.run("agent", "--run-dir", self.run_dir, *args, timeout=timeout)

    def status(self):
        p = self.agent("status", "--json")
        assert p.returncode == 0, p.stderr + self.read_log()
        return json.loads(p.stdout)

    def apply(self, path):
        return self.agent("apply", path)

    def wait_for(self, pred, timeout=30, what="condition"):
        end = time.time() + timeout
        last = None
        while time.time() < end:
            p = self.agent("status", "--json")
            if p.returncode == 0:
                last = json.loads(p.stdout)
                if pred(last):
                    return last
            time.sleep(0.1)
        raise AssertionError("timed out waiting for %s; last status %s\nlog:\n%s" % (
            what, json.dumps(last, indent=1), self.read_log()))

    def assert_protecting(self, eicar_path):
        """The agent is up, protecting, and its content still detects EICAR."""
        st = self.status()
        assert st["mode"] == "protecting", st
        p = self.agent("scan", eicar_path)
        assert p.returncode == 1, p.stdout + p.stderr
        assert "EICAR_Test_File FOUND" in p.stdout, p.stdout
        return st

    def worker_pid(self):
        return self.status()["pid"]

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        self.proc = None


def read_journal(state_dir):
    """The events of STATE_DIR/journal, in order: [(seq, dict)].  Checks
    each record's length, CRC32C and sequence as the agent writes them."""
    import glob
    d = os.path.join(state_dir, "journal")
    out = []
    for path in sorted(glob.glob(os.path.join(d, "*.wjl"))):
        data = open(path, "rb").read()
        off = 0
        while off + 16 <= len(data):
            n, crc, seq = struct.unpack_from("<IIQ", data, off)
            payload = data[off + 16:off + 16 + n]
            assert len(payload) == n, "torn record in %s" % path
            assert crc32c(payload) == crc, "bad CRC in %s at %d" % (path, off)
            assert not out or seq == out[-1][0] + 1, "sequence gap at %d" % seq
            out.append((seq, json.loads(payload)))
            off += 16 + n
    return out


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def actions(state_dir):
    return [e["event"]["action"] for _, e in read_journal(state_dir)]


def wait_events(a, action, n=1, timeout=5):
    """The journal's events of that action, once there are at least n."""
    end = time.time() + timeout
    while time.time() < end:
        evs = [e for _, e in read_journal(a.state) if e["event"]["action"] == action]
        if len(evs) >= n:
            return evs
        time.sleep(0.05)
    raise AssertionError("no %s event (%d wanted); journal: %s" % (
        action, n, [e["event"]["action"] for _, e in read_journal(a.state)]))


@contextlib.contextmanager
def onaccess_box(ward, tmp_path, what, fault=False, env=None):
    """A tmpfs of the test's own and a maker of agents with on-access on it:
    box.agent(extra=(), onaccess=(), start=True, fault=, env_vars=, paths=)
    adds lines to the onaccess: section (onaccess) and after it (extra),
    watches paths instead of the tmpfs, and starts the agent with the
    default content applied unless start is false.  Every agent made is
    stopped at the end.  what names the tests in the root-only failure."""
    import pytest

    from userlib import own_tmpfs

    if os.geteuid() != 0:
        pytest.fail("the %s tests run as root (make check runs them so)" % what, pytrace=False)
    with own_tmpfs(tmp_path / "mnt", "64m") as mnt:
        rel, v1 = default_content(ward, tmp_path)
        agents = []

        class Box:
            pass

        b = Box()
        b.mnt, b.ward, b.tmp, b.rel, b.v1 = str(mnt), ward, tmp_path, rel, v1

        def agent(extra=(), onaccess=(), start=True, fault=fault, env_vars=env, paths=None):
            d = tmp_path / ("agent%d" % len(agents))
            d.mkdir()
            lines = (["onaccess:", "  paths: [%s]" % ", ".join(paths or [str(mnt)])] +
                     list(onaccess) + list(extra))
            a = Agent(ward, d, [rel[1]], fault=fault, extra=lines, env=env_vars)
            agents.append(a)
            if start:
                a.start()
                p = a.apply(v1)
                assert p.returncode == 0, p.stderr
            return a

        b.agent = agent
        try:
            yield b
        finally:
            for a in agents:
                a.stop()
