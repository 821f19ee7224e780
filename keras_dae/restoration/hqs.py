"""Plug-and-play restoration by half-quadratic splitting with a denoiser as the prior
(Zhang et al., "Plug-and-Play Image Restoration with Deep Denoiser Prior", TPAMI 2021: DPIR).

For `min_x ||y − A(x)||² / (2σₙ²) + Φ(x)` HQS alternates, for k = 1..K,

    x_k = argmin_x ||y − A(x)||² + α_k ||x − z_{k−1}||²   (the operator's data step)
    z_k = D(x_k, σ_k)                                      (the σ-conditioned denoiser)

with σ_k falling geometrically from `sigma_start` (49/255 in DPIR) to
`max(noise_sigma, operator.sigma_floor)` and α_k = λ·max(σₙ, 0.255/255)²/σ_k²
(λ = 0.23), as DPIR sets them; as in DPIR, iteration k denoises the image flipped and
rotated by the k-th of the 8 symmetries of the square (and undoes it), which spreads the
denoiser's own artefacts at no extra cost. By Tweedie's formula the denoiser step is a step
along the score of the noisy images (`keras_dae.models`), which is why any σ-conditioned
zoo model serves as the prior.
"""

import numpy as np
from keras import ops

from keras_dae.restoration.operators import as_batch

LAMBDA = 0.23          # DPIR's weight of the prior (its λ, the same for all its tasks)
SIGMA_START = 49.0 / 255.0  # DPIR's first denoiser σ
NOISE_FLOOR = 0.255 / 255.0  # DPIR's smallest σₙ in α_k (noise-free observations)
#: HQS iterations per task kind (`restore`'s default for the command line and the protocol).
#: On validation crops (`benchmarks/restoration.py choose-iterations`, the last 8 train400
#: images, 128×128, gray prior): super-resolution 24 over 16 (+0.06 / +0.02 dB at ×2 / ×4),
#: inpainting 48 over 24 (+0.15 / +0.34 dB at 50 / 80 % missing), deblurring 8 over 16
#: (+0.21 dB at σ = 2.55; DPIR's 8).
ITERATIONS = {"deblur": 8, "sr": 24, "inpaint": 48}


def schedule(noise_sigma, iterations, sigma_floor, sigma_start=SIGMA_START, lam=LAMBDA):
    """The `(σ_k, α_k)` of each iteration: σ geometric from `sigma_start` down to
    `max(noise_sigma, sigma_floor)`, α_k = λ·max(σₙ, 0.255/255)²/σ_k² (DPIR's
    `get_rho_sigma`)."""
    if not isinstance(iterations, (int, np.integer)) or iterations < 1:
        raise ValueError(f"`iterations` must be a positive integer. Received: iterations={iterations!r}")
    if not np.isfinite(noise_sigma) or noise_sigma < 0:
        raise ValueError(f"`noise_sigma` must be >= 0 (on the image's [0, 1] scale). "
                         f"Received: noise_sigma={noise_sigma!r}")
    end = max(float(noise_sigma), sigma_floor)
    sigmas = np.geomspace(max(sigma_start, end), end, int(iterations))
    alphas = lam * max(float(noise_sigma), NOISE_FLOOR) ** 2 / sigmas**2
    return sigmas.astype("float32"), alphas.astype("float32")


def _symmetry(x, mode, inverse=False):
    """The `mode`-th of the 8 flips and rotations of a batch `(N, H, W, C)` (or its inverse)."""
    if not inverse:
        x = np.rot90(x, mode % 4, axes=(1, 2))
        return x[:, :, ::-1] if mode >= 4 else x
    x = x[:, :, ::-1] if mode >= 4 else x
    return np.rot90(x, -(mode % 4), axes=(1, 2))


def _denoiser(model):
    """`D(x, σ, k)` on `(N, H, W, C)` batches for a σ-conditioned model, through the k-th
    symmetry when the network takes any image size; a gray model takes a colour batch
    channel by channel."""
    if not getattr(model, "conditioned", False):
        raise ValueError(f"The prior must be a σ-conditioned model (it is called at every σ_k). "
                         f"Received: model {getattr(model, 'name', model)!r}, which takes no σ")
    model_channels = model.example_shape[-1]
    any_size = model.example_shape[0] is None and model.example_shape[1] is None

    def denoise_planes(x, sigma):
        n, h, w, c = x.shape
        if c == model_channels:
            return model.denoise(x, sigma=sigma)
        if model_channels == 1:
            planes = np.moveaxis(x, -1, 1).reshape(n * c, h, w, 1)
            return np.moveaxis(model.denoise(planes, sigma=sigma)[..., 0].reshape(n, c, h, w), 1, -1)
        raise ValueError(f"The prior {model.name!r} takes {model_channels} channels; the image has {c}.")

    def denoise(x, sigma, k):
        x = ops.convert_to_numpy(x)
        mode = k % 8 if any_size or x.shape[1] == x.shape[2] else 0
        out = denoise_planes(np.ascontiguousarray(_symmetry(x, mode)), sigma)
        return np.ascontiguousarray(_symmetry(out, mode, inverse=True))

    return denoise


def restore(y, operator, noise_sigma, model, iterations=None, sigma_start=SIGMA_START, lam=LAMBDA,
            sigma_floor=None, return_iterates=False):
    """Restores `y = A(x) + n` (n Gaussian of σ = `noise_sigma`) with `model` as the prior.

    Args:
        y: the observation, `(H, W, C)` or `(N, H, W, C)`, on the model's [0, 1] scale.
        operator: a `keras_dae.restoration` operator (`Blur`, `Downsample`, `Mask`).
        noise_sigma: σ of the observation's noise on the [0, 1] scale (0: none).
        model: a σ-conditioned keras-dae model (`keras_dae.load("dncnn-bsd400-gauss")`, the
            colour entry, ...); a gray model restores colour images channel by channel.
        iterations: HQS iterations K (default: `ITERATIONS` of the operator's kind; DPIR
            uses 8 for deblurring and 24 for super-resolution).
        sigma_start: the first denoiser σ.
        lam: the prior's weight λ.
        sigma_floor: the last denoiser σ when the observation is noise-free (default: the
            operator's, e.g. the scale/255 of super-resolution).
        return_iterates: also return every z_k.

    Returns:
        The restored image(s) as NumPy, in the shape of `operator.image_shape` (one image
        `(H, W, C)` for one image in), not clipped.

    Example:

    >>> from keras_dae.restoration import Blur, restore
    >>> x_hat = restore(blurred, Blur(kernel), noise_sigma=2.55 / 255, model=keras_dae.load("dncnn-bsd400-gauss"))
    """
    y, single = as_batch(y)
    iterations = ITERATIONS[operator.kind] if iterations is None else iterations
    floor = operator.sigma_floor if sigma_floor is None else float(sigma_floor)
    sigmas, alphas = schedule(noise_sigma, iterations, floor, sigma_start, lam)
    denoise = _denoiser(model)
    z = operator.initial(y)
    iterates = []
    for k, (sigma, alpha) in enumerate(zip(sigmas, alphas)):
        x = operator.data_step(z, y, float(alpha))
        z = denoise(x, float(sigma), k)
        iterates.append(z)
    out = z[0] if single else z
    return (out, [i[0] if single else i for i in iterates]) if return_iterates else out
