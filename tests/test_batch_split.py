"""scripts/batch_split.py: the stages of a training step, timed through the library's own loop, and
the table that splits a batch into them."""

from __future__ import annotations

import argparse
import os

import pytest

from .scripts import load_script


def test_the_parts_are_the_differences_of_consecutive_stages() -> None:
    split = load_script("batch_split")
    stages = {"loop": 0.5, "forward": 4.5, "gradients": 12.5, "step": 13.0}
    assert split.parts(stages) == {"loop": 0.5, "forward": 4.0, "backward": 8.0, "update": 0.5}
    text = split.table({"torch": [stages, {**stages, "step": 15.0}], "jax": []},
                       {"forward": 1.0, "backward": 6.0})
    row = next(line for line in text.splitlines() if line.startswith("| PyTorch"))
    # the whole step's median and spread; forward 4.0 of which 3.0 not products, backward 8 of 2
    assert "| 14.0 (13.0 to 15.0) |" in row and "3.0 ms (75%)" in row and "2.0 ms (25%)" in row
    assert "| JAX | failed |" in text


def test_a_backend_process_times_every_stage_through_the_trainer() -> None:
    pytest.importorskip("torch")
    split = load_script("batch_split")
    args = argparse.Namespace(backends="torch", threads="1", epochs=2, model="concise", hiddens=64,
                              data_dir=os.environ.get("D2LRNN_DATA_DIR"))
    ms = split.child(args)
    assert set(ms) == set(split.STAGES)
    # each stage adds work to the one before: nothing, a forward pass, then its backward pass
    assert 0 < ms["loop"] < ms["forward"] < ms["gradients"]
