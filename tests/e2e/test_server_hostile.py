"""
ward-server against hostile agents and clients, each attack performed
with a raw client against the real server: an enrolled agent that lies in
its check-in reports to halt every release; a host that claims another
agent's identity; a revoked host that enrolls again; bodies sent before
any authentication; clients that trickle bytes or open many connections;
oversized reports and events; paths that are not UTF-8; durations that
overflow; and retention.  Each test asserts that the attack fails and
that nothing was lost.
"""

import json
import os
import re
import socket
import sqlite3
import ssl
import subprocess
import time

import pytest

from agentlib import Agent, Keys, signed_bundle
from serverlib import Server, agent_server_lines, server_path, wait


def tls(srv, timeout=10):
    """A TLS connection to the server, pinned to its CA."""
    ctx = ssl.create_default_context(cafile=srv.ca)
    raw = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def read_answer(s):
    """(status, JSON body) of one HTTP answer on s."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d+)", head)
    assert m, data[:200]
    length = re.search(rb"(?i)content-length: *(\d+)", head)
    want = int(length.group(1)) if length else 0
    while len(body) < want:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(m.group(1)), json.loads(body) if body else None


def rss_kb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


class FakeAgent:
    """An enrolled agent that is only a client: it says what the test
    makes it say."""

    def __init__(self, srv, token, name, hw=None, machine=None):
        self.srv = srv
        st, ans = srv.post("/api/v1/enroll", {
            "token": token, "machine_id": machine or "m-" + name, "hw_id": hw or "h-" + name,
            "hostname": name, "version": "0.1.0"})
        assert st == 200, ans
        self.id, self.secret = ans["agent_id"], ans["secret"]
        self.version = 0
        self.rejected = []

    def checkin(self, **extra):
        report = {"mode": "protecting", "journal_id": "j" + self.id[:8],
                  "content": {"current": {"name": "default", "version": self.version}
                              if self.version else None,
                              "last_known_good": None, "rejected": self.rejected}}
        report.update(extra)
        st, ans = self.srv.post("/api/v1/checkin", report, token=self.id + ":" + self.secret)
        return st, ans


@pytest.fixture
def fleetsrv(ward, tmp_path):
    keys = Keys(ward, str(tmp_path / "keys"))
    rel = keys.make("release")
    srv = Server(tmp_path / "server", settings={
        "checkin.interval_s": 1, "checkin.jitter_pct": 0, "rollout.tick_ms": 200,
        "content.trusted_keys": "[%s]" % rel[1]})
    srv.start()

    def bundle(version):
        return signed_bundle(ward, tmp_path, rel[0], version)

    def cli(*args):
        return ward.run("fleet", "--server", srv.url, "--ca", srv.ca, *args,
                        env=dict(os.environ, WARD_TOKEN=srv.admin))

    def publish(version, plan):
        pf = tmp_path / ("plan-%d.json" % version)
        pf.write_text(json.dumps(plan))
        p = cli("publish", bundle(version), "--plan", str(pf))
        assert p.returncode == 0, p.stderr
        return int(p.stdout.strip())

    def release(rid):
        st, ans = srv.get("/api/v1/releases/%d" % rid, token=srv.admin)
        assert st == 200, ans
        return ans

    srv.publish, srv.release, srv.cli, srv.keys = publish, release, cli, rel
    yield srv
    srv.stop()


def test_lying_agent_cannot_halt_releases(fleetsrv):
    """One enrolled agent lists refusals of every version before any
    reaches it: no release halts for it.  In a ring of 100 agents, one
    agent refusing a version it did receive does not stop the ring either
    (1 % tolerated by default); the operator can say otherwise, and then
    the incident names the agent, its host and its reason."""
    srv = fleetsrv
    tok = srv.token()
    # The 11 MB list of the attack is not even read; a longer list than an
    # agent keeps is refused; nothing of either is stored.
    liar = FakeAgent(srv, tok, "liar")
    huge = [{"version": v, "reason": "validation failed"} for v in range(1, 200001)]
    s = tls(srv)
    body = json.dumps({"content": {"rejected": huge}}).encode()
    s.sendall(b"POST /api/v1/checkin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s:%s\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (
                  liar.id.encode(), liar.secret.encode(), len(body)))
    st, ans = read_answer(s)
    s.close()
    assert st == 413 and "larger" in ans["error"], ans
    liar.rejected = huge[:33]
    st, ans = liar.checkin()
    assert st == 400 and "more than 32" in ans["error"], ans
    liar.rejected = huge[:32]  # versions 1 to 32, "refused" in advance
    assert liar.checkin()[0] == 200
    honest = [FakeAgent(srv, tok, "host-%03d" % i) for i in range(99)]
    fleet = honest + [liar]
    plan = {"rings": [{"name": "all", "percent": 100, "soak_s": 3}],
            "gate": {"silent_checkins": 1000}}
    rid = srv.publish(1, plan)
    wait(lambda: srv.release(rid)["ring"] == 0, what="ring 0 to start")
    for a in fleet:  # each is told to run version 1 (delivered)
        st, ans = a.checkin()
        assert st == 200 and ans["desired"]["version"] == 1, ans
    for a in honest:
        a.version = 1
    # One honest agent did refuse it.
    honest[0].version = 0
    honest[0].rejected = [{"version": 1, "reason": "validation failed: self-test"}]
    for a in fleet:
        assert a.checkin()[0] == 200
    rl = wait(lambda: srv.release(rid)["state"] != "running" and srv.release(rid),
              timeout=30, what="the release to end")
    assert rl["state"] == "completed", rl
    assert rl["incidents"] == []
    # The operator says one refusal is enough: then it halts, with the
    # evidence per agent; the liar's claim is shown as not counted.
    plan["gate"]["max_rejections_pct"] = 0
    rid2 = srv.publish(2, plan)
    wait(lambda: srv.release(rid2)["ring"] == 0, what="ring 0 to start")
    for a in fleet:
        assert a.checkin()[1]["desired"]["version"] == 2
    honest[1].rejected = [{"version": 2, "reason": "signature: no trusted key"}]
    for a in fleet:
        a.checkin()
    rl = wait(lambda: srv.release(rid2)["state"] != "running" and srv.release(rid2),
              timeout=30, what="the release to halt")
    assert rl["state"] == "halted" and "1 agent(s) refused version 2" in rl["reason"], rl
    ev = rl["incidents"][0]["evidence"]
    assert ev["rejections"] == [honest[1].id]
    named = [x for x in ev["agents"] if x["agent_id"] == honest[1].id]
    assert named and named[0]["hostname"] == "host-001"
    assert named[0]["detail"] == "signature: no trusted key"
    assert [x["agent_id"] for x in ev["not_counted"]] == [liar.id]
    assert ev["rings"][0]["agents"] == 100 and ev["rings"][0]["rejections_tolerated"] == 0
    # What the server kept of the liar is its bounded report.
    rec = [x for x in srv.agents() if x["id"] == liar.id][0]
    assert len(rec["report"]["content"]["rejected"]) == 32
    p = srv.cli("release", str(rid2))
    assert p.returncode == 0, p.stderr
    assert re.search(honest[1].id + r" host-001 .*rejections .*signature: no trusted key",
                     p.stdout), p.stdout
    assert re.search(liar.id + r" liar .*not counted", p.stdout), p.stdout


def test_identity_takeover_and_revocation(ward, tmp_path, fleetsrv):
    """A host with a token of another group and the victim's identity
    (machine and hardware ids) enrolls: the victim keeps its identity and
    keeps working; the claim waits for an operator, who denies it.  A
    revoked host cannot enroll again, with any token, until the operator
    lifts the revocation."""
    srv = fleetsrv
    d = tmp_path / "victim"
    d.mkdir()
    ident = str(tmp_path / "ids" / "victim")
    lines = agent_server_lines(srv, srv.token(group="web"), ident)
    victim = Agent(ward, d, [srv.keys[1]], extra=lines)
    victim.start()
    try:
        up = wait(lambda: victim.status().get("uplink", {}).get("state") == "enrolled" and
                  victim.status()["uplink"], what="the victim to enroll")
        vid = up["agent_id"]
        hw = open(ident + ".hw").read().strip()
        import hashlib
        hw_id = hashlib.sha256(hw.encode()).hexdigest()
        machine = open(ident + ".machine").read().strip()
        rec = [x for x in srv.agents() if x["id"] == vid][0]
        assert rec["machine_id"] == machine
        # The attack: a lab token and the victim's identity.
        st, ans = srv.post("/api/v1/enroll", {
            "token": srv.token(group="lab"), "machine_id": machine, "hw_id": hw_id,
            "hostname": "attacker", "version": "0.1.0"})
        assert st == 202 and ans["how"] == "pending" and ans["agent_id"] == vid, ans
        stolen = ans["agent_id"] + ":" + ans["secret"]
        st, ans = srv.post("/api/v1/checkin", {}, token=stolen)
        assert st == 409 and "approval" in ans["error"]
        # The victim goes on checking in as itself, in its own group.
        seen = [x for x in srv.agents() if x["id"] == vid][0]["checkins"]
        wait(lambda: [x for x in srv.agents() if x["id"] == vid][0]["checkins"] > seen + 1,
             what="the victim's next check-ins")
        rec = [x for x in srv.agents() if x["id"] == vid][0]
        assert rec["group"] == "web" and rec["hostname"] != "attacker"
        assert rec["pending"]["token_group"] == "lab" and rec["pending"]["peer"] == "127.0.0.1"
        assert victim.status()["uplink"]["state"] == "enrolled"
        p = srv.cli("agents")
        assert re.search(vid + r".*pending", p.stdout), p.stdout
        p = srv.cli("deny", vid)
        assert p.returncode == 0, p.stderr
        assert srv.post("/api/v1/checkin", {}, token=stolen)[0] == 401
        # Revoked: it stays revoked, whatever token the host enrolls with.
        assert srv.cli("revoke", vid).returncode == 0
        wait(lambda: victim.status()["uplink"]["state"] == "revoked", what="revocation")
        for tok in (srv.token(group="web"), srv.token(group="lab")):
            st, ans = srv.post("/api/v1/enroll", {
                "token": tok, "machine_id": machine, "hw_id": hw_id, "hostname": "victim",
                "version": "0.1.0"})
            assert st == 403 and "unrevoke" in ans["error"], ans
        assert len(srv.agents()) == 1
        actions = [e["action"] for e in json.loads(srv.cli("audit", "--json").stdout)]
        assert "agent-enrollment-pending" in actions and "agent-denied" in actions
        # Lifted: the agent, restarted, reports again as itself.
        assert srv.cli("unrevoke", vid).returncode == 0
        victim.stop()
        victim.start()
        wait(lambda: victim.status().get("uplink", {}).get("state") == "enrolled",
             what="the agent to report again")
        assert victim.status()["uplink"]["agent_id"] == vid
        assert [x["revoked"] for x in srv.agents()] == [False]
    finally:
        victim.stop()


def test_bodies_are_not_read_before_authentication(fleetsrv):
    """Announced bodies over a call's limit, or on a call whose credentials
    fail, are answered from the headers alone: 16 connections announcing
    16 MiB each and sending nothing more do not grow the server."""
    srv = fleetsrv
    before = rss_kb(srv.proc.pid)
    socks = []
    t0 = time.time()
    for i in range(16):
        s = tls(srv)
        path, auth = [("/api/v1/enroll", ""), ("/api/v1/events", ""),
                      ("/api/v1/events", "Authorization: Bearer %s:%s\r\n" % ("0" * 32, "0" * 64)),
                      ("/api/v1/bundles", "Authorization: Bearer %s\r\n" % ("f" * 64))][i % 4]
        s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\n"
                   "Content-Length: %d\r\n\r\n" % (path, auth, 16 << 20)).encode())
        s.sendall(b"{" + b" " * 4096)  # a start of the body, at most
        socks.append((path, auth, s))
    for path, auth, s in socks:
        st, ans = read_answer(s)
        want = 413 if path == "/api/v1/enroll" else 401
        assert st == want and ans.get("error"), (path, st, ans)
        s.close()
    assert time.time() - t0 < 10
    assert rss_kb(srv.proc.pid) - before < 20 * 1024, "the server grew"
    # A body within its limit still works (a token made by an operator).
    assert srv.token()
    log = srv.read_log()
    assert '"status":413' in log and '"peer":"127.0.0.1"' in log


def test_slow_and_many_clients_are_cut(ward, tmp_path):
    """A client trickling a request is cut off by limits.request_s, not
    kept for the idle timeout; one address cannot hold more than
    limits.per_ip_connections connections; meanwhile others are served."""
    srv = Server(tmp_path / "server", settings={
        "limits.request_s": 5, "limits.timeout_s": 120, "limits.per_ip_connections": 8})
    srv.start()
    try:
        s = tls(srv, timeout=30)
        t0 = time.time()
        cut = None
        for b in b"POST /api/v1/enroll HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 60:
            try:
                s.sendall(bytes([b]))
            except OSError:
                cut = time.time() - t0
                break
            time.sleep(0.5)
            assert srv.get("/api/v1/health")[0] == 200  # others are served
        if cut is None:  # the last byte was written: the close shows on reading
            try:
                cut = time.time() - t0 if s.recv(1) == b"" else None
            except OSError:
                cut = time.time() - t0
        assert cut is not None and cut < 12, "a trickling client kept its connection"
        assert "slow-client-cut" in srv.read_log()
        s.close()
        # Per address: of 12 connections (no request yet), at most 8 are
        # kept; the others are closed at once.  Once they go, new ones
        # are served.
        conns = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(12)]
        time.sleep(0.5)
        kept = 0
        for c in conns:
            c.settimeout(2)
            try:
                kept += c.recv(1) != b""
            except socket.timeout:
                kept += 1
        assert kept <= 8, "%d connections from one address were kept" % kept
        for c in conns:
            c.close()

        def served():
            # Until the server has seen those closes, a new connection is
            # still over the address's limit and is reset: try again.
            try:
                return srv.get("/api/v1/health")[0] == 200
            except OSError:
                return False

        wait(served, what="the server to serve again")
    finally:
        srv.stop()


def test_reports_events_and_paths_are_bounded(fleetsrv):
    """An event larger than the limit is stored as a stub that says so; an
    agent storing faster than events.agent_kb_per_minute is told to wait
    (and loses nothing: it sends again); a path with bytes that are not
    UTF-8 is logged, escaped; durations that would overflow are refused."""
    srv = fleetsrv
    a = FakeAgent(srv, srv.token(), "big")
    auth = a.id + ":" + a.secret
    big = {"event": {"kind": "alert"}, "x": "y" * (100 << 10)}
    st, ans = srv.post("/api/v1/events", {"journal_id": "j", "events": [
        {"seq": 1, "event": big}, {"seq": 2, "event": {"event": {"kind": "event"}}}]},
        token=auth)
    assert st == 200 and ans["acked"] == 2, ans
    evs = {e["seq"]: e["event"] for e in srv.events(agent=a.id)}
    assert evs[1]["ward"]["oversize"]["bytes"] > 100 << 10 and "x" not in evs[1]
    assert evs[1]["event"]["kind"] == "alert" and evs[2] == {"event": {"kind": "event"}}
    # Paths: escaped in the log, a 404 all the same.
    s = tls(srv)
    s.sendall(b"GET /api/v1/%ff%fe/\xc3\x28 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_answer(s)[0] == 404
    s.close()
    wait(lambda: "\\\\xff\\\\xfe" in srv.read_log(), what="the escaped path in the log")
    # Durations: 2^63 - 1 seconds is not a token that never expires.
    st, ans = srv.post("/api/v1/tokens", {"expires_s": 9223372036854775807}, token=srv.admin)
    assert st == 400 and "ten years" in ans["error"]
    st, ans = srv.post("/api/v1/tokens", {"expires_s": 3600}, token=srv.admin)
    assert st == 200 and 0 < ans["expires"] - time.time() <= 3600


def test_content_shown_is_checked(fleetsrv):
    """An agent that sends, as the name and times of its content, markup,
    terminal escapes, text where a time goes or a time past 9999 has its
    report refused (400, naming the field); what the server shows of the
    agent stays what its last good report said, written from the checked
    values."""
    srv = fleetsrv
    a = FakeAgent(srv, srv.token(), "shown")
    auth = a.id + ":" + a.secret
    good = {"name": "fleet_2.x-1", "version": 3, "activated_at": "2026-12-01T10:00:00Z",
            "expires": "2027-01-01T00:00:00Z"}
    st, ans = srv.post("/api/v1/checkin", {"content": {"current": good}}, token=auth)
    assert st == 200, ans
    bad = [("name", "<img src=x onerror=alert(1)>"), ("name", "\u001b[2Jdefault"),
           ("name", "a" * 65), ("name", 7), ("activated_at", "yesterday"),
           ("activated_at", 1796119200), ("expires", "10000-01-01T00:00:00Z"),
           ("expires", "2027-02-30T00:00:00Z"), ("version", 0)]
    for key, value in bad:
        st, ans = srv.post("/api/v1/checkin", {"content": {"current": dict(good, **{key: value})}},
                           token=auth)
        assert st == 400 and "content.current" in ans["error"], (key, value, st, ans)
    rec = [x for x in srv.agents() if x["id"] == a.id][0]
    assert rec["content_version"] == 3
    assert rec["report"]["content"]["current"] == good
    # What is not sent is shown empty, in the same shape.
    st, ans = srv.post("/api/v1/checkin", {"content": {"current": {"version": 4}}}, token=auth)
    assert st == 200, ans
    rec = [x for x in srv.agents() if x["id"] == a.id][0]
    assert rec["report"]["content"]["current"] == {
        "name": "", "version": 4, "activated_at": "", "expires": ""}


def test_event_rate_per_agent(ward, tmp_path):
    srv = Server(tmp_path / "server", settings={"events.agent_kb_per_minute": 64})
    srv.start()
    try:
        a = FakeAgent(srv, srv.token(), "noisy")
        auth = a.id + ":" + a.secret
        batch = [{"seq": i, "event": {"x": "y" * 1000}} for i in range(1, 41)]
        st, ans = srv.post("/api/v1/events", {"journal_id": "j", "events": batch}, token=auth)
        assert st == 200 and ans["acked"] == 40
        more = [{"seq": i, "event": {"x": "y" * 1000}} for i in range(41, 81)]
        st, ans = srv.post("/api/v1/events", {"journal_id": "j", "events": more}, token=auth)
        assert st == 429 and "agent_kb_per_minute" in ans["error"], ans
        assert len(srv.events(agent=a.id)) == 40
        # Another agent is not held back by it.
        b = FakeAgent(srv, srv.token(), "quiet")
        st, ans = srv.post("/api/v1/events", {"journal_id": "k", "events": batch[:5]},
                           token=b.id + ":" + b.secret)
        assert st == 200
    finally:
        srv.stop()


def test_retention(ward, tmp_path):
    """Events and audit entries older than their retention go; the rest
    stays; a retention the gate cannot work with is refused."""
    srv = Server(tmp_path / "server", settings={"events.retention_days": 2})
    bad = open(srv.config).read().replace("retention_days: 2", "retention_days: 1", 1)
    open(srv.config + ".bad", "w").write(bad)
    p = subprocess.run([server_path(), "--config", srv.config + ".bad"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    assert p.returncode == 1 and "at least 2" in p.stderr, p.stderr
    srv.start()
    a = FakeAgent(srv, srv.token(), "old")
    st, _ = srv.post("/api/v1/events", {"journal_id": "j", "events": [
        {"seq": i, "event": {"n": i}} for i in (1, 2, 3)]}, token=a.id + ":" + a.secret)
    assert st == 200
    srv.stop()
    db = sqlite3.connect(os.path.join(srv.d, "ward.db"))
    db.execute("UPDATE events SET received = received - 3 * 86400 WHERE seq < 3")
    db.execute("UPDATE audit SET ts = ts - 400 * 86400 WHERE action = 'token-created'")
    db.commit()
    db.close()
    srv.start()
    try:
        wait(lambda: [e["seq"] for e in srv.events(agent=a.id)] == [3], what="retention")
        st, ans = srv.get("/api/v1/audit", token=srv.admin)
        assert "token-created" not in [e["action"] for e in ans["audit"]]
        assert "agent-enrolled" in [e["action"] for e in ans["audit"]]
        assert "retention: removed" in srv.read_log()
    finally:
        srv.stop()
