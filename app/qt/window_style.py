"""The main window's style sheet: dark, high-contrast, large enough for a projector."""

import re

STATUS_COLORS = {"info": "#c9d1e0", "ok": "#7ee787", "warn": "#f2cc60", "error": "#ff7b72"}

STYLE = """
QMainWindow, QWidget#central { background: #161b22; color: #e6edf3; }
QToolBar { background: #1f2630; border: none; spacing: 6px; padding: 4px; }
QToolBar::separator { background: #3d4756; width: 1px; margin: 6px 6px; }
QToolBar QLabel { color: #8b949e; font-size: 14px; }
QToolButton { color: #e6edf3; background: transparent; border: 1px solid transparent;
    border-radius: 4px; padding: 4px 10px; font-size: 14px; }
QToolButton:hover { background: #2d3643; border-color: #3d4756; }
QToolButton:pressed, QToolButton:checked { background: #1f6feb; border-color: #1f6feb; }
QComboBox { color: #e6edf3; background: #0d1117; border: 1px solid #3d4756; border-radius: 4px;
    padding: 3px 10px; font-size: 14px; min-width: 130px; }
QComboBox QAbstractItemView { color: #e6edf3; background: #0d1117; selection-background-color: #1f6feb; }
QMenu { color: #e6edf3; background: #1f2630; }
QMenu::item:selected { background: #1f6feb; }
QWidget#instructionBar { background: #1f2630; border-top: 1px solid #30363d; }
QWidget#instructionBar QToolButton { background: #2d3643; border: 1px solid #3d4756;
    padding: 3px 10px; font-size: 13px; }
QWidget#instructionBar QToolButton:hover { background: #3d4756; }
QLineEdit#instruction { font-size: 16px; padding: 7px; background: #0d1117; color: #e6edf3;
    border: 1px solid #3d4756; border-radius: 4px; }
QLineEdit#instruction:focus { border: 1px solid #58a6ff; }
QPushButton { color: #e6edf3; background: #2d3643; border: 1px solid #3d4756; border-radius: 4px;
    padding: 6px 14px; font-size: 14px; }
QPushButton:hover { background: #3d4756; }
QPushButton:disabled { color: #6e7681; background: #1f2630; border-color: #30363d; }
QPushButton#send { background: #238636; border-color: #2ea043; font-weight: bold; }
QPushButton#stop:enabled { background: #da3633; border-color: #f85149; color: white; font-weight: bold; }
QLabel#quickCaption { color: #8b949e; font-size: 13px; }
QLabel#gaugeCaption { color: #c9d1e0; font-size: 15px; }
QProgressBar#contextMeter { color: #e6edf3; border: 1px solid #3d4756; border-radius: 4px;
    background: #0d1117; text-align: center; font-size: 13px; min-height: 28px; }
QProgressBar#contextMeter::chunk { background: #1f6feb; }
QProgressBar#contextMeter[overflow="true"]::chunk { background: #da3633; }
QStatusBar { background: #1f2630; color: #c9d1e0; border-top: 1px solid #30363d; }
QStatusBar QLabel { font-size: 14px; padding: 2px 8px; }
QSplitter::handle { background: #30363d; }
QDialog, QPlainTextEdit { background: #0d1117; color: #e6edf3; }
QMessageBox, QDialog#diskChanged { background: #1f2630; }
QMessageBox QLabel, QDialog#diskChanged QLabel { color: #e6edf3; font-size: 15px; }
QDialog QLabel, QDialog QCheckBox { color: #e6edf3; }
QFileDialog QTreeView, QFileDialog QListView, QFileDialog QLineEdit, QFileDialog QComboBox {
    color: #e6edf3; background: #0d1117; selection-background-color: #1f6feb; }
QFrame#noticeBanner { background: #3a2f12; border: 1px solid #d29922; border-radius: 4px; }
QFrame#noticeBanner[kind="unparsable"] { background: #3d1d20; border-color: #f85149; }
QFrame#noticeBanner[kind="nothing_to_change"] { background: #12263f; border-color: #388bfd; }
QFrame#noticeBanner[kind="nothing_to_change"] QLabel#noticeText { color: #cae8ff; }
QLabel#noticeText { color: #f8e3a1; background: transparent; font-size: 14px; }
QFrame#noticeBanner[kind="unparsable"] QLabel#noticeText { color: #ffdcd7; }
QPushButton#noticeAction { color: #ffffff; background: #9e6a03; border: none; font-weight: bold; }
QFrame#noticeBanner[kind="unparsable"] QPushButton#noticeAction { background: #da3633; }
QFrame#noticeBanner QToolButton { color: #e6edf3; font-size: 16px; padding: 0 6px; }
QWidget#findBar, QWidget#gotoBar { background: #1f2630; border-bottom: 1px solid #30363d; }
QLineEdit#findField, QLineEdit#gotoField { font-size: 15px; padding: 4px 6px; background: #0d1117;
    color: #e6edf3; border: 1px solid #3d4756; border-radius: 4px; }
QLineEdit#findField:focus, QLineEdit#gotoField:focus { border: 1px solid #58a6ff; }
QWidget#findBar QToolButton { padding: 2px 5px; }
QLabel#findCount, QLabel#gotoHint { color: #c9d1e0; font-size: 14px; padding: 0 4px; }
QLabel#findCount[none="true"], QLabel#gotoHint[problem="true"] { color: #ff7b72; }
QLabel#fileBanner { background: #3b2f10; color: #f2cc60; border-bottom: 1px solid #6b5518;
    padding: 6px 10px; font-size: 14px; }
"""


def scaled_style(scale: float) -> str:
    """STYLE with every font size times ``scale`` (presentation mode).

    Style-sheet sizes win over ``setFont``, so the bar, buttons and status line grow only here.
    """
    return re.sub(r"font-size: (\d+)px", lambda m: f"font-size: {round(int(m.group(1)) * scale)}px", STYLE)
