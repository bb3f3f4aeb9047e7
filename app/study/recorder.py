"""What happens during a task, as log events: the edit controller's view calls, observed.

`RecordingView` stands between the `EditController` and the window: it forwards every call and
tells the `StudyRecorder`, which writes the events. Nothing of the controller changes, and the
recorder needs no Qt, so tests drive it with a fake view.

Events (all on the log's one clock, ``t`` in s): request_sent, first_token_received,
first_token_painted, tokens (each batch: count, chars, draft), redirect (with its text), stop,
done, hunk_shown, hunk_accepted / hunk_rejected (with ``decision_s``), edit (manual, with
``after_accept``), undo, survival.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from app.core.edit.review import hunk_key
from app.core.edit.states import HunkState
from wire import DoneStats
from .eventlog import EventLog
from .survival import Accepted, SurvivalTracker


class StudyRecorder:
    """Writes one task's interaction events; `controller` gives the current run and diff."""

    def __init__(self, log: EventLog, controller, log_contents: bool = False) -> None:
        self.log = log
        self.controller = controller
        self.log_contents = log_contents  # file text and code snippets go into the log only if True
        self.survival = SurvivalTracker()
        self.task: str | None = None  # the current task id (None between tasks)
        self._shown: dict[tuple, tuple[float, int]] = {}  # hunk key → (shown at, index)
        self._decided: set[tuple] = set()
        self._first_token: set[str] = set()  # requests whose first token arrived
        self._accepts = 0  # accepts in the current task
        self._in_replace = False  # the controller is applying an accept (not a manual edit)
        self._pending_text = ""  # that text itself (only when contents are logged)
        self._pending_chars = 0  # text of the batch whose count has not been reported yet

    @property
    def in_replace(self) -> bool:
        """The controller is applying an accept: the editor's changes are not the participant's."""
        return self._in_replace

    @contextmanager
    def replacing(self) -> Iterator[None]:
        """Around the controller's own edits of the text (an accept)."""
        self._in_replace = True
        try:
            yield
        finally:
            self._in_replace = False

    def at(self, perf_s: float) -> float:
        return self.log.to_log_time(perf_s)

    def write(self, kind: str, t: float | None = None, **fields: Any) -> None:
        if self.task is not None:
            fields.setdefault("task", self.task)
        self.log.write(kind, t, **fields)

    def begin_task(self, task: str) -> None:
        self.task = task
        self.survival = SurvivalTracker()
        self._shown.clear()
        self._decided.clear()
        self._accepts = 0

    def end_task(self, document: str) -> None:
        for event in self.survival.at_end(document):
            self.write("survival", **event)
        self.task = None

    def poll(self, document: str) -> None:
        """Log survival checkpoints that have come due (call about once a second)."""
        for event in self.survival.due(self.log.now(), document):
            self.write("survival", **event)

    def _request(self) -> str | None:
        run = self.controller.run
        return run.request_id if run is not None else None

    # -- observed view calls -------------------------------------------------------------------
    def request_sent(self, enter_perf_s: float) -> None:
        run = self.controller.run
        fields = {"request": self._request(), "enter_t": round(self.at(enter_perf_s), 6),
                  "profile": self.controller.settings.profile,
                  "emulate": self.controller.settings.emulate}
        if run is not None:
            fields.update(instruction=run.instruction, target=run.target.label,
                          target_start=run.target.start, target_end=run.target.end)
        self.write("request_sent", **fields)

    def tokens(self, text: str) -> None:
        """Text arrived (the diff is fed); `token_batch` follows with its count and time."""
        rid = self._request()
        if rid is not None and rid not in self._first_token:
            self._first_token.add(rid)
            self.write("first_token_received", request=rid)
        self._pending_chars += len(text)
        if self.log_contents:
            self._pending_text += text

    def token_batch(self, count: int, perf_s: float, draft: int) -> None:
        fields = {"text": self._pending_text} if self.log_contents else {}
        self.write("tokens", t=self.at(perf_s), request=self._request(), count=count,
                   chars=self._pending_chars, draft=draft, **fields)
        self._pending_chars, self._pending_text = 0, ""
        self.hunks_settled()

    def first_paint(self, paint_perf_s: float) -> None:
        run = self.controller.run
        # The controller stamps the run's first paint time and passes that same reading; any other
        # call is the first paint after a redirect.
        if run is None:
            return
        if run.first_token_s != paint_perf_s:  # Enter of a redirect → its first token painted
            self.write("redirect_painted", t=self.at(paint_perf_s), request=run.request_id)
            return
        self.write("first_token_painted", t=self.at(paint_perf_s), request=run.request_id,
                   ttft_ms=round((paint_perf_s - run.started_s) * 1000.0, 3))

    def redirect(self, instruction: str) -> None:
        self.write("redirect", request=self._request(), instruction=instruction)

    def finished(self, stopped: bool) -> None:
        if stopped:
            self.write("stop", request=self._request())
        self.hunks_settled()

    def done(self, stats: DoneStats) -> None:
        keep = ("ttft_ms", "tokens_out", "decode_tok_s", "emulated_tok_s", "emulated_ttft_ms", "released_ttft_ms",
                "profile", "paced", "lag_ms", "response_source", "speculate", "draft_accepted_tokens", "redirects")
        run = self.controller.run
        figures = stats.to_message()
        self.write("done", request=self._request(), tokens_seen=run.tokens if run else None,
                   stopped=bool(run and run.stopped), **{k: figures[k] for k in keep if k in figures})

    def hunks_settled(self) -> None:
        diff = self.controller.diff
        if diff is None:
            return
        for hunk in diff.final_hunks:
            key = hunk_key(hunk)
            if key not in self._shown:
                self._shown[key] = (self.log.now(), hunk.index)
                fields = {"request": self._request(), "hunk": hunk.index, "hunk_kind": hunk.kind,
                          "lines_removed": hunk.orig_end - hunk.orig_start, "lines_added": len(hunk.new_lines)}
                if self.log_contents:
                    fields["added"] = hunk.new_text
                self.write("hunk_shown", **fields)

    def hunk_state(self, index: int, state: str) -> None:
        diff, run = self.controller.diff, self.controller.run
        if diff is None or state not in (HunkState.ACCEPTED, HunkState.REJECTED, HunkState.CONFLICT):
            return
        finals = diff.final_hunks
        if not 0 <= index < len(finals):
            return
        hunk = finals[index]
        key = hunk_key(hunk)
        if (key, state) in self._decided:
            return  # restored after a redirect, not a new decision
        self._decided.add((key, state))
        shown_at = self._shown.get(key, (None, index))[0]
        now = self.log.now()
        decision = None if shown_at is None else round(now - shown_at, 6)
        self.write(f"hunk_{state}", request=self._request(), hunk=index, decision_s=decision)
        if state == HunkState.ACCEPTED and run is not None:
            self._accepts += 1
            removed = "".join(diff.original_lines[hunk.orig_start:hunk.orig_end])
            self.survival.add(Accepted(index, run.request_id, hunk.new_text, removed, now))

    def manual_edit(self, position: int, removed: int, added: int, text: str | None = None) -> None:
        fields = {"position": position, "removed": removed, "added": added, "after_accept": self._accepts > 0}
        if self.log_contents and text is not None:
            fields["text"] = text
        self.write("edit", **fields)

    def undo(self) -> None:
        self.write("undo")


class RecordingView:
    """An `EditView` that forwards to `view` and reports to `recorder` (see the module docstring)."""

    def __init__(self, view, recorder: StudyRecorder) -> None:
        self._view = view
        self._recorder = recorder

    def __getattr__(self, name: str):
        return getattr(self._view, name)

    def metrics_start(self, t_s: float) -> None:
        self._view.metrics_start(t_s)
        self._recorder.request_sent(t_s)

    def diff_update(self, update, text: str) -> None:
        self._view.diff_update(update, text)
        self._recorder.tokens(text)

    def metrics_tokens(self, count: int, t_s: float, draft: int) -> None:
        self._view.metrics_tokens(count, t_s, draft)
        self._recorder.token_batch(count, t_s, draft)

    def metrics_first_paint(self, t_s: float) -> None:
        self._view.metrics_first_paint(t_s)
        self._recorder.first_paint(t_s)

    def diff_redirect(self, redirect) -> None:
        self._view.diff_redirect(redirect)
        self._recorder.redirect(redirect.instruction)

    def diff_finished(self, update, stopped: bool) -> None:
        self._view.diff_finished(update, stopped)
        self._recorder.finished(stopped)

    def metrics_done(self, stats: DoneStats) -> None:
        self._view.metrics_done(stats)
        self._recorder.done(stats)

    def set_hunk_state(self, index: int, state) -> None:
        self._view.set_hunk_state(index, state)
        self._recorder.hunk_state(index, state)

    def replace_ranges(self, edits: list[tuple[int, int, str]]) -> int | None:
        with self._recorder.replacing():
            return self._view.replace_ranges(edits)
