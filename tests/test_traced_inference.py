"""`predict` through traced graphs on torch (`keras_dae.backend.TracedInference`): the
same outputs as Keras' eager call, current weights after training, a graph per input
signature, and eager calls wherever a model does not trace. On JAX and TensorFlow it steps
aside (`predict_step` is compiled there), and the same tests check `predict` as it is."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_dae import backend, layers, models, networks

TORCH = keras.backend.backend() == "torch"


def eager(model, inputs, monkeypatch):
    with monkeypatch.context() as m:
        m.setenv(backend.TRACED_INFERENCE_ENV, "0")
        return model.predict_on_batch(inputs)


def graphs(model):
    traced = model.__dict__.get("_traced_inference")
    return [] if traced is None else [g for g in traced._graphs.values() if g is not None and g is not backend._SEEN]


@pytest.fixture
def dncnn():
    net = networks.dncnn(channels=1, depth=4, filters=8, sigma_conditioning="film", embedding_dim=16)
    return models.ResidualDAE(net, layers.AdditiveGaussian(sigma_range=(0.0, 0.2), seed=0))


def test_dncnn_predicts_the_same_through_the_graph(dncnn, rng, monkeypatch):
    x = rng.random((2, 20, 24, 1)).astype("float32")
    inputs = [x, np.array([0.05, 0.1], "float32")]
    outputs = [dncnn.predict_on_batch(inputs) for _ in range(3)]
    assert len(graphs(dncnn)) == (1 if TORCH else 0)  # traced at the second call
    want = eager(dncnn, inputs, monkeypatch)
    for out in outputs:
        np.testing.assert_allclose(out, want, atol=1e-6)
    # `predict` batches through the same step: a graph for its batch shape, the last batch its own
    np.testing.assert_allclose(dncnn.predict(inputs, batch_size=1, verbose=0), want, atol=1e-6)


def test_unet_and_mlp_predict_the_same_through_the_graph(rng, monkeypatch):
    unet = models.DAE(networks.unet((16, 16, 1), widths=(8, 16), embedding_dim=16, groups=4),
                      layers.AdditiveGaussian(sigma_range=(0.05, 0.5), seed=0))
    mlp = models.DAE(networks.mlp((12, 8, 4)), layers.MaskingNoise(0.3, seed=0))
    cases = [(unet, [rng.random((3, 16, 16, 1)).astype("float32"), np.full(3, 0.2, "float32")]),
             (mlp, rng.random((5, 12)).astype("float32"))]
    for model, inputs in cases:
        first, second, third = (model.predict_on_batch(inputs) for _ in range(3))
        want = eager(model, inputs, monkeypatch)
        for out in (first, second, third):
            np.testing.assert_allclose(out, want, atol=1e-5)
        assert len(graphs(model)) == (1 if TORCH else 0)


def test_the_graph_reads_the_weights_of_each_call(dncnn, rng, monkeypatch):
    x = rng.random((4, 12, 12, 1)).astype("float32")
    inputs = [x, np.full(4, 0.1, "float32")]
    before = [dncnn.predict_on_batch(inputs) for _ in range(2)][-1]
    dncnn.compile(optimizer=keras.optimizers.Adam(1e-2))
    dncnn.fit(x, epochs=2, batch_size=4, verbose=0)
    after = dncnn.predict_on_batch(inputs)
    assert np.abs(after - before).max() > 1e-3  # training moved the outputs ...
    np.testing.assert_allclose(after, eager(dncnn, inputs, monkeypatch), atol=1e-6)  # ... and the graph saw it
    dncnn.set_weights([np.zeros_like(w) for w in dncnn.get_weights()])
    np.testing.assert_allclose(dncnn.predict_on_batch(inputs), x, atol=1e-6)  # ε̂ = 0: the input back


def test_a_graph_per_signature_and_the_oldest_dropped(dncnn, rng):
    sigma = lambda n: np.full(n, 0.1, "float32")  # noqa: E731
    shapes = [(1, 8, 8), (1, 8, 10), (2, 8, 8)]
    for shape in shapes:
        for _ in range(2):
            dncnn.predict_on_batch([rng.random(shape + (1,)).astype("float32"), sigma(shape[0])])
    assert len(graphs(dncnn)) == (3 if TORCH else 0)
    if TORCH:
        traced = dncnn._traced_inference
        traced.capacity = 2
        dncnn.predict_on_batch([rng.random((1, 9, 9, 1)).astype("float32"), sigma(1)])  # seen once: remembered
        assert len(traced._graphs) == 2 and len(graphs(dncnn)) == 1


@keras.saving.register_keras_serializable(package="tests")
class BranchOnValues(keras.layers.Layer):
    """Python control flow on the values: no graph can stand for it."""

    def call(self, x):
        return x * 2.0 if float(ops.convert_to_numpy(ops.max(x))) > 0.5 else x - 1.0


@pytest.mark.skipif(not TORCH, reason="JAX and TensorFlow compile every model: no Python reads a value")
def test_a_model_that_does_not_trace_stays_eager(rng, monkeypatch):
    inputs = keras.Input((4,))
    net = keras.Model(inputs, BranchOnValues()(keras.layers.Dense(4, kernel_initializer="identity")(inputs)))
    model = models.DAE(net, layers.MaskingNoise(0.1, seed=0), loss="mse")
    low, high = np.full((2, 4), 0.1, "float32"), np.full((2, 4), 0.9, "float32")
    for _ in range(3):
        np.testing.assert_allclose(model.predict_on_batch(low), low - 1.0, atol=1e-6)
        np.testing.assert_allclose(model.predict_on_batch(high), high * 2.0, atol=1e-6)
    assert graphs(model) == []
