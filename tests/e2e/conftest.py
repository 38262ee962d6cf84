"""
Shared fixtures of the end-to-end tests: they drive the real `ward` binary
as a user would.  The binary is $WARD_BIN, or <repo>/build/cli/ward, or
$WARD_PREFIX/bin/ward when WARD_PREFIX names where the packages installed
it (wardd, ward-server and ward-sim alike: PROGRAMS below); a test
that needs it fails (not skips) when it is missing, so that a broken build
never passes as an empty test run.

Run with Debian's interpreter (it has pytest):
    /usr/bin/python3 -m pytest tests/e2e
"""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTDATA = os.path.join(os.path.dirname(REPO), "shared", "testdata")

EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
assert len(EICAR) == 68

FOUND_RE = re.compile(r"^(.*): (\S+) FOUND$")
# FILE:LINE:COL: message, at the start of a line (after an optional "ward: ")
DIAG_RE = re.compile(r"^(?:ward: )?(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<msg>.+)$", re.M)


# Each program: its environment variable, its place in the build tree, and
# where the packages install it (under $WARD_PREFIX, e.g. /usr, when that is
# set: the tests then drive the installed programs).
PROGRAMS = {"ward": ("WARD_BIN", "cli", "bin"), "wardd": ("WARDD_BIN", "agent", "sbin"),
            "ward-server": ("WARD_SERVER_BIN", "server", "sbin"),
            "ward-sim": ("WARD_SIM_BIN", "server", "bin")}


def program_path(name):
    env, sub, installed = PROGRAMS[name]
    if os.environ.get(env):
        return os.environ[env]
    if os.environ.get("WARD_PREFIX"):
        return os.path.join(os.environ["WARD_PREFIX"], installed, name)
    return os.path.join(REPO, "build", sub, name)


def ward_path():
    return program_path("ward")


@pytest.fixture(scope="session")
def ward_bin():
    path = ward_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("ward binary not found at %s: build it (meson setup build && "
                    "ninja -C build) or set WARD_BIN" % path, pytrace=False)
    return os.path.abspath(path)


class Ward:
    """Runs ward; every call returns a CompletedProcess with text output."""

    def __init__(self, path):
        self.path = path

    def run(self, *args, timeout=120, prefix=(), **kw):
        cmd = list(prefix) + [self.path] + [str(a) for a in args]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, **kw)
        p.stdout = p.stdout.decode("utf-8", "surrogateescape")
        p.stderr = p.stderr.decode("utf-8", "surrogateescape")
        assert p.returncode >= 0, "ward killed by signal %d\nstderr:\n%s" % (
            -p.returncode, p.stderr[-3000:])
        return p

    def scan(self, *args, **kw):
        return self.run("scan", *args, **kw)


@pytest.fixture
def ward(ward_bin):
    return Ward(ward_bin)


def found(stdout):
    """{(normalized path, rule)} of the `PATH: RULE FOUND` lines; asserts
    that stdout holds nothing else."""
    out = set()
    for line in stdout.splitlines():
        m = FOUND_RE.match(line)
        assert m, "unexpected line on stdout: %r" % line
        out.add((os.path.normpath(m.group(1)), m.group(2)))
    return out


def ndjson(stdout):
    """The objects of NDJSON output; every line must be one JSON object."""
    objs = []
    for line in stdout.splitlines():
        obj = json.loads(line)
        assert isinstance(obj, dict), line
        objs.append(obj)
    return objs


def diags(stderr):
    """The FILE:LINE:COL: message diagnostics in stderr."""
    return [(m.group("file"), int(m.group("line")), int(m.group("col")), m.group("msg"))
            for m in DIAG_RE.finditer(stderr)]


def write(path, data, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)
    return path


def rules_file(dirpath, text, name="rules.yar"):
    return write(os.path.join(str(dirpath), name), text)


@pytest.fixture
def world_tmp():
    """A temporary directory every user can enter (pytest's tmp_path is
    private to root), for runs under a dropped uid."""
    d = tempfile.mkdtemp(prefix="ward-e2e-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def summary_numbers(stderr, word):
    """Integers on the lines of stderr that mention `word`."""
    nums = []
    for line in stderr.splitlines():
        if word.lower() in line.lower():
            nums += [int(x) for x in re.findall(r"(?<![\d.])\d+(?![\d.])", line)]
    return nums


def peak_rss_kib(cmd, timeout=600):
    """Runs cmd in a helper interpreter and returns (CompletedProcess, peak
    RSS of cmd in KiB): RUSAGE_CHILDREN of a process whose only child is cmd."""
    helper = ("import resource, subprocess, sys\n"
              "r = subprocess.run(sys.argv[1:])\n"
              "sys.stderr.write('\\nPEAK_RSS_KIB %d\\n' % "
              "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
              "sys.exit(r.returncode if r.returncode >= 0 else 128 - r.returncode)\n")
    p = subprocess.run([sys.executable, "-c", helper] + cmd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    err = p.stderr.decode("utf-8", "replace")
    m = re.search(r"PEAK_RSS_KIB (\d+)", err)
    assert m, err
    p.stdout = p.stdout.decode("utf-8", "surrogateescape")
    p.stderr = err[:m.start()]
    return p, int(m.group(1))


def rm_deep(root):
    """Removes a tree too deep for shutil.rmtree (which recurses)."""
    stack = [root]
    while stack:
        d = stack[-1]
        try:
            entries = os.listdir(d)
        except FileNotFoundError:
            stack.pop()
            continue
        pushed = False
        for e in entries:
            p = os.path.join(d, e)
            st = os.lstat(p)
            if stat.S_ISDIR(st.st_mode):
                stack.append(p)
                pushed = True
                break
            os.unlink(p)
        if not pushed:
            os.rmdir(d)
            stack.pop()


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of the tests' own (started once per run)."""
    from serverlib import Postgres
    pg = Postgres()
    yield pg
    pg.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    """The fleet server's database: each test using it runs on both."""
    return request.param
