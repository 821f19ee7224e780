"""Fully connected denoising autoencoders (Vincent et al., 2010), tied or untied."""

import keras
from keras import ops

from keras_dae.layers import SigmaChannel
from keras_dae.networks.common import check_conditioning, condition, sigma_embedding


@keras.saving.register_keras_serializable(package="keras_dae")
class TiedDense(keras.layers.Layer):
    """A dense layer that is also its own transposed decoder (tied weights).

    `layer(x)` computes `x W + b`; `layer(h, transpose=True)` computes `h Wᵀ + b'` with the
    same kernel `W` and a separate decoder bias `b'`. Both directions live in one layer, so
    a functional model that calls it twice serializes the tie with no cross-references.
    The first call must be the forward one (it builds the kernel).

    Args:
        units: int, the output size of the forward direction.
        kernel_initializer: initializer of `W`.

    Call arguments:
        inputs: `(batch, input_dim)` forward, `(batch, units)` with `transpose=True`.
        transpose: bool, apply the transposed (decoder) map.

    Example:

    >>> tied = TiedDense(1000)
    >>> h = keras.activations.sigmoid(tied(x))
    >>> x_hat = keras.activations.sigmoid(tied(h, transpose=True))
    """

    def __init__(self, units, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"`units` must be an int >= 1. Received: units={units!r}")
        self.units = units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(input_dim, self.units), initializer=self.kernel_initializer, name="kernel"
        )
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        self.transpose_bias = self.add_weight(
            shape=(input_dim,), initializer="zeros", name="transpose_bias"
        )

    def call(self, inputs, transpose=False):
        if transpose:
            return ops.matmul(inputs, ops.transpose(self.kernel)) + self.transpose_bias
        return ops.matmul(inputs, self.kernel) + self.bias

    def compute_output_spec(self, inputs, transpose=False):
        size = self.kernel.shape[0] if transpose else self.units
        return keras.KerasTensor(tuple(inputs.shape[:-1]) + (size,), dtype=self.compute_dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


def mlp(
    widths=(784, 1000, 1000, 1000),
    activation="sigmoid",
    output_activation="sigmoid",
    tied=False,
    sigma_conditioning=None,
    embedding_dim=64,
    input_shape=None,
    name="mlp",
):
    """A stacked fully connected autoencoder: widths[0] → … → widths[-1] → … → widths[0].

    Encoder layer k is named `encoder_<k>` (a `TiedDense` when `tied`), decoder layer k
    `decoder_<k>` (absent when tied: the decoder calls `encoder_<k>` transposed); the code
    is the output of the layer `"code"`.

    Args:
        widths: sequence of ints, the input size then each hidden layer's size; e.g.
            `(784, 1000, 1000, 1000)` for Vincent et al. (2010) on MNIST.
        activation: activation of every hidden layer, encoder and decoder (`"sigmoid"` as
            in Vincent et al., or `"relu"`, `"gelu"`, `"silu"`, `"linear"`).
        output_activation: activation of the reconstruction (`"sigmoid"` for data in
            [0, 1] with cross-entropy; `"linear"` for unbounded data or noise prediction).
        tied: bool, decoder kernels are the transposed encoder kernels.
        sigma_conditioning: None (blind; the input is `x`) or how σ enters (the input is
            `[x, sigma]`): `"channel"` (log σ appended to the input vector), `"film"`
            (FiLM of every hidden layer from a sinusoidal σ embedding) or `"sinusoidal"`
            (the embedding's projection added to every hidden layer).
        embedding_dim: int, size of the σ embedding (`"film"`, `"sinusoidal"`).
        input_shape: shape of one example; defaults to `(widths[0],)`. An image shape such
            as `(28, 28, 1)` is flattened on the way in and reshaped on the way out.
        name: the model name.

    Returns:
        A functional `keras.Model`.

    Example:

    >>> net = keras_dae.networks.mlp((784, 1000, 1000, 1000), tied=True)
    >>> net(np.zeros((2, 784), "float32")).shape
    (2, 784)
    """
    check_conditioning(sigma_conditioning)
    widths = tuple(int(w) for w in widths)
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(f"`widths` needs at least two positive sizes. Received: widths={widths!r}")
    if tied and sigma_conditioning == "channel":
        raise ValueError(
            "Tied weights need the decoder to mirror the input exactly; use "
            "sigma_conditioning='film' or 'sinusoidal'. Received: tied=True, "
            "sigma_conditioning='channel'"
        )
    input_shape = tuple(input_shape or (widths[0],))
    size = 1
    for d in input_shape:
        size *= d
    if size != widths[0]:
        raise ValueError(
            f"`input_shape` must hold widths[0]={widths[0]} values. Received: input_shape={input_shape!r}"
        )
    x_in = keras.Input(input_shape, name="x")
    inputs, h, emb = [x_in], x_in, None
    if len(input_shape) > 1:
        h = keras.layers.Flatten(name="flatten")(h)
    if sigma_conditioning is not None:
        sigma_in = keras.Input((), name="sigma")
        inputs.append(sigma_in)
        if sigma_conditioning == "channel":
            h = SigmaChannel(transform="log", name="sigma_channel")([h, sigma_in])
        else:
            emb = sigma_embedding(sigma_in, embedding_dim)

    encoders = []
    for k, width in enumerate(widths[1:], start=1):
        dense = TiedDense(width, name=f"encoder_{k}") if tied else keras.layers.Dense(width, name=f"encoder_{k}")
        encoders.append(dense)
        h = condition(dense(h), emb, sigma_conditioning, f"encoder_{k}")
        h = keras.layers.Activation(activation, name=f"encoder_{k}_act")(h)
    h = keras.layers.Identity(name="code")(h)

    for k in range(len(widths) - 1, 0, -1):
        if tied:
            h = encoders[k - 1](h, transpose=True)
        else:
            h = keras.layers.Dense(widths[k - 1], name=f"decoder_{k}")(h)
        if k > 1:
            h = condition(h, emb, sigma_conditioning, f"decoder_{k}")
        h = keras.layers.Activation(activation if k > 1 else output_activation, name=f"decoder_{k}_act")(h)
    if len(input_shape) > 1:
        h = keras.layers.Reshape(input_shape, name="unflatten")(h)
    return keras.Model(inputs if len(inputs) > 1 else x_in, h, name=name)
