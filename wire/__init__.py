"""The native protocol between the app and the engine: one contract both processes import.

Standard library only. `constants` (version, sizes, the token file, done reasons), `messages`
(a dataclass per message, both directions), `stats` (`DoneStats`, the figures of `done`),
`validate` (every client frame checked against the table the message classes define).
"""

from .constants import (HELLO_TIMEOUT_S, MAX_DOCUMENT_BYTES, MAX_EDITS, MAX_FRAME_BYTES, MAX_ID_CHARS,
                        MAX_INSTRUCTION_CHARS, MAX_PART_BYTES, MAX_PARTS, MAX_REPLY_BYTES, MAX_TOKENS_LIMIT,
                        PREAUTH_MAX_FRAME_BYTES, PROTOCOL_VERSION, TEMPERATURE_MAX, TEMPERATURE_MIN, TERMINAL_REASONS,
                        TOKEN_ENV, DoneReason, default_token_file, token_from_env)
from .messages import (CLIENT_MESSAGES, ENGINE_MESSAGES, Append, Close, Document, Done, Edit, Error, Generate,
                       Hello, Measure, Measured, Message, Notice, Open, Ping, Pong, Ready, Redirect, Redirected,
                       Selection, Stop, Tiles, Token, Update, Welcome)
from .stats import DoneStats, Problem
from .validate import (SCHEMAS, ProtocolError, apply_edits, check_selection, document_parts, parse_client_message,
                       selection_of, utf8_size)

__all__ = [
    "HELLO_TIMEOUT_S", "MAX_DOCUMENT_BYTES", "MAX_EDITS", "MAX_FRAME_BYTES", "MAX_ID_CHARS", "MAX_INSTRUCTION_CHARS",
    "MAX_PART_BYTES", "MAX_PARTS", "MAX_REPLY_BYTES", "MAX_TOKENS_LIMIT", "PREAUTH_MAX_FRAME_BYTES", "PROTOCOL_VERSION",
    "TEMPERATURE_MAX", "TEMPERATURE_MIN", "TERMINAL_REASONS", "TOKEN_ENV", "DoneReason", "default_token_file",
    "token_from_env",
    "CLIENT_MESSAGES", "ENGINE_MESSAGES", "Append", "Close", "Document", "Done", "Edit", "Error", "Generate", "Hello",
    "Measure", "Measured", "Message", "Notice", "Open", "Ping", "Pong", "Ready", "Redirect", "Redirected",
    "Selection", "Stop", "Tiles", "Token", "Update", "Welcome",
    "DoneStats", "Problem",
    "SCHEMAS", "ProtocolError", "apply_edits", "check_selection", "document_parts", "parse_client_message",
    "selection_of", "utf8_size",
]
