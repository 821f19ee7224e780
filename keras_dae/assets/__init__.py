"""Small data files packaged with keras_dae."""

import importlib.resources

import numpy as np


def mnist_test_sample():
    """The first 100 MNIST test digits, packaged (about 16 KB; made by
    tools/make_mnist_sample.py). Returns `(images uint8 (100, 28, 28), labels uint8 (100,))`.
    MNIST is CC BY-SA 3.0 (Y. LeCun and C. Cortes)."""
    path = importlib.resources.files(__package__) / "mnist_test_sample.npz"
    with importlib.resources.as_file(path) as file, np.load(file, allow_pickle=False) as data:
        return data["images"], data["labels"]
