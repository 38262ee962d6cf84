"""
The health gate counts a refusal by its typed cause, never by the words of
its reason.  A hostile enrolled agent (a raw HTTPS client) dresses its
refusals in the words of other causes: a "crash guard: ..." reason under
the cause fleet-rollback (or operator-rollback) is not counted and the
release completes; an innocent-looking reason under the cause validation
halts the next one, and a reason that reads like the fleet's own rollback
without any cause (an agent older than typed causes) is a plain refusal
and halts too.  Real fault-build wardd agents record the cause where they
decide it — a validator that crashes on the content (validation), a worker
that crashes with it (crash-guard) — report it, and the gate halts each
release in ring 0.  A local wardd records each admission check's own cause
and keeps it across a restart.
"""

import json
import os
import re
import time

import pytest

from agentlib import Agent, Keys, crafted, signed_bundle
from serverlib import Server, agent_server_lines, wait
from test_server_hostile import FakeAgent, fleetsrv  # noqa: F401 (a fixture)

SPOOF = "crash guard: the worker crashed 3 times within 600 s with this version"


def ended(srv, rid):
    rl = srv.release(rid)
    return rl if rl["state"] not in ("running", "paused") else None


def start(srv, fleet, version, plan):
    """Publishes version and has every agent told to run it (delivered)."""
    rid = srv.publish(version, plan)
    wait(lambda: srv.release(rid)["ring"] == 0, what="ring 0 to start")
    for a in fleet:
        st, ans = a.checkin()
        assert st == 200 and ans["desired"]["version"] == version, ans
    return rid


def test_hostile_agent_causes_not_words(fleetsrv):  # noqa: F811
    srv = fleetsrv
    tok = srv.token()
    fleet = [FakeAgent(srv, tok, "host-%02d" % i) for i in range(20)]
    spoofer, operator, honest, old = fleet[0], fleet[1], fleet[2], fleet[3]
    # One ring of 20: one counted fault halts it (1 % of 20 is 0); 18 of
    # 20 running the version is enough to pass.
    plan = {"rings": [{"name": "all", "percent": 100, "soak_s": 3}],
            "gate": {"silent_checkins": 1000, "min_active_pct": 85}}

    # 1. Refusals whose reason says "crash guard" but whose cause is a
    # rollback are not counted: the release completes.
    rid = start(srv, fleet, 1, plan)
    for a in fleet[2:]:
        a.version = 1
    spoofer.rejected = [{"version": 1, "cause": "fleet-rollback", "reason": SPOOF}]
    operator.rejected = [{"version": 1, "cause": "operator-rollback", "reason": SPOOF}]
    for a in fleet:
        assert a.checkin()[0] == 200
    rl = wait(lambda: ended(srv, rid), timeout=30, what="release 1 to end")
    assert rl["state"] == "completed", json.dumps(rl, indent=1)
    assert rl["incidents"] == []
    # The server keeps the cause it counted by, beside the words.
    rec = [x for x in srv.agents() if x["id"] == spoofer.id][0]
    kept = rec["report"]["content"]["rejected"]
    assert [(k["cause"], k["reason"]) for k in kept] == [("fleet-rollback", SPOOF)], kept

    # 2. A refusal with an innocent reason and the cause validation is
    # counted: the release halts in its ring, naming that agent and cause.
    # The spoofer's rollback of this version is shown, not counted.
    rid2 = start(srv, fleet, 2, plan)
    for a in fleet[4:]:
        a.version = 2
    spoofer.rejected = [{"version": 2, "cause": "fleet-rollback", "reason": SPOOF}]
    for a in fleet:
        if a is not honest:
            assert a.checkin()[0] == 200
    time.sleep(1.5)  # several gate ticks: the spoofer alone halts nothing
    assert srv.release(rid2)["state"] == "running", srv.release(rid2)
    honest.rejected = [{"version": 2, "cause": "validation",
                        "reason": "all is well: nothing to see here"}]
    assert honest.checkin()[0] == 200
    rl = wait(lambda: ended(srv, rid2), timeout=30, what="release 2 to halt")
    assert rl["state"] == "halted" and "1 agent(s) refused version 2" in rl["reason"], rl
    ev = rl["incidents"][0]["evidence"]
    assert ev["rejections"] == [honest.id] and ev["crash_rollbacks"] == [], ev
    named = [x for x in ev["agents"] if x["agent_id"] == honest.id]
    assert named and named[0]["cause"] == "validation", ev["agents"]
    assert named[0]["detail"] == "all is well: nothing to see here"
    nc = [x for x in ev["not_counted"] if x["agent_id"] == spoofer.id]
    assert nc and nc[0]["cause"] == "fleet-rollback" and \
        "fleet server's own halt" in nc[0]["not_counted"], ev["not_counted"]
    p = srv.cli("release", str(rid2))
    assert p.returncode == 0, p.stderr
    assert re.search(spoofer.id + r" host-00 .*not counted \(fleet-rollback\)", p.stdout), \
        p.stdout

    # 3. An agent that sends no cause (older than causes) with a reason that
    # reads like the fleet's own rollback: a plain refusal, counted.
    rid3 = start(srv, fleet, 3, plan)
    for a in fleet:
        a.rejected = []
        a.version = 3 if a not in (spoofer, operator, honest, old) else 1
    old.rejected = [{"version": 3, "reason": "the fleet server stopped the release of version 3"}]
    for a in fleet:
        assert a.checkin()[0] == 200
    rl = wait(lambda: ended(srv, rid3), timeout=30, what="release 3 to halt")
    assert rl["state"] == "halted" and "refused version 3" in rl["reason"], rl
    ev = rl["incidents"][0]["evidence"]
    assert ev["rejections"] == [old.id], ev
    assert [x["cause"] for x in ev["agents"] if x["agent_id"] == old.id] == ["refused"]


@pytest.fixture
def realfleet(ward, tmp_path):
    """A ward-server with three fault-build wardd agents on version 1."""
    keys = Keys(ward, str(tmp_path / "keys"))
    rel = keys.make("release")
    srv = Server(tmp_path / "server", settings={
        "checkin.interval_s": 1, "checkin.jitter_pct": 0, "rollout.tick_ms": 200,
        "content.trusted_keys": "[%s]" % rel[1]})
    srv.start()
    agents = []

    def publish(version, extra_rule=None, soak=1):
        pf = tmp_path / ("plan-%d.json" % version)
        pf.write_text(json.dumps({
            "rings": [{"name": "canary", "percent": 1, "min": 1, "max": 1, "soak_s": soak},
                      {"name": "rest", "percent": 100, "soak_s": soak}],
            "gate": {"silent_checkins": 5}}))
        b = signed_bundle(ward, tmp_path, rel[0], version, extra_rule)
        p = ward.run("fleet", "--server", srv.url, "--ca", srv.ca, "publish", b, "--plan",
                     str(pf), env=dict(os.environ, WARD_TOKEN=srv.admin))
        assert p.returncode == 0, p.stderr
        return int(p.stdout.strip())

    def release(rid):
        st, ans = srv.get("/api/v1/releases/%d" % rid, token=srv.admin)
        assert st == 200, ans
        return ans

    try:
        for i in range(3):
            d = tmp_path / ("agent-%d" % i)
            d.mkdir()
            lines = agent_server_lines(srv, srv.token(), str(tmp_path / "ids" / ("h%d" % i)))
            a = Agent(ward, d, [rel[1]], extra=lines, fault=True)
            agents.append(a)
            a.start()
        srv.publish_v, srv.release = publish, release
        srv.fleet = agents
        rid = publish(1)
        rl = wait(lambda: ended(srv, rid), timeout=60, what="release 1 to end")
        assert rl["state"] == "completed", rl
        wait(lambda: currents(agents) == [1, 1, 1], timeout=30, what="every agent on 1")
        yield srv
    finally:
        for a in agents:
            a.stop()
        srv.stop()


def currents(agents):
    out = []
    for a in agents:
        p = a.agent("status", "--json")
        cur = json.loads(p.stdout)["content"]["current"] if p.returncode == 0 else None
        out.append(cur["version"] if cur else None)
    return out


def refusals(agents, version):
    """The causes the agents recorded for version (worker down: skipped)."""
    out = []
    for a in agents:
        p = a.agent("status", "--json")
        if p.returncode == 0:
            out += [r["cause"] for r in json.loads(p.stdout)["content"]["rejected"]
                    if r["version"] == version]
    return out


def test_real_agents_report_typed_causes(realfleet):
    srv, agents = realfleet, realfleet.fleet
    # The canary's validator crashes on version 2: a validation refusal,
    # recorded and reported as such; the release halts in ring 0.
    rid = srv.publish_v(2, "rule WARD_FAULT_CRASH_VALIDATOR { condition: false }\n", soak=30)
    rl = wait(lambda: ended(srv, rid), timeout=60, what="release 2 to halt")
    assert rl["state"] == "halted" and "refused version 2 in ring 0" in rl["reason"], rl
    ev = rl["incidents"][0]["evidence"]
    assert len(ev["rejections"]) == 1 and ev["crash_rollbacks"] == [], ev
    assert [x["cause"] for x in ev["agents"]] == ["validation"], ev["agents"]
    assert refusals(agents, 2) == ["validation"]
    assert rl["plan"]["rings"][1].get("agents") is None, "ring 1 was reached"
    # The worker crashes with version 3: the crash guard rolls it back,
    # cause crash-guard; the release halts in ring 0 as fast as before.
    t0 = time.time()
    rid = srv.publish_v(3, "rule WARD_FAULT_CRASH_WORKER { condition: false }\n", soak=60)
    rl = wait(lambda: ended(srv, rid), timeout=90, what="release 3 to halt")
    assert rl["state"] == "halted" and "crash-guard" in rl["reason"], rl
    assert time.time() - t0 < 60, "the crash took %.0f s to halt the release" % (time.time() - t0)
    ev = rl["incidents"][0]["evidence"]
    assert rl["incidents"][0]["ring"] == 0 and len(ev["crash_rollbacks"]) == 1, ev
    assert rl["plan"]["rings"][1].get("agents") is None, "ring 1 was reached"
    wait(lambda: currents(agents) == [1, 1, 1], timeout=60, what="every agent back on 1")
    assert refusals(agents, 3) == ["crash-guard"]
    assert all(a.status()["mode"] == "protecting" for a in agents)


def test_agent_records_the_cause_where_it_decides(ward, tmp_path):
    rel = Keys(ward, str(tmp_path / "keys")).make("release")
    other = Keys(ward, str(tmp_path / "keys2")).make("other")
    tmp = str(tmp_path)

    def put(name, data):
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    (tmp_path / "agent").mkdir()
    a = Agent(ward, tmp_path / "agent", [rel[1]]).start()
    try:
        assert a.apply(put("v2", crafted(2, rel, tmp))).returncode == 0
        assert a.apply(put("v3", crafted(3, rel, tmp))).returncode == 0
        cases = [
            (put("junk", b"not a bundle at all"), "format"),
            (put("v4", crafted(4, other, tmp)), "signature"),
            (put("v1", crafted(1, rel, tmp)), "version"),
            (put("v5", crafted(5, rel, tmp, created="2019-01-01T00:00:00Z",
                               expires="2020-01-01T00:00:00Z")), "expired"),
            (put("v6", crafted(6, rel, tmp, min_agent="9.0.0")), "agent-version"),
            (put("v7", crafted(7, rel, tmp, rules=b"rule broken { condition: }\n",
                               tests=[])), "validation"),
        ]
        for path, cause in cases:
            p = a.apply(path)
            assert p.returncode == 2, (cause, p.stdout, p.stderr)
            last = a.status()["content"]["rejected"][-1]
            assert last["cause"] == cause, (cause, last)
        p = a.agent("rollback")
        assert p.returncode == 0, p.stderr
        want = ["format", "signature", "version", "expired", "agent-version", "validation",
                "operator-rollback"]
        assert [r["cause"] for r in a.status()["content"]["rejected"]] == want
        p = a.agent("status")
        assert re.search(r"refused: +version 3 \(operator-rollback\) at ", p.stdout), p.stdout
        # Kept in the state across a restart.
        a.stop()
        a.start()
        assert [r["cause"] for r in a.status()["content"]["rejected"]] == want
    finally:
        a.stop()
