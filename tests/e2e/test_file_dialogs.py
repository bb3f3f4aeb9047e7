"""The Open and Save dialogs start near the work: the current file's folder, else the last folder
chosen (kept in the settings across restarts), else home; never the folder the app started in."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from app.qt.assembly import assemble


@pytest.fixture
def home(tmp_path, monkeypatch):
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.chdir(tmp_path)  # the folder the app was started in: never where a dialog starts
    return folder


def new_window(qtbot):
    window = assemble(with_engine=False).window
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.fixture
def windows(qtbot, qloop):
    made = []

    def make():
        made.append(new_window(qtbot))
        return made[-1]

    yield make
    for window in made:
        window.stop_timers()
        window.controller.cancel_tasks()


def open_dialog(window, action) -> QFileDialog:
    before = set(window.findChildren(QFileDialog))
    action()
    (dialog,) = set(window.findChildren(QFileDialog)) - before
    assert dialog.isVisible()
    return dialog


def test_with_nothing_open_and_nothing_remembered_open_starts_at_home(windows, home):
    window = windows()
    dialog = open_dialog(window, window.ask_open)
    assert Path(dialog.directory().absolutePath()) == home
    dialog.reject()


def test_the_folder_chosen_is_remembered_for_the_next_start(windows, home, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "tool.py").write_text("x = 1\n")
    first = windows()
    dialog = open_dialog(first, first.ask_open)
    dialog.selectFile(str(project / "tool.py"))
    dialog.accept()
    assert first.path == str(project / "tool.py")

    second = windows()  # a later start, nothing open: the folder chosen last time
    dialog = open_dialog(second, second.ask_open)
    assert Path(dialog.directory().absolutePath()) == project
    dialog.reject()


def test_open_and_save_as_start_in_the_current_files_folder(windows, home, tmp_path):
    project, other = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    other.mkdir()
    (other / "old.py").write_text("")
    (project / "main.py").write_text("print(1)\n")
    window = windows()
    dialog = open_dialog(window, window.ask_open)
    dialog.selectFile(str(other / "old.py"))
    dialog.accept()  # the last folder used is now `other`
    window.open_path(str(project / "main.py"))
    for action in (window.ask_open, window.ask_save_as):
        dialog = open_dialog(window, action)
        assert Path(dialog.directory().absolutePath()) == project
        dialog.reject()
    dialog = open_dialog(window, window.ask_save_as)
    assert [Path(f).name for f in dialog.selectedFiles()] == ["main.py"]
    dialog.reject()
