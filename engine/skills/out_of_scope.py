"""Instructions outside the skills: the code comes back unchanged and the user is told why."""

from __future__ import annotations

import random

from .kind import EditPair, Kind

NOTICE = (
    "This instruction is outside what the bundled model was trained for (rename a variable or "
    "function, add a docstring, remove print statements, convert to f-strings); it returns the code "
    "unchanged. Load a larger model for other edits."
)

_PHRASINGS = (
    "add type hints", "add type annotations", "sort the imports", "make it faster", "optimize this",
    "add error handling", "add logging", "add a print statement for debugging", "replace prints with logging",
    "convert to a list comprehension", "write unit tests", "add a unit test", "make this async",
    "explain this code", "use pathlib", "add input validation", "rename the class", "add comments",
    "translate the comments to French", "extract a helper function", "inline the variable",
    "add a guard clause", "use a dataclass", "convert to a generator", "remove the docstring",
    "add a return type", "make it thread-safe", "cache the result", "add a timeout", "simplify this",
    "fix the bug", "refactor", "reformat", "convert to camelCase", "use enumerate", "add a decorator",
    "remove unused variables", "handle None", "add retries", "convert f-strings to format calls",
    "make the function recursive", "split into two functions", "add a main guard", "use pattern matching",
    "add a default argument", "remove comments", "use snake_case", "wrap in try/except",
    "add print statements", "swap the arguments",
)


def touches(instruction: str, code: str) -> bool:
    return False  # the engine gives the code back unchanged


def build_out_of_scope(code: str, rng: random.Random, pool: list[str]) -> EditPair | None:
    return EditPair("out_of_scope", rng.choice(_PHRASINGS), code, code)


KIND = Kind("out_of_scope", "out of scope → unchanged", _PHRASINGS, build_out_of_scope, touches)
