"""DiffLegend: a strip under the live diff that says what each of its marks means.

Every swatch is drawn the way `diffpaint.RowPainter` draws the mark it explains, in the same
theme colours: the added and removed rows with their signs, the grey original the output has not
reached, the underline of drafted text, the red edge and wavy line of code that stops parsing, the
bar of rows still settling and the redirect marker. Entries wrap onto more lines in a narrow pane;
each has a tooltip with the longer explanation. No signals.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.core.highlight import DARK, Theme
from app.qt.widgets.diffpaint import PROBLEM_COLOUR, SIGNS

FONT_SHARE = 0.8  # legend text size relative to the diff's code font
SWATCH_CHARS = 3  # swatch width in the legend font's average characters
GAP_PX = 14  # between entries


@dataclass(frozen=True)
class LegendEntry:
    key: str  # the mark: "added", "removed", "pending", "draft", "problem", "settling", "redirect"
    label: str  # what the strip says
    tip: str  # the tooltip's longer explanation


ENTRIES = (
    LegendEntry("added", "added", "Green rows: lines the edit adds."),
    LegendEntry("removed", "removed", "Red rows: lines the edit removes."),
    LegendEntry("pending", "not reached yet", "Grey text: original lines the model has not reached yet."),
    LegendEntry("draft", "drafted", "Underlined text: taken from the predicted output (the original code) and "
                "verified by the model in one pass, rather than generated token by token."),
    LegendEntry("problem", "does not parse", "Red edge and wavy red line: where the edited code stops parsing."),
    LegendEntry("settling", "still changing", "Blue bar at the left edge: rows the stream may still rewrite."),
    LegendEntry("redirect", "redirect", "Purple marker: where an instruction redirected the stream."),
)


class DiffLegend(QWidget):
    """See the module docstring."""

    def __init__(self, parent: QWidget | None = None, theme: Theme = DARK):
        super().__init__(parent)
        self.setObjectName("diffLegend")
        self.theme = theme
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._rects: dict[str, QRect] = {}  # entry key -> where its swatch and label were laid out

    # ---- layout -------------------------------------------------------------------------------
    def legend_font(self) -> QFont:
        # The pane's code font, asked of the pane: under the window's style sheet a child does not
        # inherit the font the pane is given (presentation mode).
        code = self.parentWidget().font() if self.parentWidget() is not None else self.font()
        font = QFont(code)
        font.setFamily("Sans Serif")
        font.setStyleHint(QFont.StyleHint.SansSerif)
        font.setPointSizeF(max(8.0, code.pointSizeF() * FONT_SHARE))
        return font

    def _layout(self, width: int) -> tuple[dict[str, QRect], int]:
        """Entry rectangles flowed into lines ``width`` wide, and the height they take."""
        metrics = QFontMetrics(self.legend_font())
        line_h, swatch_w = metrics.height() + 8, metrics.averageCharWidth() * SWATCH_CHARS
        x, y, rects = GAP_PX // 2, 0, {}
        for entry in ENTRIES:
            w = swatch_w + 6 + metrics.horizontalAdvance(entry.label)
            if x > GAP_PX // 2 and x + w > width:
                x, y = GAP_PX // 2, y + line_h
            rects[entry.key] = QRect(x, y, w, line_h)
            x += w + GAP_PX
        return rects, y + line_h

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return self._layout(width)[1]

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.width(), self.heightForWidth(max(1, self.width())))

    def entry_rect(self, key: str) -> QRect | None:
        """Where entry ``key`` (swatch and label) is drawn, in widget coordinates."""
        return self._layout(self.width())[0].get(key)

    def swatch_rect(self, key: str) -> QRect | None:
        rect = self.entry_rect(key)
        if rect is None:
            return None
        swatch_w = QFontMetrics(self.legend_font()).averageCharWidth() * SWATCH_CHARS
        return QRect(rect.left(), rect.top() + 3, swatch_w, rect.height() - 6)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            for entry in ENTRIES:
                rect = self.entry_rect(entry.key)
                if rect is not None and rect.contains(event.pos()):
                    QToolTip.showText(event.globalPos(), entry.tip, self, rect)
                    return True
            QToolTip.hideText()
            event.ignore()
            return True
        return super().event(event)

    # ---- painting ------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        theme = self.theme
        painter.fillRect(self.rect(), QColor(theme.gutter_background))
        painter.setPen(QColor(theme.current_line))
        painter.drawLine(0, 0, self.width(), 0)
        font = self.legend_font()
        painter.setFont(font)
        for entry in ENTRIES:
            swatch = self.swatch_rect(entry.key)
            self._paint_swatch(painter, entry.key, swatch, QFontMetrics(font))
            label = self.entry_rect(entry.key).adjusted(swatch.width() + 6, 0, 0, 0)
            painter.setPen(QColor(theme.foreground))
            painter.drawText(label, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, entry.label)
        painter.end()

    def _paint_swatch(self, painter: QPainter, key: str, r: QRect, metrics: QFontMetrics) -> None:
        theme, centre = self.theme, Qt.AlignmentFlag.AlignCenter
        if key in ("added", "removed"):
            painter.fillRect(r, QColor(getattr(theme, key)))
            sign, colour = SIGNS[key]
            painter.setPen(QColor(colour))
            painter.drawText(r, centre, sign)
        elif key == "pending":
            painter.fillRect(r, QColor(theme.background))
            painter.setPen(QColor(theme.pending))
            painter.drawText(r, centre, "abc")
        elif key == "draft":
            painter.fillRect(r, QColor(theme.background))
            painter.setPen(QColor(theme.foreground))
            painter.drawText(r.adjusted(0, 0, 0, -3), centre, "abc")
            painter.fillRect(r.left() + 2, r.bottom() - 3, r.width() - 4, 3, QColor(theme.draft))
        elif key == "problem":
            red = QColor(PROBLEM_COLOUR)
            painter.fillRect(r, QColor(theme.background))
            painter.fillRect(r.left(), r.top(), 4, r.height(), red)
            painter.setPen(QPen(red, 1.5))
            y, step = r.bottom() - 3, 3
            points = [QPointF(x, y - (step / 2 if (x - r.left()) // step % 2 else 0))
                      for x in range(r.left() + 6, r.right() + 1, step)]
            painter.drawPolyline(points)
        elif key == "settling":
            painter.fillRect(r, QColor(theme.background))
            painter.fillRect(r.left(), r.top(), 3, r.height(), QColor(theme.accent))
        elif key == "redirect":
            painter.fillRect(r, QColor(theme.current_line))
            painter.setPen(QColor(theme.redirect))
            painter.drawText(r, centre, "↪")
