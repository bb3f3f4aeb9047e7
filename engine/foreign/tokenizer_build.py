"""Small BPE tokenizers in each family's style, trained on Python standard-library source.

Byte-level families (Qwen2, Llama 3) get GPT-2 style byte-level BPE with the family's split regex;
SentencePiece families (Phi-3, Gemma 2) get "▁" word boundaries with byte fallback (``<0x0A>`` …),
Phi-3 with the Llama "prepend ▁" normalizer. The special tokens are the family's real ones.
"""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from .families import Family

VOCAB_SIZE = 640  # learned tokens (before special tokens)
QWEN_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
              r"\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                r"\s*[\r\n]+|\s+(?!\S)|\s+")
CORPUS_MODULES = ("textwrap.py", "json/encoder.py", "json/decoder.py", "string.py", "fnmatch.py", "heapq.py",
                  "bisect.py", "colorsys.py", "shlex.py", "difflib.py")


def corpus() -> list[str]:
    """Python standard-library sources (fixed list: the same vocabulary on every build)."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    return [(lib / m).read_text(encoding="utf-8") for m in CORPUS_MODULES]


def _byte_level(family: Family, texts: list[str]) -> Tokenizer:
    split = QWEN_SPLIT if family.name == "qwen2" else LLAMA3_SPLIT
    tok = Tokenizer(models.BPE())
    if family.name == "qwen2":
        tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(split), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return tok


def _sentencepiece(family: Family, texts: list[str]) -> Tokenizer:
    """BPE over "▁"-marked words; the byte tokens <0x00>…<0xFF> follow the leading special tokens."""
    trainer_tok = Tokenizer(models.BPE())
    trainer_tok.normalizer = normalizers.Replace(" ", "▁")
    trainer_tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never")
    trainer_tok.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE, show_progress=False, limit_alphabet=120))
    learned = json.loads(trainer_tok.to_str())["model"]
    ordered = list(family.head_special) + [f"<0x{b:02X}>" for b in range(256)]
    ordered += [t for t, _ in sorted(learned["vocab"].items(), key=lambda kv: kv[1]) if t not in ordered]
    vocab = {t: i for i, t in enumerate(ordered)}
    model = models.BPE(vocab=vocab, merges=[tuple(m) if isinstance(m, list) else tuple(m.split(" "))
                                            for m in learned["merges"]],
                       unk_token="<unk>" if "<unk>" in vocab else None, byte_fallback=True, fuse_unk=True)
    tok = Tokenizer(model)
    steps = [normalizers.Prepend("▁")] if family.sp_prepend else []
    tok.normalizer = normalizers.Sequence([*steps, normalizers.Replace(" ", "▁")])
    parts = [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()]
    if family.sp_prepend:
        parts.append(decoders.Strip(" ", 1, 0))
    tok.decoder = decoders.Sequence(parts)
    return tok


def build_tokenizer(family: Family) -> Tokenizer:
    """The family's tokenizer: learned vocabulary, then its special tokens in their published order."""
    texts = corpus()
    if family.kind == "bytelevel":
        tok = _byte_level(family, texts)
    else:
        tok = _sentencepiece(family, texts)
    from tokenizers import AddedToken

    specials = [AddedToken(t, special=True, normalized=False) for t in family.head_special]
    tok.add_special_tokens(specials)  # already in the vocabulary: marks them special
    for i, text in enumerate(family.tail_special):
        plain = i in family.tail_plain
        added = AddedToken(text, special=not plain, normalized=plain)
        (tok.add_tokens if plain else tok.add_special_tokens)([added])
    bos = family.tokenizer_config.get("bos_token")
    if bos and family.tokenizer_config.get("add_bos_token", family.name == "llama3"):
        tok.post_processor = processors.Sequence([
            *([tok.post_processor] if tok.post_processor is not None else []),
            processors.TemplateProcessing(single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
                                          special_tokens=[(bos, tok.token_to_id(bos))])])
    return tok
