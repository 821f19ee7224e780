"""Images larger than memory allows, through a fully convolutional network, in tiles.

A network without a bottleneck (DnCNN, any stack of stride-1 convolutions) computes each
output pixel from the input pixels within its receptive-field radius r. Cutting the image
into overlapping windows and keeping, from each window, only the pixels at least r away
from its inner edges therefore gives the whole-image output (the same arithmetic, up to
floating-point summation order), at the memory cost of one batch of windows.
"""

import numpy as np

DEFAULT_TILE = 512           # window side when an image is tiled
DEFAULT_MAX_PIXELS = 1024 ** 2  # images up to this many pixels go through whole


def receptive_radius(network):
    """How far (in pixels) an output pixel of `network` sees, for networks made of stride-1
    convolutions and pixel-wise layers: the sum over the convolutions of
    dilation · (kernel − 1) / 2 (exact for a chain, an over-estimate for branching graphs,
    which is safe for tiling). None for networks that resample (strides, pooling,
    upsampling) or have fixed spatial sizes: those are not tiled."""
    if any(d is not None for d in network.inputs[0].shape[1:3]):
        return None
    radius = 0
    for layer in network._flatten_layers(include_self=False):
        name = type(layer).__name__
        if "Pooling" in name or "UpSampling" in name or "Resizing" in name:
            return None
        kernel = getattr(layer, "kernel_size", None)
        if kernel is None:
            continue
        if max(getattr(layer, "strides", (1,))) > 1:
            return None
        radius += max(getattr(layer, "dilation_rate", (1,))) * (max(kernel) - 1) // 2
    return int(radius)


def windows(length, tile, radius):
    """`(a, b, c, d)` per window along one axis: the window `[a, b)` and the part `[c, d)`
    of the output it provides, which lies at least `radius` from the window's edges except
    at the image's own edges. Windows have the same size, `min(tile, length)`."""
    if length <= tile:
        return [(0, length, 0, length)]
    if tile <= 2 * radius:
        raise ValueError(f"`tile_size` must exceed twice the receptive-field radius {radius}. "
                         f"Received: tile_size={tile}")
    out, done = [], 0
    while done < length:
        a = min(max(done - radius, 0), length - tile)
        b = a + tile
        d = length if b == length else b - radius
        out.append((a, b, done, d))
        done = d
    return out


def predict_tiled(predict, x, sigma=None, tile=DEFAULT_TILE, radius=0, batch_size=16, progress=None):
    """Applies `predict` to every image of `x` `(N, H, W, C)` window by window.

    Args:
        predict: callable on a batch of windows (and their σ, `(n,)`, when `sigma` is
            given), returning an array of the same spatial size.
        x: float32 images.
        sigma: None, or one σ per image.
        tile: window side.
        radius: the network's receptive-field radius (see `receptive_radius`).
        batch_size: windows per call of `predict`.
        progress: optional callable `(done, total)`, called with the windows done so far
            after each call of `predict` (e.g. a progress bar).

    Returns:
        The outputs, `(N, H, W, C_out)`.
    """
    n, height, width = x.shape[:3]
    rows, cols = windows(height, tile, radius), windows(width, tile, radius)
    spots = [(r, c) for r in rows for c in cols]
    result = None
    for i in range(n):
        for start in range(0, len(spots), batch_size):
            chunk = spots[start:start + batch_size]
            batch = np.stack([x[i, r[0]:r[1], c[0]:c[1]] for r, c in chunk])
            args = (batch,) if sigma is None else (batch, np.full((len(chunk),), sigma[i], "float32"))
            out = np.asarray(predict(*args))
            if result is None:
                result = np.empty((n, height, width, out.shape[-1]), out.dtype)
            for (r, c), o in zip(chunk, out):
                result[i, r[2]:r[3], c[2]:c[3]] = o[r[2] - r[0]:r[3] - r[0], c[2] - c[0]:c[3] - c[0]]
            if progress is not None:
                progress(i * len(spots) + start + len(chunk), n * len(spots))
    return result
