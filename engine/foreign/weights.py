"""``python -m engine.foreign.weights FOLDER [SEED]``: random weights for a checkpoint folder.

Runs where torch and transformers are installed (the Optimum venv): the model class comes from the
folder's config.json, so the architecture is transformers' own; weights are its default random
initialisation, seeded.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(folder: str, seed: int = 0) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(seed)
    config = AutoConfig.from_pretrained(folder)
    model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32)
    with torch.no_grad():  # wider than the default init, so greedy outputs vary with the prompt
        for name, p in model.named_parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.08)
    gen = Path(folder) / "generation_config.json"
    kept = gen.read_text(encoding="utf-8")
    model.save_pretrained(folder, safe_serialization=True)
    gen.write_text(kept, encoding="utf-8")  # save_pretrained rewrites it from config.json: keep the family's
    print(f"weights: {sum(p.numel() for p in model.parameters())} parameters → {Path(folder) / 'model.safetensors'}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0)
