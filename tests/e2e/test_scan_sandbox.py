"""
`ward scan` run as root parses files only in an unprivileged, confined
process (issue 13): the root process walks and opens, a forked scanner —
`nobody`, no groups, no capabilities, no_new_privs, seccomp on every
thread, no processes, no file growth — parses, matches and prints.

- the scanner seen from /proc while it runs (held there by a stdout pipe
  nobody reads yet): its user, filter, limits and descriptors;
- an attack: the fault build's module parser, taken over by a marked file
  (WARD_FAULT_MODULE_BREACH_ON), tries to read a root-only secret, to write
  where only root may and to open a socket — the files are refused, the
  socket kills the scanner, `ward scan` names the file as not scanned,
  scans the others and exits 2; with --no-sandbox the same file gets
  through (the control that shows the attack is real);
- a scanner killed from outside, crashing, or stopped: said on stderr, the
  files it held scanned again, never a hang; SIGINT/SIGTERM give 130 with
  the summary;
- what the user sees — text and json lines, the summary's counts, the
  per-file externals, exit statuses 0/1/2/130 — is what --no-sandbox (the
  scan in one process, as before) gives on a tree with matches, special
  files, links, exclusions, duplicates and PATHs that cannot be scanned.
"""

import grp
import json
import os
import pwd
import re
import signal
import stat
import subprocess
import time

import pytest

from agentlib import wardd_path
from conftest import found, ndjson, rules_file, summary_numbers, write

HELLO = 'rule hello { strings: $a = "hello" condition: $a }\n'
EVERY = "rule every { condition: true }\n"
ELF_AND_HELLO = ('import "elf"\n'
                 "rule elf_exec { condition: elf.type == elf.ET_EXEC }\n" + HELLO)
MARK = "WARD-TEST-BREACH-MARK-7f3a"


def fault_ward():
    """The fault build's ward, beside its wardd."""
    path = os.path.join(os.path.dirname(os.path.dirname(wardd_path(fault=True))), "cli", "ward")
    if not os.path.exists(path):
        pytest.fail("the fault build is missing (build-fault/cli/ward)", pytrace=False)
    return path


def proc_status(pid, task=None):
    path = "/proc/%d/task/%d/status" % (pid, task) if task else "/proc/%d/status" % pid
    with open(path) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def children_of(pid):
    out = []
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                if int(proc_status(int(e))["PPid"]) == pid:
                    out.append(int(e))
            except (OSError, KeyError, ValueError):
                pass
    return out


def confined_child(pid, timeout=30):
    """The pid of pid's scanner once its filter is in place."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for c in children_of(pid):
            try:
                if proc_status(c)["Seccomp"].strip() == "2":
                    return c
            except (OSError, KeyError):
                pass
        time.sleep(0.05)
    pytest.fail("no confined scanner under ward (pid %d) after %d s" % (pid, timeout))


def summary(err):
    """The summary's lines, without the ones that vary between runs."""
    lines = err[err.index("----------- SCAN SUMMARY"):].splitlines()
    return [x for x in lines if not x.startswith(("Time:", "Throughput:"))]


def noisy_tree(root, n):
    """n small files that each match `every`: output enough to fill a pipe."""
    d = os.path.join(root, "many")
    os.makedirs(d)
    for i in range(n):
        write(os.path.join(d, "f%05d" % i), b"hello %d\n" % i)
    return d


def finish(proc, timeout=120):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("ward hung")
    return out.decode("utf-8", "surrogateescape"), err.decode("utf-8", "surrogateescape")


def test_the_scanner_is_nobody_confined_on_every_thread(ward_bin, tmp_path):
    rules = rules_file(tmp_path, EVERY)
    tree = noisy_tree(str(tmp_path), 1500)
    # json lines of ~150 bytes: 1 500 of them fill the pipe, and the
    # scanner waits in a write until the test reads — alive, at its work.
    proc = subprocess.Popen([ward_bin, "scan", "--threads", "2", "--format", "json", "--rules",
                             rules, tree], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        child = confined_child(proc.pid)
        nobody = pwd.getpwnam("nobody")
        parent = proc_status(proc.pid)
        assert parent["Uid"].split() == ["0"] * 4, parent["Uid"]
        st = proc_status(child)
        assert st["Uid"].split() == [str(nobody.pw_uid)] * 4, st
        assert st["Gid"].split() == [str(nobody.pw_gid)] * 4, st
        assert st["Groups"].strip() == "", st
        assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0, st
        assert st["NoNewPrivs"].strip() == "1", st
        # The main thread, two scanning threads: all under the filter.
        tasks = [int(t) for t in os.listdir("/proc/%d/task" % child)]
        assert len(tasks) >= 3, tasks
        for t in tasks:
            ts = proc_status(child, t)
            assert ts["Seccomp"].strip() == "2" and ts["NoNewPrivs"].strip() == "1", (t, ts)
        with open("/proc/%d/limits" % child) as f:
            limits = {re.split(r"\s{2,}", line.strip())[0]: re.split(r"\s{2,}", line.strip())[1:]
                      for line in f.readlines()[1:]}
        assert limits["Max processes"][:2] == ["0", "0"], limits
        # stdout, stderr: pipes; the only files it writes are the memory
        # files of archive members, up to --max-membersize (100M)
        assert limits["Max file size"][:2] == [str(100 << 20)] * 2, limits
        assert limits["Max core file size"][:2] == ["0", "0"], limits
        # Its descriptors: stdio, its channel, the files handed to it —
        # never a directory of the walk, never a file opened for writing.
        for fd in os.listdir("/proc/%d/fd" % child):
            if int(fd) <= 2:
                continue
            path = "/proc/%d/fd/%s" % (child, fd)
            try:
                mode = os.stat(path).st_mode
                target = os.readlink(path)
                with open("/proc/%d/fdinfo/%s" % (child, fd)) as f:
                    flags = int(re.search(r"flags:\s+(\d+)", f.read()).group(1), 8)
            except FileNotFoundError:
                continue   # closed meanwhile (it may still be scanning)
            assert stat.S_ISREG(mode) or stat.S_ISSOCK(mode), (fd, target)
            assert flags & os.O_ACCMODE == os.O_RDONLY or stat.S_ISSOCK(mode), (fd, target)
    finally:
        out, err = finish(proc)
    assert proc.returncode == 1, err[-2000:]
    objs = ndjson(out)
    assert sorted(o["path"] for o in objs if "rule" in o) == sorted(
        os.path.join(tree, f) for f in os.listdir(tree))
    assert objs[-1]["summary"]["files"] == 1500, objs[-1]


@pytest.mark.parametrize("who", ["nobody", "root --no-sandbox"])
def test_not_root_or_no_sandbox_scan_in_one_process(ward_bin, world_tmp, who):
    rules = write(os.path.join(world_tmp, "rules.yar"), EVERY, mode=0o644)
    tree = noisy_tree(world_tmp, 1500)
    for dirpath, dirs, files in os.walk(world_tmp):
        os.chmod(dirpath, 0o755)
    cmd = [ward_bin, "scan", "--format", "json", "--rules", rules, tree]
    if who == "nobody":
        uid, gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
        cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups", "--"] + cmd
    else:
        cmd.insert(2, "--no-sandbox")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        time.sleep(1.0)
        assert proc.poll() is None, "the scan ended before it could be looked at"
        assert children_of(proc.pid) == []   # setpriv execs ward: same pid
        assert proc_status(proc.pid)["Seccomp"].strip() == "0"
    finally:
        out, err = finish(proc)
    assert proc.returncode == 1, err
    assert ndjson(out)[-1]["summary"]["files"] == 1500


def breach_env(tmp_path):
    """A root-only secret and a root-only directory, outside the tree."""
    secret = write(str(tmp_path / "secret" / "shadow"), b"TOPSECRET-4242\n", mode=0o600)
    os.chmod(os.path.dirname(secret), 0o700)
    target = str(tmp_path / "rootonly" / "breach")
    os.makedirs(os.path.dirname(target), mode=0o700)
    env = dict(os.environ, WARD_FAULT_MODULE_BREACH_ON=MARK, WARD_FAULT_BREACH_READ=secret,
               WARD_FAULT_BREACH_WRITE=target)
    return env, target


def attack_tree(tmp_path):
    tree = str(tmp_path / "tree")
    names = {}
    for i in range(6):
        names[i] = write(os.path.join(tree, "d%d" % (i % 2), "f%d" % i), b"hello %d\n" % i)
    evil = write(os.path.join(tree, "d1", "evil"), ("hello, crafted %s\n" % MARK).encode())
    return tree, names, evil


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_parser_taken_over_cannot_read_write_or_call_home(ward_bin, tmp_path, fmt):
    ward = fault_ward()
    env, target = breach_env(tmp_path)
    tree, names, evil = attack_tree(tmp_path)
    rules = rules_file(tmp_path, ELF_AND_HELLO)
    p = subprocess.run([ward, "scan", "--threads", "2", "--format", fmt, "--rules", rules, tree],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=120)
    out, err = p.stdout.decode(), p.stderr.decode()
    assert "breach:" not in err and "TOPSECRET" not in out + err, err
    assert not os.path.exists(target)
    assert p.returncode == 2, err
    why = "not scanned: the sandboxed scanner was killed by signal 31 (Bad system call"
    if fmt == "text":
        assert "ward: %s: %s" % (evil, why) in err, err
        assert found(out) == {(f, "hello") for f in names.values()}
        assert summary_numbers(err, "Scanned files") == [6], err
        assert summary_numbers(err, "Errors") == [1], err
    else:
        objs = ndjson(out)
        assert {(o["path"], o["rule"]) for o in objs if "rule" in o} == {
            (f, "hello") for f in names.values()}
        errors = [o for o in objs if "error" in o]
        assert [o["path"] for o in errors] == [evil] and errors[0]["error"].startswith(why), objs
        assert objs[-1]["summary"]["files"] == 6 and objs[-1]["summary"]["errors"] == 1
    # The control: scanned in one process, as root, the same file gets
    # everything it tried (the reason the sandbox exists).
    p = subprocess.run([ward, "scan", "--no-sandbox", "--rules", rules, evil],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=120)
    err = p.stderr.decode()
    assert "ward-fault: breach: read %s: TOPSECRET-4242" % env["WARD_FAULT_BREACH_READ"] in err
    assert "ward-fault: breach: opened a socket" in err
    assert os.path.exists(target)
    os.unlink(target)


def test_a_crashing_parser_blames_its_file_alone(ward_bin, tmp_path):
    ward = fault_ward()
    tree, names, evil = attack_tree(tmp_path)
    rules = rules_file(tmp_path, ELF_AND_HELLO)
    env = dict(os.environ, WARD_FAULT_MODULE_CRASH_ON=MARK)
    p = subprocess.run([ward, "scan", "--threads", "2", "--rules", rules, tree],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=120)
    out, err = p.stdout.decode(), p.stderr.decode()
    assert p.returncode == 2, err
    why = "not scanned: the sandboxed scanner was killed by signal 6 (Aborted) while scanning it"
    assert "ward: %s: %s" % (evil, why) in err, err
    assert found(out) == {(f, "hello") for f in names.values()}
    assert summary_numbers(err, "Scanned files") == [6], err


def test_a_scanner_killed_from_outside_is_replaced_and_nothing_is_lost(ward_bin, tmp_path):
    rules = rules_file(tmp_path, EVERY)
    tree = noisy_tree(str(tmp_path), 1500)
    proc = subprocess.Popen([ward_bin, "scan", "--threads", "2", "--rules", rules, tree],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        child = confined_child(proc.pid)
        # It waits in a write to the full pipe, the walker for room in
        # its window: the kill must not leave ward waiting for either.
        os.kill(child, signal.SIGKILL)
    finally:
        out, err = finish(proc)
    assert proc.returncode == 2, err[-3000:]
    assert "ward: the sandboxed scanner was killed by signal 9 (Killed)" in err, err[-3000:]
    # Every file reported: the lines the killed scanner had in its buffer
    # come from the next one, and a file it had reported without saying
    # so may come twice; a line it was writing when killed may be cut,
    # and joined by the next scanner's first line (that file, then, only
    # inside that line).
    want = {os.path.join(tree, f) for f in os.listdir(tree)}
    lines = out.splitlines()
    seen = {line[:-len(": every FOUND")] for line in lines if line.endswith(": every FOUND")}
    missing = want - seen
    assert len(missing) <= 1, sorted(missing)[:10]
    for m in missing:
        assert any(line.endswith(m + ": every FOUND") and line != m + ": every FOUND"
                   for line in lines), m
    assert summary_numbers(err, "Scanned files") == [1500], err[-2000:]


@pytest.mark.parametrize("how", ["group", "walker", "scanner"])
def test_sigint_and_sigterm_stop_with_the_summary(ward_bin, tmp_path, how):
    rules = rules_file(tmp_path, EVERY)
    tree = noisy_tree(str(tmp_path), 1500)
    proc = subprocess.Popen([ward_bin, "scan", "--threads", "2", "--rules", rules, tree],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        child = confined_child(proc.pid)
        if how == "group":
            os.killpg(proc.pid, signal.SIGINT)    # Ctrl-C: both processes
        elif how == "walker":
            os.kill(proc.pid, signal.SIGTERM)     # `kill PID` of ward
        else:
            os.kill(child, signal.SIGTERM)        # the scanner alone
    finally:
        out, err = finish(proc, timeout=30)
    assert proc.returncode == 130, err[-2000:]
    assert "Interrupted: the scan was stopped before it finished" in err, err[-2000:]
    assert summary_numbers(err, "Scanned files")[0] <= 1500


def test_a_reader_that_goes_away_ends_the_scan_as_before(ward_bin, tmp_path):
    # `ward scan ... | head -1`: the scan in one process dies of SIGPIPE at
    # its next write; separated, the same — not a crash, not a restart.
    rules = rules_file(tmp_path, EVERY)
    tree = noisy_tree(str(tmp_path), 1500)
    codes = []
    for extra in ([], ["--no-sandbox"]):
        proc = subprocess.Popen([ward_bin, "scan"] + extra + ["--rules", rules, tree],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        proc.stdout.readline()
        proc.stdout.close()
        try:
            err = proc.stderr.read().decode()
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("ward hung after its reader went away")
        assert "sandboxed scanner" not in err, err[-2000:]
        codes.append(proc.returncode)
    assert codes == [-signal.SIGPIPE, -signal.SIGPIPE], codes


def compare_tree(tmp_path):
    """Matches, a special file, links inside and given, an exclusion, a
    hard link, a file too large, an empty directory, per-file externals."""
    t = str(tmp_path / "cmp")
    write(os.path.join(t, "a.txt"), b"hello a")
    write(os.path.join(t, "sub", "b.EXE"), b"MZ hello b")
    write(os.path.join(t, "sub", "deep", "c.elf"), b"\x7fELF hello c")
    write(os.path.join(t, "clean.txt"), b"nothing here")
    write(os.path.join(t, "skip", "x.log"), b"hello excluded")
    write(os.path.join(t, "big.bin"), b"hello " + b"x" * 5000)
    owned = write(os.path.join(t, "owned", "by-daemon"), b"owned")
    os.chown(owned, pwd.getpwnam("daemon").pw_uid, -1)
    anon = write(os.path.join(t, "owned", "by-nobody-named"), b"anon")
    os.chown(anon, 54321, -1)
    os.link(os.path.join(t, "a.txt"), os.path.join(t, "hardlink"))
    os.symlink("a.txt", os.path.join(t, "link-inside"))
    os.symlink("nowhere", os.path.join(t, "dangling-inside"))
    os.mkfifo(os.path.join(t, "fifo-inside"))
    os.makedirs(os.path.join(t, "empty"))
    os.symlink(os.path.join(t, "sub"), str(tmp_path / "link-given"))
    os.mkfifo(str(tmp_path / "fifo-given"))
    os.symlink("nowhere", str(tmp_path / "dangling-given"))
    return t


EXTERNALS = HELLO + """
rule ext_exe { condition: extension == ".exe" and filename == "b.EXE" }
rule type_elf { condition: filetype == "ELF" }
rule type_exe { condition: filetype == "EXE" }
rule owner_daemon { condition: owner == "daemon" }
rule owner_number { condition: owner == "54321" }
rule owner_root { condition: owner == "root" and filename == "a.txt" }
rule path_deep { condition: filepath endswith "/sub/deep" }
"""


def normal_json(out):
    objs = ndjson(out)
    for o in objs:
        if "summary" in o:
            o["summary"].pop("seconds")
    return sorted(json.dumps(o, sort_keys=True) for o in objs)


def test_outputs_are_those_of_the_scan_in_one_process(ward_bin, tmp_path):
    t = compare_tree(tmp_path)
    rules = rules_file(tmp_path, EXTERNALS)
    cases = [
        ([t], 1),
        ([t, str(tmp_path / "link-given")], 1),
        ([os.path.join(t, "clean.txt"), os.path.join(t, "empty")], 0),
        ([t, str(tmp_path / "missing"), str(tmp_path / "fifo-given"),
          str(tmp_path / "dangling-given")], 1),
        ([str(tmp_path / "missing"), os.path.join(t, "clean.txt")], 2),
    ]
    for paths, status in cases:
        for fmt in ("text", "json"):
            args = ["--threads", "3", "--format", fmt, "--rules", rules,
                    "--exclude", "*/skip", "--max-filesize", "4K"] + paths
            runs = [subprocess.run([ward_bin, "scan"] + extra + args, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=120)
                    for extra in ([], ["--no-sandbox"])]
            sand, alone = runs
            assert sand.returncode == alone.returncode == status, (paths, fmt, sand.stderr)
            so, ao = sand.stdout.decode(), alone.stdout.decode()
            se, ae = sand.stderr.decode(), alone.stderr.decode()
            if fmt == "json":
                assert normal_json(so) == normal_json(ao), (paths, so, ao)
            else:
                assert sorted(so.splitlines()) == sorted(ao.splitlines()), (paths, so, ao)
            assert sorted(x for x in se.splitlines() if x.startswith("ward: ")) == sorted(
                x for x in ae.splitlines() if x.startswith("ward: ")), (paths, se, ae)
            assert summary(se) == summary(ae), (paths, se, ae)
    # And the values are the right ones, not merely the same.
    p = subprocess.run([ward_bin, "scan", "--rules", rules, "--exclude", "*/skip",
                        "--max-filesize", "4K", t], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    got = found(p.stdout.decode())
    j = lambda *a: os.path.join(t, *a)   # noqa: E731
    assert got == {
        (j("a.txt"), "hello"), (j("sub", "b.EXE"), "hello"), (j("sub", "deep", "c.elf"), "hello"),
        (j("sub", "b.EXE"), "ext_exe"), (j("sub", "b.EXE"), "type_exe"),
        (j("sub", "deep", "c.elf"), "type_elf"), (j("sub", "deep", "c.elf"), "path_deep"),
        (j("owned", "by-daemon"), "owner_daemon"), (j("owned", "by-nobody-named"), "owner_number"),
        (j("a.txt"), "owner_root"),
    }, got
    err = p.stderr.decode()
    for word, n in (("hard links", 1), ("symbolic links not followed", 2),
                    ("special files", 1), ("larger than", 1), ("excluded", 1)):
        assert summary_numbers(err, word) == [n], (word, err)


def test_help_and_docs_say_it(ward_bin):
    p = subprocess.run([ward_bin, "scan", "--help"], stdout=subprocess.PIPE, timeout=30)
    text = p.stdout.decode()
    assert "--no-sandbox" in text and "nobody" in text, text
