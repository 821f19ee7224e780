"""The objectives: serialization, training behaviour on every backend, the user API."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_dae import layers, models, networks
from keras_dae.callbacks import NoiseSchedule
from tests.helpers import assert_saved_model_roundtrip, backend, jit_for_tests, to_numpy

N, DIM = 32, 16


def data(seed=0, n=N):
    """Vectors in (0.2, 0.8) near a 2-D manifold, so denoising is learnable in a few steps."""
    rng = np.random.default_rng(seed)
    mixing = np.random.default_rng(99).standard_normal((2, DIM))
    return (0.5 + 0.3 * np.tanh(rng.standard_normal((n, 2)) @ mixing)).astype("float32")


def mlp(conditioned, output="linear"):
    return networks.mlp((DIM, 12, 6), activation="relu", output_activation=output,
                        sigma_conditioning="film" if conditioned else None, embedding_dim=8)


def build(name, cls=None):
    """A tiny model of each kind: (model, σ-conditioned?)."""
    gauss = lambda: layers.AdditiveGaussian(sigma=0.2, seed=1)  # noqa: E731
    ranged = lambda: layers.AdditiveGaussian(sigma_range=(0.05, 0.3), seed=1)  # noqa: E731
    if name == "dae":
        return (cls or models.DAE)(mlp(False, "sigmoid"), gauss()), False
    if name == "dae-bce-masking":
        return (cls or models.DAE)(mlp(False, "sigmoid"), layers.MaskingNoise(0.3, seed=1), loss="bce",
                                   alpha=1.0, beta=0.5), False
    if name == "residual-blind":
        return (cls or models.ResidualDAE)(mlp(False), gauss()), False
    if name == "residual-conditioned":
        return (cls or models.ResidualDAE)(mlp(True), ranged()), True
    if name == "score":
        return (cls or models.ScoreDAE)(mlp(True), layers.AdditiveGaussian(
            sigma_range=(0.02, 1.0), sigma_distribution="log_uniform", seed=1)), True
    if name == "walkback":
        return (cls or models.WalkbackDAE)(mlp(False, "sigmoid"), gauss(), steps=2), False
    if name == "stacked":
        return (cls or models.StackedDAE)((DIM, 12, 8), corruption=layers.MaskingNoise(0.25, seed=1)), False
    raise ValueError(name)


NAMES = ["dae", "dae-bce-masking", "residual-blind", "residual-conditioned", "score", "walkback", "stacked"]


def inputs_for(x, conditioned, sigma=0.1):
    return [x, np.full((len(x),), sigma, "float32")] if conditioned else x


def compiled(model, lr=1e-2, jit_compile="auto", **kwargs):
    """Compiles with Adam; Keras' default compile unless asked (the tests of in-step behaviour
    ask for `jit_for_tests()`)."""
    model.compile(optimizer=keras.optimizers.Adam(lr), jit_compile=jit_compile, **kwargs)
    return model


@pytest.mark.parametrize("name", NAMES)
def test_saved_model_roundtrip_and_other_backend(name, tmp_path):
    model, conditioned = build(name)
    compiled(model).fit(data(), epochs=1, verbose=0)
    reloaded = assert_saved_model_roundtrip(model, inputs_for(data(1), conditioned), tmp_path)
    assert type(reloaded) is type(model)
    # A second load of the same file in the same process: it failed now and then, on torch
    # and once on JAX ("expected 2 variables, but received 0"), while `encoder` and
    # `decoder` built a new model at each access (test_loading_keeps_alive_what_it_visits).
    again = keras.saving.load_model(tmp_path / "model.keras")
    for a, b in zip(reloaded.weights, again.weights):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    strip = lambda config: {k: v for k, v in config.items() if k != "network"}  # noqa: E731
    assert strip(reloaded.get_config()) == strip(model.get_config())


@pytest.mark.parametrize("name", NAMES)
def test_loading_keeps_alive_what_it_visits(name, tmp_path, monkeypatch):
    # Keras' loader walks every attribute, properties included, and skips objects whose
    # `id()` it has visited. An object it visits that then dies (a model built afresh by
    # a property) leaves its id behind for a later one to take, which is then skipped and
    # left unloaded (docs/upstream/saving_transient_ids.py). So none may die.
    import gc
    import weakref

    from keras.src.saving import saving_lib

    model, conditioned = build(name)
    model(inputs_for(data(2), conditioned))
    model.save(tmp_path / "model.keras")
    visited = []
    load_state = saving_lib._load_state

    def recording(saveable, *args, **kwargs):
        visited.append((weakref.ref(saveable), type(saveable).__name__))
        return load_state(saveable, *args, **kwargs)

    monkeypatch.setattr(saving_lib, "_load_state", recording)
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    gc.collect()
    assert len(visited) > 3
    assert [kind for ref, kind in visited if ref() is None] == []
    assert loaded.encoder is loaded.encoder and loaded.decoder is loaded.decoder


@pytest.mark.parametrize("name", NAMES)
def test_fit_loss_falls(name):
    # Measured by `evaluate` (a fixed corruption): the training loss of the σ-sampling
    # objectives jumps with each batch's draw of σ.
    model, _ = build(name)
    compiled(model, lr=1e-2)
    held_out = data(seed=7, n=512)
    before = model.evaluate(held_out, batch_size=512, verbose=0)
    history = model.fit(data(n=128), epochs=10, batch_size=32, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert model.evaluate(held_out, batch_size=512, verbose=0) < before


@pytest.mark.parametrize("name", ["dae", "residual-conditioned", "stacked"])
def test_encoder_under_a_supervised_head(name):
    model, _ = build(name)
    labels = np.random.default_rng(0).integers(0, 3, N)
    before = to_numpy(model.network.get_layer("encoder_1").weights[0])
    classifier = keras.Sequential([model.encoder, keras.layers.Dense(3)])
    classifier.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=jit_for_tests(),
                       loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = classifier.fit(data(), labels, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.encoder(data()).shape == (N, model.spatial_encoder(data()).shape[-1])
    # the classifier fine-tunes the model's own encoder weights (shared, not copied)
    assert not np.allclose(before, to_numpy(model.network.get_layer("encoder_1").weights[0]))


def recording(cls):
    """`cls` plus variables keeping the last corrupted batch and its mean σ."""

    class Recording(cls):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.last_x_tilde = self.add_weight(shape=(N, DIM), initializer="zeros", trainable=False)
            self.last_sigma = self.add_weight(shape=(), initializer="zeros", trainable=False)

        def _corrupted_outputs(self, x, seed_generator):
            outputs = super()._corrupted_outputs(x, seed_generator)
            self.last_x_tilde.assign(outputs["x_tilde"])
            self.last_sigma.assign(ops.mean(outputs["sigma"]))
            return outputs

    return Recording


def record(model, x, epochs, callbacks=(), **fit_kwargs):
    draws, sigmas = [], []
    log = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: (
        draws.append(to_numpy(model.last_x_tilde)), sigmas.append(float(to_numpy(model.last_sigma)))))
    model.fit(x, epochs=epochs, batch_size=N, shuffle=False, verbose=0,
              callbacks=[*callbacks, log], **fit_kwargs)
    return np.stack(draws), np.array(sigmas)


@pytest.mark.parametrize("name", ["dae", "walkback"])
def test_corruption_is_fresh_each_step_and_seeded(name):
    runs = []
    for _ in range(2):
        model, _ = build(name, cls=recording(type(build(name)[0])))
        draws, _ = record(compiled(model, jit_compile=jit_for_tests()), data(), epochs=3)
        assert not np.allclose(draws[0], draws[1]) and not np.allclose(draws[1], draws[2])
        runs.append(draws)
    np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.parametrize("name", ["dae", "residual-conditioned"])
def test_paired_fit_adds_no_corruption(name):
    model, conditioned = build(name, cls=None)
    model.compile(optimizer=keras.optimizers.SGD(0.0), jit_compile=jit_for_tests())
    clean = data()
    noisy = (clean + 0.1 * np.random.default_rng(5).standard_normal(clean.shape)).astype("float32")
    sigma = np.full((N,), 0.1, "float32")
    inputs = [noisy, sigma] if conditioned else noisy
    loss = model.fit(inputs, clean, batch_size=N, epochs=2, verbose=0).history["loss"]
    raw = to_numpy(model.network(inputs))
    if name == "dae":
        expected = np.mean((raw - clean) ** 2)
    elif conditioned:
        expected = np.mean((raw - (noisy - clean) / 0.1) ** 2)
    else:
        expected = np.mean((raw - (noisy - clean)) ** 2)
    np.testing.assert_allclose(loss, [expected, expected], rtol=1e-5)
    again = model.fit(clean, batch_size=N, epochs=1, verbose=0).history["loss"][0]
    assert abs(again - expected) > 1e-6  # fit(clean) corrupts again


# Noise-predicting objectives: their loss on clean inputs differs clearly from the loss on
# corrupted ones even untrained (an untrained sigmoid DAE outputs ~0.5 either way).
@pytest.mark.parametrize("name", ["residual-blind", "score"])
def test_evaluate_and_validation_use_a_fixed_corruption(name):
    model, conditioned = build(name)
    model.compile(optimizer=keras.optimizers.SGD(0.0), jit_compile=jit_for_tests(), metrics=["mae"])
    x = data()
    history = model.fit(x, epochs=3, batch_size=8, verbose=0, validation_data=(x,))
    val = history.history["val_loss"]
    assert val[0] == val[1] == val[2]
    first, second = model.evaluate(x, batch_size=8, verbose=0), model.evaluate(x, batch_size=8, verbose=0)
    assert first == second
    np.testing.assert_allclose(first[0], val[0], rtol=1e-5)
    # Pairs of two arrays (a copy: the same array twice means clean data, as in fit(x, x)).
    clean_to_clean = model.evaluate(inputs_for(x.copy(), conditioned, 1e-3), x, verbose=0)
    assert abs(clean_to_clean[0] - first[0]) > 1e-3  # evaluate(x) is not clean → clean
    assert model.evaluate(x, x, batch_size=8, verbose=0) == first
    prediction = model.predict(inputs_for(x, conditioned), verbose=0)
    np.testing.assert_array_equal(prediction, model.predict(inputs_for(x, conditioned), verbose=0))


def test_noise_schedule_reaches_the_compiled_step():
    model, _ = build("dae", cls=recording(models.DAE))
    schedule = NoiseSchedule(sigma_start=0.1, sigma_end=0.3, epochs=2)
    _, sigmas = record(compiled(model, jit_compile=jit_for_tests()), data(), epochs=4, callbacks=[schedule])
    np.testing.assert_allclose(sigmas, [0.1, 0.2, 0.3, 0.3], rtol=1e-5)
    ranged = NoiseSchedule(schedule=lambda epoch: (0.3 * epoch, 0.3 * epoch + 0.1))
    model, _ = build("dae", cls=recording(models.DAE))
    _, sigmas = record(compiled(model, jit_compile=jit_for_tests()), data(), epochs=2, callbacks=[ranged])
    assert sigmas[0] < 0.1 and 0.3 < sigmas[1] < 0.4


def test_jit_compile_true():
    name = "residual-conditioned"
    model, _ = build(name)
    history = compiled(model, jit_compile=True).fit(data(), epochs=2, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_denoise_api():
    model, _ = build("dae")
    x = data()
    out = model.denoise(x + 0.2, batch_size=7)
    assert isinstance(out, np.ndarray) and out.shape == x.shape
    np.testing.assert_allclose(out, model.denoise(x + 0.2), atol=1e-6)
    with pytest.raises(ValueError, match=r"x_noisy.*value_range \(0.0, 1.0\).*uint8"):
        model.denoise((x * 255).astype("uint8"))
    with pytest.raises(ValueError, match="value_range"):
        model.denoise(x * 255.0)

    conditioned, _ = build("residual-conditioned")
    sigma_hat = conditioned.estimate_sigma(x)  # blind use: σ estimated per example
    assert sigma_hat.shape == (N,) and np.all(sigma_hat > 0)
    np.testing.assert_allclose(conditioned.denoise(x), conditioned.denoise(x, sigma=sigma_hat), atol=1e-6)
    per_sample = conditioned.denoise(x, sigma=np.linspace(0.05, 0.3, N))
    scalar = conditioned.denoise(x, sigma=0.1)
    assert per_sample.shape == scalar.shape == x.shape
    with pytest.raises(ValueError, match="sigma"):
        conditioned.denoise(x, sigma=np.ones(3))
    with pytest.raises(ValueError, match="sigma"):
        conditioned.predict(x, verbose=0)
    # ε-prediction: the denoiser is x̃ − σ ε̂, the score −ε̂ / σ (Tweedie).
    eps = to_numpy(conditioned.network([x, np.full((N,), 0.1, "float32")]))
    np.testing.assert_allclose(scalar, x - 0.1 * eps, atol=1e-5)
    np.testing.assert_allclose(conditioned.score(x, 0.1), -eps / 0.1, rtol=1e-3, atol=1e-3)


def test_inpaint_keeps_the_known_elements():
    model, _ = build("dae-bce-masking")
    x = data()
    mask = (np.random.default_rng(1).uniform(size=x.shape) < 0.3).astype("float32")
    filled = model.inpaint(x, mask)
    np.testing.assert_array_equal(filled[mask == 0], x[mask == 0])
    np.testing.assert_allclose(filled[mask == 1], model.denoise(x * (1 - mask))[mask == 1], atol=1e-6)
    with pytest.raises(ValueError, match="mask"):
        model.inpaint(x, mask * 0.5)


def test_emphasis_weights_corrupted_elements():
    model = models.DAE(mlp(False, "sigmoid"), layers.MaskingNoise(0.5), alpha=1.0, beta=0.0)
    x = data()
    mask = (np.random.default_rng(1).uniform(size=x.shape) < 0.5).astype("float32")
    x_hat = np.full_like(x, 0.5)
    outputs = {"x_hat": ops.convert_to_tensor(x_hat), "mask": ops.convert_to_tensor(mask)}
    got = to_numpy(model._per_sample_loss(ops.convert_to_tensor(x), outputs))
    np.testing.assert_allclose(got, np.mean(mask * (x_hat - x) ** 2, axis=1), rtol=1e-6)


def test_adversarial_corruption_trains():
    # tanh units: a ReLU net this small can die into a constant map, whose input gradient
    # is exactly zero (and the attack a no-op); that happened on one torch run in CI.
    network = networks.mlp((DIM, 12, 6), activation="tanh", output_activation="sigmoid")
    model = models.DAE(network, layers.AdversarialNoise(epsilon=0.05, steps=2))
    history = compiled(model).fit(data(), epochs=3, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    clean = model.evaluate(data(), data(), verbose=0)
    assert model.evaluate(data(), verbose=0) > clean


def test_stacked_pretraining_then_fine_tuning():
    model, _ = build("stacked")
    x = data(n=64)
    kernels = [to_numpy(model.network.get_layer(f"encoder_{k}").kernel) for k in (1, 2)]
    histories = model.pretrain(x, epochs_per_layer=6, optimizer=lambda: keras.optimizers.Adam(2e-2),
                               batch_size=16)
    assert len(histories) == 2
    for h in histories:
        assert h.history["loss"][-1] < h.history["loss"][0]
    for k, before in zip((1, 2), kernels):
        assert not np.allclose(before, to_numpy(model.network.get_layer(f"encoder_{k}").kernel))
    history = compiled(model).fit(x, epochs=3, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.encoder(x).shape == (64, 8)


def test_walkback_sums_the_steps():
    model, _ = build("walkback")
    x = data()
    outputs = model._corrupted_outputs(ops.convert_to_tensor(x), model.eval_seed_generator)
    assert tuple(outputs["x_hats"].shape) == (2, N, DIM)
    per_step = [np.mean((to_numpy(outputs["x_hats"][k]) - x) ** 2, axis=1) for k in range(2)]
    loss = model._per_sample_loss(ops.convert_to_tensor(x), outputs)
    np.testing.assert_allclose(to_numpy(ops.stop_gradient(loss)), sum(per_step), rtol=1e-5)
    through = models.WalkbackDAE(mlp(False, "sigmoid"), steps=3, stop_gradient_chain=False)
    assert np.isfinite(compiled(through).fit(x, epochs=1, verbose=0).history["loss"][0])


def test_sampling_entry_points():
    dae, _ = build("dae")
    samples, chain = dae.sample(4, steps=3, seed=0, return_chain=True)
    assert samples.shape == (4, DIM) and chain.shape == (3, 4, DIM)
    np.testing.assert_array_equal(samples, dae.sample(4, steps=3, seed=0))
    score, _ = build("score")
    out = score.sample(4, sigmas=[1.0, 0.1], steps_per_sigma=2, seed=0)
    assert out.shape == (4, DIM) and np.all(np.isfinite(out))


def test_argument_errors():
    with pytest.raises(ValueError, match="loss"):
        models.DAE(mlp(False), loss="hinge")
    with pytest.raises(ValueError, match="conditioned"):
        models.ScoreDAE(mlp(False))
    with pytest.raises(ValueError, match="AdditiveGaussian"):
        models.ScoreDAE(mlp(True), layers.MaskingNoise(0.2))
    with pytest.raises(ValueError, match="steps"):
        models.WalkbackDAE(mlp(False), steps=0)
    with pytest.raises(ValueError, match="constructor"):
        models.DAE(mlp(False)).compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="value_range"):
        models.DAE(mlp(False), value_range=(1.0, 0.0))
    assert backend() in ("jax", "tensorflow", "torch")


@pytest.mark.parametrize("weighting, power", [("noise", 0.0), ("output", 2.0), (1, 1.0)])
def test_residual_loss_weighting_multiplies_each_example_by_a_power_of_sigma(weighting, power):
    x = data()
    sigma = np.linspace(0.05, 0.3, N).astype("float32")
    x_tilde = x + sigma[:, None] * np.random.default_rng(2).standard_normal(x.shape).astype("float32")
    model = models.ResidualDAE(mlp(True), layers.AdditiveGaussian(sigma_range=(0.05, 0.3)),
                               loss_weighting=weighting)
    outputs = model._outputs(ops.convert_to_tensor(x_tilde), ops.convert_to_tensor(sigma))
    got = to_numpy(model._per_sample_loss(ops.convert_to_tensor(x), outputs))
    eps_error = np.mean((to_numpy(outputs["raw"]) - (x_tilde - x) / sigma[:, None]) ** 2, axis=1)
    np.testing.assert_allclose(got, sigma ** power * eps_error, rtol=1e-5)
    if weighting == "output":  # σ²||ε̂ − ε||² is the squared error of the denoised output
        np.testing.assert_allclose(got, np.mean((to_numpy(outputs["x_hat"]) - x) ** 2, axis=1), rtol=1e-4)


def test_a_residual_model_weighted_by_sigma_trains_and_saves(tmp_path):
    model = models.ResidualDAE(mlp(True), layers.AdditiveGaussian(sigma_range=(0.05, 0.3), seed=1),
                               loss_weighting="output")
    history = compiled(model).fit(data(), epochs=2, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    reloaded = assert_saved_model_roundtrip(model, inputs_for(data(), True), tmp_path, atol=1e-6)
    assert reloaded.loss_weighting == "output"
    # Changed after a compiled step ran, the weighting reaches the next one (σ ≤ 0.3: the
    # noise's squared error is ≥ 1/0.3² times the output's).
    output_loss = model.evaluate(data(), verbose=0)
    model.loss_weighting = "noise"
    assert model.evaluate(data(), verbose=0) > 10 * output_loss


def test_residual_loss_weighting_errors():
    with pytest.raises(ValueError, match="loss_weighting='x'"):
        models.ResidualDAE(mlp(True), layers.AdditiveGaussian(sigma_range=(0.05, 0.3)), loss_weighting="x")
    with pytest.raises(ValueError, match="blind"):
        models.ResidualDAE(mlp(False), layers.AdditiveGaussian(sigma=0.2), loss_weighting="output")
    model = models.ResidualDAE(mlp(True), layers.AdditiveGaussian(sigma_range=(0.05, 0.3)))
    model.loss_weighting = "output"  # a later stage of a run may change it
    assert model.get_config()["loss_weighting"] == "output" and model._sigma_power == 2.0
    with pytest.raises(ValueError, match="Received: loss_weighting=None"):
        model.loss_weighting = None


def test_fit_builds_the_optimizer_before_the_first_step_and_trains_as_keras_does():
    """keras_dae.backend.build_optimizer: on TensorFlow, Keras would create the optimizer's
    variables inside the first traced step (twice as slow a first `fit`); ours are built
    before it, and the training is Keras' own to the last digit."""
    built = []

    class Probe(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            built.append(self.model.optimizer.built)

    ours, _ = build("dae")
    keras_own, _ = build("dae")
    keras_own.set_weights(ours.get_weights())
    compiled(ours).fit(data(), epochs=2, batch_size=8, shuffle=False, verbose=0, callbacks=[Probe()])
    keras.Model.fit(compiled(keras_own), data(), epochs=2, batch_size=8, shuffle=False, verbose=0)
    assert built == [True]
    for a, b in zip(ours.get_weights(), keras_own.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
