"""
The whole signature-base set (../shared/testdata, see its README) as a user
meets it: `ward rules check` over the folder lists, in one run, every file
and rule that the file-by-file loop would find refused, and its counts add
up; `ward scan --skip-unsupported` loads the whole set at once, names every
rule it leaves out, and gives yara's matches on the rules it kept.  Every
signature-base file now loads in ward, so the folder is the set plus two
files of the kind a user still meets: rules using what ward does not
implement (`50% of them`, the `dotnet` module) beside rules it does.
"""

import concurrent.futures
import json
import os
import random
import re
import shutil

import pytest

from conftest import diags, ndjson
from test_signature_base import DEFINES, SIGBASE, SYSTEM_FILES, planted, read, rule_files, run

SKIPPED_RE = re.compile(r"^ward: skipped rule (\S+) \((.+):(\d+)\): (.+)$", re.M)
RULE_RE = re.compile(r"^\s*(?:(?:private|global)\s+)*rule\s+(\w+)", re.M)


def defines():
    out = []
    for d in DEFINES:
        out += ["-d", d]
    return out


MIXED_PCT = """rule Ward_Kept_Alpha {
  strings:
    $a = "ward-kept-alpha-7731"
  condition:
    $a
}

rule Ward_Skip_Pct {
  strings:
    $a = "ward-skip-pct-one-7731"
    $b = "ward-skip-pct-two-7731"
  condition:
    50% of them
}

rule Ward_Kept_Gamma {
  strings:
    $a = "ward-kept-gamma-7731"
  condition:
    $a and filesize > 0
}
"""

MIXED_DOTNET = """import "dotnet"

rule Ward_Kept_Beta {
  strings:
    $a = "ward-kept-beta-7731"
  condition:
    $a
}

rule Ward_Skip_Dotnet {
  strings:
    $a = "ward-skip-dotnet-7731"
  condition:
    $a and dotnet.number_of_streams >= 0
}
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    files = rule_files()
    if files is None:
        pytest.fail("signature-base test data not found at %s" % SIGBASE, pytrace=False)
    d = tmp_path_factory.mktemp("rules")
    for f in files:
        shutil.copy(f, str(d / os.path.basename(f)))
    (d / "zz-ward-mixed-pct.yar").write_text(MIXED_PCT)
    (d / "zz-ward-mixed-dotnet.yar").write_text(MIXED_DOTNET)
    return str(d)


@pytest.fixture(scope="module")
def sigbase(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder)
                  if f.endswith((".yar", ".yara")))


@pytest.fixture(scope="module")
def check_doc(ward_bin, folder, sigbase):
    rc, out, err = run([ward_bin, "rules", "check", "--format", "json"] + defines() + [folder])
    assert rc in (0, 1, 2), err
    doc = json.loads(out)
    assert doc["status"] == rc
    return doc


def test_check_finds_in_one_run_what_the_file_by_file_loop_finds(ward_bin, folder, sigbase,
                                                                check_doc, tmp_path, capsys):
    files = {f["path"]: f for f in check_doc["files"]}
    # every .yar and .yara file of the folder, each once
    assert sorted(files) == sigbase

    # The user's loop: one strict load per file.
    empty = str(tmp_path / "empty")
    open(empty, "wb").close()

    def strict(path):
        return path, run([ward_bin, "scan", "-q", "--rules", path] + defines() + [empty])

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        loop = dict(ex.map(strict, sigbase))
    refused = {p for p, (rc, _, _) in loop.items() if rc == 2}
    listed = {p for p, f in files.items() if f["status"] != "ok"}
    assert refused == listed, ("refused one by one, not listed: %s; listed, not refused: %s" %
                               (sorted(refused - listed)[:10], sorted(listed - refused)[:10]))
    assert refused, "no file of the set is refused: the test would prove nothing"
    for p in sorted(listed):
        f = files[p]
        rc, _, err = loop[p]
        first = diags(err)[0]
        where = f["error"] if f["status"] == "error" else f["skipped"][0]
        # the loop's one refusal is the first problem check lists for the file
        assert (first[1], first[2]) == (where["line"], where["col"]), (p, first, where)

    # Each file --skip-unsupported can load leaves out exactly what check names.
    skip_files = sorted(p for p, f in files.items() if f["status"] == "skip")

    def skipping(path):
        return path, run([ward_bin, "scan", "-q", "--skip-unsupported", "--rules", path] +
                         defines() + [empty])

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for p, (rc, _, err) in ex.map(skipping, skip_files):
            assert rc == 0, (p, err)
            named = {m.group(1) for m in SKIPPED_RE.finditer(err)}
            assert named == {s["rule"] for s in files[p]["skipped"] if s["rule"]}, p

    # The counts add up.
    s = check_doc["summary"]
    assert s["files"] == len(sigbase) == s["ok"] + s["skip"] + s["error"]
    assert s["skip"] + s["error"] == len(refused)
    assert s["rules_skipped"] == sum(1 for f in files.values() for k in f["skipped"] if k["rule"])
    assert s["imports_skipped"] == sum(1 for f in files.values() for k in f["skipped"]
                                       if k["import"])
    assert sum(k["count"] for k in s["kinds"]) == \
        s["rules_skipped"] + s["imports_skipped"] + s["error"]
    # The text form lists the same, one line each.
    rc, out, _ = run([ward_bin, "rules", "check"] + defines() + [folder])
    assert rc == check_doc["status"]
    assert len(re.findall(r"^\S+:\d+:\d+: rule \S+: ", out, re.M)) == s["rules_skipped"]
    assert len(re.findall(r'^\S+:\d+:\d+: import "', out, re.M)) == s["imports_skipped"]
    assert len(re.findall(r"^\S+:\d+:\d+: error: ", out, re.M)) == s["error"]
    with capsys.disabled():
        print("\nsignature-base, ward rules check: %d files: %d as they are, %d only with "
              "--skip-unsupported, %d unusable; %d rules compile, %d left out (%d for naming "
              "one), %d imports" % (s["files"], s["ok"], s["skip"], s["error"], s["rules"],
                                    s["rules_skipped"], s["rules_skipped_dependent"],
                                    s["imports_skipped"]))
        for k in s["kinds"]:
            print("    %4d  %s" % (k["count"], k["kind"]))


def test_scan_whole_set_skip_unsupported_agrees_with_yara(ward_bin, sigbase, check_doc,
                                                         tmp_path):
    files = {f["path"]: f for f in check_doc["files"]}
    usable = [p for p in sigbase if files[p]["status"] != "error"]
    mixed = [p for p in usable if files[p]["status"] == "skip"]
    # A sample tree: planted instances of the strings of every file with
    # rules left out (their kept rules are what this is about) and of a
    # fixed sample of the others, plus a few system files.
    others = sorted(random.Random(7).sample([p for p in usable if p not in mixed],
                                            min(40, len(usable) - len(mixed))))
    corpus = tmp_path / "corpus"
    os.makedirs(str(corpus / "sys"))
    for f in SYSTEM_FILES:
        if os.path.isfile(f):
            shutil.copy(f, str(corpus / "sys"))
    for p in mixed + others:
        d = corpus / os.path.basename(p)
        os.makedirs(str(d))
        for name, data in planted(read(p)).items():
            with open(str(d / name), "wb") as fh:
                fh.write(data)

    rc, out, err = run(["yara", "-w", "-r"] + defines() + usable + [str(corpus)], timeout=600)
    assert rc == 0, "yara refused the set: %s" % err[:500]
    yara = set()
    for line in out.splitlines():
        rule, path = line.split(" ", 1)
        yara.add((os.path.relpath(path, str(corpus)), rule))

    cmd = [ward_bin, "scan", "--format", "json", "--skip-unsupported"] + defines()
    for p in usable:
        cmd += ["--rules", p]
    rc, out, err = run(cmd + [str(corpus)], timeout=600)
    assert rc in (0, 1), err[-2000:]
    skipped = {m.group(1) for m in SKIPPED_RE.finditer(err)}
    assert len(skipped) == check_doc["summary"]["rules_skipped"]
    assert re.search(r"^Skipped rules: %d\b" % len(skipped), err, re.M), err[-500:]
    objs = ndjson(out)
    assert not [o for o in objs if "error" in o], [o for o in objs if "error" in o][:3]
    got = {(os.path.relpath(o["path"], str(corpus)), o["rule"]) for o in objs if "rule" in o}
    expect = {(f, r) for f, r in yara if r not in skipped}
    assert got == expect, "only yara: %s; only ward: %s" % (sorted(expect - got)[:10],
                                                          sorted(got - expect)[:10])
    # Rules kept from files that the strict load refuses whole did match.
    kept_mixed = {r for p in mixed for r in RULE_RE.findall(read(p))} - skipped
    assert {r for _, r in got} & kept_mixed, "no kept rule of a mixed file matched"
    assert {r for _, r in yara} & skipped, "no skipped rule would have matched: weak sample"
