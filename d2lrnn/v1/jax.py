"""`from d2lrnn.v1 import jax as d2l`: d2l 1.0.3's JAX tab (see :mod:`d2lrnn.book.v1_jax`)."""

from d2lrnn.book.v1_jax import *  # noqa: F403
from d2lrnn.book.v1_jax import __all__  # noqa: F401
