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
import signal
import subprocess
import sys
import threading
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


# --- no blind windows: a policy applied again, a worker restarted --------------------------


def own_agent(ward, tmp_path, paths, fault=False, env=None):
    """An agent whose content has no FIM policy: only paths are watched."""
    keys = Keys(ward, str(tmp_path / "keys"))
    rel = keys.make("release")
    v1 = str(tmp_path / "v1.wbundle")
    with open(v1, "wb") as f:
        f.write(crafted(1, rel, str(tmp_path)))
    d = tmp_path / "agent"
    d.mkdir()
    a = Agent(ward, d, [rel[1]], fault=fault, extra=["fim:", "  paths: [%s]" % ", ".join(paths),
                                                      "  rate_limit: 0"], env=env)
    a.rel = rel
    a.start()
    try:
        assert a.apply(v1).returncode == 0
        a.wait_for(lambda s: s["sensors"]["fim"].get("counters", {}).get("dirs", 0) >= 1,
                   what="the FIM sensor watching the tree")
    except BaseException:
        a.stop()
        raise
    return a


def fim_policy_bundle(rel, tmp, version, paths):
    """Content version `version` whose FIM policy watches paths (none: no policy)."""
    from agentlib import EICAR, EICAR_RULE, assemble, key_id, manifest_for, openssl_sign
    files = [("rules/r.yar", "yara", EICAR_RULE), ("tests/eicar.com", "sample", EICAR)]
    if paths:
        files.append(("fim/policy.json", "fim", json.dumps({"paths": paths}).encode()))
    m = json.dumps(manifest_for(files, version, [("tests/eicar.com", ["EICAR_Test_File"])]))
    m = m.encode()
    sig = (1, key_id(rel[1]), openssl_sign(rel[0], m, str(tmp)))
    out = str(tmp / ("fim-v%d.wbundle" % version))
    with open(out, "wb") as f:
        f.write(assemble(m, [b for _, _, b in files], [sig]))
    return out


def count_fim(events, action, path):
    return sum(1 for e in events if e["event"]["action"] == action and e["file"]["path"] == path)


def test_a_policy_applied_again_loses_and_doubles_nothing(ward, tmp_path):
    """Each reload and each content update applies the FIM policy again
    (here they alternate, each adding or removing a second tree).  The
    fault build pauses the sensor as it marks the watched directory anew;
    a file made and a file written during that pause are each reported
    exactly once — the old marks stay until the new ones are in place, and
    one group reports each change once."""
    if os.geteuid() != 0:
        pytest.fail("the FIM tests run as root", pytrace=False)
    watched, other = tmp_path / "watched", tmp_path / "other"
    watched.mkdir()
    other.mkdir()
    conf = watched / "app.conf"
    conf.write_text("v0\n")
    flag = tmp_path / "stalled"
    a = own_agent(ward, tmp_path, [str(watched)], fault=True,
                  env={"WARD_FAULT_FIM_STALL_DIR": "watched", "WARD_FAULT_FIM_STALL_MS": "400",
                       "WARD_FAULT_FIM_STALL_FLAG": str(flag)})
    try:
        rounds = 8
        applying = []
        for i in range(rounds):
            if flag.exists():
                flag.unlink()
            if i % 2 == 0:  # a reload of wardd.yaml
                paths = [str(watched)] + ([str(other)] if i % 4 == 0 else [])
                lines = open(a.config).read().splitlines()[:4]
                with open(a.config, "w") as f:
                    f.write("\n".join(lines + ["fim:", "  paths: [%s]" % ", ".join(paths),
                                               "  rate_limit: 0"]) + "\n")
                os.kill(a.proc.pid, signal.SIGHUP)
            else:  # a content update (applied while the test goes on)
                v = fim_policy_bundle(a.rel, tmp_path, i + 1,
                                      [str(tmp_path / "from-content")] if i % 4 == 1 else [])
                (tmp_path / "from-content").mkdir(exist_ok=True)
                t = threading.Thread(target=lambda v=v: applying.append(a.apply(v)))
                t.start()
            end = time.time() + 10
            while not flag.exists():
                assert time.time() < end, "the sensor did not apply the policy again:\n" + \
                    a.read_log()
                time.sleep(0.005)
            # The sensor is between the old policy and the new one now.
            (watched / ("f%d" % i)).write_text("x")
            with open(conf, "a") as f:
                f.write("v%d\n" % (i + 1))
            wait_fim(a, lambda e: e["file"]["path"] == str(watched / ("f%d" % i)), timeout=5,
                     what="the file made during round %d" % i)
            wait_fim(a, lambda e: e["event"]["action"] == "file-modified" and
                     e["file"]["path"] == str(conf) and
                     e["file"].get("size") == len("".join("v%d\n" % k for k in range(i + 2))),
                     timeout=5, what="the write made during round %d" % i)
            if i % 2 == 1:
                t.join()
                assert applying[-1].returncode == 0, applying[-1].stderr
        time.sleep(1.0)  # anything said twice would be by now
        evs = fim_events(a)
        for i in range(rounds):
            assert count_fim(evs, "file-created", str(watched / ("f%d" % i))) == 1, evs
        assert count_fim(evs, "file-modified", str(conf)) == rounds, evs
        assert not [e for _, e in read_journal(a.state)
                    if e["event"]["action"] == "fim-events-lost"]
    finally:
        a.stop()


def kill_worker_held(a, while_down):
    """SIGKILLs the worker with the supervisor held (no worker runs), calls
    while_down(), lets the supervisor go and waits for a new worker's FIM."""
    old = a.worker_pid()
    os.kill(a.proc.pid, signal.SIGSTOP)
    try:
        os.kill(old, signal.SIGKILL)
        end = time.time() + 10
        while True:  # dead: a zombie of the held supervisor
            try:
                with open("/proc/%d/stat" % old) as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        break
            except FileNotFoundError:
                break
            assert time.time() < end, "the worker did not die"
            time.sleep(0.01)
        while_down()
    finally:
        os.kill(a.proc.pid, signal.SIGCONT)
    a.wait_for(lambda s: s.get("pid") not in (None, old) and
               s["sensors"]["fim"].get("counters", {}).get("dirs", 0) >= 1,
               what="a new worker watching the tree")


def catch_up_done(a):
    """What the FIM sensor's status says its catch-up did, once done."""
    s = a.wait_for(lambda s: s["sensors"]["fim"].get("catch_up", {}).get("state") == "done",
                   what="the FIM catch-up done")
    return s["sensors"]["fim"]["catch_up"]


def test_changes_made_while_the_worker_is_down_are_reported_on_start(ward, tmp_path):
    """The worker is killed (SIGKILL) and, while the supervisor is held
    (so that no worker runs), watched files are created, written, chmod-ed
    and deleted, a directory tree removed and another made.  The next
    worker reports each change once, marked as found on start; what did not
    change is not reported; live reporting goes on."""
    if os.geteuid() != 0:
        pytest.fail("the FIM tests run as root", pytrace=False)
    w = tmp_path / "watched"
    (w / "sub").mkdir(parents=True)
    for name in ("keep.conf", "mod.conf", "del.conf", "attr.conf", "sub/inner"):
        (w / name).write_text("original\n")
    a = own_agent(ward, tmp_path, [str(w)])
    try:
        # A first start: no state from a last worker, nothing caught up on.
        cu = catch_up_done(a)
        assert cu["previous"] is False and cu["known"] == 0, cu
        assert cu["checked"] == 0 and cu["reported"] == 0, cu
        # A change reported live goes into the state: not reported again.
        (w / "live.conf").write_text("live\n")
        wait_fim(a, lambda e: e["file"]["path"] == str(w / "live.conf"), what="a live change")
        n0 = len(fim_events(a))

        def changes():
            with open(w / "mod.conf", "a") as f:
                f.write("changed\n")
            os.unlink(w / "del.conf")
            os.chmod(w / "attr.conf", 0o600)
            os.unlink(w / "sub" / "inner")
            os.rmdir(w / "sub")
            (w / "new.conf").write_text("new\n")
            (w / "newdir").mkdir()
            (w / "newdir" / "x").write_text("x\n")
        kill_worker_held(a, changes)
        want = [("file-modified", "mod.conf"), ("file-deleted", "del.conf"),
                ("file-attributes-changed", "attr.conf"), ("file-deleted", "sub/inner"),
                ("file-deleted", "sub"), ("file-created", "new.conf"),
                ("file-created", "newdir"), ("file-created", "newdir/x")]
        for action, name in want:
            wait_fim(a, lambda e, action=action, name=name: e["event"]["action"] == action and
                     e["file"]["path"] == str(w / name), timeout=10,
                     what="%s of %s made while no worker ran" % (action, name))
        time.sleep(1.0)  # anything said twice would be by now
        after = fim_events(a)[n0:]
        for action, name in want:
            found = [e for e in after if e["event"]["action"] == action and
                     e["file"]["path"] == str(w / name)]
            assert len(found) == 1, (action, name, after)
            assert found[0]["ward"]["fim"]["detected"] == "on-start", found[0]
        ev = [e for e in after if e["file"]["path"] == str(w / "mod.conf")][0]
        import hashlib
        assert ev["file"]["hash"]["sha256"] == \
            hashlib.sha256(b"original\nchanged\n").hexdigest()
        said = sorted(e["file"]["path"] for e in after)
        assert said == sorted(str(w / name) for _, name in want), after
        # The status says what the catch-up did: the 8 files the last
        # worker knew (the tree, sub, sub/inner, keep, mod, del, attr and
        # live), the 8 found that it watched (the tree, keep, mod, attr,
        # live, new.conf, newdir, newdir/x) compared, each change reported.
        cu = catch_up_done(a)
        assert cu["previous"] is True, cu
        assert cu["known"] == 8 and cu["checked"] == 8, cu
        assert cu["reported"] == len(want), cu
        assert 0 <= cu["ms"] < 10000, cu
        text = a.agent("status")
        assert text.returncode == 0, text.stderr
        assert ("fim catch-up:    done in %d ms; 8 files compared with the 8 the last worker "
                "knew, %d changes reported" % (cu["ms"], len(want))) in text.stdout, text.stdout
        # Live reporting goes on, without the mark.
        with open(w / "keep.conf", "a") as f:
            f.write("later\n")
        ev = wait_fim(a, lambda e: e["file"]["path"] == str(w / "keep.conf"),
                      what="a live change after the restart")
        assert "detected" not in ev.get("ward", {}).get("fim", {}), ev
    finally:
        a.stop()


def test_a_damaged_state_file_is_said_and_replaced(ward, tmp_path):
    """The state kept for the catch-up, found damaged (random bytes, as a
    disk error or a hostile write would leave it): the log says it is not
    usable, the start reports nothing made up, the sensor runs and writes a
    good state, and the next restart catches up again."""
    if os.geteuid() != 0:
        pytest.fail("the FIM tests run as root", pytrace=False)
    w = tmp_path / "watched"
    w.mkdir()
    (w / "a.conf").write_text("a\n")
    a = own_agent(ward, tmp_path, [str(w)])
    try:
        state = os.path.join(a.state, "fim.state")
        assert os.stat(state).st_mode & 0o777 == 0o600
        n0 = len(fim_events(a))

        def damage():
            with open(state, "wb") as f:
                f.write(b"\xff" * 8 + os.urandom(4096))
        kill_worker_held(a, damage)
        end = time.time() + 10
        while "fim: its state from before is not usable" not in a.read_log():
            assert time.time() < end, a.read_log()
            time.sleep(0.05)
        # Nothing to compare with: the status says so, and nothing made up.
        cu = catch_up_done(a)
        assert cu["previous"] is False and cu["reported"] == 0, cu
        (w / "live.conf").write_text("x")
        wait_fim(a, lambda e: e["file"]["path"] == str(w / "live.conf"), what="a live change")
        assert [e["file"]["path"] for e in fim_events(a)[n0:]] == [str(w / "live.conf")]
        with open(state, "rb") as f:
            assert f.read(8) != b"\xff" * 8, "the damaged state was not replaced"
        n1 = len(fim_events(a))
        kill_worker_held(a, lambda: (w / "a.conf").write_text("changed\n"))
        ev = wait_fim(a, lambda e: e["file"]["path"] == str(w / "a.conf"), timeout=10,
                      what="the change caught up on after the state was replaced")
        assert ev["event"]["action"] == "file-modified"
        assert ev["ward"]["fim"]["detected"] == "on-start"
        time.sleep(0.5)
        assert len(fim_events(a)[n1:]) == 1, fim_events(a)[n1:]
        cu = catch_up_done(a)
        assert cu["previous"] is True and cu["reported"] == 1, cu
    finally:
        a.stop()
