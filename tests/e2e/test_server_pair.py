"""
Two ward-server instances on one PostgreSQL database behave as one
server: agents (simulated, real HTTPS) split between them see one fleet;
a release published through one is rolled out to the agents of both, each
ring assigned once; a faulty release published through the other halts
once, in ring 0, with one incident.
"""

import json
import os
import signal
import subprocess
import time

import pytest

from agentlib import Keys, signed_bundle
from serverlib import Server
from test_sim import sim_path


@pytest.fixture
def pair(ward, tmp_path, postgres):
    url = postgres.create_db("ward_pair_%s" % os.urandom(4).hex())
    keys = Keys(ward, str(tmp_path / "keys"))
    rel = keys.make("release")
    settings = {"checkin.interval_s": 1, "checkin.jitter_pct": 0, "rollout.tick_ms": 200,
                "content.trusted_keys": "[%s]" % rel[1]}
    a = Server(tmp_path / "a", database=url, settings=settings).start()
    b = Server(tmp_path / "b", database=url, settings=settings).start()
    yield a, b, rel
    a.stop()
    b.stop()


def build(ward, tmp_path, rel, version, extra_rule=None):
    return signed_bundle(ward, tmp_path, rel[0], version, extra_rule)


def publish(ward, srv, path, plan, tmp_path):
    pf = tmp_path / ("plan%d.json" % time.time_ns())
    pf.write_text(json.dumps(plan))
    p = ward.run("fleet", "--server", srv.url, "--ca", srv.ca, "publish", path, "--plan", str(pf),
                 env=dict(os.environ, WARD_TOKEN=srv.admin))
    assert p.returncode == 0, p.stderr
    return int(p.stdout.strip())


def wait_state(srv, rid, states, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        st, r = srv.get("/api/v1/releases/%d" % rid, token=srv.admin)
        if st == 200 and r["state"] in states:
            return r
        time.sleep(0.2)
    raise AssertionError("release %d: %s" % (rid, r))


def test_two_servers_one_fleet(ward, tmp_path, pair):
    a, b, rel = pair
    token = a.token()
    sims = [subprocess.Popen([sim_path(), "--server", s.url, "--ca", s.ca, "--token", token,
                              "--key", rel[1], "--agents", "15", "--interval", "1",
                              "--faulty-version", "2", "--fault", "crash", "--duration", "90",
                              "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for s in (a, b)]
    try:
        end = time.time() + 30
        while time.time() < end and len(b.agents()) < 30:
            time.sleep(0.2)
        agents = a.agents()
        assert len(agents) == 30, "both servers see the whole fleet"
        plan = {"rings": [{"name": "canary", "percent": 1, "min": 1, "max": 1, "soak_s": 2},
                          {"name": "rest", "percent": 100, "soak_s": 1}]}
        good = publish(ward, a, build(ward, tmp_path, rel, 1), plan, tmp_path)
        r = wait_state(b, good, ("completed", "halted"))
        assert r["state"] == "completed", r
        rings = r["plan"]["rings"]
        assert rings[0]["agents"]["assigned"] == 1 and rings[1]["agents"]["assigned"] == 29
        end = time.time() + 20
        while time.time() < end and any(x["content_version"] != 1 for x in a.agents()):
            time.sleep(0.2)
        assert all(x["content_version"] == 1 for x in a.agents())
        # The faulty release, through the other server: halted once, in ring 0.
        bad = publish(ward, b, build(ward, tmp_path, rel, 2), plan, tmp_path)
        r = wait_state(a, bad, ("completed", "halted"))
        assert r["state"] == "halted" and len(r["incidents"]) == 1, r
        assert r["incidents"][0]["ring"] == 0 and r["plan"]["rings"][1].get("agents") is None
        st, audit = a.get("/api/v1/audit", token=a.admin)
        assert sum(e["action"] == "release-created" for e in audit["audit"]) == 2
    finally:
        results = []
        for p in sims:
            p.send_signal(signal.SIGTERM)  # ends the simulation; it prints its summary
        for p in sims:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err[-2000:]
            results.append(json.loads(out.strip().splitlines()[-1]))
    assert sum(r["activated_faulty"] for r in results) <= 1
    assert sum(r["ended_on_good"] for r in results) == 30
    assert all(r["errors"] == 0 for r in results)
