"""`tessera study schedule | warm | run | export | replay`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from .studyfile import StudyFileError, load_study


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tessera study", description="Run user studies with speed as the variable")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("schedule", help="each participant's condition and task order")
    s.add_argument("file")
    s.add_argument("--participants", type=int, default=8, help="how many participants (default 8)")
    s.add_argument("--first", type=int, default=0, help="number of the first participant (default 0)")
    s.add_argument("--json", action="store_true", help="one JSON array")
    w = sub.add_parser("warm", help="record each task's response through the real engine")
    w.add_argument("file")
    w.add_argument("--model", metavar="DIR", help="model folder (default: the bundled model)")
    r = sub.add_parser("run", help="run one participant's session")
    r.add_argument("file")
    r.add_argument("--participant", metavar="ID", help="participant id (asked for when left out)")
    r.add_argument("--log-dir", metavar="DIR", help="where logs go (default: logs/ next to the study file)")
    r.add_argument("--model", metavar="DIR", help="model folder (default: the bundled model)")
    e = sub.add_parser("export", help="CSV tables and PNG plots from session logs")
    e.add_argument("logs", nargs="+", metavar="LOG")
    e.add_argument("--out", required=True, metavar="DIR")
    p = sub.add_parser("replay", help="watch a recorded session again, with a timeline and labels")
    p.add_argument("log")
    p.add_argument("--labels", metavar="PATH", help="label file (default: LOG with .labels.json)")
    return parser


def _schedule(args) -> int:
    from .schedule import schedule

    study = load_study(args.file)
    plans = schedule(study, args.participants, args.first)
    if args.json:
        print(json.dumps([p.to_json() for p in plans], indent=2))
        return 0
    labels = {c.id: c.label for c in study.conditions}
    for plan in plans:
        steps = ", ".join(f"{s.task} [{labels[s.condition]}]" for s in plan.slots)
        print(f"P{plan.participant}: {steps}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "schedule":
            return _schedule(args)
        if args.command == "warm":
            from .warm import warm

            study = load_study(args.file)
            recorded = asyncio.run(warm(study, args.model))
            return 0 if recorded or all(t.free for t in study.tasks) else 1
        if args.command == "export":
            from .export import export

            written = export(args.logs, args.out)
            for path in written:
                print(path)
            return 0
        if args.command == "run":
            from .qt.app import run_study

            return run_study(load_study(args.file), args.participant, args.log_dir, args.model)
        if args.command == "replay":
            from .qt.app import run_replay

            return run_replay(args.log, args.labels)
    except (StudyFileError, ValueError, OSError) as exc:
        print(f"tessera study: {exc}", file=sys.stderr)
        return 2
    return 2
