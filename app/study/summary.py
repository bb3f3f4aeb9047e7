"""Per-task figures from a session's events (no Qt, no plotting).

TTFT seen: the app's own time from Enter to the first token painted (``first_token_painted``).
tok/s seen: per request, tokens after the first divided by the time from the first to the last
token batch the app received; the task's figure is the median over its requests.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field


@dataclass
class TaskSummary:
    study: str  # study id
    participant: str  # participant id
    position: int  # 1-based place in the session
    task: str  # task id
    condition: str  # condition id
    condition_label: str  # the condition as researchers name it
    outcome: str = "unfinished"  # finished / skipped / aborted / unfinished (log ends mid-task)
    time_on_task_s: float | None = None  # task start to task end, s
    success: bool | None = None  # the success check passed (None: no check or not run)
    requests: int = 0  # edits sent
    ttft_seen_ms: float | None = None  # median over requests, Enter → first token painted, ms
    tok_s_seen: float | None = None  # median over requests of the received decode speed, tok/s
    stops: int = 0  # stops pressed
    redirects: int = 0  # redirects (mid-stream or after a stop)
    hunks_shown: int = 0  # settled hunks shown
    hunks_accepted: int = 0
    hunks_rejected: int = 0
    acceptance_rate: float | None = None  # accepted / (accepted + rejected)
    decision_s_median: float | None = None  # hunk shown → decided, median, s
    edits_after_accept: int = 0  # manual edits after the first accept
    undos: int = 0
    survival_30s: float | None = None  # mean surviving fraction of accepted code at 30 s
    survival_2min: float | None = None  # ... at 2 min
    survival_end: float | None = None  # ... at task end
    paused_s: float = 0.0  # time the researcher paused the task, s (not in time_on_task_s)
    response_sources: str = ""  # replay / live / ... per request, joined
    tlx_raw: float | None = None  # raw NASA-TLX after the task
    _ttft: list = field(default_factory=list, repr=False)
    _decisions: list = field(default_factory=list, repr=False)
    _survival: dict = field(default_factory=dict, repr=False)
    _batches: dict = field(default_factory=dict, repr=False)
    _sources: list = field(default_factory=list, repr=False)
    _requests: set = field(default_factory=set, repr=False)
    _paused_at: float | None = field(default=None, repr=False)

    def row(self) -> dict:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


def _median(values: list) -> float | None:
    return round(statistics.median(values), 3) if values else None


def session_meta(events: list[dict]) -> dict:
    start = next((e for e in events if e["kind"] == "log_start"), {})
    return {"study": start.get("study", ""), "participant": str(start.get("participant", ""))}


def summarize(events: list[dict]) -> list[TaskSummary]:
    """One `TaskSummary` per task started in the session, in session order."""
    meta = session_meta(events)
    tasks: dict[str, TaskSummary] = {}
    current: TaskSummary | None = None
    started: dict[str, float] = {}
    segment: dict = {}  # request id → its current stream segment (a redirect starts a new one)
    for e in events:
        kind = e["kind"]
        if kind in ("request_sent", "redirect"):
            rid = e.get("request")
            segment[rid] = (rid, e["t"])
        if kind == "task_start":
            current = TaskSummary(meta["study"], meta["participant"], int(e.get("position", 0)), e["task"],
                                  str(e.get("condition", "")), str(e.get("condition_label", "")))
            tasks[e["task"]] = current
            started[e["task"]] = e["t"]
            continue
        s = tasks.get(e.get("task")) if e.get("task") else current
        if s is None:
            continue
        if kind == "task_end":
            s.outcome = e.get("outcome", "finished")
            if s._paused_at is not None:  # ended while paused
                s.paused_s += e["t"] - s._paused_at
                s._paused_at = None
            s.paused_s = round(s.paused_s, 3)
            s.time_on_task_s = round(e["t"] - started[s.task] - s.paused_s, 3)
        elif kind == "pause":
            s._paused_at = e["t"]
        elif kind == "resume" and s._paused_at is not None:
            s.paused_s += e["t"] - s._paused_at
            s._paused_at = None
        elif kind == "success":
            s.success = e.get("passed")
        elif kind == "request_sent":
            s._requests.add(e.get("request"))  # a redirect after a stop continues the same request
            s.requests = len(s._requests)
        elif kind == "first_token_painted" and isinstance(e.get("ttft_ms"), (int, float)):
            s._ttft.append(e["ttft_ms"])
        elif kind == "tokens":
            s._batches.setdefault(segment.get(e.get("request"), e.get("request")), []).append(
                (e["t"], int(e.get("count") or 0)))
        elif kind == "stop":
            s.stops += 1
        elif kind == "redirect":
            s.redirects += 1
        elif kind == "done" and e.get("response_source"):
            s._sources.append(e["response_source"])
        elif kind == "hunk_shown":
            s.hunks_shown += 1
        elif kind in ("hunk_accepted", "hunk_rejected"):
            if kind == "hunk_accepted":
                s.hunks_accepted += 1
            else:
                s.hunks_rejected += 1
            if isinstance(e.get("decision_s"), (int, float)):
                s._decisions.append(e["decision_s"])
        elif kind == "edit" and e.get("after_accept"):
            s.edits_after_accept += 1
        elif kind == "undo":
            s.undos += 1
        elif kind == "survival" and e.get("reached"):
            s._survival.setdefault(e["checkpoint"], []).append(float(e["fraction"]))
        elif kind == "questionnaire" and e.get("scope") == "task":
            s.tlx_raw = e.get("tlx_raw")
    for s in tasks.values():
        s.ttft_seen_ms = _median(s._ttft)
        s.tok_s_seen = _median([r for r in (request_tok_s(b) for b in s._batches.values()) if r is not None])
        s.decision_s_median = _median(s._decisions)
        decided = s.hunks_accepted + s.hunks_rejected
        s.acceptance_rate = round(s.hunks_accepted / decided, 4) if decided else None
        for name, key in (("survival_30s", "30s"), ("survival_2min", "120s"), ("survival_end", "task_end")):
            values = s._survival.get(key)
            setattr(s, name, round(sum(values) / len(values), 4) if values else None)
        s.response_sources = "+".join(s._sources)
    return list(tasks.values())


def request_tok_s(batches: list[tuple[float, int]]) -> float | None:
    """Received decode speed of one request: tokens after the first batch over the time they took."""
    counted = [(t, n) for t, n in batches if n > 0]
    if len(counted) < 2:
        return None
    span = counted[-1][0] - counted[0][0]
    tokens = sum(n for _, n in counted[1:])
    return tokens / span if span > 0 else None


def rate_series(batches: list[tuple[float, int]], window: int = 32) -> tuple[list[float], list[float]]:
    """Received tok/s over a stream: (s since its first token, tok/s) at each batch.

    The rate at batch i is the tokens of the `window` batches up to i over the time they took: a
    sliding window resolves a 1,000 tok/s stream (a few hundred ms long) as well as a slow one,
    where fixed time bins would hold a handful of samples. Only full windows are drawn (a shorter
    stream gives one point, its overall rate), so the app's event-loop bursts do not show as spikes.
    """
    counted = [(t, n) for t, n in batches if n > 0]
    times, rates = [], []
    k = min(window, len(counted) - 1)
    for i in range(k, len(counted)) if k > 0 else ():
        span = counted[i][0] - counted[i - k][0]
        if span > 0:
            times.append(round(counted[i][0] - counted[0][0], 6))
            rates.append(sum(n for _, n in counted[i - k + 1:i + 1]) / span)
    return times, rates
