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
        seed: unused by `Compose` itself (each layer draws from its own generator); kept
            for a uniform signature.

    Example:

    >>> corrupt = keras_dae.layers.Compose([
    ...     keras_dae.layers.MaskingNoise(0.25),
    ...     keras_dae.layers.AdditiveGaussian(sigma=0.1),
    ... ])
    """

    def __init__(self, corruptions, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        corruptions = [
            keras.saving.deserialize_keras_object(c) if isinstance(c, dict) else c
            for c in corruptions
        ]
        if not corruptions or not all(isinstance(c, Corruption) for c in corruptions):
            raise ValueError(
                "`corruptions` must be a non-empty list of keras_dae corruption layers. "
                f"Received: corruptions={corruptions!r}"
            )
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
        return self._chain(x, lambda layer, v: layer.corrupt_with(v, layer.seed_generator))

    def corrupt(self, x, seed=None, return_info=False):
        x = ops.convert_to_tensor(x, dtype=self.compute_dtype)
        seeds = [None] * len(self.corruptions) if seed is None else [
            seed + 7919 * i for i in range(len(self.corruptions))
        ]
        seeds = iter(seeds)
        x_tilde, info = self._chain(
            x, lambda layer, v: layer.corrupt(v, seed=next(seeds), return_info=True)
        )
        return (x_tilde, info) if return_info else x_tilde

    def get_config(self):
        return {
            **super().get_config(),
            "corruptions": [keras.saving.serialize_keras_object(c) for c in self.corruptions],
        }
