"""Masking corruptions: elementwise (dropout-like), Gaussian fill, and blocks."""

import math

import keras
from keras import ops

from keras_dae.layers.base import Corruption, _check_nonnegative, _check_rate


def _replace(x, replaced, fill):
    """x where `replaced` is 0, `fill` where it is 1; kept elements stay bit-identical."""
    return ops.where(ops.cast(replaced, "bool"), ops.cast(fill, x.dtype), x)


def _no_sigma(x):
    return ops.zeros((ops.shape(x)[0],), dtype=x.dtype)


@keras.saving.register_keras_serializable(package="keras_dae")
class MaskingNoise(Corruption):
    """Masking noise: each element replaced by `fill_value` with probability `rate`.

    The "masking noise" of Vincent et al. (2010) with `fill_value=0`. Unlike
    `keras.layers.Dropout`, kept elements are not rescaled: they stay bit-identical.

    Args:
        rate: float in [0, 1], the probability that an element is replaced.
        fill_value: float, the value replaced elements take.
        seed: int or None, the seed of the layer's `SeedGenerator`.

    Call arguments:
        inputs: the clean tensor, any rank.
        training: bool, mask only when True.
        return_info: bool, also return `{"sigma": zeros, "mask": 1 where replaced}`.

    Example:

    >>> masked, info = keras_dae.layers.MaskingNoise(0.25)(x, training=True, return_info=True)
    """

    def __init__(self, rate, fill_value=0.0, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate("rate", rate)
        self.fill_value = float(fill_value)

    def corrupt_with(self, x, seed_generator):
        u = keras.random.uniform(ops.shape(x), dtype="float32", seed=seed_generator)
        replaced = ops.cast(u < self.rate, x.dtype)
        return _replace(x, replaced, self.fill_value), {"sigma": _no_sigma(x), "mask": replaced}

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "fill_value": self.fill_value}


@keras.saving.register_keras_serializable(package="keras_dae")
class GaussianMasking(Corruption):
    """Gaussian masking: x̃ = m⊙x + (1−m)⊙N(0, σ²), with m_i ~ Bernoulli(1 − rate).

    Replaced elements take pure Gaussian values (not x plus noise), so a denoiser cannot
    tell them from their neighbours by a constant fill value.

    Args:
        rate: float in [0, 1], the probability that an element is replaced.
        sigma: float >= 0, the standard deviation of the replacement values.
        seed: int or None, the seed of the layer's `SeedGenerator`.

    Call arguments:
        inputs: the clean tensor, any rank.
        training: bool, corrupt only when True.
        return_info: bool, also return `{"sigma": σ of the fill, "mask": 1 where replaced}`.
    """

    def __init__(self, rate, sigma, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate("rate", rate)
        self.sigma = _check_nonnegative("sigma", sigma)

    def corrupt_with(self, x, seed_generator):
        u = keras.random.uniform(ops.shape(x), dtype="float32", seed=seed_generator)
        eps = keras.random.normal(ops.shape(x), dtype="float32", seed=seed_generator)
        replaced = ops.cast(u < self.rate, x.dtype)
        x_tilde = _replace(x, replaced, self.sigma * eps)
        sigma = ops.full((ops.shape(x)[0],), self.sigma, dtype=x.dtype)
        return x_tilde, {"sigma": sigma, "mask": replaced}

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "sigma": self.sigma}


@keras.saving.register_keras_serializable(package="keras_dae")
class BlockMasking(Corruption):
    """Structured masking: rectangular blocks at random positions, per sample.

    The blocks span the spatial axes: `(H, W)` of NHWC images, `L` of `(batch, L, C)`
    sequences, the feature axis of `(batch, D)` vectors; every channel of a masked
    position is masked. Blocks lie wholly inside the input and may overlap.

    Args:
        block_size: int, or one int per spatial axis (e.g. `(12, 12)`).
        num_blocks: int >= 1, blocks per sample. Exactly one of `num_blocks` and `rate`;
            the default is one block.
        rate: float in (0, 1], the target masked fraction: as many blocks as cover that
            fraction of the spatial area if they did not overlap.
        fill_value: float, the value masked elements take.
        seed: int or None, the seed of the layer's `SeedGenerator`.

    Call arguments:
        inputs: the clean tensor, rank >= 2, static spatial sizes.
        training: bool, mask only when True.
        return_info: bool, also return `{"sigma": zeros, "mask": 1 inside the blocks}`.

    Example:

    >>> holes = keras_dae.layers.BlockMasking(block_size=12)  # one 12×12 hole per image
    """

    def __init__(self, block_size, num_blocks=None, rate=None, fill_value=0.0, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        sizes = (block_size,) if isinstance(block_size, int) else tuple(block_size)
        if not sizes or not all(isinstance(b, int) and b >= 1 for b in sizes):
            raise ValueError(
                "`block_size` must be a positive int or a tuple of positive ints. "
                f"Received: block_size={block_size!r}"
            )
        if num_blocks is not None and rate is not None:
            raise ValueError(
                "Pass at most one of `num_blocks` and `rate`. "
                f"Received: num_blocks={num_blocks!r}, rate={rate!r}"
            )
        if num_blocks is not None and (not isinstance(num_blocks, int) or num_blocks < 1):
            raise ValueError(f"`num_blocks` must be an int >= 1. Received: num_blocks={num_blocks!r}")
        if rate is not None and (_check_rate("rate", rate) == 0.0):
            raise ValueError(f"`rate` must be in (0, 1]. Received: rate={rate!r}")
        self.block_size = block_size if isinstance(block_size, int) else sizes
        self.num_blocks = num_blocks
        self.rate = None if rate is None else float(rate)
        self.fill_value = float(fill_value)

    def _spatial_shape(self, shape):
        spatial = tuple(shape[1:2]) if len(shape) == 2 else tuple(shape[1:-1])
        sizes = self.block_size
        sizes = (sizes,) * len(spatial) if isinstance(sizes, int) else sizes
        if len(sizes) != len(spatial):
            raise ValueError(
                f"`block_size` has {len(sizes)} entries but the input has {len(spatial)} "
                f"spatial axes. Received: block_size={self.block_size!r}, input shape={shape}"
            )
        for axis, (n, b) in enumerate(zip(spatial, sizes)):
            if n is None or b > n:
                raise ValueError(
                    f"Block size {b} does not fit spatial axis {axis + 1} of size {n}. "
                    f"Received: block_size={self.block_size!r}, input shape={shape}"
                )
        return spatial, sizes

    def blocks_per_sample(self, shape):
        if self.rate is None:
            return self.num_blocks or 1
        spatial, sizes = self._spatial_shape(shape)
        return max(1, math.ceil(self.rate * math.prod(spatial) / math.prod(sizes)))

    def corrupt_with(self, x, seed_generator):
        shape = tuple(x.shape)
        spatial, sizes = self._spatial_shape(shape)
        k = self.blocks_per_sample(shape)
        batch = ops.shape(x)[0]
        mask = None
        for axis, (n, b) in enumerate(zip(spatial, sizes)):
            u = keras.random.uniform((batch, k), dtype="float32", seed=seed_generator)
            start = ops.floor(u * (n - b + 1))  # (batch, k), in [0, n - b]
            index = ops.arange(n, dtype="float32")
            inside = (index >= start[..., None]) & (index < start[..., None] + b)  # (batch, k, n)
            view = [batch, k] + [1] * len(spatial)
            view[2 + axis] = n
            inside = ops.reshape(inside, view)
            mask = inside if mask is None else mask & inside
        mask = ops.any(mask, axis=1)  # (batch, *spatial)
        if len(shape) > 2:
            mask = ops.broadcast_to(mask[..., None], ops.shape(x))
        mask = ops.cast(mask, x.dtype)
        return _replace(x, mask, self.fill_value), {"sigma": _no_sigma(x), "mask": mask}

    def get_config(self):
        return {
            **super().get_config(),
            "block_size": self.block_size,
            "num_blocks": self.num_blocks,
            "rate": self.rate,
            "fill_value": self.fill_value,
        }
