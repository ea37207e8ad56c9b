"""scripts/judge_after.py: a section runs the epochs asked for, its judge-after header ignored,
and the runs whose perplexity fell are counted as the book matrix judges them."""

from __future__ import annotations

import types

from .scripts import load_script


def test_runs_ignore_the_header_and_count_the_falls(monkeypatch, capsys) -> None:
    script = load_script("judge_after")
    asked = []
    outputs = iter(["PPL 30 20\n", "PPL 30 40\n", "PPL 30 20\nPPL 25 26\n", "no perplexity\n"])

    def fake_run(cell_file, repo, epochs):
        asked.append((cell_file.min_epochs, cell_file.epochs_run(epochs)))
        return types.SimpleNamespace(output=next(outputs), returncode=0)

    monkeypatch.setattr(script, "run_cell_file", fake_run)
    script.main(["v0/rnn-concise/tensorflow", "--runs", "2", "--epochs", "2,3"])
    # the section's header says judge-after 6 epochs; here each run trains what was asked
    assert asked == [(0, 2), (0, 2), (0, 3), (0, 3)]
    out = capsys.readouterr().out
    assert "2 epochs: the perplexity fell in 1 of 2 runs" in out
    # a run with two trainings falls only if both fall; a run without perplexities does not
    assert "3 epochs: the perplexity fell in 0 of 2 runs" in out
