"""`from d2lrnn import mxnet as d2l`: the book's names for this tab (see :mod:`d2lrnn.book.mxnet`)."""

from d2lrnn.book.mxnet import *  # noqa: F403
from d2lrnn.book.mxnet import __all__  # noqa: F401
