"""Every corruption layer and σ-embedding through the shared layer test, plus the
properties all corruptions share: identity at inference, fresh noise at every step of a
compiled fit, reproducible runs, mixed precision, argument validation."""

import keras
import numpy as np
import pytest

from keras_dae import backend as kd_backend
from keras_dae import layers
from tests import helpers

CORRUPTIONS = {
    "gaussian_fixed": (layers.AdditiveGaussian, {"sigma": 0.2, "seed": 1}),
    "gaussian_range": (
        layers.AdditiveGaussian,
        {"sigma_range": (0.01, 1.0), "sigma_distribution": "log_uniform", "clip": (0.0, 1.0), "seed": 1},
    ),
    "masking": (layers.MaskingNoise, {"rate": 0.25, "seed": 1}),
    "salt_and_pepper": (layers.SaltAndPepper, {"rate": 0.2, "seed": 1}),
    "gaussian_masking": (layers.GaussianMasking, {"rate": 0.3, "sigma": 0.5, "seed": 1}),
    "blocks": (layers.BlockMasking, {"block_size": (3, 2), "num_blocks": 2, "seed": 1}),
    "compose": (
        layers.Compose,
        {"corruptions": [layers.MaskingNoise(0.2, seed=2), layers.AdditiveGaussian(sigma=0.1, seed=3)]},
    ),
    "random_choice": (
        layers.RandomChoice,
        {"corruptions": [layers.BlockMasking(block_size=2, seed=2), layers.MaskingNoise(0.5, seed=3)],
         "probabilities": [1, 3]},
    ),
}
SHAPES = {"vectors": (4, 12), "sequences": (4, 10, 3), "images": (4, 8, 8, 2)}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corruption_layer(name, tmp_path):
    cls, kwargs = CORRUPTIONS[name]
    helpers.run_layer_test(cls, kwargs, (4, 8, 8, 2), tmp_path, call_kwargs={"training": True})


def test_adversarial_layer(tmp_path):
    def loss_fn(v):
        return keras.ops.mean(keras.ops.square(v - 0.5))

    helpers.run_layer_test(
        layers.AdversarialNoise,
        {"epsilon": 0.1, "steps": 2, "norm": "l2"},
        (4, 8, 8, 2),
        tmp_path,
        call_kwargs={"training": True, "loss_fn": loss_fn},
        run_training=False,
    )


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
@pytest.mark.parametrize("rank", sorted(SHAPES))
def test_identity_at_inference_any_rank(name, rank):
    cls, kwargs = CORRUPTIONS[name]
    if name == "blocks" and rank != "images":
        kwargs = {"block_size": 2, "num_blocks": 2, "seed": 1}
    layer = cls(**kwargs)
    x = helpers.random_inputs(SHAPES[rank])
    np.testing.assert_array_equal(helpers.to_numpy(layer(x)), x)
    np.testing.assert_array_equal(helpers.to_numpy(layer(x, training=False)), x)
    y, info = layer(x, training=True, return_info=True)
    assert tuple(y.shape) == x.shape
    assert tuple(info["sigma"].shape) == (x.shape[0],)
    assert tuple(info["mask"].shape) == x.shape
    assert not np.array_equal(helpers.to_numpy(y), x)


@pytest.mark.parametrize("name", ["gaussian_range", "masking", "blocks", "compose", "random_choice"])
def test_fresh_noise_each_step_of_compiled_fit_and_reproducible(name):
    cls, kwargs = CORRUPTIONS[name]
    x = helpers.random_inputs((8, 6, 6, 1), seed=3)

    def factory():
        config = cls(**kwargs).get_config()
        return cls.from_config(config)

    first = helpers.record_corruptions(factory, x, epochs=3)
    for a, b in [(0, 1), (1, 2), (0, 2)]:
        assert not np.array_equal(first[a], first[b]), f"steps {a} and {b} drew the same corruption"
    keras.utils.clear_session()
    second = helpers.record_corruptions(factory, x, epochs=3)
    np.testing.assert_array_equal(first, second)


def test_jit_compile_smoke():
    """The one `jit_compile=True` fit per backend (torch compiles with inductor)."""
    x = helpers.random_inputs((8, 6, 6, 1), seed=4)
    draws = helpers.record_corruptions(
        lambda: layers.AdditiveGaussian(sigma_range=(0.1, 0.5), seed=5), x, epochs=2, jit_compile=True
    )
    assert not np.array_equal(draws[0], draws[1])
    assert np.all(np.isfinite(draws))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_mixed_precision(name, policy):
    cls, kwargs = CORRUPTIONS[name]
    keras.config.set_dtype_policy(policy)
    if name == "compose":
        kwargs = {"corruptions": [layers.MaskingNoise(0.2, seed=2), layers.AdditiveGaussian(sigma=0.1, seed=3)]}
    layer = cls(**kwargs)
    x = helpers.random_inputs((4, 8, 8, 2))
    y, info = layer(x, training=True, return_info=True)
    compute = policy.split("_")[1]
    assert keras.backend.standardize_dtype(y.dtype) == compute
    assert keras.backend.standardize_dtype(info["mask"].dtype) == compute
    assert np.all(np.isfinite(helpers.to_numpy(y).astype("float32")))
    assert keras.backend.standardize_dtype(layer(x).dtype) == compute


def test_mixed_precision_adversarial():
    keras.config.set_dtype_policy("mixed_float16")
    layer = layers.AdversarialNoise(epsilon=0.1)
    x = helpers.random_inputs((4, 8, 8, 2))
    y = layer(x, training=True, loss_fn=lambda v: keras.ops.mean(keras.ops.square(v)))
    assert keras.backend.standardize_dtype(y.dtype) == "float16"
    assert np.max(np.abs(helpers.to_numpy(y).astype("float32") - x)) <= 0.1 + 1e-3


def test_corrupt_outside_training_is_reproducible():
    layer = layers.Compose([layers.MaskingNoise(0.3), layers.AdditiveGaussian(sigma=0.2)])
    x = helpers.random_inputs((4, 8, 8, 1))
    a = helpers.to_numpy(layer.corrupt(x, seed=7))
    b = helpers.to_numpy(layer.corrupt(x, seed=7))
    c = helpers.to_numpy(layer.corrupt(x, seed=8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    state = [helpers.to_numpy(v) for v in layer.weights]
    layer.corrupt(x, seed=9)
    for before, v in zip(state, layer.weights):
        np.testing.assert_array_equal(before, helpers.to_numpy(v))


def test_compose_merges_info():
    layer = layers.Compose([layers.MaskingNoise(0.5, seed=1), layers.AdditiveGaussian(sigma=0.3, seed=2)])
    x = np.ones((16, 10), "float32")
    y, info = layer(x, training=True, return_info=True)
    np.testing.assert_allclose(helpers.to_numpy(info["sigma"]), 0.3, rtol=1e-6)
    mask = helpers.to_numpy(info["mask"])
    assert set(np.unique(mask)) == {0.0, 1.0}
    assert 0.35 < mask.mean() < 0.65


def test_random_choice_picks_one_layer_per_example_with_its_info():
    layer = layers.RandomChoice([layers.AdditiveGaussian(sigma=0.3, seed=1), layers.MaskingNoise(1.0, seed=2)],
                                probabilities=[3, 1], seed=5)
    x = np.ones((400, 6), "float32")
    y, info = layer(x, training=True, return_info=True)
    y, sigma, mask = (helpers.to_numpy(v) for v in (y, info["sigma"], info["mask"]))
    masked = np.all(y == 0.0, axis=1)  # MaskingNoise(1.0) zeroes the whole example
    assert 0.18 < masked.mean() < 0.32  # probability 1/4
    np.testing.assert_array_equal(mask[masked], 1.0)
    np.testing.assert_array_equal(mask[~masked], 0.0)
    np.testing.assert_allclose(sigma[~masked], 0.3, rtol=1e-6)
    np.testing.assert_array_equal(sigma[masked], 0.0)
    assert 0.25 < np.std(y[~masked]) < 0.35  # the Gaussian examples are noisy, not masked
    assert layer.probabilities == [0.75, 0.25]
    again = layers.RandomChoice.from_config(layer.get_config())
    np.testing.assert_array_equal(helpers.to_numpy(again.corrupt(x, seed=3)), helpers.to_numpy(layer.corrupt(x, seed=3)))


def test_set_sigma_changes_the_noise_level():
    layer = layers.AdditiveGaussian(sigma=0.1, seed=0)
    x = np.zeros((64, 100), "float32")
    layer.set_sigma(0.5)
    y, info = layer(x, training=True, return_info=True)
    np.testing.assert_allclose(helpers.to_numpy(info["sigma"]), 0.5)
    assert abs(np.std(helpers.to_numpy(y)) - 0.5) < 0.02
    layer.set_sigma(sigma_range=(0.2, 0.4))
    sigma = helpers.to_numpy(layer(x, training=True, return_info=True)[1]["sigma"])
    assert sigma.min() >= 0.2 and sigma.max() <= 0.4


@pytest.mark.parametrize(
    "cls, kwargs, needle",
    [
        (layers.AdditiveGaussian, {"sigma": -1}, "sigma=-1"),
        (layers.AdditiveGaussian, {}, "exactly one"),
        (layers.AdditiveGaussian, {"sigma": 0.1, "sigma_range": (0, 1)}, "exactly one"),
        (layers.AdditiveGaussian, {"sigma_range": (0.5, 0.1)}, "sigma_range=(0.5, 0.1)"),
        (layers.AdditiveGaussian, {"sigma_range": (0, 1), "sigma_distribution": "log_uniform"}, "lower bound"),
        (layers.AdditiveGaussian, {"sigma": 0.1, "sigma_distribution": "normal"}, "sigma_distribution='normal'"),
        (layers.MaskingNoise, {"rate": 1.5}, "rate=1.5"),
        (layers.SaltAndPepper, {"rate": 0.1, "low": 1, "high": 0}, "low=1"),
        (layers.GaussianMasking, {"rate": 0.1, "sigma": -2}, "sigma=-2"),
        (layers.BlockMasking, {"block_size": 0}, "block_size=0"),
        (layers.BlockMasking, {"block_size": 2, "num_blocks": 1, "rate": 0.1}, "at most one"),
        (layers.AdversarialNoise, {"epsilon": 0.1, "norm": "l1"}, "norm='l1'"),
        (layers.AdversarialNoise, {"epsilon": 0.1, "steps": 0}, "steps=0"),
        (layers.SinusoidalEmbedding, {"dim": 7}, "dim=7"),
        (layers.FiLM, {"units": 0}, "units=0"),
        (layers.Compose, {"corruptions": ["noise"]}, "corruptions="),
        (layers.RandomChoice, {"corruptions": []}, "corruptions=[]"),
        (layers.RandomChoice, {"corruptions": [layers.MaskingNoise(0.1)], "probabilities": [1, 2]},
         "probabilities=[1, 2]"),
        (layers.RandomChoice, {"corruptions": [layers.MaskingNoise(0.1)], "probabilities": [-1]},
         "probabilities=[-1]"),
    ],
)
def test_bad_arguments_name_the_value(cls, kwargs, needle):
    with pytest.raises(ValueError, match=None) as info:
        cls(**kwargs)
    assert needle in str(info.value), str(info.value)


def test_block_that_does_not_fit_is_reported():
    with pytest.raises(ValueError, match="does not fit"):
        layers.BlockMasking(block_size=10)(np.zeros((2, 8, 8, 1), "float32"), training=True)


def test_adversarial_needs_a_loss():
    with pytest.raises(ValueError, match="loss_fn"):
        layers.AdversarialNoise(epsilon=0.1)(np.zeros((2, 4), "float32"), training=True)


# σ-embeddings


def test_sigma_channel(tmp_path):
    helpers.run_layer_test(
        layers.SigmaChannel, {}, [(4, 8, 8, 2), (4,)], tmp_path,
        expected_output_shape=(4, 8, 8, 3), run_training=False,
    )
    x = np.zeros((3, 5, 5, 1), "float32")
    sigma = np.array([0.1, 0.2, 0.3], "float32")
    out = helpers.to_numpy(layers.SigmaChannel()([x, sigma]))
    np.testing.assert_allclose(out[..., 1], np.broadcast_to(sigma[:, None, None], (3, 5, 5)))
    out = helpers.to_numpy(layers.SigmaChannel(transform="log")([x, sigma[:, None]]))
    np.testing.assert_allclose(out[:, 0, 0, 1], np.log(sigma), rtol=1e-6)


def test_sinusoidal_embedding(tmp_path):
    helpers.run_layer_test(
        layers.SinusoidalEmbedding, {"dim": 16}, (4,), tmp_path,
        expected_output_shape=(4, 16), run_training=False, atol=1e-5,
    )
    emb = helpers.to_numpy(layers.SinusoidalEmbedding(8)(np.array([0.01, 0.1, 1.0], "float32")))
    np.testing.assert_allclose(emb[:, :4] ** 2 + emb[:, 4:] ** 2, 1.0, rtol=1e-5)
    np.testing.assert_allclose(emb[2], [0, 0, 0, 0, 1, 1, 1, 1], atol=1e-6)
    assert np.linalg.norm(emb[0] - emb[1]) > 0.1


def test_film(tmp_path):
    helpers.run_layer_test(
        layers.FiLM, {"units": 2}, [(4, 8, 8, 2), (4, 6)], tmp_path,
        expected_output_shape=(4, 8, 8, 2), run_training=False,
    )
    h = helpers.random_inputs((3, 5, 5, 4))
    e = helpers.random_inputs((3, 6), seed=1)
    fresh = layers.FiLM(4)
    np.testing.assert_array_equal(helpers.to_numpy(fresh([h, e])), h)
    trained = layers.FiLM(4, use_bias=False, kernel_initializer="random_normal")
    np.testing.assert_allclose(helpers.to_numpy(trained([h, np.zeros_like(e)])), h, atol=1e-7)
    assert not np.allclose(helpers.to_numpy(trained([h, e])), h)
    with pytest.raises(ValueError, match="3 channels"):
        layers.FiLM(4)([np.zeros((2, 5, 5, 3), "float32"), e[:2]])


def _input_gradient(layer, x):
    """The gradient, with respect to `x`, of a loss that weights every output of `layer` differently."""
    weights = keras.ops.convert_to_tensor(helpers.random_inputs(layer(x).shape, seed=3))
    loss = lambda v: keras.ops.sum(keras.ops.multiply(layer(v), weights))  # noqa: E731
    return helpers.to_numpy(kd_backend.input_gradient(loss, keras.ops.convert_to_tensor(x)))


def test_group_normalization_is_keras_with_a_fused_kernel(tmp_path):
    helpers.run_layer_test(layers.GroupNormalization, {"groups": 4}, (2, 6, 6, 8), tmp_path, atol=1e-5)
    x = helpers.random_inputs((3, 5, 5, 8), low=-2.0, high=3.0)
    fused = layers.GroupNormalization(4, gamma_initializer="random_normal", beta_initializer="random_normal")
    fused.build(x.shape)
    ref = keras.layers.GroupNormalization(4)
    ref.build(x.shape)
    ref.set_weights(fused.get_weights())
    np.testing.assert_allclose(helpers.to_numpy(fused(x)), helpers.to_numpy(ref(x)), atol=1e-5)

    np.testing.assert_allclose(_input_gradient(fused, x), _input_gradient(ref, x), atol=1e-4)
    # scale/center off, another axis (Keras' own code) and mixed precision keep Keras' results.
    for kwargs in ({"scale": False, "center": False}, {"axis": 1}):
        a, b = layers.GroupNormalization(4, **kwargs), keras.layers.GroupNormalization(4, **kwargs)
        y = x.transpose(0, 3, 1, 2) if kwargs.get("axis") == 1 else x
        np.testing.assert_allclose(helpers.to_numpy(a(y)), helpers.to_numpy(b(y)), atol=1e-5)
    half = layers.GroupNormalization(4, dtype="mixed_bfloat16")
    assert keras.backend.standardize_dtype(half(x).dtype) == "bfloat16"


@pytest.mark.parametrize(
    "kwargs, shape",
    [
        ({"filters": 6, "kernel_size": 3, "padding": "same"}, (2, 7, 6, 4)),
        ({"filters": 6, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 8, 7, 4)),  # uneven split
        ({"filters": 6, "kernel_size": 4, "padding": "same", "use_bias": False}, (2, 7, 6, 4)),
        ({"filters": 6, "kernel_size": (3, 1), "dilation_rate": 2, "padding": "same"}, (2, 9, 6, 4)),
        ({"filters": 6, "kernel_size": 3, "strides": (2, 1), "activation": "relu"}, (2, 9, 6, 4)),  # valid
        ({"filters": 6, "kernel_size": 1, "groups": 2}, (2, 5, 5, 4)),
    ],
)
def test_conv2d_is_keras_without_the_layout_copies(kwargs, shape, tmp_path):
    x = helpers.random_inputs(shape, low=-2.0, high=3.0)
    fast = layers.Conv2D(bias_initializer="random_normal", **kwargs)
    fast.build(shape)
    ref = keras.layers.Conv2D(**kwargs)
    ref.build(shape)
    ref.set_weights(fast.get_weights())
    np.testing.assert_allclose(helpers.to_numpy(fast(x)), helpers.to_numpy(ref(x)), atol=1e-5)
    np.testing.assert_allclose(_input_gradient(fast, x), _input_gradient(ref, x), atol=1e-4)
    if kwargs.get("strides") == 2:  # the layer's contract, once: config, fit, .keras, other backends
        out = kd_backend.conv2d(keras.ops.convert_to_tensor(x), fast.kernel, fast.strides, fast.padding,
                                fast.dilation_rate, fast.groups)
        if keras.backend.backend() == "torch":  # channels_last in and out: no copy on either side
            assert out.is_contiguous()
        else:
            assert out is None  # Keras' own convolution
        same = dict(kwargs, filters=shape[-1], strides=1)  # the test's fit step needs output = input shape
        helpers.run_layer_test(layers.Conv2D, same, shape, tmp_path, atol=1e-5)
        half = layers.Conv2D(dtype="mixed_bfloat16", **kwargs)
        assert keras.backend.standardize_dtype(half(x).dtype) == "bfloat16"
        first = layers.Conv2D(data_format="channels_first", **kwargs)  # Keras' own code
        y = x.transpose(0, 3, 1, 2)
        first.build(y.shape)
        twin = keras.layers.Conv2D(data_format="channels_first", **kwargs)
        twin.build(y.shape)
        twin.set_weights(first.get_weights())
        try:
            expected = helpers.to_numpy(twin(y))
        except Exception as error:  # TensorFlow on a CPU without oneDNN (no AVX-512): no NCHW kernel
            with pytest.raises(type(error)):  # ... and the same error from ours
                first(y)
        else:
            np.testing.assert_allclose(helpers.to_numpy(first(y)), expected, atol=1e-5)


@pytest.mark.parametrize("size", [2, (4, 2), (41, 3)])
def test_upsampling2d_is_keras_in_one_kernel(size, tmp_path):
    x = helpers.random_inputs((2, 5, 4, 3), low=-2.0, high=3.0)
    fast, ref = layers.UpSampling2D(size), keras.layers.UpSampling2D(size)
    np.testing.assert_array_equal(helpers.to_numpy(fast(x)), helpers.to_numpy(ref(x)))  # repetition: exact
    np.testing.assert_allclose(_input_gradient(fast, x), _input_gradient(ref, x), atol=1e-5)
    out = kd_backend.upsample_nearest(keras.ops.convert_to_tensor(x), fast.size)
    if size == (41, 3):  # PyTorch's float reciprocal of 41 picks wrong rows: Keras' code
        assert out is None
    elif keras.backend.backend() == "torch":  # channels_last in and out: one kernel, no copy after it
        assert out.is_contiguous()
    else:
        assert out is None  # Keras' own layer
    if size == 2:  # the layer's contract, once: config, .keras, other backends, Keras' other paths
        helpers.run_layer_test(layers.UpSampling2D, {"size": 2}, (2, 5, 4, 3), tmp_path,
                               expected_output_shape=(2, 10, 8, 3), run_training=False)
        half = layers.UpSampling2D(2, dtype="mixed_bfloat16")
        assert keras.backend.standardize_dtype(half(keras.ops.cast(x, "bfloat16")).dtype) == "bfloat16"
        for kwargs, y in (({"interpolation": "bilinear"}, x),
                          ({"data_format": "channels_first"}, x.transpose(0, 3, 1, 2))):
            np.testing.assert_allclose(helpers.to_numpy(layers.UpSampling2D(2, **kwargs)(y)),
                                       helpers.to_numpy(keras.layers.UpSampling2D(2, **kwargs)(y)), atol=1e-6)
