"""The study window end to end: warm, participant, consent, two tasks on a real engine, questionnaires,
researcher controls; then the log exports and replays."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from app.qt.assembly import shutdown
from app.study.eventlog import read_log
from app.study.export import export
from app.study.qt.questionnaire import QuestionnairePage
from app.study.qt.replay_window import ReplayWindow
from app.study.qt.session import StudySession
from app.study.schedule import plan_for
from app.study.studyfile import load_study
from app.study.warm import warm
from tests.study.conftest import write_study

WAIT_MS = 60_000


def answer(qtbot, page: QuestionnairePage, slider_value: int = 35) -> None:
    for item in page.items:
        q = item.question
        if q.kind == "slider":
            assert not item.answered()  # an untouched slider is not an answer
            item.slider.setValue(slider_value)
        elif q.kind == "likert":
            qtbot.mouseClick(item.group.button(4), Qt.MouseButton.LeftButton)
    assert page.continue_button.isEnabled()
    qtbot.mouseClick(page.continue_button, Qt.MouseButton.LeftButton)


def do_task(qtbot, session: StudySession, decide: str) -> None:
    qtbot.waitUntil(lambda: session.stack.currentWidget() is session.intro_page, timeout=WAIT_MS)
    assert session.intro_page.heading.text().startswith(f"Task {session.position} of 2")
    qtbot.mouseClick(session.intro_page.start, Qt.MouseButton.LeftButton)
    win = session.window
    assert session.frame.count.text() == f"Task {session.position} of 2"
    assert win.bar.field.text()  # the prepared instruction is typed in
    qtbot.waitUntil(lambda: win.controller.engine.client is not None and win.controller.engine.client.connected, timeout=WAIT_MS)
    qtbot.keyClick(win.bar.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.controller.run is not None and win.controller.run.finished, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: len(win.controller.ttft_ms) == session.position, timeout=WAIT_MS)  # painted
    if decide == "accept":
        assert win.controller.accept_all() > 0
        # A manual edit after the accept, then undone with Ctrl+Z.
        win.editor.moveCursor(win.editor.textCursor().MoveOperation.End)
        qtbot.keyClicks(win.editor, "#")
        qtbot.keyClick(win.editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    else:
        win.controller.reject_all()
    qtbot.mouseClick(session.frame.finish, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(session.stack.currentWidget(), QuestionnairePage), timeout=WAIT_MS)
    answer(qtbot, session.questionnaire)


def test_a_participant_session_end_to_end(qtbot, run_async, tmp_path):
    study = load_study(write_study(tmp_path, log_contents=True))
    assert run_async(warm(study), timeout_ms=120_000) == 2
    session = StudySession(study, tmp_path / "logs")
    qtbot.addWidget(session)
    session.resize(1600, 1000)
    session.show()
    try:
        page = session.participant_page
        page.field.setText("anna")
        qtbot.mouseClick(page.start, Qt.MouseButton.LeftButton)
        assert "number" in page.error.text()  # ids must carry the participant's number
        page.field.setText("P1")
        qtbot.mouseClick(page.start, Qt.MouseButton.LeftButton)
        assert session.stack.currentWidget() is session.consent_page
        qtbot.mouseClick(session.consent_page.agree, Qt.MouseButton.LeftButton)
        do_task(qtbot, session, "accept")
        # The researcher pauses and resumes between tasks with the key combination's menu.
        qtbot.waitUntil(lambda: session.stack.currentWidget() is session.intro_page, timeout=WAIT_MS)
        qtbot.keyClick(session, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                       | Qt.KeyboardModifier.ShiftModifier)
        menus = [m for m in session.findChildren(QMenu) if m.isVisible()]
        assert menus and [a.text() for a in menus[-1].actions()] [-3:] == ["Pause", "Skip this task", "Abort the session"]
        menus[-1].close()
        session.pause()
        assert session.stack.currentWidget() is session.paused_page
        session.resume()
        do_task(qtbot, session, "reject")
        qtbot.waitUntil(lambda: isinstance(session.stack.currentWidget(), QuestionnairePage)
                        and session.questionnaire.items[0].question.id == "comments", timeout=WAIT_MS)
        assert session.questionnaire.continue_button.isEnabled()  # free text is optional
        session.questionnaire.items[0].text.setPlainText("felt quick")
        with qtbot.waitSignal(session.ended, timeout=WAIT_MS) as ended:
            qtbot.mouseClick(session.questionnaire.continue_button, Qt.MouseButton.LeftButton)
        assert ended.args == ["completed"]
    finally:
        session.window.stop_timers()
        run_async(shutdown(session.window.controller, session.link))

    logs = sorted((tmp_path / "logs").glob("*.jsonl"))
    assert len(logs) == 1
    contents = read_log(logs[0])
    events = contents.events
    assert not contents.torn_tail
    kinds = [e["kind"] for e in events]
    for kind in ("log_start", "consent", "task_start", "request_sent", "first_token_received",
                 "first_token_painted", "tokens", "done", "hunk_shown", "hunk_accepted", "hunk_rejected",
                 "survival", "task_end", "success", "questionnaire", "pause", "resume", "session_end"):
        assert kind in kinds, kind
    edit = next(e for e in events if e["kind"] == "edit")
    assert edit["after_accept"] and edit["added"] == 1 and edit["text"] == "#"
    assert kinds.index("undo") > kinds.index("edit") > kinds.index("hunk_accepted")
    plan = plan_for(1, ["slow", "fast"], ["wrap", "calendar"])
    starts = [e for e in events if e["kind"] == "task_start"]
    assert [(e["task"], e["condition"]) for e in starts] == [(s.task, s.condition) for s in plan.slots]
    dones = [e for e in events if e["kind"] == "done"]
    assert [d["response_source"] for d in dones] == ["replay", "replay"]
    by_condition = {s.condition: d for s, d in zip(plan.slots, dones)}
    assert by_condition["fast"]["profile"] == "wse-3" and by_condition["slow"]["profile"] == "explicit"
    assert by_condition["slow"]["emulated_tok_s"] == 300.0 and by_condition["slow"]["emulated_ttft_ms"] == 120.0
    assert by_condition["fast"]["speculate"] is False and by_condition["slow"]["speculate"] is True
    painted = [e for e in events if e["kind"] == "first_token_painted"]
    assert [e["request"] for e in painted] == [d["request"] for d in dones]
    assert painted[[s.condition for s in plan.slots].index("slow")]["ttft_ms"] >= 120.0  # never before its time
    # The study opted in to contents: the streamed text is in the log, and replays as it streamed.
    streamed = [e for e in events if e["kind"] == "tokens"]
    assert all("text" in e for e in streamed)
    successes = {e["task"]: e["passed"] for e in events if e["kind"] == "success"}
    first, second = plan.slots[0].task, plan.slots[1].task
    assert successes[first] is True and successes[second] is False  # the rejected edit left the task undone
    tlx = [e["tlx_raw"] for e in events if e["kind"] == "questionnaire" and e["scope"] == "task"]
    assert tlx == [35.0, 35.0]

    out = tmp_path / "export"
    written = export([str(logs[0])], out)
    names = {p.name for p in written}
    assert {"events.csv", "tasks.csv", "tok_s_over_time.png", "ttft_by_condition.png",
            "acceptance_and_time_by_condition.png"} <= names
    rows = list(csv.DictReader((out / "events.csv").open()))
    assert len(rows) == len(events)
    tasks = {r["task"]: r for r in csv.DictReader((out / "tasks.csv").open())}
    assert tasks[first]["acceptance_rate"] == "1.0" and tasks[second]["acceptance_rate"] == "0.0"
    assert tasks[first]["success"] == "True" and float(tasks[first]["time_on_task_s"]) > 0
    for task in (first, second):
        assert float(tasks[task]["ttft_seen_ms"]) > 0 and float(tasks[task]["tok_s_seen"]) > 0
    assert tasks[first]["survival_end"] == "1.0"
    for png in ("tok_s_over_time.png", "ttft_by_condition.png", "acceptance_and_time_by_condition.png"):
        assert (out / png).stat().st_size > 10_000

    # Watch it again: scrub to the end of the first request, label a moment, export the labels.
    replay = ReplayWindow(logs[0])
    qtbot.addWidget(replay)
    replay.show()
    first_done = next(e for e in events if e["kind"] == "done")
    replay.seek(first_done["t"])
    assert "done" in replay.figures.text() and replay.diff.diff is not None
    shown = replay.diff.diff.output_text
    assert shown and shown == "".join(e["text"] for e in streamed if e["request"] == first_done["request"])
    replay.seek(streamed[0]["t"] - 0.011)  # one scrubber step before the first token
    assert replay.diff.diff is None or replay.diff.diff.output_text == ""
    replay.label_kind.setCurrentIndex(0)
    replay.note.setText("reads the docstring")
    label = replay.add_label()
    assert streamed[0]["t"] - 0.021 <= label["t"] < streamed[0]["t"]
    export([str(logs[0])], out)
    labels = list(csv.DictReader((out / "labels.csv").open()))
    assert [(r["label"], r["note"]) for r in labels] == [(replay.label_kind.itemText(0), "reads the docstring")]


@pytest.mark.parametrize("answer_value", [0, 100])
def test_questionnaire_needs_every_required_answer(qtbot, answer_value):
    from app.study.questions import NASA_TLX, Question

    page = QuestionnairePage([*NASA_TLX, Question("q", "likert", "ok?", 5), Question("c", "text", "say", required=False)],
                             "About the task")
    qtbot.addWidget(page)
    page.show()
    assert not page.continue_button.isEnabled() and page.missing() == 7
    for item in page.items[:6]:
        item.slider.setValue(answer_value + 2)  # snaps to the 5-point step
        assert item.slider.value() == answer_value
    assert page.missing() == 1
    qtbot.mouseClick(page.items[6].group.button(5), Qt.MouseButton.LeftButton)
    assert page.continue_button.isEnabled()
    with qtbot.waitSignal(page.submitted) as got:
        qtbot.mouseClick(page.continue_button, Qt.MouseButton.LeftButton)
    answers = got.args[0]
    assert answers["q"] == 5 and answers["c"] is None
    assert all(answers[q.id] == answer_value for q in NASA_TLX)


def test_a_rating_slider_jumps_to_the_click(qtbot):
    from app.study.questions import NASA_TLX

    page = QuestionnairePage(NASA_TLX[:1], "About the task")
    qtbot.addWidget(page)
    page.resize(1400, 400)
    page.show()
    slider = page.items[0].slider
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=slider.rect().center().__class__(
        int(slider.width() * 0.8), slider.height() // 2))
    assert 70 <= page.answers()["tlx_mental"] <= 90 and page.answers()["tlx_mental"] % 5 == 0


def test_researcher_skips_a_task_and_aborts_the_session(qtbot, run_async, mini_study, tmp_path):
    session = StudySession(load_study(mini_study), tmp_path / "logs", participant="P4")
    qtbot.addWidget(session)
    session.show()
    try:
        qtbot.mouseClick(session.participant_page.start, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(session.consent_page.agree, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(session.intro_page.start, Qt.MouseButton.LeftButton)
        session.skip()
        assert session.stack.currentWidget() is session.intro_page and session.position == 2
        qtbot.mouseClick(session.intro_page.start, Qt.MouseButton.LeftButton)
        session.pause()
        assert not session.frame.isVisible()  # no Finish while paused
        with qtbot.waitSignal(session.ended) as ended:
            session.abort()
        assert ended.args == ["aborted"]
    finally:
        run_async(session.close_engine())  # the engine may still be starting
    (log,) = (tmp_path / "logs").glob("*.jsonl")
    events = read_log(log).events
    plan = plan_for(4, ["slow", "fast"], ["wrap", "calendar"])
    ends = [(e["task"], e["outcome"]) for e in events if e["kind"] == "task_end"]
    assert ends == [(plan.slots[0].task, "skipped"), (plan.slots[1].task, "aborted")]
    assert [e["kind"] for e in events][-1] == "session_end" and events[-1]["outcome"] == "aborted"
    assert not [e for e in events if e["kind"] in ("success", "questionnaire")]  # skipped: no check, no questions
