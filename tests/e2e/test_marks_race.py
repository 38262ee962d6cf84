"""
A local user against root's use of the paths it was configured with.

On-access marks: the agent (root) puts fanotify *permission* marks on the
mount of each onaccess.paths entry and on each onaccess.block_open
directory.  When such a path goes through a directory the user owns
(onaccess.paths: [/home/alice/Downloads]), the user can put a symbolic
link in its place — before the agent starts, or before new content makes
the agent mark again — and try to make root mark another mount (think of
the root filesystem: every exec on the host would then wait on the
agent).  The agent must refuse the path, say so in `ward agent status`
and the journal, and mark nothing else; the other paths stay watched.

FIM baseline: root runs `ward fim baseline` over a tree where the user
owns a directory, while the user swaps it for a link to a directory of
root's, again and again.  The baseline must never hold root's files
(their hash, owner and mode) under the user's paths.

The user is `nobody` (commands run through setpriv).  Everything lives on
two tmpfs the test mounts under directories of its own in /tmp: A holds
the configured paths, B stands in for the mount the user aims at.  No
permission mark is ever put on a mount the test did not create: before
each agent starts, every configured path (links resolved) is checked to
lie on A or B.
"""

import hashlib
import os
import subprocess
import time

import pytest

from userlib import nobody, run_as, user_tmpfs

from agentlib import (DEFAULT_SRC, Agent, Keys, read_journal, signed_bundle, wait_events,
                      wardd_path)
from conftest import EICAR

# Detected by the content (a reverse shell one-liner), harmless when it runs.
DETECTED = b"#!/bin/sh\necho ran\nexit 0\nbash -i >& /dev/tcp/127.0.0.1/9 0>&1\n"


class Box:
    pass


@pytest.fixture
def box(ward, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the marks race tests run as root (make check runs them so)", pytrace=False)
    b = Box()
    b.ward, b.tmp = ward, tmp_path
    b.uid, b.gid = nobody()
    agents = []
    # (tmp_path's parents are root's, 0700: the user could not reach a mount there.)
    with user_tmpfs("ward-marks-a-", size="64m") as b.a, user_tmpfs("ward-marks-b-") as b.b:
        try:
            # On A: root's /srv, the user's home with Downloads in it.
            b.srv = os.path.join(b.a, "srv")
            os.mkdir(b.srv, 0o755)
            b.home = os.path.join(b.a, "home", "alice")
            os.makedirs(b.home)
            os.chown(b.home, b.uid, b.gid)
            b.downloads = os.path.join(b.home, "Downloads")
            os.mkdir(b.downloads)
            os.chown(b.downloads, b.uid, b.gid)
            # On B, what the user wants root to mark: a detected script and
            # the EICAR file, which anybody may run and open while B is not
            # marked.
            b.target = os.path.join(b.b, "bin")
            os.mkdir(b.target, 0o755)
            b.b_script = os.path.join(b.target, "update.sh")
            b.b_eicar = os.path.join(b.target, "eicar.com")
            put(b.b_script, DETECTED, 0o755)
            put(b.b_eicar, EICAR, 0o644)
            keys = Keys(ward, str(tmp_path / "keys"))
            b.rel = keys.make("release")
            b.v1 = str(tmp_path / "v1.wbundle")
            assert ward.run("content", "build", DEFAULT_SRC, "-o", b.v1).returncode == 0
            assert ward.run("content", "sign", b.v1, "--key", b.rel[0]).returncode == 0

            def agent(paths, block_open=()):
                for p in list(paths) + list(block_open):
                    real = os.path.realpath(p)
                    assert any(real == m or real.startswith(m + "/") for m in (b.a, b.b)), (
                        "refusing to go on: %s leads to %s, not to a mount of the test" % (
                            p, real))
                d = tmp_path / ("agent%d" % len(agents))
                d.mkdir()
                lines = ["onaccess:", "  paths: [%s]" % ", ".join(paths)]
                if block_open:
                    lines.append("  block_open: [%s]" % ", ".join(block_open))
                a = Agent(ward, d, [b.rel[1]], extra=lines)
                agents.append(a)
                a.start()
                p = a.apply(b.v1)
                assert p.returncode == 0, p.stderr
                return a

            b.agent = agent
            yield b
        finally:
            for a in agents:
                a.stop()


def put(path, data, mode):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def as_user(b, *cmd, data=None):
    return run_as(b.uid, b.gid, *cmd, data=data)


def users_link(b):
    """The user replaces their Downloads by a link to B's directory."""
    as_user(b, "mv", b.downloads, b.downloads + ".real")
    as_user(b, "ln", "-s", b.target, b.downloads)


def run(path):
    return subprocess.run(["/bin/sh", "-c", 'exec "$0"', path], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=20)


def assert_b_not_marked(b, a):
    """Nothing on B waits for the agent or is seen by it: the detected
    script runs, the EICAR file opens, a detected file written there is
    not reported, and the agent gets no event for any of it."""
    before = a.status()["sensors"]["onaccess"].get("counters", {}).get("events", 0)
    p = run(b.b_script)
    assert p.returncode != 126 and b"Operation not permitted" not in p.stderr, (
        "exec on B was denied: the agent marked B's mount", p)
    assert open(b.b_eicar, "rb").read() == EICAR, "open on B"
    written = os.path.join(b.target, "written.com")
    put(written, EICAR, 0o644)
    time.sleep(0.5)
    after = a.status()["sensors"]["onaccess"].get("counters", {}).get("events", 0)
    assert after == before, "the agent was asked about files on B (%d events)" % (after - before)
    assert not [e for _, e in read_journal(a.state) if e.get("file", {}).get("path", "")
                .startswith(b.b + "/")], "an event about a file on B"
    os.unlink(written)


def assert_a_marked(b, a):
    """A is watched: a detected script on it cannot be run."""
    script = os.path.join(b.srv, "update.sh")
    put(script, DETECTED, 0o755)
    p = run(script)
    assert p.returncode == 126 and b"Operation not permitted" in p.stderr, p
    os.unlink(script)


def refused(text, path):
    return path + ": a symbolic link on its way is not root's" in text


def test_users_link_before_start_is_not_followed(box):
    """The link is there when the agent starts: Downloads is refused (as a
    path to mark the mount of, and as a block_open directory), the agent
    says which path and why, B is not marked, /srv on A is."""
    users_link(box)
    a = box.agent([box.srv, box.downloads], block_open=[box.downloads])
    assert_b_not_marked(box, a)
    st = a.status()["sensors"]["onaccess"]
    assert st["state"] == "on", st
    assert refused(st.get("partial", ""), box.downloads), st
    p = a.agent("status")
    assert "watching less than asked: " in p.stdout and box.downloads in p.stdout, p.stdout
    ev = wait_events(a, "sensor-partial")[0]
    assert ev["ward"]["sensor"] == "onaccess" and refused(ev["message"], box.downloads), ev
    assert_a_marked(box, a)


def test_users_link_before_new_content_is_not_followed(box):
    """The path is good at start; the user swaps it afterwards.  New content
    makes the agent mark again (into its other fanotify group): the path is
    refused then, and B is not marked."""
    a = box.agent([box.downloads], block_open=[box.downloads])
    st = a.status()["sensors"]["onaccess"]
    assert st["state"] == "on" and "partial" not in st, st
    # Watched: a detected script in Downloads cannot be run, EICAR not opened.
    script = os.path.join(box.downloads, "update.sh")
    put(script, DETECTED, 0o755)
    assert run(script).returncode == 126
    put(os.path.join(box.downloads, "eicar.com"), EICAR, 0o644)
    with pytest.raises(PermissionError):
        open(os.path.join(box.downloads, "eicar.com"), "rb").read()
    users_link(box)
    p = a.apply(signed_bundle(box.ward, box.tmp, box.rel[0], 2))
    assert p.returncode == 0, p.stdout + p.stderr
    assert_b_not_marked(box, a)
    st = a.wait_for(lambda s: "partial" in s["sensors"]["onaccess"],
                    what="the refused path said")["sensors"]["onaccess"]
    assert refused(st["partial"], box.downloads), st


def test_only_path_through_users_link_leaves_the_sensor_off(box):
    """Nothing else to watch: the sensor is off, with the reason; wardd
    --check-config refuses the configuration for the same reason."""
    users_link(box)
    a = box.agent([box.downloads])
    assert_b_not_marked(box, a)
    st = a.status()["sensors"]["onaccess"]
    assert st["state"] == "off" and refused(st["reason"], box.downloads), st
    assert wait_events(a, "sensor-off")[0]["ward"]["sensor"] == "onaccess"
    # wardd --check-config says the same before any start.
    p = subprocess.run([wardd_path(), "--config", a.config, "--check-config"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.returncode == 78 and refused(p.stderr, box.downloads), p


def test_roots_link_into_another_mount_is_refused(box):
    """A link of root's (which the path rules follow) that crosses into
    another mount: the mount the agent would mark is not the one the path
    is under as written, so it is refused and said."""
    link = os.path.join(box.a, "rootlink")
    os.symlink(box.b, link)
    path = os.path.join(link, "bin")
    a = box.agent([box.srv, path])
    assert_b_not_marked(box, a)
    st = a.status()["sensors"]["onaccess"]
    assert st["state"] == "on", st
    assert "%s: leads to the mount at %s, not to the one at %s" % (path, box.b, box.a) in st.get(
        "partial", ""), st
    assert_a_marked(box, a)
    p = subprocess.run([wardd_path(), "--config", a.config, "--check-config"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.returncode == 78 and "leads to the mount at" in p.stderr, p
    assert "onaccess.paths %s: watches the mount at %s" % (box.srv, box.a) in p.stdout, p


# --- ward fim baseline --------------------------------------------------------

# Enough files, and of a size, that hashing them takes a while (the old
# walk by path hashed after the walk, by path: the user's window).
NFILES = 1000
FILE_KIB = 8
ROUNDS_S = 4.0


def test_fim_baseline_does_not_record_roots_files(box):
    """The user's sub directory holds NFILES files; root's directory on the
    same tmpfs holds files of the same names (root's, 0600, other content)
    and a subdirectory.  The user swaps sub for a link to root's directory
    in a loop while root makes baselines of the tree: no baseline may hold
    the hash of one of root's files, a file of mode 0600, or root's
    subdirectory."""
    sub = os.path.join(box.home, "sub")
    as_user(box, "mkdir", sub)
    secret = os.path.join(box.a, "secret")
    os.mkdir(secret, 0o700)
    os.mkdir(os.path.join(secret, "roots-subdir"), 0o700)
    roots = set()
    pad = b"." * (FILE_KIB * 1024)
    for i in range(NFILES):
        name = "f%04d" % i
        mine = ("the user's file %d\n" % i).encode() + pad
        theirs = ("root's private file %d\n" % i).encode() + pad
        put(os.path.join(sub, name), mine, 0o644)
        os.chown(os.path.join(sub, name), box.uid, box.gid)
        put(os.path.join(secret, name), theirs, 0o600)
        roots.add(hashlib.sha256(theirs).hexdigest())
    stop = os.path.join(box.home, "stop")
    swapper = subprocess.Popen(
        ["setpriv", "--reuid=%d" % box.uid, "--regid=%d" % box.gid, "--clear-groups",
         "--no-new-privs", "--", "/usr/bin/python3", "-c",
         "import os, sys\n"
         "sub, secret, stop = sys.argv[1:4]\n"
         "n = 0\n"
         "while not os.path.exists(stop):\n"
         "    os.rename(sub, sub + '.real')\n"
         "    os.symlink(secret, sub)\n"
         "    os.unlink(sub)\n"
         "    os.rename(sub + '.real', sub)\n"
         "    n += 1\n"
         "print(n)\n", sub, secret, stop],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = os.path.join(str(box.tmp), "baseline")
    users = 0
    try:
        time.sleep(0.2)
        end, rounds = time.time() + ROUNDS_S, 0
        while rounds < 5 or time.time() < end:
            rounds += 1
            p = box.ward.run("fim", "baseline", "--path", os.path.join(box.a, "home"),
                             "--baseline", base)
            assert p.returncode == 0, p.stderr
            lines = open(base).read().split("\n")[1:]
            leaked = [line for line in lines
                      if line.split("\t")[8:9] and line.split("\t")[8] in roots]
            assert not leaked, "root's files in the baseline:\n" + "\n".join(leaked[:5])
            assert not [line for line in lines if "\t600\t0\t0\t" in line or
                        "roots-subdir" in line], "root's entries in the baseline"
            # The user's own files, when the walk met sub as a directory.
            users += len([line for line in lines
                          if line.startswith((sub + "/f", sub + ".real/f"))])
    finally:
        open(stop, "w").close()
        out, err = swapper.communicate(timeout=30)
    assert swapper.returncode == 0, err
    assert int(out) > 100, "the swapper hardly ran (%s swaps)" % out.strip()
    assert users > 0, "the walk never met the user's files: the test proves nothing"
