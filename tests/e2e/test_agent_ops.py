"""
Running wardd as an operator does: starting it twice by mistake, editing
wardd.yaml and reloading it (SIGHUP, as `systemctl reload wardd` sends),
a journal that lost its tail while an output's cursor or the fleet server
remembers more, the FIM paths the default content turns on, a used
enrollment token left in wardd.yaml, and what `ward agent status` and the
log say about all of it.
"""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from agentlib import (DEFAULT_SRC, EICAR, EICAR_RULE, Agent, Keys, assemble, key_id,
                      manifest_for, openssl_sign, read_journal, wardd_path)
from serverlib import Server, agent_server_lines, wait

# A log line: RFC 3339 UTC with milliseconds, then who speaks.
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z wardd(\[\d+\]( supervisor)?)?: \S")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


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


def rewrite_config(a, extra):
    """wardd.yaml of a with its first lines kept and extra after them."""
    lines = open(a.config).read().splitlines()[:4]
    with open(a.config, "w") as f:
        f.write("\n".join(lines + list(extra)) + "\n")


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
    # Check-ins held up to 5 s (a long poll with nothing to do): the
    # journal grows past what the server has before the first answer.
    srv = Server(tmp_path / "server", settings={"checkin.interval_s": 5,
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
        wait(lambda: a.status()["uplink"]["events_acked"] >= last, timeout=40,
             what="the upload of %d events; log:\n%s" % (last, a.read_log()))
        a.stop()
        # The journal is lost (restored from an old backup): the server
        # has events up to `last` of this journal, the journal starts over.
        jdir = os.path.join(a.state, "journal")
        for name in os.listdir(jdir):
            os.unlink(os.path.join(jdir, name))
        a.start()
        # More events than the server has of this journal, at once: the
        # journal's end passes the server's count before the first
        # check-in answers (a burst of FIM events does the same).
        for _ in range(last + 2):
            assert a.apply(unsigned).returncode == 2
        assert a.apply(bundles[2]).returncode == 0
        try:
            wait(lambda: [e for e in srv.events(aid)
                          if e["event"]["event"]["action"] == "content-activated" and
                          e["event"]["ward"]["content"]["version"] == 2],
                 what="content-activated 2 on the server")
        except AssertionError:
            raise AssertionError("content-activated 2 not on the server; it has %s\n"
                                 "agent log:\n%s\nserver log:\n%s" % (
                                     [(e["seq"], e["event"]["event"]["action"])
                                      for e in srv.events(aid)],
                                     a.read_log(), srv.read_log()[-3000:]))
        # Nothing written after the loss is missing on the server: the new
        # run's start and every refusal, also those numbered as events the
        # server had of the lost journal.
        acts = [e["event"]["event"]["action"] for e in srv.events(aid)]
        assert acts.count("agent-started") == 2, acts
        assert acts.count("content-refused") == 12 + last + 2, acts
        log = a.read_log()
        assert "recovered" in log and "under the new journal" in log, log
    finally:
        a.stop()
        srv.stop()


# --- SIGHUP ------------------------------------------------------------------------


def test_sighup_reloads_outputs_and_refuses_a_broken_file(box):
    a = box.agent()
    assert a.apply(box.bundle(1)).returncode == 0
    first = a.out + "/events.ndjson"
    wait_ndjson(first, activated(1), "content-activated 1")
    loaded = a.status()["config"]["loaded_at"]
    time.sleep(1.1)  # loaded_at has seconds
    # outputs.ndjson.path moves to another file; state_dir cannot change live.
    second = a.out + "/moved.ndjson"
    rewrite_config(a, ["outputs:", "  ndjson:", "    path: %s" % second])
    with open(a.config) as f:
        text = f.read().replace("state_dir: %s" % a.state, "state_dir: %s-new" % a.state)
    with open(a.config, "w") as f:
        f.write(text)
    os.kill(a.proc.pid, signal.SIGHUP)  # what ExecReload does to $MAINPID
    log = wait_log(a, "the new configuration is in force")
    assert "not reloaded: state_dir (restart wardd)" in log, log
    assert "applying outputs.ndjson.path" in log, log
    st = a.status()
    assert st["config"]["loaded_at"] != loaded and RFC3339.match(st["config"]["loaded_at"])
    assert a.apply(box.bundle(2)).returncode == 0
    wait_ndjson(second, activated(2), "content-activated 2 in the new file")
    assert not [e for e in ndjson(first) if activated(2)(e)]
    assert not os.path.exists(a.state + "-new")
    # A broken file: refused, and the running configuration stays.
    with open(a.config, "a") as f:
        f.write("outputs.ndjson.pth: /tmp/typo\n")
    os.kill(a.proc.pid, signal.SIGHUP)
    log = wait_log(a, "reload refused: %s:" % a.config)
    assert "unknown key" in log and "the running configuration stays" in log, log
    assert a.proc.poll() is None
    assert a.status()["config"]["loaded_at"] == st["config"]["loaded_at"]
    # It still works with the old configuration, content activation too
    # (its validator does not read the broken file).
    assert a.apply(box.bundle(3)).returncode == 0
    wait_ndjson(second, activated(3), "content-activated 3, still in the new file")
    # A SIGHUP sent to the worker is passed to the supervisor.
    rewrite_config(a, ["outputs:", "  ndjson:", "    path: %s" % first])
    os.kill(a.status()["pid"], signal.SIGHUP)
    wait_log(a, "SIGHUP: passed to the supervisor")
    wait(lambda: a.read_log().count("the new configuration is in force") == 2,
         what="the second reload")
    assert a.apply(box.bundle(4)).returncode == 0
    wait_ndjson(first, activated(4), "content-activated 4 back in the first file")
    for line in a.read_log().splitlines():
        assert LOG_LINE.match(line), "a log line without its timestamp: %r" % line


def test_sighup_reloads_fim_paths_and_onaccess(box, tmp_path):
    from userlib import user_tmpfs
    watched = tmp_path / "watched"
    watched.mkdir()
    a = box.agent(extra=["fim:", "  content_paths: false"])
    st = a.status()["sensors"]
    assert st["onaccess"]["state"] == "off" and st["fim"]["paths"]["config"] == []
    with user_tmpfs("ward-reload") as mnt:
        rewrite_config(a, ["fim:", "  content_paths: false", "  paths: [%s]" % watched,
                           "onaccess:", "  paths: [%s]" % mnt])
        os.kill(a.proc.pid, signal.SIGHUP)
        wait_log(a, "the new configuration is in force")
        st = a.wait_for(lambda s: s["sensors"]["fim"]["state"] == "on" and
                        s["sensors"]["fim"].get("counters", {}).get("dirs", 0) >= 1,
                        what="FIM watching the new path")
        assert st["sensors"]["fim"]["paths"]["config"] == [str(watched)]
        assert st["sensors"]["onaccess"]["state"] == "on", st["sensors"]["onaccess"]
        (watched / "new.conf").write_text("x")
        end = time.time() + 5
        while not [e for _, e in read_journal(a.state)
                   if e["event"]["action"] == "file-created" and
                   e["file"]["path"] == str(watched / "new.conf")]:
            assert time.time() < end, "no FIM event under the reloaded path"
            time.sleep(0.05)
        # And off again: on-access marks go before the mount is unmounted.
        rewrite_config(a, ["fim:", "  content_paths: false"])
        os.kill(a.proc.pid, signal.SIGHUP)
        a.wait_for(lambda s: s["sensors"]["onaccess"]["state"] == "off",
                   what="on-access off after the reload")
    assert a.proc.poll() is None


# --- the content's FIM paths ---------------------------------------------------------


def fim_bundle(box, version, path):
    """Content whose FIM policy watches path."""
    policy = json.dumps({"paths": [str(path)]}).encode()
    files = [("rules/r.yar", "yara", EICAR_RULE), ("fim/policy.json", "fim", policy),
             ("tests/eicar.com", "sample", EICAR)]
    m = json.dumps(manifest_for(files, version, [("tests/eicar.com", ["EICAR_Test_File"])])).encode()
    sig = (1, key_id(box.rel[1]), openssl_sign(box.rel[0], m, str(box.tmp)))
    out = str(box.tmp / ("fim-v%d.wbundle" % version))
    with open(out, "wb") as f:
        f.write(assemble(m, [b for _, _, b in files], [sig]))
    return out


def test_status_says_which_fim_paths_come_from_the_content(box):
    a = box.agent()
    assert a.apply(box.bundle(1)).returncode == 0
    fim = a.status()["sensors"]["fim"]
    default = json.load(open(os.path.join(DEFAULT_SRC, "fim", "critical.json")))["paths"]
    assert fim["paths"]["content"] == default and "/etc/shadow" in default
    assert fim["paths"]["config"] == [] and fim["content_paths"] is True
    text = a.agent("status").stdout
    assert "0 from wardd.yaml (fim.paths)" in text, text
    assert ("%d from the content (fim.content_paths: false in wardd.yaml turns them off): "
            "/etc/passwd" % len(default)) in text, text


def test_content_paths_false_leaves_them_unwatched(box, tmp_path):
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    mine.mkdir()
    theirs.mkdir()
    a = box.agent(extra=["fim:", "  paths: [%s]" % mine, "  content_paths: false"])
    assert a.apply(fim_bundle(box, 1, theirs)).returncode == 0
    st = a.wait_for(lambda s: s["sensors"]["fim"].get("counters", {}).get("dirs", 0) >= 1,
                    what="FIM on")
    fim = st["sensors"]["fim"]
    assert fim["content_paths"] is False and fim["paths"]["content"] == [str(theirs)]
    assert fim["counters"]["dirs"] == 1, fim  # only mine
    text = a.agent("status").stdout
    assert "1 from the content, not watched (fim.content_paths: false): %s" % theirs in text
    (theirs / "a").write_text("x")
    (mine / "b").write_text("x")  # reported: so theirs would have been by now

    def fim_paths():
        return [e["file"]["path"] for _, e in read_journal(a.state)
                if e["event"]["action"].startswith("file-")]
    wait(lambda: str(mine / "b") in fim_paths(), timeout=5, what="the event under fim.paths")
    time.sleep(0.3)
    assert str(theirs / "a") not in fim_paths()
    # Turned on by a reload, the content's paths are watched.
    rewrite_config(a, ["fim:", "  paths: [%s]" % mine])
    os.kill(a.proc.pid, signal.SIGHUP)
    a.wait_for(lambda s: s["sensors"]["fim"]["content_paths"] is True and
               s["sensors"]["fim"].get("counters", {}).get("dirs", 0) == 2,
               what="the content's path watched")
    (theirs / "c").write_text("x")
    wait(lambda: str(theirs / "c") in fim_paths(), timeout=5, what="the event under the "
         "content's path")


# --- status ------------------------------------------------------------------------------


def test_status_waiting_for_content_and_times(box):
    a = box.agent()
    st = a.status()
    assert st["mode"] == "waiting" and st["content"]["current"] is None
    text = a.agent("status").stdout
    assert "mode:            waiting for content" in text and "protecting" not in text, text
    assert RFC3339.match(st["config"]["loaded_at"]) and st["config"]["file"] == a.config
    assert [e for e in read_journal(a.state)
            if e[1]["event"]["action"] == "agent-started"][0][1]["ward"]["mode"] == "waiting"
    assert a.apply(box.bundle(1)).returncode == 0
    st = a.status()
    assert st["mode"] == "protecting"
    for t in (st["content"]["current"]["activated_at"], st["content"]["current"]["expires"]):
        assert RFC3339.match(t), t
    assert "mode:            protecting" in a.agent("status").stdout


def test_used_enroll_token_is_ignored_and_named(ward, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the wardd tests run as root (make check runs them so)", pytrace=False)
    srv = Server(tmp_path / "server", settings={"checkin.interval_s": 1,
                                               "checkin.jitter_pct": 0})
    srv.start()
    keys = Keys(ward, str(tmp_path / "keys"))
    rel = keys.make("release")
    d = tmp_path / "agent"
    d.mkdir()
    ident = str(tmp_path / "ids" / "a")
    a = Agent(ward, d, [rel[1]], extra=agent_server_lines(srv, srv.token(), ident))
    try:
        a.start()
        st = a.wait_for(lambda s: s.get("uplink", {}).get("state") == "enrolled" and
                        s["uplink"]["last_checkin"] is not None, what="enrolled")
        aid = st["uplink"]["agent_id"]
        assert RFC3339.match(st["uplink"]["last_checkin"]), st["uplink"]
        msg = ("server.enroll_token is no longer needed: this agent is enrolled; remove it "
               "from wardd.yaml")
        assert msg in st["warnings"]
        assert "warning:         " + msg in a.agent("status").stdout
        # The used token stays ignored: with a token that no longer exists
        # the agent restarts as the same agent, without enrolling.
        a.stop()
        text = open(a.config).read().replace("enroll_token: ", "enroll_token: x")
        with open(a.config, "w") as f:
            f.write(text)
        a.start()
        st = a.wait_for(lambda s: s.get("uplink", {}).get("state") == "enrolled",
                        what="enrolled again")
        assert st["uplink"]["agent_id"] == aid and a.read_log().count("enrolled with") == 1
        # Removed, the warning goes.
        a.stop()
        with open(a.config, "w") as f:
            f.write("\n".join(l for l in text.splitlines()
                               if not l.strip().startswith("enroll_token:")) + "\n")
        a.start()
        st = a.wait_for(lambda s: s.get("uplink", {}).get("state") == "enrolled",
                        what="enrolled without a token")
        assert st["uplink"]["agent_id"] == aid and msg not in st["warnings"]
    finally:
        a.stop()
        srv.stop()
