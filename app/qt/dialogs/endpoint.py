"""A small dialog to add an OpenAI-compatible endpoint: base URL, model, API key, transport; Test; Save.

Signals: `saved(object)` with the saved ``engine.backends.endpoints.Endpoint`` (the dialog then closes).
"Test" asks the server for its models with the key (``check`` is awaited on the running qasync
loop); the key field never shows the key, and the result line never contains it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QPushButton,
                               QWidget)

from engine.backends.endpoints import TRANSPORTS, Endpoint, EndpointError, add_endpoint

Checker = Callable[[Endpoint], Awaitable[tuple[bool, str]]]


async def check_endpoint(endpoint: Endpoint) -> tuple[bool, str]:
    from engine.backends.openai_http import check_endpoint as check

    return await check(endpoint)


class EndpointDialog(QDialog):
    saved = Signal(object)

    def __init__(self, parent: QWidget | None = None, check: Checker = check_endpoint) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add an endpoint")
        self.setObjectName("endpointDialog")
        self._check = check
        self._task: asyncio.Task | None = None
        form = QFormLayout(self)
        self.url_edit = QLineEdit(self)
        self.url_edit.setPlaceholderText("http://127.0.0.1:8080/v1")
        self.model_edit = QLineEdit(self)
        self.model_edit.setPlaceholderText("qwen2.5-coder:7b")
        self.key_edit = QLineEdit(self)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("none, or from OPENAI_API_KEY")
        self.transport_combo = QComboBox(self)
        for name, label in zip(TRANSPORTS, ("HTTP (Chat Completions)", "WebSocket (Responses, falls back to HTTP)")):
            self.transport_combo.addItem(label, name)
        self.test_button = QPushButton("Test", self)
        self.test_button.clicked.connect(self.test)
        self.result_label = QLabel("", self)
        self.result_label.setWordWrap(True)
        self.result_label.setObjectName("endpointResult")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        form.addRow("Base URL", self.url_edit)
        form.addRow("Model", self.model_edit)
        form.addRow("API key", self.key_edit)
        form.addRow("Transport", self.transport_combo)
        form.addRow(self.test_button, self.result_label)
        form.addRow(self.buttons)

    def endpoint(self) -> Endpoint:
        """The endpoint the fields describe (EndpointError when they do not)."""
        return Endpoint(self.url_edit.text(), self.model_edit.text().strip(), api_key=self.key_edit.text().strip(),
                        transport=self.transport_combo.currentData())

    def _say(self, ok: bool | None, text: str) -> None:
        color = {True: "#2e7d32", False: "#c62828", None: "#555555"}[ok]
        self.result_label.setStyleSheet(f"color: {color};")
        self.result_label.setText(text)

    def test(self) -> None:
        try:
            endpoint = self.endpoint()
        except EndpointError as exc:
            self._say(False, str(exc))
            return
        self.test_button.setEnabled(False)
        self._say(None, "Testing…")
        self._task = asyncio.ensure_future(self._run_check(endpoint))

    async def _run_check(self, endpoint: Endpoint) -> None:
        try:
            ok, text = await self._check(endpoint)
        except Exception as exc:  # the check reports problems itself; this is the net under it
            ok, text = False, f"{type(exc).__name__}: {exc}"
        finally:
            self.test_button.setEnabled(True)
        key = endpoint.key
        self._say(ok, text.replace(key, "•••") if key else text)

    def save(self) -> None:
        try:
            endpoint = self.endpoint()
            add_endpoint(endpoint)
        except (EndpointError, OSError) as exc:
            self._say(False, f"Not saved: {exc}")
            return
        self.saved.emit(endpoint)
        self.accept()
