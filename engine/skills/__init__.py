"""The edit kinds a draft-conditioned model is trained for, one module each, and their registry.

Each kind's module holds how users phrase it, the instruction pattern tessera.json routes with,
its draft rewrite (the mechanical part of the edit applied to the source's tokens, which the
aligner in engine/model/align.py offers the model token by token) and its training-pair builder
(the expected edit made with ``ast``). Training, the model card, the bench suite, the acceptance
run, the windows and the aligner all read the kinds from here.

    rename.py          rename_variable, rename_function
    docstring.py       add_docstring
    prints.py          remove_prints
    fstrings.py        fstring (fstring_draft.py: its draft; percent.py: the % grammar)
    out_of_scope.py    anything else: the code unchanged
    tokens.py          the vocabulary facts the drafts read (tessera.json "aligner")
"""

from __future__ import annotations

import ast
import random
import re

from . import docstring, fstring_draft, fstrings, out_of_scope, prints, rename
from .kind import EditPair, Kind
from .tokens import Vocabulary

REGISTRY: tuple[Kind, ...] = (rename.VARIABLE, rename.FUNCTION, docstring.KIND, prints.KIND, fstrings.KIND,
                              out_of_scope.KIND)
BY_NAME = {k.name: k for k in REGISTRY}
KINDS = tuple(k.name for k in REGISTRY)  # every kind training builds pairs for
EDIT_KINDS = tuple(k.name for k in REGISTRY if k.pattern)  # the kinds that change code
SKILLS = [k.skill_entry() for k in REGISTRY if k.pattern]  # tessera.json "skills", in routing order
BUILDERS = {k.name: k.build for k in REGISTRY}
build_fstring_forward = fstrings.build_fstring_forward

# Draft rewrites in the order they apply to the predicted output; each checks its own trigger.
DRAFTS = (rename.draft, prints.draft, fstring_draft.draft, docstring.draft)
# tessera.json "triggers": trigger name → groups of phrases (every group must occur in the instruction)
TRIGGERS = dict((rename.TRIGGER, prints.TRIGGER, docstring.TRIGGER, fstring_draft.TRIGGER))


def instruction_for(kind: str, rng: random.Random, old: str = "", new: str = "") -> str:
    """One phrasing of `kind`, names filled in (renames)."""
    return rng.choice(BY_NAME[kind].phrasings).format(old=old, new=new)


def skill_of(instruction: str) -> str | None:
    """The kind whose pattern the whole (whitespace-normalised) instruction matches, or None."""
    text = " ".join(instruction.split())
    for s in SKILLS:
        if re.fullmatch(s["pattern"], text, re.IGNORECASE):
            return s["name"]
    return None


def nothing_to_change(skill: str | None, instruction: str, code: str) -> str | None:
    """Why an edit of skill `skill` has nothing to change in `code` ("the code has no print statement"),
    or None where it may change something (or the skill is another model's)."""
    kind = BY_NAME.get(skill) if skill else None
    return None if kind is None else kind.nothing(instruction, code)


def _rule_text(kind: str, code: str, instruction: str) -> str | None:
    if kind == "fstring":
        from .fstring_text import rewrite

        return rewrite(code)
    if kind == "add_docstring":
        return docstring.draft_text(code)
    if kind == "remove_prints":
        return prints.draft_text(code)
    if kind in ("rename_variable", "rename_function"):
        return rename.draft_text(code, instruction, function=kind == "rename_function")
    return None


def predicted_text(kind: str, code: str, instruction: str = "") -> str | None:
    """The output `kind`'s own rule predicts for `code`, written in the code's own text, for the
    kinds whose token-level draft cannot spell it (an f-string over several pieces and lines, a
    ``.format`` with keywords, braces to double; a rename that spares keyword arguments and
    strings; prints dropped with ``pass`` where a block would be left empty; a docstring whose summary needs the parsed
    signature, not the tokens, that a return annotation or a comment would mislead); None for
    the others, or where it cannot tell.

    A window of a long target (engine/decode/windows.py) that ends in shallower blocks than it
    begins (``x = 1`` deep in a ``try``, then the rest of the function) does not parse alone: it is
    read inside stand-in blocks (``fragment_blocks``) and the rule's text cut back out."""
    text = _rule_text(kind, code, instruction)
    if text is not None or kind == "add_docstring":
        return text
    head = fragment_blocks(code)
    if head is None:
        return None
    text = _rule_text(kind, head + code, instruction)
    if text is None or not text.startswith(head):
        return None
    return text[len(head):]


def fragment_blocks(code: str) -> str | None:
    """The stand-in block headers that make `code` parse when it begins deeper than it
    goes on: an ``if 1:`` at each shallower indentation it returns to, each with a ``pass`` at the
    depth below so that no stand-in block is left empty by an edit. None where `code` parses as it
    is, or does not parse inside them either."""
    lines = [ln for ln in code.split("\n") if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return None
    indent = lambda ln: len(ln) - len(ln.lstrip(" "))  # noqa: E731
    first = indent(lines[0])
    if first == 0:
        return None
    levels = sorted({indent(ln) for ln in lines if indent(ln) < first} | {0})
    inner = levels[1:] + [first]
    head = "".join(" " * lv + "if 1:\n" + " " * nxt + "pass\n" for lv, nxt in zip(levels, inner))
    try:
        ast.parse(head + code)
    except (SyntaxError, ValueError):
        return None
    return head


def predicted_output(vocab: Vocabulary, source: list[int], instruction: list[int]) -> tuple[list[int], list[int]]:
    """The predicted output and, per predicted token, the index of the source token it stands for."""
    pred, origin = list(source), list(range(len(source)))
    for draft in DRAFTS:
        pred, origin = draft(vocab, pred, origin, instruction, len(source))
    return pred, origin


def touches(skill: str | None, instruction: str, code: str) -> bool:
    """Whether an edit of skill `skill` can change `code` at all. Conservative: any mention counts
    (a rename's old name anywhere, even in a string), so False means the code stays as it is.
    A skill this registry does not know (another model's) may touch anything."""
    kind = BY_NAME.get(skill) if skill else None
    return True if kind is None else kind.touches(instruction, code)


__all__ = ["BUILDERS", "BY_NAME", "DRAFTS", "EDIT_KINDS", "KINDS", "REGISTRY", "SKILLS", "TRIGGERS", "EditPair",
           "Kind", "build_fstring_forward", "fragment_blocks", "instruction_for", "nothing_to_change", "predicted_output", "predicted_text", "skill_of", "touches"]
