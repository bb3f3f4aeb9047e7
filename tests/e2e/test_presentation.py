"""Presentation mode: F11 (or `tessera --presentation`) makes every text larger, and back."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.main import build_parser
from app.qt.presentation import CODE_SCALE, PRESENTATION_SCALE, presentation_style
from app.qt.window_style import STYLE
from tests.e2e.test_app_e2e import load, send, wait_done


def _sizes(win) -> dict[str, float]:
    """What a viewer reads, in pixels: code, diff, instruction, status line, captions."""
    for w in (win.bar.field, win.status_label, win.gauges.profile_label):
        w.ensurePolished()

    def px(widget) -> float:
        font = widget.font()
        return font.pixelSize() if font.pixelSize() > 0 else font.pointSizeF() * widget.logicalDpiY() / 72

    return {"editor": px(win.editor), "diff": px(win.diff_view), "instruction": px(win.bar.field),
            "status": px(win.status_label), "caption": px(win.gauges.profile_label),
            "gauge share": win.splitter.sizes()[2] / sum(win.splitter.sizes())}


def test_f11_enlarges_every_text_and_toggles_back(qtbot, window):
    window.editor.setFocus()
    before = _sizes(window)
    qtbot.keyClick(window, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: window.presentation)
    assert window.presentation_action.isChecked()
    during = _sizes(window)
    for name, size in before.items():
        assert during[name] > size * 1.2, (name, size, during[name])
    assert during["editor"] >= before["editor"] * CODE_SCALE * 0.95
    assert during["instruction"] >= before["instruction"] * PRESENTATION_SCALE * 0.95

    qtbot.keyClick(window, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: not window.presentation)
    after = _sizes(window)
    for name, size in before.items():
        assert abs(after[name] - size) <= 1, (name, size, after[name])


def test_the_command_line_flag_turns_it_on_as_main_does(qtbot, window):
    args = build_parser().parse_args(["--presentation", "some.py"])
    assert args.presentation
    window.presentation_action.setChecked(args.presentation)  # what amain does with the flag
    assert window.presentation
    assert window.editor.font().pointSizeF() > 14


def test_presentation_style_lightens_dim_text():
    assert "#8b949e" in STYLE
    assert "#8b949e" not in presentation_style(PRESENTATION_SCALE)
    assert "font-size: 21px" in presentation_style(1.5)  # the 14 px toolbar text
    assert presentation_style(1.0) == STYLE


def test_the_gpu_grid_stays_readable_in_presentation_mode(qtbot, window):
    """F11, an 8×H100 node, an edit: the grid of GPUs keeps a good part of the wafer view's height.

    The view's text once grew with both its size and the presentation scale, and the column gave
    it two fifths of its height: on a 1080p projector the grid was a 50 px strip under the words
    (tests/app/test_wafer_view.py measures that size; the test screen here is smaller).
    """
    load(window)
    window.editor.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: window.presentation)
    assert window.toolbar.select_profile("h100x8")
    previous = window.controller.run
    window.controller.configure(max_tokens=20)
    send(qtbot, window, "add type hints")
    wait_done(qtbot, window, previous)
    wafer = window.gauges.wafer
    qtbot.waitUntil(lambda: wafer.isVisible() and "GPU" in wafer._subtitle_parts()[-1])  # noqa: SLF001
    wafer.grab()  # paint now
    grid = wafer.grid_rect()
    assert grid is not None
    assert grid.height() >= 0.3 * wafer.height(), (grid, wafer.size())  # was 16 %
    assert wafer.body_px() >= 24  # and the text still reads from the back of the room
    legend_h = window.diff_view.legend.height()  # the diff's legend grows with the diff's text

    qtbot.keyClick(window, Qt.Key.Key_F11)  # normal mode keeps a readable grid too
    qtbot.waitUntil(lambda: not window.presentation)
    wafer.grab()
    assert wafer.grid_rect().height() >= 0.3 * wafer.height()
    assert window.diff_view.legend.height() < legend_h
