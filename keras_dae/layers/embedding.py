"""σ-embeddings: how a noise-conditional network is told the noise level."""

import math

import keras
from keras import ops


def _sigma_per_sample(sigma, batch, dtype):
    """Any of a scalar, `(batch,)` or `(batch, 1)` σ as a `(batch,)` tensor."""
    sigma = ops.cast(sigma, dtype)
    if len(sigma.shape) == 0:
        return ops.full((batch,), 1.0, dtype=dtype) * sigma
    return ops.reshape(sigma, (-1,))


@keras.saving.register_keras_serializable(package="keras_dae")
class SigmaChannel(keras.layers.Layer):
    """σ broadcast to the spatial shape of `x` and concatenated as an extra channel.

    Args:
        transform: None (σ itself) or `"log"` (log σ, which spreads [0.01, 1] evenly).

    Call arguments:
        inputs: `[x, sigma]`, `x` of shape `(batch, ..., C)` and `sigma` a scalar or one
            value per sample, `(batch,)` or `(batch, 1)`.

    Returns:
        `(batch, ..., C + 1)`.

    Example:

    >>> h = keras_dae.layers.SigmaChannel()([images, sigma])  # (b, 28, 28, 2)
    """

    def __init__(self, transform=None, **kwargs):
        super().__init__(**kwargs)
        if transform not in (None, "log"):
            raise ValueError(f"`transform` must be None or 'log'. Received: transform={transform!r}")
        self.transform = transform

    def call(self, inputs):
        x, sigma = inputs
        sigma = _sigma_per_sample(sigma, ops.shape(x)[0], x.dtype)
        if self.transform == "log":
            sigma = ops.log(ops.maximum(sigma, 1e-12))
        channel = ops.reshape(sigma, (-1,) + (1,) * (len(x.shape) - 1))
        channel = ops.broadcast_to(channel, ops.shape(x)[:-1] + (1,))
        return ops.concatenate([x, channel], axis=-1)

    def compute_output_shape(self, input_shape):
        x_shape = input_shape[0]
        last = None if x_shape[-1] is None else x_shape[-1] + 1
        return tuple(x_shape[:-1]) + (last,)

    def get_config(self):
        return {**super().get_config(), "transform": self.transform}


@keras.saving.register_keras_serializable(package="keras_dae")
class SinusoidalEmbedding(keras.layers.Layer):
    """Sinusoidal features of log σ, as transformer positional encodings and diffusion
    time embeddings: `[sin(t·f_k), cos(t·f_k)]` with `t = scale · log σ` and frequencies
    `f_k = max_period^(−k / (dim/2))`, k = 0 … dim/2 − 1.

    Args:
        dim: even int, the embedding size.
        max_period: float > 1, the longest period of the features.
        scale: float, multiplies log σ so that the usual range σ ∈ [0.01, 1]
            (log σ ∈ [−4.6, 0]) spans several periods of the fastest features.

    Call arguments:
        sigma: a scalar or one σ > 0 per sample, `(batch,)` or `(batch, 1)`.

    Returns:
        `(batch, dim)`.

    Example:

    >>> emb = keras_dae.layers.SinusoidalEmbedding(64)(sigma)  # (b, 64)
    """

    def __init__(self, dim, max_period=10000.0, scale=100.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dim, int) or dim < 2 or dim % 2:
            raise ValueError(f"`dim` must be an even int >= 2. Received: dim={dim!r}")
        if not max_period > 1:
            raise ValueError(f"`max_period` must be > 1. Received: max_period={max_period!r}")
        self.dim = dim
        self.max_period = float(max_period)
        self.scale = float(scale)

    def call(self, sigma):
        sigma = ops.convert_to_tensor(sigma, dtype=self.compute_dtype)
        if len(sigma.shape) == 0:
            sigma = ops.reshape(sigma, (1,))
        t = self.scale * ops.log(ops.maximum(ops.cast(ops.reshape(sigma, (-1,)), "float32"), 1e-12))
        half = self.dim // 2
        # arange(0, half, 1), not arange(half): jax2onnx's jnp.arange (ONNX export on JAX)
        # takes no `stop=None`.
        freqs = ops.exp(-math.log(self.max_period) * ops.arange(0, half, 1, dtype="float32") / half)
        angles = t[:, None] * freqs[None, :]
        return ops.cast(ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        batch = input_shape[0] if len(input_shape) else 1
        return (batch, self.dim)

    def get_config(self):
        return {
            **super().get_config(),
            "dim": self.dim,
            "max_period": self.max_period,
            "scale": self.scale,
        }


@keras.saving.register_keras_serializable(package="keras_dae")
class FiLM(keras.layers.Layer):
    """Feature-wise linear modulation (Perez et al., 2018): h ↦ h·(1 + γ(e)) + β(e).

    γ and β come from one dense projection of the conditioning embedding `e` (e.g. a
    `SinusoidalEmbedding` of σ). The projection starts at zero, so a new FiLM layer is the
    identity, and it is the identity whenever γ(e) = β(e) = 0 (e.g. e = 0 with no bias).

    Args:
        units: int, the number of channels of the modulated feature map (its last axis).
        use_bias: bool, whether the projection has a bias.
        kernel_initializer: initializer of the projection; zeros by default.

    Call arguments:
        inputs: `[h, e]`: `h` of shape `(batch, ..., units)`, `e` of shape `(batch, d)`.

    Returns:
        The modulated `h`, same shape.

    Example:

    >>> h = keras_dae.layers.FiLM(64)([h, sigma_embedding])
    """

    def __init__(self, units, use_bias=True, kernel_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"`units` must be an int >= 1. Received: units={units!r}")
        self.units = units
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.projection = keras.layers.Dense(
            2 * units, use_bias=use_bias, kernel_initializer=self.kernel_initializer,
            bias_initializer="zeros", name="projection",
        )

    def build(self, input_shape):
        h_shape, e_shape = input_shape
        if h_shape[-1] != self.units:
            raise ValueError(
                f"FiLM(units={self.units}) got a feature map with {h_shape[-1]} channels. "
                f"Received: input shapes={input_shape}"
            )
        self.projection.build(e_shape)

    def call(self, inputs):
        h, e = inputs
        gamma, beta = ops.split(self.projection(e), 2, axis=-1)
        # (batch, units) → (batch, 1, …, 1, units) by expand_dims: on torch, reshaping the
        # split halves grew the process's memory at every training step
        # (docs/upstream/torch_memory_growth.py).
        for _ in range(len(h.shape) - 2):
            gamma, beta = ops.expand_dims(gamma, 1), ops.expand_dims(beta, 1)
        return h * (1.0 + gamma) + beta

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
