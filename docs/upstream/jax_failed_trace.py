"""Keras 3.15.1 on JAX: after a `predict` (or `fit`, `evaluate`) that raises while tracing,
a loaded model is unusable: the next, correct call fails with
"TypeError: 'NoneType' object is not callable".

The JAX trainer detaches the variables' values before running its step function
(`_get_jax_state(purge_model_variables=True)` sets `v._value = None`, to save memory) and
reattaches them at the end (`jax_state_sync()`). An exception in between (here a wrong
input shape, raised while tracing) skips the reattachment; reading a variable then calls
its initializer, which a loaded model's variables do not keep (None).

    KERAS_BACKEND=jax python docs/upstream/jax_failed_trace.py
prints the error of the bad call, then the TypeError of the good one (expected: a shape).
keras-dae's workaround: `keras_dae.backend.survive_errors` (applied by `keras_dae.load`)
keeps the values and puts back those a failed call left detached.
"""

import os
import tempfile

import keras
import numpy as np

model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
try:
    loaded.predict(np.ones((3, 5), "float32"), verbose=0)
except ValueError as e:
    print("bad call:", str(e).splitlines()[0][:100])
try:
    print("good call:", loaded.predict(np.ones((3, 4), "float32"), verbose=0).shape)
except TypeError as e:
    print("good call fails:", type(e).__name__, e)
