"""Degradation operators for plug-and-play restoration: a forward map and the data step it
admits (deepinv's split: an operator knows its physics, a solver only calls it).

Every operator maps a batch of images `x` `(N, H, W, C)` to observations `y = A(x)` and
solves the data step of half-quadratic splitting in closed form,

    data_step(z, y, alpha) = argmin_x ||y − A(x)||² + alpha · ||x − z||²,

with `keras.ops` only (FFTs over the image plane), so one code path runs on TensorFlow,
JAX and PyTorch. `initial(y)` is the first estimate of `x` a solver starts from.

- `Blur(kernel)`: circular convolution, as `scipy.ndimage.convolve(x, k, mode="wrap")`;
- `Downsample(scale, kernel)`: circular convolution, then every `scale`-th pixel from the
  first (the "classical" degradation of DPIR/USRNet); the default kernel is the antialiased
  bicubic kernel of MATLAB's `imresize` and Pillow's `BICUBIC`;
- `Mask(missing)`: the pixels where `missing` is 1 are lost (inpainting).
"""

import keras
import numpy as np
from keras import ops


def check_kernel(kernel, name="kernel", nonnegative=True):
    """A blur or downsampling kernel as float64: 2-D, finite, non-negative (a blur; a
    downsampling kernel such as the bicubic has negative lobes), summing to 1 (within 1e-3,
    then renormalised: published kernels are stored to a few digits)."""
    k = np.asarray(kernel, dtype="float64")
    if k.ndim != 2 or min(k.shape) < 1:
        raise ValueError(f"`{name}` must be a 2-D array. Received: {name} of shape {k.shape}")
    if not np.all(np.isfinite(k)) or (nonnegative and k.min() < 0):
        raise ValueError(f"`{name}` must be finite{' and non-negative' if nonnegative else ''}. "
                         f"Received: {name} with min={np.nanmin(k):.4g}, max={np.nanmax(k):.4g}")
    if abs(k.sum() - 1.0) > 1e-3:
        raise ValueError(f"`{name}` must sum to 1 (a blur that keeps the mean). Received: {name} "
                         f"summing to {k.sum():.6g}")
    return k / k.sum()


def bicubic_kernel(scale):
    """The antialiased bicubic kernel of downscaling by an integer `scale` (Keys' cubic with
    a = −0.5, stretched by `scale`: MATLAB's `imresize` and Pillow's `BICUBIC`), aligned so
    that convolution then sampling every `scale`-th pixel from the first lands on the
    centres of the low-resolution pixels. Odd size `2·(2·scale + scale // 2) + 1`: the
    cubic's support of 4·scale taps, shifted by (scale − 1)/2."""
    if not isinstance(scale, (int, np.integer)) or scale < 2:
        raise ValueError(f"`scale` must be an integer >= 2. Received: scale={scale!r}")
    radius = 2 * scale + scale // 2
    m = np.arange(-radius, radius + 1, dtype="float64")
    taps = _cubic((m + (scale - 1) / 2.0) / scale)
    taps /= taps.sum()
    return np.outer(taps, taps)


def _cubic(t, a=-0.5):
    t = np.abs(t)
    return np.where(t <= 1, (a + 2) * t**3 - (a + 3) * t**2 + 1,
                    np.where(t < 2, a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a, 0.0))


def bicubic_upsample_matrix(n, scale):
    """`(scale·n, n)` matrix of bicubic interpolation (a = −0.5, edges replicated): the
    image-domain start of super-resolution, as `cv2.resize(..., INTER_CUBIC)`."""
    out = (np.arange(scale * n) + 0.5) / scale - 0.5
    base = np.floor(out).astype(int)
    matrix = np.zeros((scale * n, n))
    for offset in range(-1, 3):
        idx = base + offset
        matrix[np.arange(scale * n), np.clip(idx, 0, n - 1)] += _cubic(out - idx)
    return matrix


def _otf(kernel, shape):
    """The kernel's transfer function on an `shape` grid (its centre at the origin)."""
    h, w = shape
    kh, kw = kernel.shape
    if kh > h or kw > w:
        raise ValueError(f"The image ({h}×{w}) is smaller than the kernel ({kh}×{kw}).")
    pad = np.zeros(shape)
    pad[:kh, :kw] = kernel
    pad = np.roll(pad, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    return np.fft.fft2(pad)


def _complex(z):
    return ops.convert_to_tensor(z.real, "float32"), ops.convert_to_tensor(z.imag, "float32")


def _to_planes(x):
    """`(N, H, W, C)` → `(N, C, H, W)`: the last two axes are the ones FFTs run over."""
    return ops.transpose(ops.convert_to_tensor(x, "float32"), (0, 3, 1, 2))


def _from_planes(x):
    return ops.transpose(x, (0, 2, 3, 1))


def _fft2(x):
    return ops.fft2((x, ops.zeros_like(x)))


def _ifft2_real(re, im):
    return ops.ifft2((re, im))[0]


def _cmul(a, b):
    return a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]


class Operator:
    """A degradation `y = A(x)` of image batches `(N, H, W, C)`; see the module docstring."""

    #: The smallest denoiser σ a solver anneals to for this degradation (0–1 scale).
    sigma_floor = 0.6 / 255.0
    #: The task kind (`"deblur"`, `"sr"`, `"inpaint"`): what defaults are looked up by.
    kind = None

    def forward(self, x):
        raise NotImplementedError

    def data_step(self, z, y, alpha):
        raise NotImplementedError

    def initial(self, y):
        return ops.convert_to_tensor(y, "float32")

    def image_shape(self, y_shape):
        """The shape of `x` whose observation has `y_shape`."""
        return tuple(y_shape)


class Blur(Operator):
    """Circular convolution with `kernel` (2-D, non-negative, summing to 1), as
    `scipy.ndimage.convolve(x, kernel, mode="wrap")` per channel, DPIR's deblurring model.

    Example:

    >>> blur = Blur(np.ones((5, 5)) / 25)
    >>> y = blur.forward(x) + 0.01 * np.random.default_rng(0).standard_normal(x.shape)
    >>> x_hat = restore(y, blur, noise_sigma=0.01, model=keras_dae.load("dncnn-bsd400-gauss"))
    """

    kind = "deblur"

    def __init__(self, kernel):
        self.kernel = check_kernel(kernel)
        self._cache = {}

    def _transfer(self, shape):
        if shape not in self._cache:
            otf = _otf(self.kernel, shape)
            self._cache[shape] = (_complex(otf), ops.convert_to_tensor(np.abs(otf) ** 2, "float32"))
        return self._cache[shape]

    def forward(self, x):
        planes = _to_planes(x)
        (k, _) = self._transfer(tuple(planes.shape[-2:]))
        return _from_planes(_ifft2_real(*_cmul(k, _fft2(planes))))

    def data_step(self, z, y, alpha):
        y, z = _to_planes(y), _to_planes(z)
        (k, k2) = self._transfer(tuple(y.shape[-2:]))
        ky = _cmul((k[0], -k[1]), _fft2(y))  # conj(K)·F(y)
        fz = _fft2(z)
        denominator = k2 + alpha
        return _from_planes(_ifft2_real((ky[0] + alpha * fz[0]) / denominator,
                                        (ky[1] + alpha * fz[1]) / denominator))


class Downsample(Operator):
    """Circular convolution with `kernel`, then every `scale`-th pixel from the first: the
    degradation of super-resolution. The default kernel, `bicubic_kernel(scale)`, makes
    `forward` the antialiased bicubic downscale of MATLAB's `imresize` and Pillow's
    `Image.resize(..., BICUBIC)` (up to the image borders, which wrap around here).

    The data step is the closed form of Zhao et al. (2016) as used by USRNet and DPIR: FFTs
    at the high resolution, averaged over the `scale`² aliased blocks.

    Example:

    >>> down = Downsample(2)
    >>> x_hat = restore(low, down, noise_sigma=0.0, model=keras_dae.load("dncnn-bsd400-gauss"))
    """

    kind = "sr"

    def __init__(self, scale, kernel=None):
        if not isinstance(scale, (int, np.integer)) or isinstance(scale, bool) or scale < 2:
            raise ValueError(f"`scale` must be an integer >= 2. Received: scale={scale!r}")
        self.scale = int(scale)
        self.kernel = bicubic_kernel(self.scale) if kernel is None else check_kernel(kernel, nonnegative=False)
        self.sigma_floor = self.scale / 255.0  # DPIR's last σ for super-resolution
        self._cache = {}

    def image_shape(self, y_shape):
        n, h, w, c = y_shape
        return (n, h * self.scale, w * self.scale, c)

    def _transfer(self, shape):
        if shape not in self._cache:
            otf = _otf(self.kernel, shape)
            s = self.scale
            blocks = (np.abs(otf) ** 2).reshape(s, shape[0] // s, s, shape[1] // s).mean(axis=(0, 2))
            self._cache[shape] = (_complex(otf), ops.convert_to_tensor(blocks, "float32"))
        return self._cache[shape]

    def _check(self, y):
        if min(y.shape[1:3]) < 2:
            raise ValueError(f"The low-resolution image is too small to upscale ({y.shape[1]}×{y.shape[2]}).")

    def forward(self, x):
        planes = _to_planes(x)
        h, w = planes.shape[-2:]
        if h % self.scale or w % self.scale:
            raise ValueError(f"`x` must have sides divisible by the scale {self.scale}. "
                             f"Received: x of shape {tuple(x.shape)}")
        (k, _) = self._transfer((h, w))
        blurred = _ifft2_real(*_cmul(k, _fft2(planes)))
        return _from_planes(blurred[:, :, :: self.scale, :: self.scale])

    def _zero_insert(self, y):
        """`(N, C, h, w)` → `(N, C, s·h, s·w)` with y at every `scale`-th pixel, 0 between."""
        n, c, h, w = y.shape
        s = self.scale
        y = ops.pad(ops.reshape(y, (n, c, h, 1, w, 1)), [[0, 0], [0, 0], [0, 0], [0, s - 1], [0, 0], [0, s - 1]])
        return ops.reshape(y, (n, c, h * s, w * s))

    def data_step(self, z, y, alpha):
        self._check(y)
        y, z = _to_planes(y), _to_planes(z)
        n, c, h, w = y.shape
        s = self.scale
        k, k2_blocks = self._transfer((h * s, w * s))
        k_conj = (k[0], -k[1])
        fy = _cmul(k_conj, _fft2(self._zero_insert(y)))  # F(Kᵀ Sᵀ y)
        fz = _fft2(z)
        fr = (fy[0] + alpha * fz[0], fy[1] + alpha * fz[1])
        kr = _cmul(k, fr)

        def block_mean(v):  # the mean of the s×s aliased blocks of the spectrum: (N, C, h, w)
            return ops.mean(ops.reshape(v, (n, c, s, h, s, w)), axis=(2, 4))

        denominator = k2_blocks + alpha
        q = (block_mean(kr[0]) / denominator, block_mean(kr[1]) / denominator)
        q = (ops.tile(q[0], (1, 1, s, s)), ops.tile(q[1], (1, 1, s, s)))
        correction = _cmul(k_conj, q)
        return _from_planes(_ifft2_real((fr[0] - correction[0]) / alpha, (fr[1] - correction[1]) / alpha))

    def initial(self, y):
        """Bicubic interpolation of `y` to the high resolution (a = −0.5, edges replicated)."""
        self._check(y)
        y = ops.convert_to_tensor(y, "float32")
        up_h = ops.convert_to_tensor(bicubic_upsample_matrix(y.shape[1], self.scale), "float32")
        up_w = ops.convert_to_tensor(bicubic_upsample_matrix(y.shape[2], self.scale), "float32")
        return ops.einsum("ih,nhwc,jw->nijc", up_h, y, up_w)


class Mask(Operator):
    """Inpainting: the pixels where `missing` is 1 are lost. `missing` is `(H, W)` (every
    channel) or `(H, W, C)`, of 0 and 1, as the masks of `keras-dae inpaint` (white = missing).

    The first estimate fills the holes by normalised convolution (a Gaussian-weighted mean
    of the known pixels around each hole), so that the denoiser starts from an image.

    Example:

    >>> op = Mask(missing)
    >>> x_hat = restore(op.forward(x), op, noise_sigma=0.0, model=keras_dae.load("dncnn-bsd400-gauss"))
    """

    sigma_floor = 1.0 / 255.0
    kind = "inpaint"

    def __init__(self, missing):
        m = np.asarray(missing, dtype="float32")
        if m.ndim not in (2, 3) or not np.all((m == 0) | (m == 1)):
            raise ValueError("`missing` must be a 2-D or 3-D array of 0 (known) and 1 (missing). "
                             f"Received: shape {m.shape}, values {np.unique(m)[:5]}")
        self.missing = m if m.ndim == 3 else m[..., None]

    def _known(self, y):
        h, w = y.shape[1:3]
        if self.missing.shape[:2] != (h, w):
            raise ValueError(f"The mask ({self.missing.shape[0]}×{self.missing.shape[1]}) must have the "
                             f"image's size ({h}×{w}).")
        return ops.convert_to_tensor(1.0 - self.missing[None], "float32")

    def forward(self, x):
        return ops.convert_to_tensor(x, "float32") * self._known(x)

    def data_step(self, z, y, alpha):
        known = self._known(y)
        y, z = ops.convert_to_tensor(y, "float32"), ops.convert_to_tensor(z, "float32")
        return (known * y + alpha * z) / (known + alpha)

    def initial(self, y, width=None):
        known = self._known(y)
        y = ops.convert_to_tensor(y, "float32") * known
        h, w = y.shape[1:3]
        width = width or max(2.0, 0.02 * max(h, w))
        size = min(int(6 * width), min(h, w) - 1) | 1  # odd, and within the image
        t = np.arange(size) - size // 2
        g = np.exp(-0.5 * (t / width) ** 2)
        smooth = Blur(np.outer(g, g) / np.outer(g, g).sum())
        weight = smooth.forward(ops.broadcast_to(known, y.shape))
        filled = smooth.forward(y) / ops.maximum(weight, 1e-6)
        return known * y + (1.0 - known) * filled


def as_batch(y):
    """`(H, W, C)` or `(N, H, W, C)` → a float32 batch and whether it was one image."""
    y = keras.ops.convert_to_numpy(y) if not isinstance(y, np.ndarray) else y
    if y.ndim == 3:
        return y[None].astype("float32"), True
    if y.ndim == 4:
        return y.astype("float32"), False
    raise ValueError(f"`y` must be an image (H, W, C) or a batch (N, H, W, C). Received: shape {y.shape}")
