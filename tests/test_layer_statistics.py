"""Statistical properties of the corruptions: each checked on every backend with enough
draws that the tolerance is several standard errors wide."""

import keras
import numpy as np
import pytest

from keras_dae import layers
from tests import helpers


def draw(layer, x, **kwargs):
    y, info = layer(x, training=True, return_info=True, **kwargs)
    return helpers.to_numpy(y), helpers.to_numpy(info)


def test_gaussian_fixed_sigma_std():
    x = np.full((64, 32, 32, 1), 0.5, "float32")
    y, info = draw(layers.AdditiveGaussian(sigma=0.3, seed=0), x)
    noise = y - x
    assert abs(noise.mean()) < 0.003
    assert abs(noise.std() - 0.3) < 0.003
    np.testing.assert_allclose(info["sigma"], 0.3, rtol=1e-6)
    assert not info["mask"].any()


@pytest.mark.parametrize("distribution", ["uniform", "log_uniform"])
def test_gaussian_per_sample_sigma(distribution):
    x = np.zeros((4096, 256), "float32")
    y, info = draw(
        layers.AdditiveGaussian(sigma_range=(0.01, 1.0), sigma_distribution=distribution, seed=1), x
    )
    sigma = info["sigma"]
    assert sigma.min() >= 0.01 - 1e-7 and sigma.max() <= 1.0 + 1e-7
    # each sample's noise has the std its σ says (256 draws: ~4.4 % standard error)
    ratio = y.std(axis=1) / sigma
    assert abs(np.median(ratio) - 1.0) < 0.01 and np.percentile(np.abs(ratio - 1), 99) < 0.2
    # uniform → σ is uniform on [0.01, 1]; log-uniform → log σ is uniform on [log 0.01, 0]
    values = np.log(sigma) if distribution == "log_uniform" else sigma
    low, high = (np.log(0.01), 0.0) if distribution == "log_uniform" else (0.01, 1.0)
    u = np.sort((values - low) / (high - low))
    ks = np.max(np.abs(u - np.arange(1, len(u) + 1) / len(u)))
    assert ks < 1.63 / np.sqrt(len(u)), f"KS distance {ks:.4f} (1 % level)"


def test_gaussian_clip():
    x = np.full((8, 100), 0.95, "float32")
    y, _ = draw(layers.AdditiveGaussian(sigma=0.5, clip=(0.0, 1.0), seed=2), x)
    assert y.min() >= 0.0 and y.max() <= 1.0


def test_masking_rate_and_kept_elements_bit_identical():
    x = helpers.random_inputs((64, 28, 28, 1), seed=5) + 0.1
    y, info = draw(layers.MaskingNoise(rate=0.25, fill_value=0.0, seed=3), x)
    replaced = info["mask"].astype(bool)
    assert abs(replaced.mean() - 0.25) < 0.005
    assert np.all(y[replaced] == 0.0)
    np.testing.assert_array_equal(y[~replaced], x[~replaced])


def test_salt_and_pepper_rates():
    x = np.full((64, 28, 28, 1), 0.5, "float32")
    y, info = draw(layers.SaltAndPepper(rate=0.2, low=0.0, high=1.0, seed=4), x)
    assert abs((y == 0.0).mean() - 0.1) < 0.004
    assert abs((y == 1.0).mean() - 0.1) < 0.004
    np.testing.assert_array_equal(info["mask"].astype(bool), y != 0.5)
    assert np.all(y[y != 0.0][y[y != 0.0] != 1.0] == 0.5)


def test_gaussian_masking():
    x = np.full((64, 28, 28, 1), 0.7, "float32")
    y, info = draw(layers.GaussianMasking(rate=0.4, sigma=0.5, seed=5), x)
    replaced = info["mask"].astype(bool)
    assert abs(replaced.mean() - 0.4) < 0.005
    np.testing.assert_array_equal(y[~replaced], x[~replaced])
    assert abs(y[replaced].mean()) < 0.01 and abs(y[replaced].std() - 0.5) < 0.01


@pytest.mark.parametrize("block_size, num_blocks", [((12, 12), 1), ((5, 9), 1), ((3, 3), 4)])
def test_block_masking_rectangles(block_size, num_blocks):
    x = np.ones((32, 28, 28, 3), "float32")
    y, info = draw(layers.BlockMasking(block_size, num_blocks=num_blocks, seed=6), x)
    mask = info["mask"]
    np.testing.assert_array_equal(mask[..., 0], mask[..., 2])
    np.testing.assert_array_equal(y == 0.0, mask == 1.0)
    for m in mask[..., 0]:
        rows, cols = np.nonzero(m)
        if num_blocks == 1:
            assert rows.max() - rows.min() + 1 == block_size[0]
            assert cols.max() - cols.min() + 1 == block_size[1]
            assert m.sum() == block_size[0] * block_size[1]
        else:
            assert block_size[0] * block_size[1] <= m.sum() <= num_blocks * block_size[0] * block_size[1]


def test_block_masking_positions_cover_the_image():
    x = np.ones((4096, 28, 28, 1), "float32")
    _, info = draw(layers.BlockMasking(12, seed=7), x)
    coverage = info["mask"].mean(axis=0)[..., 0]
    assert coverage.min() > 0.0
    # a corner is covered only by the one start position that reaches it: 1/17² of draws
    assert coverage[14, 14] > coverage[0, 0]


def test_block_masking_rate_and_sequences():
    x = np.ones((256, 40, 2), "float32")
    _, info = draw(layers.BlockMasking(4, rate=0.3, seed=8), x)
    assert layers.BlockMasking(4, rate=0.3).blocks_per_sample(x.shape) == 3
    fraction = info["mask"].mean()
    assert 0.2 < fraction <= 0.3


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_adversarial_beats_random_noise_of_the_same_norm(norm):
    rng = np.random.default_rng(0)
    d = 32
    x = rng.uniform(0, 1, (64, d)).astype("float32")
    net = keras.Sequential([keras.Input((d,)), keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(d)])

    target = keras.ops.convert_to_tensor(x)

    def loss_fn(v):
        return keras.ops.mean(keras.ops.square(net(v) - target))

    epsilon = 0.1 if norm == "linf" else 0.5
    attack = layers.AdversarialNoise(epsilon=epsilon, steps=5, norm=norm)
    x_adv = helpers.to_numpy(attack(x, training=True, loss_fn=loss_fn))
    delta = x_adv - x
    if norm == "linf":
        assert np.abs(delta).max() <= epsilon + 1e-6
        random = rng.choice([-epsilon, epsilon], size=x.shape).astype("float32")
    else:
        norms = np.linalg.norm(delta, axis=1)
        assert norms.max() <= epsilon * (1 + 1e-5)
        random = rng.normal(size=x.shape).astype("float32")
        random *= (epsilon / np.linalg.norm(random, axis=1))[:, None]
    clean = float(helpers.to_numpy(loss_fn(x)))
    adversarial = float(helpers.to_numpy(loss_fn(x_adv)))
    noisy = float(helpers.to_numpy(loss_fn(x + random)))
    # the increase of the loss is what the attack maximizes; random noise barely moves it
    assert adversarial - clean > 3 * (noisy - clean), (clean, noisy, adversarial)


def test_adversarial_inside_compiled_fit():
    """The attack runs inside each backend's train step, where the model passes its loss."""

    class AdversarialModel(keras.Model):
        def __init__(self):
            super().__init__()
            self.attack = layers.AdversarialNoise(epsilon=0.05)
            self.net = keras.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.Dense(6)])

        def call(self, x, training=False):
            x_adv = self.attack(
                x, training=training, loss_fn=lambda v: keras.ops.mean(keras.ops.square(self.net(v) - x))
            )
            return self.net(x_adv)

    model = AdversarialModel()
    x = helpers.random_inputs((32, 6))
    model.compile(optimizer="adam", loss="mse", jit_compile=helpers.xla_for_tests())
    history = model.fit(x, x, epochs=3, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
