from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from d2lrnn import Vocab, preprocess, tokenize


def test_preprocess_keeps_lowercase_letters_and_single_spaces():
    assert (
        preprocess("The Time-Machine, by H. G. Wells!\n\n1895") == "the time machine by h g wells"
    )


def test_tokenize_chars_and_words():
    assert tokenize("ab c") == ["a", "b", " ", "c"]
    assert tokenize("ab  c", "word") == ["ab", "c"]


def test_vocab_orders_by_frequency_with_unk_first():
    vocab = Vocab(list("aaabbc"))
    assert vocab.idx_to_token == ["<unk>", "a", "b", "c"]
    assert vocab.token_freqs == [("a", 3), ("b", 2), ("c", 1)]
    assert len(vocab) == 4
    assert vocab["b"] == 2 and vocab["zz"] == vocab.unk == 0
    assert vocab[["a", "c", "?"]] == [1, 3, 0]
    assert vocab.to_tokens([1, 2]) == ["a", "b"] and vocab.to_tokens(3) == "c"


def test_min_freq_and_reserved_tokens():
    vocab = Vocab([["x", "x", "y"], ["z", "x"]], min_freq=2, reserved_tokens=["<pad>", "<bos>"])
    assert vocab.idx_to_token == ["<unk>", "<pad>", "<bos>", "x"]
    assert vocab["y"] == vocab.unk


def test_round_trip_through_dict():
    vocab = Vocab(list("hello world"))
    again = Vocab.from_dict(vocab.to_dict())
    assert again.idx_to_token == vocab.idx_to_token and again["o"] == vocab["o"]


@given(st.text(alphabet="abcde ", min_size=1))
def test_every_token_maps_back_to_itself(text):
    vocab = Vocab(list(text))
    assert vocab.to_tokens(vocab[list(text)]) == list(text)
    freqs = dict(vocab.token_freqs)
    assert freqs == dict(Counter(text))


def test_char_level_is_derived_from_the_counted_tokens():
    assert Vocab(list("abc"), reserved_tokens=["<pad>"]).char_level
    assert not Vocab(["the", "time", "a"]).char_level
    assert not Vocab.from_dict(Vocab(["the", "a"]).to_dict()).char_level
