#!/usr/bin/python3
"""
run: the differential test of ward's rule engine against the installed
yara 4.x.

For each of N rule sets made by gen.py (fixed seed by default), writes the
rule files and M inputs into a directory, runs

    yara -w -r [-d NAME=VALUE]... RULES... DIR
    ward scan --format json [--rules RULES]... [-d NAME=VALUE]... DIR

and compares, for every input file, the set of matching non-private rule
names.  A case is one (rule set, input file) pair.  Rule sets that yara
itself refuses are regenerated with the next attempt's seed and counted.

On a mismatch it prints a reproducer (the rule file reduced to the rules
that differ and what they depend on, when the reduced file still shows the
difference; the input in hex; yara's and ward's answers; the commands) and
keeps everything in the work directory.  Exit status: 0 all cases agree,
1 a mismatch or a ward failure, 2 a usage or environment error.

    tests/diff/run.py                      # 30 rule sets x 20 inputs
    tests/diff/run.py --seed 42 --cases 2000
    tests/diff/run.py --self-test          # yara on both sides
    WARD_BIN=/path/to/ward tests/diff/run.py
"""

import argparse
import concurrent.futures
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import gen  # noqa: E402

TIMEOUT = 120


def default_ward():
    return os.environ.get("WARD_BIN") or os.path.join(REPO, "build", "cli", "ward")


def set_seed(seed, index, attempt):
    """The seed of rule set `index`, attempt `attempt` (stable everywhere)."""
    return random.Random("ward-diff:%d:%d:%d" % (seed, index, attempt)).getrandbits(48)


# ---------------------------------------------------------------------------
# the two scanners


class ToolResult:
    def __init__(self):
        self.ok = True
        self.error = ""
        self.matches = {}   # basename -> set of rule names
        self.strings = {}   # (basename, rule) -> set of (id, offset, length)
        # basename -> yara's error for a file it could not scan (yara 4.2
        # gives up on a file when a regexp needs more than its limit of
        # threads, error 46 ERROR_TOO_MANY_RE_FIBERS): no oracle there
        self.file_errors = {}
        self.cmd = []
        self.rc = None


def run_cmd(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, b"", b"timed out after %d s" % TIMEOUT
    return p.returncode, p.stdout, p.stderr


# yara -L prints at most 512 bytes of a match (YR_MAX_MATCH_DATA) as its
# length; ward's JSON lists at most 1 000 matches per string.
YARA_MAX_MATCH_DATA = 512
WARD_JSON_MATCHES = 1000


def comparable_strings(matches):
    """The (id, offset, length) triples both tools can show."""
    by_id = {}
    for sid, off, length in matches:
        by_id.setdefault(sid, []).append((off, min(length, YARA_MAX_MATCH_DATA)))
    return {(sid, off, length) for sid, lst in by_id.items()
            for off, length in sorted(lst)[:WARD_JSON_MATCHES]}


def run_yara(yara, rules, defines, target, with_strings=False):
    cmd = [yara, "-w", "-r"]
    if with_strings:
        cmd += ["-s", "-L"]
    for d in defines:
        cmd += ["-d", d]
    cmd += rules + [target]
    res = ToolResult()
    res.cmd = cmd
    rc, out, err = run_cmd(cmd)
    res.rc = rc
    if rc != 0:
        res.ok = False
        res.error = err.decode("utf-8", "replace").strip() or "exit status %s" % rc
        return res
    for line in err.decode("utf-8", "surrogateescape").splitlines():
        m = re.match(r"^error scanning (.*?): (.*)$", line)
        if m:
            res.file_errors[os.path.basename(m.group(1))] = m.group(2)
    cur = None
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        m = re.match(r"^0x([0-9a-f]+):(\d+):(\$\w*): ", line)
        if m and cur is not None:
            res.strings.setdefault(cur, set()).add((m.group(3), int(m.group(1), 16),
                                                    int(m.group(2))))
            continue
        if " " not in line:
            continue
        rule, path = line.split(" ", 1)
        base = os.path.basename(path)
        res.matches.setdefault(base, set()).add(rule)
        cur = (base, rule)
        res.strings.setdefault(cur, set())
    return res


def run_ward(ward, rules, defines, target, with_strings=False):
    cmd = [ward, "scan", "--format", "json"]
    for r in rules:
        cmd += ["--rules", r]
    for d in defines:
        cmd += ["-d", d]
    cmd.append(target)
    res = ToolResult()
    res.cmd = cmd
    rc, out, err = run_cmd(cmd)
    res.rc = rc
    if rc not in (0, 1):
        res.ok = False
        res.error = err.decode("utf-8", "replace").strip() or "exit status %s" % rc
        return res
    nmatch = 0
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            res.ok = False
            res.error = "not JSON: %r" % line[:200]
            return res
        if "error" in obj:
            res.ok = False
            res.error = "error object: %s" % line
            return res
        if "summary" in obj:  # the last line: counts, not a match
            continue
        base = os.path.basename(obj["path"])
        res.matches.setdefault(base, set()).add(obj["rule"])
        key = (base, obj["rule"])
        res.strings.setdefault(key, set())
        for s in obj.get("strings", []):
            res.strings[key].add((s["id"], s["offset"], s["length"]))
        nmatch += 1
    if (rc == 1) != (nmatch > 0):
        res.ok = False
        res.error = "exit status %d with %d matches printed" % (rc, nmatch)
    return res


def run_side(args, which, rules, defines, target):
    if which == "yara" or args.self_test:
        return run_yara(args.yara, rules, defines, target, args.strings)
    return run_ward(args.ward, rules, defines, target, args.strings)


# ---------------------------------------------------------------------------
# one rule set


class SetResult:
    def __init__(self, index):
        self.index = index
        self.seed = None
        self.dir = None
        self.refused = []       # yara's messages for regenerated rule sets
        self.cases = 0
        self.mismatches = []    # (basename, yara set, ward set, kind)
        self.ward_error = None
        self.rs = None
        self.rules = []
        self.defines = []
        self.yara_matches = 0
        self.seconds = 0.0
        self.no_oracle = []     # (basename, yara's error)


def do_set(args, work, index):
    t0 = time.time()
    sr = do_set1(args, work, index)
    sr.seconds = time.time() - t0
    return sr


def do_set1(args, work, index):
    sr = SetResult(index)
    for attempt in range(50):
        seed = set_seed(args.seed, index, attempt)
        d = os.path.join(work, "rs%03d" % index)
        if os.path.exists(d):
            shutil.rmtree(d)
        os.makedirs(os.path.join(d, "in"))
        rs = gen.generate_ruleset(seed)
        rules = gen.write_ruleset(rs, d)
        names = []
        for k in range(args.inputs):
            name = "f%03d" % k
            with open(os.path.join(d, "in", name), "wb") as f:
                f.write(gen.generate_input(rs, seed * 1000 + k, args.long_gap))
            names.append(name)
        defines = rs.defines()
        y = run_side(args, "yara", rules, defines, os.path.join(d, "in"))
        if not y.ok:
            sr.refused.append(first_line(y.error))
            continue
        break
    else:
        sr.ward_error = "yara refused 50 rule sets in a row: %s" % sr.refused[-1]
        return sr
    sr.seed, sr.dir, sr.rs, sr.rules, sr.defines = seed, d, rs, rules, defines
    w = run_side(args, "ward", rules, defines, os.path.join(d, "in"))
    sr.cases = len(names)
    if not w.ok:
        sr.ward_error = w.error
        for n in names:
            sr.mismatches.append((n, y.matches.get(n, set()), None, "ward failed"))
        return sr
    for n in names:
        if n in y.file_errors:
            sr.no_oracle.append((n, y.file_errors[n]))
            continue
        ys, ws = y.matches.get(n, set()), w.matches.get(n, set())
        sr.yara_matches += len(ys)
        if ys != ws:
            sr.mismatches.append((n, ys, ws, "rules"))
        elif args.strings:
            for rule in ys:
                a = comparable_strings(y.strings.get((n, rule), set()))
                b = comparable_strings(w.strings.get((n, rule), set()))
                if a != b:
                    sr.mismatches.append((n, {rule: sorted(a)}, {rule: sorted(b)}, "strings"))
    extra = set(w.matches) - set(names)
    for n in sorted(extra):
        sr.mismatches.append((n, set(), w.matches[n], "unknown path"))
    return sr


def first_line(s):
    return s.splitlines()[0] if s else ""


# ---------------------------------------------------------------------------
# reproducers


def hexdump(data, limit=1024):
    out = []
    for off in range(0, min(len(data), limit), 16):
        chunk = data[off:off + 16]
        hx = " ".join("%02x" % b for b in chunk)
        asc = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        out.append("  %08x  %-47s  |%s|" % (off, hx, asc))
    if len(data) > limit:
        out.append("  ... (%d bytes in all; the whole file is kept)" % len(data))
    if not data:
        out.append("  (empty file)")
    return "\n".join(out)


def differs(args, rules, defines, rdir, base, data):
    """(still different?, yara's rules, ward's rules) for data as input."""
    with open(os.path.join(rdir, "in", base), "wb") as f:
        f.write(data)
    y = run_side(args, "yara", rules, defines, os.path.join(rdir, "in"))
    w = run_side(args, "ward", rules, defines, os.path.join(rdir, "in"))
    if not (y.ok and w.ok):
        return False, None, None
    ys, ws = y.matches.get(base, set()), w.matches.get(base, set())
    return ys != ws, ys, ws


def shrink_input(args, rules, defines, rdir, base, data, budget=150):
    """Removes chunks of the input while yara and ward still disagree
    (ddmin with a bounded number of runs); leaves the smallest input found
    in rdir/in/base and returns it with both answers."""
    best = differs(args, rules, defines, rdir, base, data)
    n = 2
    while len(data) >= 2 and budget > 0:
        chunk = max(1, len(data) // n)
        removed = False
        for start in range(0, len(data), chunk):
            cand = data[:start] + data[start + chunk:]
            budget -= 1
            r = differs(args, rules, defines, rdir, base, cand)
            if r[0]:
                data, best, removed = cand, r, True
                n = max(n - 1, 2)
                break
            if budget <= 0:
                break
        if not removed:
            if chunk == 1:
                break
            n = min(n * 2, len(data))
    with open(os.path.join(rdir, "in", base), "wb") as f:
        f.write(data)
    return data, best[1], best[2]


def reproduce(args, sr, mm, n):
    """Writes repro-<set>-<file>/ and returns the text to print."""
    base, ys, ws, kind = mm
    rdir = os.path.join(os.path.dirname(sr.dir), "repro-%03d-%s" % (sr.index, base))
    os.makedirs(os.path.join(rdir, "in"), exist_ok=True)
    src = os.path.join(sr.dir, "in", base)
    with open(src, "rb") as f:
        data = f.read()
    shutil.copy(src, os.path.join(rdir, "in", base))
    rules, note = sr.rules, "the whole rule set"
    if kind == "rules" and ws is not None:
        differ = sorted(ys ^ ws)
        text = sr.rs.reduced_text(differ)
        rfile = os.path.join(rdir, "reduced.yar")
        with open(rfile, "w", encoding="latin-1") as f:
            f.write(text)
        y = run_side(args, "yara", [rfile], sr.defines, os.path.join(rdir, "in"))
        w = run_side(args, "ward", [rfile], sr.defines, os.path.join(rdir, "in"))
        if y.ok and w.ok and y.matches.get(base, set()) != w.matches.get(base, set()):
            rules = [rfile]
            note = "reduced to the rules that differ, the global rules and their dependencies"
            shutil.copy(src, os.path.join(rdir, base + ".orig"))
            data, ys, ws = shrink_input(args, rules, sr.defines, rdir, base, data)
    texts = []
    for r in rules:
        with open(r, encoding="latin-1") as f:
            texts.append("----- %s\n%s" % (r, f.read().rstrip()))
    if rules is sr.rules:
        for root, _, files in os.walk(sr.dir):
            for fn in sorted(files):
                p = os.path.join(root, fn)
                if p.endswith(".yar") and p not in rules:
                    with open(p, encoding="latin-1") as f:
                        texts.append("----- %s (included)\n%s" % (p, f.read().rstrip()))
    dargs = " ".join("-d '%s'" % d for d in sr.defines)
    target = os.path.join(rdir, "in", base)
    ycmd = "yara -w %s %s %s" % (dargs, " ".join(rules), target)
    wcmd = "%s scan --format json %s %s %s" % (args.ward, " ".join("--rules " + r for r in rules),
                                              dargs, target)
    with open(os.path.join(rdir, "commands.sh"), "w") as f:
        f.write("#!/bin/sh\n%s\n%s\n" % (ycmd, wcmd))

    def fmt(s):
        if s is None:
            return "(ward failed: %s)" % sr.ward_error
        if isinstance(s, dict):
            return json.dumps(s)
        return "[" + ", ".join(sorted(s)) + "]"

    return "\n".join([
        "=== mismatch %d: rule set %d (seed %d), input %s, %s" % (n, sr.index, sr.seed, base, kind),
        "rules (%s):" % note,
        "\n".join(texts),
        "externals: %s" % (" ".join(sr.defines) or "(none)"),
        "input %s (%d bytes):" % (target, len(data)),
        hexdump(data),
        "yara: %s" % fmt(ys),
        "ward: %s" % fmt(ws),
        "commands (in %s/commands.sh):" % rdir,
        "  " + ycmd,
        "  " + wcmd,
        "",
    ])


# ---------------------------------------------------------------------------


def yara_version(yara):
    """The installed yara's version as a tuple, (0,) if unknown."""
    try:
        out = subprocess.run([yara, "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=30).stdout.decode()
    except (OSError, subprocess.TimeoutExpired):
        return (0,)
    m = re.match(r"\s*(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0,)


def main(argv=None):
    ap = argparse.ArgumentParser(description="differential test of ward against yara")
    ap.add_argument("--seed", type=int, default=20240719, help="base seed (default: fixed)")
    ap.add_argument("--cases", type=int, default=600,
                    help="(rule set, input) pairs to check (default 600)")
    ap.add_argument("--min-compared", type=int, default=500,
                    help="fewest cases that must be compared (default 500; inputs yara "
                         "could not scan are not compared)")
    ap.add_argument("--inputs", type=int, default=20, help="inputs per rule set (default 20)")
    ap.add_argument("--ward", default=default_ward(), help="ward binary (default: $WARD_BIN "
                    "or <repo>/build/cli/ward)")
    ap.add_argument("--yara", default=shutil.which("yara") or "yara")
    ap.add_argument("--jobs", type=int, default=2, help="rule sets checked at once")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--workdir", help="work directory (default: a new temporary one)")
    ap.add_argument("--self-test", action="store_true",
                    help="run yara on both sides: checks the harness without ward")
    ap.add_argument("--strings", action="store_true",
                    help="also compare the matched strings (id, offset, length) of matching rules")
    ap.add_argument("--long-gap", type=float, default=0.01,
                    help="probability that an unbounded hex jump is ~4 KiB long in an input")
    ap.add_argument("--show", type=int, default=5,
                    help="mismatches printed in full (one per rule set and set of differing rules)")
    ap.add_argument("--for-none", choices=["auto", "yes", "no"], default="auto",
                    help="generate `for none ...` loops: auto = only when yara is 4.3 or "
                         "newer (yara 4.2 reads `for none` as `for 0`, always true; ward "
                         "gives the meaning yara 4.3 fixed it to; see docs/rules.md)")
    ap.add_argument("--no-for-none", action="store_true", help="same as --for-none no")
    args = ap.parse_args(argv)
    if args.no_for_none:
        args.for_none = "no"
    if args.for_none == "auto":
        ver = yara_version(args.yara)
        args.for_none = "yes" if ver >= (4, 3) else "no"
        if args.for_none == "no":
            print("note: yara %s reads `for none` loops as `for 0`; not generating them"
                  % ".".join(map(str, ver)))
    gen.OPTIONS["for_none"] = args.for_none == "yes"

    if not shutil.which(args.yara):
        print("run.py: yara not found (%s)" % args.yara, file=sys.stderr)
        return 2
    if not args.self_test and not os.access(args.ward, os.X_OK):
        print("run.py: ward binary not found at %s (build it, or set WARD_BIN)" % args.ward,
              file=sys.stderr)
        return 2
    args.ward = os.path.abspath(args.ward) if not args.self_test else args.ward
    nsets = max(1, -(-args.cases // args.inputs))
    work = args.workdir or tempfile.mkdtemp(prefix="ward-diff-")
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    results = []
    lock = threading.Lock()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        futs = [ex.submit(do_set, args, work, i) for i in range(nsets)]
        for f in concurrent.futures.as_completed(futs):
            with lock:
                results.append(f.result())
    results.sort(key=lambda r: r.index)

    # Files yara could not scan have no oracle: they are listed, not compared.
    no_oracle = [(r, n, e) for r in results for n, e in r.no_oracle]
    cases = sum(r.cases for r in results) - len(no_oracle)
    refused = [m for r in results for m in r.refused]
    mismatches = [(r, m) for r in results for m in r.mismatches]
    ward_errors = [r for r in results if r.ward_error]
    positives = sum(r.yara_matches for r in results)
    shown = 0
    seen = set()
    rest = []
    for r, m in mismatches:
        key = (r.index, frozenset(m[1] ^ m[2]) if m[3] == "rules" and m[2] is not None else m[3])
        if shown < args.show and key not in seen:
            print(reproduce(args, r, m, shown + 1))
            shown += 1
            seen.add(key)
        else:
            rest.append((r, m))
    if rest:
        print("further mismatches:")
        for r, m in rest[:40]:
            print("  rule set %d (%s), input %s: yara %s, ward %s" % (
                r.index, r.dir, m[0], sorted(m[1]) if m[1] is not None else "-",
                sorted(m[2]) if m[2] is not None else "(failed)"))
        if len(rest) > 40:
            print("  ... and %d more" % (len(rest) - 40))
    for r in ward_errors:
        print("ward failed on rule set %d (%s): %s" % (r.index, r.dir, first_line(r.ward_error)))
    print("differential: %d rule sets x %d inputs, %d cases compared (seed %d) in %.1f s; "
          "%d (file, rule) matches by yara" % (len(results), args.inputs, cases, args.seed,
                                               time.time() - t0, positives))
    reasons = {}
    for m in refused:
        key = re.sub(r"\d+", "N", re.sub(r'"[^"]*"', '"…"', m))
        reasons[key] = reasons.get(key, 0) + 1
    print("inputs yara could not scan (not compared): %d" % len(no_oracle))
    for r, n, e in no_oracle[:5]:
        print("  rule set %d, input %s: %s" % (r.index, n, e))
    print("rule sets refused by yara and regenerated: %d" % len(refused))
    for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]):
        print("  %4d  %s" % (v, k))
    slow = max(results, key=lambda r: r.seconds)
    print("slowest rule set: %d, %.1f s" % (slow.index, slow.seconds))
    print("mismatching cases: %d" % len(mismatches))
    if cases < args.min_compared:
        print("too few cases compared: %d (at least %d)" % (cases, args.min_compared))
    ok = not mismatches and not ward_errors and cases >= args.min_compared
    if ok and not args.keep and not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("work directory kept: %s" % work)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
