"""
A clean Debian 12 tree for the package tests, made with mmdebstrap and
driven with systemd-nspawn.

The tree starts from `mmdebstrap --variant=apt`: the Essential packages and
apt, nothing ward needs, so that installing the built .deb files with apt
proves their declared dependencies complete.  The tarball is cached under
build-pkgtest/ (rebuilt when a day old, so the package lists it starts
from stay current); the .deb files apt downloads are kept in
build-pkgtest/archives/ (bind-mounted as the tree's
/var/cache/apt/archives), so a rerun downloads nothing.

Two ways to run a command in the tree:

- before boot, `systemd-nspawn --as-pid2 -D TREE CMD`: a container of its
  own for each command (its own mount, PID, IPC and UTS namespaces; the
  host's network, for apt).  nspawn mounts /proc, /sys and /dev inside its
  own mount namespace, so nothing is left mounted on the host when it
  exits, whatever happens to the test;
- booted (`systemd-nspawn --boot`), through `nsenter` into the namespaces
  of the container's systemd, so `systemctl` starts the real units with
  their hardening.  The network is private: the server listens on the
  container's own loopback, and the agent's process monitor cannot reach
  the kernel's process connector (it exists in the host's network
  namespace only), so no rule of the agent's content acts on a process of
  the host.  nspawn's own seccomp filter lets fanotify_init and
  fanotify_mark through (its default refuses them), so the agent's
  file-integrity and on-access sensors run as on a host; their marks are on
  the tree's files and on a tmpfs the test mounts inside the container.

Every process is started by the test and stopped by its pid: the booted
container by SIGTERM to its systemd-nspawn (which halts the container's
systemd cleanly), then SIGKILL if it has not gone within 60 s; nspawn also
gets SIGTERM if the test's process dies without cleaning up.
"""

import ctypes
import os
import shutil
import signal
import subprocess
import time

from conftest import REPO

MIRROR = "http://deb.debian.org/debian"
SOURCES = [
    "deb %s bookworm main" % MIRROR,
    "deb %s bookworm-updates main" % MIRROR,
    "deb http://deb.debian.org/debian-security bookworm-security main",
]
BASE_MAX_AGE_S = 24 * 3600
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def cache_dir():
    d = os.environ.get("WARD_PKGTEST_CACHE") or os.path.join(REPO, "build-pkgtest")
    os.makedirs(os.path.join(d, "archives", "partial"), exist_ok=True)
    return d


def base_tarball(log):
    """The cached tarball of the base tree, made now if missing or stale."""
    d = cache_dir()
    path = os.path.join(d, "base-bookworm-apt.tar")
    if os.path.exists(path) and time.time() - os.path.getmtime(path) < BASE_MAX_AGE_S:
        return path
    tmp = os.path.join(d, "base-bookworm-apt.new.tar")
    if os.path.isdir(tmp):
        shutil.rmtree(tmp)
    cmd = ["mmdebstrap", "--variant=apt", "--format=tar", "--quiet", "bookworm",
           tmp] + SOURCES
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, "mmdebstrap failed:\n" + p.stdout[-4000:]
    os.rename(tmp, path)
    log("base tree made with mmdebstrap in %.0f s" % (time.time() - t0))
    return path


def mounts_under(root):
    """Mount points at or under root, as the host sees them."""
    root = os.path.realpath(root)
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].encode().decode("unicode_escape")
            if mp == root or mp.startswith(root + "/"):
                out.append(mp)
    return out


def _halt_with_parent():
    """In the child before exec: SIGTERM when the test's process dies, so
    that even a test killed outright (no cleanup) halts its container."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class Tree:
    """An unpacked tree at `root`; run() runs a command in it."""

    def __init__(self, root, log):
        self.root = root
        self.log = log
        self.name = "wardpkg%d" % os.getpid()
        self.nspawn = None
        self.leader = None
        self.console = None
        self.archives = os.path.join(cache_dir(), "archives")

    def unpack(self, tarball):
        os.makedirs(self.root)
        subprocess.run(["tar", "-C", self.root, "-xf", tarball], check=True)

    def path(self, p):
        return os.path.join(self.root, p.lstrip("/"))

    def _cmd(self, argv, env):
        env = dict({"PATH": PATH, "LANG": "C.UTF-8", "HOME": "/root",
                    "DEBIAN_FRONTEND": "noninteractive"}, **(env or {}))
        if self.leader is not None:
            return (["nsenter", "-t", str(self.leader), "-a", "--", "env", "-i"] +
                    ["%s=%s" % kv for kv in env.items()] + list(argv))
        return (["systemd-nspawn", "--quiet", "--as-pid2", "--register=no", "--keep-unit",
                 "-D", self.root, "-M", self.name,
                 "--bind=%s:/var/cache/apt/archives" % self.archives] +
                ["--setenv=%s=%s" % kv for kv in env.items()] + ["--"] + list(argv))

    def run(self, *argv, check=True, env=None, timeout=300, input=None):
        """A CompletedProcess (text); check: assert exit status 0."""
        p = subprocess.run(self._cmd([str(a) for a in argv], env), input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           errors="replace", timeout=timeout)
        # nspawn's complaint about its propagation directory on a /run that
        # is not a tmpfs (this machine's) is not the command's.
        p.stderr = "\n".join(l for l in p.stderr.splitlines()
                             if "/run/systemd/nspawn/propagate" not in l)
        if check:
            assert p.returncode == 0, "in the tree: %s: exit %d\n%s%s" % (
                " ".join(argv), p.returncode, p.stdout[-3000:], p.stderr[-3000:])
        return p

    def sh(self, script, **kw):
        return self.run("/bin/sh", "-ec", script, **kw)

    def boot(self):
        """Boots the tree's systemd; returns when it says it is running
        (or degraded: the failed units are then in the assertion)."""
        assert self.nspawn is None
        self.console = open(os.path.join(os.path.dirname(self.root), "console.log"), "ab")
        self.nspawn = subprocess.Popen(
            ["systemd-nspawn", "--quiet", "--boot", "--register=no", "--keep-unit",
             "--private-network", "--system-call-filter=fanotify_init fanotify_mark",
             "--console=pipe", "-D", self.root, "-M", self.name],
            stdin=subprocess.DEVNULL, stdout=self.console, stderr=self.console,
            preexec_fn=_halt_with_parent)
        end = time.time() + 60
        while self.leader is None and time.time() < end:
            assert self.nspawn.poll() is None, "systemd-nspawn --boot exited %d" % (
                self.nspawn.returncode)
            try:
                with open("/proc/%d/task/%d/children" % (self.nspawn.pid,
                                                         self.nspawn.pid)) as f:
                    kids = f.read().split()
            except OSError:
                kids = []
            if kids:
                self.leader = int(kids[0])
            else:
                time.sleep(0.1)
        assert self.leader is not None, "the container's systemd did not start"
        state = ""
        while time.time() < end:
            state = self.run("systemctl", "is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.3)
        failed = self.run("systemctl", "--failed", "--no-legend", "--plain",
                          check=False).stdout
        assert state == "running", "the booted tree is %r; failed units:\n%s" % (
            state, failed)

    def halt(self):
        """Stops the booted container by its nspawn's pid."""
        if self.nspawn is None:
            return
        self.leader = None
        if self.nspawn.poll() is None:
            self.nspawn.send_signal(signal.SIGTERM)
            try:
                self.nspawn.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.nspawn.kill()
                self.nspawn.wait()
        self.nspawn = None
        self.console.close()

    def cleanup(self):
        """Halts the container, unmounts anything left under the tree
        (nothing, unless nspawn was killed mid-setup) and removes it."""
        self.halt()
        for mp in sorted(mounts_under(self.root), key=len, reverse=True):
            subprocess.run(["umount", "-l", mp])
        propagate = "/run/systemd/nspawn/propagate/" + self.name
        if os.path.isdir(propagate):
            shutil.rmtree(propagate, ignore_errors=True)
        if not mounts_under(self.root):
            shutil.rmtree(os.path.dirname(self.root), ignore_errors=True)
