"""A colour denoiser made of a gray one: the gray network denoises the three channels of the
opponent colour space (CBM3D's decorrelating transform) with shared weights, and a head
reads the three channels' features together."""

import keras
import numpy as np

from keras_dae.layers import Conv2D
from keras_dae.layers.color import (OPPONENT, OPPONENT_NOISE, OPPONENT_OFFSET, ChannelsToBatch,
                                    ColorMatrix, SigmaPerChannel)


def opponent_color(gray_network, head=True, name="opponent_color"):
    """The σ-conditioned colour network `[x (H, W, 3), σ] → ε̂ (H, W, 3)` built on a
    σ-conditioned gray network that predicts unit noise (`networks.dncnn(...,
    sigma_conditioning=...)` used with `models.ResidualDAE`).

    RGB goes to the opponent space (`layers.color.OPPONENT`: luminance and two chroma
    channels with orthogonal rows, so the noise stays white with σ scaled per channel), the
    gray network denoises each channel at its own σ as one batch, and its unit-noise
    estimates go back to RGB. With `head`, a 3×3 convolution over the three channels'
    last features (the gray network's layer `"code"`), initialised at zero, adds a
    correction that sees all channels at once: the network starts exactly as the gray
    network in the opponent space and training teaches it the channels' correlations. The
    head's input, the three channels' features side by side, is the layer `"code"`.

    Args:
        gray_network: a σ-conditioned gray network with inputs `[x (H, W, 1), σ]` and a
            layer named `"code"` (keras-dae's `dncnn`).
        head: bool, add the cross-channel head.
        name: the model name.

    Returns:
        A functional `keras.Model`.

    Example:

    >>> gray = keras_dae.load("dncnn-bsd400-gauss").network
    >>> net = keras_dae.networks.opponent_color(gray)
    >>> model = keras_dae.models.ResidualDAE(net, keras_dae.layers.AdditiveGaussian(sigma_range=(0, 55 / 255)))
    """
    if len(gray_network.inputs) != 2 or gray_network.inputs[0].shape[-1] != 1:
        raise ValueError("`gray_network` must be σ-conditioned and gray: inputs [x (H, W, 1), σ]. "
                         f"Received: inputs {[tuple(i.shape) for i in gray_network.inputs]}")
    x_in = keras.Input((None, None, 3), name="x")
    sigma_in = keras.Input((), name="sigma")
    opponent = ColorMatrix(OPPONENT, OPPONENT_OFFSET, name="to_opponent")(x_in)
    planes = ChannelsToBatch(name="channels_to_batch")(opponent)
    plane_sigma = SigmaPerChannel(OPPONENT_NOISE, name="sigma_per_channel")(sigma_in)
    outputs = [gray_network.output]
    if head:
        outputs.insert(0, gray_network.get_layer("code").output)
    trunk = keras.Model(gray_network.inputs, outputs, name="gray_trunk")
    results = trunk([planes, plane_sigma])
    unit_noise = ChannelsToBatch(channels=3, name="batch_to_channels")(results[-1])
    # ε̂_RGB = T⁻¹ · diag(‖rows‖) · ε̂_opponent: the noise the gray network removed, in RGB units of σ.
    back = (np.linalg.inv(np.asarray(OPPONENT)) * np.asarray(OPPONENT_NOISE)[None, :]).tolist()
    out = ColorMatrix(back, name="noise_to_rgb")(unit_noise)
    if head:
        features = ChannelsToBatch(channels=3, name="features_to_channels")(results[0])
        # The three channels' features side by side, (H, W, 3·filters): the network's code
        # (its encoder, `model.encoder`, pools them into one vector per image).
        features = keras.layers.Identity(name="code")(features)
        correction = Conv2D(3, 3, padding="same", kernel_initializer="zeros", name="cross_channel_head")(features)
        out = keras.layers.Add(name="epsilon")([out, correction])
    return keras.Model([x_in, sigma_in], out, name=name)
