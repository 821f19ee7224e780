"""Combining corruptions: one after the other (`Compose`), or one drawn per example
(`RandomChoice`)."""

import keras
import numpy as np
from keras import ops

from keras_dae.layers.base import Corruption, _per_sample


def _corruption_list(corruptions):
    """The layers of a combination (deserialized from their configs), checked."""
    corruptions = [keras.saving.deserialize_keras_object(c) if isinstance(c, dict) else c for c in corruptions]
    if not corruptions or not all(isinstance(c, Corruption) for c in corruptions):
        raise ValueError(
            "`corruptions` must be a non-empty list of keras_dae corruption layers. "
            f"Received: corruptions={corruptions!r}"
        )
    return corruptions


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
        corruptions = _corruption_list(corruptions)
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


@keras.saving.register_keras_serializable(package="keras_dae")
class RandomChoice(Corruption):
    """Corrupts each example with one layer drawn at random from a list.

    For a model that should handle several kinds of damage (e.g. block holes and missing
    pixels): every layer corrupts the batch, then each example keeps the result of the
    layer drawn for it (with `probabilities`), with that layer's `info`.

    Args:
        corruptions: a list of `Corruption` layers.
        probabilities: one weight per layer (normalised to sum to 1); default uniform.
        seed: the seed of the generator that drives the choice and every layer's draws
            (the layers' own generators are not used, as in `Compose`). Default: derived
            from the layers' seeds when they all have one.

    Example:

    >>> holes_or_pixels = keras_dae.layers.RandomChoice([
    ...     keras_dae.layers.BlockMasking(block_size=12),
    ...     keras_dae.layers.MaskingNoise(0.5),
    ... ])
    """

    def __init__(self, corruptions, probabilities=None, seed=None, **kwargs):
        corruptions = _corruption_list(corruptions)
        if probabilities is None:
            probabilities = [1.0] * len(corruptions)
        probabilities = list(probabilities)
        if (len(probabilities) != len(corruptions) or
                not all(isinstance(p, (int, float)) and p >= 0 for p in probabilities) or
                sum(probabilities) <= 0):
            raise ValueError(
                f"`probabilities` must be {len(corruptions)} non-negative numbers, one per "
                f"corruption, with a positive sum. Received: probabilities={probabilities!r}"
            )
        if seed is None and all(c.seed is not None for c in corruptions):
            seed = sum(c.seed * 7919 ** i for i, c in enumerate(corruptions)) % (2 ** 31) + 1
        super().__init__(seed=seed, **kwargs)
        self.corruptions = corruptions
        total = float(sum(probabilities))
        self.probabilities = [float(p) / total for p in probabilities]

    def build(self, input_shape):
        for layer in self.corruptions:
            layer.build(input_shape)

    def corrupt_with(self, x, seed_generator):
        batch = ops.shape(x)[0]
        u = keras.random.uniform((batch,), dtype="float32", seed=seed_generator)
        edges = ops.convert_to_tensor(np.cumsum(self.probabilities)[:-1], "float32")
        choice = ops.sum(ops.cast(u[:, None] >= edges[None, :], "int32"), axis=1)  # (batch,)
        x_tilde, sigma, mask = None, None, None
        for k, layer in enumerate(self.corruptions):
            x_k, info = layer.corrupt_with(x, seed_generator)
            chosen = ops.cast(ops.equal(choice, k), x.dtype)
            sigma_k = ops.cast(info["sigma"], x.dtype) * chosen
            keep = _per_sample(chosen, x)
            term, mask_k = x_k * keep, ops.cast(info["mask"], x.dtype) * keep
            x_tilde = term if x_tilde is None else x_tilde + term
            sigma = sigma_k if sigma is None else sigma + sigma_k
            mask = mask_k if mask is None else mask + mask_k
        return x_tilde, {"sigma": sigma, "mask": mask}

    def get_config(self):
        return {
            **super().get_config(),
            "corruptions": [keras.saving.serialize_keras_object(c) for c in self.corruptions],
            "probabilities": self.probabilities,
        }
