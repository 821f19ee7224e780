"""`StackedDAE`: greedy layer-wise pretraining of a stack of DAEs (Vincent et al., 2010)."""

import keras
import numpy as np

from keras_dae.layers import MaskingNoise
from keras_dae.models.base import DAE, _deserialize
from keras_dae.networks.mlp import TiedDense, mlp


@keras.saving.register_keras_serializable(package="keras_dae")
class StackedDAE(DAE):
    """A stacked denoising autoencoder: an MLP whose layers are first trained one at a
    time, each as a DAE on the clean codes of the layers below (`pretrain`), then as one
    deep DAE end to end (`fit`, as `DAE`).

    Vincent et al. (2010)'s MNIST recipe is the default: 784-1000-1000-1000 sigmoid units,
    tied weights, masking noise ν = 0.25, cross-entropy. `encoder` (the top code) then
    serves as the base of a classifier.

    Args:
        widths: the input size then each layer's size.
        activation: activation of every hidden layer.
        output_activation: activation of the reconstruction.
        tied: bool, tied weights (the decoder uses the transposed encoder kernels).
        corruption: the corruption of the input (fine-tuning) and, by default, of every
            layer's input in pretraining; defaults to `MaskingNoise(0.25)`.
        loss: `"bce"` or `"mse"`.
        input_shape: shape of one example (e.g. `(28, 28, 1)`); defaults to `(widths[0],)`.
        network: a network built by `keras_dae.networks.mlp` (set when reloading); when
            given, the architecture arguments above must describe it.
        **kwargs: the other `DAE` arguments (`alpha`, `beta`, `value_range`, ...).

    Example:

    >>> model = keras_dae.models.StackedDAE((784, 1000, 1000, 1000))
    >>> model.pretrain(x_train, epochs_per_layer=10, optimizer="sgd")
    >>> model.compile(optimizer="sgd")
    >>> model.fit(x_train, epochs=10)
    >>> clf = keras.Sequential([model.encoder, keras.layers.Dense(10)])
    """

    def __init__(self, widths=(784, 1000, 1000, 1000), activation="sigmoid",
                 output_activation="sigmoid", tied=True, corruption=None, loss="bce",
                 input_shape=None, network=None, **kwargs):
        network = _deserialize(network)
        if network is None:
            network = mlp(widths, activation=activation, output_activation=output_activation,
                          tied=tied, input_shape=input_shape, name="stacked_dae")
        self.widths = tuple(int(w) for w in widths)
        self.activation = activation
        self.output_activation = output_activation
        self.tied = bool(tied)
        self.input_shape_ = None if input_shape is None else tuple(input_shape)
        super().__init__(network, corruption=corruption or MaskingNoise(0.25), loss=loss, **kwargs)

    def _layer_network(self, k):
        """The DAE of layer k (1-based): code_{k-1} → code_k → reconstruction of code_{k-1},
        sharing the stack's layers."""
        encoder = self.network.get_layer(f"encoder_{k}")
        inputs = keras.Input((self.widths[k - 1],), name=f"code_{k - 1}")
        code = keras.layers.Activation(self.activation)(encoder(inputs))
        if isinstance(encoder, TiedDense):
            out = encoder(code, transpose=True)
        else:
            out = self.network.get_layer(f"decoder_{k}")(code)
        out = keras.layers.Activation(self.output_activation if k == 1 else self.activation)(out)
        return keras.Model(inputs, out, name=f"layer_{k}_dae"), keras.Model(inputs, code)

    def pretrain(self, x, epochs_per_layer=10, corruption=None, optimizer="adam",
                 batch_size=128, loss=None, verbose=0):
        """Greedy layer-wise pretraining: layer k is trained as a DAE on the clean codes
        of layers 1 … k−1 (each layer's input corrupted by its own copy of `corruption`).

        Args:
            x: clean training data.
            epochs_per_layer: int, epochs of each layer's DAE.
            corruption: a corruption layer, copied for each layer with its own noise
                stream (`layer_corruption`); defaults to the model's corruption.
            optimizer: an optimizer name, config, or a callable returning a new
                optimizer (each layer gets a fresh one).
            batch_size: int.
            loss: the loss of each layer's DAE; defaults to the model's for layer 1 and,
                above, to `"bce"` for sigmoid codes and `"mse"` otherwise.
            verbose: `fit` verbosity.

        Returns:
            A list with each layer's `History`.
        """
        codes = np.asarray(x, "float32").reshape(len(x), -1)
        corruption = corruption or self.corruption
        histories = []
        for k in range(1, len(self.widths)):
            network, encode = self._layer_network(k)
            layer_loss = loss or (self.reconstruction_loss if k == 1 else
                                  ("bce" if self.activation == "sigmoid" else "mse"))
            layer_dae = DAE(
                network, layer_corruption(corruption, k), loss=layer_loss, alpha=self.alpha, beta=self.beta,
                value_range=self.value_range if k == 1 else None,
            )
            layer_dae.compile(optimizer=_fresh_optimizer(optimizer))
            histories.append(layer_dae.fit(codes, epochs=epochs_per_layer, batch_size=batch_size,
                                           verbose=verbose))
            codes = np.asarray(encode.predict(codes, batch_size=1024, verbose=0))
        return histories

    def get_config(self):
        return {**super().get_config(), "widths": self.widths, "activation": self.activation,
                "output_activation": self.output_activation, "tied": self.tied,
                "input_shape": self.input_shape_}


def layer_corruption(corruption, k):
    """Layer k's own copy of `corruption`, with its own noise stream: a seeded corruption
    gets seed + k − 1 (a copy with the same seed would draw the same masks at every layer
    of the same width), an unseeded one a fresh random seed."""
    config = keras.saving.serialize_keras_object(corruption)
    if corruption.seed is not None:
        config["config"]["seed"] = corruption.seed + k - 1
    return keras.saving.deserialize_keras_object(config)


def _fresh_optimizer(optimizer):
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return type(optimizer).from_config(optimizer.get_config())
    if callable(optimizer):
        return optimizer()
    return keras.optimizers.get(optimizer)
