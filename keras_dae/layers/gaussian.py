"""Additive Gaussian noise with a fixed σ or a σ drawn per sample."""

import math

import keras
from keras import ops

from keras_dae.layers.base import Corruption, _check_nonnegative, _per_sample

_DISTRIBUTIONS = ("uniform", "log_uniform")


@keras.saving.register_keras_serializable(package="keras_dae")
class AdditiveGaussian(Corruption):
    """Additive Gaussian noise: x̃ = x + σε, ε ~ N(0, I).

    σ is either fixed (`sigma`) or drawn independently for each sample from
    `sigma_range`, uniformly or log-uniformly (log-uniform spends as many draws on
    [0.01, 0.1] as on [0.1, 1], as noise-conditional denoisers want). σ is in the units of
    the data (e.g. 0.1 on [0, 1] images is 25.5 on [0, 255]).

    The bounds of σ live in non-trainable variables (`sigma_min`, `sigma_max`), not in
    Python floats, so a schedule may change them between epochs of a compiled `fit`
    (see `set_sigma`). The layer is the identity at inference.

    Args:
        sigma: float >= 0, a fixed noise level. Exactly one of `sigma` and `sigma_range`.
        sigma_range: `(low, high)` with 0 <= low <= high, the range σ is drawn from per
            sample.
        sigma_distribution: `"uniform"` or `"log_uniform"` (needs low > 0).
        clip: None or `(low, high)`: clip x̃ to this range (e.g. `(0, 1)`). The default
            leaves the noise unclipped, as the evaluation protocol does.
        seed: int or None, the seed of the layer's `SeedGenerator`.

    Call arguments:
        inputs: the clean tensor, any rank; the first axis is the batch.
        training: bool, add noise only when True.
        return_info: bool, also return `{"sigma": (batch,), "mask": zeros}`.

    Example:

    >>> noise = keras_dae.layers.AdditiveGaussian(sigma_range=(0.01, 1.0),
    ...                                            sigma_distribution="log_uniform")
    >>> x_tilde, info = noise(x, training=True, return_info=True)
    >>> info["sigma"].shape
    (batch,)
    """

    def __init__(
        self,
        sigma=None,
        sigma_range=None,
        sigma_distribution="uniform",
        clip=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        if (sigma is None) == (sigma_range is None):
            raise ValueError(
                "Pass exactly one of `sigma` and `sigma_range`. "
                f"Received: sigma={sigma!r}, sigma_range={sigma_range!r}"
            )
        if sigma is not None:
            low = high = _check_nonnegative("sigma", sigma)
        else:
            low, high = _check_range(sigma_range)
        if sigma_distribution not in _DISTRIBUTIONS:
            raise ValueError(
                f"`sigma_distribution` must be one of {_DISTRIBUTIONS}. "
                f"Received: sigma_distribution={sigma_distribution!r}"
            )
        if sigma_distribution == "log_uniform" and low <= 0:
            raise ValueError(
                "A log-uniform `sigma_range` needs a lower bound > 0. "
                f"Received: sigma_range={sigma_range!r}"
            )
        if clip is not None and (len(clip) != 2 or clip[0] >= clip[1]):
            raise ValueError(f"`clip` must be None or (low, high) with low < high. Received: clip={clip!r}")
        self.sigma = sigma
        self.sigma_range = None if sigma_range is None else (low, high)
        self.sigma_distribution = sigma_distribution
        self.clip = None if clip is None else (float(clip[0]), float(clip[1]))
        self.sigma_min = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(low), dtype="float32",
            trainable=False, autocast=False, name="sigma_min",
        )
        self.sigma_max = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(high), dtype="float32",
            trainable=False, autocast=False, name="sigma_max",
        )
        self.built = True

    def set_sigma(self, sigma=None, sigma_range=None):
        """Changes the noise level used from the next step on (a noise schedule's hook).

        Works between epochs of a compiled `fit` on every backend, since the level lives in
        variables. Pass a float for a fixed σ, or `sigma_range=(low, high)`.
        """
        if (sigma is None) == (sigma_range is None):
            raise ValueError(
                "Pass exactly one of `sigma` and `sigma_range`. "
                f"Received: sigma={sigma!r}, sigma_range={sigma_range!r}"
            )
        if sigma is not None:
            low = high = _check_nonnegative("sigma", sigma)
        else:
            low, high = _check_range(sigma_range)
        if self.sigma_distribution == "log_uniform" and low <= 0:
            raise ValueError(
                f"A log-uniform layer needs sigma > 0. Received: sigma={sigma!r}, "
                f"sigma_range={sigma_range!r}"
            )
        self.sigma_min.assign(low)
        self.sigma_max.assign(high)

    def draw_sigma(self, batch_size, seed_generator=None):
        """Draws one σ per sample, shape `(batch_size,)`, float32."""
        u = keras.random.uniform(
            (batch_size,), dtype="float32", seed=seed_generator or self.seed_generator
        )
        low, high = self.sigma_min, self.sigma_max
        if self.sigma_distribution == "log_uniform":
            log_low = ops.log(low)
            return ops.exp(log_low + u * (ops.log(high) - log_low))
        return low + u * (high - low)

    def corrupt_with(self, x, seed_generator):
        sigma = self.draw_sigma(ops.shape(x)[0], seed_generator)
        eps = keras.random.normal(ops.shape(x), dtype="float32", seed=seed_generator)
        sigma = ops.cast(sigma, x.dtype)
        x_tilde = x + _per_sample(sigma, x) * ops.cast(eps, x.dtype)
        if self.clip is not None:
            x_tilde = ops.clip(x_tilde, self.clip[0], self.clip[1])
        return x_tilde, {"sigma": sigma, "mask": ops.zeros_like(x)}

    def get_config(self):
        return {
            **super().get_config(),
            "sigma": self.sigma,
            "sigma_range": self.sigma_range,
            "sigma_distribution": self.sigma_distribution,
            "clip": self.clip,
        }


def _check_range(sigma_range):
    try:
        low, high = (float(v) for v in sigma_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"`sigma_range` must be a pair (low, high). Received: sigma_range={sigma_range!r}"
        ) from None
    if not (0 <= low <= high) or math.isinf(high):
        raise ValueError(
            "`sigma_range` must satisfy 0 <= low <= high < inf. "
            f"Received: sigma_range={sigma_range!r}"
        )
    return low, high
