"""InpaintingDAE (the mask as an input), RandomChoice masks, the inpainting protocol's
masked PSNR and its validation callback, on every backend."""

import keras
import numpy as np
import pytest

import keras_dae
from keras_dae import evaluation, layers, metrics, models, networks
from keras_dae.callbacks import ValidationInpaintingPSNR
from tests.helpers import assert_saved_model_roundtrip, to_numpy


def digits(n=32, seed=0):
    """Smooth 12×12 blobs: something a small U-Net learns to fill in a few steps."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:12, 0:12] / 11.0
    cy, cx = rng.uniform(0.3, 0.7, (2, n, 1, 1))
    return np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 0.05)[..., None].astype("float32")


def build(corruption=None):
    net = networks.unet((12, 12, 2), widths=(8, 16), sigma_conditioning=None, output_channels=1)
    corruption = corruption or layers.RandomChoice([layers.BlockMasking(block_size=4, seed=1),
                                                    layers.MaskingNoise(0.5, seed=2)], seed=3)
    return models.InpaintingDAE(net, corruption)


def masks(x, seed=0):
    return evaluation.make_masks("block4", x.shape, seed)


def test_known_pixels_pass_through_and_the_mask_reaches_the_network():
    model = build()
    x = digits(8)
    m = masks(x)
    filled = model.inpaint(x, m)
    np.testing.assert_array_equal(filled[m == 0], x[m == 0])
    # The mask is an input: the same zero-filled image with a different mask gives a
    # different fill (a plain DAE cannot tell a missing pixel from a black one).
    keras_dae.set_random_seed(0)
    for v in model.network.weights:  # the output layer starts at zero; make it answer
        v.assign(np.random.default_rng(1).normal(0, 0.3, v.shape).astype("float32"))
    out = to_numpy(model.predict([x * (1 - m), m], verbose=0))
    other = to_numpy(model.predict([x * (1 - m), np.maximum(m, masks(x, 1))], verbose=0))
    assert not np.allclose(out[m == 1], other[m == 1])


def test_fit_loss_falls_and_beats_the_zero_fill():
    keras_dae.set_random_seed(0)
    model = build()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    x, x_val = digits(64), digits(32, seed=1)
    before = model.evaluate(x_val, verbose=0)
    model.fit(x, epochs=25, batch_size=16, verbose=0)
    after = model.evaluate(x_val, verbose=0)
    assert after < 0.5 * before, (before, after)
    m = masks(x_val)
    filled = np.clip(model.inpaint(x_val * (1 - m), m), 0, 1)
    assert metrics.psnr_masked_numpy(x_val, filled, m, pooled=True) > \
        metrics.psnr_masked_numpy(x_val, x_val * (1 - m), m, pooled=True) + 3.0


def test_loss_counts_only_missing_pixels():
    model = build(layers.MaskingNoise(0.5, seed=1))
    x = digits(4)
    m = (np.random.default_rng(0).uniform(size=x.shape) < 0.5).astype("float32")
    outputs = {"x_hat": x + 0.1 * m + 5.0 * (1 - m), "mask": m}  # huge error on known pixels
    per_sample = to_numpy(model._per_sample_loss(x, outputs))
    np.testing.assert_allclose(per_sample, 0.01, rtol=1e-5)


def test_paired_fit_uses_the_given_masks():
    model = build()
    model.compile(optimizer="adam")
    x = digits(16)
    m = masks(x)
    history = model.fit([x * (1 - m), m], x, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    # fit(x, x) is clean data, masked afresh, as for every objective
    model.fit(x, x, epochs=1, batch_size=8, verbose=0)


def test_evaluate_is_reproducible():
    model = build()
    model.compile(optimizer="adam")
    x = digits(16)
    assert model.evaluate(x, verbose=0) == model.evaluate(x, verbose=0)


def test_saved_model_roundtrip_and_other_backend(tmp_path):
    model = build()
    model.compile(optimizer="adam")
    model.fit(digits(16), epochs=1, batch_size=8, verbose=0)
    x = digits(4, seed=2)
    m = masks(x)
    reloaded = assert_saved_model_roundtrip(model, [x * (1 - m), m], tmp_path, atol=1e-6)
    assert type(reloaded) is models.InpaintingDAE
    np.testing.assert_allclose(reloaded.inpaint(x, m), model.inpaint(x, m), atol=1e-6)
    assert reloaded.corruption.get_config() == model.corruption.get_config()


def test_encoder_takes_the_image_alone():
    model = build()
    features = model.encoder(digits(3))
    assert tuple(features.shape) == (3, 16)
    head = keras.Sequential([model.encoder, keras.layers.Dense(10)])
    assert tuple(head(digits(2)).shape) == (2, 10)
    assert model.example_shape == (12, 12, 1)


@pytest.mark.parametrize("call, needle", [
    (lambda m, x: m.denoise(x), "model.inpaint(x, mask)"),
    (lambda m, x: m.sample(2), "model.inpaint(x, mask)"),
    (lambda m, x: m.inpaint(x, np.full_like(x, 0.5)), "`mask` must hold 0"),
    (lambda m, x: m.inpaint(np.zeros((2, 12, 12, 2)), np.zeros((2, 12, 12, 2))), "`x` must have shape"),
])
def test_misuse_is_refused_with_a_message(call, needle):
    with pytest.raises(ValueError) as info:
        call(build(), digits(2))
    assert needle in str(info.value), str(info.value)


@pytest.mark.parametrize("make, needle", [
    (lambda: models.InpaintingDAE(networks.unet((12, 12, 2), widths=(8, 16), output_channels=1)),
     "sigma_conditioning=None"),
    (lambda: models.InpaintingDAE(networks.unet((12, 12, 1), widths=(8, 16), sigma_conditioning=None)),
     "Received: 1 input and 1 output channels"),
    (lambda: models.InpaintingDAE(networks.unet((12, 12, 2), widths=(8, 16), sigma_conditioning=None,
                                                output_channels=1), layers.AdditiveGaussian(sigma=0.1)),
     "corruption=AdditiveGaussian"),
])
def test_bad_construction_names_what_was_received(make, needle):
    with pytest.raises(ValueError) as info:
        make()
    assert needle in str(info.value), str(info.value)


def test_validation_callback_logs_the_protocol_psnr():
    model = build()
    model.compile(optimizer="adam")
    x = digits(16)
    callback = ValidationInpaintingPSNR(x, masks=("block4", "random50"), seed=1)
    history = model.fit(x, epochs=1, batch_size=8, verbose=0, callbacks=[callback])
    m = evaluation.make_masks("block4", x.shape, 1)
    expected = metrics.psnr_masked_numpy(x, np.clip(model.inpaint(x, m), 0, 1), m, pooled=True)
    np.testing.assert_allclose(history.history["val_psnr_masked@mask=block4"][0], expected, rtol=1e-6)
    assert np.isfinite(history.history["val_psnr_masked@mask=random50"][0])


def test_pooled_masked_psnr_is_finite_where_per_image_values_are_not():
    x = np.zeros((2, 4, 4, 1))
    m = np.zeros_like(x)
    m[:, :2] = 1
    y = x.copy()
    y[1, 0, 0] = 0.1  # image 0 filled exactly: infinite PSNR of its own
    per_image = metrics.psnr_masked_numpy(x, y, m)
    assert np.isinf(per_image[0]) and np.isfinite(per_image[1])
    pooled = metrics.psnr_masked_numpy(x, y, m, pooled=True)
    np.testing.assert_allclose(pooled, 10 * np.log10(16 / 0.01))  # 16 masked pixels, one off by 0.1
    with pytest.raises(ValueError, match="empty mask"):
        metrics.psnr_masked_numpy(x, y, np.zeros_like(x))
