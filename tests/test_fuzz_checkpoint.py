"""Checkpoints are untrusted input: crafted files are refused cheaply, mutated real ones never crash
``read``.

The property: whatever is done to a checkpoint from a real run (truncation, bit flips, members
renamed, dropped or duplicated, headers rewritten with other shapes and dtypes, metadata edited,
compression changed), :func:`d2lrnn.checkpoint.read` either returns weights and metadata from
which a model is built that predicts, or raises :class:`CheckpointError`; nothing else, and its
peak memory stays within a small multiple of the file's size.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from d2lrnn.checkpoint import build, read
from d2lrnn.errors import CheckpointError
from d2lrnn.train_job import TrainJob, run_training
from d2lrnn.vocab import Vocab

from .conftest import needs_corpus
from .fuzz_support import (
    archive_of,
    bad_checkpoints,
    members_of,
    npy_bytes,
    npy_header,
    quick_and_long,
)

ROOT = Path(__file__).resolve().parents[1]
pytestmark = needs_corpus


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A resumable checkpoint of a real 2-epoch, 2-layer torch run."""
    path = tmp_path_factory.mktemp("real") / "real.npz"
    job = TrainJob(
        settings={
            "num_hiddens": 8,
            "num_layers": 2,
            "batch_size": 4,
            "num_steps": 8,
            "max_tokens": 600,
            "num_val": 0,
            "epochs": 2,
            "seed": 1,
        },
        backend="torch",
        save=str(path),
        num_preds=1,
        progress=False,
        threads=None,
    )
    assert run_training(job).exit_status == 0
    return path


@pytest.fixture(scope="module")
def crafted(real: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return bad_checkpoints(real, tmp_path_factory.mktemp("crafted"))


# --- crafted files, one per class
# -------------------------------------------------------------------

EXPECTED = {
    "bomb": "W_hh.0 is (40000, 40000), expected (8, 8)",
    "float64": "W_hh.0 is stored as <f8, not float32",
    "object": "W_hh.0 is an array of Python objects",
    "duplicate": "holds the member(s) W_hh.0.npy more than once",
    "unknown-member": "extra is unexpected",
    "not-npy": "holds 'run.sh', which is not a NumPy array",
    "big-metadata": "more than any d2lrnn checkpoint holds",
    "huge-model": "describes a model too large for this machine (10000000 hidden units",
    "size-mismatch": "W_hh.0 declares",
    "many-members": "declares 20009 members, more than any d2lrnn checkpoint holds",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_crafted_checkpoint_is_refused_with_a_sentence(name, crafted):
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError) as caught:
            read(crafted[name])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert EXPECTED[name] in str(caught.value)
    assert peak < 2 * 2**20, f"refusing {name} took {peak} bytes"  # headers and the directory only


#: run ARGV, then print its exit status and peak RSS in KiB (from wait4). A small process of its own
#: starts the
#: command, since a child forked from pytest would count pytest's own memory (the frameworks) in its
#: peak
_MEASURE = """import os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def _peak_rss(args: list[str], cwd: Path) -> tuple[int, str, int]:
    """Run ``python -m d2lrnn ARGS``: its exit status, stderr and peak resident memory in bytes."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, sys.executable, "-m", "d2lrnn", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    status, kib = map(int, proc.stdout.split())
    return status, proc.stderr, kib * 1024


def test_the_crafted_checkpoint_of_the_issue_is_refused_in_little_memory(crafted, tmp_path):
    """~6 MB that declares a 40000 x 40000 float32 weight (6.4 GB inflated): exit 2, peak memory <
    100 MB.

    The baseline is the same command on a missing file (the interpreter, NumPy and the CLI):
    refusing
    the crafted file may add at most its own size and a few MB.
    """
    bomb = crafted["bomb"]
    assert bomb.stat().st_size < 8 * 2**20
    with zipfile.ZipFile(bomb) as archive:
        assert archive.getinfo("W_hh.0.npy").file_size > 6 * 10**9  # honestly declared
    _, _, baseline = _peak_rss(["predict", "--checkpoint", str(tmp_path / "missing.npz")], tmp_path)
    for args in (
        ["predict", "--checkpoint", str(bomb)],
        ["train", "--resume", str(bomb), "--epochs", "9"],
    ):
        status, err, peak = _peak_rss(args, tmp_path)
        assert status == 2, err
        message = err.strip()
        assert "\n" not in message and "Traceback" not in message
        assert message.startswith(f"d2lrnn {args[0]}: ") and "W_hh.0 is (40000, 40000)" in message
        assert peak < 100 * 2**20, (
            f"{args[0]}: peak {peak / 2**20:.0f} MB (baseline {baseline / 2**20:.0f} MB)"
        )
        assert peak - baseline < bomb.stat().st_size + 8 * 2**20, (peak, baseline)


def test_fortran_ordered_and_big_endian_weights_load_as_they_are(real, tmp_path):
    """What other writers produce legitimately (column-major or big-endian float32) reads as the
    same values."""
    members = members_of(real.read_bytes())
    original = {name: np.load(io.BytesIO(data)) for name, data in members if name != "__meta__.npy"}
    changed = []
    for name, data in members:
        if name == "W_xh.0.npy":
            data = npy_bytes(np.asfortranarray(original[name]))
        elif name == "W_hq.npy":
            data = npy_bytes(original[name].astype(">f4"))
        changed.append((name, data))
    path = tmp_path / "other.npz"
    path.write_bytes(archive_of(changed, zipfile.ZIP_DEFLATED))
    weights, _ = read(path)
    for name, value in original.items():
        assert weights[name[:-4]].dtype == np.float32 and weights[name[:-4]].flags.c_contiguous
        np.testing.assert_array_equal(weights[name[:-4]], value)


# --- mutations of a real checkpoint
# -------------------------------------------------------------------

SIZES = st.sampled_from([0, 1, 2, 3, 8, 16, 27, 28, 29, 40000, 2**31, 2**62])
DTYPES = st.sampled_from(
    ["<f4", ">f4", "<f8", "<f2", "|u1", "<i4", "|O", "<c8", "|b1", "<U3", "|V4", [("a", "<f4")]]
)
NAMES = [
    "__meta__.npy",
    "W_xh.0.npy",
    "W_hh.0.npy",
    "b_h.0.npy",
    "W_xh.1.npy",
    "W_hh.1.npy",
    "b_h.1.npy",
    "W_hq.npy",
    "b_q.npy",
]
WEIGHTS = NAMES[1:]
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.sampled_from([0, -1, 1, 2, 8, 27, 28, 10**6, 10**30, 2**63])
    | st.integers()
    | st.floats()
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=8,
)
META_PATHS = st.sampled_from(
    [
        (),
        ("format",),
        ("version",),
        ("backend",),
        ("model",),
        ("hparams",),
        ("hparams", "num_inputs"),
        ("hparams", "num_outputs"),
        ("hparams", "num_hiddens"),
        ("hparams", "num_layers"),
        ("hparams", "lr"),
        ("vocab",),
        ("vocab", "idx_to_token"),
        ("vocab", "token_freqs"),
        ("vocab", "idx_to_token", 0),
        ("vocab", "token_freqs", 0),
        ("train_state",),
        ("train_state", "epoch"),
        ("train_state", "settings"),
    ]
)
MEMBER_OPS = st.one_of(
    st.tuples(
        st.just("rename"),
        st.sampled_from(NAMES),
        st.sampled_from(
            [*NAMES, "extra.npy", "W_xh.7.npy", "__meta__", "b_q", "../b_q.npy", "", "x" * 300]
        ),
    ),
    st.tuples(st.just("drop"), st.sampled_from(NAMES)),
    st.tuples(st.just("duplicate"), st.sampled_from(NAMES)),
    st.tuples(
        st.just("header"),
        st.sampled_from(WEIGHTS),
        DTYPES,
        st.lists(SIZES, max_size=3).map(tuple),
        st.booleans(),
        st.sampled_from(["keep", "fit", "none"]),
    ),
    st.tuples(st.just("meta"), META_PATHS, st.one_of(st.just("delete"), JSON)),
)
BYTE_OPS = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(
        st.just("flip"),
        st.lists(st.tuples(st.floats(0, 1), st.integers(0, 7)), min_size=1, max_size=8),
    ),
)


def _edit_meta(data: bytes, where: tuple, value: object) -> bytes:
    try:
        meta = json.loads(str(np.load(io.BytesIO(data), allow_pickle=False)))
    except ValueError:  # an earlier operation put something else under the metadata's name
        return data
    if not where:
        meta = None if value == "delete" else value
    else:
        node = meta
        for key in where[:-1]:
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and isinstance(key, int) and key < len(node):
                node = node[key]
            else:
                return data
        last = where[-1]
        if isinstance(node, dict) or (
            isinstance(node, list) and isinstance(last, int) and last < len(node)
        ):
            if value == "delete":
                node.pop(last, None) if isinstance(node, dict) else node.pop(last)
            else:
                node[last] = value
    return npy_bytes(np.asarray(json.dumps(meta)))


def _payload(data: bytes) -> bytes:
    """The bytes after a member's ``.npy`` header (all of them when there is no readable header)."""
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        reader = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        reader(stream)
    except ValueError:
        return data
    return data[stream.tell():]


def _rewrite_header(
    data: bytes, descr: object, shape: tuple[int, ...], fortran: bool, body: str
) -> bytes:
    payload = _payload(data)
    if body == "fit":
        wanted = int(np.prod(shape, dtype=object)) * np.dtype(descr).itemsize
        if wanted <= 2**16:
            payload = bytes(range(256)) * (wanted // 256) + bytes(range(wanted % 256))
    elif body == "none":
        payload = b""
    return npy_header(descr, shape, fortran) + payload


def _apply_member_op(members: list[tuple[str, bytes]], op: tuple) -> list[tuple[str, bytes]]:
    kind = op[0]
    if kind == "rename":
        return [(op[2] if member == op[1] else member, data) for member, data in members]
    if kind == "drop":
        return [(member, data) for member, data in members if member != op[1]]
    if kind == "duplicate":
        return members + [(member, data) for member, data in members if member == op[1]][:1]
    if kind == "meta":
        return [(member, _edit_meta(data, op[1], op[2]) if member == "__meta__.npy" else data)
                for member, data in members]
    return [
        (member, _rewrite_header(data, *op[2:]) if member == op[1] else data)
        for member, data in members
    ]


def _check_read(path: Path) -> None:
    size = path.stat().st_size
    tracemalloc.start()
    try:
        weights, meta = read(path)
    except CheckpointError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 4 * size + 2**20, f"read took {peak} bytes for a file of {size}"
    vocab = Vocab.from_dict(meta["vocab"])
    model = build(weights, meta, "torch")
    text = model.predict([vocab.idx_to_token[-1]], 3, vocab)
    assert isinstance(text, str)


def _mutated_checkpoints_are_read_or_refused(real, tmp_path_factory, ops, deflate, byte_ops):
    members = members_of(real.read_bytes())
    for op in ops:
        members = _apply_member_op(members, op)
    raw = archive_of(members, zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED)
    for op in byte_ops:
        if op[0] == "truncate":
            raw = raw[: int(op[1] * len(raw))]
        else:
            flipped = bytearray(raw)
            for where, bit in op[1]:
                if flipped:
                    flipped[min(int(where * len(flipped)), len(flipped) - 1)] ^= 1 << bit
            raw = bytes(flipped)
    path = tmp_path_factory.mktemp("mutant") / "m.npz"
    path.write_bytes(raw)
    _check_read(path)


_FUZZ = given(
    ops=st.lists(MEMBER_OPS, max_size=3),
    deflate=st.booleans(),
    byte_ops=st.lists(BYTE_OPS, max_size=2),
)
test_mutated_checkpoints_are_read_or_refused, test_mutated_checkpoints_are_read_or_refused_long = (
    quick_and_long(_FUZZ, _mutated_checkpoints_are_read_or_refused, quick=150, long=3000)
)


def test_the_unmutated_checkpoint_passes_the_property(real):
    """The property's positive branch is reached: a real checkpoint reads, builds and predicts."""
    _check_read(real)


@pytest.mark.parametrize("garbage", [b"|", b"{", b"(", b"\x00"])
def test_a_damaged_npy_header_is_a_checkpoint_error(real, tmp_path, garbage):
    """Found by the long fuzz run: a flipped bit inside a header's dict made NumPy's parser raise
    SyntaxError
    or tokenize.TokenError, which escaped ``read``."""
    members = []
    for name, data in members_of(real.read_bytes()):
        if name == "W_hh.0.npy":
            at = data.index(b"'shape'")
            data = data[:at] + garbage + data[at + 1:]
        members.append((name, data))
    path = tmp_path / "damaged.npz"
    path.write_bytes(archive_of(members))
    with pytest.raises(CheckpointError, match="truncated, corrupted or another kind of file"):
        read(path)
