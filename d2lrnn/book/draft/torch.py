"""The d2l 1.0 draft's PyTorch tab (``from d2lrnn.draft import torch as d2l``): the 0.x names of
:mod:`d2lrnn.book.v0.torch` and the draft's ``RNN``, ``RNNScratch``, ``TimeMachine`` and
``Trainer``."""

from __future__ import annotations

# isort: off
from ..v0.torch import *  # noqa: F403  (first: it prepares the framework's import)
from ..v0.torch import __all__ as V0_NAMES
from ...backends.torch import RNN, RNNScratch  # noqa: F401
from ...data import TimeMachine  # noqa: F401
from . import DRAFT_NAMES, Trainer  # noqa: E402, F401
# isort: on

__all__ = [*V0_NAMES, *DRAFT_NAMES]
