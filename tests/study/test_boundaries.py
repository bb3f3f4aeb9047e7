"""The study core (schedule, study file, log, export) runs without Qt, as the engine does."""

import subprocess
import sys

from tests.study.conftest import ROOT

CORE = ["app.study.schedule", "app.study.studyfile", "app.study.eventlog", "app.study.export", "app.study.summary",
        "app.study.recorder", "app.study.survival", "app.study.timeline", "app.study.labels", "app.study.cli",
        "app.study.warm", "engine.serve.explicit_timing", "engine.backends.response_cache", "engine.backends.replay"]


def test_study_core_imports_no_qt():
    code = f"import sys\nfor m in {CORE!r}: __import__(m)\nprint('PySide6' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"
