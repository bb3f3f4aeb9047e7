"""Where the Open and Save dialogs start: the current file's folder, the last folder used, home."""

from app.core.files.places import start_directory


def test_the_current_files_folder_comes_first(tmp_path):
    work, other = tmp_path / "work", tmp_path / "other"
    work.mkdir()
    other.mkdir()
    assert start_directory(str(work / "main.py"), str(other), "/home/u") == str(work)


def test_an_unsaved_buffer_starts_in_the_last_folder_used(tmp_path):
    assert start_directory(None, str(tmp_path), "/home/u") == str(tmp_path)


def test_a_folder_that_is_gone_or_relative_falls_through_to_home(tmp_path):
    gone = tmp_path / "gone"
    assert start_directory(str(gone / "x.py"), str(gone), "/home/u") == "/home/u"
    assert start_directory("relative.py", "relative/dir", "/home/u") == "/home/u"  # never the cwd
    assert start_directory(None, None, "/home/u") == "/home/u"
