"""benchmarks/speed.py: its PyTorch peers are the zoo networks (same parameter count, same
shapes), and its quick mode measures everything on this run's backend and writes RESULTS.md."""

import functools
import json
import os
import re
import pathlib
import sys

import numpy as np
import pytest

from tests.helpers import load_script

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIT_KEYS = ("keras_dae_corrupting", "keras_dae_pairs", "bare_keras", "pytorch")


def load_benchmark(name):
    return load_script("benchmarks", name)


@pytest.fixture(scope="module")
def torch_unet():
    pytest.importorskip("torch")
    return load_benchmark("torch_unet")


def test_torch_peers_have_the_keras_parameter_counts_and_shapes(torch_unet):
    import torch

    speed = load_benchmark("speed")
    keras_unet, keras_mlp = speed.keras_networks()
    unet = torch_unet.UNet(**speed.unet_arguments(keras_unet))
    assert torch_unet.check_param_count(unet, keras_unet.count_params()) == 653_761
    mlp = torch_unet.TiedMLP((784, 1000, 1000, 1000))
    assert torch_unet.check_param_count(mlp, keras_mlp.count_params()) == 2_789_784
    x, sigma = np.random.default_rng(0).random((2, 28, 28, 1), "float32"), np.array([0.1, 0.5], "float32")
    with torch.no_grad():
        out = unet(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()), torch.from_numpy(sigma))
        recon = mlp(torch.from_numpy(x.reshape(2, -1)))
    assert tuple(out.shape) == (2, 1, 28, 28) and tuple(recon.shape) == (2, 784)
    assert np.all(out.numpy() == 0.0)  # the output convolution starts at zero, as in Keras
    with pytest.raises(AssertionError, match="not the same architecture"):
        torch_unet.check_param_count(torch_unet.UNet(widths=(32, 64)), keras_unet.count_params())


def test_unet_peer_pads_and_crops_as_keras(torch_unet):
    import torch

    from keras_dae import networks

    keras_net = networks.unet((30, 26, 3), widths=(16, 32, 32), sigma_conditioning="film", embedding_dim=32)
    speed = load_benchmark("speed")
    peer = torch_unet.UNet(**speed.unet_arguments(keras_net))
    assert torch_unet.param_count(peer) == keras_net.count_params()
    with torch.no_grad():
        assert tuple(peer(torch.zeros(1, 3, 30, 26), torch.ones(1)).shape) == (1, 3, 30, 26)


def test_speed_quick_measures_everything_and_writes_results(torch_unet, tmp_path, monkeypatch, capsys, mnist_path):
    speed = load_benchmark("speed")
    monkeypatch.setenv("KERAS_DAE_DATA", os.fspath(mnist_path.parents[1]))
    assert speed.main(["--quick", "--batch-size", "16", "--out", os.fspath(tmp_path)]) == 0
    (path,) = tmp_path.glob("speed_*_*.json")
    result = json.loads(path.read_text())
    assert path.name == f"speed_{result['device']}_{result['backend']}.json" and result["quick"]
    for section in ("unet", "mlp"):
        assert all(result[section][k] > 0 for k in FIT_KEYS), result[section]
        assert result[section]["params"]["keras"] == result[section]["params"]["pytorch"]
    epoch = result["recipe_epoch"]
    assert epoch["train_images"] == 32 and epoch["val_images"] >= 1 and epoch["psnr_digits"] >= 1
    assert all(epoch[k] > 0 for k in ("seconds", "train_seconds", "val_loss_seconds", "psnr_seconds"))
    assert all(result["denoise_ms"][way][k] > 0 for way in ("keras_dae", "bare_keras", "pytorch") for k in ("1", "256"))
    assert result["settings"]["jit_compile"]["requested"] == "auto"
    assert isinstance(result["settings"]["jit_compile"]["resolved"], bool)

    assert speed.main(["--from-results", "--out", os.fspath(tmp_path)]) == 0
    markdown = (tmp_path / "RESULTS.md").read_text()
    assert f"## {result['device'].upper()}" in markdown and f"| | {result['backend']} |" in markdown
    assert "quick run" in markdown and result["command"] in markdown
    assert "keras-dae overhead vs bare Keras, pairs" in markdown and "end to end / fit alone" in markdown
    assert not re.search(r"\b(nan|inf)\b", markdown)
    if result["device"] == "cpu":  # says so where no GPU was measured
        assert "## GPU\n\nNot measured" in markdown


def test_precision_benchmark_times_the_three_policies(tmp_path, monkeypatch):
    import keras

    speed = load_benchmark("speed")  # the module `precision` imports, with its quick U-Net
    monkeypatch.setattr(speed, "recipes", functools.partial(speed.recipes, quick=True))
    monkeypatch.setitem(sys.modules, "speed", speed)
    precision = load_benchmark("precision")
    # A time cap shorter than any step: every policy gets the floor of 2 timed steps, not 3.
    precision.main(["--one", "--steps", "3", "--seconds", "1e-6", "--warmup", "1", "--repeats", "1",
                    "--batch-size", "4", "--out", str(tmp_path)])
    (result,) = [json.loads(p.read_text()) for p in tmp_path.glob("precision_*_*.json")]
    assert result["backend"] == keras.backend.backend()
    assert result["plan"]["steps_used"] == {p: 2 for p in precision.POLICIES}
    assert set(result["images_per_second"]) == {"float32", "mixed_bfloat16", "mixed_float16"}
    assert all(v > 0 for v in result["images_per_second"].values())
    table = next(tmp_path.glob("precision_*.md")).read_text()
    assert "| mixed_float16 |" in table and "×)" in table
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored


def test_data_format_benchmark_times_each_variant_of_the_same_network(tmp_path, monkeypatch):
    import keras

    bench = load_benchmark("data_format")
    monkeypatch.setattr(bench, "unet", functools.partial(bench.unet, widths=(8,)))  # its code, not XLA's
    bench.main(["--steps", "2", "--warmup", "1", "--repeats", "1", "--batch-size", "4",
                "--results", str(tmp_path / "layout")])
    result = json.loads((tmp_path / "layout.json").read_text())
    measured = set(result["images_per_second"])
    if keras.backend.backend() == "tensorflow":  # no channels_first convolution on CPU
        assert measured == set(bench.VARIANTS) - {"channels_first"} and "CPU" in result["notes"]["channels_first"]
    else:
        assert measured == set(bench.VARIANTS)
        assert len(set(result["params"].values())) == 1  # the same network in both layouts
    assert all(v > 0 for v in result["images_per_second"].values())
    assert "| channels_first |" in (tmp_path / "layout.md").read_text()
    assert keras.config.image_data_format() == "channels_last"  # the global layout is restored


def test_train_settings_times_a_setting_on_this_backend_and_writes_the_table(mnist_path, monkeypatch, tmp_path):
    """One setting's measurement in this process (the driver runs each in a child), then the
    table from it and a failed setting."""
    import keras

    monkeypatch.setenv("KERAS_DAE_DATA", os.fspath(mnist_path.parents[1]))
    bench = load_benchmark("train_settings")
    monkeypatch.setattr(bench, "recipe", lambda name: load_benchmark("speed").recipes(quick=True)[0])
    job = {"backend": keras.backend.backend(), "models": ["unet"], "steps": 2, "warmup": 1, "repeats": 1}
    if job["backend"] == "torch":
        rates = bench.measure_torch(**job)
    else:
        rates = bench.measure_keras(**job, options={"steps_per_execution": 2})
        assert rates["unet"]["steps_timed"] == 2
    assert rates["unet"]["images_per_second"] > 0 and len(rates["unet"]["runs"]) == 1
    result = {"date": "d", "cpu_count": 2, "plan": {"steps": 2, "warmup": 1, "repeats": 1}, "command": "c",
              "pytorch": {"unet": {"images_per_second": 100.0}},
              "rows": [{"backend": "jax", "setting": "default", "unet": {"images_per_second": 50.0}},
                       {"backend": "jax", "setting": "broken", "unet": {"images_per_second": float("nan"),
                                                                       "error": ["ValueError: x"]}}]}
    table = bench.markdown(result)
    assert "| jax | default | 50.0 (0.50×) |" in table and "| jax | broken | failed |" in table
    assert "- jax broken unet: ['ValueError: x']" in table


def test_first_fit_benchmark_times_both_ways(tmp_path):
    bench = load_benchmark("first_fit")
    result = bench.main(["--repeats", "1", "--widths", "8", "--images", "16", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / f"first_fit_{result['backend']}.json").read_text())
    assert saved == json.loads(json.dumps(result))
    assert all(len(v) == 1 and v[0] > 0 for v in saved["seconds"].values())
    assert saved["keras_over_keras_dae"] > 0
    with pytest.raises(SystemExit):
        bench.main(["--repeats", "0", "--out", str(tmp_path)])
