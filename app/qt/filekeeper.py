"""The editor's file: open it (in parts, so large files never freeze the window), save it
byte-exact, notice changes made on disk by others, and keep unsaved text for hot exit.

`FileKeeper` owns the editor pane (a banner above the editor) and the file state: the path, the
decoded format (`textcodec`), the disk stamp (`fileio`) and a recovery entry (`recovery`). The
editor's text is read with `toRawText()`, never `toPlainText()` (which turns U+00A0 into a space
and U+2028 into a line break).

Signals: `loaded()` once a file's whole text is in the editor; `message(str, str)` with a status
text and its level ("info", "ok", "warn", "error").
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QLabel, QMessageBox, QVBoxLayout, QWidget

from app.core.files.disk import (DiskStamp, FileError, ReadOnlyFileError, changed_on_disk, clean_stale_temps, is_writable,
                     read_bytes, write_bytes)
from app.core.files.recovery import RecoveryEntry, RecoveryStore
from app.core.files.textcodec import (IDENTITY, Decoded, DecodeError, EncodeError, LineEndings, Utf16Offsets,
                                      decode, encode, has_astral, new_file)
from app.qt.dialogs.files import DiskChangedDialog, recovery_box
from app.qt.widgets.editor import CodeEditor

LOAD_CHUNK_CHARS = 128 * 1024  # text put into the editor per event-loop turn (~15–60 ms of Qt work)
HOT_EXIT_DELAY_MS = 1000  # unsaved text reaches the recovery folder at most this long after a change


class FileKeeper(QObject):
    """See the module docstring."""

    loaded = Signal()
    message = Signal(str, str)

    def __init__(self, editor: CodeEditor, parent: QWidget, store: RecoveryStore | None = None,
                 ask_save_as: Callable[[], None] | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.store = store if store is not None else RecoveryStore()
        self.ask_save_as = ask_save_as  # where a read-only file's changes can go instead
        self.path: str | None = None  # absolute path of the file, None while untitled
        self.decoded: Decoded = new_file()  # format and line endings of the file as opened
        self.stamp: DiskStamp | None = None  # the file on disk as last read or written
        self.loading = False  # a file's text is still going into the editor
        self.entry_id = RecoveryStore.new_id()  # this buffer's name in the recovery folder
        self.recovery_error: str | None = None  # why the last recovery write failed, if it did
        self.dialog: QWidget | None = None  # the open question (changed on disk, recovery), if any
        self._rest = ""  # text still to load
        self._offsets: Utf16Offsets | None = None  # for the text as it is now (None: stale)
        self._astral = False  # the text may hold characters beyond U+FFFF (Qt: two positions each)
        self._after_load: list[Callable[[], None]] = []

        self.banner = QLabel(parent)
        self.banner.setObjectName("fileBanner")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.pane = QWidget(parent)
        layout = QVBoxLayout(self.pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(editor, 1)

        self._load_timer = QTimer(self)
        self._load_timer.setInterval(0)
        self._load_timer.timeout.connect(self._load_next)
        self._hot_exit = QTimer(self)
        self._hot_exit.setSingleShot(True)
        self._hot_exit.setInterval(HOT_EXIT_DELAY_MS)
        self._hot_exit.timeout.connect(self.write_recovery)
        doc = editor.document()
        doc.contentsChanged.connect(self._changed)
        doc.contentsChange.connect(self._inserted)
        doc.modificationChanged.connect(self._modification_changed)
        parent.installEventFilter(self)  # the window coming to the front: look at the disk

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        if event.type() == QEvent.Type.ActivationChange and getattr(watched, "isActiveWindow", bool)():
            self.check_disk()
        return False

    # -- the text ------------------------------------------------------------------------------

    def editor_text(self) -> str:
        """The editor's exact text, every line break "\\n" (U+00A0, U+2028 kept)."""
        return self.editor.document().toRawText().replace("\u2029", "\n")

    def to_qt(self, offset: int) -> int:
        """The editor position of a Python offset into `editor_text()` (they differ after a
        character beyond U+FFFF: Qt counts UTF-16 units)."""
        return self._offset_map().to_qt(offset)

    def from_qt(self, position: int) -> int:
        return self._offset_map().from_qt(position)

    def _inserted(self, position: int, _removed: int, added: int) -> None:
        if added and not self._astral and not self.loading:
            cursor = QTextCursor(self.editor.document())
            cursor.setPosition(position)
            cursor.setPosition(min(position + added, self.editor.document().characterCount() - 1),
                               QTextCursor.MoveMode.KeepAnchor)
            self._astral = has_astral(cursor.selectedText())

    def _offset_map(self) -> Utf16Offsets:
        if not self._astral:
            return IDENTITY  # the usual case: no conversion, no copy of a large text
        if self._offsets is None:
            self._offsets = Utf16Offsets(self.editor_text())
        return self._offsets

    @property
    def read_only_reason(self) -> str | None:
        return self.decoded.read_only_reason

    def format_label(self) -> str:
        return self.decoded.fmt.describe()

    # -- opening -------------------------------------------------------------------------------

    def open(self, path: str, then: Callable[[], None] | None = None) -> bool:
        """Start loading `path`; False (with a message) if it cannot be opened as text."""
        if self.loading:
            self.message.emit("Another file is still loading.", "warn")
            return False
        try:
            data, stamp = read_bytes(path)
            decoded = decode(data)
        except (FileError, DecodeError) as exc:
            self.message.emit(f"{Path(path).name}: {exc}" if isinstance(exc, DecodeError) else str(exc), "error")
            return False
        self.discard_recovery()
        self.path = str(Path(path).resolve())
        self.decoded, self.stamp = decoded, stamp
        clean_stale_temps(Path(self.path).parent)
        self._set_text(decoded.text, then)
        return True

    def _set_text(self, text: str, then: Callable[[], None] | None) -> None:
        editor, doc = self.editor, self.editor.document()
        self.loading = True
        self._astral = has_astral(text)
        if then is not None:
            self._after_load.append(then)
        editor.setReadOnly(True)
        doc.setUndoRedoEnabled(False)
        editor.highlighter.hold_plain()  # plain while loading; coloured lazily afterwards
        editor.setPlainText("")
        editor.set_language_for(self.path)
        big = len(text) > LOAD_CHUNK_CHARS
        editor.setPlainText(text[:LOAD_CHUNK_CHARS])
        self._rest = text[LOAD_CHUNK_CHARS:]
        if big:
            self.message.emit(f"Loading {Path(self.path or 'untitled').name}…", "info")
            self._load_timer.start()
        else:
            self._finish_load()

    def _load_next(self) -> None:
        chunk, self._rest = self._rest[:LOAD_CHUNK_CHARS], self._rest[LOAD_CHUNK_CHARS:]
        cursor = QTextCursor(self.editor.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(chunk)
        if not self._rest:
            self._load_timer.stop()
            self._finish_load()

    def _finish_load(self) -> None:
        editor, doc = self.editor, self.editor.document()
        doc.setUndoRedoEnabled(True)
        doc.setModified(False)
        editor.setReadOnly(self.read_only_reason is not None)
        if doc.blockCount() > 1:
            editor.highlighter.highlight_lazily()
        else:
            editor.highlighter.highlight_all()
        self.loading = False
        self._show_banner()
        self.loaded.emit()
        callbacks, self._after_load = self._after_load, []
        for callback in callbacks:
            callback()

    def _show_banner(self) -> None:
        text = self.read_only_reason
        if text is None and self.path and Path(self.path).exists() and not is_writable(self.path):
            text = (f"{Path(self.path).name} is read-only on disk and stays so: your edits can be "
                    "saved elsewhere with Save As.")
        self.banner.setText(text or "")
        self.banner.setVisible(bool(text))

    def check_disk(self) -> None:
        """Notice a change another program made: reload an unmodified buffer, else say so."""
        if self.loading or self.path is None or self.stamp is None or self.dialog is not None:
            return
        if not changed_on_disk(self.path, self.stamp):
            return
        name = Path(self.path).name
        if not Path(self.path).exists():
            self._banner(f"{name} was deleted or moved on disk; Save writes it again here.")
        elif self.editor.document().isModified():
            self._banner(f"{name} changed on disk since you opened it; Save asks before overwriting it.")
        elif self.reload():
            self.message.emit(f"Reloaded {name}: another program changed it (Ctrl+Z undoes).", "info")

    def _banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(True)

    def reset(self, path: str | None = None) -> None:
        """A new, empty document (to be saved at `path`, if given)."""
        self.path = str(Path(path).resolve()) if path else None
        self.decoded, self.stamp = new_file(), None
        self._show_banner()

    # -- saving --------------------------------------------------------------------------------

    def save(self, path: str | None = None, overwrite: bool = False) -> bool:
        """Write the editor's text to `path` (default: the file's own); False if not saved (yet)."""
        if self.loading:
            self.message.emit("Wait until the file has loaded.", "warn")
            return False
        if self.read_only_reason is not None:
            self.message.emit(f"{self.read_only_reason} Nothing was saved.", "error")
            return False
        target = str(Path(path).resolve()) if path else self.path
        if target is None:
            if self.ask_save_as:
                self.ask_save_as()
            return False
        same_file = target == self.path
        if same_file and self.stamp is not None and not overwrite and changed_on_disk(target, self.stamp):
            self.ask_changed_on_disk()
            return False
        text = self.editor_text()
        try:
            data = encode(text, self.decoded.fmt, self.decoded.endings)
            if self.editor.document().isModified():
                self.write_recovery()  # on disk before the file is touched (an in-place write)
            report = write_bytes(target, data)
        except ReadOnlyFileError as exc:
            self.message.emit(str(exc), "error")
            if self.ask_save_as:
                self.ask_save_as()
            return False
        except (FileError, EncodeError) as exc:
            self.message.emit(str(exc), "error")
            return False
        self.path, self.stamp = target, report.stamp
        # The saved lines are the new reference for each line's own terminator.
        _same, endings = LineEndings.split(self.decoded.endings.restore(text))
        self.decoded = Decoded(text, self.decoded.fmt, endings)
        self.editor.document().setModified(False)
        self.discard_recovery()
        self._show_banner()
        how = " in place (its hard links are kept)" if report.in_place else ""
        self.message.emit(f"Saved {target}{how} · {self.format_label()}", "ok")
        return True

    def ask_changed_on_disk(self) -> DiskChangedDialog:
        assert self.path is not None
        try:
            disk_text = decode(read_bytes(self.path)[0]).text
        except (FileError, DecodeError) as exc:
            disk_text = f"(cannot read the file on disk: {exc})"
        dialog = DiskChangedDialog(self.path, disk_text, self.editor_text(), self.editor.window())
        dialog.chosen.connect(self._disk_answer)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _disk_answer(self, answer: str) -> None:
        self.dialog = None
        if answer == "overwrite":
            self.save(overwrite=True)
        elif answer == "reload":
            self.reload()

    def reload(self) -> bool:
        """Replace the text with the file's as on disk, as one undo step (Ctrl+Z gives it back)."""
        assert self.path is not None
        try:
            data, stamp = read_bytes(self.path)
            decoded = decode(data)
        except (FileError, DecodeError) as exc:
            self.message.emit(str(exc), "error")
            return False
        self.write_recovery()
        self._replace_all(decoded.text)
        self.decoded, self.stamp = decoded, stamp
        self.editor.setReadOnly(decoded.read_only_reason is not None)
        self.editor.document().setModified(False)
        self._show_banner()
        self.message.emit(f"Reloaded {self.path} from disk; Ctrl+Z brings your version back.", "ok")
        return True

    def _replace_all(self, text: str) -> None:
        cursor = QTextCursor(self.editor.document())
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.endEditBlock()

    # -- hot exit ------------------------------------------------------------------------------

    def _changed(self) -> None:
        self._offsets = None
        if not self.loading and self.editor.document().isModified() and not self._hot_exit.isActive():
            self._hot_exit.start()

    def _modification_changed(self, modified: bool) -> None:
        if not modified and not self.loading:
            self._hot_exit.stop()
            self.discard_recovery()

    def write_recovery(self) -> None:
        """Keep the unsaved text in the recovery folder now (nothing unsaved: drop the entry)."""
        self._hot_exit.stop()
        if self.loading or not self.editor.document().isModified():
            return
        try:
            self.store.write(self.entry_id, self.path, self.editor_text())
            self.recovery_error = None
        except OSError as exc:
            if self.recovery_error is None:
                self.message.emit(f"Unsaved text cannot be kept for recovery ({exc.strerror or exc}) "
                                  f"in {self.store.folder}; save often.", "warn")
            self.recovery_error = str(exc)

    def discard_recovery(self) -> None:
        self._hot_exit.stop()
        try:
            self.store.remove(self.entry_id)
        except OSError:
            pass

    def offer_recovery(self, prefer_path: str | None = None) -> QMessageBox | None:
        """Ask about the newest buffer a dead Tessera left (the one of `prefer_path` first)."""
        orphans = self.store.orphans()
        if not orphans:
            return None
        wanted = str(Path(prefer_path).resolve()) if prefer_path else None
        entry = next((e for e in orphans if wanted and e.path == wanted), orphans[0])
        box = recovery_box(entry, len(orphans) - 1, self.editor.window())

        def answered(_result: int) -> None:
            self.dialog = None
            role = box.buttonRole(box.clickedButton()) if box.clickedButton() else None
            if role == QMessageBox.ButtonRole.AcceptRole:
                self.recover(entry)
            elif role == QMessageBox.ButtonRole.DestructiveRole:
                self.store.remove(entry.entry_id)
                self.message.emit("The unsaved text was discarded.", "info")

        box.finished.connect(answered)
        box.finished.connect(box.deleteLater)
        self.dialog = box
        box.open()
        return box

    def recover(self, entry: RecoveryEntry) -> None:
        """Put an orphaned buffer's text into the editor (over its file, if that still exists)."""

        def apply() -> None:
            self._replace_all(entry.text)
            self.write_recovery()  # ours now: kept under this window's entry
            self.store.remove(entry.entry_id)
            when = time.strftime("%H:%M:%S", time.localtime(entry.saved_at))
            self.message.emit(f"Recovered the unsaved text of {Path(entry.path or 'untitled').name} "
                              f"from {when}. Save to keep it; Ctrl+Z shows the file as on disk.", "ok")

        if self.loading:  # a file is still coming in: recover once it is all there
            self._after_load.append(apply if entry.path == self.path else lambda: self.recover(entry))
            return
        if entry.path and Path(entry.path).is_file() and self.open(entry.path, then=apply):
            return
        self.reset(entry.path)
        apply()
