"""One edit request as the decode loop sees it: instruction, target, output so far, stop and redirect flags."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from ..model.chat_edit import FenceFilter
from ..model.modelspec import ModelSpec
from ..model.prompts import EditPrompt, prompt_for
from ..model.tokenizer import StreamDecoder
from .reframe import Frame, Restorer
from .sampling import SamplingParams


@dataclass
class EditJob:
    request_id: str  # protocol request id
    instruction: str  # current instruction (changes on redirect)
    code: str  # the original selection being edited
    file_context: str | None = None  # whole document, for models trained with file context
    max_tokens: int | None = None  # output budget; None = fit the context
    sampling: SamplingParams = field(default_factory=SamplingParams)  # greedy by default
    speculate: bool = True  # use predicted-output speculation when the model supports it
    out_of_scope: bool = False  # instruction matched none of the model's skills
    t_arrival: float = field(default_factory=time.monotonic)  # monotonic seconds at arrival
    stop: threading.Event = field(default_factory=threading.Event)  # set → no further token
    output_ids: list[int] = field(default_factory=list)  # all output tokens so far
    output_text: str = ""  # all output text so far
    segments: int = 0  # how many times the job has run (1 + redirects after a finish)
    prediction: str | None = None  # predicted output text: the speculation's draft instead of `code`
    running: bool = False  # on the worker now: a stop also interrupts the decoder's current call
    session_id: str = ""  # the session the request edits
    first_line: int = 1  # the document line the selection starts on (for the lines notices name)
    t_stop: float | None = None  # monotonic seconds when the engine read a stop for the current run
    _redirect_to: str | None = None  # pending mid-stream redirect
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stream: StreamDecoder | None = None  # detokenizer state, kept across redirects
    _fence: FenceFilter | None = None  # chat models: keeps only the code of the answer (engine/model/chat_edit.py)
    frame: Frame | None = None  # the target as the model sees it (engine/decode/reframe.py); None = `code` as is
    _restore: Restorer | None = None  # puts the model's output back in the document's terms
    model_text: str = ""  # the output as the model wrote it (before `_restore`), for the parse check
    windows: list["EditJob"] | None = None  # a long target's windows, run in order (engine/decode/windows.py)
    window_at: int = 0  # the window running now (or to continue after a stop)
    window: bool = False  # one window of a long target: the output checks wait for the whole target
    pass_on: bool | None = None  # a window given back unchanged (True) or edited (False) by plan; None: decide by skill
    planned_for: str = ""  # the instruction `windows` were cut for (a redirect cuts the rest anew)
    focused: bool = True  # focused windows allowed (engine/decode/windows.py); False: the model writes it all
    refusal: str | None = None  # why the target cannot be edited at all (too long even for windows)
    _prompt: tuple | None = None  # (its inputs, the prompt built from them): built once per instruction

    @property
    def model_code(self) -> str:
        return self.frame.model_code if self.frame is not None else self.code

    @property
    def model_instruction(self) -> str:
        return self.frame.encode_text(self.instruction) if self.frame is not None else self.instruction

    def prompt(self, spec: ModelSpec) -> EditPrompt:
        """The prompt for the current instruction, built once: the request's arrival (context check),
        the pacer and the prefill share it; a redirect's new instruction builds a new one."""
        inputs = (self.model_instruction, self.model_code, self.file_context)
        if self._prompt is None or self._prompt[0] != inputs:
            self._prompt = (inputs, prompt_for(spec, *inputs))
        return self._prompt[1]

    def cut_output(self, tokens: int, chars: int) -> None:
        """Keep only the first `tokens` output tokens and `chars` characters of output text (what a
        client was shown); the next run continues from there."""
        del self.output_ids[tokens:]
        self.output_text = self.output_text[:chars]
        self._stream = None  # its held-back bytes belonged to dropped tokens

    def request_redirect(self, instruction: str) -> None:
        with self._lock:
            self._redirect_to = instruction

    def take_redirect(self) -> str | None:
        with self._lock:
            new, self._redirect_to = self._redirect_to, None
            return new

    def restart_with(self, instruction: str) -> None:
        """Continue a finished request with a new instruction (redirect after stop)."""
        self.instruction = instruction
        self._redirect_to = None
        self.t_arrival = time.monotonic()
        self.t_stop = None
        self.stop.clear()

    def has_redirect(self) -> bool:
        with self._lock:
            return self._redirect_to is not None


def review_notice(spec, job: "EditJob", model_text: str) -> str | None:
    """The ``not_the_edit`` message for a finished edit of one of the model's skills that parses but
    is not that skill's edit (engine/skills/verify.py), naming the document line; None otherwise."""
    from ..skills.verify import check, message

    skill = spec.skill_for(job.model_instruction) if spec.skills else None
    found = check(skill.name, job.model_instruction, job.model_code, model_text) if skill is not None else None
    if found is None:
        return None
    what, line = found
    head = 0
    if job.frame is not None:
        head = job.frame.head.count("\n")
        for placeholder, original in job.frame.table:  # names as the user wrote them
            what = what.replace(placeholder, original)
    return message(what, job.first_line + head + line - 1)
