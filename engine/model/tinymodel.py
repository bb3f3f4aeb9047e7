"""A tiny random-weight decoder in the engine's model-folder layout, for tests and demos.

Its output is gibberish by design; it exercises every part of the path (byte-level tokenizer,
KV cache, grouped-query attention, streaming) in milliseconds. Build it with
``python -m engine.model.tinymodel OUT_DIR``; ``resources/models/tiny-random`` was made this way.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnx
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

from .graph import DecoderConfig, build_decoder_onnx, random_weights
from .modelspec import DEFAULT_SPECIAL
from .tokenizer import _byte_decoder

TINY_CONFIG = DecoderConfig(
    vocab_size=264, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=4096,
)


def byte_tokenizer() -> Tokenizer:
    """Byte-level BPE without merges: 256 byte tokens followed by the special tokens."""
    alphabet = sorted(_byte_decoder().items(), key=lambda kv: kv[1])
    vocab = {ch: i for i, (ch, _) in enumerate(alphabet)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(list(DEFAULT_SPECIAL.values()))
    return tok


def build_tiny_model(out_dir: str | Path, seed: int = 0, config: DecoderConfig = TINY_CONFIG) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tok = byte_tokenizer()
    tok.save(str(out / "tokenizer.json"))
    weights = random_weights(config, seed=seed)
    end_id = tok.token_to_id(DEFAULT_SPECIAL["end"])
    # A zero <end> row gives it logit 0, so random weights rarely stop early and tests see streams.
    weights["embed_tokens"][end_id] = 0.0
    # Shrink the rows of non-printable bytes so sampled noise reads as ASCII text in demos.
    printable = [tok.token_to_id(ch) for ch in map(chr, range(32, 127))]
    printable = [i for i in printable if i is not None] + [tok.token_to_id("Ċ")]  # Ċ = "\n"
    mask = np.ones(config.vocab_size, dtype=bool)
    mask[printable] = False
    weights["embed_tokens"][mask] *= 0.05
    weights["embed_tokens"] *= 0.3  # softer logits: sampling gives varied text
    onnx.save(build_decoder_onnx(weights, config), str(out / "model.onnx"))
    config.to_json(out / "config.json")
    meta = {
        "name": "tiny-random", "format": "edit-v1", "special_tokens": DEFAULT_SPECIAL,
        "file_context": True, "extra_inputs": [], "aligner": None,
        "context_length": config.max_position_embeddings, "skills": [],
        "out_of_scope_notice": "tiny-random is a test model with random weights: its output is noise.",
    }
    (out / "tessera.json").write_text(json.dumps(meta, indent=2) + "\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(build_tiny_model(args.out_dir, args.seed))


if __name__ == "__main__":
    main()
