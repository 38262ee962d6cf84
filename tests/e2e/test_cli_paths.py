"""
Commands other than `ward scan` that read a path they were given, as a
cron job or a script sees them: `ward quarantine --state-dir` of a
directory that does not exist or is not an agent's (once `[]` and exit 0),
`ward fim baseline|check --path` of a path that cannot be read (once an
empty baseline and checks that always pass), `ward content
build|sign|verify|inspect`, `ward rules compile`, `ward key gen`, `ward
scan --rules/--hashes/--compiled` with a file that is not there.  Each
message on stderr has the one form `ward: ...`.
"""

import json
import os
import shutil

from conftest import write


def stderr_lines_all_prefixed(stderr):
    """Every line on stderr starts with "ward: "; returns them."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "nothing said on stderr"
    for line in lines:
        assert line.startswith("ward: "), "a message without the ward: prefix: %r" % line
    return lines


def test_quarantine_state_dir_that_is_not_the_agents(ward, tmp_path):
    run_dir = str(tmp_path / "run")  # no agent there: ward works on the store
    for state, words in [(str(tmp_path / "nonexistent"), "No such file or directory"),
                         ("/etc", "not a ward state directory"),
                         (write(str(tmp_path / "f"), b"x"), "Not a directory")]:
        for sub in (["list"], ["list", "--json"], ["restore", "0123456789abcdef"],
                    ["delete", "0123456789abcdef"]):
            p = ward.run("quarantine", "--state-dir", state, "--run-dir", run_dir, *sub)
            assert p.returncode == 2, (state, sub, p.stdout)
            assert p.stdout == ""
            assert stderr_lines_all_prefixed(p.stderr) and words in p.stderr, p.stderr
    # an agent's state directory with nothing quarantined yet: an empty list
    state = str(tmp_path / "state")
    os.makedirs(os.path.join(state, "content"), mode=0o700)
    p = ward.run("quarantine", "--state-dir", state, "--run-dir", run_dir, "list", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == []
    help_text = " ".join(ward.run("quarantine", "--help").stdout.split())
    assert "also when the state directory does not exist or is not the agent's" in help_text


def test_fim_paths_that_cannot_be_read(ward, tmp_path):
    d = str(tmp_path / "etc")
    write(os.path.join(d, "conf"), b"x")
    base = str(tmp_path / "baseline")
    missing = str(tmp_path / "ect")  # a typo
    p = ward.run("fim", "baseline", "--path", missing, "--baseline", base)
    assert p.returncode == 14, p.stderr
    assert "ward: %s: does not exist" % missing in p.stderr
    stderr_lines_all_prefixed(p.stderr)
    p = ward.run("fim", "check", "--path", missing, "--baseline", base)
    assert p.returncode == 14, p.stderr
    # a path the baseline has, gone now: removed (2), not an error
    p = ward.run("fim", "baseline", "--path", d, "--baseline", base)
    assert p.returncode == 0, p.stderr
    shutil.rmtree(d)
    p = ward.run("fim", "check", "--path", d, "--baseline", base)
    assert p.returncode == 2, p.stderr
    assert "removed: %s/conf" % d in p.stdout
    p = ward.run("fim", "check", "--path", d, "--baseline", str(tmp_path / "none"))
    assert p.returncode == 14
    help_text = " ".join(ward.run("fim", "--help").stdout.split())
    assert "a path that cannot be read and has nothing in the baseline either" in help_text


def test_content_key_and_rules_paths_that_do_not_exist(ward, tmp_path):
    missing = str(tmp_path / "nonexistent")
    key = str(tmp_path / "k")
    assert ward.run("key", "gen", "--out", key).returncode == 0
    cases = [
        (["content", "build", missing, "-o", str(tmp_path / "b.wb")],
         "ward: %s/bundle.json: No such file or directory" % missing),
        (["content", "inspect", missing], "ward: %s: No such file or directory" % missing),
        (["content", "sign", missing, "--key", key + ".key"],
         "ward: %s: No such file or directory" % missing),
        (["content", "verify", missing, "--trust", key + ".pub"],
         "ward: %s: No such file or directory" % missing),
        (["content", "verify", missing, "--trust", missing],
         "ward: %s: No such file or directory" % missing),
        (["key", "gen", "--out", os.path.join(missing, "k")],
         "ward: %s/k.key: No such file or directory" % missing),
        (["rules", "compile", missing, "-o", str(tmp_path / "r.wardc")],
         "ward: %s: can't open rule file: No such file or directory" % missing),
        (["scan", "--rules", missing, str(tmp_path)],
         "ward: %s: can't open rule file: No such file or directory" % missing),
        (["scan", "--hashes", missing, str(tmp_path)],
         "ward: %s: cannot open: No such file or directory" % missing),
        (["scan", "--compiled", missing, str(tmp_path)],
         "ward: %s: No such file or directory" % missing),
    ]
    for args, line in cases:
        p = ward.run(*args)
        assert p.returncode == 2, (args, p.stderr)
        assert stderr_lines_all_prefixed(p.stderr) == [line], (args, p.stderr)
