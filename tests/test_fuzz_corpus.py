"""Any file given as ``--corpus``: training either runs or stops with one paragraph (exit 2 on the
command line).

Corpora are random bytes, or random Unicode text with the awkward parts mixed in (byte-order marks,
NULs, lone surrogates, every kind of line ending, letters that change length when lower-cased),
written in UTF-8, UTF-8 with a signature, UTF-16, or UTF-8 that lets surrogates through. Training
uses the library API with a tiny model on PyTorch, so each example takes a fraction of a second.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from d2lrnn.errors import D2LRNNError, DivergenceError
from d2lrnn.train_job import TrainJob, run_training

from .conftest import installed
from .fuzz_support import quick_and_long

pytestmark = pytest.mark.skipif(not installed("torch"), reason="torch not installed")

AWKWARD = st.sampled_from(
    [
        "\ufeff",
        "\x00",
        "\r\n",
        "\r",
        "\n",
        "\u2028",
        "\u0085",
        "\t",
        "\ud800",
        "\udfff",
        "İ",
        "ß",
        "ﬃ",
        "é",
        "e\u0301",
        "時間",
        "🙂",
        " ",
        "time traveller ",
        "THE TIME MACHINE\n",
    ]
)
TEXT = st.lists(st.one_of(AWKWARD, st.text(max_size=30)), max_size=60).map("".join)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-8/surrogatepass", "latin-1"])


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-8/surrogatepass":
        return text.encode("utf-8", "surrogatepass")
    return text.encode(encoding, "replace" if encoding == "latin-1" else "surrogatepass"
                       if encoding.startswith("utf-16") else "replace")


CORPORA = st.one_of(st.binary(max_size=3000), st.builds(_encode, TEXT, ENCODINGS),
                    st.builds(lambda text, n: _encode(text * n, "utf-8"), TEXT, st.integers(1, 40)))


def _train_on(path: Path, token: str, sampling: str) -> None:
    job = TrainJob(
        settings={
            "corpus": str(path),
            "epochs": 1,
            "num_hiddens": 4,
            "batch_size": 2,
            "num_steps": 3,
            "max_tokens": 300,
            "num_val": 0,
            "token": token,
            "sampling": sampling,
            "seed": 0,
        },
        backend="torch",
        num_preds=2,
        progress=False,
        threads=None,
    )
    try:
        result = run_training(job)
    except DivergenceError as exc:  # exit 1 on the command line: not an answer to a bad corpus
        raise AssertionError(f"a tiny run diverged: {exc}") from None
    except D2LRNNError as exc:  # exit 2 on the command line
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
        event(f"refused: {exc.__class__.__name__}")
        return
    event("trained")
    assert result.exit_status == 0 and result.summary["epochs"] == 1 and result.samples is not None


def _any_corpus_trains_or_is_refused(tmp_path_factory, data, token, sampling):
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_bytes(data)
    _train_on(path, token, sampling)


_FUZZ = given(
    data=CORPORA,
    token=st.sampled_from(["char", "word"]),
    sampling=st.sampled_from(["sequential", "random"]),
)
test_any_corpus_trains_or_is_refused, test_any_corpus_trains_or_is_refused_long = quick_and_long(
    _FUZZ, _any_corpus_trains_or_is_refused, quick=60, long=1500)


@pytest.mark.parametrize("prefix", [b"\xef\xbb\xbf", b"", b"\x00"])
def test_a_usable_corpus_with_awkward_bytes_trains(tmp_path, prefix):
    """The positive branch of the property is reached: enough letters train, whatever else the file
    holds."""
    path = tmp_path / "c.txt"
    path.write_bytes(
        prefix + b"The Time Traveller\r\nwas\x00 expounding\ra recondite matter\n" * 20
    )
    job = TrainJob(
        settings={
            "corpus": str(path),
            "epochs": 1,
            "num_hiddens": 4,
            "batch_size": 2,
            "num_steps": 3,
            "max_tokens": 300,
            "num_val": 0,
            "seed": 0,
        },
        backend="torch",
        num_preds=2,
        progress=False,
        threads=None,
    )
    assert run_training(job).exit_status == 0
