"""LiveDiffView: grows without rewriting, repaints per frame, reviews hunks while streaming."""

from PySide6.QtCore import Qt

from app.qt.widgets.diffview import ACCEPTED, REJECTED, LiveDiffView

ORIGINAL = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(6))


def make_view(qtbot) -> LiveDiffView:
    view = LiveDiffView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    qtbot.waitExposed(view)
    return view


def settle(qtbot, view: LiveDiffView) -> None:
    """Wait for the frame timer to paint everything fed so far."""
    qtbot.waitUntil(lambda: not view._dirty and not view._timer.isActive(), timeout=2000)


def kinds(view: LiveDiffView) -> list[tuple[str, str]]:
    return [(row.kind, row.text) for row in view.rows()]


def test_stream_shows_output_partial_line_and_pending_original(qtbot):
    view = make_view(qtbot)
    view.begin(ORIGINAL)
    view.feed("def f0(x):\n    return x * 0\n\ndef f1(x):\n    ret")
    settle(qtbot, view)
    rows = kinds(view)
    assert rows[0] == ("context", "def f0(x):")
    assert ("removed", "    return x + 0") in rows and ("added", "    return x * 0") in rows
    assert ("partial", "    ret") in rows  # the unfinished line is held back, not diffed
    pending = [text for kind, text in rows if kind == "pending"]
    assert pending[0] == "    return x + 1" and pending[-1] == "" and len(pending) == 14


def test_final_rows_are_never_rewritten_and_repaints_are_per_frame(qtbot):
    view = make_view(qtbot)
    view.begin(ORIGINAL)
    output = ORIGINAL.replace("x + 1", "x - 1").replace("x + 4", "x - 4")
    chunks = [output[i:i + 3] for i in range(0, len(output), 3)]
    shown_final: list = []
    for k, chunk in enumerate(chunks):
        view.feed(chunk)
        if k % 10 == 0:
            settle(qtbot, view)
            final = [row for row in view.rows() if row.final]
            assert final[:len(shown_final)] == shown_final  # only ever appended
            shown_final = final
    view.finish()
    settle(qtbot, view)
    assert view.paint_count < len(chunks)  # frames, not tokens
    assert view.rows()[:len(shown_final)] == shown_final
    assert view.diff.apply(range(len(view.diff.hunks))) == output


def test_accept_button_works_while_still_streaming(qtbot):
    view = make_view(qtbot)
    view.begin(ORIGINAL)
    view.feed("def f0(x):\n    return x * 0\n\ndef f1(x):\n    return x + 1\n")
    settle(qtbot, view)
    assert not view.diff.done
    rect = view.button_rect(0, "accept")
    assert rect is not None
    with qtbot.waitSignal(view.hunkAccepted) as signal:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert signal.args == [0]
    assert view.hunk_state(0) is None  # the view asks; its owner decides
    view.set_hunk_state(0, ACCEPTED)
    assert view.hunk_state(0) == ACCEPTED
    assert view.diff.apply([0]).startswith("def f0(x):\n    return x * 0\n")


def decide_as_the_controller_does(view: LiveDiffView) -> None:
    """The owner of the hunk states answers each request (the controller applies, then confirms)."""
    view.hunkAccepted.connect(lambda index: view.set_hunk_state(index, ACCEPTED))
    view.hunkRejected.connect(lambda index: view.set_hunk_state(index, REJECTED))


def test_keys_accept_reject_and_accept_all(qtbot):
    view = make_view(qtbot)
    view.begin(ORIGINAL)
    view.feed(ORIGINAL.replace("x + 1", "x - 1").replace("x + 3", "x - 3").replace("x + 5", "x - 5"))
    view.finish()
    settle(qtbot, view)
    decide_as_the_controller_does(view)
    view.setFocus()
    assert view.current_hunk == 0
    with qtbot.waitSignal(view.hunkRejected) as rejected:
        qtbot.keyClick(view, Qt.Key.Key_R)
    assert rejected.args == [0] and view.hunk_state(0) == REJECTED
    assert view.current_hunk == 1
    with qtbot.waitSignal(view.hunkAccepted) as accepted:
        qtbot.keyClick(view, Qt.Key.Key_A)
    assert accepted.args == [1]
    with qtbot.waitSignal(view.acceptAllRequested):
        qtbot.keyClick(view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    # The controller applies them and marks them (it may ask first); the view only asks.
    assert [view.hunk_state(i) for i in range(3)] == [REJECTED, ACCEPTED, None]
    view.set_hunk_state(2, ACCEPTED)
    view.set_hunk_state(2, None)  # e.g. the controller found the user had edited that text
    assert view.current_hunk == 2


def test_tentative_hunk_has_no_buttons(qtbot):
    view = make_view(qtbot)
    view.begin(ORIGINAL)
    view.feed("def f0(x):\n    return x * 0\n")
    settle(qtbot, view)
    headers = [row for row in view.rows() if row.kind == "header"]
    assert headers and not headers[0].final
    assert view.button_rect(0, "accept") is None
    view.accept(0)  # ignored: not final yet
    assert view.hunk_state(0) is None


def test_redirect_marker_sits_where_the_output_changed_course(qtbot):
    view = make_view(qtbot)
    view.begin(ORIGINAL)
    view.feed("def f0(x):\n    return x + 0\n\n")
    view.mark_redirect("use multiplication")
    view.feed("def f1(x):\n    return x * 1\n")
    view.finish(stopped=True)
    settle(qtbot, view)
    rows = kinds(view)
    marker = rows.index(("redirect", "use multiplication"))
    assert rows[marker - 1] == ("context", "") and rows[marker + 1] == ("context", "def f1(x):")
    # stopped: the unreached original is kept (shown greyed), not deleted
    assert rows[-1] == ("pending", "") and ("pending", "def f5(x):") in rows


def test_first_paint_reports_token_to_paint_latency(qtbot):
    view = make_view(qtbot)
    view.begin(ORIGINAL)
    with qtbot.waitSignal(view.framePainted, timeout=2000) as painted:
        view.feed("def f0(x):\n")
    assert painted.args[0] >= 0.0


def test_output_after_a_pause_is_on_screen_before_anything_queued_runs(qtbot):
    view = make_view(qtbot)
    view.begin(ORIGINAL)
    settle(qtbot, view)  # the empty diff was just painted: the first token does not wait a frame
    painted: list[float] = []
    view.framePainted.connect(painted.append)
    view.feed("def f0(x):\n")
    assert len(painted) == 1  # painted inside feed: no turn of the event loop in between
    view.feed("    return x + 100\n")  # right behind it: the next frame, at most ~60 per second
    assert len(painted) == 1
    qtbot.waitUntil(lambda: len(painted) == 2, timeout=2000)
    assert ("added", "    return x + 100") in kinds(view)


def test_draft_tokens_are_remembered_for_tinting(qtbot):
    view = make_view(qtbot)
    view.begin("a\n")
    view.feed("b = 1\n", draft_tokens=3)
    settle(qtbot, view)
    assert [(s.out_start_char, s.out_end_char) for s in view.diff.draft_spans] == [(0, 6)]


def test_clear_and_misuse(qtbot):
    view = make_view(qtbot)
    try:
        view.feed("x")
    except RuntimeError as error:
        assert "before begin" in str(error)
    view.begin("a\n")
    view.feed("b\n")
    view.clear()
    settle(qtbot, view)
    assert view.rows() == [] and view.diff is None


def test_what_is_on_screen_matches_a_full_repaint_after_fast_streaming(qtbot):
    """Frames repaint only changed rows and blit the rest; nothing stale may remain."""
    original = "".join(f"def h{i}(x):\n    y = x + {i}\n    return y\n\n" for i in range(80))
    output = original.replace("x + 3", "x - 3").replace("x + 9", "x * 9").replace("y = x + 40", "z = 1")
    view = make_view(qtbot)
    view.begin(original)
    for k in range(0, len(output), 4):
        view.feed(output[k:k + 4])
        if k % 40 == 0:
            qtbot.wait(1)  # let frames run mid-stream, as the event loop would
    settle(qtbot, view)

    def screen_is_current() -> bool:
        return view.screen().grabWindow(view.winId()).toImage() == view.grab().toImage()

    qtbot.waitUntil(screen_is_current, timeout=2000)


def finished_view(qtbot, width: int) -> LiveDiffView:
    view = make_view(qtbot)
    view.resize(width, 400)
    view.begin(ORIGINAL)
    view.feed(ORIGINAL.replace("x + 0", "x * 0"))
    view.finish()
    settle(qtbot, view)
    view.scroll_to_hunk(0)
    return view


def test_review_buttons_stay_on_screen_in_a_narrow_pane(qtbot):
    for width in (360, 520, 700, 1400):
        view = finished_view(qtbot, width)
        accept, reject = view.button_rect(0, "accept"), view.button_rect(0, "reject")
        inside = view.viewport().rect()
        assert inside.contains(accept) and inside.contains(reject), width
        assert accept.right() < reject.left()  # side by side, Reject at the right edge
        assert reject.right() >= inside.right() - 20
        with qtbot.waitSignal(view.hunkRejected) as rejected:
            qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=reject.center())
        assert rejected.args == [0] and view.hunk_state(0) is None  # asked, not yet decided


def non_background_pixels(view: LiveDiffView) -> list[tuple[int, int]]:
    image = view.viewport().grab().toImage()
    background = image.pixelColor(0, 0)
    return [(x, y) for y in range(0, image.height(), 2) for x in range(0, image.width(), 2)
            if image.pixelColor(x, y) != background]


def test_idle_pane_shows_what_to_do_until_an_edit_starts(qtbot):
    view = make_view(qtbot)
    for width in (900, 380):
        view.resize(width, 500)
        qtbot.waitUntil(lambda: len(non_background_pixels(view)) > 300, timeout=2000)
        # wrapped to the pane: nothing drawn in the right margin, so no word is cut off
        assert max(x for x, _ in non_background_pixels(view)) < view.viewport().width() - 8
    view.begin("a = 1\n")
    view.feed("a = 2\n")
    settle(qtbot, view)
    assert view.rows()[0].kind == "header"
    view.clear()  # back to idle: the hint again
    qtbot.waitUntil(lambda: len(non_background_pixels(view)) > 300, timeout=2000)


def test_a_larger_font_makes_rows_taller(qtbot):
    view = finished_view(qtbot, 900)
    height = view.row_height()
    font = view.font()
    font.setPointSizeF(font.pointSizeF() * 1.3)
    view.setFont(font)  # presentation mode
    assert view.row_height() > height
    assert view.viewport().rect().contains(view.button_rect(0, "reject"))


def test_a_stop_mid_line_leaves_the_partial_line_on_screen_to_review(qtbot):
    view = make_view(qtbot)
    view.begin(ORIGINAL)
    view.feed("def f0(x):\n    return x * 0\n\ndef f1(x):\n    return x * 1  # tim")
    settle(qtbot, view)
    assert ("partial", "    return x * 1  # tim") in kinds(view)
    view.finish(stopped=True)
    settle(qtbot, view)
    rows = view.rows()
    added = [row for row in rows if row.kind == "added"]
    assert [row.text for row in added] == ["    return x * 0", "    return x * 1  # tim"]
    assert all(row.final for row in added)
    last_hunk = added[-1].hunk
    view.scroll_to_hunk(last_hunk)
    assert view.button_rect(last_hunk, "accept") is not None  # reviewable like any other change
    # the partial line rewrites "return x + 1": it replaces it, not inserted above it
    assert [row.text for row in rows if row.kind == "removed"][-1] == "    return x + 1"
    # the original the output never reached stays below, unchanged (greyed), not deleted
    pending = [row.text for row in rows if row.kind == "pending"]
    assert pending[:2] == ["", "def f2(x):"] and "def f5(x):" in pending
    assert "    return x + 1" not in pending


def test_rows_are_numbered_as_the_file_numbers_them(qtbot):
    view = finished_view(qtbot, 900)  # the edit's target starts at line 6 of its file
    view.set_first_line(6)
    header = next(row for row in view.rows() if row.kind == "header")
    assert view.header_label(header).startswith("  hunk 1 · line 7 ·")  # "return x + 0" is line 7
    view.begin(ORIGINAL)  # a redirect rebuilds the diff of the same target: numbering stays
    view.feed(ORIGINAL.replace("x + 0", "x * 0"))
    view.finish()
    header = next(row for row in view.rows() if row.kind == "header")
    assert "line 7" in view.header_label(header)


def test_rows_read_between_frames_are_consistent(qtbot):
    """A row read right after a line settles (before the next frame) shows the new tail."""
    from app.core.diff.rows import DiffRows
    from app.core.diff.stream import StreamingDiff

    orig = 'def area(r):\n    print("r", r)\n    return r * r\n'
    diff = StreamingDiff(orig)
    rows = DiffRows(diff)
    rows.apply(diff.feed("def area(r):"))
    rows.rebuild_tail()
    assert [rows.row(i).kind for i in range(len(rows))][:2] == ["partial", "pending"]
    rows.apply(diff.feed("\n    ret"))  # no frame in between
    shown = [(rows.row(i).kind, rows.row(i).text) for i in range(len(rows))]
    assert shown[0] == ("context", "def area(r):")
    assert shown[1] == ("partial", "    ret")
    assert [t for k, t in shown if k == "pending"] == ['    print("r", r)', "    return r * r"]


def test_a_change_far_to_the_right_of_a_long_line_is_scrolled_into_view(qtbot):
    view = LiveDiffView()
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    head = "result = compute(" + ", ".join(f"argument_{i}" for i in range(30))
    original = head + ", old_name)\nnext_line = 1\n"
    view.begin(original)
    view.feed(original.replace("old_name", "new_name"))
    view.finish()
    first, end = view.change_columns(0)
    assert first == original.index("old_name")
    bar = view.horizontalScrollBar()
    assert bar.value() > 0  # lines do not wrap: the view went sideways to the change
    char_w = view.fontMetrics().horizontalAdvance("x")
    assert bar.value() <= first * char_w


def test_the_colours_and_underline_are_explained(qtbot):
    view = LiveDiffView()
    qtbot.addWidget(view)
    assert "Underlined" in view.toolTip() and "removes" in view.toolTip()


def test_the_line_that_does_not_parse_is_brought_into_view_and_its_change_made_current(qtbot):
    view = make_view(qtbot)
    view.resize(900, 240)
    long = "".join(f"value_{i} = {i}\n" for i in range(200))
    view.begin(long)
    view.feed(long.replace("value_3 = 3\n", "value_3 = 33\n").replace("value_190 = 190\n", "value_190 = (\n"))
    view.finish()
    settle(qtbot, view)
    view.follow = False
    view.verticalScrollBar().setValue(0)
    assert view.current_hunk == 0
    view.set_problem_line(190)
    assert view.current_hunk == 1
    top = view.verticalScrollBar().value()
    visible = view.viewport().height() // view.row_height()
    row = next(i for i, r in enumerate(view.rows()) if r.out_line == 190 and r.kind == "added")
    assert top <= row < top + visible
    assert "⚠" in view.header_label(next(r for r in view.rows() if r.kind == "header" and r.hunk == 1))
