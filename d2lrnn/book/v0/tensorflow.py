"""d2l 0.x's TensorFlow tab: ``from d2lrnn.v0 import tensorflow as d2l`` (the names of its PyTorch
sibling, :mod:`d2lrnn.book.v0.torch`, in TensorFlow).

The book's TensorFlow cells are Keras 2 code (``tf.keras.layers.RNN(..., time_major=True)``).
On TensorFlow 2.16+ that needs the ``tf-keras`` package, selected before ``tf.keras`` is first
used: when tf-keras is installed, this module sets ``TF_USE_LEGACY_KERAS=1`` (unless already
set) before importing TensorFlow, and it warns when Keras 2 is not what ``tf.keras`` gives. The
library's own models work with either Keras.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from typing import Any

# without it, the variable would break tf.keras
if importlib.util.find_spec("tf_keras") is not None:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tensorflow as tf  # noqa: E402  (TF_USE_LEGACY_KERAS must be set first)


def _keras_name() -> str:
    try:
        return tf.keras.__name__
    except ImportError as exc:  # TF_USE_LEGACY_KERAS=1 without the tf-keras package
        return f"unavailable ({exc})"


LEGACY_KERAS = _keras_name().startswith("tf_keras")
if not LEGACY_KERAS:
    warnings.warn(
        f"tf.keras is {_keras_name()}, not Keras 2 (tf-keras): the book's TensorFlow cells (e.g. "
        "RNN(..., time_major=True)) will fail. Install tf-keras (pip install 'd2lrnn[tensorflow]') "
        "and "
        "set TF_USE_LEGACY_KERAS=1 before TensorFlow is first imported, e.g. import "
        "d2lrnn.tensorflow "
        "before tensorflow or keras. The library's own models work with either Keras.",
        stacklevel=2,
    )

from ...backends.tensorflow import BACKEND  # noqa: E402
from ...data import load_data_time_machine as _load_numpy  # noqa: E402
from ...metrics import clip_gradients  # noqa: E402
from ...timing import Timer  # noqa: E402
from ..aliases import tensor_aliases  # noqa: E402
from . import Accumulator, Animator, Tab, tensor_loader  # noqa: E402
from .text import NAMES as TEXT_NAMES  # noqa: E402
from .text import scratch_arguments, text_names  # noqa: E402

globals().update(tensor_aliases(tf))  # d2l.reshape, d2l.zeros, ...
# d2l.read_time_machine, d2l.Vocab, d2l.seq_data_iter_random, ...
globals().update(text_names(tf.constant))
tensor = tf.constant
load_data_time_machine = tensor_loader(_load_numpy, tf.constant)

keras = tf.keras
float32 = tf.float32
int32 = tf.int32
int64 = tf.int64


class RNNModel(keras.layers.Layer):
    """A Keras recurrent layer (``RNN(cell, return_sequences=True, return_state=True)``) under
    one-hot
    inputs and a dense output.

    ``call(inputs, state)`` takes token indices ``(batch, num_steps)`` and returns logits flattened
    to ``(num_steps * batch, vocab_size)`` and the state (a list). The layer may be time-major
    (Keras 2's ``time_major=True``, as in the book) or batch-major.
    """

    def __init__(self, rnn_layer: Any, vocab_size: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rnn, self.vocab_size = rnn_layer, vocab_size
        self.dense = keras.layers.Dense(vocab_size)

    def call(self, inputs: tf.Tensor, state: Any) -> tuple[tf.Tensor, list[Any]]:
        time_major = getattr(self.rnn, "time_major", False)
        X = tf.one_hot(tf.transpose(inputs) if time_major else inputs, self.vocab_size)
        Y, *state = self.rnn(X, initial_state=state)
        if not time_major:
            Y = tf.transpose(Y, (1, 0, 2))
        return self.dense(tf.reshape(Y, (-1, Y.shape[-1]))), self._nest(tf.nest.flatten(state))

    def begin_state(
        self, batch_size: int = 1, dtype: tf.DType = tf.float32, **kwargs: Any
    ) -> list[Any]:
        """Zeros for every state tensor of the recurrent cell, each ``(batch_size, size)``, nested
        as the cell's
        states are (``StackedRNNCells``: one list per cell)."""
        return self._nest(
            [
                tf.zeros((batch_size, size), dtype)
                for size in tf.nest.flatten(self.rnn.cell.state_size)
            ]
        )

    def _nest(self, flat: list[Any]) -> list[Any]:
        """Flat state tensors in the structure of the cell's ``state_size``."""
        sizes = self.rnn.cell.state_size
        return tf.nest.pack_sequence_as(sizes, flat) if tf.nest.is_nested(sizes) else list(flat)


def _resolve_device(device: Any) -> Any:
    """A device name from what the book passes: a ``tf.distribute`` strategy, a ``tf.device`` scope
    or a name."""
    extended = getattr(device, "extended", None)
    if extended is not None:
        return extended.worker_devices[0]
    return getattr(device, "_device_name", device)


class RNNModelScratch:
    """d2l 0.x's from-scratch model (TensorFlow signature): ``get_params(vocab_size, num_hiddens)``
    gives
    :attr:`trainable_variables`, ``init_state(batch_size, num_hiddens)`` the state, ``forward_fn``
    the steps."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        a = scratch_arguments("tensorflow", args, kwargs)
        self.vocab_size, self.num_hiddens = a["vocab_size"], a["num_hiddens"]
        self.init_state, self.forward_fn = a["init_state"], a["forward_fn"]
        self.trainable_variables = a["get_params"](self.vocab_size, self.num_hiddens)

    def __call__(self, X: tf.Tensor, state: Any) -> Any:
        X = tf.cast(tf.one_hot(tf.transpose(X), self.vocab_size), tf.float32)
        return self.forward_fn(X, state, self.trainable_variables)

    def begin_state(self, batch_size: int, *args: Any, **kwargs: Any) -> Any:
        return self.init_state(batch_size, self.num_hiddens)


_TAB = Tab(
    BACKEND,
    keras.layers.Layer,
    lambda net, X: net.begin_state(batch_size=X.shape[0], dtype=tf.float32),
    tf.reshape,
    _resolve_device,
    compile_scratch=False,
)


class _ScratchVariables:
    """Tracks a d2l 0.x scratch model's ``trainable_variables`` as the wrapper's own (Keras collects
    them)."""

    def __init__(self, net: Any) -> None:
        super().__init__(net)
        if not isinstance(net, keras.layers.Layer) and hasattr(net, "trainable_variables"):
            self.scratch_variables = list(net.trainable_variables)


_TAB.BookNet = type(_TAB.BookNet.__name__, (_ScratchVariables, _TAB.BookNet), {})
predict_ch8, train_ch8 = _TAB.predict_ch8, _TAB.train_ch8
recorded_perplexities = _TAB.recorded_perplexities


def sgd(params: list[tf.Variable], grads: list[Any], lr: float, batch_size: int) -> None:
    """Minibatch SGD in place: ``param -= lr * grad / batch_size`` for each variable and its
    gradient."""
    for param, grad in zip(params, grads):
        param.assign_sub(lr * grad / batch_size)


def try_gpu(i: int = 0) -> Any:
    """A ``tf.device`` scope for the ``i``-th GPU if there is one, else for the CPU (as the book's).
    """
    return tf.device(BACKEND.try_gpu(i))


def grad_clipping(grads: list[Any], theta: float) -> list[tf.Tensor]:
    """The gradients rescaled to global norm at most ``theta`` (TensorFlow's book version returns
    them)."""
    return clip_gradients([tf.convert_to_tensor(g) for g in grads], theta, BACKEND.math)


__all__ = [
    "LEGACY_KERAS", "Accumulator", "Animator", "RNNModel", "RNNModelScratch", "Timer", "float32",
    "grad_clipping", "int32", "int64", "load_data_time_machine", "predict_ch8",
    "recorded_perplexities", "sgd", "tensor", "train_ch8", "try_gpu", *tensor_aliases(tf),
    *TEXT_NAMES,
]
