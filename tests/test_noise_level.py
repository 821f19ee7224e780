"""Noise-level estimation on real files (`keras_dae.noise_level`, `estimate_sigma`): noise
that was clipped to the value range and saved in 8 bits, as every image file's was."""

import numpy as np
import pytest

from keras_dae import noise_level

RNG = np.random.default_rng(0)


def _clipped_8bit(x, sigma, seed=0):
    noisy = x + sigma * np.random.default_rng(seed).standard_normal(x.shape)
    return (np.round(np.clip(noisy, 0.0, 1.0) * 255.0) / 255.0).astype("float32")


def test_clipped_pixels_are_found_only_at_ends_that_were_clipped():
    x = np.array([0.0, 0.0, 0.5, 1.0, 0.3])
    assert noise_level.clipped(x, (0.0, 1.0)).tolist() == [True, True, False, True, False]
    unclipped = np.array([-0.2, 0.0, 0.5, 1.0])  # values beyond 0: that end was not clipped
    assert noise_level.clipped(unclipped, (0.0, 1.0)).tolist() == [False, False, False, True]
    assert not noise_level.clipped(x, None).any()


@pytest.mark.parametrize("sigma", [0.05, 0.2, 0.4])
def test_censored_sigma_undoes_the_clipping(sigma):
    """With x̂ the clean image, σ̂ is unbiased on clipped noise (dark background, bright
    strokes: most of the image at an end), where the plain median rule is far off."""
    clean = np.zeros((4, 64, 64))
    clean[:, 20:44, 10:54] = 1.0
    clean[:, 30:34] = 0.5
    noisy = _clipped_8bit(clean, sigma)
    estimate = noise_level.censored_sigma(noisy, clean, (0.0, 1.0))
    np.testing.assert_allclose(estimate, sigma, rtol=0.1)  # 4,096 pixels, most at an end
    assert abs(np.mean(estimate) / sigma - 1) < 0.04
    plain = np.median(np.abs(noisy - clean).reshape(4, -1), axis=1) / noise_level.MEDIAN_BAND
    assert np.all(plain < 0.5 * sigma)
    # Unclipped noise: the median rule itself.
    free = clean + sigma * RNG.standard_normal(clean.shape)
    np.testing.assert_allclose(noise_level.censored_sigma(free, clean, (0.0, 1.0)),
                               np.median(np.abs(free - clean).reshape(4, -1), axis=1) / noise_level.MEDIAN_BAND,
                               rtol=1e-2)


def test_wavelet_sigma_leaves_clipped_windows_out():
    clean = np.full((2, 64, 64, 1), 0.5)
    clean[:, :, :32] = 0.0  # half the image dark: half its noise cut off at 0
    noisy = _clipped_8bit(clean, 0.1)
    with_all = noise_level.wavelet_sigma(noisy)
    without = noise_level.wavelet_sigma(noisy, (0.0, 1.0))
    assert np.all(np.abs(without / 0.1 - 1) < 0.08) and np.all(with_all < 0.9 * 0.1)


@pytest.mark.parametrize("sigma", [0.1, 0.3, 0.5])
def test_blind_denoising_of_clipped_8bit_digits_is_close_to_sigma_given(sigma):
    """The issue's trial: MNIST digits with noise clipped to [0, 1] and rounded to 8 bits;
    blind use was 10 dB below σ given at σ = 0.3 (σ̂ ≈ 0.2 σ)."""
    import keras_dae
    from keras_dae import assets
    from keras_dae.metrics import psnr_numpy

    model = keras_dae.load("unet-mnist-gauss")
    clean = assets.mnist_test_sample()[0][:32, ..., None].astype("float32") / 255.0
    noisy = _clipped_8bit(clean, sigma, seed=1)
    estimate = model.estimate_sigma(noisy)
    assert np.median(np.abs(estimate / sigma - 1)) < 0.35
    given = psnr_numpy(clean, np.clip(model.denoise(noisy, sigma=sigma), 0, 1), 1.0).mean()
    blind = psnr_numpy(clean, np.clip(model.denoise(noisy), 0, 1), 1.0).mean()
    assert blind > given - 1.0, (blind, given)
