"""The moving average of the weights (the optimizer's `use_ema`): validation measures it,
`fit` ends with it, and swapping it in for a measurement leaves the training untouched."""

import keras
import numpy as np
import pytest

import keras_dae
from keras_dae import layers, models, networks
from keras_dae.callbacks import EvaluateWithEMA, ValidationPSNR, ema_weights
from tests.helpers import to_numpy


def _model(momentum=0.9):
    net = networks.conv_dae((8, 8, 1), filters=(4,))
    model = models.DAE(net, layers.AdditiveGaussian(sigma=0.2, seed=0))
    model.compile(optimizer=keras.optimizers.Adam(1e-2, use_ema=momentum is not None,
                                                  ema_momentum=momentum or 0.99))
    return model


def _data(n=64, seed=0):
    return np.random.default_rng(seed).random((n, 8, 8, 1)).astype("float32")


def _weights(model):
    return [to_numpy(v) for v in model.trainable_variables]


class _Snapshot(keras.callbacks.Callback):
    """The trained weights and the averages at the end of each epoch."""

    def on_epoch_end(self, epoch, logs=None):
        self.trained = _weights(self.model)
        self.averages = [to_numpy(a) for a in self.model.optimizer._model_variables_moving_average]


def test_validation_measures_the_average_and_fit_ends_with_it():
    keras_dae.set_random_seed(0)
    model, x, x_val = _model(), _data(), _data(16, seed=1)
    psnr, snapshot = ValidationPSNR(x_val, (0.2,), seed=1), _Snapshot()
    history = model.fit(x, validation_data=(x_val,), epochs=2, batch_size=16, verbose=0,
                        callbacks=[EvaluateWithEMA(), psnr, snapshot]).history

    # The average differs from the trained weights, so the checks below can tell them apart.
    assert max(np.abs(t - a).max() for t, a in zip(snapshot.trained, snapshot.averages)) > 1e-3
    # `fit` ends with the average in the model (Keras' finalize), and the epoch's validation
    # figures are those of that average.
    for w, a in zip(_weights(model), snapshot.averages):
        np.testing.assert_allclose(w, a, rtol=0, atol=1e-7)
    again = ValidationPSNR(x_val, (0.2,), seed=1)
    again.set_model(model)
    logs = {}
    again.on_epoch_end(1, logs)
    assert logs["val_psnr@sigma=0.2"] == pytest.approx(history["val_psnr@sigma=0.2"][-1], abs=1e-4)
    assert model.evaluate(x_val, verbose=0) == pytest.approx(history["val_loss"][-1], rel=1e-5)


def test_measuring_the_average_leaves_the_trained_weights_in_place():
    model = _model()
    model.fit(_data(), epochs=1, batch_size=16, verbose=0, callbacks=[_Snapshot()])
    model.optimizer.finalize_variable_values = lambda variables: None  # not needed below
    trained = _weights(model)
    averages = [to_numpy(a) for a in model.optimizer._model_variables_moving_average]
    with ema_weights(model):
        for w, a in zip(_weights(model), averages):
            np.testing.assert_array_equal(w, a)
    for w, t in zip(_weights(model), trained):
        np.testing.assert_array_equal(w, t)
    with pytest.raises(RuntimeError), ema_weights(model):
        raise RuntimeError("a failed measurement")
    for w, t in zip(_weights(model), trained):
        np.testing.assert_array_equal(w, t)


def test_without_an_average_nothing_changes():
    model = _model(momentum=None)
    model.fit(_data(), epochs=1, batch_size=16, verbose=0)
    before = _weights(model)
    with ema_weights(model):
        for w, b in zip(_weights(model), before):
            np.testing.assert_array_equal(w, b)


@pytest.mark.parametrize("momentum", [0.9, None])
def test_validation_also_logs_the_trained_weights_beside_their_average(momentum):
    keras_dae.set_random_seed(0)
    model, x, x_val = _model(momentum), _data(), _data(16, seed=1)
    psnr, snapshot = ValidationPSNR(x_val, (0.2,), seed=1), _Snapshot() if momentum else None
    history = model.fit(x, epochs=2, batch_size=16, verbose=0,
                        callbacks=[psnr] + ([snapshot] if snapshot else [])).history
    if momentum is None:  # no average: one figure, that of the trained weights
        assert "val_raw_psnr@sigma=0.2" not in history
        return
    for variable, trained in zip(model.trainable_variables, snapshot.trained):
        variable.assign(trained)  # `fit` ended with the average; put the trained weights back
    raw = psnr._psnr(psnr.noisy[0.2], 0.2)
    assert history["val_raw_psnr@sigma=0.2"][-1] == pytest.approx(raw, abs=1e-4)
    assert abs(history["val_raw_psnr@sigma=0.2"][-1] - history["val_psnr@sigma=0.2"][-1]) > 1e-3


def test_the_model_trains_again_after_a_fit_with_an_average_and_a_prediction():
    """On JAX, `fit` used to leave the averages sharing buffers with the weights, which the
    next `predict` deleted, so a second `fit` (a second stage) failed
    (docs/upstream/jax_ema_shared_buffers.py)."""
    model, x = _model(), _data()
    model.fit(x, epochs=1, batch_size=16, verbose=0)
    model.denoise(x[:4])
    averages = [to_numpy(a) for a in model.optimizer._model_variables_moving_average]
    assert all(np.all(np.isfinite(a)) for a in averages)
    history = model.fit(x, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"][0])
