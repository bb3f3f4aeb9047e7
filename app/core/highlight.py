"""Line-at-a-time Pygments lexing with the lexer state carried between lines, and the theme.

Pure Python, no Qt. An editor highlights one line (block) at a time; to keep a keystroke from
re-lexing the whole file, each line is lexed starting from the state stack the previous line ended
in, and that end state is returned as a small integer. The editor re-lexes the next line only when
a line's end state changed (a newly opened triple-quoted string, say).
"""

from __future__ import annotations

import fnmatch
import functools
import importlib
from dataclasses import dataclass
from pathlib import PurePath

from pygments.lexer import ExtendedRegexLexer, Lexer, RegexLexer
from pygments.lexers import get_lexer_by_name
from pygments.lexers._mapping import LEXERS
from pygments.token import Error, Token, Whitespace, _TokenType

ROOT_STATE = 0  # the state id of a fresh ('root',) stack
LEX_CACHE_LINES = 50_000  # lexed lines remembered per lexer (count)


@dataclass(frozen=True)
class TextStyle:
    """How one kind of token is drawn."""

    color: str  # foreground, "#rrggbb"
    bold: bool = False  # heavier weight
    italic: bool = False  # slanted


@dataclass(frozen=True)
class Theme:
    """Colours of the editor and diff panes; dark and high-contrast so a projector keeps them."""

    background: str  # text area background, "#rrggbb"
    foreground: str  # plain text
    gutter_background: str  # line-number gutter
    gutter_foreground: str  # line numbers
    current_line: str  # background of the line holding the cursor
    selection: str  # selected text background
    target: str  # background of the range a request edits
    target_bar: str  # gutter bar beside the target lines
    added: str  # background of added lines in the diff
    removed: str  # background of removed lines in the diff
    pending: str  # foreground of original text the output has not reached
    redirect: str  # redirect marker line
    draft: str  # underline of text from accepted speculation
    accent: str  # buttons, focus, gauge arcs
    tokens: dict  # Pygments token type -> TextStyle
    search_match: str = "#5a4a14"  # background of the find bar's matches (the current one is selected)


DARK = Theme(
    background="#16181d",
    foreground="#e8ecf1",
    gutter_background="#1d2027",
    gutter_foreground="#8d96a3",
    current_line="#252a33",
    selection="#264f78",
    target="#2c2a12",
    target_bar="#e5c07b",
    added="#133a22",
    removed="#4a1a1e",
    pending="#7b8491",
    redirect="#c678dd",
    draft="#3d7bd9",
    accent="#4fc1ff",
    tokens={
        Token: TextStyle("#e8ecf1"),
        Token.Keyword: TextStyle("#ff7b72", bold=True),
        Token.Keyword.Constant: TextStyle("#79c0ff", bold=True),
        Token.Name.Builtin: TextStyle("#ffa657"),
        Token.Name.Builtin.Pseudo: TextStyle("#ffa657"),
        Token.Name.Function: TextStyle("#d2a8ff"),
        Token.Name.Function.Magic: TextStyle("#d2a8ff"),
        Token.Name.Class: TextStyle("#f0c674", bold=True),
        Token.Name.Decorator: TextStyle("#d2a8ff"),
        Token.Name.Exception: TextStyle("#f0c674"),
        Token.Name.Namespace: TextStyle("#f0c674"),
        Token.Name.Tag: TextStyle("#7ee787"),
        Token.Name.Attribute: TextStyle("#79c0ff"),
        Token.String: TextStyle("#a5d6ff"),
        Token.String.Doc: TextStyle("#9ecbff", italic=True),
        Token.String.Escape: TextStyle("#ffa657"),
        Token.String.Interpol: TextStyle("#ffa657"),
        Token.Number: TextStyle("#79c0ff"),
        Token.Operator: TextStyle("#ff9b93"),
        Token.Operator.Word: TextStyle("#ff7b72", bold=True),
        Token.Comment: TextStyle("#a3acb9", italic=True),
        Token.Comment.Preproc: TextStyle("#ff7b72"),
        Token.Generic.Inserted: TextStyle("#7ee787"),
        Token.Generic.Deleted: TextStyle("#ffa198"),
        Token.Generic.Heading: TextStyle("#79c0ff", bold=True),
        Token.Error: TextStyle("#ff6b6b"),
    },
)


def style_for(theme: Theme, ttype: _TokenType) -> TextStyle:
    """The most specific style the theme has for ``ttype`` (walks up the token hierarchy)."""
    while ttype not in theme.tokens:
        ttype = ttype.parent
    return theme.tokens[ttype]


def lexer_for(path_or_name: str | None) -> Lexer:
    """Pygments lexer for a file path, a file name or a language name; Python if unknown."""
    cls = _lexer_class(str(path_or_name)) if path_or_name else None
    return (cls or get_lexer_by_name("python").__class__)()


@functools.lru_cache(maxsize=256)
def _lexer_class(path_or_name: str) -> type[Lexer] | None:
    # Pygments' built-in table only: its own lookups also scan installed plugins (entry
    # points) whenever a name is not an alias, which can take seconds.
    alias = path_or_name.lower()
    for class_name, (module, _name, aliases, _patterns, _mimes) in LEXERS.items():
        if alias in aliases:
            return getattr(importlib.import_module(module), class_name)
    name = PurePath(path_or_name).name
    candidates = []
    for class_name, (module, _name, _aliases, patterns, _mimes) in LEXERS.items():
        for pattern in patterns:
            if fnmatch.fnmatch(name, pattern):
                cls = getattr(importlib.import_module(module), class_name)
                # Pygments' own ranking: priority, and an exact name beats a wildcard.
                candidates.append((cls.priority + (0.5 if "*" not in pattern else 0), class_name, cls))
    return max(candidates)[2] if candidates else None


class LineLexer:
    """Lexes one line at a time, resuming from the state the previous line ended in."""

    def __init__(self, lexer: Lexer):
        self.lexer = lexer
        self.name = lexer.name
        # Only plain RegexLexers expose their state machine; others are lexed line by line from
        # scratch (correct for most lines, wrong inside multi-line constructs).
        self.carries_state = isinstance(lexer, RegexLexer) and not isinstance(
            lexer, ExtendedRegexLexer)
        self._stacks: list[tuple[str, ...]] = [("root",)]  # state id -> state stack
        self._ids: dict[tuple[str, ...], int] = {("root",): ROOT_STATE}
        self._cache: dict[tuple[str, int], tuple[list, int]] = {}  # (line, state) -> result

    def lex(self, line: str, state: int = ROOT_STATE) -> tuple[list[tuple[int, int, _TokenType]], int]:
        """Tokens of ``line`` (no newline) as (start, length, type), and the end state id."""
        key = (line, state)
        cached = self._cache.get(key)
        if cached is None:
            # Code repeats lines (blank lines, "return x", closing brackets): lex each once.
            if len(self._cache) >= LEX_CACHE_LINES:
                self._cache.clear()
            cached = self._cache[key] = self._lex(line, state)
        return cached

    def _lex(self, line: str, state: int) -> tuple[list[tuple[int, int, _TokenType]], int]:
        text = line + "\n"  # rules for line ends (comments, string states) need the newline
        if not self.carries_state:
            tokens = [(pos, len(value), ttype)
                      for pos, ttype, value in self.lexer.get_tokens_unprocessed(text)]
            return _clip(tokens, len(line)), ROOT_STATE
        stack = list(self._stacks[state] if 0 <= state < len(self._stacks) else ("root",))
        tokens, stack = _lex_from(self.lexer, text, stack)
        key = tuple(stack)
        end_state = self._ids.get(key)
        if end_state is None:
            end_state = self._ids[key] = len(self._stacks)
            self._stacks.append(key)
        return _clip(tokens, len(line)), end_state


def _clip(tokens: list[tuple[int, int, _TokenType]], length: int) -> list[tuple[int, int, _TokenType]]:
    out = []
    for start, size, ttype in tokens:
        if start >= length:
            break
        out.append((start, min(size, length - start), ttype))
    return out


def _lex_from(lexer: RegexLexer, text: str, stack: list[str]):
    """RegexLexer.get_tokens_unprocessed with the final state stack returned as well.

    Same state machine as Pygments' own loop (pygments/lexer.py), which keeps its stack private.
    """
    tokens: list[tuple[int, int, _TokenType]] = []
    tokendefs = lexer._tokens
    if stack[-1] not in tokendefs:
        stack = ["root"]
    statetokens = tokendefs[stack[-1]]
    pos = 0
    while pos < len(text):
        for rexmatch, action, new_state in statetokens:
            m = rexmatch(text, pos)
            if not m:
                continue
            if action is not None:
                if type(action) is _TokenType:
                    tokens.append((pos, m.end() - pos, action))
                else:
                    tokens.extend((p, len(v), t) for p, t, v in action(lexer, m))
            if m.end() == pos and new_state is None:
                continue  # an empty match that changes nothing would loop forever
            pos = m.end()
            if new_state is not None:
                _transition(stack, new_state)
                statetokens = tokendefs[stack[-1]]
            break
        else:
            if text[pos] == "\n":
                stack[:] = ["root"]
                statetokens = tokendefs["root"]
                tokens.append((pos, 1, Whitespace))
            else:
                tokens.append((pos, 1, Error))
            pos += 1
    return tokens, stack


def _transition(stack: list[str], new_state) -> None:
    if isinstance(new_state, tuple):
        for state in new_state:
            if state == "#pop":
                if len(stack) > 1:
                    stack.pop()
            elif state == "#push":
                stack.append(stack[-1])
            else:
                stack.append(state)
    elif isinstance(new_state, int):
        if abs(new_state) >= len(stack):
            del stack[1:]
        else:
            del stack[new_state:]
    elif new_state == "#push":
        stack.append(stack[-1])
    else:
        stack.append(new_state)


__all__ = ["DARK", "LineLexer", "ROOT_STATE", "TextStyle", "Theme", "lexer_for", "style_for"]


def utf16_offsets(line: str) -> list[int] | None:
    """Where each character of `line` starts in UTF-16 code units (Qt's string positions), with the
    end last; None when every character is in the Basic Multilingual Plane (the two agree)."""
    if all(ord(c) < 0x10000 for c in line):
        return None
    out, n = [0], 0
    for c in line:
        n += 2 if ord(c) > 0xFFFF else 1
        out.append(n)
    return out

