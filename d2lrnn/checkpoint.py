"""Checkpoints: one portable file with canonical weights, vocabulary and hyperparameters.

The file is a NumPy ``.npz`` archive: one array per canonical weight plus ``__meta__``, a JSON
document. It is written atomically (a temporary file ``.NAME.*.tmp`` in the same folder, flushed
to disk, then renamed over ``NAME``), so a crash never leaves a half-written file in place of a
good one, and non-finite weights are never written. :func:`read` checks a file completely
(format, metadata, weight names and shapes) without importing any framework.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from .backends import backend_for, get_backend
from .cells import CELLS, DEFAULT_CELL, canonical_shapes, make_model
from .errors import CheckpointError
from .vocab import Vocab

FORMAT = "d2lrnn-checkpoint"
VERSION = 1
_META = "__meta__"
_HPARAMS = ("num_inputs", "num_outputs", "num_hiddens", "num_layers", "lr")


def atomic_write(path: str | os.PathLike, write: Any) -> Path:
    """Call ``write(file_object)`` on a temporary file next to ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would make checkpoints private to their writer
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)  # make the rename itself durable
    return path


def check_writable(path: str | os.PathLike, flag: str = "--save", *, known_checkpoint: bool = False) -> Path:
    """Fail now, not after hours of training, when ``path`` cannot take a checkpoint.

    A directory, an unwritable folder, and an existing file that is not a d2lrnn checkpoint (which
    saving would destroy; ``known_checkpoint`` skips reading a file already read) are each a
    :class:`CheckpointError`.
    """
    target = Path(path)
    if target.is_dir():
        raise CheckpointError(f"{flag} {path} is a directory; give a file name, e.g. {target / 'model.npz'}.")
    if target.exists() and not known_checkpoint:
        try:
            read(target)
        except CheckpointError:
            raise CheckpointError(
                f"{flag} {path} already exists and is not a d2lrnn checkpoint; saving would overwrite it. "
                "Choose another file name, or remove the file first."
            ) from None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=target.parent):
            pass
    except OSError as exc:
        raise CheckpointError(f"{flag} {path} cannot be written ({exc.strerror or exc}); choose a writable folder.") from None
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(path: str | os.PathLike, model: Any, vocab: Vocab, **extra: Any) -> Path:
    """Write ``model`` (any backend) and ``vocab`` to ``path``; ``extra`` (JSON-ready) is stored in the metadata.

    Weights with a NaN or an infinity raise :class:`CheckpointError` and leave ``path`` untouched.
    """
    return save_weights(path, model.get_weights(), vocab, backend=backend_for(model).name, model=model.kind,
                        hparams=model.hparams, cell=getattr(model, "cell_name", DEFAULT_CELL), **extra)


def save_weights(
    path: str | os.PathLike, weights: dict[str, np.ndarray], vocab: Vocab, *, backend: str, model: str,
    hparams: dict[str, Any], cell: str = DEFAULT_CELL, **extra: Any,
) -> Path:
    """:func:`save` for canonical ``weights`` taken earlier (e.g. a snapshot), with the model's description."""
    bad = sorted(name for name, value in weights.items() if not np.isfinite(value).all())
    if bad:
        raise CheckpointError(
            f"Not saving to {path}: the weights {', '.join(bad)} hold NaN or infinite values (training "
            "diverged). Any earlier checkpoint there is kept; lower the learning rate or enable clipping."
        )
    meta = {"format": FORMAT, "version": VERSION, "backend": backend, "model": model, "cell": cell, "hparams": hparams,
            "vocab": vocab.to_dict(), **extra}
    arrays = {name: np.asarray(value, dtype=np.float32) for name, value in weights.items()}
    arrays[_META] = np.asarray(json.dumps(meta))
    try:
        return atomic_write(path, lambda handle: np.savez(handle, **arrays))
    except OSError as exc:
        raise CheckpointError(
            f"Cannot write the checkpoint {path}: {exc.strerror or exc}. Any earlier file there is kept; "
            "choose a writable place (e.g. with --save FILE)."
        ) from None


def read(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The canonical weights and metadata of a checkpoint file, with every failure as a :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "is not a regular file" if path.exists() else "does not exist"
        raise CheckpointError(f"The checkpoint {path} {what}; give the file written by 'd2lrnn train --save'.")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise CheckpointError(f"{path} is a single NumPy array, not a d2lrnn checkpoint. {_USE}")
        with loaded as archive:
            if _META not in archive.files:
                raise CheckpointError(f"{path} is a NumPy archive but not a d2lrnn checkpoint (no metadata). {_USE}")
            meta = json.loads(str(archive[_META]))
            weights = {name: archive[name] for name in archive.files if name != _META}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, TypeError, zlib.error) as exc:
        raise CheckpointError(
            f"{path} cannot be read as a d2lrnn checkpoint: it is truncated, corrupted or another kind of "
            f"file ({exc.__class__.__name__}). {_USE}"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a d2lrnn checkpoint (its metadata names no d2lrnn format). {_USE}")
    _check_contents(path, weights, meta)
    return weights, meta


_USE = "Use a file written by 'd2lrnn train --save'."


def _check_contents(path: Path, weights: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Metadata, vocabulary and weight shapes must agree; a damaged file is a :class:`CheckpointError`."""
    hparams, vocab = meta.get("hparams"), meta.get("vocab")
    ok = (isinstance(hparams, dict) and all(isinstance(hparams.get(k), (int, float)) for k in _HPARAMS)
          and isinstance(vocab, dict) and isinstance(vocab.get("idx_to_token"), list)
          and isinstance(meta.get("backend"), str) and meta.get("model") in ("concise", "scratch"))
    if not ok:
        raise CheckpointError(f"The checkpoint {path} has damaged metadata (hyperparameters, vocabulary or model kind). {_USE}")
    sizes = [hparams[k] for k in _HPARAMS[:4]]
    if not all(isinstance(n, int) and n >= 1 for n in sizes) or not (math.isfinite(hparams["lr"]) and hparams["lr"] > 0):
        raise CheckpointError(f"The checkpoint {path} has invalid hyperparameters {hparams}. {_USE}")
    if hparams["num_inputs"] != len(vocab["idx_to_token"]):
        raise CheckpointError(
            f"The checkpoint {path} is inconsistent: its model expects {hparams['num_inputs']} tokens "
            f"but its vocabulary has {len(vocab['idx_to_token'])}."
        )
    cell = meta.setdefault("cell", DEFAULT_CELL)  # checkpoints before GRU and LSTM hold an RNN and say nothing
    if not isinstance(cell, str) or cell not in CELLS:
        raise CheckpointError(
            f"The checkpoint {path} holds a model with the cell {cell!r}, which this version of d2lrnn does not know "
            f"(it knows {', '.join(CELLS)}); a newer d2lrnn may read it."
        )
    expected = canonical_shapes(*sizes, cell)
    wrong = [f"{k} is {'missing' if k not in weights else tuple(weights[k].shape)}, expected {shape}"
             for k, shape in expected.items() if k not in weights or tuple(weights[k].shape) != shape]
    wrong += [f"{k} is unexpected" for k in sorted(set(weights) - set(expected))]
    if wrong:
        raise CheckpointError(
            f"The weights in {path} do not fit its {cell.upper()} model ({hparams['num_hiddens']} hidden units, "
            f"{hparams['num_layers']} layer(s), {hparams['num_inputs']} tokens): {'; '.join(wrong)}."
        )


def load(path: str | os.PathLike, backend: str | None = None, device: Any = None) -> tuple[Any, Vocab, dict[str, Any]]:
    """Rebuild the model of a checkpoint on ``backend`` (default: the one it was trained on).

    Returns ``(model, vocab, metadata)``.
    """
    weights, meta = read(path)
    return build(weights, meta, backend, device), Vocab.from_dict(meta["vocab"]), meta


def build(weights: dict[str, np.ndarray], meta: dict[str, Any], backend: str | None = None, device: Any = None) -> Any:
    """The model that :func:`read`'s ``weights`` and ``meta`` describe, on ``backend`` (default: the one it was trained on)."""
    impl = get_backend(backend or meta["backend"])
    model = make_model(impl, meta["model"], meta.get("cell", DEFAULT_CELL), **{k: meta["hparams"][k] for k in _HPARAMS})
    model.set_weights(weights)
    if device is not None:
        impl.to_device(model, device)
    return model
