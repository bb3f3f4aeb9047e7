"""Streaming diff: stable, chunking-independent, exact, and equal to difflib where alignment is unambiguous."""

import difflib
import re

import pytest
from hypothesis import given, settings, strategies as st

from app.core.diff.stream import Hunk, StreamingDiff, split_lines
from app.core.edit.review import conflict_message, hunk_key, plan_accept

# Small alphabet: repeated lines make alignment ambiguous, which is where streaming diffs break.
LINE = st.sampled_from(["a\n", "b\n", "c\n", "\n", "    pass\n", "return x\n", "d", "e"])
TEXT = st.lists(LINE, max_size=14).map("".join)


def chunked(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    bounds = [0, *points, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:])]


def stream(original: str, chunks: list[str]) -> tuple[StreamingDiff, dict[int, Hunk]]:
    """Feed every chunk; return the diff and every hunk as first reported final."""
    diff = StreamingDiff(original)
    seen: dict[int, Hunk] = {}
    for chunk in chunks:
        for hunk in diff.feed(chunk).new_final_hunks:
            seen[hunk.index] = hunk
        assert all(h == seen[h.index] for h in diff.hunks if h.final)
    for hunk in diff.finish().new_final_hunks:
        seen[hunk.index] = hunk
    return diff, seen


def difflib_hunks(original: str, output: str) -> list[tuple[int, int, tuple[str, ...]]]:
    a, b = split_lines(original), split_lines(output)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return [(i1, i2, tuple(b[j1:j2])) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def as_tuples(hunks: list[Hunk]) -> list[tuple[int, int, tuple[str, ...]]]:
    return [(h.orig_start, h.orig_end, h.new_lines) for h in hunks]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(TEXT, TEXT, st.lists(st.integers(0, 200), max_size=12))
def test_any_chunking_gives_exact_stable_chunking_independent_hunks(original, output, cuts):
    diff, first_seen = stream(original, chunked(output, cuts))
    assert all(h.final for h in diff.hunks)
    # final hunks never change once reported
    assert diff.hunks == [first_seen[i] for i in range(len(first_seen))]
    # accepting everything gives exactly the output; rejecting everything the original
    assert diff.apply(range(len(diff.hunks))) == output
    assert diff.apply([]) == original
    # the result depends on the texts alone, not on how the output was chunked
    whole, _ = stream(original, [output])
    assert as_tuples(diff.hunks) == as_tuples(whole.hunks)


@st.composite
def edited_code(draw):
    """An original of distinct lines and an output made by editing it with fresh lines."""
    n = draw(st.integers(0, 30))
    original = [f"line {i}\n" for i in range(n)]
    output: list[str] = []
    fresh = iter(f"new {k}\n" for k in range(10_000))
    for line in original:
        op = draw(st.sampled_from(["keep", "keep", "keep", "drop", "change", "insert"]))
        if op in ("insert",):
            output.extend(next(fresh) for _ in range(draw(st.integers(1, 3))))
        if op in ("keep", "insert"):
            output.append(line)
        if op == "change":
            output.extend(next(fresh) for _ in range(draw(st.integers(1, 3))))
    if draw(st.booleans()):
        output.append(next(fresh))
    return "".join(original), "".join(output)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(edited_code(), st.lists(st.integers(0, 2000), max_size=20))
def test_final_hunks_equal_plain_difflib_diff(texts, cuts):
    original, output = texts
    diff, _ = stream(original, chunked(output, cuts))
    assert as_tuples(diff.hunks) == difflib_hunks(original, output)


def test_hunk_before_a_matched_line_is_final_while_streaming():
    diff = StreamingDiff("def f():\n    return 1\n\nprint(f())\n")
    update = diff.feed("def f():\n    return 2\n")
    # the changed line shows as a tentative insertion: nothing after it is matched yet
    assert [(h.kind, h.new_text, h.final) for h in diff.hunks] == [("insert", "    return 2\n", False)]
    assert update.pending_start == 1  # "def f():" reached, the rest still pending
    update = diff.feed("\nprint(f())\n")
    assert [(h.orig_start, h.orig_end, h.new_text, h.final) for h in update.new_final_hunks] == [
        (1, 2, "    return 2\n", True)
    ]
    assert diff.apply([0]) == "def f():\n    return 2\n\nprint(f())\n"


def test_partial_line_is_held_back_and_pending_original_shown():
    diff = StreamingDiff("a = 1\nb = 2\nc = 3\n")
    update = diff.feed("a = 1\nb =")
    assert update.partial_line == "b ="
    assert diff.output_lines == ["a = 1\n"]
    assert update.pending_start == 1
    assert update.lines_added == 1


def test_blank_line_alone_never_settles_an_insertion():
    original = "def a():\n    pass\n\n\ndef b():\n    pass\n"
    diff = StreamingDiff(original)
    diff.feed("def new():\n    return 0\n\n")
    # the blank line matches the original's blank, but that may just be part of the insertion
    assert not any(h.final for h in diff.hunks)
    diff.feed(original)
    diff.finish()
    assert [(h.kind, h.orig_start) for h in diff.hunks] == [("insert", 0)]


def test_stopped_stream_keeps_the_unreached_original():
    original = "one\ntwo\nthree\nfour\n"
    diff = StreamingDiff(original)
    diff.feed("one\nTWO\nthree\nfo")
    diff.finish(stopped=True)
    assert diff.apply(range(len(diff.hunks))) == "one\nTWO\nthree\nfour\n"


def test_stop_mid_line_keeps_the_partial_line_as_a_reviewable_edit():
    original = "def f():\n    return 1\n\n\ndef g():\n    return 2\n"
    diff = StreamingDiff(original)
    diff.feed("def f():\n    return 1.0\n\n\ndef g():\n    # retur")
    diff.feed("ns a float")
    update = diff.finish(stopped=True)
    assert update.partial_line == ""
    assert diff.output_lines[-1] == "    # returns a float\n"  # still there, now a whole line
    assert all(h.final for h in diff.hunks)
    assert [(h.kind, h.new_text) for h in diff.hunks] == [
        ("replace", "    return 1.0\n"), ("insert", "    # returns a float\n")]
    # a new line, not a rewrite: the original the output never reached is kept after it
    assert update.pending_start == 5
    assert diff.apply(range(len(diff.hunks))).endswith("    # returns a float\n    return 2\n")
    assert diff.apply([0]) == original.replace("return 1", "return 1.0")


# From fractions.Fraction.limit_denominator (Python 3.11 standard library).
CONVERGENTS = """\
        p0, q0, p1, q1 = 0, 1, 1, 0
        n, d = self._numerator, self._denominator
        while True:
            a = n//d
            q2 = q0+a*q1
            if q2 > max_denominator:
                break
            p0, q0, p1, q1 = p1, q1, p0+a*p1, q2
            n, d = d, n-a*d
"""
RENAMED = re.sub(r"\ba\b", "quotient", CONVERGENTS)


def test_stop_right_after_a_rewritten_line_replaces_it_instead_of_duplicating_it():
    shown = RENAMED[:RENAMED.index("            q2 = ")]  # stopped after "quotient = n//d", nothing of the next
    diff = StreamingDiff(CONVERGENTS)
    diff.feed(shown)
    update = diff.finish(stopped=True)
    assert [(h.kind, h.old_text, h.new_text) for h in diff.hunks] == [
        ("replace", "            a = n//d\n", "            quotient = n//d\n")]
    assert update.pending_start == 4
    accepted = diff.apply([0])
    assert accepted == shown + CONVERGENTS[CONVERGENTS.index("            q2 = "):]
    assert "a = n//d" not in accepted


def test_stop_mid_line_on_a_rewritten_line_replaces_it():
    shown = RENAMED[:RENAMED.index("q0+quotient") + len("q0+quot")]
    diff = StreamingDiff(CONVERGENTS)
    diff.feed(shown)
    diff.finish(stopped=True)
    assert [(h.kind, h.orig_start, h.orig_end, h.new_lines) for h in diff.hunks] == [
        ("replace", 3, 5, ("            quotient = n//d\n", "            q2 = q0+quot\n"))]
    accepted = diff.apply([0])
    assert accepted.count("q2 = ") == 1 and "a = n//d" not in accepted
    assert accepted.endswith("q2 = q0+quot\n            if q2 > max_denominator:\n" + CONVERGENTS.split(
        "if q2 > max_denominator:\n")[1])


def test_stop_while_inserting_a_docstring_keeps_it_an_insertion():
    original = "def double(x):\n    return x * 2\n"
    for shown in ('def double(x):\n    """Return x times two."""\n', 'def double(x):\n    """Return x ti'):
        diff = StreamingDiff(original)
        diff.feed(shown)
        diff.finish(stopped=True)
        assert [(h.kind, h.orig_start) for h in diff.hunks] == [("insert", 1)]
        assert diff.apply([0]) == 'def double(x):\n    """Return x ti' + (
            'mes two."""\n' if shown.endswith("\n") else "\n") + "    return x * 2\n"


def test_stop_while_copying_a_line_is_no_edit_and_skipped_lines_are():
    original = "def f():\n    print(1)\n    return 1\n"
    copying = StreamingDiff(original)
    copying.feed("def f():\n    print(1)\n    ret")
    copying.finish(stopped=True)
    assert copying.hunks == []  # "    ret" is the kept "    return 1" being copied
    skipping = StreamingDiff(original)
    skipping.feed("def f():\n    ret")  # past the print line, copying the return
    skipping.finish(stopped=True)
    assert [(h.kind, h.old_text) for h in skipping.hunks] == [("delete", "    print(1)\n")]
    assert skipping.apply([0]) == "def f():\n    return 1\n"


@settings(max_examples=200, deadline=None, derandomize=True)
@given(TEXT, TEXT, st.integers(0, 400))
def test_a_stop_anywhere_keeps_all_output_then_the_unreached_original(original, output, cut):
    shown = output[:cut % (len(output) + 1)]
    diff = StreamingDiff(original)
    diff.feed(shown)
    update = diff.finish(stopped=True)
    kept = original[diff.orig_char(update.pending_start):]
    assert diff.apply(range(len(diff.hunks))) == "".join(diff.output_lines) + kept
    assert diff.apply([]) == original
    partial = shown[shown.rfind("\n") + 1:]
    if partial.strip() and not "".join(diff.output_lines).startswith(shown):
        # not kept as output: then it is the start of the original line the kept part begins with
        assert kept.startswith(partial)


@st.composite
def renamed_code(draw):
    """An original of distinct lines and an output renaming a name in some of them."""
    original = [f"    value_{i} = compute(arg_{i}, total)\n" for i in range(draw(st.integers(1, 16)))]
    output = [line.replace("total", "grand_total") if draw(st.booleans()) else line for line in original]
    return "".join(original), "".join(output)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(renamed_code(), st.integers(0, 5000), st.lists(st.integers(0, 5000), max_size=8))
def test_a_stop_during_a_line_by_line_rewrite_never_duplicates_or_drops_a_line(texts, cut, cuts):
    original, output = texts
    shown = output[:cut % (len(output) + 1)]
    diff = StreamingDiff(original)
    for chunk in chunked(shown, cuts):
        diff.feed(chunk)
    diff.finish(stopped=True)
    complete = shown[:shown.rfind("\n") + 1]
    partial, reached = shown[len(complete):], complete.count("\n")
    lines = split_lines(original)
    if partial.strip() and not lines[reached].startswith(partial):  # a rewritten line, unfinished
        expected = complete + partial + "\n" + "".join(lines[reached + 1:])
    else:  # nothing of the next line yet, or a copy of its beginning
        expected = complete + "".join(lines[reached:])
    assert diff.apply(range(len(diff.hunks))) == expected
    whole = StreamingDiff(original)
    whole.feed(shown)
    whole.finish(stopped=True)
    assert as_tuples(diff.hunks) == as_tuples(whole.hunks)  # independent of chunking


def test_redirect_and_draft_spans_are_recorded_in_output_coordinates():
    diff = StreamingDiff("x\n")
    diff.feed("ab\nc", draft_tokens=2)
    redirect = diff.mark_redirect("use y")
    update = diff.feed("d\n")
    assert (redirect.out_char, redirect.out_line, redirect.instruction) == (4, 1, "use y")
    assert [(s.out_start_char, s.out_end_char, s.draft_tokens) for s in diff.draft_spans] == [(0, 4, 2)]
    assert update.new_redirects == [redirect]  # reported once, by the next update
    assert diff.feed("e\n").new_redirects == []


def test_accepting_hunks_in_any_order_edits_the_live_document_and_never_overwrites_user_typing():
    original = "a\nb\nc\nd\ne\nf\n"
    diff = StreamingDiff(original)
    diff.feed("a\nB\nc\nd\ne\nF\n")
    diff.finish()
    first, second = diff.final_hunks
    snapshot = "# header\n" + original
    base = len("# header\n")
    plan = plan_accept(snapshot, snapshot, base, diff.final_hunks, [1], {})
    assert plan.applied == [second] and plan.edits == [(base + 10, base + 12, "F\n")]
    document = snapshot[:base + 10] + "F\n" + snapshot[base + 12:]
    resolved = {hunk_key(second): "accepted"}
    plan = plan_accept(snapshot, document, base, diff.final_hunks, [0, 1], resolved)  # 1 is decided
    assert plan.applied == [first] and plan.edits == [(base + 2, base + 4, "B\n")]
    typed = "# header\na\nb!\nc\nd\ne\nf\n"  # the user changed the line hunk 0 replaces
    plan = plan_accept(snapshot, typed, base, diff.final_hunks, [0, 5], {})
    assert plan.conflicts == [first] and not plan.edits and plan.unsettled == [5]
    assert "original lines 2–2" in conflict_message(plan.conflicts)



def test_bad_input_gets_clear_errors():
    with pytest.raises(TypeError, match="original must be str"):
        StreamingDiff(None)  # type: ignore[arg-type]
    diff = StreamingDiff("a\n")
    with pytest.raises(TypeError, match="chunk must be str"):
        diff.feed(b"x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not final"):
        diff.apply([0])
    diff.finish()
    with pytest.raises(RuntimeError, match="after finish"):
        diff.feed("more")


def test_stop_after_a_short_line_with_one_name_renamed_replaces_it():
    original = "def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return g\n\n\nx = 1\n"
    diff = StreamingDiff(original)
    diff.feed("def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return common\n")
    diff.finish(stopped=True)
    assert [(h.kind, h.old_text, h.new_text) for h in diff.hunks] == [
        ("replace", "    return g\n", "    return common\n")]
    assert diff.apply([0]).count("return") == 1
    inserted = StreamingDiff("def f():\n    return g\n")
    inserted.feed("def f():\n    if not g:\n")  # a new line before it, not a rewrite of it
    inserted.finish(stopped=True)
    assert [h.kind for h in inserted.hunks] == ["insert"]
