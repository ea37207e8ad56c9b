"""`from d2lrnn import jax as d2l`: the published book's (d2l 1.0.3) JAX tab (see docs/book.md)."""

from d2lrnn.book.v1_jax import *  # noqa: F403
from d2lrnn.book.v1_jax import __all__  # noqa: F401
