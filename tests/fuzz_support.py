"""Shared pieces of the fuzz tests: Hypothesis profiles, archive surgery and a crafted decompression
bomb.

Profiles: ``d2lrnn-quick`` (the default suite: derandomized, so every run tries the same examples,
and bounded by ``max_examples``) and ``d2lrnn-long`` (``-m slow``: many more, freshly random
examples). Both print the blob that reproduces a failure.
"""

from __future__ import annotations

import io
import json
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                     HealthCheck.data_too_large, HealthCheck.filter_too_much]}
settings.register_profile("d2lrnn-quick", derandomize=True, database=None, **_COMMON)
settings.register_profile("d2lrnn-long", derandomize=False, database=None, **_COMMON)


def quick_and_long(strategies: Callable[[Callable], Callable], body: Callable, quick: int,
                   long: int) -> tuple[Callable, Callable]:
    """Two tests of ``body`` under ``strategies`` (a ``given(...)``): ``quick`` examples by default,
    ``long`` under slow."""
    fast = settings(settings.get_profile("d2lrnn-quick"), max_examples=quick)(strategies(body))
    slow = settings(settings.get_profile("d2lrnn-long"), max_examples=long)(strategies(body))
    return fast, pytest.mark.slow(slow)


# --- archives as lists of members -----------------------------------------------------------------

Member = tuple[str, bytes]


def members_of(raw: bytes) -> list[Member]:
    """The (name, data) pairs of a well-formed ``.npz`` archive, in order."""
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def archive_of(members: list[Member], compress: int = zipfile.ZIP_STORED) -> bytes:
    """An archive holding ``members`` as given (duplicate names included)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compress) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": wanted here
        for name, data in members:
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = compress
            archive.writestr(info, data)
    return buffer.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_header(descr: str, shape: tuple[int, ...], fortran: bool = False) -> bytes:
    """A ``.npy`` header (format 1.0) that claims ``descr`` and ``shape``, without data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": fortran, "shape": shape}
    )
    return buffer.getvalue()


def meta_bytes(meta: dict[str, Any]) -> bytes:
    return npy_bytes(np.asarray(json.dumps(meta)))


# --- the crafted checkpoint of issue 22
# -------------------------------------------------------------

def _gf2_apply(matrix: list[int], vector: int) -> int:
    out, bit = 0, 0
    while vector:
        if vector & 1:
            out ^= matrix[bit]
        vector >>= 1
        bit += 1
    return out


def crc32_after_zeros(crc: int, count: int) -> int:
    """``zlib.crc32(b"\\0" * count, crc)`` without the bytes: the register update for a zero byte is
    linear
    over GF(2), so ``count`` zero bytes apply its ``count``-th power, built by repeated squaring."""
    # the register after one zero bit, column by column
    one_bit = [0xEDB88320] + [1 << n for n in range(31)]
    power = one_bit
    for _ in range(3):  # 8 zero bits: one zero byte
        power = [_gf2_apply(power, column) for column in power]
    register = crc ^ 0xFFFFFFFF
    while count:
        if count & 1:
            register = _gf2_apply(power, register)
        count >>= 1
        if count:
            power = [_gf2_apply(power, column) for column in power]
    return register ^ 0xFFFFFFFF


def _zeros_deflated(header: bytes, zeros: int, chunk: int = 1_000_000) -> tuple[bytes, int]:
    """A raw deflate stream of ``header`` then ``zeros`` zero bytes (``chunk`` divides it), and its
    CRC-32."""
    assert zeros % chunk == 0
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = packer.compress(header) + packer.flush(zlib.Z_FULL_FLUSH)
    # the same bytes after every full flush
    block = packer.compress(bytes(chunk)) + packer.flush(zlib.Z_FULL_FLUSH)
    tail = packer.flush(zlib.Z_FINISH)
    return head + block * (zeros // chunk) + tail, crc32_after_zeros(zlib.crc32(header), zeros)


def write_zip64(path: Path, entries: list[tuple[str, int, bytes, int, int]]) -> None:
    """A zip archive of ``(name, method, stored bytes, crc, uncompressed size)`` entries, sizes in
    ZIP64 fields."""
    out, central = bytearray(), bytearray()
    for name, method, stored, crc, size in entries:
        encoded, offset = name.encode(), len(out)
        extra = struct.pack("<HHQQ", 1, 16, size, len(stored))
        out += (
            struct.pack(
                "<4sHHHHHIIIHH",
                b"PK\x03\x04",
                45,
                0,
                method,
                0,
                0x21,
                crc,
                0xFFFFFFFF,
                0xFFFFFFFF,
                len(encoded),
                len(extra),
            )
            + encoded
            + extra
            + stored
        )
        central += (
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                45,
                45,
                0,
                method,
                0,
                0x21,
                crc,
                0xFFFFFFFF,
                0xFFFFFFFF,
                len(encoded),
                len(extra),
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
            + extra
        )
    start = len(out)
    out += central + struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), start, 0
    )
    path.write_bytes(bytes(out))


def crafted_checkpoint(path: Path, good: Path, name: str = "W_hh.0", side: int = 40000) -> Path:
    """``good``'s members with ``name`` replaced by a ``side`` x ``side`` float32 array of zeros,
    deflated.

    Every other member and the metadata stay valid; the archive directory honestly declares the
    huge member's size, so only its shape gives it away. ``side`` 40000 makes a ~6 MB file that
    inflates to 6.4 GB.
    """
    entries = []
    for member, data in members_of(good.read_bytes()):
        if member == f"{name}.npy":
            header = npy_header("<f4", (side, side))
            stored, crc = _zeros_deflated(header, side * side * 4)
            entries.append(
                (member, zipfile.ZIP_DEFLATED, stored, crc, len(header) + side * side * 4)
            )
        else:
            entries.append((member, zipfile.ZIP_STORED, data, zlib.crc32(data), len(data)))
    write_zip64(path, entries)
    return path


def _replaced(members: list[Member], name: str, data: bytes) -> list[Member]:
    return [(member, data if member == name else value) for member, value in members]


def _meta_of(members: list[Member]) -> dict[str, Any]:
    raw = dict(members)["__meta__.npy"]
    return json.loads(str(np.load(io.BytesIO(raw), allow_pickle=False)))


def _big_metadata(path: Path, members: list[Member], chars: int) -> None:
    """``members`` with metadata of ``chars`` characters (valid JSON), deflated and streamed, never
    held whole."""
    meta = _meta_of(members)
    text_start, text_end = json.dumps(meta)[:-1] + ', "padding": "', '"}'
    pad = chars - len(text_start) - len(text_end)
    descr = f"<U{len(text_start) + pad + len(text_end)}"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for name, data in members:
            if name != "__meta__.npy":
                archive.writestr(name, data)
                continue
            with archive.open(name, "w", force_zip64=True) as out:
                out.write(npy_header(descr, ()))
                out.write(np.asarray(text_start).tobytes())
                chunk = np.asarray("a" * 2**20).tobytes()
                for _ in range(pad // 2**20):
                    out.write(chunk)
                out.write(np.asarray("a" * (pad % 2**20) + text_end).tobytes())


def bad_checkpoints(good: Path, folder: Path) -> dict[str, Path]:
    """Crafted variants of the checkpoint ``good`` (any model with a ``W_hh.0``), one per class of
    bad input."""
    members = members_of(good.read_bytes())
    weights = {
        name[:-4]: np.load(io.BytesIO(data), allow_pickle=False)
        for name, data in members
        if name != "__meta__.npy"
    }
    hh = weights["W_hh.0"]
    meta = _meta_of(members)
    out = {
        key: folder / f"{key}.npz"
        for key in (
            "bomb",
            "float64",
            "object",
            "duplicate",
            "unknown-member",
            "not-npy",
            "big-metadata",
            "huge-model",
            "size-mismatch",
            "many-members",
        )
    }
    crafted_checkpoint(out["bomb"], good)
    out["float64"].write_bytes(
        archive_of(_replaced(members, "W_hh.0.npy", npy_bytes(hh.astype(np.float64))))
    )
    pickled = npy_header("|O", hh.shape) + b"\x80\x04N."  # a pickle of None: never unpickled
    out["object"].write_bytes(archive_of(_replaced(members, "W_hh.0.npy", pickled)))
    out["duplicate"].write_bytes(
        archive_of([*members, ("W_hh.0.npy", npy_bytes(np.ones_like(hh)))])
    )
    out["unknown-member"].write_bytes(
        archive_of([*members, ("extra.npy", npy_bytes(np.zeros(3, np.float32)))])
    )
    out["not-npy"].write_bytes(archive_of([*members, ("run.sh", b"echo hello\n")]))
    _big_metadata(out["big-metadata"], members, 5 * 2**20)
    huge = {**meta, "hparams": {**meta["hparams"], "num_hiddens": 10**7}}
    out["huge-model"].write_bytes(archive_of(_replaced(members, "__meta__.npy", meta_bytes(huge))))
    short = npy_bytes(hh)[: -hh.nbytes // 2]
    out["size-mismatch"].write_bytes(archive_of(_replaced(members, "W_hh.0.npy", short)))
    out["many-members"].write_bytes(
        archive_of([*members, *((f"x{i}.npy", b"") for i in range(20000))])
    )
    return out
