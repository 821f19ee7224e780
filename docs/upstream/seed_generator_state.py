"""Keras 3.15.1: `save_weights` (and so BackupAndRestore and ModelCheckpoint) does not save
the state of a layer's `SeedGenerator`.

`Layer.save_own_variables` saves `_trainable_variables + _non_trainable_variables`; a
SeedGenerator's state lives in `_seed_generators`, outside both. A model restored from a
checkpoint therefore draws the noise of the first steps again (a Dropout, GaussianNoise or
any seeded random layer), and a resumed run differs from an uninterrupted one.

    KERAS_BACKEND=jax python docs/upstream/seed_generator_state.py
prints the generator state before saving and after loading into a fresh model (equal
expected; Keras 3.15.1 gives the initial state back).
"""

import os
import tempfile

import keras
import numpy as np


def model():
    return keras.Sequential([keras.Input((4,)), keras.layers.GaussianNoise(0.1, seed=1), keras.layers.Dense(1)])


trained = model()
trained.compile(optimizer="sgd", loss="mse")
x = np.ones((32, 4), "float32")
trained.fit(x, x[:, :1], epochs=3, verbose=0)
before = keras.ops.convert_to_numpy(trained.layers[0].seed_generator.state)
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "w.weights.h5")
    trained.save_weights(path)
    fresh = model()
    fresh.load_weights(path)
after = keras.ops.convert_to_numpy(fresh.layers[0].seed_generator.state)
print("state after training:", before, "state after load_weights:", after)
