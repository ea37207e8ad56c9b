"""PyTorch models: ``torch.nn.RNN``/``GRU``/``LSTM`` (concise) and the from-scratch model of every
cell."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ...cells import Ops, get_cell, scratch_forward
from ...model import ModelMixin

OPS = Ops(torch.matmul, torch.sigmoid, torch.tanh, lambda a, n: a.chunk(n, -1))
#: the framework layer of each cell (the gate order of every one is the canonical one)
LAYERS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class Model(ModelMixin, nn.Module):
    """What the concise and the scratch model share: the primitives of the core's weight mapping."""

    backend_name = "torch"
    _rnn_layer_type, _out_in = tuple(LAYERS.values()), True

    def init_state(self, X: torch.Tensor) -> Any:
        """Zeros ``(num_layers, batch, num_hiddens)``; a tuple ``(h, c)`` of them for an LSTM."""
        parts = [torch.zeros((self.num_layers, X.shape[0], self.num_hiddens), device=X.device)
                 for _ in get_cell(self.cell_name).state_parts]
        return tuple(parts) if len(parts) > 1 else parts[0]

    def _layer_params(self, layer: int) -> dict[str, Any]:
        names = {"W_ih": "weight_ih", "W_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh"}
        return {key: getattr(self.rnn, f"{name}_l{layer}") for key, name in names.items()}

    def _dense_params(self) -> tuple[Any, Any]:
        return self.linear.weight, self.linear.bias

    def _read(self, param: torch.Tensor) -> np.ndarray:
        return param.detach().cpu().numpy()

    def _write(self, param: torch.Tensor, value: np.ndarray) -> None:
        with torch.no_grad():
            param.copy_(torch.from_numpy(np.ascontiguousarray(value)))


class RNNScratch(Model):
    """A recurrent model written with tensor operations, with d2l's ``RNNScratch`` interface.

    ``forward(X, state=None)`` takes token indices ``(batch, num_steps)`` and returns time-major
    logits ``(num_steps, batch, num_outputs)`` and the state ``(num_layers, batch, num_hiddens)``
    (a tuple ``(h, c)`` for an LSTM). The step equations are the cell's (:mod:`d2lrnn.cells`).
    Subclasses override ``init_params``, ``forward`` and ``init_state``.
    """

    def init_params(self) -> None:
        spec = get_cell(self.cell_name)
        for name in spec.layer_names():
            shapes = [
                spec.layer_shapes(
                    self.num_inputs if layer == 0 else self.num_hiddens, self.num_hiddens
                )[name]
                for layer in range(self.num_layers)
            ]
            setattr(self, name, nn.ParameterList(self._init(name, shape) for shape in shapes))
        self.W_hq = self._init("W_hq", (self.num_hiddens, self.num_outputs))
        self.b_q = self._init("b_q", (self.num_outputs,))

    def _init(self, name: str, shape: tuple[int, ...]) -> nn.Parameter:
        return nn.Parameter(
            torch.zeros(shape) if name.startswith("b") else torch.randn(*shape) * self.sigma
        )

    def forward(self, X: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        if state is None:
            state = self.init_state(X)
        spec = get_cell(self.cell_name)
        params = {name: list(getattr(self, name)) for name in spec.layer_names()}
        params["W_hq"], params["b_q"] = self.W_hq, self.b_q
        # one-hot rows times W_x: a gather
        xp0 = params[spec.input_weight][0][X.T] + params[spec.input_bias][0]
        return scratch_forward(self.cell_name, OPS, params, xp0, state, torch.stack)


class RNN(Model):
    """The concise model: ``torch.nn.RNN``, ``GRU`` or ``LSTM`` followed by a linear output layer.
    """

    kind = "concise"

    def init_params(self) -> None:
        layer = LAYERS[self.cell_name]
        extra = {"nonlinearity": "tanh"} if layer is nn.RNN else {}
        self.rnn = layer(self.num_inputs, self.num_hiddens, num_layers=self.num_layers, **extra)
        self.linear = nn.Linear(self.num_hiddens, self.num_outputs)
        if not get_cell(self.cell_name).recurrent_bias:
            # One bias per layer, as in the canonical weights and Keras: the second one that
            # cuDNN-style layers keep is zero and frozen, so every backend trains the same model.
            for i in range(self.num_layers):
                getattr(self.rnn, f"bias_hh_l{i}").requires_grad_(False).zero_()

    def forward(self, X: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        if state is None:
            state = self.init_state(X)
        embs = F.one_hot(X.T, self.num_inputs).to(torch.float32)
        Y, state = self.rnn(embs, state)
        return self.linear(Y), state
