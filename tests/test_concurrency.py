"""Processes at once: 8 loads into one cold Hub cache, 4 CLI runs into one output folder.
Process-level behaviour, the same on every backend: run on one."""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import keras_dae
from tests import helpers
from tests.hub_server import HubStandIn, use_hub

pytestmark = pytest.mark.skipif(helpers.backend() != "jax", reason="process-level: one backend is enough")

_LOAD = """
import hashlib, json, sys
import numpy as np
import keras_dae
model = keras_dae.load(sys.argv[1], compile=False)
print(json.dumps({"sha": hashlib.sha256(b"".join(
    np.asarray(w).tobytes() for w in model.get_weights())).hexdigest()}))
"""


def test_eight_processes_load_one_cold_cache_at_once(monkeypatch, tmp_path):
    import keras

    inputs = keras.Input((8,))
    model = keras.Model(inputs, keras.layers.Dense(8)(keras.layers.Dense(4)(inputs)))
    with HubStandIn() as server:
        use_hub(monkeypatch, server.url, tmp_path / "hf-cache")
        sha = keras_dae.publish(model, "hf://org/concurrent")
        env = {**os.environ, "PYTHONPATH": os.getcwd()}
        procs = [subprocess.Popen([sys.executable, "-c", _LOAD, f"hf://org/concurrent@{sha}"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
        results = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0, err[-2000:]
    digests = {json.loads(out.strip().splitlines()[-1])["sha"] for out, _ in results}
    expected = hashlib.sha256(b"".join(np.asarray(w).tobytes() for w in model.get_weights())).hexdigest()
    assert digests == {expected}


def test_four_cli_runs_into_one_folder_lose_no_file(tmp_path):
    rng = np.random.default_rng(0)
    sources = []
    for run in range(4):
        folder = tmp_path / f"in{run}"
        folder.mkdir()
        for i in range(5):
            Image.fromarray((rng.random((28, 28)) * 255).astype("uint8")).save(folder / f"r{run}-{i}.png")
        sources.append(folder)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    procs = [subprocess.Popen([sys.executable, "-m", "keras_dae", "denoise", str(src), str(out),
                               "--model", "unet-mnist-gauss", "--sigma", "0.2"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for src in sources]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(f"r{run}-{i}.png" for run in range(4) for i in range(5))
    for name in written:
        with Image.open(out / name) as im:
            assert im.size == (28, 28)
