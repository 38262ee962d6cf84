"""
A second, unprivileged local user for the race tests — `nobody`, reached
through setpriv — and a tmpfs of the test's own under a directory every
user can enter (pytest's tmp_path is under root's 0700 directories).
"""

import contextlib
import grp
import os
import pwd
import subprocess
import tempfile


def nobody():
    """(uid, gid) of the unprivileged user."""
    return pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid


def run_as(uid, gid, *cmd, data=None):
    """Runs cmd as uid:gid with no other groups and no new privileges;
    asserts it worked."""
    p = subprocess.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups",
                        "--no-new-privs", "--"] + list(cmd), input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, (cmd, p.stderr)
    return p


@contextlib.contextmanager
def own_tmpfs(mnt, size="16m"):
    """A tmpfs of the test's own mounted on the directory mnt (made here),
    the only kind of mount a test may mark; unmounted afterwards, whatever
    happened."""
    mnt = str(mnt)
    os.makedirs(mnt, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0755" % size, "ward-test", mnt],
                   check=True)
    try:
        assert os.path.ismount(mnt), "refusing to go on: %s is not the test's own mount" % mnt
        yield mnt
    finally:
        subprocess.run(["umount", mnt], check=True)


@contextlib.contextmanager
def user_tmpfs(prefix, size="16m"):
    """own_tmpfs on a fresh 0755 directory in /tmp (every user can enter
    it), removed afterwards."""
    mnt = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(mnt, 0o755)
    try:
        with own_tmpfs(mnt, size):
            yield mnt
    finally:
        os.rmdir(mnt)
