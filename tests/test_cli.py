import importlib
import importlib.util
import json
import os
import subprocess
import sys

import d2lrnn
from d2lrnn.backends import SPECS
from d2lrnn.cli import main

from .conftest import FRAMEWORK_MODULES, ROOT, needs_corpus, options, run_cli

TINY = options(
    backend="torch",
    epochs=2,
    num_hiddens=16,
    batch_size=4,
    num_steps=8,
    max_tokens=1000,
    num_val=0,
    seed=0,
    quiet=True,
    num_preds=5,
    device="cpu",
)


@needs_corpus
def test_train_prints_the_book_summary_and_ends_with_json(tmp_path):
    plot = tmp_path / "ppl.png"
    result = run_cli(
        "train",
        *options(
            backend="torch",
            epochs=3,
            num_hiddens=32,
            max_tokens=3000,
            num_val=1500,
            seed=0,
            num_preds=10,
            plot=str(plot),
            json=True,
        ),
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("perplexity ") and " tokens/sec on cpu" in lines[0]
    assert lines[1].startswith("time traveller") and lines[2].startswith("traveller")
    report = json.loads(lines[-1])
    for key in (
        "backend",
        "model",
        "epochs",
        "perplexity",
        "val_perplexity",
        "tokens_per_sec",
        "wall_seconds",
        "device",
        "samples",
    ):
        assert key in report
    assert report["backend"] == "torch" and report["epochs"] == 3 and report["model"] == "concise"
    assert 1 < report["perplexity"] < 28 and report["tokens_per_sec"] > 0
    assert set(report["samples"]) == {"time traveller", "traveller"}
    assert len(report["samples"]["traveller"]) == len("traveller") + 10
    assert plot.stat().st_size > 1000


@needs_corpus
def test_seeded_runs_are_reproducible():
    args = (
        "train",
        "--epochs",
        "2",
        "--num-hiddens",
        "16",
        "--max-tokens",
        "2000",
        "--num-val",
        "0",
        "--seed",
        "7",
        "--json",
        "--model",
        "scratch",
    )
    first, second = run_cli(*args), run_cli(*args)
    assert first.returncode == 0, first.stderr
    a, b = json.loads(first.stdout.splitlines()[-1]), json.loads(second.stdout.splitlines()[-1])
    assert a["perplexity"] == b["perplexity"] and a["samples"] == b["samples"]


def test_bad_backend_is_one_paragraph_without_traceback():
    result = run_cli("train", env={"D2LRNN_BACKEND": "nope"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "Unknown backend 'nope'" in result.stderr and "torch" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_number_is_rejected_with_status_2():
    result = run_cli("train", "--batch-size", "0")
    assert (
        result.returncode == 2 and "--batch-size must be a positive whole number" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_version_names_d2lrnn_and_every_framework_without_importing_one():
    code = (
        "import json, sys\nfrom d2lrnn.cli import main\ntry:\n    main(['--version'])\nexcept "
        "SystemExit as e:\n"
        "    code = e.code\nprint(json.dumps([code, sorted(m for m in sys.modules if m in "
        "sys.argv[1:])]), "
        "file=sys.stderr)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *sorted(FRAMEWORK_MODULES)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    status, imported = json.loads(proc.stderr.strip().splitlines()[-1])
    assert status in (0, None) and imported == []
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == f"d2lrnn {d2lrnn.__version__}"
    assert len(lines) == 1 + len(SPECS)
    for spec, line in zip(SPECS, lines[1:]):
        assert line.startswith(f"{spec.label} ({spec.name}): ")
        if importlib.util.find_spec(spec.framework) is None:
            assert line.endswith("not installed")
        else:  # the version the framework itself reports
            assert line.endswith(importlib.import_module(spec.framework).__version__)


@needs_corpus
def test_a_failed_plot_keeps_the_results(tmp_path, monkeypatch, capsys):
    """The figure fails after training (the disk filled up): the summary and the --json line still
    come out."""
    import d2lrnn.plot

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(d2lrnn.plot, "plot_perplexity", full_disk)
    status = main(["train", *TINY, "--plot", str(tmp_path / "ppl.png"), "--json"])
    out, err = capsys.readouterr()
    assert status == 1
    report = json.loads(out.strip().splitlines()[-1])
    assert (
        report["epochs"] == 2
        and report["perplexity"] > 1
        and report["samples"]
        and report["plot"] is None
    )
    assert out.startswith("perplexity ")
    assert "the perplexity plot could not be saved" in err and "No space left on device" in err
    assert "Traceback" not in err


@needs_corpus
def test_default_prefixes_follow_a_corpus_without_those_letters(tmp_path):
    corpus = tmp_path / "hum.txt"
    corpus.write_text("Hum, dum; hum dum mud. " * 80)  # no letter of "time traveller" but m
    result = run_cli("train", *TINY, "--corpus", str(corpus), "--json", "--num-preds", "6")
    assert result.returncode == 0, result.stderr
    samples = json.loads(result.stdout.splitlines()[-1])["samples"]
    ((prefix, text),) = samples.items()
    assert prefix == "hum dum hu" and text.startswith(prefix) and len(text) == len(prefix) + 6


@needs_corpus
def test_predict_takes_a_prefix_as_people_type_it(tmp_path):
    ckpt = tmp_path / "m.npz"
    assert main(["train", *TINY, "--save", str(ckpt)]) == 0
    result = run_cli(
        "predict",
        *options(checkpoint=str(ckpt), prefix="The Time Traveller, ", num_preds=5, json=True),
    )
    assert result.returncode == 0, result.stderr
    assert "note: the prefix 'The Time Traveller, ' became 'the time traveller '" in result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert (
        report["text"].startswith("the time traveller ")
        and len(report["text"]) == len("the time traveller ") + 5
    )
    plain = run_cli(
        "predict", *options(checkpoint=str(ckpt), prefix="the time traveller ", num_preds=5)
    )
    assert plain.returncode == 0 and "note:" not in plain.stderr.replace(
        "note: torch sees no GPU", ""
    )
    assert plain.stdout.strip() == report["text"]
