"""d2l 1.0.3's MXNet tab: ``from d2lrnn import mxnet as d2l`` (also ``d2lrnn.v1.mxnet``).

It also offers the d2l 0.x names of :mod:`d2lrnn.book.v0.mxnet` that 1.0.3 does not redefine
(:data:`d2lrnn.book.aliases.V0_NAMES`). The framework-neutral parts are in :mod:`d2lrnn.book.v1`;
this module adds the MXNet pieces:
``Module`` (a Gluon ``Block``; scratch parameters are plain arrays found by ``get_scratch_params``),
``Classifier``, ``RNNScratch``, ``RNNLMScratch``, ``RNN(num_hiddens)``, ``RNNLM``, ``SGD``, the
tensor aliases and the autograd/optimizer primitive.
"""

# ruff: noqa: E402  (MXNet imports only through the 0.x tab module, which installs the NumPy layer)
from __future__ import annotations

from typing import Any

# isort: off
from ..v0 import mxnet as v0  # first: MXNet imports only after the compatibility layer is in place

from mxnet import autograd, gluon, np, npx
from mxnet.gluon import nn, rnn

# isort: on
from ...backends.mxnet import BACKEND
from ...vocab import SortedVocab as Vocab
from ..aliases import V0_NAMES, tensor_aliases, v0_names
from . import *  # noqa: F403  (the names every tab shares)
from . import (
    TAB_NAMES,
    CheckedCall,
    HyperParameters,
    LanguageModelSteps,
    ModuleSteps,
    RecurrentLayerSteps,
    data_classes,
)
from . import Trainer as _Trainer
from . import __all__ as SHARED_NAMES

mx = v0.mx
globals().update(tensor_aliases(mx))  # reshape, zeros, ..., the book's tensor aliases
tensor = np.array
DataModule, TimeMachine = data_classes(
    np.array, lambda t: t.asnumpy() if hasattr(t, "asnumpy") else t
)
cpu = BACKEND.cpu
gpu = BACKEND.gpu
num_gpus = BACKEND.num_gpus
try_gpu = BACKEND.try_gpu


class Trainer(_Trainer):
    """The book's :class:`d2lrnn.book.v1.Trainer`; ``prepare_model`` also puts a scratch model's
    plain arrays on the trainer's device."""

    def prepare_model(self, model: Any) -> None:
        super().prepare_model(model)
        model.set_scratch_params_device(BACKEND.try_gpu() if self.num_gpus else BACKEND.cpu())


class SGD(HyperParameters):
    """Minibatch SGD over plain arrays with gradients (the scratch models' optimizer)."""

    def __init__(self, params: list[Any], lr: float) -> None:
        self.save_hyperparameters()

    def step(self, batch_size: int) -> None:
        for param in self.params:
            param -= self.lr * param.grad / batch_size


class Module(ModuleSteps, nn.Block):
    """The book's base model: a Gluon ``Block`` with ``training_step``, ``validation_step``,
    ``configure_optimizers`` and ``plot`` (recorded on :attr:`board`, a :class:`ProgressBoard`)."""

    def _scalar(self, value: Any) -> float:
        return float(value.item()) if hasattr(value, "item") else float(value)

    def _scratch_attributes(self) -> list[tuple[str, Any]]:
        """The attributes that may hold scratch parameters: ``(name, value)`` pairs."""
        skip = ("params", "hparams", "trainer", "board")
        return [
            (name, getattr(self, name, None))
            for name in dir(self)
            if not name.startswith("__") and name not in skip
        ]

    def _scratch_children(self) -> list[Module]:
        """The sub-modules held as attributes, alone or in a list or tuple (the book's ``self.rnns =
        [...]``)."""
        children = []
        for _, value in self._scratch_attributes():
            for item in value if isinstance(value, (list, tuple)) else (value,):
                if isinstance(item, Module) and item is not self:
                    children.append(item)
        return children

    def get_scratch_params(self) -> list[Any]:
        """The plain arrays held as attributes, and those of sub-modules: a scratch model's
        parameters.

        Sub-modules in a list or tuple count too (the book's MXNet ``get_scratch_params`` skipped
        them,
        so its ``StackedRNNScratch`` trained only the output layer).
        """
        params = [value for _, value in self._scratch_attributes() if isinstance(value, np.ndarray)]
        for child in self._scratch_children():
            params.extend(child.get_scratch_params())
        return params

    def parameters(self) -> Any:
        params = self.collect_params()
        return params if len(params.keys()) else self.get_scratch_params()

    def set_scratch_params_device(self, device: Any) -> None:
        """Move the plain-array parameters (sub-modules' too) to ``device`` and give them gradients.
        """
        for name, value in self._scratch_attributes():
            if isinstance(value, np.ndarray):
                with autograd.record():
                    setattr(self, name, value.as_in_ctx(device))
                getattr(self, name).attach_grad()
        for child in self._scratch_children():
            child.set_scratch_params_device(device)

    def configure_optimizers(self) -> Any:
        params = self.parameters()
        if isinstance(params, list):
            return SGD(params, self.lr)
        return gluon.Trainer(params, "sgd", {"learning_rate": self.lr})

    # --- the tab's primitives, called by the core loop through d2lrnn.book.v1.Trainer ----------
    def _book_update(self, trainer: Trainer, batch: Any) -> Any:
        """One training step as the book does it: record, backward, the clipping hook, the
        optimizer."""
        with autograd.record():
            loss = self.training_step(batch)
        loss.backward()
        if trainer.gradient_clip_val > 0:
            trainer.clip_gradients(trainer.gradient_clip_val, self)
        trainer.optim.step(1)
        return loss.detach()

    def _book_validate(self, trainer: Trainer, batch: Any) -> Any:
        return self.validation_step(batch)

    def _book_grads(self) -> list[Any]:
        params = self.parameters()
        if not isinstance(params, list):
            return [p.grad() for p in params.values() if p.grad_req != "null"]
        return [p.grad for p in params]

    def _book_set_grads(self, grads: list[Any]) -> None:
        for grad, new in zip(self._book_grads(), grads):
            grad[:] = new


class Classifier(Module):
    """A model whose loss is the cross-entropy of its logits; validation also plots accuracy."""

    def validation_step(self, batch: Any) -> Any:
        Y_hat = self(*batch[:-1])
        loss = self.loss(Y_hat, batch[-1])
        self.plot("loss", loss, train=False)
        self.plot("acc", self.accuracy(Y_hat, batch[-1]), train=False)
        return loss

    def accuracy(self, Y_hat: Any, Y: Any, averaged: bool = True) -> Any:
        predicted = Y_hat.reshape(-1, Y_hat.shape[-1]).argmax(axis=1).astype(Y.dtype)
        correct = (predicted == Y.reshape(-1)).astype(np.float32)
        return correct.mean() if averaged else correct

    def loss(self, Y_hat: Any, Y: Any, averaged: bool = True) -> Any:
        logits = Y_hat.reshape(-1, Y_hat.shape[-1])
        losses = -npx.pick(npx.log_softmax(logits), Y.reshape(-1), axis=-1)
        return losses.mean() if averaged else losses


class RNNScratch(RecurrentLayerSteps, Module):
    __doc__ = RecurrentLayerSteps.__doc__

    def _init_weights(self) -> None:
        num_inputs = self.num_inputs
        num_hiddens = self.num_hiddens
        sigma = self.sigma
        self.W_xh = np.random.randn(num_inputs, num_hiddens) * sigma
        self.W_hh = np.random.randn(num_hiddens, num_hiddens) * sigma
        self.b_h = np.zeros(num_hiddens)

    def _zero_state(self, inputs: Any) -> Any:
        return np.zeros((inputs.shape[1], self.num_hiddens), ctx=inputs.ctx)

    def _cell(self, X: Any, state: Any) -> Any:
        return np.tanh(np.dot(X, self.W_xh) + np.dot(state, self.W_hh) + self.b_h)


class RNNLMScratch(LanguageModelSteps, Classifier):
    """A language model around a recurrent layer ``rnn``: one-hot inputs, a linear output,
    perplexity plotted."""

    def init_params(self) -> None:
        self.W_hq = np.random.randn(self.rnn.num_hiddens, self.vocab_size) * self.rnn.sigma
        self.b_q = np.zeros(self.vocab_size)

    def one_hot(self, X: Any) -> Any:
        return npx.one_hot(X.T, self.vocab_size)

    def output_layer(self, rnn_outputs: Any) -> Any:
        return np.stack([np.dot(H, self.W_hq) + self.b_q for H in rnn_outputs], 1)

    def forward(self, X: Any, state: Any = None) -> Any:
        rnn_outputs, _ = self.rnn(self.one_hot(X), state)
        return self.output_layer(rnn_outputs)

    def predict(self, prefix: str, num_preds: int, vocab: Vocab, device: Any = None) -> str:
        """Warm up on ``prefix``, then greedily append ``num_preds`` tokens."""
        state, outputs = None, [vocab[prefix[0]]]
        for i in range(len(prefix) + num_preds - 1):
            X = np.array([[outputs[-1]]], ctx=device)
            rnn_outputs, state = self.rnn(self.one_hot(X), state)
            if i < len(prefix) - 1:
                outputs.append(vocab[prefix[i + 1]])
            else:
                Y = self.output_layer(rnn_outputs)
                outputs.append(int(Y.argmax(axis=2).reshape(1)))
        return "".join(vocab.idx_to_token[i] for i in outputs)


class RNN(CheckedCall, Module):
    """d2l 1.0.3's concise recurrent layer, ``RNN(num_hiddens)``: Gluon's ``rnn.RNN``."""

    def __init__(self, num_hiddens: int) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.rnn = rnn.RNN(num_hiddens)

    def forward(self, inputs: Any, H: Any = None) -> Any:
        if H is None:
            (H,) = self.rnn.begin_state(inputs.shape[1], ctx=inputs.ctx)
        outputs, (H,) = self.rnn(inputs, (H,))
        return outputs, H


class RNNLM(RNNLMScratch):
    """A language model around a framework recurrent layer: a dense output layer."""

    def init_params(self) -> None:
        self.linear = nn.Dense(self.vocab_size, flatten=False)
        self.initialize()

    def output_layer(self, hiddens: Any) -> Any:
        return np.swapaxes(self.linear(hiddens), 0, 1)


# the d2l 0.x names, the same list on every tab (v0_aliases.V0_NAMES)
globals().update(v0_names(v0))
to = v0.to  # d2l 1.0.3's device move on this tab
float32 = np.float32
int32 = np.int32
int64 = np.int64

__all__ = [
    *SHARED_NAMES,
    *TAB_NAMES,
    *V0_NAMES,
    "SGD",
    "tensor",
    "to",
    *tensor_aliases(mx),
]
