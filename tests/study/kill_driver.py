"""Child process of test_log_survives_sigkill: a participant typing fast in a real study window.

Prints "<t> <kind>" for every event the log has accepted (after `EventLog.write` returned), so the
parent knows what was written before it sends SIGKILL.
"""

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.study.qt.session import StudySession
from app.study.studyfile import load_study


def main(study_file: str, log_dir: str) -> None:
    app = QApplication([])
    import asyncio

    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    session = StudySession(load_study(study_file), log_dir)
    session.show()
    session.begin("P3")
    write = session.log.write

    def printed(kind, t=None, **fields):
        event = write(kind, t, **fields)
        print(event["t"], kind, flush=True)
        return event

    session.log.write = printed
    session.recorder.log = session.log  # the recorder writes through the same (printing) log
    session.consent(True)
    session.start_task()
    editor = session.window.editor

    def type_one() -> None:
        cursor = editor.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        cursor.insertText("x")

    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(type_one)
    timer.start()
    with loop:
        loop.run_forever()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
