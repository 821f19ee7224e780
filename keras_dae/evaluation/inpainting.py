"""The inpainting protocol: seeded masks, and a model's fill beside biharmonic inpainting.

Inpainting protocol (`evaluate_inpainting`): fixed masks drawn from `default_rng(seed)`:
`"block12"` one 12x12 block at a uniform position, `"random50"` each pixel missing with
probability 0.5. A mask is 1 where the pixel is missing; the model gets the image with those
pixels set to 0 and the mask, `model.inpaint(x, mask)`. PSNR is reported inside the masked
region and over the whole image, beside scikit-image's biharmonic inpainting, each from the
mean squared error over all the set's pixels in question (pooled, not a mean of per-image
PSNRs: a hole on a digit's blank background that a method fills with exact zeros has an
infinite PSNR of its own, and would make the mean infinite). Inpainting protocol version 2;
version 1 averaged per-image values.
"""

import time

import numpy as np

from keras_dae.evaluation import baselines as baselines_lib
from keras_dae.evaluation.common import KERAS_SETS, cache_dir, cached, load_eval_images, resolve
from keras_dae.metrics import psnr_masked_numpy
from keras_dae.evaluation.results import EvaluationResult, versions

INPAINTING_PROTOCOL_VERSION = 2  # 2: PSNRs pooled over the set (1: per-image mean)


def make_masks(kind, shape, seed=0):
    """Protocol masks, `(N, H, W, 1)` float32, 1 where a pixel is missing.

    Args:
        kind: `"block<K>"` (one KxK block at a uniform position, e.g. `"block12"`) or
            `"random<P>"` (each pixel missing with probability P %, e.g. `"random50"`).
        shape: `(N, H, W)` or `(N, H, W, C)` of the images.
        seed: seed of `np.random.default_rng`.

    Example:
    >>> masks = make_masks("block12", (10, 28, 28, 1), seed=0)
    """
    rng = np.random.default_rng(seed)
    n, h, w = shape[:3]
    masks = np.zeros((n, h, w, 1), "float32")
    if kind.startswith("block") and kind[5:].isdigit() and 0 < int(kind[5:]) <= min(h, w):
        k = int(kind[5:])
        rows, cols = rng.integers(0, h - k + 1, n), rng.integers(0, w - k + 1, n)
        for m, r, c in zip(masks, rows, cols):
            m[r : r + k, c : c + k] = 1.0
        return masks
    if kind.startswith("random") and kind[6:].isdigit() and 0 < int(kind[6:]) < 100:
        return (rng.random((n, h, w, 1)) < int(kind[6:]) / 100).astype("float32")
    raise ValueError(f"`kind` must be 'block<K>' or 'random<P>'. Received: kind={kind!r}")


def evaluate_inpainting(model_or_name=None, dataset="mnist", masks=("block12", "random50"),
                        seed=0, num_images=None, split="test", use_cache=True, verbose=True):
    """Inpainting table: masked input, the model's `inpaint(x, mask)`, biharmonic.

    Args:
        model_or_name: object with `inpaint(x, mask)` (both `(N, H, W, C)` in [0, 1], mask 1
            where missing), a zoo name, or `None`.
        dataset: a `keras.datasets` image set.
        masks: mask kinds, see `make_masks`.
        seed: seed of the masks.
        num_images: first images of the split only.
        split: data split.
        use_cache: cache the biharmonic rows.
        verbose: print the table.

    Returns:
        An `EvaluationResult` with PSNR inside the mask (`psnr_masked`) and overall (`psnr`).

    Example:
    >>> evaluate_inpainting(my_model, "mnist", masks=("block12",), num_images=1000)
    """
    if dataset not in KERAS_SETS:
        raise ValueError(f"`dataset` must be one of {sorted(KERAS_SETS)}. Received: "
                         f"dataset={dataset!r}")
    clean, max_val = load_eval_images(dataset, split, num_images)
    model, label = resolve(model_or_name) if model_or_name is not None else (None, None)
    rows = []
    for kind in masks:
        m = make_masks(kind, clean.shape, seed)
        x = clean * (1 - m)
        outputs = {"masked": lambda: x, "biharmonic": lambda: baselines_lib.inpaint_biharmonic(
            x, m)}
        if model is not None:
            import keras

            outputs[label] = lambda: np.concatenate([keras.ops.convert_to_numpy(
                model.inpaint(x[i : i + 256], m[i : i + 256])) for i in range(0, len(x), 256)])
        for method, fn in outputs.items():
            def compute(method=method, fn=fn):
                start = time.perf_counter()
                out = np.clip(fn(), 0, max_val)
                return {"method": method, "condition": kind, "num_images": len(clean),
                        "metrics": {"psnr_masked": float(psnr_masked_numpy(clean, out, m, max_val, pooled=True)),
                                    "psnr": float(psnr_masked_numpy(clean, out, np.ones_like(m), max_val,
                                                                    pooled=True))},
                        "params": {}, "seconds": time.perf_counter() - start}

            key = {"protocol": INPAINTING_PROTOCOL_VERSION, "dataset": dataset, "split": split,
                   "mask": kind, "seed": seed, "num_images": len(clean), "method": method,
                   "versions": {"numpy": np.__version__,
                                "scikit-image": versions()["scikit-image"]}}
            cacheable = use_cache and method == "biharmonic"
            rows.append(cached(cache_dir() if cacheable else None, key, compute))
    meta = {"protocol": "Inpainting with fixed seeded masks (1 = missing).",
            "dataset": dataset, "split": split, "corruption": "inpainting", "seed": seed,
            "masks": list(masks), "num_images": len(clean), "model": label,
            "versions": versions()}
    result = EvaluationResult(rows, meta)
    if verbose:
        print(result.to_markdown())
    return result
