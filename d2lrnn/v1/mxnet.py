"""`from d2lrnn.v1 import mxnet as d2l`: d2l 1.0.3's MXNet tab (see :mod:`d2lrnn.book.v1_mxnet`)."""

from d2lrnn.book.v1_mxnet import *  # noqa: F403
from d2lrnn.book.v1_mxnet import __all__  # noqa: F401
