"""The course's GRU/LSTM speed table says what the published benchmark stored, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

from .scripts import load_script


def _make_figures():
    return load_script("make_figures")


def _row(model: str, cell: str, speed: float) -> dict:
    return {
        "backend": "torch",
        "model": model,
        "condition": cell,
        "status": "ok",
        "tokens_per_sec": speed,
    }


def _comparison(name: str, median: float, low: float, high: float, verdict: str | None) -> dict:
    return {
        "backend": "torch",
        "name": name,
        "median": median,
        "low": low,
        "high": high,
        "verdict": verdict,
    }


def test_the_table_quotes_the_runs_comparisons(tmp_path: Path) -> None:
    results = {
        "machine": {"date": "2026-12-07T09:00:00+00:00", "load_average_before": [0.42, 0.5, 0.6]},
        "config": {"epochs": 8, "repeats": 3},
        "rows": [
            _row("concise", "gru", 41234.0),
            _row("book", "gru", 33000.0),
            _row("floor", "gru", 45000.0),
            _row("concise", "lstm", 47000.0),
            _row("book", "lstm", 54000.0),
        ],
        "comparisons": [
            _comparison("GRU: d2lrnn / book", 1.23, 1.1, 1.3, "met"),
            _comparison("GRU: floor / book", 1.37, 1.2, 1.5, None),
            _comparison("LSTM: d2lrnn / book", 0.87, 0.8, 0.9, "not met"),
        ],
    }
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    table = _make_figures().cell_speed_table(path)
    lines = {
        line.split("|")[2].strip(): line
        for line in table.splitlines()
        if line.startswith("| PyTorch")
    }
    assert "41,234" in lines["GRU"] and "45,000" in lines["GRU"] and "33,000" in lines["GRU"]
    assert "1.23x (1.10-1.30), met" in lines["GRU"] and "1.37x (1.20-1.50)" in lines["GRU"]
    assert "0.87x (0.80-0.90), not met" in lines["LSTM"] and "not measured" in lines["LSTM"]
    assert "load 0.42" in table


def test_without_cell_rows_the_table_says_not_measured(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(
        json.dumps({"machine": {"date": "2026-12-07"}, "config": {}, "rows": [], "comparisons": []})
    )
    table = _make_figures().cell_speed_table(path)
    assert "not measured yet" in table and "d2lrnn bench --publish docs/" in table
