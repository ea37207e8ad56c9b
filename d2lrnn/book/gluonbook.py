"""``from d2lrnn import gluonbook as gb``: the gluonbook (pre-d2l) names of the RNN chapter, for
MXNet.

gluonbook code uses MXNet's legacy ``nd`` arrays, so everything here returns ``nd`` arrays and
this module never switches MXNet to NumPy mode (``npx.set_np()``); run it in a process that
does not use the library's MXNet backend or ``d2lrnn.mxnet``, which switch it on.
"""

# ruff: noqa: E402  (MXNet imports only after the NumPy compatibility layer is in place)
from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from ..backends.mxnet import import_mxnet

mx = import_mxnet()  # on current NumPy, MXNet imports only through this

import numpy as np
from mxnet import nd

from ..corpus import load_corpus_text
from ..data import build_corpus, random_batches, sequential_batches
from ..metrics import ArrayMath
from .v0 import assign_slice, clip_in_place

if mx.util.is_np_array():
    warnings.warn(
        "MXNet is in NumPy mode (npx.set_np(), also set by d2lrnn.mxnet and the MXNet backend), "
        "but "
        "gluonbook code uses legacy nd arrays: run gluonbook code in a process of its own.",
        stacklevel=2,
    )


#: the clipping math on legacy ``nd`` arrays
ND_MATH = ArrayMath(nd.sum, nd.sqrt, nd.maximum)


def load_data_time_machine(
    max_tokens: int = 10000, *, data_dir: str | os.PathLike | None = None
) -> tuple[list[int], dict[str, int], list[str], int]:
    """``(corpus_indices, char_to_idx, idx_to_char, vocab_size)`` of the first ``max_tokens``
    characters."""
    corpus, vocab = build_corpus(load_corpus_text(None, data_dir), "char", max_tokens)
    return corpus.tolist(), dict(vocab.token_to_idx), list(vocab.idx_to_token), len(vocab)


def _as_nd(
    batches: Iterator[tuple[np.ndarray, np.ndarray]], ctx: mx.Context | None
) -> Iterator[tuple[nd.NDArray, nd.NDArray]]:
    for X, Y in batches:
        yield nd.array(X, ctx=ctx, dtype="float32"), nd.array(Y, ctx=ctx, dtype="float32")


def data_iter_random(
    corpus_indices: Sequence[int], batch_size: int, num_steps: int, ctx: mx.Context | None = None
) -> Iterator[tuple[nd.NDArray, nd.NDArray]]:
    """Random sampling: ``(X, Y)`` minibatches ``(batch_size, num_steps)`` of random subsequences.
    """
    corpus = np.asarray(corpus_indices, dtype=np.int64)
    return _as_nd(random_batches(corpus, batch_size, num_steps, np.random.default_rng()), ctx)


def data_iter_consecutive(
    corpus_indices: Sequence[int], batch_size: int, num_steps: int, ctx: mx.Context | None = None
) -> Iterator[tuple[nd.NDArray, nd.NDArray]]:
    """Consecutive partitioning: row ``i`` of each minibatch continues row ``i`` of the previous
    one."""
    corpus = np.asarray(corpus_indices, dtype=np.int64)
    return _as_nd(sequential_batches(corpus, batch_size, num_steps, None), ctx)


def grad_clipping(params: Sequence[nd.NDArray], theta: float, ctx: Any = None) -> None:
    """Clip the gradients attached to ``params`` in place to global norm ``theta``."""
    clip_in_place([p.grad for p in params], theta, ND_MATH, assign_slice)


def try_gpu() -> mx.Context:
    """``mx.gpu()`` when MXNet sees a GPU, else ``mx.cpu()``."""
    try:
        return mx.gpu() if mx.context.num_gpus() > 0 else mx.cpu()
    except mx.MXNetError:
        return mx.cpu()


__all__ = [
    "data_iter_consecutive",
    "data_iter_random",
    "grad_clipping",
    "load_data_time_machine",
    "try_gpu",
]
