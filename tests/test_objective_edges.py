"""The objectives' edge cases that used to give a wrong result without a word."""

import warnings

import keras
import numpy as np
import pytest

import keras_dae
from keras_dae import layers, models, networks
from keras_dae.models import sampling
from keras_dae.models.stacked import layer_corruption
from tests.helpers import backend, random_inputs, to_numpy

N = 16


def data(seed=0):
    return random_inputs((N, 8, 8, 1), seed=seed)


def conv(conditioning=None, output="linear"):
    return networks.conv_dae((8, 8, 1), filters=(4,), output_activation=output,
                             sigma_conditioning=conditioning, embedding_dim=8)


def test_compose_draws_from_the_generator_it_is_given():
    compose = layers.Compose([layers.MaskingNoise(0.3, seed=1), layers.AdditiveGaussian(sigma=0.1, seed=2)])
    x = data()
    states = [to_numpy(c.seed_generator.state) for c in [compose, *compose.corruptions]]
    a, _ = compose.corrupt_with(x, keras.random.SeedGenerator(7))
    b, _ = compose.corrupt_with(x, keras.random.SeedGenerator(7))
    np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    for layer, state in zip([compose, *compose.corruptions], states):  # training stream untouched
        np.testing.assert_array_equal(to_numpy(layer.seed_generator.state), state)
    np.testing.assert_array_equal(to_numpy(compose.corrupt(x, seed=3)), to_numpy(compose.corrupt(x, seed=3)))


def test_evaluate_with_a_composed_corruption_is_reproducible():
    compose = layers.Compose([layers.MaskingNoise(0.3, seed=1), layers.AdditiveGaussian(sigma=0.1, seed=2)])
    model = models.DAE(conv(output="sigmoid"), compose)
    model.compile(optimizer="adam")
    x = data()
    results = [model.evaluate(x, batch_size=8, verbose=0) for _ in range(3)]
    assert results[0] == results[1] == results[2]


def test_sampling_with_a_composed_corruption_is_reproducible():
    compose = layers.Compose([layers.MaskingNoise(0.3, seed=1), layers.AdditiveGaussian(sigma=0.1, seed=2)])
    model = models.DAE(conv(output="sigmoid"), compose)
    states = [to_numpy(c.seed_generator.state) for c in compose.corruptions]
    first = model.sample(3, steps=4, seed=5)
    np.testing.assert_array_equal(first, model.sample(3, steps=4, seed=5))
    assert not np.array_equal(first, model.sample(3, steps=4, seed=6))
    for layer, state in zip(compose.corruptions, states):  # the training stream is untouched
        np.testing.assert_array_equal(to_numpy(layer.seed_generator.state), state)


@pytest.mark.parametrize("cls", [models.ResidualDAE, models.ScoreDAE])
def test_conditioned_pairs_without_sigma_are_refused(cls):
    model = cls(conv("film"), layers.AdditiveGaussian(sigma_range=(0.05, 0.5)))
    model.compile(optimizer="adam")
    x = data()
    with pytest.raises(ValueError, match=r"fit\(\[x_noisy, sigma\], x_clean\)"):
        model.fit(x + 0.1, x, epochs=1, verbose=0)
    # the right form trains, and the model still works after the refusal
    history = model.fit([x + 0.1, np.full((N,), 0.1, "float32")], x, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_a_conditioned_model_is_never_fed_sigma_outside_its_range_without_a_warning():
    model = models.ResidualDAE(conv("film"), layers.AdditiveGaussian(sigma_range=(0.05, 0.5)))
    x = data()
    mask = np.zeros_like(x)
    mask[:, 2:5, 2:5] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # inpaint's default σ is the lowest trained one: no warning
        filled = model.inpaint(x, mask)
        model.denoise(x, sigma=0.05)
    assert np.all(np.isfinite(filled))
    with pytest.warns(UserWarning, match=r"trained for σ in \[0.05, 0.5\]"):
        model.denoise(x, sigma=0.0)


@pytest.mark.parametrize("corruption", [
    layers.MaskingNoise(0.3),
    layers.AdditiveGaussian(sigma=0.1, clip=(0.0, 1.0)),
    layers.Compose([layers.MaskingNoise(0.3), layers.AdditiveGaussian(sigma=0.1)]),
])
def test_noise_prediction_refuses_corruptions_without_a_unit_noise_target(corruption):
    with pytest.raises(ValueError, match="use DAE"):
        models.ResidualDAE(conv("film"), corruption)
    models.ResidualDAE(conv(None), corruption)  # blind: x̃ − x is defined for any corruption


def test_bce_loss_is_finite_under_mixed_float16():
    keras.config.set_dtype_policy("mixed_float16")
    net = conv(output="sigmoid")
    out = net.get_layer("output")
    kernel, bias = out.get_weights()
    out.set_weights([kernel, np.full_like(bias, 30.0)])  # float16 sigmoid rounds to exactly 1
    model = models.DAE(net, layers.MaskingNoise(0.2, seed=0), loss="bce")
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    loss = model.evaluate(data(), verbose=0)
    assert np.isfinite(loss)


def test_fit_x_x_corrupts_like_fit_x():
    def loss_of(*args):
        keras_dae.set_random_seed(0)
        model = models.DAE(conv(output="sigmoid"), layers.AdditiveGaussian(sigma=0.3, seed=4))
        model.compile(optimizer=keras.optimizers.SGD(0.0))
        return model.fit(*args, batch_size=N, epochs=1, verbose=0, shuffle=False).history["loss"][0]

    x = data()
    assert loss_of(x, x) == loss_of(x)
    assert abs(loss_of(x.copy(), x) - loss_of(x)) > 1e-4  # two arrays: pairs, no corruption


def _pairs_generator(noisy, clean, epochs):
    for _ in range(epochs):
        yield noisy, clean


class _Pairs(keras.utils.PyDataset):
    def __init__(self, noisy, clean):
        super().__init__()
        self.noisy, self.clean = noisy, clean

    def __len__(self):
        return 1

    def __getitem__(self, i):
        return self.noisy, self.clean


@pytest.mark.parametrize("kind", ["generator", "pydataset", "dataloader"])
def test_pairs_are_recognised_in_every_data_type(kind):
    clean = data()
    noisy = clean + 0.2 * np.random.default_rng(1).standard_normal(clean.shape).astype("float32")
    if kind == "generator":
        source = _pairs_generator(noisy, clean, 2)
    elif kind == "pydataset":
        source = _Pairs(noisy, clean)
    else:
        if backend() != "torch":
            pytest.skip("a torch DataLoader feeds the torch backend")
        import torch

        source = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(torch.from_numpy(noisy), torch.from_numpy(clean)), batch_size=N)
    model = models.DAE(conv(output="sigmoid"), layers.AdditiveGaussian(sigma=0.3, seed=0))
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    kwargs = {"steps_per_epoch": 1} if kind == "generator" else {}
    loss = model.fit(source, epochs=2, verbose=0, **kwargs).history["loss"]
    expected = float(np.mean((to_numpy(model.network(noisy)) - clean) ** 2))
    np.testing.assert_allclose(loss, [expected, expected], rtol=1e-5)


class _CountCalls(keras.layers.Layer):
    calls = 0

    def call(self, x):
        _CountCalls.calls += 1
        return x


def test_evaluate_runs_the_network_once_per_batch():
    inputs = keras.Input((8, 8, 1))
    net = keras.Model(inputs, conv(output="sigmoid")(_CountCalls()(inputs)))
    model = models.DAE(net, layers.AdditiveGaussian(sigma=0.2, seed=0))
    model.compile(optimizer="adam", metrics=["mae"], run_eagerly=True)
    counts = []
    model.evaluate(data(), batch_size=8, verbose=0)  # builds what it builds on first use
    for batch_size in (8, 4):  # 2 batches, then 4
        _CountCalls.calls = 0
        model.evaluate(data(), batch_size=batch_size, verbose=0)
        counts.append(_CountCalls.calls)
    assert counts[1] - counts[0] == 2  # one forward pass per extra batch (it was two)
    assert not hasattr(model, "_eval_stash")


def test_stacked_layers_draw_their_own_masks():
    base = layers.MaskingNoise(0.25, seed=0)
    x = np.ones((64, 1000), "float32")
    masks = [to_numpy(layer_corruption(base, k).corrupt_with(x, layer_corruption(base, k).seed_generator)[0])
             for k in (2, 3)]
    assert not np.array_equal(masks[0], masks[1])


def test_every_objective_samples_with_the_same_arguments():
    dae = models.DAE(conv(output="sigmoid"), layers.AdditiveGaussian(sigma=0.2, seed=0))
    score = models.ScoreDAE(conv("film"), layers.AdditiveGaussian(sigma_range=(0.05, 0.5),
                                                                 sigma_distribution="log_uniform"))
    for model in (dae, score):
        first = model.sample(3, steps=4, seed=1)
        assert first.shape == (3, 8, 8, 1) and np.all(np.isfinite(first))
        np.testing.assert_array_equal(first, model.sample(3, steps=4, seed=1))


def test_score_sampling_never_takes_a_numpy_view_of_a_backend_tensor(monkeypatch):
    """A tensor on a GPU has no NumPy view (`np.asarray` raises for a CUDA torch tensor):
    backend tensors must leave through `keras.ops.convert_to_numpy`. Stand-in on the CPU:
    `np.asarray` refuses backend tensors and variables."""
    score = models.ScoreDAE(conv("film"), layers.AdditiveGaussian(sigma_range=(0.05, 0.5),
                                                                 sigma_distribution="log_uniform"))
    asarray = np.asarray

    def no_view(a, *args, **kwargs):
        if keras.ops.is_tensor(a) or isinstance(a, keras.Variable):
            raise TypeError(f"a {type(a).__name__} on a device has no NumPy view")
        return asarray(a, *args, **kwargs)

    monkeypatch.setattr(np, "asarray", no_view)
    out = score.sample(2, steps=4, seed=1)
    assert out.shape == (2, 8, 8, 1) and np.all(np.isfinite(out))


@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
def test_training_from_sigma_1e3_to_5_stays_finite(policy):
    keras.config.set_dtype_policy(policy)
    model = models.ResidualDAE(conv("film"), layers.AdditiveGaussian(
        sigma_range=(1e-3, 5.0), sigma_distribution="log_uniform", seed=0))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(data(), batch_size=8, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    embedding = model.network.get_layer("sigma_sinusoidal")(np.array([1e-3, 5.0], "float32"))
    assert np.all(np.isfinite(to_numpy(embedding)))


def test_flat_images_denoise_to_finite_values_in_range():
    model = keras_dae.load("unet-mnist-gauss")
    flat = np.stack([np.zeros((28, 28, 1)), np.ones((28, 28, 1))]).astype("float32")
    for out in (model.denoise(flat, sigma=0.1), model.denoise(flat)):
        assert np.all(np.isfinite(out)) and out.min() > -0.5 and out.max() < 1.5


def conditioned_gaussian(**kwargs):
    return models.ResidualDAE(conv("film"), layers.AdditiveGaussian(sigma_range=(0.05, 0.5), seed=0), **kwargs)


def test_a_sigma_conditioned_gaussian_denoiser_samples_by_langevin_with_its_settings(tmp_path):
    model = conditioned_gaussian(sampling={"levels": 3, "steps_per_sigma": 2, "step_size": 1e-3})
    assert model.samples_by_langevin
    np.testing.assert_allclose(model.default_sigmas(), [0.5, np.sqrt(0.5 * 0.05), 0.05], rtol=1e-5)
    out = model.sample(3, seed=1)
    score = lambda x, s: model._score_batch(to_numpy(x), s)  # noqa: E731
    direct = sampling.annealed_langevin(score, (3, 8, 8, 1), model.default_sigmas(), steps_per_sigma=2,
                                        step_size=1e-3, seed=1)
    np.testing.assert_allclose(out, np.clip(direct, 0.0, 1.0), atol=1e-6)  # in the value range
    assert not np.allclose(out, model.sample(3, seed=1, sampler="walkback"))
    np.testing.assert_allclose(out, model.sample(3, seed=1, steps=6, sampler="langevin"), atol=1e-6)
    # the settings travel with the model
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.sampling == model.sampling
    np.testing.assert_allclose(loaded.sample(3, seed=1), out, atol=1e-5)


def test_sampling_settings_and_sampler_refusals():
    model = conditioned_gaussian()
    with pytest.raises(ValueError, match="unknown keys \\['levls'\\]"):
        model.sampling = {"levls": 3}
    with pytest.raises(ValueError, match="`sampler` must be one of"):
        model.sample(2, steps=2, sampler="gibbs")
    with pytest.raises(ValueError, match="walkback sampler only"):
        model.sample(2, steps=2, return_chain=True)
    blind = models.DAE(conv(output="sigmoid"), layers.AdditiveGaussian(sigma=0.2, seed=0))
    assert not blind.samples_by_langevin
    with pytest.raises(ValueError, match="whose network takes no σ"):
        blind.sample(2, steps=2, sampler="langevin")
    samples, chain = blind.sample(2, steps=3, return_chain=True)  # walkback, as before
    assert chain.shape == (3, 2, 8, 8, 1)
    any_size = models.ResidualDAE(networks.conv_dae((None, None, 1), filters=(4,), sigma_conditioning="film",
                                                    embedding_dim=8), layers.AdditiveGaussian(sigma_range=(0.05, 0.5)))
    with pytest.raises(ValueError, match="pass `x_init`"):
        any_size.sample(2, steps=2)
    assert any_size.sample(2, steps=2, x_init=np.zeros((2, 6, 10, 1), "float32")).shape == (2, 6, 10, 1)
