"""
wardd's control socket (run_dir/control.sock) against a hostile client:
frames that are not frames, a type no request has, a frame larger than any
request, a request with an argument its command does not take, and the old
JSON-line client on a stream socket.  Each is refused (the connection is
closed without an answer), the agent logs it as an attack, and it keeps
serving `ward agent status` and scans afterwards.
"""

import json
import os
import socket
import struct
import time

import pytest

from agentlib import DEFAULT_SRC, Agent, Keys
from conftest import EICAR

ATTACK = "ipc: control: protocol violation by the peer"


def frame(t, payload, seq=1):
    return struct.pack("<HBBHHII", 0x5749, 1, 0, t, 0, len(payload), seq) + payload


def request(flags=0, a=b"", b=b""):
    return bytes([flags]) + struct.pack("<I", len(a)) + a + struct.pack("<I", len(b)) + b


@pytest.fixture
def agent(ward, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the wardd tests run as root (make check runs them so)", pytrace=False)
    keys = Keys(ward, str(tmp_path / "keys"))
    rel = keys.make("release")
    v1 = str(tmp_path / "v1.wbundle")
    assert ward.run("content", "build", DEFAULT_SRC, "-o", v1).returncode == 0
    assert ward.run("content", "sign", v1, "--key", rel[0]).returncode == 0
    d = tmp_path / "agent"
    d.mkdir()
    a = Agent(ward, d, [rel[1]])
    a.start()
    p = a.apply(v1)
    assert p.returncode == 0, p.stdout + p.stderr + a.read_log()
    eicar = tmp_path / "eicar.com"
    eicar.write_bytes(EICAR)
    a.eicar = str(eicar)
    yield a
    a.stop()


def send_raw(a, data):
    """Sends data as one record; returns what the agent answers (b'' when it
    closes without an answer)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.settimeout(15)
        s.connect(os.path.join(a.run_dir, "control.sock"))
        s.send(data)
        try:
            return s.recv(1 << 17)
        except ConnectionResetError:
            return b""
    finally:
        s.close()


def attacks_logged(a):
    return a.read_log_all().count(ATTACK)


def wait_attacks(a, n, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if attacks_logged(a) >= n:
            return
        time.sleep(0.05)
    raise AssertionError("expected %d attacks logged:\n%s" % (n, a.read_log()))


def test_hostile_requests_refused_and_agent_serves(agent):
    a = agent
    a.read_log_all = lambda: open(a.log, errors="replace").read()
    assert attacks_logged(a) == 0
    cases = [
        ("garbage", b"GET / HTTP/1.0\r\n\r\n" * 4),
        ("unknown type", frame(99, request())),
        ("an answer sent to the agent", frame(64, b"{}")),
        ("oversized", frame(1, b"\0" * 70000)),
        ("status with an argument", frame(1, request(0, b"/etc/shadow"))),
        ("scan with an undefined flag", frame(4, request(0x80, b"/"))),
        ("wrong sequence number", frame(1, request(), seq=7)),
        ("length that lies", frame(2, request(0, b"/x"))[:-1]),
    ]
    for n, (what, data) in enumerate(cases, 1):
        assert send_raw(a, data) == b"", what
        wait_attacks(a, n)
        # Still serving between attacks.
        st = a.status()
        assert st["mode"] == "protecting", (what, st)
    log = a.read_log_all()
    assert "a frame of type 99, not one this end may receive" in log, log[-3000:]
    assert "status: arguments it does not take" in log, log[-3000:]
    assert "channel closed, treated as an attack" in log
    # The old JSON-line client on a stream socket cannot connect at all.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with pytest.raises(OSError):
        s.connect(os.path.join(a.run_dir, "control.sock"))
    s.close()
    # A well-formed request still works, and so does a scan.
    ok = send_raw(a, frame(1, request()))
    assert ok[:2] == struct.pack("<H", 0x5749) and b'"mode"' in ok, ok[:200]
    p = a.agent("scan", a.eicar)
    assert p.returncode == 1 and "EICAR_Test_File FOUND" in p.stdout, p.stdout + p.stderr
    assert a.proc.poll() is None


def test_worker_started_by_exec_with_its_role(agent):
    """The worker is a fresh wardd (`wardd --worker --config PATH`), not a
    fork of the supervisor: its role is in argv and it inherited no
    descriptor beyond its two channels to the supervisor (fds 3 and 4)."""
    a = agent
    wpid = a.worker_pid()
    assert wpid != a.proc.pid
    with open("/proc/%d/cmdline" % wpid, "rb") as f:
        argv = f.read().split(b"\0")[:-1]
    assert argv[:3] == [b"wardd", b"--worker", b"--config"], argv
    assert argv[3] == os.path.realpath(a.config).encode(), argv
    with open("/proc/%d/status" % wpid) as f:
        ppid = [int(l.split()[1]) for l in f if l.startswith("PPid:")][0]
    assert ppid == a.proc.pid
    # Its channels are sockets, then the directories' locks (it holds them
    # as long as it lives, like its supervisor), and nothing else it was
    # not meant to have: its own descriptors come after.
    for fd in (3, 4):
        assert os.readlink("/proc/%d/fd/%d" % (wpid, fd)).startswith("socket:"), fd
    locks = sorted(int(fd) for fd in os.listdir("/proc/%d/fd" % wpid)
                   if os.readlink("/proc/%d/fd/%s" % (wpid, fd)).endswith("/wardd.lock"))
    assert locks == [5, 6], locks
    # Still the supervisor's child: killed, it is restarted and serves again.
    os.kill(wpid, 9)
    st = a.wait_for(lambda s: s["pid"] != wpid, what="a restarted worker")
    assert st["mode"] == "protecting", st


def test_large_answer_comes_in_a_sealed_memory_file(agent, tmp_path):
    """A scan result larger than a frame (64 KiB) reaches `ward agent scan`
    whole, in a sealed memory file beside the answer frame."""
    a = agent
    d = tmp_path / "many"
    d.mkdir()
    n = 1200
    for i in range(n):
        (d / ("eicar-copy-with-a-long-name-to-make-the-answer-large-%05d.com" % i)).write_bytes(EICAR)
    p = a.agent("scan", str(d), "--format", "json")
    assert p.returncode == 1, p.stderr + a.read_log()
    assert len(p.stdout) > 70000, len(p.stdout)
    res = json.loads(p.stdout)
    assert res["files"] == n, str(res)[:500]
    assert len({m["path"] for m in res["matches"]}) == n
    assert len(res["matches"]) == res["match_count"]
