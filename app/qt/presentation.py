"""Presentation mode: the main window made legible from the back of a room on a 1080p projector.

Type grows (code, diff, instruction bar, buttons, captions, status line), dim greys turn light,
the window fills the screen and the gauge column takes a quarter of the width so the tok/s dial
and the wafer view read from afar. Turning it off restores every size and the pane widths.
"""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

from app.qt.window_style import scaled_style

# Bar, buttons, captions and status line: 14 px becomes 21 px.
PRESENTATION_SCALE = 1.5
# Code at 14 pt becomes 19 pt (25 px at 96 dpi, 1/43 of a 1080-line screen): a slide's body-text
# size, while the diff pane still shows ~50 columns beside its two line-number columns.
CODE_SCALE = 1.35
# Pane widths (editor, diff, gauges) in presentation mode, as fractions of the window: the room
# watches the diff (which shows the whole target) and the gauges; the editor gives context.
PRESENTATION_PANES = (0.25, 0.49, 0.26)
NORMAL_STRETCH = (6, 7, 3)  # the main window's own stretch factors (mainwindow.py)
# Dim greys of the normal style, and the light ones that replace them on a projector (projectors
# wash out low-contrast text first).
CONTRAST = {"#8b949e": "#d0d7de", "#6e7681": "#aeb6bf", "#c9d1e0": "#f0f3f6"}


def presentation_style(scale: float) -> str:
    """The window's style sheet with fonts times ``scale`` and, above 1, the dim greys lightened."""
    style = scaled_style(scale)
    if scale > 1.0:
        for dim, light in CONTRAST.items():
            style = style.replace(dim, light)
    return style


def scale_font(widget: QWidget, scale: float) -> None:
    """Set ``widget``'s point size to ``scale`` times the size it had before the first call."""
    font = QFont(widget.font())
    if font.pointSizeF() <= 0:
        return  # sized in pixels by a style sheet, which scales it
    base = widget.property("basePointSize") or font.pointSizeF()
    widget.setProperty("basePointSize", base)
    font.setPointSizeF(base * scale)
    widget.setFont(font)


def apply_presentation(window, on: bool, normal_sizes: list[int] | None) -> list[int] | None:
    """Turn presentation mode on or off for the main window (see the module docstring).

    ``normal_sizes``: the pane widths (px) to restore when the mode ends, as this call last
    returned them (None before the first call). Returns the widths to keep for the next call.
    """
    scale = PRESENTATION_SCALE if on else 1.0
    window.setStyleSheet(presentation_style(scale))
    for widget in (window.editor, window.diff_view):  # sized in points, not by the style sheet
        scale_font(widget, CODE_SCALE if on else 1.0)
    window.gauges.set_scale(scale)
    window.bar.refit()  # the context meter's width follows its text at the new font
    if on and normal_sizes is None:
        normal_sizes = window.splitter.sizes()  # restored when the mode ends
    if window.isVisible():
        if on:
            # No window manager (a bare X server, a kiosk) ignores showFullScreen: take the screen too.
            screen = window.screen().geometry()
            window.showFullScreen()
            window.setGeometry(screen)
        else:
            window.showNormal()
    _set_panes(window, on, normal_sizes)
    return normal_sizes if on else None


def _set_panes(window, on: bool, normal_sizes: list[int] | None) -> None:
    splitter = window.splitter
    if on:
        total = max(sum(splitter.sizes()), window.width())
        splitter.setSizes([round(total * f) for f in PRESENTATION_PANES])
        for i, share in enumerate(PRESENTATION_PANES):  # a later resize keeps the proportions
            splitter.setStretchFactor(i, round(share * 100))
    else:
        if normal_sizes:
            splitter.setSizes(normal_sizes)
        for i, factor in enumerate(NORMAL_STRETCH):
            splitter.setStretchFactor(i, factor)
