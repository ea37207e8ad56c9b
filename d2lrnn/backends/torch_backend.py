"""PyTorch adapter: ``torch.nn.RNN`` (concise) and a from-scratch RNN."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..model import ModelMixin
from .base import Backend


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

    def _export_weights(self) -> dict[str, Any]:
        if isinstance(getattr(self, "rnn", None), nn.RNN):  # built from torch layers, like the book's subclass
            return RNN._export_weights(self)
        return {k: p.detach().cpu().numpy() for k, p in self._canonical_params().items()}

    def _import_weights(self, weights: dict[str, np.ndarray]) -> None:
        if isinstance(getattr(self, "rnn", None), nn.RNN):
            return RNN._import_weights(self, weights)
        with torch.no_grad():
            for k, p in self._canonical_params().items():
                p.copy_(torch.from_numpy(weights[k]))


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

    def _export_weights(self) -> dict[str, Any]:
        out = {}
        for layer in range(self.num_layers):
            p = {n: getattr(self.rnn, f"{n}_l{layer}").detach().cpu().numpy()
                 for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
            out[f"W_xh.{layer}"], out[f"W_hh.{layer}"] = p["weight_ih"].T, p["weight_hh"].T
            out[f"b_h.{layer}"] = p["bias_ih"] + p["bias_hh"]  # two recurrent biases fold into one
        out["W_hq"] = self.linear.weight.detach().cpu().numpy().T
        out["b_q"] = self.linear.bias.detach().cpu().numpy()
        return out

    def _import_weights(self, weights: dict[str, np.ndarray]) -> None:
        with torch.no_grad():
            for layer in range(self.num_layers):
                getattr(self.rnn, f"weight_ih_l{layer}").copy_(torch.from_numpy(weights[f"W_xh.{layer}"].T))
                getattr(self.rnn, f"weight_hh_l{layer}").copy_(torch.from_numpy(weights[f"W_hh.{layer}"].T))
                getattr(self.rnn, f"bias_ih_l{layer}").copy_(torch.from_numpy(weights[f"b_h.{layer}"]))
                getattr(self.rnn, f"bias_hh_l{layer}").zero_()
            self.linear.weight.copy_(torch.from_numpy(weights["W_hq"].T))
            self.linear.bias.copy_(torch.from_numpy(weights["b_q"]))


class TorchBackend(Backend):
    name = "torch"
    module_roots = ("torch",)
    RNN = RNN
    RNNScratch = RNNScratch

    def tensor(self, array: np.ndarray, device: Any = None) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(array))
        return t if device is None or t.device == torch.device(device) else t.to(device, non_blocking=True)

    def to_numpy(self, tensor: torch.Tensor) -> np.ndarray:
        return tensor.detach().cpu().numpy()

    def to_float(self, tensor: torch.Tensor) -> float:
        return float(tensor.item())

    def cpu(self) -> torch.device:
        return torch.device("cpu")

    def num_gpus(self) -> int:
        return torch.cuda.device_count()

    def gpu(self, i: int = 0) -> torch.device:
        return torch.device(f"cuda:{i}")

    def seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def sqrt(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sqrt(x)

    def maximum(self, x: torch.Tensor, y: float) -> torch.Tensor:
        return torch.clamp(x, min=y)

    def model_device(self, model: nn.Module) -> torch.device | None:
        return next((p.device for p in model.parameters()), None)

    def to_device(self, model: nn.Module, device: Any) -> nn.Module:
        return model.to(device)

    def parameters(self, model: nn.Module, sample: Any = None) -> list[nn.Parameter]:
        return [p for p in model.parameters() if p.requires_grad]

    def _cross_entropy(self, logits: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.T.reshape(-1))

    def loss(self, model: nn.Module, X: torch.Tensor, Y: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        with torch.no_grad():
            logits, state = model(X, state)
            return self._cross_entropy(logits, Y), state

    def loss_and_grads(self, model: nn.Module, params: list[Any], X: torch.Tensor, Y: torch.Tensor, state: Any):
        logits, state = model(X, state)
        loss = self._cross_entropy(logits, Y)
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        grads = [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]
        return loss.detach(), grads, state

    def sgd_update(self, params: list[Any], grads: list[torch.Tensor], lr: float) -> None:
        with torch.no_grad():
            torch._foreach_add_(params, grads, alpha=-lr)

    def detach_tensor(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.detach()

    def forward(self, model: nn.Module, X: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        with torch.no_grad():
            return model(X, state)


BACKEND = TorchBackend()
