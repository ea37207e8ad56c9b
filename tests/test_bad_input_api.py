"""The Python API rejects bad input with a library error (a ValueError) carrying the CLI's message,
and random
corpora with random valid hyperparameters either train or fail with a library error."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import d2lrnn
from d2lrnn import checks, memory
from d2lrnn.errors import BackendError, CorpusError, D2LRNNError, ResourceError
from d2lrnn.model import canonical_shapes
from d2lrnn.predict import check_prefix, default_prefixes, prepare_prefix, softmax
from d2lrnn.vocab import Vocab

from .conftest import FRAMEWORK_MODULES, ROOT


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: d2lrnn.Trainer(max_epochs=0),
            "max_epochs must be a positive whole number, got 0.",
        ),
        (
            lambda: d2lrnn.Trainer(5, gradient_clip_val=-1),
            "gradient_clip_val must be 0 or more (0 means no clipping)",
        ),
        (lambda: d2lrnn.Trainer(5, lr=0), "lr must be greater than 0, got 0."),
        (
            lambda: d2lrnn.TimeMachine(batch_size=-1),
            "batch_size must be a positive whole number, got -1.",
        ),
        (
            lambda: d2lrnn.TimeMachine(num_steps=2.5),
            "num_steps must be a positive whole number, got 2.5.",
        ),
        (
            lambda: d2lrnn.TimeMachine(sampling="shuffled"),
            "sampling must be one of 'sequential', 'random'",
        ),
        (lambda: d2lrnn.get_backend("nope"), "Unknown backend 'nope'"),
        (lambda: check_prefix("", Vocab(list("abc"))), "The prefix is empty"),
        (lambda: d2lrnn.predict(None, "", 5, Vocab(list("abc"))), "The prefix is empty"),
        (lambda: d2lrnn.predict(None, "ab!", 5, Vocab(list("abc"))), "outside the vocabulary: '!'"),
        (
            lambda: d2lrnn.predict(None, "ab", 5, Vocab(list("abc")), temperature=0),
            "temperature must be greater than 0",
        ),
        (lambda: d2lrnn.TimeMachine(corpus="/no/such/file.txt"), "does not exist"),
    ],
)
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
    assert str(api.value).replace("batch_size", "--batch-size").replace("0.", "'0'.") == str(
        cli.value
    )


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


#: the only ways valid hyperparameters may fail on a random corpus: the corpus itself is unusable
CORPUS_PROBLEMS = ("is empty", "is not valid UTF-8", "tokens, but one batch of")


# clipping bounds every step (lr * clip <= 10), so two epochs of these runs cannot diverge: a
# DivergenceError fails
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=TEXT,
    repeat=st.integers(1, 200),
    raw=st.booleans(),
    batch_size=st.integers(1, 6),
    num_steps=st.integers(1, 8),
    num_hiddens=st.integers(1, 8),
    num_layers=st.integers(1, 2),
    lr=st.floats(1e-3, 2),
    clip=st.floats(0.1, 5),
    extra=st.integers(-3, 300),
    num_val=st.integers(0, 100),
    sampling=st.sampled_from(["sequential", "random"]),
    token=st.sampled_from(["char", "word"]),
    kind=st.sampled_from(["RNN", "RNNScratch"]),
)
def test_random_corpora_and_valid_hyperparameters_train_or_fail_over_the_corpus(
    tmp_path,
    text,
    repeat,
    raw,
    batch_size,
    num_steps,
    num_hiddens,
    num_layers,
    lr,
    clip,
    extra,
    num_val,
    sampling,
    token,
    kind,
):
    import torch

    torch.set_num_threads(1)
    corpus = tmp_path / "corpus.txt"
    # around the shortest length that trains
    num_train = max(1, batch_size * num_steps + num_steps + 1 + extra)
    # short texts are common in hypothesis' draws; repeating them reaches the trainer too
    text *= repeat
    corpus.write_bytes(text.encode("latin-1", "replace") if raw else text.encode("utf-8"))
    backend = d2lrnn.get_backend("torch")
    try:
        data = d2lrnn.TimeMachine(
            batch_size,
            num_steps,
            num_train,
            num_val,
            sampling=sampling,
            token=token,
            corpus=corpus,
            seed=0,
        )
        model = getattr(backend, kind)(
            num_inputs=len(data.vocab), num_hiddens=num_hiddens, lr=lr, num_layers=num_layers
        )
        trainer = d2lrnn.Trainer(2, clip, progress=False)
        trainer.fit(model, data)
    except CorpusError as exc:
        assert any(problem in str(exc) for problem in CORPUS_PROBLEMS), str(exc)
        return
    assert trainer.epoch == 2 and len(trainer.history) == 2
    assert model.predict(
        data.vocab.idx_to_token[1:2] if token == "word" else data.vocab.idx_to_token[1],
        3,
        data.vocab,
    )


def test_a_corpus_error_names_what_is_needed(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("abc " * 10)
    with pytest.raises(CorpusError, match=r"one batch of 4 x 8 needs at least 41"):
        d2lrnn.TimeMachine(4, 8, corpus=corpus)


@pytest.mark.parametrize("value", [0, 1, "7", "4294967295", 2**32 - 1])
def test_seeds_every_backend_accepts(value):
    assert checks.seed("seed", value) == int(value)


@pytest.mark.parametrize(
    "value", [-1, 2**32, "4294967296", 2**64, "18446744073709551616", 1.5, "1e40", True, "x"]
)
def test_seeds_outside_32_bits_are_one_rule_for_every_backend(value):
    with pytest.raises(D2LRNNError, match=r"seed must be a whole number from 0 to 4294967295"):
        checks.seed("seed", value)


def test_the_library_run_checks_the_seed_before_importing_a_framework():
    code = (
        "import sys\nfrom d2lrnn.train_job import TrainJob, run_training\nfrom d2lrnn.errors "
        "import D2LRNNError\n"
        "try:\n    run_training(TrainJob(settings={'seed': 2**32}))\nexcept D2LRNNError as exc:\n  "
        "  print(exc)\n"
        "print(sorted(m for m in sys.modules if m in sys.argv[1:]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *sorted(FRAMEWORK_MODULES)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout.splitlines() == [
        "seed must be a whole number from 0 to 4294967295 (2**32 - 1), got 4294967296.",
        "[]",
    ], proc.stderr


def test_the_memory_estimate_counts_every_weight_gradient_and_activation():
    v = 28
    h = 64
    n = 3
    b = 8
    t = 10
    weights = sum(math.prod(shape) for shape in canonical_shapes(v, v, h, n).values())
    estimate = memory.estimate_training_memory(v, h, n, b, t)
    assert memory.parameter_count(v, h, n) == weights
    assert estimate.parameters == estimate.gradients == 4 * weights
    assert estimate.activations == 4 * b * t * (3 * v + 2 * h * n)
    assert estimate.total == estimate.parameters + estimate.gradients + estimate.activations


def test_a_model_too_big_is_refused_with_the_estimate_and_the_memory_available():
    estimate = memory.estimate_training_memory(28, 2_000_000, 1, 32, 35)
    assert estimate.parameters > 4 * 2_000_000**2  # the 16 TB of the issue
    with pytest.raises(ResourceError) as info:
        memory.check_fits(estimate, available=8 * 2**30)
    message = str(info.value)
    assert memory.human_bytes(estimate.total) in message and "8.0 GiB is available" in message
    # the book's model fits
    memory.check_fits(memory.estimate_training_memory(28, 256, 1, 32, 35), available=8 * 2**30)


def test_the_memory_available_is_read_without_a_framework():
    available = memory.available_memory()
    assert available is None or 0 < available <= os.sysconf("SC_PAGE_SIZE") * os.sysconf(
        "SC_PHYS_PAGES"
    )


def test_sampling_at_a_vanishing_temperature_is_greedy():
    logits = np.array([0.5, 3.0, -1.0, 2.9])
    for temperature in (1e-300, 5e-324):
        probs = softmax(logits, temperature)
        assert probs.tolist() == [0.0, 1.0, 0.0, 0.0]
    assert softmax(logits, 1.0).sum() == pytest.approx(1.0)


@pytest.mark.parametrize(("typed", "expected", "changed"), [
    ("The Time Traveller, ", "the time traveller ", True),
    ("time traveller", "time traveller", False),
    ("  TIME--traveller", "time traveller", True),
])
def test_a_prefix_goes_through_the_corpus_preprocessing(typed, expected, changed):
    vocab = Vocab(list("the time traveller"))
    assert prepare_prefix(typed, vocab) == (expected, changed)


def test_default_prefixes_skip_what_the_vocabulary_cannot_spell():
    vocab = Vocab(list("traveller "))
    assert default_prefixes(["time traveller", "traveller"], vocab, list("travel")) == ["traveller"]
    other = Vocab(list("abc "))
    assert default_prefixes(["time traveller", "traveller"], other, list("abc cab ba")) == [
        "abc cab ba"
    ]
    words = Vocab("abc cab".split())
    assert default_prefixes(["time traveller"], words, ["cab", "abc", "abc"]) == [["cab", "abc"]]
