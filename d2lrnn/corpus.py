"""Locate, download, verify and read a text corpus (The Time Machine by default)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from .errors import CorpusError

TIME_MACHINE_URL = "http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt"
TIME_MACHINE_SHA1 = "090b5e7e70c295757f55df93cb0a180b9691891a"
TIME_MACHINE_NAME = "timemachine.txt"


def sha1_of(path: str | os.PathLike) -> str:
    """Return the hex SHA-1 digest of a file."""
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    """The per-user cache folder (``D2LRNN_CACHE_DIR`` overrides it)."""
    override = os.environ.get("D2LRNN_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("d2lrnn"))


def _verified(path: Path, expected: str) -> Path:
    try:
        actual = sha1_of(path)
    except OSError as exc:
        raise CorpusError(
            f"The corpus file {path} cannot be read: {exc.strerror or exc}."
        ) from None
    if actual != expected:
        raise CorpusError(
            f"The corpus file {path} does not match its expected SHA-1: expected {expected}, "
            f"found {actual}. Delete or replace the file (the library never uses an unverified "
            "copy)."
        )
    return path


def _download(url: str, target: Path, expected: str) -> Path:
    import pooch

    pooch.get_logger().setLevel("WARNING")  # errors are reported as one CorpusError paragraph
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        try:
            fetched = pooch.retrieve(
                url, known_hash=None, fname=target.name, path=tmp, progressbar=False
            )
        except Exception as exc:  # network failures come in many classes
            raise CorpusError(
                f"Could not download the corpus from {url} ({exc.__class__.__name__}: {exc}). "
                "Check the connection, or point D2LRNN_DATA_DIR (or data_dir) at a folder that "
                f"already holds {target.name}."
            ) from None
        actual = sha1_of(fetched)
        if actual != expected:
            raise CorpusError(
                f"The file downloaded from {url} has SHA-1 {actual}, but {expected} was expected; "
                "it was discarded and nothing was cached. Try again later or use D2LRNN_DATA_DIR."
            )
        shutil.move(fetched, target)
    return target


def time_machine_path(data_dir: str | os.PathLike | None = None) -> Path:
    """Return a verified local copy of The Time Machine, downloading it once if needed.

    ``data_dir`` (or ``D2LRNN_DATA_DIR``) names a folder that already holds the file; otherwise
    the file is cached in :func:`cache_dir`. ``D2LRNN_DATA_URL`` overrides the download URL.
    """
    data_dir = data_dir or os.environ.get("D2LRNN_DATA_DIR")
    if data_dir:
        if Path(data_dir).exists() and not Path(data_dir).is_dir():
            raise CorpusError(
                f"{data_dir} (set by data_dir or D2LRNN_DATA_DIR) is a file, not a folder; "
                f"give the folder that holds {TIME_MACHINE_NAME}."
            )
        path = Path(data_dir) / TIME_MACHINE_NAME
        if not path.is_file():
            raise CorpusError(
                f"No {TIME_MACHINE_NAME} in {data_dir} (set by data_dir= or D2LRNN_DATA_DIR). "
                "Put the file there, or unset the variable to download it."
            )
        return _verified(path, TIME_MACHINE_SHA1)
    target = cache_dir() / TIME_MACHINE_NAME
    try:
        if target.is_file():
            if sha1_of(target) == TIME_MACHINE_SHA1:
                return target
            target.unlink()  # a damaged cache entry is replaced, never used
        url = os.environ.get("D2LRNN_DATA_URL", TIME_MACHINE_URL)
        return _download(url, target, TIME_MACHINE_SHA1)
    except OSError as exc:
        raise CorpusError(
            f"The download cache {target.parent} cannot be used ({exc.strerror or exc}). Point "
            "D2LRNN_CACHE_DIR at a "
            "writable folder, or D2LRNN_DATA_DIR (or data_dir) at a folder that already holds "
            f"{TIME_MACHINE_NAME}."
        ) from None


def read_text(path: str | os.PathLike) -> str:
    """Read a UTF-8 text file, turning every way it can fail into a :class:`CorpusError`."""
    path = Path(path)
    if not path.exists():
        raise CorpusError(
            f"The corpus file {path} does not exist. Check the path given as the corpus."
        )
    if path.is_dir():
        raise CorpusError(
            f"The corpus path {path} is a directory; give the path of a UTF-8 text file."
        )
    if not path.is_file():
        raise CorpusError(
            f"The corpus path {path} is not a regular file (a device, pipe or socket); give the "
            "path of a UTF-8 text file."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"The corpus file {path} is not valid UTF-8 (byte {exc.start}); convert it to UTF-8 "
            "first."
        ) from None
    except OSError as exc:
        raise CorpusError(f"The corpus file {path} cannot be read: {exc.strerror}.") from None
    if not text.strip():
        raise CorpusError(f"The corpus file {path} is empty; it needs some text to learn from.")
    return text


def load_corpus_text(
    corpus: str | os.PathLike | None = None, data_dir: str | os.PathLike | None = None
) -> str:
    """The raw text of ``corpus`` (a path), or of The Time Machine when ``corpus`` is None."""
    return read_text(corpus if corpus is not None else time_machine_path(data_dir))
