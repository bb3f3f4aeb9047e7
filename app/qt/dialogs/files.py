"""The file questions the editor asks: changed on disk (reload / overwrite / compare), and the
recovery offer after a crash. Both open window-modal with `open()`, never a nested `exec()`.
And the file dialogs, which start near the work (`app.core.files.places`) and remember the last
folder chosen in the app settings (`settings.ini` in the user's Tessera config folder).

Signals: `DiskChangedDialog.chosen(str)` with "reload", "overwrite" or "cancel".
"""

from __future__ import annotations

import difflib
import time
from pathlib import Path

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (QDialog, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QMessageBox,
                               QPlainTextEdit, QPushButton, QSplitter, QTreeView, QVBoxLayout, QWidget)

from app.core.files.places import start_directory
from app.core.files.recovery import RecoveryEntry
from app.qt.widgets.editor import monospace_font

APP_NAME = "Tessera"
LAST_DIRECTORY_KEY = "files/last_directory"  # the folder of the last file chosen in a file dialog
MAX_DIFF_LINES = 4000  # the compare view shows this many diff lines at most


def unified_diff(disk_text: str, editor_text: str, name: str) -> str:
    lines = list(difflib.unified_diff(disk_text.splitlines(), editor_text.splitlines(),
                                      f"{name} (on disk)", f"{name} (in the editor)", lineterm=""))
    if len(lines) > MAX_DIFF_LINES:
        lines = lines[:MAX_DIFF_LINES] + [f"… {len(lines) - MAX_DIFF_LINES} more lines"]
    return "\n".join(lines) or "The texts are the same; only the file's stamp changed."


class DiskChangedDialog(QDialog):
    """Another program changed the file since it was opened; see the module docstring."""

    chosen = Signal(str)

    def __init__(self, path: str, disk_text: str, editor_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("diskChanged")
        self.setWindowTitle(APP_NAME)
        self._texts = (disk_text, editor_text)
        self._name = Path(path).name
        self._answer = "cancel"
        text = QLabel(f"<b>{self._name} changed on disk</b> since you opened it.<br>Reload its "
                      "version (yours stays one Ctrl+Z away), overwrite it with yours, or compare "
                      "them first.", self)
        text.setObjectName("dialogText")
        text.setWordWrap(True)
        self.diff = QPlainTextEdit(self)
        self.diff.setObjectName("compare")
        self.diff.setReadOnly(True)
        self.diff.setVisible(False)
        self.diff.setMinimumSize(760, 360)
        self.diff.setFont(monospace_font(12))
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for key, label in (("compare", "Compare"), ("reload", "Reload from disk"),
                           ("overwrite", "Overwrite with mine"), ("cancel", "Cancel")):
            button = QPushButton(label, self)
            button.setAutoDefault(False)
            button.clicked.connect(lambda _c=False, k=key: self._clicked(k))
            self.buttons[key] = button
            row.addWidget(button)
        self.buttons["cancel"].setDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.diff, 1)
        layout.addLayout(row)
        self.finished.connect(lambda _r: self.chosen.emit(self._answer))

    def _clicked(self, key: str) -> None:
        if key == "compare":
            self.diff.setPlainText(unified_diff(*self._texts, self._name))
            self.diff.setVisible(True)
            self.buttons["compare"].setEnabled(False)
            self.adjustSize()
            return
        self._answer = key
        self.done(QDialog.DialogCode.Accepted if key != "cancel" else QDialog.DialogCode.Rejected)


def recovery_box(entry: RecoveryEntry, more: int, parent: QWidget) -> QMessageBox:
    """Recover / Discard / Later for one orphaned buffer; the clicked role says which."""
    name = Path(entry.path).name if entry.path else "an untitled document"
    when = time.strftime("%H:%M:%S on %d %b", time.localtime(entry.saved_at))
    lines = entry.text.count("\n") + 1
    extra = f"<br>{more} more unsaved document(s) wait for the next start." if more else ""
    box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME,
                      f"<b>Tessera closed without saving {name}.</b><br>Its unsaved text ({lines:,} "
                      f"lines, last changed at {when}) was kept. Recover it?{extra}",
                      QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("recoveryOffer")
    box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
    return box


def app_settings() -> QSettings:
    """The app's settings file (an INI file beside endpoints.json, so one folder holds the config)."""
    from engine.backends.endpoints import config_dir

    return QSettings(str(config_dir() / "settings.ini"), QSettings.Format.IniFormat)


def last_directory() -> str | None:
    value = app_settings().value(LAST_DIRECTORY_KEY)
    return value if isinstance(value, str) and value else None


def remember_directory(chosen: str) -> None:
    """Keep the folder holding what the user chose (a file, or a model folder) for the next dialog."""
    settings = app_settings()
    settings.setValue(LAST_DIRECTORY_KEY, str(Path(chosen).parent))
    settings.sync()


def file_dialog(parent: QWidget, title: str, current_path: str | None = None,
                directory: str | None = None) -> QFileDialog:
    """A file dialog that starts near the work and is sized so names, sizes and types read whole.

    It starts in ``directory`` when given (the shipped demos), else in the folder of
    ``current_path`` (the file being edited), else in the last folder chosen in a file dialog,
    else at home; the folder of what the user chooses is remembered for the next one.
    """
    if directory is None:
        directory = start_directory(current_path, last_directory(), str(Path.home()))
    else:
        directory = start_directory(None, directory, str(Path.home()))
    dialog = QFileDialog(parent, title, directory)
    dialog.fileSelected.connect(remember_directory)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)  # styled like the app, both themes
    dialog.resize(980, 600)
    splitter = dialog.findChild(QSplitter, "splitter")
    if splitter is not None:
        splitter.setSizes([170, 810])  # places ("Computer", home) readable beside the files
    view = dialog.findChild(QTreeView, "treeView")
    if view is not None:
        header = view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, header.count()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    return dialog
