"""The Python API rejects bad input with a library error (a ValueError) carrying the CLI's message, and random
corpora with random valid hyperparameters either train or fail with a library error."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import d2lrnn
from d2lrnn import checks
from d2lrnn.errors import BackendError, CorpusError, D2LRNNError
from d2lrnn.predict import check_prefix
from d2lrnn.vocab import Vocab


@pytest.mark.parametrize(("make", "message"), [
    (lambda: d2lrnn.Trainer(max_epochs=0), "max_epochs must be a positive whole number, got 0."),
    (lambda: d2lrnn.Trainer(5, gradient_clip_val=-1), "gradient_clip_val must be 0 or more (0 means no clipping)"),
    (lambda: d2lrnn.Trainer(5, lr=0), "lr must be greater than 0, got 0."),
    (lambda: d2lrnn.TimeMachine(batch_size=-1), "batch_size must be a positive whole number, got -1."),
    (lambda: d2lrnn.TimeMachine(num_steps=2.5), "num_steps must be a positive whole number, got 2.5."),
    (lambda: d2lrnn.TimeMachine(sampling="shuffled"), "sampling must be one of 'sequential', 'random'"),
    (lambda: d2lrnn.get_backend("nope"), "Unknown backend 'nope'"),
    (lambda: check_prefix("", Vocab(list("abc"))), "The prefix is empty"),
    (lambda: d2lrnn.predict(None, "", 5, Vocab(list("abc"))), "The prefix is empty"),
    (lambda: d2lrnn.predict(None, "ab!", 5, Vocab(list("abc"))), "outside the vocabulary: '!'"),
    (lambda: d2lrnn.predict(None, "ab", 5, Vocab(list("abc")), temperature=0), "temperature must be greater than 0"),
    (lambda: d2lrnn.TimeMachine(corpus="/no/such/file.txt"), "does not exist"),
])
def test_api_raises_a_library_value_error_with_the_message(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert isinstance(info.value, D2LRNNError)
    assert message in str(info.value)


def test_api_and_cli_share_the_wording():
    with pytest.raises(D2LRNNError) as api:
        d2lrnn.TimeMachine(batch_size=0)
    with pytest.raises(D2LRNNError) as cli:
        checks.positive_int("--batch-size", "0")
    assert str(api.value).replace("batch_size", "--batch-size").replace("0.", "'0'.") == str(cli.value)


def test_unknown_device_is_a_backend_error():
    with pytest.raises(BackendError, match="Unknown device 'tpu'"):
        d2lrnn.get_backend("torch").device("tpu")


def test_model_hyperparameters_are_checked():
    backend = d2lrnn.get_backend("torch")
    with pytest.raises(D2LRNNError, match="num_hiddens must be a positive whole number"):
        backend.RNN(num_inputs=28, num_hiddens=0)
    with pytest.raises(D2LRNNError, match="lr must be greater than 0"):
        backend.RNNScratch(num_inputs=28, num_hiddens=4, lr=-1)


TEXT = st.text(alphabet=st.sampled_from(list("abcdefghij  XYZ.,\n9é")), min_size=1, max_size=200)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, repeat=st.integers(1, 200), raw=st.booleans(), batch_size=st.integers(1, 6),
       num_steps=st.integers(1, 8), num_hiddens=st.integers(1, 8), num_layers=st.integers(1, 2),
       lr=st.floats(1e-3, 50), clip=st.floats(0, 5),
       extra=st.integers(-3, 300), num_val=st.integers(0, 100), sampling=st.sampled_from(["sequential", "random"]),
       token=st.sampled_from(["char", "word"]), kind=st.sampled_from(["RNN", "RNNScratch"]))
def test_random_corpora_and_valid_hyperparameters_train_or_fail_with_a_library_error(
        tmp_path, text, repeat, raw, batch_size, num_steps, num_hiddens, num_layers, lr, clip, extra, num_val, sampling,
        token, kind):
    import torch

    torch.set_num_threads(1)
    corpus = tmp_path / "corpus.txt"
    num_train = max(1, batch_size * num_steps + num_steps + 1 + extra)  # around the shortest length that trains
    text *= repeat  # short texts are common in hypothesis' draws; repeating them reaches the trainer too
    corpus.write_bytes(text.encode("latin-1", "replace") if raw else text.encode("utf-8"))
    backend = d2lrnn.get_backend("torch")
    try:
        data = d2lrnn.TimeMachine(batch_size, num_steps, num_train, num_val, sampling=sampling, token=token,
                                  corpus=corpus, seed=0)
        model = getattr(backend, kind)(num_inputs=len(data.vocab), num_hiddens=num_hiddens, lr=lr, num_layers=num_layers)
        trainer = d2lrnn.Trainer(2, clip, progress=False)
        trainer.fit(model, data)
    except D2LRNNError as exc:
        assert isinstance(exc, ValueError) and str(exc)
        return
    assert trainer.epoch == 2 and len(trainer.history) == 2
    assert model.predict(data.vocab.idx_to_token[1:2] if token == "word" else data.vocab.idx_to_token[1], 3, data.vocab)


def test_a_corpus_error_names_what_is_needed(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("abc " * 10)
    with pytest.raises(CorpusError, match=r"one batch of 4 x 8 needs at least 41"):
        d2lrnn.TimeMachine(4, 8, corpus=corpus)
