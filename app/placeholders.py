"""Plain stand-ins for components that are not built yet."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget


class Readout(QLabel):
    """A number with a caption, standing in for a gauge."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("readout")
        self.caption = caption
        self.setText(f"{caption}: –")
        font = self.font()
        font.setPointSize(16)
        self.setFont(font)

    def set_value(self, text: str) -> None:
        self.setText(f"{self.caption}: {text}")
