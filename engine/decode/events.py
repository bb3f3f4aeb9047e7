"""What a generation yields: the wire's own message classes, shared by the server, the CLI and the tests.

A backend's events are the messages the client receives (wire/messages.py); the connection only
puts the client's ids on them.
"""

from __future__ import annotations

from wire import Done as DoneEvent
from wire import DoneStats
from wire import Notice as NoticeEvent
from wire import Ready as ReadyEvent
from wire import Redirected as RedirectEvent
from wire import Token as TokenEvent

__all__ = ["DoneEvent", "DoneStats", "NoticeEvent", "ReadyEvent", "RedirectEvent", "TokenEvent"]
