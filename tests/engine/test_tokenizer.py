from hypothesis import given, settings
from hypothesis import strategies as st

from engine.model.tinymodel import byte_tokenizer
from engine.model.tokenizer import StreamDecoder, token_byte_table

TOK = byte_tokenizer()
TOK.encode_special_tokens = True  # as engine.model.tokenizer.load_tokenizer sets it
TABLE = token_byte_table(TOK)


def stream(ids, table=TABLE):
    dec = StreamDecoder(TOK, table)
    pieces = [dec.push(i) for i in ids]
    return pieces, "".join(pieces) + dec.flush()


def test_multibyte_character_is_never_split():
    ids = TOK.encode("é€😀", add_special_tokens=False).ids
    assert len(ids) == 2 + 3 + 4  # one token per byte
    pieces, text = stream(ids)
    assert text == "é€😀"
    assert all("\ufffd" not in p for p in pieces)
    assert [p for p in pieces if p] == ["é", "€", "😀"]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_streamed_text_equals_the_decoded_text(text):
    ids = TOK.encode(text, add_special_tokens=False).ids
    assert stream(ids)[1] == text
    assert stream(ids, table=None)[1] == text  # the generic fallback path too


def test_special_tokens_produce_no_text():
    end = TOK.token_to_id("<end>")
    assert stream([end])[1] == ""


def test_fallback_path_keeps_spaces_of_a_sentencepiece_style_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from tokenizers.trainers import BpeTrainer

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(["def total(values): return sum(values)"] * 20, BpeTrainer(vocab_size=80))
    ids = tok.encode("def total(values): return values").ids
    assert token_byte_table(tok) is None  # not byte-level: the windowed decode is used
    dec = StreamDecoder(tok, None)
    pieces = [dec.push(i) for i in ids]
    assert "".join(pieces) + dec.flush() == tok.decode(ids) == "def total(values): return values"
