"""The numbers and names both ends of the native protocol agree on.

The engine enforces them (engine/serve) and the app sizes what it sends by them (app/client.py);
neither writes one of these down a second time.
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path

PROTOCOL_VERSION = 2  # 2: replies echo the id of the message they answer; `done.stats` names carry units

# -- sizes --------------------------------------------------------------------------------------
MAX_FRAME_BYTES = 8 * 1024 * 1024  # largest frame after hello (the server's default; --max-message-bytes)
PREAUTH_MAX_FRAME_BYTES = 4096  # largest frame before hello: a hello is a few hundred bytes
MAX_PART_BYTES = 1024 * 1024  # UTF-8 bytes of text in one part of a document (open/update/append)
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024  # UTF-8 bytes of a whole document; larger → document_too_large
# Largest engine → client frame a client accepts: a `done` carries the request's whole output,
# which may be as long as the document, JSON-escaped.
MAX_REPLY_BYTES = 2 * MAX_DOCUMENT_BYTES
MAX_PARTS = 4096  # parts of one document
MAX_EDITS = 256  # edits in one update
MAX_ID_CHARS = 128  # characters of a session, request or message id
MAX_INSTRUCTION_CHARS = 4000  # characters of an instruction
MAX_TOKENS_LIMIT = 1 << 20  # largest max_tokens
TEMPERATURE_MIN, TEMPERATURE_MAX = 0.01, 10.0  # temperature is 0 (greedy) or in this range
HELLO_TIMEOUT_S = 5.0  # a connection that sends no hello in this time is closed

# -- the token of an engine started elsewhere -----------------------------------------------------
TOKEN_ENV = "TESSERA_TOKEN"  # environment variable holding the engine's token
STATE_DIR_NAME = "tessera"  # the per-user state folder's name (platformdirs' user_state_dir)
TOKEN_FILE_NAME = "engine-token"  # file in that folder where `tessera-engine serve` writes a fresh token


def default_token_file() -> Path:
    """Where `tessera-engine serve` writes a fresh token when it was given none, and the app looks.

    platformdirs is imported here, on call, so that importing the contract needs the standard
    library alone.
    """
    from platformdirs import user_state_dir

    return Path(user_state_dir(STATE_DIR_NAME)) / TOKEN_FILE_NAME


def token_from_env() -> str:
    """The token in `TESSERA_TOKEN`, stripped; '' when unset."""
    return os.environ.get(TOKEN_ENV, "").strip()


# -- how a request ends ---------------------------------------------------------------------------
class DoneReason(str, Enum):
    """`done.reason`: why a run of a request ended."""

    EOS = "eos"  # the model finished the edit
    STOP = "stop"  # the client stopped it
    LENGTH = "length"  # max_tokens (or the context) was reached
    REDIRECT = "redirect"  # a new instruction took over; the request continues
    ERROR = "error"  # it failed; `stats.error` says why

    def __str__(self) -> str:
        return self.value


# `done` with these reasons ends a request's stream; `redirect` does not (the continuation follows).
TERMINAL_REASONS = frozenset({DoneReason.EOS, DoneReason.STOP, DoneReason.LENGTH, DoneReason.ERROR})
