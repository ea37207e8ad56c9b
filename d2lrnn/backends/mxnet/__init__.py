"""The MXNet adapter: ``gluon.rnn.RNN`` (concise) and a from-scratch RNN, hybridized.

Importing this package only makes ``import mxnet`` work on current NumPy (:mod:`.compat`). The
adapter itself (``BACKEND``, ``RNN``, ``RNNScratch``) loads on first use, and switches MXNet to
NumPy mode (``npx.set_np()``); :mod:`d2lrnn.book.gluonbook` imports MXNet without doing that.
"""

from __future__ import annotations

import sys
from typing import Any

from ...errors import BackendError
from .compat import import_mxnet

_EXPORTS = ("BACKEND", "MXNetBackend", "RNN", "RNNScratch")


def _check_import_order() -> None:
    if "mxnet" not in sys.modules and "tensorflow" in sys.modules:
        raise BackendError(
            "MXNet 1.9 crashes when it is imported after TensorFlow in the same process (the "
            "process dies: a heap-corruption abort with TensorFlow 2.18, a segmentation fault "
            "with 2.17). Choose the mxnet backend before tensorflow (import mxnet first), or use "
            "one backend per process."
        )


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _check_import_order()
    import_mxnet()
    from .models import RNN, RNNScratch
    from .ops import MXNetBackend

    module = sys.modules[__name__]
    module.RNN = RNN
    module.RNNScratch = RNNScratch
    module.MXNetBackend = MXNetBackend
    module.BACKEND = MXNetBackend()
    return getattr(module, name)


__all__ = [*_EXPORTS, "import_mxnet"]
