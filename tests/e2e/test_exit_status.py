"""
`ward scan`'s exit status when a path given cannot be used, as a cron job
reads it: `ward scan /nonexistent` (once 0, "clean") is 2 as with clamscan,
a FIFO or a dangling link given is 2, an unreadable file inside a tree is
counted and is 2 only with --strict, a match still wins (1); the summary
says why files were skipped, by kind, in text and in JSON.  The other
commands are in test_cli_paths.py.
"""

import os
import re
import shutil
import socket
import subprocess

import pytest

from conftest import EICAR, REPO, found, ndjson, rules_file, summary_numbers, write
from userlib import nobody

HELLO = 'rule hello { strings: $a = "hello" condition: $a }\n'


def stderr_lines_all_prefixed(stderr):
    """Every diagnostic line (not the summary block) starts with "ward: "."""
    lines = []
    for line in stderr.splitlines():
        if line.startswith("-----"):
            break
        if line.strip():
            lines.append(line)
    assert lines, "nothing said on stderr"
    for line in lines:
        assert line.startswith("ward: "), "a message without the ward: prefix: %r" % line
    return lines


def summary(stdout):
    objs = ndjson(stdout)
    assert "summary" in objs[-1], stdout
    assert not [o for o in objs[:-1] if "summary" in o]
    return objs[-1]["summary"]


# --------------------------------------------------------------------------
# ward scan: the PATHs given


def test_scan_nonexistent_path_is_exit_2(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO)
    missing = str(tmp_path / "nonexistent")
    p = ward.scan("--rules", rules, missing)
    assert p.returncode == 2, p.stderr
    assert stderr_lines_all_prefixed(p.stderr) == [
        "ward: %s: cannot stat: No such file or directory" % missing]
    assert "paths given that could not be scanned: 1" in p.stderr
    assert 1 in summary_numbers(p.stderr, "errors")
    p = ward.scan("--format", "json", "--rules", rules, missing)
    assert p.returncode == 2
    s = summary(p.stdout)
    assert (s["path_errors"], s["file_errors"], s["errors"], s["files"]) == (1, 0, 1, 0)


def test_scan_one_good_one_missing_path(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO)
    clean = write(str(tmp_path / "d" / "clean.txt"), b"bye")
    dirty = write(str(tmp_path / "d2" / "dirty.txt"), b"hello")
    missing = str(tmp_path / "gone")
    # clean + missing: the missing one is what counts
    p = ward.scan("--rules", rules, os.path.dirname(clean), missing)
    assert p.returncode == 2, p.stderr
    # a match + missing: found wins, as with clamscan; the error is still said
    p = ward.scan("--rules", rules, os.path.dirname(dirty), missing)
    assert p.returncode == 1, p.stderr
    assert found(p.stdout) == {(dirty, "hello")}
    assert missing in p.stderr


def test_scan_special_and_dangling_paths_given(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO)
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    dangling = str(tmp_path / "dangling")
    os.symlink(str(tmp_path / "nowhere"), dangling)
    for path, words in [(fifo, "not a regular file or directory"),
                        (dangling, "a symbolic link to nothing"),
                        ("/dev/null", "not a regular file or directory")]:
        p = ward.scan("--rules", rules, path, timeout=30)
        assert p.returncode == 2, (path, p.stderr)
        assert stderr_lines_all_prefixed(p.stderr)[0].startswith("ward: %s: " % path)
        assert words in p.stderr
    # excluded or repeated: what was asked, not an error
    d = str(tmp_path / "t")
    write(os.path.join(d, "a.log"), b"hello")
    p = ward.scan("--rules", rules, "--exclude", "*.log", os.path.join(d, "a.log"))
    assert p.returncode == 0, p.stderr
    p = ward.scan("--rules", rules, d, d)
    assert p.returncode == 1, p.stderr


def test_scan_statuses_agree_with_clamscan(ward, tmp_path):
    """clamscan is the model: the same situations give the same status."""
    if shutil.which("clamscan") is None:
        pytest.fail("clamscan is needed as the model of this test", pytrace=False)
    import hashlib
    db = write(str(tmp_path / "db" / "t.hdb"), "%s:%d:Eicar-Test\n" % (
        hashlib.md5(EICAR).hexdigest(), len(EICAR)))
    rules = rules_file(tmp_path, 'rule Eicar_Test { strings: $a = "EICAR-STANDARD" '
                       'condition: $a }\n')
    eicar = write(str(tmp_path / "e" / "eicar.com"), EICAR)
    clean = write(str(tmp_path / "c" / "clean.txt"), b"nothing")
    missing = str(tmp_path / "missing")
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    for args in [[clean], [eicar], [missing], [clean, missing], [eicar, missing], [fifo]]:
        c = subprocess.run(["clamscan", "--no-summary", "-d", db] + args,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        w = ward.scan("--rules", rules, *args, timeout=60)
        assert w.returncode == c.returncode, (args, w.returncode, c.returncode, w.stderr)


def test_scan_unreadable_inside_a_tree_and_strict(ward_bin, world_tmp):
    rules = write(os.path.join(world_tmp, "rules.yar"), HELLO, mode=0o644)
    d = os.path.join(world_tmp, "tree")
    write(os.path.join(d, "a.txt"), b"bye", mode=0o644)
    locked = write(os.path.join(d, "locked.txt"), b"hello", mode=0o000)
    os.chmod(d, 0o755)
    uid, gid = nobody()
    drop = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups", "--"]

    def run(*args):
        return subprocess.run(drop + [ward_bin, "scan", "--rules", rules] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=60)

    p = run(d)
    assert p.returncode == 0, p.stderr          # counted, the scan is still "clean"
    assert "ward: %s: Permission denied" % locked in p.stderr
    assert "unreadable entries inside the trees: 1" in p.stderr
    p = run("--strict", d)
    assert p.returncode == 2, p.stderr
    p = run("--strict", "--format", "json", d)
    assert p.returncode == 2
    s = summary(p.stdout)
    assert (s["file_errors"], s["path_errors"]) == (1, 0)
    # a match still says 1 with --strict
    write(os.path.join(d, "b.txt"), b"hello b", mode=0o644)
    p = run("--strict", d)
    assert p.returncode == 1, p.stderr
    # the unreadable file given by name: it could not be scanned at all
    p = run(locked)
    assert p.returncode == 2, p.stderr
    assert "paths given that could not be scanned: 1" in p.stderr


# --------------------------------------------------------------------------
# ward scan: what was skipped, by kind


def test_summary_counts_skipped_files_by_kind(ward, tmp_path):
    rules = rules_file(tmp_path, HELLO)
    d = str(tmp_path / "tree")
    a = write(os.path.join(d, "a.txt"), b"hello")
    os.link(a, os.path.join(d, "a-hardlink.txt"))
    os.symlink("a.txt", os.path.join(d, "a-symlink.txt"))
    os.mkfifo(os.path.join(d, "fifo"))
    s = socket.socket(socket.AF_UNIX)
    s.bind(os.path.join(d, "sock"))
    write(os.path.join(d, "big.bin"), b"hello" + b"\0" * 5000)
    write(os.path.join(d, "skip.log"), b"hello")
    write(os.path.join(d, "cache", "x.txt"), b"hello")
    try:
        args = ("--rules", rules, "--max-filesize", "4K", "--exclude", "*.log",
                "--exclude", "cache", d)
        p = ward.scan(*args)
        j = ward.scan("--format", "json", *args)
    finally:
        s.close()
    assert p.returncode == 1, p.stderr
    # the file once, under the name met first (names sorted: "-" before ".")
    assert found(p.stdout) == {(os.path.join(d, "a-hardlink.txt"), "hello")}
    block = p.stderr[p.stderr.index("SCAN SUMMARY"):]
    for line in ["Skipped files: 7",
                 "  symbolic links not followed: 1",
                 "  hard links (or paths) to what was already scanned: 1",
                 "  special files (FIFOs, sockets, devices): 2",
                 "  larger than --max-filesize: 1",
                 "  excluded by --exclude: 2"]:
        assert line + "\n" in block, (line, block)
    assert "virtual" not in block and "loops" not in block  # kinds that did not occur
    sj = summary(j.stdout)
    assert sj["skipped"] == 7
    assert sj["skipped_by"] == {"symlink": 1, "duplicate": 1, "special": 2, "too_large": 1,
                                "excluded": 2, "virtual": 0, "dangling": 0, "loop": 0}
    assert (sj["files"], sj["matches"], sj["errors"]) == (1, 1, 0)
    assert sj["interrupted"] is False and sj["seconds"] >= 0


def test_scan_help_states_the_exit_statuses(ward):
    p = ward.scan("--help")
    assert p.returncode == 0
    for words in ["0    nothing found", "1    something found", "2    an error",
                  "does not exist", "--strict", "130  interrupted", "--print-meta"]:
        assert words in p.stdout, words


def test_docs_scan_examples_are_real(ward, tmp_path):
    """docs/scan.md shows the message of a missing PATH and its status."""
    with open(os.path.join(REPO, "docs", "scan.md")) as f:
        text = f.read()
    m = re.search(r"^    \$ ward scan --rules r\.yar /srv/missing /home\n    (ward: .*)\n"
                  r"    \$ echo \$\?\n    (\d+)$", text, re.M)
    assert m, "the example is gone from docs/scan.md"
    assert not os.path.exists("/srv/missing")
    write(str(tmp_path / "r.yar"), 'rule r { condition: false }\n')
    home = str(tmp_path / "home")
    os.makedirs(home)
    p = ward.scan("--rules", "r.yar", "/srv/missing", home, cwd=str(tmp_path))
    assert p.returncode == int(m.group(2))
    assert p.stderr.splitlines()[0] == m.group(1)
