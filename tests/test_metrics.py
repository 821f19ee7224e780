import keras
import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from keras_dae import metrics


def _pair(rng, shape, scale=1.0):
    x = rng.random(shape).astype("float32") * scale
    y = np.clip(x + 0.15 * scale * rng.standard_normal(shape), 0, scale).astype("float32")
    return x, y


def _skimage_ssim(x, y, data_range):
    return np.mean([
        structural_similarity(a[..., 0] if a.shape[-1] == 1 else a,
                              b[..., 0] if b.shape[-1] == 1 else b,
                              data_range=data_range, gaussian_weights=True, sigma=1.5,
                              use_sample_covariance=False,
                              channel_axis=None if a.shape[-1] == 1 else -1)
        for a, b in zip(x, y)
    ])


@pytest.mark.parametrize("shape,scale", [((5, 28, 28, 1), 1.0), ((3, 32, 24, 3), 255.0)])
def test_psnr_matches_skimage_per_image(rng, shape, scale):
    x, y = _pair(rng, shape, scale)
    expected = np.mean([peak_signal_noise_ratio(a, b, data_range=scale) for a, b in zip(x, y)])
    assert abs(float(metrics.psnr(x, y, max_val=scale)) - expected) < 0.01
    assert abs(np.mean(metrics.psnr_numpy(x, y, scale)) - expected) < 1e-6


@pytest.mark.parametrize("shape,scale", [((5, 28, 28, 1), 1.0), ((3, 32, 24, 3), 255.0),
                                         ((2, 11, 15, 1), 1.0)])
def test_ssim_matches_skimage_gaussian(rng, shape, scale):
    x, y = _pair(rng, shape, scale)
    expected = _skimage_ssim(x, y, scale)
    assert abs(float(metrics.ssim(x, y, data_range=scale)) - expected) < 1e-4
    assert abs(np.mean(metrics.ssim_numpy(x, y, scale)) - expected) < 1e-6


def test_three_dim_input_is_one_channel(rng):
    x, y = _pair(rng, (4, 16, 16))
    np.testing.assert_allclose(metrics.ssim_numpy(x, y), metrics.ssim_numpy(x[..., None],
                                                                            y[..., None]))
    assert abs(float(metrics.psnr(x, y)) - float(metrics.psnr(x[..., None], y[..., None]))) < 1e-5


def test_mse_and_per_image_reduction(rng):
    x, y = _pair(rng, (4, 8, 8, 2))
    per = keras.ops.convert_to_numpy(metrics.mse(x, y, reduction="none"))
    np.testing.assert_allclose(per, ((x - y) ** 2).mean(axis=(1, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(metrics.mse_numpy(x, y), per, rtol=1e-5)
    assert keras.ops.convert_to_numpy(metrics.psnr(x, y, reduction="none")).shape == (4,)
    assert keras.ops.convert_to_numpy(metrics.ssim(np.tile(x, (1, 2, 2, 1)),
                                                   np.tile(y, (1, 2, 2, 1)),
                                                   reduction="none")).shape == (4,)


def test_psnr_is_per_image_not_whole_batch():
    x = np.zeros((2, 8, 8, 1), "float32")
    y = x.copy()
    y[0] += 0.1
    y[1] += 0.01
    assert abs(float(metrics.psnr(x, y)) - 30.0) < 1e-4
    assert abs(float(keras.ops.psnr(x, y, max_val=1.0)) - 30.0) > 1.0


def test_identical_images():
    x = np.random.default_rng(1).random((2, 16, 16, 1))
    assert np.isinf(metrics.psnr_numpy(x, x)).all()
    assert abs(float(metrics.ssim(x, x)) - 1.0) < 1e-5


def test_argument_errors():
    x = np.zeros((1, 16, 16, 1))
    with pytest.raises(ValueError, match="Received: max_val=-1"):
        metrics.psnr(x, x, max_val=-1)
    with pytest.raises(ValueError, match="Received: data_range=0"):
        metrics.ssim_numpy(x, x, data_range=0)
    with pytest.raises(ValueError, match="same shape"):
        metrics.psnr(x, np.zeros((1, 16, 15, 1)))
    with pytest.raises(ValueError, match="at least 11x11"):
        metrics.ssim(np.zeros((1, 8, 8, 1)), np.zeros((1, 8, 8, 1)))
    with pytest.raises(ValueError, match="reduction"):
        metrics.mse(x, x, reduction="sum")


def test_keras_metrics_in_compile_fit_evaluate(rng):
    x = rng.random((24, 16, 16, 1)).astype("float32")
    noisy = np.clip(x + 0.2 * rng.standard_normal(x.shape), 0, 1).astype("float32")
    model = keras.Sequential([keras.Input((16, 16, 1)),
                              keras.layers.Conv2D(1, 3, padding="same")])
    model.compile(optimizer="adam", loss="mse",
                  metrics=[metrics.PSNR(max_val=1.0), metrics.SSIM(data_range=1.0)])
    history = model.fit(noisy, x, batch_size=8, epochs=2, verbose=0)
    assert np.isfinite(history.history["psnr"]).all()
    assert np.isfinite(history.history["ssim"]).all()
    scores = model.evaluate(noisy, x, batch_size=8, verbose=0, return_dict=True)
    pred = model.predict(noisy, batch_size=8, verbose=0)
    assert abs(scores["psnr"] - np.mean(metrics.psnr_numpy(x, pred))) < 1e-3
    assert abs(scores["ssim"] - np.mean(metrics.ssim_numpy(x, pred))) < 1e-4


def test_keras_metric_state_and_serialization(rng):
    x, y = _pair(rng, (6, 16, 16, 1), 255.0)
    m = metrics.PSNR(max_val=255.0)
    m.update_state(x[:2], y[:2])
    m.update_state(x[2:], y[2:])
    assert abs(float(m.result()) - np.mean(metrics.psnr_numpy(x, y, 255.0))) < 1e-3
    m.reset_state()
    assert float(m.result()) == 0.0
    for metric in (metrics.PSNR(max_val=255.0, name="p"), metrics.SSIM(data_range=2.0)):
        restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
        assert type(restored) is type(metric)
        assert restored.get_config() == metric.get_config()
