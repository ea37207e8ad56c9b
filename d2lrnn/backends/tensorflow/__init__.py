"""The TensorFlow adapter: ``keras.layers.RNN(SimpleRNNCell)`` (concise) and a from-scratch RNN."""

from .models import RNN, RNNScratch
from .ops import TensorFlowBackend

BACKEND = TensorFlowBackend()

__all__ = ["BACKEND", "RNN", "RNNScratch", "TensorFlowBackend"]
