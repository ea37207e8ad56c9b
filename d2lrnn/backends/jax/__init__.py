"""The JAX adapter: Flax's ``nnx.RNN(nnx.SimpleCell)`` (concise) and a from-scratch RNN in
``jax.numpy``."""

from .models import RNN, FlaxLayer, RNNScratch
from .ops import JaxBackend

BACKEND = JaxBackend()

__all__ = ["BACKEND", "FlaxLayer", "JaxBackend", "RNN", "RNNScratch"]
