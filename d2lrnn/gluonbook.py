"""`from d2lrnn import gluonbook as d2l`: the book's names for this tab (see :mod:`d2lrnn.book.gluonbook`)."""

from d2lrnn.book.gluonbook import *  # noqa: F403
from d2lrnn.book.gluonbook import __all__  # noqa: F401
