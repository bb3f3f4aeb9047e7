"""Long targets edited in windows that each fit the model's context.

A selection whose prompt and output together outgrow the context is cut at statement starts (of
any depth, found with ``ast``; a decorated definition starts at its first decorator) into
consecutive line ranges of the document that each fit. Every window is an ordinary edit of its
own range (dedented, placeholders, restored: engine/reframe.py) with the same instruction, run
in order on the same request; their outputs, each in document terms, concatenate to the edit of
the whole selection, and they stream as one. For "add a docstring" only the first window (the
one holding the ``def``) goes through the model; the others are passed on unchanged.

Windows keep the small model on the lengths it was trained on, cost nothing when the target fits,
and keep the live diff live: a longer context would need a retrained model and make every token
attend over the whole target.
"""

from __future__ import annotations

import ast
import time
from collections.abc import AsyncIterator
from contextlib import aclosing

from .events import DoneEvent, NoticeEvent, RedirectEvent, TokenEvent
from .reframe import frame_for

OUTPUT_ROOM = 40  # tokens an edit may add to a window's output (a docstring, f-string prefixes)
MAX_WINDOWS = 64  # beyond this the selection is refused as too long


class WindowError(ValueError):
    """The selection cannot be cut into windows that fit (one statement alone is too long)."""


def source_budget(context_length: int, instruction_tokens: int) -> int:
    """Source tokens one window may hold: prompt (markers, source, instruction) plus output."""
    return max(0, (context_length - instruction_tokens - 4 - OUTPUT_ROOM) // 2)


def _line_starts(text: str, start: int, end: int) -> list[int]:
    """Document offsets of the lines that begin inside (start, end)."""
    out, i = [], text.find("\n", start, end)
    while i != -1 and i + 1 < end:
        out.append(i + 1)
        i = text.find("\n", i + 1, end)
    return out


def _bodies(tree: ast.AST, depth: int = 0):
    """(statement list, depth) for every block of `tree`."""
    for field in ("body", "orelse", "finalbody", "handlers", "cases"):
        block = getattr(tree, field, None)
        if isinstance(block, list) and block:
            if isinstance(block[0], ast.stmt):
                yield block, depth
            for child in block:
                yield from _bodies(child, depth + 1)


def statement_cuts(text: str, start: int, end: int) -> dict[int, int]:
    """Offsets in (start, end) where a window may begin, with their nesting depth.

    A window begins at a statement that follows another in the same block, so that no window
    ends with a block header whose body is in the next one.
    """
    frame = frame_for(text, start, end)
    lines = _line_starts(text, start, end)
    try:
        tree = ast.parse(frame.model_code)
    except SyntaxError:
        return {off: 0 for off in lines}  # not Python: any line start will do
    first: dict[int, int] = {}
    for block, depth in _bodies(tree):
        for node in block[1:]:
            decos = getattr(node, "decorator_list", None) or []
            line = min([node.lineno] + [d.lineno for d in decos])
            first[line] = min(depth, first.get(line, depth))
    skip = len(frame.head.split("\n")) - 1  # blank lines kept aside before model line 1
    return {off: first[k - skip] for k, off in enumerate(lines, start=2) if (k - skip) in first}


def plan(text: str, start: int, end: int, count_tokens, budget: int) -> list[tuple[int, int]]:
    """Consecutive ranges covering [start, end), each within `budget` source tokens.

    Each window ends at the shallowest cut among those that fill at least half the budget.
    """
    depth = statement_cuts(text, start, end)
    depth[end] = -1
    cuts = sorted(depth)
    out: list[tuple[int, int]] = []
    a = start
    while a < end:
        fitting: list[tuple[int, int]] = []  # (cut, tokens)
        for c in (c for c in cuts if c > a):
            n = count_tokens(frame_for(text, a, c).model_code)
            if n > budget:
                break
            fitting.append((c, n))
        if not fitting:
            nxt = next((c for c in cuts if c > a), end)
            n = count_tokens(frame_for(text, a, nxt).model_code)
            line = text.count("\n", 0, a) + 1
            raise WindowError(f"the statement at line {line} alone needs about {n} tokens; "
                              f"one window holds {budget}")
        full = [f for f in fitting if f[1] >= budget // 2] or fitting
        b = min(full, key=lambda f: (depth[f[0]], -f[0]))[0]
        out.append((a, b))
        a = b
        if len(out) > MAX_WINDOWS:
            raise WindowError(f"the selection needs more than {MAX_WINDOWS} windows")
    return out


def passes_through(engine, parent, i: int) -> bool:
    """Window `i` is given back unchanged: "add a docstring" changes only the window with the def."""
    skill = engine.spec.skill_for(parent.model_instruction) if engine.spec.skills else None
    return i > 0 and skill is not None and skill.name == "add_docstring"


async def stream_windows(engine, parent, pacing=None) -> AsyncIterator[object]:
    """Run `parent.windows` in order as one request: one index space, one `done` (see the module docstring)."""
    rid = parent.request_id
    totals = {"tokens": 0, "prompt_tokens": 0, "cached_tokens": 0, "accepted_draft": 0, "proposed_draft": 0,
              "verify_passes": 0, "redirects": 0}
    decode_s = 0.0
    first = None
    reason, last = "eos", None
    for i in range(parent.window_at, len(parent.windows)):
        w = parent.windows[i]
        parent.window_at = i
        if parent.stop.is_set():
            reason = "stop"
            break
        new = parent.take_redirect()  # asked for between two windows
        if new is not None:
            parent.instruction = new
            totals["redirects"] += 1
            yield RedirectEvent(rid, len(parent.output_ids), len(parent.output_text), new)
        if passes_through(engine, parent, i):
            parent.output_text += w.code
            t_ms = round((time.monotonic() - parent.t_arrival) * 1e3, 3)
            yield TokenEvent(rid, len(parent.output_ids), w.code, 0, t_ms, t_ms)
            continue
        if w.segments:
            w.restart_with(parent.instruction)
        else:
            w.instruction = parent.instruction
        offset = len(parent.output_ids) - len(w.output_ids)
        chars = len(parent.output_text) - len(w.output_text)
        paced = None if pacing is None else (lambda n, off=offset: pacing(n + off))
        engine._active.pop(rid, None)
        async with aclosing(engine._stream_one(w, paced)) as events:
            async for ev in events:
                if isinstance(ev, TokenEvent):
                    ev.index += offset
                    parent.output_text += ev.text
                    yield ev
                elif isinstance(ev, RedirectEvent):
                    parent.instruction = ev.instruction
                    ev.index += offset
                    ev.chars += chars
                    yield ev
                elif isinstance(ev, NoticeEvent):
                    if ev.code != "out_of_scope" or i == 0:
                        yield ev
                elif isinstance(ev, DoneEvent):
                    last = ev
        engine._active[rid] = parent  # a stop between windows still finds the request
        parent.output_ids.extend(w.output_ids[len(parent.output_ids) - offset:])
        st = last.stats if last is not None else {}
        for k in totals:
            totals[k] += int(st.get(k) or 0)
        if first is None and st.get("ttft_ms") is not None:
            first = st["ttft_ms"]
        if st.get("tok_s"):
            decode_s += max(int(st.get("tokens") or 0) - 1, 0) / float(st["tok_s"])
        reason = last.reason if last is not None else "error"
        if reason != "eos":
            break
    else:
        parent.window_at = len(parent.windows)
    engine._active.pop(rid, None)
    stats = dict(last.stats) if last is not None else {}
    stats.update(totals, windows=len(parent.windows), ttft_ms=first, total_tokens=len(parent.output_ids),
                 tok_s=round(totals["tokens"] / decode_s, 1) if decode_s > 0 else 0.0)
    yield DoneEvent(rid, reason, stats, parent.output_text)
