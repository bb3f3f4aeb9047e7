"""Why Qt could not show a window here, said before Qt aborts the process. No Qt import.

Qt's xcb plugin aborts with a terse message when the display is missing or a system library is
absent ("xcb-cursor0 or libxcb-cursor0 is needed"); these checks name the fix instead.
"""

from __future__ import annotations

import ctypes.util
import os
import sys

# Libraries Qt 6's xcb platform plugin loads, with the Debian/Ubuntu package that ships each.
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-image": "libxcb-image0",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-xkb": "libxcb-xkb1",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "xcb-shape": "libxcb-shape0",
    "EGL": "libegl1",
}


def display_problem(env: dict[str, str] | None = None, platform: str = sys.platform,
                    find_library=ctypes.util.find_library) -> str | None:
    """A one-paragraph explanation when no window can be shown, else None."""
    env = os.environ if env is None else env
    if not platform.startswith("linux"):
        return None
    qpa = env.get("QT_QPA_PLATFORM", "")
    if qpa and not qpa.startswith("xcb"):
        return None  # offscreen, wayland, vnc...: the user chose; Qt reports its own errors
    if not env.get("DISPLAY") and not (env.get("WAYLAND_DISPLAY") and not qpa):
        return ("tessera: no display found (DISPLAY is not set). Tessera is a desktop app: run it in a "
                "graphical session, over 'ssh -X', or under a virtual display (xvfb-run tessera). "
                "The engine alone runs without one: tessera-engine serve | generate.")
    if env.get("WAYLAND_DISPLAY") and not env.get("DISPLAY"):
        return None
    missing = [pkg for lib, pkg in XCB_LIBRARIES.items() if find_library(lib) is None]
    if missing:
        return ("tessera: Qt needs system libraries that are not installed: " + ", ".join(missing)
                + ". On Debian/Ubuntu: sudo apt-get install " + " ".join(missing))
    return None
