"""The study file: TOML (read with the standard library's `tomllib`) into plain dataclasses.

    id = "speed-pilot"
    consent = "..."
    log_file_contents = false        # file contents go into the log only when true
    [[conditions]]                   # a hardware profile paired with an emulated model shape ...
    id = "gpu"; profile = "h100x8"; model = "llama-3.1-70b"; transport = "websocket"; speculation = true
    [[conditions]]                   # ... or explicit timing
    id = "fast"; ttft_ms = 150; tok_s = 1000; jitter_ms = 0.3
    [[tasks]]
    id = "wrap"; file = "tasks/wrap.py"; selection = [10, 24]      # lines, 1-based, inclusive
    instruction = "add type hints"   # or: free = true (the participant writes the instruction)
    check = "pytest -q tests/test_wrap.py"   # run only at task end, with the participant's Python
    support = ["tests/test_wrap.py"]          # further files copied into the work folder
    [questionnaires]
    after_task = ["nasa-tlx", "trust"]; end = ["preference", "comments"]
    [[questions]]
    id = "trust"; kind = "likert"; text = "..."; points = 7; low = "..."; high = "..."

Every error names the file and the offending entry.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .questions import BUILTIN_SETS, Question, parse_question

TRANSPORTS = ("websocket", "http")


class StudyFileError(ValueError):
    """A study file that cannot be used, with the reason."""


@dataclass(frozen=True)
class Condition:
    id: str  # short name used in schedules and logs
    label: str  # what researchers read in exports and plots
    profile: str | None = None  # hardware profile (e.g. "wse-3"), or None for explicit timing
    model: str | None = None  # emulated model shape paired with the profile (e.g. "llama-3.1-70b")
    ttft_ms: float | None = None  # explicit time to first token, ms
    tok_s: float | None = None  # explicit decode speed, tokens per second
    jitter_ms: float = 0.0  # explicit timing: standard deviation of each inter-token gap, ms
    seed: int = 0  # explicit timing: seeds the jitter (same for every participant)
    transport: str = "websocket"  # "websocket" (persistent) or "http"
    speculation: bool = True  # predicted-output speculation on or off

    @property
    def explicit(self) -> bool:
        return self.tok_s is not None

    def engine_profile(self) -> str:
        """The `profile` sent with `generate`."""
        if self.explicit:
            from engine.serve.explicit_timing import timing_profile

            return timing_profile(self.ttft_ms or 0.0, self.tok_s, self.jitter_ms, self.seed, self.label)
        return self.profile or "local"

    def describe(self) -> dict:
        out = {"id": self.id, "label": self.label, "transport": self.transport, "speculation": self.speculation}
        if self.explicit:
            out.update(ttft_ms=self.ttft_ms, tok_s=self.tok_s, jitter_ms=self.jitter_ms, seed=self.seed)
        else:
            out.update(profile=self.profile, model=self.model)
        return out


@dataclass(frozen=True)
class Task:
    id: str  # short name used in schedules and logs
    file: Path  # the code file the task starts from (absolute)
    title: str  # one line shown in the task frame
    instruction: str | None  # the prepared instruction; None for a free task
    selection: tuple[int, int] | None = None  # lines to select, 1-based inclusive
    check: str | None = None  # success check run at task end (e.g. "pytest -q test_x.py")
    support: tuple[Path, ...] = ()  # further files copied next to the task file (absolute)
    description: str = ""  # what the participant is asked to do, shown in the task frame

    @property
    def free(self) -> bool:
        return self.instruction is None


@dataclass(frozen=True)
class Study:
    id: str  # the study's name, in logs and file names
    path: Path  # the study file
    consent: str  # consent text shown before the first task
    conditions: tuple[Condition, ...]  # the independent variable's levels
    tasks: tuple[Task, ...]  # every participant does each task once
    questions: dict[str, Question] = field(default_factory=dict)  # custom questions by id
    after_task: tuple[str, ...] = ("nasa-tlx",)  # question ids / sets asked after each task
    end: tuple[str, ...] = ()  # asked once at the end
    log_file_contents: bool = False  # log file text (snapshots at task start/end)
    responses: Path | None = None  # the response cache written by `study warm`
    show_condition: bool = False  # name the condition's hardware to the participant (else blind)

    def condition(self, cid: str) -> Condition:
        for c in self.conditions:
            if c.id == cid:
                return c
        raise KeyError(cid)

    def task(self, tid: str) -> Task:
        for t in self.tasks:
            if t.id == tid:
                return t
        raise KeyError(tid)

    def questionnaire(self, names: tuple[str, ...]) -> list[Question]:
        out: list[Question] = []
        for name in names:
            out.extend(BUILTIN_SETS[name] if name in BUILTIN_SETS else [self.questions[name]])
        return out


def _need(table: dict, key: str, kind: type | tuple, where: str, default=...):
    if key not in table:
        if default is ...:
            raise StudyFileError(f"{where}: '{key}' is missing")
        return default
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise StudyFileError(f"{where}: '{key}' must be {name}, got {value!r}")
    return value


def _unique(items, what: str, source: Path) -> None:
    ids = [i.id for i in items]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise StudyFileError(f"{source}: duplicate {what} id(s): {', '.join(sorted(dup))}")


def _condition(t: dict, n: int, source: Path) -> Condition:
    where = f"{source}: conditions[{n}]"
    cid = _need(t, "id", str, where)
    explicit = any(k in t for k in ("tok_s", "ttft_ms", "jitter_ms"))
    if explicit and "profile" in t:
        raise StudyFileError(f"{where}: give either a profile (+ model) or explicit ttft_ms/tok_s, not both")
    transport = _need(t, "transport", str, where, "websocket")
    if transport not in TRANSPORTS:
        raise StudyFileError(f"{where}: transport must be one of {', '.join(TRANSPORTS)}, got {transport!r}")
    common = dict(id=cid, transport=transport, speculation=_need(t, "speculation", bool, where, True))
    if explicit:
        ttft, tok_s = _need(t, "ttft_ms", float, where), _need(t, "tok_s", float, where)
        jitter = _need(t, "jitter_ms", float, where, 0.0)
        if ttft < 0 or tok_s <= 0 or jitter < 0:
            raise StudyFileError(f"{where}: needs ttft_ms >= 0, tok_s > 0, jitter_ms >= 0")
        label = _need(t, "label", str, where, f"{tok_s:g} tok/s, TTFT {ttft:g} ms")
        return Condition(label=label, ttft_ms=ttft, tok_s=tok_s, jitter_ms=jitter,
                         seed=_need(t, "seed", int, where, 0), **common)
    profile = _need(t, "profile", str, where)
    model = _need(t, "model", str, where, None)
    label = _need(t, "label", str, where, f"{model} on {profile}" if model else profile)
    return Condition(label=label, profile=profile, model=model, **common)


def _task(t: dict, n: int, source: Path) -> Task:
    where = f"{source}: tasks[{n}]"
    tid = _need(t, "id", str, where)
    path = (source.parent / _need(t, "file", str, where)).resolve()
    if not path.is_file():
        raise StudyFileError(f"{where}: file {path} does not exist")
    free = _need(t, "free", bool, where, False)
    instruction = _need(t, "instruction", str, where, None)
    if free == (instruction is not None):
        raise StudyFileError(f"{where}: give an instruction, or free = true (not both)")
    selection = _need(t, "selection", list, where, None)
    if selection is not None:
        lines = path.read_text(encoding="utf-8").count("\n") + 1
        if (len(selection) != 2 or not all(isinstance(x, int) for x in selection)
                or not 1 <= selection[0] <= selection[1] <= lines):
            raise StudyFileError(f"{where}: selection must be [first_line, last_line] within 1..{lines}")
        selection = (selection[0], selection[1])
    support = tuple((source.parent / s).resolve() for s in _need(t, "support", list, where, []))
    for s in support:
        if not s.is_file():
            raise StudyFileError(f"{where}: support file {s} does not exist")
    return Task(id=tid, file=path, title=_need(t, "title", str, where, tid), instruction=instruction,
                selection=selection, check=_need(t, "check", str, where, None), support=support,
                description=_need(t, "description", str, where, ""))


def load_study(path: str | Path) -> Study:
    source = Path(path).resolve()
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StudyFileError(f"cannot read {source}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise StudyFileError(f"{source}: not valid TOML: {exc}") from None
    where = str(source)
    conditions = tuple(_condition(t, i, source) for i, t in enumerate(_need(data, "conditions", list, where)))
    tasks = tuple(_task(t, i, source) for i, t in enumerate(_need(data, "tasks", list, where)))
    if len(conditions) < 1 or len(tasks) < 1:
        raise StudyFileError(f"{where}: a study needs at least one condition and one task")
    _unique(conditions, "condition", source)
    _unique(tasks, "task", source)
    questions = {}
    for i, q in enumerate(_need(data, "questions", list, where, [])):
        try:
            question = parse_question(q)
        except ValueError as exc:
            raise StudyFileError(f"{where}: questions[{i}]: {exc}") from None
        questions[question.id] = question
    qs = _need(data, "questionnaires", dict, where, {})
    after = tuple(_need(qs, "after_task", list, where, ["nasa-tlx"]))
    end = tuple(_need(qs, "end", list, where, []))
    for name in after + end:
        if name not in BUILTIN_SETS and name not in questions:
            raise StudyFileError(f"{where}: questionnaire item {name!r} is neither built in "
                                 f"({', '.join(BUILTIN_SETS)}) nor defined in [[questions]]")
    responses = _need(data, "responses", str, where, f"{source.stem}.responses.json")
    return Study(id=_need(data, "id", str, where), path=source, consent=_need(data, "consent", str, where),
                 conditions=conditions, tasks=tasks, questions=questions, after_task=after, end=end,
                 log_file_contents=_need(data, "log_file_contents", bool, where, False),
                 show_condition=_need(data, "show_condition", bool, where, False),
                 responses=(source.parent / responses).resolve())
