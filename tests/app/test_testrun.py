"""'Run tests' runs the user's project's tests with the project's interpreter, not Tessera's."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from app.core.testrun import project_python, project_root, run_pytest


def _project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "src" / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    test = tmp_path / "tests" / "test_calc.py"
    test.write_text("import sys\nsys.path.insert(0, 'src')\nfrom calc import add\n\n"
                    "def test_add():\n    assert add(2, 3) == 5\n\ndef test_fails():\n    assert add(2, 2) == 5\n")
    return test


def test_the_project_root_is_found_from_a_nested_test_file(tmp_path):
    test = _project(tmp_path)
    assert project_root(test) == tmp_path


def test_a_virtual_environment_in_the_project_is_preferred(tmp_path, monkeypatch):
    test = _project(tmp_path)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    assert project_python(test) == str(bin_dir / "python")


def test_without_a_project_environment_the_python_on_path_is_used(tmp_path, monkeypatch):
    test = _project(tmp_path)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "python3").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(fake_bin))
    assert project_python(test) == str(fake_bin / "python3")


def test_run_from_the_project_root_reports_pytests_summary(tmp_path):
    test = _project(tmp_path)
    result = asyncio.run(run_pytest(test, python=sys.executable))
    assert not result.passed
    assert "1 failed, 1 passed" in result.summary


def test_an_interpreter_without_pytest_gets_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    test = _project(tmp_path)
    venv = tmp_path / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    assert os.access(python, os.X_OK)
    result = asyncio.run(run_pytest(test))  # picks the project's .venv, which has no pytest
    assert not result.passed
    assert "pytest is not installed" in result.summary and str(python) in result.summary
