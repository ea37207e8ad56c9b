"""Checkpoints: one portable file with canonical weights, vocabulary and hyperparameters.

The file is a NumPy ``.npz`` archive: one array per canonical weight plus ``__meta__``, a JSON
document. It is written atomically (a temporary file in the same folder, then a rename), so a
crash never leaves a half-written file in place of a good one.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .backends import backend_for, get_backend
from .errors import CheckpointError
from .vocab import Vocab

FORMAT = "d2lrnn-checkpoint"
VERSION = 1
_META = "__meta__"


def atomic_write(path: str | os.PathLike, write: Any) -> Path:
    """Call ``write(file_object)`` on a temporary file next to ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save(path: str | os.PathLike, model: Any, vocab: Vocab, **extra: Any) -> Path:
    """Write ``model`` (any backend) and ``vocab`` to ``path``; ``extra`` is stored in the metadata."""
    weights = model.get_weights()
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "backend": backend_for(model).name,
        "model": model.kind,
        "hparams": model.hparams,
        "vocab": vocab.to_dict(),
        **extra,
    }
    arrays = {name: np.asarray(value, dtype=np.float32) for name, value in weights.items()}
    arrays[_META] = np.asarray(json.dumps(meta))
    return atomic_write(path, lambda handle: np.savez(handle, **arrays))


def read(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The weights and metadata of a checkpoint file, with every failure as a :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise CheckpointError(f"The checkpoint {path} {what}; give the file written by 'd2lrnn train --save'.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if _META not in archive.files:
                raise CheckpointError(f"{path} is a NumPy archive but not a d2lrnn checkpoint (no metadata).")
            meta = json.loads(str(archive[_META]))
            weights = {name: archive[name] for name in archive.files if name != _META}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise CheckpointError(
            f"{path} cannot be read as a d2lrnn checkpoint: it is truncated, corrupted or another kind of "
            f"file ({exc.__class__.__name__}). Use a file written by 'd2lrnn train --save'."
        ) from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a d2lrnn checkpoint (its metadata names no d2lrnn format).")
    return weights, meta


def load(path: str | os.PathLike, backend: str | None = None, device: Any = None) -> tuple[Any, Vocab, dict[str, Any]]:
    """Rebuild the model of a checkpoint on ``backend`` (default: the one it was trained on).

    Returns ``(model, vocab, metadata)``.
    """
    weights, meta = read(path)
    impl = get_backend(backend or meta["backend"])
    hparams = meta["hparams"]
    vocab = Vocab.from_dict(meta["vocab"])
    if hparams["num_inputs"] != len(vocab):
        raise CheckpointError(
            f"The checkpoint {path} is inconsistent: its model expects {hparams['num_inputs']} tokens "
            f"but its vocabulary has {len(vocab)}."
        )
    cls = impl.RNNScratch if meta.get("model") == "scratch" else impl.RNN
    model = cls(**hparams)
    model.set_weights(weights)
    if device is not None:
        impl.to_device(model, device)
    return model, vocab, meta
