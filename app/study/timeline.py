"""A recorded session at any moment: what the replay viewer shows at time t (no Qt).

`SessionTimeline.state_at(t)` gives the task and condition under way, the request being
streamed or reviewed, the text it had streamed by then (when the log holds token text), its
redirects, whether it had ended, and each hunk decision so far.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass
class RequestState:
    request: str  # engine request id
    instruction: str  # the instruction sent
    original: str | None  # the targeted code when the task's text is in the log, else None
    first_line: int = 1  # the target's first line in the file (1-based)
    chunks: list = field(default_factory=list)  # [(text or None, draft)] fed so far
    redirects: list = field(default_factory=list)  # instructions of redirects so far (in order)
    feed_before_redirect: list = field(default_factory=list)  # chunks fed before each redirect
    tokens: int = 0  # tokens received so far
    ended: bool = False  # a `done` arrived by then
    stopped: bool = False  # the participant stopped it
    decisions: dict = field(default_factory=dict)  # hunk index → accepted / rejected


@dataclass
class MomentState:
    t: float  # the moment, s on the log's clock
    task: str | None  # task under way (None between tasks)
    position: int | None  # its place in the session
    condition: str | None  # its condition label
    request: RequestState | None  # the latest request of the task by then
    events_before: int  # how many events happened at or before t


class SessionTimeline:
    def __init__(self, events: list[dict]) -> None:
        self.events = sorted(events, key=lambda e: e["t"])
        self.times = [e["t"] for e in self.events]
        self.start = self.times[0] if self.times else 0.0
        self.end = self.times[-1] if self.times else 0.0
        start = next((e for e in self.events if e["kind"] == "log_start"), {})
        self.participant = str(start.get("participant", ""))
        self.study = str(start.get("study", ""))
        self.has_text = bool(start.get("log_file_contents"))

    def state_at(self, t: float) -> MomentState:
        n = bisect.bisect_right(self.times, t)
        task = position = condition = None
        doc = None
        request: RequestState | None = None
        for e in self.events[:n]:
            kind = e["kind"]
            if kind == "task_start":
                task, position, condition = e["task"], e.get("position"), e.get("condition_label")
                doc, request = e.get("text"), None
            elif kind == "task_end":
                task = position = condition = None
                request = None
            elif kind == "request_sent":
                original, first_line = None, 1
                if doc is not None and isinstance(e.get("target_start"), int):
                    original = doc[e["target_start"]:e["target_end"]]
                    first_line = doc.count("\n", 0, e["target_start"]) + 1
                request = RequestState(str(e.get("request")), str(e.get("instruction", "")), original, first_line)
            elif request is None or e.get("request") not in (None, request.request):
                continue
            elif kind == "tokens":
                request.chunks.append((e.get("text"), int(e.get("draft") or 0)))
                request.tokens += int(e.get("count") or 0)
            elif kind == "redirect":
                request.redirects.append(str(e.get("instruction", "")))
                request.feed_before_redirect.append(len(request.chunks))
            elif kind == "stop":
                request.stopped = True
            elif kind == "done":
                request.ended = True
            elif kind in ("hunk_accepted", "hunk_rejected"):
                request.decisions[int(e["hunk"])] = kind.removeprefix("hunk_")
        return MomentState(t, task, position, condition, request, n)
