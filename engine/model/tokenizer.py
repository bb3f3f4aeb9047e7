"""Tokenizer loading and streaming, UTF-8-safe detokenization.

Byte-level BPE vocabularies (GPT-2 style) map each token to raw bytes, so the stream decoder keeps
an incremental UTF-8 decoder: a character split across tokens is emitted only once complete, and
each token costs a table lookup. Other tokenizers fall back to decoding a short window of ids and
holding back a trailing replacement character.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path

from tokenizers import Tokenizer


def load_tokenizer(path: str | Path) -> Tokenizer:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no tokenizer.json at {path}")
    try:
        tok = Tokenizer.from_file(str(path))
    except Exception as exc:  # the library raises plain Exceptions for malformed files
        raise ValueError(f"{path} is not a valid tokenizer.json: {exc}") from exc
    # Text is only ever text: code that contains "<end>" must not become the end marker. The
    # prompt builder inserts special tokens by id.
    tok.encode_special_tokens = True
    return tok


def _byte_decoder() -> dict[str, int]:
    """Inverse of GPT-2's bytes→unicode table used by ByteLevel pre-tokenizers."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def token_byte_table(tokenizer: Tokenizer) -> list[bytes | None] | None:
    """Raw bytes of every token id for a ByteLevel tokenizer, else None. Special tokens → b''."""
    spec = json.loads(tokenizer.to_str())
    decoder = spec.get("decoder") or {}
    kinds = {decoder.get("type")} | {d.get("type") for d in decoder.get("decoders", [])}
    if "ByteLevel" not in kinds:
        return None
    table = _byte_decoder()
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    special = {t["id"] for t in spec.get("added_tokens", []) if t.get("special")}
    out: list[bytes | None] = [None] * (max(vocab.values()) + 1)
    for tok, tid in vocab.items():
        if tid in special:
            out[tid] = b""
            continue
        try:
            out[tid] = bytes(table[ch] for ch in tok)
        except KeyError:  # an added non-byte-level token: keep its text
            out[tid] = tok.encode("utf-8")
    return out


class StreamDecoder:
    """Turns a stream of token ids into text pieces that never split a UTF-8 character."""

    def __init__(self, tokenizer: Tokenizer, byte_table: list[bytes | None] | None = None):
        self._tok = tokenizer
        self._bytes = byte_table
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        # Fallback path: decode a short window with one token of left context, because decoders
        # such as SentencePiece's drop a leading space at the start of a decode.
        self._ids: list[int] = []  # the context token, then ids not yet emitted as text
        self._read = 0  # how many of self._ids are already emitted (0 or the context token)

    def push(self, token_id: int) -> str:
        """Add one token; return the text that is now complete (maybe '')."""
        if self._bytes is not None:
            raw = self._bytes[token_id] if 0 <= token_id < len(self._bytes) else None
            return self._utf8.decode(raw or b"")
        self._ids.append(token_id)
        done = self._tok.decode(self._ids[:self._read], skip_special_tokens=True)
        text = self._tok.decode(self._ids, skip_special_tokens=True)
        if text.endswith("\ufffd") or len(text) <= len(done):
            return ""  # an incomplete character (or nothing new yet): wait for more tokens
        self._ids, self._read = self._ids[-1:], 1  # the last token is the next decode's context
        return text[len(done):]

    def flush(self) -> str:
        """End of stream: emit whatever is held back (an incomplete character becomes U+FFFD)."""
        if self._bytes is not None:
            return self._utf8.decode(b"", final=True)
        done = self._tok.decode(self._ids[:self._read], skip_special_tokens=True)
        text = self._tok.decode(self._ids, skip_special_tokens=True)
        self._ids, self._read = [], 0
        return text[len(done):]
