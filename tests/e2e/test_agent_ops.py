"""
Running wardd as an operator does: starting it twice by mistake, and a
journal that lost its tail while an output's cursor or the fleet server
remembers more.
"""

import json
import os
import re
import subprocess
import time

import pytest

from agentlib import DEFAULT_SRC, Agent, Keys, read_journal, wardd_path
from serverlib import Server, agent_server_lines, wait

# A log line: RFC 3339 UTC with milliseconds, then who speaks.
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z wardd(\[\d+\]( supervisor)?)?: \S")


@pytest.fixture
def box(ward, tmp_path):
    """Keys, signed default bundles, and agents with an NDJSON output in a
    directory of their own."""
    if os.geteuid() != 0:
        pytest.fail("the wardd tests run as root (make check runs them so)", pytrace=False)
    keys = Keys(ward, str(tmp_path / "keys"))
    rel = keys.make("release")
    agents = []

    class Box:
        pass

    b = Box()
    b.ward, b.tmp, b.rel = ward, tmp_path, rel

    def bundle(version):
        src = tmp_path / ("src%d" % version)
        if not src.exists():
            import shutil
            shutil.copytree(DEFAULT_SRC, src)
            data = json.loads((src / "bundle.json").read_text())
            data["version"] = version
            (src / "bundle.json").write_text(json.dumps(data))
        out = str(tmp_path / ("v%d.wbundle" % version))
        if not os.path.exists(out):
            assert ward.run("content", "build", src, "-o", out).returncode == 0
            assert ward.run("content", "sign", out, "--key", rel[0]).returncode == 0
        return out

    def agent(extra=(), start=True, name=None):
        d = tmp_path / (name or "agent%d" % len(agents))
        d.mkdir()
        out = d / "out"
        out.mkdir(mode=0o700)
        a = Agent(ward, d, [rel[1]], extra=["outputs:", "  ndjson:",
                                           "    path: %s/events.ndjson" % out] + list(extra))
        a.out = str(out)
        agents.append(a)
        if start:
            a.start()
        return a

    b.bundle, b.agent = bundle, agent
    yield b
    for a in agents:
        a.stop()


def ndjson(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def wait_ndjson(path, pred, what, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        evs = [e for e in ndjson(path) if pred(e)]
        if evs:
            return evs
        time.sleep(0.05)
    raise AssertionError("no %s in %s within %d s; it holds %s" % (
        what, path, timeout, [e["event"]["action"] for e in ndjson(path)]))


def activated(version):
    return lambda e: (e["event"]["action"] == "content-activated" and
                      e["ward"]["content"]["version"] == version)


def wait_log(a, text, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if text in a.read_log():
            return a.read_log()
        time.sleep(0.05)
    raise AssertionError("%r not in the log within %d s:\n%s" % (text, timeout, a.read_log()))


def second_wardd(config, foreground=True):
    args = [wardd_path(), "--config", config] + (["--foreground"] if foreground else [])
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=30)


# --- one wardd per state directory -------------------------------------------


def test_second_wardd_refused_first_keeps_working(box):
    a = box.agent()
    assert a.apply(box.bundle(1)).returncode == 0
    wait_ndjson(a.out + "/events.ndjson", activated(1), "content-activated 1")
    # The mistake: starting it again, in the foreground and as a daemon.
    for fg in (True, False):
        p = second_wardd(a.config, foreground=fg)
        assert p.returncode == 1, (p.returncode, p.stderr)
        assert "already running (pid %d)" % a.proc.pid in p.stderr, p.stderr
        assert "state_dir %s" % a.state in p.stderr, p.stderr
        assert LOG_LINE.match(p.stderr), p.stderr
    # Another state_dir but the same run_dir: the run directory says it.
    other = box.tmp / "other.yaml"
    other.write_text("trusted_keys: [%s]\nstate_dir: %s\nrun_dir: %s\n" % (
        box.rel[1], box.tmp / "other-state", a.run_dir))
    p = second_wardd(str(other))
    assert p.returncode == 1 and "run_dir %s" % a.run_dir in p.stderr, p.stderr
    assert open(os.path.join(a.state, "wardd.lock")).read() == "%d\n" % a.proc.pid
    # The first goes on alone: one worker, its socket still there, and an
    # event written now reaches the NDJSON output.
    st = a.status()
    assert st["supervisor_pid"] == a.proc.pid
    assert a.apply(box.bundle(2)).returncode == 0
    wait_ndjson(a.out + "/events.ndjson", activated(2), "content-activated 2")
    seqs = [s for s, _ in read_journal(a.state)]  # whole records, no gap
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert a.proc.poll() is None
    # Stopped, it can start again at once (no stale lock).
    a.stop()
    a.start()
    assert a.status()["content"]["current"]["version"] == 2


def test_output_cursor_ahead_of_journal_recovers(box):
    a = box.agent()
    assert a.apply(box.bundle(1)).returncode == 0
    out = a.out + "/events.ndjson"
    wait_ndjson(out, activated(1), "content-activated 1")
    a.stop()
    # The cursor says far more was delivered than the journal holds (a
    # journal restored from a backup, two agents on one state directory).
    cursor = os.path.join(a.state, "outputs", "ndjson.seq")
    with open(cursor, "w") as f:
        f.write("1000000\n")
    a.start()
    assert a.apply(box.bundle(2)).returncode == 0
    wait_ndjson(out, activated(2), "content-activated 2 after the restart")
    log = wait_log(a, "recovered")
    assert "outputs: ndjson: the cursor %s was at event 1000000" % cursor in log, log
    assert int(open(cursor).read()) < 1000


# --- the fleet server remembers more of the journal than it holds ---------------


def test_uplink_journal_behind_server_recovers(ward, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the wardd tests run as root (make check runs them so)", pytrace=False)
    srv = Server(tmp_path / "server", settings={"checkin.interval_s": 1,
                                               "checkin.jitter_pct": 0})
    srv.start()
    keys = Keys(ward, str(tmp_path / "keys"))
    rel = keys.make("release")
    bundles = {}
    for v in (1, 2):
        src = tmp_path / ("src%d" % v)
        import shutil
        shutil.copytree(DEFAULT_SRC, src)
        data = json.loads((src / "bundle.json").read_text())
        data["version"] = v
        (src / "bundle.json").write_text(json.dumps(data))
        bundles[v] = str(tmp_path / ("v%d.wbundle" % v))
        assert ward.run("content", "build", src, "-o", bundles[v]).returncode == 0
        assert ward.run("content", "sign", bundles[v], "--key", rel[0]).returncode == 0
    d = tmp_path / "agent"
    d.mkdir()
    a = Agent(ward, d, [rel[1]], extra=agent_server_lines(srv, srv.token(),
                                                           str(tmp_path / "ids" / "a")))
    try:
        a.start()
        assert a.apply(bundles[1]).returncode == 0
        # A dozen events more: refusals of a bundle signed by no one.
        unsigned = str(tmp_path / "unsigned.wbundle")
        assert ward.run("content", "build", DEFAULT_SRC, "-o", unsigned).returncode == 0
        for _ in range(12):
            assert a.apply(unsigned).returncode == 2
        last = read_journal(a.state)[-1][0]
        aid = wait(lambda: a.status().get("uplink", {}).get("agent_id"), what="enrollment")
        wait(lambda: a.status()["uplink"]["events_acked"] >= last, what="the upload")
        a.stop()
        # The journal is lost (restored from an old backup): the server
        # has events up to `last` of this journal, the journal starts over.
        jdir = os.path.join(a.state, "journal")
        for name in os.listdir(jdir):
            os.unlink(os.path.join(jdir, name))
        a.start()
        assert a.apply(bundles[2]).returncode == 0
        wait(lambda: [e for e in srv.events(aid)
                      if e["event"]["event"]["action"] == "content-activated" and
                      e["event"]["ward"]["content"]["version"] == 2],
             what="content-activated 2 on the server")
        log = a.read_log()
        assert "beyond this journal's end" in log and "recovered" in log, log
    finally:
        a.stop()
        srv.stop()
