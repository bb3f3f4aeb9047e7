"""Entry points of `tessera study run` and `tessera study replay`: a Qt application on qasync."""

from __future__ import annotations

import asyncio
import functools
import sys


def _run(amain) -> int:
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Tessera")
    app.setQuitOnLastWindowClosed(False)
    try:
        with asyncio.Runner(loop_factory=functools.partial(qasync.QEventLoop, app)) as runner:
            return runner.run(amain())
    except KeyboardInterrupt:
        return 130


def run_study(study, participant: str | None, log_dir: str | None, model_dir: str | None) -> int:
    from .session import StudySession

    async def amain() -> int:
        session = StudySession(study, log_dir, participant, model_dir)
        session.resize(1920, 1080)
        session.show()
        done = asyncio.Event()
        session.installEventFilter(_CloseWatcher(session, done))
        await done.wait()
        await session.close_engine()
        return 0 if session.outcome in ("completed", "declined") else 1

    return _run(amain)


def run_replay(log: str, labels: str | None) -> int:
    from .replay_window import ReplayWindow

    async def amain() -> int:
        window = ReplayWindow(log, labels)
        window.resize(1920, 1080)
        window.show()
        done = asyncio.Event()
        window.installEventFilter(_CloseWatcher(window, done))
        await done.wait()
        return 0

    return _run(amain)


def _CloseWatcher(widget, done: asyncio.Event):  # noqa: N802 (a factory standing in for a class)
    from PySide6.QtCore import QEvent, QObject

    class Watcher(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 (Qt naming)
            if obj is widget and event.type() == QEvent.Type.Close:
                # After the widget's own closeEvent has run (it may log the session's end).
                asyncio.get_event_loop().call_soon(done.set)
            return False

    return Watcher(widget)
