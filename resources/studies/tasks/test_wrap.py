import inspect

from wrap import indent


def test_indent():
    assert indent("a\n\nb\n", "> ") == "> a\n\n> b\n"
    assert indent("a\nb", "+", lambda line: line.startswith("b")) == "a\n+b"


def test_quiet():
    assert "print(" not in inspect.getsource(indent)
