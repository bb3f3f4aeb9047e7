"""``python -m engine.foreign build``: the committed foreign model folders, rebuilt.

    python -m engine.foreign build [--families qwen2,llama3,phi3,gemma2] [--out resources/models/foreign]
        [--optimum-python /work/venvs/oai-models-optimum/bin/python]
        [--genai-python /work/venvs/oai-models-genai/bin/python]

Per family: ``<family>-hf`` (checkpoint, kept in the work folder only), ``<family>-optimum``
(``optimum-cli export onnx --task text-generation-with-past``), ``<family>-genai-fp32`` and
``<family>-genai-int4`` (``onnxruntime_genai.models.builder -e cpu``). Each exporter runs in its
own interpreter because Optimum needs transformers 4.57 and genai's builder transformers ≥ 5.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from .checkpoint import write_checkpoint
from .families import FAMILIES

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "resources" / "models" / "foreign"
WORK = ROOT / ".cache" / "foreign"
VENVS = Path("/work/venvs")
# Files an exporter leaves that no loader reads.
LEFTOVERS = ("model.safetensors", "merges.txt", "vocab.json")


def _run(cmd: list[str], cwd: Path = ROOT) -> None:
    print("$", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=cwd)


def export_optimum(python: Path, hf: Path, out: Path) -> None:
    cli = python.parent / "optimum-cli"
    _run([cli, "export", "onnx", "--model", hf, "--task", "text-generation-with-past", out])


def export_genai(python: Path, hf: Path, out: Path, precision: str, cache: Path) -> None:
    _run([python, "-m", "onnxruntime_genai.models.builder", "-m", hf.name, "-i", hf, "-o", out,
          "-p", precision, "-e", "cpu", "-c", cache])


def build(family_names: list[str], out: Path, work: Path, optimum_py: Path, genai_py: Path,
          layouts: tuple[str, ...] = ("optimum", "genai-fp32", "genai-int4"), overrides: dict | None = None) -> list[Path]:
    made = []
    for name in family_names:
        family = FAMILIES[name]
        hf = work / f"{name}-hf"
        shutil.rmtree(hf, ignore_errors=True)
        write_checkpoint(family, hf, overrides)
        _run([optimum_py, "-m", "engine.foreign.weights", hf])
        for layout in layouts:
            dest = out / f"{name}-{layout}"
            shutil.rmtree(dest, ignore_errors=True)
            if layout == "optimum":
                export_optimum(optimum_py, hf, dest)
            else:
                export_genai(genai_py, hf, dest, layout.split("-")[1], work / "genai-cache")
            for junk in LEFTOVERS:
                (dest / junk).unlink(missing_ok=True)
            made.append(dest)
    return made


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m engine.foreign")
    p.add_argument("command", choices=["build"])
    p.add_argument("--families", default=",".join(FAMILIES))
    p.add_argument("--layouts", default="optimum,genai-fp32,genai-int4")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--work", type=Path, default=WORK)
    p.add_argument("--optimum-python", type=Path, default=VENVS / "oai-models-optimum" / "bin" / "python")
    p.add_argument("--genai-python", type=Path, default=VENVS / "oai-models-genai" / "bin" / "python")
    args = p.parse_args(argv)
    made = build(args.families.split(","), args.out, args.work, args.optimum_python, args.genai_python,
                 tuple(args.layouts.split(",")))
    for d in made:
        size = sum(f.stat().st_size for f in d.rglob("*") if f.is_file())
        print(f"{d.relative_to(ROOT) if d.is_relative_to(ROOT) else d}: {size / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
