"""Sampling from trained denoisers: annealed Langevin dynamics and the walkback/GSN chain.

Both loops run eagerly with `keras.ops`, drawing every random number from a
`keras.random.SeedGenerator(seed)`, so a run is reproducible on one backend (the same seed
draws different numbers on different backends). The model is reached only through the
callables passed in, typically wrapping `predict_on_batch`, which is compiled.
"""

import keras
import numpy as np
from keras import ops


def geometric_sigmas(sigma_max, sigma_min, num):
    """`num` noise levels from `sigma_max` down to `sigma_min`, geometrically spaced
    (Song & Ermon, 2019: the ratio between neighbours is constant)."""
    if not 0 < sigma_min <= sigma_max or num < 1:
        raise ValueError(
            "Need 0 < sigma_min <= sigma_max and num >= 1. Received: "
            f"sigma_max={sigma_max!r}, sigma_min={sigma_min!r}, num={num!r}"
        )
    return np.geomspace(sigma_max, sigma_min, num).astype("float32")


def _initial(shape, value_range, spread, seed_generator, x_init, init_mean=None):
    if x_init is not None:
        return ops.convert_to_tensor(np.asarray(x_init, "float32"))
    low, high = value_range
    if init_mean is not None:
        return init_mean + spread * keras.random.normal(shape, dtype="float32", seed=seed_generator)
    x = keras.random.uniform(shape, minval=low, maxval=high, dtype="float32", seed=seed_generator)
    if spread:
        x = x + spread * keras.random.normal(shape, dtype="float32", seed=seed_generator)
    return x


def annealed_langevin(score_fn, shape, sigmas, steps_per_sigma=100, step_size=2e-5, seed=0,
                      x_init=None, value_range=(0.0, 1.0), denoise_final=True, init_mean=None):
    """Annealed Langevin dynamics (Song & Ermon, 2019, Algorithm 1).

    For each σ_i from the largest down: α_i = ε σ_i² / σ_L², then `steps_per_sigma` times
    x ← x + (α_i / 2) s(x, σ_i) + √α_i z, z ~ N(0, I). The chain starts from uniform noise
    over `value_range` plus N(0, σ_1²) (NCSN's start), or from N(`init_mean`, σ_1²): a draw
    of the largest noise level around a constant image. With `denoise_final`, a last Tweedie step
    x ← x + σ_L² s(x, σ_L) removes the remaining noise of level σ_L (Jolicoeur-Martineau
    et al., 2021).

    Args:
        score_fn: callable `(x, sigma) -> score`, `sigma` of shape `(n,)`.
        shape: the shape of the batch of samples, `(n, ...)`.
        sigmas: decreasing noise levels (see `geometric_sigmas`).
        steps_per_sigma: int, Langevin steps per level.
        step_size: float, ε, the step at the smallest level.
        seed: int, the seed of the initialization and the injected noise.
        x_init: optional starting points.
        value_range: `(low, high)` of the uniform initialization.
        denoise_final: bool, end with a Tweedie denoising step.
        init_mean: None for NCSN's uniform start, or a float: start from N(init_mean, σ_1²).

    Returns:
        A numpy array of shape `shape`.

    Example:

    >>> sigmas = geometric_sigmas(1.0, 0.01, 10)
    >>> x = annealed_langevin(model.score, (64, 28, 28, 1), sigmas)
    """
    sigmas = np.asarray(sigmas, "float32").reshape(-1)
    if sigmas.size == 0 or np.any(sigmas <= 0):
        raise ValueError(f"`sigmas` must be positive. Received: sigmas={sigmas!r}")
    generator = keras.random.SeedGenerator(seed)
    x = _initial(shape, value_range, float(sigmas[0]), generator, x_init, init_mean)
    n = shape[0]
    for sigma in sigmas:
        alpha = step_size * float(sigma / sigmas[-1]) ** 2
        s = np.full((n,), sigma, "float32")
        for _ in range(steps_per_sigma):
            z = keras.random.normal(shape, dtype="float32", seed=generator)
            x = x + 0.5 * alpha * ops.convert_to_tensor(score_fn(x, s)) + np.sqrt(alpha) * z
    if denoise_final:
        s = np.full((n,), sigmas[-1], "float32")
        x = x + float(sigmas[-1]) ** 2 * ops.convert_to_tensor(score_fn(x, s))
    return ops.convert_to_numpy(x)


def gsn_chain(denoise_fn, corruption, shape, steps=100, seed=0, x_init=None,
              value_range=(0.0, 1.0), return_chain=False):
    """The walkback / generative stochastic network chain (Bengio et al., 2013):
    x̃_t ~ C(x̃ | x_t), then x_{t+1} = r(x̃_t), the denoiser's reconstruction.

    Args:
        denoise_fn: callable `(x_tilde, sigma) -> reconstruction`, `sigma` `(n,)` the σ
            the corruption reports (ignored by blind denoisers).
        corruption: a `keras_dae.layers.Corruption` (e.g. the model's own).
        shape: the shape of the batch of samples.
        steps: int, corrupt–denoise steps.
        seed: int, the seed of the initialization and the corruptions.
        x_init: optional starting points; else uniform noise over `value_range`.
        value_range: `(low, high)`.
        return_chain: bool, also return the samples after every step, `(steps, *shape)`.

    Returns:
        The last samples (numpy), and the chain if asked.

    Example:

    >>> samples = gsn_chain(lambda v, s: model.predict_on_batch(v), model.corruption,
    ...                     (16, 784), steps=50)
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"`steps` must be an int >= 1. Received: steps={steps!r}")
    generator = keras.random.SeedGenerator(seed)
    x = _initial(shape, value_range, 0.0, generator, x_init)
    chain = []
    for _ in range(steps):
        x_tilde, info = corruption.corrupt_with(x, generator)
        x = ops.convert_to_tensor(denoise_fn(x_tilde, ops.convert_to_numpy(info["sigma"])))
        if return_chain:
            chain.append(ops.convert_to_numpy(x))
    x = ops.convert_to_numpy(x)
    return (x, np.stack(chain)) if return_chain else x
