"""`from d2lrnn import torch as d2l`: the book's names for this tab (see :mod:`d2lrnn.book.torch`)."""

from d2lrnn.book.torch import *  # noqa: F403
from d2lrnn.book.torch import __all__  # noqa: F401
