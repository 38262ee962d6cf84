"""
What an operator of the fleet server meets, tested as they met it: a
release that no agent ran does not pass, an empty ring is skipped, a ring
that cannot pass says why and ends after stall_s (never waits without
end), a frozen fleet refuses promote; revocation reaches a long-polling
agent at once; pins, the fleet's status and every state change are shown;
init --trust and `ward fleet keys`; enrollment tokens of one use within a
day; the fleet CLI's messages; timestamped server logs, SIGHUP reloads,
one server per SQLite database; a loop of rehearsals that all finish.
"""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from agentlib import Agent, Keys, crafted, signed_bundle
from serverlib import Server, agent_server_lines, server_path, wait
from test_rollout import interval, quick_plan, rollout, versions, wait_versions  # noqa: F401
from test_sim import sim_path


def tl(rl):
    """A release's timeline as text."""
    return "\n".join(e["text"] for e in rl["timeline"])


@pytest.mark.parametrize("backend", ["sqlite"])
def test_agent_ahead_neither_blocks_nor_counts(rollout):
    """An agent with newer content applied by hand gets a release of an
    older version: the ring does not wait for it for good; the release
    says why it passed."""
    a = rollout.agent("ahead")
    wait(lambda: a.status().get("uplink", {}).get("state") == "enrolled", what="enrollment")
    assert a.apply(rollout.bundle(6)).returncode == 0
    wait_versions([a], [6])
    rid = rollout.publish(rollout.bundle(5), {"rings": [{"name": "canary", "percent": 100,
                                                         "soak_s": 1}]})
    rl = rollout.wait_release(rid, ("completed", "halted"), timeout=30)
    assert rl["state"] == "completed", (rl, a.status()["content"], a.read_log()[-3000:])
    assert "run a newer version 6 (nothing to take)" in tl(rl), tl(rl)
    assert versions([a]) == [6]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_ring_without_evidence_stalls_then_halts_or_moves_on(rollout):
    """A ring whose agent is offline cannot pass on no evidence: the
    release says so, and after stall_s halts (or, with on_stall continue,
    moves on); it never completes on nobody."""
    a = rollout.agent("gone")
    wait(lambda: a.status().get("uplink", {}).get("state") == "enrolled", what="enrollment")
    a.stop()
    plan = {"rings": [{"name": "canary", "percent": 100, "soak_s": 1}],
            "gate": {"stall_s": 4, "silent_checkins": 1000}}
    rid = rollout.publish(rollout.bundle(1), plan)
    rl = wait(lambda: rollout.release(rid)["waiting"] and rollout.release(rid), timeout=20,
              what="the release to say why it waits")
    assert "none of its 1 agent(s) has checked in since the ring started" in rl["waiting"], rl
    p = rollout.cli("release", str(rid))
    assert "ring 0 waits: none of its 1 agent(s)" in p.stdout, p.stdout
    rl = rollout.wait_release(rid, ("halted", "completed"), timeout=30)
    assert rl["state"] == "halted" and "stalled" in rl["reason"], rl
    assert "timeline:" in rollout.cli("release", str(rid)).stdout
    # The same with on_stall continue: the ring moves on (and the
    # release ends), saying why.
    plan["gate"]["on_stall"] = "continue"
    rid2 = rollout.publish(rollout.bundle(2), plan)
    rl = rollout.wait_release(rid2, ("halted", "completed"), timeout=30)
    assert rl["state"] == "completed" and "moved on" in tl(rl), rl


@pytest.mark.parametrize("backend", ["sqlite"])
def test_empty_ring_frozen_fleet_and_status(rollout):
    """A canary ring whose group is pinned is empty: skipped at once, with a
    note.  While frozen, promote is refused and nothing passes; pins,
    freeze and the fleet's status are shown; every change says what it
    did."""
    w1, d1 = rollout.agent("web1", group="web"), rollout.agent("db1", group="db")
    rid = rollout.publish(rollout.bundle(1), quick_plan())
    assert rollout.wait_release(rid, ("completed",))["state"] == "completed"
    wait_versions([w1, d1], [1, 1])
    p = rollout.cli("pin", "db", "1")
    assert p.returncode == 0 and "pinned group db to version 1" in p.stdout, p.stdout
    p = rollout.cli("pins")
    assert re.search(r"^db\s+version 1\s+since \d{4}-\d\d-\d\dT", p.stdout, re.M), p.stdout
    plan = {"rings": [{"name": "canary", "groups": ["db"], "soak_s": 600},
                      {"name": "rest", "percent": 100, "soak_s": 1}]}
    rid2 = rollout.publish(rollout.bundle(2), plan)
    rl = rollout.wait_release(rid2, ("completed", "halted"), timeout=30)
    assert rl["state"] == "completed", rl
    assert "ring 0 has no agents: skipped" in tl(rl), tl(rl)
    wait_versions([w1, d1], [2, 1])
    # Frozen: a new release waits; promote is refused; status says so.
    p = rollout.cli("freeze")
    assert p.returncode == 0 and "content frozen fleet-wide" in p.stdout
    rid3 = rollout.publish(rollout.bundle(3), quick_plan(soak=1))
    time.sleep(2)
    p = rollout.cli("promote", str(rid3))
    assert p.returncode == 2 and "frozen" in p.stderr, p.stderr
    rl = rollout.release(rid3)
    assert rl["state"] == "running" and versions([w1, d1]) == [2, 1]
    st = json.loads(rollout.cli("status", "--json").stdout)
    assert st["frozen"] is True and st["release"]["id"] == rid3
    assert st["pins"][0]["group"] == "db" and st["agents"]["total"] == 2
    p = rollout.cli("status")
    assert "FROZEN" in p.stdout and "pin: group db on version 1" in p.stdout, p.stdout
    p = rollout.cli("unfreeze")
    assert p.returncode == 0 and "unfrozen" in p.stdout
    assert rollout.cli("unpin", "db").stdout.startswith("unpinned group db")
    rl = rollout.wait_release(rid3, ("completed", "halted"), timeout=60)
    assert rl["state"] == "completed", rl
    assert "frozen" in tl(rl) and "soak starts again" in tl(rl)
    p = rollout.cli("releases")
    assert "ring -1" not in p.stdout and "completed" in p.stdout


@pytest.mark.parametrize("interval", [60])
@pytest.mark.parametrize("backend", ["sqlite"])
def test_revocation_reaches_a_long_polling_agent_at_once(rollout):
    a = rollout.agent("held")
    up = wait(lambda: a.status().get("uplink", {}).get("state") == "enrolled" and
              a.status()["uplink"], what="enrollment")
    time.sleep(2)  # its check-in is held now (60 s interval)
    seen = [x for x in rollout.server.agents() if x["id"] == up["agent_id"]][0]
    assert seen["connected"] is True, seen
    assert "connected" in rollout.cli("agents").stdout
    t0 = time.time()
    assert rollout.cli("revoke", up["agent_id"]).returncode == 0
    wait(lambda: a.status()["uplink"]["state"] == "revoked", timeout=10,
         what="the agent to hear it is revoked")
    assert time.time() - t0 < 5


def test_trusted_keys_at_init_and_at_run_time(ward, tmp_path):
    """init --trust: publishing works at once; `ward fleet keys add` trusts
    another key without a restart; remove takes it back."""
    keys = Keys(ward, str(tmp_path / "keys"))
    first, second = keys.make("first"), keys.make("second")
    srv = Server(tmp_path / "srv", init_args=["--trust", first[1]])
    srv.start()
    try:
        def cli(*args):
            return ward.run("fleet", *args, "--server", srv.url.replace("https://", ""),
                            "--ca", srv.ca, env=dict(os.environ, WARD_TOKEN=srv.admin))

        p = cli("publish", signed_bundle(ward, tmp_path / "a", first[0], 1))
        assert p.returncode == 0, p.stderr
        b2 = signed_bundle(ward, tmp_path / "b", second[0], 2)
        p = cli("publish", b2)
        assert p.returncode == 2 and "bundle refused" in p.stderr, p.stderr
        p = cli("keys", "add", second[1])
        assert p.returncode == 0 and "trusted" in p.stdout, p.stderr
        p = cli("keys", "list")
        assert p.stdout.count("ed25519") == 2 and "config" in p.stdout and "api" in p.stdout
        kid = re.search(r"^([0-9a-f]{32})\s.*\bapi\b", p.stdout, re.M).group(1)
        assert cli("abort", "1").returncode == 0
        assert cli("publish", b2).returncode == 0
        assert cli("abort", "2").returncode == 0
        p = cli("keys", "remove", kid)
        assert p.returncode == 0, p.stderr
        p = cli("publish", signed_bundle(ward, tmp_path / "c", second[0], 3))
        assert p.returncode == 2
        audit = [e["action"] for e in json.loads(cli("audit", "--json").stdout)]
        assert "key-trusted" in audit and "key-removed" in audit
        # a bundle that has expired would be refused by every agent: the
        # server refuses it at once and says why
        old = crafted(4, first, str(tmp_path), created="2019-01-01T00:00:00Z",
                      expires="2020-01-01T00:00:00Z")
        path = tmp_path / "expired.wbundle"
        path.write_bytes(old)
        p = cli("publish", str(path))
        assert p.returncode == 2 and "expired" in p.stderr, p.stderr
    finally:
        srv.stop()


def test_tokens_default_to_one_use_within_a_day(ward, tmp_path):
    srv = Server(tmp_path / "srv")
    srv.start()
    try:
        env = dict(os.environ, WARD_TOKEN=srv.admin)
        p = ward.run("fleet", "--server", srv.url, "--ca", srv.ca, "token", "create", env=env)
        assert p.returncode == 0, p.stderr
        tok = p.stdout.strip()
        body = {"token": tok, "machine_id": "m1", "hw_id": "h1", "hostname": "a",
                "version": "0.1.0"}
        assert srv.post("/api/v1/enroll", body)[0] == 200
        st, ans = srv.post("/api/v1/enroll", dict(body, machine_id="m2", hw_id="h2"))
        assert st == 403 and "used up" in ans["error"], ans
        p = subprocess.run([server_path(), "token", "create", "--config", srv.config],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert p.returncode == 0
        st, ans = srv.get("/api/v1/audit", token=srv.admin)
        created = [e for e in ans["audit"] if e["action"] == "token-created" and
                   e["who"] != "local"]
        assert created and created[0]["detail"]["uses"] == 1
        assert 86000 < created[0]["detail"]["expires"] - time.time() <= 86400
        # Options after the command, the global ones too; a stray word is
        # refused, not ignored.
        p = ward.run("fleet", "token", "create", "--uses", "3", "--server", srv.url,
                     "--ca", srv.ca, env=env)
        assert p.returncode == 0, p.stderr
        p = ward.run("fleet", "--server", srv.url, "--ca", srv.ca, "token", "create",
                     "--uses", "3", "grp", env=env)
        assert p.returncode == 2 and "takes no argument grp" in p.stderr, p.stderr
        st, ans = srv.get("/api/v1/audit", token=srv.admin)
        uses = [e["detail"].get("uses") for e in ans["audit"] if e["action"] == "token-created"]
        assert uses.count(3) == 1, uses
    finally:
        srv.stop()


def test_fleet_cli_messages(ward, tmp_path):
    srv = Server(tmp_path / "srv")
    srv.start()
    try:
        host = srv.url.replace("https://", "")
        env = dict(os.environ, WARD_SERVER=host, WARD_CA=srv.ca, WARD_TOKEN="f" * 64)
        p = ward.run("fleet", "agents", env=env)
        assert p.returncode == 2 and "refused the API token (from $WARD_TOKEN)" in p.stderr, \
            p.stderr
        env["WARD_TOKEN"] = srv.admin
        p = ward.run("fleet", "agents", env=env)  # HOST:PORT is taken as https
        assert p.returncode == 0, p.stderr
        p = ward.run("fleet", "agents", env=dict(env, WARD_CA=""))
        assert p.returncode == 2 and "$WARD_CA is empty" in p.stderr, p.stderr
        env.pop("WARD_SERVER")
        p = ward.run("fleet", "agents", "--server", srv.url, env=env)  # after the command
        assert p.returncode == 0, p.stderr
        p = ward.run("fleet", "status", "--server=" + host, "--json", env=env)
        assert p.returncode == 0 and json.loads(p.stdout)["frozen"] is False, p.stderr
        # A second server on the same address says which address and why.
        p = subprocess.run([server_path(), "--config", srv.config], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        assert p.returncode == 1
        assert "already running on %s/ward.db (pid %d)" % (srv.d, srv.proc.pid) in p.stderr, \
            p.stderr
    finally:
        srv.stop()
    # Another address in use: the bind failure names it.
    s = Server(tmp_path / "other")
    import socket
    busy = socket.socket()
    busy.bind(("127.0.0.1", s.port))
    busy.listen(1)
    try:
        p = subprocess.run([server_path(), "--config", s.config], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        assert p.returncode == 1
        assert "cannot listen on 127.0.0.1:%d: Address already in use" % s.port in p.stderr, \
            p.stderr
    finally:
        busy.close()


def test_server_log_and_reload(ward, tmp_path):
    """Every log line starts with an RFC 3339 time; SIGHUP reloads what can
    change and names what cannot; a broken configuration is refused and
    the one in use kept."""
    srv = Server(tmp_path / "srv", settings={"checkin.interval_s": 30})
    srv.start()
    try:
        tok = srv.token()
        st, ans = srv.post("/api/v1/enroll", {"token": tok, "machine_id": "m", "hw_id": "h",
                                              "hostname": "a", "version": "0.1.0"})
        auth = ans["agent_id"] + ":" + ans["secret"]
        assert srv.post("/api/v1/checkin", {}, token=auth)[1]["config"]["checkin_interval_s"] == 30
        text = open(srv.config).read()
        open(srv.config, "w").write(text.replace("interval_s: 30", "interval_s: 12").replace(
            "threads: 4", "threads: 2"))
        srv.proc.send_signal(signal.SIGHUP)
        wait(lambda: "configuration reloaded" in srv.read_log(), what="the reload")
        assert srv.post("/api/v1/checkin", {}, token=auth)[1]["config"]["checkin_interval_s"] == 12
        assert "not reloaded (restart ward-server for them): limits.threads" in srv.read_log()
        open(srv.config, "w").write(text.replace("interval_s: 30", "interval_s: nonsense"))
        srv.proc.send_signal(signal.SIGHUP)
        wait(lambda: "reload refused" in srv.read_log(), what="the refusal")
        assert srv.post("/api/v1/checkin", {}, token=auth)[1]["config"]["checkin_interval_s"] == 12
        assert srv.proc.poll() is None
        for line in srv.read_log().splitlines():
            if line.startswith("{"):
                assert re.match(r'\{"@timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"', line), line
            else:
                assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ward-server: ", line), line
    finally:
        srv.stop()


def test_rehearsals_always_finish(tmp_path):
    """A loop of self-contained rehearsals (the run that once stalled one
    time in seven): each finishes — the good release completes, the
    faulty one halts in ring 0 — or says the simulator fell behind."""
    env = dict(os.environ)
    for i in range(3):
        p = subprocess.run([sim_path(), "--self-contained", "--agents", "300", "--faulty-version",
                            "2", "--fault", "crash", "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=400, env=env)
        assert p.returncode == 0, p.stderr[-3000:]
        r = json.loads(p.stdout.strip().splitlines()[-1])
        if r["good_release_state"] != "completed":
            # Only a simulator that could not keep its agents' pace may
            # explain it; it says so.
            assert r["late_checkins"] > 0 and "could not keep up" in p.stderr, r
            continue
        assert r["halted"] is True and r["incidents"][0]["ring"] == 0, r
