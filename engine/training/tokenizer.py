"""Byte-level BPE for code, trained with HF ``tokenizers`` on the training functions.

The pre-tokenizer is chosen for copying, not compression: an identifier is always split the same
way whatever precedes it (no GPT-2 style leading space), ``_`` is its own piece (so the words of
``parse_header`` are the tokens a docstring reuses), each line starts with a newline+indent token
(statements are whole token runs), and punctuation stays in single characters (a quote, brace or
dot can move without dragging its neighbours). Keywords carry their spaces to keep code short.
"""

from __future__ import annotations

from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

SPECIAL_TOKENS = ["<pad>", "<file>", "<code>", "<instr>", "<edit>", "<end>"]
SPECIAL = {"file": "<file>", "code": "<code>", "instr": "<instr>", "edit": "<edit>", "end": "<end>",
           "pad": "<pad>"}
VOCAB_SIZE = 2048

_KEYWORDS = ("and|as|assert|async|await|break|class|continue|def|del|elif|else|except|finally|for|from|"
             "global|if|import|in|is|lambda|nonlocal|not|or|pass|raise|return|try|while|with|yield|to|given")
_OPERATORS = r'"""|\'\'\'|\*\*=|//=|>>=|<<=|==|!=|<=|>=|\*\*|//|->|\+=|-=|\*=|/=|%=|&=|\|=|\^=|:=|<<|>>|\.\.\.'
PRETOKEN_PATTERN = (
    r"\n[ \t]*"  # newline + indentation of the next line
    rf"| ?\b(?:{_KEYWORDS})\b ?"  # keywords with their spaces
    r"|[^\W_]+"  # word pieces (letters, digits)
    r"|_+"  # underscores on their own
    rf"| ?(?:{_OPERATORS}) ?"  # multi-character operators
    r"| ?[^\w\s] ?"  # one punctuation character with its spaces
    r"|\s+"
)


def pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKEN_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])


def train_tokenizer(texts: list[str], vocab_size: int = VOCAB_SIZE) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizer()
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, min_frequency=2,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    return tok


def save(tok: Tokenizer, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))


def token_classes(tok: Tokenizer) -> tuple[list[int], list[int]]:
    """(word token ids, newline token ids): what the aligner needs to know about the vocabulary.

    A word token is made of identifier characters only; a newline token starts a line."""
    words, newlines = [], []
    for i in range(tok.get_vocab_size()):
        text = tok.decode([i])
        if text and all(c.isalnum() or c == "_" for c in text):
            words.append(i)
        elif text.startswith("\n"):
            newlines.append(i)
    return words, newlines
