"""The model families: shrunk config shapes, real special tokens, chat templates, generation configs.

Shapes keep what makes each architecture itself (Qwen2's q/k/v bias and tied embeddings, Llama
3.2's llama3 RoPE scaling, Phi-3's fused QKV and SentencePiece-style tokenizer, Gemma 2's sliding
window, soft-capping and query scale) and shrink the widths. Special tokens, chat templates and
generation settings are those the families publish.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SMALL = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 2, "max_position_embeddings": 1024}

QWEN2_TEMPLATE = """{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- message.content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""

LLAMA3_TEMPLATE = """{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- if strftime_now is defined %}
        {%- set date_string = strftime_now("%d %b %Y") %}
    {%- else %}
        {%- set date_string = "26 Jul 2024" %}
    {%- endif %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message #}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{%- if tools is not none %}
    {{- "Environment: ipython\\n" }}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\\n\\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
"""

PHI3_TEMPLATE = ("{% for message in messages %}{% if message['role'] == 'system' and message['content'] %}"
                 "{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}"
                 "{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}"
                 "{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}"
                 "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}")

GEMMA2_TEMPLATE = ("{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not "
                   "supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != "
                   "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
                   "user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}"
                   "{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
                   "{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}"
                   "{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}")

_QWEN_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
                 "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
                 "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]
_QWEN_PLAIN = ["<tool_call>", "</tool_call>"]  # added, not special: they stream as text
_QWEN_SPECIAL_TAIL = ["<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>",
                      "<|file_sep|>"]
_LLAMA3_SPECIAL = (["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                    "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>",
                    "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>", "<|python_tag|>"]
                   + [f"<|reserved_special_token_{i}|>" for i in range(3, 8)])
_PHI3_CHAT = ["<|endoftext|>", "<|assistant|>", "<|placeholder1|>", "<|placeholder2|>", "<|placeholder3|>",
              "<|placeholder4|>", "<|system|>", "<|end|>", "<|placeholder5|>", "<|placeholder6|>", "<|user|>"]


@dataclass
class Family:
    name: str  # folder name stem, e.g. "qwen2"
    kind: str  # tokenizer kind: "bytelevel" (GPT-2 style) or "sentencepiece" (Metaspace, byte fallback)
    head_special: list[str]  # special tokens at the start of the vocabulary (ids 0..)
    tail_special: list[str]  # special tokens after the learned vocabulary, in id order
    tail_plain: dict[int, str] = field(default_factory=dict)  # position in tail → added non-special token
    config: dict = field(default_factory=dict)  # config.json fields beyond SMALL; token ids by text
    tokenizer_config: dict = field(default_factory=dict)  # tokenizer_config.json fields (bos/eos by text)
    generation: dict = field(default_factory=dict)  # generation_config.json; token ids by text
    chat_template: str = ""  # the family's published template
    template_file: bool = False  # ship the template as chat_template.jinja (else in tokenizer_config)
    sp_prepend: bool = False  # SentencePiece Llama style: a "▁" prepended to every encoded text


FAMILIES = {
    "qwen2": Family(
        "qwen2", "bytelevel", [], _QWEN_SPECIAL + _QWEN_PLAIN + _QWEN_SPECIAL_TAIL,
        tail_plain={14: "<tool_call>", 15: "</tool_call>"},
        config={"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "bos_token_id": "<|endoftext|>",
                "eos_token_id": "<|im_end|>", "hidden_act": "silu", "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
                "tie_word_embeddings": True, "use_sliding_window": False, "sliding_window": 32768,
                "max_window_layers": 21, "attention_dropout": 0.0, "torch_dtype": "float32"},
        tokenizer_config={"bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
                          "add_prefix_space": False, "model_max_length": 131072, "errors": "replace",
                          "split_special_tokens": False, "tokenizer_class": "Qwen2Tokenizer"},
        generation={"bos_token_id": "<|endoftext|>", "pad_token_id": "<|endoftext|>", "do_sample": True,
                    "eos_token_id": ["<|im_end|>", "<|endoftext|>"], "repetition_penalty": 1.05,
                    "temperature": 0.7, "top_p": 0.8, "top_k": 20},
        chat_template=QWEN2_TEMPLATE),
    "llama3": Family(
        "llama3", "bytelevel", [], _LLAMA3_SPECIAL,
        config={"architectures": ["LlamaForCausalLM"], "model_type": "llama", "bos_token_id": "<|begin_of_text|>",
                "eos_token_id": ["<|end_of_text|>", "<|eom_id|>", "<|eot_id|>"], "hidden_act": "silu",
                "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "tie_word_embeddings": True,
                "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                                 "original_max_position_embeddings": 8192, "rope_type": "llama3"},
                "attention_bias": False, "mlp_bias": False, "head_dim": 16, "torch_dtype": "float32"},
        tokenizer_config={"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>",
                          "model_max_length": 131072, "clean_up_tokenization_spaces": True,
                          "tokenizer_class": "PreTrainedTokenizerFast",
                          "model_input_names": ["input_ids", "attention_mask"]},
        generation={"bos_token_id": "<|begin_of_text|>", "do_sample": True, "temperature": 0.6, "top_p": 0.9,
                    "eos_token_id": ["<|end_of_text|>", "<|eom_id|>", "<|eot_id|>"]},
        chat_template=LLAMA3_TEMPLATE),
    "phi3": Family(
        "phi3", "sentencepiece", ["<unk>", "<s>", "</s>"], _PHI3_CHAT, sp_prepend=True,
        config={"architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "bos_token_id": "<s>",
                "eos_token_id": "<|endoftext|>", "pad_token_id": "<|endoftext|>", "hidden_act": "silu",
                "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": None, "tie_word_embeddings": False,
                "original_max_position_embeddings": 1024, "sliding_window": 1023, "attention_bias": False,
                "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attention_dropout": 0.0, "torch_dtype": "float32"},
        tokenizer_config={"bos_token": "<s>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
                          "unk_token": "<unk>", "add_bos_token": False, "add_eos_token": False, "legacy": False,
                          "model_max_length": 4096, "padding_side": "left", "sp_model_kwargs": {},
                          "tokenizer_class": "LlamaTokenizer", "use_default_system_prompt": False},
        generation={"bos_token_id": "<s>", "pad_token_id": "<|endoftext|>",
                    "eos_token_id": ["<|endoftext|>", "<|assistant|>", "<|end|>"]},
        chat_template=PHI3_TEMPLATE),
    "gemma2": Family(
        "gemma2", "sentencepiece", ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"],
        ["<start_of_turn>", "<end_of_turn>"],
        config={"architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2", "bos_token_id": "<bos>",
                "eos_token_id": ["<eos>", "<end_of_turn>"], "pad_token_id": "<pad>", "head_dim": 16,
                "hidden_act": "gelu_pytorch_tanh", "hidden_activation": "gelu_pytorch_tanh",
                "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": True,
                "query_pre_attn_scalar": 16, "sliding_window": 32, "attn_logit_softcapping": 50.0,
                "final_logit_softcapping": 30.0, "attention_bias": False, "cache_implementation": "hybrid",
                "torch_dtype": "float32"},
        tokenizer_config={"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>",
                          "add_bos_token": True, "add_eos_token": False, "model_max_length": 1000000000000000019884624838656,
                          "padding_side": "left", "tokenizer_class": "GemmaTokenizer", "spaces_between_special_tokens": False},
        generation={"bos_token_id": "<bos>", "pad_token_id": "<pad>", "cache_implementation": "hybrid",
                    "eos_token_id": ["<eos>", "<end_of_turn>"]},
        chat_template=GEMMA2_TEMPLATE, template_file=True),
}
