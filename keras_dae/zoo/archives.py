"""The files a zoo model is made of: the `.keras` archive shipped under `keras_dae/weights/`,
the Keras Hub folder layout, and the SHA-256 of the weights a registry entry records.

A `.keras` archive's members are exactly the files of the Keras Hub layout
(`config.json`, `metadata.json`, `model.weights.h5`), so `keras_dae.publish` uploads those
member bytes unchanged and the Hub's `model.weights.h5` has the SHA-256 the registry records.
`keras_dae.zoo.hub` loads and publishes; this module writes, reads and checks the files.
"""

import hashlib
import json
import os
import tempfile
import zipfile

import keras

from keras_dae.utils import atomic_write

CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
WEIGHTS_FILE = "model.weights.h5"


def package(model, path, weights_dtype=None):
    """Writes `model` as the `.keras` archive a zoo entry ships under `keras_dae/weights/`:
    architecture and weights only, without the optimizer's state (for Adam, two thirds of
    the bytes) and without a compile config, so `load` compiles it with its defaults.

    Args:
        model: a `keras.Model`.
        path: the `.keras` file to write (atomically).
        weights_dtype: None keeps the variables' dtypes; `"float16"` stores float32
            weights as float16 (half the bytes), which Keras casts back to the
            variables' float32 on load.

    Returns:
        The SHA-256 of its `model.weights.h5`, for the entry's `sha256`.
    """
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(f"`path` must end in `.keras`. Received: path={path!r}")
    if weights_dtype not in (None, "float32", "float16"):
        raise ValueError("`weights_dtype` must be None, 'float32' or 'float16'. "
                         f"Received: weights_dtype={weights_dtype!r}")
    with tempfile.TemporaryDirectory(prefix="keras_dae_package_") as folder:
        full, bare = os.path.join(folder, "full.keras"), os.path.join(folder, "bare.keras")
        keras.saving.save_model(model, full)
        keras.saving.load_model(full, compile=False, safe_mode=True).save(bare)
        if weights_dtype == "float16":
            _halve_weights(bare, folder)
        atomic_write(path, read_bytes(bare))
    return weights_sha256(path)


def _halve_weights(archive, folder):
    """Rewrites the float32 datasets of a `.keras` archive's weights file as float16.

    The weights file is copied into a fresh HDF5 file (deleting datasets in place would
    not give the bytes back), groups and attributes unchanged.
    """
    import h5py
    import numpy as np

    source, halved = os.path.join(folder, "source.h5"), os.path.join(folder, WEIGHTS_FILE)
    with zipfile.ZipFile(archive) as zf:
        members = {m: zf.read(m) for m in zf.namelist()}
    atomic_write(source, members[WEIGHTS_FILE])

    def copy(src, dst):
        dst.attrs.update(src.attrs)
        for key, item in src.items():
            if isinstance(item, h5py.Group):
                copy(item, dst.create_group(key))
            else:
                value = item[()]
                if getattr(value, "dtype", None) == np.float32:
                    value = value.astype(np.float16)
                dst.create_dataset(key, data=value).attrs.update(item.attrs)

    with h5py.File(source, "r") as src, h5py.File(halved, "w") as dst:
        copy(src, dst)
    members[WEIGHTS_FILE] = read_bytes(halved)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)


def weights_sha256(path):
    """SHA-256 (hex) of the `model.weights.h5` of a `.keras` archive or Keras Hub folder:
    the value a registry entry records."""
    path = os.fspath(path)
    if os.path.isdir(path):
        return sha256_hex(read_bytes(os.path.join(path, WEIGHTS_FILE)))
    with zipfile.ZipFile(path) as zf:
        return sha256_hex(zf.read(WEIGHTS_FILE))


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def is_layout(path):
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, CONFIG_FILE))


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def extract_archive(archive, folder):
    with zipfile.ZipFile(archive) as zf:
        for member in zf.namelist():
            parts = member.split("/")
            if member.startswith("/") or ".." in parts or member.endswith("/"):
                continue
            atomic_write(os.path.join(folder, *parts), zf.read(member))


def saved_keras_version(folder):
    try:
        with open(os.path.join(folder, METADATA_FILE), encoding="utf-8") as f:
            return json.load(f).get("keras_version")
    except (OSError, ValueError):
        return None
