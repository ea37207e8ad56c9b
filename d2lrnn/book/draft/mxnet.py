"""The d2l 1.0 draft's MXNet tab (``from d2lrnn.draft import mxnet as d2l``): the 0.x names of
:mod:`d2lrnn.book.v0.mxnet` and the draft's ``RNN``, ``RNNScratch``, ``TimeMachine`` and
``Trainer``."""

from __future__ import annotations

# isort: off
from ..v0.mxnet import *  # noqa: F403  (first: it prepares the framework's import)
from ..v0.mxnet import __all__ as V0_NAMES
from ...backends.mxnet import RNN, RNNScratch  # noqa: F401
from ...data import TimeMachine  # noqa: F401
from . import DRAFT_NAMES, Trainer  # noqa: E402, F401
# isort: on

__all__ = [*V0_NAMES, *DRAFT_NAMES]
