"""Survival of accepted code at 30 s, 2 min and task end; the per-task summary of a log."""

from app.study.summary import rate_series, summarize
from app.study.survival import Accepted, SurvivalTracker, survival_fraction


def test_fraction_of_an_accepted_change_still_in_the_file():
    added = "    total = a + b\n    return total\n"
    assert survival_fraction(added, "", "def f(a, b):\n" + added) == 1.0
    assert survival_fraction(added, "", "def f(a, b):\n    total = a + b\n    return total * 2\n") == 0.5
    assert survival_fraction(added, "", "def f(a, b):\n    return a + b\n") == 0.0
    removed = "    print(a)\n"  # a deletion survives while the removed line stays out
    assert survival_fraction("", removed, "def f(a):\n    return a\n") == 1.0
    assert survival_fraction("", removed, "def f(a):\n    print(a)\n    return a\n") == 0.0


def test_checkpoints_come_due_once_and_the_rest_at_task_end():
    tracker = SurvivalTracker()
    tracker.add(Accepted(0, "r1", "x = 1\n", "", t_accept=10.0))
    doc = "x = 1\n"
    assert tracker.due(39.9, doc) == []
    first = tracker.due(40.0, doc)
    assert [(e["checkpoint"], e["survived"]) for e in first] == [("30s", True)]
    assert tracker.due(45.0, doc) == []
    end = tracker.at_end("x = 2\n")  # edited away before 2 min: the 2 min checkpoint was not reached
    assert [(e["checkpoint"], e["reached"]) for e in end] == [("120s", False), ("task_end", True)]
    assert end[-1]["fraction"] == 0.0 and end[-1]["survived"] is False


def test_summary_of_a_hand_written_log():
    events = [
        {"t": 0.0, "kind": "log_start", "study": "s", "participant": "P1"},
        {"t": 1.0, "kind": "task_start", "task": "a", "position": 1, "condition": "fast", "condition_label": "F"},
        {"t": 2.0, "kind": "request_sent", "task": "a", "request": "r1"},
        {"t": 2.2, "kind": "first_token_painted", "task": "a", "request": "r1", "ttft_ms": 200.0},
        *({"t": 2.2 + i * 0.01, "kind": "tokens", "task": "a", "request": "r1", "count": 1} for i in range(41)),
        {"t": 2.7, "kind": "hunk_accepted", "task": "a", "request": "r1", "hunk": 0, "decision_s": 0.5},
        {"t": 2.9, "kind": "hunk_rejected", "task": "a", "request": "r1", "hunk": 1, "decision_s": 0.7},
        {"t": 3.0, "kind": "pause", "task": "a"},
        {"t": 8.0, "kind": "resume", "task": "a"},
        {"t": 9.0, "kind": "survival", "task": "a", "checkpoint": "task_end", "reached": True, "fraction": 0.5},
        {"t": 9.0, "kind": "task_end", "task": "a", "outcome": "finished"},
        {"t": 9.5, "kind": "success", "task": "a", "passed": True},
    ]
    (s,) = summarize(events)
    assert (s.requests, s.ttft_seen_ms, s.hunks_accepted, s.hunks_rejected, s.acceptance_rate) == (1, 200.0, 1, 1, 0.5)
    assert s.tok_s_seen == 100.0 and s.decision_s_median == 0.6
    assert (s.time_on_task_s, s.paused_s, s.survival_end, s.success) == (3.0, 5.0, 0.5, True)
    times, rates = rate_series([(2.2 + i * 0.01, 1) for i in range(41)])
    assert len(times) == 41 - 32 and all(abs(r - 100.0) < 1e-6 for r in rates)
