"""`ResidualDAE`: predict the noise, subtract it (§5.3)."""

import keras
from keras import ops

from keras_dae.layers import AdditiveGaussian
from keras_dae.models.base import DAE, _per_sample


_SIGMA_POWERS = {"noise": 0.0, "output": 2.0}


@keras.saving.register_keras_serializable(package="keras_dae")
class ResidualDAE(DAE):
    """A denoiser that predicts the corruption and subtracts it (residual learning, §5.3).

    - σ-conditioned network (`[x, sigma]` in): it predicts the unit noise ε̂ and the
      denoised output is x̃ − σ·ε̂. The loss is ||ε̂ − ε||² with ε = (x̃ − x)/σ (DnCNN-style
      noise prediction, the ε-parameterization of diffusion models).
    - blind network (`x` in): it predicts the residual r̂ ≈ x̃ − x = σε itself and the
      denoised output is x̃ − r̂; the loss is ||r̂ − (x̃ − x)||².

    Both optima give E[x | x̃], like `DAE`. Use a network with a linear output. Training,
    evaluation and `denoise` behave as in `DAE`; the loss is the mean squared error (with
    the α/β emphasis of `DAE` if given).

    Weighting σ (σ-conditioned networks): every weighting has the same optimum at every σ,
    E[x | x̃]; what it changes is how a finite network and a finite number of steps are
    shared between noise levels. ||ε̂ − ε||² (`"noise"`, the default) counts the *relative*
    error at each σ alike: since x̂ − x = −σ(ε̂ − ε), it weights the output's squared error
    by 1/σ², so low σ dominates the gradient. `"output"` weights by σ², giving
    ||x̂ − x||², the error of the denoised output itself; a number p weights by σ^p
    (`"noise"` is 0, `"output"` is 2). Weighting by σ^p is, in expectation, drawing σ from
    a density multiplied by σ^p (`AdditiveGaussian(sigma_distribution=...)`), with another
    variance.

    Args:
        network: a `keras.Model` with a linear output.
        corruption: a corruption layer; defaults to `AdditiveGaussian(sigma=0.1 × width)`.
        loss_weighting: `"noise"`, `"output"` or a number p: each example's loss is
            multiplied by σ^p (σ-conditioned networks only; see above).
        **kwargs: the other `DAE` arguments (`alpha`, `beta`, `value_range`, ...).

    Example:

    >>> net = keras_dae.networks.unet((28, 28, 1), sigma_conditioning="film")
    >>> model = keras_dae.models.ResidualDAE(
    ...     net, keras_dae.layers.AdditiveGaussian(sigma_range=(0.0, 0.5)))
    >>> model.compile(optimizer="adam")
    >>> model.fit(x_train, epochs=5)
    >>> model.denoise(noisy, sigma=0.3)
    """

    def __init__(self, network, corruption=None, loss="mse", loss_weighting="noise", **kwargs):
        if loss not in ("mse", "mean_squared_error"):
            raise ValueError(f"{type(self).__name__} supports loss='mse' only. Received: loss={loss!r}")
        super().__init__(network, corruption=corruption, loss=loss, **kwargs)
        self.loss_weighting = loss_weighting
        gaussian = isinstance(self.corruption, AdditiveGaussian) and self.corruption.clip is None
        if self.conditioned and not gaussian:
            raise ValueError(
                f"A σ-conditioned {type(self).__name__} predicts the unit noise (x̃ − x)/σ, which "
                "is defined for unclipped AdditiveGaussian corruption only; for other corruptions "
                "use DAE (reconstructs x) or a blind ResidualDAE (predicts x̃ − x). Received: "
                f"corruption={self.corruption!r}"
                + (f" with clip={self.corruption.clip}" if isinstance(self.corruption, AdditiveGaussian) else "")
            )

    @property
    def loss_weighting(self):
        """`"noise"`, `"output"` or the power p of σ each example's loss is multiplied by;
        settable between trainings (a later stage of a run)."""
        return self._loss_weighting

    @loss_weighting.setter
    def loss_weighting(self, value):
        power = _SIGMA_POWERS.get(value, value)
        if isinstance(power, bool) or not isinstance(power, (int, float)):
            raise ValueError("`loss_weighting` must be 'noise', 'output' or a number (the power of σ). "
                             f"Received: loss_weighting={value!r}")
        if power and not self.conditioned:
            raise ValueError(
                f"`loss_weighting` weights each example by a power of its σ, which a blind "
                f"{type(self).__name__} does not predict with (its loss is already the output's "
                f"squared error). Received: loss_weighting={value!r} with a blind network"
            )
        self._loss_weighting, self._sigma_power = value, float(power)
        # The compiled steps (JAX, TensorFlow) hold the old power: the next fit/evaluate retraces.
        self.train_function = self.test_function = None

    def _outputs(self, x_tilde, sigma=None, mask=None):
        raw = self._network(x_tilde, sigma)
        if self.conditioned:
            s = ops.zeros((ops.shape(x_tilde)[0],), x_tilde.dtype) if sigma is None else sigma
            x_hat = x_tilde - _per_sample(ops.cast(s, x_tilde.dtype), x_tilde) * raw
        else:
            x_hat = x_tilde - raw
        return self._pack(x_hat, raw, x_tilde, sigma, mask)

    def _per_sample_loss(self, x, outputs):
        # float32 whatever the compute dtype (mixed precision): the loss and its target.
        residual = ops.cast(outputs["x_tilde"], "float32") - ops.cast(x, "float32")
        if self.conditioned:
            sigma = _per_sample(ops.maximum(ops.cast(outputs["sigma"], "float32"), 1e-8), x)
            target = residual / sigma
        else:
            target = residual
        loss = self._weighted(ops.square(ops.cast(outputs["raw"], "float32") - target), outputs["mask"])
        if self._sigma_power:
            loss = loss * ops.power(ops.reshape(ops.cast(outputs["sigma"], "float32"), (-1,)), self._sigma_power)
        return loss

    def get_config(self):
        return {**super().get_config(), "loss_weighting": self.loss_weighting}
