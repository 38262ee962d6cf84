"""
The modules' differential test (tests/diff/modules.py) against the
installed yara, as part of the e2e suite: generated math, hash, time, elf and pe
conditions over generated and real files, through `ward scan` and `yara`;
at least 500 (file, rule) cases, every answer equal.
"""

import os
import re
import subprocess
import sys

from conftest import REPO

RUN = os.path.join(REPO, "tests", "diff", "modules.py")


def test_modules_agree_with_yara(ward_bin):
    args = [sys.executable, RUN, "--ward", ward_bin, "--rules",
            os.environ.get("WARD_MODDIFF_RULES", "60")]
    if os.environ.get("WARD_DIFF_SEED"):
        args += ["--seed", os.environ["WARD_DIFF_SEED"]]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    out = p.stdout.decode("utf-8", "replace")
    print(out)
    m = re.search(r"(\d+) cases compared .*?, (\d+) \(file, rule\) matches by yara", out)
    assert m, out[-3000:]
    assert p.returncode == 0, "ward and yara disagree:\n" + out[-3000:]
    assert int(m.group(1)) >= 500
    # Rules that match and rules that do not: a test that cannot fail
    # would see neither.
    assert 0 < int(m.group(2)) < int(m.group(1))
