"""The book-compatibility modules beyond what the seeds exercise: LSTM and bidirectional models,
clipping through the core, the Animator, d2l 1.0's Trainer, and TensorFlow's Keras choice."""

from __future__ import annotations

import importlib
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from d2lrnn.book.v0 import Animator
from d2lrnn.data import SeqDataLoader, TimeMachine, load_data_time_machine
from d2lrnn.metrics import NUMPY_MATH, clip_gradients

from .conftest import ROOT, installed, needs_corpus

PERPLEXITY_LINE = re.compile(r"^perplexity (\d+\.\d), (\d+\.\d) tokens/sec on (\S+)$", re.M)


def small_data() -> tuple[SeqDataLoader, object]:
    return load_data_time_machine(8, 8, max_tokens=400)


def check_book_lines(out: str, device: str) -> None:
    match = PERPLEXITY_LINE.search(out)
    assert match and math.isfinite(float(match[1])) and float(match[2]) > 0 and match[3] == device
    after = out[match.end():].strip("\n").split("\n")
    assert after[0].startswith("time traveller") and after[1].startswith("traveller")


CHAPTER_NAMES = [
    "load_data_time_machine",
    "RNNModel",
    "predict_ch8",
    "train_ch8",
    "grad_clipping",
    "try_gpu",
    "Timer",
    "Accumulator",
    "Animator",
    "TimeMachine",
    "RNNScratch",
    "Trainer",
]


@pytest.mark.parametrize("tab", ["torch", "mxnet"])
def test_tab_exports_the_chapter_names(tab: str) -> None:
    if not installed(tab):
        pytest.skip(f"{tab} not installed")
    module = importlib.import_module(f"d2lrnn.{tab}")
    assert [n for n in CHAPTER_NAMES if not hasattr(module, n)] == []
    assert set(module.__all__) <= set(dir(module))


# --- Animator ---------------------------------------------------------------------------------
def test_animator_records_and_saves_png(tmp_path: Path) -> None:
    animator = Animator(
        xlabel="epoch", ylabel="perplexity", legend=["train", "val"], xlim=[1, 3], yscale="log"
    )
    animator.add(1, [10.0, 12.0])
    animator.add(2, [5.0, None])  # None skips a line, as the book's Animator does
    animator.add(3, 3.0)
    assert animator.X == [[1.0, 2.0, 3.0], [1.0]] and animator.Y == [[10.0, 5.0, 3.0], [12.0]]
    path = animator.savefig(tmp_path / "plot.png")
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- PyTorch tab ------------------------------------------------------------------------------
torch_only = pytest.mark.skipif(not installed("torch"), reason="torch not installed")


@torch_only
def test_torch_rnnmodel_lstm_tuple_state_and_bidirectional_width() -> None:
    import torch
    from torch import nn

    from d2lrnn import torch as d2l

    lstm = d2l.RNNModel(nn.LSTM(28, 16, num_layers=2), vocab_size=28)
    H, C = lstm.begin_state("cpu", batch_size=3)
    assert H.shape == C.shape == (2, 3, 16)
    logits, (H, C) = lstm(torch.zeros((3, 5), dtype=torch.int64), (H, C))
    assert logits.shape == (5 * 3, 28) and H.shape == (2, 3, 16)

    bi = d2l.RNNModel(nn.GRU(28, 16, bidirectional=True), vocab_size=28)
    assert bi.linear.in_features == 32
    state = bi.begin_state(device="cpu", batch_size=3)
    assert isinstance(state, torch.Tensor) and state.shape == (2, 3, 16)
    logits, _ = bi(torch.zeros((3, 5), dtype=torch.int64), state)
    assert logits.shape == (15, 28)


@torch_only
@needs_corpus
def test_torch_train_ch8_lstm_prints_the_book_lines(capsys: pytest.CaptureFixture[str]) -> None:
    import torch
    from torch import nn

    from d2lrnn import torch as d2l

    torch.manual_seed(0)
    train_iter, vocab = small_data()
    net = d2l.RNNModel(nn.LSTM(len(vocab), 16), vocab_size=len(vocab))
    animator = d2l.Animator()
    d2l.train_ch8(
        net, train_iter, vocab, 1, 10, torch.device("cpu"), use_random_iter=True, animator=animator
    )
    out = capsys.readouterr().out
    check_book_lines(out, "cpu")
    assert out.count("time traveller") == 2  # epoch 10, then the final line
    assert animator.X == [[10.0]]
    text = d2l.predict_ch8("time traveller", 5, net, vocab, d2l.try_gpu())
    assert text.startswith("time traveller")


@torch_only
def test_torch_grad_clipping_is_the_core_clipping_in_place() -> None:
    import torch
    from torch import nn

    from d2lrnn import torch as d2l

    net = nn.Linear(3, 2)
    for p, value in zip(net.parameters(), (3.0, 4.0)):
        p.grad = torch.full_like(p, value)
    before = [p.grad.numpy().copy() for p in net.parameters()]
    grad_ids = [id(p.grad) for p in net.parameters()]
    d2l.grad_clipping(net, 1.0)
    expected = clip_gradients(before, 1.0, NUMPY_MATH)
    for p, want, gid in zip(net.parameters(), expected, grad_ids):
        assert id(p.grad) == gid  # in place
        np.testing.assert_allclose(p.grad.numpy(), want, rtol=1e-6)
    norm = math.sqrt(sum(float((p.grad**2).sum()) for p in net.parameters()))
    assert norm == pytest.approx(1.0, rel=1e-5)


@torch_only
@needs_corpus
def test_book_trainer_takes_d2l_argument_order_and_plots() -> None:
    from d2lrnn.draft import torch as d2l

    trainer = d2l.Trainer(1, 0, 1)  # max_epochs, num_gpus, gradient_clip_val
    assert (trainer.max_epochs, trainer.num_gpus, trainer.gradient_clip_val) == (1, 0, 1.0)
    data = TimeMachine(batch_size=8, num_steps=10, num_train=1000, num_val=500)
    model = d2l.RNNScratch(
        num_inputs=len(data.vocab), num_outputs=len(data.vocab), num_hiddens=8, lr=1
    )
    assert trainer.fit(model, data) is None
    assert trainer.board.X[0] == [1.0] and trainer.history[0].val_perplexity is not None


# --- MXNet tab --------------------------------------------------------------------------------
@pytest.mark.skipif(not installed("mxnet"), reason="mxnet not installed")
@needs_corpus
def test_mxnet_lstm_model_trains_and_clips(capsys: pytest.CaptureFixture[str]) -> None:
    from mxnet import autograd, np
    from mxnet.gluon import rnn

    from d2lrnn import mxnet as d2l

    train_iter, vocab = small_data()
    net = d2l.RNNModel(rnn.LSTM(16), len(vocab))
    net.initialize(ctx=d2l.try_gpu())
    state = net.begin_state(batch_size=2, ctx=d2l.try_gpu())
    assert len(state) == 2 and state[0].shape == (1, 2, 16)
    d2l.train_ch8(net, train_iter, vocab, 1, 1, d2l.try_gpu())
    check_book_lines(capsys.readouterr().out, "cpu(0)")

    with autograd.record():
        logits, _ = net(np.zeros((2, 4), dtype="int64"), net.begin_state(batch_size=2))
        loss = (logits * 100).sum()
    loss.backward()
    d2l.grad_clipping(net, 0.5)
    norm = math.sqrt(sum(float((p.grad() ** 2).sum()) for p in net.collect_params().values()))
    assert norm == pytest.approx(0.5, rel=1e-4)


# --- TensorFlow tab (subprocesses: the Keras choice is made once per process) -----------------
TF_BOOK_0X = f"""
import os
from d2lrnn import tensorflow as d2l
import tensorflow as tf
assert os.environ["TF_USE_LEGACY_KERAS"] == "1" and d2l.LEGACY_KERAS, tf.keras.__name__
assert [n for n in {CHAPTER_NAMES!r} if not hasattr(d2l, n)] == []
train_iter, vocab = d2l.load_data_time_machine(8, 8, max_tokens=400)
rnn_layer = tf.keras.layers.RNN(tf.keras.layers.SimpleRNNCell(16), time_major=True, return_sequences=True,
                                return_state=True)
strategy = tf.distribute.OneDeviceStrategy(d2l.try_gpu()._device_name)
with strategy.scope():
    net = d2l.RNNModel(rnn_layer, vocab_size=len(vocab))
print("PREDICT", d2l.predict_ch8("time traveller", 10, net, vocab))
d2l.train_ch8(net, train_iter, vocab, 1, 2, strategy)
lstm = d2l.RNNModel(tf.keras.layers.RNN(tf.keras.layers.LSTMCell(8), return_sequences=True, return_state=True),
                    len(vocab))
print("LSTM", [tuple(s.shape) for s in lstm.begin_state(batch_size=3)])
d2l.train_ch8(lstm, train_iter, vocab, 1, 1, strategy, use_random_iter=True)
clipped = d2l.grad_clipping([tf.ones((3, 4)), tf.ones((5,))], 1.0)
print("NORM", float(tf.sqrt(sum(tf.reduce_sum(g * g) for g in clipped))))
"""  # noqa: E501

TF_KERAS_3_FIRST = """
import warnings
import tensorflow as tf
tf.keras.layers  # Keras 3 is now the active tf.keras
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from d2lrnn.draft import tensorflow as d2l
print("LEGACY", d2l.LEGACY_KERAS)
print("WARNED", any("TF_USE_LEGACY_KERAS=1" in str(w.message) for w in caught))
data = d2l.TimeMachine(batch_size=8, num_steps=10, num_train=1000, num_val=500)
model = d2l.RNN(num_inputs=len(data.vocab), num_hiddens=8, lr=1)
trainer = d2l.Trainer(max_epochs=1, gradient_clip_val=1)
trainer.fit(model, data)
print("TRAINED", trainer.epoch, trainer.history[-1].perplexity)
"""


def run_tf(script: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("TF_USE_LEGACY_KERAS", None)
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc.stdout


tf_only = pytest.mark.skipif(not (installed("tensorflow") and installed("tf_keras")),
                             reason="tensorflow or tf-keras not installed")


@tf_only
@needs_corpus
def test_tensorflow_tab_selects_keras_2_and_runs_book_0x_code() -> None:
    out = run_tf(TF_BOOK_0X)
    predicted = re.search(r"^PREDICT (.*)$", out, re.M)[1]
    assert predicted.startswith("time traveller")
    assert re.search(
        r"^perplexity [\d.]+, [\d.]+ tokens/sec on /job:localhost/replica:0/task:0/device:CPU:0$",
        out,
        re.M,
    )
    assert "LSTM [(3, 8), (3, 8)]" in out
    assert float(re.search(r"^NORM ([\d.]+)$", out, re.M)[1]) == pytest.approx(1.0, rel=1e-5)


@tf_only
@needs_corpus
def test_tensorflow_tab_warns_when_keras_3_is_already_active() -> None:
    out = run_tf(TF_KERAS_3_FIRST)
    assert "LEGACY False" in out and "WARNED True" in out
    assert re.search(r"^TRAINED 1 \d", out, re.M)  # the library's own model trains under Keras 3


#: the plain namespace of each tab that has a d2l 0.x book -> that tab's 0.x module
PLAIN_TABS = {"mxnet": "mxnet", "torch": "torch", "tensorflow": "tensorflow"}


@pytest.mark.parametrize(
    "tab",
    [
        pytest.param(t, marks=pytest.mark.skipif(not installed(t), reason=f"{t} not installed"))
        for t in PLAIN_TABS
    ],
)
def test_every_tab_offers_the_same_d2l_0x_names(tab) -> None:
    """``from d2lrnn import <tab> as d2l`` offers each name of the one list, and it is the tab's own
    0.x object."""
    from d2lrnn.book.aliases import V0_NAMES

    plain = importlib.import_module(f"d2lrnn.{tab}")
    v0 = importlib.import_module(f"d2lrnn.book.v0.{PLAIN_TABS[tab]}")
    for name in V0_NAMES:
        assert name in plain.__all__, f"{tab}: {name} is not offered"
        assert getattr(plain, name) is getattr(v0, name), f"{tab}: {name} is not the 0.x {name}"
