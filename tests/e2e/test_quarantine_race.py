"""
A local user against the agent's quarantine.  The agent is root; the
detected file is the user's, in a directory the user owns.  By swapping
that directory for a symbolic link to a directory of root at the right
moment, the user tries to make root delete a file of root (think
/etc/shadow) when the quarantine removes the original, or create one (think
/etc/ld.so.preload) when an operator restores it.  Both must fail, and
nothing may be lost.

The user is `nobody` (commands run through setpriv); the files live on a
tmpfs the test mounts (and gives, alone, to the agent) under a directory
of its own in /tmp, so that nobody can reach it.  The race is made
deterministic by the fault build's WARD_FAULT_QUARANTINE_STALL_MS: a pause
between the stored copy and the removal.
"""

import json
import os
import time

import pytest

from userlib import nobody, run_as, user_tmpfs

from agentlib import DEFAULT_SRC, Agent, Keys, read_journal, wait_events
from conftest import EICAR

VICTIM = b"root:$6$rounds=5000$victim$hash:19000:0:99999:7:::\n"


class Box:
    pass


@pytest.fixture
def box(ward, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the quarantine race tests run as root (make check runs them so)",
                    pytrace=False)
    b = Box()
    b.ward, b.tmp = ward, tmp_path
    b.uid, b.gid = nobody()
    agents = []
    # (tmp_path's parents are root's, 0700: the user could not reach a mount there.)
    with user_tmpfs("ward-qrace-") as b.mnt:
        try:
            # The user's home, and root's directory with the victim in it.
            b.home = os.path.join(b.mnt, "home")
            os.mkdir(b.home)
            os.chown(b.home, b.uid, b.gid)
            b.etc = os.path.join(b.mnt, "etc")
            os.mkdir(b.etc, 0o755)
            keys = Keys(ward, str(tmp_path / "keys"))
            rel = keys.make("release")
            v1 = str(tmp_path / "v1.wbundle")
            assert ward.run("content", "build", DEFAULT_SRC, "-o", v1).returncode == 0
            assert ward.run("content", "sign", v1, "--key", rel[0]).returncode == 0

            def agent(fault=False, env_vars=None):
                d = tmp_path / ("agent%d" % len(agents))
                d.mkdir()
                lines = ["onaccess:", "  paths: [%s]" % b.mnt, "  on_write: quarantine"]
                a = Agent(ward, d, [rel[1]], fault=fault, extra=lines, env=env_vars)
                agents.append(a)
                a.start()
                p = a.apply(v1)
                assert p.returncode == 0, p.stderr
                return a

            b.agent = agent
            yield b
        finally:
            for a in agents:
                a.stop()


def as_user(b, *cmd, data=None):
    """Runs cmd as the unprivileged user; asserts it worked."""
    return run_as(b.uid, b.gid, *cmd, data=data)


def user_writes(b, path, data):
    as_user(b, "tee", path, data=data)


def put_victim(b, name):
    path = os.path.join(b.etc, name)
    with open(path, "wb") as f:
        f.write(VICTIM)
    os.chmod(path, 0o600)
    return path, os.stat(path)


def entries(b, a, run_dir=None):
    p = b.ward.run("quarantine", "--state-dir", a.state, "--run-dir", run_dir or a.run_dir,
                   "list", "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def wait_quarantine_outcome(a, timeout=15):
    """The first file-quarantined or file-quarantine-failed event."""
    end = time.time() + timeout
    while time.time() < end:
        for _, e in read_journal(a.state):
            if e["event"]["action"] in ("file-quarantined", "file-quarantine-failed"):
                return e
        time.sleep(0.05)
    raise AssertionError("no quarantine outcome; journal: %s\nlog:\n%s" % (
        [e["event"]["action"] for _, e in read_journal(a.state)], a.read_log()))


def test_directory_swapped_for_a_link_during_quarantine(box):
    """While the agent is between the stored copy and the removal, the user
    renames the directory away and puts a symbolic link to root's
    directory in its place, where a file of the same name is root's.
    Before the fix, root removed that file."""
    a = box.agent(fault=True, env_vars={"WARD_FAULT_QUARANTINE_STALL_MS": "3000"})
    victim, vst = put_victim(box, "shadow")
    dl = os.path.join(box.home, "dl")
    as_user(box, "mkdir", dl)
    detected = os.path.join(dl, "shadow")
    user_writes(box, detected, EICAR)
    # The record is stored (synced) just before the pause: then swap.
    qdir = os.path.join(a.state, "quarantine")
    end = time.time() + 10
    while not (os.path.isdir(qdir) and any(n.endswith(".json") for n in os.listdir(qdir))):
        assert time.time() < end, "the quarantine did not start:\n" + a.read_log()
        time.sleep(0.01)
    assert open(detected, "rb").read() == EICAR, "removed before the pause: no race to run"
    as_user(box, "mv", dl, dl + ".moved")
    as_user(box, "ln", "-s", box.etc, dl)
    ev = wait_quarantine_outcome(a)
    # Root's file is intact: same bytes, same inode; nothing else appeared there.
    assert open(victim, "rb").read() == VICTIM
    st = os.stat(victim)
    assert (st.st_ino, st.st_uid, st.st_mode & 0o7777) == (vst.st_ino, 0, 0o600)
    assert os.listdir(box.etc) == ["shadow"]
    moved = os.path.join(dl + ".moved", "shadow")
    listed = entries(box, a)
    if ev["event"]["action"] == "file-quarantine-failed":
        # Left in place (in the moved directory), and the event says why.
        assert "moved or replaced" in ev["message"], ev
        assert ev["file"]["path"] == detected
        assert open(moved, "rb").read() == EICAR
        assert listed == []
    else:
        # Quarantined: then it must come back byte for byte.
        assert not os.path.exists(moved)
        qid = ev["ward"]["quarantine"]["id"]
        assert [e["id"] for e in listed] == [qid]
        as_user(box, "rm", dl)
        as_user(box, "mv", dl + ".moved", dl)
        p = box.ward.run("quarantine", "--state-dir", a.state, "--run-dir", a.run_dir,
                         "restore", qid)
        assert p.returncode == 0, p.stderr
        assert open(detected, "rb").read() == EICAR


def test_restore_through_a_link_refused(box):
    """After the quarantine, the user replaces the original directory by a
    symbolic link to root's directory.  Before the fix, the restore created
    a file of the user's there (ld.so.preload: code in every process)."""
    a = box.agent()
    dl = os.path.join(box.home, "dl")
    as_user(box, "mkdir", dl)
    detected = os.path.join(dl, "ld.so.preload")
    user_writes(box, detected, EICAR)
    qid = wait_events(a, "file-quarantined", timeout=15)[-1]["ward"]["quarantine"]["id"]
    assert not os.path.exists(detected)
    as_user(box, "mv", dl, dl + ".real")
    as_user(box, "ln", "-s", box.etc, dl)
    before = sorted(os.listdir(box.etc))
    # Through the agent, and by ward itself (a run directory with no agent).
    for run_dir in (a.run_dir, str(box.tmp / "no-agent")):
        p = box.ward.run("quarantine", "--state-dir", a.state, "--run-dir", run_dir, "restore",
                         qid)
        assert p.returncode == 2, (p.stdout, p.stderr)
        assert "symbolic link" in p.stderr and "--to DIR" in p.stderr, p.stderr
        assert sorted(os.listdir(box.etc)) == before
        assert [e["id"] for e in entries(box, a, run_dir)] == [qid]
    assert not os.path.exists(os.path.join(box.etc, "ld.so.preload"))
    # The way out: --to a directory of the user's (the file is theirs).
    p = box.ward.run("quarantine", "--state-dir", a.state, "--run-dir", a.run_dir, "restore",
                     qid, "--to", dl + ".real")
    assert p.returncode == 0, p.stderr
    back = os.path.join(dl + ".real", "ld.so.preload")
    assert p.stdout.strip() == "restored " + back
    assert open(back, "rb").read() == EICAR
    st = os.stat(back)
    assert (st.st_uid, st.st_gid) == (box.uid, box.gid)
    assert entries(box, a) == []
    ev = wait_events(a, "file-restored")[-1]
    assert ev["file"]["path"] == back
    # The agent's own write is not quarantined again.
    time.sleep(0.5)
    assert open(back, "rb").read() == EICAR
    assert sorted(os.listdir(box.etc)) == before
