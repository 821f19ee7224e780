"""Upsampling without Keras' copies where the backend needs it (torch)."""

import keras

from keras_dae import backend


@keras.saving.register_keras_serializable(package="keras_dae")
class UpSampling2D(keras.layers.UpSampling2D):
    """`keras.layers.UpSampling2D`, with nearest upsampling in one kernel on torch
    (`keras_dae.backend.upsample_nearest`) instead of Keras' two `ops.repeat` copies (and
    their two sums backward).

    Same arguments, configuration and outputs as the Keras layer (it has no weights);
    keras-dae's U-Net uses it. Bilinear interpolation, factors other than powers of two,
    channels_first, or a backend where Keras' own layer is the fast path (JAX, TensorFlow)
    run Keras' code.

    Example:

    >>> h = keras_dae.layers.UpSampling2D(2)(h)
    """

    def call(self, inputs):
        if self.data_format == "channels_last" and self.interpolation == "nearest":
            outputs = backend.upsample_nearest(inputs, self.size)
            if outputs is not None:
                return outputs
        return super().call(inputs)
