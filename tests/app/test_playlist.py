"""Playlist files: the shipped ones load; malformed ones give an error naming file, step and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.demo.playlist import (DEMOS_DIR, PlaylistError, find_playlist, load_playlist, selection_range,
                          shipped_playlists)
from app.main import build_parser, check_demo_args

CODE = DEMOS_DIR / "code" / "stdlib_helpers.py"


def test_both_shipped_playlists_load_and_every_selection_is_in_its_file():
    shipped = shipped_playlists()
    assert set(shipped) >= {"thousand-tok-s", "gpu-vs-wafer"}
    titles = {load_playlist(p).title for p in shipped.values()}
    assert {"What 1,000 tok/s feels like", "GPU cluster vs wafer"} <= titles
    for path in shipped.values():
        for step in load_playlist(path).steps:
            assert step.caption
            if step.selection is not None:
                start, end = selection_range(step.file.read_text(encoding="utf-8"), step.selection)
                assert end > start
            for lane in (step.pacing, *step.lanes):
                assert not lane.paced or lane.provenance().startswith("EMULATED")


def _write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "code.py").write_text(CODE.read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    return path


STEP = '[[step]]\ncaption = "c"\nfile = "code.py"\n'


@pytest.mark.parametrize("body, expected", [
    ('title = "x"\n[[step]\ncaption = "c"', "not valid TOML"),
    (STEP, "needs a title"),
    ('title = "x"\n', "no [[step]] tables"),
    ('title = "x"\n' + STEP + 'instrution = "add a docstring"\n', "step 1: unknown field(s) instrution"),
    ('title = "x"\n[[step]]\nfile = "code.py"\n', "step 1: needs a caption"),
    ('title = "x"\n' + STEP + '[[step]]\ncaption = "d"\nfile = "missing.py"\ninstruction = "x"\n',
     "step 2: file 'missing.py' does not exist"),
    ('title = "x"\n' + STEP + 'lanes = ["wse-3"]\ninstruction = "add a docstring"\n', "a race needs 2 or 3 lanes"),
    ('title = "x"\n' + STEP + 'kind = "edit"\n', "an edit step needs an instruction"),
    ('title = "x"\n' + STEP + 'instruction = "x"\nselection = [5, 2]\n', "selection [5, 2] must be"),
    ('title = "x"\n' + STEP + 'instruction = "x"\npacing = "wse 3"\n', "'wse 3' is not a hardware profile"),
    ('title = "x"\n' + STEP + 'accept = [0]\n', "hunk numbers counted from 1"),
    ('title = "x"\n' + STEP + 'instruction = "x"\nstop_after_tokens = -2\n', "stop_after_tokens must be"),
])
def test_a_malformed_playlist_says_where_and_why(tmp_path, body, expected):
    with pytest.raises(PlaylistError) as info:
        load_playlist(_write(tmp_path, body))
    assert expected in str(info.value)
    assert str(tmp_path / "bad.toml") in str(info.value)


def test_selection_by_function_name_or_lines():
    text = CODE.read_text(encoding="utf-8")
    start, end = selection_range(text, "_strerror")
    assert text[start:end].startswith("def _strerror(err):") and text[start:end].endswith("%err\n")
    start, end = selection_range(text, (1, 1))
    assert text[start:end] == text.splitlines(keepends=True)[0]
    with pytest.raises(PlaylistError, match="no top-level function 'nope'"):
        selection_range(text, "nope")


def test_the_command_line_names_a_bad_playlist_and_exits(tmp_path, capsys):
    parser = build_parser()
    args = parser.parse_args(["--demo", str(_write(tmp_path, 'title = "x"\n'))])
    with pytest.raises(SystemExit) as info:
        check_demo_args(parser, args)
    assert info.value.code == 2
    assert "no [[step]] tables" in capsys.readouterr().err
    args = parser.parse_args(["--demo", "gpu-vs-wafer", "--race", "h100x8:llama-3.1-70b,wse-3:llama-3.1-70b"])
    check_demo_args(parser, args)
    assert args.playlist.title == "GPU cluster vs wafer" and len(args.race_lanes) == 2
    assert find_playlist("thousand-tok-s").name == "thousand-tok-s.toml"
