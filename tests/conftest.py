"""Shared fixtures: the corpus comes from the shared copy beside the checkout, never the network."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from d2lrnn.backends import NAMES, REGISTRY, SPECS

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("D2LRNN_SHARED", ROOT.parent / "shared"))
SHARED_DATA = SHARED / "data"

if "D2LRNN_DATA_DIR" not in os.environ and (SHARED_DATA / "timemachine.txt").is_file():
    os.environ["D2LRNN_DATA_DIR"] = str(SHARED_DATA)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# never reach the network: a download attempt fails fast on a closed local port
os.environ.setdefault("D2LRNN_DATA_URL", "http://127.0.0.1:9/timemachine.txt")


def _import_mxnet_first() -> None:
    """MXNet 1.9 crashes when imported after TensorFlow, so a test session imports it up front."""
    import importlib.util

    if "mxnet" in REGISTRY and importlib.util.find_spec("mxnet") is not None:
        import d2lrnn

        d2lrnn.get_backend("mxnet")


_import_mxnet_first()


def _has_corpus() -> bool:
    data_dir = os.environ.get("D2LRNN_DATA_DIR")
    return bool(data_dir) and (Path(data_dir) / "timemachine.txt").is_file()


#: under ``CI=true`` a skip for one of these reasons is an error: CI must have the corpus, the
#: seeds,
#: every framework, the docs tools and the browser (``.ci/run`` installs them all)
MUST_RUN_IN_CI = re.compile(
    r"not installed|timemachine\.txt|D2LRNN_SHARED|D2LRNN_DATA_DIR|needs "
    r"(mxnet|torch|tensorflow|jax)"
    r"|could not import '(mxnet|torch|tensorflow|tf_keras|jax|flax|optax)'|chromium|playwright",
    re.I,
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


#: cases the default suite leaves to ``-m slow`` for its time budget; a sibling in the default suite
#: covers the same path (JAX's LSTM for its GRU, sequential for random sampling, unclipped for
#: clipped, the concise model for the scratch one, one and two layers in one case each, PyTorch's
#: two-worker CLI for MXNet's, resuming 2 -> 1 worker for 1 -> 2)
SLOW_CASES = frozenset(
    {
        "tests/test_cell_checkpoints.py::test_resume_continues_exactly[jax-gru]",
        "tests/test_interrupt_resume.py::test_interrupt_and_resume_equal_an_uninterrupted_run[jax-random]",
        "tests/test_cells.py::test_concise_and_scratch_take_the_same_sgd_steps[jax-lstm]",
    "tests/test_floor.py::test_floor_computes_the_library_losses[jax-clipped]",
    "tests/test_matrix.py::test_short_training_lowers_perplexity[jax-RNNScratch]",
    "tests/test_distributed_backends.py::test_train_with_two_workers_reports_the_perplexity_of_one_process[mxnet]",
    "tests/test_distributed_backends.py::test_a_run_saved_in_one_process_resumes_on_two_workers_exactly",
    "tests/test_jax_speed_levers.py::test_the_input_layer_before_the_scan_computes_what_the_cells_own_input_layer_does[rnn-2]",
    "tests/test_jax_speed_levers.py::test_the_input_layer_before_the_scan_computes_what_the_cells_own_input_layer_does[gru-1]",
    "tests/test_jax_speed_levers.py::test_the_input_layer_before_the_scan_computes_what_the_cells_own_input_layer_does[gru-2]",
    "tests/test_jax_speed_levers.py::test_the_input_layer_before_the_scan_computes_what_the_cells_own_input_layer_does[lstm-1]",
    }
)


@pytest.hookimpl(tryfirst=True)  # before -m selects by marker
def pytest_collection_modifyitems(config, items):  # noqa: ANN001, ANN201
    for item in items:
        if item.nodeid in SLOW_CASES:
            item.add_marker(pytest.mark.slow)
    found = {item.nodeid for item in items}
    tests = {nodeid.split("[")[0] for nodeid in found}
    stale = [case for case in SLOW_CASES if case.split("[")[0] in tests and case not in found]
    assert not stale, f"SLOW_CASES names tests that no longer exist: {stale}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ANN001, ANN201
    """Under ``CI=true``, a test skipped for a missing corpus, framework, seed folder or browser
    fails instead."""
    outcome = yield
    report = outcome.get_result()
    if not (in_ci() and report.skipped) or hasattr(report, "wasxfail"):
        return
    reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
    if MUST_RUN_IN_CI.search(reason):
        report.outcome = "failed"
        report.longrepr = (
            f"CI=true: this environment must run this test, but it was skipped: {reason}"
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):  # noqa: ANN001, ANN201
    """The same for a whole module skipped at import (``pytest.importorskip("mxnet")``)."""
    outcome = yield
    report = outcome.get_result()
    if in_ci() and report.skipped:
        reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
        if MUST_RUN_IN_CI.search(reason):
            report.outcome = "failed"
            report.longrepr = (
                f"CI=true: this environment must run these tests, but they were skipped: {reason}"
            )


needs_corpus = pytest.mark.skipif(
    not _has_corpus(), reason="no timemachine.txt: set D2LRNN_DATA_DIR or D2LRNN_SHARED"
)


@pytest.fixture(scope="session")
def corpus_path() -> Path:
    if not _has_corpus():
        pytest.skip("no timemachine.txt: set D2LRNN_DATA_DIR or D2LRNN_SHARED")
    return Path(os.environ["D2LRNN_DATA_DIR"]) / "timemachine.txt"


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run ``python -m d2lrnn ARGS`` from the checkout, capturing text output."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "d2lrnn", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def installed(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def backend_param(name: str):
    """A pytest param for a backend that is skipped, with its reason, when not installed."""
    framework = REGISTRY[name].framework
    return pytest.param(
        name,
        marks=pytest.mark.skipif(not installed(framework), reason=f"{framework} not installed"),
    )


#: every registered backend, each skipped when its framework is not installed
BACKENDS = [backend_param(name) for name in NAMES]
#: the top-level modules of every framework (to see which ones a process imported)
FRAMEWORK_MODULES = frozenset(
    root for spec in SPECS for root in (spec.framework, *spec.module_roots)
)


def assert_greedy(model, text: str, prefix: str, num_preds: int, vocab, tensor, to_numpy) -> None:
    """``text`` is ``prefix`` plus ``num_preds`` tokens, each the argmax of the model's own logits
    after the text so far.

    Feeding the whole text at once (batch 1) gives the logits of every position; greedy decoding
    must have chosen the argmax at each generated position.
    """
    import re

    tokens = re.findall(r"<unk>|.", text, flags=re.S)
    assert tokens[: len(prefix)] == list(prefix) and len(tokens) == len(prefix) + num_preds, text
    ids = np.asarray([vocab[tokens[:-1]]])
    logits, _ = model(tensor(ids))
    # (steps, vocab) in either layout at batch 1
    flat = to_numpy(logits).reshape(-1, to_numpy(logits).shape[-1])
    chosen = flat.argmax(axis=1)[len(prefix) - 1 :]
    assert list(vocab.to_tokens(chosen)) == tokens[len(prefix) :], text


def options(**settings: object) -> list[str]:
    """Command-line options from settings: ``options(num_hiddens=16, quiet=True)`` is
    ``["--num-hiddens", "16", "--quiet"]`` (False and None leave an option out)."""
    args: list[str] = []
    for key, value in settings.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif value is not False and value is not None:
            args += [flag, str(value)]
    return args


#: a short data-parallel run: two workers split its batch of 8 streams
WORKER_RUN = dict(
    epochs=3,
    batch_size=8,
    num_steps=10,
    num_hiddens=16,
    max_tokens=2000,
    num_val=500,
    seed=0,
    threads=1,
    num_preds=5,
    device="cpu",
    quiet=True,
)
