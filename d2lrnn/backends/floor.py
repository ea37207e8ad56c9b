"""What every backend's benchmark floor (``backends/<name>/floor.py``, ``train_floor``) takes and returns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: the training batches, NumPy ``(X, Y)`` pairs built once before the first epoch
Batches = Sequence[tuple[np.ndarray, np.ndarray]]
#: one epoch's measurement: ``{"tokens", "seconds", "loss"}``
Epoch = dict[str, float]
