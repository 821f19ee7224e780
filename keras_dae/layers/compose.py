"""Composition of corruptions (e.g. masking, then Gaussian noise)."""

import keras
from keras import ops

from keras_dae.layers.base import Corruption


@keras.saving.register_keras_serializable(package="keras_dae")
class Compose(Corruption):
    """Applies corruption layers one after the other and merges what they report.

    The merged `info` has `sigma` = sqrt(Σ σ_k²) (independent Gaussian noises add in
    variance) and `mask` = the union of the layers' masks.

    Args:
        corruptions: a list of `Corruption` layers, applied in order.
        seed: the seed of the generator that drives every layer's draws (the layers' own
            generators are not used: one stream, so that `corrupt_with(x, generator)` and
            `corrupt(x, seed=...)` are reproducible and leave the training stream alone).
            Default: derived from the layers' seeds when they all have one.

    Example:

    >>> corrupt = keras_dae.layers.Compose([
    ...     keras_dae.layers.MaskingNoise(0.25),
    ...     keras_dae.layers.AdditiveGaussian(sigma=0.1),
    ... ])
    """

    def __init__(self, corruptions, seed=None, **kwargs):
        corruptions = [
            keras.saving.deserialize_keras_object(c) if isinstance(c, dict) else c
            for c in corruptions
        ]
        if not corruptions or not all(isinstance(c, Corruption) for c in corruptions):
            raise ValueError(
                "`corruptions` must be a non-empty list of keras_dae corruption layers. "
                f"Received: corruptions={corruptions!r}"
            )
        if seed is None and all(c.seed is not None for c in corruptions):
            # Seeded parts make a seeded whole: the stream is a function of their seeds.
            seed = sum(c.seed * 7919 ** i for i, c in enumerate(corruptions)) % (2 ** 31)
        super().__init__(seed=seed, **kwargs)
        self.corruptions = corruptions

    def build(self, input_shape):
        for layer in self.corruptions:
            layer.build(input_shape)

    def _chain(self, x, step):
        variance, mask = None, None
        for layer in self.corruptions:
            x, info = step(layer, x)
            sigma = ops.cast(info["sigma"], x.dtype)
            variance = ops.square(sigma) if variance is None else variance + ops.square(sigma)
            m = ops.cast(info["mask"], x.dtype)
            mask = m if mask is None else ops.maximum(mask, m)
        return x, {"sigma": ops.sqrt(variance), "mask": mask}

    def corrupt_with(self, x, seed_generator):
        return self._chain(x, lambda layer, v: layer.corrupt_with(v, seed_generator))

    def get_config(self):
        return {
            **super().get_config(),
            "corruptions": [keras.saving.serialize_keras_object(c) for c in self.corruptions],
        }
