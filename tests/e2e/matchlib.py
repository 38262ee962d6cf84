"""The string matches yara and ward report, for the tests that compare
them: sets of (path, rule, string, offset, length), and (path, rule, None,
None, None) for each matching rule."""
import json
import re
import subprocess

YARA = "/usr/bin/yara"
# yara -L prints at most this many bytes of a match as its length
YARA_MAX_MATCH_DATA = 512
YARA_LINE = re.compile(r"^0x([0-9a-f]+):(\d+):\$(\S+): ")


def yara_matches(rules, target, stderr_ok=True):
    """yara -s -L over target (a file, or a folder read recursively)."""
    p = subprocess.run([YARA, "-w", "-r", "-s", "-L", rules, target], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0 and (stderr_ok or not p.stderr), p.stderr.decode()
    got, cur = set(), None
    for line in p.stdout.decode("latin-1").splitlines():
        m = YARA_LINE.match(line)
        if m:
            got.add((cur[1], cur[0], m.group(3), int(m.group(1), 16), int(m.group(2))))
        elif line.strip():
            rule, path = line.split(" ", 1)
            cur = (rule, path)
            got.add((path, rule, None, None, None))
    return got


def ward_matches(ward, rules, target):
    """ward scan --format json over target, lengths cut as yara -L cuts them."""
    p = subprocess.run([ward, "scan", "-q", "-t", "1", "--format", "json", "-r", rules, target],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert p.returncode in (0, 1), p.stderr.decode()
    return ward_json_matches(p.stdout)


def ward_json_matches(out):
    """The matches in the output of ward scan --format json."""
    got = set()
    for line in out.decode().splitlines():
        o = json.loads(line)
        if "summary" in o:
            continue
        got.add((o["path"], o["rule"], None, None, None))
        for s in o.get("strings", []):
            got.add((o["path"], o["rule"], s["id"][1:], s["offset"],
                     min(s["length"], YARA_MAX_MATCH_DATA)))
    return got
