"""Plug-and-play restoration (`keras_dae.restoration`): the operators' physics and data steps
as properties, the solver with a zoo prior on the three backends (against one golden file,
within 1e-4), and `keras-dae restore`.

`python tests/test_restoration.py --write-golden` rewrites tests/golden/restoration.npz.
"""

import pathlib
import sys

import numpy as np
import pytest
import scipy.ndimage as ndimage
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keras_dae.restoration import Blur, Downsample, Mask, bicubic_kernel, check_kernel, restore  # noqa: E402

GOLDEN = ROOT / "tests" / "golden" / "restoration.npz"
PRIOR = "dncnn-bsd400-gauss"
RNG = np.random.default_rng(0)
IMAGE = np.clip(ndimage.gaussian_filter(RNG.random((48, 40)), 2.0) * 3 - 1, 0, 1)[..., None]  # smooth, with edges
MOTION = np.zeros((7, 7))
MOTION[3, 1:6] = 1.0 / 5  # a horizontal motion blur


def _np(x):
    return np.asarray(x, dtype="float64")


def test_blur_is_scipy_circular_convolution():
    kernel = RNG.random((5, 7))
    kernel /= kernel.sum()
    out = _np(Blur(kernel).forward(IMAGE[None]))[0, ..., 0]
    np.testing.assert_allclose(out, ndimage.convolve(IMAGE[..., 0], kernel, mode="wrap"), atol=1e-6)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_downsampling_is_pillows_bicubic_away_from_the_borders(scale):
    side = 12 * scale
    x = RNG.random((side, side)).astype("float32")
    ours = _np(Downsample(scale).forward(x[None, ..., None]))[0, ..., 0]
    pillow = np.asarray(Image.fromarray(x, mode="F").resize((side // scale, side // scale), Image.BICUBIC))
    inner = slice(3, -3)
    np.testing.assert_allclose(ours[inner, inner], pillow[inner, inner], atol=1e-5)
    assert bicubic_kernel(scale).sum() == pytest.approx(1.0)


def _adjoint(operator, r, shape):
    """Aᵀr by its definition: the adjoint of circular convolution (and of sampling)."""
    if isinstance(operator, Mask):
        return r * (1 - operator.missing[..., 0])
    full = np.zeros(shape)
    s = getattr(operator, "scale", 1)
    full[::s, ::s] = r
    return ndimage.convolve(full, operator.kernel[::-1, ::-1], mode="wrap")


@pytest.mark.parametrize("operator", [Blur(MOTION), Downsample(2), Downsample(4, bicubic_kernel(4)),
                                      Mask((RNG.random((48, 40)) < 0.5).astype("float32"))],
                         ids=["blur", "x2", "x4", "mask"])
@pytest.mark.parametrize("alpha", [1e-3, 0.3])
def test_the_data_step_solves_its_problem(operator, alpha):
    """x = data_step(z, y, α) zeroes the gradient of ||y − Ax||² + α||x − z||²."""
    z = IMAGE + 0.1 * RNG.standard_normal(IMAGE.shape)
    y = _np(operator.forward(IMAGE[None]))[0] + 0.02 * RNG.standard_normal(_np(operator.forward(IMAGE[None]))[0].shape)
    x = _np(operator.data_step(z[None], y[None], alpha))[0]
    residual = _np(operator.forward(x[None]))[0] - y
    gradient = _adjoint(operator, residual[..., 0], IMAGE.shape[:2])[..., None] + alpha * (x - z)
    assert np.abs(gradient).max() < 2e-5


def test_bad_kernels_and_masks_are_refused():
    with pytest.raises(ValueError, match="2-D array"):
        check_kernel(np.ones(5) / 5)
    with pytest.raises(ValueError, match="sum to 1"):
        check_kernel(np.ones((3, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        check_kernel(np.array([[0.5, -0.5], [0.5, 0.5]]))
    check_kernel(np.array([[0.5, -0.5], [0.5, 0.5]]), nonnegative=False)  # a bicubic kernel has lobes
    with pytest.raises(ValueError, match="scale"):
        Downsample(1)
    with pytest.raises(ValueError, match="0 \\(known\\) and 1"):
        Mask(np.full((4, 4), 0.5))
    with pytest.raises(ValueError, match="image's size"):
        Mask(np.zeros((8, 8))).forward(np.zeros((1, 9, 8, 1)))
    with pytest.raises(ValueError, match="iterations"):
        restore(IMAGE, Blur(MOTION), 0.01, model=None, iterations=0)


def _cases():
    missing = (np.random.default_rng(3).random(IMAGE.shape[:2]) < 0.5).astype("float32")
    blur, down, mask = Blur(MOTION), Downsample(2), Mask(missing)
    noisy_blur = _np(blur.forward(IMAGE[None]))[0] + 2.55 / 255 * np.random.default_rng(1).standard_normal(IMAGE.shape)
    return {"deblur": (noisy_blur, blur, 2.55 / 255), "sr": (_np(down.forward(IMAGE[None]))[0], down, 0.0),
            "inpaint": (_np(mask.forward(IMAGE[None]))[0], mask, 0.0)}


def _restored(model):
    return {task: restore(y.astype("float32"), op, noise, model, iterations=6)
            for task, (y, op, noise) in _cases().items()}


@pytest.fixture(scope="module")
def restored():
    import keras_dae

    return _restored(keras_dae.load(PRIOR))


@pytest.mark.parametrize("task", ["deblur", "sr", "inpaint"])
def test_restoration_with_a_zoo_prior_beats_the_observation_and_matches_the_golden_file(restored, task):
    from keras_dae.metrics import psnr_numpy

    y, op, _ = _cases()[task]
    out = restored[task]
    assert out.shape == IMAGE.shape
    start = _np(op.initial(y[None].astype("float32")))[0]  # the observation, in the image domain
    gain = psnr_numpy(IMAGE[None], np.clip(out, 0, 1)[None], 1.0)[0] - psnr_numpy(IMAGE[None], np.clip(start, 0, 1)[None], 1.0)[0]
    assert gain > 1.0, gain
    np.testing.assert_allclose(out, np.load(GOLDEN, allow_pickle=False)[task], atol=1e-4, rtol=0)


def test_a_gray_prior_restores_colour_channel_by_channel(restored):
    import keras_dae

    y, op, noise = _cases()["deblur"]
    colour = restore(np.repeat(y, 3, axis=-1).astype("float32"), op, noise, keras_dae.load(PRIOR), iterations=6)
    assert colour.shape == IMAGE.shape[:2] + (3,)
    np.testing.assert_allclose(colour, np.repeat(restored["deblur"], 3, axis=-1), atol=1e-5)


def test_restore_command(tmp_path, capsys):
    from keras_dae.cli import parser as cli

    def png(name, x):
        Image.fromarray(np.round(np.clip(x, 0, 1) * 255).astype("uint8")).save(tmp_path / name)

    y, _, _ = _cases()["deblur"]
    png("blurry.png", y[..., 0])
    np.save(tmp_path / "k.npy", MOTION)
    np.save(tmp_path / "k2.npy", MOTION * 2)
    png("low.png", _cases()["sr"][0][..., 0])
    png("mask.png", np.zeros((10, 10)))
    run = lambda *argv: cli.main(["restore", *map(str, argv)])  # noqa: E731
    assert run(tmp_path / "blurry.png", tmp_path / "sharp.png", "--blur", tmp_path / "k.npy", "--noise", "2.55/255",
               "--iterations", "4") == 0
    assert run(tmp_path / "low.png", tmp_path / "high.bmp", "--upscale", 2, "--iterations", "4") == 0
    with Image.open(tmp_path / "high.bmp") as im:
        assert im.size == (40, 48) and im.format == "BMP"
    capsys.readouterr()
    for argv, message in [
        (["--blur", tmp_path / "k2.npy"], "must sum to 1"),
        (["--upscale", 1], "--upscale must be an integer >= 2"),
        (["--mask", tmp_path / "mask.png"], "must have the image's size"),
        ([], "exactly one degradation"),
        (["--blur", tmp_path / "k.npy", "--noise", "7.65"], "--noise 0.03 (or --noise 7.65/255)"),
    ]:
        assert run(tmp_path / "blurry.png", tmp_path / "out.png", *argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, (argv, err)
    assert not (tmp_path / "out.png").exists()


if __name__ == "__main__" and "--write-golden" in sys.argv:
    import keras_dae
    from keras_dae.utils import atomic_write

    outputs = _restored(keras_dae.load(PRIOR))
    atomic_write(GOLDEN, lambda f: np.savez(f, **{k: v.astype("float32") for k, v in outputs.items()}))
    print(f"wrote {GOLDEN}")


def test_a_stopped_measurement_resumes_from_its_cache(tmp_path):
    from keras_dae.evaluation.restoration import _measured_row

    key = {"dataset": "set12", "task": "deblur-2.55", "method": "m", "weights": "ab"}
    calls = []

    def psnr_of_case(i):
        calls.append(i)
        if len(calls) == 4:
            raise KeyboardInterrupt  # stopped while the fourth case runs
        return 20.0 + i

    with pytest.raises(KeyboardInterrupt):
        _measured_row("m", "deblur-2.55", {}, 6, psnr_of_case, tmp_path, key)
    row = _measured_row("m", "deblur-2.55", {}, 6, psnr_of_case, tmp_path, key)
    assert calls == [0, 1, 2, 3, 3, 4, 5]  # the three saved cases are not recomputed
    assert row["per_image"]["psnr"] == [20.0, 21.0, 22.0, 23.0, 24.0, 25.0] and row["metrics"]["psnr"] == 22.5
    assert not list(tmp_path.glob(".*tmp*"))  # nothing half-written left behind
    other = _measured_row("m", "deblur-2.55", {}, 6, lambda i: 0.0, tmp_path, {**key, "weights": "cd"})
    assert other["metrics"]["psnr"] == 0.0  # other weights: other rows


def test_a_table_of_some_tasks_completes_the_saved_table_of_the_same_protocol(tmp_path):
    from keras_dae.evaluation.results import EvaluationResult
    from tests.helpers import load_script

    bench = load_script("benchmarks", "restoration")
    meta = {"dataset": "bsd68", "crop": 192, "num_images": 68, "seed": 0, "protocol_version": 1}
    row = lambda method, task, psnr: {"method": method, "condition": task, "metrics": {"psnr": psnr},  # noqa: E731
                                      "num_images": 544, "params": {}, "seconds": 1.0}
    saved = EvaluationResult([row("m", "deblur-2.55", 30.0), row("wiener", "deblur-2.55", 28.0),
                              row("m", "sr-2", 29.0)], meta)
    path = pathlib.Path(saved.save(tmp_path, "bsd68-m")[0])
    new = EvaluationResult([row("m", "deblur-7.65", 27.0), row("m", "deblur-2.55", 30.5)], meta)
    table = bench.merged(new, path)
    assert [(r["condition"], r["method"], r["metrics"]["psnr"]) for r in table.rows] == [
        ("deblur-2.55", "wiener", 28.0), ("deblur-2.55", "m", 30.5), ("deblur-7.65", "m", 27.0), ("sr-2", "m", 29.0)]
    other = EvaluationResult(new.rows, {**meta, "num_images": 6})  # another protocol: replaced, not merged
    assert bench.merged(other, path).rows == other.rows
