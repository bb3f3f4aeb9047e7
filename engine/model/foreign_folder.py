"""Chat-model folders as their exporters write them, read without any file of ours.

- Optimum (``optimum-cli export onnx --task text-generation-with-past``): ``model.onnx``,
  ``config.json``, ``generation_config.json``, tokenizer files.
- onnxruntime-genai's model builder: ``genai_config.json`` (shapes, the graph's file name, EOS
  ids), ``model.onnx`` (+ ``.data``), tokenizer files; no ``config.json``.

The prompt comes from the folder's chat template (``tokenizer_config.json`` ``chat_template`` or
``chat_template.jinja``). End-of-sequence ids are the union of every place a folder declares them
(``config.json``, ``generation_config.json``, ``tokenizer_config.json``'s ``eos_token``,
``genai_config.json``), since each tool reads a different one. Control tokens (special added
tokens that are not EOS) are never generated: the edit's output is text.
"""

from __future__ import annotations

from pathlib import Path

from .graph import DecoderConfig
from .modelspec import ModelFolderError, ModelSpec, _read_json
from .tokenizer import load_tokenizer


def _optional_json(path: Path) -> dict:
    return _read_json(path) if path.is_file() else {}


def _token_text(value) -> str | None:
    """tokenizer_config's token entries are a string or an AddedToken dict."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) and value else None


def _ids(value) -> list[int]:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [int(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]


def _chat_template(folder: Path, tcfg: dict) -> str | None:
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    template = tcfg.get("chat_template")
    if isinstance(template, list):  # named templates: the default one
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        template = named.get("default") or next(iter(named.values()), None)
    if isinstance(template, str) and template.strip():
        return template
    chat_json = folder / "chat_template.json"  # older processors' layout
    if chat_json.is_file():
        return _optional_json(chat_json).get("chat_template")
    return None


def is_foreign(folder: Path) -> bool:
    """A folder read the exporters' way: an onnxruntime-genai folder, or one with a chat template."""
    if (folder / "genai_config.json").is_file() or (folder / "chat_template.jinja").is_file():
        return True
    try:
        return bool(_chat_template(folder, _optional_json(folder / "tokenizer_config.json")))
    except ModelFolderError:
        return False


def _genai_shapes(genai: dict) -> tuple[dict, str]:
    """(config.json-style shapes, graph file name) from genai_config.json."""
    model = genai.get("model") or {}
    dec = model.get("decoder") or {}
    try:
        shapes = {"vocab_size": model["vocab_size"], "hidden_size": dec["hidden_size"],
                  "num_hidden_layers": dec["num_hidden_layers"], "num_attention_heads": dec["num_attention_heads"],
                  "num_key_value_heads": dec.get("num_key_value_heads", dec["num_attention_heads"]),
                  "head_dim": dec.get("head_size") or dec["hidden_size"] // dec["num_attention_heads"],
                  "max_position_embeddings": model.get("context_length") or genai.get("search", {}).get("max_length", 2048)}
    except KeyError as exc:
        raise ModelFolderError(f"genai_config.json lacks model.{exc.args[0]}") from None
    if dec.get("sliding_window"):
        shapes["sliding_window"] = (dec["sliding_window"] or {}).get("window_size")
    return shapes, str(dec.get("filename") or "model.onnx")


def genai_shape_config(folder: Path) -> dict | None:
    """The config.json-style shapes an onnxruntime-genai folder's genai_config.json declares (None: no such file).

    genai_config.json names no FFN width or embedding tying: readers of this dict use their defaults.
    """
    genai = _optional_json(folder / "genai_config.json")
    return _genai_shapes(genai)[0] if genai else None


def load_foreign_spec(folder: Path) -> ModelSpec:
    genai = _optional_json(folder / "genai_config.json")
    has_config = (folder / "config.json").is_file()
    if not has_config and not genai:
        raise ModelFolderError(f"{folder}: no config.json, genai_config.json or tessera.json: not a model folder")
    config = _read_json(folder / "config.json") if has_config else {}
    onnx_name = "model.onnx"
    if genai:
        shapes, onnx_name = _genai_shapes(genai)
        config = {**shapes, **config} if config else shapes
    onnx_path = folder / onnx_name
    if not onnx_path.is_file():
        found = sorted(folder.glob("*.onnx"))
        if not found:
            raise ModelFolderError(f"{folder}: no .onnx file")
        onnx_path = found[0]
    try:
        dcfg = DecoderConfig.from_dict(config)
    except (TypeError, ValueError) as exc:
        raise ModelFolderError(f"{folder}: {exc}") from None
    try:
        tokenizer = load_tokenizer(folder / "tokenizer.json")
    except (FileNotFoundError, ValueError) as exc:
        raise ModelFolderError(f"{exc} (chat-model folders need the tokenizer their exporter writes)") from None
    tcfg = _optional_json(folder / "tokenizer_config.json")
    gen = _optional_json(folder / "generation_config.json")
    template = _chat_template(folder, tcfg)
    if template is None:
        raise ModelFolderError(
            f"{folder}: no chat template (tokenizer_config.json 'chat_template' or chat_template.jinja) and no "
            "tessera.json: the engine cannot build a prompt for this model")

    def token_id(text: str | None) -> int | None:
        return tokenizer.token_to_id(text) if text else None

    eos = set(_ids(config.get("eos_token_id"))) | set(_ids(gen.get("eos_token_id")))
    eos |= set(_ids((genai.get("model") or {}).get("eos_token_id")))
    eos_text = _token_text(tcfg.get("eos_token"))
    if token_id(eos_text) is not None:
        eos.add(token_id(eos_text))
    n_tokens = tokenizer.get_vocab_size(with_added_tokens=True)
    eos = {t for t in eos if 0 <= t < max(n_tokens, dcfg.vocab_size)}
    if not eos:
        raise ModelFolderError(f"{folder}: declares no end-of-sequence token (eos_token_id / eos_token)")
    special_text = {k: _token_text(tcfg.get(k)) for k in ("bos_token", "eos_token", "unk_token", "pad_token")}
    bos_id = token_id(special_text["bos_token"])
    if bos_id is None:
        bos_ids = _ids(config.get("bos_token_id")) or _ids(gen.get("bos_token_id"))
        bos_id = bos_ids[0] if bos_ids else None
    control = {t.content: i for i, t in tokenizer.get_added_tokens_decoder().items() if t.special}

    from .chat_template import ChatFormat, ChatTemplateError

    try:
        chat = ChatFormat(template, tokenizer, {k: v or "" for k, v in special_text.items()}, bos_id,
                          bool(tcfg.get("add_bos_token", False)))
    except ChatTemplateError as exc:
        raise ModelFolderError(f"{folder}: {exc}") from None
    window = config.get("sliding_window") if config.get("use_sliding_window", True) else None
    return ModelSpec(
        folder=folder, name=folder.name, onnx_path=onnx_path, config=dcfg, tokenizer=tokenizer,
        special={}, special_ids=control, eos_ids=eos, chat=chat,
        sliding_window=int(window) if isinstance(window, (int, float)) and window else None,
    )


def describe_eos(spec: ModelSpec) -> list[str]:
    """The EOS tokens as text, for messages and tests."""
    return [spec.tokenizer.id_to_token(i) or str(i) for i in sorted(spec.eos_ids)]


