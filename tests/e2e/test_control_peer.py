"""
`ward agent` talks to wardd only: before it sends a byte on the control
socket it checks that the process listening there runs as root
(SO_PEERCRED).  An unprivileged user who listens at the path the CLI is
given (a run directory it could write, a socket it replaced) is refused
by name and receives nothing — not the bundle of an apply, not the path of
a scan, not an exception to add.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from userlib import nobody

# The impostor: listens where wardd's socket would be, takes one
# connection, and writes down every byte it was sent.
LISTENER = r"""
import socket, sys
path, ready, got = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(path)
s.listen(4)
open(ready, "w").close()
s.settimeout(30)
c, _ = s.accept()
c.settimeout(10)
data = b""
try:
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        data += b
except socket.timeout:
    data += b"<no end>"
open(got, "wb").write(data)
"""


@pytest.fixture
def impostor():
    """A run directory of nobody's, with nobody listening on its
    control.sock; yields (run_dir, got): got is the file the listener
    writes what it received to, once the connection ends."""
    if os.geteuid() != 0:
        pytest.fail("the control peer tests run as root (make check runs them so)",
                    pytrace=False)
    uid, gid = nobody()
    d = tempfile.mkdtemp(prefix="ward-ctl-peer-", dir="/tmp")
    os.chmod(d, 0o755)
    run = os.path.join(d, "run")
    os.mkdir(run)
    os.chown(run, uid, gid)
    sock, ready, got = (os.path.join(run, n) for n in ("control.sock", "ready", "got"))
    p = subprocess.Popen(["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups",
                          "--no-new-privs", "--", sys.executable, "-c", LISTENER, sock, ready,
                          got], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        end = time.time() + 10
        while not os.path.exists(ready):
            assert p.poll() is None, p.communicate()
            assert time.time() < end, "the listener did not start"
            time.sleep(0.02)
        assert os.stat(sock).st_uid == uid
        yield run, got, p, uid
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        shutil.rmtree(d)


def wait_got(p, got):
    out, err = p.communicate(timeout=20)
    assert p.returncode == 0, err
    with open(got, "rb") as f:
        return f.read()


@pytest.mark.parametrize("args", [("status", "--json"), ("rollback",),
                                  ("except", "add", "--sha256", "a" * 64, "--reason", "x")])
def test_cli_refuses_a_control_socket_not_wardds(ward, impostor, args):
    run, got, p, uid = impostor
    r = ward.run("agent", "--run-dir", run, *args)
    assert r.returncode != 0, r.stdout
    sock = os.path.join(run, "control.sock")
    assert ("ward: the control socket %s is not wardd's: its peer runs as uid %d" % (sock, uid)
            in r.stderr), r.stderr
    assert "nothing was sent" in r.stderr, r.stderr
    assert r.stdout == ""
    # It connected, saw who listens, and closed: the listener got nothing.
    assert wait_got(p, got) == b""


def test_run_dir_from_the_environment_is_checked_too(ward, impostor):
    run, got, p, uid = impostor
    r = ward.run("agent", "status", env=dict(os.environ, WARD_RUN_DIR=run))
    assert r.returncode != 0
    assert "is not wardd's: its peer runs as uid %d" % uid in r.stderr, r.stderr
    assert wait_got(p, got) == b""
