import sys

import numpy as np
import pytest

from keras_dae.evaluation import baselines
from keras_dae.metrics import psnr_numpy


@pytest.fixture(scope="module")
def digits():
    """Small smooth-edged test images: sklearn's 8x8 digits, upsampled to 16x16, in [0, 1]."""
    from sklearn.datasets import load_digits

    x = load_digits().images[:40] / 16.0
    x = np.kron(x, np.ones((2, 2)))[..., None].astype("float32")
    return x


def _noisy(x, sigma, seed=0):
    return (x + sigma * np.random.default_rng(seed).standard_normal(x.shape)).astype("float32")


@pytest.mark.parametrize("method,params", [
    ("nlm", {"h_scale": 0.6}),
    ("tv", {"weight_scale": 0.5}),
    ("wavelet", {"wavelet": "db1", "method": "BayesShrink"}),
    ("bm3d", {}),
])
def test_denoisers_improve_psnr(digits, method, params):
    pytest.importorskip({"bm3d": "bm3d", "wavelet": "pywt"}.get(method, "numpy"))
    x = digits[:4]
    noisy = _noisy(x, 0.2)
    out = baselines.denoise(method, noisy, 0.2, **params)
    assert out.shape == x.shape and out.dtype == np.float32
    gain = np.mean(psnr_numpy(x, np.clip(out, 0, 1)) - psnr_numpy(x, noisy))
    assert gain > 2.0


def test_color_and_list_inputs(digits):
    x = np.concatenate([digits[:2]] * 3, axis=-1)
    noisy = _noisy(x, 0.2)
    out = baselines.denoise_tv(noisy, 0.2)
    assert out.shape == x.shape
    as_list = baselines.denoise_nlm(list(noisy), 0.2)
    assert isinstance(as_list, list) and as_list[0].shape == x[0].shape


def test_wiener_reaches_the_mmse_of_a_gaussian():
    rng = np.random.default_rng(0)
    d, sigma = 16, 0.5
    a = rng.standard_normal((d, d)) / np.sqrt(d)
    cov = a @ a.T
    mean = rng.standard_normal(d)
    draw = lambda n: (mean + rng.standard_normal((n, d)) @ a.T).reshape(n, 4, 4, 1)
    wiener = baselines.WienerDenoiser().fit(draw(40_000))
    x = draw(4_000)
    out = wiener.denoise(_noisy(x, sigma), sigma)
    mse = np.mean((out - x) ** 2)
    mmse = np.trace(cov - cov @ np.linalg.solve(cov + sigma**2 * np.eye(d), cov)) / d
    assert abs(mse - mmse) / mmse < 0.05


def test_patch_wiener(digits):
    wiener = baselines.WienerDenoiser(patch_size=4, max_patches=5_000).fit(digits[4:])
    noisy = _noisy(digits[:3], 0.2)
    out = wiener.denoise(list(noisy), 0.2)
    assert isinstance(out, list) and out[0].shape == digits[0].shape
    assert np.mean(psnr_numpy(digits[:3], np.clip(np.stack(out), 0, 1))) > np.mean(
        psnr_numpy(digits[:3], noisy)) + 2.0


def test_tune_picks_the_best_of_the_grid(digits):
    x = digits[:10]
    noisy = _noisy(x, 0.3)
    params, scores = baselines.tune("tv", x, noisy, 0.3, grid={"weight_scale": (0.01, 0.5)})
    assert params == {"weight_scale": 0.5} and len(scores) == 2
    assert scores[1][1] > scores[0][1]


def test_errors(digits):
    with pytest.raises(ValueError, match="Received: baseline='median'"):
        baselines.denoise("median", digits, 0.1)
    with pytest.raises(ValueError, match="Received: sigma=-1"):
        baselines.denoise_tv(digits, -1)
    with pytest.raises(ValueError, match="fit"):
        baselines.WienerDenoiser().denoise(digits, 0.1)


def test_bm3d_missing_gives_a_clear_error(digits, monkeypatch):
    monkeypatch.setitem(sys.modules, "bm3d", None)
    with pytest.raises(ImportError, match="pip install bm3d"):
        baselines.denoise_bm3d(digits[:1], 0.1)


def test_median_filter_removes_salt_and_pepper():
    x = np.full((2, 16, 16, 1), 0.5, "float32")
    noisy = x.copy()
    noisy[0, 3, 4] = 1.0
    noisy[1, 8, 8] = 0.0
    np.testing.assert_array_equal(baselines.median_filter(noisy), x)


def test_biharmonic_inpainting_fills_smooth_images():
    ramp = np.add.outer(np.linspace(0, 1, 16), np.linspace(0, 0.5, 16))[None, ..., None] / 1.5
    mask = np.zeros_like(ramp)
    mask[0, 5:10, 6:11] = 1
    out = baselines.inpaint_biharmonic((ramp * (1 - mask)).astype("float32"), mask)
    assert np.abs(out - ramp).max() < 1e-3


@pytest.mark.parametrize("sigma", [0.1, 0.3, 1.0])
def test_estimate_sigma(sigma):
    # Pure noise: the MAD rule is unbiased; 27×27 coefficients give a few % spread.
    flat = np.full((200, 28, 28, 1), 0.5, "float32")
    noisy = flat + sigma * np.random.default_rng(0).standard_normal(flat.shape).astype("float32")
    ratio = baselines.estimate_sigma(noisy) / sigma
    assert abs(ratio.mean() - 1.0) < 0.02 and ratio.std() < 0.08
    # Scale-free: on the [0, 255] scale it returns 255 σ.
    np.testing.assert_allclose(baselines.estimate_sigma(noisy[:5] * 255.0), 255.0 * baselines.estimate_sigma(noisy[:5]), rtol=1e-4)


def test_estimate_sigma_rejects_tiny_images():
    with pytest.raises(ValueError, match="images"):
        baselines.estimate_sigma(np.zeros((2, 1, 5, 1)))
