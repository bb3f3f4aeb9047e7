"""Applying a hunk after the user kept editing: follow their edits, never overwrite them."""

import random

from app.core.edit.relocate import Relocator

SNAPSHOT = "".join(f"line {i}\n" for i in range(20))


def rng_range(text: str, line_a: int, line_b: int) -> tuple[int, int]:
    lines = text.splitlines(keepends=True)
    start = sum(len(x) for x in lines[:line_a])
    return start, start + sum(len(x) for x in lines[line_a:line_b])


def test_unchanged_document_maps_to_itself():
    r = Relocator(SNAPSHOT, SNAPSHOT)
    assert r.map_range(5, 30) == (5, 30)
    assert r.map_range(len(SNAPSHOT), len(SNAPSHOT)) == (len(SNAPSHOT), len(SNAPSHOT))


def test_typing_above_shifts_the_range():
    current = "# a new comment\n" + SNAPSHOT
    start, end = rng_range(SNAPSHOT, 10, 12)
    new = Relocator(SNAPSHOT, current).map_range(start, end)
    assert new == (start + 16, end + 16)
    assert current[new[0]:new[1]] == SNAPSHOT[start:end]


def test_typing_below_leaves_the_range():
    current = SNAPSHOT + "more()\n"
    start, end = rng_range(SNAPSHOT, 3, 4)
    assert Relocator(SNAPSHOT, current).map_range(start, end) == (start, end)


def test_editing_inside_the_range_is_refused():
    current = SNAPSHOT.replace("line 11\n", "line 11 edited by the user\n")
    start, end = rng_range(SNAPSHOT, 10, 13)
    assert Relocator(SNAPSHOT, current).map_range(start, end) is None


def test_inserting_a_line_inside_the_range_is_refused():
    current = SNAPSHOT.replace("line 11\n", "line 11\nuser line\n")
    start, end = rng_range(SNAPSHOT, 10, 13)
    assert Relocator(SNAPSHOT, current).map_range(start, end) is None


def test_pure_insertion_point_follows_edits_above():
    current = "x\n" + SNAPSHOT
    start, _ = rng_range(SNAPSHOT, 5, 5)
    assert Relocator(SNAPSHOT, current).map_range(start, start) == (start + 2, start + 2)


def test_random_edits_outside_a_range_keep_it_findable():
    rand = random.Random(7)
    lines = SNAPSHOT.splitlines(keepends=True)
    for _ in range(50):
        current_lines = list(lines)
        a = rand.randrange(0, 18)
        b = rand.randrange(a + 1, 20)
        # edit only outside [a, b)
        for idx in sorted(rand.sample([i for i in range(20) if not a <= i < b], 3), reverse=True):
            current_lines[idx] = f"changed {idx} {rand.random()}\n"
        current = "".join(current_lines)
        start, end = rng_range(SNAPSHOT, a, b)
        new = Relocator(SNAPSHOT, current).map_range(start, end)
        assert new is not None and current[new[0]:new[1]] == SNAPSHOT[start:end]
