"""Starting without a display, or without Qt's system libraries, says what to do."""

from app.core.platform_check import XCB_LIBRARIES, display_problem


def _all_found(name):
    return f"lib{name}.so"


def test_no_display_is_named_with_the_ways_out():
    msg = display_problem({}, "linux", _all_found)
    assert msg is not None and "no display" in msg and "xvfb-run" in msg


def test_a_missing_xcb_library_names_the_debian_package():
    msg = display_problem({"DISPLAY": ":0"}, "linux", lambda n: None if n == "xcb-cursor" else _all_found(n))
    assert msg is not None and "libxcb-cursor0" in msg and "apt-get install libxcb-cursor0" in msg


def test_a_complete_desktop_passes():
    assert display_problem({"DISPLAY": ":0"}, "linux", _all_found) is None


def test_offscreen_and_wayland_and_other_systems_are_left_to_qt():
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", lambda n: None) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux", lambda n: None) is None
    assert display_problem({}, "darwin", lambda n: None) is None


def test_every_library_has_a_package():
    assert all(pkg.startswith("lib") for pkg in XCB_LIBRARIES.values())
