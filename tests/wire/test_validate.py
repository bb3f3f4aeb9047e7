import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wire import ProtocolError, apply_edits, parse_client_message


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


# Frames that once closed the connection, and client mistakes that must be `bad_request`.
@pytest.mark.parametrize("raw, code", [
    ('{"type": {}}', "unknown_type"),
    ('{"type": []}', "unknown_type"),
    ('{"type": "ping", "id": ' + "9" * 4400 + "}", "bad_request"),
    ("[" * 100_000 + "]" * 100_000, "bad_json"),
    ('{"type": "ping", "id": ' + "[" * 50 + "]" * 50 + "}", "bad_json"),
    ('{"type": "measure", "session": "s", "instruction": "\\ud800"}', "bad_request"),
    ('{"type": "open", "session": "s", "document": {"text": "a\\udfffb"}}', "bad_request"),
    ('{"type": "hello", "token": "\\ud800"}', "bad_request"),
    ('{"type": "generate", "session": "s", "request": "r", "instruction": "x\\uDbFf"}', "bad_request"),
    ('{"type": "ping", "id": NaN}', "bad_json"),
    ('{"type": "generate", "session": "s", "request": "r", "instruction": "x", "temperature": 1e999}', "bad_request"),
    (msg(type="generate", session="s", request="r", instruction="x", seed=-1), "bad_request"),
    (msg(type="generate", session="s", request="r", instruction="x", temperature=1e-320), "bad_request"),
    (msg(type="generate", session="s", request="r", instruction="x", temperature=-1), "bad_request"),
    (msg(type="generate", session="s", request="r", instruction="x", top_p=0), "bad_request"),
    (msg(type="generate", session="s", request="r", instruction="x", max_tokens=2**40), "bad_request"),
    (msg(type="generate", session="s", request="r", instruction="x", colour="red"), "bad_request"),
    (msg(type="open", session="s", document={"text": "", "owner": "x"}), "bad_request"),
    (msg(type="open", session="s", document={"text": ""}, parts=0), "bad_request"),
    (msg(type="update", session="s", parts=2), "bad_request"),
    (msg(type="update", session="s", edits=[{"start": 0, "end": 0, "text": ""}] * 300), "bad_request"),
    (msg(type="append", session="s"), "bad_request"),
    (msg(type="stop", request="r", extra=1), "bad_request"),
    (msg(type="ping", id="x" * 500), "bad_request"),
    (msg(type="ping", id=[1] * 3000), "bad_request"),
    (msg(type="generate", session="s", request="r", instruction="x", selection={"start": 0, "end": 1, "x": 2}),
     "bad_request"),
])
def test_hostile_and_mistaken_frames_get_clear_codes(raw, code):
    with pytest.raises(ProtocolError) as info:
        parse_client_message(raw)
    assert info.value.code == code
    assert str(info.value) and len(str(info.value)) < 300


def test_valid_parts_and_append_pass():
    assert parse_client_message(msg(type="open", session="s", document={"text": "a"}, parts=3))["parts"] == 3
    assert parse_client_message(msg(type="append", session="s", text="b"))["text"] == "b"
    assert parse_client_message(msg(type="update", session="s", text="ab", parts=2))["parts"] == 2


def test_valid_unicode_including_astral_characters_passes():
    m = parse_client_message('{"type": "measure", "session": "s", "instruction": "\\ud83d\\ude00 ok é"}')
    assert m["instruction"] == "\U0001F600 ok é"


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
                    max_leaves=30))
def test_arbitrary_json_values_never_crash_the_parser(value):
    for raw in (json.dumps(value), json.dumps({"type": "generate", "session": "s", "request": "r",
                                               "instruction": "x", "selection": value})):
        try:
            parse_client_message(raw)
        except ProtocolError as exc:
            assert exc.to_message()["type"] == "error"
