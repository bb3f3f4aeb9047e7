"""Noticing output that has gone wrong, so that the user is told instead of shown a green "Done".

A small model that loses its place tends to loop (``hththth…``, ``given given given``) or to write
tokens that neither the code nor the predicted edit contains. :class:`Watch` sees every output
token and says when either has gone on long enough that it cannot be an edit of this code;
:func:`stopped_parsing` compares the finished output with the input: code that parsed and no
longer does is reported with a warning.
"""

from __future__ import annotations

import ast

LOOP_TOKENS = 16  # a loop must span this many tokens (a period of 1–8 tokens repeated) to count
NOVEL_RUN = 40  # consecutive tokens found neither in the source, the instruction nor the drafts


def _contains(seq: list[int], part: list[int]) -> bool:
    n = len(part)
    first = part[0]
    return any(seq[i] == first and seq[i:i + n] == part for i in range(len(seq) - n + 1))


class Watch:
    """Per-token degeneration check for one request's output."""

    def __init__(self, source_ids: list[int], known_ids: list[int]):
        self.source = list(source_ids)
        self.expected = list(known_ids)  # the drafts (the predicted edit) and the instruction
        self.known = set(source_ids) | set(known_ids)
        self.novel = 0  # current run of tokens outside `known`

    def see(self, out: list[int], predicted: list[int] | None = None) -> str | None:
        """The output so far (last token new); a message when it has degenerated, else None."""
        tok = out[-1]
        if predicted:
            self.known.update(predicted)
        self.novel = 0 if tok in self.known else self.novel + 1
        if self.novel >= NOVEL_RUN:
            return (f"the model wrote {self.novel} tokens in a row that are neither in the code nor in "
                    "the expected edit")
        if len(out) < LOOP_TOKENS:
            return None
        for period in range(1, 9):
            span = max(LOOP_TOKENS, 4 * period)  # at least four rounds of the loop
            if len(out) < span:
                break
            tail = out[-span:]
            if all(tail[i] == tail[i - period] for i in range(period, span)):
                if _contains(self.source, tail) or _contains(self.expected, tail):
                    return None  # the code itself repeats like this (a ruler comment, padding)
                return f"the model repeated the same {period} token(s) over and over"
        return None


def parses(code: str) -> bool:
    try:
        ast.parse(code)
        return True
    except (SyntaxError, ValueError):
        return False


UNPARSABLE = "the edited code no longer parses (it did before); review it before accepting"


def stopped_parsing(source: str, output: str) -> bool:
    """The source parsed (as Python) and the output does not."""
    return bool(source.strip()) and parses(source) and not parses(output)
