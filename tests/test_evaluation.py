import json
import os

import keras
import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from keras_dae.evaluation import baselines
from keras_dae import evaluation


@pytest.fixture(autouse=True)
def _env(mnist_path, monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_DAE_DATA", str(mnist_path.parents[1]))
    monkeypatch.setenv("KERAS_DAE_CACHE", str(tmp_path / "cache"))


class Identity:
    name = "identity"

    def denoise(self, x, sigma):
        return x


class KerasWrapper:
    """A trivial Keras model behind the `denoise` interface (returns backend tensors)."""

    name = "keras-blur"

    def __init__(self):
        self.model = keras.Sequential([keras.Input((28, 28, 1)),
                                       keras.layers.AveragePooling2D(3, 1, padding="same")])

    def denoise(self, x, sigma):
        return self.model(x)


def test_noisy_rows_follow_the_protocol():
    result = evaluation.evaluate(None, "mnist", sigmas=(0.1, 0.3, 0.5), seed=0,
                                 num_images=300, baselines=(), verbose=False)
    x = np.load(os.path.join(os.environ["KERAS_DAE_DATA"], "mnist", "mnist.npz"), allow_pickle=False)["x_test"]
    x = x[:300, ..., None].astype("float32") / 255.0
    n = np.random.default_rng(0).standard_normal(x.shape)
    for sigma, figure in ((0.1, 19.99), (0.3, 10.47), (0.5, 6.03)):
        noisy = (x + sigma * n).astype("float32")
        expected = np.mean([peak_signal_noise_ratio(a, b, data_range=1.0)
                            for a, b in zip(x, noisy)])
        got = result.value("noisy", f"sigma={sigma:g}")
        assert abs(got - expected) < 1e-6
        assert abs(got - figure) < 0.05
    assert result.meta["num_images"] == 300 and result.meta["seed"] == 0


def test_noise_is_numpy_and_identical_everywhere():
    x = np.zeros((3, 5, 5, 1), "float32")
    a = evaluation.add_gaussian_noise(x, 0.3, seed=7)
    b = evaluation.add_gaussian_noise(x, 0.3, seed=7)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        a, (0.3 * np.random.default_rng(7).standard_normal(x.shape)).astype("float32"))
    as_list = evaluation.add_gaussian_noise(list(x), 0.3, seed=7)
    np.testing.assert_array_equal(np.stack(as_list), a)


@pytest.mark.parametrize("model_cls", [Identity, KerasWrapper])
def test_model_row_and_outputs(model_cls):
    result = evaluation.evaluate(model_cls(), "mnist", sigmas=(0.3,), num_images=40,
                                 baselines=("tv",), val_images=20, verbose=False)
    methods = [r["method"] for r in result.rows]
    assert methods == ["noisy", model_cls.name, "tv"]
    noisy = result.value("noisy", "sigma=0.3")
    model = result.value(model_cls.name, "sigma=0.3")
    assert model > noisy
    if model_cls is Identity:
        x = evaluation.load_eval_images("mnist", "test", 40)[0]
        clipped = np.clip(evaluation.add_gaussian_noise(x, 0.3, 0), 0, 1)
        assert abs(model - np.mean([peak_signal_noise_ratio(a, b, data_range=1.0)
                                    for a, b in zip(x, clipped)])) < 1e-6
    table = result.to_markdown()
    assert "total variation" in table and "σ=0.3 PSNR" in table
    data = json.loads(result.to_json())
    assert data["meta"]["seed"] == 0 and data["meta"]["num_images"] == 40
    assert {"keras", "keras-dae", "numpy", "scikit-image"} <= set(data["meta"]["versions"])
    assert all("per_image" not in row for row in data["rows"])


def test_classical_rows_are_cached(tmp_path, monkeypatch):
    kwargs = dict(dataset="mnist", sigmas=(0.2, 0.4), num_images=20, val_images=10,
                  baselines=("tv",), verbose=False)
    first = evaluation.evaluate(None, **kwargs)
    files = os.listdir(tmp_path / "cache")
    assert len(files) == 2 and not any(f.endswith(".tmp") for f in files)

    def fail(*args, **kwargs):
        raise AssertionError("a cached row was recomputed")

    monkeypatch.setattr(baselines, "tune", fail)
    second = evaluation.evaluate(None, **kwargs)
    assert second.rows == first.rows
    with pytest.raises(AssertionError, match="recomputed"):
        evaluation.evaluate(None, **dict(kwargs, num_images=21))


class Scaled:
    """A denoiser with one Keras weight, counting its calls."""

    name = "scaled (test)"

    def __init__(self, factor):
        self.factor = keras.Variable(factor)
        self.weights, self.calls = [self.factor], 0

    def denoise(self, x, sigma):
        self.calls += 1
        return x * keras.ops.convert_to_numpy(self.factor)


def test_model_rows_are_cached_by_weights_only_when_asked(tmp_path):
    kwargs = dict(dataset="mnist", sigmas=(0.2,), num_images=20, baselines=(), verbose=False)
    model = Scaled(0.9)
    first = evaluation.evaluate(model, cache_model_rows=True, **kwargs)
    assert model.calls == 1 and len(os.listdir(tmp_path / "cache")) == 1
    assert evaluation.evaluate(model, cache_model_rows=True, **kwargs).rows == first.rows
    assert model.calls == 1  # read back, not recomputed
    model.factor.assign(0.8)  # other weights: measured again
    changed = evaluation.evaluate(model, cache_model_rows=True, **kwargs)
    assert model.calls == 2 and changed.rows[-1] != first.rows[-1]
    evaluation.evaluate(model, **kwargs)  # off by default
    assert model.calls == 3 and len(os.listdir(tmp_path / "cache")) == 2
    evaluation.evaluate(Identity(), cache_model_rows=True, **kwargs)  # no weights: never cached
    assert len(os.listdir(tmp_path / "cache")) == 2


def test_bm3d_subset_is_stated():
    pytest.importorskip("bm3d")
    result = evaluation.evaluate(None, "mnist", sigmas=(0.3,), num_images=6, bm3d_images=2,
                                 val_images=2, baselines=("bm3d",), use_cache=False,
                                 verbose=False)
    assert [r["num_images"] for r in result.rows] == [6, 2]
    assert "| BM3D | 2 |" in result.to_markdown()
    assert result.subset(3).rows[0]["num_images"] == 3


def test_save_writes_json_and_markdown(tmp_path):
    result = evaluation.evaluate(None, "mnist", sigmas=(0.1,), num_images=5, baselines=(),
                                 verbose=False)
    json_path, md_path = result.save(str(tmp_path / "out"), "mnist")
    assert json.load(open(json_path))["rows"][0]["method"] == "noisy"
    assert "noisy input" in open(md_path).read()


def test_argument_errors():
    with pytest.raises(ValueError, match="Received: sigma=-1"):
        evaluation.evaluate(None, sigmas=(-1,), baselines=(), verbose=False)
    with pytest.raises(ValueError, match="Received: baselines"):
        evaluation.evaluate(None, baselines=("dncnn",), verbose=False)
    with pytest.raises(ValueError, match="Received: dataset='imagenet'"):
        evaluation.evaluate(None, "imagenet", baselines=(), verbose=False)
    with pytest.raises(ValueError, match="Received: corruption='jpeg'"):
        evaluation.evaluate(None, corruption="jpeg", verbose=False)


def test_masks_are_fixed_and_of_the_stated_kind():
    block = evaluation.make_masks("block12", (50, 28, 28, 1), seed=0)
    assert block.shape == (50, 28, 28, 1) and (block.sum(axis=(1, 2, 3)) == 144).all()
    np.testing.assert_array_equal(block, evaluation.make_masks("block12", (50, 28, 28), 0))
    rand = evaluation.make_masks("random50", (50, 28, 28, 1), seed=0)
    assert abs(rand.mean() - 0.5) < 0.02
    with pytest.raises(ValueError, match="Received: kind='block40'"):
        evaluation.make_masks("block40", (1, 28, 28), 0)


class Inpainter:
    name = "copy"

    def inpaint(self, x, mask):
        return x


def test_inpainting_table():
    result = evaluation.evaluate(Inpainter(), "mnist", corruption="inpainting", num_images=20,
                                 verbose=False)
    for kind in ("block12", "random50"):
        masked = result.value("masked", kind, "psnr_masked")
        assert result.value("copy", kind, "psnr_masked") == masked
        assert result.value("biharmonic", kind, "psnr_masked") > masked
        assert result.value("biharmonic", kind, "psnr") > result.value("biharmonic", kind,
                                                                        "psnr_masked")
    assert "PSNR in mask" in result.to_markdown()


def test_linear_probe():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).reshape(-1, 8, 8, 1).astype("float32")
    encoder = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten()])
    acc = evaluation.linear_probe(encoder, x[:1000], y[:1000], x[1000:], y[1000:])
    assert 0.85 < acc <= 1.0
    assert evaluation.linear_probe(lambda b: b.reshape(len(b), -1), x[:1000], y[:1000],
                                   x[1000:], y[1000:]) == acc


def test_cli(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        evaluation.main(["--help"])
    assert exit_info.value.code == 0
    argv = ["--num-images", "8", "--sigmas", "0.2", "--baselines", "tv", "--val-images", "10",
            "--output-dir", str(tmp_path), "--name", "cli"]
    assert evaluation.main(argv) == 0
    assert os.path.isfile(tmp_path / "cli.json") and os.path.isfile(tmp_path / "cli.md")
    assert "total variation" in capsys.readouterr().out


class _Shrink:
    """A stand-in denoiser: pulls each pixel halfway to 0.5 (σ ignored)."""

    def denoise(self, x, sigma=None):
        return 0.5 * np.asarray(x) + 0.25


@pytest.mark.parametrize("sizes", [[(8, 8)] * 3, [(8, 8), (6, 10), (12, 5)]])
@pytest.mark.parametrize("max_val", [1.0, 255.0])
def test_validation_psnr_is_the_protocol_figure(sizes, max_val):
    """One batched call for images of one size, one call per image otherwise: the same
    per-image PSNR, averaged, as the evaluation protocol (rounded to 8 bits at 255)."""
    from keras_dae.callbacks import ValidationPSNR
    from keras_dae.metrics import psnr_numpy

    rng = np.random.default_rng(0)
    images = [(rng.random(s + (1,)) * max_val).astype("float32") for s in sizes]
    callback = ValidationPSNR(images, (0.1 * max_val,), seed=3, max_val=max_val)
    callback.set_model(_Shrink())
    logs = {}
    callback.on_epoch_end(0, logs)
    noisy = evaluation.add_gaussian_noise(images, 0.1 * max_val, 3)
    expected = []
    for clean, x in zip(images, noisy):
        out = np.clip(_Shrink().denoise(x / max_val) * max_val, 0, max_val)
        out = np.round(out) if max_val == 255.0 else out
        expected.append(psnr_numpy(clean[None], out[None], max_val)[0])
    np.testing.assert_allclose(logs[f"val_psnr@sigma={0.1 * max_val:g}"], np.mean(expected), rtol=1e-6)


def test_colour_sets_per_channel_baseline_and_published_rows():
    """CBSD68 is read in RGB; a gray model runs channel by channel through `PerChannel`; the
    published colour rows sit beside the measured ones; only CBM3D is offered on colour."""
    result = evaluation.evaluate(evaluation.PerChannel(GrayBlur()), "cbsd68", sigmas=(25,), num_images=2,
                                 baselines=(), batch_size=1, verbose=False)
    clean, max_val = evaluation.load_eval_images("cbsd68", num_images=2)
    assert max_val == 255.0 and all(im.ndim == 3 and im.shape[-1] == 3 for im in clean)
    noisy, ours = result.rows
    assert ours["method"] == "gray-blur (gray, channel by channel)" and ours["num_images"] == 2
    assert ours["metrics"]["psnr"] > noisy["metrics"]["psnr"] + 3  # a 3×3 mean per channel helps at σ = 25
    table = evaluation.published_table(result, "cbsd68")
    assert "| CBM3D | published | 30.71 |" in table and "| DRUNet | published | 31.69 |" in table
    assert "gray-blur (gray, channel by channel) | measured here" in table
    assert evaluation.published_table(result, "mnist") == ""
    with pytest.raises(ValueError, match=r"colour: CBM3D only.*Received: baselines=\('tv',\)"):
        evaluation.evaluate(None, "kodak24", sigmas=(25,), num_images=1, baselines=("tv",), verbose=False)


def test_bm3d_of_an_rgb_image_is_cbm3d(monkeypatch):
    bm3d = pytest.importorskip("bm3d")
    calls = []
    monkeypatch.setattr(bm3d, "bm3d_rgb", lambda im, sigma, profile: calls.append(im.shape) or im * 0 + 0.5)
    out = baselines.denoise_bm3d(np.zeros((2, 8, 8, 3), "float32"), 0.1)
    assert calls == [(8, 8, 3), (8, 8, 3)] and out.shape == (2, 8, 8, 3) and np.all(out == 0.5)


class GrayBlur:
    """A gray 'model': a 3×3 mean (NumPy), enough to show the per-channel path works."""

    name = "gray-blur"

    def denoise(self, x, sigma=None):
        from scipy.ndimage import uniform_filter

        assert x.shape[-1] == 1
        return uniform_filter(np.asarray(x), size=(1, 3, 3, 1), mode="reflect")
