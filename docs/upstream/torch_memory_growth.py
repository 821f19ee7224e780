"""Keras 3.15.1 on torch 2.13 (CPU): a FiLM layer written as `ops.split` then `ops.reshape`
makes the process's memory grow at every training step.

Seen while training keras-dae's FiLM-conditioned DnCNN (17 convolutions of 64 channels,
40×40 patches, batch 64): about 40 MB more resident memory per step with the torch backend
(10 GB after ~250 steps), none with TensorFlow. Narrowed down (peak RSS after each epoch of
15 steps, depth 8, `KERAS_BACKEND=torch`): a plain conv stack, with arrays or a PyDataset,
is flat (this script's default); keras-dae's blind DnCNN and its σ-channel variant are flat;
the sinusoidal-bias variant levels off after one epoch; the FiLM variant grew by 25, 125
and 175 MB over epochs 1–3. FiLM computed `gamma, beta = ops.split(p, 2, -1)` then
`h * (1 + ops.reshape(gamma, (-1, 1, 1, C))) + ops.reshape(beta, (-1, 1, 1, C))`; taking the
halves by slicing, or broadcasting them with `ops.expand_dims` instead of `ops.reshape`,
stops the growth (0 and 25 MB over the same epochs). keras-dae's FiLM now uses
`expand_dims` (flat: 2021 MiB after each of 4 epochs). Not yet reduced to a script without
keras-dae: `--film` below adds such a layer to the bare conv stack, and over 4 epochs it
jumped once (+225 MiB at epoch 2) and stayed there — not conclusive; a longer run is the
next step before reporting.

    KERAS_BACKEND=torch python docs/upstream/torch_memory_growth.py [--data pydataset|array] [--film]
"""

import argparse
import resource
import time

import keras
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--data", choices=("pydataset", "array"), default="array")
parser.add_argument("--depth", type=int, default=17)
parser.add_argument("--film", action="store_true", help="modulate each layer by split + reshape")
args = parser.parse_args()


class SplitReshapeFiLM(keras.layers.Layer):
    """h * (1 + gamma) + beta with gamma, beta = split(Dense(e)), broadcast by reshape."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units, self.projection = units, keras.layers.Dense(2 * units, kernel_initializer="zeros")

    def call(self, inputs):
        h, e = inputs
        gamma, beta = keras.ops.split(self.projection(e), 2, axis=-1)
        view = (-1, 1, 1, self.units)
        return h * (1.0 + keras.ops.reshape(gamma, view)) + keras.ops.reshape(beta, view)


inputs = keras.Input((None, None, 1))
sigma = keras.Input((8,))
h = inputs
for _ in range(args.depth - 1):
    h = keras.layers.Conv2D(64, 3, padding="same")(h)
    if args.film:
        h = SplitReshapeFiLM(64)([h, sigma])
    h = keras.layers.ReLU()(h)
model = keras.Model([inputs, sigma] if args.film else inputs, keras.layers.Conv2D(1, 3, padding="same")(h))
model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="mse")
x = np.random.default_rng(0).random((64 * 15, 40, 40, 1)).astype("float32")
e = np.random.default_rng(1).random((64 * 15, 8)).astype("float32")


class Patches(keras.utils.PyDataset):
    def __len__(self):
        return 15

    def __getitem__(self, i):
        batch = x[64 * i:64 * (i + 1)]
        return ([batch, e[64 * i:64 * (i + 1)]] if args.film else batch), batch


class Memory(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"epoch {epoch}: peak RSS {rss:.0f} MiB, {time.perf_counter() - start:.0f} s", flush=True)


start = time.perf_counter()
data = (Patches(),) if args.data == "pydataset" else (([x, e] if args.film else x), x)
model.fit(*data, batch_size=64, epochs=4, verbose=0, callbacks=[Memory()])
