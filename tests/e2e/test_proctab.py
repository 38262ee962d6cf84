"""
wardd's processes as the process table (agent/proctab.c) declares them,
seen from outside through /proc: a secret in the environment wardd was
started with reaches none of its children (the worker keeps PATH and the
proxy setting its uplink reads; the scanners keep PATH alone), and the
scanners run under exactly their row's resource limits, the address space
taken from validator.memory_mb.
"""

import json
import os

import pytest

from agentlib import onaccess_box

SECRET = "WARD_TEST_SECRET=do-not-pass-me-on"
PROXY = "https_proxy=http://127.0.0.1:9"
PATH = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
GNUTLS = "GNUTLS_NO_IMPLICIT_INIT=1"
# A sanitizer build's options pass to every child (agent/proctab.c).
SANITIZER = ("ASAN_OPTIONS=", "UBSAN_OPTIONS=", "LSAN_OPTIONS=")


@pytest.fixture
def box(ward, tmp_path):
    env = dict(kv.split("=", 1) for kv in (SECRET, PROXY))
    with onaccess_box(ward, tmp_path, "process table", env=env) as b:
        yield b


def environ(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        return [v.decode() for v in f.read().split(b"\0") if v]


def limits(pid):
    """/proc/PID/limits as {name: (soft, hard)}."""
    out = {}
    with open("/proc/%d/limits" % pid) as f:
        next(f)
        for line in f:
            name = line[:26].strip()
            soft, hard = line[26:].split()[:2]
            out[name] = (soft, hard)
    return out


def started_scanners(a, mnt):
    with open(os.path.join(mnt, "clean.txt"), "w") as f:
        f.write("nothing to see\n")
    p = a.agent("scan", mnt, "--format", "json")
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout)["files"] >= 1
    pids = a.status()["scanners"]["pids"]
    assert pids, a.status()["scanners"]
    return pids


def test_children_do_not_inherit_the_environment(box):
    a = box.agent()
    # The supervisor was started with both (what a service manager gave it).
    sup = environ(a.proc.pid)
    assert SECRET in sup and PROXY in sup
    worker = environ(a.worker_pid())
    assert SECRET not in worker, worker
    # ... and GNUTLS_NO_IMPLICIT_INIT, which the supervisor sets for all.
    assert sorted(v for v in worker if not v.startswith(SANITIZER)) == sorted(
        [PATH, PROXY, GNUTLS])
    for pid in started_scanners(a, box.mnt):
        env = environ(pid)
        assert sorted(v for v in env if not v.startswith(SANITIZER)) == sorted(
            [PATH, GNUTLS]), env


def test_the_worker_raises_its_descriptor_limit(box):
    """Out of descriptors, the worker would have the kernel deny the
    fanotify permission events it cannot take: its soft limit is raised to
    the hard one, at most 65536 (WARD_WORKER_NOFILE)."""
    import resource
    a = box.agent()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    want = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    soft, _ = limits(a.worker_pid())["Max open files"]
    assert int(soft) == want, (soft, hard)


def test_scanners_run_under_their_rows_limits(box):
    a = box.agent(extra=["validator:", "  memory_mb: 700"])
    for pid in started_scanners(a, box.mnt):
        lim = limits(pid)
        assert lim["Max address space"] == (str(700 << 20),) * 2, lim
        assert lim["Max open files"] == ("32", "32"), lim
        # archive members are held in memory files of at most
        # scan.archive.max_membersize (32M by default): nothing larger
        assert lim["Max file size"] == (str(32 << 20),) * 2, lim
        assert lim["Max core file size"] == ("0", "0"), lim
        assert lim["Max processes"] == ("0", "0"), lim
        assert lim["Max cpu time"] == ("unlimited", "unlimited"), lim
