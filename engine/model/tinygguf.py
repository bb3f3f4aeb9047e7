"""A tiny random-weight Llama model as a GGUF file, for trying the remote backends on llama.cpp.

    python -m engine.model.tinygguf OUT.gguf      (needs the optional ``gguf`` package: pip install gguf)

The tokenizer is byte-level BPE (GPT-2's byte alphabet, a few merges) with ChatML's special
tokens and a ChatML chat template, so ``llama-server --jinja`` serves ``/v1/chat/completions``
with it. The weights are seeded random numbers: the text is noise, the serving path is real.
"""

from __future__ import annotations

import sys

import numpy as np

HIDDEN = 64  # embedding width
LAYERS = 2  # transformer blocks
HEADS = 4  # attention heads (and key/value heads)
FFN = 128  # feed-forward width
CONTEXT = 2048  # context length in tokens
SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def byte_alphabet() -> list[str]:
    """GPT-2's printable stand-ins for the 256 byte values (bytes_to_unicode)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = keep[:], 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(keep, cs))
    return [chr(table[b]) for b in range(256)]


def write(path: str, seed: int = 0) -> None:
    import gguf

    rng = np.random.default_rng(seed)
    alphabet = byte_alphabet()
    merges = ["Ġ Ġ", "ĠĠ ĠĠ", "e r", "i n", "r e", "o n", "Ġ t", "d e", "Ġ =", "Ġ (", "( )", ": Ċ"]
    tokens = alphabet + ["".join(m.split()) for m in merges] + list(SPECIALS)
    types = [gguf.TokenType.NORMAL] * (len(tokens) - len(SPECIALS)) + [gguf.TokenType.CONTROL] * len(SPECIALS)
    vocab = len(tokens)
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("tessera-tiny-random")
    w.add_context_length(CONTEXT)
    w.add_embedding_length(HIDDEN)
    w.add_block_count(LAYERS)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(HEADS)
    w.add_rope_dimension_count(HIDDEN // HEADS)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(vocab)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(tokens.index("<|endoftext|>"))
    w.add_eos_token_id(tokens.index("<|im_end|>"))
    w.add_add_bos_token(False)
    w.add_chat_template(CHATML)

    def t(name: str, *shape: int, scale: float = 0.08) -> None:
        w.add_tensor(name, (rng.standard_normal(shape) * scale).astype(np.float32))

    t("token_embd.weight", vocab, HIDDEN, scale=0.5)
    w.add_tensor("output_norm.weight", np.ones(HIDDEN, np.float32))
    t("output.weight", vocab, HIDDEN, scale=0.5)
    for i in range(LAYERS):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(HIDDEN, np.float32))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(HIDDEN, np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            t(f"blk.{i}.{name}.weight", HIDDEN, HIDDEN)
        t(f"blk.{i}.ffn_gate.weight", FFN, HIDDEN)
        t(f"blk.{i}.ffn_up.weight", FFN, HIDDEN)
        t(f"blk.{i}.ffn_down.weight", HIDDEN, FFN)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m engine.model.tinygguf OUT.gguf")
    write(sys.argv[1])
