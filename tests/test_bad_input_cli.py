"""Every bad input of issue 6 through the real command line: exit status 2, one clear paragraph, no
traceback,
and (for everything that can be checked without one) no framework imported."""

from __future__ import annotations

import http.server
import json
import os
import shlex
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from d2lrnn.checkpoint import save_weights
from d2lrnn.data import TimeMachine
from d2lrnn.model import canonical_shapes
from d2lrnn.resume import STATE_KEY
from d2lrnn.vocab import Vocab

from .conftest import FRAMEWORK_MODULES, options
from .fuzz_support import bad_checkpoints, crafted_checkpoint

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = FRAMEWORK_MODULES
TINY = options(
    epochs=1,
    num_hiddens=16,
    batch_size=4,
    num_steps=8,
    max_tokens=1000,
    num_val=0,
    quiet=True,
    num_preds=1,
)
# a sitecustomize that makes the frameworks named in $D2LRNN_TEST_HIDE look uninstalled
HIDER = """import importlib.util as u, os
hidden = set(filter(None, os.environ.get("D2LRNN_TEST_HIDE", "").split(",")))
_find = u.find_spec
u.find_spec = lambda name, package=None: None if name.split(".")[0] in hidden else _find(name, package)
"""  # noqa: E501


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, set[str]]:
    """``python -X importtime -m d2lrnn ARGS``: the exit status, stderr without import lines,
    frameworks imported."""
    hider = cwd / "hider"
    hider.mkdir(exist_ok=True)
    (hider / "sitecustomize.py").write_text(HIDER)
    full_env = {
        **os.environ,
        "PYTHONPATH": f"{hider}{os.pathsep}{ROOT}",
        "OMP_NUM_THREADS": "1",
        **(env or {}),
    }
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "d2lrnn", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    imported, lines = set(), []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:"):
            imported.add(line.rsplit("|", 1)[-1].strip().split(".")[0])
        else:
            lines.append(line)
    return proc.returncode, "\n".join(lines), imported & FRAMEWORKS


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, corpus_path: Path) -> dict[str, Path]:
    """Bad corpora and bad checkpoints, written with NumPy only."""
    d = tmp_path_factory.mktemp("bad")
    f = {
        name: d / name
        for name in (
            "empty.txt",
            "blank.txt",
            "latin1.txt",
            "short.txt",
            "digits.txt",
            "text.npz",
            "array.npz",
            "nometa.npz",
            "good.npz",
            "truncated.npz",
            "corrupt.npz",
            "shapes.npz",
            "vocab.npz",
            "badmeta.npz",
            "noresume.npz",
            "resumable.npz",
            "other-letters.txt",
            "small.npz",
        )
    }
    f["dir"] = d
    f["empty.txt"].write_text("")
    f["blank.txt"].write_text("  \n\t ")
    f["latin1.txt"].write_bytes("caf\xe9 au lait ".encode("latin-1") * 50)
    f["short.txt"].write_text("the time machine")
    f["digits.txt"].write_text("1234 5678 " * 100)
    f["other-letters.txt"].write_text("abc cab bca " * 200)  # valid UTF-8, another vocabulary
    f["text.npz"].write_text("not a checkpoint at all")
    np.save(f["array.npz"].with_suffix(".npy"), np.zeros(3))
    f["array.npz"].write_bytes(f["array.npz"].with_suffix(".npy").read_bytes())
    np.savez(f["nometa.npz"], W=np.zeros(3))
    data = TimeMachine(4, 8, num_train=1000, num_val=0, seed=0)
    vocab, n = data.vocab, len(data.vocab)
    hparams = {"num_inputs": n, "num_outputs": n, "num_hiddens": 16, "num_layers": 1, "lr": 1.0}
    rng = np.random.default_rng(0)
    weights = {
        k: rng.normal(0, 0.1, s).astype(np.float32)
        for k, s in canonical_shapes(n, n, 16, 1).items()
    }
    model = {"backend": "torch", "model": "concise", "hparams": hparams}
    save_weights(f["good.npz"], weights, vocab, **model)
    save_weights(f["noresume.npz"], weights, vocab, **model)
    settings = {
        "model": "concise",
        "epochs": 3,
        "batch_size": 4,
        "num_steps": 8,
        "num_hiddens": 16,
        "num_layers": 1,
        "lr": 1.0,
        "clip": 1.0,
        "max_tokens": 1000,
        "num_val": 0,
        "sampling": "sequential",
        "token": "char",
        "seed": 0,
        "corpus": None,
    }
    state = {
        "epoch": 3,
        "max_epochs": 3,
        "history": [],
        "rng": data.train_loader.rng.bit_generator.state,
        "settings": settings,
    }
    save_weights(f["resumable.npz"], weights, vocab, **model, **{STATE_KEY: state})
    small = Vocab(list("abc "))
    k = len(small)
    save_weights(
        f["small.npz"],
        {key: np.zeros(shape, np.float32) for key, shape in canonical_shapes(k, k, 4, 1).items()},
        small,
        backend="torch",
        model="scratch",
        hparams={"num_inputs": k, "num_outputs": k, "num_hiddens": 4, "num_layers": 1, "lr": 1.0},
    )
    raw = f["good.npz"].read_bytes()
    f["truncated.npz"].write_bytes(raw[: len(raw) // 2])
    middle = len(raw) // 3
    f["corrupt.npz"].write_bytes(
        raw[:middle] + bytes(b ^ 0xFF for b in raw[middle : middle + 64]) + raw[middle + 64 :]
    )
    wrong = {**weights, "W_hh.0": np.zeros((8, 8), np.float32)}
    save_weights(f["shapes.npz"], wrong, vocab, **model)
    save_weights(
        f["vocab.npz"], weights, vocab, **{**model, "hparams": {**hparams, "num_inputs": n + 3}}
    )
    save_weights(f["badmeta.npz"], weights, vocab, **{**model, "hparams": {"num_hiddens": "many"}})
    # crafted: bomb.npz, float64.npz, ...
    f.update({p.name: p for p in bad_checkpoints(f["good.npz"], d).values()})
    f["resumable-bomb.npz"] = crafted_checkpoint(d / "resumable-bomb.npz", f["resumable.npz"])
    return f


class _WrongFile(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = b"this is not the time machine\n" * 100
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def wrong_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), _WrongFile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/timemachine.txt"
    server.shutdown()


T, P = "train", "predict"
# (id, argv with {placeholders} for files, extra environment, expected text in the message)
CASES = [
    ("backend-unknown", [T, "--backend", "nope"], {}, "Unknown backend 'nope'"),
    ("backend-unknown-env", [T], {"D2LRNN_BACKEND": "nope"}, "from $D2LRNN_BACKEND"),
    (
        "backend-not-installed",
        [T, "--backend", "mxnet"],
        {"D2LRNN_TEST_HIDE": "mxnet"},
        "mxnet backend is not installed",
    ),
    (
        "predict-backend-not-installed",
        [P, "--checkpoint", "{good.npz}", "--backend", "tf"],
        {"D2LRNN_TEST_HIDE": "tensorflow"},
        "pip install 'd2lrnn[tensorflow]'",
    ),
    ("device-unknown", [T, "--device", "tpu"], {}, "invalid choice: 'tpu'"),
    *[
        (f"{flag}={value}", [T, flag, value], {}, f"{flag} must be a positive whole number")
        for flag in ("--batch-size", "--num-steps", "--num-hiddens", "--epochs", "--num-layers")
        for value in ("0", "-2", "2.5", "ten")
    ],
    ("lr-zero", [T, "--lr", "0"], {}, "--lr must be greater than 0"),
    ("lr-negative", [T, "--lr", "-0.1"], {}, "--lr must be greater than 0"),
    ("lr-nan", [T, "--lr", "nan"], {}, "--lr must be a finite number"),
    ("clip-negative", [T, "--clip", "-1"], {}, "--clip must be 0 or more (0 means no clipping)"),
    (
        "save-every-negative",
        [T, "--save-every", "-1"],
        {},
        "--save-every must be a whole number, 0 or more",
    ),
    (
        "temperature-zero",
        [P, "--checkpoint", "{good.npz}", "--temperature", "0"],
        {},
        "Leave it out for greedy",
    ),
    (
        "temperature-negative",
        [P, "--checkpoint", "{good.npz}", "--temperature", "-1"],
        {},
        "must be greater than 0",
    ),
    (
        "predict-seed-negative",
        [P, "--checkpoint", "{good.npz}", "--seed", "-1"],
        {},
        "--seed must be",
    ),
    ("corpus-missing", [T, "--corpus", "{dir}/nope.txt"], {}, "nope.txt does not exist"),
    ("corpus-directory", [T, "--corpus", "{dir}"], {}, "is a directory"),
    ("corpus-empty", [T, "--corpus", "{empty.txt}"], {}, "is empty"),
    ("corpus-blank", [T, "--corpus", "{blank.txt}"], {}, "is empty"),
    ("corpus-not-utf8", [T, "--corpus", "{latin1.txt}"], {}, "is not valid UTF-8 (byte 3)"),
    (
        "corpus-too-short",
        [T, "--corpus", "{short.txt}"],
        {},
        "has 16 tokens, but one batch of 32 x 35 needs at least 1156",
    ),
    ("corpus-no-letters", [T, "--corpus", "{digits.txt}"], {}, "has 0 tokens"),
    ("max-tokens-too-few", [T, "--max-tokens", "100"], {}, "training part (its first 100 tokens"),
    ("data-dir-without-file", [T, "--data-dir", "{dir}"], {}, "No timemachine.txt in"),
    (
        "download-fails",
        [T],
        {"D2LRNN_DATA_DIR": "", "D2LRNN_DATA_URL": "http://127.0.0.1:9/timemachine.txt"},
        "Could not download the corpus",
    ),
    (
        "download-wrong-sha1",
        [T],
        {"D2LRNN_DATA_DIR": "", "D2LRNN_DATA_URL": "{server}"},
        "but 090b5e7e70c295757f55df93cb0a180b9691891a was expected",
    ),
    ("prefix-empty", [P, "--checkpoint", "{good.npz}", "--prefix", ""], {}, "The prefix is empty"),
    (
        "prefix-unknown-letters",
        [P, "--checkpoint", "{small.npz}", "--prefix", "Cab, Taxi!"],
        {},
        "The prefix 'cab taxi ' has tokens outside the vocabulary: 'i', 't', 'x'",
    ),
    (
        "prefix-no-letters",
        [P, "--checkpoint", "{good.npz}", "--prefix", "1984!"],
        {},
        "The prefix '1984!' has no letters",
    ),
    (
        "predict-seed-too-large",
        [P, "--checkpoint", "{good.npz}", "--seed", "4294967296"],
        {},
        "--seed must be a whole number from 0 to 4294967295",
    ),
    (
        "seed-2**32",
        [T, "--seed", "4294967296"],
        {},
        "--seed must be a whole number from 0 to 4294967295",
    ),
    (
        "seed-2**64",
        [T, "--seed", "18446744073709551616"],
        {},
        "--seed must be a whole number from 0 to 4294967295",
    ),
    (
        "seed-negative",
        [T, "--seed", "-1"],
        {},
        "--seed must be a whole number from 0 to 4294967295",
    ),
    (
        "model-too-big-hiddens",
        [T, "--num-hiddens", "2000000"],
        {},
        "This model does not fit in memory",
    ),
    (
        "model-too-big-layers",
        [T, "--num-layers", "10000000"],
        {},
        "This model does not fit in memory",
    ),
    ("plot-folder-missing", [T, "--plot", "{dir}/nodir/x.png"], {}, "the folder"),
    (
        "plot-unknown-extension",
        [T, "--plot", "{dir}/x.foo"],
        {},
        "its extension .foo is not a figure format",
    ),
    ("plot-no-extension", [T, "--plot", "{dir}/x"], {}, "it has no extension"),
    ("plot-directory", [T, "--plot", "{dir}"], {}, "is a directory; give a file name"),
    ("plot-unwritable", [T, "--plot", "/proc/ppl.png"], {}, "cannot be written"),
    ("corpus-device", [T, "--corpus", "/dev/zero"], {}, "is not a regular file"),
    ("data-dir-is-a-file", [T, "--data-dir", "{good.npz}"], {}, "is a file, not a folder"),
    ("data-dir-env-missing", [T], {"D2LRNN_DATA_DIR": "{dir}/nowhere"}, "No timemachine.txt in"),
    (
        "cache-dir-unwritable",
        [T],
        {"D2LRNN_DATA_DIR": "", "D2LRNN_CACHE_DIR": "/proc/d2lrnn-cache"},
        "The download cache /proc/d2lrnn-cache cannot be used",
    ),
    (
        "save-over-another-file",
        [T, "--save", "{other-letters.txt}"],
        {},
        "already exists and is not a d2lrnn checkpoint",
    ),
    ("checkpoint-missing", [P, "--checkpoint", "{dir}/nope.npz"], {}, "nope.npz does not exist"),
    ("checkpoint-directory", [P, "--checkpoint", "{dir}"], {}, "is a directory"),
    ("checkpoint-device", [P, "--checkpoint", "/dev/zero"], {}, "/dev/zero is not a regular file"),
    (
        "resume-over-another-file",
        [T, "--resume", "{resumable.npz}", "--epochs", "9", "--save", "{latin1.txt}"],
        {},
        "already exists and is not a d2lrnn checkpoint",
    ),
    ("checkpoint-truncated", [P, "--checkpoint", "{truncated.npz}"], {}, "truncated, corrupted"),
    ("checkpoint-corrupted", [P, "--checkpoint", "{corrupt.npz}"], {}, "truncated, corrupted"),
    (
        "checkpoint-text-file",
        [P, "--checkpoint", "{text.npz}"],
        {},
        "truncated, corrupted or another kind of file",
    ),
    (
        "checkpoint-numpy-array",
        [P, "--checkpoint", "{array.npz}"],
        {},
        "a single NumPy array, not a d2lrnn checkpoint",
    ),
    (
        "checkpoint-no-metadata",
        [P, "--checkpoint", "{nometa.npz}"],
        {},
        "not a d2lrnn checkpoint (no metadata)",
    ),
    ("checkpoint-damaged-metadata", [P, "--checkpoint", "{badmeta.npz}"], {}, "damaged metadata"),
    (
        "checkpoint-wrong-shapes",
        [P, "--checkpoint", "{shapes.npz}"],
        {},
        "W_hh.0 is (8, 8), expected (16, 16)",
    ),
    ("checkpoint-vocab-mismatch", [P, "--checkpoint", "{vocab.npz}"], {}, "its vocabulary has 28"),
    # issue 22: checkpoints are untrusted input; each is refused from the archive's directory and
    # headers
    (
        "checkpoint-decompression-bomb",
        [P, "--checkpoint", "{bomb.npz}"],
        {},
        "W_hh.0 is (40000, 40000), expected (16, 16)",
    ),
    (
        "resume-decompression-bomb",
        [T, "--resume", "{resumable-bomb.npz}", "--epochs", "9"],
        {},
        "W_hh.0 is (40000, 40000), expected (16, 16)",
    ),
    (
        "checkpoint-float64",
        [P, "--checkpoint", "{float64.npz}"],
        {},
        "W_hh.0 is stored as <f8, not float32",
    ),
    (
        "checkpoint-object-array",
        [P, "--checkpoint", "{object.npz}"],
        {},
        "W_hh.0 is an array of Python objects",
    ),
    (
        "checkpoint-duplicate-member",
        [P, "--checkpoint", "{duplicate.npz}"],
        {},
        "holds the member(s) W_hh.0.npy more than once",
    ),
    (
        "checkpoint-unknown-member",
        [P, "--checkpoint", "{unknown-member.npz}"],
        {},
        "extra is unexpected",
    ),
    (
        "checkpoint-not-npy-member",
        [P, "--checkpoint", "{not-npy.npz}"],
        {},
        "holds 'run.sh', which is not a NumPy array",
    ),
    (
        "checkpoint-huge-metadata",
        [P, "--checkpoint", "{big-metadata.npz}"],
        {},
        "more than any d2lrnn checkpoint holds",
    ),
    (
        "checkpoint-model-too-big",
        [P, "--checkpoint", "{huge-model.npz}"],
        {},
        "describes a model too large for this machine (10000000 hidden units",
    ),
    (
        "checkpoint-size-mismatch",
        [P, "--checkpoint", "{size-mismatch.npz}"],
        {},
        "W_hh.0 declares 640 bytes in the archive but its header describes 1152",
    ),
    (
        "checkpoint-many-members",
        [P, "--checkpoint", "{many-members.npz}"],
        {},
        "declares 20006 members, more than any d2lrnn checkpoint holds (at most 10000)",
    ),
    ("resume-missing", [T, "--resume", "{dir}/nope.npz"], {}, "nope.npz does not exist"),
    ("resume-corrupted", [T, "--resume", "{corrupt.npz}"], {}, "truncated, corrupted"),
    ("resume-no-state", [T, "--resume", "{noresume.npz}"], {}, "no training state"),
    (
        "resume-other-model",
        [T, "--resume", "{resumable.npz}", "--num-hiddens", "32", "--epochs", "9"],
        {},
        "--num-hiddens 32 (it was trained with 16)",
    ),
    (
        "resume-other-corpus",
        [T, "--resume", "{resumable.npz}", "--corpus", "{other-letters.txt}", "--epochs", "9"],
        {},
        "does not fit the corpus (28 tokens in the checkpoint, 5 in the corpus)",
    ),
    (
        "resume-corpus-not-utf8",
        [T, "--resume", "{resumable.npz}", "--corpus", "{latin1.txt}", "--epochs", "9"],
        {},
        "not valid UTF-8",
    ),
    ("resume-finished", [T, "--resume", "{resumable.npz}"], {}, "already trained 3 epochs of 3"),
    ("save-to-directory", [T, "--save", "{dir}"], {}, "is a directory; give a file name"),
    ("save-unwritable", [T, "--save", "/proc/d2lrnn/model.npz"], {}, "cannot be written"),
]


@pytest.fixture(scope="module")
def outcomes(files, wrong_server, tmp_path_factory) -> dict[str, dict]:
    """Every case of the table, run once by tests/cli_driver.py (a fresh process, one fork per
    case)."""
    subs = {**{k: str(v) for k, v in files.items()}, "server": wrong_server}

    def fill(text: str) -> str:
        for key, value in subs.items():
            text = text.replace("{" + key + "}", value)
        return text

    cases = []
    for _, argv, env, _ in CASES:
        cwd = tmp_path_factory.mktemp("cwd")
        cases.append(
            {
                "argv": [fill(a) for a in argv],
                "cwd": str(cwd),
                "env": {
                    "D2LRNN_CACHE_DIR": str(cwd / "cache"),
                    **{k: fill(v) for k, v in env.items()},
                },
            }
        )
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "cli_driver.py")],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    return {
        case[0]: {**result, "cwd": Path(spec["cwd"])}
        for case, spec, result in zip(CASES, cases, json.loads(proc.stdout))
    }


def _check_one_paragraph(status: int, stderr: str, command: str, expected: str) -> None:
    assert status == 2, stderr
    assert "Traceback" not in stderr
    message = stderr.strip()
    assert expected in message
    assert message.startswith(f"d2lrnn {command}: ")
    assert "\n" not in message  # one paragraph, nothing before it


@pytest.mark.parametrize(
    ("name", "argv", "expected"), [(c[0], c[1], c[3]) for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_exits_2_with_one_paragraph_and_no_framework(name, argv, expected, outcomes):
    result = outcomes[name]
    _check_one_paragraph(result["status"], result["stderr"], argv[0], expected)
    assert not result["frameworks"], f"{result['frameworks']} imported before the argument checks"
    cache = result["cwd"] / "cache"
    leftovers = sorted(p.name for p in cache.rglob("*")) if cache.exists() else []
    assert leftovers == [], f"the download cache keeps {leftovers}"


@pytest.mark.parametrize(
    "name", ["--batch-size=0", "corpus-not-utf8", "checkpoint-truncated", "temperature-zero"]
)
def test_the_real_entry_point_agrees(name, files, tmp_path):
    """``python -m d2lrnn`` itself, with ``-X importtime`` listing every module it imports."""
    _, argv, _, expected = next(c for c in CASES if c[0] == name)
    argv = [
        a.replace("{latin1.txt}", str(files["latin1.txt"]))
        .replace("{truncated.npz}", str(files["truncated.npz"]))
        .replace("{good.npz}", str(files["good.npz"]))
        for a in argv
    ]
    status, stderr, frameworks = run(argv, tmp_path)
    _check_one_paragraph(status, stderr, argv[0], expected)
    assert not frameworks


def test_gpu_requested_trains_on_a_gpu_or_exits_2(tmp_path):
    """Either the run reports a GPU device, or it refuses: a silent fallback to the CPU fails this
    test."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "d2lrnn", "train", "--device", "gpu", "--json", *TINY],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in proc.stderr
    if proc.returncode == 0:
        device = json.loads(proc.stdout.splitlines()[-1])["device"]
        assert "cpu" not in device.lower(), f"--device gpu trained on {device}"
        return
    assert proc.returncode == 2, proc.stderr
    assert "A GPU was requested" in proc.stderr and "--device cpu" in proc.stderr


def test_every_bad_input_of_the_issue_is_in_the_table():
    ids = {c[0] for c in CASES}
    for needed in (
        "backend-unknown",
        "backend-not-installed",
        "device-unknown",
        "lr-zero",
        "clip-negative",
        "temperature-zero",
        "corpus-missing",
        "corpus-directory",
        "corpus-empty",
        "corpus-not-utf8",
        "corpus-too-short",
        "download-fails",
        "download-wrong-sha1",
        "prefix-empty",
        "prefix-unknown-letters",
        "checkpoint-missing",
        "checkpoint-truncated",
        "checkpoint-corrupted",
        "checkpoint-text-file",
        "checkpoint-wrong-shapes",
        "checkpoint-vocab-mismatch",
        "resume-other-model",
        # issue 13
        "plot-folder-missing",
        "plot-unknown-extension",
        "seed-2**32",
        "seed-2**64",
        "predict-seed-too-large",
        "model-too-big-hiddens",
        "resume-other-corpus",
        "data-dir-env-missing",
        "cache-dir-unwritable",
        # issue 22
        "checkpoint-decompression-bomb",
        "resume-decompression-bomb",
        "checkpoint-float64",
        "checkpoint-object-array",
        "checkpoint-duplicate-member",
        "checkpoint-unknown-member",
        "checkpoint-huge-metadata",
        "checkpoint-model-too-big",
        "checkpoint-size-mismatch",
    ):
        assert needed in ids
    assert json.dumps(CASES)  # the table stays plain data


DOC = ROOT / "docs" / "bad-inputs.md"
BEGIN, END = (
    "<!-- cases: begin (generated from tests/test_bad_input_cli.py) -->",
    "<!-- cases: end -->",
)
#: how the table names the files the fixture writes
FILE_NAMES = {"{dir}": "DIR", "{server}": "http://127.0.0.1:PORT/timemachine.txt"}


def _shown(text: str) -> str:
    for key, name in FILE_NAMES.items():
        text = text.replace(key, name)
    return text.replace("{", "").replace("}", "")


def _command(argv: list[str], env: dict[str, str]) -> str:
    words = [f"{k}={_shown(v)}" for k, v in env.items() if v and k != "D2LRNN_TEST_HIDE"]
    words += ["d2lrnn", *(shlex.quote(_shown(a)) for a in argv)]
    return " ".join(words)


def _condition(env: dict[str, str]) -> str:
    parts = [f"{k} unset" for k, v in env.items() if not v]
    if env.get("D2LRNN_TEST_HIDE"):
        parts.append(f"{env['D2LRNN_TEST_HIDE']} not installed")
    return "; ".join(parts)


def render_table() -> str:
    """The table of docs/bad-inputs.md, from CASES: every row exits with status 2 and one
    paragraph."""
    rows = ["| Case | Command | Also | Exit | The message contains |", "|---|---|---|---|---|"]
    for name, argv, env, expected in CASES:
        cells = [
            f"`{name}`",
            f"`{_command(argv, env)}`",
            _condition(env),
            "2",
            f"`{_shown(expected)}`",
        ]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join([BEGIN, *rows, END])


def test_the_table_in_the_docs_is_the_table_the_tests_run():
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, (
        f"{DOC} lost its generated table; run: python -m tests.test_bad_input_cli"
    )
    current = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert current == render_table(), (
        f"{DOC} is out of date; run: python -m tests.test_bad_input_cli"
    )


def write_table() -> None:
    """Rewrite the generated part of docs/bad-inputs.md."""
    text = DOC.read_text(encoding="utf-8")
    DOC.write_text(
        text[: text.index(BEGIN)] + render_table() + text[text.index(END) + len(END) :],
        encoding="utf-8",
    )


if __name__ == "__main__":
    write_table()
