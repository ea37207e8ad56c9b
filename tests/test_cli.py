import json

from .conftest import needs_corpus, run_cli


@needs_corpus
def test_train_prints_the_book_summary_and_ends_with_json(tmp_path):
    plot = tmp_path / "ppl.png"
    result = run_cli("train", "--backend", "torch", "--epochs", "3", "--num-hiddens", "32", "--max-tokens", "3000",
                     "--num-val", "1500", "--seed", "0", "--num-preds", "10", "--plot", str(plot), "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("perplexity ") and " tokens/sec on cpu" in lines[0]
    assert lines[1].startswith("time traveller") and lines[2].startswith("traveller")
    report = json.loads(lines[-1])
    for key in ("backend", "model", "epochs", "perplexity", "val_perplexity", "tokens_per_sec", "wall_seconds",
                "device", "samples"):
        assert key in report
    assert report["backend"] == "torch" and report["epochs"] == 3 and report["model"] == "concise"
    assert 1 < report["perplexity"] < 28 and report["tokens_per_sec"] > 0
    assert set(report["samples"]) == {"time traveller", "traveller"}
    assert len(report["samples"]["traveller"]) == len("traveller") + 10
    assert plot.stat().st_size > 1000


@needs_corpus
def test_seeded_runs_are_reproducible():
    args = ("train", "--epochs", "2", "--num-hiddens", "16", "--max-tokens", "2000", "--num-val", "0",
            "--seed", "7", "--json", "--model", "scratch")
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
    assert result.returncode == 2 and "--batch-size must be a positive whole number" in result.stderr
    assert "Traceback" not in result.stderr
