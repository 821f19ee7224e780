"""Keras 3.15.1: after `BackupAndRestore` restores a run, every later `fit` of the same
model starts at the restored epoch, whatever its `initial_epoch`.

`BackupAndRestore.on_train_begin` resumes by setting `model._initial_epoch`; the trainers
read it with `initial_epoch = self._initial_epoch or initial_epoch` and never reset it. A
second `fit` of the model (a second training stage, a fine-tuning pass after pretraining)
then starts at the first fit's restored epoch: below, the second `fit` is asked to train
epochs 2–3 and trains epochs 1–3 instead (its `CSVLogger` rows are 1, 2, 3).

keras-dae's workaround: `keras_dae.training.stages.fit_stages` sets `model._initial_epoch = None`
before each stage's `fit` (tests/test_stages.py). Upstream fix: reset it at the end of
`fit`, or read it once in `on_train_begin` and clear it.

    KERAS_BACKEND=jax python docs/upstream/backup_initial_epoch.py
"""

import os
import tempfile

import keras
import numpy as np

x = np.random.default_rng(0).random((32, 4)).astype("float32")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
folder = tempfile.mkdtemp()
backup = keras.callbacks.BackupAndRestore(os.path.join(folder, "backup"))


class StopAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            raise KeyboardInterrupt  # the run is interrupted after epoch 1 (backup written)


try:
    model.fit(x, x[:, :1], epochs=2, callbacks=[backup, StopAfterFirstEpoch()], verbose=0)
except KeyboardInterrupt:
    pass
model.fit(x, x[:, :1], epochs=2, callbacks=[backup], verbose=0)  # resumes: trains epoch 2 only
print("model._initial_epoch after the resumed fit:", model._initial_epoch)

log = os.path.join(folder, "second.csv")
model.fit(x, x[:, :1], initial_epoch=2, epochs=4, callbacks=[keras.callbacks.CSVLogger(log)], verbose=0)
epochs = [int(line.split(",")[0]) for line in open(log).read().split()[1:]]
print("second fit, asked for epochs [2, 3]: trained", epochs)
assert epochs == [1, 2, 3], epochs  # the bug; [2, 3] once fixed
