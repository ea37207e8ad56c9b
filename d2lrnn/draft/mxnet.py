"""`from d2lrnn.draft import mxnet as d2l`: the d2l 1.0 draft's mxnet tab and the 0.x names (see :mod:`d2lrnn.book.mxnet`)."""

from d2lrnn.book.mxnet import *  # noqa: F403
from d2lrnn.book.mxnet import __all__  # noqa: F401
