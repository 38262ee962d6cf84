"""
Walking trees: unreadable files, a 10 GiB sparse file, a 2 000-level tree,
symlink loops, special files and virtual filesystems, --exclude,
--max-filesize, --threads, 50 000 small files, and Ctrl-C.
"""

import os
import pty
import select
import signal
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import (FOUND_RE, found, ndjson, peak_rss_kib, rm_deep, rules_file,
                      summary_numbers, write)

HELLO = 'rule hello { strings: $a = "hello" condition: $a }\n'
GIB = 1 << 30


def found_lines(stdout):
    """Like found(), for runs that may also print error lines on stdout."""
    out = set()
    for line in stdout.splitlines():
        m = FOUND_RE.match(line)
        if m:
            out.add((os.path.normpath(m.group(1)), m.group(2)))
    return out


def test_unreadable_file_is_reported_and_scan_goes_on(ward_bin, world_tmp):
    rules = write(os.path.join(world_tmp, "rules.yar"), HELLO, mode=0o644)
    d = os.path.join(world_tmp, "tree")
    a = write(os.path.join(d, "a.txt"), b"hello a", mode=0o644)
    locked = write(os.path.join(d, "locked.txt"), b"hello locked", mode=0o000)
    b = write(os.path.join(d, "sub", "b.txt"), b"hello b", mode=0o644)
    write(os.path.join(d, "closed", "c.txt"), b"hello c", mode=0o644)
    closed = os.path.join(d, "closed")
    for p in (d, os.path.join(d, "sub")):
        os.chmod(p, 0o755)
    os.chmod(closed, 0o000)
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    try:
        p = subprocess.run(drop + [ward_bin, "scan", "--rules", rules, d],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, text=True)
        assert p.returncode == 1, p.stderr
        assert found_lines(p.stdout) == {(a, "hello"), (b, "hello")}
        assert locked in p.stdout + p.stderr, "the unreadable file is not reported"
        assert closed in p.stdout + p.stderr, "the unreadable directory is not reported"
        assert 2 in summary_numbers(p.stderr, "error"), p.stderr

        p = subprocess.run(drop + [ward_bin, "scan", "--format", "json", "--rules", rules, d],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, text=True)
        objs = ndjson(p.stdout)
        errors = {os.path.normpath(o["path"]) for o in objs if "error" in o}
        matches = {(os.path.normpath(o["path"]), o["rule"]) for o in objs if "rule" in o}
        assert errors == {locked, closed}
        assert matches == {(a, "hello"), (b, "hello")}
    finally:
        os.chmod(closed, 0o755)


def test_sparse_10gib_file(ward_bin, tmp_path):
    rules = rules_file(tmp_path, """
rule at_the_end { strings: $a = "PLANTED-AT-THE-END" condition: $a at filesize - 100 }
rule big { condition: filesize == 10240MB }
""")
    f = str(tmp_path / "sparse.img")
    with open(f, "wb") as fh:
        fh.truncate(10 * GIB)
        fh.seek(10 * GIB - 100)
        fh.write(b"PLANTED-AT-THE-END")
    assert os.path.getsize(f) == 10 * GIB
    p, rss = peak_rss_kib([ward_bin, "scan", "--format", "json", "--rules", rules, f], timeout=900)
    assert p.returncode == 1, p.stderr
    objs = [o for o in ndjson(p.stdout) if "rule" in o]
    assert sorted(o["rule"] for o in objs) == ["at_the_end", "big"]
    end = [o for o in objs if o["rule"] == "at_the_end"][0]
    assert [(s["offset"], s["length"]) for s in end["strings"]] == [(10 * GIB - 100, 18)]
    assert rss < 200 * 1024, "peak RSS %d MiB scanning a 10 GiB file" % (rss // 1024)


def test_deep_directory_tree(ward):
    levels = 2000
    root = tempfile.mkdtemp(prefix="ward-deep-", dir="/tmp")
    try:
        rules = rules_file(root, HELLO)
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        planted = []
        path = os.path.join(root, "t")
        os.mkdir("t", dir_fd=fd)
        cur = os.open("t", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        for level in range(1, levels + 1):
            if level in (1, 1000, levels):
                ffd = os.open("f", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=cur)
                os.write(ffd, b"hello at level %d" % level)
                os.close(ffd)
                planted.append(os.path.join(path, "f"))
            if level < levels:
                os.mkdir("d", dir_fd=cur)
                nxt = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=cur)
                os.close(cur)
                cur = nxt
                path = os.path.join(path, "d")
        os.close(cur)
        p = ward.scan("--rules", rules, os.path.join(root, "t"), timeout=300)
        assert p.returncode == 1, p.stderr[-2000:]
        assert found(p.stdout) == {(x, "hello") for x in planted}
    finally:
        rm_deep(root)


def test_symlink_loops(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO)
    outside = str(tmp_path / "outside")
    other = write(os.path.join(outside, "other.txt"), b"hello from outside")
    root = str(tmp_path / "root")
    real = write(os.path.join(root, "real", "file.txt"), b"hello")
    os.symlink("..", os.path.join(root, "real", "up"))          # loop through the parent
    os.symlink(".", os.path.join(root, "self"))                  # loop onto itself
    os.symlink("real/file.txt", os.path.join(root, "link.txt"))  # a symlink to a file
    os.symlink(outside, os.path.join(root, "outside"))           # leaves the tree
    os.symlink("nowhere", os.path.join(root, "dangling"))
    os.symlink("a", os.path.join(root, "b"))                     # a -> b -> a
    os.symlink("b", os.path.join(root, "a"))

    p = ward.scan("--rules", rules, root, timeout=60)
    assert p.returncode == 1, p.stderr
    assert found_lines(p.stdout) == {(real, "hello")}

    p = ward.scan("--follow-symlinks", "--rules", rules, root, timeout=60)
    assert p.returncode == 1, p.stderr
    hits = [os.path.realpath(x) for x, _ in found_lines(p.stdout)]
    assert set(hits) == {real, other}
    # each real file is reached, and not over and over through the loops
    assert hits.count(real) <= 2 and hits.count(other) == 1, p.stdout


def test_special_files_are_skipped(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO)
    d = str(tmp_path / "tree")
    a = write(os.path.join(d, "a.txt"), b"hello")
    os.mkfifo(os.path.join(d, "fifo"))      # reading it would block for ever
    try:
        os.mknod(os.path.join(d, "zero"), stat.S_IFCHR | 0o666, os.makedev(1, 5))  # endless
    except PermissionError:
        pass
    import socket
    s = socket.socket(socket.AF_UNIX)
    s.bind(os.path.join(d, "sock"))
    try:
        p = ward.scan("--rules", rules, d, timeout=60)
    finally:
        s.close()
    assert p.returncode == 1, p.stderr
    assert found_lines(p.stdout) == {(a, "hello")}


def test_virtual_filesystems_are_skipped(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO)
    d = str(tmp_path / "tree")
    a = write(os.path.join(d, "a.txt"), b"hello")
    mnt = os.path.join(d, "proc")
    os.mkdir(mnt)
    r = subprocess.run(["mount", "-t", "proc", "proc", mnt], stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount proc here: %s" % r.stderr.strip())
    try:
        t0 = time.monotonic()
        p = ward.scan("--rules", rules, d, timeout=120)
        took = time.monotonic() - t0
    finally:
        subprocess.run(["umount", mnt])
    assert p.returncode == 1, p.stderr
    assert found_lines(p.stdout) == {(a, "hello")}
    assert 1 in summary_numbers(p.stderr, "files"), p.stderr
    assert took < 60


def test_exclude(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO)
    d = str(tmp_path / "tree")
    files = ["keep.txt", "skip.log", "sub/skip.log", "sub/keep2.txt", "cache/x.txt"]
    for f in files:
        write(os.path.join(d, f), b"hello")
    j = lambda n: (os.path.join(d, n), "hello")  # noqa: E731
    p = ward.scan("--exclude", "*.log", "--rules", rules, d)
    assert p.returncode == 1
    assert found(p.stdout) == {j("keep.txt"), j("sub/keep2.txt"), j("cache/x.txt")}
    # a directory's name excludes the whole directory
    p = ward.scan("--exclude", "*.log", "--exclude", "cache", "--rules", rules, d)
    assert found(p.stdout) == {j("keep.txt"), j("sub/keep2.txt")}


def test_max_filesize(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO)
    d = str(tmp_path / "tree")
    write(os.path.join(d, "small"), b"hello" + b" " * 95)
    write(os.path.join(d, "mid"), b"hello" + b" " * 4995)
    write(os.path.join(d, "big"), b"hello" + b" " * (2 * 1024 * 1024 - 5))
    cases = {
        "1000": {"small"},
        "4999": {"small"},
        "5000": {"small", "mid"},
        "4K": {"small"},
        "1M": {"small", "mid"},
        "3M": {"small", "mid", "big"},
    }
    for size, expect in cases.items():
        p = ward.scan("--max-filesize", size, "--rules", rules, d)
        assert p.returncode == 1, (size, p.stderr)
        assert found_lines(p.stdout) == {(os.path.join(d, n), "hello") for n in expect}, size


def test_threads_give_the_same_results(ward, tmp_path):
    rules = rules_file(tmp_path, """
rule r_alpha { strings: $a = "alpha" condition: $a }
rule r_beta { strings: $b = "beta" wide condition: #b >= 2 }
rule r_size { condition: filesize > 3000 and uint8(0) == 0x42 }
""")
    d = str(tmp_path / "tree")
    expect = set()
    for i in range(300):
        rel = os.path.join("d%d" % (i % 7), "f%03d" % i)
        data = bytearray(b"B" if i % 5 == 0 else b"x") + bytearray(i * 13 % 5000)
        if i % 3 == 0:
            data += b"alpha"
            expect.add((os.path.join(d, rel), "r_alpha"))
        if i % 4 == 0:
            data += "beta beta".encode("utf-16-le")
            expect.add((os.path.join(d, rel), "r_beta"))
        if i % 5 == 0 and len(data) > 3000:
            expect.add((os.path.join(d, rel), "r_size"))
        write(os.path.join(d, rel), bytes(data))
    results = {}
    for t in (None, "1", "2", "8"):
        args = ["--threads", t] if t else []
        p = ward.scan(*args, "--rules", rules, d)
        assert p.returncode == 1, p.stderr
        results[t] = found(p.stdout)
    assert results[None] == expect
    assert results["1"] == results["2"] == results["8"] == expect


def test_fifty_thousand_small_files(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO)
    d = str(tmp_path / "many")
    expect = set()
    n = 50000
    for i in range(n):
        sub = os.path.join(d, "%02d" % (i // 1000))
        if i % 1000 == 0:
            os.makedirs(sub)
        path = os.path.join(sub, "%05d.txt" % i)
        with open(path, "wb") as f:
            if i % 997 == 0:
                f.write(b"file %d says hello\n" % i)
                expect.add((path, "hello"))
            else:
                f.write(b"file %d is clean\n" % i)
    p = ward.scan("--rules", rules, d, timeout=300)
    assert p.returncode == 1, p.stderr
    assert found(p.stdout) == expect
    assert n in summary_numbers(p.stderr, "files"), p.stderr


def test_ctrl_c_stops_with_a_summary(ward_bin, tmp_path):
    rules = rules_file(tmp_path, HELLO)
    d = str(tmp_path / "big")
    os.makedirs(d)
    for i in range(8):
        with open(os.path.join(d, "sparse%d.img" % i), "wb") as f:
            f.truncate(64 * GIB)   # 512 GiB of holes: minutes of reading
    write(os.path.join(d, "a.txt"), b"hello")
    proc = subprocess.Popen([ward_bin, "scan", "--rules", rules, d], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        time.sleep(1.5)
        assert proc.poll() is None, "the scan ended before Ctrl-C could be tested"
        os.killpg(proc.pid, signal.SIGINT)   # what the terminal does on Ctrl-C
        t0 = time.monotonic()
        out, err = proc.communicate(timeout=10)
        took = time.monotonic() - t0
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("ward still running 10 s after SIGINT")
    assert took < 5, "took %.1f s to stop after SIGINT" % took
    err = err.decode("utf-8", "replace")
    assert "MB/s" in err, "no summary after Ctrl-C: %r" % err[-1000:]
    found_lines(out.decode("utf-8", "replace"))
    assert proc.returncode != 0, "an interrupted scan must not report a clean result"


def test_progress_line_only_on_a_terminal(ward_bin, tmp_path):
    rules = rules_file(tmp_path, HELLO)
    d = str(tmp_path / "big")
    os.makedirs(d)
    with open(os.path.join(d, "sparse.img"), "wb") as f:
        f.truncate(256 * GIB)
    master, slave = pty.openpty()
    proc = subprocess.Popen([ward_bin, "scan", "--rules", rules, d], stdout=subprocess.PIPE,
                            stderr=slave, start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.1)
            if r:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        assert proc.poll() is None, "the scan ended before its progress could be seen"
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=10)
        while True:
            r, _, _ = select.select([master], [], [], 0.5)
            if not r:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)
    text = seen.decode("utf-8", "replace")
    # a line rewritten in place while the scan runs, then the summary
    assert "\r" in text, "no live progress line on a terminal: %r" % text[-500:]
    assert "MB/s" in text
