"""Writes keras_dae/assets/mnist_test_sample.npz: the first 100 MNIST test digits.

The demo and the offline examples use this sample (about 20 KB), so the main job needs
neither the network nor a data folder. Rerun it to regenerate the file:

    KERAS_DAE_DATA=../shared/data python tools/make_mnist_sample.py
"""

import os
import pathlib

import numpy as np

from keras_dae.utils import atomic_write

N = 100
root = pathlib.Path(os.environ.get("KERAS_DAE_DATA", "../shared/data"))
with np.load(root / "mnist" / "mnist.npz", allow_pickle=False) as data:
    images, labels = data["x_test"][:N], data["y_test"][:N]
out = pathlib.Path(__file__).resolve().parents[1] / "keras_dae" / "assets" / "mnist_test_sample.npz"
atomic_write(out, lambda f: np.savez_compressed(f, images=images, labels=labels, indices=np.arange(N)))
print(f"wrote {out} ({out.stat().st_size} bytes): MNIST test images 0..{N - 1}")
