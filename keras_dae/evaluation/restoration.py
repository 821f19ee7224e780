"""The restoration protocol: plug-and-play restoration (`keras_dae.restoration`) beside a
classical method, per task, on crops of gray or colour benchmark images.

Tasks (`TASKS`, names used in tables and on the command line):

- `deblur-{σ}`: the 8 motion kernels of Levin et al. (2009) (DPIR's deblurring kernels,
  `kernels/Levin09.mat`), circular convolution of the [0, 1] image, then Gaussian noise of
  σ (2.55 or 7.65 on the 0–255 scale) from `default_rng(seed)`, unclipped; one row per
  task over all kernels and images. Classical: the Wiener filter
  (`skimage.restoration.wiener`) with its balance chosen per image and kernel from a grid,
  by PSNR against the clean image (an oracle choice, the best the filter can do).
- `sr-{s}`: the low-resolution image is Pillow's antialiased bicubic downscale by s (as
  MATLAB's `imresize`), noise-free. Classical: bicubic interpolation back (Pillow).
  PSNR skips a border of s pixels (DPIR's `border = sf`).
- `inpaint-{p}`: p % of the pixels missing, uniformly at random (one mask per image from
  the seed). Classical: biharmonic inpainting (`skimage.restoration.inpaint_biharmonic`).

Images: the central `crop`×`crop` window of each image of the set on the [0, 1] scale
(`crop` divisible by every scale). Outputs clipped to [0, 1] and rounded to 8 bits; PSNR
with peak 1 per image, averaged (over images and kernels).
"""

import json
import os
import time

import numpy as np

from keras_dae import datasets
from keras_dae.evaluation.common import cache_path, resolve, weights_fingerprint
from keras_dae.evaluation.results import EvaluationResult, versions
from keras_dae.metrics import psnr_numpy
from keras_dae.utils import atomic_write

PROTOCOL_VERSION = 1
TASKS = ("deblur-2.55", "deblur-7.65", "sr-2", "sr-4", "inpaint-50", "inpaint-80")
CLASSICAL = {"deblur": "wiener (best balance per image)", "sr": "bicubic", "inpaint": "biharmonic"}
WIENER_BALANCES = np.geomspace(1e-4, 1.0, 17)


def levin_kernels():
    """The 8 motion-blur kernels of Levin et al. (2009), as DPIR uses them (float64, each
    summing to 1). Read from `<data_root()>/kernels/Levin09.mat` (MATLAB v7.3: HDF5, whose
    arrays come transposed)."""
    import h5py

    path = os.path.join(datasets.data_root(), "kernels", "Levin09.mat")
    with h5py.File(path, "r") as f:
        refs = f["kernels"][:, 0]
        kernels = [np.array(f[ref], dtype="float64").T for ref in refs]
    return [k / k.sum() for k in kernels]


def parse_task(task):
    """`"deblur-2.55"` → `("deblur", 2.55)`; refuses unknown tasks."""
    kind, _, value = task.partition("-")
    try:
        number = float(value)
    except ValueError:
        number = None
    if kind not in CLASSICAL or number is None or number <= 0:
        raise ValueError(f"`task` must look like one of {TASKS}. Received: task={task!r}")
    return kind, number


def center_crops(images, crop):
    """The central `crop`×`crop` window of each image (images smaller than it are refused)."""
    out = []
    for im in images:
        h, w = im.shape[:2]
        if min(h, w) < crop:
            raise ValueError(f"`crop` exceeds an image of {h}×{w}. Received: crop={crop}")
        out.append(im[(h - crop) // 2:][:crop, (w - crop) // 2:][:, :crop])
    return out


def degrade(task, clean, seed):
    """The observations of `task` for a list of clean `(H, W, C)` images in [0, 1]:
    `[(y, operator, noise_sigma), ...]`, one per image and kernel."""
    from keras_dae.restoration import Blur, Downsample, Mask

    kind, value = parse_task(task)
    rng = np.random.default_rng(seed)
    cases = []
    for x in clean:
        if kind == "deblur":
            for kernel in levin_kernels():
                op = Blur(kernel)
                noise = value / 255.0
                y = np.asarray(op.forward(x[None]))[0] + noise * rng.standard_normal(x.shape)
                cases.append((y.astype("float32"), op, noise))
        elif kind == "sr":
            s = int(value)
            h, w = x.shape[:2]
            low = bicubic_resize(x, (h // s, w // s))
            cases.append((low.astype("float32"), Downsample(s), 0.0))
        else:
            missing = (rng.random(x.shape[:2]) < value / 100.0).astype("float32")
            op = Mask(missing)
            cases.append((np.asarray(op.forward(x[None]))[0], op, 0.0))
    return cases


def classical(task, y, operator, clean):
    """The classical method's output for one case (see the module docstring)."""
    from skimage.restoration import inpaint_biharmonic, wiener

    kind, _ = parse_task(task)
    if kind == "deblur":
        best, best_psnr = None, -np.inf
        for balance in WIENER_BALANCES:
            out = np.stack([wiener(y[..., c], operator.kernel, balance, clip=False)
                            for c in range(y.shape[-1])], -1)
            p = _psnr(clean, out, 0)
            if p > best_psnr:
                best, best_psnr = out, p
        return best
    if kind == "sr":
        h, w = clean.shape[:2]
        return bicubic_resize(y, (h, w))
    missing = operator.missing[..., 0].astype(bool)
    return inpaint_biharmonic(y, missing, channel_axis=-1)


def bicubic_resize(x, size):
    """`(H, W, C)` float image resized to `size` = (height, width) by Pillow's antialiased
    bicubic, channel by channel."""
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(x[..., c], mode="F").resize(size[::-1], Image.BICUBIC))
                     for c in range(x.shape[-1])], -1)


def _psnr(clean, out, border):
    out = np.round(np.clip(out, 0.0, 1.0) * 255.0) / 255.0
    if border:
        clean, out = clean[border:-border, border:-border], out[border:-border, border:-border]
    return float(psnr_numpy(clean[None], out[None], 1.0)[0])


def border(task):
    kind, value = parse_task(task)
    return int(value) if kind == "sr" else 0


def evaluate_restoration(model_or_name, dataset="bsd68", tasks=TASKS, crop=192, num_images=None,
                         iterations=None, seed=0, classical_rows=True, color_mode=None, verbose=True,
                         cache=None):
    """The restoration table of a σ-conditioned model as the prior, beside the classical method.

    Args:
        model_or_name: a σ-conditioned keras-dae model or a zoo name.
        dataset: an image set (`datasets.image_set_dir`: `"bsd68"`, `"set12"`, `"cbsd68"`,
            `"train400"`, ...).
        tasks: names from `TASKS` (or with other values, e.g. `"deblur-5"`, `"sr-3"`).
        crop: side of the central crop of each image.
        num_images: the first N images only (default: all).
        iterations: HQS iterations per task kind, e.g. `{"deblur": 8, "sr": 24,
            "inpaint": 40}` (default: `keras_dae.restoration.ITERATIONS`).
        seed: the seed of the noise and masks.
        classical_rows: also measure the classical method of each task.
        color_mode: `"grayscale"` or `"rgb"` (default: rgb for `cbsd68`, `kodak24`,
            `mcmaster`, `cbsd432`, else grayscale).
        cache: a folder where each row's per-case PSNRs are saved as they are computed
            (keyed by the model's weights, the task, the images and the settings), so a
            stopped measurement resumes where it stopped (default: none).

    Returns:
        An `EvaluationResult` with one row per method and task (`condition` = the task).
    """
    from keras_dae.restoration import ITERATIONS, restore

    model, label = resolve(model_or_name)
    rgb = dataset in ("cbsd68", "kodak24", "mcmaster", "cbsd432") if color_mode is None else color_mode == "rgb"
    images = datasets.load_image_folder(dataset, color_mode="rgb" if rgb else "grayscale", num_images=num_images)
    clean = center_crops(images, crop)
    iterations = {**ITERATIONS, **(iterations or {})}
    fingerprint = weights_fingerprint(model)
    settings = {"dataset": dataset, "crop": crop, "num_images": len(clean), "seed": seed,
                "rgb": rgb, "protocol_version": PROTOCOL_VERSION}
    rows = []
    for task in tasks:
        kind, _ = parse_task(task)
        cases = degrade(task, clean, seed)
        per_case = len(cases) // len(clean)
        targets = [clean[i // per_case] for i in range(len(cases))]

        def ours(i):
            y, op, noise = cases[i]
            return _psnr(targets[i], restore(y, op, noise, model, iterations=iterations[kind]), border(task))

        def theirs(i):
            y, op, _ = cases[i]
            return _psnr(targets[i], classical(task, y, op, targets[i]), border(task))

        params = {"iterations": iterations[kind]}
        key = {**settings, "task": task, "method": label, "weights": fingerprint, **params}
        rows.append(_measured_row(label, task, params, len(cases), ours,
                                  cache if fingerprint else None, key))
        if classical_rows:
            key = {**settings, "task": task, "method": CLASSICAL[kind]}
            rows.append(_measured_row(CLASSICAL[kind], task, {}, len(cases), theirs, cache, key))
        if verbose:
            measured = rows[-2:] if classical_rows else rows[-1:]
            print(f"{task}: " + ", ".join(f"{r['method']} {r['metrics']['psnr']:.2f}" for r in measured), flush=True)
    meta = {"protocol": "restoration", "protocol_version": PROTOCOL_VERSION, "dataset": dataset,
            "crop": crop, "num_images": len(clean), "seed": seed, "versions": versions()}
    return EvaluationResult(rows, meta)


def _measured_row(method, task, params, num_cases, psnr_of_case, cache, key):
    """The row of one method on one task: PSNR of every case, in order, computed by
    `psnr_of_case(i)`; with a `cache` folder each value is saved as soon as it is known and a
    later call with the same `key` starts after the last saved one."""
    path = None if cache is None else cache_path(cache, key, task)
    done = {"psnr": [], "seconds": 0.0}
    if path is not None and os.path.isfile(path):
        with open(path) as f:
            done = json.load(f)
    for i in range(len(done["psnr"]), num_cases):
        start = time.perf_counter()
        done["psnr"].append(round(psnr_of_case(i), 5))
        done["seconds"] += time.perf_counter() - start
        if path is not None:
            atomic_write(path, json.dumps({**done, "key": key}))
    return {"method": method, "condition": task, "metrics": {"psnr": float(np.mean(done["psnr"]))},
            "num_images": num_cases, "params": params, "seconds": done["seconds"],
            "per_image": {"psnr": done["psnr"]}}
