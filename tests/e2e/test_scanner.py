"""
The scanner processes: files are read and matched in unprivileged,
seccomp-confined processes, and a file that crashes one (the fault build's
WARD_FAULT_SCANNER_CRASH_ON, as a matcher bug met by a crafted file would)
costs a scanner, not the content: no rollback, no safe mode, the file
recorded as poison and skipped after, an alert journaled.  Every test
mounts a tmpfs of its own and gives only that to the agent.
"""

import json
import os
import pwd
import signal
import time

import pytest

from agentlib import onaccess_box, read_journal, signed_bundle, wait_events
from conftest import EICAR

MARK = "WARD-POISON-7d1c"
POISON = ("#!/bin/sh\n# %s\necho poison-ran\n" % MARK).encode()


@pytest.fixture
def box(ward, tmp_path):
    with onaccess_box(ward, tmp_path, "scanner", fault=True,
                      env={"WARD_FAULT_SCANNER_CRASH_ON": MARK}) as b:
        yield b


def write_exec(path, data):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o755)
    return path


def run(path):
    import subprocess
    return subprocess.run(["/bin/sh", "-c", 'exec "$0"', path], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=20)


def agent_scan(a, path):
    p = a.agent("scan", path, "--format", "json")
    assert p.returncode in (0, 1), p.stdout + p.stderr
    return json.loads(p.stdout)


def test_poison_file_costs_a_scanner_not_the_content(box):
    # A deadline long enough for a scanner's restart on a loaded machine:
    # the test is about the scanners still working, not their latency.
    a = box.agent(extra=["  deadline_ms: 5000"])
    version = a.status()["content"]["current"]["version"]
    bad = write_exec(os.path.join(box.mnt, "crafted.sh"), POISON)
    # Executed five times: each runs (the deadline policy: fail open).
    for _ in range(5):
        p = run(bad)
        assert p.returncode == 0 and p.stdout == b"poison-ran\n", p
    # ward agent scan lists it as poison, and scans the rest.
    res = agent_scan(a, bad)
    assert [x["path"] for x in res["poison"]] == [bad], res
    assert res["match_count"] == 0
    st = a.status()
    assert st["mode"] == "protecting", st
    assert st["content"]["current"]["version"] == version
    assert st["crashes"] == [], st["crashes"]
    sc = st["scanners"]
    assert [f["path"] for f in sc["poison_files"]] == [bad], sc
    # The first scans only (the write's and the exec's may run at once,
    # each in a scanner of its own): then the file is skipped.
    assert 1 <= sc["crashes"] <= 2, sc
    crashes = sc["crashes"]
    assert sc["poison_skipped"] >= 5, sc
    assert st["sensors"]["onaccess"]["counters"]["poison"] >= 5
    ev = wait_events(a, "scan-crashed")
    assert len(ev) == crashes, ev
    assert ev[0]["file"]["path"] == bad and ev[0]["event"]["kind"] == "alert"
    actions = [e["event"]["action"] for _, e in read_journal(a.state)]
    assert "content-crash-guard-rollback" not in actions
    assert "agent-worker-crashed" not in actions and "agent-safe-mode" not in actions
    # The scanners still work: EICAR on the same mount is denied on exec.
    eicar = write_exec(os.path.join(box.mnt, "eicar.com"), EICAR)
    p = run(eicar)
    assert p.returncode == 126 and b"Operation not permitted" in p.stderr, p
    assert a.status()["mode"] == "protecting"
    # A change to the file makes it an ordinary file again (scanned: it crashes again).
    write_exec(bad, POISON + b"# changed\n")
    assert run(bad).returncode == 0
    a.wait_for(lambda s: s["scanners"]["crashes"] > crashes, what="the changed file scanned")


def test_poison_list_survives_a_restart(box):
    a = box.agent()
    bad = write_exec(os.path.join(box.mnt, "crafted.sh"), POISON)
    assert run(bad).returncode == 0
    a.wait_for(lambda s: s["scanners"]["crashes"] >= 1, what="the crash recorded")
    a.stop()
    a.start()
    assert run(bad).returncode == 0
    sc = a.status()["scanners"]
    assert sc["crashes"] == 0 and sc["poison_skipped"] >= 1, sc
    assert [f["path"] for f in sc["poison_files"]] == [bad]


def test_poison_fail_closed(box):
    a = box.agent(extra=["  fail_closed: true"])
    bad = write_exec(os.path.join(box.mnt, "crafted.sh"), POISON)
    for _ in range(2):
        p = run(bad)
        assert p.returncode == 126, p
    assert a.status()["mode"] == "protecting"


def test_scanners_run_unprivileged_and_confined(box):
    a = box.agent()
    clean = write_exec(os.path.join(box.mnt, "clean.sh"), b"#!/bin/sh\necho ok\n")
    assert run(clean).returncode == 0
    res = agent_scan(a, box.mnt)  # both scanners may take part
    assert res["files"] >= 1
    sc = a.status()["scanners"]
    assert sc["processes"] == 2 and sc["user"] == "nobody"
    assert 1 <= len(sc["pids"]) <= 2, sc
    nobody = pwd.getpwnam("nobody")
    for pid in sc["pids"]:
        with open("/proc/%d/status" % pid) as f:
            fields = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        assert fields["Uid"].split() == [str(nobody.pw_uid)] * 4, fields["Uid"]
        assert fields["Gid"].split() == [str(nobody.pw_gid)] * 4, fields["Gid"]
        assert fields["Seccomp"].strip() == "2", fields
        assert fields["NoNewPrivs"].strip() == "1", fields
        assert fields["CapEff"].strip() == "0000000000000000", fields
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            assert b"--scanner" in f.read().split(b"\0")
    # The scanners outlive the threads that started them (a ward agent
    # scan's): a second scan uses them, nothing crashed.
    agent_scan(a, box.mnt)
    sc2 = a.status()["scanners"]
    assert sc2["crashes"] == 0 and set(sc["pids"]) <= set(sc2["pids"]), (sc, sc2)
    # ... and not the worker: its channel closes, they exit.
    os.kill(a.worker_pid(), signal.SIGKILL)
    end = time.time() + 10
    while time.time() < end and any(alive(p) for p in sc2["pids"]):
        time.sleep(0.05)
    assert not any(alive(p) for p in sc2["pids"]), sc2


def alive(pid):
    """Whether pid is still a scanner (not gone, not a zombie)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            return "\nState:\tZ" not in f.read()
    except FileNotFoundError:
        return False


def test_crashes_on_many_different_files_count_against_the_content(box):
    """scan.crash_files different files crashing the scanners with one
    content version: that is the content's fault, and the crash guard
    rolls it back to last-known-good."""
    a = box.agent(extra=["scan:", "  crash_files: 3"])
    v2 = signed_bundle(box.ward, box.tmp, box.rel[0], 2)
    p = a.apply(v2)
    assert p.returncode == 0, p.stderr
    assert a.status()["content"]["current"]["version"] == 2
    for i in range(2):
        bad = write_exec(os.path.join(box.mnt, "crafted%d.sh" % i),
                         POISON + ("# %d\n" % i).encode())
        run(bad)
    a.wait_for(lambda s: len(s["scanners"]["poison_files"]) == 2, what="two poison files")
    # Two: still the files' doing.
    st = a.status()
    assert st["content"]["current"]["version"] == 2 and st["mode"] == "protecting"
    bad = write_exec(os.path.join(box.mnt, "crafted2.sh"), POISON + b"# 2\n")
    run(bad)
    st = a.wait_for(lambda s: s["content"]["current"]["version"] == 1,
                    what="the rollback to last-known-good")
    assert st["mode"] == "protecting"
    rej = [r for r in st["content"]["rejected"] if r["version"] == 2]
    assert rej and "scanner processes crashed on 3 different files" in rej[0]["reason"], st
    assert "content-crash-guard-rollback" in [e["event"]["action"]
                                              for _, e in read_journal(a.state)]


def test_agent_scan_blames_only_the_file_that_crashed(box):
    # ward agent scan sends a scanner many files ahead of its verdicts: the
    # file a scanner dies on must be the one recorded, its neighbours in
    # the same batch scanned again by the restarted scanner, none lost.
    # (Outside the on-access mount: only this scan reads the files.)
    a = box.agent()
    tree = os.path.join(str(box.tmp), "tree")
    os.mkdir(tree)
    names = []
    for i in range(60):
        p = os.path.join(tree, "f%03d" % i)
        with open(p, "wb") as f:
            f.write(EICAR if i % 7 == 3 else b"clean %d\n" % i)
        names.append(p)
    bad = os.path.join(tree, "f021")
    with open(bad, "wb") as f:
        f.write(POISON)
    res = agent_scan(a, tree)
    assert [x["path"] for x in res["poison"]] == [bad], res["poison"]
    found = sorted({m["path"] for m in res["matches"]})
    assert found == [p for i, p in enumerate(names) if i % 7 == 3], found
    assert res["files"] == 60, res
    sc = a.status()["scanners"]
    assert sc["crashes"] == 1 and [f["path"] for f in sc["poison_files"]] == [bad], sc
    # Again: the poison file is skipped, everything else still scanned.
    res = agent_scan(a, tree)
    assert [x["path"] for x in res["poison"]] == [bad] and res["files"] == 60, res
    assert sorted({m["path"] for m in res["matches"]}) == found
    assert a.status()["scanners"]["crashes"] == 1


def test_two_poison_files_in_one_window_each_blamed_alone(box):
    # A scanner holds its verdicts back and sends a window's at once: when
    # it dies with several files in hand, none is blamed until a file kills
    # a scanner alone.  Two poison files in the same window of 16: both
    # recorded (two crashes, not one per file in hand), every neighbour
    # scanned, its match found.
    a = box.agent()
    version = a.status()["content"]["current"]["version"]
    tree = os.path.join(str(box.tmp), "tree")
    os.mkdir(tree)
    names = []
    for i in range(40):
        p = os.path.join(tree, "f%03d" % i)
        with open(p, "wb") as f:
            f.write(EICAR if i in (4, 9) else b"clean %d\n" % i)
        names.append(p)
    bad = [os.path.join(tree, "f%03d" % i) for i in (6, 11)]
    for p in bad:
        with open(p, "wb") as f:
            f.write(POISON)
    res = agent_scan(a, tree)
    assert sorted(x["path"] for x in res["poison"]) == bad, res["poison"]
    assert sorted({m["path"] for m in res["matches"]}) == [names[4], names[9]], res
    assert res["files"] == 40 and res["errors"] == 2, res  # the two poison files
    sc = a.status()["scanners"]
    assert sc["crashes"] == 2, sc
    assert sorted(f["path"] for f in sc["poison_files"]) == bad, sc
    st = a.status()
    assert st["content"]["current"]["version"] == version and st["mode"] == "protecting", st


BREACH = "WARD-BREACH-4b2e"


def test_a_hostile_file_cannot_have_its_neighbours_recorded_as_poison(ward, tmp_path):
    # A file that takes a scanner over can make it send a forged frame
    # before the verdicts it holds for the files scanned before it.  The
    # forgery is an attack on the protocol, but it does not say which file
    # in hand did it: none is blamed until a file does it alone.  Only the
    # hostile file is recorded — not the innocent ones ahead of it in its
    # window (one per retry until the crash guard counted them against the
    # content, before) — and the agent keeps its content and mode.
    with onaccess_box(ward, tmp_path, "scanner", fault=True,
                      env={"WARD_FAULT_SCANNER_BREACH_ON": BREACH}) as b:
        a = b.agent()
        version = a.status()["content"]["current"]["version"]
        tree = os.path.join(str(b.tmp), "tree")
        os.mkdir(tree)
        names = []
        for i in range(12):
            p = os.path.join(tree, "f%03d" % i)
            with open(p, "wb") as f:
                if i == 5:
                    f.write(("hostile %s\n" % BREACH).encode())
                else:
                    f.write(EICAR if i == 2 else b"clean %d\n" % i)
            names.append(p)
        res = agent_scan(a, tree)
        assert [x["path"] for x in res["poison"]] == [names[5]], res["poison"]
        assert {m["path"] for m in res["matches"]} == {names[2]}, res
        st = a.status()
        assert [f["path"] for f in st["scanners"]["poison_files"]] == [names[5]], st["scanners"]
        assert st["mode"] == "protecting", st
        assert st["content"]["current"]["version"] == version, st["content"]
        # The attack is said, as an attack.
        assert "protocol violation" in a.read_log(), a.read_log()[-3000:]


def test_a_scanner_killed_while_idle_blames_no_file(box):
    # A scanner killed from outside while it has no file (its user's other
    # processes can signal it) costs a restart, never a file's good name:
    # the next files are scanned by a new scanner, none recorded as poison.
    a = box.agent()
    tree = os.path.join(str(box.tmp), "tree")
    os.mkdir(tree)
    for i in range(8):
        with open(os.path.join(tree, "f%d" % i), "wb") as f:
            f.write(EICAR if i == 0 else b"clean %d\n" % i)
    first = agent_scan(a, tree)
    found = {m["path"] for m in first["matches"]}
    assert found == {os.path.join(tree, "f0")}, first
    pids = a.status()["scanners"]["pids"]
    assert pids, a.status()["scanners"]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    res = agent_scan(a, tree)
    assert res["poison"] == [] and res["files"] == 8 and res["errors"] == 0, res
    assert {m["path"] for m in res["matches"]} == found, res
    sc = a.status()["scanners"]
    assert sc["crashes"] == 0 and sc["poison_files"] == [], sc


def test_a_name_that_is_not_utf8_is_shown_not_dropped(box):
    # A file's name may be any bytes; JSON carries only UTF-8: the match is
    # listed with the name's bytes shown as \xHH, and the alert names it.
    a = box.agent()
    tree = os.path.join(str(box.tmp), "names")
    os.mkdir(tree)
    with open(os.path.join(tree.encode(), b"m\xff.com"), "wb") as f:
        f.write(EICAR)
    res = agent_scan(a, tree)
    assert {m["path"] for m in res["matches"]} == {os.path.join(tree, "m\\xff.com")}, res
    assert res["match_count"] >= 1 and len(res["matches"]) == res["match_count"], res


def test_idle_scanners_beyond_the_first_are_retired(ward, tmp_path):
    """An agent at rest keeps one scanner warm, not scan.processes of
    them: after a scan that ran both (many files at once), the second is
    ended once idle (a minute; 2 s here, the fault build's
    WARD_FAULT_SCANNER_IDLE_S), and the next scan still works — with one
    scanner, or two again when it needs them."""
    with onaccess_box(ward, tmp_path, "scanner", fault=True,
                      env={"WARD_FAULT_SCANNER_IDLE_S": "2"}) as b:
        a = b.agent(extra=["scan:", "  processes: 2"])
        tree = os.path.join(b.mnt, "tree")
        os.mkdir(tree)
        for i in range(2000):
            with open(os.path.join(tree, "f%04d" % i), "w") as f:
                f.write("plain %d\n" % i)
        with open(os.path.join(tree, "eicar.com"), "wb") as f:
            f.write(EICAR)
        end = time.time() + 60
        while len(a.status()["scanners"]["pids"]) < 2 and time.time() < end:
            agent_scan(a, tree)  # 16 files ahead per scanner: both are taken
        assert len(a.status()["scanners"]["pids"]) == 2, a.status()["scanners"]
        st = a.wait_for(lambda s: len(s["scanners"]["pids"]) == 1, 20, "one scanner left")
        assert st["scanners"]["retired_idle"] >= 1, st["scanners"]
        assert st["scanners"]["crashes"] == 0 and st["scanners"]["poison_files"] == []
        res = agent_scan(a, tree)
        assert res["files"] == 2001 and res["match_count"] >= 1, res
        assert {m["path"] for m in res["matches"]} == {os.path.join(tree, "eicar.com")}, res
        assert not res.get("poison"), res
