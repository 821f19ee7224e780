"""The noise level σ of an image, for blind use of σ-conditioned denoisers, on real files too.

A file saved in 8 or 16 bits was clipped to its range first: where the image is dark or
bright, part of the noise is cut off and those pixels sit exactly at the ends (a noisy
MNIST digit at σ = 0.3 has half its pixels at 0). Estimators that read such pixels as
clean see too little noise (σ̂ ≈ 0.2 σ on such digits), and a denoiser given that σ̂
leaves most of the noise in. Both estimators here treat clipped pixels as what they are:

- `wavelet_sigma`: Donoho's rule, σ̂ = median|HH| / 0.6745 over the finest diagonal Haar
  coefficients, from the 2×2 windows with no pixel at an end of `value_range`;
- `censored_sigma`: given a denoised estimate x̂ of the clean image, the σ that maximises
  the likelihood of the noisy image under Gaussian noise clipped to `value_range` (a Tobit
  model): pixels inside the range contribute the Gaussian density of x̃ − x̂ (Huber's
  robust version, so that edges the denoiser smoothed do not inflate σ̂), pixels at an end
  the probability that noise pushed x̂ past it. Without clipped pixels it is a robust
  estimate of the residual's scale.
"""

import math

import numpy as np

#: A pixel within this fraction of the range of an end counts as clipped (an 8-bit step
#: is 1/255 ≈ 0.0039 of the range).
CLIP_TOLERANCE = 1e-3
HUBER = 3.0  # residuals beyond 3σ count linearly (edges the denoiser smoothed)


def clipped(x, value_range):
    """Boolean mask of the elements of one image `x` that sit at an end of `value_range`
    where the image was clipped. An end is taken as clipped only when no element lies
    beyond it: noisy data that was not clipped (a benchmark's float images) has none."""
    x = np.asarray(x)
    if value_range is None:
        return np.zeros(x.shape, bool)
    low, high = value_range
    tol = CLIP_TOLERANCE * (high - low)
    mask = np.zeros(x.shape, bool)
    if x.min() >= low - tol:
        mask |= x <= low + tol
    if x.max() <= high + tol:
        mask |= x >= high - tol
    return mask


def wavelet_sigma(images, value_range=None):
    """Per-image σ̂ from the finest diagonal Haar coefficients (Donoho's MAD rule).

    The coefficients (a − b − c + d)/2 of every overlapping 2×2 window are N(0, σ²) for
    white noise and near zero on smooth regions, so σ̂ = median(|HH|) / 0.6745, pooled over
    the channels. With `value_range`, windows holding a clipped pixel are left out (unless
    fewer than a tenth of the windows would remain).

    Args:
        images: `(N, H, W, C)` array (or list of `(H, W, C)` arrays) on any value scale.
        value_range: `(low, high)` the images were clipped to, or None.

    Returns:
        A float32 array `(N,)` of σ̂ on the images' scale.

    Example:
    >>> sigma_hat = wavelet_sigma(noisy, value_range=(0.0, 1.0))
    """
    out = []
    for im in images:
        im = np.asarray(im, dtype="float64")
        if im.ndim == 2:
            im = im[..., None]
        if im.ndim != 3 or im.shape[0] < 2 or im.shape[1] < 2:
            raise ValueError("`images` must hold (H, W, C) images of at least 2×2 pixels. "
                             f"Received: an image of shape {im.shape}")
        a, b, c, d = im[:-1, :-1], im[:-1, 1:], im[1:, :-1], im[1:, 1:]
        hh = np.abs(a - b - c + d) / 2.0
        cut = clipped(im, value_range)
        keep = ~(cut[:-1, :-1] | cut[:-1, 1:] | cut[1:, :-1] | cut[1:, 1:])
        out.append(np.median(hh[keep] if keep.mean() >= 0.1 else hh) / 0.6745)
    return np.asarray(out, dtype="float32")


def censored_sigma(noisy, denoised, value_range=None, max_pixels=2**18):
    """Per-example σ̂ of Gaussian noise clipped to `value_range`, given a denoised estimate:
    the median rule, σ̂ = median|x̃ − x̂| / 0.6745, with the clipping accounted for.

    Without clipping, half the residuals |x̃ − x̂| of Gaussian noise lie within 0.6745 σ.
    Clipping changes that per pixel: where x̂ lies within 0.6745 σ of a clipped end, every
    draw that crossed the end lands on it, inside the band. σ̂ is the smallest σ at which
    the share of residuals inside the band reaches its expectation under clipped noise, on
    a grid of log σ (0.2 % steps). Unclipped data gives the median rule exactly. Examples
    over `max_pixels` elements are subsampled (evenly strided).

    Args:
        noisy: `(N, ...)` noisy examples x̃ (as read from the file: clipped or not).
        denoised: `(N, ...)` the denoiser's output x̂ for them.
        value_range: `(low, high)` the data may have been clipped to (`clipped` decides,
            per example and end), or None.
        max_pixels: elements per example used at most.

    Returns:
        A float32 array `(N,)`.
    """
    noisy = np.asarray(noisy, "float64").reshape(len(noisy), -1)
    denoised = np.asarray(denoised, "float64").reshape(len(noisy), -1)
    tail = 0.5 * math.erfc(MEDIAN_BAND / math.sqrt(2.0))  # P(n > 0.6745 σ) = 1/4
    out = []
    for y, x in zip(noisy, denoised):
        step = max(1, y.size // max_pixels)
        y, x = y[::step], x[::step]
        r = np.sort(np.abs(y - x))
        cut = clipped(y, value_range)
        if not cut.any():
            out.append(max(r[len(r) // 2], 1e-12) / MEDIAN_BAND)
            continue
        low, high = value_range
        tol = CLIP_TOLERANCE * (high - low)
        # The share of pixels whose x̂ lies at least `band` from an end that was clipped:
        # that end's tail of the noise falls outside the band (an unclipped end: all).
        ends = [np.sort(x - low) if y.min() >= low - tol else None,
                np.sort(high - x) if y.max() <= high + tol else None]
        grid = np.exp(np.arange(np.log(max(r[len(r) // 2], 1e-9) / 4), np.log(max(r[-1], 1e-9) * 4), 0.002))
        band = MEDIAN_BAND * grid
        observed = np.searchsorted(r, band, side="right") / r.size
        tails = sum(np.ones_like(band) if d is None else 1.0 - np.searchsorted(d, band, side="left") / d.size
                    for d in ends)
        expected = 1.0 - tail * tails
        # The first σ at which the observed share reaches the expected one (both reach 1
        # for σ beyond the range, where the band holds every pixel).
        out.append(grid[int(np.argmax(observed >= expected))])
    return np.asarray(out, dtype="float32")


MEDIAN_BAND = 0.6744897501960817  # Φ⁻¹(3/4): half of |N(0, 1)| lies within it
