"""GroupNorm with a fused kernel where the backend has one."""

import keras
from keras import ops

from keras_dae import backend


@keras.saving.register_keras_serializable(package="keras_dae")
class GroupNormalization(keras.layers.GroupNormalization):
    """`keras.layers.GroupNormalization`, computed by the backend's fused kernel where Keras'
    composition of ops is slow (torch; `keras_dae.backend.group_norm`).

    Same arguments, weights, configuration and outputs (within float32 round-off) as the
    Keras layer, so weights move between the two. keras-dae's networks use it; any axis
    other than the last, or a backend without a fused kernel, falls back to Keras' code.

    Example:

    >>> h = keras_dae.layers.GroupNormalization(groups=8)(h)
    """

    def call(self, inputs):
        if self.axis in (-1, len(inputs.shape) - 1):
            gamma = self.gamma.value if self.scale else None
            beta = self.beta.value if self.center else None
            outputs = backend.group_norm(inputs, self.groups, gamma, beta, self.epsilon)
            if outputs is not None:
                return ops.cast(outputs, self.compute_dtype)
        return super().call(inputs)
