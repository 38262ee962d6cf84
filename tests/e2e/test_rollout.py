"""
Releases in rings with health gates, with real agents (wardd) and a real
ward-server: a good release walks every ring to the whole fleet; a bad one
(refused by the agents, or crashing them) halts in ring 0 and every agent
ends on good content; pause, resume, promote, abort, pin and freeze do
what they say; a server restarted in the middle of a release carries on.
Plans are compressed to seconds.
"""

import json
import os
import signal
import time

import pytest

from agentlib import Agent, Keys, signed_bundle
from serverlib import Server, agent_server_lines


def quick_plan(soak=1, canary=1):
    return {"rings": [{"name": "canary", "percent": 1, "min": canary, "max": canary,
                       "soak_s": soak},
                      {"name": "rest", "percent": 100, "soak_s": soak}],
            "gate": {"silent_checkins": 5}}


@pytest.fixture
def interval():
    """The agents' check-in interval (long polls are held at most this)."""
    return 1


@pytest.fixture
def rollout(ward, tmp_path, backend, request, interval):
    keys = Keys(ward, str(tmp_path / "keys"))
    rel = keys.make("release")
    database = None
    if backend == "postgresql":
        database = request.getfixturevalue("postgres").create_db("ward_%s" % os.urandom(4).hex())
    srv = Server(tmp_path / "server", database=database, settings={
        "checkin.interval_s": interval, "checkin.jitter_pct": 0, "rollout.tick_ms": 200,
        "content.trusted_keys": "[%s]" % rel[1]})
    srv.start()
    agents = []

    class R:
        pass

    r = R()
    r.server, r.ward, r.tmp = srv, ward, tmp_path

    def bundle(version, extra_rule=None, min_agent=None):
        return signed_bundle(ward, tmp_path, rel[0], version, extra_rule, min_agent)

    def agent(name, group="", fault=False):
        d = tmp_path / ("agent-" + name)
        d.mkdir()
        token = srv.token(group=group)
        lines = agent_server_lines(srv, token, str(tmp_path / "ids" / name))
        a = Agent(ward, d, [rel[1]], extra=lines, fault=fault)
        agents.append(a)
        a.start()
        return a

    def cli(*args):
        return ward.run("fleet", "--server", srv.url, "--ca", srv.ca, *args,
                        env=dict(os.environ, WARD_TOKEN=srv.admin))

    def publish(path, plan=None):
        args = ["publish", path]
        if plan is not None:
            pf = tmp_path / ("plan-%s.json" % os.urandom(3).hex())
            pf.write_text(json.dumps(plan))
            args += ["--plan", str(pf)]
        p = cli(*args)
        assert p.returncode == 0, p.stderr
        return int(p.stdout.strip())

    def release(rid):
        st, ans = srv.get("/api/v1/releases/%d" % rid, token=srv.admin)
        assert st == 200, ans
        return ans

    def wait_release(rid, states, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            rl = release(rid)
            if rl["state"] in states:
                return rl
            time.sleep(0.2)
        raise AssertionError("release %d still %s:\n%s\n%s" % (
            rid, rl["state"], json.dumps(rl, indent=1), srv.read_log()))

    r.bundle, r.agent, r.cli, r.publish = bundle, agent, cli, publish
    r.release, r.wait_release = release, wait_release
    yield r
    for a in agents:
        a.stop()
    srv.stop()


def versions(agents):
    """Each agent's current version (None: none, or its worker is being
    restarted — a crashing release does that — and cannot answer now)."""
    out = []
    for a in agents:
        p = a.agent("status", "--json")
        cur = json.loads(p.stdout)["content"]["current"] if p.returncode == 0 else None
        out.append(cur["version"] if cur else None)
    return out


def wait_versions(agents, want, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        v = versions(agents)
        if v == want:
            return
        time.sleep(0.2)
    raise AssertionError("agents run %s, not %s" % (versions(agents), want))


def test_good_release_reaches_every_ring(rollout):
    agents = [rollout.agent("h%d" % i) for i in range(4)]
    rid = rollout.publish(rollout.bundle(1), quick_plan())
    rl = rollout.wait_release(rid, ("completed", "halted"))
    assert rl["state"] == "completed", rl
    wait_versions(agents, [1, 1, 1, 1])
    rings = rl["plan"]["rings"]
    assert rings[0]["agents"]["assigned"] == 1 and rings[1]["agents"]["assigned"] == 3
    p = rollout.cli("release", str(rid))
    assert p.returncode == 0 and "completed" in p.stdout and "canary" in p.stdout
    # An agent that enrolls later gets the fleet's current content.
    late = rollout.agent("late")
    wait_versions([late], [1])


def test_refused_release_halts_in_ring_0(rollout):
    agents = [rollout.agent("h%d" % i) for i in range(4)]
    rid = rollout.publish(rollout.bundle(1), quick_plan())
    assert rollout.wait_release(rid, ("completed", "halted"))["state"] == "completed"
    wait_versions(agents, [1, 1, 1, 1])
    # Version 2 needs an agent newer than any: every agent refuses it.
    bad = rollout.publish(rollout.bundle(2, min_agent="9.0.0"), quick_plan(soak=30))
    rl = rollout.wait_release(bad, ("halted", "completed"))
    assert rl["state"] == "halted" and "refused version 2" in rl["reason"], rl
    inc = rl["incidents"][0]
    assert inc["ring"] == 0 and len(inc["evidence"]["rejections"]) == 1
    halts = [e for e in json.loads(rollout.cli("audit", "--json").stdout)
             if e["action"] == "release-halted"]
    assert len(halts) == 1 and halts[0]["who"] == "rollout"
    assert halts[0]["detail"]["evidence"]["rejections"] == inc["evidence"]["rejections"]
    assert rl["plan"]["rings"][1].get("agents") is None, "ring 1 was reached"
    time.sleep(2)
    wait_versions(agents, [1, 1, 1, 1])
    # Nothing further is sent: only the canary ever saw (and refused) version 2.
    refused = sum(any(r["version"] == 2 for r in a.status()["content"]["rejected"])
                  for a in agents)
    assert refused == 1


def test_crashing_release_halts_and_rolls_back(rollout):
    agents = [rollout.agent("h%d" % i, fault=True) for i in range(3)]
    rid = rollout.publish(rollout.bundle(1), quick_plan())
    assert rollout.wait_release(rid, ("completed", "halted"))["state"] == "completed"
    wait_versions(agents, [1, 1, 1])
    crash = "rule WARD_FAULT_CRASH_WORKER { condition: false }\n"
    bad = rollout.publish(rollout.bundle(2, extra_rule=crash), quick_plan(soak=60))
    rl = rollout.wait_release(bad, ("halted", "completed"), timeout=90)
    assert rl["state"] == "halted" and "crash-guard" in rl["reason"], rl
    assert len(rl["incidents"][0]["evidence"]["crash_rollbacks"]) == 1
    wait_versions(agents, [1, 1, 1], timeout=60)
    assert all(a.status()["mode"] == "protecting" for a in agents)


def test_operator_controls(rollout):
    a1, a2 = rollout.agent("web1", group="web"), rollout.agent("db1", group="db")
    rid = rollout.publish(rollout.bundle(1), quick_plan())
    assert rollout.wait_release(rid, ("completed",))["state"] == "completed"
    wait_versions([a1, a2], [1, 1])
    # Pin the db group to version 1; freeze nothing yet.
    assert rollout.cli("pin", "db", "1").returncode == 0
    plan = {"rings": [{"name": "web", "groups": ["web"], "soak_s": 600},
                      {"name": "rest", "percent": 100, "soak_s": 1}]}
    rid2 = rollout.publish(rollout.bundle(2), plan)
    wait_versions([a1, a2], [2, 1])
    assert rollout.cli("pause", str(rid2)).returncode == 0
    assert rollout.release(rid2)["state"] == "paused"
    p = rollout.cli("promote", str(rid2))
    assert p.returncode == 2 and "paused" in p.stderr
    assert rollout.cli("resume", str(rid2)).returncode == 0
    # Promote skips the 600 s soak; the pinned group stays on version 1.
    assert rollout.cli("promote", str(rid2)).returncode == 0
    assert rollout.wait_release(rid2, ("completed",))["state"] == "completed"
    time.sleep(1.5)
    assert versions([a1, a2]) == [2, 1]
    assert rollout.cli("unpin", "db").returncode == 0
    wait_versions([a1, a2], [2, 2])
    # Freeze: a new release is created but nothing reaches the agents.
    assert rollout.cli("freeze").returncode == 0
    rid3 = rollout.publish(rollout.bundle(3), quick_plan())
    time.sleep(3)
    assert versions([a1, a2]) == [2, 2]
    assert rollout.cli("unfreeze").returncode == 0
    assert rollout.wait_release(rid3, ("completed", "halted"))["state"] == "completed"
    wait_versions([a1, a2], [3, 3])
    audit = json.loads(rollout.cli("audit", "--json").stdout)
    done = {e["action"] for e in audit}
    assert {"group-pinned", "release-pause", "release-resume", "release-promote",
            "group-unpinned", "content-frozen", "content-unfrozen"} <= done


def test_abort_points_agents_back(rollout):
    agents = [rollout.agent("h%d" % i) for i in range(2)]
    rid = rollout.publish(rollout.bundle(1), quick_plan())
    assert rollout.wait_release(rid, ("completed",))["state"] == "completed"
    wait_versions(agents, [1, 1])
    rid2 = rollout.publish(rollout.bundle(2), quick_plan(soak=600))
    end = time.time() + 20
    while time.time() < end and 2 not in versions(agents):
        time.sleep(0.2)
    assert sorted(versions(agents)) == [1, 2]
    assert rollout.cli("abort", str(rid2)).returncode == 0
    rl = rollout.release(rid2)
    assert rl["state"] == "aborted" and "aborted by admin" in rl["reason"]
    wait_versions(agents, [1, 1])


def test_server_restart_during_a_release(rollout):
    agents = [rollout.agent("h%d" % i) for i in range(3)]
    rid = rollout.publish(rollout.bundle(1), quick_plan(soak=3))
    time.sleep(1.5)
    rollout.server.stop(signal.SIGKILL)
    time.sleep(1)
    rollout.server.start()
    rl = rollout.wait_release(rid, ("completed", "halted"))
    assert rl["state"] == "completed", rl
    wait_versions(agents, [1, 1, 1])


def test_bundle_download_resumes(rollout):
    """An agent that lost its connection mid-download asks for the rest."""
    import ssl
    import urllib.request
    path = rollout.bundle(1)
    rid = rollout.publish(path, quick_plan(soak=600))
    sha = rollout.release(rid)["bundle"]
    data = open(path, "rb").read()
    ctx = ssl.create_default_context(cafile=rollout.server.ca)
    url = rollout.server.url + "/api/v1/bundles/" + sha
    for rng, status, want in ((None, 200, data), ("bytes=100-", 206, data[100:])):
        req = urllib.request.Request(url)
        req.add_header("Authorization", "Bearer " + rollout.server.admin)
        if rng:
            req.add_header("Range", rng)
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            assert r.status == status and r.read() == want
            if rng:
                assert r.headers["Content-Range"] == "bytes 100-%d/%d" % (len(data) - 1,
                                                                          len(data))
    req = urllib.request.Request(url)
    req.add_header("Authorization", "Bearer " + rollout.server.admin)
    req.add_header("Range", "bytes=%d-" % len(data))
    try:
        urllib.request.urlopen(req, context=ctx, timeout=30)
        raise AssertionError("a range past the end was served")
    except urllib.error.HTTPError as e:
        assert e.code == 416


@pytest.mark.parametrize("interval", [60])
def test_long_poll_delivers_at_once(rollout):
    """Check-ins are long polls: with a 60 s interval, a release and a halt
    still reach the agents within seconds, not at their next check-in."""
    agents = [rollout.agent("h%d" % i) for i in range(2)]
    time.sleep(2)  # both waiting in a held check-in
    t0 = time.time()
    rid = rollout.publish(rollout.bundle(1), quick_plan())
    assert rollout.wait_release(rid, ("completed",), timeout=30)["state"] == "completed"
    wait_versions(agents, [1, 1], timeout=15)
    assert time.time() - t0 < 20, "the release waited for the check-in interval"
    t0 = time.time()
    bad = rollout.publish(rollout.bundle(2, min_agent="9.0.0"), quick_plan(soak=30))
    assert rollout.wait_release(bad, ("halted",), timeout=30)["state"] == "halted"
    assert time.time() - t0 < 15


@pytest.mark.parametrize("backend", ["sqlite"])
def test_slow_activation_is_not_silence(rollout):
    """An agent whose validation takes longer than the gate's silence
    window (8 s against 5 check-ins of 1 s) keeps checking in meanwhile:
    the release completes instead of halting for an agent gone silent."""
    agents = [rollout.agent("s%d" % i, fault=True) for i in range(2)]
    rid = rollout.publish(rollout.bundle(1), quick_plan())
    assert rollout.wait_release(rid, ("completed", "halted"))["state"] == "completed"
    wait_versions(agents, [1, 1])
    slow = "rule WARD_FAULT_SLOW_VALIDATOR { condition: false }\n"
    rid = rollout.publish(rollout.bundle(2, extra_rule=slow), quick_plan())
    rl = rollout.wait_release(rid, ("completed", "halted"), timeout=90)
    assert rl["state"] == "completed", rl
    wait_versions(agents, [2, 2], timeout=60)
