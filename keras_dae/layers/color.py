"""Colour handling for denoisers: a per-pixel linear colour transform (RGB ↔ the opponent
colour space of CBM3D) and images' channels taken as a batch of gray images, so that a gray
network serves every channel with the same weights."""

import keras
import numpy as np
from keras import ops

#: RGB → opponent colour (luminance, red−blue, green−magenta): orthogonal rows, so white
#: noise stays white and independent across the three channels, with σ scaled by each row's
#: norm (`OPPONENT_NOISE`); the offsets keep every channel of an RGB image in [0, 1] in [0, 1].
OPPONENT = ((1 / 3, 1 / 3, 1 / 3), (1 / 2, 0.0, -1 / 2), (1 / 4, -1 / 2, 1 / 4))
OPPONENT_OFFSET = (0.0, 0.5, 0.5)
OPPONENT_NOISE = tuple(float(v) for v in np.linalg.norm(np.array(OPPONENT), axis=1))


@keras.saving.register_keras_serializable(package="keras_dae")
class ColorMatrix(keras.layers.Layer):
    """`y = M·x + b` at every pixel of `(..., C)` images: a fixed colour transform.

    Args:
        matrix: `(C_out, C_in)` nested lists or array.
        offset: `(C_out,)` added after the product (default zeros).

    Example:

    >>> opponent = ColorMatrix(OPPONENT, OPPONENT_OFFSET)   # RGB in [0, 1] → [0, 1]³
    """

    def __init__(self, matrix, offset=None, **kwargs):
        super().__init__(**kwargs)
        m = np.asarray(matrix, dtype="float64")
        if m.ndim != 2:
            raise ValueError(f"`matrix` must be 2-D (C_out, C_in). Received: shape {m.shape}")
        b = np.zeros(m.shape[0]) if offset is None else np.asarray(offset, dtype="float64")
        if b.shape != (m.shape[0],):
            raise ValueError(f"`offset` must have {m.shape[0]} values. Received: {offset!r}")
        self.matrix, self.offset = m.tolist(), b.tolist()

    def call(self, x):
        m = ops.convert_to_tensor(np.asarray(self.matrix).T, dtype=x.dtype)
        return ops.matmul(x, m) + ops.convert_to_tensor(np.asarray(self.offset), dtype=x.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (len(self.matrix),)

    def get_config(self):
        return {**super().get_config(), "matrix": self.matrix, "offset": self.offset}


@keras.saving.register_keras_serializable(package="keras_dae")
class ChannelsToBatch(keras.layers.Layer):
    """`(B, H, W, C)` → `(B·C, H, W, 1)`: each channel a gray image (image b's channel c at
    index b·C + c); with `channels=C`, the inverse, `(B·C, H, W, K)` → `(B, H, W, C·K)`.

    Example:

    >>> planes = ChannelsToBatch()(rgb)                  # (3B, H, W, 1)
    >>> rgb_again = ChannelsToBatch(channels=3)(planes)  # (B, H, W, 3)
    """

    def __init__(self, channels=None, **kwargs):
        super().__init__(**kwargs)
        if channels is not None and (not isinstance(channels, int) or channels < 1):
            raise ValueError(f"`channels` must be a positive int or None. Received: channels={channels!r}")
        self.channels = channels

    def call(self, x):
        shape = ops.shape(x)
        if self.channels is None:  # (B, H, W, C) → (B, C, H, W) → (B·C, H, W, 1)
            return ops.reshape(ops.transpose(x, (0, 3, 1, 2)), (-1, shape[1], shape[2], 1))
        c = self.channels  # (B·C, H, W, K) → (B, C, H, W, K) → (B, H, W, C, K) → (B, H, W, C·K)
        x = ops.reshape(x, (-1, c, shape[1], shape[2], shape[3]))
        return ops.reshape(ops.transpose(x, (0, 2, 3, 1, 4)), (-1, shape[1], shape[2], c * shape[3]))

    def compute_output_shape(self, input_shape):
        b, h, w, k = input_shape
        if self.channels is None:
            return (None if b is None else b * k, h, w, 1)
        return (None if b is None else b // self.channels, h, w, self.channels * k)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


@keras.saving.register_keras_serializable(package="keras_dae")
class SigmaPerChannel(keras.layers.Layer):
    """σ `(B,)` → `(B·C,)`: image b's σ times `scales[c]` at index b·C + c, the noise levels
    of the channels `ChannelsToBatch` makes (after a colour transform that scales noise by
    `scales`, e.g. `OPPONENT_NOISE`)."""

    def __init__(self, scales, **kwargs):
        super().__init__(**kwargs)
        self.scales = [float(s) for s in scales]

    def call(self, sigma):
        scales = ops.convert_to_tensor(np.asarray(self.scales), dtype=sigma.dtype)
        return ops.reshape(ops.reshape(sigma, (-1, 1)) * scales[None, :], (-1,))

    def compute_output_shape(self, input_shape):
        b = input_shape[0]
        return (None if b is None else b * len(self.scales),)

    def get_config(self):
        return {**super().get_config(), "scales": self.scales}
