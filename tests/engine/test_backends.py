"""The backend seam with the embedded ONNX engine behind it."""

import asyncio

import pytest

from engine.backends import Backend, GenerateRequest, ModelInfo
from engine.backends.onnx import OnnxBackend
from engine.model.modelspec import MODELS_DIR
from engine.decode.sampling import SamplingParams
from engine.decode.session import Document, Engine, RequestError

CODE = "def total(xs):\n    s = 0\n    for x in xs:\n        print(x)\n        s += x\n    return s\n"


@pytest.fixture(scope="module", params=["tiny-random", "tessera-edit-mini"])
def backend(request):
    eng = OnnxBackend(Engine(MODELS_DIR / request.param))
    yield eng
    eng.close()


def collect(backend, req: GenerateRequest) -> list:
    async def go():
        backend.open(req.session, Document(CODE))
        return [ev async for ev in backend.generate(req)]
    return asyncio.run(go())


def test_the_onnx_engine_is_a_backend_and_lists_its_model(backend):
    assert isinstance(backend, Backend)
    [info] = backend.models()
    assert isinstance(info, ModelInfo) and info.id == backend.describe()["name"]
    assert info.context_length == backend.describe()["context_length"] and info.edit_only


def test_a_stream_ends_with_one_done_carrying_the_documented_stats(backend):
    events = collect(backend, GenerateRequest("s", "r-stats", "rename variable s to acc", max_tokens=30))
    assert [e.type for e in events].count("done") == 1 and events[-1].type == "done"
    stats = events[-1].stats
    assert stats.tokens_out > 0 and stats.ttft_ms is not None and stats.decode_tok_s > 0
    assert stats.prompt_tokens and stats.draft_proposed_tokens >= stats.draft_accepted_tokens >= 0
    assert "".join(e.text for e in events if e.type == "token") == events[-1].text


def test_bad_requests_are_refused_in_the_call(backend):
    backend.open("bad", Document(CODE))
    with pytest.raises(RequestError) as exc:
        backend.generate(GenerateRequest("bad", "r-bad", "remove prints", selection=(0, 10_000)))
    assert exc.value.code == "bad_selection"
    with pytest.raises(RequestError) as exc:
        backend.generate(GenerateRequest("nowhere", "r-bad2", "remove prints"))
    assert exc.value.code == "unknown_session"
    assert not backend.stop("never-seen") and not backend.knows("never-seen")


def test_a_prediction_is_the_draft_and_never_changes_greedy_output(backend):
    plain = collect(backend, GenerateRequest("p", "r-plain", "rename variable s to acc", max_tokens=60,
                                             speculate=False))[-1]
    exact = collect(backend, GenerateRequest("p", "r-exact", "rename variable s to acc", max_tokens=60,
                                             prediction=plain.text))[-1]
    wrong = collect(backend, GenerateRequest("p", "r-wrong", "rename variable s to acc", max_tokens=60,
                                             prediction="0123456789 " * 8))[-1]
    assert exact.text == plain.text == wrong.text
    n = plain.stats.tokens_out
    # The exact prediction is accepted all along: every verify pass but the first emits draft tokens.
    assert exact.stats.draft_accepted_tokens >= n - 2 * exact.stats.verify_passes
    assert exact.stats.draft_accepted_tokens > wrong.stats.draft_accepted_tokens


def test_redirect_of_an_ended_request_continues_it(backend):
    async def go():
        backend.open("rd", Document(CODE))
        first = [ev async for ev in backend.generate(GenerateRequest("rd", "r-rd", "remove prints", max_tokens=5))]
        again = backend.redirect("r-rd", "rename s to acc")
        assert again is not None
        return first, [ev async for ev in again]
    first, second = asyncio.run(go())
    assert second[-1].type == "done" and second[-1].text.startswith(first[-1].text)
    with pytest.raises(RequestError):
        backend.redirect("never-seen", "x")


def test_closing_the_stream_early_stops_the_request(backend):
    async def go():
        backend.open("cl", Document(CODE))
        events = backend.generate(GenerateRequest("cl", "r-close", "x", max_tokens=3000,
                                                  sampling=SamplingParams(1.0, 1.0, 1)))
        async for ev in events:
            if ev.type == "token":
                break
        await events.aclose()
        return backend.engine.find_job("r-close")
    job = asyncio.run(go())
    assert job.stop.is_set() and not job.running and len(job.output_ids) < 3000


def test_every_backend_the_server_and_the_cli_take_implements_the_one_protocol(tmp_path):
    from engine.backends.endpoints import Endpoint
    from engine.backends.openai_http import ChatCompletionsBackend
    from engine.backends.replay import REPLAY, ReplayBackend
    from engine.backends.response_cache import ResponseCache
    from engine.backends.responses_ws import ResponsesSocketBackend

    endpoint = Endpoint("http://127.0.0.1:9/v1", "some-model", api_key="k")  # never contacted
    onnx = OnnxBackend(Engine(MODELS_DIR / "tiny-random", check=False))
    backends = [onnx, ReplayBackend(onnx, ResponseCache(tmp_path / "responses.json"), REPLAY),
                ChatCompletionsBackend(endpoint), ResponsesSocketBackend(endpoint)]
    try:
        for backend in backends:
            assert isinstance(backend, Backend), type(backend).__name__
    finally:
        for backend in backends:
            asyncio.run(backend.aclose())
