"""Classical denoisers and inpainters on NumPy arrays, with per-sigma parameter grids.

Each denoiser takes images `(N, H, W, C)` (or a list of `(H, W, C)` arrays) in [0, 1] and a
noise level `sigma` on that scale, and returns denoised images of the same layout (not
clipped: the evaluation harness clips). Parameters that are not fixed by `sigma` are picked
per sigma by `tune` on validation images, from the grids in `GRIDS`.

- `"bm3d"`: BM3D (the `bm3d` package, imported when first used), with
  `sigma_psd = sigma_scale * sigma`.
- `"nlm"`: non-local means (`skimage.restoration.denoise_nl_means`), `h = h_scale * sigma`.
- `"tv"`: total variation, Chambolle's algorithm, `weight = weight_scale * sigma`.
- `"wavelet"`: wavelet shrinkage (`skimage.restoration.denoise_wavelet`, needs PyWavelets).
- `"wiener"`: the linear MMSE (Wiener/PCA) estimator from the mean `mu` and covariance
  `S` of clean training images (or patches): `x = mu + S (S + a sigma^2 I)^-1 (y - mu)`.

Plus `median_filter` (salt-and-pepper noise), `inpaint_biharmonic` (inpainting) and
`estimate_sigma` (the noise level of an image, for blind use of σ-conditioned models).
"""

import numpy as np

from keras_dae import noise_level
from keras_dae.metrics import psnr_numpy

GRIDS = {
    "bm3d": {"sigma_scale": (0.9, 1.0, 1.1)},
    "nlm": {
        "h_scale": (0.3, 0.45, 0.6, 0.8, 1.0, 1.25),
        "patch_size": (3, 5),
        "patch_distance": (4, 6, 9),
    },
    "tv": {"weight_scale": (0.3, 0.4, 0.5, 0.65, 0.8, 1.0, 1.3)},
    "wavelet": {
        "wavelet": ("db1", "db2", "sym4", "db4"),
        "method": ("BayesShrink", "VisuShrink"),
        "sigma_scale": (0.35, 0.5, 0.75, 1.0),
    },
    "wiener": {"noise_scale": (0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.25)},
}
METHODS = tuple(GRIDS)


def _map(fn, images):
    out = []
    for im in images:
        im = np.asarray(im, dtype="float64")
        res = fn(im[..., 0] if im.shape[-1] == 1 else im)
        out.append(np.asarray(res, dtype="float32").reshape(im.shape))
    return np.stack(out) if isinstance(images, np.ndarray) else out


def _check_sigma(sigma):
    if not sigma > 0:
        raise ValueError(f"`sigma` must be positive. Received: sigma={sigma}")


def denoise_bm3d(images, sigma, sigma_scale=1.0, profile="np"):
    """BM3D on each image: gray images by `bm3d.bm3d`, RGB images by CBM3D (`bm3d.bm3d_rgb`:
    BM3D in the opponent colour space, grouped on the luminance), other channel counts
    channel by channel.

    Example:
    >>> out = denoise_bm3d(noisy, sigma=0.1)
    """
    _check_sigma(sigma)
    try:
        import bm3d
    except ImportError as e:
        raise ImportError(
            "The BM3D baseline needs the `bm3d` package: `pip install bm3d` "
            "(or `pip install keras-dae[bm3d]`)."
        ) from e

    def one(im):
        if im.ndim == 3 and im.shape[-1] == 3:
            return bm3d.bm3d_rgb(im, sigma * sigma_scale, profile)
        if im.ndim == 3:
            return np.stack([bm3d.bm3d(im[..., c], sigma * sigma_scale, profile)
                                 for c in range(im.shape[-1])], axis=-1)
        return bm3d.bm3d(im, sigma * sigma_scale, profile)

    return _map(one, images)


def denoise_nlm(images, sigma, h_scale=0.8, patch_size=5, patch_distance=6):
    """Non-local means (scikit-image, fast mode, noise variance subtracted).

    Example:
    >>> out = denoise_nlm(noisy, sigma=0.1, h_scale=0.6)
    """
    from skimage.restoration import denoise_nl_means

    _check_sigma(sigma)
    return _map(
        lambda im: denoise_nl_means(
            im, h=h_scale * sigma, sigma=sigma, patch_size=patch_size,
            patch_distance=patch_distance, fast_mode=True,
            channel_axis=-1 if im.ndim == 3 else None,
        ),
        images,
    )


def denoise_tv(images, sigma, weight_scale=0.5):
    """Total-variation denoising (Chambolle), `weight = weight_scale * sigma`.

    Example:
    >>> out = denoise_tv(noisy, sigma=0.3, weight_scale=0.5)
    """
    from skimage.restoration import denoise_tv_chambolle

    _check_sigma(sigma)
    return _map(
        lambda im: denoise_tv_chambolle(
            im, weight=weight_scale * sigma, channel_axis=-1 if im.ndim == 3 else None
        ),
        images,
    )


def denoise_wavelet(images, sigma, wavelet="db1", method="BayesShrink", sigma_scale=1.0):
    """Wavelet shrinkage (scikit-image, soft thresholds, needs PyWavelets).

    Example:
    >>> out = denoise_wavelet(noisy, sigma=0.1, wavelet="db2")
    """
    from skimage.restoration import denoise_wavelet as skimage_wavelet

    _check_sigma(sigma)
    return _map(
        lambda im: skimage_wavelet(
            im, sigma=sigma * sigma_scale, wavelet=wavelet, method=method, mode="soft",
            rescale_sigma=True, channel_axis=-1 if im.ndim == 3 else None,
        ),
        images,
    )


class WienerDenoiser:
    """Linear MMSE (Wiener/PCA) denoiser fitted on clean images or patches.

    With `patch_size=None` the estimator acts on whole images (all of the same size; e.g.
    784-D MNIST digits); otherwise on every overlapping `patch_size` square patch, and the
    overlapping estimates are averaged.

    Args:
        patch_size: `None` (whole images) or the side of square patches.
        max_patches: patches sampled from the training images to fit the covariance.
        seed: seed of that sampling.

    Example:
    >>> wiener = WienerDenoiser().fit(x_train)
    >>> out = wiener.denoise(noisy, sigma=0.3)
    """

    def __init__(self, patch_size=None, max_patches=200_000, seed=0):
        self.patch_size = patch_size
        self.max_patches = max_patches
        self.seed = seed
        self.mean = self.eigvals = self.eigvecs = None

    def _vectors(self, im):
        p = self.patch_size
        win = np.lib.stride_tricks.sliding_window_view(im, (p, p), axis=(0, 1))
        # win: (H-p+1, W-p+1, C, p, p) -> rows of C*p*p values.
        return win.reshape(win.shape[0] * win.shape[1], -1), win.shape

    def fit(self, images):
        """Fits the mean and covariance; `images` as `(N, H, W, C)` or a list."""
        if self.patch_size is None:
            data = np.asarray(images, dtype="float64").reshape(len(images), -1)
        else:
            rng = np.random.default_rng(self.seed)
            per_image = max(1, self.max_patches // len(images))
            rows = []
            for im in images:
                vec, _ = self._vectors(np.asarray(im, dtype="float64"))
                rows.append(vec[rng.choice(len(vec), min(per_image, len(vec)), replace=False)])
            data = np.concatenate(rows)
        self.mean = data.mean(axis=0)
        cov = np.cov(data, rowvar=False, bias=True)
        eigvals, self.eigvecs = np.linalg.eigh(cov)
        self.eigvals = np.maximum(eigvals, 0.0)
        return self

    def _apply(self, vectors, sigma, noise_scale):
        gain = self.eigvals / (self.eigvals + noise_scale * sigma**2)
        centered = vectors - self.mean
        return self.mean + ((centered @ self.eigvecs) * gain) @ self.eigvecs.T

    def denoise(self, images, sigma, noise_scale=1.0):
        """Denoises `images` with noise level `sigma`; `noise_scale` scales `sigma**2`."""
        _check_sigma(sigma)
        if self.mean is None:
            raise ValueError("Call `fit` on clean images before `denoise`.")
        if self.patch_size is None:
            arr = np.asarray(images, dtype="float64")
            out = self._apply(arr.reshape(len(arr), -1), sigma, noise_scale)
            return out.reshape(arr.shape).astype("float32")
        out = []
        p = self.patch_size
        for im in images:
            im = np.asarray(im, dtype="float64")
            vec, shape = self._vectors(im)
            est = self._apply(vec, sigma, noise_scale).reshape(shape)
            acc, cnt = np.zeros_like(im), np.zeros(im.shape[:2] + (1,))
            for i in range(p):
                for j in range(p):
                    # est[..., c, i, j] is pixel (r + i, s + j) of the patch at (r, s).
                    acc[i : i + shape[0], j : j + shape[1]] += est[..., i, j]
                    cnt[i : i + shape[0], j : j + shape[1]] += 1
            out.append((acc / cnt).astype("float32"))
        return np.stack(out) if isinstance(images, np.ndarray) else out


def denoise(baseline, images, sigma, wiener=None, **params):
    """Runs the classical denoiser `baseline` (a key of `GRIDS`) with `params`."""
    if baseline == "wiener":
        if wiener is None:
            raise ValueError("`wiener` must be a fitted `WienerDenoiser`. Received: wiener=None")
        return wiener.denoise(images, sigma, **params)
    functions = {"bm3d": denoise_bm3d, "nlm": denoise_nlm, "tv": denoise_tv,
                 "wavelet": denoise_wavelet}
    if baseline not in functions:
        raise ValueError(
            f"`baseline` must be one of {METHODS}. Received: baseline={baseline!r}"
        )
    return functions[baseline](images, sigma, **params)


def _grid(grid):
    combos = [{}]
    for key, values in grid.items():
        combos = [dict(c, **{key: v}) for c in combos for v in values]
    return combos


def tune(baseline, clean, noisy, sigma, grid=None, wiener=None):
    """Picks the parameters of `baseline` with the best mean PSNR on validation images.

    Args:
        baseline: a key of `GRIDS`.
        clean: clean validation images in [0, 1].
        noisy: the same images with noise of level `sigma`.
        sigma: noise level on the [0, 1] scale.
        grid: `{param: values}`; defaults to `GRIDS[baseline]`.
        wiener: the fitted `WienerDenoiser` for `baseline="wiener"`.

    Returns:
        `(best_params, scores)`, scores a list of `(params, mean PSNR)`.

    Example:
    >>> params, _ = tune("tv", x_val[:200], noisy_val[:200], sigma=0.3)
    """
    scores = []
    for params in _grid(GRIDS[baseline] if grid is None else grid):
        out = denoise(baseline, noisy, sigma, wiener=wiener, **params)
        value = float(np.mean([psnr_numpy(c[None], np.clip(o, 0, 1)[None])[0]
                               for c, o in zip(clean, out)]))
        scores.append((params, value))
    return max(scores, key=lambda s: s[1])[0], scores


def estimate_sigma(images):
    """Per-image σ of additive white Gaussian noise by Donoho's MAD rule
    (`keras_dae.noise_level.wavelet_sigma` without a value range: every pixel counts).

    Example:
    >>> sigma_hat = estimate_sigma(noisy)  # then model.denoise(noisy, sigma=sigma_hat)
    """
    return noise_level.wavelet_sigma(images)


def median_filter(images, size=3):
    """Median filter of `size` x `size` over each channel (for salt-and-pepper noise).

    Example:
    >>> out = median_filter(noisy, size=3)
    """
    from scipy.ndimage import median_filter as scipy_median

    return _map(lambda im: scipy_median(im, size=(size, size) + (1,) * (im.ndim - 2),
                                        mode="reflect"), images)


def inpaint_biharmonic(images, masks):
    """Biharmonic inpainting (scikit-image) of the pixels where `masks` is nonzero.

    Args:
        images: `(N, H, W, C)` or a list of `(H, W, C)` arrays; masked pixels are ignored.
        masks: same layout with one channel: 1 where the pixel is missing.

    Example:
    >>> filled = inpaint_biharmonic(x * (1 - mask), mask)
    """
    from skimage.restoration import inpaint_biharmonic as skimage_inpaint

    out = []
    for im, m in zip(images, masks):
        im = np.asarray(im, dtype="float64")
        m = np.asarray(m)[..., 0].astype(bool)
        if im.shape[-1] == 1:
            res = skimage_inpaint(im[..., 0], m)[..., None]
        else:
            res = skimage_inpaint(im, m, channel_axis=-1)
        out.append(res.astype("float32"))
    return np.stack(out) if isinstance(images, np.ndarray) else out
