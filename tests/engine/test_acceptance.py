"""The real-code acceptance suite (engine/bench/acceptance.py): its cases, its score, and what it
records of the edits that are not the expected one."""

from __future__ import annotations

import ast
import random
import textwrap
from pathlib import Path

from engine.bench.acceptance import cases_in, run, score, told_how


def test_cases_are_whole_lines_of_real_functions_and_their_expected_file_differs():
    cases = cases_in(Path(textwrap.__file__), random.Random(0), ("rename_variable", "remove_prints"))
    assert len(cases) > 10
    for c in cases:
        text = c.text[c.start:c.end]
        assert (c.start == 0 or c.text[c.start - 1] == "\n") and text.endswith("\n")
        assert text.lstrip().startswith(("def ", "@", "async def "))
        assert c.expected != ast.dump(ast.parse(c.text))  # the edit changes the file
        assert score(c, text) == (False, True)  # unchanged: not exact, parses
        assert score(c, "def (:\n") == (False, False)


def test_how_a_wrong_edit_was_reported():
    assert told_how("refused: context_overflow", [], False) == "refused"
    assert told_how("context_overflow", [], False) == "refused"
    assert told_how("degenerate_output", [], False) == "stopped"
    assert told_how("eos", ["unparsable"], False) == told_how("eos", ["not_the_edit"], False) == "warned"
    assert told_how("eos", [], True) == "unchanged"
    assert told_how("eos", [], False) == "silent"


def test_a_run_scores_each_case_in_each_of_its_situations():
    cases = cases_in(Path(textwrap.__file__), random.Random(1), ("rename_function", "out_of_scope"))[:4]
    report = run(cases, log=lambda *_: None)
    assert sum(c["n"] for k, c in report["cells"].items() if k.startswith("top-level|") or k.startswith("method|")
               or k.startswith("nested|")) >= len(cases)
    assert 0.0 <= report["parses"] <= 1.0
    assert all(f["told"] in ("refused", "stopped", "warned", "unchanged", "silent") for f in report["failures"])
