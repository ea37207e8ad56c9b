"""TensorFlow's data-parallel engine: ``tf.distribute.MultiWorkerMirroredStrategy`` and its
all-reduce.

A worker joins with ``TF_CONFIG`` (the multi-machine docs), or with the variables d2lrnn's local
launcher sets (``D2LRNN_RANK``, ``D2LRNN_PEERS``), from which it writes ``TF_CONFIG``. The
strategy is made before any other TensorFlow operation runs, as it requires; the mean is the
replica context's ``all_reduce`` inside ``strategy.run``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from ...distributed.group import Group


def _tf_config() -> None:
    if "TF_CONFIG" not in os.environ:
        peers = os.environ["D2LRNN_PEERS"].split(",")
        os.environ["TF_CONFIG"] = json.dumps(
            {
                "cluster": {"worker": peers},
                "task": {"type": "worker", "index": int(os.environ["D2LRNN_RANK"])},
            }
        )


class TensorFlowGroup(Group):
    """One worker of a ``MultiWorkerMirroredStrategy`` cluster (one replica per worker)."""

    #: the trainer's step and the strategy's ``run`` are eager (inside a ``tf.function`` the replica
    #: context's
    #: all-reduce fails here with "destinations can not be empty", TensorFlow 2.18)
    compile_step = False

    def __init__(self, timeout: float) -> None:
        _tf_config()
        options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeout)
        self.strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
        resolver = self.strategy.cluster_resolver
        self.rank, self.workers = resolver.task_id, self.strategy.num_replicas_in_sync

    def _run(self, op: Any, tensors: Sequence[Any]) -> list[Any]:
        def replica(*values: Any) -> Any:
            return tf.distribute.get_replica_context().all_reduce(op, list(values))

        out = self.strategy.run(replica, args=tuple(tf.convert_to_tensor(t) for t in tensors))
        return [self.strategy.experimental_local_results(t)[0] for t in out]

    def all_reduce_mean(self, tensors: Sequence[Any]) -> list[Any]:
        return self._run(tf.distribute.ReduceOp.MEAN, tensors)

    def any(self, flag: bool) -> bool:
        return bool(
            self._run(tf.distribute.ReduceOp.SUM, [tf.constant(1.0 if flag else 0.0)])[0].numpy()
            > 0
        )


def join(workers: int = 1, timeout: float = 120.0) -> TensorFlowGroup:
    """Join the cluster described by ``TF_CONFIG`` (written from d2lrnn's variables when missing).
    """
    return TensorFlowGroup(timeout)
