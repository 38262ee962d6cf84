"""
The Debian packages as an operator gets them: installed with apt on a clean
Debian 12 tree, run as their units run them, upgraded, removed and purged.

The .deb files are `make deb`'s, in $WARD_DEB_DIR (default
<repo>/dist/amd64).  The tree is pkgtree's: mmdebstrap --variant=apt (the
Essential packages and apt, nothing ward needs), so apt installing the
.deb files proves their dependencies complete (systemd comes in as
ward-server's, for systemd-sysusers).  systemd-sysv and dbus are added
only after that, to boot the tree with `systemd-nspawn --boot`: nspawn
boots the tree's own systemd in a container whether or not the host runs
systemd (the machine this was written on does not), and the test starts the
real units with systemctl, so their sandboxing, capability sets and User=
are what runs.

Steps, each timed on stdout (`pytest -s`):
 1. install ward, wardd, ward-server with apt (no systemd in the tree);
    the files where docs/install.md says;
    `ward --version`, `wardd --check-config` on the shipped example
    config, `ward scan` of an EICAR file with the shipped default content;
 2. add systemd-sysv and boot; `systemd-analyze verify` of each installed
    unit and `systemd-analyze security` of the two services (printed);
    neither service runs on its own (wardd is not enabled; ward-server has no
    configuration);
 3. `ward-server init` as the package documents it, `systemctl start
    ward-server`; an agent enrolls (`systemctl start wardd`) with a token,
    gets a release published on the server, scans with it, and denies
    executing the EICAR file on a mount it watches on access; `ward-sim
    --self-contained` rehearses a faulty release with the installed programs;
 4. the service user, the state directory and the configuration files:
    owners and modes;
 5. upgrade to a newer build (the same packages with a higher version):
    the edited conffile, the server's configuration, keys and database,
    the agent's enrollment and its active content are all kept, and both
    daemons are restarted on the new programs and run from them;
 6. apt-get remove: binaries gone, configuration and state kept;
    apt-get purge: nothing of ward's left but what Debian leaves (listed).
"""

import glob
import json
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import EICAR, REPO
from pkgtree import Tree, base_tarball, cache_dir, mounts_under

PACKAGES = ("ward", "wardd", "ward-server")
# Where each package puts what an operator looks for (docs/install.md).
LAYOUT = {
    "ward": ["/usr/bin/ward", "/usr/share/man/man1/ward.1.gz",
             "/usr/share/bash-completion/completions/ward",
             "/usr/share/zsh/vendor-completions/_ward"],
    "wardd": ["/usr/sbin/wardd", "/lib/systemd/system/wardd.service", "/etc/ward/wardd.yaml",
              "/usr/share/ward/content/default/bundle.json", "/usr/share/man/man8/wardd.8.gz",
              "/usr/share/man/man5/wardd.yaml.5.gz"],
    "ward-server": ["/usr/sbin/ward-server", "/usr/bin/ward-sim",
                    "/lib/systemd/system/ward-server.service",
                    "/usr/lib/sysusers.d/ward-server.conf", "/usr/share/man/man8/ward-server.8.gz",
                    "/usr/share/man/man5/ward-server.yaml.5.gz",
                    "/usr/share/man/man1/ward-sim.1.gz"],
}
UNITS = ("wardd.service", "ward-server.service")
SERVER_YAML = "/etc/ward-server/ward-server.yaml"
SERVER_DIR = "/var/lib/ward-server"
WARDD_YAML = "/etc/ward/wardd.yaml"
SERVER_USER = "_ward-server"
PORT = 8443
T = "/root/pkgtest"  # the test's own files in the tree
ONACCESS = "/srv/onaccess"  # a tmpfs the agent watches on access

# The rollout plan of the test's release: one ring, a second's soak.
PLAN = {"rings": [{"name": "all", "percent": 100, "soak_s": 1}],
        "gate": {"silent_checkins": 1}}


def log(msg):
    print("[packages] %s" % msg, flush=True)


class Step:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.t0 = time.time()
        log(self.name + " ...")

    def __exit__(self, *exc):
        log("%s: %.1f s" % (self.name, time.time() - self.t0))


def deb_files():
    d = os.environ.get("WARD_DEB_DIR") or os.path.join(REPO, "dist", "amd64")
    debs = {}
    for pkg in PACKAGES:
        found = sorted(glob.glob(os.path.join(d, "%s_*.deb" % pkg)))
        if not found:
            pytest.fail("no %s_*.deb in %s: build the packages first (make deb) or set "
                        "WARD_DEB_DIR" % (pkg, d), pytrace=False)
        assert len(found) == 1, "more than one %s package in %s: %s" % (pkg, d, found)
        debs[pkg] = found[0]
    return debs


def deb_field(deb, field):
    return subprocess.run(["dpkg-deb", "-f", deb, field], stdout=subprocess.PIPE,
                          text=True, check=True).stdout.strip()


def repack_newer(debs, outdir):
    """The same packages with a higher version, as a newer build would be.

    For dpkg and the maintainer scripts this is an upgrade like any other:
    dpkg chooses the upgrade path (prerm upgrade NEW, preinst upgrade OLD,
    unpack, conffile merge, postrm upgrade NEW, postinst configure OLD)
    from the versions alone, and the scripts dh generated see the same
    arguments as for a rebuilt package.  The files are unchanged, which is
    the common case of a conffile: unchanged in the package, edited by the
    operator, so dpkg must keep the edit without asking.  The inter-package
    dependencies (wardd on ward (= VERSION), say) move with the version."""
    old = deb_field(debs["ward"], "Version")
    new = old + "+pkgtest1"
    out = {}
    for pkg, deb in debs.items():
        assert deb_field(deb, "Version") == old, "the three packages differ in version"
        work = os.path.join(outdir, pkg)
        subprocess.run(["dpkg-deb", "-R", deb, work], check=True)
        control = os.path.join(work, "DEBIAN", "control")
        text = open(control).read()
        text = re.sub(r"(?m)^Version: .*$", "Version: " + new, text)
        text = text.replace("(= %s)" % old, "(= %s)" % new)
        open(control, "w").write(text)
        arch = deb_field(deb, "Architecture")
        out[pkg] = os.path.join(outdir, "%s_%s_%s.deb" % (pkg, new, arch))
        subprocess.run(["dpkg-deb", "--root-owner-group", "-b", work, out[pkg]], check=True,
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(work)
    return old, new, out


def stat_of(tree, path):
    """(owner, group, octal mode) of path in the tree, or None."""
    p = tree.run("stat", "-c", "%U %G %a", path, check=False)
    if p.returncode != 0:
        return None
    u, g, m = p.stdout.split()
    return u, g, int(m, 8)


def set_yaml_keys(text, values):
    """text with each top-level key of values replaced (or added) by the
    given YAML lines."""
    lines = text.splitlines()
    for key, new in values.items():
        out, skip, done = [], False, False
        for line in lines:
            if re.match(r"^%s\s*:" % re.escape(key), line):
                out += new
                skip, done = True, True
                continue
            if skip and (line.startswith((" ", "\t", "-")) or not line.strip()):
                continue
            skip = False
            out.append(line)
        if not done:
            out += new
        lines = out
    return "\n".join(lines) + "\n"


def set_section_key(text, section, key, value):
    """text with `section:`'s `  key:` line set to value."""
    lines, cur, n = text.splitlines(), None, 0
    for i, line in enumerate(lines):
        if line and not line.startswith((" ", "#")):
            cur = line.split(":")[0]
        elif cur == section and re.match(r"^  %s\s*:" % re.escape(key), line):
            lines[i] = "  %s: %s" % (key, value)
            n += 1
    assert n == 1, "%s.%s not found once in:\n%s" % (section, key, text)
    return "\n".join(lines) + "\n"


def installed_files(tree):
    """The files dpkg lists for each of the packages."""
    out = {}
    for pkg in PACKAGES:
        out[pkg] = tree.run("dpkg-query", "-L", pkg).stdout.split()
    return out


def wards_left(tree):
    """Every path in the tree outside dpkg's and apt's own records whose
    name says ward, and the passwd/group lines of the service user."""
    p = tree.sh("find / -xdev \\( -path /proc -o -path /sys -o -path /dev "
                "-o -path /var/cache/apt \\) -prune -o -iname '*ward*' -print")
    paths = sorted(l for l in p.stdout.splitlines() if l and not l.startswith(T + "/"))
    for d in [p for p in paths if os.path.isdir(tree.path(p))]:
        paths += tree.run("find", d, "-mindepth", "1").stdout.split()
    paths = sorted(set(paths))
    users = tree.sh("grep -h '%s' /etc/passwd /etc/group /etc/shadow /etc/gshadow || true"
                    % SERVER_USER).stdout.splitlines()
    return paths, users


class Fleet:
    """The CLI inside the tree, talking to the server the unit runs."""

    def __init__(self, tree):
        self.tree = tree
        self.env = {"WARD_SERVER": "https://127.0.0.1:%d" % PORT,
                    "WARD_CA": SERVER_DIR + "/ca.crt",
                    "WARD_TOKEN_FILE": SERVER_DIR + "/admin.token"}

    def __call__(self, *args, check=True):
        return self.tree.run("ward", "fleet", *args, env=self.env, check=check)

    def agents(self):
        return json.loads(self("agents", "--json").stdout)


def agent_status(tree):
    p = tree.run("ward", "agent", "status", "--json", check=False)
    return json.loads(p.stdout) if p.returncode == 0 else None


def wait_for(pred, what, timeout=60, detail=None):
    """pred()'s first true value within timeout seconds; detail() says
    more in the assertion if it does not come."""
    end = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() >= end:
            raise AssertionError("timed out waiting for %s%s" % (
                what, "\n" + detail() if detail else ""))
        time.sleep(0.5)


def unit_state(tree, unit):
    p = tree.run("systemctl", "show", unit, "-p", "ActiveState,SubState,UnitFileState,"
                 "ConditionResult,MainPID,ExecMainStatus", check=False)
    return dict(l.split("=", 1) for l in p.stdout.splitlines() if "=" in l)


def journal(tree, unit):
    return tree.run("journalctl", "-u", unit, "--no-pager", "-n", "60",
                    check=False).stdout


def start_unit(tree, unit, ready):
    """systemctl start unit; ready() true within a minute, or the unit's
    journal in the assertion."""
    p = tree.run("systemctl", "start", unit, check=False)
    assert p.returncode == 0, "systemctl start %s: %s\n%s" % (unit, p.stderr,
                                                               journal(tree, unit))
    wait_for(ready, unit + " ready", detail=lambda: "%s\n%s" % (unit_state(tree, unit),
                                                                journal(tree, unit)))


def exec_denied(tree):
    """The agent run by its unit denies executing a detected file on the
    on-access mount (EPERM; without the agent, the kernel would try the
    file and say "Exec format error"), and lets a clean one run."""
    sample = ONACCESS + "/eicar.com"
    # Written from inside: the tmpfs is in the container's mount namespace.
    tree.run("sh", "-c", "cat > " + sample, input=EICAR.decode())
    tree.run("sh", "-c", "cat > %s/clean.sh" % ONACCESS, input="#!/bin/sh\necho clean\n")
    tree.run("chmod", "0755", sample, ONACCESS + "/clean.sh")
    p = tree.run("env", sample, check=False)
    assert p.returncode == 126 and "Operation not permitted" in p.stderr, (
        p.returncode, p.stdout, p.stderr)
    assert tree.run(ONACCESS + "/clean.sh").stdout == "clean\n"
    st = agent_status(tree)["sensors"]["onaccess"]
    assert st["state"] == "on" and st["counters"]["denied"] >= 1, st


def server_up(fleet):
    return lambda: fleet("status", check=False).returncode == 0


@pytest.fixture
def debs():
    return deb_files()


@pytest.fixture
def tree(debs):
    t0 = time.time()
    # Trees of runs killed outright (their container halted with them).
    for old in glob.glob(os.path.join(cache_dir(), "run-*")):
        pid = old.rsplit("-", 1)[1]
        if not os.path.exists("/proc/" + pid) and not mounts_under(old):
            shutil.rmtree(old, ignore_errors=True)
    run = os.path.join(cache_dir(), "run-%d" % os.getpid())
    shutil.rmtree(run, ignore_errors=True)
    t = Tree(os.path.join(run, "root"), log)
    try:
        with Step("base tree"):
            t.unpack(base_tarball(log))
            # A fixed machine id: the agent's host identity stays the same
            # across the boots of the test, as on a real host.
            with open(t.path("/etc/machine-id"), "w") as f:
                f.write(os.urandom(16).hex() + "\n")
        yield t
    finally:
        t.cleanup()
        log("whole test: %.1f s" % (time.time() - t0))


def test_install_run_upgrade_purge(debs, tree):
    work = os.path.dirname(tree.root)
    incoming = tree.path(T + "/debs")
    os.makedirs(incoming)
    for deb in debs.values():
        shutil.copy(deb, incoming)
    inside = {pkg: T + "/debs/" + os.path.basename(deb) for pkg, deb in debs.items()}
    problems = []

    with Step("install with apt (no systemd in the tree)"):
        assert tree.run("dpkg-query", "-W", "systemd", check=False).returncode != 0, \
            "the base tree has systemd: it would hide a dependency on it"
        tree.run("apt-get", "update", "-q")
        p = tree.run("apt-get", "install", "-y", "-q", "--no-install-recommends",
                     *[inside[p] for p in PACKAGES], check=False, timeout=900)
        assert p.returncode == 0, "apt-get install of the packages failed:\n%s%s" % (
            p.stdout[-4000:], p.stderr[-4000:])
        files = installed_files(tree)

    with Step("the installed programs"):
        version = tree.run("ward", "--version").stdout.strip()
        assert re.fullmatch(r"ward \d+\.\d+\.\d+", version), version
        assert deb_field(debs["ward"], "Version").startswith(version.split()[1])
        # The shipped example names the release key the operator puts in
        # /etc/ward/keys (README.Debian): until then it says so; with the
        # key in place, the example as shipped is a valid configuration.
        p = tree.run("wardd", "--config", WARDD_YAML, "--check-config", check=False)
        assert p.returncode == 0 or "/etc/ward/keys/release.pub" in p.stdout + p.stderr, \
            "the shipped %s: %s%s" % (WARDD_YAML, p.stdout, p.stderr)
        tree.run("ward", "key", "gen", "--out", T + "/release")
        tree.run("install", "-D", "-m", "0644", T + "/release.pub",
                 "/etc/ward/keys/release.pub")
        p = tree.run("wardd", "--config", WARDD_YAML, "--check-config", check=False)
        assert p.returncode == 0, "the shipped %s: %s%s" % (WARDD_YAML, p.stdout, p.stderr)
        for pkg, paths in LAYOUT.items():
            for path in paths:
                assert path in files[pkg] and os.path.isfile(tree.path(path)), (pkg, path)
        for prog in ("/usr/bin/ward", "/usr/sbin/wardd", "/usr/sbin/ward-server",
                     "/usr/bin/ward-sim"):
            assert tree.run("test", "-x", prog, check=False).returncode == 0, prog
        assert "/etc/ward/wardd.yaml" in tree.run(
            "cat", "/var/lib/dpkg/info/wardd.conffiles").stdout
        # A scan with the default content the package ships.
        tree.run("mkdir", "-p", "/srv/samples")
        with open(tree.path("/srv/samples/eicar.com"), "wb") as f:
            f.write(EICAR)
        content = "/usr/share/ward/content/default"
        tree.run("ward", "content", "build", content, "-o", T + "/default.wbundle")
        p = tree.run("ward", "scan", "-r", content + "/rules/eicar.yar", "/srv/samples",
                     check=False)
        assert p.returncode == 1 and "/srv/samples/eicar.com: EICAR_Test_File FOUND" in \
            p.stdout, p.stdout + p.stderr

    with Step("add systemd and boot"):
        tree.run("apt-get", "install", "-y", "-q", "--no-install-recommends", "systemd",
                 "systemd-sysv", "dbus", timeout=900)
        tree.boot()
        for unit in UNITS:
            st = unit_state(tree, unit)
            assert st["ActiveState"] == "inactive", (unit, st, journal(tree, unit))
        # The operator enables the daemons; the packages do not.  And the
        # server does not start before `ward-server init` made its
        # configuration, even when asked to.
        for unit in UNITS:
            assert unit_state(tree, unit)["UnitFileState"] == "disabled", unit
        tree.run("systemctl", "start", "ward-server.service")
        st = unit_state(tree, "ward-server.service")
        assert (st["ActiveState"], st["ConditionResult"]) == ("inactive", "no"), st

    with Step("systemd-analyze verify and security"):
        # The tree has no man-db (nor need it): --man=no, and the pages the
        # units name are looked for where the packages install them.  What
        # is wrong here is reported at the end, after the steps that do not
        # depend on it.
        for unit in UNITS:
            p = tree.run("systemd-analyze", "verify", "--man=no",
                         "/lib/systemd/system/" + unit, check=False)
            if p.returncode != 0 or p.stderr.strip():
                problems.append("systemd-analyze verify %s: exit %d\n%s%s" % (
                    unit, p.returncode, p.stdout, p.stderr))
            text = open(tree.path("/lib/systemd/system/" + unit)).read()
            for page, sec in re.findall(r"man:([\w.-]+)\((\d)\)", text):
                man = "/usr/share/man/man%s/%s.%s.gz" % (sec, page, sec)
                if not os.path.exists(tree.path(man)):
                    problems.append("%s: Documentation=man:%s(%s) but no %s" % (
                        unit, page, sec, man))
        # The scores (the whole tables are kept in build-pkgtest/).
        for unit in UNITS:
            p = tree.run("systemd-analyze", "security", "--no-pager", unit, check=False)
            m = re.search(r"Overall exposure level for \S+: ([\d.]+) (\S+)", p.stdout)
            assert m, p.stdout + p.stderr
            log("systemd-analyze security %s: %s %s" % (unit, m.group(1), m.group(2)))
            with open(os.path.join(cache_dir(), "security-%s.txt" % unit), "w") as f:
                f.write(p.stdout)

    fleet = Fleet(tree)
    with Step("ward-server init and start, as the package documents"):
        p = tree.run("ward-server", "init", "--dir", SERVER_DIR, "--config", SERVER_YAML,
                     "--user", SERVER_USER, "--listen", "127.0.0.1:%d" % PORT,
                     "--trust", T + "/release.pub")
        admin = p.stdout.strip()
        assert re.fullmatch(r"[0-9a-f]{32,}", admin), p.stdout
        # Agents check in every second, so the test does not wait.
        text = open(tree.path(SERVER_YAML)).read()
        text = set_section_key(text, "checkin", "interval_s", "1")
        text = set_section_key(text, "checkin", "jitter_pct", "0")
        with open(tree.path(SERVER_YAML), "w") as f:
            f.write(text)
        start_unit(tree, "ward-server.service", server_up(fleet))
        pid = unit_state(tree, "ward-server.service")["MainPID"]
        user = tree.run("stat", "-c", "%U", "/proc/%s" % pid).stdout.strip()
        assert user == SERVER_USER, "ward-server runs as %r" % user

    with Step("an agent enrolls, gets a release, scans"):
        # A token as README.Debian makes it: as the service user.
        token = tree.run("runuser", "-u", SERVER_USER, "--", "ward-server", "token",
                         "create", "--config", SERVER_YAML).stdout.strip()
        assert re.fullmatch(r"[0-9a-f]{32,}", token), token
        tree.run("install", "-D", "-m", "0644", SERVER_DIR + "/ca.crt",
                 "/etc/ward/fleet-ca.crt")
        # The operator's edit of the conffile: the server to enrol with, and
        # on-access scanning of a tmpfs the test mounts in the container
        # (its permission marks cover that mount only; it goes with the
        # container).
        tree.run("mkdir", "-p", ONACCESS)
        tree.run("mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", ONACCESS)
        text = open(tree.path(WARDD_YAML)).read()
        text = set_yaml_keys(text, {
            "server": ["server:", "  url: https://127.0.0.1:%d" % PORT,
                       "  ca: /etc/ward/fleet-ca.crt", "  enroll_token: %s" % token],
            "onaccess": ["onaccess:", "  paths: [%s]" % ONACCESS],
        })
        text = "# edited by the operator\n" + text
        with open(tree.path(WARDD_YAML), "w") as f:
            f.write(text)
        edited = text
        tree.run("wardd", "--config", WARDD_YAML, "--check-config")
        start_unit(tree, "wardd.service", lambda: agent_status(tree))
        agents = wait_for(lambda: [a for a in fleet.agents() if a.get("id")], "enrolment")
        assert len(agents) == 1, agents
        agent_id = agents[0]["id"]
        tree.run("ward", "content", "sign", T + "/default.wbundle", "--key",
                 T + "/release.key")
        with open(tree.path(T + "/plan.json"), "w") as f:
            json.dump(PLAN, f)
        fleet("publish", T + "/default.wbundle", "--plan", T + "/plan.json")

        def current():
            st = agent_status(tree)
            cur = st and st["content"].get("current")
            return cur and cur.get("version")
        content_version = wait_for(current, "the agent to run the release")
        sensors = agent_status(tree).get("sensors", {})
        log("agent sensors in the container: %s" % ", ".join(
            "%s %s%s" % (k, v.get("state"), " (%s)" % v["reason"] if v.get("reason") else "")
            for k, v in sorted(sensors.items()) if isinstance(v, dict)))
        p = tree.run("ward", "agent", "scan", "/srv/samples", check=False)
        assert p.returncode == 1 and "eicar.com" in p.stdout and "FOUND" in p.stdout, \
            p.stdout + p.stderr
        exec_denied(tree)
        uplink_before = tree.run("cat", "/var/lib/ward/uplink.json").stdout

    with Step("ward-sim --self-contained from the installed programs"):
        # It finds ward-server and ward where the packages put them (no
        # WARD_*_BIN in its environment), serves on the container's loopback.
        p = tree.run("ward-sim", "--self-contained", "--agents", "10", "--interval", "1",
                     "--soak", "1", "--json", check=False, timeout=120)
        assert p.returncode == 0, p.stderr[-3000:]
        r = json.loads(p.stdout.strip().splitlines()[-1])
        assert r["halted"] is True and r["ended_on_good"] == 10 and r["errors"] == 0, r

    with Step("the service user, state and configuration on disk"):
        pw = tree.run("getent", "passwd", SERVER_USER).stdout.strip().split(":")
        assert int(pw[2]) < 1000, "%s is not a system user: %s" % (SERVER_USER, pw)
        assert pw[6] in ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false"), pw
        assert stat_of(tree, SERVER_DIR) == (SERVER_USER, SERVER_USER, 0o700)
        for f in ("ca.key", "server.key", "ward.db", "admin.token"):
            st = stat_of(tree, SERVER_DIR + "/" + f)
            assert st and st[0] == SERVER_USER and st[2] & 0o077 == 0, (f, st)
        st = stat_of(tree, SERVER_YAML)
        assert st == ("root", SERVER_USER, 0o640), st
        st = stat_of(tree, "/etc/ward-server")
        assert st and st[0] == "root" and st[2] & 0o022 == 0, st
        assert stat_of(tree, WARDD_YAML) in (("root", "root", 0o644), ("root", "root", 0o600))
        st = stat_of(tree, "/var/lib/ward")
        assert st and st[0] == "root" and st[2] & 0o077 == 0, st

    with Step("upgrade to a newer build"):
        old, new, newer = repack_newer(debs, work)
        for deb in newer.values():
            shutil.copy(deb, incoming)
        server_files = tree.sh("cd %s && sha256sum ca.key ca.crt server.key server.crt "
                               "admin.token" % SERVER_DIR).stdout
        server_yaml = open(tree.path(SERVER_YAML)).read()
        pids = {u: unit_state(tree, u)["MainPID"] for u in UNITS}
        p = tree.run("apt-get", "install", "-y", "-q", "--no-install-recommends",
                     *[T + "/debs/" + os.path.basename(newer[p]) for p in PACKAGES],
                     check=False, timeout=600)
        assert p.returncode == 0, "upgrade failed:\n%s%s" % (p.stdout[-4000:],
                                                             p.stderr[-4000:])
        for pkg in PACKAGES:
            assert tree.run("dpkg-query", "-W", "-f", "${Version}", pkg).stdout == new
        assert open(tree.path(WARDD_YAML)).read() == edited, "the edited conffile changed"
        assert not os.path.exists(tree.path(WARDD_YAML + ".dpkg-new"))
        assert open(tree.path(SERVER_YAML)).read() == server_yaml
        assert tree.sh("cd %s && sha256sum ca.key ca.crt server.key server.crt "
                       "admin.token" % SERVER_DIR).stdout == server_files
        # Both run again (the upgrade restarts what ran), from the kept
        # state: the same agent, no new enrolment, the same content.
        for unit in UNITS:
            wait_for(lambda: unit_state(tree, unit)["ActiveState"] == "active",
                     unit + " active after the upgrade", detail=lambda: "%s\n%s\n%s" % (
                         unit_state(tree, unit), journal(tree, unit), p.stdout[-3000:]))
            assert unit_state(tree, unit)["MainPID"] != pids[unit], \
                unit + " was not restarted on the new program"
        wait_for(server_up(fleet), "the server after the upgrade")
        st = wait_for(lambda: agent_status(tree), "the agent after the upgrade")
        assert st["content"]["current"]["version"] == content_version, st["content"]
        assert tree.run("cat", "/var/lib/ward/uplink.json").stdout == uplink_before
        agents = wait_for(lambda: [a for a in fleet.agents() if a.get("id")], "agents")
        assert [a["id"] for a in agents] == [agent_id], agents
        p = tree.run("ward", "agent", "scan", "/srv/samples", check=False)
        assert p.returncode == 1 and "FOUND" in p.stdout, p.stdout + p.stderr
        exec_denied(tree)

    with Step("remove"):
        # Removing stops the running daemons (dh_installsystemd's prerm).
        tree.run("apt-get", "remove", "-y", "-q", *PACKAGES)
        for unit in UNITS:
            st = unit_state(tree, unit)
            assert st.get("ActiveState") != "active", (unit, st)
        p = tree.sh("grep -l -E '^(wardd|ward-server)' /proc/[0-9]*/comm || true")
        assert not p.stdout.strip(), "ward processes left after remove: " + p.stdout
        for prog in ("/usr/bin/ward", "/usr/sbin/wardd", "/usr/sbin/ward-server",
                     "/usr/bin/ward-sim"):
            assert not os.path.lexists(tree.path(prog)), prog + " left after remove"
        assert open(tree.path(WARDD_YAML)).read() == edited
        assert open(tree.path(SERVER_YAML)).read() == server_yaml
        for f in ("ca.key", "ward.db", "admin.token"):
            assert os.path.exists(tree.path(SERVER_DIR + "/" + f)), f + " gone on remove"
        assert open(tree.path("/var/lib/ward/uplink.json")).read() == uplink_before, \
            "the agent's enrolment gone on remove"
        assert tree.run("getent", "passwd", SERVER_USER, check=False).returncode == 0

    with Step("purge"):
        tree.run("apt-get", "purge", "-y", "-q", *PACKAGES)
        for pkg in PACKAGES:
            p = tree.run("dpkg-query", "-W", "-f", "${db:Status-Status}", pkg, check=False)
            assert p.returncode != 0 or p.stdout in ("not-installed", ""), (pkg, p.stdout)
        paths, users = wards_left(tree)
        log("left after purge: %s" % (paths or "no path"))
        log("service user after purge: %s" % (users or "none"))
        # Debian leaves a system user in place on purge (files it owned may
        # remain elsewhere, and a reused uid would inherit them), and the
        # files the operator made (dpkg removes what the packages and their
        # scripts made, not the release key or CA copied into /etc/ward);
        # nothing else of ward's may stay.
        operators = ["/etc/ward", "/etc/ward/fleet-ca.crt", "/etc/ward/keys",
                     "/etc/ward/keys/release.pub"]
        assert paths == operators, paths
        if users:
            p = tree.sh("find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) "
                        "-prune -o -user %s -print" % SERVER_USER)
            assert not p.stdout.strip(), "files still owned by %s:\n%s" % (SERVER_USER,
                                                                           p.stdout)
    assert not problems, "\n".join(problems)
