"""`from d2lrnn.v1 import torch as d2l`: d2l 1.0.3's PyTorch tab (see :mod:`d2lrnn.book.v1_torch`)."""

from d2lrnn.book.v1_torch import *  # noqa: F403
from d2lrnn.book.v1_torch import __all__  # noqa: F401
