"""`InpaintingDAE`: filling missing pixels with a network that is told which ones are missing."""

import keras
import numpy as np
from keras import ops

from keras_dae.layers import BlockMasking, Compose, MaskingNoise, RandomChoice
from keras_dae.models.base import DAE
from keras_dae.networks.common import encoder_model

_MASKINGS = (BlockMasking, MaskingNoise)


def _is_masking(corruption):
    if isinstance(corruption, (Compose, RandomChoice)):
        return all(_is_masking(c) for c in corruption.corruptions)
    return isinstance(corruption, _MASKINGS)


@keras.saving.register_keras_serializable(package="keras_dae")
class InpaintingDAE(DAE):
    """Inpainting with the mask as an input (the setting of partial-convolution and
    context-encoder inpainting, here with a plain network and the mask as channels).

    The network sees `concat([x̃, mask])` — the known pixels (missing ones zeroed) and the
    mask, 1 where a pixel is missing — so it never has to guess which pixels to fill;
    a plain `DAE` trained on masking must. Its output is used only inside the mask: the
    model returns `x̃·(1 − mask) + network·mask`, so known pixels pass through unchanged,
    and the loss is the mean error over the missing pixels of each example (a 12×12 hole
    and half the pixels missing weigh the same).

    `fit(clean_x)` masks each batch afresh with `corruption`; `fit([x_masked, mask],
    clean_x)` trains on given pairs. At inference, `model.inpaint(x, mask)` or
    `model.predict([x_masked, mask])`. There is nothing to fill without a mask, so
    `denoise`, `score`, `estimate_sigma` and `sample` refuse with a message.

    Args:
        network: a blind `keras.Model` from `(H, W, 2C)` (image, then mask channels) to
            `(H, W, C)`, e.g. `networks.unet((28, 28, 2), sigma_conditioning=None,
            output_channels=1)`.
        corruption: a masking corruption (`MaskingNoise`, `BlockMasking`, or a
            `RandomChoice`/`Compose` of them); default: a 12×12 block or half the pixels,
            at random per example.
        loss: `"mse"` or `"bce"`, over the missing pixels.
        value_range: `(low, high)` of clean data.
        eval_seed: int, the seed of the masks `evaluate` draws.
        **kwargs: `keras.Model` arguments (`name`, ...).

    Example:

    >>> net = keras_dae.networks.unet((28, 28, 2), sigma_conditioning=None, output_channels=1)
    >>> model = keras_dae.models.InpaintingDAE(net)
    >>> model.compile(optimizer="adam")
    >>> model.fit(x_train, epochs=5)
    >>> filled = model.inpaint(digits, masks)
    """

    def __init__(self, network, corruption=None, loss="mse", value_range=(0.0, 1.0), eval_seed=1234,
                 **kwargs):
        if corruption is None:
            corruption = RandomChoice([BlockMasking(block_size=12), MaskingNoise(0.5)])
        super().__init__(network, corruption, loss=loss, value_range=value_range, eval_seed=eval_seed,
                         **kwargs)
        if self.conditioned:
            raise ValueError(
                "InpaintingDAE takes a blind network (the mask, not σ, is its second input): "
                "build it with `sigma_conditioning=None`. Received: a network taking [x, sigma]"
            )
        in_channels = self.network.inputs[0].shape[-1]
        out_channels = self.network.outputs[0].shape[-1]
        if in_channels != 2 * out_channels:
            raise ValueError(
                "The network must take the image and its mask as channels, 2C in and C out "
                f"(e.g. 2 → 1 for gray images). Received: {in_channels} input and "
                f"{out_channels} output channels"
            )
        if not _is_masking(self.corruption):
            raise ValueError(
                "InpaintingDAE needs a masking corruption (MaskingNoise, BlockMasking, or a "
                "RandomChoice/Compose of them): other noise leaves no pixel missing. For "
                "additive noise use DAE or ResidualDAE. Received: "
                f"corruption={type(self.corruption).__name__}"
            )

    @property
    def example_shape(self):
        shape = tuple(self.network.inputs[0].shape[1:])
        return shape[:-1] + (shape[-1] // 2,)  # the image; the mask is the other half

    def _outputs(self, x_tilde, sigma=None, mask=None):
        # At inference and with given pairs the second input, `[x, mask]`, arrives as `sigma`.
        mask = sigma if mask is None else mask
        if mask is None:
            mask = ops.zeros_like(x_tilde)
        mask = ops.broadcast_to(ops.cast(mask, x_tilde.dtype), ops.shape(x_tilde))
        known = x_tilde * (1.0 - mask)
        raw = self.network(ops.concatenate([known, mask], axis=-1))
        x_hat = known + mask * ops.cast(raw, known.dtype)
        return self._pack(x_hat, raw, x_tilde, None, mask)

    def _per_sample_loss(self, x, outputs):
        error = self._elementwise(outputs["x_hat"], x)
        mask = ops.cast(outputs["mask"], error.dtype)
        axes = tuple(range(1, len(error.shape)))
        return ops.sum(error * mask, axis=axes) / ops.maximum(ops.sum(mask, axis=axes), 1.0)

    def _fill(self, masked, mask, sigma, batch_size):
        return np.asarray(self.predict([masked, mask], batch_size=batch_size, verbose=0))

    def _needs_a_mask(self, method):
        raise ValueError(
            f"InpaintingDAE.{method} has nothing to fill without a mask: use "
            "model.inpaint(x, mask) (mask 1 where a pixel is missing)."
        )

    def denoise(self, *args, **kwargs):
        self._needs_a_mask("denoise")

    def score(self, *args, **kwargs):
        self._needs_a_mask("score")

    def estimate_sigma(self, *args, **kwargs):
        self._needs_a_mask("estimate_sigma")

    def sample(self, *args, **kwargs):
        self._needs_a_mask("sample")

    @property
    def encoder(self):
        channels = self.network.outputs[0].shape[-1]
        return self._view(("encoder",), lambda: encoder_model(
            self.network, pooled=True, mask_channels=channels))

    @property
    def spatial_encoder(self):
        channels = self.network.outputs[0].shape[-1]
        return self._view(("spatial_encoder",), lambda: encoder_model(
            self.network, pooled=False, mask_channels=channels, name="spatial_encoder"))

    def get_config(self):
        config = super().get_config()
        for key in ("alpha", "beta", "encoder_sigma"):  # the loss is over the mask; blind network
            config.pop(key)
        return config
