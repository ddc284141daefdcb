"""Model files: bitwise round trips, every corruption → ModelFileError naming file and problem, crash safety."""

from __future__ import annotations

import ast
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import safetensors.torch
import torch

from bpcore.config import Experiment, ModelSpec, TrainSpec, experiment_to_json
from bpcore.errors import ModelFileError
from bpcore.files import FORMAT, atomic_write_bytes, load_model_file, save_model_file

ROOT = Path(__file__).resolve().parents[2]
SIZES = (2, 8, 8, 3)
ACTS = ("tanh", "relu")


def _weights(dtype: torch.dtype = torch.float32, sizes: tuple[int, ...] = SIZES) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    ws = [torch.randn(sizes[l] + 1, sizes[l + 1], generator=g, dtype=dtype) for l in range(len(sizes) - 1)]
    ws[0][0, 0] = -0.0  # sign of zero, a subnormal and extremes must survive bit for bit
    ws[0][0, 1] = torch.finfo(dtype).tiny / 4
    ws[1][1, 1] = torch.finfo(dtype).max
    return ws


def _bits(W: torch.Tensor) -> torch.Tensor:
    return W.view(torch.int32 if W.dtype == torch.float32 else torch.int64)


def _raw(path: Path, tensors: dict[str, torch.Tensor], **metadata: str | None) -> Path:
    """Write a safetensors file directly (bypassing save_model_file's checks); None removes a metadata key."""
    meta = {"format": FORMAT, "sizes": json.dumps(list(SIZES)), "activations": json.dumps(list(ACTS)),
            "output": "softmax", **metadata}
    safetensors.torch.save_file(tensors, str(path), metadata={k: v for k, v in meta.items() if v is not None})
    return path


def _valid(**override: torch.Tensor) -> dict[str, torch.Tensor]:
    return {**{f"W{l}": W for l, W in enumerate(_weights())}, **override}


# ------------------------------------------------------------------------------------------------ round trip

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_round_trip_is_bitwise(tmp_path, dtype: torch.dtype) -> None:
    ws = _weights(dtype)
    exp = Experiment(model=ModelSpec(hidden=(8, 8), activation=ACTS), training=TrainSpec(lr=0.03, patience=5))
    extra = {"history": {"loss": [1.5, 0.25]}, "data": {"source": "spirals", "classes": ["a", "b", "c"]}}
    path = tmp_path / "m.safetensors"
    save_model_file(path, ws, SIZES, ACTS, "softmax", experiment=exp, extra=extra)
    mf = load_model_file(path)
    assert len(mf.weights) == 3
    for W, V in zip(ws, mf.weights, strict=True):
        assert V.dtype == dtype and V.device.type == "cpu" and V.shape == W.shape
        assert torch.equal(_bits(V), _bits(W))
    assert (mf.sizes, mf.activations, mf.output) == (SIZES, ACTS, "softmax")
    assert mf.experiment == exp and mf.extra == extra
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_minimal_file_without_hidden_layers(tmp_path, device: str) -> None:
    W = torch.arange(6.0, device=device).reshape(2, 3).T  # (3, 2), not contiguous, maybe on the GPU
    save_model_file(tmp_path / "lin.safetensors", [W], [2, 2], [], "identity")
    mf = load_model_file(tmp_path / "lin.safetensors")
    assert torch.equal(mf.weights[0], W.cpu()) and mf.sizes == (2, 2) and mf.activations == ()
    assert mf.experiment is None and mf.extra == {}


def test_metadata_is_plain_json_strings(tmp_path) -> None:
    path = tmp_path / "m.safetensors"
    save_model_file(path, _weights(), SIZES, ACTS, "sigmoid", experiment=Experiment())
    with safetensors.safe_open(str(path), "pt") as f:
        meta = f.metadata()
    assert meta["format"] == "backprop-lab-model/1" and json.loads(meta["sizes"]) == [2, 8, 8, 3]
    assert json.loads(meta["activations"]) == ["tanh", "relu"] and meta["output"] == "sigmoid"
    assert json.loads(meta["experiment"]) == json.loads(experiment_to_json(Experiment()))
    assert "extra" not in meta


# ---------------------------------------------------------------------------------------------- corruptions

def _fails(path: Path, *fragments: str) -> None:
    with pytest.raises(ModelFileError) as info:
        load_model_file(path)
    msg = str(info.value)
    assert str(path) in msg, msg
    for fragment in fragments:
        assert fragment in msg, msg


def test_missing_file(tmp_path) -> None:
    _fails(tmp_path / "none.safetensors", "not found")
    _fails(tmp_path, "is a folder")


def test_truncated_file(tmp_path) -> None:
    path = tmp_path / "m.safetensors"
    save_model_file(path, _weights(), SIZES, ACTS, "softmax")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _fails(path, "not a valid safetensors file", "incomplete")
    path.write_bytes(data[:-1])
    _fails(path, "not a valid safetensors file")
    path.write_bytes(b"")
    _fails(path, "not a valid safetensors file")


def test_flipped_header_bytes(tmp_path) -> None:
    path = tmp_path / "m.safetensors"
    save_model_file(path, _weights(), SIZES, ACTS, "softmax")
    data = bytearray(path.read_bytes())
    length = bytearray(data)
    length[5] ^= 0xFF  # header length becomes absurd
    path.write_bytes(bytes(length))
    _fails(path, "not a valid safetensors file", "header")
    json_byte = bytearray(data)
    json_byte[8] ^= 0xFF  # the opening '{' of the JSON header
    path.write_bytes(bytes(json_byte))
    _fails(path, "not a valid safetensors file", "header")


def test_tampered_shape_in_a_real_file(tmp_path) -> None:
    path = tmp_path / "m.safetensors"
    save_model_file(path, _weights(), SIZES, ACTS, "softmax")
    data = path.read_bytes()
    assert data.count(b'"shape":[9,8]') == 1
    path.write_bytes(data.replace(b'"shape":[9,8]', b'"shape":[8,9]'))  # same byte count: still valid safetensors
    _fails(path, "W1 has shape (8, 9) but the description says (8+1, 8)")


def test_foreign_safetensors_files(tmp_path) -> None:
    path = tmp_path / "hf.safetensors"
    safetensors.torch.save_file({"weight": torch.zeros(2, 2)}, str(path), metadata={"format": "pt"})
    _fails(path, "not a Backprop Lab model (format 'pt'")
    safetensors.torch.save_file({"weight": torch.zeros(2, 2)}, str(path))
    _fails(path, "not a Backprop Lab model (no 'format' entry")


CORRUPT = [
    ({"bias": torch.zeros(3)}, {}, "holds tensors ['W0', 'W1', 'W2', 'bias']; expected ['W0', 'W1', 'W2', 'W3']"),
    ({"W3": torch.zeros(4, 1)}, {}, "holds 4 weight tensors but the description (sizes [2, 8, 8, 3]) has 3 layers"),
    ({}, {"sizes": "[2, 8, 8]", "activations": '["tanh"]'},
     "holds 3 weight tensors but the description (sizes [2, 8, 8]) has 2 layers"),
    ({}, {"sizes": "[2, 8, 9, 3]"}, "W1 has shape (9, 8) but the description says (8+1, 9)"),
    ({"W1": torch.zeros(9, 2)}, {"sizes": "[2, 8, 2, 3]"}, "W2 has shape (9, 3) but the description says (2+1, 3)"),
    ({"W0": torch.zeros(3, 8, dtype=torch.int64)}, {}, "W0 has dtype int64; weights must be float32 or float64"),
    ({"W0": torch.zeros(3, 8, dtype=torch.float16)}, {}, "W0 has dtype float16"),
    ({"W2": torch.zeros(9, 3, dtype=torch.float64)}, {}, "W2 has dtype torch.float64 but W0 has torch.float32"),
    ({"W1": torch.zeros(9, 8).index_put_((torch.tensor(2), torch.tensor(5)), torch.tensor(float("nan")))}, {},
     "W1 holds a non-finite value (nan) at row 2, column 5"),
    ({"W2": torch.zeros(9, 3).index_put_((torch.tensor(8), torch.tensor(0)), torch.tensor(-float("inf")))}, {},
     "W2 holds a non-finite value (-inf) at row 8, column 0"),
    ({}, {"activations": '["tanh"]'}, "2 hidden layers (sizes [2, 8, 8, 3]) need 2 activations, got 1 (['tanh'])"),
    ({}, {"activations": '["tanh", "gelu"]'}, "unknown activation 'gelu'"),
    ({}, {"output": "softplus"}, "unknown output 'softplus'"),
    ({}, {"output": None}, "unknown output None"),
    ({}, {"sizes": None}, "has no 'sizes' entry"),
    ({}, {"sizes": "[2, 8, 8, 3"}, "metadata 'sizes' is not valid JSON"),
    ({}, {"sizes": "[2, 0, 8, 3]"}, "sizes must be a list of at least two layer sizes >= 1"),
    ({}, {"experiment": '{"training": {"lr": -1}}'}, "bad experiment description: training.lr"),
    ({}, {"experiment": '{"training": {"lrr": 1}}'}, "bad experiment description: unknown key 'training.lrr'"),
    ({}, {"experiment": "{not json"}, "bad experiment description: malformed experiment JSON"),
    ({}, {"extra": "[1, 2]"}, "metadata 'extra' must be a JSON object, got list"),
    ({}, {"extra": "{oops"}, "metadata 'extra' is not valid JSON"),
]


@pytest.mark.parametrize(("tensors", "metadata", "message"), CORRUPT, ids=lambda v: str(v)[:30])
def test_inconsistent_files_are_rejected(tmp_path, tensors: dict, metadata: dict, message: str) -> None:
    if "sizes" in metadata and metadata["sizes"] == "[2, 8, 8]":
        tensors = {f"W{l}": torch.zeros(s + 1, t) for l, (s, t) in enumerate(zip((2, 8, 8), (8, 8, 3), strict=True))}
    path = _raw(tmp_path / "m.safetensors", _valid(**tensors), **metadata)
    _fails(path, message)


def test_pickles_are_rejected_without_running_them(tmp_path) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Evil()))
    _fails(path, "not a valid safetensors file")
    torch.save({"W0": torch.zeros(3, 2)}, path)  # a torch checkpoint: a zip holding a pickle
    _fails(path, "not a valid safetensors file")
    assert not marker.exists()


# --------------------------------------------------------------------------------------------------- saving

SAVE_ERRORS = [
    (dict(sizes=[2, 8, 3], activations=["tanh"]),
     "holds 3 weight tensors but the description (sizes [2, 8, 3]) has 2 layers"),
    (dict(activations=["tanh"]), "need 2 activations, got 1"),
    (dict(output="auto"), "unknown output 'auto'"),
    (dict(sizes=[2, 8, 9, 3]), "W1 has shape (9, 8) but the description says (8+1, 9)"),
    (dict(weights=[torch.ones(3, 8), torch.full((9, 8), float("inf")), torch.ones(9, 3)]), "W1 holds a non-finite"),
    (dict(extra=[1]), "extra must be a dict, got list"),
]


@pytest.mark.parametrize(("kwargs", "message"), SAVE_ERRORS, ids=lambda v: str(v)[:30])
def test_save_refuses_what_load_would_reject(tmp_path, kwargs: dict, message: str) -> None:
    args = dict(weights=_weights(), sizes=SIZES, activations=ACTS, output="softmax") | kwargs
    path = tmp_path / "m.safetensors"
    with pytest.raises(ModelFileError) as info:
        save_model_file(path, **args)
    assert f"cannot save model file {path}" in str(info.value) and message in str(info.value), str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch) -> None:
    path = tmp_path / "m.safetensors"
    save_model_file(path, _weights(), SIZES, ACTS, "softmax", extra={"version": 1})
    before = path.read_bytes()

    def fail(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(ModelFileError, match=r"cannot write model file .*No space left on device"):
        save_model_file(path, [-W for W in _weights()], SIZES, ACTS, "softmax", extra={"version": 2})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]
    assert load_model_file(path).extra == {"version": 1}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_atomic_write_keeps_the_file_mode(tmp_path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    path.chmod(0o640)
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new" and path.stat().st_mode & 0o777 == 0o640
    old_umask = os.umask(0o077)
    try:
        atomic_write_bytes(tmp_path / "private.bin", b"x")
    finally:
        os.umask(old_umask)
    assert (tmp_path / "private.bin").stat().st_mode & 0o777 == 0o600  # a new file follows the umask


_SAVE_EXPERIMENT_ONLY = """
import sys
from bpcore.config import Experiment, load_experiment, save_experiment
save_experiment(Experiment(), sys.argv[1])
assert load_experiment(sys.argv[1]) == Experiment()
print("bpcore.files" in sys.modules)
"""


def test_experiment_saving_does_not_load_model_files(tmp_path) -> None:
    """config.py writes atomically through bpcore.atomic, not bpcore.files (which imports config.py): saving an
    experiment in a fresh interpreter never loads bpcore.files, and bpcore.atomic imports nothing from bpcore."""
    import bpcore.atomic
    import bpcore.files

    out = subprocess.run([sys.executable, "-c", _SAVE_EXPERIMENT_ONLY, str(tmp_path / "exp.toml")], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
    # one implementation, re-exported by files.py for its callers
    assert bpcore.files.atomic_write_bytes is bpcore.atomic.atomic_write_bytes
    assert bpcore.files.remove_stale_temps is bpcore.atomic.remove_stale_temps
    tree = ast.parse(Path(bpcore.atomic.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported and not {m for m in imported if m.split(".")[0] == "bpcore"}


# ----------------------------------------------------------------------------------------------- crash test

_WRITER = """
import sys, torch
from bpcore.files import save_model_file
sizes = [1024, 2048, 2048]  # W0 + W1 ≈ 25 MB of float32
k = 1
while True:
    ws = [torch.full((sizes[l] + 1, sizes[l + 1]), float(k)) for l in range(2)]
    save_model_file(sys.argv[1], ws, sizes, ["tanh"], "softmax", extra={"version": k})
    k += 1
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_mid_write_leaves_a_valid_file(tmp_path) -> None:
    path = tmp_path / "big.safetensors"
    sizes = [1024, 2048, 2048]
    save_model_file(path, [torch.zeros(sizes[l] + 1, sizes[l + 1]) for l in range(2)], sizes, ["tanh"], "softmax",
                    extra={"version": 0})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    child = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], cwd=ROOT, env=env,
                             stderr=subprocess.PIPE)
    seen: set[str] = set()
    killed_with: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and child.poll() is None:
            temps = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
            seen.update(temps)
            if len(seen) >= 2 and temps:  # one version written, the second is being written right now
                child.send_signal(signal.SIGKILL)
                killed_with = temps
                break
            time.sleep(0.0005)
    finally:
        if child.poll() is None and not killed_with:
            child.kill()
        child.wait(10)
    assert killed_with, f"the writer never got to its second save: {child.stderr.read().decode()[-2000:]}"
    assert child.returncode == -signal.SIGKILL

    mf = load_model_file(path)
    version = mf.extra["version"]
    assert version >= 1  # the kill hit a later save, not the first
    for l, W in enumerate(mf.weights):
        assert W.shape == (sizes[l] + 1, sizes[l + 1])
        assert bool((W == version).all()), f"W{l} mixes versions"

    leftovers = sorted(p.name for p in tmp_path.iterdir() if p != path)
    assert leftovers, "the kill should have interrupted a write and left its temp file"
    for name in leftovers:  # hidden, .tmp, never a *.safetensors the app would list or open as the model
        assert name.startswith(".big.safetensors.") and name.endswith(".tmp")
    assert sorted(p.name for p in tmp_path.glob("*.safetensors")) == ["big.safetensors"]
