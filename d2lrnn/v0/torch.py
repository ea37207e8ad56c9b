"""`from d2lrnn.v0 import torch as d2l`: d2l 0.x's PyTorch names (see :mod:`d2lrnn.book.torch`)."""

from d2lrnn.book.torch import *  # noqa: F403
from d2lrnn.book.torch import __all__  # noqa: F401
