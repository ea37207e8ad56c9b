"""d2lrnn: the recurrent language models of *Dive into Deep Learning*, one core over many
frameworks.

``import d2lrnn`` imports no framework; :func:`get_backend` imports only the one it returns.
The frameworks are listed in :data:`d2lrnn.backends.SPECS`. MXNet on current NumPy: the installed
``d2lrnn_mxnet.pth`` (``docs/backends.md``, "Stacks"), not this package, routes ``import mxnet``.
"""

from __future__ import annotations

from .backends import available_backends, backend_for, get_backend
from .book import install_public_paths
from .checkpoint import load, save
from .corpus import time_machine_path
from .data import SeqDataLoader, TimeMachine, load_data_time_machine
from .errors import BackendError, CheckpointError, CorpusError, D2LRNNError, DivergenceError
from .metrics import clip_gradients, perplexity
from .plot import plot_perplexity
from .predict import predict
from .timing import Accumulator, Timer
from .trainer import EpochStats, Trainer
from .vocab import Vocab, preprocess, tokenize

__version__ = "0.1.0"

install_public_paths()  # d2lrnn.torch, d2lrnn.v0.mxnet, ...: d2lrnn.book.PUBLIC_PATHS

__all__ = [
    "Accumulator",
    "BackendError",
    "CheckpointError",
    "CorpusError",
    "D2LRNNError",
    "DivergenceError",
    "EpochStats",
    "SeqDataLoader",
    "TimeMachine",
    "Timer",
    "Trainer",
    "Vocab",
    "available_backends",
    "backend_for",
    "clip_gradients",
    "get_backend",
    "load",
    "load_data_time_machine",
    "perplexity",
    "plot_perplexity",
    "predict",
    "preprocess",
    "save",
    "time_machine_path",
    "tokenize",
]
