"""d2l 1.0.3's PyTorch tab: ``from d2lrnn import torch as d2l`` (also ``d2lrnn.v1.torch``).

It also offers the d2l 0.x names of :mod:`d2lrnn.book.v0.torch` that 1.0.3 does not redefine
(:data:`d2lrnn.book.aliases.V0_NAMES`). The framework-neutral parts are in :mod:`d2lrnn.book.v1`;
this module adds the PyTorch pieces:
``Module`` (a ``torch.nn.Module``), ``Classifier``, ``RNNScratch`` (the recurrent layer alone),
``RNNLMScratch``, ``RNN``, ``RNNLM``, the tensor aliases and the autograd/optimizer primitive.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ...backends.torch import BACKEND
from ...vocab import SortedVocab as Vocab
from ..aliases import V0_NAMES, tensor_aliases, v0_names
from ..v0 import torch as v0
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

globals().update(tensor_aliases(torch))  # reshape, zeros, ..., the book's tensor aliases
tensor = torch.tensor
DataModule, TimeMachine = data_classes(
    torch.as_tensor, lambda t: np.asarray(t.detach().cpu() if torch.is_tensor(t) else t)
)
swapaxes = torch.swapaxes
randn = torch.randn
cpu = BACKEND.cpu
gpu = BACKEND.gpu
num_gpus = BACKEND.num_gpus
try_gpu = BACKEND.try_gpu


class Module(ModuleSteps, nn.Module):
    """The book's base model: a ``torch.nn.Module`` with ``training_step``, ``validation_step``,
    ``configure_optimizers`` and ``plot`` (recorded on :attr:`board`, a :class:`ProgressBoard`)."""

    def _scalar(self, value: Any) -> float:
        return float(torch.as_tensor(value).detach().cpu())

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.lr)

    # --- the tab's primitives, called by the core loop through d2lrnn.book.v1.Trainer ----------
    def _book_update(self, trainer: Trainer, batch: Any) -> torch.Tensor:
        """One training step as the book does it: loss, backward, the clipping hook, the optimizer.
        """
        self.train()
        loss = self.training_step(batch)
        trainer.optim.zero_grad()
        with torch.no_grad():
            loss.backward()
            if trainer.gradient_clip_val > 0:
                trainer.clip_gradients(trainer.gradient_clip_val, self)
            trainer.optim.step()
        return loss.detach()

    def _book_validate(self, trainer: Trainer, batch: Any) -> Any:
        self.eval()
        with torch.no_grad():
            return self.validation_step(batch)

    def _book_grads(self) -> list[torch.Tensor]:
        return [p.grad for p in self.parameters() if p.requires_grad and p.grad is not None]

    def _book_set_grads(self, grads: list[torch.Tensor]) -> None:
        with torch.no_grad():
            torch._foreach_copy_(self._book_grads(), grads)


class Classifier(Module):
    """A model whose loss is the cross-entropy of its logits; validation also plots accuracy."""

    def validation_step(self, batch: Any) -> torch.Tensor:
        Y_hat = self(*batch[:-1])
        loss = self.loss(Y_hat, batch[-1])
        self.plot("loss", loss, train=False)
        self.plot("acc", self.accuracy(Y_hat, batch[-1]), train=False)
        return loss

    def accuracy(self, Y_hat: torch.Tensor, Y: torch.Tensor, averaged: bool = True) -> torch.Tensor:
        predicted = Y_hat.reshape(-1, Y_hat.shape[-1]).argmax(dim=1).type(Y.dtype)
        correct = (predicted == Y.reshape(-1)).type(torch.float32)
        return correct.mean() if averaged else correct

    def loss(self, Y_hat: torch.Tensor, Y: torch.Tensor, averaged: bool = True) -> torch.Tensor:
        logits = Y_hat.reshape(-1, Y_hat.shape[-1])
        return F.cross_entropy(
            logits, Y.reshape(-1).long(), reduction="mean" if averaged else "none"
        )


class RNNScratch(RecurrentLayerSteps, Module):
    __doc__ = RecurrentLayerSteps.__doc__

    def _init_weights(self) -> None:
        num_inputs = self.num_inputs
        num_hiddens = self.num_hiddens
        sigma = self.sigma
        self.W_xh = nn.Parameter(torch.randn(num_inputs, num_hiddens) * sigma)
        self.W_hh = nn.Parameter(torch.randn(num_hiddens, num_hiddens) * sigma)
        self.b_h = nn.Parameter(torch.zeros(num_hiddens))

    def _zero_state(self, inputs: Any) -> Any:
        return torch.zeros((inputs.shape[1], self.num_hiddens), device=inputs.device)

    def _cell(self, X: Any, state: Any) -> Any:
        return torch.tanh(X @ self.W_xh + state @ self.W_hh + self.b_h)


class RNNLMScratch(LanguageModelSteps, Classifier):
    """A language model around a recurrent layer ``rnn``: one-hot inputs, a linear output,
    perplexity plotted."""

    def init_params(self) -> None:
        self.W_hq = nn.Parameter(
            torch.randn(self.rnn.num_hiddens, self.vocab_size) * self.rnn.sigma
        )
        self.b_q = nn.Parameter(torch.zeros(self.vocab_size))

    def one_hot(self, X: torch.Tensor) -> torch.Tensor:
        return F.one_hot(X.T.long(), self.vocab_size).type(torch.float32)

    def output_layer(self, rnn_outputs: Any) -> torch.Tensor:
        return torch.stack([H @ self.W_hq + self.b_q for H in rnn_outputs], 1)

    def forward(self, X: torch.Tensor, state: Any = None) -> torch.Tensor:
        rnn_outputs, _ = self.rnn(self.one_hot(X), state)
        return self.output_layer(rnn_outputs)

    def predict(self, prefix: str, num_preds: int, vocab: Vocab, device: Any = None) -> str:
        """Warm up on ``prefix``, then greedily append ``num_preds`` tokens."""
        state, outputs = None, [vocab[prefix[0]]]
        with torch.no_grad():
            for i in range(len(prefix) + num_preds - 1):
                X = torch.tensor([[outputs[-1]]], device=device)
                rnn_outputs, state = self.rnn(self.one_hot(X), state)
                if i < len(prefix) - 1:
                    outputs.append(vocab[prefix[i + 1]])
                else:
                    outputs.append(int(self.output_layer(rnn_outputs).argmax(axis=2).reshape(1)))
        return "".join(vocab.idx_to_token[i] for i in outputs)


class RNN(CheckedCall, Module):
    """d2l 1.0.3's concise recurrent layer: ``torch.nn.RNN(num_inputs, num_hiddens)``."""

    def __init__(self, num_inputs: int, num_hiddens: int) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.rnn = nn.RNN(num_inputs, num_hiddens)

    def forward(self, inputs: torch.Tensor, H: Any = None) -> Any:
        return self.rnn(inputs, H)


class RNNLM(RNNLMScratch):
    """A language model around a framework recurrent layer: a lazily sized linear output."""

    def init_params(self) -> None:
        self.linear = nn.LazyLinear(self.vocab_size)

    def output_layer(self, hiddens: torch.Tensor) -> torch.Tensor:
        return self.linear(hiddens).swapaxes(0, 1)


# the d2l 0.x names, the same list on every tab (v0_aliases.V0_NAMES)
globals().update(v0_names(v0))
to = v0.to  # d2l 1.0.3's device move on this tab
float32 = torch.float32
int32 = torch.int32
int64 = torch.int64

__all__ = [
    *SHARED_NAMES,
    *TAB_NAMES,
    *V0_NAMES,
    "randn",
    "swapaxes",
    "tensor",
    "to",
    *tensor_aliases(torch),
]
