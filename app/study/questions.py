"""Questionnaire items: Likert scales, free text, and NASA-TLX built in.

NASA-TLX (Hart & Staveland 1988), raw ("RTLX", unweighted; Hart 2006): six subscales rated
0–100 in steps of 5; the raw score is their mean. Performance runs from "perfect" (0) to
"failure" (100), so for every subscale lower means less workload.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("likert", "text", "slider")


@dataclass(frozen=True)
class Question:
    id: str  # key in the log and the exports
    kind: str  # "likert" (points), "slider" (0–100 in steps), or "text"
    text: str  # the question as shown
    points: int = 7  # likert: number of points
    low: str = ""  # label of the scale's low end
    high: str = ""  # label of the scale's high end
    step: int = 5  # slider: step size
    required: bool = True  # the participant must answer before going on


def _tlx(qid: str, text: str, low: str = "Very low", high: str = "Very high") -> Question:
    return Question(f"tlx_{qid}", "slider", text, low=low, high=high)


NASA_TLX = [
    _tlx("mental", "Mental demand: how mentally demanding was the task?"),
    _tlx("physical", "Physical demand: how physically demanding was the task?"),
    _tlx("temporal", "Temporal demand: how hurried or rushed was the pace of the task?"),
    _tlx("performance", "Performance: how successful were you in accomplishing what you were asked to do?",
         "Perfect", "Failure"),
    _tlx("effort", "Effort: how hard did you have to work to accomplish your level of performance?"),
    _tlx("frustration", "Frustration: how insecure, discouraged, irritated, stressed and annoyed were you?"),
]

BUILTIN_SETS = {"nasa-tlx": NASA_TLX}


def raw_tlx(answers: dict) -> float | None:
    """The raw NASA-TLX score (mean of the six subscales), or None if any is missing."""
    values = [answers.get(q.id) for q in NASA_TLX]
    if any(not isinstance(v, (int, float)) for v in values):
        return None
    return sum(values) / len(values)


def parse_question(table: dict) -> Question:
    if not isinstance(table, dict):
        raise ValueError("a question must be a table")
    qid, kind, text = table.get("id"), table.get("kind", "likert"), table.get("text")
    if not isinstance(qid, str) or not qid or not isinstance(text, str) or not text:
        raise ValueError("a question needs 'id' and 'text'")
    if kind not in KINDS:
        raise ValueError(f"question {qid!r}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    points = table.get("points", 7)
    if kind == "likert" and (not isinstance(points, int) or not 2 <= points <= 11):
        raise ValueError(f"question {qid!r}: points must be 2..11")
    unknown = set(table) - {"id", "kind", "text", "points", "low", "high", "step", "required"}
    if unknown:
        raise ValueError(f"question {qid!r}: unknown field(s) {', '.join(sorted(unknown))}")
    return Question(qid, kind, text, points, str(table.get("low", "")), str(table.get("high", "")),
                    int(table.get("step", 5)), bool(table.get("required", kind != "text")))
