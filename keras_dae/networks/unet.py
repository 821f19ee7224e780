"""A noise-conditional U-Net (§5.1): residual blocks with GroupNorm, skips, σ conditioning."""

import keras

from keras_dae.layers import Conv2D, GroupNormalization, SigmaChannel, UpSampling2D
from keras_dae.networks.common import (
    check_conditioning,
    condition,
    groups_for,
    pad_to_multiple,
    sigma_embedding,
)


def residual_block(h, channels, emb=None, conditioning=None, groups=8, activation="silu",
                   dropout=0.0, name="block"):
    """GroupNorm → act → conv3 → (+σ bias) → GroupNorm → (FiLM) → act → conv3, plus a
    (1×1-projected) shortcut. The second convolution starts at zero, so a new block is
    the identity map (which keeps a deep U-Net trainable from the first step)."""
    shortcut = h
    if h.shape[-1] != channels:
        shortcut = Conv2D(channels, 1, name=f"{name}_shortcut")(h)
    h = GroupNormalization(groups_for(h.shape[-1], groups), name=f"{name}_norm_1")(h)
    h = keras.layers.Activation(activation, name=f"{name}_act_1")(h)
    h = Conv2D(channels, 3, padding="same", name=f"{name}_conv_1")(h)
    if conditioning == "sinusoidal":
        h = condition(h, emb, conditioning, name)
    h = GroupNormalization(groups_for(channels, groups), name=f"{name}_norm_2")(h)
    if conditioning == "film":
        h = condition(h, emb, conditioning, name)
    h = keras.layers.Activation(activation, name=f"{name}_act_2")(h)
    if dropout:
        h = keras.layers.Dropout(dropout, name=f"{name}_dropout")(h)
    h = Conv2D(channels, 3, padding="same", kernel_initializer="zeros", name=f"{name}_conv_2")(h)
    return keras.layers.Add(name=f"{name}_add")([shortcut, h])


def unet(
    input_shape=(28, 28, 1),
    widths=(32, 64, 64),
    blocks_per_level=1,
    sigma_conditioning="film",
    embedding_dim=64,
    groups=8,
    activation="silu",
    output_channels=None,
    output_activation="linear",
    residual_output=False,
    dropout=0.0,
    name="unet",
):
    """A U-Net denoiser with residual blocks, GroupNorm and optional σ conditioning.

    Level i works at resolution 1/2^i with `widths[i]` channels: `blocks_per_level`
    residual blocks, a skip (layer `skip_<i>`) to the decoder, then a stride-2
    convolution. A middle block at the lowest resolution gives the code (layer `"code"`).
    The decoder mirrors it: concatenate the skip, residual blocks, upsample (nearest,
    then a 3×3 convolution). The output convolution starts at zero. The defaults
    (0.65 M parameters with FiLM) are sized for MNIST-like 28×28 data.

    Inputs of any size work: height and width are zero-padded to a multiple of
    2^(len(widths) − 1) and the output is cropped back.

    Args:
        input_shape: `(H, W, C)`, gray or color.
        widths: sequence of ints, channels per level (its length is the depth).
        blocks_per_level: int, residual blocks per level, in the encoder and the decoder.
        sigma_conditioning: None (blind: the input is `x`) or how σ enters (the input is
            `[x, sigma]`, sigma `(batch,)`): `"channel"` (log σ as an extra input
            channel), `"film"` (a sinusoidal σ embedding → MLP → FiLM scale and shift in
            every block) or `"sinusoidal"` (the same embedding's projection added in every
            block, as DDPM's time embedding).
        embedding_dim: int, size of the σ embedding.
        groups: int, GroupNorm groups (reduced to a divisor of the channels).
        activation: activation of the blocks (`"silu"`).
        output_channels: channels of the output; defaults to the input's.
        output_activation: activation of the output (`"linear"` for noise prediction,
            `"sigmoid"` for [0, 1] images predicted directly).
        residual_output: bool, add the input to the output (a network predicting x̂
            then starts at the identity).
        dropout: float, dropout rate inside the blocks.
        name: the model name.

    Returns:
        A functional `keras.Model`.

    Example:

    >>> net = keras_dae.networks.unet((28, 28, 1), widths=(32, 64, 64),
    ...                               sigma_conditioning="film")
    >>> net([np.zeros((2, 28, 28, 1), "float32"), np.full((2,), 0.1, "float32")]).shape
    (2, 28, 28, 1)
    """
    check_conditioning(sigma_conditioning)
    if len(input_shape) != 3:
        raise ValueError(f"`input_shape` must be (H, W, C). Received: input_shape={input_shape!r}")
    widths = tuple(int(w) for w in widths)
    if not widths or min(widths) < 1:
        raise ValueError(f"`widths` must be positive ints. Received: widths={widths!r}")
    if not isinstance(blocks_per_level, int) or blocks_per_level < 1:
        raise ValueError(f"`blocks_per_level` must be an int >= 1. Received: blocks_per_level={blocks_per_level!r}")
    depth = len(widths)
    x_in = keras.Input(tuple(input_shape), name="x")
    inputs, emb = [x_in], None
    x, pads = pad_to_multiple(x_in, 2 ** (depth - 1))
    h = x
    if sigma_conditioning is not None:
        sigma_in = keras.Input((), name="sigma")
        inputs.append(sigma_in)
        if sigma_conditioning == "channel":
            h = SigmaChannel(transform="log", name="sigma_channel")([h, sigma_in])
        else:
            emb = sigma_embedding(sigma_in, embedding_dim)
    block = dict(emb=emb, conditioning=sigma_conditioning, groups=groups,
                 activation=activation, dropout=dropout)

    h = Conv2D(widths[0], 3, padding="same", name="stem")(h)
    skips = []
    for i, width in enumerate(widths):
        for b in range(blocks_per_level):
            h = residual_block(h, width, name=f"down_{i}_{b}", **block)
        skips.append(keras.layers.Identity(name=f"skip_{i}")(h))
        if i < depth - 1:
            h = Conv2D(width, 3, strides=2, padding="same", name=f"downsample_{i}")(h)
    h = residual_block(h, widths[-1], name="middle", **block)
    h = keras.layers.Identity(name="code")(h)
    for i in reversed(range(depth)):
        h = keras.layers.Concatenate(name=f"concat_{i}")([h, skips[i]])
        for b in range(blocks_per_level):
            h = residual_block(h, widths[i], name=f"up_{i}_{b}", **block)
        if i > 0:
            h = UpSampling2D(2, name=f"upsample_{i}")(h)
            h = Conv2D(widths[i - 1], 3, padding="same", name=f"upsample_{i}_conv")(h)
    h = GroupNormalization(groups_for(widths[0], groups), name="output_norm")(h)
    h = keras.layers.Activation(activation, name="output_act_in")(h)
    channels = output_channels or input_shape[-1]
    h = Conv2D(channels, 3, padding="same", kernel_initializer="zeros", name="output")(h)
    if residual_output:
        h = keras.layers.Add(name="input_skip")([x, h])
    h = keras.layers.Activation(output_activation, name="output_act")(h)
    if pads is not None:
        h = keras.layers.Cropping2D(pads, name="crop")(h)
    return keras.Model(inputs if len(inputs) > 1 else x_in, h, name=name)
