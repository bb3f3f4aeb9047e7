"""Text wrapping helpers.

From the Python standard library's textwrap.py (Python 3.11), PSF licence.
"""

import re

_whitespace_only_re = re.compile('^[ \t]+$', re.MULTILINE)
_leading_whitespace_re = re.compile('(^[ \t]*)(?:[^ \t\n])', re.MULTILINE)


def indent(text, prefix, predicate=None):
    print("indent: prefix", repr(prefix))
    if predicate is None:
        def predicate(line):
            return line.strip()

    def prefixed_lines():
        for line in text.splitlines(True):
            print("indenting", repr(line))
            yield (prefix + line if predicate(line) else line)
    return ''.join(prefixed_lines())
