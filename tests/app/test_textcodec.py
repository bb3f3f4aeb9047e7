"""Files are read and written back byte for byte: encodings, BOMs, every kind of line break."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.files.textcodec import DecodeError, EncodeError, LineEndings, decode, encode

BREAKS = ["\n", "\r\n", "\r", "\u2029"]
# Characters Qt or a careless reader would rewrite: no-break space, line and paragraph separators,
# a BOM in the middle, form feed, a lone CR.
AWKWARD = ["\u00a0", "\u2028", "\u2029", "\ufeff", "\x0c", "\r", "\t", "é", "€", "𝄞", "\x85"]
ENCODINGS = [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE),
             ("utf-16-be", codecs.BOM_UTF16_BE)]

line = st.text(st.one_of(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0\r\n\u2029"),
                         st.sampled_from(AWKWARD)), max_size=30)
document = st.lists(st.tuples(line, st.sampled_from(BREAKS)), max_size=20).map(
    lambda pairs: "".join(text + brk for text, brk in pairs))


def roundtrip(data: bytes) -> bytes:
    decoded = decode(data)
    assert decoded.read_only_reason is None
    return encode(decoded.text, decoded.fmt, decoded.endings)


@settings(max_examples=300, deadline=None)
@given(document, st.sampled_from(ENCODINGS))
def test_every_encoding_and_line_break_comes_back_byte_exact(text, encoding):
    codec, bom = encoding
    data = bom + text.encode(codec)
    if not bom and text.startswith("\ufeff"):
        data = text.encode(codec)  # a leading U+FEFF *is* the UTF-8 BOM: still byte-exact below
    assert roundtrip(data) == data


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.characters(min_codepoint=32, max_codepoint=255, blacklist_characters="\x7f\x85"),
                        max_size=20), max_size=10), st.sampled_from(["\n", "\r\n"]))
def test_a_declared_latin_1_file_comes_back_byte_exact(lines, newline):
    text = f"# -*- coding: latin-1 -*-{newline}" + newline.join(lines)
    data = text.encode("latin-1")
    decoded = decode(data)
    assert decoded.fmt.declared and decoded.fmt.codec == "iso8859-1"
    assert encode(decoded.text, decoded.fmt, decoded.endings) == data


def test_the_editor_sees_only_lf_and_keeps_the_rest():
    decoded = decode("a\u00a0b\u2028c\r\nd\re\u2029f\n".encode())
    assert decoded.text == "a\u00a0b\u2028c\nd\ne\nf\n"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text("abc ", min_size=1, max_size=5), st.sampled_from(BREAKS)), min_size=1,
                max_size=15),
       st.data())
def test_lines_the_user_did_not_touch_keep_their_own_break(pairs, data):
    original = "".join(t + b for t, b in pairs)  # non-empty lines: "\r" + "\n" never merge
    editor_text, endings = LineEndings.split(original)
    lines = editor_text.split("\n")
    at = data.draw(st.integers(0, len(lines) - 1))
    edited = lines[:at] + ["NEW LINE"] + lines[at:]  # the user inserts one line
    restored = endings.restore("\n".join(edited))
    # Every original line is still there with its own break; the new line uses the usual one.
    expected = "".join(t + b for t, b in pairs[:at]) + "NEW LINE" + endings.newline \
        + "".join(t + b for t, b in pairs[at:])
    assert restored == expected


def test_an_edited_line_keeps_its_break_and_an_added_last_line_takes_the_usual_one():
    decoded = decode(b"one\r\ntwo\rthree\n")
    text = decoded.text.replace("two", "TWO") + "four"
    assert encode(text, decoded.fmt, decoded.endings) == b"one\r\nTWO\rthree\nfour"


@pytest.mark.parametrize("data", [b"\x00\x01\x02binary", bytes(range(256)) * 40,
                                  b"GIF89a" + bytes([7, 200, 3, 1, 2, 150, 4, 5, 6] * 2000)])
def test_binary_content_is_refused(data):
    with pytest.raises(DecodeError, match="binary"):
        decode(data)


def test_a_binary_file_without_nul_in_its_first_bytes_is_still_refused():
    data = b"x" * 9000 + bytes([0x89, 0x01, 0x02, 0x03, 0x00, 0xff] * 100)
    with pytest.raises(DecodeError, match="binary"):
        decode(data)


def test_undecodable_text_opens_read_only_with_the_reason_and_is_never_reencoded():
    decoded = decode(b"caf\xe9 = 1\nprint('ok')\n")  # Latin-1 bytes, no declaration
    assert decoded.read_only_reason is not None
    assert "not valid UTF-8" in decoded.read_only_reason and "0xE9 at offset 3" in decoded.read_only_reason
    assert "declares no encoding" in decoded.read_only_reason


def test_a_declared_encoding_is_used_and_characters_it_lacks_are_refused_on_save():
    decoded = decode("# coding: latin-1\nname = 'café'\n".encode("latin-1"))
    assert decoded.read_only_reason is None and "café" in decoded.text
    with pytest.raises(EncodeError, match="U\\+20AC, line 2"):
        encode(decoded.text.replace("café", "€uro"), decoded.fmt, decoded.endings)


def test_an_unknown_declared_encoding_is_read_only_with_the_reason():
    decoded = decode(b"# coding: no-such-codec\nx = 1\n")
    assert "coding declaration cannot be used" in decoded.read_only_reason


def test_the_format_is_described_for_the_status_line():
    assert decode(codecs.BOM_UTF8 + b"a\r\nb\r\n").fmt.describe() == "UTF-8 with BOM · CRLF"
    assert decode(codecs.BOM_UTF16_BE + "a\n".encode("utf-16-be")).fmt.describe() == "UTF-16 BE · LF"
