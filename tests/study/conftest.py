"""Study fixtures: the qasync loop of the end-to-end tests, and a small study on the example tasks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import qloop, run_async  # noqa: F401 (fixtures shared with the e2e tests)

ROOT = Path(__file__).resolve().parents[2]
TASKS = ROOT / "resources" / "studies" / "tasks"


def write_study(folder: Path, log_contents: bool = False) -> Path:
    text = f"""
id = "mini"
consent = "You agree to take part in a small test study."
log_file_contents = {str(log_contents).lower()}

[[conditions]]
id = "slow"
label = "300 tok/s"
ttft_ms = 120
tok_s = 300
jitter_ms = 1
seed = 2

[[conditions]]
id = "fast"
label = "Llama 3.1 8B on WSE-3 (emulated)"
profile = "wse-3"
model = "llama-3.1-8b"
speculation = false

[[tasks]]
id = "wrap"
title = "Remove debug prints"
file = "{TASKS / 'wrap.py'}"
selection = [12, 22]
instruction = "remove print statements"
check = "pytest -q test_wrap.py"
support = ["{TASKS / 'test_wrap.py'}"]

[[tasks]]
id = "calendar"
title = "Use f-strings"
file = "{TASKS / 'calendar_html.py'}"
selection = [10, 23]
instruction = "convert to f-strings"
check = "pytest -q test_calendar_html.py"
support = ["{TASKS / 'test_calendar_html.py'}"]

[questionnaires]
after_task = ["nasa-tlx", "trust"]
end = ["comments"]

[[questions]]
id = "trust"
text = "I trusted the changes."
points = 5
low = "no"
high = "yes"

[[questions]]
id = "comments"
kind = "text"
text = "Anything else?"
"""
    path = folder / "mini.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def mini_study(tmp_path):
    return write_study(tmp_path)
