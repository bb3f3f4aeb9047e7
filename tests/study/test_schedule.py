"""Counterbalancing: Williams squares are Latin and carry-over balanced for 2–6 conditions."""

import itertools
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from app.study.schedule import participant_number, plan_for, williams

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "resources" / "studies" / "speed-pilot.toml"


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_williams_square_is_latin_and_balanced(n):
    rows = williams(n)
    assert len(rows) == (n if n % 2 == 0 else 2 * n)
    for row in rows:
        assert sorted(row) == list(range(n))  # each row a permutation
    for pos in range(n):  # each condition equally often in each position
        assert Counter(row[pos] for row in rows) == {c: len(rows) // n for c in range(n)}
    pairs = Counter((a, b) for row in rows for a, b in zip(row, row[1:]))
    expected = 1 if n % 2 == 0 else 2
    assert pairs == {(a, b): expected for a, b in itertools.permutations(range(n), 2)}


@pytest.mark.parametrize("n_cond,n_task", [(2, 3), (3, 3), (4, 2), (5, 4), (6, 6)])
def test_plans_cross_condition_and_task_orders(n_cond, n_task):
    conds = [f"c{i}" for i in range(n_cond)]
    tasks = [f"t{i}" for i in range(n_task)]
    rows_c, rows_t = len(williams(n_cond)), len(williams(n_task))
    plans = [plan_for(p, conds, tasks) for p in range(rows_c * rows_t)]
    combos = {(p.condition_order, p.task_order) for p in plans}
    assert len(combos) == rows_c * rows_t  # every combination once
    for p in plans:
        assert sorted(p.task_order) == tasks and sorted(p.condition_order) == conds
        assert [s.task for s in p.slots] == list(p.task_order)
    # Each task runs under each condition equally often over the full cycle.
    runs = Counter((s.task, s.condition) for p in plans for s in p.slots)
    assert len(set(runs.values())) == 1 and len(runs) == n_task * n_cond if n_task >= n_cond else True
    assert plan_for(len(plans), conds, tasks) == plan_for(0, conds, tasks).__class__(
        len(plans), plans[0].condition_order, plans[0].task_order, plans[0].slots)


def test_participant_numbers_from_ids():
    assert participant_number("P07") == 7 and participant_number("12") == 12
    with pytest.raises(ValueError):
        participant_number("anna")
    with pytest.raises(ValueError):
        plan_for(-1, ["a"], ["b"])


def test_schedule_cli_prints_each_participants_plan():
    out = subprocess.run([sys.executable, "-m", "app", "study", "schedule", str(EXAMPLE), "--participants", "4",
                          "--json"], capture_output=True, text=True, cwd=ROOT, check=True, timeout=60)
    plans = json.loads(out.stdout)
    assert [p["participant"] for p in plans] == [0, 1, 2, 3]
    assert plans[0]["condition_order"] != plans[1]["condition_order"]
    assert all(len(p["slots"]) == 3 for p in plans)
    bad = subprocess.run([sys.executable, "-m", "app", "study", "schedule", str(ROOT / "nope.toml")],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert bad.returncode == 2 and "nope.toml" in bad.stderr
