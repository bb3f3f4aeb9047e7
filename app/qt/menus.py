"""The main window's menu bar: File, Edit (and View, built by `demo_menu`), Help.

Menus hold the toolbar's own actions where there is one (one action, one shortcut). Keys that the
window already binds as shortcuts (Esc, Ctrl+K, Ctrl+Enter…) or that the editor handles itself
(Ctrl+Z) are shown in the entry's text only, so no key is bound twice.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox

SHORTCUTS = (
    ("Ctrl+K", "Type an instruction for the selection, or the function at the cursor"),
    ("Enter", "Send it; while streaming or after a stop: redirect, keeping the partial output"),
    ("Esc", "Stop before the next token"),
    ("A / R", "Accept / reject the current change in the diff (J / K move)"),
    ("Ctrl+Enter", "Accept every change"),
    ("Ctrl+Shift+Backspace", "Reject every change"),
    ("Ctrl+Z / Ctrl+Shift+Z", "Undo / redo in the editor (an accepted change is one step)"),
    ("Ctrl+F", "Find in the editor; Enter / F3 next, Shift+Enter / Shift+F3 previous, Esc closes"),
    ("Ctrl+G", "Go to a line, or line:column"),
    ("Ctrl+O / Ctrl+S / Ctrl+Shift+S", "Open / save / save as"),
    ("Ctrl+Shift+T", "Run the file's tests (only when asked)"),
    ("F11", "Presentation mode"),
    ("Ctrl+Shift+R", "Race this edit on two emulated machines"),
    ("Ctrl+Q", "Quit (asks about unsaved changes)"),
)


def _shown(text: str, keys: str) -> str:
    """A menu label that shows `keys` without binding them (they are bound elsewhere)."""
    return f"{text}\t{keys}"


def build_file_edit_menus(window: QMainWindow) -> None:
    """File and Edit, before the View menu."""
    tb = window.toolbar
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(tb.open_action)
    file_menu.addAction(tb.save_action)
    file_menu.addAction(tb.save_as_action)
    file_menu.addSeparator()
    file_menu.addAction("Load a model folder…", window.ask_model_folder)
    file_menu.addAction(tb.run_tests_action)
    file_menu.addSeparator()
    quit_action = QAction("Quit", window, shortcut=QKeySequence("Ctrl+Q"),
                          triggered=window.close)  # closeEvent asks about unsaved text
    file_menu.addAction(quit_action)

    c = window.controller
    edit = bar.addMenu("&Edit")
    edit.addAction(_shown("Undo", "Ctrl+Z"), window.editor.undo)
    edit.addAction(_shown("Redo", "Ctrl+Shift+Z"), window.editor.redo)
    edit.addSeparator()
    for text, keys, slot in (("Find…", "Ctrl+F", window.open_find),
                             ("Find next", "F3", window.find_bar.find_next),
                             ("Find previous", "Shift+F3", window.find_bar.find_previous),
                             ("Go to line…", "Ctrl+G", window.open_goto_line)):
        edit.addAction(QAction(text, window, shortcut=QKeySequence(keys), triggered=slot))
    edit.addSeparator()
    edit.addAction(_shown("Instruction…", "Ctrl+K"), window.focus_instruction)
    edit.addAction(_shown("Stop", "Esc"), c.stop)
    edit.addSeparator()
    edit.addAction(_shown("Accept all changes", "Ctrl+Enter"), c.accept_all)
    edit.addAction(_shown("Reject all changes", "Ctrl+Shift+Backspace"), c.reject_all)


def build_help_menu(window: QMainWindow) -> None:
    help_menu = window.menuBar().addMenu("&Help")
    help_menu.addAction("Keyboard shortcuts", lambda: show_shortcuts(window))
    help_menu.addAction("About Tessera", lambda: show_about(window))


def shortcuts_html() -> str:
    rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in SHORTCUTS)
    return f"<table>{rows}</table>"


def show_shortcuts(window: QMainWindow) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", shortcuts_html(), parent=window)
    box.open()  # not exec(): the event loop is qasync's
    return box


def show_about(window: QMainWindow) -> QMessageBox:
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("tessera")
    except PackageNotFoundError:
        v = "development"
    model = window.toolbar.model_button.text().removeprefix("Model: ")
    box = QMessageBox(QMessageBox.Icon.NoIcon, "About Tessera",
                      f"<b>Tessera</b> {v}<br>Real-time pair programming on a local engine.<br>"
                      f"Model: {model}", parent=window)
    box.open()
    return box
