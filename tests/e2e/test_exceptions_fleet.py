"""
Exceptions from the fleet: `ward fleet except add` on a real ward-server
reaches a real agent within seconds (the held check-in is answered), lets
the blocked file open, `remove` blocks it again; a group's exception
reaches only that group; the agent takes from the server only what
server.exceptions allows; every change is in the server's audit log and
the agent's journal.  Then a hostile server: every malformed list is
refused whole, the list in force stays, the agent says why and keeps
protecting.  Each test mounts a tmpfs of its own for the agent to watch.
"""

import hashlib
import io
import json
import os
import time

import pytest

from agentlib import Agent, default_content, read_journal, wait_events
from conftest import EICAR
from serverlib import Server, agent_server_lines, wait
from test_uplink_hostile import HostileFleet
from userlib import own_tmpfs

EICAR_SHA = hashlib.sha256(EICAR).hexdigest()


def opens(path):
    try:
        with open(path, "rb") as f:
            f.read()
        return True
    except PermissionError:
        return False


def events(a, action):
    return [e for _, e in read_journal(a.state) if e["event"]["action"] == action]


@pytest.fixture
def box(ward, tmp_path):
    """A tmpfs of the test's own with a guarded directory holding the EICAR
    file, signing keys and the default content."""
    if os.geteuid() != 0:
        pytest.fail("the exception tests run as root (make check runs them so)", pytrace=False)
    with own_tmpfs(tmp_path / "mnt", "16m") as mnt:
        yield from _box(ward, tmp_path, mnt)


def _box(ward, tmp_path, mnt):
    guarded = os.path.join(str(mnt), "uploads")
    os.makedirs(guarded)
    with open(os.path.join(guarded, "eicar.com"), "wb") as f:
        f.write(EICAR)
    rel, v1 = default_content(ward, tmp_path)
    agents = []

    class Box:
        pass

    b = Box()
    b.ward, b.tmp, b.target = ward, tmp_path, os.path.join(guarded, "eicar.com")

    def agent(server_lines, name="a", extra=()):
        d = tmp_path / ("agent-" + name)
        d.mkdir()
        lines = ["onaccess:", "  paths: [%s]" % mnt, "  block_open: [%s]" % guarded]
        a = Agent(ward, d, [rel[1]], extra=lines + list(server_lines) + list(extra))
        agents.append(a)
        a.start()
        assert a.apply(v1).returncode == 0
        return a

    b.agent = agent
    yield b
    for a in agents:
        a.stop()


@pytest.fixture
def server(tmp_path, backend, request):
    """A real ward-server (check-ins held up to 30 s: only the long poll's
    answer can bring a change within seconds)."""
    database = None
    if backend == "postgresql":
        pg = request.getfixturevalue("postgres")
        database = pg.create_db("ward_%s" % os.urandom(4).hex())
    srv = Server(tmp_path / "server", database=database,
                 settings={"checkin.interval_s": 30, "checkin.jitter_pct": 0})
    srv.start()
    yield srv
    srv.stop()


def fleet(ward, srv, *args):
    return ward.run("fleet", "--server", srv.url, "--ca", srv.ca, *args,
                    env=dict(os.environ, WARD_TOKEN=srv.admin))


def enrolled(a, server):
    """The agent enrolled and its check-in reached the server (which holds
    it: the agent sees its answer only when there is something to say)."""
    st = a.wait_for(lambda s: s.get("uplink", {}).get("state") == "enrolled", what="enrolled")
    wait(lambda: any(x["id"] == st["uplink"]["agent_id"] and x.get("checkins", 0) >= 1
                     for x in server.agents()), what="a check-in of %s" % st["uplink"]["agent_id"])


def test_fleet_exception_reaches_the_agent_in_seconds(box, server):
    a = box.agent(agent_server_lines(server, server.token(), str(box.tmp / "ids" / "a")))
    enrolled(a, server)
    assert not opens(box.target)
    time.sleep(1)  # the agent's check-in is held by now
    t0 = time.time()
    p = fleet(box.ward, server, "except", "add", "--sha256", EICAR_SHA, "--reason",
              "lab sample, ticket 99")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "added fleet exception 1 for every agent: sha256:%s\n" % EICAR_SHA
    wait(lambda: opens(box.target), timeout=10, what="the fleet's exception on the agent")
    took = time.time() - t0
    assert took < 8, "the exception took %.1f s: the held check-in was not answered" % took
    st = a.status()["exceptions"]
    assert st["fleet"] == 1 and st["fleet_revision"] == 1, st
    ev = wait_events(a, "detection-excepted")[-1]
    assert ev["ward"]["exception"]["source"] == "fleet" and ev["ward"]["exception"]["id"] == 1
    assert ev["ward"]["exception"]["reason"] == "lab sample, ticket 99"
    added = [e for e in events(a, "exception-added") if e["ward"]["exception"]["source"] == "fleet"]
    assert len(added) == 1 and added[0]["ward"]["exception"]["by"] == "admin"
    p = a.agent("except", "list")
    assert "fleet        1  sha256:%s" % EICAR_SHA in p.stdout, p.stdout
    assert "lab sample, ticket 99 (by admin)" in p.stdout
    # The server lists it and audited who added it; the agents' reports
    # carry what they run.
    p = fleet(box.ward, server, "except", "list", "--json")
    listed = json.loads(p.stdout)
    assert [(e["id"], e["group"], e["sha256"]) for e in listed] == [(1, "", EICAR_SHA)]
    audit = json.loads(fleet(box.ward, server, "audit", "--json").stdout)
    adds = [e for e in audit if e["action"] == "exception-added"]
    assert adds and adds[0]["detail"]["match"] == "sha256:" + EICAR_SHA
    wait(lambda: server.agents()[0].get("report", {}).get("exceptions", {}).get(
        "fleet_revision") == 1, what="the agent's report of revision 1")
    # Removed on the server: blocked again, as soon.
    t0 = time.time()
    p = fleet(box.ward, server, "except", "remove", "1")
    assert p.returncode == 0 and p.stdout.startswith("removed fleet exception 1"), p.stderr
    wait(lambda: not opens(box.target), timeout=10, what="the exception gone on the agent")
    assert time.time() - t0 < 8
    assert a.status()["exceptions"]["fleet"] == 0
    assert [e for e in events(a, "exception-removed") if e["ward"]["exception"]["source"] == "fleet"]
    audit = json.loads(fleet(box.ward, server, "audit", "--json").stdout)
    assert [e for e in audit if e["action"] == "exception-removed"]
    assert fleet(box.ward, server, "except", "remove", "1").returncode == 2


def test_groups_and_what_the_agent_takes(box, server):
    """A group's exception reaches only that group; a path exception is
    taken only by an agent with server.exceptions: all; the server refuses
    what the agents' parser refuses, and the viewer role cannot add."""
    a = box.agent(agent_server_lines(server, server.token(group="icu"), str(box.tmp / "ids" / "a")))
    b = box.agent(agent_server_lines(server, server.token(group="lab"), str(box.tmp / "ids" / "b")),
                  name="b", extra=["  exceptions: all"])
    enrolled(a, server)
    enrolled(b, server)
    uploads = os.path.dirname(box.target)
    p = fleet(box.ward, server, "except", "add", "--path", uploads + "/*", "--group", "lab")
    assert p.returncode == 0, p.stderr
    assert "server.exceptions: all" in p.stderr
    p = fleet(box.ward, server, "except", "add", "--sha256", EICAR_SHA, "--group", "lab")
    assert p.returncode == 0, p.stderr
    b.wait_for(lambda s: s["exceptions"]["fleet"] == 2, what="both lab exceptions on b")
    a.wait_for(lambda s: s["exceptions"]["fleet_revision"] == 2, what="a at revision 2")
    assert a.status()["exceptions"]["fleet"] == 0
    # An icu path exception: a (server.exceptions sha256) does not take it,
    # and says so.
    p = fleet(box.ward, server, "except", "add", "--path", uploads + "/*", "--group", "icu")
    assert p.returncode == 0, p.stderr
    st = a.wait_for(lambda s: s["exceptions"]["fleet_revision"] == 3, what="a at revision 3")
    assert st["exceptions"]["fleet"] == 0 and st["exceptions"]["fleet_not_taken"] == 1
    assert not opens(box.target)
    nt = wait_events(a, "exception-not-taken")[-1]
    assert nt["ward"]["exception"]["match"] == "path:%s/*" % uploads
    # The same twice is refused; so is what the agents would refuse.
    p = fleet(box.ward, server, "except", "add", "--path", uploads + "/*", "--group", "icu")
    assert p.returncode == 2 and "already excepted" in p.stderr
    for args, why in ((["--path", "relative"], "absolute"), (["--sha256", "abc"], "64 hex"),
                      (["--rule", "R", "--path", "/a/**b"], "component"),
                      (["--sha256", EICAR_SHA, "--reason", "a\x07b"], "control")):
        p = fleet(box.ward, server, "except", "add", *args)
        assert p.returncode == 2 and why in p.stderr, (args, p.stderr)
    viewer = server.request("POST", "/api/v1/exceptions", {"exception": {"sha256": EICAR_SHA}},
                            token=None)
    assert viewer[0] == 401
    st, ans = server.post("/api/v1/exceptions", {"exception": {"sha256": EICAR_SHA},
                                                 "extra": 1}, token=server.admin)
    assert st == 400, ans


class ExceptionsFleet(HostileFleet):
    """A hostile fleet server whose check-in answers carry self.exc(n)."""

    def __init__(self, d):
        os.makedirs(str(d), exist_ok=True)
        super().__init__(d)
        self.exc = lambda n: None
        self.bodies = []
        base = self.httpd.RequestHandlerClass
        fleet = self

        class Handler(base):
            def reply(self, obj, status=200):
                if self.path == "/api/v1/checkin":
                    with fleet.lock:
                        n = fleet.checkins - 1
                    x = fleet.exc(n)
                    if x is not None:
                        obj["exceptions"] = x
                base.reply(self, obj, status)

            def do_POST(self):
                if self.path != "/api/v1/checkin":
                    return base.do_POST(self)
                # The report, kept; the base handler reads it again.
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with fleet.lock:
                    fleet.bodies.append(json.loads(body))
                real, self.rfile = self.rfile, io.BytesIO(body)
                try:
                    base.do_POST(self)
                finally:
                    self.rfile = real

        self.httpd.RequestHandlerClass = Handler

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


GOOD = {"revision": 5, "list": [{"id": 5, "sha256": EICAR_SHA, "by": "ops"}]}


@pytest.mark.parametrize("answer,why", [
    ({"revision": 6, "list": [{"id": 1, "sha256": EICAR_SHA, "extra": True}]}, "unknown key"),
    ({"revision": 6, "list": [{"id": 1, "sha256": EICAR_SHA[:-1]}]}, "64 hexadecimal"),
    ({"revision": 6, "list": [{"id": 1, "path": "/tmp/../etc/**"}]}, ".."),
    ({"revision": 6, "list": [{"id": 1, "sha256": EICAR_SHA}, {"id": 1, "rule": "R"}]},
     "given twice"),
    ({"revision": 6, "list": [{"sha256": EICAR_SHA}]}, '"id"'),
    ({"revision": 6, "list": [{"id": i + 1, "rule": "R%d" % i} for i in range(1025)]},
     "WARD_MAX_EXCEPTIONS"),
    ({"revision": 6, "list": [{"id": 1, "rule": "R" * 300}]}, "WARD_MAX_SIG_NAME"),
    ({"revision": 6, "list": [{"id": 1, "sha256": EICAR_SHA, "by": "\u001b[31mroot"}]},
     "control"),
    ({"revision": 6, "list": {"id": 1}}, "is a list"),
    ({"revision": 6, "list": [], "also": 1}, "unknown key"),
    ({"revision": "6", "list": []}, '"revision"'),
    ({"revision": -1, "list": []}, '"revision"'),
    # (exceptions that are not an object at all break the check-in answer's
    # own protocol: a failed check-in naming the field, the list in force
    # kept; see test_uplink_hostile.py::test_answer_outside_the_protocol_is_a_failed_checkin)
])
def test_hostile_server_lists_refused(box, tmp_path, answer, why):
    """A good list is taken; then each malformed one is refused whole: the
    good one stays in force, the refusal is journaled and reported (with
    its revision, so that a real server would not send it again), and the
    agent keeps protecting."""
    srv = ExceptionsFleet(tmp_path / "hostile")
    state = {"bad_from": None}

    def exc(n):
        return GOOD if state["bad_from"] is None or n < state["bad_from"] else answer

    srv.exc = exc
    try:
        a = box.agent(agent_server_lines(srv, "any-token", str(tmp_path / "ids" / "a")))
        a.wait_for(lambda s: s["exceptions"]["fleet_revision"] == 5, what="the good list")
        assert opens(box.target)
        with srv.lock:
            state["bad_from"] = srv.checkins + 1
        st = a.wait_for(lambda s: "fleet_refused" in s["exceptions"], what="the refusal")
        x = st["exceptions"]
        assert why in x["fleet_refused"], x
        assert x["fleet"] == 1 and x["fleet_revision"] == 5, x
        if isinstance(answer, dict) and answer.get("revision") == 6:
            assert x["fleet_refused_revision"] == 6
            wait(lambda: any(b.get("exceptions", {}).get("fleet_refused_revision") == 6
                             for b in srv.bodies[-3:]), what="the refusal in a report")
        ev = wait_events(a, "exceptions-refused")[-1]
        assert ev["event"]["kind"] == "alert" and why in ev["message"]
        assert "\x1b" not in a.agent("status").stdout
        # Still the good list, still protecting with it.
        assert opens(box.target)
        assert a.status()["mode"] == "protecting"
        assert len(events(a, "exceptions-refused")) <= 3, "a refusal said at every check-in"
    finally:
        srv.stop()


def test_hostile_server_cannot_except_trees_by_default(box, tmp_path):
    """A server that sends path and rule exceptions (everything under /,
    every rule) gets nothing taken: the agent takes SHA-256 exceptions
    only unless server.exceptions says all."""
    srv = ExceptionsFleet(tmp_path / "hostile")
    srv.exc = lambda n: {"revision": 9, "list": [
        {"id": 1, "path": "/**"}, {"id": 2, "rule": "EICAR_Test_File"},
        {"id": 3, "rule": "EICAR_Test_File_SHA256"}]}
    try:
        a = box.agent(agent_server_lines(srv, "any-token", str(tmp_path / "ids" / "a")))
        st = a.wait_for(lambda s: s["exceptions"]["fleet_revision"] == 9, what="the list read")
        assert st["exceptions"]["fleet"] == 0 and st["exceptions"]["fleet_not_taken"] == 3
        assert not opens(box.target)
        assert len(wait_events(a, "exception-not-taken", 3)) == 3
        # What the agent keeps of the list is checked again when it starts.
        a.stop()
        kept = os.path.join(a.state, "exceptions-fleet.json")
        assert json.load(open(kept))["revision"] == 9
        with open(kept, "w") as f:
            f.write('{"revision": 9, "list": [{"id": 1, "path": "/**"}], "x": 1}')
        srv.exc = lambda n: None
        a.start()
        st = a.status()["exceptions"]
        assert st["fleet"] == 0 and st["fleet_revision"] == 0, st
        assert "is dropped" in a.read_log()
        assert not opens(box.target)
    finally:
        srv.stop()
