"""Chat Completions over HTTP server-sent events: the transport every OpenAI-compatible server has.

One streamed ``POST {base}/chat/completions`` per request, with ``stream_options.include_usage``
for the final token counts and the original code as ``prediction`` (predicted outputs) where the
endpoint allows it. Cancelling the reading task leaves the ``stream`` context, which closes the
connection before the response ends: the server sees the client go and stops generating.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx2

from ..model.chat_edit import ChatEdit
from .endpoints import Endpoint
from .remote import RemoteBackend, RemoteJob, Upstream, UpstreamError

MAX_ERROR_BYTES = 16 * 1024  # how much of an error body is read for its message


def chat_body(endpoint: Endpoint, job: RemoteJob, edit: ChatEdit, prediction: bool) -> dict:
    body: dict = {"model": endpoint.model, "messages": edit.messages, "stream": True,
                  "stream_options": {"include_usage": True}, "temperature": job.sampling.temperature}
    if job.sampling.top_p < 1.0:
        body["top_p"] = job.sampling.top_p
    if job.sampling.seed is not None:
        body["seed"] = job.sampling.seed
    if job.max_tokens is not None:
        body["max_tokens"] = job.max_tokens
    if prediction and edit.prediction:
        body["prediction"] = {"type": "content", "content": edit.prediction}
    return body


def usage_of(raw: dict | None, timings: dict | None = None) -> dict:
    """Token counts from a Chat Completions ``usage`` (and llama.cpp's ``timings``)."""
    raw = raw or {}
    details = raw.get("completion_tokens_details") or {}
    prompt = raw.get("prompt_tokens_details") or {}
    out = {"prompt_tokens": raw.get("prompt_tokens"), "completion_tokens": raw.get("completion_tokens"),
           "cached_tokens": prompt.get("cached_tokens"),
           "accepted_prediction_tokens": details.get("accepted_prediction_tokens"),
           "rejected_prediction_tokens": details.get("rejected_prediction_tokens")}
    if timings and isinstance(timings.get("prompt_ms"), (int, float)):
        out["prefill_ms"] = round(float(timings["prompt_ms"]), 3)  # llama.cpp reports its prompt time
    return {k: v for k, v in out.items() if v is not None}


async def error_of(response: httpx2.Response) -> UpstreamError:
    """An OpenAI-shaped (or any) error body as an UpstreamError with the server's message."""
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_ERROR_BYTES:
            break
    message = body[:MAX_ERROR_BYTES].decode("utf-8", "replace").strip()
    code = "upstream_error"
    try:
        err = json.loads(body).get("error")
        if isinstance(err, dict):
            message = str(err.get("message") or message)
            code = str(err.get("code") or err.get("type") or code)
        elif isinstance(err, str):
            message = err
    except (ValueError, AttributeError):
        pass
    if response.status_code == 401:
        code = "upstream_unauthorized"
    return UpstreamError(code, f"the server answered {response.status_code}: {message or response.reason_phrase}",
                         response.status_code)


class ChatCompletionsBackend(RemoteBackend):
    """A remote server over Chat Completions (HTTP SSE); one pooled HTTP client for all requests."""

    transport = "http"

    def __init__(self, endpoint: Endpoint, client: httpx2.AsyncClient | None = None):
        super().__init__(endpoint)
        self._client = client
        self.prediction_ok = endpoint.prediction  # False once the server refused the field
        self._probed = False  # the model list was asked for (context length, a warm connection)

    async def prewarm(self, session: str):
        await self.probe()
        return await super().prewarm(session)

    async def probe(self) -> None:
        """Set up the HTTP client and its connection, and learn the model's context length (once)."""
        if self._probed:
            return
        self._probed = True
        try:
            r = await self.client.get(self.endpoint.base_url + "/models", headers=self.endpoint.headers(),
                                      timeout=min(self.endpoint.timeout_s, 5.0))
            n = context_length_of(r.json(), self.endpoint.model) if r.status_code == 200 else None
            if n:
                self.endpoint.context_length = n
        except (httpx2.HTTPError, ValueError, AttributeError):
            pass  # the first request reports a server that is not there

    @property
    def client(self) -> httpx2.AsyncClient:
        if self._client is None:
            t = self.endpoint.timeout_s
            self._client = httpx2.AsyncClient(timeout=httpx2.Timeout(t, connect=min(t, 10.0)))
        return self._client

    async def upstream(self, job: RemoteJob, edit: ChatEdit) -> AsyncIterator[Upstream]:
        async for item in self.chat_stream(job, edit):
            yield item

    async def chat_stream(self, job: RemoteJob, edit: ChatEdit) -> AsyncIterator[Upstream]:
        url = self.endpoint.base_url + "/chat/completions"
        for attempt in range(2):
            body = chat_body(self.endpoint, job, edit, self.prediction_ok)
            try:
                async with self.client.sse(url, method="POST", json=body, headers=self.endpoint.headers()) as source:
                    response = source.response
                    if response.status_code >= 400:
                        err = await error_of(response)
                        if attempt == 0 and "prediction" in body and response.status_code in (400, 422) \
                                and "predict" in str(err).lower():
                            self.prediction_ok = False  # this server does not take predicted outputs
                            continue
                        raise err
                    async for event in source:
                        if event.data.strip() == "[DONE]":
                            return
                        for item in parse_chunk(event.data):
                            yield item
                    return
            except httpx2.TimeoutException as exc:
                raise UpstreamError("upstream_timeout", f"no answer from {url} within "
                                    f"{self.endpoint.timeout_s:g} s ({type(exc).__name__})") from None
            except httpx2.SSEError as exc:
                raise UpstreamError("upstream_error", f"{url} did not stream events: {exc}") from None
            except httpx2.TransportError as exc:
                raise UpstreamError("upstream_unreachable", f"cannot reach {url}: {exc or type(exc).__name__}") \
                    from None

    async def aclose(self) -> None:
        self.close()
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def context_length_of(models: dict, model: str) -> int | None:
    """The context length a ``/models`` answer gives for `model`, under the names servers use:
    ``context_length`` (this engine), ``max_model_len`` (vLLM), ``meta.n_ctx_train`` (llama.cpp)."""
    for entry in models.get("data") or []:
        if isinstance(entry, dict) and entry.get("id") == model:
            meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
            for value in (entry.get("context_length"), entry.get("max_model_len"), meta.get("n_ctx_train")):
                if isinstance(value, int) and value > 0:
                    return value
    return None


def parse_chunk(data: str) -> list[Upstream]:
    """One ``chat.completion.chunk`` (or an error event) as upstream items."""
    try:
        chunk = json.loads(data)
    except ValueError:
        raise UpstreamError("upstream_error", f"a malformed event from the server: {data[:200]!r}") from None
    if not isinstance(chunk, dict):
        raise UpstreamError("upstream_error", f"a malformed event from the server: {data[:200]!r}")
    if "error" in chunk:
        err = chunk["error"] if isinstance(chunk["error"], dict) else {"message": str(chunk["error"])}
        raise UpstreamError(str(err.get("code") or "upstream_error"), f"the server failed: {err.get('message')}")
    out: list[Upstream] = []
    for choice in chunk.get("choices") or []:
        delta = choice.get("delta") or {}
        text = delta.get("content")
        if text:
            out.append(Upstream("delta", text))
        if choice.get("finish_reason"):
            out.append(Upstream("end", finish=str(choice["finish_reason"])))
    if chunk.get("usage") or chunk.get("timings"):
        out.append(Upstream("usage", usage=usage_of(chunk.get("usage"), chunk.get("timings"))))
    return out


async def check_endpoint(endpoint: Endpoint) -> tuple[bool, str]:
    """Ask the server for its models with the endpoint's key: (reachable and accepted, what to tell the user)."""
    url = endpoint.base_url + "/models"
    try:
        async with httpx2.AsyncClient(timeout=min(endpoint.timeout_s, 10.0)) as client:
            response = await client.get(url, headers=endpoint.headers())
    except httpx2.TimeoutException:
        return False, f"No answer from {url} within {min(endpoint.timeout_s, 10.0):g} s."
    except httpx2.TransportError as exc:
        return False, f"Cannot reach {url}: {exc or type(exc).__name__}."
    if response.status_code in (401, 403):
        return False, f"The server refused the key ({response.status_code})."
    if response.status_code >= 400:
        return False, f"{url} answered {response.status_code}."
    try:
        names = [str(m.get("id")) for m in response.json().get("data", []) if isinstance(m, dict)]
    except (ValueError, AttributeError):
        return False, f"{url} did not answer with a model list."
    if endpoint.model in names:
        return True, f"Connected: {endpoint.model} is served ({len(names)} model{'s' * (len(names) != 1)})."
    shown = ", ".join(names[:5]) or "none"
    return False, f"Connected, but {endpoint.model!r} is not among the served models ({shown})."
