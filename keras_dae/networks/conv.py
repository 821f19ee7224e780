"""A convolutional denoising autoencoder: strided convolutions down, transposed up."""

import keras

from keras_dae.layers import Conv2D, SigmaChannel
from keras_dae.networks.common import check_conditioning, condition, pad_to_multiple, sigma_embedding


def conv_dae(
    input_shape=(28, 28, 1),
    filters=(32, 64),
    kernel_size=3,
    activation="relu",
    output_activation="sigmoid",
    sigma_conditioning=None,
    embedding_dim=64,
    name="conv_dae",
):
    """A convolutional autoencoder: each encoder stage halves the resolution (stride 2),
    each decoder stage doubles it (transposed convolution), then a 3×3 convolution maps
    back to the input channels.

    Inputs whose height or width do not divide by 2^len(filters) are zero-padded on the
    way in and cropped on the way out. The code (layer `"code"`) is the last encoder
    feature map, `(batch, H / 2^L, W / 2^L, filters[-1])`.

    Args:
        input_shape: `(H, W, C)`, gray (C = 1) or color (C = 3).
        filters: sequence of ints, the channels of each encoder stage.
        kernel_size: int, the convolution size.
        activation: activation of the hidden stages.
        output_activation: activation of the output (`"sigmoid"` for [0, 1] images,
            `"linear"` for noise prediction).
        sigma_conditioning: None (blind, input `x`) or `"channel"`, `"film"`,
            `"sinusoidal"` (input `[x, sigma]`), as in `keras_dae.networks.unet`.
        embedding_dim: int, size of the σ embedding (`"film"`, `"sinusoidal"`).
        name: the model name.

    Returns:
        A functional `keras.Model`.

    Example:

    >>> net = keras_dae.networks.conv_dae((28, 28, 1), filters=(32, 64))
    """
    check_conditioning(sigma_conditioning)
    if len(input_shape) != 3:
        raise ValueError(f"`input_shape` must be (H, W, C). Received: input_shape={input_shape!r}")
    filters = tuple(int(f) for f in filters)
    if not filters or min(filters) < 1:
        raise ValueError(f"`filters` must be positive ints. Received: filters={filters!r}")
    x_in = keras.Input(tuple(input_shape), name="x")
    inputs, emb = [x_in], None
    h, pads = pad_to_multiple(x_in, 2 ** len(filters))
    if sigma_conditioning is not None:
        sigma_in = keras.Input((), name="sigma")
        inputs.append(sigma_in)
        if sigma_conditioning == "channel":
            h = SigmaChannel(transform="log", name="sigma_channel")([h, sigma_in])
        else:
            emb = sigma_embedding(sigma_in, embedding_dim)

    for i, f in enumerate(filters):
        h = Conv2D(f, kernel_size, strides=2, padding="same", name=f"encoder_{i}")(h)
        h = condition(h, emb, sigma_conditioning, f"encoder_{i}")
        h = keras.layers.Activation(activation, name=f"encoder_{i}_act")(h)
    h = keras.layers.Identity(name="code")(h)
    for i, f in reversed(list(enumerate(filters))):
        h = keras.layers.Conv2DTranspose(f, kernel_size, strides=2, padding="same", name=f"decoder_{i}")(h)
        h = condition(h, emb, sigma_conditioning, f"decoder_{i}")
        h = keras.layers.Activation(activation, name=f"decoder_{i}_act")(h)
    h = Conv2D(input_shape[-1], kernel_size, padding="same", name="output")(h)
    h = keras.layers.Activation(output_activation, name="output_act")(h)
    if pads is not None:
        h = keras.layers.Cropping2D(pads, name="crop")(h)
    return keras.Model(inputs if len(inputs) > 1 else x_in, h, name=name)
