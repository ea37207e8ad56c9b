import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from d2lrnn import SeqDataLoader, TimeMachine, load_data_time_machine
from d2lrnn.errors import CorpusError

from .conftest import needs_corpus

shapes = st.tuples(st.integers(1, 8), st.integers(1, 12), st.integers(0, 400))


def _loader(batch_size, num_steps, extra, sampling, seed=0):
    length = batch_size * num_steps + num_steps + 1 + extra
    return SeqDataLoader(np.arange(length), batch_size, num_steps, sampling, seed)


@given(shapes, st.sampled_from(["sequential", "random"]))
def test_labels_are_inputs_shifted_by_one(shape, sampling):
    loader = _loader(*shape, sampling)
    batches = list(loader)
    assert batches, "a corpus longer than one batch yields at least one batch"
    for X, Y in batches:
        assert X.shape == Y.shape == (shape[0], shape[1])
        np.testing.assert_array_equal(Y, X + 1)  # corpus[i] == i
        np.testing.assert_array_equal(X - X[:, :1], np.broadcast_to(np.arange(shape[1]), X.shape))


@given(shapes)
def test_sequential_batches_continue_row_by_row(shape):
    batches = list(_loader(*shape, "sequential"))
    for (X0, _), (X1, _) in zip(batches, batches[1:]):
        np.testing.assert_array_equal(X1[:, 0], X0[:, -1] + 1)


@given(shapes)
def test_random_sampling_never_repeats_a_subsequence_within_an_epoch(shape):
    loader = _loader(*shape, "random")
    for _ in range(2):  # two epochs, each checked on its own
        starts = np.concatenate([X[:, 0] for X, _ in loader])
        assert len(starts) == len(set(starts.tolist()))
        # non-overlapping: starts differ by multiples of num_steps
        assert len(set((starts % shape[1]).tolist())) == 1


@settings(max_examples=25)
@given(shapes, st.sampled_from(["sequential", "random"]), st.integers(0, 2**16))
def test_a_seed_makes_epochs_reproducible(shape, sampling, seed):
    a, b = _loader(*shape, sampling, seed), _loader(*shape, sampling, seed)
    for _ in range(3):
        for (Xa, Ya), (Xb, Yb) in zip(a, b, strict=True):
            np.testing.assert_array_equal(Xa, Xb)
            np.testing.assert_array_equal(Ya, Yb)


def test_random_offsets_vary_between_epochs():
    loader = _loader(4, 5, 300, "sequential", seed=1)
    firsts = {int(next(iter(loader))[0][0, 0]) for _ in range(30)}
    assert len(firsts) > 1 and min(firsts) >= 0 and max(firsts) <= 5


def test_too_short_corpus_says_how_many_tokens_are_needed():
    with pytest.raises(CorpusError, match="needs at least 56"):
        SeqDataLoader(np.arange(20), 10, 5)


def test_unknown_sampling_is_rejected():
    with pytest.raises(ValueError, match="sampling"):
        SeqDataLoader(np.arange(100), 2, 3, "shuffled")


@needs_corpus
def test_load_data_time_machine_matches_the_book():
    loader, vocab = load_data_time_machine(32, 35)
    assert len(vocab) == 28 and vocab.idx_to_token[:3] == ["<unk>", " ", "e"]
    assert len(loader.corpus) == 10000
    X, Y = next(iter(loader))
    assert X.shape == (32, 35) and X.dtype == np.int64
    assert load_data_time_machine(32, 35, use_random_iter=True)[0].sampling == "random"


@needs_corpus
def test_time_machine_splits_train_and_validation():
    data = TimeMachine(batch_size=8, num_steps=10, num_train=2000, num_val=500, seed=3)
    assert len(data.train_corpus) == 2000 and len(data.val_corpus) == 500
    np.testing.assert_array_equal(data.corpus[2000:2500], data.val_corpus)
    val = list(data.val_dataloader())
    assert val and all(X.shape == (8, 10) for X, _ in val)
    assert val[0][0][0, 0] == data.val_corpus[0]  # validation starts at offset 0, deterministically


@needs_corpus
def test_word_tokens():
    data = TimeMachine(batch_size=4, num_steps=5, num_train=2000, num_val=0, token="word")
    assert "the" in data.vocab and data.vocab.to_tokens(1) == "the"
    assert list(data.val_dataloader()) == []
