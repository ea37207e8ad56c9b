"""`from d2lrnn import torch as d2l`: the published book (d2l 1.0.3) and the d2l 0.x names (see docs/book.md)."""

from d2lrnn.book.v1_torch import *  # noqa: F403
from d2lrnn.book.v1_torch import __all__  # noqa: F401
