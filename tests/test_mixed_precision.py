"""Every network under every objective trains and predicts under Keras' mixed-precision
policies (float16 and bfloat16 compute, float32 variables), with float32 losses."""

import keras
import numpy as np
import pytest

import keras_dae
from keras_dae import layers, models, networks
from tests.helpers import to_numpy

SHAPE = (8, 8, 1)


def gauss():
    return layers.AdditiveGaussian(sigma_range=(0.05, 0.5), sigma_distribution="log_uniform", seed=1)


CASES = {
    "mlp-dae": lambda: models.DAE(networks.mlp((64, 16, 8)), layers.MaskingNoise(0.25, seed=1), loss="bce",
                                  value_range=(0.0, 1.0)),
    "conv-dae": lambda: models.DAE(networks.conv_dae(SHAPE, filters=(4, 8)), gauss()),
    "unet-film-residual": lambda: models.ResidualDAE(networks.unet(SHAPE, widths=(8, 16)), gauss()),
    "unet-channel-score": lambda: models.ScoreDAE(networks.unet(SHAPE, widths=(8, 16), sigma_conditioning="channel"),
                                                  gauss()),
    "dncnn-film-residual": lambda: models.ResidualDAE(
        networks.dncnn(depth=4, filters=8, sigma_conditioning="film"), gauss()),
    "unet-inpainting": lambda: models.InpaintingDAE(
        networks.unet(SHAPE[:2] + (2,), widths=(8, 16), sigma_conditioning=None, output_channels=1),
        layers.RandomChoice([layers.BlockMasking(block_size=4), layers.MaskingNoise(0.5)], seed=1)),
}


@pytest.fixture
def policy(request):
    keras.config.set_dtype_policy(request.param)
    yield request.param
    keras.config.set_dtype_policy("float32")


# float16 (the narrower range) for every case; bfloat16 for one conv and one dense network.
PAIRS = [(case, "mixed_float16") for case in sorted(CASES)] + [
    ("unet-film-residual", "mixed_bfloat16"), ("mlp-dae", "mixed_bfloat16")]


@pytest.mark.parametrize("case, policy", PAIRS, indirect=["policy"])
def test_trains_and_predicts_under_mixed_precision(case, policy):
    keras_dae.set_random_seed(0)
    model = CASES[case]()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    rng = np.random.default_rng(0)
    x = rng.random((16, 64) if case == "mlp-dae" else (16,) + SHAPE).astype("float32")
    history = model.fit(x, epochs=2, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"])), history.history
    assert all(v.dtype == "float32" for v in model.trainable_variables)
    if case == "unet-inpainting":
        out = model.inpaint(x[:2], (rng.random(x[:2].shape) < 0.5).astype("float32"))
    elif model.conditioned:
        out = model.denoise(x[:2], sigma=0.1)
    else:
        out = model.denoise(x[:2])
    out = to_numpy(out)
    assert out.shape == x[:2].shape and np.all(np.isfinite(out))
