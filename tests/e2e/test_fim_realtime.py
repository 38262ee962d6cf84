"""
Real-time file integrity monitoring in wardd (fanotify FID events): what
a user of FIM checks — each kind of change is reported within 2 s with the
pid and executable of the process that made it, exclusions and the rate
limit hold, package-manager changes are tagged and lowered, a policy in
the content is applied.  The watched trees are directories of the test's
own (notification marks only: nothing can block on them).
"""

import json
import os
import subprocess
import sys
import time

import pytest

from agentlib import DEFAULT_SRC, Agent, Keys, crafted, read_journal

FIM_ACTIONS = ("file-created", "file-modified", "file-deleted", "file-renamed",
               "file-attributes-changed")


@pytest.fixture
def fimbox(ward, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the FIM tests run as root (make check runs them so)", pytrace=False)
    keys = Keys(ward, str(tmp_path / "keys"))
    rel = keys.make("release")
    v1 = str(tmp_path / "v1.wbundle")
    assert ward.run("content", "build", DEFAULT_SRC, "-o", v1).returncode == 0
    assert ward.run("content", "sign", v1, "--key", rel[0]).returncode == 0
    watched = tmp_path / "watched"
    (watched / "etc").mkdir(parents=True)
    (watched / "etc" / "app.conf").write_text("port=80\n")
    agents = []

    class Box:
        pass

    b = Box()
    b.tmp, b.ward, b.rel, b.root = tmp_path, ward, rel, str(watched)

    def agent(extra=()):
        d = tmp_path / ("agent%d" % len(agents))
        d.mkdir()
        lines = ["fim:", "  paths: [%s]" % b.root] + list(extra)
        a = Agent(ward, d, [rel[1]], extra=lines)
        agents.append(a)
        a.start()
        assert a.apply(v1).returncode == 0
        a.wait_for(lambda s: s["sensors"]["fim"].get("counters", {}).get("dirs", 0) >= 2,
                   what="the FIM sensor watching the tree")
        return a

    b.agent = agent
    yield b
    for a in agents:
        a.stop()


def fim_events(a):
    return [e for _, e in read_journal(a.state) if e["event"]["action"] in FIM_ACTIONS]


def wait_fim(a, pred, timeout=2.0, what="event"):
    """The first FIM event pred accepts, waiting at most timeout s (the
    issue's bound for real-time reporting)."""
    end = time.time() + timeout
    while True:
        for e in fim_events(a):
            if pred(e):
                return e
        if time.time() > end:
            raise AssertionError("no %s within %.1f s; FIM events: %s\nlog:\n%s" % (
                what, timeout, json.dumps(fim_events(a), indent=1), a.read_log()))
        time.sleep(0.05)


def run_py(code):
    """Runs code in a child process; returns its pid and executable."""
    p = subprocess.run([sys.executable, "-c", code + "\nimport os; print(os.getpid())"],
                       stdout=subprocess.PIPE, check=True)
    return int(p.stdout), os.path.realpath(sys.executable)


def test_changes_reported_with_the_writer(fimbox):
    a = fimbox.agent()
    etc = os.path.join(fimbox.root, "etc")
    new = os.path.join(etc, "new.conf")
    pid, exe = run_py("open(%r, 'w').write('a=1\\n')" % new)
    ev = wait_fim(a, lambda e: e["event"]["action"] == "file-created" and
                  e["file"]["path"] == new, what="creation")
    assert ev["process"]["pid"] == pid and ev["process"]["executable"] == exe
    assert ev["event"]["kind"] == "alert" and ev["event"]["type"] == ["creation"]
    assert ev["file"]["type"] == "file" and ev["file"]["size"] == 4
    import hashlib
    assert ev["file"]["hash"]["sha256"] == hashlib.sha256(b"a=1\n").hexdigest()

    conf = os.path.join(etc, "app.conf")
    pid, exe = run_py("open(%r, 'a').write('debug=1\\n')" % conf)
    ev = wait_fim(a, lambda e: e["event"]["action"] == "file-modified" and
                  e["file"]["path"] == conf, what="modification")
    assert ev["process"]["pid"] == pid and ev["process"]["executable"] == exe
    assert ev["file"]["hash"]["sha256"] == hashlib.sha256(b"port=80\ndebug=1\n").hexdigest()

    pid, _ = run_py("import os; os.chmod(%r, 0o600)" % conf)
    ev = wait_fim(a, lambda e: e["event"]["action"] == "file-attributes-changed" and
                  e["file"]["path"] == conf, what="chmod")
    assert ev["process"]["pid"] == pid and ev["file"]["mode"] == "0600"

    moved = os.path.join(etc, "app.conf.old")
    pid, _ = run_py("import os; os.rename(%r, %r)" % (conf, moved))
    ev = wait_fim(a, lambda e: e["event"]["action"] == "file-renamed", what="rename")
    assert ev["file"]["path"] == moved and ev["ward"]["fim"]["previous_path"] == conf
    assert ev["process"]["pid"] == pid

    pid, _ = run_py("import os; os.unlink(%r)" % moved)
    ev = wait_fim(a, lambda e: e["event"]["action"] == "file-deleted" and
                  e["file"]["path"] == moved, what="deletion")
    assert ev["process"]["pid"] == pid and ev["event"]["type"] == ["deletion"]

    st = a.status()["sensors"]["fim"]
    assert st["state"] == "on" and st["counters"]["reported"] >= 5


def test_new_directories_are_watched(fimbox):
    a = fimbox.agent()
    deep = os.path.join(fimbox.root, "etc", "d1", "d2")
    os.makedirs(deep)
    with open(os.path.join(deep, "early"), "w") as f:
        f.write("x")
    wait_fim(a, lambda e: e["file"]["path"] == os.path.join(deep, "early"),
             what="a file made in a new directory")
    time.sleep(0.2)
    later = os.path.join(deep, "later")
    with open(later, "w") as f:
        f.write("y")
    wait_fim(a, lambda e: e["file"]["path"] == later and e["event"]["action"] == "file-created",
             what="a file made in a marked new directory")
    # A directory moved out of the tree is no longer watched.
    outside = os.path.join(str(fimbox.tmp), "outside")
    os.rename(os.path.join(fimbox.root, "etc", "d1"), outside)
    wait_fim(a, lambda e: e["event"]["action"] == "file-deleted" and
             e["file"]["path"] == os.path.join(fimbox.root, "etc", "d1"), what="move-out")
    n = len(fim_events(a))
    with open(os.path.join(outside, "d2", "unwatched"), "w") as f:
        f.write("z")
    time.sleep(1.0)
    assert [e["file"]["path"] for e in fim_events(a)[n:]] == []


def test_exclusions_and_rate_limit(fimbox):
    a = fimbox.agent(["  exclude: ['*.swp']", "  rate_limit: 3"])
    etc = os.path.join(fimbox.root, "etc")
    with open(os.path.join(etc, ".app.conf.swp"), "w") as f:
        f.write("editor state")
    busy = os.path.join(etc, "busy.log")
    open(busy, "w").close()
    for i in range(10):  # spaced: the kernel merges changes queued together
        with open(busy, "a") as f:
            f.write("line %d\n" % i)
        time.sleep(0.1)
    marker = os.path.join(etc, "marker")
    open(marker, "w").close()
    wait_fim(a, lambda e: e["file"]["path"] == marker, what="the marker")
    paths = [e["file"]["path"] for e in fim_events(a)]
    assert not any(p.endswith(".swp") for p in paths), paths
    assert paths.count(busy) == 3, paths
    assert a.status()["sensors"]["fim"]["counters"]["suppressed"] >= 5


def test_package_manager_changes_tagged(fimbox, tmp_path):
    """Changes made by dpkg (or a child of it) are tagged and, with the
    default fim.package_manager: info, are events rather than alerts."""
    a = fimbox.agent()
    # A program named dpkg (its comm), whose child makes the change.
    fake = tmp_path / "bin" / "dpkg"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nsh -c 'echo pkg > \"$1\"' child \"$1\"\n")
    fake.chmod(0o755)
    target = os.path.join(fimbox.root, "etc", "pkg.conf")
    subprocess.run([str(fake), target], check=True)
    ev = wait_fim(a, lambda e: e["file"]["path"] == target, what="the package's change")
    assert ev["ward"]["fim"]["package_manager"] == "dpkg"
    assert ev["event"]["kind"] == "event"
    # Anyone else's change is an alert.
    other = os.path.join(fimbox.root, "etc", "manual.conf")
    with open(other, "w") as f:
        f.write("x")
    ev = wait_fim(a, lambda e: e["file"]["path"] == other, what="a manual change")
    assert ev["event"]["kind"] == "alert" and "fim" not in ev.get("ward", {})


def test_policy_from_content(fimbox, tmp_path):
    """A "fim" member of the content adds paths to watch."""
    extra = tmp_path / "from-content"
    extra.mkdir()
    a = fimbox.agent()
    policy = json.dumps({"paths": [str(extra)], "exclude": ["*.tmp"]}).encode()
    import hashlib
    from agentlib import EICAR, EICAR_RULE, assemble, key_id, manifest_for, openssl_sign
    files = [("rules/r.yar", "yara", EICAR_RULE), ("fim/policy.json", "fim", policy),
             ("tests/eicar.com", "sample", EICAR)]
    m = json.dumps(manifest_for(files, 2, [("tests/eicar.com", ["EICAR_Test_File"])])).encode()
    sig = (1, key_id(fimbox.rel[1]), openssl_sign(fimbox.rel[0], m, str(tmp_path)))
    v2 = str(tmp_path / "v2.wbundle")
    with open(v2, "wb") as f:
        f.write(assemble(m, [b for _, _, b in files], [sig]))
    p = a.apply(v2)
    assert p.returncode == 0, p.stdout + p.stderr
    time.sleep(0.5)
    target = extra / "watched-by-content"
    target.write_text("x")
    (extra / "skip.tmp").write_text("x")
    wait_fim(a, lambda e: e["file"]["path"] == str(target), what="a change under the content's path")
    assert not any(e["file"]["path"].endswith(".tmp") for e in fim_events(a))
    # A broken policy is refused like broken rules, and the old one stays.
    bad = json.dumps({"paths": ["relative/path"]}).encode()
    files[1] = ("fim/policy.json", "fim", bad)
    m = json.dumps(manifest_for(files, 3, [("tests/eicar.com", ["EICAR_Test_File"])])).encode()
    sig = (1, key_id(fimbox.rel[1]), openssl_sign(fimbox.rel[0], m, str(tmp_path)))
    v3 = str(tmp_path / "v3.wbundle")
    with open(v3, "wb") as f:
        f.write(assemble(m, [b for _, _, b in files], [sig]))
    p = a.apply(v3)
    assert p.returncode != 0 and "relative/path" in p.stderr, p.stderr
    assert a.status()["content"]["current"]["version"] == 2


def test_sensor_states_partial_watch(fimbox, tmp_path):
    a = fimbox.agent(["  max_dirs: 2"])
    os.makedirs(os.path.join(fimbox.root, "etc", "x", "y"))
    st = a.wait_for(lambda s: "partial" in s["sensors"]["fim"], what="a partial watch said")
    assert "fim.max_dirs" in st["sensors"]["fim"]["partial"]
