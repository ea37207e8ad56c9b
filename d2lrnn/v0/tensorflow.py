"""`from d2lrnn.v0 import tensorflow as d2l`: d2l 0.x's tensorflow names (see :mod:`d2lrnn.book.tensorflow`)."""

from d2lrnn.book.tensorflow import *  # noqa: F403
from d2lrnn.book.tensorflow import __all__  # noqa: F401
