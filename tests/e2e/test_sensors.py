"""
The worker's sensors driven as one set: a sensor that cannot start is off
with its reason — in the log, as one sensor-off alert, in the status —
while the others start and work; a reload that gives it something it can
watch turns it on without touching the others.  On-access gets only a
tmpfs of the test's own (never a mark on a mount the test did not create).
"""

import os
import signal
import subprocess
import time

import pytest

from agentlib import Agent, default_content, read_journal, wait_events
from conftest import EICAR
from userlib import own_tmpfs


def rewrite(a, extra):
    """wardd.yaml of a with its first lines (keys, dirs, backoff) kept."""
    lines = open(a.config).read().splitlines()[:4]
    with open(a.config, "w") as f:
        f.write("\n".join(lines + list(extra)) + "\n")


def wait_log(a, text, n=1, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if a.read_log().count(text) >= n:
            return a.read_log()
        time.sleep(0.05)
    raise AssertionError("%r not %d times in the log within %d s:\n%s" % (
        text, n, timeout, a.read_log()))


def sensor_offs(a):
    return [e for _, e in read_journal(a.state) if e["event"]["action"] == "sensor-off"]


@pytest.fixture
def mnt(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the sensor tests run as root (make check runs them so)", pytrace=False)
    with own_tmpfs(tmp_path / "mnt", "16m") as m:
        yield str(m)


def test_one_sensor_off_the_others_run(ward, tmp_path, mnt):
    rel, v1 = default_content(ward, tmp_path)
    watched = tmp_path / "watched"
    watched.mkdir()
    missing = str(tmp_path / "does-not-exist")
    # Only the configured path: the content's FIM policy would move the
    # marks when v1 is applied (fimmon re-marks from scratch, a moment
    # unwatched), and this test is about the set of sensors, not that.
    fim = ["fim:", "  paths: [%s]" % watched, "  content_paths: false"]
    (tmp_path / "agent").mkdir()
    a = Agent(ward, tmp_path / "agent", [rel[1]],
              extra=["onaccess:", "  paths: [%s]" % missing] + fim)
    try:
        a.start()
        assert a.apply(v1).returncode == 0
        st = a.wait_for(lambda s: s["sensors"]["fim"].get("counters", {}).get("dirs", 0) >= 1,
                        what="the FIM sensor watching")["sensors"]
        # on-access is off with its reason; FIM and process monitoring run
        assert st["onaccess"]["state"] == "off" and missing in st["onaccess"]["reason"], st
        assert st["fim"]["state"] == "on", st
        assert st["procmon"]["state"] == "on", st
        offs = wait_events(a, "sensor-off")
        assert [e["ward"]["sensor"] for e in offs] == ["onaccess"], offs
        assert missing in offs[0]["message"]
        assert "on-access scanning is OFF: " in a.read_log()
        # FIM, started after the failed sensor, reports with who-data
        (watched / "new.conf").write_text("x=1\n")
        end = time.time() + 10
        while time.time() < end:
            evs = [e for _, e in read_journal(a.state)
                   if e["event"]["action"] == "file-created"
                   and e["file"]["path"] == str(watched / "new.conf")]
            if evs:
                break
            time.sleep(0.05)
        assert evs and evs[0]["process"]["pid"] > 0, a.read_log()
        # process monitoring counts the execs it sees
        execs = a.status()["sensors"]["procmon"]["counters"]["execs"]
        subprocess.run(["/bin/true"], check=True)
        a.wait_for(lambda s: s["sensors"]["procmon"]["counters"]["execs"] > execs,
                   what="procmon seeing an exec")

        # A reload with a path it can watch: on, and it blocks; the others
        # keep running and no new sensor-off is said.
        # (a deadline long enough that a loaded machine cannot turn the
        # first scan into a fail-open allow: this test is not about deadlines)
        rewrite(a, ["onaccess:", "  paths: [%s]" % mnt, "  deadline_ms: 60000"] + fim)
        os.kill(a.proc.pid, signal.SIGHUP)
        wait_log(a, "the new configuration is in force")
        st = a.wait_for(lambda s: s["sensors"]["onaccess"]["state"] == "on",
                        what="on-access on after the reload")["sensors"]
        assert st["fim"]["state"] == "on" and st["procmon"]["state"] == "on", st
        bad = os.path.join(mnt, "eicar")
        with open(bad, "wb") as f:
            f.write(EICAR)
        os.chmod(bad, 0o755)
        p = subprocess.run(["/bin/sh", "-c", 'exec "$0"', bad], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20)
        assert p.returncode == 126, (p.returncode, p.stderr, a.read_log())
        assert len(sensor_offs(a)) == 1

        # And back off by a reload to a path that is gone: said again.
        rewrite(a, ["onaccess:", "  paths: [%s]" % missing] + fim)
        os.kill(a.proc.pid, signal.SIGHUP)
        wait_log(a, "the new configuration is in force", n=2)
        st = a.wait_for(lambda s: s["sensors"]["onaccess"]["state"] == "off",
                        what="on-access off after the second reload")["sensors"]
        assert missing in st["onaccess"]["reason"], st
        assert st["fim"]["state"] == "on" and st["procmon"]["state"] == "on", st
        offs = wait_events(a, "sensor-off", n=2)
        assert [e["ward"]["sensor"] for e in offs] == ["onaccess", "onaccess"], offs
    finally:
        a.stop()
