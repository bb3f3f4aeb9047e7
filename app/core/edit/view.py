"""What the edit controller needs from a view, and the state of one edit run. No Qt."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from app.core.diff.stream import DiffUpdate, Redirect, StreamingDiff
from app.core.edit.states import HunkState, Mode
from app.core.edit.targeting import Target
from wire import DoneStats


class EditView(Protocol):
    """What the controller needs from the window; the window (or a test's fake) provides it."""

    def document_text(self) -> str: ...
    def selection(self) -> tuple[int, int]: ...  # (start, end) char offsets, start <= end
    def language(self) -> str: ...
    def document_path(self) -> str | None: ...
    def show_target(self, start: int, end: int, label: str) -> None: ...
    def clear_target(self) -> None: ...
    def preview_target(self, label: str) -> None: ...  # what the next edit would target
    def diff_begin(self, diff: StreamingDiff) -> None: ...  # show this diff (the controller's)
    def diff_update(self, update: DiffUpdate, text: str) -> None: ...  # it changed: `text` was fed
    def diff_redirect(self, redirect: Redirect) -> None: ...  # a redirect marker was placed in it
    def diff_finished(self, update: DiffUpdate, stopped: bool) -> None: ...  # every hunk settled
    def set_hunk_state(self, index: int, state: HunkState) -> None: ...  # the controller's decision
    def replace_ranges(self, edits: list[tuple[int, int, str]]) -> int | None: ...  # one undo step;
    # returns the editor's undo position after it (None: the view keeps no undo stack)
    def set_mode(self, mode: Mode) -> None: ...
    def show_status(self, text: str, level: str = "info") -> None: ...  # info/ok/warn/error
    def keep_instruction(self, instruction: str) -> None: ...  # refused: back into the bar to edit
    def show_context(self, used_tokens: int, context_length: int, fits: bool, windows: int = 0) -> None: ...
    # windows: how many windows the engine edits a longer target in (0: one prompt)
    def metrics_start(self, t_s: float) -> None: ...
    def metrics_tokens(self, count: int, t_s: float, draft: int) -> None: ...
    def metrics_first_paint(self, t_s: float) -> None: ...
    def metrics_done(self, stats: DoneStats) -> float | None: ...  # the speed figure shown (tok/s)
    def after_paint(self, callback: Callable[[], None]) -> None: ...  # once the diff repainted
    def feed_tiles(self, msg: dict[str, Any]) -> None: ...
    def show_notice(self, kind: str, text: str, action: str) -> None: ...  # above the diff, until the next edit
    def clear_notice(self) -> None: ...
    def diff_mark_problem(self, out_line: int) -> None: ...  # the output line where parsing fails
    def confirm(self, question: str, yes: str, then: Callable[[], Any]) -> None: ...  # `then` on yes
    def set_selection(self, start: int, end: int) -> None: ...  # select text in the editor (chars)


@dataclass
class EditRun:
    """One edit request as the app sees it, across redirects."""

    request_id: str  # the engine request id (kept across redirects)
    instruction: str  # the latest instruction
    target: Target  # the targeted range in `snapshot`
    snapshot: str  # the whole document when the request started
    started_s: float  # perf_counter() at Enter
    sent_s: float | None = None  # perf_counter() once `generate` had gone out on the socket
    output: str = ""  # everything streamed so far (all segments)
    tokens: int = 0  # tokens received so far
    first_token_s: float | None = None  # perf_counter() when the first token was painted
    resolved: dict[tuple[int, int, str], HunkState] = field(default_factory=dict)  # hunk key → decision
    accept_steps: dict[int, list[tuple[int, int, str]]] = field(default_factory=dict)  # editor undo
    # position right after an accept → the keys of the hunks it applied (undo/redo keep them in step)
    redirect_enter_s: float | None = None  # perf_counter() at the redirect's Enter, until painted
    redirect_armed: bool = False  # tokens now follow the new instruction (timing the redirect)
    stopped: bool = False  # the user pressed Stop (or the stream ended on `stop`)
    finished: bool = False  # the engine sent a terminal `done` or `error`
    stats: DoneStats = field(default_factory=DoneStats)  # the engine's `done` stats
    notices: dict[str, str] = field(default_factory=dict)  # the engine's notices: code → message
    unparsable: bool = False  # the finished edit does not parse (Ctrl+Enter asks before accepting)
    not_the_edit: str = ""  # the engine found the edit is not its skill's edit: why (Ctrl+Enter asks too)
