"""Data-parallel training: the batch's streams split among workers, gradients averaged by each
engine.

Backend-neutral: the split of the batch (:mod:`.shard`), the worker group the trainer calls once per
batch (:mod:`.group`), finding out whether this process is a worker (:mod:`.placement`) and the
local launcher that starts N workers on one machine (:mod:`.launch`). Each adapter supplies the
engine's own all-reduce in ``d2lrnn/backends/<name>/collective.py``. Importing this package imports
no framework.
"""

from .group import Group
from .placement import MODES, check_workers, engine_mode, is_worker, join
from .run import WorkersStopped, train
from .shard import ShardedLoader, shard_rows

__all__ = [
    "MODES",
    "Group",
    "ShardedLoader",
    "WorkersStopped",
    "check_workers",
    "engine_mode",
    "is_worker",
    "join",
    "shard_rows",
    "train",
]
