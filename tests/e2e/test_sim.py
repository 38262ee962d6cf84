"""
ward-sim --self-contained: a whole rehearsal in one command.  For each
kind of fault, the faulty release must halt in ring 0 — never reach more
agents than ring 0 — and every agent that can still hear the server must
end on good content.
"""

import json
import os
import subprocess

import pytest

from conftest import program_path


def sim_path():
    return program_path("ward-sim")


@pytest.mark.parametrize("fault", ["crash", "reject", "silent", "alert-storm"])
def test_faulty_release_halts_in_ring_0(fault):
    env = dict(os.environ)
    env.setdefault("WARD_BIN", program_path("ward"))
    env.setdefault("WARD_SERVER_BIN", program_path("ward-server"))
    p = subprocess.run([sim_path(), "--self-contained", "--agents", "60", "--interval", "1",
                        "--soak", "2", "--fault", fault, "--json"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert r["agents"] == 60 and r["ring0_size"] == 1
    assert r["halted"] is True and r["state"] == "halted", r
    assert r["incidents"][0]["ring"] == 0
    assert r["activated_faulty"] <= r["ring0_size"]
    silent = r["activated_faulty"] if fault == "silent" else 0
    assert r["ended_on_good"] == r["agents"] - silent, r
    assert r["errors"] == 0
    # Within two check-in intervals of when the gate can see the fault
    # (for silence: after the missed check-ins that define it).
    seen_after = 1 + (3 * 1 if fault == "silent" else 1)
    assert r["seconds_to_halt"] <= seen_after + 2 * 1 + 1, r
