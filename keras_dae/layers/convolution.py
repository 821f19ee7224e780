"""A 2-D convolution without Keras' layout copies where the backend needs them (torch)."""

import keras

from keras_dae import backend


@keras.saving.register_keras_serializable(package="keras_dae")
class Conv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D`, minus the two copies of its input that Keras' torch backend
    makes around every convolution, and with the bias added by the convolution itself
    (`keras_dae.backend.conv2d`).

    Same arguments, weights, configuration and outputs (within float32 round-off) as the
    Keras layer, so weights move between the two. keras-dae's networks use it. Anything but
    channels_last, or a backend where Keras' own convolution is the fast path (JAX,
    TensorFlow), runs Keras' code.

    Example:

    >>> h = keras_dae.layers.Conv2D(64, 3, padding="same")(h)
    """

    def call(self, inputs):
        if self.data_format == "channels_last":
            outputs = backend.conv2d(inputs, self.kernel, self.strides, self.padding, self.dilation_rate,
                                     self.groups, bias=self.bias if self.use_bias else None)
            if outputs is not None:
                return outputs if self.activation is None else self.activation(outputs)
        return super().call(inputs)
