"""A model folder's own chat template, rendered as Hugging Face renders it, encoded piece by piece.

Rendering follows ``transformers``' ``apply_chat_template``: a sandboxed Jinja environment with
``trim_blocks``/``lstrip_blocks``, the ``loopcontrols`` extension, a ``tojson`` filter that keeps
non-ASCII text, and the globals ``raise_exception`` and ``strftime_now``; the folder's special
tokens (``bos_token``, ``eos_token`` …) and ``add_generation_prompt=True`` are passed in.

The edit request is rendered once with private-use marks in place of the code and the
instruction, so the prompt splits into template text and user text:

    template text (control tokens by id, the rest encoded) · code · template text · instruction · …

User text is encoded with control-token matching off (code that contains ``<|im_end|>`` stays
text), and every piece after the first is encoded without the tokenizer's leading "▁"/space
(SentencePiece tokenizers add one per encode call). The code comes before the instruction, so the
tokens up to the instruction do not depend on it and can be prefilled while the user types.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from jinja2 import TemplateError
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment
from tokenizers import Tokenizer

from .chat_edit import SYSTEM_PROMPT, build_chat_edit
from .prompts import EditPrompt

CODE_MARK = "\ue000tessera-code\ue001"
INSTRUCTION_MARK = "\ue002tessera-instruction\ue003"


class ChatTemplateError(ValueError):
    """The folder's chat template cannot hold an edit request."""


def _raise_exception(message: str):
    raise TemplateError(message)


def _tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


def compile_template(source: str):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env.from_string(source)


def continuation_tokenizer(tokenizer: Tokenizer) -> Tokenizer:
    """A copy that adds no leading "▁"/space per call (Prepend normalizer, Metaspace/ByteLevel prefix)."""
    spec = json.loads(tokenizer.to_str())

    def strip(node):
        if isinstance(node, dict):
            kind = node.get("type")
            if kind == "Sequence":
                key = next(k for k in ("normalizers", "pretokenizers") if k in node) if any(
                    k in node for k in ("normalizers", "pretokenizers")) else None
                if key:
                    node[key] = [n for n in (strip(x) for x in node[key]) if n is not None]
                return node
            if kind == "Prepend":
                return None
            if kind == "Metaspace":
                node["prepend_scheme"] = "never"
                node["add_prefix_space"] = False
            if kind == "ByteLevel":
                node["add_prefix_space"] = False
        return node

    spec["normalizer"] = strip(spec.get("normalizer"))
    spec["pre_tokenizer"] = strip(spec.get("pre_tokenizer"))
    tok = Tokenizer.from_str(json.dumps(spec))
    tok.encode_special_tokens = True
    return tok


@dataclass
class ChatFormat:
    """An edit prompt built from a folder's chat template."""

    template: str  # the Jinja source
    tokenizer: Tokenizer  # the folder's tokenizer (first piece: its own leading-space rule)
    special_tokens: dict[str, str]  # bos_token/eos_token/unk_token/pad_token → text, for the template
    bos_id: int | None = None  # prepended when add_bos is set and the template does not start with it
    add_bos: bool = False  # tokenizer_config add_bos_token

    def __post_init__(self) -> None:
        try:
            self._compiled = compile_template(self.template)
        except TemplateError as exc:
            raise ChatTemplateError(f"the chat template does not compile: {exc}") from None
        self._cont = continuation_tokenizer(self.tokenizer)
        vocab = self.tokenizer.get_added_tokens_decoder()
        self._added = {t.content: i for i, t in vocab.items()}
        names = sorted(self._added, key=len, reverse=True)
        self._added_re = re.compile("|".join(re.escape(n) for n in names)) if names else None
        self.layout = self._layout()  # [template text, code, template text, instruction, template text]

    def _render(self, messages: list[dict]) -> str:
        return self._compiled.render(messages=messages, add_generation_prompt=True, tools=None,
                                     **self.special_tokens)

    def _layout(self) -> list[str]:
        """Render with marks; a template that refuses a system message gets it in the user turn."""
        user = build_chat_edit(INSTRUCTION_MARK, CODE_MARK).messages[-1]["content"]
        text = None
        try:
            text = self._render([{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}])
        except TemplateError:
            pass
        except Exception as exc:  # a template bug: undefined filters, bad indexing …
            raise ChatTemplateError(f"the chat template fails: {type(exc).__name__}: {exc}") from None
        if text is None or SYSTEM_PROMPT not in text:  # refused or silently dropped the system turn
            try:
                text = self._render([{"role": "user", "content": f"{SYSTEM_PROMPT}\n\n{user}"}])
            except Exception as exc:
                raise ChatTemplateError(f"the chat template fails on one user message: {exc}") from None
        if text.count(CODE_MARK) != 1 or text.count(INSTRUCTION_MARK) != 1:
            raise ChatTemplateError("the chat template does not render the user's message")
        head, rest = text.split(CODE_MARK)
        middle, tail = rest.split(INSTRUCTION_MARK)
        return [head, "", middle, "", tail]

    def _template_ids(self, text: str, first: bool) -> list[int]:
        ids: list[int] = []
        pos = 0
        for m in (self._added_re.finditer(text) if self._added_re else ()):
            ids += self._encode(text[pos:m.start()], first and not ids)
            ids.append(self._added[m.group()])
            pos = m.end()
        return ids + self._encode(text[pos:], first and not ids)

    def _encode(self, text: str, first: bool) -> list[int]:
        if not text:
            return []
        tok = self.tokenizer if first else self._cont
        return tok.encode(text, add_special_tokens=False).ids

    def _middle(self, code: str) -> str:
        """The template text after the code: its fence opens on a line of its own."""
        middle = self.layout[2]
        return middle[1:] if code.endswith("\n") and middle.startswith("\n") else middle

    def build(self, instruction: str, code: str) -> EditPrompt:
        head, _, _, _, tail = self.layout
        middle = self._middle(code)
        ids = self._template_ids(head, True)
        if self.add_bos and self.bos_id is not None and ids[:1] != [self.bos_id]:
            ids.insert(0, self.bos_id)
        source_ids = self._encode(code, not ids)
        ids += source_ids
        ids += self._template_ids(middle, not ids)
        prefix_len = len(ids)
        instruction_ids = self._encode(instruction, False)
        ids += instruction_ids + self._template_ids(tail, False)
        return EditPrompt(ids=ids, source_ids=source_ids, instruction_ids=instruction_ids,
                          prefix_len=prefix_len)

    def prefix(self, code: str) -> list[int]:
        """The instruction-independent tokens of :meth:`build` (for prewarm)."""
        prompt = self.build("", code)
        return prompt.ids[:prompt.prefix_len]

    def render(self, instruction: str, code: str) -> str:
        """The prompt as text (what the template produced), for display and tests."""
        head, _, _, _, tail = self.layout
        return head + code + self._middle(code) + instruction + tail
