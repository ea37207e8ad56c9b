"""`from d2lrnn.draft import tensorflow as d2l`: the d2l 1.0 draft's tensorflow tab (see :mod:`d2lrnn.book.tensorflow`)."""

from d2lrnn.book.tensorflow import *  # noqa: F403
from d2lrnn.book.tensorflow import __all__  # noqa: F401
