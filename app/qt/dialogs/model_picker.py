"""The toolbar's model picker, kept fresh: bundled model, local folders, configured endpoints.

The menu is rebuilt each time it opens (an endpoint saved a moment ago is listed); choosing an
entry calls `choose(ModelChoice)`; "Add an endpoint…" opens :class:`EndpointDialog`, and a saved
endpoint is chosen at once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.core.model_choices import BUNDLED, ModelChoice, model_choices
from app.qt.dialogs.endpoint import EndpointDialog


class ModelPicker:
    def __init__(self, window, choose: Callable[[ModelChoice], None], check=None,
                 current: str | None = None) -> None:
        self.window = window
        self.choose_cb = choose
        self.check = check  # endpoint check for the dialog (None: ask the server for its models)
        self.current = current or f"{BUNDLED} (bundled)"  # label of the entry in use
        self.recent: list[str] = []  # model folders loaded in this run
        self.dialog: EndpointDialog | None = None
        tb = window.toolbar
        tb.model_menu.aboutToShow.connect(self.refresh)
        tb.modelChosen.connect(self.choose)
        tb.endpointDialogRequested.connect(self.open_dialog)
        window.modelFolderChosen.connect(self._folder_loaded)
        self.refresh()

    def refresh(self) -> list[ModelChoice]:
        choices, problem = model_choices(self.recent)
        self.window.toolbar.set_model_choices(choices, self.current)
        if problem:
            self.window.show_status(problem, "error")
        return choices

    def choose(self, choice: ModelChoice) -> None:
        self.current = choice.label
        self.choose_cb(choice)

    def _folder_loaded(self, folder: str) -> None:
        if folder not in self.recent:
            self.recent.append(folder)
        self.current = f"{Path(folder).name} (folder)"

    def open_dialog(self) -> EndpointDialog:
        kwargs = {"check": self.check} if self.check is not None else {}
        self.dialog = dialog = EndpointDialog(self.window, **kwargs)
        dialog.saved.connect(lambda ep: self.choose(ModelChoice("endpoint", f"{ep.label} ({ep.transport})",
                                                                endpoint=ep)))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()  # never a nested exec(): the engine's events keep flowing
        return dialog
