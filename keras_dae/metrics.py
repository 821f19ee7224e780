"""Image-quality metrics: PSNR, SSIM and MSE, per image then averaged.

Every metric is computed per image and then averaged over the batch, as denoising papers
report them (Keras' own `keras.ops.psnr` computes one PSNR over the whole batch, which is a
different, larger number when images differ in difficulty).

SSIM uses the Gaussian window of Wang et al. (2004): an 11x11 window with sigma 1.5,
population (not sample) covariances, K1 = 0.01, K2 = 0.03, averaged over the pixels whose
window lies inside the image. It matches
`skimage.metrics.structural_similarity(x, y, data_range=R, gaussian_weights=True, sigma=1.5,
use_sample_covariance=False)` (per channel, then averaged over channels) to about 1e-6.

Inputs are batches laid out NHWC, `(N, H, W, C)`; `(N, H, W)` is read as one channel.
The functions come twice: with `keras.ops` (`psnr`, `ssim`, `mse`, any backend, usable in a
training graph) and with NumPy in float64 (`psnr_numpy`, `ssim_numpy`, `mse_numpy`, for the
evaluation harness).
"""

import keras
import numpy as np
from keras import ops

_K1, _K2, _SIGMA, _TRUNCATE = 0.01, 0.03, 1.5, 3.5


def _gaussian_taps():
    radius = int(_TRUNCATE * _SIGMA + 0.5)
    t = np.arange(-radius, radius + 1, dtype="float64")
    w = np.exp(-0.5 * (t / _SIGMA) ** 2)
    return w / w.sum()


def _check(x, y, name, value):
    if value is None or not value > 0:
        raise ValueError(f"`{name}` must be a positive number. Received: {name}={value}")
    if tuple(x.shape) != tuple(y.shape):
        raise ValueError(
            f"`x` and `y` must have the same shape. Received: x.shape={tuple(x.shape)}, "
            f"y.shape={tuple(y.shape)}"
        )
    if len(x.shape) not in (3, 4):
        raise ValueError(
            "Expected a batch of images shaped (N, H, W, C) or (N, H, W). "
            f"Received: x.shape={tuple(x.shape)}"
        )


def _reduce(values, reduction):
    if reduction == "mean":
        return ops.mean(values)
    if reduction in (None, "none"):
        return values
    raise ValueError(f"`reduction` must be 'mean' or 'none'. Received: reduction={reduction}")


def mse(x, y, reduction="mean"):
    """Mean squared error per image, averaged over the batch.

    Args:
        x: reference images, `(N, H, W, C)` or `(N, H, W)`.
        y: images to compare, same shape as `x`.
        reduction: `"mean"` for the batch average, `"none"` for one value per image.

    Returns:
        A scalar tensor, or a tensor of shape `(N,)`.

    Example:
    >>> float(mse(np.zeros((2, 4, 4, 1)), np.ones((2, 4, 4, 1))))
    1.0
    """
    x = ops.convert_to_tensor(x, "float32")
    y = ops.convert_to_tensor(y, "float32")
    _check(x, y, "reduction", 1)
    axes = tuple(range(1, len(x.shape)))
    return _reduce(ops.mean(ops.square(x - y), axis=axes), reduction)


def psnr(x, y, max_val=1.0, reduction="mean"):
    """Peak signal-to-noise ratio in dB, per image, then averaged over the batch.

    Agrees with `skimage.metrics.peak_signal_noise_ratio(x_i, y_i, data_range=max_val)`
    averaged over images `i`. An image identical to its reference gives `inf`.

    Args:
        x: reference images, `(N, H, W, C)` or `(N, H, W)`.
        y: images to compare, same shape as `x`.
        max_val: the peak value (data range): 1.0 for images in [0, 1], 255.0 for [0, 255].
        reduction: `"mean"` for the batch average, `"none"` for one value per image.

    Returns:
        A scalar tensor, or a tensor of shape `(N,)`.

    Example:
    >>> x = np.zeros((2, 8, 8, 1), "float32")
    >>> round(float(psnr(x, x + 0.1, max_val=1.0)), 4)
    20.0
    """
    x = ops.convert_to_tensor(x, "float32")
    y = ops.convert_to_tensor(y, "float32")
    _check(x, y, "max_val", max_val)
    per_image = mse(x, y, reduction="none")
    values = 10.0 * ops.log(float(max_val) ** 2 / per_image) / np.log(10.0)
    return _reduce(values, reduction)


def ssim(x, y, data_range=1.0, reduction="mean"):
    """Structural similarity (Gaussian window, sigma 1.5), per image, averaged.

    Matches scikit-image's `structural_similarity` with `gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False` and the same `data_range`; for several channels, the
    per-channel values are averaged. Images must be at least 11x11.

    Args:
        x: reference images, `(N, H, W, C)` or `(N, H, W)`.
        y: images to compare, same shape as `x`.
        data_range: the value range of the images (1.0 for [0, 1], 255.0 for [0, 255]).
        reduction: `"mean"` for the batch average, `"none"` for one value per image.

    Returns:
        A scalar tensor, or a tensor of shape `(N,)`.

    Example:
    >>> x = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    >>> round(float(ssim(x, x)), 4)
    1.0
    """
    x = ops.convert_to_tensor(x, "float32")
    y = ops.convert_to_tensor(y, "float32")
    _check(x, y, "data_range", data_range)
    if len(x.shape) == 3:
        x, y = x[..., None], y[..., None]
    n, h, w, c = ops.shape(x)
    taps = _gaussian_taps()
    if h < taps.size or w < taps.size:
        raise ValueError(
            f"`ssim` needs images of at least {taps.size}x{taps.size}. "
            f"Received: x.shape={tuple(x.shape)}"
        )
    # (5N, C, H, W) -> (5N*C, H, W, 1): filter every channel of every statistic at once.
    stats = ops.concatenate([x, y, x * x, y * y, x * y], axis=0)
    stats = ops.reshape(ops.transpose(stats, (0, 3, 1, 2)), (-1, h, w, 1))
    k = ops.convert_to_tensor(taps.astype("float32"))
    stats = ops.conv(stats, ops.reshape(k, (-1, 1, 1, 1)), padding="valid")
    stats = ops.conv(stats, ops.reshape(k, (1, -1, 1, 1)), padding="valid")
    stats = ops.reshape(stats, (5, n, -1))
    ux, uy, uxx, uyy, uxy = (stats[i] for i in range(5))
    vx, vy, vxy = uxx - ux * ux, uyy - uy * uy, uxy - ux * uy
    c1 = (_K1 * float(data_range)) ** 2
    c2 = (_K2 * float(data_range)) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return _reduce(ops.mean(s, axis=1), reduction)


def _np_pair(x, y, name, value):
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    _check(x, y, name, value)
    if x.ndim == 3:
        x, y = x[..., None], y[..., None]
    return x, y


def mse_numpy(x, y):
    """NumPy (float64) `mse`: one value per image, shape `(N,)`."""
    x, y = _np_pair(x, y, "reduction", 1)
    return np.mean((x - y) ** 2, axis=(1, 2, 3))


def psnr_numpy(x, y, max_val=1.0):
    """NumPy (float64) `psnr`: one value per image in dB, shape `(N,)`.

    Example:
    >>> x = np.zeros((1, 8, 8))
    >>> psnr_numpy(x, x + 0.1).round(4).tolist()
    [20.0]
    """
    x, y = _np_pair(x, y, "max_val", max_val)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(float(max_val) ** 2 / np.mean((x - y) ** 2, axis=(1, 2, 3)))


def psnr_masked_numpy(x, y, mask, max_val=1.0, pooled=False):
    """PSNR inside a mask (1 where a pixel was missing), in dB; pixels outside the mask do
    not count.

    Args:
        x, y: images `(N, H, W[, C])`.
        mask: broadcastable to the images; every image's mask must mark a pixel.
        max_val: the peak value.
        pooled: False: one value per image, `(N,)`; True: one value from the mean squared
            error over every masked pixel of the set (finite where some per-image values
            are not: a hole on a blank background that is filled exactly).

    Example:
    >>> x, mask = np.zeros((1, 8, 8, 1)), np.zeros((1, 8, 8, 1))
    >>> mask[:, :4] = 1
    >>> psnr_masked_numpy(x, x + 0.1 * mask, mask).round(4).tolist()
    [20.0]
    """
    x, y = _np_pair(x, y, "max_val", max_val)
    mask = np.broadcast_to(np.asarray(mask, "float64").reshape(
        np.shape(mask) + (1,) * (x.ndim - np.ndim(mask))), x.shape)
    count = np.sum(mask, axis=(1, 2, 3))
    if np.any(count == 0):
        raise ValueError(f"`mask` must mark at least one pixel of every image. Received: "
                         f"{int(np.sum(count == 0))} empty mask(s)")
    err = np.sum(mask * (x - y) ** 2, axis=(1, 2, 3))
    mse = np.sum(err) / np.sum(count) if pooled else err / count
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(float(max_val) ** 2 / mse)


def _filter_valid(a, taps):
    # a: (..., H, W) -> (..., H - k + 1, W - k + 1), separable 'valid' correlation.
    win = np.lib.stride_tricks.sliding_window_view(a, taps.size, axis=-2)
    a = np.tensordot(win, taps, axes=([-1], [0]))
    win = np.lib.stride_tricks.sliding_window_view(a, taps.size, axis=-1)
    return np.tensordot(win, taps, axes=([-1], [0]))


def ssim_numpy(x, y, data_range=1.0):
    """NumPy (float64) `ssim`: one value per image, shape `(N,)`.

    Example:
    >>> x = np.random.default_rng(0).random((2, 16, 16))
    >>> ssim_numpy(x, x).round(6).tolist()
    [1.0, 1.0]
    """
    x, y = _np_pair(x, y, "data_range", data_range)
    x, y = np.moveaxis(x, -1, 1), np.moveaxis(y, -1, 1)
    taps = _gaussian_taps()
    ux, uy = _filter_valid(x, taps), _filter_valid(y, taps)
    vx = _filter_valid(x * x, taps) - ux * ux
    vy = _filter_valid(y * y, taps) - uy * uy
    vxy = _filter_valid(x * y, taps) - ux * uy
    c1, c2 = (_K1 * data_range) ** 2, (_K2 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    return s.mean(axis=(1, 2, 3))


@keras.saving.register_keras_serializable(package="keras_dae")
class PSNR(keras.metrics.MeanMetricWrapper):
    """PSNR in dB, per image, averaged over every image seen (for `compile(metrics=...)`).

    Args:
        max_val: the peak value (data range) of the images.
        name: metric name.
        dtype: dtype of the metric's state.

    Example:
    ```python
    model.compile(optimizer="adam", loss="mse", metrics=[keras_dae.metrics.PSNR(1.0)])
    ```
    """

    def __init__(self, max_val=1.0, name="psnr", dtype=None):
        super().__init__(fn=psnr, name=name, dtype=dtype, max_val=max_val, reduction="none")
        self.max_val = max_val

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "max_val": self.max_val}


@keras.saving.register_keras_serializable(package="keras_dae")
class SSIM(keras.metrics.MeanMetricWrapper):
    """SSIM (Gaussian window), per image, averaged over every image seen.

    Args:
        data_range: the value range of the images.
        name: metric name.
        dtype: dtype of the metric's state.

    Example:
    ```python
    model.compile(optimizer="adam", loss="mse", metrics=[keras_dae.metrics.SSIM(1.0)])
    ```
    """

    def __init__(self, data_range=1.0, name="ssim", dtype=None):
        super().__init__(
            fn=ssim, name=name, dtype=dtype, data_range=data_range, reduction="none"
        )
        self.data_range = data_range

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "data_range": self.data_range}
