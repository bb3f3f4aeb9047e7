"""The window's EditView and the tests' fake view both answer every call the controller makes."""

from __future__ import annotations

import inspect

from app.core.edit.view import EditView
from app.qt.window_view import WindowView
from tests.app.test_controller import FakeView

CALLS = [name for name, member in vars(EditView).items() if callable(member) and not name.startswith("_")]


def test_the_protocol_lists_what_the_controller_calls():
    assert {"document_text", "diff_begin", "diff_update", "set_hunk_state", "confirm", "after_paint"} <= set(CALLS)


def test_the_window_view_answers_every_call_with_the_protocols_parameters():
    for name in CALLS:
        wanted = list(inspect.signature(getattr(EditView, name)).parameters)
        assert list(inspect.signature(getattr(WindowView, name)).parameters) == wanted, name


def test_the_fake_view_answers_every_call():
    missing = [name for name in CALLS if not callable(getattr(FakeView, name, None))]
    assert missing == []
