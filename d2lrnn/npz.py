"""NumPy ``.npz`` archives read as untrusted input: the directory and each ``.npy`` header before
any data.

An archive's central directory says each member's name, compression and declared size, and each
member starts with a small ``.npy`` header (dtype, shape, order). Both can be read without
inflating anything, so a caller checks them first and inflates a member only once its size is
known and acceptable; every read is bounded and ends with the member's CRC check. Writing builds
the archive in memory, so a failing disk fails one plain ``write`` and leaves no open ``ZipFile``.
"""

from __future__ import annotations

import io
import math
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

MAGIC = b"\x93NUMPY"  #: how a single ``.npy`` file (not an archive) starts


@dataclass(frozen=True)
class NpyHeader:
    """A member's ``.npy`` header: dtype, shape, order, and the offset where its data starts."""

    dtype: np.dtype
    shape: tuple[int, ...]
    fortran: bool
    offset: int

    @property
    def nbytes(self) -> int:
        """The data's size in bytes, as the header describes it."""
        return math.prod(self.shape) * self.dtype.itemsize

    @property
    def size(self) -> int:
        """The member's whole size (header and data), as the header describes it."""
        return self.offset + self.nbytes


def to_bytes(arrays: dict[str, np.ndarray]) -> memoryview:
    """The archive ``np.savez`` would write for ``arrays`` (no pickles), built in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, value in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)
    return buffer.getbuffer()


def declared_members(handle: BinaryIO) -> int | None:
    """The member count that the end-of-directory record declares, read before ``zipfile`` parses
    the directory
    (which holds every entry in memory); None where no such record is found (not an archive)."""
    size = handle.seek(0, os.SEEK_END)
    tail_size = min(size, _END_RECORD + 0xFFFF)  # the record, then a comment of at most 64 KiB
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    handle.seek(0)
    if at < 0 or at + _END_RECORD > len(tail):
        return None
    return struct.unpack("<H", tail[at + 10 : at + 12])[0]


_END_RECORD = 22


def duplicates(archive: zipfile.ZipFile) -> list[str]:
    """Member names that occur more than once in the directory."""
    names = archive.namelist()
    return (
        sorted({name for name in names if names.count(name) > 1})
        if len(set(names)) < len(names)
        else []
    )


def storage_problem(info: zipfile.ZipInfo) -> str:
    """Why a member cannot be read safely (encrypted, an unusual compression), or ``''``."""
    if info.flag_bits & 0x1:
        return "is encrypted"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return (f"uses compression method {info.compress_type} (only stored and deflated members "
                "are read)")
    return ""


def header(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> NpyHeader:
    """Parse a member's ``.npy`` header, inflating only the header's bytes (``ValueError`` for a bad
    one)."""
    with archive.open(info) as stream:
        version = np.lib.format.read_magic(stream)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"unsupported .npy version {version}")
        read = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        try:
            shape, fortran, dtype = read(stream)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError):
            raise
        except Exception as exc:  # noqa: E501, BLE001 - NumPy parses the header with ast and tokenize, which fail in many ways
            raise ValueError(
                f"the .npy header of {info.filename} cannot be parsed ({exc.__class__.__name__})"
            ) from None
        return NpyHeader(dtype, tuple(shape), bool(fortran), stream.tell())


def float32_problem(found: NpyHeader) -> str:
    """Why a header's dtype is not plain float32 (either byte order), or ``''``."""
    if found.dtype.hasobject:
        return "is an array of Python objects (unpickling it could run code)"
    if found.dtype.kind != "f" or found.dtype.itemsize != 4 or found.dtype.fields is not None:
        return f"is stored as {found.dtype.str}, not float32"
    return ""


def read_data(archive: zipfile.ZipFile, info: zipfile.ZipInfo, found: NpyHeader) -> bytes:
    """The data bytes of a member whose header was checked: at most ``found.nbytes`` inflated, CRC
    checked."""
    with archive.open(info) as stream:
        stream.read(found.offset)
        data = stream.read(found.nbytes)
        if len(data) != found.nbytes or stream.read(1):  # reading to the end checks the CRC
            raise EOFError(f"{info.filename} is shorter or longer than its header says")
    return data


def read_float32(archive: zipfile.ZipFile, info: zipfile.ZipInfo, found: NpyHeader) -> np.ndarray:
    """A checked float32 member as a native, C-ordered, writable array (Fortran order read as such).
    """
    flat = np.frombuffer(read_data(archive, info, found), dtype=found.dtype)
    return flat.reshape(found.shape, order="F" if found.fortran else "C").astype(
        np.float32, order="C"
    )


def read_text(archive: zipfile.ZipFile, info: zipfile.ZipInfo, found: NpyHeader) -> str:
    """A checked 0-d unicode member (what ``np.asarray(str)`` saves) as a string."""
    return str(np.frombuffer(read_data(archive, info, found), dtype=found.dtype)[0])


def is_text(found: NpyHeader, info: zipfile.ZipInfo) -> bool:
    """Whether a header describes one string, and the directory declares exactly its size."""
    return found.dtype.kind == "U" and found.shape == () and info.file_size == found.size


__all__ = [
    "MAGIC",
    "NpyHeader",
    "declared_members",
    "duplicates",
    "float32_problem",
    "header",
    "is_text",
    "read_data",
    "read_float32",
    "read_text",
    "storage_problem",
    "to_bytes",
]
