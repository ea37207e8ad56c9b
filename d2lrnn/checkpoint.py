"""Checkpoints: one portable file with canonical weights, vocabulary and hyperparameters.

The file is a NumPy ``.npz`` archive: one array per canonical weight plus ``__meta__``, a JSON
document. It is written atomically (a temporary file ``.NAME.*.tmp`` in the same folder, flushed
to disk, then renamed over ``NAME``), so a crash never leaves a half-written file in place of a
good one, and non-finite weights are never written. :func:`read` checks a file completely
(format, metadata, weight names, dtypes and shapes) without importing any framework; it reads the
file as untrusted input, checking the archive's directory and every header before it inflates
anything (see :mod:`d2lrnn.npz`).
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

from . import npz
from .backends import backend_for, get_backend
from .cells import CELLS, DEFAULT_CELL, canonical_shapes, make_model
from .errors import CheckpointError, ResourceError
from .memory import available_memory, check_fits, estimate_training_memory, human_bytes
from .vocab import Vocab

FORMAT = "d2lrnn-checkpoint"
VERSION = 1
_META = "__meta__"
_HPARAMS = ("num_inputs", "num_outputs", "num_hiddens", "num_layers", "lr")


def atomic_write(path: str | os.PathLike, write: Any) -> Path:
    """Call ``write(file_object)`` on a temporary file next to ``path``, then rename it into place.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp's 0600 would make checkpoints private to their writer
        os.fchmod(fd, 0o666 & ~_umask())
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


def check_writable(
    path: str | os.PathLike, setting: str = "save", *, known_checkpoint: bool = False
) -> Path:
    """Fail now, not after hours of training, when ``path`` cannot take a checkpoint.

    A directory, an unwritable folder, and an existing file that is not a d2lrnn checkpoint (which
    saving would destroy; ``known_checkpoint`` skips reading a file already read) are each a
    :class:`CheckpointError`.
    """
    target = Path(path)
    if target.is_dir():
        raise CheckpointError(
            f"{{{setting}:{path}}} is a directory; give a file name, e.g. {target / 'model.npz'}.",
            settings=[setting],
        )
    if target.exists() and not known_checkpoint:
        try:
            read(target)
        except CheckpointError:
            raise CheckpointError(
                f"{{{setting}:{path}}} already exists and is not a d2lrnn checkpoint; saving would "
                "overwrite it. "
                "Choose another file name, or remove the file first.",
                settings=[setting],
            ) from None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=target.parent):
            pass
    except OSError as exc:
        raise CheckpointError(
            f"{{{setting}:{path}}} cannot be written ({exc.strerror or exc}); choose a writable "
            "folder.",
            settings=[setting],
        ) from None
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
    """Write ``model`` (any backend) and ``vocab`` to ``path``; ``extra`` (JSON-ready) is stored in
    the metadata.

    Weights with a NaN or an infinity raise :class:`CheckpointError` and leave ``path`` untouched.
    """
    return save_weights(
        path,
        model.get_weights(),
        vocab,
        backend=backend_for(model).name,
        model=model.kind,
        hparams=model.hparams,
        cell=getattr(model, "cell_name", DEFAULT_CELL),
        **extra,
    )


def save_weights(
    path: str | os.PathLike,
    weights: dict[str, np.ndarray],
    vocab: Vocab,
    *,
    backend: str,
    model: str,
    hparams: dict[str, Any],
    cell: str = DEFAULT_CELL,
    **extra: Any,
) -> Path:
    """:func:`save` for canonical ``weights`` taken earlier (e.g. a snapshot), with the model's
    description."""
    bad = sorted(name for name, value in weights.items() if not np.isfinite(value).all())
    if bad:
        raise CheckpointError(
            f"Not saving to {path}: the weights {', '.join(bad)} hold NaN or infinite values "
            "(training "
            "diverged). Any earlier checkpoint there is kept; lower the learning rate or enable "
            "clipping."
        )
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "backend": backend,
        "model": model,
        "cell": cell,
        "hparams": hparams,
        "vocab": vocab.to_dict(),
        **extra,
    }
    arrays = {name: np.asarray(value, dtype=np.float32) for name, value in weights.items()}
    arrays[_META] = np.asarray(json.dumps(meta))
    try:
        return atomic_write(path, lambda handle: handle.write(npz.to_bytes(arrays)))
    except OSError as exc:
        raise CheckpointError(
            f"Cannot write the checkpoint {path}: {exc.strerror or exc}. Any earlier file there is "
            "kept; choose a writable place."
        ) from None


def read(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The canonical weights and metadata of a checkpoint file, with every failure as a
    :class:`CheckpointError`.

    The file is untrusted input: the archive's directory and every member's ``.npy`` header are
    checked against the metadata and the model it describes before any weight is inflated, so a
    small crafted file cannot make this allocate much more than its own size.
    """
    path = Path(path)
    if not path.is_file():
        what = (
            "is a directory"
            if path.is_dir()
            else "is not a regular file"
            if path.exists()
            else "does not exist"
        )
        raise CheckpointError(
            f"The checkpoint {path} {what}; give a checkpoint that d2lrnn saved."
        )
    try:
        with open(path, "rb") as handle:
            if handle.read(len(npz.MAGIC)) == npz.MAGIC:
                raise CheckpointError(
                    f"{path} is a single NumPy array, not a d2lrnn checkpoint. {_USE}"
                )
            count = npz.declared_members(handle)
            if count is not None and count > MAX_MEMBERS:
                raise CheckpointError(
                    f"{path} declares {count} members, more than any d2lrnn checkpoint holds "
                    f"(at most {MAX_MEMBERS}). {_USE}"
                )
            with zipfile.ZipFile(handle) as archive:
                return _read_archive(path, archive)
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, TypeError, zlib.error, RecursionError,  # noqa: E501
            NotImplementedError, RuntimeError, OverflowError, UnicodeError) as exc:
        raise CheckpointError(
            f"{path} cannot be read as a d2lrnn checkpoint: it is truncated, corrupted or another "
            f"kind of file ({exc.__class__.__name__}). {_USE}"
        ) from None


_USE = "Use a checkpoint that d2lrnn saved."
#: the largest metadata member read (characters of JSON: the vocabulary, the history, the settings)
MAX_META_CHARS = 4 * 2**20  # a word vocabulary of ~150,000 words with its counts
#: the most members read: 3 weights per layer of ~3,300 layers (0xFFFF in the count means more)
MAX_MEMBERS = 10_000


def _read_archive(
    path: Path, archive: zipfile.ZipFile
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Check the directory, then the metadata, then every weight's header; only then inflate the
    weights."""
    _check_directory(path, archive)
    members = {info.filename[:-4]: info for info in archive.infolist()}
    if _META not in members:
        raise CheckpointError(
            f"{path} is a NumPy archive but not a d2lrnn checkpoint (no metadata). {_USE}"
        )
    meta = _read_meta(path, archive, members.pop(_META))
    _check_meta(path, meta)
    hparams = meta["hparams"]
    # every layer has weights: bounds the list of names by the file
    if hparams["num_layers"] > len(members):
        raise CheckpointError(
            f"The weights in {path} do not fit its model: {hparams['num_layers']} layer(s) need "
            "more weights than "
            f"the {len(members)} the file holds. {_USE}"
        )
    expected = canonical_shapes(*(hparams[k] for k in _HPARAMS[:4]), meta["cell"])
    wrong = [f"{name} is missing" for name in sorted(set(expected) - set(members))]
    wrong += [f"{name} is unexpected" for name in sorted(set(members) - set(expected))]
    headers = {name: npz.header(archive, members[name]) for name in expected if name in members}
    for name, found in headers.items():
        problem = npz.float32_problem(found)
        if not problem and found.shape != expected[name]:
            problem = f"is {found.shape}, expected {expected[name]}"
        if not problem and members[name].file_size != found.size:
            problem = (f"declares {members[name].file_size} bytes in the archive but its header "
                       f"describes {found.size}")
        if problem:
            wrong.append(f"{name} {problem}")
    if wrong:
        raise CheckpointError(
            f"The weights in {path} do not fit its {meta['cell'].upper()} model "
            f"({hparams['num_hiddens']} hidden units, "
            f"{hparams['num_layers']} layer(s), {hparams['num_inputs']} tokens): "
            f"{'; '.join(wrong[:6])}"
            f"{'; ...' if len(wrong) > 6 else ''}."
        )
    weights = {name: npz.read_float32(archive, members[name], headers[name]) for name in expected}
    nonfinite = sorted(name for name, value in weights.items() if not np.isfinite(value).all())
    if nonfinite:
        raise CheckpointError(
            f"The weights {', '.join(nonfinite[:6])} in {path} hold NaN or infinite values, "
            f"which no trained model has (d2lrnn never saves them). {_USE}"
        )
    return weights, meta


def _check_directory(path: Path, archive: zipfile.ZipFile) -> None:
    """Only ``.npy`` members, each once, stored or deflated (what NumPy writes)."""
    twice = npz.duplicates(archive)
    if twice:
        raise CheckpointError(
            f"The checkpoint {path} holds the member(s) {', '.join(twice[:5])} more than once, "
            f"so it is ambiguous which one is meant. {_USE}"
        )
    others = [name for name in archive.namelist() if not name.endswith(".npy")]
    if others:
        shown = ", ".join(repr(n) for n in others[:3]) + (
            f" and {len(others) - 3} more" if len(others) > 3 else ""
        )
        raise CheckpointError(f"The checkpoint {path} holds {shown}, which is not a NumPy array; "
                              f"a d2lrnn checkpoint holds only .npy members. {_USE}")
    for info in archive.infolist():
        problem = npz.storage_problem(info)
        if problem:
            raise CheckpointError(
                f"The member {info.filename!r} of {path} {problem}; d2lrnn checkpoints never do. "
                f"{_USE}"
            )


def _read_meta(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> dict[str, Any]:
    """The metadata JSON: one string of bounded size, checked before it is read."""
    if info.file_size > MAX_META_CHARS * 4 + 4096:
        raise CheckpointError(
            f"The metadata of {path} is {info.file_size} bytes, more than any d2lrnn checkpoint "
            f"holds (at most {MAX_META_CHARS * 4} bytes). {_USE}"
        )
    found = npz.header(archive, info)
    if not npz.is_text(found, info):
        raise CheckpointError(
            f"The metadata of {path} is not a JSON text (it is stored as {found.dtype.str}, "
            f"shape {found.shape}). {_USE}"
        )
    meta = json.loads(npz.read_text(archive, info, found))
    # lone surrogates (UnicodeError) could not be printed
    json.dumps(meta, ensure_ascii=False).encode("utf-8")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is not a d2lrnn checkpoint (its metadata names no d2lrnn format). {_USE}"
        )
    return meta


def _check_meta(path: Path, meta: dict[str, Any]) -> None:
    """Metadata and vocabulary must agree, and the model they describe must fit in memory."""
    hparams, vocab = meta.get("hparams"), meta.get("vocab")
    ok = (isinstance(hparams, dict) and all(_number(hparams.get(k)) for k in _HPARAMS)
          and isinstance(vocab, dict) and isinstance(vocab.get("idx_to_token"), list)
          and all(isinstance(t, str) for t in vocab["idx_to_token"])
          and isinstance(vocab.get("token_freqs", []), list)
          and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and _number(p[1])
                  for p in vocab.get("token_freqs", []))
          and isinstance(meta.get("backend"), str) and meta.get("model") in ("concise", "scratch"))
    if not ok:
        raise CheckpointError(
            f"The checkpoint {path} has damaged metadata (hyperparameters, vocabulary or model "
            f"kind). {_USE}"
        )
    sizes = [hparams[k] for k in _HPARAMS[:4]]
    if not all(isinstance(n, int) and 1 <= n <= 2**40 for n in sizes) or not (
        math.isfinite(hparams["lr"]) and hparams["lr"] > 0
    ):
        raise CheckpointError(
            f"The checkpoint {path} has invalid hyperparameters {_short(hparams)}. {_USE}"
        )
    tokens = len(vocab["idx_to_token"])
    if hparams["num_inputs"] != tokens or hparams["num_outputs"] != tokens:
        raise CheckpointError(
            f"The checkpoint {path} is inconsistent: its model expects "
            f"{_short(hparams['num_inputs'])} tokens in and "
            f"{_short(hparams['num_outputs'])} out but its vocabulary has {tokens}."
        )
    # checkpoints before GRU and LSTM hold an RNN and say nothing
    cell = meta.setdefault("cell", DEFAULT_CELL)
    if not isinstance(cell, str) or cell not in CELLS:
        raise CheckpointError(
            f"The checkpoint {path} holds a model with the cell {_short(repr(cell))}, which this "
            "version of d2lrnn "
            f"does not know (it knows {', '.join(CELLS)}); a newer d2lrnn may read it."
        )
    estimate = estimate_training_memory(
        tokens, hparams["num_hiddens"], hparams["num_layers"], 1, 1, cell
    )
    try:
        check_fits(estimate)
    except ResourceError:
        raise CheckpointError(
            f"The checkpoint {path} describes a model too large for this machine "
            f"({_short(hparams['num_hiddens'])} "
            f"hidden units, {_short(hparams['num_layers'])} layer(s): about "
            f"{human_bytes(estimate.total)} to hold "
            f"and run, {human_bytes(available_memory() or 0)} available); it was not loaded."
        ) from None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def load(
    path: str | os.PathLike, backend: str | None = None, device: Any = None
) -> tuple[Any, Vocab, dict[str, Any]]:
    """Rebuild the model of a checkpoint on ``backend`` (default: the one it was trained on).

    Returns ``(model, vocab, metadata)``.
    """
    weights, meta = read(path)
    return build(weights, meta, backend, device), Vocab.from_dict(meta["vocab"]), meta


def build(
    weights: dict[str, np.ndarray],
    meta: dict[str, Any],
    backend: str | None = None,
    device: Any = None,
) -> Any:
    """The model that :func:`read`'s ``weights`` and ``meta`` describe, on ``backend`` (default: the
    one it was trained on)."""
    impl = get_backend(backend or meta["backend"])
    model = make_model(
        impl,
        meta["model"],
        meta.get("cell", DEFAULT_CELL),
        **{k: meta["hparams"][k] for k in _HPARAMS},
    )
    model.set_weights(weights)
    if device is not None:
        impl.to_device(model, device)
    return model
