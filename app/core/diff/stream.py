"""Streaming line diff of an original text against model output that arrives in chunks.

Pure Python, no Qt. The live-diff pane and the review logic share it.

How it stays stable and cheap:

- Only complete output lines are diffed; the unfinished last line is held back.
- The diff is settled left to right. Everything before the *sync point* ``(a0, b0)``
  (original line ``a0``, output line ``b0``) is final and never touched again. Behind the
  sync point the unsettled *tail* (``original[a0:]`` against ``output[b0:]``) is diffed with
  difflib's own algorithm (longest matching block first, ties to the earliest line), using an
  index of the original's lines so a diff costs the size of the output tail, not of the file.
- A hunk becomes final once a later line of the original is matched behind it by an *anchor*:
  a run of at least ``MIN_ANCHOR_LINES`` equal lines, or a run that contains a line occurring
  exactly once in the original. A lone blank line or ``return`` therefore never settles a hunk
  (it would too often match the wrong place while the model is still inserting code).
- A new output line that occurs nowhere in the rest of the original cannot change any matching
  block, so it costs no diff at all; a full rewrite streams in constant time per line.
- After a stop, output lines past the last matched line that rewrite the next unreached original
  lines replace them instead of being inserted before them (so a rename stopped mid-stream does
  not leave the old line under the new one). They are walked in order against the unreached
  original: a line that is a rewrite of the next original line not yet taken takes it (same
  indentation, and a difflib ratio of the stripped lines of at least ``STOP_REWRITE_RATIO`` on
  tokens or ``STOP_REWRITE_CHAR_RATIO`` on characters; blank pairs with blank), any other line
  is new. The original up to
  the last line taken is replaced, the rest kept. Genuinely new lines (a docstring) stay
  insertions; an unfinished line that begins a next original line is a copy, as before.

Why the final hunks are not always byte-for-byte difflib's: difflib looks at the whole output, and
output that has not arrived yet can change how it aligns the beginning (append a copy of the
original to any output and difflib turns the whole beginning into one insertion). No streaming diff
can promise both that and hunks that never change. This one promises: hunks never change once
final; the result depends only on the two texts, never on how the output was chunked; applying all
hunks gives the output exactly; and between sync points it is difflib's diff, which makes it equal
to the whole-text difflib diff whenever the aligned lines are unambiguous.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from app.core.diff.rewrite import rewritten_through
from app.core.diff.tailmatch import TailMatcher

# An equal run this long settles the hunk before it even without a unique line.
MIN_ANCHOR_LINES = 3
# A line more frequent than this in the original (blank lines, "return") never starts a match
# by itself, it only extends one (difflib's "popular" rule): this bounds the cost of a diff.
POPULAR_LINE_COUNT = 32
# An unsettled output tail longer than this settles its first match even without an anchor,
# so a long ambiguous stretch never makes each new line cost a diff of the whole stretch.
MAX_TAIL_LINES = 48
# After a stop, an unfinished line that begins one of this many next original lines is taken as
# a copy of that line (the model skipped the lines before it), not as new text.
STOP_COPY_LOOKAHEAD_LINES = 4
# After a stop, an output line past the last match rewrites the next unreached original line if,
# at the same indentation, the difflib ratio of their stripped tokens is at least the first
# (difflib's get_close_matches cutoff) or that of their characters at least the second (the
# cutoff of difflib.Differ for similar lines); see the module docstring.
STOP_REWRITE_RATIO = 0.6
STOP_REWRITE_CHAR_RATIO = 0.75


def split_lines(text: str) -> list[str]:
    """Split on "\\n" only, keeping the ends (the last line may lack one); "" gives []."""
    lines = text.split("\n")
    tail = lines.pop()
    out = [line + "\n" for line in lines]
    if tail:
        out.append(tail)
    return out


@dataclass(frozen=True)
class Hunk:
    """One change: original lines [orig_start, orig_end) become ``new_lines``."""

    index: int  # position among the diff's hunks, 0-based; stable once final
    orig_start: int  # first original line replaced (0-based line number)
    orig_end: int  # line after the last original line replaced (exclusive line number)
    new_lines: tuple[str, ...]  # replacement lines, each ending in "\n" except maybe the last
    final: bool  # True once it can never change again (safe to accept)
    orig_start_char: int  # where the replaced text starts in the original (char offset)
    orig_end_char: int  # where the replaced text ends in the original (char offset, exclusive)
    out_start: int  # first output line of new_lines (0-based line number)
    old_text: str  # the original text being replaced (chars)

    @property
    def new_text(self) -> str:
        return "".join(self.new_lines)

    @property
    def kind(self) -> str:
        if self.orig_start == self.orig_end:
            return "insert"
        return "replace" if self.new_lines else "delete"


@dataclass(frozen=True)
class Segment:
    """A run of rows for display: equal lines, or the removed/added lines of one hunk."""

    kind: str  # "equal", "replace", "delete" or "insert"
    orig_start: int  # first original line (0-based line number)
    orig_end: int  # line after the last original line (exclusive)
    out_start: int  # first output line (0-based line number)
    out_end: int  # line after the last output line (exclusive)
    hunk: int  # index of the hunk it shows; -1 for equal runs


@dataclass(frozen=True)
class Redirect:
    """Where the output continued under a new instruction."""

    out_char: int  # offset in the output where the redirect happened (chars)
    out_line: int  # output line that offset falls in (0-based line number)
    instruction: str  # the new instruction, for the marker's label


@dataclass(frozen=True)
class DraftSpan:
    """Output characters that arrived in a chunk holding accepted speculative tokens."""

    out_start_char: int  # first char of the chunk in the output (char offset)
    out_end_char: int  # end of the chunk (char offset, exclusive)
    draft_tokens: int  # tokens of the chunk that came from accepted speculation (count)


@dataclass
class DiffUpdate:
    """What changed since the previous ``feed``/``finish`` call."""

    final_segments: list[Segment] = field(default_factory=list)  # newly final rows, in order
    new_final_hunks: list[Hunk] = field(default_factory=list)  # hunks that just became final
    tentative_segments: list[Segment] = field(default_factory=list)  # whole unsettled region now
    tentative_hunks: list[Hunk] = field(default_factory=list)  # unsettled hunks (may change)
    partial_line: str = ""  # the held-back unfinished output line (chars)
    pending_start: int = 0  # first original line the output has not reached (line number);
    # after finish(stopped=True) the original from here on is kept unchanged
    new_redirects: list[Redirect] = field(default_factory=list)  # redirects since last call
    new_draft_spans: list[DraftSpan] = field(default_factory=list)  # draft chunks since last call
    lines_added: int = 0  # complete output lines that arrived since last call (count)
    done: bool = False  # True after finish(): nothing is tentative any more


class StreamingDiff:
    """Diff of ``original`` against output that streams in; see the module docstring."""

    def __init__(self, original: str):
        if not isinstance(original, str):
            raise TypeError(f"original must be str, not {type(original).__name__}")
        self.original = original
        self._orig = split_lines(original)
        self._orig_char = [0]  # char offset of each original line start, plus the end
        for line in self._orig:
            self._orig_char.append(self._orig_char[-1] + len(line))
        self._index: dict[str, list[int]] = {}
        for i, line in enumerate(self._orig):
            self._index.setdefault(line, []).append(i)
        self._popular = {line for line, at in self._index.items() if len(at) > POPULAR_LINE_COUNT}
        self._out: list[str] = []  # complete output lines
        self._partial = ""  # unfinished last output line
        self._out_chars = 0  # output chars received so far
        self._a0 = 0  # sync point: original lines before it are settled
        self._b0 = 0  # sync point: output lines before it are settled
        self._blocks: list[tuple[int, int, int]] = []  # tail matching blocks, absolute
        self._final_hunks: list[Hunk] = []
        self._final_segments: list[Segment] = []
        self._redirects: list[Redirect] = []
        self._draft_spans: list[DraftSpan] = []
        self._update = DiffUpdate()
        self._tentative_cache: tuple[list[Segment], list[Hunk], int] | None = None
        self._kept_from = 0  # after finish(): first original line left as it was (line number)
        self._done = False

    # ---- read access for views -------------------------------------------------------
    @property
    def original_lines(self) -> list[str]:
        return self._orig

    @property
    def output_lines(self) -> list[str]:
        """Complete output lines so far (after finish(): all of them)."""
        return self._out

    @property
    def output_text(self) -> str:
        return "".join(self._out) + self._partial

    @property
    def done(self) -> bool:
        return self._done

    @property
    def redirects(self) -> list[Redirect]:
        return list(self._redirects)

    @property
    def draft_spans(self) -> list[DraftSpan]:
        return list(self._draft_spans)

    @property
    def draft_spans_view(self) -> Sequence[DraftSpan]:
        """The draft spans without a copy (read only; in output order)."""
        return self._draft_spans

    @property
    def final_segments(self) -> list[Segment]:
        return list(self._final_segments)

    @property
    def hunks(self) -> list[Hunk]:
        """Final hunks, then the current tentative ones (indices continue in order)."""
        return self._final_hunks + self._tentative()[1]

    def hunk(self, index: int) -> Hunk | None:
        """Hunk ``index`` (final or tentative), or None if there is none such now."""
        if 0 <= index < len(self._final_hunks):
            return self._final_hunks[index]
        tentative = self._tentative()[1]
        k = index - len(self._final_hunks)
        return tentative[k] if 0 <= k < len(tentative) else None

    @property
    def final_hunks(self) -> list[Hunk]:
        return list(self._final_hunks)

    def orig_char(self, line: int) -> int:
        """Char offset in the original where ``line`` starts (``len(lines)`` gives the end)."""
        return self._orig_char[line]

    # ---- streaming -----------------------------------------------------------------------
    def feed(self, chunk: str, draft_tokens: int = 0) -> DiffUpdate:
        """Add output text of any size; return what changed since the last call."""
        if self._done:
            raise RuntimeError("feed() after finish(): start a new StreamingDiff")
        if not isinstance(chunk, str):
            raise TypeError(f"chunk must be str, not {type(chunk).__name__}")
        if draft_tokens < 0:
            raise ValueError(f"draft_tokens must be >= 0, got {draft_tokens}")
        if draft_tokens and chunk:
            span = DraftSpan(self._out_chars, self._out_chars + len(chunk), draft_tokens)
            self._draft_spans.append(span)
            self._update.new_draft_spans.append(span)
        self._out_chars += len(chunk)
        text = self._partial + chunk
        cut = text.rfind("\n") + 1
        self._partial = text[cut:]
        if cut:
            for line in split_lines(text[:cut]):
                self._add_line(line)
        return self._take_update()

    def mark_redirect(self, instruction: str = "") -> Redirect:
        """Record that the output from here on follows a new instruction."""
        redirect = Redirect(self._out_chars, len(self._out), str(instruction))
        self._redirects.append(redirect)
        self._update.new_redirects.append(redirect)
        return redirect

    def finish(self, stopped: bool = False) -> DiffUpdate:
        """The output is complete: settle everything.

        ``stopped=True`` is for a stream ended early: the original the output never reached is
        kept rather than deleted, and an unfinished last line stays part of the edit (see
        `_stopped_end`).
        """
        if self._done:
            return self._take_update()
        a_end = len(self._orig)
        if stopped:
            a_end = self._stopped_end()
        elif self._partial:
            self._out.append(self._partial)
            self._update.lines_added += 1
        self._partial = ""
        matcher = TailMatcher(self._orig, self._index, self._popular, self._a0, a_end, self._out[self._b0:])
        a0, b0 = self._a0, self._b0
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            self._commit(tag, a0 + i1, a0 + i2, b0 + j1, b0 + j2)
        self._a0, self._b0 = a_end, len(self._out)
        self._blocks = []
        self._kept_from = a_end
        self._done = True
        self._tentative_cache = None
        return self._take_update()

    def _stopped_end(self) -> int:
        """Settle the unfinished line of a stopped stream; the first original line kept.

        A stop mid-line must not lose what the user saw being written. If the partial line is the
        beginning of one of the next few unreached original lines, the model was copying that
        line: nothing of it is an edit, so it is left as the original has it (and any lines the
        model skipped to get there are part of the edit, as they would be had the line been
        finished). Otherwise it is a complete output line, ended with a newline unless it ends
        the original too. Indentation alone is dropped. The output lines past the last match take
        the original lines they rewrite first (see the module docstring); the copy is looked for
        after those.
        """
        a_end, b_end = self._a0, self._b0
        if self._blocks:
            i, j, k = self._blocks[-1]
            a_end, b_end = i + k, j + k
        taken = rewritten_through(self._orig, a_end, self._out[b_end:], STOP_REWRITE_RATIO,
                                  STOP_REWRITE_CHAR_RATIO)
        partial = self._partial
        if not partial.strip():
            return taken
        for k in range(taken, min(len(self._orig), taken + STOP_COPY_LOOKAHEAD_LINES)):
            if self._orig[k].startswith(partial):
                return k
        self._out.append(partial + "\n")
        self._update.lines_added += 1
        taken = rewritten_through(self._orig, taken, self._out[-1:], STOP_REWRITE_RATIO,
                                  STOP_REWRITE_CHAR_RATIO)
        if taken == len(self._orig) and not self.original.endswith("\n"):
            self._out[-1] = partial  # it ends the file, which has no final newline
        return taken

    # ---- applying ------------------------------------------------------------------------
    def apply(self, hunks_to_accept: Iterable[int | Hunk]) -> str:
        """The original with the given final hunks applied (others left as they were)."""
        chosen = {self._final_hunk(h).index for h in hunks_to_accept}
        parts: list[str] = []
        pos = 0
        for hunk in self._final_hunks:
            if hunk.index in chosen:
                parts.append(self.original[pos:hunk.orig_start_char])
                parts.append(hunk.new_text)
                pos = hunk.orig_end_char
        parts.append(self.original[pos:])
        return "".join(parts)

    def _final_hunk(self, hunk: int | Hunk) -> Hunk:
        index = hunk.index if isinstance(hunk, Hunk) else hunk
        if not isinstance(index, int) or not 0 <= index < len(self._final_hunks):
            raise ValueError(f"hunk {index!r} is not final (final hunks: {len(self._final_hunks)})")
        return self._final_hunks[index]

    # ---- internals -----------------------------------------------------------------------
    def _add_line(self, line: str) -> None:
        self._out.append(line)
        self._tentative_cache = None
        self._update.lines_added += 1
        positions = self._index.get(line)
        # A line absent from the unsettled original cannot change any matching block.
        if not positions or positions[-1] < self._a0:
            return
        # A popular line never starts a match; it can only extend one that ends right before it.
        if line in self._popular and not (
            self._blocks and sum(self._blocks[-1][1:]) == len(self._out) - 1
        ):
            return
        self._rediff()
        while self._settle_first_block(force=len(self._out) - self._b0 > MAX_TAIL_LINES):
            self._rediff()

    def _rediff(self) -> None:
        a0, b0 = self._a0, self._b0
        matcher = TailMatcher(self._orig, self._index, self._popular, a0, len(self._orig), self._out[b0:])
        self._blocks = [(a0 + i, b0 + j, k) for i, j, k in matcher.get_matching_blocks() if k]

    def _is_anchor(self, i: int, k: int) -> bool:
        if k >= MIN_ANCHOR_LINES:
            return True
        return any(len(self._index[self._orig[x]]) == 1 for x in range(i, i + k))

    def _settle_first_block(self, force: bool) -> bool:
        """Make the first gap and matching block final if the block is an anchor (or forced)."""
        if not self._blocks:
            return False
        i, j, k = self._blocks[0]
        if not force and not self._is_anchor(i, k):
            return False
        if i > self._a0 or j > self._b0:
            tag = "replace" if i > self._a0 and j > self._b0 else ("delete" if i > self._a0 else "insert")
            self._commit(tag, self._a0, i, self._b0, j)
        self._commit("equal", i, i + k, j, j + k)
        self._a0, self._b0 = i + k, j + k
        return True

    def _commit(self, tag: str, i1: int, i2: int, j1: int, j2: int) -> None:
        if tag == "equal":
            segment = Segment("equal", i1, i2, j1, j2, -1)
        else:
            hunk = self._make_hunk(len(self._final_hunks), i1, i2, j1, j2, final=True)
            self._final_hunks.append(hunk)
            self._update.new_final_hunks.append(hunk)
            segment = Segment(tag, i1, i2, j1, j2, hunk.index)
        self._final_segments.append(segment)
        self._update.final_segments.append(segment)

    def _make_hunk(self, index: int, i1: int, i2: int, j1: int, j2: int, final: bool) -> Hunk:
        c1, c2 = self._orig_char[i1], self._orig_char[i2]
        return Hunk(index, i1, i2, tuple(self._out[j1:j2]), final, c1, c2, j1,
                    self.original[c1:c2])

    def _tentative(self) -> tuple[list[Segment], list[Hunk], int]:
        """Segments and hunks of the unsettled tail, and where the pending original starts."""
        if self._tentative_cache is None:
            self._tentative_cache = self._build_tentative()
        return self._tentative_cache

    def _build_tentative(self) -> tuple[list[Segment], list[Hunk], int]:
        segments: list[Segment] = []
        hunks: list[Hunk] = []
        a, b = self._a0, self._b0
        if self._done:  # only a stopped stream leaves original lines unreached (kept as they are)
            return segments, hunks, self._kept_from

        def gap(i: int, j: int) -> None:
            if i > a or j > b:
                tag = "replace" if i > a and j > b else ("delete" if i > a else "insert")
                index = len(self._final_hunks) + len(hunks)
                hunks.append(self._make_hunk(index, a, i, b, j, final=False))
                segments.append(Segment(tag, a, i, b, j, index))

        for i, j, k in self._blocks:
            gap(i, j)
            segments.append(Segment("equal", i, i + k, j, j + k, -1))
            a, b = i + k, j + k
        gap(a, len(self._out))  # output beyond the last match: inserted before the pending part
        return segments, hunks, a

    def _take_update(self) -> DiffUpdate:
        update = self._update
        segments, hunks, update.pending_start = self._tentative()
        update.tentative_segments, update.tentative_hunks = list(segments), list(hunks)
        update.partial_line = self._partial
        update.done = self._done
        self._update = DiffUpdate()
        return update
