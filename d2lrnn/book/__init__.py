"""The book's own names, one module per framework tab and API generation, all running on the core.

``from d2lrnn import torch as d2l`` (or ``mxnet``, ``tensorflow``, ``gluonbook``) re-exports the
matching module here, so the book's cells run with that one import line changed.
"""
