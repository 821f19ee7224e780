"""DnCNN (Zhang et al., 2017): a plain stack of 3×3 convolutions that predicts the noise."""

import keras

from keras_dae.layers import Conv2D, SigmaChannel
from keras_dae.networks.common import check_conditioning, condition, sigma_embedding


def dncnn(
    channels=1,
    depth=17,
    filters=64,
    batch_norm=False,
    sigma_conditioning=None,
    embedding_dim=64,
    input_shape=None,
    name="dncnn",
):
    """The DnCNN denoiser of "Beyond a Gaussian Denoiser" (Zhang et al., IEEE TIP 2017).

    `depth` 3×3 convolutions: Conv+ReLU, then `depth − 2` times Conv(+BN)+ReLU, then a
    Conv to `channels`, with zero padding so that every H×W goes through (fully
    convolutional; the receptive field is `2·depth + 1` pixels). The output is linear and
    is the noise, not the image: use it with `keras_dae.models.ResidualDAE`, which
    subtracts it.

    - blind (`sigma_conditioning=None`, input `x`): the output is the residual x̃ − x,
      as in the paper (DnCNN-S for one σ, DnCNN-B for a range).
    - σ-conditioned (input `[x, sigma]`): the output is the unit noise ε̂ and
      `ResidualDAE` denoises with x̃ − σ·ε̂. `"channel"` appends σ as a constant input
      channel (the noise-level map of FFDNet, linear in σ, so σ = 0 is allowed);
      `"film"` and `"sinusoidal"` modulate every hidden layer from a sinusoidal embedding
      of log σ (FiLM starts as the identity, so a FiLM DnCNN initialised from a blind one
      starts exactly where the blind one is).

    The last hidden feature map is the layer `"code"` (DnCNN has no bottleneck; the
    features that the output convolution reads serve as the code).

    Args:
        channels: int, image channels (1 for gray, 3 for colour).
        depth: int >= 3, the number of convolutions (17 in the paper for one σ, 20 blind).
        filters: int, channels of the hidden layers (64 in the paper).
        batch_norm: bool, batch normalization after each middle convolution (the paper
            trains with it; published weights often have it folded into the convolutions,
            which is `batch_norm=False`).
        sigma_conditioning: None, `"channel"`, `"film"` or `"sinusoidal"`.
        embedding_dim: int, size of the σ embedding (`"film"`, `"sinusoidal"`).
        input_shape: optional `(H, W, channels)`; default `(None, None, channels)`.
        name: the model name.

    Returns:
        A functional `keras.Model`.

    Example:

    >>> net = keras_dae.networks.dncnn(channels=1, depth=17)
    >>> model = keras_dae.models.ResidualDAE(net, keras_dae.layers.AdditiveGaussian(25 / 255))
    """
    check_conditioning(sigma_conditioning)
    for arg, value, low in (("channels", channels, 1), ("depth", depth, 3), ("filters", filters, 1)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"`{arg}` must be an int >= {low}. Received: {arg}={value!r}")
    input_shape = (None, None, channels) if input_shape is None else tuple(input_shape)
    if len(input_shape) != 3 or input_shape[-1] != channels:
        raise ValueError(
            f"`input_shape` must be (H, W, {channels}). Received: input_shape={input_shape!r}"
        )
    x_in = keras.Input(input_shape, name="x")
    inputs, h, emb = [x_in], x_in, None
    if sigma_conditioning is not None:
        sigma_in = keras.Input((), name="sigma")
        inputs.append(sigma_in)
        if sigma_conditioning == "channel":
            h = SigmaChannel(name="sigma_channel")([h, sigma_in])
        else:
            emb = sigma_embedding(sigma_in, embedding_dim)

    h = Conv2D(filters, 3, padding="same", name="conv_0")(h)
    h = keras.layers.ReLU(name="relu_0")(h)
    for i in range(1, depth - 1):
        h = Conv2D(filters, 3, padding="same", use_bias=not batch_norm, name=f"conv_{i}")(h)
        if batch_norm:
            # The paper's BN (momentum 0.9 in MatConvNet terms, epsilon 1e-4 as in KAIR).
            h = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-4, name=f"bn_{i}")(h)
        h = condition(h, emb, sigma_conditioning, f"conv_{i}")
        h = keras.layers.ReLU(name=f"relu_{i}")(h)
    h = keras.layers.Identity(name="code")(h)
    out = Conv2D(channels, 3, padding="same", name=f"conv_{depth - 1}")(h)
    return keras.Model(inputs if len(inputs) > 1 else x_in, out, name=name)
