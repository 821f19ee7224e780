"""benchmarks/inference.py: its PyTorch peers are the zoo networks with the Keras weights
(outputs equal to `model.denoise` within 1e-4), and its quick mode times the 64×64 DnCNN
row three ways on this run's backend and writes the Markdown table."""

import json
import os
import re

import numpy as np
import pytest

from tests.conftest import DATA_ROOT
from tests.helpers import load_script

pytest.importorskip("torch")
pytest.importorskip("onnxruntime", reason="the [export] extra: pip install 'keras-dae[export]'")


@pytest.fixture(scope="module")
def bench():
    return load_script("benchmarks", "inference")


def test_quick_run_times_the_patch_row_and_writes_the_table(bench, tmp_path, monkeypatch):
    import keras

    if not (DATA_ROOT / "gray" / "bsd68").is_dir():
        pytest.skip(f"BSD68 not found under {DATA_ROOT}; set KERAS_DAE_DATA")
    monkeypatch.setenv("KERAS_DAE_DATA", os.fspath(DATA_ROOT))
    assert bench.main(["--quick", "--out", os.fspath(tmp_path), "--rows", "dncnn-bsd400-gauss/64x64"]) == 0
    result = json.loads((tmp_path / f"inference_cpu_{keras.backend.backend()}.json").read_text())
    (row,) = result["rows"]
    assert row["row"] == "dncnn-bsd400-gauss/64x64" and row["input_shape"] == [1, 64, 64, 1]
    assert row["pytorch_peer"]["weights"] == "copied" and row["pytorch_peer"]["max_abs_diff"] <= 1e-4
    assert row["onnxruntime_max_abs_diff"] <= 1e-4
    assert all(len(row["ms"][way]) == 2 and row["median_ms"][way] > 0 for way in bench.WAYS)
    assert row["ratio"]["pytorch"] == pytest.approx(row["median_ms"]["pytorch"] / row["median_ms"]["keras_dae"])
    assert len(result["load_average_at_start"]) == 3 and result["quick"]

    assert bench.main(["--from-results", "--out", os.fspath(tmp_path)]) == 0
    table = (tmp_path / "inference_cpu.md").read_text()
    assert f"| row | input | {result['backend']} |" in table and "| dncnn-bsd400-gauss/64x64 | 1×64×64×1 |" in table
    assert re.search(r"\| [\d.]+ ms \(×[\d.]+, ×[\d.]+\) \|", table) and "quick run" in table
    assert not re.search(r"\b(nan|inf)\b", table)


def test_color_peer_is_the_opponent_color_network(bench):
    """The colour peer (the zoo's colour entry may not be registered): an `opponent_color`
    network on the gray zoo DnCNN, with a cross-channel head that is not zero."""
    import keras_dae
    from keras_dae import layers, models, networks

    network = networks.opponent_color(keras_dae.load("dncnn-bsd400-gauss", compile=False).network)
    head = network.get_layer("cross_channel_head")
    rng = np.random.default_rng(0)
    head.set_weights([rng.normal(0, 0.01, w.shape).astype("float32") for w in head.get_weights()])
    model = models.ResidualDAE(network, layers.AdditiveGaussian(sigma_range=(0.0, 55 / 255)))
    peer, note = bench.torch_peer(model)
    assert note == {"module": "OpponentColor", "weights": "copied", "params": network.count_params()}
    x = rng.random((2, 20, 26, 3)).astype("float32")
    np.testing.assert_allclose(bench.torch_denoise(peer, x, 25 / 255), model.denoise(x, sigma=25 / 255), atol=1e-4)


def test_retracing_times_each_size_twice_and_writes_the_table(tmp_path):
    import keras

    bench = load_script("benchmarks", "retracing")
    assert bench.main(["--sizes", "24x32,32x24,24x32", "--out", os.fspath(tmp_path)]) == 0
    result = json.loads((tmp_path / f"retracing_{keras.backend.backend()}.json").read_text())
    assert [r["size"] for r in result["rows"]] == [[24, 32], [32, 24], [24, 32]]
    assert all(r["first_s"] > 0 and r["second_s"] > 0 for r in result["rows"])
    assert "| 3 | 24×32 |" in (tmp_path / "retracing.md").read_text()
