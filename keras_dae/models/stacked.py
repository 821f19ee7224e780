"""`StackedDAE`: greedy layer-wise pretraining of a stack of DAEs (Vincent et al., 2010)."""

import json
import os

import keras
import numpy as np

from keras_dae.layers import MaskingNoise
from keras_dae.models.base import DAE, _deserialize
from keras_dae.networks.mlp import TiedDense, mlp
from keras_dae.training.stages import drop_backups_before


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
                 batch_size=128, loss=None, verbose=0, callbacks=None, checkpoint_dir=None, seed=None):
        """Greedy layer-wise pretraining: layer k is trained as a DAE on the clean codes
        of layers 1 … k−1 (each layer's input corrupted by its own copy of `corruption`).

        Epochs are numbered across the layers: layer k trains epochs (k−1)·E … k·E − 1 of
        the whole pretraining (E = `epochs_per_layer`), so that `callbacks` see one run: a
        `CSVLogger` logs one row per epoch of it, and a `keras.callbacks.BackupAndRestore`
        resumes inside the layer it stopped in.

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
            callbacks: Keras callbacks passed to every layer's `fit`.
            checkpoint_dir: a folder where each finished layer is recorded (the stack's
                weights and the count of finished layers, written atomically at the end of
                the layer's last epoch). The same call with the same folder after an
                interruption continues after the last finished layer (and, with a
                `BackupAndRestore` in `callbacks`, from its last finished epoch).
            seed: an integer makes each epoch's batch order a fixed function of (seed,
                epoch) (`keras_dae.datasets.ArrayBatches`), so that a resumed pretraining
                sees the batches an uninterrupted one would; default: `fit`'s shuffling.

        Returns:
            A list with each layer's `History` (None for a layer finished by an earlier,
            interrupted call).
        """
        epochs = int(epochs_per_layer)
        codes = np.asarray(x, "float32").reshape(len(x), -1)
        corruption = corruption or self.corruption
        callbacks = list(callbacks or [])
        done = _finished_layers(self, checkpoint_dir, epochs)
        histories = []
        for k in range(1, len(self.widths)):
            network, encode = self._layer_network(k)
            if k <= done:  # trained by an interrupted earlier call; its weights are loaded
                histories.append(None)
                codes = np.asarray(encode.predict(codes, batch_size=1024, verbose=0))
                continue
            layer_loss = loss or (self.reconstruction_loss if k == 1 else
                                  ("bce" if self.activation == "sigmoid" else "mse"))
            layer_dae = DAE(
                network, layer_corruption(corruption, k), loss=layer_loss, alpha=self.alpha, beta=self.beta,
                value_range=self.value_range if k == 1 else None,
            )
            layer_dae.compile(optimizer=_fresh_optimizer(optimizer))
            drop_backups_before(callbacks, (k - 1) * epochs)
            recorder = [] if checkpoint_dir is None else [_LayerFinished(self, checkpoint_dir, k, epochs)]
            if seed is None:
                data, kwargs = codes, {"batch_size": batch_size}
            else:
                from keras_dae.callbacks import SyncDatasetEpoch
                from keras_dae.datasets import ArrayBatches

                data = ArrayBatches(codes, batch_size=batch_size, seed=seed)
                kwargs, recorder = {"shuffle": False}, [SyncDatasetEpoch(data), *recorder]
            histories.append(layer_dae.fit(data, initial_epoch=(k - 1) * epochs, epochs=k * epochs,
                                           verbose=verbose, callbacks=recorder + callbacks, **kwargs))
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


_STATE, _WEIGHTS = "pretrain.json", "pretrain.weights.h5"


class _LayerFinished(keras.callbacks.Callback):
    """At the end of layer k's last epoch, records the stack's weights, then the count of
    finished layers (each file written to a temporary name, then renamed)."""

    def __init__(self, stack, folder, k, epochs_per_layer):
        super().__init__()
        self.stack, self.folder, self.k, self.epochs = stack, str(folder), k, epochs_per_layer

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 != self.k * self.epochs:
            return
        from keras_dae.utils import atomic_save, atomic_write

        atomic_save(os.path.join(self.folder, _WEIGHTS), self.stack.network.save_weights)
        atomic_write(os.path.join(self.folder, _STATE),
                     json.dumps({"layers_done": self.k, "epochs_per_layer": self.epochs}) + "\n")


def _finished_layers(stack, folder, epochs_per_layer):
    """The layers an interrupted earlier `pretrain` into `folder` finished (their weights
    loaded into `stack`), or 0."""
    state = None if folder is None else os.path.join(str(folder), _STATE)
    if state is None or not os.path.isfile(state):
        return 0
    with open(state) as f:
        record = json.load(f)
    if record["epochs_per_layer"] != epochs_per_layer:
        raise ValueError(
            f"{folder} holds a pretraining of {record['epochs_per_layer']} epochs per layer; "
            f"remove it to start afresh. Received: epochs_per_layer={epochs_per_layer}")
    stack.network.load_weights(os.path.join(str(folder), _WEIGHTS))
    return int(record["layers_done"])


def _fresh_optimizer(optimizer):
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return type(optimizer).from_config(optimizer.get_config())
    if callable(optimizer):
        return optimizer()
    return keras.optimizers.get(optimizer)
