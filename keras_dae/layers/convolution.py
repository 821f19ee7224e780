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


def adopt_convolutions(model):
    """Runs every `keras.layers.Conv2D` inside `model` as keras-dae's `Conv2D`, in place, and
    returns the number of layers changed.

    Models saved with Keras' own layer (the zoo's DnCNNs: converted weights, and networks
    built from them) load with it; this gives them keras-dae's convolution: the same weights,
    configuration and outputs, without the copies around each convolution on torch (a
    481×321 photo through `dncnn-bsd400-gauss`: 20–30 % less time on torch; nothing changes
    on JAX and TensorFlow, where Keras' code runs). `keras_dae.load` applies it. Subclasses
    of Keras' layer other than this one are left alone.

    Example:

    >>> keras_dae.layers.adopt_convolutions(keras.saving.load_model("dncnn.keras"))
    17
    """
    changed = 0
    for layer in model._flatten_layers(include_self=False):
        if type(layer) is keras.layers.Conv2D:
            layer.__class__ = Conv2D
            changed += 1
    return changed
