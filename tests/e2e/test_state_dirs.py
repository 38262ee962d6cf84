"""
The directories ward keeps keys and state in, attacked by a second local
user (a user this test creates with useradd and removes at the end).

`ward-server init` used to write each file through a predictable
temporary name, DIR/NAME.tmp.PID, opened with O_TRUNC and without O_EXCL:
a user who could write in DIR and had made those names beforehand (files
of their own, or symbolic links) got ca.key as a world-readable file they
owned, or had root write it wherever the link pointed.  Now:

- init refuses a directory others can write in (or that another user
  owns, or that sits in a directory others can write in), saying which,
  its owner and mode and the command that fixes it, and writes nothing;
  none of the files the user planted is followed, written or removed;
- in a directory only root can write in, the user cannot plant anything,
  and ca.key and server.key are 0600, root's, unreadable by the user;
- init into a directory that already holds a server refuses, and leaves
  every file of it as it was;
- ward-server refuses to start with a data_dir (or a SQLite database
  directory) of another user or one writable by others; wardd refuses a state_dir or run_dir others can
  write in (exit 78, a clear message), and --check-config says so too.
"""

import grp
import hashlib
import json
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time

import pytest

from agentlib import Agent, Keys, wardd_path
from serverlib import Server, free_port, server_path

# The names the old init wrote through: NAME.tmp.PID for each file.
INIT_FILES = ("ca.crt", "ca.key", "server.crt", "server.key", "admin.token", "server.yaml")
PLANT_PIDS = 400  # pids after the newest one: init's own is among them

PLANT = r"""
import json, os, sys
plan = json.load(sys.stdin)
made = failed = 0
for kind, path, arg in plan:
    try:
        if kind == "file":
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            os.write(fd, arg.encode())
            os.fchmod(fd, 0o666)
            os.close(fd)
        elif kind == "link":
            os.symlink(arg, path)
        elif kind == "read":
            open(path, "rb").read()
        made += 1
    except OSError:
        failed += 1
print(json.dumps({"made": made, "failed": failed}))
"""


@pytest.fixture
def attacker():
    """A local user of the test's own: (name, uid, gid); removed afterwards."""
    name = "wardatk%s" % os.urandom(3).hex()
    p = subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "--user-group", name],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.returncode == 0, "useradd failed: " + p.stderr
    try:
        pw = pwd.getpwnam(name)
        yield name, pw.pw_uid, pw.pw_gid
    finally:
        subprocess.run(["userdel", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            grp.getgrnam(name)
            subprocess.run(["groupdel", name], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        except KeyError:
            pass
        with pytest.raises(KeyError):
            pwd.getpwnam(name)


@pytest.fixture
def shared():
    """A directory every user can enter (pytest's tmp_path is root's alone)."""
    d = tempfile.mkdtemp(prefix="ward-e2e-dirs-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def as_user(user, plan):
    """Runs the plan [(kind, path, arg)] as the user: {"made", "failed"}."""
    _, uid, gid = user
    p = subprocess.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups",
                        "--", "/usr/bin/python3", "-c", PLANT], input=json.dumps(plan),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def next_pids():
    with open("/proc/sys/kernel/ns_last_pid") as f:
        last = int(f.read())
    return range(last + 1, last + 1 + PLANT_PIDS)


def plant_plan(d, loot):
    """Files of the user's, mode 0666, under the names of the files init
    writes first (the old init wrote ca.key into such a file and renamed
    it into place: a CA key the user owned and could read); symbolic links
    to the user's loot file under the others, and under ca.key itself."""
    plan = []
    for pid in next_pids():
        for name in INIT_FILES:
            tmp = os.path.join(d, "%s.tmp.%d" % (name, pid))
            if name in ("ca.crt", "ca.key", "server.crt"):
                plan.append(("file", tmp, "planted\n"))
            else:
                plan.append(("link", tmp, loot))
    plan.append(("link", os.path.join(d, "ca.key"), loot))
    return plan


def snapshot(d):
    """{name: (uid, mode, symlink target or sha256 of the bytes)} of d."""
    out = {}
    for name in os.listdir(d):
        p = os.path.join(d, name)
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            what = "-> " + os.readlink(p)
        elif stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                what = hashlib.sha256(f.read()).hexdigest()
        else:
            what = "dir"
        out[name] = (st.st_uid, stat.S_IMODE(st.st_mode), st.st_ino, what)
    return out


def make_loot(user, shared):
    """A file of the user's where a followed link would have root write."""
    loot_dir = os.path.join(shared, "loot")
    os.mkdir(loot_dir, 0o755)
    loot = os.path.join(loot_dir, "loot")
    with open(loot, "w") as f:
        f.write("loot\n")
    os.chown(loot_dir, user[1], user[2])
    os.chown(loot, user[1], user[2])
    os.chmod(loot, 0o666)
    return loot


def init(d, *extra):
    return subprocess.run([server_path(), "init", "--dir", d, "--listen", "127.0.0.1:1"] +
                          list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=120)


def assert_nothing_written(d, before, loot):
    after = snapshot(d)
    assert after == before, "init changed what the user planted"
    for name in ("server.yaml", "ward.db", "admin.token"):
        assert not os.path.lexists(os.path.join(d, name))
    with open(loot) as f:
        assert f.read() == "loot\n", "a planted link was followed"


@pytest.mark.parametrize("how", ["mode-0777", "owned-by-user", "parent-writable"])
def test_init_refuses_a_directory_the_user_can_write(attacker, shared, how):
    loot = make_loot(attacker, shared)
    parent = os.path.join(shared, "parent")
    os.mkdir(parent, 0o755)
    d = os.path.join(parent, "srv")
    os.mkdir(d)
    if how == "mode-0777":
        os.chmod(d, 0o777)
        want = [d, "mode 0777", "chmod go-w '%s'" % d]
    elif how == "owned-by-user":
        os.chmod(d, 0o755)
        os.chown(d, attacker[1], attacker[2])
        want = [d, "owned by %s (uid %d)" % (attacker[0], attacker[1]), "chown root '%s'" % d]
    else:
        # root's own directory, 0700, but in one the user can write in: the
        # user could rename it away and put one of theirs in its place.
        os.chmod(d, 0o700)
        os.chmod(parent, 0o777)
        want = [d, "%s above it" % parent, "mode 0777", "chmod go-w '%s'" % parent]
        # What the user plants goes where they can write: the parent.
    target = d if how != "parent-writable" else parent
    got = as_user(attacker, plant_plan(target, loot))
    assert got["made"] == PLANT_PIDS * len(INIT_FILES) + 1, got
    before = snapshot(target)

    p = init(d)
    assert p.returncode != 0, p.stdout + p.stderr
    assert p.stdout == "", "a token was printed: " + p.stdout
    for w in want:
        assert w in p.stderr, (w, p.stderr)
    assert "refusing this directory" in p.stderr
    assert_nothing_written(target, before, loot)
    if how == "parent-writable":
        assert os.listdir(d) == []


def test_init_in_a_directory_only_root_can_write(attacker, shared):
    loot = make_loot(attacker, shared)
    d = os.path.join(shared, "srv")
    os.mkdir(d)
    os.chmod(d, 0o755)  # the user can look in, not write
    plan = plant_plan(d, loot)
    got = as_user(attacker, plan)
    assert got == {"made": 0, "failed": len(plan)}, "the user could plant: %s" % got

    p = init(d)
    assert p.returncode == 0, p.stderr
    token = p.stdout.strip()
    assert len(token) == 64
    names = sorted(os.listdir(d))
    assert names == sorted(["admin.token", "ca.crt", "ca.key", "server.crt", "server.key",
                            "server.yaml", "ward.db"]), names
    for name in ("ca.key", "server.key", "admin.token", "server.yaml", "ward.db"):
        st = os.lstat(os.path.join(d, name))
        assert stat.S_ISREG(st.st_mode) and st.st_nlink == 1, name
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o600), \
            "%s is %o, uid %d" % (name, stat.S_IMODE(st.st_mode), st.st_uid)
    # The user can read neither key nor the token.
    secrets = [os.path.join(d, n) for n in ("ca.key", "server.key", "admin.token")]
    got = as_user(attacker, [("read", s, None) for s in secrets])
    assert got == {"made": 0, "failed": 3}, got
    with open(os.path.join(d, "ca.key")) as f:
        assert "PRIVATE KEY" in f.read()
    with open(loot) as f:
        assert f.read() == "loot\n"


def test_init_dir_0777_is_refused(tmp_path):
    d = str(tmp_path / "srv")
    os.mkdir(d)
    os.chmod(d, 0o777)
    p = init(d)
    assert p.returncode != 0
    assert "ward-server: %s: refusing this directory" % d in p.stderr, p.stderr
    assert "owned by root (uid 0) with mode 0777" in p.stderr, p.stderr
    assert "chmod go-w '%s'" % d in p.stderr, p.stderr
    assert os.listdir(d) == []
    os.chmod(d, 0o700)  # fixed as the message says: init works
    p = init(d)
    assert p.returncode == 0, p.stderr


def test_init_never_overwrites_a_server(tmp_path):
    srv = Server(tmp_path / "s")
    before = snapshot(srv.d)
    p = init(srv.d)
    assert p.returncode == 1 and "refusing to overwrite a server" in p.stderr, p.stderr
    assert snapshot(srv.d) == before
    # What an init that failed half-way leaves (keys, no server.yaml) is
    # kept as well: its ca.key may already be in agents' hands as ca.crt.
    os.unlink(os.path.join(srv.d, "server.yaml"))
    before = snapshot(srv.d)
    p = init(srv.d)
    assert p.returncode == 1, p.stderr
    assert re.search(r"/(ca\.crt|ca\.key|server\.crt|server\.key|admin\.token|ward\.db) exists: "
                     r"refusing to overwrite", p.stderr), p.stderr
    assert snapshot(srv.d) == before


def run_server(srv, timeout=20):
    """Runs ward-server --config; it must exit by itself (refusing)."""
    proc = subprocess.Popen([server_path(), "--config", srv.config], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("ward-server started with an unsafe data_dir:\n" + err)
    return proc.returncode, err


def set_data_dir(srv, path):
    with open(srv.config) as f:
        text = f.read()
    text, n = re.subn(r'(?m)^data_dir: .*$', 'data_dir: "%s"' % path, text)
    assert n == 1
    with open(srv.config, "w") as f:
        f.write(text)


def test_server_refuses_a_data_dir_of_another_user(attacker, tmp_path):
    srv = Server(tmp_path / "s")
    data = str(tmp_path / "data")
    os.mkdir(data, 0o700)
    os.chown(data, attacker[1], attacker[2])
    set_data_dir(srv, data)
    rc, err = run_server(srv)
    assert rc == 1, err
    assert "data_dir %s: refusing this directory" % data in err, err
    assert "owned by %s (uid %d)" % (attacker[0], attacker[1]) in err, err
    assert "chown root '%s'" % data in err, err
    assert os.listdir(data) == []
    # Writable by others: refused too.
    os.chown(data, 0, 0)
    os.chmod(data, 0o777)
    rc, err = run_server(srv)
    assert rc == 1 and "mode 0777" in err, err
    # Fixed: it serves.
    os.chmod(data, 0o700)
    srv.start()
    try:
        assert srv.get("/api/v1/health")[0] == 200
    finally:
        srv.stop()


def test_server_refuses_a_database_directory_others_can_write(tmp_path):
    """SQLite opens the database and its -wal, -shm and -journal files by
    name: their directory must be the server user's alone too."""
    srv = Server(tmp_path / "s")
    dbdir = str(tmp_path / "db")
    os.mkdir(dbdir)
    os.chmod(dbdir, 0o777)
    with open(srv.config) as f:
        text = f.read()
    text, n = re.subn(r'(?m)^database: .*$', 'database: "sqlite:%s/ward.db"' % dbdir, text)
    assert n == 1
    with open(srv.config, "w") as f:
        f.write(text)
    rc, err = run_server(srv)
    assert rc == 1, err
    assert "database directory %s: refusing this directory" % dbdir in err, err
    assert "mode 0777" in err, err
    p = subprocess.run([server_path(), "token", "create", "--config", srv.config],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 1 and p.stdout == "", p.stdout + p.stderr
    assert "database directory %s" % dbdir in p.stderr, p.stderr
    assert os.listdir(dbdir) == []


@pytest.fixture
def trusted(ward, tmp_path):
    return Keys(ward, str(tmp_path / "keys")).make("release")[1]


def refused_start(a):
    a.start(wait=False)
    try:
        rc = a.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        a.stop()
        raise AssertionError("wardd started:\n" + a.read_log())
    a.stop()
    return rc, a.read_log()


def test_wardd_refuses_a_state_dir_others_can_write(ward, tmp_path, trusted):
    d = tmp_path / "agent"
    d.mkdir()
    a = Agent(ward, d, [trusted])
    os.mkdir(a.state)
    os.chmod(a.state, 0o777)
    rc, log = refused_start(a)
    assert rc == 78, log
    assert "wardd: state_dir %s: refusing this directory" % a.state in log, log
    assert "mode 0777" in log and "chmod go-w '%s'" % a.state in log, log
    assert os.listdir(a.state) == [], "wardd wrote in it"
    assert not os.path.exists(a.run_dir) or os.listdir(a.run_dir) == []
    # --check-config says the same, and exits 78.
    p = subprocess.run([wardd_path(), "--config", a.config, "--check-config"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 78 and "state_dir %s" % a.state in p.stderr, p.stderr
    # Fixed as the message says: it starts.
    os.chmod(a.state, 0o700)
    a.start()
    a.stop()


def test_wardd_refuses_a_run_dir_of_another_user(ward, tmp_path, trusted, attacker):
    d = tmp_path / "agent"
    d.mkdir()
    a = Agent(ward, d, [trusted])
    os.mkdir(a.run_dir, 0o700)
    os.chown(a.run_dir, attacker[1], attacker[2])
    rc, log = refused_start(a)
    assert rc == 78, log
    assert "wardd: run_dir %s: refusing this directory" % a.run_dir in log, log
    assert "owned by %s (uid %d)" % (attacker[0], attacker[1]) in log, log
    assert os.listdir(a.run_dir) == [], "wardd made its socket there"


def test_wardd_writes_no_output_where_others_can(ward, tmp_path, trusted):
    """outputs.ndjson.path in a directory another user can write: the
    agent runs, without that output, and says why (it would append to and
    rename files there as root); nothing is written there."""
    shared_dir = tmp_path / "logs"
    shared_dir.mkdir()
    os.chmod(shared_dir, 0o777)
    d = tmp_path / "agent"
    d.mkdir()
    a = Agent(ward, d, [trusted], extra=["outputs:", "  ndjson:",
                                          "    path: %s/events.ndjson" % shared_dir])
    a.start()
    try:
        a.wait_for(lambda st: st.get("mode") == "waiting", what="the agent")
        log = a.read_log()
        assert "outputs are off: outputs.ndjson.path" in log and "mode 0777" in log, log
        assert os.listdir(shared_dir) == []
    finally:
        a.stop()


def test_init_for_a_service_user(attacker, shared):
    """init --user, as the package's docs run it: the state is the service
    user's, the configuration root's and readable by the user's group, the
    server runs as that user, and root is told to act as it."""
    name, uid, gid = service = attacker
    etc = os.path.join(shared, "etc")
    os.mkdir(etc, 0o755)
    state = os.path.join(shared, "state")
    config = os.path.join(etc, "ward-server.yaml")
    port = free_port()
    args = [server_path(), "init", "--dir", state, "--config", config, "--user", name,
            "--listen", "127.0.0.1:%d" % port]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    admin = p.stdout.strip()
    st = os.stat(config)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, gid, 0o640)
    st = os.stat(state)
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (uid, 0o700)
    for f in ("ca.key", "server.key", "ward.db", "admin.token"):
        st = os.stat(os.path.join(state, f))
        assert (st.st_uid, stat.S_IMODE(st.st_mode) & 0o077) == (uid, 0), f
    assert not os.path.exists(os.path.join(state, "server.yaml"))
    with open(os.path.join(state, "admin.token")) as f:
        assert f.read() == admin
    # Root is refused the user's database, and told how to act.
    p = subprocess.run([server_path(), "token", "create", "--config", config],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 1 and "runuser -u %s -- ward-server" % name in p.stderr, p.stderr
    asuser = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups", "--"]
    p = subprocess.run(asuser + [server_path(), "token", "create", "--config", config],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 0 and re.fullmatch(r"[0-9a-f]{64}\n", p.stdout), p.stderr
    # It serves as the user, from the configuration root keeps.
    proc = subprocess.Popen(asuser + [server_path(), "--config", config],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 20
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline, "ward-server did not listen"
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    # A second init touches nothing.
    before = snapshot(state), open(config).read()
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=120)
    assert p.returncode == 1 and "refusing to overwrite" in p.stderr, p.stderr
    assert (snapshot(state), open(config).read()) == before
    # --user is root's: as anyone else it is a usage error.
    p = subprocess.run(asuser + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=60)
    assert p.returncode == 2 and "init --user needs root" in p.stderr, p.stderr


def test_init_for_a_service_user_checks_before_it_makes(attacker, shared):
    """Nothing is made (and nothing given to the user) when the state
    directory's parent could be changed by others, or when the
    configuration's directory is missing: init's checks come first."""
    name = attacker[0]
    open_dir = os.path.join(shared, "open")
    os.mkdir(open_dir)
    os.chmod(open_dir, 0o777)
    etc = os.path.join(shared, "etc")
    os.mkdir(etc, 0o755)
    p = init(os.path.join(open_dir, "state"), "--user", name, "--config",
             os.path.join(etc, "s.yaml"))
    assert p.returncode == 1 and "state directory's parent" in p.stderr, p.stderr
    assert os.listdir(open_dir) == [] and os.listdir(etc) == []
    assert p.stdout == "", "no admin token for a server that was not made"
    p = init(os.path.join(shared, "state"), "--user", name, "--config",
             os.path.join(shared, "missing", "s.yaml"))
    assert p.returncode == 1 and "configuration directory" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(shared, "state")) and p.stdout == ""
