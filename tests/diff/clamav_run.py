#!/usr/bin/python3
"""
clamav_run: the differential test of ward's ClamAV signature support
against the installed clamscan.

For each of K seeds, clamav_gen.py writes a database directory (.ndb, .ldb,
.hdb, .hsb) and the inputs planted for it; then

    clamscan --allmatch --no-summary -d DB [switches that keep only the DB's
             names: no bytecode, heuristics, archives, documents, mail,
             normalisation or cache] FILES...
    ward scan --clamav-db DB -f json -q FILES...

and compares, for every input file, the set of signature names each tool
reports (clamscan's `.UNOFFICIAL` suffix stripped).  A case is one (seed,
input file) pair.  Signatures ward leaves out (it names them on stderr) are
"unsupported": left out of the comparison on both sides, counted, and
listed with the files clamscan matched them on.  A mismatch is a file where
the two sets differ over the signatures both tools loaded.

A signature over which ward refuses the whole database is a failure too;
ward then gets the database without it, so that the rest is compared.

On a mismatch it prints a reproducer: the differing signature lines, alone
in a database of their own when they still differ there, the input (cut
down while the two still disagree) in hex, both answers and the commands
(kept in the work directory).

    tests/diff/clamav_run.py                 # 3 seeds, the default sizes
    tests/diff/clamav_run.py --seed 42 --seeds 1 --show 10
    tests/diff/clamav_run.py --self-test     # clamscan against the generator's aims

Exit status: 0 all cases agree (--self-test: clamscan agrees with the
generator's expectations at the stated rates), 1 a mismatch or a ward
failure, 2 a usage or environment error.
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import clamav_gen  # noqa: E402

TIMEOUT = 120
NAME_RE = re.compile(r"Wd\.[A-Z]\.\d{4}")

# clamscan reports only what the database says: no bytecode, no heuristic
# names, no look inside archives, documents or mail, no normalised text
# (a type-0 signature would also be matched against normalised HTML and
# script text), no cache (two inputs with equal bytes are both scanned).
CLAMSCAN_SWITCHES = [
    "--allmatch", "--no-summary", "--disable-cache", "--bytecode=no",
    "--heuristic-alerts=no", "--scan-archive=no", "--normalize=no", "--scan-mail=no",
    "--scan-ole2=no", "--scan-pdf=no", "--scan-html=no", "--scan-xmldocs=no",
    "--scan-swf=no", "--scan-hwp3=no", "--scan-onenote=no", "--scan-image=no",
    "--scan-image-fuzzy-hash=no", "--phishing-sigs=no", "--phishing-scan-urls=no",
]


def default_ward():
    return os.environ.get("WARD_BIN") or os.path.join(REPO, "build", "cli", "ward")


def seed_of(base, index, attempt):
    """The generator seed of run `index`, attempt `attempt` (stable)."""
    return random.Random("ward-clamdiff:%d:%d:%d" % (base, index, attempt)).getrandbits(40)


def run_cmd(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, b"", b"timed out after %d s" % TIMEOUT
    return p.returncode, p.stdout, p.stderr


class Answer:
    def __init__(self, cmd):
        self.cmd = cmd
        self.ok = True
        self.error = ""
        self.matches = {}     # basename -> set of names
        self.left_out = set()  # ward: names it did not load
        self.left_count = None  # ward: how many it says it left out
        self.stderr = ""


def run_clamscan(clamscan, db, files):
    a = Answer([clamscan] + CLAMSCAN_SWITCHES + ["-d", db] + files)
    rc, out, err = run_cmd(a.cmd)
    a.stderr = err.decode("utf-8", "replace")
    if rc not in (0, 1):
        a.ok = False
        a.error = a.stderr.strip() or "exit status %s" % rc
        return a
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        m = re.match(r"^(.*): (\S+) FOUND$", line)
        if not m:
            continue
        name = m.group(2)
        if name.endswith(".UNOFFICIAL"):
            name = name[:-len(".UNOFFICIAL")]
        a.matches.setdefault(os.path.basename(m.group(1)), set()).add(name)
    return a


def run_ward(ward, db, files, extra=()):
    a = Answer([ward, "scan", "--clamav-db", db, "-f", "json", "-q"] + list(extra) + files)
    rc, out, err = run_cmd(a.cmd)
    a.stderr = err.decode("utf-8", "replace")
    # The signatures ward could not convert are named on stderr; any of
    # our names there is one it left out (ask no more of its format).
    a.left_out = set(NAME_RE.findall(a.stderr))
    # and when it only counts them ("N left out"), how many
    m = re.search(r"(\d+) left out", a.stderr)
    a.left_count = int(m.group(1)) if m else None
    if rc not in (0, 1):
        a.ok = False
        a.error = a.stderr.strip() or "exit status %s" % rc
        return a
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            a.ok, a.error = False, "not JSON: %r" % line[:200]
            return a
        if "summary" in obj:  # counts, not a match (-q may leave it out)
            continue
        if "error" in obj or "path" not in obj or "rule" not in obj:
            a.ok, a.error = False, "unexpected object: %s" % line[:300]
            return a
        a.matches.setdefault(os.path.basename(obj["path"]), set()).add(obj["rule"])
    return a


# ---------------------------------------------------------------------------


class SeedRun:
    def __init__(self, index):
        self.index = index
        self.seed = None
        self.dir = None
        self.gen = None
        self.refused = []
        self.clam = None
        self.ward = None
        self.cases = 0
        self.mismatches = []   # (file, clamscan set, ward set)
        self.db_refused = {}   # name -> ward's reason for refusing the database


def do_seed(args, work, index):
    sr = SeedRun(index)
    for attempt in range(10):
        seed = seed_of(args.seed, index, attempt)
        d = os.path.join(work, "seed%d" % index)
        if os.path.exists(d):
            shutil.rmtree(d)
        g = clamav_gen.generate(seed, args.sigs)
        clamav_gen.write(g, d)
        files = [os.path.join(d, "in", n) for n in g.inputs]
        clam = run_clamscan(args.clamscan, os.path.join(d, "db"), files)
        if clam.ok:
            break
        sr.refused.append(first_error(clam.error))
    else:
        sr.clam = clam
        return sr
    sr.seed, sr.dir, sr.gen, sr.clam = seed, d, g, clam
    if args.self_test:
        sr.cases = len(files)
        return sr
    # A signature over which ward refuses the whole database (clamscan
    # loaded it) is a failure of its own; to compare the rest, ward gets a
    # copy of the database without it, again, up to a bound.
    wdb = os.path.join(d, "db-ward")
    shutil.copytree(os.path.join(d, "db"), wdb)
    for _ in range(100):
        w = run_ward(args.ward, wdb, files, args.ward_arg)
        m = REFUSED_RE.search(w.stderr) if not w.ok else None
        if not m or m.group(3) not in g.sigs or m.group(3) in sr.db_refused:
            break
        sr.db_refused[m.group(3)] = m.group(4).strip()
        drop_line(wdb, g.sigs[m.group(3)])
    sr.ward = w
    if not w.ok:
        return sr
    sr.cases = len(files)
    supported = set(g.sigs) - w.left_out - set(sr.db_refused)
    for n in g.inputs:
        cs = clam.matches.get(n, set())
        ws = w.matches.get(n, set())
        if (cs & supported) != ws:
            sr.mismatches.append((n, cs & supported, ws))
    for n in sorted(set(w.matches) - set(g.inputs)):
        sr.mismatches.append((n, set(), w.matches[n]))
    return sr


# ward's message when a signature makes it refuse a whole database
REFUSED_RE = re.compile(r"ward: (\S+):(\d+): (Wd\.[A-Z]\.\d{4}): (.*)")


def drop_line(dbdir, sig):
    db, line, _ = sig
    p = os.path.join(dbdir, db)
    with open(p) as f:
        lines = [x for x in f.read().splitlines() if x != line]
    with open(p, "w") as f:
        f.write("\n".join(lines) + "\n")


def first_error(text):
    for line in text.splitlines():
        if "Error" in line or "ERROR" in line:
            return line.strip()
    return text.splitlines()[0] if text else ""


# ---------------------------------------------------------------------------
# reports


def hexdump(data, limit=512):
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


def reproduce(args, sr, mm, k):
    """Writes repro-<seed>-<file>/ with the differing signatures alone and
    returns the text to print."""
    base, cs, ws = mm
    g = sr.gen
    differ = sorted(cs ^ ws)
    rdir = os.path.join(os.path.dirname(sr.dir), "repro-%d-%s" % (sr.index, base))
    os.makedirs(os.path.join(rdir, "db"), exist_ok=True)
    src = os.path.join(sr.dir, "in", base)
    dst = os.path.join(rdir, base)
    shutil.copy(src, dst)
    with open(src, "rb") as f:
        data = f.read()
    lines = {}
    for name in differ:
        if name in g.sigs:
            db, line, _ = g.sigs[name]
            lines.setdefault(db, []).append(line)
    for db, ls in lines.items():
        with open(os.path.join(rdir, "db", db), "w") as f:
            f.write("\n".join(ls) + "\n")
    note = "alone"
    dbdir = os.path.join(rdir, "db")
    if differs(args, dbdir, dst):
        shutil.copy(src, dst + ".orig")
        data = shrink_input(args, dbdir, dst, data, args.shrink)
        cs = run_clamscan(args.clamscan, dbdir, [dst]).matches.get(base, set())
        ws = run_ward(args.ward, dbdir, [dst], args.ward_arg).matches.get(base, set())
        note = "alone, on the input cut to %d bytes (the original is %s.orig)" % (len(data), dst)
    else:
        note = "only with the whole database (%s)" % os.path.join(sr.dir, "db")
        dbdir = os.path.join(sr.dir, "db")
    ccmd = " ".join([args.clamscan] + CLAMSCAN_SWITCHES + ["-d", dbdir, dst])
    wcmd = "%s scan --clamav-db %s -f json -q %s%s" % (
        args.ward, dbdir, "".join(a + " " for a in args.ward_arg), dst)
    with open(os.path.join(rdir, "commands.sh"), "w") as f:
        f.write("#!/bin/sh\n%s\n%s\n" % (ccmd, wcmd))
    why = [e[3] for e in g.expect if e[0] == base and e[1] in differ]
    return "\n".join([
        "=== mismatch %d: seed %d (run %d), input %s (%s)" % (k, sr.seed, sr.index, base,
                                                            "; ".join(why) or "not planted"),
        "signatures that differ (they differ %s):" % note,
        "\n".join("  [%s] %s" % (g.sigs[n][0], g.sigs[n][1]) if n in g.sigs
                  else "  %s (unknown)" % n for n in differ),
        "input %s (%d bytes):" % (dst, len(data)),
        hexdump(data),
        "clamscan: [%s]" % ", ".join(sorted(cs)),
        "ward:     [%s]" % ", ".join(sorted(ws)),
        "commands (in %s/commands.sh):" % rdir,
        "  " + ccmd,
        "  " + wcmd,
        "",
    ])


def differs(args, dbdir, path):
    """Whether clamscan and ward disagree on the file at path."""
    base = os.path.basename(path)
    c = run_clamscan(args.clamscan, dbdir, [path])
    w = run_ward(args.ward, dbdir, [path], args.ward_arg)
    return c.ok and w.ok and c.matches.get(base, set()) != w.matches.get(base, set())


def shrink_input(args, dbdir, path, data, budget=80):
    """Removes chunks of the input while the two still disagree (ddmin
    with a bounded number of runs); leaves the smallest input found at
    path and returns it."""
    n = 2
    while len(data) >= 2 and budget > 0:
        chunk = max(1, len(data) // n)
        removed = False
        for start in range(0, len(data), chunk):
            cand = data[:start] + data[start + chunk:]
            budget -= 1
            with open(path, "wb") as f:
                f.write(cand)
            if differs(args, dbdir, path):
                data, removed = cand, True
                n = max(n - 1, 2)
                break
            if budget <= 0:
                break
        if not removed:
            if chunk == 1:
                break
            n = min(n * 2, len(data))
    with open(path, "wb") as f:
        f.write(data)
    return data


def self_test_report(runs, args):
    """clamscan against the generator's expectations."""
    pos = neg = pos_ok = neg_ok = 0
    misses = {}
    for sr in runs:
        if not sr.gen:
            continue
        for f, sig, want, why in sr.gen.expect:
            got = sig in sr.clam.matches.get(f, set())
            kind = why.split(" ")[0] + (" +" if want else " -")
            if want:
                pos += 1
                pos_ok += got
            else:
                neg += 1
                neg_ok += not got
            if got != want:
                misses.setdefault(kind, []).append((sr, f, sig, why))
    print("planted positives clamscan found: %d of %d (%.1f%%)" % (pos_ok, pos,
                                                                   100.0 * pos_ok / max(pos, 1)))
    print("near misses clamscan did not match: %d of %d (%.1f%%)" % (neg_ok, neg,
                                                                     100.0 * neg_ok / max(neg, 1)))
    for kind, lst in sorted(misses.items()):
        print("  %-12s %d, e.g.:" % (kind, len(lst)))
        for sr, f, sig, why in lst[:args.show]:
            print("    %s/in/%s %s (%s): %s" % (sr.dir, f, sig, why, sr.gen.sigs[sig][1]))
    return (pos_ok >= args.min_hit_rate * pos and neg_ok >= args.min_hit_rate * neg)


def main(argv=None):
    ap = argparse.ArgumentParser(description="differential test of ward against clamscan")
    ap.add_argument("--seed", type=int, default=20261206, help="base seed (default: fixed)")
    ap.add_argument("--seeds", type=int, default=3, help="databases generated (default 3)")
    ap.add_argument("--sigs", type=int, default=120,
                    help="signatures generated per database, besides the clamav-testfiles "
                         "cuts (default 120)")
    ap.add_argument("--min-cases", type=int, default=500,
                    help="fewest (database, input) cases that must be compared (default 500)")
    ap.add_argument("--min-supported", type=float, default=0.0,
                    help="smallest share of the signatures ward must load (0..1, default 0)")
    ap.add_argument("--ward", default=default_ward(),
                    help="ward binary (default: $WARD_BIN or <repo>/build/cli/ward)")
    ap.add_argument("--clamscan", default=shutil.which("clamscan") or "clamscan",
                    help="clamscan binary (default: the one on PATH)")
    ap.add_argument("--ward-arg", action="append", default=[],
                    help="an argument added to ward's command line (repeatable; e.g. "
                         "--clamav-report to have the signatures it leaves out named)")
    ap.add_argument("--workdir", help="work directory (default: a new temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--show", type=int, default=5, help="mismatches printed in full")
    ap.add_argument("--shrink", type=int, default=80,
                    help="runs of both tools spent cutting down each printed mismatch's "
                         "input (default 80)")
    ap.add_argument("--self-test", action="store_true",
                    help="no ward: check that clamscan decides the planted cases as the "
                         "generator meant")
    ap.add_argument("--min-hit-rate", type=float, default=0.95,
                    help="--self-test: smallest share of planted positives found and of near "
                         "misses not matched (default 0.95)")
    args = ap.parse_args(argv)
    if not shutil.which(args.clamscan):
        print("clamav_run.py: clamscan not found (%s)" % args.clamscan, file=sys.stderr)
        return 2
    if not args.self_test:
        if not os.access(args.ward, os.X_OK):
            print("clamav_run.py: ward binary not found at %s (build it, or set WARD_BIN)"
                  % args.ward, file=sys.stderr)
            return 2
        args.ward = os.path.abspath(args.ward)
    work = args.workdir or tempfile.mkdtemp(prefix="ward-clamdiff-")
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    runs = [do_seed(args, work, i) for i in range(args.seeds)]
    ok = True
    for sr in runs:
        if not sr.gen:
            print("clamscan refused 10 databases in a row for run %d: %s"
                  % (sr.index, sr.refused[-1]))
            ok = False
    refused = [m for sr in runs for m in sr.refused]
    cases = sum(sr.cases for sr in runs)
    nsigs = sum(len(sr.gen.sigs) for sr in runs if sr.gen)
    if args.self_test:
        good = self_test_report(runs, args)
        samples = sum(1 for sr in runs if sr.gen for e in sr.gen.expect
                      if e[3].startswith("testfile md5"))
        hosts = sorted({h[0] for sr in runs if sr.gen for h in sr.gen.hosts})
        print("clamav-testfiles samples used: %d; executables for EP/section offsets: %s"
              % (samples, " ".join(hosts) or "none"))
        print("clamav differential (self-test): %d databases, %d signatures, %d inputs, "
              "seed %d, %.1f s" % (len(runs), nsigs, cases, args.seed, time.time() - t0))
        print("databases clamscan refused and regenerated: %d" % len(refused))
        for m in refused[:5]:
            print("  " + m)
        ok = ok and good
    else:
        ok = report(args, runs, cases, nsigs, refused, t0) and ok
    if cases < args.min_cases:
        print("too few cases compared: %d (at least %d)" % (cases, args.min_cases))
        ok = False
    if ok and not args.keep and not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("work directory kept: %s" % work)
    return 0 if ok else 1


def report(args, runs, cases, nsigs, refused, t0):
    ok = True
    for sr in runs:
        if sr.ward and not sr.ward.ok:
            print("ward failed on run %d (seed %s, %s): %s" % (sr.index, sr.seed, sr.dir,
                                                                 sr.ward.error[:2000]))
            print("  command: %s" % " ".join(sr.ward.cmd[:8]) + " ...")
            ok = False
    mismatches = [(sr, m) for sr in runs for m in sr.mismatches]
    for k, (sr, m) in enumerate(mismatches[:args.show]):
        print(reproduce(args, sr, m, k + 1))
    if len(mismatches) > args.show:
        print("further mismatches:")
        for sr, m in mismatches[args.show:args.show + 40]:
            print("  run %d (%s), input %s: clamscan [%s], ward [%s]" % (
                sr.index, sr.dir, m[0], ", ".join(sorted(m[1])), ", ".join(sorted(m[2]))))
    # unsupported: counted, and listed with clamscan's matches
    left = []
    pairs = 0
    clam_pairs = 0
    for sr in runs:
        if not (sr.ward and sr.ward.ok):
            continue
        supported = set(sr.gen.sigs) - sr.ward.left_out
        pairs += len(supported) * len(sr.gen.inputs)
        clam_pairs += sum(len(s & supported) for s in sr.clam.matches.values())
        for name in sorted(sr.ward.left_out & set(sr.gen.sigs)):
            hits = sorted(f for f, s in sr.clam.matches.items() if name in s)
            left.append((sr, name, hits))
    compared = sum(len(sr.gen.sigs) for sr in runs if sr.ward and sr.ward.ok)
    kinds = {}
    for sr, name, _ in left:
        kinds[sr.gen.sigs[name][2]] = kinds.get(sr.gen.sigs[name][2], 0) + 1
    print("signatures ward left out (unsupported): %d of %d (%s)" % (
        len(left), compared, ", ".join("%s %d" % kv for kv in sorted(kinds.items())) or "none"))
    for sr, name, hits in left:
        db, line, _ = sr.gen.sigs[name]
        print("  run %d [%s] %s%s" % (sr.index, db, line if len(line) < 200 else line[:200] + "...",
                                      ("\n      clamscan matches it on %d files: %s" % (
                                          len(hits), " ".join(hits[:8]))) if hits else ""))
    refusals = [(sr, n, why) for sr in runs for n, why in sr.db_refused.items()]
    print("signatures over which ward refused the whole database (clamscan loads them; "
          "each a failure): %d" % len(refusals))
    for sr, n, why in refusals:
        hits = sorted(f for f, ss in sr.clam.matches.items() if n in ss)
        print("  run %d [%s] %s\n      ward: %s%s" % (
            sr.index, sr.gen.sigs[n][0], sr.gen.sigs[n][1], why,
            ("; clamscan matches it on %d files: %s" % (len(hits), " ".join(hits[:8])))
            if hits else ""))
    if refusals:
        ok = False
    for sr in runs:
        w = sr.ward
        if w and w.ok and w.left_count is not None and w.left_count > len(w.left_out):
            print("ward left out %d signatures of run %d but named %d on stderr: the others "
                  "count as supported here (they show as mismatches where clamscan matches "
                  "them)" % (w.left_count, sr.index, len(w.left_out)))
    # when ward only counts what it leaves out, the count is the share's base
    nleft = sum(max(len(sr.ward.left_out & set(sr.gen.sigs)), sr.ward.left_count or 0)
                for sr in runs if sr.ward and sr.ward.ok)
    share = 1.0 - (nleft + len(refusals)) / compared if compared else 0.0
    print("clamav differential: %d databases, %d signatures (%.1f%% loaded by ward), %d cases "
          "(inputs) compared, %d (file, signature) pairs decided, %d matches by clamscan, "
          "seed %d, %.1f s" % (len(runs), nsigs, 100 * share, cases, pairs, clam_pairs,
                               args.seed, time.time() - t0))
    print("databases clamscan refused and regenerated: %d" % len(refused))
    print("mismatching cases: %d" % len(mismatches))
    if share < args.min_supported:
        print("ward loaded too few of the signatures: %.1f%% (at least %.1f%%)" % (
            100 * share, 100 * args.min_supported))
        ok = False
    return ok and not mismatches


if __name__ == "__main__":
    sys.exit(main())
