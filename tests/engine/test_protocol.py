import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.protocol import ProtocolError, apply_edits, parse_client_message


def msg(**kw):
    return json.dumps(kw)


def test_valid_generate_passes():
    m = parse_client_message(msg(type="generate", session="s", request="r", instruction="rename x to y",
                                 selection={"start": 0, "end": 4}, max_tokens=10))
    assert m["request"] == "r"


@pytest.mark.parametrize("raw, code", [
    ("{not json", "bad_json"),
    ("[1, 2]", "bad_json"),
    (msg(type="launch"), "unknown_type"),
    (msg(type="generate", session="s", request="r"), "bad_request"),
    (msg(type="generate", session="s", request="r", instruction=5), "bad_request"),
    (msg(type="generate", session="s", request="r", instruction="x", selection={"start": 5, "end": 2}), "bad_selection"),
    (msg(type="generate", session="s", request="r", instruction="x", selection={"start": True, "end": 2}), "bad_request"),
    (msg(type="generate", session="s", request="r", instruction="x", max_tokens=0), "bad_request"),
    (msg(type="generate", session="", request="r", instruction="x"), "bad_request"),
    (msg(type="open", session="s", document={"text": 3}), "bad_request"),
    (msg(type="update", session="s"), "bad_request"),
    (msg(type="stop"), "bad_request"),
])
def test_malformed_messages_get_clear_codes(raw, code):
    with pytest.raises(ProtocolError) as info:
        parse_client_message(raw)
    assert info.value.code == code
    assert str(info.value)


def test_binary_frames_are_refused():
    with pytest.raises(ProtocolError, match="binary"):
        parse_client_message(b"{}")


@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes_the_parser(raw):
    try:
        parse_client_message(raw)
    except ProtocolError as exc:
        assert exc.to_message()["type"] == "error"


def test_apply_edits():
    assert apply_edits("hello world", [{"start": 0, "end": 5, "text": "HELLO"}]) == "HELLO world"
    with pytest.raises(ProtocolError):
        apply_edits("abc", [{"start": 2, "end": 9, "text": ""}])
