"""`from d2lrnn.v1 import tensorflow as d2l`: d2l 1.0.3's TensorFlow tab (see :mod:`d2lrnn.book.v1_tensorflow`)."""

from d2lrnn.book.v1_tensorflow import *  # noqa: F403
from d2lrnn.book.v1_tensorflow import __all__  # noqa: F401
