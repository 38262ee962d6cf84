"""
ward-server with real agents: init, TLS, enrollment tokens (uses, expiry,
groups), host identity (re-enrollment, reinstall, clone), check-in,
revocation, event upload without loss or duplicates across server and
agent restarts, the admin API's roles and audit, and what malformed,
oversized and unauthenticated requests get.  The same tests run on
SQLite and on a PostgreSQL server the tests start themselves.
"""

import json
import os
import signal
import stat
import subprocess
import time

import pytest

from agentlib import DEFAULT_SRC, Agent, Keys, read_journal
from serverlib import Server, agent_server_lines, server_path, wait


@pytest.fixture
def fleet(ward, tmp_path, backend, request):
    """A started server (check-ins every second) and a way to start agents."""
    database = None
    if backend == "postgresql":
        pg = request.getfixturevalue("postgres")
        database = pg.create_db("ward_%s" % os.urandom(4).hex())
    # A small batch limit: agents must follow what the server says it takes.
    srv = Server(tmp_path / "server", database=database,
                 settings={"checkin.interval_s": 1, "checkin.jitter_pct": 0,
                           "events.batch_max": 50})
    srv.start()
    keys = Keys(ward, str(tmp_path / "keys"))
    rel = keys.make("release")
    bundle = str(tmp_path / "v1.wbundle")
    assert ward.run("content", "build", DEFAULT_SRC, "-o", bundle).returncode == 0
    assert ward.run("content", "sign", bundle, "--key", rel[0]).returncode == 0
    agents = []

    class Fleet:
        pass

    f = Fleet()
    f.server, f.ward, f.tmp, f.bundle = srv, ward, tmp_path, bundle

    def agent(name="a", token=None, extra=(), apply=True):
        d = tmp_path / ("agent-" + name)
        d.mkdir(exist_ok=True)
        lines = agent_server_lines(srv, token or srv.token(), str(tmp_path / "ids" / name))
        a = Agent(ward, d, [rel[1]], extra=lines + list(extra))
        agents.append(a)
        a.start()
        if apply:
            assert a.apply(bundle).returncode == 0
        return a

    def fleet_cli(*args):
        return ward.run("fleet", "--server", srv.url, "--ca", srv.ca, *args,
                        env=dict(os.environ, WARD_TOKEN=srv.admin))

    f.agent, f.cli = agent, fleet_cli
    yield f
    for a in agents:
        a.stop()
    srv.stop()


def uplink(a):
    return a.status().get("uplink", {})


def test_init_makes_a_private_server(tmp_path):
    srv = Server(tmp_path / "s")
    for name in ("ca.key", "server.key", "admin.token", "server.yaml", "ward.db"):
        mode = stat.S_IMODE(os.stat(os.path.join(srv.d, name)).st_mode)
        assert mode == 0o600, "%s is %o" % (name, mode)
    assert len(srv.admin) == 64
    assert open(os.path.join(srv.d, "admin.token")).read() == srv.admin
    p = subprocess.run([server_path(), "init", "--dir", srv.d], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    assert p.returncode == 1 and "refusing to overwrite" in p.stderr
    srv.start()
    try:
        assert srv.get("/api/v1/health") == (200, {"ok": True, "version": "0.1.0"})
        # Plain HTTP is not served.
        import urllib.request
        with pytest.raises(Exception):
            urllib.request.urlopen("http://127.0.0.1:%d/api/v1/health" % srv.port, timeout=5)
    finally:
        srv.stop()


def test_enroll_checkin_and_events(fleet):
    a = fleet.agent("web-01")
    up = wait(lambda: uplink(a).get("state") == "enrolled" and uplink(a), what="enrollment")
    aid = up["agent_id"]
    agents = wait(lambda: [x for x in fleet.server.agents()
                           if x["id"] == aid and x["content_version"] == 1], what="check-in")
    rec = agents[0]
    assert rec["mode"] == "protecting" and not rec["revoked"]
    assert rec["report"]["content"]["current"]["version"] == 1
    # What the server shows of the content the agent runs (its name, when it
    # was activated, when it expires) is what the agent itself says, read
    # through the typed report.
    local = a.status()["content"]["current"]
    assert rec["report"]["content"]["current"] == {
        k: local[k] for k in ("name", "version", "activated_at", "expires")}
    assert rec["report"]["content"]["current"]["name"] == "default"
    assert rec["report"]["mode"] == "protecting"
    assert isinstance(rec["report"]["uptime_s"], int) and rec["report"]["agent_version"]
    assert rec["report"]["resources"]["rss_kb"] > 0
    assert "sensors" in rec["report"]
    # The agent's journal reaches the server: what it started with, in order.
    evs = wait(lambda: [e for e in fleet.server.events(aid)
                        if e["event"]["event"]["action"] == "content-activated"],
               what="content-activated on the server")
    seqs = [e["seq"] for e in fleet.server.events(aid)]
    assert seqs == sorted(set(seqs)), "duplicates or disorder: %s" % seqs
    local = {seq: ev for seq, ev in read_journal(a.state)}
    for e in fleet.server.events(aid):
        assert local[e["seq"]] == e["event"]
    # ward fleet agents shows it.
    p = fleet.cli("agents")
    assert p.returncode == 0, p.stderr
    assert aid in p.stdout and "protecting" in p.stdout
    p = fleet.cli("agents", "--json")
    assert [x["id"] for x in json.loads(p.stdout)] == [aid]
    p = fleet.cli("events", "--agent", aid)
    assert p.returncode == 0 and "content-activated" in p.stdout
    # ward agent status says where the agent reports to.
    p = a.agent("status")
    assert "fleet server:" in p.stdout and aid in p.stdout and "enrolled" in p.stdout


def test_refusal_reason_with_control_characters_still_reported(fleet):
    """A refusal whose recorded reason holds control characters (a reason
    can quote the refused bundle: a member's name with a newline and a
    terminal escape) is reported escaped: the server takes the agent's
    check-ins and shows the refusal with its typed cause, instead of
    refusing every report from then on."""
    d = fleet.tmp / "agent-quoting"
    os.makedirs(str(d / "state" / "content"))
    reason = 'member "a\nb\u001b[31m" is not a relative path'
    with open(str(d / "state" / "content" / "state.json"), "w") as f:
        json.dump({"highest_version": 0, "current": None, "last_known_good": None,
                   "rejected": [{"version": 7, "cause": "validation", "reason": reason,
                                 "at": "2026-12-01T00:00:00Z"}], "crashes": []}, f)
    a = fleet.agent("quoting", apply=False)
    aid = wait(lambda: uplink(a).get("state") == "enrolled" and uplink(a)["agent_id"],
               what="enrollment")
    rec = wait(lambda: [x for x in fleet.server.agents()
                        if x["id"] == aid and x.get("report", {}).get("content", {})
                        .get("rejected")], what="the refusal on the server")[0]
    (rej,) = rec["report"]["content"]["rejected"]
    assert rej["version"] == 7 and rej["cause"] == "validation", rej
    assert "\x1b" not in rej["reason"] and "\n" not in rej["reason"], rej
    assert "\\x1b[31m" in rej["reason"] and "\\x0a" in rej["reason"], rej
    assert "error" not in uplink(a), uplink(a)


def test_tokens_uses_expiry_and_groups(fleet):
    srv = fleet.server
    body = {"machine_id": "m", "hw_id": "h", "hostname": "x", "version": "0.1.0"}
    once = srv.token(uses=1, group="web")
    st, ans = srv.post("/api/v1/enroll", dict(body, token=once))
    assert st == 200 and ans["group"] == "web"
    st, ans = srv.post("/api/v1/enroll", dict(body, token=once, machine_id="m2", hw_id="h2"))
    assert st == 403 and "used up" in ans["error"]
    short = srv.token(expires_s=1)
    time.sleep(2.1)
    st, ans = srv.post("/api/v1/enroll", dict(body, token=short))
    assert st == 403 and "expired" in ans["error"]
    st, ans = srv.post("/api/v1/enroll", dict(body, token="0" * 64))
    assert st == 403 and "unknown" in ans["error"]
    # ward fleet token create, with options
    p = fleet.cli("token", "create", "--group", "db", "--uses", "2", "--expires", "1h")
    assert p.returncode == 0 and len(p.stdout.strip()) == 64
    st, ans = srv.post("/api/v1/enroll", dict(body, token=p.stdout.strip(), machine_id="m3",
                                                hw_id="h3"))
    assert st == 200 and ans["group"] == "db"
    # A token made on the server host works the same.
    p = subprocess.run([server_path(), "token", "create", "--config", srv.config, "--uses", "1"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.returncode == 0, p.stderr
    st, _ = srv.post("/api/v1/enroll", dict(body, token=p.stdout.strip(), machine_id="m4",
                                            hw_id="h4"))
    assert st == 200


def test_host_identity(fleet):
    """An agent that proves its identity (its id and secret) enrolls again
    as itself; a host claiming an enrolled identity without the secret
    (a reinstall) waits for an operator; a clone (same machine id, other
    hardware) is a new agent, marked as a clone."""
    srv = fleet.server
    tok = srv.token()
    base = {"token": tok, "hostname": "db-01", "version": "0.1.0"}
    st, first = srv.post("/api/v1/enroll", dict(base, machine_id="M1", hw_id="H1"))
    assert st == 200 and first["how"] == "new"
    st, again = srv.post("/api/v1/enroll", dict(base, machine_id="M1", hw_id="H1",
                                                agent_id=first["agent_id"],
                                                secret=first["secret"]))
    assert st == 200, again
    assert again["agent_id"] == first["agent_id"] and again["how"] == "re-enrolled"
    assert again["secret"] != first["secret"]
    # The old secret no longer works.
    st, _ = srv.post("/api/v1/checkin", {}, token=first["agent_id"] + ":" + first["secret"])
    assert st == 401
    # Reinstalled (no secret): pending until an operator approves.
    st, re = srv.post("/api/v1/enroll", dict(base, machine_id="M2", hw_id="H1"))
    assert st == 202 and re["agent_id"] == first["agent_id"] and re["how"] == "pending"
    st, ans = srv.post("/api/v1/checkin", {}, token=re["agent_id"] + ":" + re["secret"])
    assert st == 409 and "approve" in ans["error"]
    p = fleet.cli("approve", first["agent_id"])
    assert p.returncode == 0, p.stderr
    st, _ = srv.post("/api/v1/checkin", {}, token=re["agent_id"] + ":" + re["secret"])
    assert st == 200
    st, clone = srv.post("/api/v1/enroll", dict(base, machine_id="M2", hw_id="H9"))
    assert clone["agent_id"] != first["agent_id"] and clone["how"] == "clone"
    recs = {x["id"]: x for x in srv.agents()}
    assert len(recs) == 2 and recs[clone["agent_id"]]["clone_of"] == first["agent_id"]


def test_revoke(fleet):
    a = fleet.agent("gone")
    aid = wait(lambda: uplink(a).get("agent_id"), what="enrollment")
    p = fleet.cli("revoke", aid)
    assert p.returncode == 0, p.stderr
    wait(lambda: uplink(a).get("state") == "revoked", what="the agent to see it is revoked")
    assert "revoked" in uplink(a)["error"]
    assert [x["revoked"] for x in fleet.server.agents() if x["id"] == aid] == [True]
    p = fleet.cli("revoke", aid)
    assert p.returncode == 2 and "no enrolled agent" in p.stderr
    # The agent still protects the host.
    assert a.status()["mode"] == "protecting"


def test_refused_requests_change_nothing(fleet):
    srv = fleet.server
    # Credentials of an agent enrolled by hand (no agent process: nothing
    # else changes the server meanwhile).
    st, ans = srv.post("/api/v1/enroll", {"token": srv.token(), "machine_id": "m", "hw_id": "h",
                                          "hostname": "x", "version": "0.1.0"})
    assert st == 200
    aid, secret = ans["agent_id"], ans["secret"]
    st, _ = srv.post("/api/v1/events", {"journal_id": "j", "events": [{"seq": 1, "event": {}}]},
                     token=aid + ":" + secret)
    assert st == 200
    before = (srv.agents(), srv.events())
    cases = [
        ("POST", "/api/v1/enroll", None, b"{not json", 400),
        ("POST", "/api/v1/enroll", None, b"[1,2]", 400),
        ("POST", "/api/v1/enroll", None, json.dumps({"token": 5}).encode(), 400),
        ("POST", "/api/v1/events", aid + ":" + secret, json.dumps(
            {"journal_id": "j", "events": [{"seq": -1, "event": {}}]}).encode(), 400),
        ("POST", "/api/v1/events", aid + ":" + secret, json.dumps(
            {"journal_id": "j", "events": [{"seq": 1, "event": "x"}]}).encode(), 400),
        ("POST", "/api/v1/events", None, b"{}", 401),
        ("POST", "/api/v1/events", aid + ":" + "0" * 64, b"{}", 401),
        ("POST", "/api/v1/checkin", "garbage", b"{}", 401),
        ("GET", "/api/v1/agents", None, None, 401),
        ("GET", "/api/v1/agents", "f" * 64, None, 401),
        ("POST", "/api/v1/tokens", None, b"{}", 401),
        ("POST", "/api/v1/agents/%s/revoke" % aid, None, b"{}", 401),
        ("GET", "/api/v1/nothing", srv.admin, None, 404),
        ("GET", "/elsewhere", None, None, 404),
        ("DELETE", "/api/v1/agents", srv.admin, None, 405),
        # (Bodies over a call's limit: test_server_hostile.py, with a raw
        # client, since they are answered before they are sent.)
    ]
    for method, path, token, raw, want in cases:
        st, ans = srv.request(method, path, token=token, raw=raw)
        assert st == want, (method, path, st, ans)
        assert isinstance(ans, dict) and ans.get("error"), (path, ans)
    # A viewer may look but not change.
    p = subprocess.run([server_path(), "api-token", "create", "--config", srv.config, "--name",
                        "noc", "--role", "viewer"], stdout=subprocess.PIPE, text=True)
    viewer = p.stdout.strip()
    assert srv.get("/api/v1/agents", token=viewer)[0] == 200
    st, ans = srv.post("/api/v1/tokens", {}, token=viewer)
    assert st == 403 and "operator" in ans["error"]
    st, ans = srv.post("/api/v1/agents/%s/revoke" % aid, token=viewer)
    assert st == 403
    st, ans = srv.get("/api/v1/audit", token=viewer)
    assert st == 403
    after = (srv.agents(), srv.events())
    assert after == before
    # The audit log has the enrollment and the token creations, by whom.
    st, ans = srv.get("/api/v1/audit", token=srv.admin)
    actions = [(e["who"], e["action"]) for e in ans["audit"]]
    assert ("admin", "token-created") in actions
    assert any(w.startswith("agent:") and act == "agent-enrolled" for w, act in actions)
    assert ("local", "api-token-created") in actions


def test_no_event_lost_or_duplicated_across_restarts(fleet):
    """Events made while the server is down arrive once it is back; a
    server killed mid-upload and an agent killed mid-upload lose nothing
    and duplicate nothing."""
    watched = fleet.tmp / "watched"
    watched.mkdir()
    a = fleet.agent("busy", extra=["fim:", "  paths: [%s]" % watched, "  rate_limit: 0"])
    aid = wait(lambda: uplink(a).get("agent_id"), what="enrollment")
    wait(lambda: any(e["event"]["event"]["action"] == "content-activated"
                     for e in fleet.server.events(aid)), what="first events")
    fleet.server.stop()
    for i in range(300):
        (watched / ("f%03d" % i)).write_text("x")
    time.sleep(1.0)
    fleet.server.start()
    # Kill the server (SIGKILL) and the agent's worker while the backlog
    # uploads, then let everything come back.
    time.sleep(0.3)
    fleet.server.stop(signal.SIGKILL)
    for i in range(300, 400):
        (watched / ("f%03d" % i)).write_text("x")
    fleet.server.start()
    time.sleep(0.2)
    os.kill(a.worker_pid(), signal.SIGKILL)
    a.wait_for(lambda s: s.get("uplink", {}).get("state") == "enrolled", what="the worker back")
    for i in range(400, 450):
        (watched / ("f%03d" % i)).write_text("x")

    def all_there():
        local = [seq for seq, ev in read_journal(a.state)]
        srv = [e["seq"] for e in fleet.server.events(aid)]
        return srv if local and set(local) <= set(srv) else None

    srv_seqs = wait(all_there, timeout=60, what="every journal record on the server")
    assert len(srv_seqs) == len(set(srv_seqs)), "duplicates on the server"
    # (Only the test's files: the default content also watches /etc, which
    # other programs on the machine may change meanwhile.)
    created = [e for e in fleet.server.events(aid)
               if e["event"]["event"]["action"] == "file-created" and
               e["event"]["file"]["path"].startswith(str(watched) + "/")]
    names = sorted(os.path.basename(e["event"]["file"]["path"]) for e in created)
    assert names == ["f%03d" % i for i in range(450)], "lost or repeated file events"


def test_postgresql_restart_is_survived(ward, tmp_path, postgres):
    """The database restarting under a running server: calls outside a
    transaction reconnect, nothing needs a server restart."""
    srv = Server(tmp_path / "s", database=postgres.create_db("ward_%s" % os.urandom(4).hex()))
    srv.start()
    try:
        body = {"token": srv.token(), "machine_id": "m", "hw_id": "h", "hostname": "x",
                "version": "0.1.0"}
        st, ans = srv.post("/api/v1/enroll", body)
        assert st == 200
        cred = ans["agent_id"] + ":" + ans["secret"]
        postgres.restart()
        st, _ = srv.post("/api/v1/checkin", {"mode": "protecting"}, token=cred)
        assert st == 200, srv.read_log()
        st, ans = srv.post("/api/v1/events", {"journal_id": "j", "events": [
            {"seq": 1, "event": {"event": {"kind": "event"}}}]}, token=cred)
        assert st == 200 and ans["acked"] == 1
        assert len(srv.agents()) == 1
    finally:
        srv.stop()
