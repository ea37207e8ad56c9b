"""`from d2lrnn.draft import torch as d2l`: the d2l 1.0 draft's torch tab and the 0.x names (see :mod:`d2lrnn.book.torch`)."""

from d2lrnn.book.torch import *  # noqa: F403
from d2lrnn.book.torch import __all__  # noqa: F401
