"""Impulse (salt-and-pepper) noise."""

import keras
from keras import ops

from keras_dae.layers.base import Corruption, _check_rate


@keras.saving.register_keras_serializable(package="keras_dae")
class SaltAndPepper(Corruption):
    """Salt-and-pepper noise: each element set to `low` with probability rate/2 and to
    `high` with probability rate/2, and kept (bit-identical) otherwise.

    Args:
        rate: float in [0, 1], the probability that an element is replaced.
        low: float, the "pepper" value (the bottom of the data range).
        high: float, the "salt" value (the top of the data range).
        seed: int or None, the seed of the layer's `SeedGenerator`.

    Call arguments:
        inputs: the clean tensor, any rank.
        training: bool, corrupt only when True.
        return_info: bool, also return `{"sigma": zeros, "mask": 1 where replaced}`.

    Example:

    >>> keras_dae.layers.SaltAndPepper(0.2)(images, training=True)
    """

    def __init__(self, rate, low=0.0, high=1.0, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate("rate", rate)
        if not low < high:
            raise ValueError(f"`low` must be below `high`. Received: low={low!r}, high={high!r}")
        self.low = float(low)
        self.high = float(high)

    def corrupt_with(self, x, seed_generator):
        u = keras.random.uniform(ops.shape(x), dtype="float32", seed=seed_generator)
        pepper = u < self.rate / 2
        salt = (u >= self.rate / 2) & (u < self.rate)
        x_tilde = ops.where(pepper, ops.cast(self.low, x.dtype), x)
        x_tilde = ops.where(salt, ops.cast(self.high, x.dtype), x_tilde)
        sigma = ops.zeros((ops.shape(x)[0],), dtype=x.dtype)
        return x_tilde, {"sigma": sigma, "mask": ops.cast(pepper | salt, x.dtype)}

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "low": self.low, "high": self.high}
