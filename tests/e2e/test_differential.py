"""
The differential test (tests/diff/run.py) against the installed yara, as
part of the e2e suite: at least 500 (rule set, input) cases over the whole
supported language, with a fixed seed unless WARD_DIFF_SEED is set
(WARD_DIFF_CASES raises the number of cases).
"""

import os
import re
import subprocess
import sys

from conftest import REPO

RUN = os.path.join(REPO, "tests", "diff", "run.py")


def run_diff(args, timeout=900):
    p = subprocess.run([sys.executable, RUN] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def cases_of(out):
    m = re.search(r"(\d+) cases compared", out)
    assert m, out[-3000:]
    return int(m.group(1))


def refused_of(out):
    m = re.search(r"refused by yara and regenerated: (\d+)", out)
    assert m, out[-3000:]
    return int(m.group(1))


def test_differential_against_yara(ward_bin):
    args = ["--ward", ward_bin]
    if os.environ.get("WARD_DIFF_SEED"):
        args += ["--seed", os.environ["WARD_DIFF_SEED"]]
    args += ["--cases", os.environ.get("WARD_DIFF_CASES", "600")]
    rc, out = run_diff(args)
    print(out)
    tail = "\n".join(out.splitlines()[-8:])
    assert rc == 0, "ward and yara disagree (reproducers in the captured stdout):\n" + tail
    assert cases_of(out) >= 500


def test_generator_stays_inside_what_yara_accepts():
    # yara on both sides: the harness runs end to end, the generated rule
    # sets are nearly all valid YARA, and the inputs make rules both match
    # and not match.
    rc, out = run_diff(["--self-test", "--cases", "400", "--min-compared", "400", "--seed", "7"])
    assert rc == 0, out[-5000:]
    sets = cases_of(out) // 20
    assert refused_of(out) <= max(1, sets // 20), out
    m = re.search(r"(\d+) \(file, rule\) matches by yara", out)
    assert m and int(m.group(1)) >= cases_of(out), out
