"""Demo playlists: a TOML file of steps a presenter advances with one key. No Qt.

```toml
title = "GPU cluster vs wafer"

[[step]]
caption = "Llama 3.1 70B on eight H100s: ~75 tok/s"
file = "code/stdlib_helpers.py"          # relative to the playlist; later steps inherit it
selection = "_format_final_exc_line"     # a top-level function, or [first_line, last_line]
instruction = "convert to f-strings"
pacing = "h100x8:llama-3.1-70b"          # PROFILE[:MODEL]; "local" = real speed (default)
```

Step kinds (`kind`, inferred when left out): `caption` (text only), `edit` (select, type the
instruction, press Enter; optional `stop_after_tokens`, or `steer` + `steer_after_tokens` to stop
and redirect mid-stream), `redirect` (a new instruction for the stopped edit), `review` (`accept`
and `reject`: lists of hunk numbers, 1-based as shown, or "all"), `race` (`lanes`: 2 or 3 of
PROFILE[:MODEL] or tables with label/profile/emulate). Errors name the file, the step and the field.
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.demo.race import LOCAL, LaneSpec, lane_label

DEMOS_DIR = Path(__file__).resolve().parents[3] / "resources" / "demos"
KINDS = ("caption", "edit", "redirect", "review", "race")
_STEP_KEYS = {"kind", "caption", "file", "selection", "instruction", "pacing", "lanes", "stop_after_tokens",
              "steer", "steer_after_tokens", "accept", "reject"}


class PlaylistError(ValueError):
    """A playlist that cannot be played; the message says where and why."""


@dataclass(frozen=True)
class Step:
    kind: str  # one of KINDS
    caption: str  # shown large over the window while the step runs
    file: Path | None = None  # document to open (absolute)
    selection: str | tuple[int, int] | None = None  # function name, or 1-based inclusive line range
    instruction: str | None = None  # edit, redirect, race: what the model is asked
    pacing: LaneSpec = LaneSpec("this machine")  # edit: how the engine paces the stream
    lanes: tuple[LaneSpec, ...] = ()  # race: 2 or 3 lanes
    stop_after_tokens: int | None = None  # edit: press Stop once this many tokens arrived (count)
    steer: str | None = None  # edit: redirect to this instruction mid-stream
    steer_after_tokens: int | None = None  # edit: ...once this many tokens arrived (count)
    accept: tuple[int, ...] | str = ()  # review: hunk numbers (0-based here) or "all"
    reject: tuple[int, ...] | str = ()  # review: hunk numbers (0-based here) or "all"


@dataclass(frozen=True)
class Playlist:
    title: str  # shown in the caption bar's first line
    path: Path  # the TOML file
    steps: tuple[Step, ...]  # in order


def shipped_playlists() -> dict[str, Path]:
    """Playlists in resources/demos by file stem, e.g. {"gpu-vs-wafer": Path(...)}."""
    return {p.stem: p for p in sorted(DEMOS_DIR.glob("*.toml"))}


def find_playlist(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = shipped_playlists()
    if name_or_path in shipped:
        return shipped[name_or_path]
    raise PlaylistError(f"no playlist {name_or_path!r}: not a file, and the shipped ones are "
                        f"{', '.join(shipped) or 'none'}")


def load_playlist(path: str | Path) -> Playlist:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlaylistError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise PlaylistError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise PlaylistError(f"{path}: not valid TOML ({exc})") from None
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise PlaylistError(f"{path}: needs a title = \"...\" line")
    raw_steps = data.get("step")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise PlaylistError(f"{path}: has no [[step]] tables")
    steps, current_file = [], None
    for n, raw in enumerate(raw_steps, 1):
        step = _parse_step(raw, path, n, current_file)
        current_file = step.file or current_file
        steps.append(step)
    return Playlist(title.strip(), path, tuple(steps))


def _parse_step(raw: Any, path: Path, n: int, current_file: Path | None) -> Step:
    def fail(message: str) -> PlaylistError:
        return PlaylistError(f"{path}, step {n}: {message}")

    if not isinstance(raw, dict):
        raise fail("is not a table")
    unknown = sorted(set(raw) - _STEP_KEYS)
    if unknown:
        raise fail(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(_STEP_KEYS))}")
    caption = raw.get("caption")
    if not isinstance(caption, str) or not caption.strip():
        raise fail("needs a caption")
    kind = raw.get("kind") or _infer_kind(raw)
    if kind not in KINDS:
        raise fail(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    file = current_file
    if "file" in raw:
        if not isinstance(raw["file"], str):
            raise fail("file must be a path string")
        file = (path.parent / raw["file"]).resolve()
        if not file.is_file():
            raise fail(f"file {raw['file']!r} does not exist (looked for {file})")
    instruction = raw.get("instruction")
    if instruction is not None and (not isinstance(instruction, str) or not instruction.strip()):
        raise fail("instruction must be non-empty text")
    if kind in ("edit", "redirect", "race") and instruction is None:
        raise fail(f"{'an' if kind == 'edit' else 'a'} {kind} step needs an instruction")
    if kind in ("edit", "race") and file is None:
        raise fail(f"{'an' if kind == 'edit' else 'a'} {kind} step needs a file (here or in an earlier step)")
    selection = _selection(raw.get("selection"), fail)
    lanes = tuple(_lane(x, fail) for x in raw.get("lanes", ()))
    if kind == "race" and not 2 <= len(lanes) <= 3:
        raise fail(f"a race needs 2 or 3 lanes, got {len(lanes)}")
    steer = raw.get("steer")
    if steer is not None and (not isinstance(steer, str) or not steer.strip()):
        raise fail("steer must be the new instruction")
    return Step(kind=kind, caption=caption.strip(), file=file, selection=selection,
                instruction=instruction.strip() if instruction else None,
                pacing=_lane(raw.get("pacing", LOCAL), fail), lanes=lanes,
                stop_after_tokens=_count(raw, "stop_after_tokens", fail),
                steer=steer.strip() if steer else None,
                steer_after_tokens=_count(raw, "steer_after_tokens", fail) or (1 if steer else None),
                accept=_hunks(raw.get("accept", []), "accept", fail),
                reject=_hunks(raw.get("reject", []), "reject", fail))


def _infer_kind(raw: dict) -> str:
    if "lanes" in raw:
        return "race"
    if "accept" in raw or "reject" in raw:
        return "review"
    return "edit" if "instruction" in raw else "caption"


def _selection(value: Any, fail) -> str | tuple[int, int] | None:
    if value is None or (isinstance(value, str) and value.isidentifier()):
        return value
    if (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)
            and 1 <= value[0] <= value[1]):
        return value[0], value[1]
    raise fail(f"selection {value!r} must be a top-level function's name or [first_line, last_line]")


def _lane(value: Any, fail) -> LaneSpec:
    if isinstance(value, str):
        profile, _, emulate = value.partition(":")
        profile, emulate = profile.strip().lower(), emulate.strip().lower() or None
        label = None
    elif isinstance(value, dict):
        profile, emulate, label = value.get("profile", LOCAL), value.get("emulate"), value.get("label")
        if not isinstance(profile, str) or (emulate is not None and not isinstance(emulate, str)) \
                or (label is not None and not isinstance(label, str)):
            raise fail(f"lane {value!r}: profile, emulate and label must be text")
    else:
        raise fail(f"pacing/lane {value!r} must be \"PROFILE[:MODEL]\" or a table with profile/emulate")
    if not profile or not all(c.isalnum() or c in "-_." for c in profile):
        raise fail(f"{profile!r} is not a hardware profile name (e.g. wse-3, h100x8, local)")
    return LaneSpec(label or lane_label(profile, emulate), profile, emulate)


def _count(raw: dict, key: str, fail) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise fail(f"{key} must be a whole number ≥ 1, got {value!r}")
    return value


def _hunks(value: Any, key: str, fail) -> tuple[int, ...] | str:
    if value == "all":
        return "all"
    if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
        return tuple(v - 1 for v in value)
    raise fail(f"{key} must be \"all\" or a list of hunk numbers counted from 1, got {value!r}")


def selection_range(text: str, selection: str | tuple[int, int] | None) -> tuple[int, int]:
    """Character offsets (start, end) of a step's selection in ``text`` (the whole text if None)."""
    lines = text.splitlines(keepends=True)
    if selection is None:
        return 0, len(text)
    if isinstance(selection, tuple):
        first, last = selection
        if last > len(lines):
            raise PlaylistError(f"lines {first}–{last} are past the end of the file ({len(lines)} lines)")
        return sum(map(len, lines[:first - 1])), sum(map(len, lines[:last]))
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise PlaylistError(f"cannot find function {selection!r}: the file does not parse ({exc.msg})") from None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == selection:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            return sum(map(len, lines[:first - 1])), sum(map(len, lines[:node.end_lineno]))
    raise PlaylistError(f"no top-level function {selection!r} in the file")
