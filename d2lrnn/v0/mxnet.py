"""`from d2lrnn.v0 import mxnet as d2l`: d2l 0.x's mxnet names (see :mod:`d2lrnn.book.mxnet`)."""

from d2lrnn.book.mxnet import *  # noqa: F403
from d2lrnn.book.mxnet import __all__  # noqa: F401
