"""The user's files through the real window: byte-exact saves, changes on disk, read-only files,
hot exit after a kill of the app, and large files that load without freezing the window."""

from __future__ import annotations

import codecs
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.core.files.recovery import RecoveryStore
from app.qt.assembly import assemble
from app.qt.dialogs.files import DiskChangedDialog
from app.qt.mainwindow import MainWindow
from tests.conftest import ROOT, trials

WAIT_MS = 30_000
AWKWARD = ["\u00a0", "\u2028", "\u2029", "\ufeff", "\x0c", "\t", "é", "𝄞", "\r\n", "\r", "\n"]


@pytest.fixture
def win(qtbot, qloop):
    window = assemble(with_engine=False).window
    qtbot.addWidget(window)
    window.show()
    yield window
    window.stop_timers()
    window.controller.cancel_tasks()


def type_at_end(qtbot, win, text):
    win.editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(win.editor, text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.lists(st.one_of(st.sampled_from(AWKWARD), st.text("ab c", max_size=4)), max_size=25).map("".join),
       encoding=st.sampled_from([("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE),
                                 ("utf-16-be", codecs.BOM_UTF16_BE)]))
def test_the_window_saves_every_encoding_and_break_byte_exact(qtbot, win, tmp_path, text, encoding):
    codec, bom = encoding
    path = tmp_path / "roundtrip.txt"
    data = bom + text.encode(codec)
    path.write_bytes(data)
    assert win.open_path(str(path))
    assert win.save()
    assert path.read_bytes() == data


def test_a_crlf_latin_1_file_keeps_its_bytes_around_a_typed_line(qtbot, win, tmp_path):
    path = tmp_path / "legacy.py"
    original = "# -*- coding: latin-1 -*-\r\nname = 'café'\r\nspace = 'a\u00a0b'\r\n".encode("latin-1")
    path.write_bytes(original)
    assert win.open_path(str(path))
    assert "iso8859-1 · CRLF" in win.status_label.text()
    type_at_end(qtbot, win, "x = 1")
    assert win.save()
    assert path.read_bytes() == original + b"x = 1"


def test_a_file_changed_on_disk_is_not_overwritten_without_asking(qtbot, win, tmp_path):
    path = tmp_path / "shared.py"
    path.write_bytes(b"base\n")
    assert win.open_path(str(path))
    type_at_end(qtbot, win, "mine")
    path.write_bytes(b"base\ntheirs\n")
    assert not win.save()
    dialog = win.files.dialog
    assert isinstance(dialog, DiskChangedDialog) and dialog.isVisible()
    assert path.read_bytes() == b"base\ntheirs\n"
    dialog.buttons["compare"].click()
    assert "+mine" in dialog.diff.toPlainText() and "-theirs" in dialog.diff.toPlainText()
    dialog.buttons["overwrite"].click()
    assert path.read_bytes() == b"base\nmine" and not win.isWindowModified()


def test_reload_takes_the_disk_version_and_undo_gives_mine_back(qtbot, win, tmp_path):
    path = tmp_path / "shared.py"
    path.write_bytes(b"base\n")
    assert win.open_path(str(path))
    type_at_end(qtbot, win, "mine")
    path.write_bytes(b"theirs\n")
    assert not win.save()
    win.files.dialog.buttons["reload"].click()
    assert win.document_text() == "theirs\n" and not win.isWindowModified()
    win.editor.undo()
    assert win.document_text() == "base\nmine"


def test_a_read_only_file_stays_read_only_and_save_offers_save_as(qtbot, win, tmp_path):
    path = tmp_path / "ro.py"
    path.write_bytes(b"keep = 1\n")
    os.chmod(path, 0o444)
    assert win.open_path(str(path))
    assert win.files.banner.isVisible() and "read-only" in win.files.banner.text()
    type_at_end(qtbot, win, "edit")
    assert not win.save()
    assert "read-only" in win.status_label.text()
    qtbot.waitUntil(lambda: any(d.isVisible() for d in win.findChildren(QFileDialog)), timeout=WAIT_MS)
    for dialog in win.findChildren(QFileDialog):
        dialog.reject()
    assert path.read_bytes() == b"keep = 1\n" and path.stat().st_mode & 0o777 == 0o444


def test_an_undecodable_file_opens_read_only_with_the_reason_and_is_never_saved(qtbot, win, tmp_path):
    path = tmp_path / "latin.py"
    path.write_bytes(b"caf\xe9 = 1\n")
    assert win.open_path(str(path))
    assert win.editor.isReadOnly() and "not valid UTF-8" in win.files.banner.text()
    assert not win.save() and path.read_bytes() == b"caf\xe9 = 1\n"


def test_unsaved_text_reaches_the_recovery_folder_and_leaves_it_on_save(qtbot, win, tmp_path):
    path = tmp_path / "work.py"
    path.write_bytes(b"a = 1\n")
    assert win.open_path(str(path))
    store = win.files.store
    type_at_end(qtbot, win, "b = 2")
    entry = win.files.entry_id
    qtbot.waitUntil(lambda: (store.read(entry) or None) is not None
                    and store.read(entry).text == "a = 1\nb = 2", timeout=WAIT_MS)
    assert win.save()
    assert store.read(entry) is None


# The real app in a child process: it opens FILE, types TEXT once its window is up, says "typed".
APP_CHILD = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
def type_when_ready():
    wins = [w for w in app.topLevelWidgets() if type(w).__name__ == "MainWindow" and w.isVisible()]
    if not wins or wins[0].files.loading:
        QTimer.singleShot(20, type_when_ready)
        return
    wins[0].editor.moveCursor(QTextCursor.MoveOperation.End)
    QTest.keyClicks(wins[0].editor, sys.argv[2])  # QTest types ASCII only
    wins[0].editor.insertPlainText("\\u00a0\\u2028é")
    print("typed", flush=True)
QTimer.singleShot(0, type_when_ready)
from app.main import main
main([sys.argv[1], "--engine", "ws://127.0.0.1:9"])
"""


def test_unsaved_text_survives_a_kill_of_the_app_every_time(qtbot, win, tmp_path):
    path = tmp_path / "precious.py"
    path.write_bytes(b"def f():\r\n    return 1\r\n")
    store = RecoveryStore()  # the state folder this test's environment points at
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TESSERA_TOKEN": "x", "QT_QPA_PLATFORM": "offscreen"}
    for trial in range(trials(ci=2, by_hand=10)):
        typed = f"x{trial} = 1"
        child = subprocess.Popen([sys.executable, "-c", APP_CHILD, str(path), typed], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline().strip() == "typed"
            deadline = time.monotonic() + 20
            # Poll the folder (another process): the entry appears within the hot-exit delay.
            while not any(typed + "\u00a0\u2028é" in e.read_text(encoding="utf-8") for e in store.folder.glob("*.json")):
                assert time.monotonic() < deadline, "no recovery entry"
                assert child.poll() is None
                time.sleep(0.05)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
            child.stdout.close()
        box = win.files.offer_recovery(str(path))
        assert box is not None and box.isVisible()
        next(b for b in box.buttons() if b.text() == "Recover").click()
        qtbot.waitUntil(lambda: not win.files.loading, timeout=WAIT_MS)
        assert win.document_text() == f"def f():\n    return 1\n{typed}\u00a0\u2028é"
        assert win.isWindowModified() and path.read_bytes() == b"def f():\r\n    return 1\r\n"
        assert store.orphans() == []
        win.files.discard_recovery()
        win.editor.document().setModified(False)


def test_a_large_file_loads_in_parts_while_the_window_keeps_working(qtbot, win, tmp_path):
    source = Path(codecs.__file__).read_text(encoding="utf-8")
    text = (source * (9 * 2**20 // len(source) + 1))[:9 * 2**20]
    text = text[:text.rindex("\n") + 1]
    path = tmp_path / "big.py"
    path.write_text(text, encoding="utf-8", newline="")
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(win.files.loading))
    timer.start(0)
    assert win.open_path(str(path))
    assert win.files.loading and "Loading" in win.status_label.text()
    qtbot.waitUntil(lambda: not win.files.loading, timeout=120_000)
    timer.stop()
    assert ticks.count(True) >= 10  # the event loop turned again and again while the file loaded
    assert win.document_text() == text and not win.isWindowModified()
    assert win.editor.highlighter.frontier is not None  # colours follow, a few hundred lines a turn


def test_coming_back_to_the_window_reloads_an_unchanged_buffer_and_warns_about_a_changed_one(qtbot, win, tmp_path):
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    path = tmp_path / "watched.py"
    path.write_bytes(b"one\n")
    assert win.open_path(str(path))
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=WAIT_MS)
    path.write_bytes(b"two\n")
    QApplication.sendEvent(win, QEvent(QEvent.Type.ActivationChange))
    assert win.document_text() == "two\n" and not win.isWindowModified()
    assert "another program changed it" in win.status_label.text()
    type_at_end(qtbot, win, "mine")
    path.write_bytes(b"three\n")
    QApplication.sendEvent(win, QEvent(QEvent.Type.ActivationChange))
    assert win.document_text() == "two\nmine" and "changed on disk" in win.files.banner.text()


def test_recovery_waits_for_a_large_file_that_is_still_loading(qtbot, win, tmp_path):
    from app.core.files.recovery import RecoveryEntry

    path = tmp_path / "big.py"
    text = "x = 1\n" * 200_000
    path.write_text(text)
    assert win.open_path(str(path)) and win.files.loading
    entry = RecoveryEntry("orphan", str(path), text + "y = 2\n", 0.0, 0)
    win.files.recover(entry)
    qtbot.waitUntil(lambda: not win.files.loading, timeout=WAIT_MS)
    assert win.document_text() == text + "y = 2\n" and win.isWindowModified()


def test_offsets_past_characters_beyond_u_ffff_land_where_the_engine_meant(qtbot, win):
    win.editor.setPlainText("a = '𝄞🎉'\ndef f():\n    return 1\n")
    text = win.document_text()
    start = text.index("return")
    cursor = win.editor.textCursor()
    cursor.setPosition(win.files.to_qt(start))
    cursor.setPosition(win.files.to_qt(start + 6), QTextCursor.MoveMode.KeepAnchor)
    win.editor.setTextCursor(cursor)
    assert win.editor.textCursor().selectedText() == "return"
    assert win.selection() == (start, start + 6)
    win.edit_view.replace_ranges([(start, start + 6, "yield"), (text.index("f("), text.index("f(") + 1, "g")])
    assert win.document_text() == "a = '𝄞🎉'\ndef g():\n    yield 1\n"
