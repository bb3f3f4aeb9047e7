"""The main window's toolbar: files, model, hardware profile, run tests, presentation.

Signals: `openRequested()`, `saveRequested()`, `saveAsRequested()`, `modelFolderRequested()`,
`modelChosen(ModelChoice)`, `endpointDialogRequested()`, `profileChanged(str name, str label)`,
`emulateChanged(str model)` ("" for the model in use), `runTestsRequested()`, `presentationToggled(bool)`.

The Hardware box pairs a profile with the model it paces: a preset (dense or mixture of experts,
listed by the engine) or the model in use.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QMenu, QToolBar, QToolButton, QWidget

from app.core.link.client import EngineInfo

PROFILE_LABELS = {"wse-3": "WSE-3", "wse-2": "WSE-2", "h100": "1×H100", "h100x8": "8×H100", "h200": "1×H200",
                  "h200x8": "8×H200", "b200x8": "8×B200", "gb200nvl72": "GB200 NVL72", "local": "this machine"}
MODEL_IN_USE = "the model in use"


class MainToolbar(QToolBar):
    openRequested = Signal()
    saveRequested = Signal()
    saveAsRequested = Signal()
    modelFolderRequested = Signal()
    modelChosen = Signal(object)
    endpointDialogRequested = Signal()
    profileChanged = Signal(str, str)
    emulateChanged = Signal(str)
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
        self.profile_combo.currentIndexChanged.connect(
            lambda _i: (self._show_emulate(), self.profileChanged.emit(*self.profile())))
        self.addWidget(self.profile_combo)
        self.emulate_label = QLabel(" running ", self)
        self.emulate_combo = QComboBox(self)
        self.emulate_combo.setToolTip("Which model the hardware is emulated running (its speed paces the stream)")
        self.emulate_combo.addItem(MODEL_IN_USE, "")
        self.emulate_combo.currentIndexChanged.connect(self._emulate_changed)
        self.emulate_label_action = self.addWidget(self.emulate_label)
        self.emulate_action = self.addWidget(self.emulate_combo)
        self._show_emulate()
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
        """(name passed to the engine, label shown: the profile and, when chosen, the model it runs)."""
        name = self.profile_combo.currentData() or "local"
        label = self.profile_combo.currentText()
        if name != "local" and self.emulate_combo.currentData():
            label = f"{self.emulate_combo.currentText()} on {label}"
        return name, label

    def emulated(self) -> str:
        """The emulated model's name ("" for the model in use)."""
        return self.emulate_combo.currentData() or ""

    def select_emulated(self, name: str) -> bool:
        index = self.emulate_combo.findData(name)
        if index >= 0:
            self.emulate_combo.setCurrentIndex(index)
        return index >= 0

    def _show_emulate(self) -> None:
        paced = (self.profile_combo.currentData() or "local") != "local"
        self.emulate_label_action.setVisible(paced)
        self.emulate_action.setVisible(paced)

    def _emulate_changed(self, _index: int) -> None:
        self.emulateChanged.emit(self.emulated())
        self.profileChanged.emit(*self.profile())

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
        chosen = self.emulated()
        self.emulate_combo.blockSignals(True)
        self.emulate_combo.clear()
        self.emulate_combo.addItem(MODEL_IN_USE, "")
        for name, label in info.emulate_models:
            self.emulate_combo.addItem(label, name)
        self.emulate_combo.setCurrentIndex(max(self.emulate_combo.findData(chosen), 0))
        self.emulate_combo.blockSignals(False)
        self._show_emulate()
        self.emulateChanged.emit(self.emulated())
        self.profileChanged.emit(*self.profile())
