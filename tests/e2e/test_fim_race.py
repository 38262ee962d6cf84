"""
A local user against the real-time FIM sensor.  The agent is root and
watches a tree where the user owns directories; root also has a directory
the user cannot read, with a secret file in it.  By swapping one of their
directories for a symbolic link to root's at the right moment, the user
tries to make root watch and walk root's directory and report what is in
it (names, metadata and the hash of the secret, in events the user may
see or shape), or hash root's file in place of their own.  Both must
fail, the sensor must go on watching the real tree, and nothing may crash.

The user is `nobody` (commands run through setpriv); the files live on a
tmpfs the test mounts under a directory of its own in /tmp.  The races are
made deterministic by the fault build's WARD_FAULT_FIM_STALL_*: a pause
when the sensor is about to look at a directory or file of a given name,
and a flag file that says the pause began.
"""

import hashlib
import os
import subprocess
import time

import pytest

from test_fim_realtime import fim_events, wait_fim as wait_fim_for
from userlib import nobody, run_as, user_tmpfs

from agentlib import Agent, Keys, crafted

SECRET = b"root's private key material: 7c1e0a2f9b4d6e8a\n"
SECRET_NAME = "root-only.key"
USER_DATA = b"the user's own file\n"


class Box:
    pass


@pytest.fixture
def box(ward, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the FIM race tests run as root (make check runs them so)", pytrace=False)
    b = Box()
    b.ward, b.tmp = ward, tmp_path
    b.uid, b.gid = nobody()
    agents = []
    # (tmp_path's parents are root's, 0700: the user could not reach a mount there.)
    with user_tmpfs("ward-fimrace-") as b.mnt:
        try:
            # The watched tree, the user's; a place of theirs outside it; root's secret.
            b.home = os.path.join(b.mnt, "home")
            b.stage = os.path.join(b.mnt, "stage")
            for d in (b.home, b.stage):
                os.mkdir(d)
                os.chown(d, b.uid, b.gid)
            b.secret_dir = os.path.join(b.mnt, "secret")
            os.mkdir(b.secret_dir, 0o700)
            b.secret = os.path.join(b.secret_dir, SECRET_NAME)
            with open(b.secret, "wb") as f:
                f.write(SECRET)
            os.chmod(b.secret, 0o600)
            b.secret_ino = os.stat(b.secret).st_ino
            b.flag = str(tmp_path / "stalled")
            keys = Keys(ward, str(tmp_path / "keys"))
            rel = keys.make("release")
            # Content without a FIM policy of its own: the sensor watches only the test's paths.
            v1 = str(tmp_path / "v1.wbundle")
            with open(v1, "wb") as f:
                f.write(crafted(1, rel, str(tmp_path)))

            def agent(paths, stall=None, dirs=1):
                """stall: ("DIR" or "FILE", name) for the fault build's pause."""
                d = tmp_path / ("agent%d" % len(agents))
                d.mkdir()
                lines = ["fim:", "  paths: [%s]" % ", ".join(paths)]
                env = None
                if stall is not None:
                    env = {"WARD_FAULT_FIM_STALL_" + stall[0]: stall[1],
                           "WARD_FAULT_FIM_STALL_MS": "1500",
                           "WARD_FAULT_FIM_STALL_FLAG": b.flag}
                a = Agent(ward, d, [rel[1]], fault=stall is not None, extra=lines, env=env)
                agents.append(a)
                a.start()
                p = a.apply(v1)
                assert p.returncode == 0, p.stderr
                a.wait_for(lambda s: s["sensors"]["fim"].get("counters", {}).get("dirs", 0) >= dirs,
                           what="the FIM sensor watching the tree")
                a.first_pid = a.worker_pid()
                return a

            b.agent = agent
            yield b
        finally:
            for a in agents:
                a.stop()


def wait_fim(a, pred, what="event"):
    """As test_fim_realtime's, with room for the fault build's pauses."""
    return wait_fim_for(a, pred, timeout=5.0, what=what)


def as_user(b, *cmd, data=None):
    """Runs cmd as the unprivileged user; asserts it worked."""
    return run_as(b.uid, b.gid, *cmd, data=data)


def wait_stall(b, a):
    end = time.time() + 15
    while not os.path.exists(b.flag):
        assert time.time() < end, "the sensor never paused:\n" + a.read_log()
        time.sleep(0.01)


def assert_no_secret(b, a):
    """No event names a file of root's directory or carries what its secret is."""
    digest = hashlib.sha256(SECRET).hexdigest()
    for e in fim_events(a):
        f = e.get("file", {})
        assert f.get("hash", {}).get("sha256") != digest, ("the secret's hash", e)
        assert f.get("inode") != b.secret_ino or f.get("type") != "file", ("the secret", e)
        assert SECRET_NAME not in f.get("path", ""), ("a name in root's directory", e)
        assert not f.get("path", "").startswith(b.secret_dir), e


def assert_alive(a):
    assert a.proc.poll() is None, a.read_log()
    st = a.status()
    assert st["pid"] == a.first_pid, "the worker was restarted:\n" + a.read_log()
    assert st["sensors"]["fim"]["state"] == "on", st["sensors"]["fim"]
    return st


def root_only_unwatched(b, a, name):
    """A file root adds to its directory now is not reported (that
    directory is not watched), while the user's real tree still is."""
    with open(os.path.join(b.secret_dir, name), "wb") as f:
        f.write(SECRET)
    marker = os.path.join(b.home, "marker-%d" % len(fim_events(a)))
    as_user(b, "tee", marker, data=b"m\n")
    wait_fim(a, lambda e: e["file"]["path"] == marker, what="the marker")
    time.sleep(0.3)
    assert not [e for e in fim_events(a) if e["file"]["path"].endswith("/" + name)], fim_events(a)


def test_subdirectory_swapped_for_a_link_during_the_walk(box):
    """The user moves a tree into the watched one; while the sensor walks
    it, between finding a subdirectory and marking and reading it, the
    user puts a link to root's directory in that subdirectory's place.
    Before the fix, root marked and listed root's directory and reported
    its secret file (with its hash) as created under the user's path."""
    a = box.agent([box.home], stall=("DIR", "sub"))
    staged = os.path.join(box.stage, "d")
    as_user(box, "mkdir", "-p", os.path.join(staged, "sub"))
    as_user(box, "tee", os.path.join(staged, "sub", "mine.txt"), data=USER_DATA)
    d = os.path.join(box.home, "d")
    as_user(box, "mv", staged, d)
    wait_stall(box, a)
    sub = os.path.join(d, "sub")
    as_user(box, "mv", sub, sub + ".real")
    as_user(box, "ln", "-s", box.secret_dir, sub)
    wait_fim(a, lambda e: e["event"]["action"] == "file-renamed" and
             e["file"]["path"] == sub + ".real", what="the swap's rename")
    wait_fim(a, lambda e: e["file"]["path"] == sub and e["file"].get("type") == "symlink",
             what="the link")
    assert_no_secret(box, a)
    # The walk went on with the real directory, under the path it was found at.
    ev = wait_fim(a, lambda e: e["file"]["path"] == os.path.join(sub, "mine.txt"),
                  what="the moved-in file")
    assert ev["file"]["hash"]["sha256"] == hashlib.sha256(USER_DATA).hexdigest()
    assert ev["file"]["uid"] == str(box.uid)
    root_only_unwatched(box, a, "added-later.key")
    # The sensor still watches the real tree: home, d, d/sub.real; not root's.
    after = os.path.join(sub + ".real", "after.txt")
    as_user(box, "tee", after, data=b"after\n")
    ev = wait_fim(a, lambda e: e["file"]["path"] == after, what="a change in the real directory")
    assert ev["file"]["hash"]["sha256"] == hashlib.sha256(b"after\n").hexdigest()
    st = assert_alive(a)
    assert st["sensors"]["fim"]["counters"]["dirs"] == 3, st["sensors"]["fim"]
    assert_no_secret(box, a)


def test_parent_swapped_for_a_link_before_the_hash(box):
    """The user writes a file named as root's secret; between the event
    and the sensor's look at the file, the user puts a link to root's
    directory in place of the file's directory.  Before the fix, root
    hashed root's file and reported its hash, owner and size as the
    user's."""
    a = box.agent([box.home], stall=("FILE", SECRET_NAME))
    w = os.path.join(box.home, "w")
    as_user(box, "mkdir", w)
    wait_fim(a, lambda e: e["file"]["path"] == w, what="the new directory")
    a.wait_for(lambda s: s["sensors"]["fim"]["counters"]["dirs"] == 2, what="w watched")
    mine = os.path.join(w, SECRET_NAME)
    as_user(box, "tee", mine, data=USER_DATA)
    wait_stall(box, a)
    as_user(box, "mv", w, w + ".real")
    as_user(box, "ln", "-s", box.secret_dir, w)
    ev = wait_fim(a, lambda e: e["file"]["path"] == mine and
                  e["event"]["action"] == "file-created", what="the user's file")
    digest = hashlib.sha256(SECRET).hexdigest()
    for e in fim_events(a):
        f = e["file"]
        assert f.get("hash", {}).get("sha256") != digest, ("the secret's hash", e)
        assert f.get("inode") != box.secret_ino, ("the secret's inode", e)
        if f["path"] == mine and "uid" in f:
            assert f["uid"] == str(box.uid), e
    # What the user wrote, seen in the directory it was written in.
    assert ev["file"]["hash"]["sha256"] == hashlib.sha256(USER_DATA).hexdigest(), ev
    assert ev["file"]["size"] == len(USER_DATA) and ev["file"]["uid"] == str(box.uid), ev
    root_only_unwatched(box, a, "added-later.key")
    later = os.path.join(w + ".real", "later.txt")
    as_user(box, "tee", later, data=b"later\n")
    wait_fim(a, lambda e: e["file"]["path"] == later, what="a change in the real directory")
    st = assert_alive(a)
    assert st["sensors"]["fim"]["counters"]["dirs"] == 2, st["sensors"]["fim"]


def test_policy_path_through_a_users_link(box):
    """A watched path that goes through a link the user made leads
    nowhere (and the status says why); one through root's own link in
    root's directory is still followed, as before."""
    inner = os.path.join(box.secret_dir, "inner")
    os.mkdir(inner, 0o700)
    as_user(box, "ln", "-s", box.secret_dir, os.path.join(box.home, "link"))
    real = os.path.join(box.mnt, "real")
    os.makedirs(os.path.join(real, "conf"))
    os.symlink("real", os.path.join(box.mnt, "rootlink"))
    via_user = os.path.join(box.home, "link", "inner")
    via_root = os.path.join(box.mnt, "rootlink", "conf")
    a = box.agent([via_user, via_root])
    with open(os.path.join(inner, SECRET_NAME), "wb") as f:
        f.write(SECRET)
    conf = os.path.join(real, "conf", "app.conf")
    with open(conf, "w") as f:
        f.write("x=1\n")
    wait_fim(a, lambda e: e["file"]["path"] == os.path.join(via_root, "app.conf"),
             what="a change under root's link")
    time.sleep(0.3)
    assert_no_secret(box, a)
    st = assert_alive(a)
    fim = st["sensors"]["fim"]
    assert "symbolic link" in fim.get("partial", "") and via_user in fim["partial"], fim
    assert fim["counters"]["dirs"] == 1, fim


def test_nested_filesystem_watched_and_unmountable(box):
    """Reaching directories by file handle needs a descriptor of their
    filesystem: a filesystem mounted inside the watched tree is watched
    (its changes carry their hash), and once the sensor has been quiet
    for a moment it keeps nothing open there, so it can be unmounted."""
    nested = os.path.join(box.home, "nested")
    os.mkdir(nested)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "wardfimnested", nested],
                   check=True)
    a = None
    try:
        a = box.agent([box.home], dirs=2)
        f = os.path.join(nested, "conf")
        with open(f, "wb") as out:
            out.write(USER_DATA)
        ev = wait_fim(a, lambda e: e["file"]["path"] == f, what="a change on the nested mount")
        assert ev["file"]["hash"]["sha256"] == hashlib.sha256(USER_DATA).hexdigest(), ev
        time.sleep(2.5)
        p = subprocess.run(["umount", nested], stderr=subprocess.PIPE)
        assert p.returncode == 0, "the agent keeps the filesystem busy: %s" % p.stderr
        assert_alive(a)
    finally:
        if os.path.ismount(nested):
            if a is not None:
                a.stop()
            subprocess.run(["umount", nested], check=True)
