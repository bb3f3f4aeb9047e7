"""The edit prompt format shared by training and the engine.

Layout (``edit-v1``)::

    [<file> file_context] <code> source <instr> instruction <edit>  → output <end>

The source comes before the instruction so that the engine can prefill ``<code> source`` while
the user is still typing the instruction (the selection is known first). Each piece is encoded
on its own, so the token positions of the source and of the instruction are known exactly; the
draft aligner needs them.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenizers import Tokenizer



class PromptFormatError(ValueError):
    """The model folder's special tokens do not fit the prompt format."""


@dataclass
class EditPrompt:
    ids: list[int]  # the whole prompt, ending with the <edit> token
    source_ids: list[int]  # tokens of the code to edit
    instruction_ids: list[int]  # tokens of the instruction
    prefix_len: int = 0  # tokens that do not depend on the instruction (prewarmable)


def special_ids(tokenizer: Tokenizer, special: dict[str, str]) -> dict[str, int]:
    """Map role names (file, code, instr, edit, end, pad) to token ids; fail clearly if missing."""
    out: dict[str, int] = {}
    for role, text in special.items():
        tid = tokenizer.token_to_id(text)
        if tid is None:
            raise PromptFormatError(f"special token {text!r} ({role}) is not in the tokenizer")
        out[role] = tid
    for role in ("code", "instr", "edit", "end"):
        if role not in out:
            raise PromptFormatError(f"tessera.json names no special token for {role!r}")
    return out


def encode(tokenizer: Tokenizer, text: str) -> list[int]:
    return tokenizer.encode(text, add_special_tokens=False).ids if text else []


def build_prefix(
    tokenizer: Tokenizer,
    special: dict[str, str],
    code: str,
    file_context: str | None = None,
) -> tuple[list[int], list[int]]:
    """The instruction-independent prefix: ([<file> ctx] <code> source, source ids)."""
    sid = special_ids(tokenizer, special)
    ids: list[int] = []
    if file_context is not None:
        if "file" not in sid:
            raise PromptFormatError("this model has no <file> token for file context")
        ids += [sid["file"], *encode(tokenizer, file_context)]
    ids.append(sid["code"])
    source_ids = encode(tokenizer, code)
    ids += source_ids
    return ids, source_ids


def build_edit_prompt(
    tokenizer: Tokenizer,
    special: dict[str, str],
    instruction: str,
    code: str,
    file_context: str | None = None,
) -> EditPrompt:
    """Encode one edit request in the ``edit-v1`` format."""
    sid = special_ids(tokenizer, special)
    prefix, source_ids = build_prefix(tokenizer, special, code, file_context)
    instruction_ids = encode(tokenizer, instruction)
    ids = [*prefix, sid["instr"], *instruction_ids, sid["edit"]]
    return EditPrompt(
        ids=ids,
        source_ids=source_ids,
        instruction_ids=instruction_ids,
        prefix_len=len(prefix),
    )


def prompt_for(spec, instruction: str, code: str, file_context: str | None = None) -> EditPrompt:
    """The model's edit prompt: its chat template where it has one (engine.model.chat_template), else edit-v1."""
    if spec.chat is not None:
        return spec.chat.build(instruction, code)
    return build_edit_prompt(spec.tokenizer, spec.special, instruction, code, file_context)


def prefix_for(spec, code: str, file_context: str | None = None) -> list[int]:
    """The instruction-independent start of :func:`prompt_for`'s prompt (what prewarm prefills)."""
    if spec.chat is not None:
        return spec.chat.prefix(code)
    return build_prefix(spec.tokenizer, spec.special, code, file_context)[0]
