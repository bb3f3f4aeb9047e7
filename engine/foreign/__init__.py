"""Random-weight exports of real instruct-model architectures, for tests and benchmarks.

``python -m engine.foreign build`` writes, per family (Qwen2, Llama 3.2, Phi-3, Gemma 2), a shrunk
Hugging Face checkpoint with a small BPE tokenizer that carries the family's real special tokens,
chat template and ``generation_config.json``, then exports it as users do: Optimum
(``optimum-cli export onnx --task text-generation-with-past``) and onnxruntime-genai's model
builder (fp32 and int4). The exporters need torch and two different ``transformers`` (Optimum
4.57, genai's builder ≥ 5), so each runs in its own virtual environment; see ``__main__``.
"""
