import json

import numpy as np
import pytest

import d2lrnn

from .conftest import BACKENDS, needs_corpus, options, run_cli
from .test_matrix import V, build, random_weights


@pytest.mark.parametrize("target", BACKENDS)
@pytest.mark.parametrize("origin", BACKENDS)
@pytest.mark.parametrize("kind", ["RNN", "RNNScratch"])
def test_save_then_load_on_another_backend_gives_the_same_text(tmp_path, kind, origin, target):
    vocab = d2lrnn.Vocab(list("abcdef"))
    assert len(vocab) == V
    _, source = build(origin, kind, 2, random_weights(2))
    path = d2lrnn.save(tmp_path / "m.npz", source, vocab)
    model, loaded_vocab, meta = d2lrnn.load(path, backend=target)
    assert meta["backend"] == origin and meta["model"] == (
        "concise" if kind == "RNN" else "scratch"
    )
    assert type(model).__name__ == kind and model.num_layers == 2
    assert loaded_vocab.idx_to_token == vocab.idx_to_token
    for key, value in source.get_weights().items():
        np.testing.assert_allclose(model.get_weights()[key], value, atol=1e-7)
    assert model.predict("abc", 20, loaded_vocab) == source.predict("abc", 20, vocab)


def test_saving_is_atomic_and_leaves_no_temporary_files(tmp_path):
    pytest.importorskip("torch")
    vocab = d2lrnn.Vocab(list("abcdef"))
    _, model = build("torch", "RNN", 1, random_weights(1))
    path = tmp_path / "ck.npz"
    d2lrnn.save(path, model, vocab)
    d2lrnn.save(path, model, vocab)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.npz"]


@needs_corpus
def test_cli_model_trained_on_torch_generates_the_same_text_everywhere(tmp_path):
    ckpt = tmp_path / "model.npz"
    trained = run_cli(
        "train",
        *options(
            backend="torch",
            epochs=3,
            num_hiddens=32,
            max_tokens=3000,
            num_val=0,
            seed=1,
            save=str(ckpt),
            json=True,
        ),
    )
    assert trained.returncode == 0, trained.stderr
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
        assert report["backend"] == name and report["trained_on"] == "torch"
        texts.add(report["text"])
    assert len(texts) == 1 and texts.pop().startswith("time traveller")


def test_checkpoints_get_ordinary_file_permissions(tmp_path):
    import os

    pytest.importorskip("torch")
    vocab = d2lrnn.Vocab(list("abcdef"))
    _, model = build("torch", "RNN", 1, random_weights(1))
    mask = os.umask(0o022)
    try:
        path = d2lrnn.save(tmp_path / "perm.npz", model, vocab)
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_predict_reads_the_checkpoint_once(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    import d2lrnn.checkpoint
    from d2lrnn.cli import main

    vocab = d2lrnn.Vocab(list("abcdef"))
    _, model = build("torch", "RNN", 1, random_weights(1))
    path = d2lrnn.save(tmp_path / "m.npz", model, vocab)
    reads, real = [], d2lrnn.checkpoint.read
    monkeypatch.setattr(d2lrnn.checkpoint, "read", lambda p: reads.append(p) or real(p))
    assert (
        main(["predict", *options(checkpoint=str(path), prefix="abc", num_preds=7, device="cpu")])
        == 0
    )
    assert reads == [str(path)]
    assert capsys.readouterr().out.strip() == model.predict("abc", 7, vocab)


def test_checkpoints_stay_ordinary_npz_files_both_ways(tmp_path):
    """Files written before issue 22 (by ``np.savez``, stored or compressed) still read, and new
    ones load with
    ``np.load``: the format is unchanged, only how it is read and written."""
    from d2lrnn.checkpoint import read, save_weights
    from d2lrnn.model import canonical_shapes

    vocab = d2lrnn.Vocab(list("abcdef"))
    n = len(vocab)
    rng = np.random.default_rng(0)
    weights = {
        k: rng.normal(size=s).astype(np.float32) for k, s in canonical_shapes(n, n, 5, 2).items()
    }
    hparams = {"num_inputs": n, "num_outputs": n, "num_hiddens": 5, "num_layers": 2, "lr": 1.0}
    new = save_weights(
        tmp_path / "new.npz", weights, vocab, backend="torch", model="scratch", hparams=hparams
    )
    with np.load(new, allow_pickle=False) as archive:
        meta = json.loads(str(archive["__meta__"]))
        for key, value in weights.items():
            np.testing.assert_array_equal(archive[key], value)
    for writer in (np.savez, np.savez_compressed):
        old = tmp_path / f"{writer.__name__}.npz"
        writer(old, **weights, __meta__=np.asarray(json.dumps(meta)))
        loaded, loaded_meta = read(old)
        assert loaded_meta == meta
        for key, value in weights.items():
            np.testing.assert_array_equal(loaded[key], value)
