"""The main window's toolbar: files, model, hardware profile, run tests, presentation.

Signals: `openRequested()`, `saveRequested()`, `saveAsRequested()`, `modelFolderRequested()`,
`modelChosen(ModelChoice)`, `endpointDialogRequested()`, `profileChanged(str name, str label)`,
`runTestsRequested()`, `presentationToggled(bool)`.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QMenu, QToolBar, QToolButton, QWidget

from .client import EngineInfo

PROFILE_LABELS = {"wse-3": "WSE-3", "wse-2": "WSE-2", "h100": "1×H100", "h100x8": "8×H100",
                  "h200x8": "8×H200", "b200x8": "8×B200", "local": "this machine"}


class MainToolbar(QToolBar):
    openRequested = Signal()
    saveRequested = Signal()
    saveAsRequested = Signal()
    modelFolderRequested = Signal()
    modelChosen = Signal(object)
    endpointDialogRequested = Signal()
    profileChanged = Signal(str, str)
    runTestsRequested = Signal()
    presentationToggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Main", parent)
        self.setMovable(False)
        self.setObjectName("mainToolbar")

        def action(text: str, keys: QKeySequence | str, signal: Signal) -> QAction:
            act = QAction(text, self, shortcut=QKeySequence(keys), triggered=lambda: signal.emit())
            self.addAction(act)
            return act

        self.open_action = action("Open…", QKeySequence.StandardKey.Open, self.openRequested)
        self.save_action = action("Save", QKeySequence.StandardKey.Save, self.saveRequested)
        self.save_as_action = action("Save as…", "Ctrl+Shift+S", self.saveAsRequested)
        self.addSeparator()
        self.model_button = QToolButton(self)
        self.model_button.setText("Model: starting…")
        self.model_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.model_menu = QMenu(self.model_button)
        self.model_button.setMenu(self.model_menu)
        self.set_model_choices([])
        self.addWidget(self.model_button)
        self.addWidget(QLabel(" Hardware: ", self))
        self.profile_combo = QComboBox(self)
        self.profile_combo.setToolTip("Which hardware the stream's pacing emulates")
        self.profile_combo.addItem(PROFILE_LABELS["local"], "local")
        self.profile_combo.currentIndexChanged.connect(lambda _i: self.profileChanged.emit(*self.profile()))
        self.addWidget(self.profile_combo)
        self.addSeparator()
        self.run_tests_action = action("Run tests", "Ctrl+Shift+T", self.runTestsRequested)
        self.presentation_action = QAction("Presentation", self, shortcut=QKeySequence("F11"),
                                           checkable=True)
        # A signal is not a slot: PySide6 calls what `toggled=` is given, so hand it `emit`.
        self.presentation_action.toggled.connect(self.presentationToggled.emit)
        self.addAction(self.presentation_action)

    def set_model_choices(self, choices: list, current: str = "") -> None:
        """The model picker: one entry per choice (`current` label checked), then folder / endpoint."""
        menu = self.model_menu
        menu.clear()
        for choice in choices:
            act = menu.addAction(choice.label, lambda c=choice: self.modelChosen.emit(c))
            act.setCheckable(True)
            act.setChecked(choice.label == current)
        if choices:
            menu.addSeparator()
        menu.addAction("Load a model folder…", self.modelFolderRequested.emit)
        menu.addAction("Add an endpoint…", self.endpointDialogRequested.emit)

    def profile(self) -> tuple[str, str]:
        """(name passed to the engine, label shown)."""
        return self.profile_combo.currentData() or "local", self.profile_combo.currentText()

    def select_profile(self, name: str) -> bool:
        index = self.profile_combo.findData(name)
        if index >= 0:
            self.profile_combo.setCurrentIndex(index)
        return index >= 0

    def set_engine_info(self, info: EngineInfo | None) -> None:
        """Model name and the engine's hardware profiles (the current choice kept if offered)."""
        if info is None:
            self.model_button.setText("Model: none")
            return
        self.model_button.setText(f"Model: {info.model_name}")
        current = self.profile_combo.currentData()
        self.profile_combo.blockSignals(True)
        self.profile_combo.clear()
        for name in info.profiles or ("local",):
            self.profile_combo.addItem(PROFILE_LABELS.get(name, name), name)
        self.profile_combo.setCurrentIndex(max(self.profile_combo.findData(current), 0))
        self.profile_combo.blockSignals(False)
        self.profileChanged.emit(*self.profile())
