"""The printf-style conversions the f-string skill converts: one grammar for the token-level
draft and for the ``ast`` pair builders.

``%%`` is a literal percent sign; ``%s``, ``%r``, ``%a`` become ``{x}``, ``{x!r}``, ``{x!a}``;
``%[0][width][.precision]type`` with a numeric type becomes ``{x:spec}``. A width on ``%s``
(``%5s``) is recognised as a conversion but not convertible; anything else (flags such as
``-``/``+``, ``*`` widths, mapping keys) is not a conversion of this grammar at all.
"""

from __future__ import annotations

import re

CONVERSION = re.compile(r"%(?:(?P<percent>%)|(?P<spec>0?\d*(?:\.\d+)?)(?P<type>[dfegxXosra]))")
NUMERIC = "dfegxXo"  # conversion types that keep their spec as an f-string format spec


def convertible(m: re.Match) -> bool:
    """A matched conversion an f-string field can spell: ``%s``/``%r``/``%a`` bare, or numeric."""
    return m["percent"] is None and (m["type"] in NUMERIC or not m["spec"])


def numeric_spec(spec: str) -> bool:
    """Whether an f-string format spec (``.2f``, ``05d``) is one a ``%`` conversion can spell."""
    m = CONVERSION.fullmatch("%" + spec)
    return m is not None and m["percent"] is None and m["type"] in NUMERIC
