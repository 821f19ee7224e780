"""Colour from gray (`keras_dae.layers.color`, `networks.opponent_color`): the opponent
transform keeps white noise white, channels go to the batch and back unchanged, and the
colour network starts exactly as the gray network on the opponent channels."""

import numpy as np
import pytest

import keras
from keras_dae import layers, models, networks
from keras_dae.layers.color import OPPONENT, OPPONENT_NOISE, OPPONENT_OFFSET

RNG = np.random.default_rng(0)


def test_the_opponent_transform_keeps_noise_white_and_rgb_in_range():
    t = np.asarray(OPPONENT)
    cov = t @ t.T  # the covariance of transformed unit white noise
    np.testing.assert_allclose(cov, np.diag(np.square(OPPONENT_NOISE)), atol=1e-12)
    corners = np.array(np.meshgrid([0, 1], [0, 1], [0, 1])).reshape(3, -1).T  # the RGB cube's corners
    out = corners @ t.T + np.asarray(OPPONENT_OFFSET)
    assert out.min() >= -1e-12 and out.max() <= 1 + 1e-12


def test_channels_to_batch_and_back_is_the_identity():
    x = RNG.random((2, 5, 4, 3)).astype("float32")
    planes = layers.ChannelsToBatch()(x)
    assert tuple(planes.shape) == (6, 5, 4, 1)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(planes)[1, ..., 0], x[0, ..., 1])  # b·C + c
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layers.ChannelsToBatch(channels=3)(planes)), x)
    sigma = layers.SigmaPerChannel([1.0, 2.0, 3.0])(np.array([0.1, 0.2], "float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(sigma), [0.1, 0.2, 0.3, 0.2, 0.4, 0.6], rtol=1e-6)


def _gray():
    return networks.dncnn(channels=1, depth=4, filters=8, sigma_conditioning="film")


def test_opponent_color_starts_as_the_gray_network_on_the_opponent_channels(tmp_path):
    gray = _gray()
    color = models.ResidualDAE(networks.opponent_color(gray), layers.AdditiveGaussian(sigma_range=(0.0, 0.2), seed=1))
    x = RNG.random((2, 12, 10, 3)).astype("float32")
    sigma = np.array([0.05, 0.1], "float32")
    out = color.denoise(x, sigma=sigma)
    opp = x @ np.asarray(OPPONENT, "float32").T + np.asarray(OPPONENT_OFFSET, "float32")
    planes = np.moveaxis(opp, -1, 1).reshape(6, 12, 10, 1)
    plane_sigma = (sigma[:, None] * np.asarray(OPPONENT_NOISE, "float32")).reshape(-1)
    eps = keras.ops.convert_to_numpy(gray([planes, plane_sigma]))
    denoised_opp = np.moveaxis((planes - plane_sigma[:, None, None, None] * eps).reshape(2, 3, 12, 10), 1, -1)
    expected = (denoised_opp - np.asarray(OPPONENT_OFFSET)) @ np.linalg.inv(np.asarray(OPPONENT)).T
    np.testing.assert_allclose(out, expected, atol=1e-5)
    path = tmp_path / "color.keras"
    color.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path).denoise(x, sigma=sigma), out, atol=1e-6)
    color.compile(optimizer="adam")
    color.fit(x, epochs=2, batch_size=2, verbose=0)  # the head learns: the output moves
    assert np.abs(color.denoise(x, sigma=sigma) - out).max() > 0


def test_opponent_color_refuses_a_network_that_is_not_gray_and_conditioned():
    with pytest.raises(ValueError, match="σ-conditioned and gray"):
        networks.opponent_color(networks.dncnn(channels=3, depth=3, filters=4, sigma_conditioning="film"))
    with pytest.raises(ValueError, match="σ-conditioned and gray"):
        networks.opponent_color(networks.dncnn(channels=1, depth=3, filters=4))
