"""`tessera study export LOG… --out DIR`: per-event CSV, per-task CSV, labels CSV and PNG plots.

Plots (matplotlib, Agg backend, no display): tok/s over time per condition, TTFT distribution per
condition, acceptance rate and time on task by condition.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from .eventlog import read_log
from .summary import TaskSummary, rate_series, session_meta, summarize

EVENT_COLUMNS = ["log", "study", "participant", "t", "kind", "task", "condition", "request"]


def export(logs: list[str], out: str | Path) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sessions = []
    for path in logs:
        contents = read_log(path)
        if not contents.events:
            raise ValueError(f"{path}: no events")
        sessions.append((Path(path), contents.events))
    written = [_events_csv(sessions, out / "events.csv")]
    summaries = [s for _, events in sessions for s in summarize(events)]
    written.append(_tasks_csv(summaries, out / "tasks.csv"))
    labels = _labels_csv(sessions, out / "labels.csv")
    if labels:
        written.append(labels)
    written += plot_all(sessions, summaries, out)
    return written


def _events_csv(sessions, path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([*EVENT_COLUMNS, "data"])
        for log, events in sessions:
            meta = session_meta(events)
            condition = ""
            for e in events:
                if e["kind"] == "task_start":
                    condition = e.get("condition", "")
                rest = {k: v for k, v in e.items() if k not in ("t", "kind", "task", "request")}
                writer.writerow([log.name, meta["study"], meta["participant"], e["t"], e["kind"], e.get("task", ""),
                                 condition if e.get("task") else "", e.get("request", "") or "",
                                 json.dumps(rest, ensure_ascii=False, default=str)])
                if e["kind"] == "task_end":
                    condition = ""
    return path


def _tasks_csv(summaries: list[TaskSummary], path: Path) -> Path:
    rows = [s.row() for s in summaries]
    with path.open("w", newline="", encoding="utf-8") as f:
        fields = list(rows[0]) if rows else list(TaskSummary("", "", 0, "", "", "").row())
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _labels_csv(sessions, path: Path) -> Path | None:
    from .labels import load_labels, labels_path

    rows = []
    for log, events in sessions:
        meta = session_meta(events)
        for label in load_labels(labels_path(log)):
            rows.append({"log": log.name, "participant": meta["participant"], **label})
    if not rows:
        return None
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["log", "participant", "t", "label", "note"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def plot_all(sessions, summaries: list[TaskSummary], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, list] = {}  # condition → [(times, rates)] per stream segment
    targets: dict[str, float] = {}  # condition → the emulated tok/s it was paced to
    for _, events in sessions:
        condition, batches, segment = None, {}, {}
        for e in events:
            kind = e["kind"]
            if kind == "task_start":
                condition = e.get("condition_label") or e.get("condition")
            elif kind in ("request_sent", "redirect"):  # a redirect starts a new stream segment
                segment[e.get("request")] = (e.get("request"), e["t"])
            elif kind == "tokens" and condition:
                key = (condition, segment.get(e.get("request")))
                batches.setdefault(key, []).append((e["t"], int(e.get("count") or 0)))
            elif kind == "done" and condition and isinstance(e.get("emulated_tok_s"), (int, float)):
                targets[condition] = float(e["emulated_tok_s"])
        for (cond, _), b in batches.items():
            times, rates = rate_series(b)
            if times:
                series.setdefault(cond, []).append((times, rates))
    conds = sorted({s.condition_label or s.condition for s in summaries})
    colors = {c: plt.cm.tab10(i % 10) for i, c in enumerate(conds)}
    written = []

    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    for cond, runs in sorted(series.items()):
        color = colors.get(cond, "k")
        for i, (t, r) in enumerate(runs):
            ax.plot(t, r, color=color, alpha=0.7, lw=1.5, label=cond if i == 0 else None)
        if cond in targets:
            ax.axhline(targets[cond], color=color, ls="--", lw=1, alpha=0.9)
    ax.set_yscale("log")
    ax.set_xlabel("time since the stream's first token (s)")
    ax.set_ylabel("tokens per second received (sliding 32 tokens, log scale)")
    ax.set_title("Decode speed seen by participants, per stream (dashed: the condition's emulated tok/s)")
    if series:
        ax.legend(loc="center right")
    ax.grid(alpha=0.3, which="both")
    written.append(_save(fig, out / "tok_s_over_time.png"))

    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    data = [[v for s in summaries if (s.condition_label or s.condition) == c for v in s._ttft] for c in conds]
    if any(data):
        ax.boxplot(data, showfliers=False, widths=0.5, medianprops={"color": "black"})
        ax.set_xticks(range(1, len(conds) + 1), [_wrap(c) for c in conds])
        for i, values in enumerate(data, 1):
            ax.scatter([i] * len(values), values, color=colors[conds[i - 1]], zorder=3, s=30, alpha=0.8)
    ax.set_ylabel("TTFT seen: Enter → first token painted (ms)")
    ax.set_title("Time to first token by condition (each dot one request)")
    ax.grid(axis="y", alpha=0.3)
    written.append(_save(fig, out / "ttft_by_condition.png"))

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 5), dpi=110)
    for ax, attr, ylabel in ((ax1, "acceptance_rate", "hunks accepted / decided"),
                             (ax2, "time_on_task_s", "time on task (s)")):
        for i, c in enumerate(conds):
            values = [getattr(s, attr) for s in summaries if (s.condition_label or s.condition) == c
                      and getattr(s, attr) is not None]
            mean = sum(values) / len(values) if values else 0.0
            ax.bar(i, mean, color=colors[c], alpha=0.45, width=0.6)
            ax.scatter([i] * len(values), values, color=colors[c], zorder=3, s=30)
        ax.set_xticks(range(len(conds)), [_wrap(c) for c in conds])
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", alpha=0.3)
    ax1.set_ylim(0, 1.05)
    ax1.set_title("Acceptance rate (bar: mean; dots: tasks)")
    ax2.set_title("Time on task (bar: mean; dots: tasks)")
    written.append(_save(fig, out / "acceptance_and_time_by_condition.png"))
    return written


def _wrap(text: str, width: int = 22) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
