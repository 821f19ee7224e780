"""The network builders: shapes, conditioning, tied weights, encoder/decoder views, saving."""

import keras
import numpy as np
import pytest

from keras_dae import networks
from tests.helpers import (assert_saved_model_roundtrip, jit_for_tests, random_inputs, run_layer_test, to_numpy,
                           xla_for_tests)


def with_sigma(x, conditioned):
    return [x, np.linspace(0.05, 0.5, len(x)).astype("float32")] if conditioned else x


CASES = {
    "mlp": (lambda: networks.mlp((16, 12, 6), activation="gelu"), (4, 16), False),
    "mlp-tied-sigmoid": (lambda: networks.mlp((16, 12, 6), tied=True), (4, 16), False),
    "mlp-image-film": (lambda: networks.mlp((36, 10), input_shape=(6, 6, 1), activation="silu",
                                            sigma_conditioning="film", embedding_dim=8), (4, 6, 6, 1), True),
    "mlp-channel": (lambda: networks.mlp((16, 8), sigma_conditioning="channel"), (4, 16), True),
    "conv": (lambda: networks.conv_dae((8, 8, 1), filters=(4, 8)), (4, 8, 8, 1), False),
    "conv-padded-color-sinusoidal": (lambda: networks.conv_dae(
        (10, 6, 3), filters=(4, 8), sigma_conditioning="sinusoidal", embedding_dim=8), (4, 10, 6, 3), True),
    "unet-blind": (lambda: networks.unet((8, 8, 1), widths=(4, 8), sigma_conditioning=None), (4, 8, 8, 1), False),
    "unet-channel": (lambda: networks.unet((8, 8, 1), widths=(4, 8), sigma_conditioning="channel"),
                     (4, 8, 8, 1), True),
    "unet-film-color-padded": (lambda: networks.unet(
        (10, 12, 3), widths=(4, 8, 8), sigma_conditioning="film", embedding_dim=8, groups=2), (4, 10, 12, 3), True),
    "dncnn-blind": (lambda: networks.dncnn(depth=4, filters=8), (4, 9, 7, 1), False),
    "dncnn-bn-color-film": (lambda: networks.dncnn(channels=3, depth=4, filters=8, batch_norm=True,
                                                   sigma_conditioning="film", embedding_dim=8), (4, 8, 8, 3), True),
    "dncnn-channel": (lambda: networks.dncnn(depth=3, filters=4, sigma_conditioning="channel",
                                             input_shape=(6, 6, 1)), (4, 6, 6, 1), True),
    "unet-sinusoidal-residual": (lambda: networks.unet(
        (8, 8, 1), widths=(4, 8), blocks_per_level=2, sigma_conditioning="sinusoidal", embedding_dim=8,
        residual_output=True), (4, 8, 8, 1), True),
}


@pytest.mark.parametrize("name", list(CASES))
def test_network_shapes_roundtrip_and_views(name, tmp_path):
    build, shape, conditioned = CASES[name]
    net = build()
    x = random_inputs(shape)
    inputs = with_sigma(x, conditioned)
    out = to_numpy(net(inputs))
    assert out.shape == shape and np.all(np.isfinite(out))
    assert networks.is_conditioned(net) == conditioned
    assert_saved_model_roundtrip(net, inputs, tmp_path)

    encoder = networks.encoder_model(net, sigma=0.1)
    features = to_numpy(encoder(x))
    assert features.ndim == 2 and features.shape[0] == shape[0]
    spatial = to_numpy(networks.encoder_model(net, pooled=False, sigma=0.1)(x))
    if len(shape) == 4 and not name.startswith("mlp"):
        assert spatial.ndim == 4 and np.allclose(spatial.mean(axis=(1, 2)), features, atol=1e-5)
    decoder = networks.decoder_model(net)
    assert decoder.outputs[0].shape[1:] == net.outputs[0].shape[1:]


def test_blind_decoder_inverts_the_encoder_path():
    net = networks.conv_dae((8, 8, 1), filters=(4, 8))
    x = random_inputs((2, 8, 8, 1))
    code = networks.encoder_model(net, pooled=False)(x)
    np.testing.assert_allclose(to_numpy(networks.decoder_model(net)(code)), to_numpy(net(x)), atol=1e-6)


def test_tied_decoder_uses_the_transposed_kernel():
    net = networks.mlp((6, 4), activation="linear", output_activation="linear", tied=True)
    layer = net.get_layer("encoder_1")
    w, b, c = (to_numpy(v) for v in (layer.kernel, layer.bias, layer.transpose_bias))
    x = random_inputs((3, 6))
    np.testing.assert_allclose(to_numpy(net(x)), (x @ w + b) @ w.T + c, atol=1e-5)
    assert len(net.trainable_weights) == 3
    net.compile(optimizer="sgd", loss="mse", jit_compile=jit_for_tests())
    net.fit(x, x, epochs=1, verbose=0)
    np.testing.assert_allclose(to_numpy(net(x)), (x @ to_numpy(layer.kernel) + to_numpy(layer.bias))
                               @ to_numpy(layer.kernel).T + to_numpy(layer.transpose_bias), atol=1e-5)


def test_tied_dense_layer(tmp_path):
    run_layer_test(networks.TiedDense, {"units": 3}, (2, 5), tmp_path, expected_output_shape=(2, 3))


def test_unet_default_size_and_identity_start():
    assert 0.5e6 < networks.unet().count_params() < 0.7e6
    net = networks.unet((8, 8, 1), widths=(4, 8))
    x = random_inputs((2, 8, 8, 1))
    # zero-initialized output: a new noise predictor predicts no noise
    np.testing.assert_array_equal(to_numpy(net([x, np.full((2,), 0.1, "float32")])), 0.0)


def test_unet_trains_as_a_denoiser():
    net = networks.unet((8, 8, 1), widths=(4, 8), sigma_conditioning="film", embedding_dim=8)
    x = random_inputs((16, 8, 8, 1))
    noisy = x + 0.1 * np.random.default_rng(0).standard_normal(x.shape).astype("float32")
    net.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", jit_compile=xla_for_tests())
    history = net.fit([noisy, np.full((16,), 0.1, "float32")], x, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_dncnn_is_the_papers_network_and_takes_any_size():
    """DnCNN-S has 555,137 parameters (the published state dict's count); one network
    denoises images of any height and width, and each output pixel depends on the input
    within the receptive field only (2·depth + 1 pixels wide)."""
    assert networks.dncnn().count_params() == 555_137
    net = networks.dncnn(depth=5, filters=8)
    for shape in ((1, 13, 21, 1), (2, 32, 8, 1)):
        assert to_numpy(net(random_inputs(shape))).shape == shape
    x = random_inputs((1, 24, 24, 1))
    y = x.copy()
    y[0, 0, 0, 0] += 1.0  # 5 convolutions 3×3: a change at a corner reaches 5 pixels, no further
    diff = np.abs(to_numpy(net(y)) - to_numpy(net(x)))[0, :, :, 0]
    assert diff[:6, :6].max() > 0 and diff[6:, :].max() == 0 and diff[:, 6:].max() == 0


def test_dncnn_film_starts_as_the_blind_network():
    blind = networks.dncnn(depth=4, filters=8)
    film = networks.dncnn(depth=4, filters=8, sigma_conditioning="film", embedding_dim=8)
    for i in range(4):
        film.get_layer(f"conv_{i}").set_weights(blind.get_layer(f"conv_{i}").get_weights())
    x = random_inputs((3, 10, 10, 1))
    sigma = np.array([0.0, 0.1, 0.5], "float32")
    np.testing.assert_allclose(to_numpy(film([x, sigma])), to_numpy(blind(x)), atol=1e-6)


def test_builder_argument_errors():
    with pytest.raises(ValueError, match="sigma_conditioning"):
        networks.unet(sigma_conditioning="bogus")
    with pytest.raises(ValueError, match="tied"):
        networks.mlp((8, 4), tied=True, sigma_conditioning="channel")
    with pytest.raises(ValueError, match="input_shape"):
        networks.mlp((8, 4), input_shape=(3, 3))
    with pytest.raises(ValueError, match="widths"):
        networks.mlp((8,))
    with pytest.raises(ValueError, match="blocks_per_level"):
        networks.unet(blocks_per_level=0)
    with pytest.raises(ValueError, match="depth"):
        networks.dncnn(depth=2)
    with pytest.raises(ValueError, match="input_shape"):
        networks.dncnn(channels=3, input_shape=(8, 8, 1))
