"""The study file: a valid file loads; each kind of mistake gets an error that names it."""

import pytest

from app.study.questions import NASA_TLX, raw_tlx
from app.study.studyfile import StudyFileError, load_study
from tests.study.conftest import ROOT, write_study


def test_example_study_loads():
    study = load_study(ROOT / "resources" / "studies" / "speed-pilot.toml")
    assert len(study.conditions) == 2 and len(study.tasks) == 3
    gpu, fast = study.conditions
    assert gpu.engine_profile() == "h100x8" and gpu.model == "llama-3.1-70b"
    assert fast.explicit and fast.engine_profile().startswith("timing:")
    assert [q.id for q in study.questionnaire(study.after_task)][:6] == [q.id for q in NASA_TLX]
    assert all(t.file.is_file() and t.check for t in study.tasks)


@pytest.mark.parametrize("change,message", [
    (("id = \"slow\"\nlabel", "label"), "'id' is missing"),
    (("tok_s = 300", "tok_s = 0"), "tok_s > 0"),
    (("profile = \"wse-3\"", "profile = \"wse-3\"\ntok_s = 5"), "not both"),
    (("selection = [12, 22]", "selection = [12, 999]"), "selection"),
    (("instruction = \"remove print statements\"", "free = true\ninstruction = \"x\""), "not both"),
    (("end = [\"comments\"]", "end = [\"nope\"]"), "'nope'"),
    (("id = \"mini\"", "id = \"mini\"\n[[conditions]]\nid = \"slow\"\ntok_s = 1\nttft_ms = 1"), "duplicate"),
    (("points = 5", "points = 1"), "points"),
    (("[[tasks]]", "[[tasks"), "not valid TOML"),
])
def test_mistakes_are_named(tmp_path, change, message):
    path = write_study(tmp_path)
    text = path.read_text()
    assert change[0] in text
    path.write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(StudyFileError, match=message):
        load_study(path)


def test_raw_tlx_is_the_mean_of_six():
    answers = {q.id: 10 * i for i, q in enumerate(NASA_TLX)}
    assert raw_tlx(answers) == 25.0
    assert raw_tlx({**answers, "tlx_effort": None}) is None
