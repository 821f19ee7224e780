"""Keras 3.15.1: with `fit(..., shuffle=True)` (the default) a `PyDataset`'s batches are permuted
from a stream that restarts with the process, so a run resumed by `BackupAndRestore` reads
epoch k's batches in another order than the uninterrupted run did.

`PyDatasetAdapter._finite_generator` shuffles the batch indices with Python's `random`
when `shuffle` is True. An uninterrupted run draws epoch 1's order second; a resumed run
(new process, same seed, `initial_epoch=1`) draws it first. The `PyDataset` docs do not
say that `shuffle` applies to it; a dataset that orders its own epochs (keras-dae's
`ArrayBatches`, `ImagePatchDataset`) must be fitted with `shuffle=False` to resume exactly.

    KERAS_BACKEND=jax python docs/upstream/pydataset_shuffle.py
prints epoch 1's batch order in both runs (equal expected for an exact resume).
"""

import keras
import numpy as np


class Batches(keras.utils.PyDataset):
    def __init__(self, seen):
        super().__init__()
        self.seen = seen

    def __len__(self):
        return 6

    def __getitem__(self, i):
        self.seen.append(i)
        x = np.full((2, 1), float(i), "float32")
        return x, x


def epoch_one_order(initial_epoch):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    seen = []
    model.fit(Batches(seen), epochs=2, initial_epoch=initial_epoch, verbose=0)
    return seen[-6:]


print("uninterrupted run, epoch 1:", epoch_one_order(0))
print("resumed run,       epoch 1:", epoch_one_order(1))
