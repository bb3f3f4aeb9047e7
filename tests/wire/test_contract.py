"""The wire contract both processes import: its table, its messages, its figures."""

from __future__ import annotations

import json
import subprocess
import sys
import typing
from dataclasses import fields

import pytest

import wire
from wire import DoneStats, ProtocolError, parse_client_message


def test_the_contract_imports_with_the_standard_library_alone():
    code = ("import sys, wire, wire.validate;"
            "own = {'wire', '__main__'};"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] not in sys.stdlib_module_names | own);"
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                          cwd=str(__import__("pathlib").Path(wire.__file__).parent.parent))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_validation_table_is_the_message_classes():
    for cls in wire.CLIENT_MESSAGES:
        assert list(wire.SCHEMAS[cls.type]) == [f.name for f in fields(cls)]
    generate = wire.SCHEMAS["generate"]
    assert generate["request"].required and not generate["request"].nullable
    assert not generate["speculate"].required and not generate["speculate"].nullable  # optional, never null
    assert generate["max_tokens"].nullable and generate["temperature"].kind == (int, float)
    assert wire.SCHEMAS["open"]["document"].kind == (dict,)


SAMPLES = [
    wire.Hello("t", protocol=wire.PROTOCOL_VERSION, client="tests", id="h1"),
    wire.Open("doc", wire.Document("x = 1\n", path="/tmp/a.py", language="python"), parts=2, id="m1"),
    wire.Append("doc", "y = 2\n", id="m2"),
    wire.Update("doc", text="x = 2\n", selection=wire.Selection(0, 5), id="m3"),
    wire.Update("doc", edits=[wire.Edit(0, 1, "z")], id="m4"),
    wire.Measure("doc", "rename x", wire.Selection(0, 1), id="m5"),
    wire.Generate("doc", "r1", "rename x", wire.Selection(0, 1), max_tokens=16, temperature=0.5, seed=3,
                  speculate=False),
    wire.Stop("r1"),
    wire.Redirect("r1", "rename y"),
    wire.Ping(id="p1"),
    wire.Close("doc", id="m6"),
]


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: m.type)
def test_every_client_message_the_app_builds_passes_the_engines_validation(message):
    sent = message.to_message()
    assert parse_client_message(json.dumps(sent)) == sent


def test_every_client_message_type_has_a_sample():
    assert {m.type for m in SAMPLES} == set(wire.SCHEMAS)


def test_an_id_longer_than_the_limit_is_refused():
    with pytest.raises(ProtocolError) as info:
        parse_client_message(json.dumps(wire.Close("doc", id="x" * (wire.MAX_ID_CHARS + 1)).to_message()))
    assert info.value.code == "bad_request" and "'id'" in str(info.value)


def test_a_selection_outside_the_text_is_one_clear_error():
    assert wire.check_selection(None, 7) == (0, 7)
    assert wire.check_selection((2, 7), 7) == (2, 7)
    with pytest.raises(ProtocolError) as info:
        wire.check_selection((2, 8), 7, "r1")
    assert info.value.code == "bad_selection" and info.value.request == "r1" and "0:7" in str(info.value)


UNIT_SUFFIXES = ("_ms", "_tok_s", "_tokens", "_ratio")
COUNTS = {"verify_passes", "redirects", "windows"}  # the name is the unit (passes, redirects, windows)


def test_every_number_in_done_stats_says_its_unit():
    hints = typing.get_type_hints(DoneStats)
    for f in fields(DoneStats):
        kinds = set(typing.get_args(hints[f.name]) or (hints[f.name],)) - {type(None)}
        if kinds & {int, float} and bool not in kinds:
            assert f.name.endswith(UNIT_SUFFIXES) or f.name.startswith("tokens_") or f.name in COUNTS, f.name


def test_done_stats_are_checked_when_built_and_forgiving_when_read():
    with pytest.raises(TypeError):
        wire.Done("r1", "eos", {"tok_s": 3.0})  # an old name is caught where the engine builds it
    done = wire.Done("r1", wire.DoneReason.EOS, {"tokens_out": 4, "ttft_ms": 1.5,
                                                  "error": {"code": "c", "message": "m"}})
    msg = json.loads(json.dumps(done.to_message()))
    assert msg["reason"] == "eos" and msg["stats"]["tokens_out"] == 4 and "prompt_tokens" not in msg["stats"]
    read = DoneStats.from_message({**msg["stats"], "from_a_newer_engine": 1, "decode_tok_s": "fast"})
    assert read.tokens_out == 4 and read.ttft_ms == 1.5 and read.decode_tok_s == 0.0
    assert read.error == wire.Problem("c", "m")
    stats = DoneStats()
    stats.update(tokens_out=2, stop_ms=3.0)
    assert (stats.tokens_out, stats.stop_ms) == (2, 3.0)
    with pytest.raises(TypeError):
        stats.update(tokens=2)


def test_terminal_reasons_are_every_reason_but_redirect():
    assert set(wire.DoneReason) - wire.TERMINAL_REASONS == {wire.DoneReason.REDIRECT}
    assert "stop" in wire.TERMINAL_REASONS and "redirect" not in wire.TERMINAL_REASONS


def test_the_engines_replies_name_what_they_answer():
    for cls in wire.ENGINE_MESSAGES:
        names = {f.name for f in fields(cls)}
        assert names & {"id", "request"}, cls.type


def test_documents_travel_in_parts_that_fit_a_frame():
    text = "é𝄞a" * 700_000
    parts = wire.document_parts(text, wire.MAX_PART_BYTES)
    assert "".join(parts) == text and len(parts) > 1
    assert all(len(p.encode("utf-8")) <= wire.MAX_PART_BYTES for p in parts)
    # A part in its JSON frame stays well inside the frame limit, even escaped.
    worst = json.dumps(wire.Append("s" * wire.MAX_ID_CHARS, "\x01" * wire.MAX_PART_BYTES).to_message())  # 6 bytes each
    assert len(worst.encode()) < wire.MAX_FRAME_BYTES
    assert wire.document_parts("small", wire.MAX_PART_BYTES) == ["small"]
