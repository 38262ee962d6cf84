"""
wardd and `ward agent`: the bad-update suite.  Every case ends with the
agent up and protecting, proven by a scan through the agent that still
detects EICAR.  Cases that need crash or kill points use the test build of
wardd (build-fault/, `-Dfault_injection=true`).
"""

import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time

import pytest

from agentlib import (DEFAULT_SRC, EICAR_RULE, Agent, Keys, actions, assemble, crafted, key_id,
                      manifest_for, openssl_sign, read_journal, wardd_path)
from conftest import EICAR

@pytest.fixture
def env(ward, tmp_path):
    """Keys, a signed default bundle (version 1), the EICAR file."""
    if os.geteuid() != 0:
        pytest.fail("the wardd tests run as root (make check runs them so)", pytrace=False)
    keys = Keys(ward, str(tmp_path / "keys"))
    rel = keys.make("release")
    other = keys.make("second")
    stranger = keys.make("stranger")
    v1 = str(tmp_path / "v1.wbundle")
    assert ward.run("content", "build", DEFAULT_SRC, "-o", v1).returncode == 0
    assert ward.run("content", "sign", v1, "--key", rel[0]).returncode == 0
    eicar = tmp_path / "eicar.com"
    eicar.write_bytes(EICAR)
    agents = []

    class Env:
        pass

    e = Env()
    e.ward, e.tmp, e.rel, e.other, e.stranger, e.v1, e.eicar = (
        ward, tmp_path, rel, other, stranger, v1, str(eicar))

    def agent(fault=False, extra=None, env_vars=None, trusted=None, start=True):
        d = tmp_path / ("agent%d" % len(agents))
        d.mkdir()
        a = Agent(ward, d, trusted or [rel[1], other[1]], fault=fault, extra=extra,
                  env=env_vars)
        agents.append(a)
        if start:
            a.start()
        return a

    def bundle(version, key=rel, **kw):
        """Default content under another version, signed by key."""
        src = tmp_path / ("src%d" % version)
        if not src.exists():
            shutil.copytree(DEFAULT_SRC, src)
            data = json.loads((src / "bundle.json").read_text())
            data["version"] = version
            data.update(kw)
            (src / "bundle.json").write_text(json.dumps(data))
        out = str(tmp_path / ("v%d-%s.wbundle" % (version, os.path.basename(key[0]) if key else "unsigned")))
        p = ward.run("content", "build", src, "-o", out)
        assert p.returncode == 0, p.stderr
        if key is not None:
            assert ward.run("content", "sign", out, "--key", key[0]).returncode == 0
        return out

    def write(name, data):
        p = tmp_path / name
        p.write_bytes(data)
        return str(p)

    e.agent, e.bundle, e.write = agent, bundle, write
    yield e
    for a in agents:
        a.stop()


def active(a):
    return a.status()["content"]["current"]


def test_apply_status_scan(env):
    a = env.agent()
    st = a.status()
    assert st["mode"] == "waiting" and st["content"]["current"] is None
    assert "no content installed" in st["warnings"]
    p = a.apply(env.v1)
    assert p.returncode == 0, p.stderr
    assert "content version 1 active" in p.stdout
    st = a.assert_protecting(env.eicar)
    cur = st["content"]["current"]
    assert cur["name"] == "default" and cur["version"] == 1 and cur["activated_at"]
    assert st["content"]["last_known_good"] is None and st["content"]["rejected"] == []
    assert st["pid"] > 0 and st["uptime_s"] >= 0 and st["crashes"] == []
    # The next version: the previous one becomes last-known-good.
    assert a.apply(env.bundle(2)).returncode == 0
    st = a.assert_protecting(env.eicar)
    assert st["content"]["current"]["version"] == 2
    assert st["content"]["last_known_good"]["version"] == 1
    # The store holds exactly what state.json names.
    names = sorted(os.listdir(os.path.join(a.state, "content")))
    assert names == ["state.json", "v1.wbundle", "v1.wrs", "v2.wbundle", "v2.wrs"]
    assert oct(os.stat(os.path.join(a.run_dir, "control.sock")).st_mode & 0o777) == "0o600"
    # Operator rollback.
    p = a.agent("rollback")
    assert p.returncode == 0 and "rolled back to version 1" in p.stdout
    st = a.assert_protecting(env.eicar)
    assert st["content"]["current"]["version"] == 1
    assert any(r["version"] == 2 and "operator" in r["reason"]
               for r in st["content"]["rejected"])
    # Nothing left to roll back to.
    p = a.agent("rollback")
    assert p.returncode == 2 and "no last-known-good" in p.stderr
    # The journal tells the story, as ECS events.
    events = [e for _, e in read_journal(a.state)]
    acts = [e["event"]["action"] for e in events]
    assert acts == ["agent-started", "content-activated", "content-activated",
                    "content-rolled-back"], acts
    act = events[2]
    assert act["ward"]["content"] == {"name": "default", "version": 2, "previous_version": 1,
                                      "activation_ms": act["ward"]["content"]["activation_ms"],
                                      "signatures": 1}
    assert act["event"]["category"] == ["configuration"] and act["event"]["outcome"] == "success"
    assert act["agent"]["type"] == "ward" and act["host"]["hostname"]
    assert act["@timestamp"].endswith("Z")


def flip(data, at):
    b = bytearray(data)
    b[at] ^= 0x01
    return bytes(b)


BAD = [
    # (name, how to make it, reason the agent gives)
    ("unsigned", lambda e: open(e.bundle(2, key=None), "rb").read(), "not signed"),
    ("signed by an untrusted key", lambda e: open(e.bundle(2, key=e.stranger), "rb").read(),
     "1 by untrusted keys"),
    ("signature damaged", lambda e: damage_signature(open(e.bundle(2), "rb").read()),
     "1 invalid"),
    ("member digest mismatch",
     lambda e: flip(open(e.bundle(2), "rb").read(), open(e.bundle(2), "rb").read().find(b"EICAR-STANDARD")),
     "SHA-256 differs"),
    ("truncated", lambda e: open(e.bundle(2), "rb").read()[:-100], "truncated"),
    ("trailing garbage", lambda e: open(e.bundle(2), "rb").read() + b"\0garbage", "trailing bytes"),
    ("oversized member", lambda e: crafted_manifest(e, lambda m: m["members"][0].update(
        size=(256 << 20) + 1)), '"size" must be an integer in range'),
    ("duplicate keys", lambda e: crafted_text(e, b'{"format": 1, "format": 1}'), "duplicate"),
    ("huge number", lambda e: crafted_text(e, b'{"format": 1, "version": 123456789012345678901234567890}'),
     "too big"),
    ("deep nesting", lambda e: crafted_text(e, b'{"format": 1, "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
     "invalid bundle"),
    ("version equal", lambda e: open(e.v1, "rb").read(), "not greater than the installed version 1"),
    ("expired", lambda e: crafted(2, e.rel, str(e.tmp), expires="2025-01-01T00:00:00Z",
                                  created="2024-01-01T00:00:00Z"), "expired at 2025-01-01"),
    ("agent too old", lambda e: crafted(2, e.rel, str(e.tmp), min_agent="9.0.0"),
     "needs ward 9.0.0"),
    ("own test fails", lambda e: crafted(2, e.rel, str(e.tmp), tests=[("tests/eicar.com", ["Other"])]),
     "bundle test failed"),
    ("rules do not compile", lambda e: crafted(2, e.rel, str(e.tmp), rules=b"rule x { condition: $a }\n"),
     "content does not compile"),
    ("include in a rule member", lambda e: crafted(2, e.rel, str(e.tmp), rules=b'include "/etc/passwd"\n'),
     "include is not allowed"),
]


def damage_signature(data):
    mlen = int.from_bytes(data[12:16], "little")
    return flip(data, 16 + mlen + 4 + 1 + 16 + 2 + 10)


def crafted_manifest(e, edit):
    files = [("rules/r.yar", "yara", EICAR_RULE), ("tests/eicar.com", "sample", EICAR)]
    m = manifest_for(files, 2, [("tests/eicar.com", ["EICAR_Test_File"])])
    edit(m)
    return crafted(2, e.rel, str(e.tmp), manifest_text=json.dumps(m).encode())


def crafted_text(e, text):
    return crafted(2, e.rel, str(e.tmp), manifest_text=text)


@pytest.mark.parametrize("name,make,reason", BAD, ids=[b[0] for b in BAD])
def test_bad_bundle_refused(env, name, make, reason):
    a = env.agent()
    assert a.apply(env.v1).returncode == 0
    path = env.write("bad.wbundle", make(env))
    p = a.apply(path)
    assert p.returncode == 2, p.stdout
    assert reason in p.stderr, p.stderr
    st = a.assert_protecting(env.eicar)
    assert st["content"]["current"]["version"] == 1
    assert any(reason in r["reason"] for r in st["content"]["rejected"]), st["content"]["rejected"]
    refused = [e for _, e in read_journal(a.state) if e["event"]["action"] == "content-refused"]
    assert len(refused) == 1 and reason in refused[0]["message"]
    assert refused[0]["event"]["kind"] == "alert" and refused[0]["event"]["outcome"] == "failure"


# What `ward content verify` says of the same bundles: it admits through
# the agent's path, so it refuses each for the same reason; the checks that
# need the agent's state (the installed version, its clock's verdict on
# expiry, its own version) are the agent's alone, and verify passes those.
VERIFY_SAYS = {
    "version equal": None, "expired": None, "agent too old": None,
    "deep nesting": "maximum parsing depth",
    "own test fails": "bundle test: tests/eicar.com: test failed: expected Other",
    "rules do not compile": "compile: rules/r.yar:1:21: undefined string \"$a\"",
}


@pytest.mark.parametrize("name,make,reason", BAD, ids=[b[0] for b in BAD])
def test_bad_bundle_verify_agrees(env, name, make, reason):
    path = env.write("bad.wbundle", make(env))
    p = env.ward.run("content", "verify", path, "--trust", env.rel[1], "--trust", env.other[1])
    says = VERIFY_SAYS.get(name, reason)
    if says is None:
        assert p.returncode == 0, p.stderr
    else:
        assert p.returncode == 2, p.stdout
        assert says in p.stderr, p.stderr


def test_lower_version_refused(env):
    a = env.agent()
    assert a.apply(env.v1).returncode == 0
    assert a.apply(env.bundle(3)).returncode == 0
    p = a.apply(env.bundle(2))
    assert p.returncode == 2 and "not greater than the installed version 3" in p.stderr
    # Rolling back does not lower the bar: version 3 stays the highest seen.
    assert a.agent("rollback").returncode == 0
    p = a.apply(env.bundle(2))
    assert p.returncode == 2 and "not greater than the installed version 3" in p.stderr
    assert a.assert_protecting(env.eicar)["content"]["current"]["version"] == 1


def test_threshold(env):
    a = env.agent(extra=["signature_threshold: 2"])
    p = a.apply(env.v1)  # one signature
    assert p.returncode == 2 and "2 needed" in p.stderr
    both = env.bundle(2)
    assert env.ward.run("content", "sign", both, "--key", env.other[0]).returncode == 0
    assert a.apply(both).returncode == 0
    a.assert_protecting(env.eicar)


def test_sm2_signed_content(env):
    keys = Keys(env.ward, str(env.tmp / "smkeys"))
    sm = keys.make("sm", "sm2")
    a = env.agent(trusted=[sm[1]])
    b = env.bundle(2, key=sm)
    assert a.apply(b).returncode == 0
    a.assert_protecting(env.eicar)


def slow_rules(n):
    """Rules whose regexps make the pattern compiler work for seconds."""
    r = random.Random(7)
    out = []
    for i in range(n):
        a, b, c = (r.choice("abcdefghij") for _ in range(3))
        out.append("rule s%d { strings: $a = /%s[^%s]{%d,%d}%s[^%s]{%d,%d}%s/ condition: $a }" % (
            i, a, b, r.randint(5, 30), r.randint(40, 120), b, c, r.randint(5, 30),
            r.randint(40, 120), c))
    return ("\n".join(out) + "\n").encode()


def long_rules(n, length):
    """n rules of one random length-byte text string each: memory-hungry to
    compile (3 000 x 2 000 bytes take about 100 MiB)."""
    r = random.Random(8)
    alnum = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    table = bytes(alnum[b % len(alnum)] for b in range(256))
    return b"".join(b'rule m%d { strings: $a = "%s" condition: $a }\n' % (
        i, r.randbytes(length).translate(table)) for i in range(n))


def test_validator_cpu_limit(env):
    a = env.agent(extra=["validator:", "  cpu_s: 1"])
    assert a.apply(env.v1).returncode == 0
    b = env.write("slow.wbundle", crafted(2, env.rel, str(env.tmp), tests=[],
                                          rules=EICAR_RULE + slow_rules(60)))
    t0 = time.time()
    p = a.apply(b)
    assert p.returncode == 2 and "CPU time limit" in p.stderr, p.stderr
    assert time.time() - t0 < 30
    a.assert_protecting(env.eicar)


def test_validator_memory_limit(env):
    a = env.agent(extra=["validator:", "  memory_mb: 64"])
    assert a.apply(env.v1).returncode == 0
    b = env.write("big.wbundle", crafted(2, env.rel, str(env.tmp), tests=[],
                                         rules=EICAR_RULE + long_rules(3000, 2000)))
    p = a.apply(b)
    assert p.returncode == 2 and "validator.memory_mb = 64" in p.stderr, p.stderr
    a.assert_protecting(env.eicar)


def test_validator_deadline(env):
    a = env.agent(extra=["validator:", "  timeout_s: 1", "  cpu_s: 100"])
    assert a.apply(env.v1).returncode == 0
    b = env.write("slow.wbundle", crafted(2, env.rel, str(env.tmp), tests=[],
                                          rules=EICAR_RULE + slow_rules(60)))
    p = a.apply(b)
    assert p.returncode == 2 and "longer than validator.timeout_s" in p.stderr, p.stderr
    a.assert_protecting(env.eicar)


def test_validator_crash(env):
    a = env.agent(fault=True)
    assert a.apply(env.v1).returncode == 0
    b = env.write("c.wbundle", crafted(2, env.rel, str(env.tmp),
                                       rules=EICAR_RULE + b"rule WARD_FAULT_CRASH_VALIDATOR { condition: false }\n"))
    p = a.apply(b)
    assert p.returncode == 2 and "the validator crashed" in p.stderr, p.stderr
    a.assert_protecting(env.eicar)


def forge_out_of_range(src, dst):
    """A compiled rule set whose bytecode names string 7 of a rule that has
    two, with both checksums recomputed: only the verifier can catch it."""
    import hashlib
    import zlib
    d = bytearray(open(src, "rb").read())
    size = int.from_bytes(d[100:104], "little")
    start, end = 104, 104 + size
    lenoff = next(k for k in range(start, end - 12)
                  if int.from_bytes(d[k:k + 8], "little") == end - 4 - (k + 8))
    i = d.find(bytes([9, 1, 0, 0, 0]), lenoff + 8)  # COND_FOUND string 1
    assert lenoff + 8 <= i < end - 4
    d[i + 1:i + 5] = (7).to_bytes(4, "little")
    d[end - 4:end] = zlib.crc32(bytes(d[lenoff + 8:end - 4])).to_bytes(4, "little")
    d[68:100] = hashlib.sha256(bytes(d[:68]) + bytes(d[100:])).digest()
    open(dst, "wb").write(d)


FORGE_RULE = b'rule F { strings: $a = "xyzzy" $b = "plugh" condition: $b and #a < 5 }\n'


def test_forged_compiled_data_refused_by_ward_scan(env):
    """The analogue of Channel File 291: compiled data that reads a string
    index beyond what exists is refused, not read out of bounds."""
    src = env.write("f.yar", FORGE_RULE)
    good, bad = str(env.tmp / "f.wrs"), str(env.tmp / "f-forged.wrs")
    assert env.ward.run("rules", "compile", src, "-o", good).returncode == 0
    forge_out_of_range(good, bad)
    p = env.ward.scan("--compiled", bad, env.eicar)
    assert p.returncode == 2 and "string index out of range" in p.stderr, p.stderr


def test_forged_compiled_data_refused_by_agent(env):
    src = env.write("f.yar", FORGE_RULE)
    good, bad = str(env.tmp / "f.wrs"), str(env.tmp / "f-forged.wrs")
    assert env.ward.run("rules", "compile", src, "-o", good).returncode == 0
    forge_out_of_range(good, bad)
    a = env.agent(fault=True, env_vars={"WARD_FAULT_COMPILED_FILE": bad})
    p = a.apply(env.v1)
    assert p.returncode == 2, p.stdout
    assert "compiled content was refused" in p.stderr and "out of range" in p.stderr
    assert a.status()["content"]["current"] is None
    # Without the forgery, the same bundle is fine.
    a.stop()
    a.env.pop("WARD_FAULT_COMPILED_FILE")
    a.start()
    assert a.apply(env.v1).returncode == 0
    a.assert_protecting(env.eicar)


@pytest.mark.parametrize("how, why", [
    ("unsealed", "a memory file that is not sealed against change"),
    ("twice", "a second answer"),
    ("bad-cause", "a refusal of unknown cause 99"),
])
def test_validator_breaking_its_protocol_is_refused_as_an_attack(env, how, why):
    """A subverted validator's answer that breaks the channel's table (an
    image the validator could still change, a second answer, a refusal of
    a cause that does not exist) is refused, named an attack, and the agent
    keeps what it had; the same bundle passes from an honest validator."""
    a = env.agent(fault=True, env_vars={"WARD_FAULT_VALIDATOR_ANSWER": how})
    p = a.apply(env.v1)
    assert p.returncode == 2, p.stdout
    assert "ipc: validator: protocol violation by the peer (" + why in p.stderr, p.stderr
    assert "treated as an attack" in p.stderr, p.stderr
    st = a.status()
    assert st["content"]["current"] is None
    assert any("treated as an attack" in r["reason"] for r in st["content"]["rejected"])
    a.stop()
    a.env.pop("WARD_FAULT_VALIDATOR_ANSWER")
    a.start()
    assert a.apply(env.v1).returncode == 0
    a.assert_protecting(env.eicar)


def test_crash_guard_restores_last_known_good(env):
    a = env.agent(fault=True, extra=["crash_guard:", "  max_crashes: 3", "  window_s: 600"])
    assert a.apply(env.v1).returncode == 0
    bad = env.write("crash.wbundle", crafted(
        2, env.rel, str(env.tmp), rules=EICAR_RULE + b"rule WARD_FAULT_CRASH_WORKER { condition: false }\n"))
    p = a.apply(bad)  # activates, then the worker dies: no answer
    assert p.returncode == 2
    st = a.wait_for(lambda s: s["content"]["current"] and s["content"]["current"]["version"] == 1
                    and any("crash guard" in r["reason"] for r in s["content"]["rejected"]),
                    what="the crash guard to restore version 1")
    assert sum(1 for c in st["crashes"] if c["version"] == 2) == 3
    a.assert_protecting(env.eicar)
    acts = actions(a.state)
    assert acts.count("agent-worker-crashed") == 3
    assert "content-crash-guard-rollback" in acts
    # The bad version cannot come back.
    assert "not greater" in a.apply(bad).stderr


def test_crashes_on_last_known_good_mean_safe_mode(env):
    crash_file = env.tmp / "crash-versions"
    crash_file.write_text("")
    a = env.agent(fault=True, env_vars={"WARD_FAULT_CRASH_FILE": str(crash_file)})
    assert a.apply(env.v1).returncode == 0
    assert a.apply(env.bundle(2)).returncode == 0
    # Both the current version and the last-known-good now crash the worker.
    crash_file.write_text("1 2\n")
    os.kill(a.worker_pid(), signal.SIGKILL)
    st = a.wait_for(lambda s: s["mode"] == "safe", timeout=60, what="safe mode")
    assert "no last-known-good" in st["safe_reason"]
    assert "agent-safe-mode" in actions(a.state)
    assert st["content"]["current"]["version"] == 1  # what it would run
    p = a.agent("scan", env.eicar)
    assert p.returncode == 2 and "safe mode" in p.stderr
    # It stays in safe mode (no restart loop) ...
    pid = a.worker_pid()
    time.sleep(2)
    assert a.worker_pid() == pid and a.status()["mode"] == "safe"
    # ... until new content arrives.
    crash_file.write_text("")
    assert a.apply(env.bundle(3)).returncode == 0
    a.assert_protecting(env.eicar)


STEPS = ["before-install", "files-written", "state-written", "before-swap"]


@pytest.mark.parametrize("who", ["worker", "supervisor"])
@pytest.mark.parametrize("step", STEPS)
def test_kill_during_install(env, step, who):
    """kill -9 of the worker or of the supervisor at each step of an
    install: afterwards the store holds exactly the old content (none) or
    the new one (version 1), complete, and the agent comes back."""
    var = "WARD_FAULT_KILL_AT" if who == "worker" else "WARD_FAULT_KILL_SUPERVISOR_AT"
    a = env.agent(fault=True, env_vars={var: step})
    assert a.apply(env.v1).returncode == 2  # killed while installing
    if who == "supervisor":
        assert a.proc.wait(timeout=10) == -signal.SIGKILL
    a.stop()
    a.env.pop(var)
    a.start()
    cur = a.status()["content"]["current"]
    store = os.path.join(a.state, "content")
    if step in ("before-install", "files-written"):
        assert cur is None
        assert sorted(os.listdir(store)) in ([], ["state.json"])
        assert a.apply(env.v1).returncode == 0
    else:
        assert cur["version"] == 1
        assert sorted(os.listdir(store)) == ["state.json", "v1.wbundle", "v1.wrs"]
        assert env.ward.scan("--compiled", os.path.join(store, "v1.wrs"),
                             env.eicar).returncode == 1
    a.assert_protecting(env.eicar)


def test_expiring_content_keeps_protecting(env):
    a = env.agent()
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3))
    assert a.apply(env.bundle(2, expires=soon)).returncode == 0
    time.sleep(4)
    st = a.assert_protecting(env.eicar)
    assert any("expired" in w for w in st["warnings"]), st["warnings"]
    assert "warning: content version 2 expired at %s" % soon in a.read_log()
    # A bundle that has already expired is refused.
    p = a.apply(env.write("old.wbundle", crafted(3, env.rel, str(env.tmp), expires=soon)))
    assert p.returncode == 2 and "expired" in p.stderr


def test_hot_swap_loses_no_scan(env):
    a = env.agent()
    assert a.apply(env.v1).returncode == 0
    stop = threading.Event()
    results = []

    def scanner():
        while not stop.is_set():
            p = a.agent("scan", env.eicar)
            results.append((p.returncode, "EICAR_Test_File FOUND" in p.stdout))

    threads = [threading.Thread(target=scanner) for _ in range(3)]
    for t in threads:
        t.start()
    for v in range(2, 6):
        assert a.apply(env.bundle(v)).returncode == 0
    stop.set()
    for t in threads:
        t.join()
    assert len(results) >= 10
    assert all(r == (1, True) for r in results), [r for r in results if r != (1, True)][:5]
    assert a.assert_protecting(env.eicar)["content"]["current"]["version"] == 5


def test_initial_content(env):
    a = env.agent(extra=["initial_content: %s" % env.v1])
    a.wait_for(lambda s: s["content"]["current"] is not None, what="initial content")
    a.assert_protecting(env.eicar)


def test_config_errors(env, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("trusted_keys: [%s]\nstate_dir: /tmp/x\nscan_threds: 4\n" % env.rel[1])
    p = subprocess.run([wardd_path(), "--config", str(bad), "--foreground"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    assert p.returncode == 78
    assert b'bad.yaml:3:1: unknown key "scan_threds"' in p.stderr
    bad.write_text("state_dir: /tmp/x\n")
    p = subprocess.run([wardd_path(), "--config", str(bad), "--foreground"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    assert p.returncode == 78 and b"trusted_keys is required" in p.stderr


def test_systemd_notify(env, tmp_path):
    """Under systemd (Type=notify, WatchdogSec) wardd says READY=1 once it
    serves, and WATCHDOG=1 while its worker's heartbeat arrives."""
    import socket
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    a = env.agent(env_vars={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"})
    got = []
    try:
        while "WATCHDOG=1" not in got or "READY=1" not in got:
            got.append(sock.recv(256).decode())
    finally:
        sock.close()
    assert got.index("READY=1") < got.index("WATCHDOG=1")
    assert a.apply(env.v1).returncode == 0
    a.assert_protecting(env.eicar)


def test_not_root_cannot_talk_to_agent(env):
    a = env.agent()
    p = env.ward.run("agent", "--run-dir", a.run_dir, "status",
                     prefix=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
    assert p.returncode == 2 and "cannot reach the agent" in p.stderr


def test_check_config(env, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("trusted_keys: [%s]\nstate_dir: %s\n" % (env.rel[1], tmp_path / "st"))
    p = subprocess.run([wardd_path(), "--config", str(good), "--check-config"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    assert p.returncode == 0 and b"configuration is valid" in p.stdout
    assert not (tmp_path / "st").exists(), "checking must not create anything"
    bad = tmp_path / "bad.yaml"
    bad.write_text("trusted_keys: [%s]\nonaccess:\n  paths: [/nonexistent/ward]\n" % env.stranger[0])
    p = subprocess.run([wardd_path(), "--config", str(bad), "--check-config"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    assert p.returncode == 78
    assert b"not a readable Ed25519 or SM2 public key" in p.stderr
    assert b"/nonexistent/ward: No such file" in p.stderr


def test_outputs_ndjson_and_syslog(env, tmp_path):
    """Events are copied to an NDJSON file (rotated by size, no duplicates
    across restarts) and to syslog as RFC 5424 messages."""
    import socket
    sock_path = str(tmp_path / "log.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(10)
    nd = tmp_path / "events.ndjson"
    nd.write_bytes(b"x" * (1 << 20))  # already at its size cap: rotated first
    a = env.agent(extra=["outputs:", "  ndjson:", "    path: %s" % nd, "    max_mb: 1",
                         "  syslog: true", "  syslog_socket: %s" % sock_path])
    assert a.apply(env.v1).returncode == 0
    assert a.apply(env.bundle(2, key=None)).returncode == 2  # refused: an alert

    def lines():
        return [json.loads(l) for l in nd.read_text().splitlines()] if nd.exists() else []

    end = time.time() + 10
    while time.time() < end and [e["event"]["action"] for e in lines()][-1:] != ["content-refused"]:
        time.sleep(0.1)
    acts = [e["event"]["action"] for e in lines()]
    assert acts == ["agent-started", "content-activated", "content-refused"], acts
    assert (tmp_path / "events.ndjson.1").read_bytes() == b"x" * (1 << 20)
    msgs = []
    while len(msgs) < 3:
        msgs.append(sock.recv(65536).decode())
    sock.close()
    assert msgs[1].startswith("<14>1 ") and " wardd " in msgs[1] and " content-activated - {" in msgs[1]
    assert msgs[2].startswith("<12>1 ") and " content-refused - {" in msgs[2]
    # A restart neither repeats nor skips anything.
    a.stop()
    a.start()
    end = time.time() + 10
    while time.time() < end and len(lines()) < 4:
        time.sleep(0.1)
    time.sleep(0.5)
    acts = [e["event"]["action"] for e in lines()]
    assert acts == ["agent-started", "content-activated", "content-refused", "agent-stopped",
                    "agent-started"], acts


def test_worker_kill_loses_no_acknowledged_event(env):
    """An event is journaled before the agent answers the request that
    caused it: kill -9 of the worker right after the answers loses none."""
    a = env.agent(extra=["journal:", "  fsync: always"])
    for v, b in enumerate([env.v1, env.bundle(2), env.bundle(3)], start=1):
        assert a.apply(b).returncode == 0
    os.kill(a.worker_pid(), signal.SIGKILL)
    a.wait_for(lambda s: s["content"]["current"]["version"] == 3, what="the worker back")
    evs = [e for _, e in read_journal(a.state)]
    assert [e["ward"]["content"]["version"] for e in evs
            if e["event"]["action"] == "content-activated"] == [1, 2, 3]
    assert [e["event"]["action"] for e in evs].count("agent-worker-crashed") == 1


def test_refusal_quoting_the_bundle_is_one_log_line(env):
    # A refused bundle's member name is quoted in the refusal's reason; a
    # name with a newline must not forge a line of the agent's log.
    a = env.agent()
    forged = "wardd[1]: content version 9 active (1 signature, 1 ms)"
    path = env.write("bad.wbundle", crafted_manifest(env, lambda m: m["members"][0].update(
        name="rules/x\n" + forged)))
    p = a.apply(path)
    assert p.returncode == 2, p.stdout
    log = a.read_log()
    assert "refused" in log, log
    assert not any(line.startswith(forged) or line.startswith(" " + forged) or
                   line.split(": ", 1)[-1] == forged.split(": ", 1)[1]
                   for line in log.splitlines()), log
    assert "\\x0a" in log, log


def proc_env(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        return dict(x.split(b"=", 1) for x in f.read().split(b"\0") if b"=" in x)


def test_processes_leave_gnutls_uninitialised(env):
    """libcurl's dependencies load GnuTLS into every wardd process and it
    initialises itself at load (about 1 MiB each) unless told not to: the
    supervisor starts itself again with GNUTLS_NO_IMPLICIT_INIT=1, keeping
    its pid and its name, and every process it starts inherits it."""
    a = env.agent()
    assert a.apply(env.v1).returncode == 0
    a.assert_protecting(env.eicar)  # a scan: the scanners run
    sup = a.proc.pid
    pids = [sup, a.worker_pid()] + a.status()["scanners"]["pids"]
    assert len(pids) >= 3, pids
    for pid in pids:
        assert proc_env(pid).get(b"GNUTLS_NO_IMPLICIT_INIT") == b"1", pid
    with open("/proc/%d/comm" % sup) as f:
        assert f.read().strip() == "wardd"
    with open("/proc/%d/cmdline" % sup, "rb") as f:
        assert b"--config" in f.read().split(b"\0")
