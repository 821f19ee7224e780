"""Samplers on distributions whose score is known exactly."""

import keras
import numpy as np
import pytest

import keras_dae
from keras_dae import layers
from keras_dae.models import sampling

MEAN = np.array([1.0, -0.5])
COV = np.array([[0.5, 0.2], [0.2, 0.3]])


def gaussian_score(x, sigma):
    """∇ log N(MEAN, COV + σ²I)."""
    x = np.asarray(x)
    prec = np.linalg.inv(COV + float(np.mean(sigma)) ** 2 * np.eye(2))
    return ((MEAN - x) @ prec).astype("float32")


def test_geometric_sigmas():
    sigmas = sampling.geometric_sigmas(1.0, 0.01, 5)
    np.testing.assert_allclose(sigmas, [1.0, 0.316228, 0.1, 0.0316228, 0.01], rtol=1e-5)
    with pytest.raises(ValueError, match="sigma_min"):
        sampling.geometric_sigmas(0.1, 1.0, 3)


def test_annealed_langevin_samples_a_gaussian():
    samples = sampling.annealed_langevin(
        gaussian_score, (4000, 2), sampling.geometric_sigmas(3.0, 0.05, 6), steps_per_sigma=60,
        step_size=5e-3, seed=0, value_range=(-3.0, 3.0), denoise_final=False,
    )
    assert np.linalg.norm(samples.mean(0) - MEAN) < 0.05
    target = COV + 0.05**2 * np.eye(2)
    assert np.linalg.norm(np.cov(samples.T) - target) / np.linalg.norm(target) < 0.08


def test_annealed_langevin_is_seeded():
    run = lambda seed: sampling.annealed_langevin(  # noqa: E731
        gaussian_score, (8, 2), [1.0, 0.1], steps_per_sigma=3, seed=seed, value_range=(-1, 1))
    np.testing.assert_array_equal(run(0), run(0))
    assert not np.allclose(run(0), run(1))


def test_gsn_chain_with_the_bayes_denoiser():
    """With the exact posterior mean of N(MEAN, COV) under N(0, σ²) noise the chain
    contracts to the mean: each step maps the spread by the Wiener gain."""
    sigma = 0.3
    gain = COV @ np.linalg.inv(COV + sigma**2 * np.eye(2))
    denoise = lambda v, s: ((np.asarray(v) - MEAN) @ gain.T + MEAN).astype("float32")  # noqa: E731
    corruption = layers.AdditiveGaussian(sigma=sigma)
    samples, chain = sampling.gsn_chain(denoise, corruption, (2000, 2), steps=30, seed=0,
                                        value_range=(-2.0, 2.0), return_chain=True)
    assert chain.shape == (30, 2000, 2)
    assert np.linalg.norm(samples.mean(0) - MEAN) < 0.05
    np.testing.assert_array_equal(
        samples, sampling.gsn_chain(denoise, corruption, (2000, 2), steps=30, seed=0, value_range=(-2.0, 2.0)))
    with pytest.raises(ValueError, match="steps"):
        sampling.gsn_chain(denoise, corruption, (2, 2), steps=0)


def test_sampling_runs_on_backend_tensors():
    x = sampling.annealed_langevin(lambda v, s: -keras.ops.convert_to_numpy(v), (3, 4), [0.5],
                                   steps_per_sigma=2, seed=0)
    assert x.shape == (3, 4) and x.dtype == np.float32


def test_frechet_distance_of_gaussians_is_the_closed_form():
    from keras_dae.evaluation.sample_quality import frechet_distance

    rng = np.random.default_rng(0)
    a = rng.normal(size=(20000, 3))
    b = rng.normal(size=(20000, 3)) * 2.0 + np.array([1.0, 0.0, -1.0])
    # ‖μ₁ − μ₂‖² + tr(I + 4I − 2·2I) = 2 + 3
    assert abs(frechet_distance(a, b) - 5.0) < 0.15
    assert frechet_distance(a, a) < 1e-6
    with pytest.raises(ValueError, match="features_b"):
        frechet_distance(a, b[:1])
    with pytest.raises(ValueError, match="feature sizes differ"):
        frechet_distance(a, b[:, :2])


def test_sample_quality_reads_the_named_layer_of_a_classifier():
    from keras_dae.evaluation.sample_quality import SampleQuality

    keras_dae.set_random_seed(0)
    inputs = keras.Input((6, 6, 1))
    h = keras.layers.Dense(5, activation="sigmoid", name="features")(keras.layers.Flatten()(inputs))
    classifier = keras.Model(inputs, keras.layers.Dense(3)(h))
    quality = SampleQuality(classifier, feature_layer="features", batch_size=7)
    x = np.random.default_rng(1).uniform(size=(20, 6, 6, 1)).astype("float32")
    features = quality.features(x)
    assert features.shape == (20, 5) and np.all((features > 0) & (features < 1))
    hist = quality.class_histogram(x[..., 0])  # a batch without the channel axis is accepted
    assert hist.shape == (3,) and np.isclose(hist.sum(), 1.0)
    logits = keras.ops.convert_to_numpy(classifier(x))
    np.testing.assert_allclose(hist, np.bincount(logits.argmax(-1), minlength=3) / 20)
    with pytest.raises(ValueError, match="non-empty batch of images"):
        quality.features(np.zeros((0, 6, 6, 1)))
