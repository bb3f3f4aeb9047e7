"""The legend under the live diff: it shows while a diff does, says what each mark means, and
draws each swatch in the colour the pane draws that mark with."""

import pytest
from PySide6.QtGui import QColor

from app.core.highlight import DARK
from app.qt.widgets.diff_legend import ENTRIES
from app.qt.widgets.diffpaint import PROBLEM_COLOUR
from app.qt.widgets.diffview import LiveDiffView
from tests.app.test_diffview import ORIGINAL, settle


@pytest.fixture
def view(qtbot):
    widget = LiveDiffView()
    widget.resize(760, 480)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def colour_at(widget, x: int, y: int) -> str:
    image = widget.grab().toImage()
    ratio = image.devicePixelRatio()
    return QColor(image.pixel(round(x * ratio), round(y * ratio))).name()


def test_the_legend_shows_with_a_diff_and_names_every_mark(qtbot, view):
    assert not view.legend.isVisible()  # the idle pane explains the workflow instead
    view.begin(ORIGINAL)
    view.feed("def f0(x):\n    return x * 0\n", draft_tokens=3)
    settle(qtbot, view)
    legend = view.legend
    assert legend.isVisible()
    assert [e.label for e in ENTRIES] == ["added", "removed", "not reached yet", "drafted", "does not parse",
                                          "still changing", "redirect"]
    assert all(legend.rect().contains(legend.entry_rect(e.key)) for e in ENTRIES)  # nothing cut off
    # It sits under the rows, not over them, and beside the scroll bar, not under it.
    rows = view.viewport().geometry()
    assert rows.bottom() < legend.geometry().top() and legend.geometry().right() <= rows.right()
    view.clear()
    assert not legend.isVisible()


def test_each_swatch_is_drawn_in_the_colour_of_its_mark(qtbot, view):
    view.begin(ORIGINAL)
    settle(qtbot, view)
    legend = view.legend

    def inside(key: str, dx: int = 2) -> str:
        rect = legend.swatch_rect(key)
        return colour_at(legend, rect.left() + dx, rect.top() + 2)

    assert inside("added") == DARK.added
    assert inside("removed") == DARK.removed
    assert inside("settling", 1) == DARK.accent
    assert inside("problem", 1) == QColor(PROBLEM_COLOUR).name()
    draft = legend.swatch_rect("draft")
    assert colour_at(legend, draft.center().x(), draft.bottom() - 2) == DARK.draft


def test_a_narrow_pane_wraps_the_legend_onto_more_lines(qtbot, view):
    view.begin(ORIGINAL)
    settle(qtbot, view)
    one_line = view.legend.height()
    view.resize(300, 480)
    qtbot.waitUntil(lambda: view.legend.height() > one_line)
    legend = view.legend
    assert all(legend.rect().contains(legend.entry_rect(e.key)) for e in ENTRIES)
    assert legend.geometry().right() <= view.viewport().geometry().right()
    assert view.viewport().height() > 5 * view.row_height()  # the rows keep most of the pane


def test_a_larger_font_presentation_mode_grows_the_legend(qtbot, view):
    view.begin(ORIGINAL)
    settle(qtbot, view)
    before = view.legend.height()
    font = view.font()
    font.setPointSizeF(font.pointSizeF() * 1.35)
    view.setFont(font)
    qtbot.waitUntil(lambda: view.legend.height() > before)
    assert view.viewport().geometry().bottom() < view.legend.geometry().top()
