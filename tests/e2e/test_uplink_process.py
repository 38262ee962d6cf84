"""The uplink process: wardd's only talker to the fleet server runs as
server.user, confined by seccomp, and the root worker takes from it only
typed messages it checks again.  Each attack test uses the fault build
(WARD_FAULT_UPLINK) to play an uplink process that a TLS, HTTP or JSON bug
gave to the server, and asserts what a user would check: the worker says
it was attacked, takes nothing of the forgery, restarts the uplink and
goes on (the same worker, not in safe mode)."""
import hashlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time

import pytest
from agentlib import Agent, Keys, crafted, wardd_path
from serverlib import agent_server_lines
from test_uplink_hostile import PREFIX, HostileFleet, send_bundle


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def socket_inodes(pid):
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(target[len("socket:["):-1])
    return out


def tcp_inodes_to(port):
    """Inodes of the TCP sockets connected to port on loopback."""
    out = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port:
                    out.add(fields[9])
    return out


@pytest.fixture
def fleet(ward, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the wardd tests run as root (make check runs them so)", pytrace=False)
    f = HostileFleet(tmp_path)
    keys = Keys(ward, str(tmp_path / "keys"))
    f.rel = keys.make("release")
    f.tmp = tmp_path
    f.agents = []

    def agent(fault=None, wait_enrolled=True):
        d = tmp_path / ("agent%d" % len(f.agents))
        d.mkdir()
        lines = agent_server_lines(f, "any-token", str(tmp_path / "ids" / d.name))
        a = Agent(ward, d, [f.rel[1]], extra=lines, fault=fault is not None,
                  env={"WARD_FAULT_UPLINK": fault} if fault else None)
        f.agents.append(a)
        a.start()
        if wait_enrolled:
            a.wait_for(lambda st: st.get("uplink", {}).get("state") == "enrolled", 20,
                       "enrollment")
        return a

    f.agent = agent
    yield f
    for a in f.agents:
        a.stop()
    f.stop()


def uplink_pid(a):
    return a.wait_for(lambda st: st["uplink"]["process"]["pid"] > 0, 20,
                      "the uplink process")["uplink"]["process"]["pid"]


def test_uplink_runs_unprivileged_and_confined(fleet):
    """The process that holds the connections to the server is server.user
    (nobody) with no capabilities, no_new_privs and a seccomp filter, holds
    nothing but its channels and the downloads directory, and the root
    worker holds no connection to the server at all."""
    a = fleet.agent()
    pid = uplink_pid(a)
    st = proc_status(pid)
    nobody = pwd.getpwnam("nobody")
    assert st["Name"] == "wardd-uplink"
    assert st["Uid"].split() == [str(nobody.pw_uid)] * 4, st["Uid"]
    assert st["Gid"].split() == [str(nobody.pw_gid)] * 4, st["Gid"]
    assert st["Groups"].strip() == ""
    assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0
    assert st["NoNewPrivs"] == "1" and st["Seccomp"] == "2"
    with open("/proc/%d/stat" % pid) as f:
        assert int(f.read().rsplit(")", 1)[1].split()[1]) == a.worker_pid()
    # Files it holds beside stdin, stdout and stderr: its channels and
    # sockets; nothing of the worker's (the journal, the content store,
    # the key, the downloads directory).
    for fd in os.listdir("/proc/%d/fd" % pid):
        if int(fd) <= 2:
            continue
        target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        assert target.startswith(("socket:", "pipe:", "anon_inode:", "/memfd:")), (fd, target)
    # The connections to the server are the uplink's; the worker has none.
    port = int(fleet.url.rsplit(":", 1)[1])
    fleet.wait(lambda f: f.checkins >= 2, 20, "check-ins")
    to_server = tcp_inodes_to(port)
    assert to_server, "no connection to the fleet server"
    assert not socket_inodes(a.worker_pid()) & to_server
    assert socket_inodes(pid) & to_server


def test_uplink_killed_is_restarted(fleet):
    """SIGKILL of the uplink process costs one call: a new one starts, the
    agent checks in again and stays enrolled."""
    a = fleet.agent()
    pid, worker = uplink_pid(a), a.worker_pid()
    os.kill(pid, 9)
    # Reaped at once (by the call it broke, or by the worker's tick
    # between calls), never left a zombie until some later call.
    end = time.time() + 3
    while os.path.exists("/proc/%d" % pid) and time.time() < end:
        time.sleep(0.05)
    assert not os.path.exists("/proc/%d" % pid), "the killed uplink was not reaped"
    st = a.wait_for(lambda st: st["uplink"]["process"]["pid"] not in (0, pid), 30,
                    "a new uplink process")
    assert st["uplink"]["process"]["starts"] >= 2
    n = fleet.checkins
    fleet.wait(lambda f: f.checkins >= n + 2, 30, "check-ins by the new uplink process")
    assert a.status()["uplink"]["state"] == "enrolled"
    assert a.worker_pid() == worker  # the worker went on


def wait_log(a, text, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if text in a.read_log():
            return
        time.sleep(0.1)
    raise AssertionError("%r not in the log:\n%s" % (text, a.read_log()))


def test_answer_out_of_range_from_the_uplink_is_an_attack(fleet):
    """An uplink process that answers a check-in with an acknowledgement
    below zero: the worker refuses the message as an attack, ends and
    restarts the uplink, and none of the answer is taken."""
    if not os.path.exists(wardd_path(fault=True)):
        pytest.fail("the fault build is missing (make fault-build)", pytrace=False)
    a = fleet.agent(fault="answer-range", wait_enrolled=False)
    worker = a.worker_pid()
    wait_log(a, "ipc: uplink: protocol violation by the peer (an answer with a number out "
                "of the protocol's range): channel closed, treated as an attack")
    st = a.wait_for(lambda st: st["uplink"]["process"]["starts"] >= 2, 30,
                    "the uplink restarted")
    assert a.worker_pid() == worker and st["mode"] != "safe"
    assert "the uplink process" in (st["uplink"].get("error") or ""), st["uplink"]
    assert st["uplink"].get("last_checkin") is None  # no answer was ever taken


def test_bundle_swapped_by_the_uplink_is_refused(fleet):
    """An uplink process that hands over a bundle other than the one the
    server announced (its last byte changed): the worker computes the
    SHA-256 itself, refuses it as an attack, and the content stays."""
    if not os.path.exists(wardd_path(fault=True)):
        pytest.fail("the fault build is missing (make fault-build)", pytrace=False)
    data = crafted(5, fleet.rel, str(fleet.tmp))
    sha = hashlib.sha256(data).hexdigest()
    fleet.on_bundle = lambda h, n: send_bundle(h, data)
    fleet.desired = lambda n: {"version": 5, "sha256": sha, "size": len(data),
                               "url": PREFIX + sha}
    a = fleet.agent(fault="bundle-swap")
    worker = a.worker_pid()
    wait_log(a, "a bundle whose SHA-256 is ")
    wait_log(a, "treated as an attack")
    fleet.wait(lambda f: len(f.downloads) >= 2, 30, "a second download")
    st = a.status()
    assert (st["content"].get("current") or {}).get("version") != 5, st["content"]
    assert a.worker_pid() == worker and st["mode"] != "safe"


def test_forged_enrollment_from_the_uplink_is_not_saved(fleet):
    """An uplink process that reports an enrollment whose secret is a path:
    refused as an attack; the agent saves no identity and keeps trying."""
    if not os.path.exists(wardd_path(fault=True)):
        pytest.fail("the fault build is missing (make fault-build)", pytrace=False)
    a = fleet.agent(fault="enrolled-bad", wait_enrolled=False)
    worker = a.worker_pid()
    wait_log(a, "protocol violation by the peer (a malformed enrollment)")
    fleet.wait(lambda f: f.enrolls >= 2, 30, "a second enrollment")
    assert not os.path.exists(os.path.join(a.state, "uplink.json"))
    st = a.status()
    assert st["uplink"]["state"] == "enrolling", st["uplink"]
    assert a.worker_pid() == worker and st["mode"] != "safe"


def test_name_resolution_is_inside_the_sandbox(ward, tmp_path):
    """server.url with a host name: the uplink process resolves it (hosts
    file, then DNS) under its seccomp filter — an unknown name is a failed
    call that says so, never a process killed for a system call."""
    keys = Keys(ward, str(tmp_path / "keys"))
    rel = keys.make("release")
    (tmp_path / "agent").mkdir()
    a = Agent(ward, tmp_path / "agent", [rel[1]], extra=[
        "server:", "  url: https://ward-uplink-test.invalid:8443",
        "  enroll_token: %s" % ("ab" * 32)])
    a.start()
    try:
        st = a.wait_for(lambda st: "resolve" in (st["uplink"].get("error") or ""), 60,
                        "the name looked up")
        assert "ward-uplink-test.invalid" in st["uplink"]["error"], st["uplink"]
        time.sleep(2)  # a retry or two
        st = a.status()
        assert st["uplink"]["process"]["starts"] == 1, (st["uplink"], a.read_log())
        assert "killed by signal" not in a.read_log(), a.read_log()
    finally:
        a.stop()


def test_check_config_refuses_root_as_server_user(ward, tmp_path):
    """server.user root would give the server's bytes to a root process:
    --check-config says so and fails, as the agent would refuse to start
    its uplink."""
    keys = Keys(ward, str(tmp_path / "keys"))
    rel = keys.make("release")
    cfg = tmp_path / "wardd.yaml"
    cfg.write_text("trusted_keys: [%s]\nstate_dir: %s\nrun_dir: %s\nserver:\n"
                   "  url: https://127.0.0.1:1\n  user: root\n" % (rel[1], tmp_path / "s",
                                                                  tmp_path / "r"))
    p = subprocess.run([wardd_path(), "--config", str(cfg), "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 78, p.stdout + p.stderr
    assert "server.user root: must not be root" in p.stderr, p.stderr


def test_failure_of_status_200_from_the_uplink_is_an_attack(fleet):
    """An uplink process that reports every call as a "failure" of status
    200 — which, taken as a status, would make a call succeed with an
    answer no one checked (an empty identity saved, no bundle activated):
    refused as an attack; nothing is saved, the worker goes on."""
    if not os.path.exists(wardd_path(fault=True)):
        pytest.fail("the fault build is missing (make fault-build)", pytrace=False)
    a = fleet.agent(fault="failed-200", wait_enrolled=False)
    worker = a.worker_pid()
    wait_log(a, "protocol violation by the peer (a malformed failure)")
    a.wait_for(lambda st: st["uplink"]["process"]["starts"] >= 2, 30, "the uplink restarted")
    assert not os.path.exists(os.path.join(a.state, "uplink.json"))
    st = a.status()
    assert st["uplink"]["state"] == "enrolling" and not st["uplink"]["agent_id"], st["uplink"]
    assert a.worker_pid() == worker and st["mode"] != "safe"


def test_uplink_cannot_write_outside(fleet):
    """An uplink process taken over tries to create a file: its seccomp
    filter kills it (no file opened for writing anywhere: a download goes
    into the part file the worker hands over), the file is not there, and
    the worker starts a new uplink."""
    if not os.path.exists(wardd_path(fault=True)):
        pytest.fail("the fault build is missing (make fault-build)", pytrace=False)
    d = tempfile.mkdtemp(prefix="ward-escape-", dir="/tmp")
    try:
        os.chmod(d, 0o777)  # nobody could write there, but for the filter
        target = os.path.join(d, "escape")
        a = fleet.agent(fault="write-outside:%s" % target, wait_enrolled=False)
        wait_log(a, "was killed by signal 31 (Bad system call)")
        assert not os.path.exists(target)
        a.wait_for(lambda st: st["uplink"]["process"]["starts"] >= 2, 30,
                   "the uplink restarted")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_uplink_is_retired_after_a_download(fleet):
    """A download hands the uplink a writable descriptor of the worker's
    part file; an uplink taken over could keep it and fill the disk. So
    after every download the uplink process is ended (quietly, no backoff)
    and the next call starts a fresh one: the bundle is activated, the
    process is new, and the part file is gone."""
    data = crafted(6, fleet.rel, str(fleet.tmp))
    sha = hashlib.sha256(data).hexdigest()
    fleet.on_bundle = lambda h, n: send_bundle(h, data)
    a = fleet.agent()
    first = uplink_pid(a)
    fleet.desired = lambda n: {"version": 6, "sha256": sha, "size": len(data),
                               "url": PREFIX + sha}
    a.wait_for(lambda st: (st["content"].get("current") or {}).get("version") == 6, 30,
               "version 6 active")
    st = a.wait_for(lambda st: st["uplink"]["process"]["pid"] not in (0, first), 30,
                    "a fresh uplink process")
    assert st["uplink"]["process"]["starts"] >= 2
    assert "ended:" not in a.read_log() and "killed by signal" not in a.read_log()
    assert os.listdir(os.path.join(a.state, "downloads")) == []
    for fd in os.listdir("/proc/%d/fd" % st["uplink"]["process"]["pid"]):
        target = os.readlink("/proc/%d/fd/%s" % (st["uplink"]["process"]["pid"], fd))
        assert "downloads" not in target, target
