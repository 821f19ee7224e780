"""The base class of every corruption layer."""

import keras
from keras import ops


def _check_rate(name, value):
    if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` must be a number in [0, 1]. Received: {name}={value!r}")
    return float(value)


def _check_nonnegative(name, value):
    if not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={value!r}")
    return float(value)


def _per_sample(values, x):
    """Reshapes a `(batch,)` tensor so that it broadcasts against `x`."""
    return ops.reshape(values, (-1,) + (1,) * (len(x.shape) - 1))


_SEED_STATE = "seed_generator_state"


class Corruption(keras.layers.Layer):
    """Base class of the corruption layers: a stochastic map x -> x̃ used in training.

    A corruption layer owns a `keras.random.SeedGenerator`, so that every draw is seeded
    and advances from step to step inside a compiled `fit` on every backend. It is the
    identity at inference (`training=False`). Subclasses implement
    `corrupt_with(x, seed_generator)`, returning `(x_tilde, info)`.

    `info` describes what was done, for conditioning a denoiser and for masked losses:
    - `"sigma"`: `(batch,)`, the standard deviation of the Gaussian noise drawn for each
      sample (0 where the layer adds none);
    - `"mask"`: shaped like `x`, 1 where an element was replaced (its corrupted value
      carries nothing of the clean one), 0 where it was kept, noisy or not.

    Args:
        seed: int or None, the seed of the layer's `SeedGenerator`.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: the clean tensor, of any rank (vectors, sequences, NHWC images).
        training: bool, corrupt only when True.
        return_info: bool, also return the `info` dict described above.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and not isinstance(seed, int):
            raise ValueError(f"`seed` must be an int or None. Received: seed={seed!r}")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def corrupt_with(self, x, seed_generator):
        raise NotImplementedError

    def call(self, inputs, training=False, return_info=False):
        if training:
            x_tilde, info = self.corrupt_with(inputs, self.seed_generator)
        else:
            x_tilde, info = inputs, self.no_info(inputs)
        return (x_tilde, info) if return_info else x_tilde

    def corrupt(self, x, seed=None, return_info=False):
        """Corrupts `x` outside training, reproducibly.

        With an int `seed`, the draw depends only on `seed` and the shape of `x` (not on
        the layer's own generator, which is left untouched): use it to build fixed noisy
        evaluation sets. With `seed=None`, the layer's generator is used and advanced.

        Example:

        >>> layer = keras_dae.layers.AdditiveGaussian(sigma=0.1)
        >>> noisy = layer.corrupt(clean_images, seed=0)
        """
        x = ops.convert_to_tensor(x, dtype=self.compute_dtype)
        generator = self.seed_generator if seed is None else keras.random.SeedGenerator(seed)
        x_tilde, info = self.corrupt_with(x, generator)
        return (x_tilde, info) if return_info else x_tilde

    def no_info(self, x):
        """The `info` of an uncorrupted `x`: sigma 0 and an empty mask."""
        return {
            "sigma": ops.zeros((ops.shape(x)[0],), dtype=x.dtype),
            "mask": ops.zeros_like(x),
        }

    def compute_output_spec(self, inputs, training=False, return_info=False):
        out = keras.KerasTensor(inputs.shape, dtype=inputs.dtype)
        if not return_info:
            return out
        info = {
            "sigma": keras.KerasTensor((inputs.shape[0],), dtype=inputs.dtype),
            "mask": keras.KerasTensor(inputs.shape, dtype=inputs.dtype),
        }
        return out, info

    def save_own_variables(self, store):
        # The generator's position is saved with the weights (Keras saves only a layer's
        # variables): a run resumed from a checkpoint continues the noise stream instead of
        # drawing the first epoch's noise again.
        super().save_own_variables(store)
        store[_SEED_STATE] = self.seed_generator.state

    def load_own_variables(self, store):
        try:
            saved = _SEED_STATE in store
        except TypeError:  # an entry with nothing saved (files written before the state was)
            saved = False
        if saved:
            self.seed_generator.state.assign(store[_SEED_STATE])
            store = {k: store[k] for k in store.keys() if k != _SEED_STATE}
        super().load_own_variables(store)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
