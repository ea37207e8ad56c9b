"""PyTorch models: ``torch.nn.RNN`` (concise) and a from-scratch RNN."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ...model import ModelMixin


class RNNScratch(ModelMixin, nn.Module):
    """An RNN written with tensor operations, with d2l's ``RNNScratch`` interface.

    ``forward(X, state=None)`` takes token indices ``(batch, num_steps)`` and returns time-major
    logits ``(num_steps, batch, num_outputs)`` and the state ``(num_layers, batch, num_hiddens)``.
    Subclasses override ``init_params``, ``forward`` and ``init_state``.
    """

    def init_params(self) -> None:
        def normal(*shape: int) -> nn.Parameter:
            return nn.Parameter(torch.randn(*shape) * self.sigma)

        sizes = [self.num_inputs] + [self.num_hiddens] * (self.num_layers - 1)
        self.W_xh = nn.ParameterList(normal(n, self.num_hiddens) for n in sizes)
        self.W_hh = nn.ParameterList(normal(self.num_hiddens, self.num_hiddens) for _ in sizes)
        self.b_h = nn.ParameterList(nn.Parameter(torch.zeros(self.num_hiddens)) for _ in sizes)
        self.W_hq = normal(self.num_hiddens, self.num_outputs)
        self.b_q = nn.Parameter(torch.zeros(self.num_outputs))

    def init_state(self, X: torch.Tensor) -> torch.Tensor:
        return torch.zeros((self.num_layers, X.shape[0], self.num_hiddens), device=X.device)

    def forward(self, X: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if state is None:
            state = self.init_state(X)
        layer_input = self.W_xh[0][X.T]  # a one-hot row times W_xh is a row of W_xh: gather it
        hidden = list(state.unbind(0))
        for layer in range(self.num_layers):
            if layer > 0:
                layer_input = layer_input @ self.W_xh[layer]
            projected = layer_input + self.b_h[layer]
            h, outputs = hidden[layer], []
            for x_t in projected:
                h = torch.tanh(x_t + h @ self.W_hh[layer])
                outputs.append(h)
            hidden[layer], layer_input = h, torch.stack(outputs)
        return layer_input @ self.W_hq + self.b_q, torch.stack(hidden)

    # primitives of the core's weight mapping (d2lrnn.model)
    backend_name = "torch"
    _rnn_layer_type, _out_in = nn.RNN, True

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


class RNN(RNNScratch):
    """The concise model: ``torch.nn.RNN`` followed by a linear output layer."""

    kind = "concise"

    def init_params(self) -> None:
        self.rnn = nn.RNN(self.num_inputs, self.num_hiddens, num_layers=self.num_layers)
        self.linear = nn.Linear(self.num_hiddens, self.num_outputs)
        # One recurrent bias per layer, as in the book's equations and Keras: the second one that
        # cuDNN-style layers keep is zero and frozen, so every backend trains the same model.
        for layer in range(self.num_layers):
            getattr(self.rnn, f"bias_hh_l{layer}").requires_grad_(False).zero_()

    def forward(self, X: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if state is None:
            state = self.init_state(X)
        embs = F.one_hot(X.T, self.num_inputs).to(torch.float32)
        Y, state = self.rnn(embs, state)
        return self.linear(Y), state
