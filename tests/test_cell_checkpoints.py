"""GRU and LSTM checkpoints: the cell is recorded, text is the same on every backend, resume is
exact;
checkpoints without a cell (written before GRU and LSTM) still load; an unknown cell is a clear
error."""

from __future__ import annotations

import json

import numpy as np
import pytest

import d2lrnn
from d2lrnn.checkpoint import _META, read, save_weights
from d2lrnn.errors import CheckpointError
from d2lrnn.resume import STATE_KEY
from d2lrnn.train_job import TrainJob, run_training

from .conftest import BACKENDS, needs_corpus, options, run_cli
from .test_cells import V, make, random_weights

SMALL = {
    "num_hiddens": 8,
    "batch_size": 4,
    "num_steps": 8,
    "max_tokens": 600,
    "num_val": 0,
    "seed": 5,
}


def job(**kwargs) -> TrainJob:
    settings = {**SMALL, **kwargs.pop("settings", {})}
    return TrainJob(
        settings=settings,
        save_every=1,
        num_preds=1,
        progress=False,
        device="cpu",
        threads=None,
        **kwargs,
    )


def rewrite_meta(path, change) -> None:
    """Rewrite a checkpoint's metadata in place (as an older or newer d2lrnn would have written
    it)."""
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays[_META]))
    change(meta)
    arrays[_META] = np.asarray(json.dumps(meta))
    np.savez(path, **arrays)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("name", BACKENDS)
def test_save_load_everywhere_keeps_the_cell_and_the_text(tmp_path, name, cell):
    vocab = d2lrnn.Vocab(list("abcdef"))
    assert len(vocab) == V
    _, source = make(name, "concise", cell, 2, random_weights(cell, 2))
    path = d2lrnn.save(tmp_path / "m.npz", source, vocab)
    assert read(path)[1]["cell"] == cell
    want = source.predict("abc", 20, vocab)
    for target in d2lrnn.available_backends():
        model, _, meta = d2lrnn.load(path, backend=target)
        assert model.cell_name == cell and meta["backend"] == name
        assert model.predict("abc", 20, vocab) == want, target


@needs_corpus
@pytest.mark.slow  # the RNN's run is in the default suite (tests/test_checkpoint.py)
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_cli_gru_lstm_trained_on_torch_generate_the_same_text_everywhere(tmp_path, cell):
    ckpt = tmp_path / f"{cell}.npz"
    trained = run_cli(
        "train",
        *options(
            backend="torch",
            cell=cell,
            epochs=3,
            num_hiddens=32,
            max_tokens=3000,
            num_val=0,
            seed=1,
            save=str(ckpt),
            json=True,
            quiet=True,
        ),
    )
    assert trained.returncode == 0, trained.stderr
    assert json.loads(trained.stdout.splitlines()[-1])["cell"] == cell
    texts = set()
    for name in d2lrnn.available_backends():
        result = run_cli(
            "predict",
            *options(
                checkpoint=str(ckpt), backend=name, prefix="time traveller", num_preds=30, json=True
            ),
        )
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout.splitlines()[-1])
        assert report["cell"] == cell and report["trained_on"] == "torch"
        texts.add(report["text"])
    assert len(texts) == 1 and texts.pop().startswith("time traveller")


@needs_corpus
@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("name", BACKENDS)
def test_resume_continues_exactly(tmp_path, name, cell):
    part, full = tmp_path / "part.npz", tmp_path / "full.npz"
    first = run_training(job(backend=name, save=str(part), settings={"cell": cell, "epochs": 2}))
    assert first.cell == cell and read(part)[1]["cell"] == cell
    resumed = run_training(job(resume=str(part), settings={"epochs": 4}))
    whole = run_training(job(backend=name, save=str(full), settings={"cell": cell, "epochs": 4}))
    assert resumed.stopped_by is None and whole.stopped_by is None, (resumed.message, whole.message)
    assert resumed.backend == whole.backend == name and resumed.cell == cell
    (a, meta_a), (b, meta_b) = read(part), read(full)
    assert meta_a[STATE_KEY]["epoch"] == meta_b[STATE_KEY]["epoch"] == 4
    for key, value in b.items():
        np.testing.assert_allclose(a[key], value, atol=1e-5, rtol=0, err_msg=key)
    assert [s["perplexity"] for s in meta_a[STATE_KEY]["history"]] == pytest.approx(
        [s["perplexity"] for s in meta_b[STATE_KEY]["history"]], rel=1e-4
    )


@needs_corpus
def test_resume_with_another_cell_is_refused(tmp_path):
    part = tmp_path / "part.npz"
    run_training(job(backend="torch", save=str(part), settings={"cell": "gru", "epochs": 1}))
    result = run_cli("train", *options(resume=str(part), cell="lstm", epochs=2))
    assert result.returncode == 2 and "--cell lstm (it was trained with gru)" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_checkpoint_without_a_cell_is_an_rnn(tmp_path):
    """Checkpoints written before GRU and LSTM name no cell: they load as the RNN they hold."""
    vocab = d2lrnn.Vocab(list("abcdef"))
    _, model = make("torch", "concise", "rnn", 1, random_weights("rnn", 1))
    path = d2lrnn.save(tmp_path / "old.npz", model, vocab)
    rewrite_meta(path, lambda meta: meta.pop("cell"))
    with np.load(path) as archive:
        assert "cell" not in json.loads(str(archive[_META]))
    loaded, _, meta = d2lrnn.load(path)
    assert meta["cell"] == "rnn" and loaded.cell_name == "rnn"
    assert loaded.predict("abc", 15, vocab) == model.predict("abc", 15, vocab)


@needs_corpus
def test_an_old_training_checkpoint_resumes(tmp_path):
    part = tmp_path / "old.npz"
    run_training(job(backend="torch", save=str(part), settings={"epochs": 1}))

    def old(meta):
        meta.pop("cell")
        meta[STATE_KEY]["settings"].pop("cell")

    rewrite_meta(part, old)
    resumed = run_training(job(resume=str(part), settings={"epochs": 2}))
    assert resumed.cell == "rnn" and read(part)[1][STATE_KEY]["epoch"] == 2


def test_an_unknown_cell_is_a_clear_error(tmp_path):
    vocab = d2lrnn.Vocab(list("abcdef"))
    weights = random_weights("rnn", 1)
    path = save_weights(
        tmp_path / "new.npz",
        weights,
        vocab,
        backend="torch",
        model="concise",
        hparams={"num_inputs": V, "num_outputs": V, "num_hiddens": 12, "num_layers": 1, "lr": 1.0},
        cell="tcn",
    )
    with pytest.raises(
        CheckpointError, match="cell 'tcn', which this version of d2lrnn does not know"
    ):
        read(path)
    rewrite_meta(path, lambda meta: meta.update(cell=["gru"]))  # not even a name
    with pytest.raises(CheckpointError, match=r"cell \['gru'\]"):
        read(path)
    rewrite_meta(path, lambda meta: meta.update(cell="tcn"))
    result = run_cli("predict", "--checkpoint", str(path), "--prefix", "ab")
    assert result.returncode == 2 and "does not know (it knows rnn, gru, lstm)" in result.stderr
    assert "Traceback" not in result.stderr and "tcn" in result.stderr


def test_train_with_an_unknown_cell_exits_2():
    result = run_cli("train", "--cell", "tcn", "--epochs", "1")
    assert result.returncode == 2 and "--cell" in result.stderr and "Traceback" not in result.stderr
