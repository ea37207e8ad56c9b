"""d2l 1.0.3's TensorFlow tab: ``from d2lrnn import tensorflow as d2l`` (also
``d2lrnn.v1.tensorflow``).

It also offers the d2l 0.x names of :mod:`d2lrnn.book.v0.tensorflow` that 1.0.3 does not redefine
(:data:`d2lrnn.book.aliases.V0_NAMES`). The framework-neutral parts are in :mod:`d2lrnn.book.v1`;
this module adds the TensorFlow pieces:
``Module`` (a ``tf.keras.Model``), ``Classifier``, ``RNNScratch``, ``RNNLMScratch``,
``RNN(num_hiddens)``, ``RNNLM``, the tensor aliases and the GradientTape/optimizer primitive.
Importing it selects Keras 2 (tf-keras), as :mod:`d2lrnn.book.v0.tensorflow` does.
"""

# ruff: noqa: E402  (TensorFlow is imported by the 0.x tab module first, which selects Keras 2)
from __future__ import annotations

from typing import Any

# isort: off
from ..v0 import tensorflow as v0  # first: it selects Keras 2 before TensorFlow is imported

import numpy as np
import tensorflow as tf

# isort: on

from ...backends.tensorflow import BACKEND
from ...vocab import SortedVocab as Vocab
from ..aliases import V0_NAMES, tensor_aliases, v0_names
from . import *  # noqa: F403  (the names every tab shares)
from . import (
    TAB_NAMES,
    CheckedCall,
    LanguageModelSteps,
    ModuleSteps,
    RecurrentLayerSteps,
    Trainer,  # the tab adds nothing to the book's Trainer
    data_classes,
)
from . import __all__ as SHARED_NAMES

globals().update(tensor_aliases(tf))  # reshape, zeros, ..., the book's tensor aliases
tensor = tf.constant
DataModule, TimeMachine = data_classes(
    tf.constant, lambda t: t.numpy() if hasattr(t, "numpy") else np.asarray(t)
)
cpu = BACKEND.cpu
gpu = BACKEND.gpu
num_gpus = BACKEND.num_gpus
try_gpu = v0.try_gpu
keras = tf.keras


class Module(ModuleSteps, keras.Model):
    """The book's base model: a ``tf.keras.Model`` with ``training_step``, ``validation_step``,
    ``configure_optimizers`` and ``plot`` (recorded on :attr:`board`, a :class:`ProgressBoard`)."""

    def __init__(self, plot_train_per_epoch: int = 2, plot_valid_per_epoch: int = 1) -> None:
        super().__init__(plot_train_per_epoch, plot_valid_per_epoch)
        self.training = None

    def call(self, X: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs and "training" in kwargs:
            self.training = kwargs["training"]
        return self.forward(X, *args)

    def _scalar(self, value: Any) -> float:
        return float(tf.convert_to_tensor(value).numpy())

    def configure_optimizers(self) -> Any:
        return keras.optimizers.SGD(self.lr)

    # --- the tab's primitives, called by the core loop through d2lrnn.book.v1.Trainer ----------
    def _book_update(self, trainer: Trainer, batch: Any) -> tf.Tensor:
        """One training step as the book does it: GradientTape, the clipping hook, the optimizer."""
        with tf.GradientTape() as tape:
            loss = self.training_step(batch)
        grads = tape.gradient(loss, self.trainable_variables)
        if trainer.gradient_clip_val > 0:
            grads = trainer.clip_gradients(trainer.gradient_clip_val, grads)
        trainer.optim.apply_gradients(zip(grads, self.trainable_variables))
        return loss

    def _book_validate(self, trainer: Trainer, batch: Any) -> Any:
        return self.validation_step(batch)


class Classifier(Module):
    """A model whose loss is the cross-entropy of its logits; validation also plots accuracy."""

    def validation_step(self, batch: Any) -> tf.Tensor:
        Y_hat = self(*batch[:-1])
        loss = self.loss(Y_hat, batch[-1])
        self.plot("loss", loss, train=False)
        self.plot("acc", self.accuracy(Y_hat, batch[-1]), train=False)
        return loss

    def accuracy(self, Y_hat: tf.Tensor, Y: tf.Tensor, averaged: bool = True) -> tf.Tensor:
        predicted = tf.cast(tf.argmax(tf.reshape(Y_hat, (-1, Y_hat.shape[-1])), axis=1), Y.dtype)
        correct = tf.cast(predicted == tf.reshape(Y, -1), tf.float32)
        return tf.reduce_mean(correct) if averaged else correct

    def loss(self, Y_hat: tf.Tensor, Y: tf.Tensor, averaged: bool = True) -> tf.Tensor:
        logits = tf.reshape(Y_hat, (-1, Y_hat.shape[-1]))
        losses = tf.keras.losses.sparse_categorical_crossentropy(
            tf.reshape(Y, (-1,)), logits, from_logits=True
        )
        return tf.reduce_mean(losses) if averaged else losses


class RNNScratch(RecurrentLayerSteps, Module):
    __doc__ = RecurrentLayerSteps.__doc__

    def _init_weights(self) -> None:
        num_inputs = self.num_inputs
        num_hiddens = self.num_hiddens
        sigma = self.sigma
        self.W_xh = tf.Variable(tf.random.normal((num_inputs, num_hiddens)) * sigma)
        self.W_hh = tf.Variable(tf.random.normal((num_hiddens, num_hiddens)) * sigma)
        self.b_h = tf.Variable(tf.zeros(num_hiddens))

    def _zero_state(self, inputs: Any) -> Any:
        return tf.zeros((inputs.shape[1], self.num_hiddens))

    def _cell(self, X: Any, state: Any) -> Any:
        return tf.tanh(tf.matmul(X, self.W_xh) + tf.matmul(state, self.W_hh) + self.b_h)


class RNNLMScratch(LanguageModelSteps, Classifier):
    """A language model around a recurrent layer ``rnn``: one-hot inputs, a linear output,
    perplexity plotted."""

    def init_params(self) -> None:
        self.W_hq = tf.Variable(
            tf.random.normal((self.rnn.num_hiddens, self.vocab_size)) * self.rnn.sigma
        )
        self.b_q = tf.Variable(tf.zeros(self.vocab_size))

    def one_hot(self, X: tf.Tensor) -> tf.Tensor:
        return tf.one_hot(tf.transpose(X), self.vocab_size)

    def output_layer(self, rnn_outputs: Any) -> tf.Tensor:
        return tf.stack([tf.matmul(H, self.W_hq) + self.b_q for H in rnn_outputs], 1)

    def forward(self, X: tf.Tensor, state: Any = None) -> tf.Tensor:
        rnn_outputs, _ = self.rnn(self.one_hot(X), state)
        return self.output_layer(rnn_outputs)

    def predict(self, prefix: str, num_preds: int, vocab: Vocab, device: Any = None) -> str:
        """Warm up on ``prefix``, then greedily append ``num_preds`` tokens."""
        state, outputs = None, [vocab[prefix[0]]]
        for i in range(len(prefix) + num_preds - 1):
            X = tf.constant([[outputs[-1]]])
            rnn_outputs, state = self.rnn(self.one_hot(X), state)
            if i < len(prefix) - 1:
                outputs.append(vocab[prefix[i + 1]])
            else:
                Y = self.output_layer(rnn_outputs)
                outputs.append(int(tf.reshape(tf.argmax(Y, axis=2), ())))
        return "".join(vocab.idx_to_token[i] for i in outputs)


class RNN(CheckedCall, Module):
    """d2l 1.0.3's concise recurrent layer, ``RNN(num_hiddens)``: a time-major Keras ``SimpleRNN``.
    """

    def __init__(self, num_hiddens: int) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.rnn = keras.layers.SimpleRNN(
            num_hiddens, return_sequences=True, return_state=True, time_major=True
        )

    def forward(self, inputs: tf.Tensor, H: Any = None) -> Any:
        outputs, H = self.rnn(inputs, H)
        return outputs, H


class RNNLM(RNNLMScratch):
    """A language model around a framework recurrent layer: a dense output layer."""

    def init_params(self) -> None:
        self.linear = keras.layers.Dense(self.vocab_size)

    def output_layer(self, hiddens: tf.Tensor) -> tf.Tensor:
        return tf.transpose(self.linear(hiddens), (1, 0, 2))


# the d2l 0.x names, the same list on every tab (v0_aliases.V0_NAMES)
globals().update(v0_names(v0))
float32 = tf.float32
int32 = tf.int32
int64 = tf.int64
LEGACY_KERAS = v0.LEGACY_KERAS

__all__ = [
    *SHARED_NAMES,
    *TAB_NAMES,
    *V0_NAMES,
    "LEGACY_KERAS",
    "tensor",
    *tensor_aliases(tf),
]
