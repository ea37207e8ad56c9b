"""PyTorch primitives for the core: tensors, devices, gradients, the SGD update."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ...metrics import ArrayMath
from ..base import Backend
from .models import RNN, RNNScratch


class TorchBackend(Backend):
    name = "torch"
    math = ArrayMath(torch.sum, torch.sqrt, torch.clamp_min)
    RNN = RNN
    RNNScratch = RNNScratch
    runtime_threads = True

    def tensor(self, array: np.ndarray, device: Any = None) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(array))
        return (
            t
            if device is None or t.device == torch.device(device)
            else t.to(device, non_blocking=True)
        )

    def to_numpy(self, tensor: torch.Tensor) -> np.ndarray:
        return tensor.detach().cpu().numpy()

    def cpu(self) -> torch.device:
        return torch.device("cpu")

    def num_gpus(self) -> int:
        return torch.cuda.device_count()

    def gpu(self, i: int = 0) -> torch.device:
        return torch.device(f"cuda:{i}")

    def synchronize(self) -> None:
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()

    def seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def set_threads(self, threads: int) -> None:
        """Intra-op CPU threads (the inter-op pool is fixed once used; ``OMP_NUM_THREADS`` covers
        it)."""
        torch.set_num_threads(threads)

    def model_device(self, model: nn.Module) -> torch.device | None:
        return next((p.device for p in model.parameters()), None)

    def to_device(self, model: nn.Module, device: Any) -> nn.Module:
        return model.to(device)

    def parameters(self, model: nn.Module, sample: Any = None) -> list[nn.Parameter]:
        return [p for p in model.parameters() if p.requires_grad]

    def _cross_entropy(self, logits: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.T.reshape(-1))

    def loss(
        self, model: nn.Module, X: torch.Tensor, Y: torch.Tensor, state: Any
    ) -> tuple[torch.Tensor, Any]:
        with torch.no_grad():
            logits, state = model(X, state)
            return self._cross_entropy(logits, Y), state

    def loss_and_grads(
        self, model: nn.Module, params: list[Any], X: torch.Tensor, Y: torch.Tensor, state: Any
    ):
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

