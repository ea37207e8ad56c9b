"""The PyTorch adapter: ``torch.nn.RNN`` (concise) and a from-scratch RNN on PyTorch tensors."""

from .models import RNN, RNNScratch
from .ops import TorchBackend

BACKEND = TorchBackend()

__all__ = ["BACKEND", "RNN", "RNNScratch", "TorchBackend"]
