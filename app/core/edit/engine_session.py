"""The edit controller's side of the engine: its client, the document's session there, its figures. No Qt.

`EngineSession` knows which text the engine holds for the current document (and whether the editor
changed since), opens and closes the document's session, sends the text before an edit, and keeps
the engine's figures (context window, prompt tokens, model name) for the context meter and the
messages. The controller owns one and asks it; it reports to the same `EditView`.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any, Awaitable, Callable

from app.core.edit.settings import RequestSettings
from app.core.edit.targeting import ContextFit, check_fit, choose_target, fit_from_measure
from app.core.edit.view import EditView
from app.core.link.client import ENGINE_LOST, EngineClient, EngineError
from wire import MAX_DOCUMENT_BYTES, utf8_size


class EngineSession:
    """The engine as one controller sees it; see the module docstring.

    ``view``, ``settings``, ``streaming`` and ``starting`` read the controller's current view,
    request settings, whether an edit streams and whether one is being set up; ``stop`` stops the
    running edit (its text is no longer the engine's).
    """

    def __init__(self, view: Callable[[], EditView], settings: Callable[[], RequestSettings],
                 streaming: Callable[[], bool], starting: Callable[[], bool], stop: Callable[[], None],
                 client: EngineClient | None = None):
        self._view, self._settings, self._stop = view, settings, stop
        self._streaming, self._starting = streaming, starting
        self.client = client
        self.ensure_engine: Callable[[], Awaitable[EngineClient]] | None = None  # restarts a lost engine
        self._id_prefix = secrets.token_hex(4)  # windows sharing one engine never share an id
        self._sessions = 0  # sessions opened so far (ids <prefix>-doc1, -doc2, ...)
        self.session = f"{self._id_prefix}-doc1"  # engine session of the current document
        self.opened = False  # the engine holds a session for the current document
        self._dirty = False  # the editor changed since the engine last saw the text
        self._updates_pending = 0  # updates sent whose `ready` (or error) has not come yet
        self._synced_text: str | None = None  # the text the engine last saw (highlighting also signals
        # a change; the text itself says whether there was one)
        self.refused_chars = 0  # size of a document the engine refused as too large (chars; 0: none)
        self.context_length = 0  # the model's context window (tokens), 0 until known
        self.prompt_tokens = 0  # the engine's latest count for this document's prompt (tokens)
        self.model_name = ""  # the engine's model, for messages
        self.skill_examples: tuple[str, ...] = ()  # one example per skill of the model (() = free-form)

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.connected

    @property
    def in_sync(self) -> bool:
        """The engine holds a session with the editor's text as it was last changed."""
        return self.opened and not self._dirty

    # -- what the window and the engine link tell it ---------------------------------------------

    def set_engine_starter(self, ensure_engine: Callable[[], Awaitable[EngineClient]] | None) -> None:
        """How a lost (or never started) engine is started again on the next instruction."""
        self.ensure_engine = ensure_engine

    def describe_model(self, model_name: str, skill_examples: tuple[str, ...]) -> None:
        """The engine's model, named in messages, and one example per skill (() = free-form)."""
        self.model_name, self.skill_examples = model_name, skill_examples

    def set_context_length(self, context_length: int) -> None:
        """The model's context window (tokens), from the engine's welcome."""
        self.context_length = context_length

    def attach(self, client: EngineClient) -> None:
        self.client = client
        self.opened = False
        if client.info is not None:
            self.context_length = client.info.context_length
            self.model_name = client.info.model_name
            self.skill_examples = client.info.skill_examples

    def document_changed(self) -> None:
        """The editor's text changed (the window debounces and then calls `sync_document`)."""
        self._dirty = True

    def on_ready(self, msg: dict[str, Any]) -> None:
        """The engine's `ready` for a document this controller sent: its prompt size.

        While an edit starts or streams, the meter keeps showing that edit's figures: the text is
        not read nor the target sought again on the window's thread while the first token is due."""
        self.prompt_tokens = int(msg.get("prompt_tokens") or 0)
        self.context_length = int(msg.get("context_length") or self.context_length)
        if not self._streaming() and not self._starting():
            self.refresh_context("")

    def counted_prompt(self, prompt_tokens: int | None) -> None:
        """The engine's count of the last edit's prompt (tokens; None: it gave none)."""
        if prompt_tokens is not None:
            self.prompt_tokens = prompt_tokens

    def engine_lost(self, reason: str) -> None:
        """The client reports the connection gone (streams get their own error event)."""
        self.opened = False
        if not self._streaming():
            self._view().show_status(f"The engine is not running ({reason}); the next instruction restarts it.",
                                     "warn")

    # -- the document's session --------------------------------------------------------------------

    async def open_document(self) -> None:
        """Tell the engine about the current document (prewarms its prefix)."""
        if not self.connected:
            return
        await self.close_document()
        view = self._view()
        self._sessions += 1
        self.session = f"{self._id_prefix}-doc{self._sessions}"
        self._dirty = False
        text = view.document_text()
        self._synced_text = text
        try:
            ready = await self.client.open_document(self.session, text, view.language(), view.document_path(),
                                                    self._settings().profile)
        except EngineError as exc:
            if exc.code == "document_too_large":
                self.refused_chars = len(text)
                view.show_status(
                    f"This document ({len(text.encode('utf-8')) / 2**20:.1f} MiB) is too large for the "
                    f"engine: editing and saving work, AI edits need a smaller file. ({exc.message})", "warn")
            else:
                view.show_status(f"The engine could not open the document: {exc.message}", "error")
            return
        self.refused_chars = 0
        self.opened = True
        self.on_ready(ready)
        if not self._streaming():
            await self.measure_context("")  # the meter from the engine's count, not the estimate

    async def close_document(self) -> None:
        """Close the current session in the engine (its document and cache are freed there)."""
        if not self.opened:
            return
        self.opened = False
        if self.connected:
            try:
                await self.client.close_session(self.session)
            except EngineError:
                pass  # the connection is gone, and the engine closes its sessions with it

    async def sync_document(self) -> None:
        """Send the editor's text (after edits); the engine re-prefills what changed."""
        if not self.connected or self._streaming():
            return
        if not self.opened:
            if self.refused_chars and len(self._view().document_text()) >= self.refused_chars:
                return  # still too large: said once, not on every keystroke
            await self.open_document()
            return
        self._dirty = False
        since, self._synced_text = self._held_text(), self._view().document_text()
        self._updates_pending += 1
        try:
            ready = await self.client.update_document(self.session, self._synced_text, since=since)
        except EngineError as exc:
            self._update_failed()
            self._view().show_status(f"The engine could not update the document: {exc.message}", "warn")
            return
        finally:
            self._updates_pending -= 1
        self.on_ready(ready)

    def _held_text(self) -> str | None:
        """The text the engine holds, where it is sure (no `update` still unanswered): an update
        then carries only the characters that changed since."""
        return self._synced_text if self._updates_pending == 0 and self.opened else None

    def _update_failed(self) -> None:
        self._dirty = True  # the engine may hold the text before this change, or none:
        self._synced_text = None  # the next update sends the whole text

    def changed_since_sync(self, text: str) -> bool:
        if self._dirty and text == self._synced_text:
            self._dirty = False  # a change of colours, not of text
        return self._dirty

    async def client_for_edit(self) -> EngineClient | None:
        """A connected client with the document open (starting the engine if need be), or None.

        Enter asks again for a document refused as too large, whatever its size; the status line
        says why there is no client.
        """
        view = self._view()
        if not self.connected:
            if self.ensure_engine is None:
                view.show_status("No engine is connected.", "error")
                return None
            view.show_status("Starting the engine…")
            try:
                self.attach(await self.ensure_engine())
            except EngineError as exc:
                view.show_status(f"The engine could not start: {exc.message}", "error")
                return None
            await self.open_document()
        if not self.opened:
            self.refused_chars = 0
            await self.open_document()  # the engine must edit the text the user sees now
            if not self.opened:
                return None
        return self.client

    async def send_text(self, client: EngineClient, text: str) -> bool:
        """Send the editor's text as an `update` without waiting for its `ready`; False if too large."""
        size = utf8_size(text)
        if size > MAX_DOCUMENT_BYTES:
            self._view().show_status(
                f"This document ({size / 2**20:.1f} MiB) is too large for the engine (at most "
                f"{MAX_DOCUMENT_BYTES // 2**20} MiB): editing and saving work, AI edits need a smaller file.", "warn")
            return False
        self._dirty = False
        since, self._synced_text = self._held_text(), text
        self._updates_pending += 1
        try:
            _update, ready = await client.send_update(self.session, text, since=since)
        except BaseException:
            self._updates_pending -= 1
            self._update_failed()
            raise
        ready.add_done_callback(self._update_answered)
        return True

    def _update_answered(self, ready: asyncio.Future[dict[str, Any]]) -> None:
        self._updates_pending -= 1
        if ready.cancelled():
            self._update_failed()
            return
        exc = ready.exception()
        if exc is None:
            self.on_ready(ready.result())
            return
        self._update_failed()
        if isinstance(exc, EngineError) and exc.code == ENGINE_LOST:
            return  # the streams say so themselves
        if self._streaming():
            self._stop()  # the edit would be of text the engine does not hold
        message = exc.message if isinstance(exc, EngineError) else str(exc)
        self._view().show_status(f"The engine could not take the edited text: {message}", "error")

    # -- the context meter -------------------------------------------------------------------------

    def refresh_context(self, instruction: str) -> bool:
        """Update the context meter from an estimate; False if the prompt cannot fit."""
        view = self._view()
        text = view.document_text()
        target = choose_target(text, *view.selection(), view.language())
        fit = check_fit(self.prompt_tokens, text[target.start:target.end], instruction, self.context_length)
        view.show_context(fit.used_tokens, fit.context_length, fit.fits)
        return fit.fits

    async def measure_context(self, instruction: str) -> ContextFit:
        """The context meter from the engine's exact count (an estimate without an engine)."""
        view = self._view()
        text = view.document_text()
        target = choose_target(text, *view.selection(), view.language())
        if not self._streaming():
            view.preview_target(target.label)  # what Enter would edit, before it is pressed
        fit = check_fit(self.prompt_tokens, text[target.start:target.end], instruction, self.context_length)
        client = self.client
        if self.connected and self.opened and not self.changed_since_sync(text):
            try:
                measured = await client.measure(self.session, instruction or "edit", (target.start, target.end))
                fit = fit_from_measure(int(measured.get("prompt_tokens") or 0),
                                       int(measured.get("source_tokens") or 0),
                                       int(measured.get("context_length") or self.context_length),
                                       int(measured.get("windows") or 0), str(measured.get("refusal") or ""))
            except EngineError:
                pass  # the estimate stands; the engine's refusal, if any, comes with the edit
        view.show_context(fit.used_tokens, fit.context_length, fit.fits, fit.windows)
        return fit
