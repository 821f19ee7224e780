"""What the evaluation protocols share: the test images, the protocol's noise, the cache of
classical rows, per-image scores and how a method is applied (`keras_dae.evaluation.protocol`
for Gaussian denoising, `keras_dae.evaluation.inpainting` for inpainting)."""

import hashlib
import json
import os
import re

import numpy as np

from keras_dae import datasets
from keras_dae.metrics import psnr_numpy, ssim_numpy
from keras_dae.utils import atomic_write

NATURAL = {"bsd68", "set12"}
COLOR = {"cbsd68", "kodak24", "mcmaster"}
KERAS_SETS = set(datasets.KERAS_DATASETS)


def cache_dir():
    """Cache folder of classical rows: `$KERAS_DAE_CACHE`, else `~/.cache/keras_dae/eval`."""
    if os.environ.get("KERAS_DAE_CACHE"):
        return os.environ["KERAS_DAE_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache"))
    return os.path.join(base, "keras_dae", "eval")


def cache_path(directory, key, label):
    """The cache file of `key` (a JSON-able dict with a `"dataset"`) in `directory`:
    `<dataset>-<label>-<digest of key>.json`, the label made safe for a file name."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_")
    return os.path.join(directory, f"{key['dataset']}-{label}-{digest}.json")


def cached(directory, key, compute):
    if directory is None:
        return compute()
    path = cache_path(directory, key, key["method"])
    if os.path.isfile(path):
        with open(path) as f:
            return json.load(f)
    row = compute()
    atomic_write(path, json.dumps(row, default=float))
    return row


def weights_fingerprint(model):
    """SHA-256 (hex) of a model's weights, in order, with the kind of wrapper around it
    (`Blind`, `PerChannel`): what identifies its rows in the cache. None for an object
    without Keras weights (a plain function), whose rows are never cached."""
    inner = getattr(model, "model", model)
    weights = getattr(inner, "weights", None)
    if not weights:
        return None
    import keras

    digest = hashlib.sha256(type(model).__name__.encode())
    for w in weights:
        digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(w)).tobytes())
    return digest.hexdigest()


def load_eval_images(dataset, split="test", num_images=None):
    """Clean evaluation images on the data scale and the peak value (1 or 255)."""
    if dataset in KERAS_SETS:
        return datasets.load_keras_dataset(dataset, split, num_images=num_images)[0], 1.0
    if dataset in NATURAL | {"train400"}:
        return datasets.load_image_folder(dataset, normalize=False, num_images=num_images), 255.0
    if dataset in COLOR:
        return datasets.load_image_folder(dataset, "rgb", normalize=False, num_images=num_images), 255.0
    raise ValueError(f"`dataset` must be one of {sorted(KERAS_SETS | NATURAL | COLOR)}. "
                     f"Received: dataset={dataset!r}")


def add_gaussian_noise(images, sigma, seed):
    """The protocol's noisy images: `x + sigma * n`, n from `default_rng(seed)`, unclipped.

    Example:
    >>> noisy = add_gaussian_noise(x_test, sigma=0.3, seed=0)
    """
    rng = np.random.default_rng(seed)
    if isinstance(images, np.ndarray):
        return (images + sigma * rng.standard_normal(images.shape)).astype("float32")
    return [(im + sigma * rng.standard_normal(im.shape)).astype("float32") for im in images]


def scores(clean, images, max_val, chunk=500):
    """Per-image PSNR and SSIM arrays of `images` against `clean`."""
    p, s = [], []
    if isinstance(clean, np.ndarray):
        for i in range(0, len(clean), chunk):
            p.append(psnr_numpy(clean[i : i + chunk], images[i : i + chunk], max_val))
            s.append(ssim_numpy(clean[i : i + chunk], images[i : i + chunk], max_val))
    else:
        for c, im in zip(clean, images):
            p.append(psnr_numpy(c[None], np.asarray(im)[None], max_val))
            s.append(ssim_numpy(c[None], np.asarray(im)[None], max_val))
    return np.concatenate(p), np.concatenate(s)


def row(method, condition, clean, out, max_val, params=None, seconds=None, clip=True):
    if clip:
        out = [np.clip(o, 0, max_val) for o in out]
        if max_val == 255.0:  # 8-bit sets: the output image is saved in 8 bits
            out = [np.round(o) for o in out]
        out = np.stack(out) if isinstance(clean, np.ndarray) else out
    p, s = scores(clean, out, max_val)
    return {"method": method, "condition": condition,
            "metrics": {"psnr": float(np.mean(p)), "ssim": float(np.mean(s))},
            "num_images": len(clean), "params": params or {}, "seconds": seconds,
            "per_image": {"psnr": np.round(p, 5).tolist(), "ssim": np.round(s, 6).tolist()}}


def apply(fn, images, scale, batch_size=256):
    """Runs `fn` on [0, 1]-scaled images, in batches or image by image; data scale out."""
    import keras

    if isinstance(images, np.ndarray):
        out = [keras.ops.convert_to_numpy(fn(images[i : i + batch_size] / scale))
               for i in range(0, len(images), batch_size)]
        return np.concatenate(out) * scale
    return [keras.ops.convert_to_numpy(fn(im[None] / scale))[0] * scale for im in images]


class Blind:
    """A σ-conditioned model used without σ: `denoise` estimates it per image. Pass it to
    `evaluate` to measure the blind use of a model beside its use with σ given.

    Example:
    >>> evaluate(Blind(model), "bsd68", sigmas=(15, 25, 50), baselines=())
    """

    def __init__(self, model):
        self.model, self.name = model, f"{model.name} (blind: σ estimated)"

    def denoise(self, x, sigma=None):
        return self.model.denoise(x)


class PerChannel:
    """A gray model used on colour images channel by channel (R, G and B as three gray
    images): the baseline a colour model is measured against, and what the CLI did before
    a colour model existed.

    Example:
    >>> evaluate(PerChannel(keras_dae.load("dncnn-bsd400-gauss")), "cbsd68", sigmas=(25,))
    """

    def __init__(self, model):
        self.model, self.name = model, f"{model.name} (gray, channel by channel)"

    def denoise(self, x, sigma=None):
        x = np.asarray(x)
        n, h, w, c = x.shape
        planes = np.moveaxis(x, -1, 1).reshape(n * c, h, w, 1)
        out = np.asarray(self.model.denoise(planes, sigma=sigma))
        return np.moveaxis(out[..., 0].reshape(n, c, h, w), 1, -1)


def resolve(model_or_name):
    if isinstance(model_or_name, str):
        from keras_dae.zoo.hub import load

        return load(model_or_name), model_or_name
    return model_or_name, getattr(model_or_name, "name", type(model_or_name).__name__)
