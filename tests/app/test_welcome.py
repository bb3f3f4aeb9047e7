"""The engine's `welcome`, read leniently into EngineInfo."""

from app.core.link.welcome import parse_welcome
from wire import PROTOCOL_VERSION


def test_a_remote_engine_s_welcome_names_its_backend_skills_and_profiles():
    info = parse_welcome({
        "protocol": PROTOCOL_VERSION, "profiles": [{"name": "wafer"}, "local"],
        "model": {"name": "m", "context_length": "2048", "backend": "remote", "transport": "websocket",
                  "endpoint": "m @ host", "skills": [{"name": "rename", "example": "rename x to y"}, "remove_prints"]},
        "emulate_models": [{"name": "llama", "label": "Llama"}, {"label": "no name"}, "bad"]})
    assert (info.model_name, info.context_length, info.protocol) == ("m", 2048, PROTOCOL_VERSION)
    assert info.skills == ("rename", "remove_prints") and info.skill_examples == ("rename x to y", "")
    assert info.profiles == ("wafer", "local") and info.emulate_models == (("llama", "Llama"),)
    assert info.backend_label == "remote m @ host over websocket"


def test_fields_missing_or_ill_typed_fall_back_to_neutral_values():
    info = parse_welcome({"model": {"context_length": "many", "skills": "not a list"}})
    assert (info.model_name, info.context_length, info.skills, info.profiles) == ("unknown model", 0, (), ())
    assert info.backend_label == "local ONNX" and info.protocol == PROTOCOL_VERSION
