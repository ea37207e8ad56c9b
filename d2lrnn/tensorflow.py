"""`from d2lrnn import tensorflow as d2l`: the book's names for this tab (see :mod:`d2lrnn.book.tensorflow`)."""

from d2lrnn.book.tensorflow import *  # noqa: F403
from d2lrnn.book.tensorflow import __all__  # noqa: F401
