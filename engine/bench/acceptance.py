"""Real-code acceptance: edits of functions as written, in files the model never saw, through the engine.

Targets are functions and methods of installed packages outside the standard library (pip,
setuptools, pygments, numpy's Python files) and of the standard library files the training held
out (``engine/training/corpus.py`` ``split_of``). The selection is the target's whole lines, as
the app selects it (column 0 of its first line, decorators included, through its trailing newline);
the edited selection is put back into the file. Each edit is classed by situation (top-level,
method, nested, decorated, long: 100+ lines, comments, double quotes, non-ASCII, real prints) and
by kind (the model's five skills and out of scope). The expected edit is built with ``ast`` by the
training pair builders (engine/skills/); remove-prints targets are functions with prints of their
own ("real prints": the rule removes them) or get debug prints inserted as text lines at the
statements' own indentation.

- exact: the whole file, edited, is AST-equal to the file with the expected edit;
- parses: the whole edited file parses.

    python -m engine.bench.acceptance --per-cell 20         # the table in the model card
"""

from __future__ import annotations

import argparse
import ast
import copy
import asyncio
import importlib.util
import json
import random
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("pip", "setuptools", "pygments", "numpy")
SITUATIONS = ("top-level", "method", "nested", "decorated", "long", "comments", "double quotes", "non-ASCII",
              "real prints")
LONG_LINES = 100


@dataclass
class Case:
    path: str  # file the target comes from
    text: str  # the whole file
    start: int  # selection start (character offset)
    end: int  # selection end
    kind: str  # one of engine.skills.KINDS
    instruction: str  # what the user types
    expected: str  # the whole file with the expected edit (compared by AST)
    situations: tuple[str, ...]  # which SITUATIONS the target belongs to


def package_files() -> list[Path]:
    out: list[Path] = []
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        for root in spec.submodule_search_locations:
            out += sorted(p for p in Path(root).rglob("*.py") if "tests" not in p.parts and "_vendor" not in p.parts)
    return out


def heldout_stdlib_files() -> list[Path]:
    from ..training.corpus import split_of, stdlib_files, stdlib_root

    root = stdlib_root()
    return [p for p in stdlib_files(root) if split_of(str(p.relative_to(root))) == "eval"]


def _targets(tree: ast.Module):
    """(function node, parents) for every function, methods and nested ones included."""
    stack = [(tree, ())]
    while stack:
        node, parents = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield child, parents
            stack.append((child, parents + (child,) if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else parents))


def situations_of(fn: ast.AST, parents: tuple, segment: str) -> tuple[str, ...]:
    s = []
    if not parents:
        s.append("top-level")
    elif isinstance(parents[-1], ast.ClassDef):
        s.append("method")
    if any(isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef)) for p in parents):
        s.append("nested")
    if fn.decorator_list:
        s.append("decorated")
    if segment.count("\n") >= LONG_LINES:
        s.append("long")
    if "#" in segment and any(ln.lstrip().startswith("#") or " # " in ln for ln in segment.splitlines()):
        s.append("comments")
    if '"' in segment.replace('"""', ""):
        s.append("double quotes")
    if not segment.isascii():
        s.append("non-ASCII")
    return tuple(s)


def _line_offsets(text: str) -> list[int]:
    offs, n = [0], 0
    for ln in text.splitlines(keepends=True):
        n += len(ln)
        offs.append(n)
    return offs


def _expected_file(tree: ast.Module, fn: ast.AST, new_fn: ast.AST) -> str:
    """The file's AST dump with `fn` replaced by `new_fn` (compared by dump, not by text)."""
    for parent in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(parent, field, None)
            if isinstance(body, list) and fn in body:
                i = body.index(fn)
                body[i] = new_fn
                try:
                    return ast.dump(tree)
                finally:
                    body[i] = fn
    raise LookupError("target not found")


def _insert_prints(seg: str, fn: ast.AST, first_line: int, rng: random.Random) -> str | None:
    """Debug print lines inserted before 1–2 statements of the body, at their indentation."""
    lines = seg.splitlines(keepends=True)
    stmts = [s for s in ast.walk(fn) if isinstance(s, ast.stmt) and s is not fn and s.lineno > fn.body[0].lineno - 1]
    stmts = [s for s in stmts if s.lineno - first_line < len(lines)
             and lines[s.lineno - first_line][:s.col_offset].strip() == ""
             and not (isinstance(s, ast.Expr) and isinstance(getattr(s, "value", None), ast.Constant))]
    if not stmts:
        return None
    names = [a.arg for a in fn.args.args if a.arg not in ("self", "cls")] or ["'here'"]
    for s in sorted(rng.sample(stmts, min(len(stmts), rng.choice((1, 2)))), key=lambda s: -s.lineno):
        i = s.lineno - first_line
        lines.insert(i, " " * s.col_offset + f"print({rng.choice(names)})\n")
    return "".join(lines)


def cases_in(path: Path, rng: random.Random, kinds: tuple[str, ...]) -> list[Case]:
    from ..skills import BUILDERS, build_fstring_forward
    from ..skills.prints import is_print_statement, remove_prints

    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
        return []
    if "\t" in text or "\r" in text:
        return []
    offs = _line_offsets(text)
    out: list[Case] = []
    for fn, parents in _targets(tree):
        first = min([fn.lineno] + [d.lineno for d in fn.decorator_list])
        start, end = offs[first - 1], offs[fn.end_lineno]
        seg = text[start:end]
        try:
            unparsed = ast.unparse(fn)
        except Exception:
            continue
        sits = situations_of(fn, parents, seg)
        kind = rng.choice(kinds)
        if kind == "fstring":
            pair = build_fstring_forward(unparsed, rng, [])
            src_text = text
        elif kind == "remove_prints":
            if any(is_print_statement(s) for s in ast.walk(fn) if isinstance(s, ast.stmt)):
                new_fn = copy.deepcopy(fn)  # real prints, as written: the rule's edit of them
                remove_prints(new_fn)
                out.append(Case(str(path), text, start, end, kind, "remove print statements",
                                _expected_file(tree, fn, new_fn), (*sits, "real prints")))
                continue
            new_seg = _insert_prints(seg, fn, first, rng)
            if new_seg is None:
                continue
            src_text = text[:start] + new_seg + text[end:]
            try:
                ast.parse(src_text)
            except SyntaxError:
                continue
            end = start + len(new_seg)
            expected = ast.dump(tree)
            out.append(Case(str(path), src_text, start, end, kind, "remove print statements", expected, sits))
            continue
        else:
            try:
                pair = BUILDERS[kind](unparsed, rng, ["value", "item", "result", "data", "total", "name"])
            except Exception:
                pair = None
            src_text = text
        if pair is None:
            continue
        if ast.dump(ast.parse(pair.source)) != ast.dump(ast.parse(unparsed)):
            continue  # the builder changed the source side (a docstring removed): not this file's code
        new_fn = ast.parse(pair.target).body[0]
        expected = _expected_file(tree, fn, new_fn)
        out.append(Case(str(path), src_text, start, end, kind, pair.instruction, expected, sits))
    return out


def collect(files: list[Path], per_cell: int, seed: int = 0) -> list[Case]:
    """Up to `per_cell` cases per (situation, kind), files visited in a seeded order."""
    from ..skills import KINDS

    rng = random.Random(seed)
    files = list(files)
    rng.shuffle(files)
    count: dict = defaultdict(int)
    chosen: list[Case] = []
    for path in files:
        for c in cases_in(path, rng, KINDS):
            cells = [(s, c.kind) for s in c.situations]
            if any(count[cell] < per_cell for cell in cells):
                chosen.append(c)
                for cell in cells:
                    count[cell] += 1
        if all(count[(s, k)] >= per_cell for s in SITUATIONS for k in KINDS):
            break
    return chosen


def score(case: Case, output: str) -> tuple[bool, bool]:
    """(exact, parses) of the whole file with `output` in place of the selection."""
    edited = case.text[:case.start] + output + case.text[case.end:]
    try:
        dump = ast.dump(ast.parse(edited))
    except SyntaxError:
        return False, False
    return dump == case.expected, True


async def _run_one(engine, i: int, case: Case) -> tuple[str, str, list[str]]:
    from ..backends.edit_stream import stream_edit
    from ..decode.sampling import SamplingParams
    from ..decode.session import Document, RequestError

    engine.open(f"acc{i}", Document(case.text))
    try:
        job = engine.make_job(f"acc{i}", f"acc{i}", case.instruction, (case.start, case.end), None,
                              SamplingParams(0.0, 1.0, 0), speculate=True)
    except RequestError as exc:
        return "", f"refused: {exc.code}", []
    done, notices = None, []
    async for ev in stream_edit(engine, job):
        if ev.type == "done":
            done = ev
        elif ev.type == "notice":
            notices.append(ev.code)
    engine.sessions.pop(f"acc{i}", None)
    err = done.stats.error if done.reason == "error" else None
    return done.text, err.code if err else done.reason, notices


def run(cases: list[Case], model_dir: str | Path | None = None, log=print) -> dict:
    from ..decode.session import Engine
    from ..model.modelspec import default_model_dir
    from ..skills import KINDS

    engine = Engine(model_dir or default_model_dir(), threads=1)
    cells: dict = defaultdict(lambda: [0, 0, 0])  # (situation, kind) → [n, exact, parses]
    told_counts: dict = defaultdict(lambda: defaultdict(int))  # kind → how a non-exact edit was reported → count
    failures = []
    try:
        for i, case in enumerate(cases):
            output, reason, notices = asyncio.run(_run_one(engine, i, case))
            exact, ok = score(case, output)
            if not exact:  # what the user is told about an edit that is not the expected one
                told = told_how(reason, notices, output == case.text[case.start:case.end])
                told_counts[case.kind][told] += 1
            for s in (*case.situations, "all"):  # "all": each case once, whatever its situations
                cell = cells[(s, case.kind)]
                cell[0] += 1
                cell[1] += exact
                cell[2] += ok
            if not exact and len(failures) < 200:
                failures.append({"path": case.path, "kind": case.kind, "situations": case.situations,
                                 "instruction": case.instruction, "reason": reason, "told": told,
                                 "source": case.text[case.start:case.end], "got": output})
    finally:
        engine.close()
    table = {f"{s}|{k}": {"n": v[0], "exact": v[1] / v[0], "parses": v[2] / v[0]}
             for (s, k), v in sorted(cells.items()) if v[0]}
    whole = [v for (s, _), v in cells.items() if s == "all"]
    files_parse = sum(v[2] for v in whole) / max(sum(v[0] for v in whole), 1)
    log(markdown(table, (*SITUATIONS, "all"), KINDS))
    told = {k: dict(v) for k, v in sorted(told_counts.items())}
    log("not exact, and what the user was told: " + "; ".join(
        f"{k}: " + ", ".join(f"{n} {how}" for how, n in sorted(v.items())) for k, v in told.items()))
    return {"cells": table, "parses": files_parse, "told": told, "failures": failures}


def told_how(reason: str, notices: list[str], unchanged: bool) -> str:
    """How the app reports an edit that is not the expected one: refused (too long), stopped
    (degenerate output), warned (does not parse, not the skill's edit, needs a function), unchanged
    (the "no change" notice), or silent: shown as done with nothing said."""
    if reason.startswith("refused") or reason == "context_overflow":
        return "refused"
    if reason in ("degenerate_output", "error"):
        return "stopped"
    if any(code in ("unparsable", "not_the_edit", "needs_function", "out_of_scope") for code in notices):
        return "warned"
    return "unchanged" if unchanged else "silent"


def markdown(table: dict, situations, kinds) -> str:
    head = "| situation | " + " | ".join(kinds) + " |\n|---|" + "---|" * len(kinds) + "\n"
    rows = []
    for s in situations:
        cells = []
        for k in kinds:
            c = table.get(f"{s}|{k}")
            cells.append(f"{100 * c['exact']:.0f}% ({c['n']})" if c else "–")
        rows.append(f"| {s} | " + " | ".join(cells) + " |")
    return head + "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engine.bench.acceptance", description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-cell", type=int, default=20, help="cases per (situation, kind)")
    ap.add_argument("--source", choices=("packages", "stdlib"), default="packages")
    ap.add_argument("--model", default=None, help="model folder (default: the bundled model)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None, help="write the table and failures here")
    args = ap.parse_args(argv)
    files = package_files() if args.source == "packages" else heldout_stdlib_files()
    cases = collect(files, args.per_cell, args.seed)
    print(f"{len(cases)} cases from {len(files)} files ({args.source})", file=sys.stderr)
    report = run(cases, args.model)
    print(f"whole files parse: {100 * report['parses']:.1f}%")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=list) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
