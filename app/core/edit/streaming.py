"""The current edit's stream into the view: its streaming diff, from the first token to the check
of the finished result. No Qt.

`EditStream` owns the `StreamingDiff` of the edit the controller runs. The engine's messages
while a request runs (``token``, ``redirected``, ``tiles``, ``notice``) go into the diff, the
gauges and the status line here, and the paints they cause are timed: Enter → first token painted
(TTFT) and a redirect's Enter → its first token painted. The controller keeps what ends a request
(``done``, ``error``) and the mode; it calls `finish` and `check_parses` when the stream ends.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from app.core.diff.stream import StreamingDiff
from app.core.edit import review
from app.core.edit.outcome import (NOT_THE_EDIT, UNPARSABLE, SyntaxProblem, apply_hunks, not_the_edit_notice,
                                   syntax_problem, unparsable_notice)
from app.core.edit.view import EditRun, EditView


class EditStream:
    """The streaming diff of the current edit and what the engine's messages do to it."""

    def __init__(self, view: Callable[[], EditView]):
        self._view = view  # the view the controller drives now (a study may swap it)
        self.diff: StreamingDiff | None = None  # the current edit's diff (None: no edit yet)
        self.ttft_ms: list[float] = []  # ms, Enter → first token painted, per request
        self.redirect_latencies_ms: list[float] = []  # ms, a redirect's Enter → its first token painted

    def begin(self, run: EditRun) -> None:
        """`run`'s request went out: an empty diff of its target, shown by the view."""
        self.diff = StreamingDiff(run.snapshot[run.target.start:run.target.end])
        self._view().diff_begin(self.diff)

    def resume(self, run: EditRun) -> None:
        """A stopped `run` was redirected: its diff (settled for review) is rebuilt from the output
        so far, marked where the new instruction starts, and keeps the decisions already taken."""
        self.begin(run)
        if run.output:
            self._feed(run.output, 0)
        self._mark_redirect(run.instruction)
        review.restore_states(self._view(), run, self.diff)

    def forget(self) -> None:
        """Another document replaced the one the diff was for."""
        self.diff = None

    def handle(self, run: EditRun, msg: dict[str, Any]) -> None:
        """One message of `run`'s request that does not end it: token, redirected, tiles, notice."""
        kind = msg.get("type")
        if kind == "token":
            self._on_token(run, msg)
        elif kind == "redirected":
            self._mark_redirect(str(msg.get("instruction", run.instruction)))
            run.redirect_armed = True
        elif kind == "tiles":
            self._view().feed_tiles(msg)
        elif kind == "notice":
            run.notices[str(msg.get("code") or "notice")] = str(msg.get("message", ""))
            self._view().show_status(str(msg.get("message", "")), "warn")

    def finish(self, run: EditRun, stopped: bool) -> None:
        """The request ended: every hunk settles, and the decisions taken on `run` show again."""
        if self.diff is not None:
            self._view().diff_finished(self.diff.finish(stopped), stopped)
        review.restore_states(self._view(), run, self.diff)

    def check_parses(self, run: EditRun, reason: str) -> SyntaxProblem | None:
        """Mark a finished edit whose result does not parse (the engine's warning, or the file check
        here); the problem found here, or None."""
        view = self._view()
        if reason not in ("eos", "stop", "length") or view.language().lower() not in ("python", "py", "python3"):
            return None
        original = run.snapshot[run.target.start:run.target.end]
        # What accepting every change gives (a stopped edit keeps the original past its last change).
        output = apply_hunks(original, self.diff.final_hunks) if self.diff is not None else run.output
        problem = syntax_problem(run.snapshot, run.target.start, run.target.end, output)
        if problem is None and UNPARSABLE not in run.notices:
            if run.notices.get(NOT_THE_EDIT) and reason != "stop":
                run.not_the_edit = run.notices[NOT_THE_EDIT]
                view.show_notice(*not_the_edit_notice(run.not_the_edit).parts())
            return None
        run.unparsable = True
        if problem is not None:
            view.diff_mark_problem(problem.out_line)
        view.show_notice(*unparsable_notice(problem, run.notices.get(UNPARSABLE, "")).parts())
        return problem

    def _on_token(self, run: EditRun, msg: dict[str, Any]) -> None:
        view = self._view()
        text = str(msg.get("text", ""))
        count = msg["count"] if isinstance(msg.get("count"), int) else 1  # a closing text piece counts 0
        draft = int(msg.get("draft") or 0)
        run.output += text
        run.tokens += count
        now = time.perf_counter()
        # Asked before the token goes in: the view may paint output after a pause at once.
        if run.first_token_s is None:
            run.first_token_s = now  # replaced by the paint time below
            view.after_paint(lambda: self._first_paint(run))
        if run.redirect_enter_s is not None and run.redirect_armed:
            enter_s = run.redirect_enter_s
            run.redirect_enter_s = None
            view.after_paint(lambda: self._redirect_paint(enter_s))
        self._feed(text, draft)
        if count:  # a closing text piece (count 0) adds no token to the rate
            view.metrics_tokens(count, now, draft)

    def _first_paint(self, run: EditRun) -> None:
        run.first_token_s = time.perf_counter()
        self._view().metrics_first_paint(run.first_token_s)
        self.ttft_ms.append((run.first_token_s - run.started_s) * 1000.0)

    def _redirect_paint(self, enter_s: float) -> None:
        now = time.perf_counter()
        latency_ms = (now - enter_s) * 1000.0
        self._view().metrics_first_paint(now)  # after a stop the gauges restarted: this is their TTFT
        self.redirect_latencies_ms.append(latency_ms)
        self._view().show_status(f"Redirected — first new token painted {latency_ms:.0f} ms after Enter")

    def _feed(self, text: str, draft_tokens: int) -> None:
        if self.diff is not None:
            self._view().diff_update(self.diff.feed(text, draft_tokens), text)

    def _mark_redirect(self, instruction: str) -> None:
        if self.diff is not None:
            self._view().diff_redirect(self.diff.mark_redirect(instruction))
